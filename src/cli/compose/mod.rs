//! The Compose commands on a project: `up`, `create`, `down`, `ps`, `logs`,
//! the lifecycle commands (`start`, `stop`, `restart`, `kill`, `rm`), `run`,
//! `exec`, `pause`, `unpause`, `top`, `stats`, `events`, `wait`, `ls`,
//! `port` and `images`. Each loads the project, observes the engine, and (for the
//! commands that change something) plans with the orchestrator and runs
//! the plan.

mod down;
mod events;
mod image_sources;
mod images;
mod info;
mod lifecycle;
mod live;
mod logs;
mod process;
mod progress;
mod ps;
mod run;
mod terminal;
mod up;

use super::ProjectArgs;
use crate::orchestrator::ProjectLabels;
use anyhow::{Context, Result};
use stack_compose::env::Environment;
use stack_compose::error::LoadErrors;
use stack_compose::graph::ServiceGraph;
use stack_compose::model::Project;
use stack_compose::Loaded;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// The Compose commands, registered at the top level as `docker compose` has them.
#[derive(Debug, clap::Subcommand)]
pub enum ComposeCommand {
    /// Create and start the project's containers
    Up(up::UpArgs),
    /// Create the project's containers (and networks, volumes) without starting them
    Create(up::CreateArgs),
    /// Stop and remove the project's containers and networks
    Down(down::DownArgs),
    /// List the project's containers
    Ps(ps::PsArgs),
    /// Show the output of the project's containers
    Logs(logs::LogsArgs),
    /// Start the project's existing containers
    Start(lifecycle::ServicesArgs),
    /// Stop the project's running containers without removing them
    Stop(lifecycle::StopArgs),
    /// Restart the project's containers
    Restart(lifecycle::StopArgs),
    /// Send a signal to the project's running containers
    Kill(lifecycle::KillArgs),
    /// Remove the project's stopped containers
    Rm(lifecycle::RmArgs),
    /// Run a one-off command in a new container of a service
    Run(run::RunArgs),
    /// Run a command in a running container of a service
    Exec(process::ExecArgs),
    /// Pause the project's running containers
    Pause(process::ServiceList),
    /// Unpause the project's paused containers
    Unpause(process::ServiceList),
    /// Display the processes of the project's running containers
    Top(process::ServiceList),
    /// Stream the engine's events about the project's containers
    Events(events::EventsArgs),
    /// Display a live stream of the project's containers' resource usage
    Stats(process::StatsArgs),
    /// Block until the containers of all (or the given) services stop
    Wait(process::WaitArgs),
    /// List the projects on the engine
    Ls(info::LsArgs),
    /// Print the host address a service's port is published on
    Port(info::PortArgs),
    /// List the images used by the project's containers
    Images(images::ImagesArgs),
}

/// Runs one Compose command.
pub fn run(project: &ProjectArgs, command: ComposeCommand, env: &Environment) -> Result<ExitCode> {
    match command {
        ComposeCommand::Up(args) => up::run(project, args, env),
        ComposeCommand::Create(args) => up::create(project, args, env),
        ComposeCommand::Down(args) => down::run(project, args, env),
        ComposeCommand::Ps(args) => ps::run(project, args, env),
        ComposeCommand::Logs(args) => logs::run(project, args, env),
        ComposeCommand::Start(args) => lifecycle::start(project, args, env),
        ComposeCommand::Stop(args) => lifecycle::stop(project, args, env, false),
        ComposeCommand::Restart(args) => lifecycle::stop(project, args, env, true),
        ComposeCommand::Kill(args) => lifecycle::kill(project, args, env),
        ComposeCommand::Rm(args) => lifecycle::rm(project, args, env),
        ComposeCommand::Run(args) => run::run(project, args, env),
        ComposeCommand::Exec(args) => process::exec(project, args, env),
        ComposeCommand::Pause(args) => process::pause(project, args, env, false),
        ComposeCommand::Unpause(args) => process::pause(project, args, env, true),
        ComposeCommand::Top(args) => process::top(project, args, env),
        ComposeCommand::Events(args) => events::run(project, args, env),
        ComposeCommand::Stats(args) => process::stats(project, args, env),
        ComposeCommand::Wait(args) => process::wait(project, args, env),
        ComposeCommand::Ls(args) => info::ls(args, env),
        ComposeCommand::Port(args) => info::port(project, args, env),
        ComposeCommand::Images(args) => images::run(project, args, env),
    }
}

/// The project as the files describe it (every active service: a command's
/// service list selects among them later), its warnings printed.
fn load(args: &ProjectArgs, env: &Environment) -> Result<(Loaded, ProjectLabels)> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let options = args.load_options(cwd.clone())?;
    let loaded = stack_compose::load(&options, env)?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    Ok((loaded, origin(args, &cwd)))
}

/// [`load`] for the commands that create containers: each service's
/// seccomp profile files are read (from the project directory), so that a
/// missing or malformed one stops the command before anything is created.
fn load_for_create(args: &ProjectArgs, env: &Environment) -> Result<(Loaded, ProjectLabels)> {
    let (mut loaded, origin) = load(args, env)?;
    crate::orchestrator::security_opt::read_project_profiles(
        &mut loaded.project,
        Path::new(&origin.working_dir),
    )
    .map_err(|e| anyhow::anyhow!("{e}\nnothing was created"))?;
    Ok((loaded, origin))
}

/// Like [`load`], but with `-p NAME` and no compose file found, the project
/// as the engine alone knows it: named, with no services (its containers
/// are found by their labels). The flag says whether a file was read.
fn load_or_named(args: &ProjectArgs, env: &Environment) -> Result<(Loaded, ProjectLabels, bool)> {
    match load(args, env) {
        Ok((loaded, origin)) => Ok((loaded, origin, true)),
        Err(e) => {
            let no_file = e.downcast_ref::<LoadErrors>().is_some_and(|errors| {
                errors
                    .0
                    .iter()
                    .all(|e| e.message.starts_with("no configuration file provided"))
            });
            match &args.project_name {
                Some(name) if no_file && args.files.is_empty() => {
                    let project = Project {
                        name: name.clone(),
                        ..Project::default()
                    };
                    let graph = ServiceGraph::from_project(&project).map_err(|_| {
                        anyhow::anyhow!("an empty project {name} has no dependency graph")
                    })?;
                    let loaded = Loaded {
                        project,
                        all_profiles: Vec::new(),
                        graph,
                        warnings: Vec::new(),
                        environment: Environment::default(),
                    };
                    Ok((loaded, ProjectLabels::default(), false))
                }
                _ => Err(e),
            }
        }
    }
}

/// Where the project comes from, as Compose records it on containers.
fn origin(args: &ProjectArgs, cwd: &Path) -> ProjectLabels {
    let absolute = |p: &PathBuf| -> String {
        let p = if p.is_absolute() {
            p.clone()
        } else {
            cwd.join(p)
        };
        p.display().to_string()
    };
    let config_files: Vec<String> = if args.files.is_empty() {
        [
            "compose.yaml",
            "compose.yml",
            "docker-compose.yaml",
            "docker-compose.yml",
        ]
        .iter()
        .map(|name| cwd.join(name))
        .find(|p| p.exists())
        .map(|p| p.display().to_string())
        .into_iter()
        .collect()
    } else {
        args.files
            .iter()
            .filter(|f| f.as_os_str() != "-")
            .map(absolute)
            .collect()
    };
    let working_dir = match (&args.project_directory, args.files.first()) {
        (Some(dir), _) => absolute(dir),
        (None, Some(file)) if file.as_os_str() != "-" => {
            let file = PathBuf::from(absolute(file));
            file.parent()
                .map_or_else(|| cwd.display().to_string(), |d| d.display().to_string())
        }
        _ => cwd.display().to_string(),
    };
    ProjectLabels {
        working_dir,
        config_files,
        environment_files: args.env_files.iter().map(absolute).collect(),
    }
}

/// Fails naming every service of `services` the project does not have.
fn check_services(loaded: &Loaded, services: &[String]) -> Result<()> {
    let unknown: Vec<&str> = services
        .iter()
        .filter(|s| !loaded.project.services.contains_key(*s))
        .map(String::as_str)
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        anyhow::bail!(
            "no such service: {} (check the names against `stack config --services`)",
            unknown.join(", ")
        )
    }
}
