//! `stack images`: the image each of the project's containers was created
//! from, as `docker compose images` lists them (a table, `-q` for the ids,
//! or `--format json`).

use super::super::engine::with_client;
use super::super::image::{human_size, split_tag, table};
use super::{check_services, load_or_named, ProjectArgs};
use crate::orchestrator::api_message;
use crate::orchestrator::snapshot::project_containers;
use anyhow::{anyhow, Result};
use bollard::models::ContainerSummary;
use bollard::Docker;
use futures_util::future::try_join_all;
use serde_json::{json, Value};
use stack_compose::env::Environment;
use std::io::Write;
use std::process::ExitCode;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
}

#[derive(Debug, clap::Args)]
pub struct ImagesArgs {
    /// Only display image IDs
    #[arg(short, long)]
    quiet: bool,
    /// Format the output
    #[arg(long, value_enum, default_value = "table")]
    format: Format,
    /// Services whose containers to list (default: all)
    services: Vec<String>,
}

/// The image of one container.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ImageRow {
    container: String,
    /// The image id (`sha256:…`).
    id: String,
    /// The repository and tag the container names its image by, empty
    /// when it names it by id.
    repository: String,
    tag: String,
    /// Bytes; `None` when the image is gone from the engine.
    size: Option<i64>,
    /// RFC 3339, when the engine says.
    created: Option<String>,
}

impl ImageRow {
    fn json(&self) -> Value {
        let mut object = json!({
            "ID": self.id,
            "ContainerName": self.container,
            "Repository": self.repository,
            "Tag": self.tag,
            "Platform": "",
            "Size": self.size.unwrap_or_default(),
        });
        if let Some(created) = &self.created {
            object["Created"] = json!(created);
        }
        object
    }

    fn cells(&self) -> [String; 5] {
        let or_none = |s: &str| {
            if s.is_empty() {
                "<none>".to_owned()
            } else {
                s.to_owned()
            }
        };
        [
            self.container.clone(),
            or_none(&self.repository),
            or_none(&self.tag),
            short_id(&self.id),
            self.size.map(human_size).unwrap_or_default(),
        ]
    }
}

/// The 12 hex digits docker shows of an id.
fn short_id(id: &str) -> String {
    let hex = id.split_once(':').map_or(id, |(_, hex)| hex);
    hex.chars().take(12).collect()
}

/// `busybox` → (`busybox`, `latest`), `reg:5000/app:1` → (`reg:5000/app`,
/// `1`); a digest reference has no tag; an image id has neither.
fn repository_and_tag(reference: &str) -> (String, String) {
    let is_id = reference.starts_with("sha256:")
        || (reference.len() == 64 && reference.chars().all(|c| c.is_ascii_hexdigit()));
    if is_id {
        return (String::new(), String::new());
    }
    if let Some((repository, _digest)) = reference.split_once('@') {
        return (repository.to_owned(), String::new());
    }
    match split_tag(reference) {
        (repository, Some(tag)) => (repository.to_owned(), tag.to_owned()),
        (repository, None) => (repository.to_owned(), "latest".to_owned()),
    }
}

pub fn run(project: &ProjectArgs, args: ImagesArgs, env: &Environment) -> Result<ExitCode> {
    let (loaded, _, _) = load_or_named(project, env)?;
    check_services(&loaded, &args.services)?;
    let name = loaded.project.name.clone();
    with_client(env, |client| async move {
        let mut containers = project_containers(&client, &name).await?;
        containers.retain(|c| {
            let service = c
                .labels
                .as_ref()
                .and_then(|l| l.get("com.docker.compose.service"))
                .cloned()
                .unwrap_or_default();
            args.services.is_empty() || args.services.contains(&service)
        });
        let mut rows = try_join_all(containers.into_iter().map(|c| row(&client, c))).await?;
        rows.sort_by(|a, b| a.container.cmp(&b.container));
        let mut out = std::io::stdout().lock();
        if args.quiet {
            let mut seen = Vec::new();
            for r in &rows {
                let id = r.id.split_once(':').map_or(r.id.as_str(), |(_, hex)| hex);
                if !seen.contains(&id) {
                    writeln!(out, "{id}")?;
                    seen.push(id);
                }
            }
        } else if args.format == Format::Json {
            let list: Vec<Value> = rows.iter().map(ImageRow::json).collect();
            writeln!(out, "{}", Value::Array(list))?;
        } else {
            let header = ["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"].map(String::from);
            let all: Vec<[String; 5]> = std::iter::once(header)
                .chain(rows.iter().map(ImageRow::cells))
                .collect();
            write!(out, "{}", table(&all))?;
        }
        Ok(ExitCode::SUCCESS)
    })
}

/// The image of `container`: what the engine knows of it, or, when the
/// image is gone, what the container itself records.
async fn row(client: &Docker, container: ContainerSummary) -> Result<ImageRow> {
    let name = container
        .names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_owned())
        .unwrap_or_default();
    let reference = container.image.clone().unwrap_or_default();
    let (repository, tag) = repository_and_tag(&reference);
    let mut row = ImageRow {
        container: name,
        id: container.image_id.clone().unwrap_or_default(),
        repository,
        tag,
        size: None,
        created: None,
    };
    match client.inspect_image(&reference).await {
        Ok(image) => {
            row.id = image.id.unwrap_or(row.id);
            row.size = image.size;
            row.created = image.created;
        }
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404, ..
        }) => {}
        Err(e) => {
            return Err(anyhow!(
                "inspecting image {reference} of container {}: {}",
                row.container,
                api_message(&e)
            ))
        }
    }
    Ok(row)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_split_as_compose_shows_them() {
        let split = |r: &str| repository_and_tag(r);
        assert_eq!(split("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(split("busybox:1.36"), ("busybox".into(), "1.36".into()));
        assert_eq!(
            split("127.0.0.1:5000/app"),
            ("127.0.0.1:5000/app".into(), "latest".into())
        );
        assert_eq!(split("app@sha256:abcd"), ("app".into(), String::new()));
        assert_eq!(
            split(&format!("sha256:{}", "a".repeat(64))),
            (String::new(), String::new())
        );
    }

    #[test]
    fn rows_show_none_for_what_is_missing() {
        let row = ImageRow {
            container: "app-web-1".into(),
            id: format!("sha256:{}", "0123456789ab".repeat(5)),
            repository: String::new(),
            tag: String::new(),
            size: Some(1_234_567),
            created: None,
        };
        assert_eq!(
            row.cells(),
            ["app-web-1", "<none>", "<none>", "0123456789ab", "1.23MB"].map(String::from)
        );
        let json = row.json();
        assert_eq!(json["Size"], 1_234_567);
        assert!(json.get("Created").is_none());
    }
}
