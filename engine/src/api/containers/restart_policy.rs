//! Restart policies in the daemon: after each exit the exit watcher asks
//! [`after_exit`] whether a restart follows; the container is then
//! `restarting` until the backoff delay has passed and [`restart_later`]
//! starts it again, unless a stop or removal came first. When the daemon
//! starts, [`restore`] starts the containers Docker's restore would start.
//!
//! This is the daemon's job, not the monitor's: a restart is a new run with
//! a new monitor, which only the daemon spawns. A container that exits
//! while no daemon runs is restarted when the daemon starts again (as
//! Docker's are).

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bollard_stubs::models::HostConfig;

use super::super::error::ApiError;
use super::super::Context;
use super::lifecycle::start_entry;
use crate::container::record::Status;
use crate::container::restart::RestartPolicy;
use crate::container::run_state::RunState;
use crate::container::Entry;

/// Checks a create request's restart policy as Docker does.
pub(super) fn check(host: &HostConfig) -> Result<(), ApiError> {
    let policy = RestartPolicy::from_config(host.restart_policy.as_ref())
        .map_err(|e| ApiError::bad_request(format!("HostConfig.RestartPolicy: {e}")))?;
    if policy.is_set() && host.auto_remove == Some(true) {
        return Err(ApiError::bad_request(
            "can't create 'AutoRemove' container with restart policy: choose one of --rm and --restart",
        ));
    }
    Ok(())
}

/// The container's policy (checked at creation, so an error means none).
fn policy(entry: &Entry) -> RestartPolicy {
    RestartPolicy::from_config(entry.record.host_config.restart_policy.as_ref())
        .unwrap_or(RestartPolicy::No)
}

/// Whether the exit that ended `run` is followed by a restart, and after
/// how long.
pub(super) fn after_exit(entry: &Entry, run: &RunState) -> Option<Duration> {
    let snapshot = entry.snapshot();
    if snapshot.removed {
        return None;
    }
    let supervision = &snapshot.supervision;
    let exit_code = i64::from(run.exit_code.unwrap_or(0));
    if !policy(entry).restarts_after(
        exit_code,
        supervision.manually_stopped,
        supervision.restart_count,
    ) {
        return None;
    }
    let ran_for =
        Duration::from_secs(u64::try_from(run.finished_unix - run.started_unix).unwrap_or(0));
    let mut backoff = entry.backoff.lock().unwrap_or_else(|e| e.into_inner());
    Some(backoff.next(ran_for))
}

/// Starts the container again after `delay`, unless it was stopped or
/// removed meanwhile (which ends its `restarting`).
/// (Boxed: it starts a run whose exit watcher may call it again.)
pub(super) fn restart_later(
    ctx: Arc<Context>,
    entry: Arc<Entry>,
    delay: Duration,
) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(restart_after(ctx, entry, delay))
}

async fn restart_after(ctx: Arc<Context>, entry: Arc<Entry>, delay: Duration) {
    let mut changes = entry.subscribe();
    let mut stopping = ctx.stopping.clone();
    tokio::select! {
        _ = tokio::time::sleep(delay) => {}
        _ = changes.wait_for(|s| !s.restarting || s.removed) => return,
        _ = stopping.wait_for(|stop| *stop) => return,
    }
    let _operation = entry.operation.lock().await;
    let snapshot = entry.snapshot();
    if !snapshot.restarting || snapshot.removed {
        return;
    }
    if let Err(error) = start_entry(&ctx, &entry).await {
        tracing::warn!(
            id = entry.record.id,
            message = error.message,
            "the automatic restart failed"
        );
        entry.update(|s| s.restarting = false);
        entry.note_failed_start();
    }
    persist(&ctx, &entry);
}

/// Ends a pending restart (a stop or a start by a user); true when one was pending.
pub(super) fn cancel(entry: &Entry) -> bool {
    let mut cancelled = false;
    entry.update(|s| {
        cancelled = s.restarting;
        s.restarting = false;
    });
    cancelled
}

/// Records a stop by a user: no restart follows it.
pub(super) fn stopped_by_user(ctx: &Context, entry: &Entry) {
    cancel(entry);
    entry.update(|s| s.supervision.manually_stopped = true);
    persist(ctx, entry);
}

/// Records a start by a user: the restart count and the manual stop are reset.
pub(super) fn started_by_user(ctx: &Context, entry: &Entry) {
    cancel(entry);
    let changed = {
        let snapshot = entry.snapshot();
        snapshot.supervision.restart_count != 0 || snapshot.supervision.manually_stopped
    };
    if changed {
        entry.update(|s| {
            s.supervision.restart_count = 0;
            s.supervision.manually_stopped = false;
        });
        persist(ctx, entry);
    }
    *entry.backoff.lock().unwrap_or_else(|e| e.into_inner()) = Default::default();
}

/// At daemon start: starts the containers that are not running and whose
/// policy brings them back, as Docker's restore does (`always` even after
/// a stop, `unless-stopped` unless stopped, `on-failure` after a failure
/// within its retries). Containers never started stay created.
pub(crate) fn restore(ctx: &Arc<Context>) {
    for entry in ctx.containers.list() {
        let snapshot = entry.snapshot();
        let Some(run) = snapshot.run.as_ref() else {
            continue;
        };
        if snapshot.status() == Status::Running {
            continue;
        }
        let supervision = &snapshot.supervision;
        if !policy(&entry).starts_with_daemon(
            i64::from(run.exit_code.unwrap_or(0)),
            supervision.manually_stopped,
            supervision.restart_count,
        ) {
            continue;
        }
        // Docker's restore starts it as a user's start would: the count
        // and the manual stop start over.
        entry.update(|s| {
            s.restarting = true;
            s.supervision.restart_count = 0;
            s.supervision.manually_stopped = false;
        });
        tokio::spawn(restart_later(ctx.clone(), entry, Duration::ZERO));
    }
}

fn persist(ctx: &Context, entry: &Entry) {
    if entry.snapshot().removed {
        return;
    }
    if let Err(error) = ctx.containers.save_supervision(entry) {
        tracing::warn!(id = entry.record.id, %error, "cannot save the container's restart state");
    }
}
