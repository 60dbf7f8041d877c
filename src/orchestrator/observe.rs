//! One snapshot of what the engine holds for a project, taken once before
//! reconciling: its containers (found by the project label), the networks and
//! volumes it names or labels, and the images its services run.
//!
//! Plain data: filling it from the engine is the caller's job, and nothing
//! here decides what to do about it.

use super::labels;
use std::collections::BTreeMap;

/// The engine state one `up` or `down` starts from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Observed {
    /// Every container labelled with the project, one-off ones included.
    pub containers: Vec<ObservedContainer>,
    /// The networks labelled with the project and those the project names
    /// (external ones, and ones of the same name created by someone else).
    pub networks: Vec<ObservedNetwork>,
    /// The volumes labelled with the project and those the project names.
    pub volumes: Vec<ObservedVolume>,
    /// The images present, by the reference the services use
    /// (`redis:7`, `app-web`); missing images are absent.
    pub images: BTreeMap<String, ObservedImage>,
}

impl Observed {
    /// The network with engine name `name`.
    pub fn network(&self, name: &str) -> Option<&ObservedNetwork> {
        self.networks.iter().find(|n| n.name == name)
    }

    /// The volume with engine name `name`.
    pub fn volume(&self, name: &str) -> Option<&ObservedVolume> {
        self.volumes.iter().find(|v| v.name == name)
    }
}

/// A container's lifecycle state, as the engine reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContainerState {
    /// Created, never started.
    Created,
    /// Its process runs.
    Running,
    /// Frozen by `pause`.
    Paused,
    /// Being restarted by its restart policy.
    Restarting,
    /// Being removed.
    Removing,
    /// Its process ended.
    Exited,
    /// Could not be stopped or removed cleanly; it can only be removed.
    Dead,
}

impl ContainerState {
    /// The state from the engine's spelling (`running`, `exited`, ...).
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "created" => ContainerState::Created,
            "running" => ContainerState::Running,
            "paused" => ContainerState::Paused,
            "restarting" => ContainerState::Restarting,
            "removing" => ContainerState::Removing,
            "exited" => ContainerState::Exited,
            "dead" => ContainerState::Dead,
            _ => return None,
        })
    }

    /// Whether it has a process that a stop must end.
    pub fn is_stoppable(self) -> bool {
        matches!(
            self,
            ContainerState::Running | ContainerState::Paused | ContainerState::Restarting
        )
    }
}

/// The result of a container's health check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Health {
    /// Checks run but none has passed yet (or the start period runs).
    Starting,
    /// The last checks passed.
    Healthy,
    /// The check failed as many times in a row as allowed.
    Unhealthy,
}

/// One container, with its labels still raw; the accessors read the ones
/// Compose writes.
#[derive(Debug, Clone, PartialEq)]
pub struct ObservedContainer {
    /// The engine's id.
    pub id: String,
    /// The name, without Docker's leading `/`.
    pub name: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
    /// The lifecycle state.
    pub state: ContainerState,
    /// The health status; `None` without a health check.
    pub health: Option<Health>,
    /// The id of the image it was created from.
    pub image_id: String,
    /// The exit status of its last run, when it has exited.
    pub exit_code: Option<i64>,
    /// When it was created, in seconds since the Unix epoch.
    pub created: i64,
    /// What is mounted in it.
    pub mounts: Vec<ObservedMount>,
    /// The names of the networks it is connected to.
    pub networks: Vec<String>,
}

impl ObservedContainer {
    fn label(&self, key: &str) -> Option<&str> {
        self.labels.get(key).map(String::as_str)
    }

    /// The project it belongs to.
    pub fn project(&self) -> Option<&str> {
        self.label(labels::PROJECT)
    }

    /// The service it runs.
    pub fn service(&self) -> Option<&str> {
        self.label(labels::SERVICE)
    }

    /// Its replica number; 0 when the label is missing or not a number, as
    /// Compose reads it.
    pub fn number(&self) -> u32 {
        self.label(labels::CONTAINER_NUMBER)
            .and_then(|n| n.parse().ok())
            .unwrap_or(0)
    }

    /// The configuration hash it was created with.
    pub fn config_hash(&self) -> Option<&str> {
        self.label(labels::CONFIG_HASH)
    }

    /// Whether `run` created it. Like Compose, a container without the
    /// label counts as a service container.
    pub fn is_oneoff(&self) -> bool {
        self.label(labels::ONEOFF)
            .is_some_and(|v| v != labels::ONEOFF_FALSE)
    }
}

/// The kind of a mount.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MountKind {
    /// A host path.
    Bind,
    /// A named or anonymous volume.
    Volume,
    /// A memory filesystem.
    Tmpfs,
    /// Anything else (image mounts, named pipes).
    Other,
}

/// One mount of a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedMount {
    /// What is mounted.
    pub kind: MountKind,
    /// The volume's name, for volumes (a generated one for anonymous volumes).
    pub name: Option<String>,
    /// The host path (for volumes, where the engine keeps its data).
    pub source: String,
    /// The path inside the container.
    pub destination: String,
    /// Mounted writable.
    pub read_write: bool,
}

/// A network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedNetwork {
    /// The engine's id.
    pub id: String,
    /// The engine name (`app_default`).
    pub name: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
}

/// A volume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedVolume {
    /// The engine name (`app_data`).
    pub name: String,
    /// All labels.
    pub labels: BTreeMap<String, String>,
}

/// An image present on the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedImage {
    /// Its id (`sha256:...`).
    pub id: String,
    /// The paths its configuration declares as `VOLUME`s: a recreated
    /// container gets the anonymous volumes of its predecessor there.
    pub volumes: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn container(labels: &[(&str, &str)]) -> ObservedContainer {
        ObservedContainer {
            id: "c1".into(),
            name: "app-web-1".into(),
            labels: labels
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            state: ContainerState::Running,
            health: None,
            image_id: "sha256:1".into(),
            exit_code: None,
            created: 0,
            mounts: vec![],
            networks: vec![],
        }
    }

    #[test]
    fn labels_read_as_compose_reads_them() {
        let c = container(&[
            (labels::PROJECT, "app"),
            (labels::SERVICE, "web"),
            (labels::CONTAINER_NUMBER, "2"),
            (labels::CONFIG_HASH, "h"),
            (labels::ONEOFF, "False"),
        ]);
        assert_eq!(
            (c.project(), c.service(), c.number(), c.config_hash()),
            (Some("app"), Some("web"), 2, Some("h"))
        );
        assert!(!c.is_oneoff());
        let bare = container(&[(labels::CONTAINER_NUMBER, "x")]);
        assert_eq!((bare.number(), bare.is_oneoff()), (0, false));
        assert!(container(&[(labels::ONEOFF, "True")]).is_oneoff());
    }

    #[test]
    fn states_parse_from_engine_spelling() {
        for (text, state) in [
            ("created", ContainerState::Created),
            ("running", ContainerState::Running),
            ("paused", ContainerState::Paused),
            ("restarting", ContainerState::Restarting),
            ("removing", ContainerState::Removing),
            ("exited", ContainerState::Exited),
            ("dead", ContainerState::Dead),
        ] {
            assert_eq!(ContainerState::parse(text), Some(state));
        }
        assert_eq!(ContainerState::parse("Running"), None);
        assert!(ContainerState::Paused.is_stoppable());
        assert!(!ContainerState::Exited.is_stoppable());
    }
}
