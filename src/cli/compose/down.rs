//! `stack down`: stop the project's containers (dependents first, each
//! level at once), remove them and the project's networks, and with `-v`
//! its volumes; with `--rmi local|all` its images. With `-p NAME` and no
//! compose file, the project is what the engine has labelled with that
//! name, its services' dependencies read from their containers' labels.

use super::super::engine::with_client;
use super::progress::{sink, ProgressMode};
use super::{load_or_named, ProjectArgs};
use crate::orchestrator::execute::execute;
use crate::orchestrator::images::{remove_images, RemoveImages};
use crate::orchestrator::snapshot::{add_labelled_resources, add_labelled_services, observe};
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
    /// Remove images used by services: "local" only those built for the project, "all" every one
    #[arg(long, value_enum, value_name = "TYPE")]
    rmi: Option<Rmi>,
    /// How progress is shown
    #[arg(long, value_enum, default_value = "auto")]
    progress: ProgressMode,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Rmi {
    Local,
    All,
}

pub fn run(project: &ProjectArgs, args: DownArgs, env: &Environment) -> Result<ExitCode> {
    let (mut loaded, _, from_file) = load_or_named(project, env)?;
    let options = DownOptions {
        remove_volumes: args.volumes,
        // Without a file, every container of the project is one to remove.
        remove_orphans: args.remove_orphans || !from_file,
        timeout: args.timeout.map(Duration::from_secs),
        ..DownOptions::default()
    };
    let sink = sink(args.progress);
    with_client(env, |client| async move {
        if !from_file {
            loaded.graph = add_labelled_services(&client, &mut loaded.project).await?;
            add_labelled_resources(&client, &mut loaded.project).await?;
        }
        let observed = observe(&client, &loaded.project).await?;
        let plan = reconcile_down(&loaded.project, &loaded.graph, &observed, &options);
        for warning in plan.warnings() {
            eprintln!("warning: {warning}");
        }
        execute(&client, &loaded.project, &plan, sink.as_ref()).await?;
        if let Some(rmi) = args.rmi {
            let mode = match rmi {
                Rmi::Local => RemoveImages::Local,
                Rmi::All => RemoveImages::All,
            };
            remove_images(
                &client,
                &loaded.project,
                mode,
                options.remove_orphans,
                sink.as_ref(),
            )
            .await?;
        }
        Ok(ExitCode::SUCCESS)
    })
}
