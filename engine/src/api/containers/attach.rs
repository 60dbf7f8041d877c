//! `POST /containers/{id}/attach`: the container's output on a hijacked
//! connection (HTTP upgrade to a raw stream), in the multiplexed format,
//! from the moment of the attach (plus the past with `logs=1`) until the
//! container's next exit. This is how `docker run` without `-d` shows
//! output: it attaches before it starts the container. Standard input is
//! not attached yet.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONNECTION, CONTENT_TYPE, UPGRADE};
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::AsyncWriteExt;

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::logs::{read_file_from, Selection, FOLLOW_INTERVAL};
use super::lookup;

/// Upgrades the connection and streams the output.
pub(crate) fn attach(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
    request: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let stream = query.take_bool("stream");
    let logs = query.take_bool("logs");
    let selection = Selection {
        stdout: query.take_bool("stdout"),
        stderr: query.take_bool("stderr"),
        timestamps: false,
        since: None,
        until: None,
    };
    if query.take_bool("stdin") {
        return Err(ApiError::bad_request(
            "attaching standard input is not supported yet by the stack engine",
        ));
    }
    query.take("detachKeys");
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    let path = ctx.containers.layout().container_log(&entry.record.id);
    // Opened (created if the container has not run yet, as the monitor
    // appends to it) now, and held: `docker run --rm` attaches before the
    // start, and AutoRemove may delete the file before the last read.
    let log = std::fs::File::options()
        .create(true)
        .append(true)
        .read(true)
        .open(&path)
        .map_err(|e| ApiError::internal(format!("opening the log {}: {e}", path.display())))?;
    let mut offset = if logs {
        0
    } else {
        log.metadata().map_or(0, |m| m.len())
    };
    let log = Arc::new(log);
    let mut changes = entry.subscribe();
    let (exits, failed_starts) = {
        let now = changes.borrow_and_update();
        (now.exits, now.failed_starts)
    };
    let mut stopping = ctx.stopping.clone();
    let upgrade = hyper::upgrade::on(request);
    let selection = Arc::new(selection);
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let mut io = TokioIo::new(upgraded);
        loop {
            let done = {
                let snapshot = changes.borrow_and_update();
                snapshot.exits > exits
                    || snapshot.failed_starts > failed_starts
                    || snapshot.removed
                    || !stream
            };
            let (chosen, file) = (selection.clone(), log.clone());
            let Ok((frames, end)) =
                tokio::task::spawn_blocking(move || read_file_from(&file, offset, &chosen, None))
                    .await
            else {
                break;
            };
            offset = end;
            for frame in frames {
                if io.write_all(&frame).await.is_err() {
                    return;
                }
            }
            // Read once more after the exit: the last lines come before it.
            if done {
                break;
            }
            tokio::select! {
                _ = tokio::time::sleep(FOLLOW_INTERVAL) => {}
                _ = changes.changed() => {}
                _ = stopping.wait_for(|stop| *stop) => break,
            }
        }
        // The client may be gone already.
        let _ = io.shutdown().await;
    });
    let mut response = reply::empty(StatusCode::SWITCHING_PROTOCOLS);
    let headers = response.headers_mut();
    headers.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/vnd.docker.multiplexed-stream"),
    );
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(UPGRADE, HeaderValue::from_static("tcp"));
    Ok(response)
}
