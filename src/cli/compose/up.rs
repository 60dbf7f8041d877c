//! `stack up`: observe, plan, check, run the plan; then, unless `-d`,
//! stream every container's logs until they all exit or Ctrl-C stops the
//! stack (a second Ctrl-C kills it).

use super::super::engine::with_client;
use super::image_sources::{self, ImageFlags};
use super::logs::{display_name, PrefixStyle, Printer};
use super::progress::{sink, ProgressMode};
use super::{load_for_create, ProjectArgs};
use crate::orchestrator::execute::execute;
use crate::orchestrator::plan::Action;
use crate::orchestrator::ports::{busy, published_ports};
use crate::orchestrator::progress::Sink;
use crate::orchestrator::snapshot::{observe, project_containers};
use crate::orchestrator::waits::{wait_running, WaitError};
use crate::orchestrator::{reconcile, reconcile_down, DownOptions, Recreate, UpOptions};
use anyhow::{anyhow, bail, Context, Result};
use bollard::models::ContainerSummary;
use bollard::query_parameters::{KillContainerOptions, LogsOptions, WaitContainerOptions};
use bollard::Docker;
use futures_util::stream::{FuturesUnordered, StreamExt};
use stack_compose::env::Environment;
use stack_compose::Loaded;
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;
use tokio::signal::unix::{signal, SignalKind};

#[derive(Debug, clap::Args)]
pub struct UpArgs {
    /// Detached mode: run containers in the background
    #[arg(short, long)]
    detach: bool,
    /// Wait for services to be running and healthy (implies --detach)
    #[arg(long)]
    wait: bool,
    /// Maximum seconds to wait with --wait
    #[arg(long, value_name = "SECONDS")]
    wait_timeout: Option<u64>,
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long, conflicts_with = "no_recreate")]
    force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long)]
    no_recreate: bool,
    /// Recreate dependent containers too
    #[arg(long)]
    always_recreate_deps: bool,
    /// Don't start linked services
    #[arg(long)]
    no_deps: bool,
    /// Don't start the services after creating them
    #[arg(long)]
    no_start: bool,
    /// Remove containers for services not defined in the compose file
    #[arg(long)]
    remove_orphans: bool,
    /// Scale SERVICE to NUM instances (overrides `scale` in the file)
    #[arg(long, value_name = "SERVICE=NUM")]
    scale: Vec<String>,
    /// Seconds to wait for containers to stop when recreating or stopping
    #[arg(short = 't', long)]
    timeout: Option<u64>,
    /// Stop all containers if any container was stopped
    #[arg(long)]
    abort_on_container_exit: bool,
    /// Return the exit code of the selected service container (implies --abort-on-container-exit)
    #[arg(long, value_name = "SERVICE")]
    exit_code_from: Option<String>,
    /// Restrict attaching to these services (repeatable)
    #[arg(long, value_name = "SERVICE")]
    attach: Vec<String>,
    /// Don't attach to these services (repeatable)
    #[arg(long, value_name = "SERVICE")]
    no_attach: Vec<String>,
    /// Don't print a prefix in logs
    #[arg(long)]
    no_log_prefix: bool,
    /// Produce monochrome output
    #[arg(long)]
    no_color: bool,
    /// Show timestamps
    #[arg(long)]
    timestamps: bool,
    #[command(flatten)]
    images: ImageFlags,
    /// How progress is shown
    #[arg(long, value_enum, default_value = "auto")]
    progress: ProgressMode,
    /// Services to start (default: all)
    services: Vec<String>,
}

#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Recreate containers even if their configuration and image haven't changed
    #[arg(long, conflicts_with = "no_recreate")]
    force_recreate: bool,
    /// If containers already exist, don't recreate them
    #[arg(long)]
    no_recreate: bool,
    /// Remove containers for services not defined in the compose file
    #[arg(long)]
    remove_orphans: bool,
    /// Scale SERVICE to NUM instances (overrides `scale` in the file)
    #[arg(long, value_name = "SERVICE=NUM")]
    scale: Vec<String>,
    #[command(flatten)]
    images: ImageFlags,
    /// How progress is shown
    #[arg(long, value_enum, default_value = "auto")]
    progress: ProgressMode,
    /// Services to create (default: all)
    services: Vec<String>,
}

/// `stack create`: `up --no-start`, with `create`'s own flags.
pub fn create(project: &ProjectArgs, args: CreateArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, origin) = load_for_create(project, env)?;
    check_image_sources(&args.images, &loaded, &args.services, false)?;
    let options = UpOptions {
        services: args.services.clone(),
        recreate: recreate_policy(args.force_recreate, args.no_recreate),
        remove_orphans: args.remove_orphans,
        scale: parse_scale(&args.scale)?,
        start: false,
        labels: origin,
        ..UpOptions::default()
    };
    let sink = sink(args.progress);
    with_client(env, |client| async move {
        converge(&client, &loaded, &options, sink.as_ref()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

fn recreate_policy(force: bool, never: bool) -> Recreate {
    if force {
        Recreate::Force
    } else if never {
        Recreate::Never
    } else {
        Recreate::Diverged
    }
}

/// `SERVICE=NUM` pairs.
fn parse_scale(pairs: &[String]) -> Result<BTreeMap<String, u32>> {
    pairs
        .iter()
        .map(|pair| {
            let (service, number) = pair.split_once('=').ok_or_else(|| {
                anyhow!("invalid --scale {pair:?}: write SERVICE=NUM, e.g. web=3")
            })?;
            let number = number.parse::<u32>().map_err(|_| {
                anyhow!("invalid --scale {pair:?}: {number:?} is not a number of containers")
            })?;
            Ok((service.to_owned(), number))
        })
        .collect()
}

pub fn run(project: &ProjectArgs, args: UpArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, origin) = load_for_create(project, env)?;
    if let Some(service) = &args.exit_code_from {
        if !loaded.project.services.contains_key(service) {
            bail!("--exit-code-from {service}: no such service in the project");
        }
    }
    check_image_sources(&args.images, &loaded, &args.services, args.no_deps)?;
    let options = UpOptions {
        services: args.services.clone(),
        recreate: recreate_policy(args.force_recreate, args.no_recreate),
        recreate_dependencies: if args.always_recreate_deps {
            Recreate::Force
        } else {
            Recreate::Diverged
        },
        no_deps: args.no_deps,
        remove_orphans: args.remove_orphans,
        scale: parse_scale(&args.scale)?,
        timeout: args.timeout.map(Duration::from_secs),
        start: !args.no_start,
        labels: origin,
        ..UpOptions::default()
    };
    let sink = sink(args.progress);
    with_client(env, |client| async move {
        converge(&client, &loaded, &options, sink.as_ref()).await?;
        if args.no_start {
            return Ok(ExitCode::SUCCESS);
        }
        let services = scope(&loaded, &args.services, args.no_deps);
        if args.wait {
            wait_all(&client, &loaded.project.name, &services, args.wait_timeout).await?;
            return Ok(ExitCode::SUCCESS);
        }
        if args.detach {
            return Ok(ExitCode::SUCCESS);
        }
        foreground(&client, &loaded, &services, &args).await
    })
}

/// Refuses (nothing created yet) what `--build`, `--pull` and the files'
/// `pull_policy:` ask that the engine cannot do, and prints the warnings.
fn check_image_sources(
    flags: &ImageFlags,
    loaded: &Loaded,
    named: &[String],
    no_deps: bool,
) -> Result<()> {
    let services = scope(loaded, named, no_deps);
    match image_sources::check(flags, &loaded.project, &services) {
        Ok(warnings) => {
            for warning in warnings {
                eprintln!("warning: {warning}");
            }
            Ok(())
        }
        Err(refused) => bail!("{refused}\nnothing was created"),
    }
}

/// Plans and runs the `up`: every reason it cannot go ahead is reported
/// before anything is created.
pub(super) async fn converge(
    client: &Docker,
    loaded: &Loaded,
    options: &UpOptions,
    sink: &dyn Sink,
) -> Result<()> {
    let project = &loaded.project;
    let observed = observe(client, project).await?;
    let mut problems: Vec<String> = Vec::new();
    let plan = match reconcile(project, &loaded.graph, &observed, options) {
        Ok(plan) => Some(plan),
        Err(e) => {
            problems.extend(e.problems.iter().map(ToString::to_string));
            None
        }
    };
    let services = scope(loaded, &options.services, options.no_deps);
    problems.extend(busy(&published_ports(project, &services, &observed)));
    let plan = match plan {
        Some(plan) if problems.is_empty() => plan,
        _ => bail!("{}\nnothing was created", problems.join("\n")),
    };
    for warning in plan.warnings() {
        eprintln!("warning: {warning}");
    }
    execute(client, project, &plan, sink).await?;
    Ok(())
}

/// The services an `up` brings up: the named ones and (unless `no_deps`)
/// what they depend on, else all.
fn scope(loaded: &Loaded, named: &[String], no_deps: bool) -> Vec<String> {
    if named.is_empty() {
        return loaded.project.services.keys().cloned().collect();
    }
    if no_deps {
        return named.to_vec();
    }
    match loaded.graph.subgraph(named) {
        Ok(graph) => graph.services().map(str::to_owned).collect(),
        Err(_) => named.to_vec(),
    }
}

/// `--wait`: every service's containers running (and healthy when they
/// have a health check), within the timeout.
async fn wait_all(
    client: &Docker,
    project: &str,
    services: &[String],
    timeout: Option<u64>,
) -> Result<()> {
    let all = futures_util::future::join_all(
        services
            .iter()
            .map(|service| async move { (service, wait_running(client, project, service).await) }),
    );
    let results = match timeout {
        Some(seconds) => tokio::time::timeout(Duration::from_secs(seconds), all)
            .await
            .map_err(|_| {
                anyhow!("--wait: not every service was running and healthy after {seconds}s")
            })?,
        None => all.await,
    };
    let failed: Vec<String> = results
        .into_iter()
        .filter_map(|(service, result)| match result {
            Ok(()) => None,
            Err(WaitError::Engine(m) | WaitError::Condition(m)) => {
                Some(format!("service \"{service}\": {m}"))
            }
        })
        .collect();
    if failed.is_empty() {
        Ok(())
    } else {
        bail!("--wait: {}", failed.join("\n"))
    }
}

/// Streams the logs of the services' containers until they all exit (or
/// one does, with `--abort-on-container-exit`), or until Ctrl-C.
async fn foreground(
    client: &Docker,
    loaded: &Loaded,
    services: &[String],
    args: &UpArgs,
) -> Result<ExitCode> {
    let project = &loaded.project.name;
    let containers: Vec<ContainerSummary> = project_containers(client, project)
        .await?
        .into_iter()
        .filter(|c| {
            let labels = c.labels.clone().unwrap_or_default();
            let service = labels.get("com.docker.compose.service");
            labels.get("com.docker.compose.oneoff").map(String::as_str) != Some("True")
                && service.is_some_and(|s| services.contains(s) && attached(loaded, args, s))
        })
        .collect();
    let printer = Printer::new(
        &containers,
        PrefixStyle {
            prefix: !args.no_log_prefix,
            colour: !args.no_color && std::io::stdout().is_terminal(),
        },
    );
    let options = LogsOptions {
        follow: true,
        stdout: true,
        stderr: true,
        timestamps: args.timestamps,
        tail: "all".to_owned(),
        ..LogsOptions::default()
    };
    let mut running: FuturesUnordered<_> = containers
        .iter()
        .map(|c| {
            let printer = &printer;
            let options = options.clone();
            async move {
                printer.stream(client, c, options).await;
                let code = exit_code(client, c.id.as_deref().unwrap_or_default()).await;
                let name = display_name(c);
                printer.line("", &format!("{name} exited with code {code}"));
                (c, code)
            }
        })
        .collect();
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
    let mut terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let abort = args.abort_on_container_exit || args.exit_code_from.is_some();
    let mut exit_code: Option<i64> = None;
    let interrupted = loop {
        tokio::select! {
            next = running.next() => match next {
                None => break false,
                Some((c, code)) => {
                    let service = c.labels.as_ref().and_then(|l| l.get("com.docker.compose.service"));
                    let chosen = match &args.exit_code_from {
                        Some(from) => service == Some(from),
                        None => exit_code.is_none(),
                    };
                    if chosen {
                        exit_code = Some(code);
                    }
                    if abort {
                        eprintln!("Aborting on container exit...");
                        break false;
                    }
                }
            },
            _ = interrupt.recv() => break true,
            _ = terminate.recv() => break true,
        }
    };
    if interrupted {
        eprintln!("Gracefully stopping... (press Ctrl+C again to force)");
    }
    // The logs keep flowing while the containers stop: their last words
    // (and exit codes) are printed too.
    // Plain lines: a live view would redraw over the logs still printed.
    let plain = sink(ProgressMode::Plain);
    let stopping = stop_all(
        client,
        loaded,
        args.timeout.map(Duration::from_secs),
        plain.as_ref(),
    );
    tokio::pin!(stopping);
    loop {
        tokio::select! {
            result = &mut stopping => {
                result?;
                break;
            }
            Some(_) = running.next() => {}
            _ = interrupt.recv() => {
                kill_all(client, &containers).await;
                break;
            }
        }
    }
    let drained = async { while running.next().await.is_some() {} };
    // Streams of containers that have stopped end at once; do not hang on
    // one the engine keeps open.
    let _ = tokio::time::timeout(Duration::from_secs(2), drained).await;
    Ok(match (interrupted, exit_code) {
        (true, _) => ExitCode::from(130),
        (false, Some(code)) if abort => ExitCode::from(code.clamp(0, 255) as u8),
        (false, _) => ExitCode::SUCCESS,
    })
}

/// Whether foreground `up` shows the logs of `service`: `--attach` when
/// given, else the service's `attach:`, minus `--no-attach`.
fn attached(loaded: &Loaded, args: &UpArgs, service: &str) -> bool {
    let wanted = if args.attach.is_empty() {
        loaded
            .project
            .services
            .get(service)
            .is_none_or(|spec| spec.attach != Some(false))
    } else {
        args.attach.iter().any(|s| s == service)
    };
    wanted && !args.no_attach.iter().any(|s| s == service)
}

/// The exit code of a container that has ended (or ends now).
async fn exit_code(client: &Docker, id: &str) -> i64 {
    let options = WaitContainerOptions {
        condition: "not-running".to_owned(),
    };
    match client.wait_container(id, Some(options)).next().await {
        Some(Ok(response)) => response.status_code,
        // bollard reports a non-zero exit code as an error.
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => code,
        _ => -1,
    }
}

/// Stops every running container of the project, dependents first, each
/// level at once (the stops of a `down`, nothing removed).
pub(super) async fn stop_all(
    client: &Docker,
    loaded: &Loaded,
    timeout: Option<Duration>,
    sink: &dyn Sink,
) -> Result<()> {
    let project = &loaded.project;
    let observed = observe(client, project).await?;
    let options = DownOptions {
        timeout,
        ..DownOptions::default()
    };
    let plan = reconcile_down(project, &loaded.graph, &observed, &options)
        .retain(|op| matches!(op.action, Action::StopContainer { .. }));
    execute(client, project, &plan, sink).await?;
    Ok(())
}

/// The second Ctrl-C: SIGKILL to every container at once.
async fn kill_all(client: &Docker, containers: &[ContainerSummary]) {
    let kills = containers.iter().filter_map(|c| c.id.as_deref()).map(|id| {
        client.kill_container(
            id,
            Some(KillContainerOptions {
                signal: "SIGKILL".to_owned(),
            }),
        )
    });
    futures_util::future::join_all(kills).await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scale_pairs() {
        let scale = parse_scale(&["web=3".into(), "db=0".into()]).expect("scale");
        assert_eq!(scale["web"], 3);
        assert_eq!(scale["db"], 0);
        assert!(parse_scale(&["web".into()]).is_err());
        assert!(parse_scale(&["web=x".into()]).is_err());
    }
}
