//! Reconciling: the project as written, the engine as observed, and the
//! command's options in; the [`Plan`] that converges the one to the other
//! out. Pure: no I/O, no clock, and the same inputs give the same plan.
//!
//! - [`reconcile`] plans `up`: networks and volumes first, then each service
//!   in dependency order (create, recreate, scale, start, wait), then orphans.
//! - [`reconcile_down`] plans `down`: containers stopped dependents first and
//!   removed, then networks and, with `-v`, volumes.

mod check;
mod down;
mod resources;
mod up;

#[cfg(test)]
mod tests;

pub use down::reconcile_down;
pub use up::reconcile;

use super::labels::{self, ProjectLabels};
use super::observe::{ContainerState, Observed, ObservedContainer};
use super::plan::{Action, OpId, Plan, Resource, Target};
use stack_compose::model::{NetworkMode, Project, Service};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

/// When an existing container is replaced by a new one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Recreate {
    /// When its configuration or image changed (the default).
    #[default]
    Diverged,
    /// Always (`--force-recreate`).
    Force,
    /// Never (`--no-recreate`).
    Never,
}

/// What `up` (and `create`) is asked to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpOptions {
    /// The services named on the command line; empty means all. Unless
    /// `no_deps`, what they depend on comes up too.
    pub services: Vec<String>,
    /// Recreate policy for the named services (all when none is named).
    pub recreate: Recreate,
    /// Recreate policy for the dependencies brought up with them
    /// (`--always-recreate-deps` makes it [`Recreate::Force`]).
    pub recreate_dependencies: Recreate,
    /// `--no-deps`: leave the named services' dependencies alone.
    pub no_deps: bool,
    /// `--remove-orphans`: remove containers of services the file no
    /// longer has; without it, the plan only warns about them.
    pub remove_orphans: bool,
    /// `--scale SERVICE=N`, overriding `scale` and `deploy.replicas`.
    pub scale: BTreeMap<String, u32>,
    /// `-t`: the grace period of stops, instead of each service's
    /// `stop_grace_period`.
    pub timeout: Option<Duration>,
    /// False for `--no-start` and `create`: containers are created only.
    pub start: bool,
    /// Services of the file that this run leaves out (inactive profiles,
    /// services not selected): their containers are neither touched nor
    /// orphans.
    pub disabled_services: BTreeSet<String>,
    /// Where the project comes from, recorded on every container.
    pub labels: ProjectLabels,
}

impl Default for UpOptions {
    fn default() -> Self {
        UpOptions {
            services: Vec::new(),
            recreate: Recreate::Diverged,
            recreate_dependencies: Recreate::Diverged,
            no_deps: false,
            remove_orphans: false,
            scale: BTreeMap::new(),
            timeout: None,
            start: true,
            disabled_services: BTreeSet::new(),
            labels: ProjectLabels::default(),
        }
    }
}

/// What `down` is asked to do.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DownOptions {
    /// `-v`: also remove the project's named volumes and the containers'
    /// anonymous ones.
    pub remove_volumes: bool,
    /// `--remove-orphans`: also remove containers of services the file no
    /// longer has.
    pub remove_orphans: bool,
    /// `-t`: the grace period of stops.
    pub timeout: Option<Duration>,
    /// Services of the file outside the active profiles: their containers
    /// are left alone, and are not orphans.
    pub disabled_services: BTreeSet<String>,
}

/// Why `up` cannot be planned: every reason found, in a stable order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReconcileError {
    /// The reasons, sorted.
    pub problems: Vec<Problem>,
}

impl std::error::Error for ReconcileError {}

impl fmt::Display for ReconcileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, problem) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{problem}")?;
        }
        Ok(())
    }
}

/// One reason `up` cannot go ahead; each says what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Problem {
    /// A service named on the command line (or in `--scale`) is not in the project.
    UnknownService(String),
    /// An `external: true` network does not exist.
    MissingExternalNetwork {
        /// Its key under `networks:`.
        key: String,
        /// The engine name looked for.
        name: String,
    },
    /// An `external: true` volume does not exist.
    MissingExternalVolume {
        /// Its key under `volumes:`.
        key: String,
        /// The engine name looked for.
        name: String,
    },
    /// A service's image is not present on the engine.
    MissingImage {
        /// The service.
        service: String,
        /// The image reference.
        image: String,
        /// Whether the service has a `build:` section.
        build: bool,
    },
    /// A service with a fixed `container_name` asked for several replicas.
    ContainerNameWithScale {
        /// The service.
        service: String,
        /// Its `container_name`.
        container_name: String,
        /// The replicas asked for.
        replicas: u32,
    },
    /// A service shares the namespace or volumes of a service that will
    /// have no container (`--no-deps` or zero replicas).
    NothingToShare {
        /// The service.
        service: String,
        /// The service it shares with.
        parent: String,
    },
    /// A configuration could not be hashed.
    Hash {
        /// What was hashed (`service "web"`).
        object: String,
        /// The serializer's message.
        message: String,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::UnknownService(name) => write!(
                f,
                "no such service: {name} (check the name against `stack config --services`)"
            ),
            Problem::MissingExternalNetwork { key, name } => write!(
                f,
                "network \"{key}\" is external but no network named \"{name}\" exists \
                 (create it with `stack network create {name}`, or remove `external: true`)"
            ),
            Problem::MissingExternalVolume { key, name } => write!(
                f,
                "volume \"{key}\" is external but no volume named \"{name}\" exists \
                 (create it with `stack volume create {name}`, or remove `external: true`)"
            ),
            Problem::MissingImage {
                service,
                image,
                build: true,
            } => write!(
                f,
                "service \"{service}\" builds image \"{image}\", which is not in the engine: \
                 stack cannot build images yet; build it with another tool and load it with \
                 `stack image load`"
            ),
            Problem::MissingImage { service, image, .. } => write!(
                f,
                "service \"{service}\" uses image \"{image}\", which is not in the engine: \
                 stack cannot pull images yet; load it with `stack image load` (e.g. from \
                 `docker save {image}`) or import a root filesystem with `stack image import`"
            ),
            Problem::ContainerNameWithScale {
                service,
                container_name,
                replicas,
            } => write!(
                f,
                "service \"{service}\" is scaled to {replicas} containers but sets \
                 container_name \"{container_name}\", which only one container can have \
                 (remove container_name to run several)"
            ),
            Problem::NothingToShare { service, parent } => write!(
                f,
                "service \"{service}\" shares the namespace or volumes of service \"{parent}\", \
                 which has no container (bring \"{parent}\" up too, or give it replicas)"
            ),
            Problem::Hash { object, message } => {
                write!(f, "cannot hash the configuration of {object}: {message}")
            }
        }
    }
}

/// The project's containers, sorted out by what they belong to.
struct Containers<'a> {
    /// Service containers of the project's services, by service.
    by_service: BTreeMap<&'a str, Vec<&'a ObservedContainer>>,
    /// Containers of services the project does not know, and one-off
    /// containers that have ended; sorted by name.
    orphans: Vec<&'a ObservedContainer>,
}

/// Sorts the observed containers of `project` as Compose does: one-off
/// containers still running are left alone, and so are containers of
/// `disabled` services.
fn classify<'a>(
    project: &'a Project,
    observed: &'a Observed,
    disabled: &BTreeSet<String>,
) -> Containers<'a> {
    let mut by_service: BTreeMap<&str, Vec<&ObservedContainer>> = BTreeMap::new();
    let mut orphans = Vec::new();
    for c in &observed.containers {
        if c.project() != Some(project.name.as_str()) {
            continue;
        }
        if c.is_oneoff() {
            if matches!(c.state, ContainerState::Exited | ContainerState::Dead) {
                orphans.push(c);
            }
            continue;
        }
        match c.service() {
            Some(service) if project.services.contains_key(service) => {
                by_service.entry(service).or_default().push(c);
            }
            Some(service) if disabled.contains(service) => {}
            _ => orphans.push(c),
        }
    }
    for list in by_service.values_mut() {
        list.sort_by(|a, b| (a.number(), &a.name).cmp(&(b.number(), &b.name)));
    }
    orphans.sort_by(|a, b| a.name.cmp(&b.name));
    Containers {
        by_service,
        orphans,
    }
}

/// Plans stopping (when running) and removing each orphan; returns the
/// removals.
fn remove_orphans(
    plan: &mut Plan,
    orphans: &[&ObservedContainer],
    timeout: Option<Duration>,
) -> Vec<OpId> {
    let mut removed = Vec::new();
    for c in orphans {
        let cause = match c.service() {
            _ if c.is_oneoff() && c.state.is_stoppable() => {
                "one-off container (down --remove-orphans)".to_owned()
            }
            _ if c.is_oneoff() => "one-off container has ended".to_owned(),
            Some(service) => format!("service {service} is not in the project"),
            None => "container has no service label".to_owned(),
        };
        let resource = Resource::Orphan(c.name.clone());
        let stop = c.state.is_stoppable().then(|| {
            plan.add(
                resource.clone(),
                Action::StopContainer {
                    container: existing(c),
                    timeout,
                },
                cause.clone(),
                [],
            )
        });
        removed.push(plan.add(
            resource,
            Action::RemoveContainer {
                container: existing(c),
                volumes: false,
            },
            cause,
            stop,
        ));
    }
    removed
}

/// The warning Compose gives when orphans are found but not removed.
fn orphan_warning(orphans: &[&ObservedContainer]) -> String {
    let names: Vec<&str> = orphans.iter().map(|c| c.name.as_str()).collect();
    format!(
        "found orphan containers ({}) for this project; if you removed or renamed \
         their service in the compose file, run this command with --remove-orphans \
         to clean them up",
        names.join(", ")
    )
}

fn existing(c: &ObservedContainer) -> Target {
    Target::Existing {
        id: c.id.clone(),
        name: c.name.clone(),
    }
}

fn container_resource(service: &str, c: &ObservedContainer) -> Resource {
    Resource::Container {
        service: service.to_owned(),
        number: c.number(),
    }
}

/// The grace period of a stop: `-t` when given, else the service's own.
fn stop_timeout(option: Option<Duration>, spec: &Service) -> Option<Duration> {
    option.or_else(|| spec.stop_grace_period.map(|d| d.as_std()))
}

/// Whether an observed network or volume with these labels was created for
/// `project` (by `stack` or by Compose).
fn owned_by(labels: &BTreeMap<String, String>, project: &str) -> bool {
    labels.get(labels::PROJECT).map(String::as_str) == Some(project)
}

/// The services whose containers `spec`'s containers share something with
/// (`network_mode`, `ipc` or `pid` of `service:NAME`, `volumes_from`): they
/// must exist first, and recreating them recreates `spec`'s containers.
fn namespace_parents(spec: &Service) -> Vec<&str> {
    let mut parents = Vec::new();
    if let Some(NetworkMode::Service(name)) = &spec.network_mode {
        parents.push(name.as_str());
    }
    for ns in [&spec.ipc, &spec.pid].into_iter().flatten() {
        if let Some(name) = ns.strip_prefix("service:") {
            parents.push(name);
        }
    }
    for from in &spec.volumes_from {
        if !from.starts_with("container:") {
            parents.push(from.split(':').next().unwrap_or(from));
        }
    }
    parents.sort_unstable();
    parents.dedup();
    parents
}
