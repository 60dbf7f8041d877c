//! The command line: Compose's global options and one module per command.

mod compose;
mod config;
mod container;
mod daemon;
mod engine;
mod image;
mod info;
mod network;
mod volume;

use anyhow::Context;
use clap::{Parser, Subcommand};
use stack_compose::env::Environment;
use stack_compose::error::LoadErrors;
use stack_compose::LoadOptions;
use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;

/// Compose-style multi-container environments, without Docker.
#[derive(Debug, Parser)]
#[command(name = "stack", version, about)]
pub struct Cli {
    #[command(flatten)]
    pub project: ProjectArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// The options Docker Compose takes before the command.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct ProjectArgs {
    /// Compose configuration files (repeatable; `-` reads standard input)
    #[arg(short = 'f', long = "file")]
    pub files: Vec<PathBuf>,

    /// Project name
    #[arg(short = 'p', long = "project-name")]
    pub project_name: Option<String>,

    /// Alternate working directory (default: the directory of the first file)
    #[arg(long = "project-directory")]
    pub project_directory: Option<PathBuf>,

    /// Profile to enable (repeatable)
    #[arg(long = "profile")]
    pub profiles: Vec<String>,

    /// Alternate environment file (repeatable)
    #[arg(long = "env-file")]
    pub env_files: Vec<PathBuf>,
}

impl ProjectArgs {
    /// The loader's options for these arguments, run from `working_dir`.
    /// Standard input is read here when a file is `-`.
    pub fn load_options(&self, working_dir: PathBuf) -> anyhow::Result<LoadOptions> {
        let stdin = if self.files.iter().any(|f| f.as_os_str() == "-") {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("reading the compose file from standard input")?;
            Some(text)
        } else {
            None
        };
        Ok(LoadOptions {
            files: self.files.clone(),
            project_name: self.project_name.clone(),
            project_directory: self.project_directory.clone(),
            profiles: self.profiles.clone(),
            env_files: self.env_files.clone(),
            working_dir,
            stdin,
            ..LoadOptions::default()
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Parse, resolve and render the compose file in canonical format
    #[command(alias = "convert")]
    Config(config::ConfigArgs),
    /// Run the engine: the Docker Engine API on a Unix socket (root only)
    Daemon(daemon::DaemonArgs),
    /// Manage images
    #[command(subcommand)]
    Image(image::ImageCommand),
    /// Display the engine's information: containers, images, storage, firewall backend, host
    Info(info::InfoArgs),
    /// Manage volumes
    #[command(subcommand)]
    Volume(volume::VolumeCommand),
    /// Manage networks
    #[command(subcommand)]
    Network(network::NetworkCommand),
    /// Manage containers
    #[command(subcommand)]
    Container(Box<container::ContainerCommand>),
    /// The Compose commands: up, create, down, ps, logs, start, stop, restart, kill, rm, run, exec, pause, unpause, top, stats, events, wait, ls, port, images
    #[command(flatten)]
    Compose(compose::ComposeCommand),
}

/// Runs the CLI with the process's arguments and environment.
pub fn main() -> ExitCode {
    init_tracing();
    let cli = Cli::parse();
    let env: Environment = std::env::vars().collect();
    let result = match cli.command {
        Command::Config(args) => config::run(&cli.project, &args, &env),
        Command::Daemon(args) => daemon::run(&args),
        Command::Image(command) => image::run(command, &env),
        Command::Info(args) => info::run(&args, &env),
        Command::Volume(command) => volume::run(&command, &env),
        Command::Network(command) => network::run(&command, &env),
        Command::Container(command) => container::run(*command, &env),
        Command::Compose(command) => compose::run(&cli.project, command, &env),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            match e.downcast_ref::<LoadErrors>() {
                // One line per problem, each a complete `file:line:col: ...` message.
                Some(errors) => errors.0.iter().for_each(|e| eprintln!("error: {e}")),
                None => eprintln!("error: {e:#}"),
            }
            ExitCode::from(1)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_definition_is_consistent() {
        Cli::command().debug_assert();
    }
}
