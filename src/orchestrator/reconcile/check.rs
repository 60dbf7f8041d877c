//! What `up` checks before planning anything: a doomed `up` creates
//! nothing and names every reason at once.

use super::{namespace_parents, Problem, ReconcileError, UpOptions};
use crate::orchestrator::labels;
use crate::orchestrator::observe::{Observed, ObservedContainer, ObservedImage};
use stack_compose::graph::ServiceGraph;
use stack_compose::hash::{config_hash, service_hash};
use stack_compose::model::Project;
use std::collections::{BTreeMap, BTreeSet};

/// What one service in scope should become.
pub(super) struct Desired<'a> {
    /// How many containers.
    pub replicas: u32,
    /// The configuration hash of the service.
    pub hash: String,
    /// The image reference it runs.
    pub image: String,
    /// That image; `None` only when no container is wanted.
    pub present: Option<&'a ObservedImage>,
}

/// The result of the checks: the services in scope and the hashes.
pub(super) struct Checked<'a> {
    /// The services this `up` acts on.
    pub services: BTreeMap<&'a str, Desired<'a>>,
    /// Configuration hashes of the networks and volumes to create, by key.
    pub network_hashes: BTreeMap<&'a str, String>,
    pub volume_hashes: BTreeMap<&'a str, String>,
}

/// Everything that can make `up` fail, checked before planning anything.
pub(super) fn check<'a>(
    project: &'a Project,
    graph: &ServiceGraph,
    observed: &'a Observed,
    containers: &BTreeMap<&str, Vec<&ObservedContainer>>,
    options: &UpOptions,
) -> Result<Checked<'a>, ReconcileError> {
    let mut problems = Vec::new();
    for name in options.services.iter().chain(options.scale.keys()) {
        if !project.services.contains_key(name) {
            problems.push(Problem::UnknownService(name.clone()));
        }
    }
    let services = services(project, graph, observed, options, &mut problems);
    shared(project, &services, containers, &mut problems);
    let network_hashes = objects(
        project
            .networks
            .iter()
            .map(|(key, n)| (key, n.external, &n.name)),
        |key| config_hash(&project.networks[key]),
        |name| observed.network(name).is_some(),
        |key, name| Problem::MissingExternalNetwork { key, name },
        "network",
        &mut problems,
    );
    let volume_hashes = objects(
        project
            .volumes
            .iter()
            .map(|(key, v)| (key, v.external, &v.name)),
        |key| config_hash(&project.volumes[key]),
        |name| observed.volume(name).is_some(),
        |key, name| Problem::MissingExternalVolume { key, name },
        "volume",
        &mut problems,
    );
    if problems.is_empty() {
        Ok(Checked {
            services,
            network_hashes,
            volume_hashes,
        })
    } else {
        problems.sort();
        problems.dedup();
        Err(ReconcileError { problems })
    }
}

/// The services in scope, with their replica count, hash and image.
fn services<'a>(
    project: &'a Project,
    graph: &ServiceGraph,
    observed: &'a Observed,
    options: &UpOptions,
    problems: &mut Vec<Problem>,
) -> BTreeMap<&'a str, Desired<'a>> {
    let mut services = BTreeMap::new();
    for name in scope(project, graph, options) {
        let Some((name, spec)) = project.services.get_key_value(name) else {
            continue;
        };
        let replicas = options
            .scale
            .get(name)
            .copied()
            .unwrap_or_else(|| spec.replicas());
        if let (Some(container_name), 2..) = (&spec.container_name, replicas) {
            problems.push(Problem::ContainerNameWithScale {
                service: name.clone(),
                container_name: container_name.clone(),
                replicas,
            });
        }
        let image = labels::image_reference(&project.name, name, spec);
        let present = observed.images.get(&image);
        if present.is_none() && replicas > 0 {
            problems.push(Problem::MissingImage {
                service: name.clone(),
                image: image.clone(),
                build: spec.build.is_some(),
            });
        }
        let hash = service_hash(spec).unwrap_or_else(|e| {
            problems.push(hash_problem(format!("service \"{name}\""), &e));
            String::new()
        });
        let desired = Desired {
            replicas,
            hash,
            image,
            present,
        };
        services.insert(name.as_str(), desired);
    }
    services
}

/// A container sharing another service's namespace or volumes needs a
/// container of it: one this `up` brings, or (with `--no-deps`) one that
/// exists already.
fn shared(
    project: &Project,
    services: &BTreeMap<&str, Desired<'_>>,
    containers: &BTreeMap<&str, Vec<&ObservedContainer>>,
    problems: &mut Vec<Problem>,
) {
    for (name, desired) in services {
        if desired.replicas == 0 {
            continue;
        }
        for parent in namespace_parents(&project.services[*name]) {
            let provided = match services.get(parent) {
                Some(parent) => parent.replicas > 0,
                None => containers.get(parent).is_some_and(|list| !list.is_empty()),
            };
            if !provided {
                problems.push(Problem::NothingToShare {
                    service: (*name).to_owned(),
                    parent: parent.to_owned(),
                });
            }
        }
    }
}

/// The configuration hashes of the project's own networks or volumes, by
/// key; external ones must exist instead.
fn objects<'a>(
    items: impl Iterator<Item = (&'a String, bool, &'a String)>,
    hash: impl Fn(&str) -> Result<String, serde_json::Error>,
    exists: impl Fn(&str) -> bool,
    missing: impl Fn(String, String) -> Problem,
    kind: &str,
    problems: &mut Vec<Problem>,
) -> BTreeMap<&'a str, String> {
    let mut hashes = BTreeMap::new();
    for (key, external, name) in items {
        if external {
            if !exists(name) {
                problems.push(missing(key.clone(), name.clone()));
            }
            continue;
        }
        match hash(key) {
            Ok(hash) => {
                hashes.insert(key.as_str(), hash);
            }
            Err(e) => problems.push(hash_problem(format!("{kind} \"{key}\""), &e)),
        }
    }
    hashes
}

fn hash_problem(object: String, error: &serde_json::Error) -> Problem {
    Problem::Hash {
        object,
        message: error.to_string(),
    }
}

/// The services this `up` acts on: all, or the named ones and (unless
/// `--no-deps`) everything they depend on.
fn scope<'a>(project: &'a Project, graph: &ServiceGraph, options: &UpOptions) -> Vec<&'a str> {
    let known: Vec<&str> = options
        .services
        .iter()
        .map(String::as_str)
        .filter(|name| project.services.contains_key(*name))
        .collect();
    let wanted: BTreeSet<String> = if options.services.is_empty() {
        project.services.keys().cloned().collect()
    } else if options.no_deps {
        known.iter().map(|s| s.to_string()).collect()
    } else {
        match graph.subgraph(&known) {
            Ok(sub) => sub.services().map(str::to_owned).collect(),
            // Only unknown names fail, and those were filtered out.
            Err(_) => known.iter().map(|s| s.to_string()).collect(),
        }
    };
    project
        .services
        .keys()
        .filter(|name| wanted.contains(*name))
        .map(String::as_str)
        .collect()
}
