//! Containers: the records the daemon keeps, the description a monitor
//! launches from, and the state a monitor records for each run.
//!
//! - `launch`: [`launch::LaunchSpec`], what the monitor needs (`launch.json`);
//! - `names`: ids and Docker's name rules;
//! - `record`: [`record::ContainerRecord`] (`container.json`) and the status guards;
//! - `store`: [`Containers`], every container in memory and on disk;
//! - `run_state`: [`run_state::RunState`], the monitor's record of a run (`state.json`).

pub(crate) mod launch;
pub(crate) mod names;
pub(crate) mod record;
pub(crate) mod run_state;
mod store;

pub(crate) use store::{monitor_alive, Containers, Entry, InsertError, LookupError, Snapshot};
