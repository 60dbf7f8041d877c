//! `stack container`: containers on the engine, as `docker container`.

use super::engine::{self, api_message};
use anyhow::{anyhow, bail, Result};
use bollard::errors::Error as ApiError;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters::{
    CreateContainerOptions, InspectContainerOptions, KillContainerOptions, LogsOptions,
    RemoveContainerOptions, RenameContainerOptions, RestartContainerOptions, StartContainerOptions,
    StopContainerOptions, WaitContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use stack_compose::env::Environment;
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

mod attach;
mod flags;
mod net;
mod ops;
mod port;
mod ps;
mod resources;
mod run;
mod security;

// Compose's `run` relays its one-off container's streams the same way.
pub(super) use attach::Session;
pub(super) use run::run_attached;

#[derive(Debug, clap::Subcommand)]
pub enum ContainerCommand {
    /// Create and run a new container from an image
    Run(RunArgs),
    /// Create a new container
    Create(CreateArgs),
    /// Start one or more stopped containers
    Start(attach::StartArgs),
    /// Attach local standard input, output, and error streams to a running container
    Attach(attach::AttachArgs),
    /// Stop one or more running containers
    Stop {
        /// Seconds to wait before killing the container
        #[arg(short = 't', long = "timeout")]
        timeout: Option<i32>,
        /// Signal to send to the container
        #[arg(short, long)]
        signal: Option<String>,
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Restart one or more containers
    Restart {
        /// Seconds to wait before killing the container
        #[arg(short = 't', long = "timeout")]
        timeout: Option<i32>,
        /// Signal to send to the container
        #[arg(short, long)]
        signal: Option<String>,
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Kill one or more running containers
    Kill {
        /// Signal to send to the container
        #[arg(short, long, default_value = "KILL")]
        signal: String,
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Remove one or more containers
    #[command(alias = "remove")]
    Rm {
        /// Force the removal of a running container (uses SIGKILL)
        #[arg(short, long)]
        force: bool,
        /// Remove anonymous volumes associated with the container
        #[arg(short, long)]
        volumes: bool,
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// List containers
    #[command(alias = "ls", alias = "list")]
    Ps {
        /// Show all containers (default shows just running)
        #[arg(short, long)]
        all: bool,
        /// Only display container IDs
        #[arg(short, long)]
        quiet: bool,
        /// Filter output based on conditions provided (`label=k=v`, `name=x`, `status=exited`)
        #[arg(short, long = "filter")]
        filters: Vec<String>,
        /// Don't truncate output
        #[arg(long)]
        no_trunc: bool,
    },
    /// Fetch the logs of a container
    Logs {
        /// Follow log output
        #[arg(short, long)]
        follow: bool,
        /// Show timestamps
        #[arg(short, long)]
        timestamps: bool,
        /// Number of lines to show from the end of the logs
        #[arg(short = 'n', long, default_value = "all")]
        tail: String,
        container: String,
    },
    /// Display detailed information on one or more containers
    Inspect {
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// List port mappings or a specific mapping for the container
    Port {
        container: String,
        /// PORT[/PROTO]: print only this port's host addresses
        port: Option<String>,
    },
    /// Block until one or more containers stop, then print their exit codes
    Wait {
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Execute a command in a running container
    Exec(ops::ExecArgs),
    /// Rename a container
    Rename { container: String, new_name: String },
    /// Pause all processes within one or more containers
    Pause {
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Unpause all processes within one or more containers
    Unpause {
        #[arg(required = true)]
        containers: Vec<String>,
    },
    /// Display the running processes of a container
    Top {
        container: String,
        /// Options for ps (default -ef)
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        ps_args: Vec<String>,
    },
    /// Display a live stream of container(s) resource usage statistics
    Stats {
        /// Disable streaming stats and only pull the first result
        #[arg(long)]
        no_stream: bool,
        #[arg(required = true)]
        containers: Vec<String>,
    },
}

/// `run`'s own flags, and everything `create` takes.
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// Run container in background and print container ID
    #[arg(short, long)]
    detach: bool,
    /// Override the key sequence for detaching a container
    #[arg(long)]
    detach_keys: Option<String>,
    #[command(flatten)]
    create: CreateArgs,
}

/// The container's configuration, as `docker create` takes it.
#[derive(Debug, clap::Args)]
pub struct CreateArgs {
    /// Assign a name to the container
    #[arg(long)]
    name: Option<String>,
    /// Automatically remove the container when it exits
    #[arg(long)]
    rm: bool,
    /// Keep STDIN open even if not attached
    #[arg(short, long)]
    interactive: bool,
    /// Allocate a pseudo-TTY
    #[arg(short, long)]
    tty: bool,
    /// Set environment variables (KEY=VALUE, or KEY to take it from this environment)
    #[arg(short, long = "env")]
    env: Vec<String>,
    /// Bind mount a volume (SOURCE:TARGET[:ro], or TARGET for an anonymous volume)
    #[arg(short, long = "volume")]
    volumes: Vec<String>,
    /// Mount a tmpfs directory (PATH[:OPTIONS])
    #[arg(long)]
    tmpfs: Vec<String>,
    /// Mount volumes from the specified container(s) (CONTAINER[:ro|:rw])
    #[arg(long)]
    volumes_from: Vec<String>,
    /// Add link to another container (NAME[:ALIAS]; on a user-defined network)
    #[arg(long = "link")]
    links: Vec<String>,
    /// Memory limit (e.g. 64m, 1g)
    #[arg(short, long)]
    memory: Option<String>,
    /// Number of CPUs
    #[arg(long)]
    cpus: Option<f64>,
    /// Tune container pids limit (-1 for unlimited)
    #[arg(long)]
    pids_limit: Option<i64>,
    /// Overwrite the default ENTRYPOINT of the image
    #[arg(long)]
    entrypoint: Option<String>,
    /// Username or UID (format: <name|uid>[:<group|gid>])
    #[arg(short, long)]
    user: Option<String>,
    /// Working directory inside the container
    #[arg(short, long)]
    workdir: Option<String>,
    /// Container host name
    #[arg(long)]
    hostname: Option<String>,
    /// Set meta data on a container (KEY=VALUE)
    #[arg(short, long = "label")]
    labels: Vec<String>,
    /// Mount the container's root filesystem as read only
    #[arg(long)]
    read_only: bool,
    /// Add Linux capabilities
    #[arg(long)]
    cap_add: Vec<String>,
    /// Drop Linux capabilities
    #[arg(long)]
    cap_drop: Vec<String>,
    /// Give extended privileges to this container
    #[arg(long)]
    privileged: bool,
    /// Run an init inside the container that forwards signals and reaps processes
    #[arg(long)]
    init: bool,
    /// Signal to stop the container
    #[arg(long)]
    stop_signal: Option<String>,
    /// Timeout (in seconds) to stop a container
    #[arg(long)]
    stop_timeout: Option<i64>,
    #[command(flatten)]
    network: net::NetworkArgs,
    /// Restart policy to apply when a container exits (no, always, unless-stopped, on-failure[:N])
    #[arg(long)]
    restart: Option<String>,
    #[command(flatten)]
    health: flags::HealthArgs,
    #[command(flatten)]
    security: security::SecurityArgs,
    #[command(flatten)]
    resources: resources::ResourceArgs,
    /// Logging driver for the container (json-file or none)
    #[arg(long)]
    log_driver: Option<String>,
    /// Log driver options (max-size=SIZE, max-file=N)
    #[arg(long)]
    log_opt: Vec<String>,
    /// The image to run
    image: String,
    /// The command and its arguments
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    command: Vec<String>,
}

pub fn run(command: ContainerCommand, env: &Environment) -> Result<ExitCode> {
    engine::with_client(
        env,
        |client| async move { execute(&client, command, env).await },
    )
}

async fn execute(
    client: &Docker,
    command: ContainerCommand,
    env: &Environment,
) -> Result<ExitCode> {
    let mut failed = false;
    let mut each = |result: Result<(), ApiError>, reference: &str| match result {
        Ok(()) => println!("{reference}"),
        Err(e) => {
            eprintln!("Error response from daemon: {}", api_message(&e));
            failed = true;
        }
    };
    match command {
        ContainerCommand::Run(args) => return run::run_container(client, args, env).await,
        ContainerCommand::Create(args) => {
            let id = create(client, &args, env, false).await?;
            println!("{id}");
        }
        ContainerCommand::Start(args) if args.attaches() => {
            return attach::start_attached(client, args).await
        }
        ContainerCommand::Attach(args) => return attach::attach(client, args).await,
        ContainerCommand::Start(args) => {
            for c in &args.containers {
                each(
                    client
                        .start_container(c, None::<StartContainerOptions>)
                        .await,
                    c,
                );
            }
        }
        ContainerCommand::Stop {
            timeout,
            signal,
            containers,
        } => {
            for c in &containers {
                let options = StopContainerOptions {
                    t: timeout,
                    signal: signal.clone(),
                };
                each(client.stop_container(c, Some(options)).await, c);
            }
        }
        ContainerCommand::Restart {
            timeout,
            signal,
            containers,
        } => {
            for c in &containers {
                let options = RestartContainerOptions {
                    t: timeout,
                    signal: signal.clone(),
                };
                each(client.restart_container(c, Some(options)).await, c);
            }
        }
        ContainerCommand::Kill { signal, containers } => {
            for c in &containers {
                let options = KillContainerOptions {
                    signal: signal.clone(),
                };
                each(client.kill_container(c, Some(options)).await, c);
            }
        }
        ContainerCommand::Rm {
            force,
            volumes,
            containers,
        } => {
            for c in &containers {
                let options = RemoveContainerOptions {
                    force,
                    v: volumes,
                    link: false,
                };
                each(client.remove_container(c, Some(options)).await, c);
            }
        }
        ContainerCommand::Ps {
            all,
            quiet,
            filters,
            no_trunc,
        } => {
            ps::ps(client, all, quiet, &filters, no_trunc).await?;
        }
        ContainerCommand::Logs {
            follow,
            timestamps,
            tail,
            container,
        } => {
            logs(client, &container, follow, timestamps, &tail).await?;
        }
        ContainerCommand::Inspect { containers } => {
            let mut found = Vec::new();
            for c in &containers {
                match client
                    .inspect_container(c, None::<InspectContainerOptions>)
                    .await
                {
                    Ok(details) => found.push(details),
                    Err(e) => {
                        eprintln!("Error response from daemon: {}", api_message(&e));
                        failed = true;
                    }
                }
            }
            println!("{}", serde_json::to_string_pretty(&found)?);
        }
        ContainerCommand::Port { container, port } => {
            port::port(client, &container, port.as_deref()).await?;
        }
        ContainerCommand::Exec(args) => return ops::exec(client, args).await,
        ContainerCommand::Rename {
            container,
            new_name,
        } => {
            if container.trim().is_empty() || new_name.trim().is_empty() {
                bail!("Neither old nor new names may be empty");
            }
            let options = RenameContainerOptions {
                name: new_name.trim().to_owned(),
            };
            if let Err(e) = client.rename_container(container.trim(), options).await {
                eprintln!("Error response from daemon: {}", api_message(&e));
                failed = true;
            }
        }
        ContainerCommand::Pause { containers } => {
            for c in &containers {
                each(client.pause_container(c).await, c);
            }
        }
        ContainerCommand::Unpause { containers } => {
            for c in &containers {
                each(client.unpause_container(c).await, c);
            }
        }
        ContainerCommand::Top { container, ps_args } => {
            ops::top(client, &container, &ps_args).await?;
        }
        ContainerCommand::Stats {
            no_stream,
            containers,
        } => {
            ops::stats(client, &containers, no_stream).await?;
        }
        ContainerCommand::Wait { containers } => {
            for c in &containers {
                match wait(client, c).await {
                    Ok(code) => println!("{code}"),
                    Err(e) => {
                        eprintln!("Error response from daemon: {e:#}");
                        failed = true;
                    }
                }
            }
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

async fn create(
    client: &Docker,
    args: &CreateArgs,
    env: &Environment,
    auto_remove: bool,
) -> Result<String> {
    let env_entries = args
        .env
        .iter()
        .filter_map(|entry| match entry.split_once('=') {
            Some(_) => Some(entry.clone()),
            // `-e NAME` passes this environment's value, and nothing when unset.
            None => env.get(entry).map(|value| format!("{entry}={value}")),
        })
        .collect::<Vec<_>>();
    let mut tmpfs = HashMap::new();
    for entry in &args.tmpfs {
        let (path, options) = entry.split_once(':').unwrap_or((entry, ""));
        tmpfs.insert(path.to_owned(), options.to_owned());
    }
    let labels = args
        .labels
        .iter()
        .map(|l| {
            let (k, v) = l.split_once('=').unwrap_or((l, ""));
            (k.to_owned(), v.to_owned())
        })
        .collect::<HashMap<_, _>>();
    let memory = args
        .memory
        .as_deref()
        .map(|m| {
            parse_size(m)
                .ok_or_else(|| anyhow!("invalid --memory {m:?}: expected a size such as 64m or 1g"))
        })
        .transpose()?;
    let mut body = ContainerCreateBody {
        image: Some(args.image.clone()),
        cmd: (!args.command.is_empty()).then(|| args.command.clone()),
        entrypoint: args.entrypoint.as_ref().map(|e| {
            if e.is_empty() {
                Vec::new()
            } else {
                vec![e.clone()]
            }
        }),
        env: (!env_entries.is_empty()).then_some(env_entries),
        user: args.user.clone(),
        working_dir: args.workdir.clone(),
        hostname: args.hostname.clone(),
        labels: (!labels.is_empty()).then_some(labels),
        stop_signal: args.stop_signal.clone(),
        stop_timeout: args.stop_timeout,
        healthcheck: flags::healthcheck(&args.health)?,
        tty: Some(args.tty),
        open_stdin: Some(args.interactive),
        stdin_once: Some(args.interactive),
        attach_stdin: Some(args.interactive),
        host_config: Some(HostConfig {
            binds: (!args.volumes.is_empty()).then(|| args.volumes.clone()),
            tmpfs: (!tmpfs.is_empty()).then_some(tmpfs),
            volumes_from: (!args.volumes_from.is_empty()).then(|| args.volumes_from.clone()),
            links: (!args.links.is_empty()).then(|| args.links.clone()),
            memory,
            nano_cpus: args.cpus.map(|c| (c * 1e9) as i64),
            pids_limit: args.pids_limit,
            auto_remove: Some(auto_remove),
            readonly_rootfs: Some(args.read_only),
            cap_add: (!args.cap_add.is_empty()).then(|| args.cap_add.clone()),
            cap_drop: (!args.cap_drop.is_empty()).then(|| args.cap_drop.clone()),
            privileged: Some(args.privileged),
            init: args.init.then_some(true),
            restart_policy: flags::restart_policy(args.restart.as_deref())?,
            log_config: flags::log_config(args.log_driver.as_deref(), &args.log_opt)?,
            // The terminal starts with this one's size, as docker's does.
            console_size: ops::terminal_size()
                .filter(|_| args.tty)
                .map(|(rows, cols)| vec![usize::from(rows), usize::from(cols)]),
            ..HostConfig::default()
        }),
        ..ContainerCreateBody::default()
    };
    args.network.apply(&mut body)?;
    args.security.apply(&mut body)?;
    args.resources.apply(&mut body)?;
    let options = CreateContainerOptions {
        name: args.name.clone(),
        platform: String::new(),
    };
    let created = client
        .create_container(Some(options), body)
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    Ok(created.id)
}

/// Waits for the container to stop and returns its exit code.
async fn wait(client: &Docker, container: &str) -> Result<i64> {
    let options = WaitContainerOptions {
        condition: "not-running".into(),
    };
    let mut stream = client.wait_container(container, Some(options));
    match stream.next().await {
        Some(Ok(response)) => Ok(response.status_code),
        // bollard reports a non-zero exit code as an error.
        Some(Err(ApiError::DockerContainerWaitError { code, .. })) => Ok(code),
        Some(Err(e)) => Err(anyhow!("{}", api_message(&e))),
        None => bail!("the engine ended the wait without an exit code"),
    }
}

async fn logs(
    client: &Docker,
    container: &str,
    follow: bool,
    timestamps: bool,
    tail: &str,
) -> Result<()> {
    let options = LogsOptions {
        follow,
        stdout: true,
        stderr: true,
        timestamps,
        tail: tail.to_owned(),
        ..LogsOptions::default()
    };
    let mut stream = client.logs(container, Some(options));
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    while let Some(item) = stream.next().await {
        match item.map_err(|e| anyhow!("{}", api_message(&e)))? {
            bollard::container::LogOutput::StdErr { message } => {
                err.write_all(&message)?;
                err.flush()?;
            }
            other => {
                out.write_all(other.as_ref())?;
                out.flush()?;
            }
        }
    }
    Ok(())
}

/// `64m`, `1g`, `512k`, `1024`: bytes.
fn parse_size(text: &str) -> Option<i64> {
    let lower = text.trim().to_ascii_lowercase();
    let lower = lower.strip_suffix('b').unwrap_or(&lower);
    let (digits, multiplier) = match lower.chars().last()? {
        'k' => (&lower[..lower.len() - 1], 1i64 << 10),
        'm' => (&lower[..lower.len() - 1], 1 << 20),
        'g' => (&lower[..lower.len() - 1], 1 << 30),
        _ => (lower, 1),
    };
    digits.parse::<i64>().ok()?.checked_mul(multiplier)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64m"), Some(64 << 20));
        assert_eq!(parse_size("1g"), Some(1 << 30));
        assert_eq!(parse_size("100"), Some(100));
        assert_eq!(parse_size("2kb"), Some(2048));
        assert_eq!(parse_size("x"), None);
    }
}
