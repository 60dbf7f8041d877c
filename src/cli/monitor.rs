//! `stack monitor` (hidden): the per-container monitor the daemon starts
//! for each container start; see `stack_engine::monitor`.

use stack_engine::monitor::{self, MonitorArgs};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct MonitorCommand {
    /// The daemon's state root
    #[arg(long)]
    root: PathBuf,
    /// The daemon's run directory
    #[arg(long)]
    run_dir: PathBuf,
    /// The container's id
    id: String,
}

/// Runs the monitor in this (single-threaded) process.
pub fn run(command: &MonitorCommand) -> ExitCode {
    let args = MonitorArgs {
        root: command.root.clone(),
        run_dir: command.run_dir.clone(),
        id: command.id.clone(),
    };
    match monitor::run(&args) {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
