//! `GET /containers/{id}/logs`: entries of the json-file log, framed in
//! Docker's multiplexed stream format (an 8-byte header per frame: the
//! stream, three zero bytes, the payload length big-endian), optionally
//! with timestamps, filtered by `since`/`until`, cut to the last `tail`
//! lines, and followed while the container runs.

use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use bytes::Bytes;
use hyper::Response;
use serde::Deserialize;
use tokio::sync::mpsc;

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::log_cursor::LogCursor;
use super::lookup;
use crate::container::record::Status;
use crate::state::time::rfc3339_nanos;

/// How often a followed log is checked for more.
pub(super) const FOLLOW_INTERVAL: Duration = Duration::from_millis(100);

#[derive(Deserialize)]
struct Entry {
    log: String,
    stream: String,
    time: String,
}

/// What the request asks for.
pub(super) struct Selection {
    pub(super) stdout: bool,
    pub(super) stderr: bool,
    pub(super) timestamps: bool,
    pub(super) since: Option<String>,
    pub(super) until: Option<String>,
    /// The payload alone, without the multiplexed format's header: a
    /// container with a TTY has one stream, sent raw as Docker does.
    pub(super) raw: bool,
}

impl Selection {
    /// Every stdout line, without timestamps or time bounds (the tests'
    /// usual request).
    #[cfg(test)]
    pub(super) fn stdout_only(raw: bool) -> Selection {
        Selection {
            stdout: true,
            stderr: false,
            timestamps: false,
            since: None,
            until: None,
            raw,
        }
    }

    /// The frame for one log line, if selected.
    pub(super) fn frame(&self, line: &str) -> Option<Bytes> {
        let entry: Entry = serde_json::from_str(line).ok()?;
        let stream = match entry.stream.as_str() {
            "stdout" if self.stdout => 1u8,
            "stderr" if self.stderr => 2u8,
            _ => return None,
        };
        if self
            .since
            .as_ref()
            .is_some_and(|since| entry.time.as_str() < since.as_str())
            || self
                .until
                .as_ref()
                .is_some_and(|until| entry.time.as_str() > until.as_str())
        {
            return None;
        }
        let payload = if self.timestamps {
            format!("{} {}", entry.time, entry.log)
        } else {
            entry.log
        };
        if self.raw {
            return Some(Bytes::from(payload));
        }
        let length = u32::try_from(payload.len()).ok()?;
        let mut frame = Vec::with_capacity(8 + payload.len());
        frame.extend_from_slice(&[stream, 0, 0, 0]);
        frame.extend_from_slice(&length.to_be_bytes());
        frame.extend_from_slice(payload.as_bytes());
        Some(Bytes::from(frame))
    }
}

/// `since`/`until` as Docker takes them: Unix seconds, with an optional
/// fraction; 0 means unset.
fn parse_time(key: &str, text: &str) -> Result<Option<String>, ApiError> {
    let invalid =
        || ApiError::bad_request(format!("invalid {key} {text:?}: expected Unix seconds"));
    let (secs, fraction) = text.split_once('.').unwrap_or((text, "0"));
    let secs: u64 = secs.parse().map_err(|_| invalid())?;
    let nanos: u32 = format!("{fraction:0<9}")[..9]
        .parse()
        .map_err(|_| invalid())?;
    if secs == 0 && nanos == 0 {
        return Ok(None);
    }
    Ok(Some(rfc3339_nanos(UNIX_EPOCH + Duration::new(secs, nanos))))
}

/// Streams the log.
pub(crate) fn logs(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let follow = query.take_bool("follow");
    let mut selection = Selection {
        stdout: query.take_bool("stdout"),
        stderr: query.take_bool("stderr"),
        timestamps: query.take_bool("timestamps"),
        since: query
            .take("since")
            .map(|t| parse_time("since", &t))
            .transpose()?
            .flatten(),
        until: query
            .take("until")
            .map(|t| parse_time("until", &t))
            .transpose()?
            .flatten(),
        raw: false,
    };
    let tail = match query.take("tail").as_deref() {
        None | Some("") | Some("all") => None,
        Some(n) => Some(n.parse::<usize>().map_err(|_| {
            ApiError::bad_request(format!("invalid tail {n:?}: expected a number or \"all\""))
        })?),
    };
    query.finish()?;
    if !selection.stdout && !selection.stderr {
        return Err(ApiError::bad_request("you must choose at least one stream"));
    }
    let entry = lookup(ctx, reference)?;
    let driver = entry.record.host_config.log_config.as_ref();
    if driver.and_then(|c| c.typ.as_deref()) == Some("none") {
        return Err(ApiError::not_implemented(format!(
            "container {} logs to the none driver, which keeps nothing to read: create it with the json-file driver to read its logs",
            entry.name()
        )));
    }
    selection.raw = entry.record.config.tty == Some(true);
    let content_type = if selection.raw {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    };
    let path = ctx.containers.layout().container_log(&entry.record.id);
    let (tx, rx) = mpsc::channel(64);
    let mut changes = entry.subscribe();
    let mut stopping = ctx.stopping.clone();
    tokio::spawn(async move {
        let read = tokio::task::spawn_blocking(move || {
            let mut cursor = LogCursor::open(path);
            let frames = cursor.history(&selection, tail);
            (frames, cursor, selection)
        })
        .await;
        let Ok((frames, mut cursor, selection)) = read else {
            return;
        };
        for frame in frames {
            if tx.send(frame).await.is_err() {
                return;
            }
        }
        if !follow {
            return;
        }
        let selection = Arc::new(selection);
        loop {
            let running = {
                let snapshot = changes.borrow_and_update();
                snapshot.status() == Status::Running && !snapshot.removed
            };
            let chosen = selection.clone();
            let Ok((frames, moved)) = tokio::task::spawn_blocking(move || {
                let frames = cursor.advance(&chosen);
                (frames, cursor)
            })
            .await
            else {
                return;
            };
            cursor = moved;
            for frame in frames {
                if tx.send(frame).await.is_err() {
                    return;
                }
            }
            // Read once more after the exit: the monitor writes the last
            // lines before recording the end.
            if !running {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(FOLLOW_INTERVAL) => {}
                _ = changes.changed() => {}
                _ = stopping.wait_for(|stop| *stop) => return,
                _ = tx.closed() => return,
            }
        }
    });
    Ok(reply::stream(content_type, rx))
}

#[cfg(test)]
mod tests {
    use std::time::SystemTime;

    use super::*;

    fn selection() -> Selection {
        Selection::stdout_only(false)
    }

    #[test]
    fn frames_carry_the_stream_and_length() {
        let line = r#"{"log":"hi\n","stream":"stdout","time":"2024-01-01T00:00:00.000000001Z"}"#;
        let frame = selection().frame(line).unwrap();
        assert_eq!(&frame[..], b"\x01\x00\x00\x00\x00\x00\x00\x03hi\n");
        let err_line = line.replace("stdout", "stderr");
        assert_eq!(selection().frame(&err_line), None);
        let stamped = Selection {
            timestamps: true,
            ..selection()
        }
        .frame(line)
        .unwrap();
        assert!(stamped.ends_with(b"2024-01-01T00:00:00.000000001Z hi\n"));
    }

    #[test]
    fn since_is_unix_seconds() {
        assert_eq!(parse_time("since", "0").unwrap(), None);
        assert_eq!(
            parse_time("since", "1.5").unwrap().unwrap(),
            "1970-01-01T00:00:01.500000000Z"
        );
        assert!(parse_time("since", "x").is_err());
        let later = Selection {
            since: Some(rfc3339_nanos(SystemTime::now())),
            ..selection()
        };
        let line = r#"{"log":"old\n","stream":"stdout","time":"2024-01-01T00:00:00.000000001Z"}"#;
        assert_eq!(later.frame(line), None);
    }
}
