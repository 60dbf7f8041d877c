//! `POST /containers/{id}/attach`: the container's output on a hijacked
//! connection (HTTP upgrade to a raw stream), in the multiplexed format
//! (raw with a TTY), from the moment of the attach (plus the past with
//! `logs=1`) until the container's next exit; with `stdin=1`, what the
//! client sends goes to the container's input (`OpenStdin`) once it runs.
//! This is how `docker run` without `-d` works: it attaches before it
//! starts the container. The detach sequence (`detachKeys`, see
//! `attach_keys`) typed on the input of a container with a TTY ends the
//! attach and leaves the container running. `POST /containers/{id}/resize` sizes its terminal.

use std::sync::Arc;

use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

use bollard_stubs::models::EventMessageTypeEnum;

use crate::container::record::Status;
use crate::container::Entry;

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::attach_keys::DetachKeys;
use super::exec::set_size;
use super::log_cursor::LogCursor;
use super::logs::{Selection, FOLLOW_INTERVAL};
use super::stdin::{container_stdin, FdStream, INPUT_LINGER};
use super::{event_attributes, lookup};

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
        raw: false,
    };
    let stdin = query.take_bool("stdin");
    let keys = DetachKeys::parse(query.take("detachKeys").as_deref())?;
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    let tty = entry.record.config.tty == Some(true);
    // As Docker's, only a terminal's input is watched for the keys: piped
    // input (`echo data | stack run app cat`) goes to the container whole.
    let keys = if tty { keys } else { DetachKeys::none() };
    let selection = Selection {
        raw: tty,
        ..selection
    };
    // As Docker does, stdin is ignored for a container without OpenStdin.
    let stdin = stdin && entry.record.config.open_stdin == Some(true);
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
    let offset = if logs {
        0
    } else {
        log.metadata().map_or(0, |m| m.len())
    };
    let mut cursor = LogCursor::held(path, log, offset);
    let mut changes = entry.subscribe();
    let (exits, failed_starts) = {
        let now = changes.borrow_and_update();
        (now.exits, now.failed_starts)
    };
    let mut stopping = ctx.stopping.clone();
    let upgrade = hyper::upgrade::on(request);
    let selection = Arc::new(selection);
    let ctx2 = ctx.clone();
    let entry2 = entry.clone();
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let (reader, mut io) = tokio::io::split(TokioIo::new(upgraded));
        let (typed, mut detached) = watch::channel(false);
        let stdin = stdin.then_some(Detach { keys, typed });
        let mut input = tokio::spawn(forward_input(
            ctx2.clone(),
            entry2.clone(),
            reader,
            exits,
            stdin,
        ));
        let mut first = true;
        loop {
            let done = {
                let snapshot = changes.borrow_and_update();
                snapshot.exits > exits
                    || snapshot.failed_starts > failed_starts
                    || snapshot.removed
                    || !stream
            };
            let chosen = selection.clone();
            // With `logs=1`, the rotated files come first.
            let history = std::mem::take(&mut first) && logs;
            let Ok((frames, moved)) = tokio::task::spawn_blocking(move || {
                let frames = if history {
                    cursor.history(&chosen, None)
                } else {
                    cursor.advance(&chosen)
                };
                (frames, cursor)
            })
            .await
            else {
                break;
            };
            cursor = moved;
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
                // An input that ended without the keys leaves the output going.
                true = async { detached.wait_for(|d| *d).await.is_ok() } => {
                    ctx2.events.publish(
                        EventMessageTypeEnum::CONTAINER,
                        "detach",
                        &entry2.record.id,
                        event_attributes(&entry2),
                    );
                    break;
                }
            }
        }
        // The client may be gone already.
        let _ = io.shutdown().await;
        // The client closes its side once it has read the end; closing
        // ours before it with its last bytes unread would reset the
        // connection under it.
        if tokio::time::timeout(INPUT_LINGER, &mut input)
            .await
            .is_err()
        {
            input.abort();
        }
    });
    Ok(reply::upgraded_stream(tty))
}

/// The client's input, when it goes to the container: the keys that
/// detach it, and where to tell that they were typed.
struct Detach {
    keys: DetachKeys,
    typed: watch::Sender<bool>,
}

/// Copies what the client sends into the container's input (with `stdin`),
/// once its run after `exits` exits has started, until the client's end of
/// input or its detach keys. Whatever else the client sends is read and
/// dropped.
async fn forward_input<R: AsyncRead + Unpin>(
    ctx: Arc<Context>,
    entry: Arc<Entry>,
    mut reader: R,
    exits: u64,
    stdin: Option<Detach>,
) {
    let mut changes = entry.subscribe();
    let started = stdin.is_some()
        && changes
            .wait_for(|s| s.status() == Status::Running || s.exits > exits || s.removed)
            .await
            .map(|s| s.status() == Status::Running)
            .unwrap_or(false);
    let fd = if started {
        container_stdin(&ctx, &entry.record.id)
            .await
            .inspect_err(|error| {
                tracing::warn!(id = entry.record.id, %error, "cannot attach the container's input")
            })
            .ok()
    } else {
        None
    };
    // Only the non-blocking duplicate stays open, so that its end is the input's end.
    let input = fd.as_ref().and_then(|fd| FdStream::new(fd).ok());
    drop(fd);
    let mut buffer = vec![0u8; 4096];
    let (Some(input), Some(detach)) = (input, stdin) else {
        while reader.read(&mut buffer).await.is_ok_and(|n| n > 0) {}
        return;
    };
    let mut watcher = detach.keys.watcher();
    let mut open = true;
    while let Ok(n) = reader.read(&mut buffer).await {
        if n == 0 {
            break;
        }
        let filtered = watcher.feed(&buffer[..n]);
        // Once the container's input is gone, the rest is read and dropped.
        if open && !filtered.forward.is_empty() {
            open = input.write_all(&filtered.forward).await.is_ok();
        }
        if filtered.detached {
            // The output side may have ended already.
            let _ = detach.typed.send(true);
            return;
        }
    }
}

/// `POST /containers/{id}/resize?h=&w=`: sizes the container's terminal.
pub(crate) async fn resize(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let mut size = |key: &str| -> Result<u16, ApiError> {
        query.take(key).unwrap_or_default().parse().map_err(|_| {
            ApiError::bad_request(format!("invalid {key}: expected a number of cells"))
        })
    };
    let (rows, cols) = (size("h")?, size("w")?);
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    if entry.snapshot().status() != Status::Running {
        return Err(ApiError::conflict(format!(
            "Container {} is not running",
            entry.record.id
        )));
    }
    if entry.record.config.tty != Some(true) {
        return Ok(reply::empty(StatusCode::OK));
    }
    let master = container_stdin(ctx, &entry.record.id)
        .await
        .map_err(|e| ApiError::internal(format!("cannot reach the container's terminal: {e}")))?;
    set_size(&master, rows, cols)
        .map_err(|e| ApiError::internal(format!("cannot resize the container's terminal: {e}")))?;
    Ok(reply::empty(StatusCode::OK))
}
