//! Containers: the records the daemon keeps, the description a monitor
//! launches from, and the state a monitor records for each run.
//!
//! - `launch`: [`launch::LaunchSpec`], what the monitor needs (`launch.json`);
//! - `log_options`: [`log_options::LogOptions`], the json-file log's driver and rotation;
//! - `names`: ids and Docker's name rules;
//! - `init`: Docker's `--init`, finding the host's static tini and wrapping the command;
//! - `record`: [`record::ContainerRecord`] (`container.json`) and the status guards;
//! - `store`: [`Containers`], every container in memory and on disk;
//! - `run_state`: [`run_state::RunState`], the monitor's record of a run (`state.json`);
//! - `supervision`: the daemon's record across runs (`supervision.json`):
//!   restart count, manual stop, health;
//! - `exec`: exec instances, in memory as Docker keeps them;
//! - `health`, `restart`: Docker's health-check and restart-policy rules, pure.

pub(crate) mod exec;
pub(crate) mod health;
pub(crate) mod init;
pub(crate) mod launch;
pub(crate) mod log_options;
pub(crate) mod names;
pub(crate) mod record;
pub(crate) mod restart;
pub(crate) mod run_state;
mod store;
pub(crate) mod supervision;

pub(crate) use store::{monitor_alive, Containers, Entry, InsertError, LookupError, Snapshot};
