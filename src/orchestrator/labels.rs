//! The names Compose gives engine objects and the labels it puts on them.
//!
//! These are the whole contract between one `up` and the next, and between
//! `stack` and Docker Compose: a later `up`, `ps` or `down` finds a project's
//! containers, networks and volumes from the engine alone, by these labels.
//! Values are spelled exactly as Docker Compose spells them, so a project
//! brought up by one tool is recognised by the other.

use stack_compose::model::{DependsOn, Network, Service, ServiceCondition, Volume};
use std::collections::BTreeMap;

/// The project an object belongs to.
pub(crate) const PROJECT: &str = "com.docker.compose.project";
/// The service a container runs.
pub(crate) const SERVICE: &str = "com.docker.compose.service";
/// The replica number of a container (`1`, `2`, ...).
pub(crate) const CONTAINER_NUMBER: &str = "com.docker.compose.container-number";
/// The hash of the service configuration a container was created from.
pub(crate) const CONFIG_HASH: &str = "com.docker.compose.config-hash";
/// `True` for containers of `run`, `False` for service containers.
pub(crate) const ONEOFF: &str = "com.docker.compose.oneoff";
/// The project directory, absolute.
pub(crate) const WORKING_DIR: &str = "com.docker.compose.project.working_dir";
/// The compose files, absolute, joined with `,`.
pub(crate) const CONFIG_FILES: &str = "com.docker.compose.project.config_files";
/// The `--env-file` files, joined with `,` (only set when some were given).
pub(crate) const ENVIRONMENT_FILE: &str = "com.docker.compose.project.environment_file";
/// The key of a network under top-level `networks:`.
pub(crate) const NETWORK: &str = "com.docker.compose.network";
/// The key of a volume under top-level `volumes:`.
pub(crate) const VOLUME: &str = "com.docker.compose.volume";
/// The version of the tool that created the object.
pub(crate) const VERSION: &str = "com.docker.compose.version";
/// The id of the image a container was created from.
pub(crate) const IMAGE: &str = "com.docker.compose.image";
/// The service's dependencies, `name:condition:restart` joined with `,`.
pub(crate) const DEPENDS_ON: &str = "com.docker.compose.depends_on";
/// On a recreated container: `<service>-<number>` of the one it replaced.
pub(crate) const REPLACE: &str = "com.docker.compose.replace";

/// The value of [`ONEOFF`] on service containers (`run` writes `True`).
pub(crate) const ONEOFF_FALSE: &str = "False";

/// What `stack` writes as [`VERSION`].
const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where the project comes from, as recorded on its containers: `ls` and
/// `down` without `-f` read it back to find the files again.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectLabels {
    /// The project directory, absolute.
    pub working_dir: String,
    /// The compose files, absolute, in the order given.
    pub config_files: Vec<String>,
    /// The `--env-file` files, absolute, in the order given.
    pub environment_files: Vec<String>,
}

/// The engine name of a service's container number `number`:
/// `container_name` when set, else `<project>-<service>-<number>`.
pub(crate) fn container_name(project: &str, service: &str, spec: &Service, number: u32) -> String {
    match &spec.container_name {
        Some(name) => name.clone(),
        None => format!("{project}-{service}-{number}"),
    }
}

/// The image a service runs: `image:`, else the name Compose gives the image
/// it builds, `<project>-<service>`.
pub(crate) fn image_reference(project: &str, service: &str, spec: &Service) -> String {
    match &spec.image {
        Some(image) => image.clone(),
        None => format!("{project}-{service}"),
    }
}

/// Compose's spelling of a `depends_on` condition.
pub(crate) fn condition_name(condition: ServiceCondition) -> &'static str {
    match condition {
        ServiceCondition::ServiceStarted => "service_started",
        ServiceCondition::ServiceHealthy => "service_healthy",
        ServiceCondition::ServiceCompletedSuccessfully => "service_completed_successfully",
    }
}

/// What one container of a service is created with, besides its spec.
pub(crate) struct ContainerIdentity<'a> {
    /// The project name.
    pub project: &'a str,
    /// The service name.
    pub service: &'a str,
    /// The replica number.
    pub number: u32,
    /// The service's configuration hash.
    pub config_hash: &'a str,
    /// The id of the image it runs.
    pub image_id: &'a str,
    /// When it replaces a container: the `<service>-<number>` it replaces.
    pub replaces: Option<String>,
}

/// The labels of a service container: the service's own `labels:` first,
/// then Compose's, which win on a clash as they do in Compose.
pub(crate) fn container_labels(
    id: &ContainerIdentity<'_>,
    spec: &Service,
    origin: &ProjectLabels,
) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> = spec
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut set = |key: &str, value: String| {
        labels.insert(key.to_owned(), value);
    };
    set(PROJECT, id.project.to_owned());
    set(SERVICE, id.service.to_owned());
    set(CONTAINER_NUMBER, id.number.to_string());
    set(CONFIG_HASH, id.config_hash.to_owned());
    set(IMAGE, id.image_id.to_owned());
    set(ONEOFF, ONEOFF_FALSE.to_owned());
    set(VERSION, TOOL_VERSION.to_owned());
    set(WORKING_DIR, origin.working_dir.clone());
    set(CONFIG_FILES, origin.config_files.join(","));
    if !origin.environment_files.is_empty() {
        set(ENVIRONMENT_FILE, origin.environment_files.join(","));
    }
    set(DEPENDS_ON, depends_on_value(spec));
    if let Some(replaced) = &id.replaces {
        set(REPLACE, replaced.clone());
    }
    labels
}

/// `db:service_healthy:false,redis:service_started:true`, by name (Compose
/// writes them in map order; sorting keeps the value, and so the label set,
/// stable from one `up` to the next).
fn depends_on_value(spec: &Service) -> String {
    let mut deps: Vec<String> = spec
        .depends_on
        .iter()
        .map(|(name, on)| format!("{name}:{}:{}", condition_name(on.condition), on.restart))
        .collect();
    deps.sort();
    deps.join(",")
}

/// The dependencies a [`DEPENDS_ON`] label records, as Compose reads it
/// back for a project known only by its name: `name[:condition[:restart]]`
/// entries; a condition it does not know means `service_started`, and a
/// missing `restart` means true (Compose's defaults for older labels).
pub(crate) fn parse_depends_on(value: &str) -> Vec<(String, DependsOn)> {
    value
        .split(',')
        .filter(|entry| !entry.is_empty())
        .map(|entry| {
            let mut parts = entry.split(':');
            let name = parts.next().unwrap_or_default().to_owned();
            let condition = match parts.next() {
                Some("service_healthy") => ServiceCondition::ServiceHealthy,
                Some("service_completed_successfully") => {
                    ServiceCondition::ServiceCompletedSuccessfully
                }
                _ => ServiceCondition::ServiceStarted,
            };
            let restart = parts.next().is_none_or(|r| r.eq_ignore_ascii_case("true"));
            let mut on = DependsOn::started();
            on.condition = condition;
            on.restart = restart;
            (name, on)
        })
        .collect()
}

/// The labels of a project network: its own `labels:`, then Compose's.
pub(crate) fn network_labels(
    project: &str,
    key: &str,
    network: &Network,
    config_hash: &str,
) -> BTreeMap<String, String> {
    object_labels(&network.labels, project, (NETWORK, key), config_hash)
}

/// The labels of a project volume: its own `labels:`, then Compose's.
pub(crate) fn volume_labels(
    project: &str,
    key: &str,
    volume: &Volume,
    config_hash: &str,
) -> BTreeMap<String, String> {
    object_labels(&volume.labels, project, (VOLUME, key), config_hash)
}

fn object_labels(
    own: &stack_compose::model::StringMap,
    project: &str,
    (kind, key): (&str, &str),
    config_hash: &str,
) -> BTreeMap<String, String> {
    let mut labels: BTreeMap<String, String> =
        own.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    labels.insert(kind.to_owned(), key.to_owned());
    labels.insert(PROJECT.to_owned(), project.to_owned());
    labels.insert(VERSION.to_owned(), TOOL_VERSION.to_owned());
    labels.insert(CONFIG_HASH.to_owned(), config_hash.to_owned());
    labels
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(labels: &BTreeMap<String, String>) -> String {
        labels
            .iter()
            .map(|(k, v)| format!("{k}={v}\n"))
            .collect::<String>()
            .replace(TOOL_VERSION, "VERSION")
    }

    #[test]
    fn container_names_follow_compose() {
        let mut spec = Service::default();
        assert_eq!(container_name("app", "web", &spec, 2), "app-web-2");
        spec.container_name = Some("frontend".into());
        assert_eq!(container_name("app", "web", &spec, 1), "frontend");
    }

    #[test]
    fn built_images_are_named_after_project_and_service() {
        let mut spec = Service::default();
        assert_eq!(image_reference("app", "web", &spec), "app-web");
        spec.image = Some("nginx:1.27".into());
        assert_eq!(image_reference("app", "web", &spec), "nginx:1.27");
    }

    #[test]
    fn container_labels_as_compose_writes_them() {
        let mut spec = Service::default();
        spec.labels.insert("team".into(), "web".into());
        // Compose's own labels win over the user's.
        spec.labels.insert(SERVICE.into(), "spoofed".into());
        let mut healthy = DependsOn::started();
        healthy.condition = ServiceCondition::ServiceHealthy;
        spec.depends_on.insert("redis".into(), DependsOn::started());
        spec.depends_on.insert("db".into(), healthy);
        let origin = ProjectLabels {
            working_dir: "/srv/app".into(),
            config_files: vec!["/srv/app/compose.yaml".into(), "/srv/app/o.yaml".into()],
            environment_files: vec![],
        };
        let id = ContainerIdentity {
            project: "app",
            service: "web",
            number: 3,
            config_hash: "abc",
            image_id: "sha256:123",
            replaces: Some("web-3".into()),
        };
        assert_eq!(
            render(&container_labels(&id, &spec, &origin)),
            "\
com.docker.compose.config-hash=abc
com.docker.compose.container-number=3
com.docker.compose.depends_on=db:service_healthy:false,redis:service_started:false
com.docker.compose.image=sha256:123
com.docker.compose.oneoff=False
com.docker.compose.project=app
com.docker.compose.project.config_files=/srv/app/compose.yaml,/srv/app/o.yaml
com.docker.compose.project.working_dir=/srv/app
com.docker.compose.replace=web-3
com.docker.compose.service=web
com.docker.compose.version=VERSION
team=web
"
        );
    }

    #[test]
    fn env_files_are_recorded_when_given() {
        let origin = ProjectLabels {
            environment_files: vec!["/a/.env".into(), "/a/prod.env".into()],
            ..ProjectLabels::default()
        };
        let id = ContainerIdentity {
            project: "app",
            service: "web",
            number: 1,
            config_hash: "h",
            image_id: "i",
            replaces: None,
        };
        let labels = container_labels(&id, &Service::default(), &origin);
        assert_eq!(labels[ENVIRONMENT_FILE], "/a/.env,/a/prod.env");
        assert_eq!(labels[DEPENDS_ON], "");
        assert!(!labels.contains_key(REPLACE));
    }

    #[test]
    fn depends_on_labels_read_back_as_written() {
        let mut spec = Service::default();
        let mut healthy = DependsOn::started();
        healthy.condition = ServiceCondition::ServiceHealthy;
        healthy.restart = true;
        let mut done = DependsOn::started();
        done.condition = ServiceCondition::ServiceCompletedSuccessfully;
        spec.depends_on.insert("db".into(), healthy.clone());
        spec.depends_on.insert("init".into(), done.clone());
        spec.depends_on.insert("redis".into(), DependsOn::started());
        let value = depends_on_value(&spec);
        assert_eq!(
            value,
            "db:service_healthy:true,init:service_completed_successfully:false,\
             redis:service_started:false"
        );
        let read: Vec<(String, DependsOn)> = parse_depends_on(&value);
        assert_eq!(
            read,
            [
                ("db".to_owned(), healthy),
                ("init".to_owned(), done),
                ("redis".to_owned(), DependsOn::started()),
            ]
        );
    }

    #[test]
    fn older_depends_on_labels_take_composes_defaults() {
        assert!(parse_depends_on("").is_empty());
        let read = parse_depends_on("db,cache:service_healthy");
        let names: Vec<&str> = read.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["db", "cache"]);
        assert_eq!(read[0].1.condition, ServiceCondition::ServiceStarted);
        assert!(read[0].1.restart);
        assert_eq!(read[1].1.condition, ServiceCondition::ServiceHealthy);
        assert!(read[1].1.restart);
    }

    #[test]
    fn network_and_volume_labels() {
        let mut network = Network::default();
        network.labels.insert("tier".into(), "back".into());
        assert_eq!(
            render(&network_labels("app", "backend", &network, "h1")),
            "\
com.docker.compose.config-hash=h1
com.docker.compose.network=backend
com.docker.compose.project=app
com.docker.compose.version=VERSION
tier=back
"
        );
        assert_eq!(
            render(&volume_labels("app", "data", &Volume::default(), "h2")),
            "\
com.docker.compose.config-hash=h2
com.docker.compose.project=app
com.docker.compose.version=VERSION
com.docker.compose.volume=data
"
        );
    }
}
