//! `POST /containers/{id}/pause` and `unpause`: the cgroup freezer
//! (`runtime::freezer`) stops or resumes every process of the container.
//! The frozen state is the kernel's, so a daemon that starts again reads
//! it back from the cgroup.

use std::sync::Arc;

use bollard_stubs::models::EventMessageTypeEnum;
use hyper::{Response, StatusCode};

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::{event_attributes, lookup};
use crate::container::record::Status;
use crate::container::Entry;
use crate::runtime::freezer;

/// `POST /containers/{id}/pause` (`paused: true`) or `unpause`.
pub(crate) async fn set_paused(
    ctx: &Arc<Context>,
    reference: &str,
    query: Query,
    paused: bool,
) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    let _operation = entry.operation.lock().await;
    let snapshot = entry.snapshot();
    let id = entry.record.id.clone();
    if snapshot.status() != Status::Running {
        return Err(ApiError::conflict(format!("Container {id} is not running")));
    }
    if snapshot.paused == paused {
        return Err(ApiError::conflict(if paused {
            format!("Container {id} is already paused")
        } else {
            format!("Container {id} is not paused")
        }));
    }
    freeze(&entry, paused).await?;
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        if paused { "pause" } else { "unpause" },
        &id,
        event_attributes(&entry),
    );
    Ok(reply::empty(StatusCode::NO_CONTENT))
}

/// Freezes or thaws the container's cgroup and records it.
async fn freeze(entry: &Arc<Entry>, paused: bool) -> Result<(), ApiError> {
    let path = entry.cgroup.clone();
    let id = entry.record.id.clone();
    tokio::task::spawn_blocking(move || freezer::set_frozen(path, paused))
        .await
        .map_err(|e| ApiError::internal(format!("the freezer task failed: {e}")))?
        .map_err(|e| {
            ApiError::internal(format!(
                "cannot {} container {id}: {e}",
                if paused { "pause" } else { "unpause" }
            ))
        })?;
    entry.update(|s| s.paused = paused);
    Ok(())
}

/// Thaws a paused container after a signal was sent to it, so that the
/// signal is delivered (a stop, kill or forced removal of a paused
/// container goes through, as in Docker).
pub(super) fn thaw_after_signal(entry: &Entry) {
    if !entry.snapshot().paused {
        return;
    }
    let path = entry.cgroup.clone();
    match freezer::set_frozen(path, false) {
        Ok(()) => entry.update(|s| s.paused = false),
        Err(error) => tracing::warn!(id = entry.record.id, %error, "cannot thaw the container"),
    }
}
