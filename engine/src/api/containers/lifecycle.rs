//! Start, stop, restart, kill and wait, and the daemon's watch over each
//! running container's monitor.
//!
//! Start spawns the monitor (`<exe> monitor --root R --run-dir D ID`) in
//! its own process group and reads one line from its stdout: `ok` once the
//! container runs and `state.json` says so, or the error. The daemon then
//! watches the monitor through a pidfd (it need not be the monitor's parent:
//! after a restart it is not) and, when the monitor exits, reads how the
//! run ended from `state.json`, publishes `die`, and honours `AutoRemove`.
//!
//! Stop and kill signal the container's init process directly, by the pid
//! in `state.json`, after checking that its monitor still runs (so the pid
//! has not been reaped and reused): no channel to the monitor is needed,
//! and a stop works the same whether or not this daemon started it.

use std::os::fd::OwnedFd;
use std::process::Stdio as ProcessStdio;
use std::sync::Arc;
use std::time::Duration;

use bollard_stubs::models::{ContainerWaitResponse, EventMessageTypeEnum};
use bytes::Bytes;
use hyper::{Response, StatusCode};
use nix::sys::signal::Signal;
use tokio::io::unix::AsyncFd;
use tokio::io::AsyncBufReadExt;
use tokio::sync::mpsc;

use super::super::error::ApiError;
use super::super::networks;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::remove::auto_remove;
use super::{event_attributes, healthcheck, lookup, parse_signal, pause, restart_policy};
use crate::container::record::Status;
use crate::container::run_state::RunStatus;
use crate::container::{monitor_alive, Entry, Snapshot};
use crate::monitor::{spawn_error, MonitorArgs};
use crate::network::manager::Peer;
use crate::network::record::Mode;

/// How long a monitor gets to create and start its container.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// Docker's default grace period before SIGKILL.
const DEFAULT_STOP_TIMEOUT: i64 = 10;

/// `POST /containers/{id}/start`.
pub(crate) async fn start(
    ctx: &Arc<Context>,
    reference: &str,
    query: Query,
) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    let started = {
        let _operation = entry.operation.lock().await;
        if !entry.snapshot().status().can_start() {
            return Ok(reply::empty(StatusCode::NOT_MODIFIED));
        }
        restart_policy::started_by_user(ctx, &entry);
        start_entry(ctx, &entry).await
    };
    if let Err(error) = started {
        // Attached clients learn that no run is coming.
        entry.note_failed_start();
        // As Docker does, a container to remove on exit is removed when it
        // cannot start (its client may be waiting for the removal).
        if entry.record.host_config.auto_remove == Some(true) {
            auto_remove(ctx.clone(), entry).await;
        }
        return Err(error);
    }
    Ok(reply::empty(StatusCode::NO_CONTENT))
}

/// Sets up the container's network, spawns the monitor and waits for its
/// report, holding the operation lock; a failed start leaves no network.
pub(super) async fn start_entry(ctx: &Arc<Context>, entry: &Arc<Entry>) -> Result<(), ApiError> {
    // libcontainer moves the container's first process into its cgroups.
    crate::runtime::migration::start_grace_period();
    let peer = match ctx.networks.endpoints(&entry.record.id).mode {
        Mode::Container(other) => ctx.containers.get(&other).ok().and_then(|peer| {
            let run = peer
                .snapshot()
                .run
                .filter(|r| r.status == RunStatus::Running)?;
            Some(Peer {
                pid: run.pid,
                network: ctx.networks.active(&peer.record.id),
            })
        }),
        _ => None,
    };
    let name = entry.name();
    ctx.networks
        .prepare(&networks::facts(&entry.record, &name), peer)
        .await
        .map_err(networks::net_error)?;
    let started = run_monitor(ctx, entry).await;
    if started.is_err() {
        ctx.networks.release(&entry.record.id).await;
    }
    started
}

/// Spawns the monitor and waits for its report.
async fn run_monitor(ctx: &Arc<Context>, entry: &Arc<Entry>) -> Result<(), ApiError> {
    let exe = ctx.containers.monitor_exe().cloned().ok_or_else(|| {
        ApiError::internal(
            "this daemon was started without a monitor executable; it cannot run containers",
        )
    })?;
    let layout = ctx.containers.layout();
    let id = entry.record.id.clone();
    let args = MonitorArgs {
        root: layout.root().to_path_buf(),
        run_dir: layout.run_dir().to_path_buf(),
        id: id.clone(),
    };
    let log_path = layout.container_monitor_log(&id);
    let log = std::fs::File::options()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(|e| ApiError::internal(format!("cannot open {}: {e}", log_path.display())))?;
    let mut child = tokio::process::Command::new(&exe)
        .args(args.to_args())
        .stdin(ProcessStdio::null())
        .stdout(ProcessStdio::piped())
        .stderr(log)
        // Its own process group: a signal to the daemon's group (a
        // terminal's Ctrl-C) does not reach it.
        .process_group(0)
        .spawn()
        .map_err(|e| ApiError::internal(spawn_error(&exe, "the monitor", &e)))?;
    // Opened before anything reaps the child, so the pid names it.
    let pidfd = child.id().and_then(pidfd_of);
    let stdout = child.stdout.take();
    tokio::spawn(async move {
        // Reaps the monitor; its outcome is read from state.json instead.
        let _ = child.wait().await;
    });
    let mut line = String::new();
    if let Some(stdout) = stdout {
        let mut reader = tokio::io::BufReader::new(stdout);
        let read = tokio::time::timeout(START_TIMEOUT, reader.read_line(&mut line)).await;
        if read.is_err() {
            return Err(ApiError::internal(format!(
                "the container's monitor did not report within {START_TIMEOUT:?}; see {}",
                log_path.display()
            )));
        }
    }
    let line = line.trim();
    if line != "ok" {
        let message = line.strip_prefix("error: ").unwrap_or(line);
        let message = if message.is_empty() {
            format!(
                "the container's monitor exited without starting it; see {}",
                log_path.display()
            )
        } else {
            message.to_owned()
        };
        return Err(ApiError::internal(format!(
            "failed to start container {id}: {message}"
        )));
    }
    let run = ctx
        .containers
        .read_run(entry)
        .map_err(|e| ApiError::internal(format!("cannot read the container's state: {e}")))?
        .ok_or_else(|| ApiError::internal("the monitor reported a start without recording it"))?;
    entry.set_run(run);
    healthcheck::watch(ctx, entry, true);
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        "start",
        &id,
        event_attributes(entry),
    );
    tokio::spawn(watch_exit(ctx.clone(), entry.clone(), pidfd));
    Ok(())
}

fn pidfd_of(pid: u32) -> Option<OwnedFd> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::NONBLOCK).ok()
}

/// Starts watching every container that runs (after a daemon start). As
/// Docker's restore does, a container to remove on exit that does not run
/// (it ended while no daemon watched it, or never started) is removed,
/// with its anonymous volumes.
pub(crate) fn watch_running(ctx: &Arc<Context>) {
    for entry in ctx.containers.list() {
        let Some(run) = entry
            .snapshot()
            .run
            .filter(|r| r.status == RunStatus::Running)
        else {
            if entry.record.host_config.auto_remove == Some(true) {
                tokio::spawn(auto_remove(ctx.clone(), entry));
            }
            continue;
        };
        let pidfd = u32::try_from(run.monitor_pid).ok().and_then(pidfd_of);
        // Checked after opening the pidfd: the pid cannot be reused under it.
        let pidfd = pidfd.filter(|_| monitor_alive(run.monitor_pid, &entry.record.id));
        healthcheck::watch(ctx, &entry, false);
        tokio::spawn(watch_exit(ctx.clone(), entry, pidfd));
    }
    restart_policy::restore(ctx);
}

/// Waits for a monitor to exit, then records and announces the end.
async fn watch_exit(ctx: Arc<Context>, entry: Arc<Entry>, pidfd: Option<OwnedFd>) {
    if let Some(pidfd) = pidfd {
        // SAFETY: the AsyncFd owns the descriptor, so it stays open for as
        // long as it is registered.
        let registered =
            unsafe { AsyncFd::register_with_interest(pidfd, tokio::io::Interest::READABLE) };
        match registered {
            Ok(fd) => {
                // Readable means the monitor exited; an error means we cannot tell.
                let _ = fd.readable().await;
            }
            Err(error) => tracing::warn!(id = entry.record.id, %error, "cannot watch the monitor"),
        }
    }
    let ctx2 = ctx.clone();
    let entry2 = entry.clone();
    let ended = tokio::task::spawn_blocking(move || {
        let run = ctx2.containers.read_run(&entry2)?;
        match run {
            Some(run) if run.status == RunStatus::Running => {
                ctx2.containers.record_dead(&entry2, run).map(Some)
            }
            other => Ok(other),
        }
    })
    .await;
    // Before anyone learns of the exit: its names and ports go with it.
    ctx.networks.release(&entry.record.id).await;
    let run = match ended {
        Ok(Ok(Some(run))) => run,
        Ok(Ok(None)) => return,
        Ok(Err(error)) => {
            tracing::error!(id = entry.record.id, %error, "cannot read how the container ended");
            return;
        }
        Err(error) => {
            tracing::error!(id = entry.record.id, %error, "the exit watcher failed");
            return;
        }
    };
    let mut attributes = event_attributes(&entry);
    attributes.insert("exitCode".into(), run.exit_code.unwrap_or(0).to_string());
    if run.oom_killed {
        ctx.events.publish(
            EventMessageTypeEnum::CONTAINER,
            "oom",
            &entry.record.id,
            event_attributes(&entry),
        );
    }
    let restart = restart_policy::after_exit(&entry, &run);
    entry.set_exit(run, restart.is_some());
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        "die",
        &entry.record.id,
        attributes,
    );
    if let Some(delay) = restart {
        tokio::spawn(restart_policy::restart_later(ctx, entry, delay));
        return;
    }
    if entry.record.host_config.auto_remove == Some(true) {
        auto_remove(ctx, entry).await;
    }
}

/// Sends `signal` to the container's init process, if it still runs.
pub(super) fn signal(entry: &Entry, signal: Signal) -> Result<bool, ApiError> {
    let Some(run) = entry
        .snapshot()
        .run
        .filter(|r| r.status == RunStatus::Running)
    else {
        return Ok(false);
    };
    if !monitor_alive(run.monitor_pid, &entry.record.id) {
        return Ok(false);
    }
    match nix::sys::signal::kill(nix::unistd::Pid::from_raw(run.pid), signal) {
        Ok(()) | Err(nix::errno::Errno::ESRCH) => {
            pause::thaw_after_signal(entry);
            Ok(true)
        }
        Err(errno) => Err(ApiError::internal(format!(
            "cannot signal container {}: {errno}",
            entry.record.id
        ))),
    }
}

/// Waits until the container no longer runs, at most `limit`.
pub(super) async fn until_stopped(entry: &Entry, limit: Duration) -> bool {
    let mut changes = entry.subscribe();
    let stopped = tokio::time::timeout(
        limit,
        changes.wait_for(|s| s.status() != Status::Running || s.removed),
    )
    .await;
    stopped.is_ok()
}

/// `POST /containers/{id}/stop?t=&signal=`.
pub(crate) async fn stop(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let (timeout, requested) = stop_options(&mut query)?;
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    let _operation = entry.operation.lock().await;
    let was_restarting = entry.snapshot().restarting;
    restart_policy::stopped_by_user(ctx, &entry);
    if !entry.snapshot().status().can_stop() {
        return Ok(reply::empty(if was_restarting {
            StatusCode::NO_CONTENT
        } else {
            StatusCode::NOT_MODIFIED
        }));
    }
    stop_entry(ctx, &entry, timeout, requested.as_deref()).await?;
    Ok(reply::empty(StatusCode::NO_CONTENT))
}

/// `t` (or `timeout`) and `signal` of a stop or restart.
fn stop_options(query: &mut Query) -> Result<(Option<i64>, Option<String>), ApiError> {
    let timeout = query
        .take("t")
        .or_else(|| query.take("timeout"))
        .map(|t| {
            t.parse::<i64>()
                .map_err(|_| ApiError::bad_request(format!("invalid t {t:?}: expected seconds")))
        })
        .transpose()?;
    Ok((timeout, query.take("signal").filter(|s| !s.is_empty())))
}

/// `POST /containers/{id}/restart?t=&signal=`: a stop (if it runs), then a start.
pub(crate) async fn restart(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let (timeout, requested) = stop_options(&mut query)?;
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    {
        let _operation = entry.operation.lock().await;
        restart_policy::stopped_by_user(ctx, &entry);
        if entry.snapshot().status().can_stop() {
            stop_entry(ctx, &entry, timeout, requested.as_deref()).await?;
        }
    }
    start(ctx, &entry.record.id, Query::default()).await?;
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        "restart",
        &entry.record.id,
        event_attributes(&entry),
    );
    Ok(reply::empty(StatusCode::NO_CONTENT))
}

async fn stop_entry(
    ctx: &Context,
    entry: &Entry,
    timeout: Option<i64>,
    requested: Option<&str>,
) -> Result<(), ApiError> {
    let stop_signal = match requested.or(entry.record.config.stop_signal.as_deref()) {
        Some(name) => parse_signal(name)?,
        None => Signal::SIGTERM,
    };
    let grace = timeout
        .or(entry.record.config.stop_timeout)
        .unwrap_or(DEFAULT_STOP_TIMEOUT);
    let id = &entry.record.id;
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        "kill",
        id,
        signal_attributes(entry, stop_signal),
    );
    signal(entry, stop_signal)?;
    // A negative grace period waits for as long as it takes, as in Docker.
    let grace = if grace < 0 {
        Duration::MAX
    } else {
        Duration::from_secs(grace.unsigned_abs())
    };
    if !until_stopped(entry, grace.min(Duration::from_secs(365 * 86_400))).await {
        ctx.events.publish(
            EventMessageTypeEnum::CONTAINER,
            "kill",
            id,
            signal_attributes(entry, Signal::SIGKILL),
        );
        signal(entry, Signal::SIGKILL)?;
        if !until_stopped(entry, Duration::from_secs(30)).await {
            return Err(ApiError::internal(format!(
                "container {id} did not stop after SIGKILL"
            )));
        }
    }
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        "stop",
        id,
        event_attributes(entry),
    );
    Ok(())
}

fn signal_attributes(entry: &Entry, signal: Signal) -> std::collections::HashMap<String, String> {
    let mut attributes = event_attributes(entry);
    attributes.insert("signal".into(), (signal as i32).to_string());
    attributes
}

/// `POST /containers/{id}/kill?signal=`.
pub(crate) async fn kill(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let requested = query.take("signal").filter(|s| !s.is_empty());
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    let sig = match requested {
        Some(name) => parse_signal(&name)?,
        None => Signal::SIGKILL,
    };
    if !entry.snapshot().status().can_stop() || !signal(&entry, sig)? {
        return Err(ApiError::conflict(format!(
            "cannot kill container: {reference}: container {} is not running",
            entry.record.id
        )));
    }
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        "kill",
        &entry.record.id,
        signal_attributes(&entry, sig),
    );
    Ok(reply::empty(StatusCode::NO_CONTENT))
}

/// `POST /containers/{id}/wait?condition=`: the headers go out at once
/// (clients such as `docker run` start the container only after that),
/// the status code when the condition is met.
pub(crate) fn wait(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let condition = query.take("condition").unwrap_or_default();
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    let mut changes = entry.subscribe();
    let now = changes.borrow_and_update().clone();
    let done: Box<dyn Fn(&Snapshot) -> bool + Send + Sync> = match condition.as_str() {
        "" | "not-running" => {
            Box::new(|s: &Snapshot| s.status() != Status::Running && !s.restarting)
        }
        "next-exit" => {
            let exits = now.exits;
            Box::new(move |s: &Snapshot| s.exits > exits)
        }
        "removed" => Box::new(|s: &Snapshot| s.removed),
        other => {
            return Err(ApiError::bad_request(format!(
                "invalid condition {other:?}: expected not-running, next-exit or removed"
            )))
        }
    };
    let (tx, rx) = mpsc::channel(1);
    let mut stopping = ctx.stopping.clone();
    tokio::spawn(async move {
        let snapshot = tokio::select! {
            result = changes.wait_for(|s| done(s)) => match result {
                Ok(snapshot) => snapshot.clone(),
                Err(_) => return,
            },
            _ = stopping.wait_for(|stop| *stop) => return,
        };
        let error = snapshot.run.as_ref().and_then(|r| r.error.clone());
        let response = ContainerWaitResponse {
            status_code: snapshot.exit_code(),
            error: error.map(|message| bollard_stubs::models::ContainerWaitExitError {
                message: Some(message),
            }),
        };
        if let Ok(mut bytes) = serde_json::to_vec(&response) {
            bytes.push(b'\n');
            // The client may have gone.
            let _ = tx.send(Bytes::from(bytes)).await;
        }
    });
    Ok(reply::json_stream(rx))
}
