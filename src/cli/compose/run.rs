//! `stack run SERVICE [COMMAND...]`: a one-off container of a service,
//! its dependencies brought up first (unless `--no-deps`); its output is
//! streamed and its exit code returned (or, with `-d`, its id printed).

use super::super::engine::with_client;
use super::progress::{sink, ProgressMode};
use super::up::converge;
use super::{check_services, load_for_create, ProjectArgs};
use crate::orchestrator::oneoff::{oneoff_body, Overrides};
use crate::orchestrator::waits::service_containers;
use crate::orchestrator::{api_message, ProjectLabels, UpOptions};
use anyhow::{anyhow, bail, Context, Result};
use bollard::container::LogOutput;
use bollard::query_parameters::{
    CreateContainerOptions, LogsOptions, RemoveContainerOptions, StartContainerOptions,
    StopContainerOptions, WaitContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use stack_compose::env::Environment;
use stack_compose::graph::ServiceGraph;
use stack_compose::model::{Mount, Port, Project};
use stack_compose::Loaded;
use std::collections::BTreeMap;
use std::io::Write;
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
    /// Disable pseudo-TTY allocation (stack never allocates one)
    #[arg(short = 'T', long = "no-TTY")]
    // Accepted as Compose accepts it; there is nothing to disable.
    #[allow(dead_code)]
    no_tty: bool,
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
        if let Err(e) = client
            .start_container(&id, None::<StartContainerOptions>)
            .await
        {
            if args.rm {
                remove(&client, &id).await;
            }
            bail!("starting container {name}: {}", api_message(&e));
        }
        if args.detach {
            println!("{name}");
            return Ok(ExitCode::SUCCESS);
        }
        let code = attach(&client, &id).await?;
        if args.rm {
            remove(&client, &id).await;
        }
        Ok(ExitCode::from(code.clamp(0, 255) as u8))
    })
}

/// Streams the container's output until it exits; its exit code. Ctrl-C
/// stops it (and is the exit code 130).
async fn attach(client: &Docker, id: &str) -> Result<i64> {
    let options = LogsOptions {
        follow: true,
        stdout: true,
        stderr: true,
        tail: "all".to_owned(),
        ..LogsOptions::default()
    };
    let mut logs = client.logs(id, Some(options));
    let mut interrupt = signal(SignalKind::interrupt()).context("listening for Ctrl-C")?;
    loop {
        tokio::select! {
            item = logs.next() => match item {
                Some(Ok(LogOutput::StdErr { message })) => {
                    let mut err = std::io::stderr().lock();
                    err.write_all(&message)?;
                    err.flush()?;
                }
                Some(Ok(other)) => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(other.as_ref())?;
                    out.flush()?;
                }
                Some(Err(_)) | None => break,
            },
            _ = interrupt.recv() => {
                if let Err(e) = client.stop_container(id, None::<StopContainerOptions>).await {
                    eprintln!("warning: container {id} was not stopped: {}", api_message(&e));
                }
                return Ok(130);
            }
        }
    }
    let options = WaitContainerOptions {
        condition: "not-running".to_owned(),
    };
    match client.wait_container(id, Some(options)).next().await {
        Some(Ok(response)) => Ok(response.status_code),
        Some(Err(bollard::errors::Error::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => bail!("waiting for the container: {}", api_message(&e)),
        None => bail!("the engine ended the wait without an exit code"),
    }
}

/// `--rm`: the container and its anonymous volumes; a failure is reported
/// and does not change the exit code (the command's own).
async fn remove(client: &Docker, id: &str) {
    let options = RemoveContainerOptions {
        v: true,
        force: true,
        link: false,
    };
    if let Err(e) = client.remove_container(id, Some(options)).await {
        eprintln!(
            "warning: --rm: container {id} was not removed ({}); remove it with `stack container rm -f {id}`",
            api_message(&e)
        );
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
