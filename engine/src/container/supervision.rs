//! What the daemon keeps about a container across its runs and its own
//! restarts (`supervision.json`, written by the daemon alone): the number
//! of automatic restarts, whether a user stopped it, and its health.

use serde::{Deserialize, Serialize};

use super::health::HealthState;

/// The daemon's per-container supervision record.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Supervision {
    /// Automatic restarts since the last start by a user (`RestartCount`).
    #[serde(default)]
    pub(crate) restart_count: u32,
    /// A user stopped it (Docker's `HasBeenManuallyStopped`): no restart
    /// follows, and `unless-stopped` keeps it stopped across daemon starts.
    #[serde(default)]
    pub(crate) manually_stopped: bool,
    /// `State.Health`, for containers with a health check that ran.
    #[serde(default)]
    pub(crate) health: Option<HealthState>,
}
