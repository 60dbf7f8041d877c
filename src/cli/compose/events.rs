//! `stack events`: the engine's events about the project's containers as
//! they happen, in Compose's words (or one JSON object per line).

use super::super::engine::with_client;
use super::{check_services, load, ProjectArgs};
use crate::orchestrator::api_message;
use anyhow::{anyhow, Result};
use bollard::models::EventMessage;
use bollard::query_parameters::EventsOptions;
use futures_util::StreamExt;
use stack_compose::env::Environment;
use std::collections::HashMap;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct EventsArgs {
    /// Output events as a stream of JSON objects
    #[arg(long)]
    json: bool,
    /// Services (default: all)
    services: Vec<String>,
}

pub fn run(project: &ProjectArgs, args: EventsArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _) = load(project, env)?;
    check_services(&loaded, &args.services)?;
    let name = loaded.project.name.clone();
    with_client(env, |client| async move {
        let filters: HashMap<String, Vec<String>> = [
            ("type".to_owned(), vec!["container".to_owned()]),
            (
                "label".to_owned(),
                vec![format!("com.docker.compose.project={name}")],
            ),
        ]
        .into_iter()
        .collect();
        let options = EventsOptions {
            filters: Some(filters),
            ..EventsOptions::default()
        };
        let mut events = client.events(Some(options));
        while let Some(event) = events.next().await {
            let event = event.map_err(|e| anyhow!("reading events: {}", api_message(&e)))?;
            let attributes = event
                .actor
                .as_ref()
                .and_then(|a| a.attributes.clone())
                .unwrap_or_default();
            let service = attributes
                .get("com.docker.compose.service")
                .cloned()
                .unwrap_or_default();
            if !args.services.is_empty() && !args.services.contains(&service) {
                continue;
            }
            let line = if args.json {
                json_line(&event, &service, &attributes)
            } else {
                text_line(&event, &attributes)
            };
            let mut out = std::io::stdout().lock();
            writeln!(out, "{line}")?;
            out.flush()?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// `2026-11-23 13:16:07.123456 container start <id> (image=busybox, name=app-web-1)`.
fn text_line(event: &EventMessage, attributes: &HashMap<String, String>) -> String {
    let nanos = event
        .time_nano
        .unwrap_or_else(|| event.time.unwrap_or_default() * 1_000_000_000);
    let seconds = nanos.div_euclid(1_000_000_000);
    let micros = nanos.rem_euclid(1_000_000_000) / 1000;
    let when = super::ps::created_at(seconds);
    let date_time = when.trim_end_matches(" +0000 UTC");
    let mut shown: Vec<String> = ["image", "name"]
        .iter()
        .filter_map(|key| attributes.get(*key).map(|v| format!("{key}={v}")))
        .collect();
    shown.sort();
    format!(
        "{date_time}.{micros:06} container {} {} ({})",
        event.action.clone().unwrap_or_default(),
        event
            .actor
            .as_ref()
            .and_then(|a| a.id.clone())
            .unwrap_or_default(),
        shown.join(", ")
    )
}

fn json_line(event: &EventMessage, service: &str, attributes: &HashMap<String, String>) -> String {
    let mut attributes: Vec<(&String, &String)> = attributes.iter().collect();
    attributes.sort();
    let attributes: serde_json::Map<String, serde_json::Value> = attributes
        .into_iter()
        .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
        .collect();
    serde_json::json!({
        "time": super::ps::created_at(event.time.unwrap_or_default()),
        "type": "container",
        "action": event.action.clone().unwrap_or_default(),
        "id": event.actor.as_ref().and_then(|a| a.id.clone()).unwrap_or_default(),
        "service": service,
        "attributes": attributes,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::EventActor;

    #[test]
    fn events_in_compose_words() {
        let attributes: HashMap<String, String> = [
            ("name".to_owned(), "app-web-1".to_owned()),
            ("image".to_owned(), "busybox".to_owned()),
            ("com.docker.compose.service".to_owned(), "web".to_owned()),
        ]
        .into_iter()
        .collect();
        let event = EventMessage {
            action: Some("start".into()),
            actor: Some(EventActor {
                id: Some("c0ffee".into()),
                attributes: Some(attributes.clone()),
            }),
            time: Some(1_795_439_767),
            time_nano: Some(1_795_439_767_123_456_789),
            ..EventMessage::default()
        };
        assert_eq!(
            text_line(&event, &attributes),
            "2026-11-23 13:16:07.123456 container start c0ffee (image=busybox, name=app-web-1)"
        );
        let json: serde_json::Value =
            serde_json::from_str(&json_line(&event, "web", &attributes)).expect("json");
        assert_eq!(json["action"], "start");
        assert_eq!(json["service"], "web");
        assert_eq!(json["attributes"]["name"], "app-web-1");
    }
}
