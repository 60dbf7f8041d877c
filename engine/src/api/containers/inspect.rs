//! `GET /containers/{id}/json` and `GET /containers/json`.

use std::sync::Arc;

use bollard_stubs::models::{
    ContainerInspectResponse, ContainerState, ContainerStateStatusEnum, ContainerSummary,
    ContainerSummaryHostConfig, ContainerSummaryNetworkSettings, ContainerSummaryStateEnum,
    NetworkSettings, PortSummary, PortSummaryTypeEnum,
};
use hyper::{Response, StatusCode};

use super::super::error::ApiError;
use super::super::filters::Filters;
use super::super::networks;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::lookup;
use crate::container::health::HealthStatus;
use crate::container::record::{command_line, Status};
use crate::container::{Entry, Snapshot};

/// What Docker reports for a time that has not happened.
const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// `GET /containers/{id}/json`.
pub(crate) fn inspect(
    ctx: &Context,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    query.take_bool("size");
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    let snapshot = entry.snapshot();
    let record = &entry.record;
    let status = snapshot.status();
    let run = snapshot.run.as_ref();
    let args = command_line(&record.config);
    let layout = ctx.containers.layout();
    let active = ctx.networks.active(&record.id);
    let exposed = record.config.exposed_ports.clone().unwrap_or_default();
    let network_settings = NetworkSettings {
        sandbox_id: Some(String::new()),
        sandbox_key: Some(
            active
                .as_ref()
                .and_then(|n| n.netns_file.as_ref())
                .map(|p| p.display().to_string())
                .unwrap_or_default(),
        ),
        ports: Some(networks::ports(&exposed, active.as_ref())),
        networks: Some(networks::endpoint_settings(
            ctx,
            &record.id,
            active.as_ref(),
        )),
    };
    let response = ContainerInspectResponse {
        id: Some(record.id.clone()),
        created: None,
        path: args.first().cloned(),
        args: Some(args.iter().skip(1).cloned().collect()),
        state: Some(ContainerState {
            status: Some(match status {
                _ if snapshot.restarting => ContainerStateStatusEnum::RESTARTING,
                Status::Running if snapshot.paused => ContainerStateStatusEnum::PAUSED,
                Status::Created => ContainerStateStatusEnum::CREATED,
                Status::Running => ContainerStateStatusEnum::RUNNING,
                Status::Exited => ContainerStateStatusEnum::EXITED,
                Status::Dead => ContainerStateStatusEnum::DEAD,
            }),
            // Docker counts a restarting container as running.
            running: Some(status == Status::Running || snapshot.restarting),
            paused: Some(snapshot.paused),
            restarting: Some(snapshot.restarting),
            oom_killed: Some(run.is_some_and(|r| r.oom_killed)),
            dead: Some(status == Status::Dead),
            pid: Some(
                run.filter(|_| status == Status::Running)
                    .map_or(0, |r| i64::from(r.pid)),
            ),
            exit_code: Some(snapshot.exit_code()),
            error: Some(run.and_then(|r| r.error.clone()).unwrap_or_default()),
            started_at: Some(run.map_or(ZERO_TIME.to_owned(), |r| r.started_at.clone())),
            finished_at: Some(
                run.and_then(|r| r.finished_at.clone())
                    .unwrap_or_else(|| ZERO_TIME.to_owned()),
            ),
            health: None,
        }),
        image: Some(record.image_id.clone()),
        hostname_path: Some(
            layout
                .container(&record.id)
                .join("hostname")
                .display()
                .to_string(),
        ),
        hosts_path: Some(
            layout
                .container(&record.id)
                .join("hosts")
                .display()
                .to_string(),
        ),
        resolv_conf_path: Some(
            layout
                .container(&record.id)
                .join("resolv.conf")
                .display()
                .to_string(),
        ),
        network_settings: Some(network_settings),
        log_path: Some(layout.container_log(&record.id).display().to_string()),
        name: Some(format!("/{}", entry.name())),
        restart_count: Some(i64::from(snapshot.supervision.restart_count)),
        driver: Some("overlay2".into()),
        platform: Some("linux".into()),
        host_config: Some(record.host_config.clone()),
        config: Some(record.config.clone()),
        mounts: Some(record.mounts.clone()),
        ..ContainerInspectResponse::default()
    };
    // `Created` is set as text: the model's date type depends on features
    // other crates of the workspace choose.
    let mut value =
        serde_json::to_value(&response).map_err(|e| ApiError::internal(e.to_string()))?;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("Created".into(), record.created.clone().into());
        // Health log times are text too, for the same reason.
        if let (Some(health), Some(serde_json::Value::Object(state))) =
            (&snapshot.supervision.health, map.get_mut("State"))
        {
            if record.config.healthcheck.is_some() {
                let health =
                    serde_json::to_value(health).map_err(|e| ApiError::internal(e.to_string()))?;
                state.insert("Health".into(), health);
            }
        }
    }
    Ok(reply::json(StatusCode::OK, &value))
}

/// `GET /containers/json?all=&filters=&limit=`.
pub(crate) fn list(ctx: &Context, mut query: Query) -> Result<Response<Body>, ApiError> {
    let all = query.take_bool("all");
    let limit = query
        .take("limit")
        .and_then(|l| l.parse::<i64>().ok())
        .filter(|l| *l > 0);
    query.take_bool("size");
    // docker-py (docker-compose 1.x) always sends `trunc_cmd`; Docker's
    // daemon ignores it too, as it never truncates the command it lists.
    query.take_bool("trunc_cmd");
    let filters = Filters::parse(
        query.take("filters").as_deref(),
        &["id", "name", "label", "status", "health"],
    )?;
    query.finish()?;
    let now = crate::state::time::unix_nanos(std::time::SystemTime::now()) / 1_000_000_000;
    let mut out: Vec<ContainerSummary> = ctx
        .containers
        .list()
        .into_iter()
        .rev()
        .filter_map(|entry| {
            let snapshot = entry.snapshot();
            let status = snapshot.status();
            let shown = (all || status == Status::Running || filters.contains("status"))
                && matches(&filters, &entry, &snapshot);
            shown.then(|| summary(ctx, &entry, &snapshot, now))
        })
        .collect();
    if let Some(limit) = limit {
        out.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    }
    Ok(reply::json(StatusCode::OK, &out))
}

fn matches(filters: &Filters, entry: &Arc<Entry>, snapshot: &Snapshot) -> bool {
    let record = &entry.record;
    let labels = record.config.labels.clone().unwrap_or_default();
    let any = |key: &str, test: &dyn Fn(&str) -> bool| {
        !filters.contains(key) || filters.values(key).iter().any(|v| test(v))
    };
    any("id", &|v| record.id.starts_with(v))
        && any("name", &|v| {
            entry.name().contains(v.trim_start_matches('/'))
        })
        && any("status", &|v| v == status_word(snapshot))
        && any("health", &|v| v == health_word(entry, snapshot))
        && filters.labels_match("label", &labels)
}

fn summary(ctx: &Context, entry: &Entry, snapshot: &Snapshot, now: i64) -> ContainerSummary {
    let record = &entry.record;
    let active = ctx.networks.active(&record.id);
    let exposed = record.config.exposed_ports.clone().unwrap_or_default();
    let mut ports: Vec<PortSummary> = Vec::new();
    for (key, bindings) in networks::ports(&exposed, active.as_ref()) {
        let Ok((private_port, protocol)) = crate::network::manager::parse_port_key(&key) else {
            continue;
        };
        let typ = Some(match protocol {
            crate::network::firewall::rules::Protocol::Tcp => PortSummaryTypeEnum::TCP,
            crate::network::firewall::rules::Protocol::Udp => PortSummaryTypeEnum::UDP,
        });
        match bindings {
            None => ports.push(PortSummary {
                private_port,
                typ,
                ..PortSummary::default()
            }),
            Some(bindings) => ports.extend(bindings.into_iter().map(|b| PortSummary {
                ip: b.host_ip,
                private_port,
                public_port: b.host_port.and_then(|p| p.parse().ok()),
                typ,
            })),
        }
    }
    ports.sort_by_key(|p| (p.private_port, p.public_port));
    let status = snapshot.status();
    let command = command_line(&record.config);
    let run = snapshot.run.as_ref();
    let text = match status {
        _ if snapshot.restarting => format!(
            "Restarting ({}) {} ago",
            snapshot.exit_code(),
            human_duration(now - run.map_or(now, |r| r.finished_unix))
        ),
        Status::Created => "Created".to_owned(),
        Status::Running => format!(
            "Up {}{}",
            human_duration(now - run.map_or(now, |r| r.started_unix)),
            running_suffix(snapshot)
        ),
        Status::Exited => format!(
            "Exited ({}) {} ago",
            snapshot.exit_code(),
            human_duration(now - run.map_or(now, |r| r.finished_unix))
        ),
        Status::Dead => "Dead".to_owned(),
    };
    ContainerSummary {
        id: Some(record.id.clone()),
        names: Some(vec![format!("/{}", entry.name())]),
        image: Some(record.image.clone()),
        image_id: Some(record.image_id.clone()),
        command: Some(command.join(" ")),
        created: Some(record.created_unix),
        labels: record.config.labels.clone(),
        state: Some(match status {
            _ if snapshot.restarting => ContainerSummaryStateEnum::RESTARTING,
            Status::Running if snapshot.paused => ContainerSummaryStateEnum::PAUSED,
            Status::Created => ContainerSummaryStateEnum::CREATED,
            Status::Running => ContainerSummaryStateEnum::RUNNING,
            Status::Exited => ContainerSummaryStateEnum::EXITED,
            Status::Dead => ContainerSummaryStateEnum::DEAD,
        }),
        status: Some(text),
        host_config: Some(ContainerSummaryHostConfig {
            network_mode: Some(
                record
                    .host_config
                    .network_mode
                    .clone()
                    .filter(|m| !m.is_empty())
                    .unwrap_or_else(|| "default".into()),
            ),
            annotations: None,
        }),
        mounts: Some(record.mounts.clone()),
        network_settings: Some(ContainerSummaryNetworkSettings {
            networks: Some(networks::endpoint_settings(
                ctx,
                &record.id,
                active.as_ref(),
            )),
        }),
        ports: Some(ports),
        ..ContainerSummary::default()
    }
}

/// Docker's status word, with `paused` and `restarting`.
fn status_word(snapshot: &Snapshot) -> &'static str {
    match snapshot.status() {
        _ if snapshot.restarting => "restarting",
        Status::Running if snapshot.paused => "paused",
        status => status.as_str(),
    }
}

/// The `health` filter's word: `none` without a health check.
fn health_word(entry: &Entry, snapshot: &Snapshot) -> &'static str {
    match &snapshot.supervision.health {
        Some(health) if entry.record.config.healthcheck.is_some() => health.status.as_str(),
        _ => "none",
    }
}

/// What Docker appends to `Up ...`: ` (Paused)`, or the health.
fn running_suffix(snapshot: &Snapshot) -> String {
    if snapshot.paused {
        return " (Paused)".to_owned();
    }
    match snapshot.supervision.health.as_ref().map(|h| h.status) {
        Some(HealthStatus::Starting) => " (health: starting)".to_owned(),
        Some(status) => format!(" ({})", status.as_str()),
        None => String::new(),
    }
}

/// Docker's `Up 5 seconds`, `3 minutes`, `2 hours`, `4 days` wording.
fn human_duration(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0 => "Less than a second".to_owned(),
        1 => "1 second".to_owned(),
        2..=59 => format!("{s} seconds"),
        60..=119 => "About a minute".to_owned(),
        120..=3599 => format!("{} minutes", s / 60),
        3600..=7199 => "About an hour".to_owned(),
        7200..=172_799 => format!("{} hours", s / 3600),
        _ => format!("{} days", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::human_duration;

    #[test]
    fn durations_read_like_dockers() {
        assert_eq!(human_duration(0), "Less than a second");
        assert_eq!(human_duration(5), "5 seconds");
        assert_eq!(human_duration(90), "About a minute");
        assert_eq!(human_duration(600), "10 minutes");
        assert_eq!(human_duration(10_000), "2 hours");
        assert_eq!(human_duration(3 * 86_400), "3 days");
    }
}
