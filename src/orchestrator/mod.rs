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
//! - [`progress`]: the events an executor reports while it runs a plan.

mod labels;
pub mod observe;
pub mod plan;
pub mod progress;
mod reconcile;

pub use labels::ProjectLabels;
pub use observe::Observed;
pub use plan::Plan;
pub use reconcile::{
    reconcile, reconcile_down, DownOptions, Problem, ReconcileError, Recreate, UpOptions,
};
