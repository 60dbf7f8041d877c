//! `stack monitor` (hidden): the per-container monitor the daemon starts
//! for each container start, or with `--exec` the helper that runs one
//! process in a running container; see `stack_engine::monitor`.

use stack_engine::monitor::{self, exec::ExecRequest, MonitorArgs};
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
    /// Run this process (JSON) in the running container instead
    #[arg(long)]
    exec: Option<String>,
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
    if let Some(json) = &command.exec {
        let request: ExecRequest = match serde_json::from_str(json) {
            Ok(request) => request,
            Err(error) => {
                eprintln!("stack monitor --exec: invalid request: {error}");
                return ExitCode::from(monitor::exec::EXIT_CANNOT_RUN as u8);
            }
        };
        let code = monitor::exec::run(&args, &request);
        return ExitCode::from(u8::try_from(code).unwrap_or(u8::MAX));
    }
    match monitor::run(&args) {
        0 => ExitCode::SUCCESS,
        _ => ExitCode::FAILURE,
    }
}
