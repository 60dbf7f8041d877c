//! `stack daemon`: the engine, serving the Docker Engine API on a Unix socket.

use anyhow::{bail, Context, Result};
use stack_engine::daemon::{self, DaemonConfig};
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
}

pub fn run(args: &DaemonArgs) -> Result<ExitCode> {
    let mut config = DaemonConfig::new(&args.root, &args.run_dir);
    // Containers' monitors are this binary, re-executed as `stack monitor`.
    config.monitor_exe = Some(
        std::env::current_exe().context("finding this executable for the container monitors")?,
    );
    config.init_path = args.init_path.clone();
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
