//! `stack run SERVICE [COMMAND...]`: a one-off container of a service,
//! its dependencies brought up first (unless `--no-deps`); in the
//! foreground its streams are relayed as `docker compose run` relays them
//! (a TTY on a terminal, stdin forwarded) and its exit code returned; with
//! `-d`, its name printed.

use super::super::container::{run_attached, Session};
use super::super::engine::with_client;
use super::progress::{sink, ProgressMode};
use super::terminal::{TerminalArgs, Terminals};
use super::up::converge;
use super::{check_services, load_for_create, ProjectArgs};
use crate::orchestrator::oneoff::{oneoff_body, Overrides};
use crate::orchestrator::waits::service_containers;
use crate::orchestrator::{api_message, ProjectLabels, UpOptions};
use anyhow::{anyhow, bail, Context, Result};
use bollard::query_parameters::{
    CreateContainerOptions, StartContainerOptions, StopContainerOptions, WaitContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use stack_compose::env::Environment;
use stack_compose::graph::ServiceGraph;
use stack_compose::model::{Mount, Port, Project};
use stack_compose::Loaded;
use std::collections::BTreeMap;
use std::process::ExitCode;
use tokio::signal::unix::{signal, SignalKind};

#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Run the container in the background and print its id
    #[arg(short, long)]
    detach: bool,
    /// Remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Override the entrypoint of the image
    #[arg(long)]
    entrypoint: Option<String>,
    /// Set an environment variable (KEY=VALUE, or KEY to take it from here)
    #[arg(short = 'e', long = "env")]
    env: Vec<String>,
    /// Add or override a label (KEY=VALUE)
    #[arg(short = 'l', long = "label")]
    labels: Vec<String>,
    /// Run as this user
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// Run with the service's ports published to the host
    #[arg(short = 'P', long)]
    service_ports: bool,
    /// Publish a container's port(s) to the host ([IP:][HOST:]CONTAINER[/PROTOCOL]); repeatable
    #[arg(short = 'p', long)]
    publish: Vec<String>,
    /// Bind mount a volume ([SOURCE:]TARGET[:OPTIONS]); repeatable
    #[arg(short = 'v', long = "volume")]
    volumes: Vec<String>,
    /// Don't start linked services
    #[arg(long)]
    no_deps: bool,
    #[command(flatten)]
    terminal: TerminalArgs,
    /// The service
    service: String,
    /// The command and its arguments (default: the service's)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

/// `KEY=VALUE` pairs; a bare `KEY` takes its value from `env` (and is
/// dropped when unset there, as Docker does).
fn pairs(items: &[String], env: Option<&Environment>, flag: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    for item in items {
        match (item.split_once('='), env) {
            (Some((k, v)), _) => out.push((k.to_owned(), v.to_owned())),
            (None, Some(env)) => {
                if let Some(v) = env.get(item) {
                    out.push((item.clone(), v.to_owned()));
                }
            }
            (None, None) => bail!("invalid {flag} {item:?}: write KEY=VALUE"),
        }
    }
    Ok(out)
}

/// `-p` specs as ports, each error naming its flag value.
fn publish(specs: &[String]) -> Result<Vec<Port>> {
    let mut out = Vec::new();
    for spec in specs {
        out.extend(stack_compose::flags::ports(spec).map_err(|e| anyhow!("-p {spec}: {e}"))?);
    }
    Ok(out)
}

/// `-v` specs as mounts, relative bind sources taken from the current
/// directory.
fn volumes(specs: &[String], env: &Environment) -> Result<Vec<Mount>> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    specs
        .iter()
        .map(|spec| {
            stack_compose::flags::mount(spec, &cwd, env.get("HOME"))
                .map_err(|e| anyhow!("-v {spec}: {e}"))
        })
        .collect()
}

/// The project with its networks and volumes and no service, and the
/// `up` options that create just those, leaving every service's
/// containers alone.
fn resources_only(loaded: &Loaded, origin: &ProjectLabels) -> Result<(Loaded, UpOptions)> {
    let project = Project {
        services: Default::default(),
        ..loaded.project.clone()
    };
    let graph = ServiceGraph::from_project(&project)
        .map_err(|_| anyhow!("project {} without services has no graph", project.name))?;
    let options = UpOptions {
        disabled_services: loaded.project.services.keys().cloned().collect(),
        labels: origin.clone(),
        ..UpOptions::default()
    };
    let resources = Loaded {
        project,
        all_profiles: Vec::new(),
        graph,
        warnings: Vec::new(),
        environment: loaded.environment.clone(),
    };
    Ok((resources, options))
}

/// A short random-looking suffix for the container name.
fn suffix() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    let mixed = (nanos as u64) ^ (u64::from(std::process::id()) << 40);
    format!("{mixed:012x}").chars().rev().take(12).collect()
}

pub fn run(project: &ProjectArgs, args: RunArgs, env: &Environment) -> Result<ExitCode> {
    // Compose's words, checked before anything is loaded, as Compose does.
    if args.service_ports && !args.publish.is_empty() {
        bail!("--service-ports and --publish are incompatible");
    }
    let streams = args.terminal.for_run(args.detach, Terminals::here())?;
    let (loaded, origin) = load_for_create(project, env)?;
    check_services(&loaded, std::slice::from_ref(&args.service))?;
    let overrides = Overrides {
        command: args.command.clone(),
        entrypoint: args.entrypoint.clone(),
        environment: pairs(&args.env, Some(env), "-e")?,
        user: args.user.clone(),
        workdir: args.workdir.clone(),
        labels: pairs(&args.labels, None, "-l")?,
        service_ports: args.service_ports,
        publish: publish(&args.publish)?,
        volumes: volumes(&args.volumes, env)?,
        name: args.name.clone(),
        suffix: suffix(),
        stdin: streams.stdin,
        tty: streams.tty,
        auto_remove: args.rm,
    };
    with_client(env, |client| async move {
        let dependencies: Vec<String> = loaded
            .graph
            .dependencies(&args.service)
            .unwrap_or_default()
            .into_iter()
            .map(|(name, _)| name.to_owned())
            .collect();
        let sink = sink(ProgressMode::Plain);
        if !args.no_deps && !dependencies.is_empty() {
            let options = UpOptions {
                services: dependencies.clone(),
                labels: origin.clone(),
                ..UpOptions::default()
            };
            converge(&client, &loaded, &options, sink.as_ref()).await?;
        } else {
            // The one-off container joins the project's networks and
            // volumes even when no dependency has brought them up.
            let (resources, options) = resources_only(&loaded, &origin)?;
            converge(&client, &resources, &options, sink.as_ref()).await?;
        }
        let project = &loaded.project;
        let spec = &project.services[&args.service];
        let reference = spec
            .image
            .clone()
            .unwrap_or_else(|| format!("{}-{}", project.name, args.service));
        let image = client.inspect_image(&reference).await.map_err(|e| {
            anyhow!(
                "service \"{}\" uses image \"{reference}\": {}",
                args.service,
                api_message(&e)
            )
        })?;
        // Namespaces and volumes shared with a dependency: its first container.
        let mut shares = BTreeMap::new();
        for dependency in &dependencies {
            if let Ok(ids) = service_containers(&client, &project.name, dependency).await {
                if let Some(id) = ids.into_iter().next() {
                    shares.insert(dependency.clone(), id);
                }
            }
        }
        let image_id = image.id.unwrap_or_default();
        let (name, body) = oneoff_body(
            project,
            &args.service,
            &image_id,
            &overrides,
            &origin,
            &shares,
        )
        .context("hashing the service configuration")?;
        let options = CreateContainerOptions {
            name: Some(name.clone()),
            platform: String::new(),
        };
        let id = client
            .create_container(Some(options), body)
            .await
            .map_err(|e| anyhow!("creating container {name}: {}", api_message(&e)))?
            .id;
        if args.detach {
            // With `--rm`, the engine removes a container that cannot start.
            client
                .start_container(&id, None::<StartContainerOptions>)
                .await
                .map_err(|e| anyhow!("starting container {name}: {}", api_message(&e)))?;
            println!("{name}");
            return Ok(ExitCode::SUCCESS);
        }
        let session = Session {
            id: &id,
            interactive: streams.stdin,
            tty: streams.tty,
            detach_keys: None,
        };
        foreground(&client, session, args.rm).await
    })
}

/// The one-off container in the foreground: started and its streams
/// relayed (this terminal raw on its TTY, or stdin piped to it) until it
/// exits, with its exit code, or the user detaches with ctrl-p ctrl-q,
/// leaving it running. Ctrl-C, when it reaches this process rather than
/// the container's TTY, stops the container: exit code 130.
async fn foreground(client: &Docker, session: Session<'_>, auto_removed: bool) -> Result<ExitCode> {
    let id = session.id.to_owned();
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
    tokio::select! {
        ended = run_attached(client, session, auto_removed) => ended,
        _ = interrupt.recv() => {
            if let Err(e) = client.stop_container(&id, None::<StopContainerOptions>).await {
                eprintln!("warning: container {id} was not stopped: {}", api_message(&e));
            }
            if auto_removed {
                let options = WaitContainerOptions {
                    condition: "removed".to_owned(),
                };
                // Gone already when the wait finds no container.
                let _ = client.wait_container(&id, Some(options)).next().await;
            }
            Ok(ExitCode::from(130))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_pairs_take_bare_keys_from_here() {
        let env: Environment = [("HOME".to_owned(), "/root".to_owned())]
            .into_iter()
            .collect();
        let items = ["A=1".to_owned(), "HOME".to_owned(), "UNSET".to_owned()];
        let got = pairs(&items, Some(&env), "-e").expect("pairs");
        assert_eq!(
            got,
            [
                ("A".to_owned(), "1".to_owned()),
                ("HOME".to_owned(), "/root".to_owned())
            ]
        );
        assert!(pairs(&["bare".to_owned()], None, "-l").is_err());
        assert_eq!(suffix().len(), 12);
    }
}
