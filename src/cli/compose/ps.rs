//! `stack ps`: the project's containers, as a table or as one JSON object
//! per line shaped like `docker compose ps --format json`.

use super::super::engine::with_client;
use super::{check_services, load_or_named, ProjectArgs};
use crate::orchestrator::api_message;
use crate::orchestrator::snapshot::project_containers;
use anyhow::{anyhow, Result};
use bollard::models::{ContainerSummary, PortSummary};
use bollard::query_parameters::InspectContainerOptions;
use bollard::Docker;
use futures_util::future::try_join_all;
use serde_json::{json, Value};
use stack_compose::env::Environment;
use std::io::Write;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct PsArgs {
    /// Show all containers, stopped ones too
    #[arg(short, long)]
    all: bool,
    /// Only display container IDs
    #[arg(short, long)]
    quiet: bool,
    /// Display the services
    #[arg(long = "services", id = "list_services")]
    list_services: bool,
    /// Filter by state (paused, restarting, removing, running, dead, created, exited); repeatable
    #[arg(long)]
    status: Vec<String>,
    /// Format the output
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Services to list (default: all)
    services: Vec<String>,
}

/// One container as `ps` shows it.
struct Row {
    summary: ContainerSummary,
    exit_code: i64,
    health: String,
}

impl Row {
    fn label(&self, key: &str) -> String {
        self.summary
            .labels
            .as_ref()
            .and_then(|l| l.get(key))
            .cloned()
            .unwrap_or_default()
    }

    fn name(&self) -> String {
        self.summary
            .names
            .as_ref()
            .and_then(|n| n.first())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default()
    }

    fn state(&self) -> String {
        self.summary
            .state
            .map(|s| s.to_string())
            .unwrap_or_default()
    }
}

pub fn run(project: &ProjectArgs, args: PsArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _, _) = load_or_named(project, env)?;
    check_services(&loaded, &args.services)?;
    if args.list_services {
        let mut out = std::io::stdout().lock();
        for name in loaded.project.services.keys() {
            if args.services.is_empty() || args.services.contains(name) {
                writeln!(out, "{name}")?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }
    let name = loaded.project.name.clone();
    with_client(env, |client| async move {
        let containers = project_containers(&client, &name).await?;
        let mut rows = try_join_all(containers.into_iter().map(|c| row(&client, c))).await?;
        rows.retain(|r| {
            let service = r.label("com.docker.compose.service");
            r.label("com.docker.compose.oneoff") != "True"
                && (args.services.is_empty() || args.services.contains(&service))
                && (args.all || !args.status.is_empty() || is_up(&r.state()))
                && (args.status.is_empty() || args.status.contains(&r.state()))
        });
        rows.sort_by_key(|r| r.name());
        let mut out = std::io::stdout().lock();
        if args.quiet {
            for r in &rows {
                writeln!(out, "{}", r.summary.id.clone().unwrap_or_default())?;
            }
        } else if args.format == Format::Json {
            for r in &rows {
                writeln!(out, "{}", json_row(r, &name))?;
            }
        } else {
            write!(out, "{}", table(&rows))?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The states `ps` lists without `-a`, as `docker ps` does: a process
/// exists (paused ones included).
fn is_up(state: &str) -> bool {
    matches!(state, "running" | "paused" | "restarting")
}

async fn row(client: &Docker, summary: ContainerSummary) -> Result<Row> {
    let id = summary.id.clone().unwrap_or_default();
    let inspect = client
        .inspect_container(&id, None::<InspectContainerOptions>)
        .await
        .map_err(|e| anyhow!("inspecting container {id}: {}", api_message(&e)))?;
    let state = inspect.state.unwrap_or_default();
    Ok(Row {
        summary,
        exit_code: state.exit_code.unwrap_or_default(),
        health: state
            .health
            .and_then(|h| h.status)
            .map(|s| s.to_string())
            .filter(|s| s != "none")
            .unwrap_or_default(),
    })
}

/// `0.0.0.0:8080->80/tcp, 443/tcp`.
fn ports_text(ports: &[PortSummary]) -> String {
    ports
        .iter()
        .map(|p| {
            let proto = p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into());
            match (&p.ip, p.public_port) {
                (Some(ip), Some(public)) => {
                    format!("{ip}:{public}->{}/{proto}", p.private_port)
                }
                _ => format!("{}/{proto}", p.private_port),
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `2 minutes ago`, as Docker words how long ago something happened.
fn ago(created: i64, now: i64) -> String {
    let seconds = (now - created).max(0);
    let (n, unit) = match seconds {
        s if s < 60 => (s, "second"),
        s if s < 3600 => (s / 60, "minute"),
        s if s < 86400 => (s / 3600, "hour"),
        s => (s / 86400, "day"),
    };
    if n == 1 {
        format!("1 {unit} ago")
    } else {
        format!("{n} {unit}s ago")
    }
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

fn json_row(r: &Row, project: &str) -> Value {
    let s = &r.summary;
    let mut labels: Vec<String> = s
        .labels
        .clone()
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    labels.sort();
    let mounts: Vec<String> = s
        .mounts
        .iter()
        .flatten()
        .map(|m| m.name.clone().or(m.source.clone()).unwrap_or_default())
        .collect();
    let local_volumes = s
        .mounts
        .iter()
        .flatten()
        .filter(|m| m.typ.as_deref() == Some("volume"))
        .count();
    let mut networks: Vec<String> = s
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    networks.sort();
    let ports = s.ports.clone().unwrap_or_default();
    let publishers: Vec<Value> = ports
        .iter()
        .map(|p| {
            json!({
                "URL": p.ip.clone().unwrap_or_default(),
                "TargetPort": p.private_port,
                "PublishedPort": p.public_port.unwrap_or(0),
                "Protocol": p.typ.map(|t| t.to_string()).unwrap_or_else(|| "tcp".into()),
            })
        })
        .collect();
    let created = s.created.unwrap_or_default();
    json!({
        "Command": format!("\"{}\"", s.command.clone().unwrap_or_default()),
        "CreatedAt": created_at(created),
        "ExitCode": r.exit_code,
        "Health": r.health,
        "ID": s.id.clone().unwrap_or_default(),
        "Image": s.image.clone().unwrap_or_default(),
        "Labels": labels.join(","),
        "LocalVolumes": local_volumes.to_string(),
        "Mounts": mounts.join(","),
        "Name": r.name(),
        "Names": r.name(),
        "Networks": networks.join(","),
        "Ports": ports_text(&ports),
        "Project": project,
        "Publishers": publishers,
        "RunningFor": ago(created, now()),
        "Service": r.label("com.docker.compose.service"),
        "Size": "0B",
        "State": r.state(),
        "Status": s.status.clone().unwrap_or_default(),
    })
}

/// `2026-11-23 13:16:07 +0000 UTC`, as Docker prints creation times.
pub(super) fn created_at(seconds: i64) -> String {
    let days = seconds.div_euclid(86400);
    let rest = seconds.rem_euclid(86400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02} +0000 UTC",
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

fn table(rows: &[Row]) -> String {
    let now = now();
    let titles = [
        "NAME", "IMAGE", "COMMAND", "SERVICE", "CREATED", "STATUS", "PORTS",
    ]
    .map(str::to_owned);
    let mut lines = Vec::new();
    for r in rows {
        let s = &r.summary;
        let mut command = s.command.clone().unwrap_or_default();
        if command.chars().count() > 20 {
            command = format!("{}…", command.chars().take(19).collect::<String>());
        }
        lines.push(vec![
            r.name(),
            s.image.clone().unwrap_or_default(),
            format!("\"{command}\""),
            r.label("com.docker.compose.service"),
            ago(s.created.unwrap_or_default(), now),
            s.status.clone().unwrap_or_default(),
            ports_text(s.ports.as_deref().unwrap_or_default()),
        ]);
    }
    super::process::table(&titles, &lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_as_docker_prints_them() {
        assert_eq!(created_at(0), "1970-01-01 00:00:00 +0000 UTC");
        assert_eq!(created_at(1_795_439_767), "2026-11-23 13:16:07 +0000 UTC");
        assert_eq!(ago(100, 101), "1 second ago");
        assert_eq!(ago(0, 7200), "2 hours ago");
    }
}
