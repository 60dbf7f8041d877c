//! `/volumes`: create, list, inspect, remove, prune, with volume events.

use std::collections::{BTreeMap, HashMap};

use bollard_stubs::models::{
    EventMessageTypeEnum, Volume, VolumeCreateRequest, VolumeListResponse, VolumePruneResponse,
    VolumeScopeEnum,
};
use bytes::Bytes;
use hyper::{Response, StatusCode};

use super::error::ApiError;
use super::filters::Filters;
use super::query::Query;
use super::reply::{empty, json, parse_json, Body};
use super::route::{ApiVersion, PRUNE_ANONYMOUS_ONLY};
use super::Context;
use crate::volume::{VolumeError, VolumeName, VolumeRecord, ANONYMOUS_LABEL};

/// The only driver there is.
const DRIVER: &str = "local";

fn to_model(ctx: &Context, record: VolumeRecord) -> Volume {
    Volume {
        mountpoint: ctx.volumes.mountpoint(&record.name).display().to_string(),
        name: record.name.to_string(),
        driver: DRIVER.to_string(),
        created_at: Some(record.created_at),
        labels: record.labels.into_iter().collect(),
        scope: Some(VolumeScopeEnum::LOCAL),
        options: HashMap::new(),
        ..Default::default()
    }
}

fn publish(ctx: &Context, action: &str, name: &str, mut attributes: HashMap<String, String>) {
    attributes.insert("driver".to_string(), DRIVER.to_string());
    ctx.events
        .publish(EventMessageTypeEnum::VOLUME, action, name, attributes);
}

/// `POST /volumes/create`.
pub(super) fn create(ctx: &Context, query: Query, body: Bytes) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let request: VolumeCreateRequest =
        parse_json(&body, &["Name", "Driver", "DriverOpts", "Labels"])?;
    if let Some(driver) = request
        .driver
        .as_deref()
        .filter(|d| !d.is_empty() && *d != DRIVER)
    {
        return Err(ApiError::bad_request(format!(
            "volume driver {driver:?} is not supported; only {DRIVER:?} is"
        )));
    }
    if let Some(option) = request.driver_opts.iter().flatten().map(|(k, _)| k).min() {
        return Err(ApiError::bad_request(format!(
            "volume driver option {option:?} is not supported (the local driver here keeps plain directories)"
        )));
    }
    let name = match request.name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => Some(VolumeName::parse(name).map_err(VolumeError::from)?),
        None => None,
    };
    let labels: BTreeMap<_, _> = request.labels.unwrap_or_default().into_iter().collect();
    let (record, created) = ctx.volumes.create(name, labels)?;
    if created {
        publish(ctx, "create", record.name.as_str(), HashMap::new());
    }
    Ok(json(StatusCode::CREATED, &to_model(ctx, record)))
}

/// `GET /volumes` with `dangling`, `driver`, `label` and `name` filters.
pub(super) fn list(ctx: &Context, mut query: Query) -> Result<Response<Body>, ApiError> {
    let filters = Filters::parse(
        query.take("filters").as_deref(),
        &["dangling", "driver", "label", "name"],
    )?;
    query.finish()?;
    let dangling = filters.boolean("dangling")?;
    for name in filters.values("name") {
        // Docker matches names as regular expressions; plain text is the
        // common case and means the same as a substring here.
        if name.contains([
            '*', '+', '?', '(', ')', '[', ']', '{', '}', '|', '\\', '^', '$',
        ]) {
            return Err(ApiError::bad_request(format!(
                "name filter {name:?}: regular expressions are not supported; give part of the name"
            )));
        }
    }
    let mut volumes = Vec::new();
    for record in ctx.volumes.list()? {
        let name_ok = !filters.contains("name")
            || filters
                .values("name")
                .iter()
                .any(|n| record.name.as_str().contains(n.as_str()));
        let in_use = || !ctx.volumes.users(&record.name).is_empty();
        let dangling_ok = dangling.is_none_or(|want| want != in_use());
        let volume = to_model(ctx, record);
        if name_ok
            && dangling_ok
            && filters.exact("driver", DRIVER)
            && filters.labels_match("label", &volume.labels)
        {
            volumes.push(volume);
        }
    }
    let response = VolumeListResponse {
        volumes: Some(volumes),
        warnings: Some(Vec::new()),
    };
    Ok(json(StatusCode::OK, &response))
}

/// `GET /volumes/{name}`.
pub(super) fn inspect(ctx: &Context, name: &str, query: Query) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let record = ctx.volumes.get(name)?;
    Ok(json(StatusCode::OK, &to_model(ctx, record)))
}

/// `DELETE /volumes/{name}`; `force` makes a missing volume a success, as in
/// Docker (a volume in use is still refused).
pub(super) fn remove(
    ctx: &Context,
    name: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let force = query.take_bool("force");
    query.finish()?;
    match ctx.volumes.remove(name) {
        Ok(record) => publish(ctx, "destroy", record.name.as_str(), HashMap::new()),
        Err(VolumeError::NotFound(_)) if force => {}
        Err(e) => return Err(e.into()),
    }
    Ok(empty(StatusCode::NO_CONTENT))
}

/// `POST /volumes/prune` with `label`, `label!` and (API 1.42+) `all`.
/// From 1.42 on, only anonymous volumes go unless `all=true`, as in Docker.
pub(super) fn prune(
    ctx: &Context,
    version: ApiVersion,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let allowed: &[&str] = if version >= PRUNE_ANONYMOUS_ONLY {
        &["label", "label!", "all"]
    } else {
        &["label", "label!"]
    };
    let filters = Filters::parse(query.take("filters").as_deref(), allowed)?;
    query.finish()?;
    let all = version < PRUNE_ANONYMOUS_ONLY || filters.boolean("all")?.unwrap_or(false);
    let report = ctx.volumes.prune(|record| {
        let labels: HashMap<String, String> = record.labels.clone().into_iter().collect();
        (all || labels.contains_key(ANONYMOUS_LABEL))
            && filters.labels_match("label", &labels)
            && filters.labels_absent("label!", &labels)
    })?;
    for name in &report.deleted {
        publish(ctx, "destroy", name.as_str(), HashMap::new());
    }
    let reclaimed = ctx
        .events
        .publish_prune(EventMessageTypeEnum::VOLUME, report.reclaimed);
    let response = VolumePruneResponse {
        volumes_deleted: Some(report.deleted.iter().map(ToString::to_string).collect()),
        space_reclaimed: Some(reclaimed),
    };
    Ok(json(StatusCode::OK, &response))
}
