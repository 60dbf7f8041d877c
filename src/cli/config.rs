//! `stack config`: the resolved, normalized project, as `docker compose config` prints it.

use super::ProjectArgs;
use anyhow::{Context, Result};
use stack_compose::env::Environment;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ConfigArgs {
    /// Print the service names, one per line
    #[arg(long = "services", id = "list_services")]
    services: bool,
    /// Print the volume names, one per line
    #[arg(long = "volumes", id = "list_volumes")]
    volumes: bool,
    /// Print the network names, one per line
    #[arg(long = "networks", id = "list_networks")]
    networks: bool,
    /// Print the profile names, one per line
    #[arg(long = "profiles", id = "list_profiles")]
    profiles: bool,
    /// Print the image names, one per line
    #[arg(long = "images", id = "list_images")]
    images: bool,
    /// Print the config hash of the given services ("*" for all), one per line
    #[arg(long, value_name = "SERVICES")]
    hash: Option<String>,
    /// Format the output
    #[arg(long, value_enum, default_value = "yaml")]
    format: Format,
    /// Don't interpolate environment variables
    #[arg(long)]
    no_interpolate: bool,
    /// Only validate the configuration, don't print anything
    #[arg(short, long)]
    quiet: bool,
    /// Save to file (default to stdout)
    #[arg(short, long)]
    output: Option<PathBuf>,
    /// Services to include (default: all active services)
    services_selected: Vec<String>,
}

pub fn run(project: &ProjectArgs, args: &ConfigArgs, env: &Environment) -> Result<ExitCode> {
    let cwd = std::env::current_dir().context("reading the current directory")?;
    let mut options = project.load_options(cwd)?;
    options.interpolate = !args.no_interpolate;
    options.services = args.services_selected.clone();
    let loaded = stack_compose::load(&options, env)?;
    for warning in &loaded.warnings {
        eprintln!("warning: {warning}");
    }
    if args.quiet {
        return Ok(ExitCode::SUCCESS);
    }
    let p = &loaded.project;
    let text = if args.services {
        lines(p.services.keys())
    } else if args.volumes {
        lines(p.volumes.keys())
    } else if args.networks {
        lines(p.networks.keys())
    } else if args.profiles {
        lines(loaded.all_profiles.iter())
    } else if args.images {
        // A service that is built and not named gets Compose's default image name.
        lines(p.services.iter().map(|(name, s)| {
            s.image
                .clone()
                .unwrap_or_else(|| format!("{}-{name}", p.name))
        }))
    } else if let Some(which) = &args.hash {
        let wanted: Vec<&str> = which.split(',').map(str::trim).collect();
        let hashes = loaded.config_hashes().context("hashing the services")?;
        lines(
            hashes
                .iter()
                .filter(|(name, _)| wanted.contains(&"*") || wanted.contains(&name.as_str()))
                .map(|(name, hash)| format!("{name} {hash}")),
        )
    } else {
        match args.format {
            Format::Yaml => serde_norway::to_string(p).context("rendering the project as YAML")?,
            Format::Json => {
                let mut s =
                    serde_json::to_string_pretty(p).context("rendering the project as JSON")?;
                s.push('\n');
                s
            }
        }
    };
    match &args.output {
        Some(path) => {
            std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?
        }
        None => std::io::stdout()
            .write_all(text.as_bytes())
            .context("writing to standard output")?,
    }
    Ok(ExitCode::SUCCESS)
}

fn lines<I: IntoIterator<Item = S>, S: std::fmt::Display>(items: I) -> String {
    items.into_iter().map(|i| format!("{i}\n")).collect()
}
