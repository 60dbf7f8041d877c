//! The compose orchestrator's pure core: observe → reconcile → execute.
//!
//! - [`observe`]: the [`Observed`] snapshot of the engine's state for one
//!   project (filled from the engine by the caller);
//! - `reconcile`: [`reconcile`] (for `up`) and [`reconcile_down`] turn the
//!   project, its dependency graph, the snapshot and the command's options
//!   into a [`Plan`], without I/O;
//! - [`plan`]: the plan, a graph of operations, each with its cause, and its
//!   deterministic text rendering;
//! - `labels`: the names and labels Compose gives engine objects;
//! - [`progress`]: the events an executor reports while it runs a plan;
//! - [`snapshot`]: the [`Observed`] snapshot filled from the engine's API;
//! - [`execute`]: a plan run against the engine, independent ops at once;
//! - `container_config`: a service's containers as the engine's create body;
//! - [`oneoff`]: the one-off container of `run`;
//! - [`ports`]: the check that published host ports are free;
//! - [`security_opt`]: seccomp profile files read into `security_opt`;
//! - [`waits`]: waiting for `depends_on` conditions and `up --wait`.

mod container_config;
pub mod execute;
pub mod images;
mod labels;
pub mod observe;
pub mod oneoff;
pub mod plan;
pub mod ports;
pub mod progress;
mod reconcile;
pub mod security_opt;
pub mod snapshot;
#[cfg(test)]
mod test_project;
pub mod waits;

pub use labels::ProjectLabels;
pub use observe::Observed;
pub use plan::Plan;
pub use reconcile::{
    reconcile, reconcile_down, DownOptions, Problem, ReconcileError, Recreate, UpOptions,
};

/// The engine's own message for an API error, without bollard's wrapping.
pub(crate) fn api_message(e: &bollard::errors::Error) -> String {
    use bollard::errors::Error;
    match e {
        Error::DockerResponseServerError { message, .. } => message.clone(),
        Error::DockerStreamError { error } => error.clone(),
        other => other.to_string(),
    }
}
