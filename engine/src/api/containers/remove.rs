//! `DELETE /containers/{id}`, and the removal of containers to remove on
//! exit (`AutoRemove`).

use std::sync::Arc;
use std::time::Duration;

use bollard_stubs::models::EventMessageTypeEnum;
use hyper::{Response, StatusCode};
use nix::sys::signal::Signal;

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::lifecycle::{signal, until_stopped};
use super::{event_attributes, lookup, restart_policy};
use crate::container::Entry;

/// `DELETE /containers/{id}?force=&v=`.
pub(crate) async fn remove(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let force = query.take_bool("force");
    let volumes = query.take_bool("v");
    // Read as Docker reads booleans: docker-py sends `link=False`.
    if query.take_bool("link") {
        return Err(ApiError::bad_request(
            "link removal is not supported: the engine has no container links",
        ));
    }
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    if entry.snapshot().restarting && !force {
        return Err(ApiError::conflict(format!(
            "cannot remove container \"/{}\": container is restarting: stop the container before removing or force remove",
            entry.name()
        )));
    }
    if force {
        restart_policy::stopped_by_user(ctx, &entry);
        // An automatic restart under way ends first (none follows now), so
        // that the check below sees whether it runs.
        drop(entry.operation.lock().await);
    }
    if !entry.snapshot().status().can_remove() {
        if !force {
            return Err(ApiError::conflict(format!(
                "cannot remove container \"/{}\": container is running: stop the container before removing or force remove",
                entry.name()
            )));
        }
        signal(&entry, Signal::SIGKILL)?;
        if !until_stopped(&entry, Duration::from_secs(30)).await {
            return Err(ApiError::internal(format!(
                "container {} did not stop after SIGKILL",
                entry.record.id
            )));
        }
    }
    remove_entry(ctx, &entry, volumes).await?;
    Ok(reply::empty(StatusCode::NO_CONTENT))
}

async fn remove_entry(
    ctx: &Arc<Context>,
    entry: &Arc<Entry>,
    volumes: bool,
) -> Result<(), ApiError> {
    let _operation = entry.operation.lock().await;
    if entry.snapshot().removed {
        return Ok(());
    }
    ctx.networks.release(&entry.record.id).await;
    let ctx2 = ctx.clone();
    let entry2 = entry.clone();
    tokio::task::spawn_blocking(move || -> Result<(), ApiError> {
        ctx2.containers
            .remove(&entry2)
            .map_err(|e| ApiError::internal(format!("cannot remove container {}: {e}", entry2.record.id)))?;
        if volumes {
            for name in &entry2.record.anonymous_volumes {
                if let Err(error) = ctx2.volumes.remove(name) {
                    tracing::warn!(volume = name, error = %super::super::chain(&error), "cannot remove an anonymous volume");
                }
            }
        }
        Ok(())
    })
    .await
    .map_err(|e| ApiError::internal(format!("the removal failed: {e}")))??;
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        "destroy",
        &entry.record.id,
        event_attributes(entry),
    );
    Ok(())
}

/// Removes a container to remove on exit; AutoRemove takes the anonymous
/// volumes along, as Docker's does.
pub(super) async fn auto_remove(ctx: Arc<Context>, entry: Arc<Entry>) {
    if let Err(error) = remove_entry(&ctx, &entry, true).await {
        tracing::error!(
            id = entry.record.id,
            message = error.message,
            "cannot auto-remove the container"
        );
    }
}
