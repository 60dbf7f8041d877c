//! `stack daemon`: the engine, serving the Docker Engine API on a Unix socket.

use anyhow::{bail, Context, Result};
use stack_engine::daemon::{self, DaemonConfig};
use stack_engine::monitor;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct DaemonArgs {
    /// Where images, containers and volumes are kept
    #[arg(long, env = "STACK_ROOT", default_value = "/var/lib/stack")]
    root: PathBuf,
    /// Where the socket and other runtime files live
    #[arg(long, env = "STACK_RUN_DIR", default_value = "/run/stack")]
    run_dir: PathBuf,
    /// The socket to serve, as unix://PATH (default: RUN_DIR/stack.sock)
    #[arg(short = 'H', long)]
    host: Option<String>,
    /// The static init binary bound into containers run with --init
    /// (default: /usr/bin/tini-static or /usr/bin/docker-init)
    #[arg(long)]
    init_path: Option<PathBuf>,
    /// The per-container monitor executable (default: stack-monitor next
    /// to this executable)
    #[arg(long)]
    monitor_path: Option<PathBuf>,
    /// The nft program for the firewall rules (default: nft on PATH);
    /// where it cannot be run, iptables chains are used instead
    #[arg(long, env = "STACK_NFT")]
    nft_path: Option<PathBuf>,
}

pub fn run(args: &DaemonArgs) -> Result<ExitCode> {
    let mut config = DaemonConfig::new(&args.root, &args.run_dir);
    let monitor_exe = match &args.monitor_path {
        Some(path) => path.clone(),
        None => default_monitor_path()?,
    };
    // Serving images and volumes does not need it: say so, and go on.
    let checked = monitor::check_executable(&monitor_exe)
        .and_then(|()| monitor::watch::check_executable(&monitor_exe));
    match checked {
        Ok(()) => tracing::info!(path = %monitor_exe.display(), "container monitor"),
        Err(missing) => tracing::warn!("{missing}; containers cannot start"),
    }
    config.monitor_exe = Some(monitor_exe);
    config.init_path = args.init_path.clone();
    config.nft = args.nft_path.clone();
    if let Some(host) = &args.host {
        let Some(path) = host.strip_prefix("unix://") else {
            bail!("unsupported --host {host:?}: the daemon serves a Unix socket, write unix:///path/to/stack.sock");
        };
        config.socket = PathBuf::from(path);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let shutdown = daemon::termination_signal().context("installing the signal handlers")?;
        daemon::run(config, shutdown).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// `stack-monitor` in this executable's directory: both are built, and
/// installed, side by side.
fn default_monitor_path() -> Result<PathBuf> {
    let exe = std::env::current_exe().context("finding this executable's directory")?;
    Ok(exe.with_file_name(monitor::EXECUTABLE))
}
