//! `/images`: list, inspect, remove, tag, prune, load (`docker load`),
//! save (`docker save`) and import (`POST /images/create?fromSrc=-`), with
//! image events.
//!
//! Archive bodies are streamed into the store through a small bounded
//! channel read by a blocking thread, never buffered whole in memory.

mod model;
mod save;

use std::collections::HashMap;
use std::io::{self, Read};
use std::sync::Arc;

use bollard_stubs::models::{CreateImageInfo, EventMessageTypeEnum, ImagePruneResponse};
use bytes::{Buf, Bytes};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Response, StatusCode};
use tokio::sync::mpsc;

use super::error::{chain, ApiError};
use super::filters::Filters;
use super::query::Query;
use super::reply::{empty, json, Body};
use super::Context;
use crate::image::{ImageError, ImageId, ImportSource, Removed};
#[cfg(test)]
use crate::volume::NoContainers;

/// Tells whether containers use an image (the container store answers).
pub(crate) trait ImageUsers: Send + Sync {
    /// Whether any container, running or not, was created from `image`.
    fn uses(&self, image: &ImageId) -> bool;
}

#[cfg(test)]
impl ImageUsers for NoContainers {
    fn uses(&self, _image: &ImageId) -> bool {
        false
    }
}

impl From<ImageError> for ApiError {
    fn from(error: ImageError) -> ApiError {
        let message = chain(&error);
        match error {
            ImageError::NotFound(_) => ApiError::not_found(message),
            ImageError::InUse { .. } | ImageError::MultipleTags { .. } => {
                ApiError::conflict(message)
            }
            ImageError::UnsafeEntry { .. }
            | ImageError::Archive { .. }
            | ImageError::Invalid { .. }
            | ImageError::DigestMismatch { .. }
            | ImageError::InvalidReference { .. }
            | ImageError::InvalidChange { .. }
            | ImageError::Ambiguous { .. } => ApiError::bad_request(message),
            ImageError::Io { .. } | ImageError::Entry { .. } => ApiError::internal(message),
        }
    }
}

fn publish(ctx: &Context, action: &str, id: &ImageId, name: &str) {
    ctx.events.publish(
        EventMessageTypeEnum::IMAGE,
        action,
        &model::full_id(id),
        HashMap::from([("name".to_string(), name.to_string())]),
    );
}

/// Untag and delete events for a removal's steps: each image's untags come
/// before its deletion; untags of an image that stays (forced removal of
/// an image in use) belong to `kept`.
fn publish_removals(ctx: &Context, removed: &[Removed], kept: Option<&ImageId>) {
    let mut untagged = Vec::new();
    for step in removed {
        match step {
            Removed::Untagged(tag) => untagged.push(tag.as_str()),
            Removed::Deleted(id) => {
                for tag in untagged.drain(..) {
                    publish(ctx, "untag", id, tag);
                }
                publish(ctx, "delete", id, &model::full_id(id));
            }
        }
    }
    if let Some(id) = kept {
        for tag in untagged {
            publish(ctx, "untag", id, tag);
        }
    }
}

/// `GET /images/json` with `reference`, `label`, `dangling`, `before` and
/// `since` filters. `all` (intermediate images, which this store never
/// has), `digests`, `shared-size` and `manifests` are accepted; digests
/// and shared sizes are reported empty and -1.
pub(super) fn list(ctx: &Context, mut query: Query) -> Result<Response<Body>, ApiError> {
    let filters = Filters::parse(
        query.take("filters").as_deref(),
        &["reference", "label", "dangling", "before", "since"],
    )?;
    for flag in ["all", "digests", "shared-size", "manifests"] {
        query.take_bool(flag);
    }
    query.finish()?;
    let images = ctx.images.list()?;
    let created_of = |key: &str| -> Result<Option<i64>, ApiError> {
        let mut bound = None;
        for reference in filters.values(key) {
            let id = ctx.images.resolve(reference)?;
            let created = images
                .iter()
                .find(|i| i.id == id)
                .map_or(0, model::created_seconds);
            bound = Some(match (key, bound) {
                ("before", Some(b)) => created.min(b),
                (_, Some(b)) => created.max(b),
                (_, None) => created,
            });
        }
        Ok(bound)
    };
    let select = model::ListFilter {
        filters: &filters,
        dangling: filters.boolean("dangling")?,
        before: created_of("before")?,
        since: created_of("since")?,
    };
    let mut listed: Vec<_> = images.iter().filter_map(|i| select.select(i)).collect();
    // Newest first, as Docker lists them.
    listed.sort_by(|a, b| b.created.cmp(&a.created).then(a.id.cmp(&b.id)));
    Ok(json(StatusCode::OK, &listed))
}

/// `GET /images/{name}/json`.
pub(super) fn inspect(ctx: &Context, name: &str, query: Query) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let details = ctx.images.inspect(name)?;
    let mut body = serde_json::to_value(model::inspect(&details))
        .map_err(|e| ApiError::internal(format!("cannot render image {name}: {e}")))?;
    // Up to API 1.44 Docker still shows the deprecated `ContainerConfig`
    // (the configuration of the container an image was built in; empty for
    // imported and loaded images), and docker-compose 1.29 reads its
    // `Volumes` when it recreates a container.
    body["ContainerConfig"] = serde_json::json!({});
    Ok(json(StatusCode::OK, &body))
}

/// `DELETE /images/{name}` with `force` and `noprune` (there are no
/// parent images to keep, so `noprune` changes nothing). Refused with 409
/// while a container uses the image, unless forced.
pub(super) fn remove(
    ctx: &Context,
    name: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let force = query.take_bool("force");
    query.take_bool("noprune");
    query.finish()?;
    let id = ctx.images.resolve(name)?;
    let users = ctx.image_users.clone();
    let removed = ctx.images.remove(name, force, &|image| users.uses(image))?;
    publish_removals(ctx, &removed, Some(&id));
    let items: Vec<_> = removed.iter().map(model::removed_item).collect();
    Ok(json(StatusCode::OK, &items))
}

/// `POST /images/{name}/tag?repo=R&tag=T`.
pub(super) fn tag(ctx: &Context, name: &str, mut query: Query) -> Result<Response<Body>, ApiError> {
    let repo = query.take("repo").unwrap_or_default();
    let tag = query.take("tag").unwrap_or_default();
    query.finish()?;
    if repo.is_empty() {
        return Err(ApiError::bad_request(
            "the repo parameter is required (the new name, with an optional :tag)",
        ));
    }
    let target = if tag.is_empty() {
        repo
    } else {
        format!("{repo}:{tag}")
    };
    let before = ctx.images.inspect(name)?.summary.repo_tags;
    ctx.images.tag(name, &target)?;
    let details = ctx.images.inspect(&target)?;
    // The event names the tag in Docker's short form, as the store records it.
    let short = details
        .summary
        .repo_tags
        .iter()
        .find(|t| !before.contains(t))
        .cloned()
        .unwrap_or(target);
    let id = details.summary.id;
    publish(ctx, "tag", &id, &short);
    Ok(empty(StatusCode::CREATED))
}

/// `POST /images/prune` with `dangling` (`false`: every unused image, not
/// only untagged ones), `label` and `label!`.
pub(super) fn prune(ctx: &Context, mut query: Query) -> Result<Response<Body>, ApiError> {
    let filters = Filters::parse(
        query.take("filters").as_deref(),
        &["dangling", "label", "label!"],
    )?;
    query.finish()?;
    let all = filters.boolean("dangling")? == Some(false);
    let labels: HashMap<ImageId, HashMap<String, String>> = ctx
        .images
        .list()?
        .into_iter()
        .map(|i| (i.id, i.labels.into_iter().collect()))
        .collect();
    let users = ctx.image_users.clone();
    // Images the label filters exclude are spared like images in use.
    let spared = |id: &ImageId| {
        let none = HashMap::new();
        let labels = labels.get(id).unwrap_or(&none);
        users.uses(id)
            || !filters.labels_match("label", labels)
            || !filters.labels_absent("label!", labels)
    };
    let report = ctx.images.prune(all, &spared)?;
    publish_removals(ctx, &report.removed, None);
    let reclaimed = ctx
        .events
        .publish_prune(EventMessageTypeEnum::IMAGE, report.space_reclaimed);
    let response = ImagePruneResponse {
        images_deleted: Some(report.removed.iter().map(model::removed_item).collect()),
        space_reclaimed: Some(reclaimed),
    };
    Ok(json(StatusCode::OK, &response))
}

/// `POST /images/load`: a `docker save` archive or an OCI layout as the
/// body; answers Docker's `{"stream":"Loaded image: ..."}` lines. `quiet`
/// only silences progress, which is never sent.
pub(super) async fn load(
    ctx: &Arc<Context>,
    mut query: Query,
    body: Incoming,
) -> Result<Response<Body>, ApiError> {
    query.take_bool("quiet");
    if let Some(platform) = query.take("platform").filter(|p| !p.is_empty()) {
        return Err(ApiError::bad_request(format!(
            "platform {platform:?}: choosing a platform when loading is not supported"
        )));
    }
    query.finish()?;
    let loaded = with_body(ctx, body, |ctx, reader| Ok(ctx.images.load(reader)?)).await?;
    let mut lines = Vec::new();
    for image in &loaded {
        let names = if image.tags.is_empty() {
            vec![model::full_id(&image.id)]
        } else {
            image.tags.clone()
        };
        for name in names {
            publish(ctx, "load", &image.id, &name);
        }
    }
    for message in model::load_messages(&loaded) {
        let mut line = serde_json::to_vec(&serde_json::json!({ "stream": message }))
            .map_err(|e| ApiError::internal(format!("cannot encode the response: {e}")))?;
        line.push(b'\n');
        lines.extend(line);
    }
    Ok(ndjson(lines))
}

/// `POST /images/create`: import (`fromSrc=-`, the rootfs tar as the
/// body, with `repo`, `tag` and `changes`); pulling (`fromImage`) is not
/// implemented yet.
pub(super) async fn create(
    ctx: &Arc<Context>,
    mut query: Query,
    body: Incoming,
) -> Result<Response<Body>, ApiError> {
    let from_image = query.take("fromImage").filter(|v| !v.is_empty());
    let from_src = query.take("fromSrc").unwrap_or_default();
    let repo = query.take("repo").filter(|v| !v.is_empty());
    let tag = query.take("tag").filter(|v| !v.is_empty());
    let message = query.take("message").filter(|v| !v.is_empty());
    let platform = query.take("platform").filter(|v| !v.is_empty());
    let changes: Vec<String> = query
        .take_all("changes")
        .iter()
        .flat_map(|c| c.lines())
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect();
    query.finish()?;
    if let Some(image) = from_image {
        return Err(ApiError::not_implemented(format!(
            "pulling images (fromImage={image:?}) is not implemented yet by the stack engine; use `stack image load` or `stack image import`"
        )));
    }
    match from_src.as_str() {
        "-" => {}
        "" => {
            return Err(ApiError::bad_request(
                "either fromImage or fromSrc is required",
            ))
        }
        url => {
            return Err(ApiError::bad_request(format!(
                "importing from {url:?} is not supported; send the archive as the request body with fromSrc=-"
            )))
        }
    }
    if let Some(message) = message {
        return Err(ApiError::bad_request(format!(
            "message {message:?}: a commit message for the import is not supported"
        )));
    }
    if let Some(platform) = platform {
        return Err(ApiError::bad_request(format!(
            "platform {platform:?}: imports are always for this host's platform"
        )));
    }
    let reference = match (repo, tag) {
        (Some(repo), Some(tag)) => Some(format!("{repo}:{tag}")),
        (Some(repo), None) => Some(repo),
        (None, Some(tag)) => {
            return Err(ApiError::bad_request(format!(
                "tag {tag:?} given without repo"
            )))
        }
        (None, None) => None,
    };
    let name = reference.clone();
    let id = with_body(ctx, body, move |ctx, reader| {
        Ok(ctx
            .images
            .import(ImportSource::Tar(reader), name.as_deref(), &changes)?)
    })
    .await?;
    publish(ctx, "import", &id, &model::full_id(&id));
    if let Some(reference) = &reference {
        publish(ctx, "tag", &id, reference);
    }
    let status = CreateImageInfo {
        status: Some(model::full_id(&id)),
        ..Default::default()
    };
    let mut line = serde_json::to_vec(&status)
        .map_err(|e| ApiError::internal(format!("cannot encode the response: {e}")))?;
    line.push(b'\n');
    Ok(ndjson(line))
}

/// `GET /images/get?names=...` and `GET /images/{name}/get` (`docker save`).
pub(super) async fn save(
    ctx: &Arc<Context>,
    name: Option<String>,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let mut names: Vec<String> = name.into_iter().collect();
    names.extend(query.take_all("names"));
    if let Some(platform) = query.take("platform").filter(|p| !p.is_empty()) {
        return Err(ApiError::bad_request(format!(
            "platform {platform:?}: choosing a platform when saving is not supported"
        )));
    }
    query.finish()?;
    save::save(ctx, names).await
}

/// A finished stream of JSON messages, as Docker's progress streams look.
fn ndjson(bytes: Vec<u8>) -> Response<Body> {
    let (tx, rx) = mpsc::channel(1);
    // The channel has room for this one chunk, so the send cannot fail.
    let _ = tx.try_send(Bytes::from(bytes));
    super::reply::json_stream(rx)
}

/// Runs `work` on a blocking thread with the request body as a reader,
/// feeding it chunk by chunk as the body arrives.
async fn with_body<T, F>(ctx: &Arc<Context>, body: Incoming, work: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&Context, &mut dyn Read) -> Result<T, ApiError> + Send + 'static,
{
    let (tx, rx) = mpsc::channel(8);
    let worker_ctx = ctx.clone();
    let worker = tokio::task::spawn_blocking(move || {
        let mut reader = BodyReader {
            chunks: rx,
            current: Bytes::new(),
        };
        work(&worker_ctx, &mut reader)
    });
    pump(body, tx).await;
    worker
        .await
        .map_err(|e| ApiError::internal(format!("the request handler failed: {e}")))?
}

/// Forwards the body's data frames until it ends, fails (the reader then
/// fails too) or the reader stops reading.
async fn pump(mut body: Incoming, tx: mpsc::Sender<io::Result<Bytes>>) {
    while let Some(frame) = body.frame().await {
        let chunk = match frame {
            Ok(frame) => match frame.into_data() {
                Ok(data) => Ok(data),
                Err(_) => continue,
            },
            Err(e) => Err(io::Error::other(format!("reading the request body: {e}"))),
        };
        let failed = chunk.is_err();
        if tx.send(chunk).await.is_err() || failed {
            return;
        }
    }
}

/// The blocking side of [`with_body`].
struct BodyReader {
    chunks: mpsc::Receiver<io::Result<Bytes>>,
    current: Bytes,
}

impl Read for BodyReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.current.is_empty() {
            match self.chunks.blocking_recv() {
                None => return Ok(0),
                Some(chunk) => self.current = chunk?,
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current[..n]);
        self.current.advance(n);
        Ok(n)
    }
}

#[cfg(test)]
mod tests;
