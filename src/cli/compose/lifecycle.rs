//! `stack start`, `stop`, `restart`, `kill` and `rm`: the project's
//! existing containers, service by service (each level of the dependency
//! graph at once: dependencies first when starting, dependents first when
//! stopping). `stop` and `restart` with `-p NAME` and no compose file act
//! on the services the engine labelled with that project name.

use super::super::engine::with_client;
use super::progress::{sink, ProgressMode};
use super::{check_services, load, load_or_named, ProjectArgs};
use crate::orchestrator::api_message;
use crate::orchestrator::execute::execute;
use crate::orchestrator::plan::{Action, Resource};
use crate::orchestrator::snapshot::{add_labelled_services, observe, project_containers};
use crate::orchestrator::{reconcile_down, DownOptions};
use anyhow::{bail, Result};
use bollard::models::ContainerSummary;
use bollard::query_parameters::{
    KillContainerOptions, RemoveContainerOptions, RestartContainerOptions, StartContainerOptions,
};
use bollard::Docker;
use futures_util::future::join_all;
use stack_compose::env::Environment;
use stack_compose::Loaded;
use std::process::ExitCode;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct ServicesArgs {
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StopArgs {
    /// Seconds to wait for each container to stop before killing it
    #[arg(short = 't', long)]
    timeout: Option<u64>,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct KillArgs {
    /// The signal to send
    #[arg(short, long, default_value = "SIGKILL")]
    signal: String,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct RmArgs {
    /// Don't announce the removal first (stack never asks to confirm)
    #[arg(short, long)]
    force: bool,
    /// Stop the containers first, if running
    #[arg(short, long)]
    stop: bool,
    /// Remove anonymous volumes attached to the containers
    #[arg(short, long)]
    volumes: bool,
    /// Services (default: all)
    services: Vec<String>,
}

/// The service containers (not one-off ones) of the named services (all
/// when none is named), grouped by `levels` of the dependency graph.
async fn by_level(
    client: &Docker,
    loaded: &Loaded,
    services: &[String],
    levels: Vec<Vec<&str>>,
) -> Result<Vec<Vec<ContainerSummary>>> {
    let all = project_containers(client, &loaded.project.name).await?;
    let service = |c: &ContainerSummary| {
        c.labels
            .as_ref()
            .and_then(|l| l.get("com.docker.compose.service"))
            .cloned()
            .unwrap_or_default()
    };
    let oneoff = |c: &ContainerSummary| {
        c.labels
            .as_ref()
            .and_then(|l| l.get("com.docker.compose.oneoff"))
            .is_some_and(|v| v == "True")
    };
    Ok(levels
        .into_iter()
        .map(|level| {
            all.iter()
                .filter(|c| !oneoff(c))
                .filter(|c| {
                    let s = service(c);
                    level.contains(&s.as_str()) && (services.is_empty() || services.contains(&s))
                })
                .cloned()
                .collect()
        })
        .collect())
}

fn name(c: &ContainerSummary) -> String {
    c.names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_owned())
        .unwrap_or_default()
}

fn is_running(c: &ContainerSummary) -> bool {
    c.state.is_some_and(|s| s.to_string() == "running")
}

/// Fails naming every container whose action failed.
fn report(failures: Vec<String>) -> Result<ExitCode> {
    if failures.is_empty() {
        Ok(ExitCode::SUCCESS)
    } else {
        bail!("{}", failures.join("\n"))
    }
}

/// Runs `act` on every container of each level, a level at once.
async fn each_level<F, Fut>(levels: Vec<Vec<ContainerSummary>>, act: F) -> Vec<String>
where
    F: Fn(ContainerSummary) -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let mut failures = Vec::new();
    for level in levels {
        let results = join_all(level.into_iter().map(|c| {
            let name = name(&c);
            let done = act(c);
            async move { done.await.map_err(|e| format!("container {name}: {e}")) }
        }))
        .await;
        failures.extend(results.into_iter().filter_map(Result::err));
    }
    failures
}

pub fn start(project: &ProjectArgs, args: ServicesArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, &args.services)?;
    with_client(env, |client| async move {
        let levels = by_level(
            &client,
            &loaded,
            &args.services,
            loaded.graph.start_levels(),
        )
        .await?;
        let client = &client;
        let failures = each_level(levels, |c| async move {
            if is_running(&c) {
                return Ok(());
            }
            let id = c.id.clone().unwrap_or_default();
            eprintln!(" Container {}  Starting", name(&c));
            client
                .start_container(&id, None::<StartContainerOptions>)
                .await
                .map_err(|e| api_message(&e))
        })
        .await;
        report(failures)
    })
}

/// `stop`, or with `restart` set, `restart`.
pub fn stop(
    project: &ProjectArgs,
    args: StopArgs,
    env: &Environment,
    restart: bool,
) -> Result<ExitCode> {
    let (mut loaded, _, from_file) = load_or_named(project, env)?;
    let timeout = args.timeout.map(Duration::from_secs);
    with_client(env, |client| async move {
        // Without a file, the services are those the engine labelled.
        if !from_file {
            loaded.graph = add_labelled_services(&client, &mut loaded.project).await?;
        }
        check_services(&loaded, &args.services)?;
        if restart {
            let levels = by_level(
                &client,
                &loaded,
                &args.services,
                loaded.graph.start_levels(),
            )
            .await?;
            let client = &client;
            let failures = each_level(levels, |c| async move {
                let id = c.id.clone().unwrap_or_default();
                eprintln!(" Container {}  Restarting", name(&c));
                let options = RestartContainerOptions {
                    t: timeout.map(|t| t.as_secs() as i32),
                    signal: None,
                };
                client
                    .restart_container(&id, Some(options))
                    .await
                    .map_err(|e| api_message(&e))
            })
            .await;
            return report(failures);
        }
        let observed = observe(&client, &loaded.project).await?;
        let options = DownOptions {
            timeout,
            ..DownOptions::default()
        };
        let plan = reconcile_down(&loaded.project, &loaded.graph, &observed, &options).retain(
            |op| match (&op.action, &op.resource) {
                (Action::StopContainer { .. }, Resource::Container { service, .. }) => {
                    args.services.is_empty() || args.services.contains(service)
                }
                _ => false,
            },
        );
        let sink = sink(ProgressMode::Plain);
        execute(&client, &loaded.project, &plan, sink.as_ref()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn kill(project: &ProjectArgs, args: KillArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, &args.services)?;
    with_client(env, |client| async move {
        let all = loaded.project.services.keys().map(String::as_str).collect();
        let levels = by_level(&client, &loaded, &args.services, vec![all]).await?;
        let (client, signal) = (&client, &args.signal);
        let failures = each_level(levels, |c| async move {
            if !is_running(&c) {
                return Ok(());
            }
            let id = c.id.clone().unwrap_or_default();
            eprintln!(" Container {}  Killing", name(&c));
            let options = KillContainerOptions {
                signal: signal.clone(),
            };
            client
                .kill_container(&id, Some(options))
                .await
                .map_err(|e| api_message(&e))
        })
        .await;
        report(failures)
    })
}

pub fn rm(project: &ProjectArgs, args: RmArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, &args.services)?;
    with_client(env, |client| async move {
        let levels = by_level(&client, &loaded, &args.services, loaded.graph.stop_levels()).await?;
        let (client, stop, volumes) = (&client, args.stop, args.volumes);
        if !args.force {
            let names: Vec<String> = levels
                .iter()
                .flatten()
                .filter(|c| stop || !is_running(c))
                .map(name)
                .collect();
            if !names.is_empty() {
                eprintln!("Going to remove {}", names.join(", "));
            }
        }
        let failures = each_level(levels, |c| async move {
            if is_running(&c) && !stop {
                return Ok(());
            }
            let id = c.id.clone().unwrap_or_default();
            eprintln!(" Container {}  Removing", name(&c));
            let options = RemoveContainerOptions {
                v: volumes,
                force: stop,
                link: false,
            };
            client
                .remove_container(&id, Some(options))
                .await
                .map_err(|e| api_message(&e))
        })
        .await;
        report(failures)
    })
}
