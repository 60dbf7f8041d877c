//! `stack volume`: named volumes on the engine, as `docker volume`.

use super::engine::{self, api_message, filter_map};
use anyhow::{bail, Context, Result};
use bollard::models::VolumeCreateRequest;
use bollard::query_parameters::{ListVolumesOptions, PruneVolumesOptions, RemoveVolumeOptions};
use stack_compose::env::Environment;
use std::collections::HashMap;
use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum VolumeCommand {
    /// Create a volume
    Create {
        /// Volume driver name
        #[arg(short, long, default_value = "local")]
        driver: String,
        /// Set metadata for a volume (KEY=VALUE, repeatable)
        #[arg(long = "label")]
        labels: Vec<String>,
        /// Set driver specific options (KEY=VALUE, repeatable)
        #[arg(short, long = "opt")]
        opts: Vec<String>,
        /// Volume name (default: a generated one)
        name: Option<String>,
    },
    /// List volumes
    #[command(alias = "list")]
    Ls {
        /// Only display volume names
        #[arg(short, long)]
        quiet: bool,
        /// Provide filter values (e.g. `dangling=true`, `label=k=v`, `name=x`)
        #[arg(short, long = "filter")]
        filters: Vec<String>,
    },
    /// Display detailed information on one or more volumes
    Inspect {
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove one or more volumes
    #[command(alias = "remove")]
    Rm {
        /// Force the removal of one or more volumes
        #[arg(short, long)]
        force: bool,
        #[arg(required = true)]
        names: Vec<String>,
    },
    /// Remove unused local volumes
    Prune {
        /// Remove all unused volumes, not just anonymous ones
        #[arg(short, long)]
        all: bool,
        /// Do not prompt for confirmation (there is no prompt; accepted for docker compatibility)
        #[arg(short, long)]
        force: bool,
        /// Provide filter values (e.g. `label=k=v`)
        #[arg(long = "filter")]
        filters: Vec<String>,
    },
}

pub fn run(command: &VolumeCommand, env: &Environment) -> Result<ExitCode> {
    engine::with_client(env, |client| async move { execute(&client, command).await })
}

async fn execute(client: &bollard::Docker, command: &VolumeCommand) -> Result<ExitCode> {
    let mut failed = false;
    match command {
        VolumeCommand::Create {
            driver,
            labels,
            opts,
            name,
        } => {
            let volume = client
                .create_volume(VolumeCreateRequest {
                    name: name.clone(),
                    driver: Some(driver.clone()),
                    driver_opts: Some(pairs(opts, "--opt")?),
                    labels: Some(pairs(labels, "--label")?),
                    ..Default::default()
                })
                .await
                .context("creating the volume")?;
            println!("{}", volume.name);
        }
        VolumeCommand::Ls { quiet, filters } => {
            let list = client
                .list_volumes(Some(ListVolumesOptions {
                    filters: Some(filter_map(filters)?),
                }))
                .await
                .context("listing volumes")?;
            let mut volumes = list.volumes.unwrap_or_default();
            volumes.sort_by(|a, b| a.name.cmp(&b.name));
            if !*quiet {
                println!("DRIVER    VOLUME NAME");
            }
            for v in volumes {
                if *quiet {
                    println!("{}", v.name);
                } else {
                    println!("{:<10}{}", v.driver, v.name);
                }
            }
        }
        VolumeCommand::Inspect { names } => {
            let mut found = Vec::new();
            for name in names {
                match client.inspect_volume(name).await {
                    Ok(v) => found.push(v),
                    Err(e) => {
                        eprintln!("error: no such volume {name}: {}", api_message(&e));
                        failed = true;
                    }
                }
            }
            println!(
                "{}",
                serde_json::to_string_pretty(&found).context("rendering the volumes")?
            );
        }
        VolumeCommand::Rm { force, names } => {
            for name in names {
                match client
                    .remove_volume(name, Some(RemoveVolumeOptions { force: *force }))
                    .await
                {
                    Ok(()) => println!("{name}"),
                    Err(e) => {
                        eprintln!("error: removing volume {name}: {}", api_message(&e));
                        failed = true;
                    }
                }
            }
        }
        VolumeCommand::Prune {
            all,
            force: _,
            filters,
        } => {
            let mut filters = filter_map(filters)?;
            if *all {
                filters.insert("all".into(), vec!["true".into()]);
            }
            let report = client
                .prune_volumes(Some(PruneVolumesOptions {
                    filters: Some(filters),
                }))
                .await
                .context("pruning volumes")?;
            let deleted = report.volumes_deleted.unwrap_or_default();
            if !deleted.is_empty() {
                println!("Deleted Volumes:");
                deleted.iter().for_each(|v| println!("{v}"));
                println!();
            }
            println!(
                "Total reclaimed space: {}B",
                report.space_reclaimed.unwrap_or(0)
            );
        }
    }
    Ok(if failed {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// `KEY=VALUE` options into a map, naming the flag of a malformed one.
fn pairs(items: &[String], flag: &str) -> Result<HashMap<String, String>> {
    items
        .iter()
        .map(|item| match item.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => bail!("invalid {flag} {item:?}: write KEY=VALUE"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_need_a_key() {
        assert!(pairs(&["=x".into()], "--label").is_err());
        assert_eq!(pairs(&["a=".into()], "--label").expect("pairs")["a"], "");
    }
}
