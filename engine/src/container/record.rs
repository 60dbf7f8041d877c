//! The daemon's record of one container (`container.json`), and its status
//! with the lifecycle's guards.

use bollard_stubs::models::{ContainerConfig, HostConfig, MountPoint};
use serde::{Deserialize, Serialize};

use super::run_state::{RunState, RunStatus};

/// What the daemon keeps about a container, apart from its runs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ContainerRecord {
    /// 64 hex digits.
    pub(crate) id: String,
    /// The name, without Docker's leading `/`, as stored: a rename rewrites
    /// the file, and `Entry::name` is the current one in memory.
    pub(crate) name: String,
    /// RFC 3339 creation time.
    pub(crate) created: String,
    /// Unix seconds of the creation (`Created` in lists).
    pub(crate) created_unix: i64,
    /// The image as the request named it.
    pub(crate) image: String,
    /// The image's id, `sha256:...`.
    pub(crate) image_id: String,
    /// The configuration, with the image's defaults merged in.
    pub(crate) config: ContainerConfig,
    /// The host configuration as requested.
    pub(crate) host_config: HostConfig,
    /// Anonymous volumes made for this container (removed by `rm -v`).
    #[serde(default)]
    pub(crate) anonymous_volumes: Vec<String>,
    /// Named volumes it mounts (for the volumes' in-use checks).
    #[serde(default)]
    pub(crate) volumes: Vec<String>,
    /// Its mounts as inspect shows them.
    #[serde(default)]
    pub(crate) mounts: Vec<MountPoint>,
}

/// The process a configuration runs: its entrypoint followed by its command.
pub(crate) fn command_line(config: &ContainerConfig) -> Vec<String> {
    (config.entrypoint.iter())
        .chain(config.cmd.iter())
        .flatten()
        .cloned()
        .collect()
}

/// Docker's container status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Status {
    Created,
    Running,
    Exited,
    Dead,
}

impl Status {
    /// The status of a container whose last run is `run` (none: never started).
    pub(crate) fn of(run: Option<&RunState>) -> Status {
        match run.map(|r| r.status) {
            None => Status::Created,
            Some(RunStatus::Running) => Status::Running,
            Some(RunStatus::Exited) => Status::Exited,
            Some(RunStatus::Dead) => Status::Dead,
        }
    }

    /// Docker's word for it (`State.Status`, the `status` filter).
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::Created => "created",
            Status::Running => "running",
            Status::Exited => "exited",
            Status::Dead => "dead",
        }
    }

    /// A start makes sense: it is not running.
    pub(crate) fn can_start(self) -> bool {
        self != Status::Running
    }

    /// A stop or kill has a process to signal.
    pub(crate) fn can_stop(self) -> bool {
        self == Status::Running
    }

    /// Removal without force: nothing runs.
    pub(crate) fn can_remove(self) -> bool {
        self != Status::Running
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: RunStatus) -> RunState {
        RunState::sample(status)
    }

    #[test]
    fn guards_follow_the_status() {
        assert_eq!(Status::of(None), Status::Created);
        let running = Status::of(Some(&run(RunStatus::Running)));
        assert_eq!(running.as_str(), "running");
        assert!(!running.can_start() && running.can_stop() && !running.can_remove());
        for status in [RunStatus::Exited, RunStatus::Dead] {
            let s = Status::of(Some(&run(status)));
            assert!(s.can_start() && !s.can_stop() && s.can_remove());
        }
        assert!(Status::Created.can_start() && !Status::Created.can_stop());
    }
}
