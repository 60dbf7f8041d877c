//! `stack down`: stop the project's containers (dependents first, each
//! level at once), remove them and the project's networks, and with `-v`
//! its volumes.

use super::super::engine::with_client;
use super::progress::{sink, ProgressMode};
use super::{load, ProjectArgs};
use crate::orchestrator::execute::execute;
use crate::orchestrator::snapshot::observe;
use crate::orchestrator::{reconcile_down, DownOptions};
use anyhow::Result;
use stack_compose::env::Environment;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct DownArgs {
    /// Remove named volumes declared in the "volumes" section and anonymous volumes
    #[arg(short, long)]
    volumes: bool,
    /// Remove containers for services not defined in the compose file
    #[arg(long)]
    remove_orphans: bool,
    /// Seconds to wait for each container to stop before killing it
    #[arg(short = 't', long)]
    timeout: Option<u64>,
    /// How progress is shown
    #[arg(long, value_enum, default_value = "auto")]
    progress: ProgressMode,
}

pub fn run(project: &ProjectArgs, args: DownArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    let options = DownOptions {
        remove_volumes: args.volumes,
        remove_orphans: args.remove_orphans,
        timeout: args.timeout.map(Duration::from_secs),
        ..DownOptions::default()
    };
    let sink = sink(args.progress);
    with_client(env, |client| async move {
        let observed = observe(&client, &loaded.project).await?;
        let plan = reconcile_down(&loaded.project, &loaded.graph, &observed, &options);
        for warning in plan.warnings() {
            eprintln!("warning: {warning}");
        }
        execute(&client, &loaded.project, &plan, sink.as_ref()).await?;
        Ok(ExitCode::SUCCESS)
    })
}
