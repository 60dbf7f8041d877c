//! `GET /images/{name}/get` and `GET /images/get?names=...` (`docker
//! save`): a tar of `manifest.json` and the images' blobs under
//! `blobs/sha256/`, which `docker load` and our own load read back. The
//! tar is written on a blocking thread straight into the response.

use std::collections::BTreeSet;
use std::io::{self, Write};
use std::sync::Arc;

use bytes::Bytes;
use hyper::header::{HeaderValue, CONTENT_TYPE};
use hyper::Response;
use tokio::sync::mpsc;

use super::super::error::ApiError;
use super::super::reply::{json_stream, Body};
use super::super::Context;
use crate::image::ImageDetails;

/// Bytes gathered before a chunk goes out.
const CHUNK: usize = 256 * 1024;

/// One entry of `manifest.json`, as `docker save` writes it.
#[derive(serde::Serialize)]
struct SaveEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags")]
    repo_tags: Vec<String>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

fn blob_name(digest: &str) -> String {
    format!("blobs/sha256/{}", digest.trim_start_matches("sha256:"))
}

/// The `manifest.json` entries of `images`; a name given as a tag keeps
/// only that tag, as Docker does (an id keeps every tag).
fn entries(images: &[(String, ImageDetails)]) -> Vec<SaveEntry> {
    images
        .iter()
        .map(|(asked, details)| {
            let tags = &details.summary.repo_tags;
            let tag = tags
                .iter()
                .find(|t| *t == asked || t.strip_suffix(":latest") == Some(asked.as_str()));
            SaveEntry {
                config: blob_name(details.summary.id.hex()),
                repo_tags: tag.map_or_else(|| tags.clone(), |t| vec![t.clone()]),
                layers: details
                    .layers
                    .iter()
                    .map(|l| blob_name(&l.blob_digest))
                    .collect(),
            }
        })
        .collect()
}

/// Resolves every name first (an unknown one is a 404 before anything is
/// sent), then streams the archive.
pub(in super::super) async fn save(
    ctx: &Arc<Context>,
    names: Vec<String>,
) -> Result<Response<Body>, ApiError> {
    if names.is_empty() {
        return Err(ApiError::bad_request("no image named; give names=NAME"));
    }
    let resolving = ctx.clone();
    let images = tokio::task::spawn_blocking(move || {
        names
            .into_iter()
            .map(|name| {
                let details = resolving.images.inspect(&name)?;
                Ok((name, details))
            })
            .collect::<Result<Vec<_>, ApiError>>()
    })
    .await
    .map_err(|e| ApiError::internal(format!("the request handler failed: {e}")))??;
    let (tx, rx) = mpsc::channel(4);
    let ctx = ctx.clone();
    tokio::task::spawn_blocking(move || {
        let mut out = ChunkWriter {
            tx,
            buffer: Vec::with_capacity(CHUNK),
        };
        if let Err(e) = write_archive(&ctx, &images, &mut out) {
            // The status is sent already: the client sees a cut archive.
            tracing::warn!(error = %e, "image save aborted");
        }
    });
    let mut response = json_stream(rx);
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static("application/x-tar"));
    Ok(response)
}

fn write_archive(
    ctx: &Context,
    images: &[(String, ImageDetails)],
    out: &mut ChunkWriter,
) -> io::Result<()> {
    let mut tar = tar::Builder::new(&mut *out);
    let mut written = BTreeSet::new();
    for (_, details) in images {
        let digests = std::iter::once(format!("sha256:{}", details.summary.id.hex()))
            .chain(details.layers.iter().map(|l| l.blob_digest.clone()));
        for digest in digests {
            if !written.insert(digest.clone()) {
                continue;
            }
            let parsed = digest
                .clone()
                .try_into()
                .map_err(|e: String| io::Error::other(e))?;
            let mut blob = ctx.images.blobs.open(&parsed).map_err(io::Error::other)?;
            let size = blob.metadata()?.len();
            let mut header = tar::Header::new_gnu();
            header.set_size(size);
            header.set_mode(0o644);
            header.set_entry_type(tar::EntryType::Regular);
            tar.append_data(&mut header, blob_name(&digest), &mut blob)?;
        }
    }
    let manifest = serde_json::to_vec(&entries(images)).map_err(io::Error::other)?;
    let mut header = tar::Header::new_gnu();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o644);
    header.set_entry_type(tar::EntryType::Regular);
    tar.append_data(&mut header, "manifest.json", manifest.as_slice())?;
    tar.finish()?;
    drop(tar);
    out.flush()
}

/// Sends what is written as response chunks; fails once the client is gone.
struct ChunkWriter {
    tx: mpsc::Sender<Bytes>,
    buffer: Vec<u8>,
}

impl Write for ChunkWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buffer.extend_from_slice(data);
        if self.buffer.len() >= CHUNK {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buffer.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::replace(
            &mut self.buffer,
            Vec::with_capacity(CHUNK),
        ));
        self.tx
            .blocking_send(chunk)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_go_out_whole_and_the_rest_on_flush() {
        let (tx, mut rx) = mpsc::channel(8);
        let mut out = ChunkWriter {
            tx,
            buffer: Vec::new(),
        };
        out.write_all(&vec![1; CHUNK + 1]).unwrap();
        out.write_all(b"ab").unwrap();
        out.flush().unwrap();
        assert_eq!(rx.try_recv().unwrap().len(), CHUNK + 1);
        assert_eq!(&rx.try_recv().unwrap()[..], b"ab");
        drop(rx);
        out.write_all(b"c").unwrap();
        assert!(out.flush().is_err());
    }

    #[test]
    fn blob_names() {
        assert_eq!(blob_name("sha256:abc"), "blobs/sha256/abc");
    }
}
