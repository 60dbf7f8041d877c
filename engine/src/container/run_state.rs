//! The state of a container's current or last run, as its monitor records
//! it in `state.json`: the monitor is its only writer while it lives (the
//! daemon writes it only for a run whose monitor died), so the record of a
//! run survives a daemon restart and never has two writers at once.

use serde::{Deserialize, Serialize};

/// Whether the run is going on or over.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum RunStatus {
    /// The container's process runs.
    Running,
    /// It exited and the monitor recorded how.
    Exited,
    /// Its monitor died without recording the end (Docker's `dead`).
    Dead,
}

/// One run of a container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunState {
    /// Running, exited or dead.
    pub(crate) status: RunStatus,
    /// Host pid of the container's init process.
    pub(crate) pid: i32,
    /// Host pid of the monitor that runs it.
    pub(crate) monitor_pid: i32,
    /// RFC 3339 time the process was started.
    pub(crate) started_at: String,
    /// Unix seconds of the start (for `Up 5 seconds`).
    #[serde(default)]
    pub(crate) started_unix: i64,
    /// Unix seconds of the exit (for `Exited (0) 3 seconds ago`).
    #[serde(default)]
    pub(crate) finished_unix: i64,
    /// RFC 3339 time it exited, once it has.
    #[serde(default)]
    pub(crate) finished_at: Option<String>,
    /// Its exit code, once it has exited (128 + signal when killed).
    #[serde(default)]
    pub(crate) exit_code: Option<i32>,
    /// The kernel's OOM killer killed a process of the container.
    #[serde(default)]
    pub(crate) oom_killed: bool,
    /// What went wrong in the monitor after the start, if anything.
    #[serde(default)]
    pub(crate) error: Option<String>,
}

impl RunState {
    /// A run in `status` of which nothing else is known: no pids, no times.
    pub(crate) fn unknown(status: RunStatus) -> RunState {
        RunState {
            status,
            pid: 0,
            monitor_pid: 0,
            started_at: String::new(),
            started_unix: 0,
            finished_unix: 0,
            finished_at: None,
            exit_code: None,
            oom_killed: false,
            error: None,
        }
    }
}

#[cfg(test)]
impl RunState {
    /// A run in `status` with placeholder pids and no times, for tests.
    pub(crate) fn sample(status: RunStatus) -> RunState {
        RunState {
            pid: 1,
            monitor_pid: 2,
            ..RunState::unknown(status)
        }
    }
}
