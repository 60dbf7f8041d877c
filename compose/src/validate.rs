//! Semantic checks on the typed project: what the schema cannot see. Every
//! problem is reported at once, each with its position, key path and a hint:
//! references to undefined services, networks, volumes, secrets and configs;
//! `depends_on` cycles; duplicate container names; host ports published
//! twice; `container_name` on a scaled service; `network_mode` together
//! with `networks`; and the per-service checks Compose makes on the loaded
//! project (image or build, scale against replicas, mount targets, build
//! contexts naming services). Nothing is changed.

mod ports;
mod service;
mod spans;

pub use spans::Spans;

use crate::error::{LoadError, LoadErrors, Warning};
use crate::graph::{GraphError, ServiceGraph};
use crate::model::{NetworkMode, Project, Service, VolumeType};
use crate::tree::KeyPath;
use indexmap::IndexMap;

/// Checks `project` (the services active after profiles). Returns the
/// warnings (optional dependencies on undefined services) or every error,
/// located with `spans`.
pub fn validate(project: &Project, spans: &Spans) -> Result<Vec<Warning>, LoadErrors> {
    let mut check = Check {
        spans,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    dependencies(project, &mut check);
    for (name, service) in &project.services {
        let path = KeyPath::root().key("services").key(name);
        service_references(project, name, service, &path, &mut check);
        resource_references(project, name, service, &path, &mut check);
        service::check(project, name, service, &path, &mut check);
    }
    container_names(project, &mut check);
    ports::check(project, &mut check);
    if check.errors.is_empty() {
        check.warnings.sort();
        Ok(check.warnings)
    } else {
        Err(LoadErrors::sorted(check.errors))
    }
}

/// The errors and warnings found so far, and where to locate them.
struct Check<'a> {
    spans: &'a Spans,
    errors: Vec<LoadError>,
    warnings: Vec<Warning>,
}

impl Check<'_> {
    fn error(&mut self, path: KeyPath, message: impl Into<String>, hint: impl Into<String>) {
        let error = LoadError::new(self.spans.locate(&path), path.to_string(), message);
        self.errors.push(error.with_hint(hint));
    }

    fn warning(&mut self, path: KeyPath, message: impl Into<String>) {
        self.warnings.push(Warning {
            location: self.spans.locate(&path),
            path: path.to_string(),
            message: message.into(),
        });
    }
}

/// `depends_on`: undefined services and cycles, through the graph.
fn dependencies(project: &Project, check: &mut Check<'_>) {
    let depends_on = |service: &str, dependency: &str| {
        KeyPath::root()
            .key("services")
            .key(service)
            .key("depends_on")
            .key(dependency)
    };
    match ServiceGraph::from_project(project) {
        Ok(graph) => {
            for ignored in graph.ignored() {
                check.warning(
                    depends_on(&ignored.service, &ignored.dependency),
                    ignored.to_string(),
                );
            }
        }
        Err(errors) => {
            for error in errors {
                match &error {
                    GraphError::UndefinedDependency {
                        service,
                        dependency,
                    } => {
                        if names_otherwise(project, service, dependency) {
                            continue;
                        }
                        let hint = suggest_or(dependency, project.services.keys(), || {
                            format!(
                                "define service \"{dependency}\", or set `required: false` \
                                 on this dependency"
                            )
                        });
                        check.error(depends_on(service, dependency), error.to_string(), hint);
                    }
                    GraphError::Cycle(cycle) => {
                        // Located at the cycle's first edge.
                        let (from, to) = match cycle.0.as_slice() {
                            [only] => (only, only),
                            [from, to, ..] => (from, to),
                            [] => continue,
                        };
                        // An edge the conversion inferred from a link or a
                        // `service:` namespace is not written under
                        // depends_on: point at what the user wrote.
                        let written = depends_on(from, to);
                        let inferred = project.services.get(from.as_str()).and_then(|s| {
                            let path = KeyPath::root().key("services").key(from);
                            service_refs(&path, s)
                                .into_iter()
                                .find(|r| r.target == to.as_str())
                        });
                        let at = match inferred {
                            Some(r) if !check.spans.contains(&written) => r.path,
                            _ => written,
                        };
                        check.error(
                            at,
                            error.to_string(),
                            "remove one of these dependencies to break the cycle",
                        );
                    }
                    GraphError::UnknownService(_) => {}
                }
            }
        }
    }
}

/// Whether `service` also names `target` through a link, `volumes_from` or a
/// `service:` namespace. The conversion adds an implicit `depends_on` entry
/// for each of those (as Compose does); a problem with the target is then
/// reported once, at the reference the user wrote.
pub(crate) fn names_otherwise(project: &Project, service: &str, target: &str) -> bool {
    project.services.get(service).is_some_and(|s| {
        service_refs(&KeyPath::root(), s)
            .iter()
            .any(|r| r.target == target)
    })
}

/// How one service names another outside `depends_on`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Via {
    /// `links: [db]` or `[db:alias]`.
    Link,
    /// `volumes_from: [db]` or `[db:ro]`.
    VolumesFrom,
    /// `service:db` as `network_mode`, `ipc` or `pid` (the key).
    Namespace(&'static str),
}

/// A reference from a service to another service of the project.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ServiceRef<'a> {
    /// Where the reference is written (`services.web.links[0]`).
    pub path: KeyPath,
    /// The service it names.
    pub target: &'a str,
    /// Which attribute names it.
    pub via: Via,
}

/// Every service `service` (at `path`) names through `links`,
/// `volumes_from` and the `service:NAME` forms of `network_mode`, `ipc` and
/// `pid`, in that order.
pub(crate) fn service_refs<'a>(path: &KeyPath, service: &'a Service) -> Vec<ServiceRef<'a>> {
    let before_colon = |s: &'a str| s.split_once(':').map_or(s, |(name, _)| name);
    let mut refs = Vec::new();
    for (i, link) in service.links.iter().enumerate() {
        refs.push(ServiceRef {
            path: path.key("links").index(i),
            target: before_colon(link),
            via: Via::Link,
        });
    }
    for (i, from) in service.volumes_from.iter().enumerate() {
        // `container:NAME[:ro]` names a container outside the project.
        if !from.starts_with("container:") {
            refs.push(ServiceRef {
                path: path.key("volumes_from").index(i),
                target: before_colon(from),
                via: Via::VolumesFrom,
            });
        }
    }
    let network_mode = match &service.network_mode {
        Some(NetworkMode::Service(target)) => Some(target.as_str()),
        _ => None,
    };
    let shared = |v: &'a Option<String>| v.as_deref().and_then(|v| v.strip_prefix("service:"));
    let namespaces = [
        ("network_mode", network_mode),
        ("ipc", shared(&service.ipc)),
        ("pid", shared(&service.pid)),
    ];
    for (key, target) in namespaces {
        if let Some(target) = target {
            refs.push(ServiceRef {
                path: path.key(key),
                target,
                via: Via::Namespace(key),
            });
        }
    }
    refs
}

/// References to services the project does not define.
fn service_references(
    project: &Project,
    name: &str,
    service: &Service,
    path: &KeyPath,
    check: &mut Check<'_>,
) {
    for r in service_refs(path, service) {
        let target = r.target;
        if project.services.contains_key(target) {
            continue;
        }
        let (message, otherwise) = match r.via {
            Via::Link => (
                format!("service \"{name}\" links to undefined service \"{target}\""),
                format!("define service \"{target}\", or remove the link"),
            ),
            Via::VolumesFrom => (
                format!("service \"{name}\" mounts volumes from undefined service \"{target}\""),
                format!(
                    "define service \"{target}\", or write container:{target} for a container \
                     outside the project"
                ),
            ),
            Via::Namespace(key) => (
                format!(
                    "service \"{name}\" uses {key} service:{target}, but service \"{target}\" \
                     is not defined"
                ),
                format!(
                    "define service \"{target}\", or write container:{target} for a container \
                     outside the project"
                ),
            ),
        };
        let hint = suggest_or(target, project.services.keys(), || otherwise);
        check.error(r.path, message, hint);
    }
}

/// Networks, named volumes, secrets and configs a service uses must be
/// declared at the top level.
fn resource_references(
    project: &Project,
    name: &str,
    service: &Service,
    path: &KeyPath,
    check: &mut Check<'_>,
) {
    for network in service.networks.keys() {
        undeclared(
            check,
            path.key("networks").key(network),
            name,
            ("network", "networks"),
            network,
            &project.networks,
        );
    }
    for (i, mount) in service.volumes.iter().enumerate() {
        // A volume mount without a source is anonymous: nothing to declare.
        if let (VolumeType::Volume, Some(source)) = (mount.kind, &mount.source) {
            undeclared(
                check,
                path.key("volumes").index(i),
                name,
                ("volume", "volumes"),
                source,
                &project.volumes,
            );
        }
    }
    let build_secrets = service.build.iter().flat_map(|b| b.secrets.iter());
    let secrets = service
        .secrets
        .iter()
        .enumerate()
        .map(|(i, s)| (path.key("secrets").index(i), s))
        .chain(
            build_secrets
                .enumerate()
                .map(|(i, s)| (path.key("build").key("secrets").index(i), s)),
        );
    for (at, secret) in secrets {
        let kind = ("secret", "secrets");
        undeclared(check, at, name, kind, &secret.source, &project.secrets);
    }
    for (i, config) in service.configs.iter().enumerate() {
        let at = path.key("configs").index(i);
        let kind = ("config", "configs");
        undeclared(check, at, name, kind, &config.source, &project.configs);
    }
}

/// Reports `key` of `kind` (singular, top-level key) when `declared` lacks it.
fn undeclared<T>(
    check: &mut Check<'_>,
    path: KeyPath,
    service: &str,
    (kind, top_level): (&str, &str),
    key: &str,
    declared: &IndexMap<String, T>,
) {
    if declared.contains_key(key) {
        return;
    }
    let hint = suggest_or(key, declared.keys(), || {
        let mut hint = format!("declare {kind} \"{key}\" under the top-level `{top_level}:` key");
        if kind == "volume" {
            hint.push_str(", or write a path such as ./");
            hint.push_str(key);
            hint.push_str(" for a bind mount");
        }
        hint
    });
    check.error(
        path,
        format!("service \"{service}\" refers to undefined {kind} \"{key}\""),
        hint,
    );
}

/// Each `container_name` used a second time (in file order) is an error
/// naming the service that used it first.
fn container_names(project: &Project, check: &mut Check<'_>) {
    let mut owners: IndexMap<&str, &str> = IndexMap::new();
    for (name, service) in &project.services {
        let Some(container_name) = service.container_name.as_deref() else {
            continue;
        };
        match owners.get(container_name) {
            Some(owner) => check.error(
                KeyPath::root()
                    .key("services")
                    .key(name)
                    .key("container_name"),
                format!(
                    "container name \"{container_name}\" is already used by service \"{owner}\""
                ),
                "container names must be unique on the host: rename one of them",
            ),
            None => {
                owners.insert(container_name, name);
            }
        }
    }
}

/// `did you mean "x"?` for the closest of `candidates` to a misspelt `name`
/// (at most two edits away, ties broken by name), or `otherwise`.
pub(crate) fn suggest_or<'a>(
    name: &str,
    candidates: impl Iterator<Item = &'a String>,
    otherwise: impl FnOnce() -> String,
) -> String {
    let closest = candidates
        .map(|c| (strsim::levenshtein(name, c), c))
        .filter(|(distance, _)| *distance <= 2 && *distance < name.chars().count())
        .min();
    match closest {
        Some((_, candidate)) => format!("did you mean \"{candidate}\"?"),
        None => otherwise(),
    }
}

#[cfg(test)]
mod tests;
