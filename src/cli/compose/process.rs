//! `stack exec`, `pause`, `unpause`, `top`, `stats` and `wait`: the
//! processes of a project's service containers. `exec` picks the container
//! (`--index`), decides its streams as Compose does (`-i`, `-t`, `-T`) and
//! hands over to `stack container exec`, which owns the terminal; `stats`
//! hands the running containers to `stack container stats`.

use super::super::container::{self, ContainerCommand};
use super::super::engine::with_client;
use super::progress::{sink, ProgressMode};
use super::terminal::{Streams, TerminalArgs, Terminals};
use super::{check_services, load, ProjectArgs};
use crate::orchestrator::api_message;
use crate::orchestrator::execute::execute;
use crate::orchestrator::snapshot::observe;
use crate::orchestrator::snapshot::project_containers;
use crate::orchestrator::{reconcile_down, DownOptions};
use anyhow::{anyhow, bail, Result};
use bollard::models::ContainerSummary;
use bollard::query_parameters::{TopOptions, WaitContainerOptions};
use clap::{FromArgMatches, Subcommand};
use futures_util::future::join_all;
use futures_util::stream::{FuturesUnordered, StreamExt};
use stack_compose::env::Environment;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ExecArgs {
    /// Detached mode: run the command in the background
    #[arg(short, long)]
    detach: bool,
    #[command(flatten)]
    terminal: TerminalArgs,
    /// Set an environment variable (KEY=VALUE); repeatable
    #[arg(short = 'e', long = "env")]
    env: Vec<String>,
    /// Run as this user
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// Give extended privileges to the process
    #[arg(long)]
    privileged: bool,
    /// Index of the container if the service has several replicas
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// The service
    service: String,
    /// The command and its arguments
    #[arg(required = true, trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct WaitArgs {
    /// Take the project down (as `down`) once the first container stops
    #[arg(long)]
    down_project: bool,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct StatsArgs {
    /// Disable streaming stats and only pull the first result
    #[arg(long)]
    no_stream: bool,
    /// Services (default: all)
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct ServiceList {
    /// Services (default: all)
    services: Vec<String>,
}

/// The service containers (not one-off ones) of `services` (all when
/// empty), sorted by name.
async fn containers(
    client: &bollard::Docker,
    project: &str,
    services: &[String],
) -> Result<Vec<ContainerSummary>> {
    let mut list: Vec<ContainerSummary> = project_containers(client, project)
        .await?
        .into_iter()
        .filter(|c| {
            let labels = c.labels.clone().unwrap_or_default();
            let service = labels
                .get("com.docker.compose.service")
                .cloned()
                .unwrap_or_default();
            labels.get("com.docker.compose.oneoff").map(String::as_str) != Some("True")
                && (services.is_empty() || services.contains(&service))
        })
        .collect();
    list.sort_by_key(name);
    Ok(list)
}

fn name(c: &ContainerSummary) -> String {
    c.names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_owned())
        .unwrap_or_default()
}

fn label(c: &ContainerSummary, key: &str) -> Option<String> {
    c.labels.as_ref().and_then(|l| l.get(key)).cloned()
}

/// The `stack container exec` arguments for `args` in container `id`,
/// with `streams` (none when detached).
fn container_exec_args(args: &ExecArgs, id: &str, streams: Streams) -> Vec<String> {
    let mut out = vec!["exec".to_owned()];
    if args.detach {
        out.push("--detach".to_owned());
    }
    if streams.stdin {
        out.push("--interactive".to_owned());
    }
    if streams.tty {
        out.push("--tty".to_owned());
    }
    for e in &args.env {
        out.extend(["--env".to_owned(), e.clone()]);
    }
    if let Some(user) = &args.user {
        out.extend(["--user".to_owned(), user.clone()]);
    }
    if let Some(dir) = &args.workdir {
        out.extend(["--workdir".to_owned(), dir.clone()]);
    }
    if args.privileged {
        out.push("--privileged".to_owned());
    }
    out.push(id.to_owned());
    out.extend(args.command.iter().cloned());
    out
}

pub fn exec(project: &ProjectArgs, args: ExecArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, std::slice::from_ref(&args.service))?;
    let name = loaded.project.name.clone();
    let service = args.service.clone();
    let index = args.index.to_string();
    let id = with_client(env, |client| async move {
        let list = containers(&client, &name, std::slice::from_ref(&service)).await?;
        list.into_iter()
            .find(|c| {
                label(c, "com.docker.compose.container-number").as_deref() == Some(index.as_str())
                    && c.state.is_some_and(|s| s.to_string() == "running")
            })
            .and_then(|c| c.id)
            .ok_or_else(|| {
                anyhow!(
                    "service \"{service}\" has no running container number {index} \
                     (start it with `stack up -d {service}`)"
                )
            })
    })?;
    let streams = args.terminal.for_exec(args.detach, Terminals::here());
    let argv = container_exec_args(&args, &id, streams);
    let command = ContainerCommand::augment_subcommands(clap::Command::new("container"));
    let matches = command
        .try_get_matches_from(std::iter::once("container".to_owned()).chain(argv))
        .map_err(|e| anyhow!("stack container exec: {e}"))?;
    let command = ContainerCommand::from_arg_matches(&matches)
        .map_err(|e| anyhow!("stack container exec: {e}"))?;
    container::run(command, env)
}

/// `pause`, or with `resume` set, `unpause`.
pub fn pause(
    project: &ProjectArgs,
    args: ServiceList,
    env: &Environment,
    resume: bool,
) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, &args.services)?;
    let project_name = loaded.project.name.clone();
    with_client(env, |client| async move {
        let list = containers(&client, &project_name, &args.services).await?;
        let client = &client;
        let results = join_all(list.iter().map(|c| async move {
            let id = c.id.clone().unwrap_or_default();
            let (state, verb) = if resume {
                ("paused", "Unpausing")
            } else {
                ("running", "Pausing")
            };
            if c.state.is_none_or(|s| s.to_string() != state) {
                return Ok(());
            }
            eprintln!(" Container {}  {verb}", name(c));
            let result = if resume {
                client.unpause_container(&id).await
            } else {
                client.pause_container(&id).await
            };
            result.map_err(|e| format!("container {}: {}", name(c), api_message(&e)))
        }))
        .await;
        let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
        if failures.is_empty() {
            Ok(ExitCode::SUCCESS)
        } else {
            bail!("{}", failures.join("\n"))
        }
    })
}

pub fn top(project: &ProjectArgs, args: ServiceList, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, &args.services)?;
    let project_name = loaded.project.name.clone();
    with_client(env, |client| async move {
        let list = containers(&client, &project_name, &args.services).await?;
        let mut out = std::io::stdout().lock();
        for c in list
            .iter()
            .filter(|c| c.state.is_some_and(|s| s.to_string() == "running"))
        {
            let id = c.id.clone().unwrap_or_default();
            let top = client
                .top_processes(&id, None::<TopOptions>)
                .await
                .map_err(|e| anyhow!("container {}: {}", name(c), api_message(&e)))?;
            let titles = top.titles.unwrap_or_default();
            let rows = top.processes.unwrap_or_default();
            writeln!(out, "{}", name(c))?;
            write!(out, "{}", table(&titles, &rows))?;
            writeln!(out)?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn stats(project: &ProjectArgs, args: StatsArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, &args.services)?;
    let project_name = loaded.project.name.clone();
    let services = args.services.clone();
    let running = with_client(env, |client| async move {
        let list = containers(&client, &project_name, &services).await?;
        Ok(list
            .iter()
            .filter(|c| c.state.is_some_and(|s| s.to_string() == "running"))
            .map(name)
            .collect::<Vec<String>>())
    })?;
    if running.is_empty() {
        bail!("no container of the project is running (start them with `stack up -d`)");
    }
    container::run(
        ContainerCommand::Stats {
            no_stream: args.no_stream,
            containers: running,
        },
        env,
    )
}

/// Blocks until the services' containers stop; the exit code is the first
/// one's to stop.
pub fn wait(project: &ProjectArgs, args: WaitArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, &args.services)?;
    let project_name = loaded.project.name.clone();
    with_client(env, |client| async move {
        let list = containers(&client, &project_name, &args.services).await?;
        let client_ref = &client;
        let mut waits: FuturesUnordered<_> = list
            .iter()
            .filter_map(|c| c.id.clone())
            .map(|id| async move {
                let options = WaitContainerOptions {
                    condition: "not-running".to_owned(),
                };
                match client_ref.wait_container(&id, Some(options)).next().await {
                    Some(Ok(response)) => response.status_code,
                    // bollard reports a non-zero exit code as an error.
                    Some(Err(bollard::errors::Error::DockerContainerWaitError {
                        code, ..
                    })) => code,
                    _ => -1,
                }
            })
            .collect();
        let first = waits.next().await.unwrap_or(0);
        if args.down_project {
            drop(waits);
            let observed = observe(&client, &loaded.project).await?;
            let plan = reconcile_down(
                &loaded.project,
                &loaded.graph,
                &observed,
                &DownOptions::default(),
            );
            let sink = sink(ProgressMode::Plain);
            execute(&client, &loaded.project, &plan, sink.as_ref()).await?;
        } else {
            while waits.next().await.is_some() {}
        }
        Ok(ExitCode::from(first.clamp(0, 255) as u8))
    })
}

/// Columns padded to their widest cell, three spaces apart (as `ps` and
/// `top` print them).
pub(super) fn table(titles: &[String], rows: &[Vec<String>]) -> String {
    let widths: Vec<usize> = (0..titles.len())
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .chain(std::iter::once(&titles[i]))
                .map(|cell| cell.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in std::iter::once(titles).chain(rows.iter().map(Vec::as_slice)) {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("   ").trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Wrapper {
        #[command(flatten)]
        exec: ExecArgs,
    }

    #[test]
    fn exec_hands_over_to_container_exec() {
        let args = Wrapper::parse_from(["x", "-e", "A=1", "-u", "nobody", "web", "ls", "-l"]).exec;
        let terminal = Terminals {
            stdin: true,
            stdout: true,
        };
        let streams = args.terminal.for_exec(args.detach, terminal);
        assert_eq!(
            container_exec_args(&args, "c0ffee", streams),
            [
                "exec",
                "--interactive",
                "--tty",
                "--env",
                "A=1",
                "--user",
                "nobody",
                "c0ffee",
                "ls",
                "-l"
            ]
        );
        let detached = Wrapper::parse_from(["x", "-d", "--privileged", "web", "true"]).exec;
        let streams = detached.terminal.for_exec(detached.detach, terminal);
        assert_eq!(
            container_exec_args(&detached, "c0ffee", streams),
            ["exec", "--detach", "--privileged", "c0ffee", "true"]
        );
        let piped = Wrapper::parse_from(["x", "-T", "web", "cat"]).exec;
        let streams = piped.terminal.for_exec(piped.detach, terminal);
        assert_eq!(
            container_exec_args(&piped, "c0ffee", streams),
            ["exec", "--interactive", "c0ffee", "cat"]
        );
    }

    #[test]
    fn top_table_is_aligned() {
        let titles = vec!["UID".to_owned(), "PID".to_owned(), "CMD".to_owned()];
        let rows = vec![vec![
            "root".to_owned(),
            "1".to_owned(),
            "sleep 9".to_owned(),
        ]];
        assert_eq!(
            table(&titles, &rows),
            "UID    PID   CMD\nroot   1     sleep 9\n"
        );
    }
}
