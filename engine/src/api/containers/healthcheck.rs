//! The daemon's health checker: one task per running container with a
//! health check, probing it through the exec helper at Docker's intervals
//! and feeding the results to the pure state machine
//! (`container::health`).
//!
//! It runs in the daemon, as Docker's does, rather than in the container's
//! monitor: a probe is an exec, which the daemon starts anyway; the status
//! lives where the API reads it, so `State.Health.Status` and the
//! `health_status` event change the moment a probe ends (the orchestrator
//! waits on them for `service_healthy`); and the monitor stays a small
//! single-purpose process. The state is persisted (`supervision.json`) at
//! each probe, and a daemon that starts again resumes the checks of the
//! containers that still run, with the status they had.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bollard_stubs::models::{EventMessageTypeEnum, HealthConfig};

use super::super::error::ApiError;
use super::super::Context;
use super::event_attributes;
use super::exec_run;
use crate::container::health::{self, HealthLogEntry, HealthSettings, HealthState, HealthStatus};
use crate::container::record::Status;
use crate::container::{Entry, Snapshot};
use crate::state::time::rfc3339_nanos;

/// The shell `CMD-SHELL` probes run in, as Docker's default.
const SHELL: [&str; 2] = ["/bin/sh", "-c"];

/// Starts checking the health of `entry`'s current run, if it has a
/// check. `fresh`: the run just started (its health starts over);
/// otherwise the daemon found it running and keeps the recorded health.
pub(super) fn watch(ctx: &Arc<Context>, entry: &Arc<Entry>, fresh: bool) {
    let settings = match HealthSettings::from_config(entry.record.config.healthcheck.as_ref()) {
        Ok(Some(settings)) => settings,
        Ok(None) => return,
        Err(error) => {
            tracing::warn!(
                id = entry.record.id,
                error,
                "invalid health check; not checking"
            );
            return;
        }
    };
    let Some(run) = entry
        .snapshot()
        .run
        .filter(|_| entry.snapshot().status() == Status::Running)
    else {
        return;
    };
    entry.update(|s| {
        if fresh || s.supervision.health.is_none() {
            s.supervision.health = Some(HealthState::starting());
        }
    });
    persist(ctx, entry);
    // When the run started, on this clock (a resumed run started earlier).
    let now_unix = crate::state::time::unix_nanos(SystemTime::now()) / 1_000_000_000;
    let age = Duration::from_secs(u64::try_from(now_unix - run.started_unix).unwrap_or(0));
    let started = if fresh {
        Instant::now()
    } else {
        Instant::now().checked_sub(age).unwrap_or_else(Instant::now)
    };
    tokio::spawn(check(
        ctx.clone(),
        entry.clone(),
        settings,
        run.pid,
        started,
    ));
}

/// The container's health check: the request's merged with the image's
/// (`config.Healthcheck` of its stored config), checked as Docker checks it.
pub(super) fn merged_config(
    request: Option<HealthConfig>,
    image_config: &serde_json::Value,
) -> Result<Option<HealthConfig>, ApiError> {
    let image = image_config
        .get("config")
        .and_then(|c| c.get("Healthcheck"))
        .filter(|h| !h.is_null())
        .map(|h| serde_json::from_value::<HealthConfig>(h.clone()))
        .transpose()
        .map_err(|e| ApiError::internal(format!("the image's Healthcheck is invalid: {e}")))?;
    let merged = health::merge(request, image);
    HealthSettings::from_config(merged.as_ref()).map_err(ApiError::bad_request)?;
    Ok(merged)
}

/// Whether the run `pid` of the snapshot is over (or the container gone).
fn ended(snapshot: &Snapshot, pid: i32) -> bool {
    snapshot.removed
        || snapshot.status() != Status::Running
        || snapshot.run.as_ref().is_none_or(|r| r.pid != pid)
}

async fn check(
    ctx: Arc<Context>,
    entry: Arc<Entry>,
    settings: HealthSettings,
    pid: i32,
    started: Instant,
) {
    let mut changes = entry.subscribe();
    let mut stopping = ctx.stopping.clone();
    let args = settings.test.args(&SHELL.map(String::from));
    loop {
        let status = health_status(&entry.snapshot());
        let delay = settings.next_probe(status, started.elapsed());
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = changes.wait_for(|s| ended(s, pid)) => break,
            _ = stopping.wait_for(|stop| *stop) => return,
        }
        if entry.snapshot().paused {
            continue;
        }
        let since_start = started.elapsed();
        let start = rfc3339_nanos(SystemTime::now());
        let outcome = exec_run::probe(&ctx, &entry, args.clone(), settings.timeout).await;
        if ended(&entry.snapshot(), pid) {
            break;
        }
        let result = HealthLogEntry {
            start,
            end: rfc3339_nanos(SystemTime::now()),
            exit_code: outcome.exit_code,
            output: outcome.output,
        };
        let mut changed = None;
        entry.update(|s| {
            let health = s
                .supervision
                .health
                .get_or_insert_with(HealthState::starting);
            changed = health.record(&settings, result, since_start);
        });
        persist(&ctx, &entry);
        if let Some(status) = changed {
            ctx.events.publish(
                EventMessageTypeEnum::CONTAINER,
                &format!("health_status: {}", status.as_str()),
                &entry.record.id,
                event_attributes(&entry),
            );
        }
    }
    // As Docker reports it once its checker stops with the container.
    if !entry.snapshot().removed {
        entry.update(|s| {
            if let Some(health) = s.supervision.health.as_mut() {
                health.status = HealthStatus::Unhealthy;
            }
        });
        persist(&ctx, &entry);
    }
}

fn health_status(snapshot: &Snapshot) -> HealthStatus {
    snapshot
        .supervision
        .health
        .as_ref()
        .map_or(HealthStatus::Starting, |h| h.status)
}

/// Writes the supervision record; a failure only costs the state after a
/// daemon restart, so it is logged.
fn persist(ctx: &Context, entry: &Entry) {
    if entry.snapshot().removed {
        return;
    }
    if let Err(error) = ctx.containers.save_supervision(entry) {
        tracing::warn!(id = entry.record.id, %error, "cannot save the container's health");
    }
}
