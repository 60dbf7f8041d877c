//! `stack ls` (the projects on the engine, found by their containers'
//! labels alone) and `stack port` (where a service's port is published).

use super::super::engine::with_client;
use super::{check_services, load, ProjectArgs};
use crate::orchestrator::api_message;
use crate::orchestrator::snapshot::labelled_containers;
use crate::orchestrator::waits::{service_containers, WaitError};
use anyhow::{anyhow, bail, Result};
use bollard::models::ContainerSummary;
use bollard::query_parameters::InspectContainerOptions;
use stack_compose::env::Environment;
use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct LsArgs {
    /// Show all projects, stopped ones too
    #[arg(short, long)]
    all: bool,
    /// Only display project names
    #[arg(short, long)]
    quiet: bool,
    /// Format the output
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
}

#[derive(Debug, clap::Args)]
pub struct PortArgs {
    /// tcp or udp
    #[arg(long, default_value = "tcp")]
    protocol: String,
    /// Index of the container if the service has several replicas
    #[arg(long, default_value_t = 1)]
    index: u32,
    /// The service
    service: String,
    /// The port inside the container
    private_port: u16,
}

/// One project as `ls` shows it.
#[derive(Debug, Default, PartialEq, Eq)]
struct ProjectRow {
    /// How many containers are in each state.
    states: BTreeMap<String, usize>,
    /// The compose files its containers were created from.
    config_files: BTreeSet<String>,
}

impl ProjectRow {
    /// `exited(1), running(2)`, as Compose words it.
    fn status(&self) -> String {
        self.states
            .iter()
            .map(|(state, n)| format!("{state}({n})"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// The projects of `containers`, by name.
fn projects(containers: &[ContainerSummary]) -> BTreeMap<String, ProjectRow> {
    let mut out: BTreeMap<String, ProjectRow> = BTreeMap::new();
    for c in containers {
        let labels = c.labels.clone().unwrap_or_default();
        let Some(project) = labels.get("com.docker.compose.project") else {
            continue;
        };
        let row = out.entry(project.clone()).or_default();
        let state = c.state.map(|s| s.to_string()).unwrap_or_default();
        *row.states.entry(state).or_default() += 1;
        if let Some(files) = labels.get("com.docker.compose.project.config_files") {
            row.config_files.extend(
                files
                    .split(',')
                    .filter(|f| !f.is_empty())
                    .map(str::to_owned),
            );
        }
    }
    out
}

pub fn ls(args: LsArgs, env: &Environment) -> Result<ExitCode> {
    with_client(env, |client| async move {
        let containers =
            labelled_containers(&client, vec!["com.docker.compose.project".to_owned()])
                .await
                .map_err(|e| anyhow!("listing containers: {}", api_message(&e)))?;
        let mut rows = projects(&containers);
        if !args.all {
            rows.retain(|_, row| row.states.contains_key("running"));
        }
        let mut out = std::io::stdout().lock();
        if args.quiet {
            for name in rows.keys() {
                writeln!(out, "{name}")?;
            }
        } else if args.format == Format::Json {
            let list: Vec<serde_json::Value> = rows
                .iter()
                .map(|(name, row)| {
                    serde_json::json!({
                        "Name": name,
                        "Status": row.status(),
                        "ConfigFiles": row.config_files.iter().cloned().collect::<Vec<_>>().join(","),
                    })
                })
                .collect();
            writeln!(out, "{}", serde_json::Value::Array(list))?;
        } else {
            let width = rows.keys().map(String::len).max().unwrap_or(0).max(4);
            let status_width = rows
                .values()
                .map(|r| r.status().len())
                .max()
                .unwrap_or(0)
                .max(6);
            writeln!(
                out,
                "{:<width$}   {:<status_width$}   CONFIG FILES",
                "NAME", "STATUS"
            )?;
            for (name, row) in &rows {
                let files: Vec<String> = row.config_files.iter().cloned().collect();
                writeln!(
                    out,
                    "{name:<width$}   {:<status_width$}   {}",
                    row.status(),
                    files.join(",")
                )?;
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn port(project: &ProjectArgs, args: PortArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, std::slice::from_ref(&args.service))?;
    let name = loaded.project.name.clone();
    with_client(env, |client| async move {
        let ids = service_containers(&client, &name, &args.service)
            .await
            .map_err(|e| match e {
                WaitError::Engine(m) | WaitError::Condition(m) => anyhow!(m),
            })?;
        let key = format!("{}/{}", args.private_port, args.protocol);
        for id in ids {
            let inspect = client
                .inspect_container(&id, None::<InspectContainerOptions>)
                .await
                .map_err(|e| anyhow!("inspecting container {id}: {}", api_message(&e)))?;
            let number = inspect
                .config
                .as_ref()
                .and_then(|c| c.labels.as_ref())
                .and_then(|l| l.get("com.docker.compose.container-number"))
                .and_then(|n| n.parse::<u32>().ok());
            if number != Some(args.index) {
                continue;
            }
            let binding = inspect
                .network_settings
                .and_then(|n| n.ports)
                .and_then(|mut ports| ports.remove(&key))
                .flatten()
                .and_then(|list| list.into_iter().next());
            if let Some(b) = binding {
                let ip = b
                    .host_ip
                    .filter(|ip| !ip.is_empty())
                    .unwrap_or_else(|| "0.0.0.0".into());
                println!("{ip}:{}", b.host_port.unwrap_or_default());
                return Ok(ExitCode::SUCCESS);
            }
        }
        bail!(
            "service \"{}\" (container {}) does not publish port {key}",
            args.service,
            args.index
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::ContainerSummaryStateEnum;

    fn container(project: &str, state: ContainerSummaryStateEnum, files: &str) -> ContainerSummary {
        ContainerSummary {
            labels: Some(
                [
                    ("com.docker.compose.project".to_owned(), project.to_owned()),
                    (
                        "com.docker.compose.project.config_files".to_owned(),
                        files.to_owned(),
                    ),
                ]
                .into_iter()
                .collect(),
            ),
            state: Some(state),
            ..ContainerSummary::default()
        }
    }

    #[test]
    fn projects_are_counted_by_state() {
        let rows = projects(&[
            container("app", ContainerSummaryStateEnum::RUNNING, "/a/compose.yaml"),
            container("app", ContainerSummaryStateEnum::RUNNING, "/a/compose.yaml"),
            container("app", ContainerSummaryStateEnum::EXITED, "/a/compose.yaml"),
            container(
                "other",
                ContainerSummaryStateEnum::EXITED,
                "/b/x.yaml,/b/y.yaml",
            ),
        ]);
        assert_eq!(rows["app"].status(), "exited(1), running(2)");
        assert_eq!(rows["other"].status(), "exited(1)");
        assert_eq!(rows["other"].config_files.len(), 2);
    }
}
