//! Planning `up`.
//!
//! First every check that can fail (see `check.rs`: unknown services,
//! missing external networks and volumes, missing images, `container_name`
//! on a scaled service, a namespace to share with no container): a doomed
//! `up` plans nothing and names every reason. Then the plan, in this order:
//!
//! 1. networks and volumes the project lacks;
//! 2. each service, dependencies first: containers beyond the replica count
//!    removed, changed ones recreated (stop, remove, create, start), stopped
//!    ones started, missing replicas created and started; a start waits for
//!    the starts of the services it depends on (`service_started`) or for a
//!    `Wait` op on them (`service_healthy`, `service_completed_successfully`);
//! 3. orphans removed, or a warning naming them.

use super::check::{check, Checked, Desired};
use super::resources;
use super::{
    classify, container_resource, existing, namespace_parents, orphan_warning, remove_orphans,
    stop_timeout, ReconcileError, Recreate, UpOptions,
};
use crate::orchestrator::labels::{self, ContainerIdentity};
use crate::orchestrator::observe::{
    ContainerState, MountKind, Observed, ObservedContainer, ObservedImage,
};
use crate::orchestrator::plan::{
    Action, CreateContainer, InheritedMount, OpId, Plan, Resource, Target, Wait,
};
use stack_compose::graph::{Edge, ServiceGraph};
use stack_compose::model::{Project, Service, ServiceCondition, VolumeType};
use std::collections::{BTreeMap, BTreeSet};

/// Plans `up` of `project` (whose dependency graph is `graph`) on an engine
/// in state `observed`. Fails, naming every reason, when `up` cannot succeed.
pub fn reconcile(
    project: &Project,
    graph: &ServiceGraph,
    observed: &Observed,
    options: &UpOptions,
) -> Result<Plan, ReconcileError> {
    let containers = classify(project, observed, &options.disabled_services);
    let checked = check(project, graph, observed, &containers.by_service, options)?;
    let mut plan = Plan::default();
    let networks = resources::networks(&mut plan, project, observed, &checked.network_hashes);
    let volumes = resources::volumes(&mut plan, project, observed, &checked.volume_hashes);
    let mut up = Up {
        project,
        graph,
        options,
        checked,
        containers: containers.by_service,
        plan,
        networks,
        volumes,
        placed: BTreeMap::new(),
        starts: BTreeMap::new(),
        waits: BTreeMap::new(),
        stopped: BTreeMap::new(),
        dependents_stopped: BTreeMap::new(),
        recreated: BTreeSet::new(),
    };
    for level in graph.start_levels() {
        for name in level {
            if up.checked.services.contains_key(name) {
                up.service(name);
            }
        }
    }
    if options.remove_orphans {
        remove_orphans(&mut up.plan, &containers.orphans, options.timeout);
    } else if !containers.orphans.is_empty() {
        up.plan.warn(orphan_warning(&containers.orphans));
    }
    Ok(up.plan)
}

/// The planner's working state.
struct Up<'a> {
    project: &'a Project,
    graph: &'a ServiceGraph,
    options: &'a UpOptions,
    checked: Checked<'a>,
    containers: BTreeMap<&'a str, Vec<&'a ObservedContainer>>,
    plan: Plan,
    /// Network and volume creations, by key.
    networks: BTreeMap<&'a str, OpId>,
    volumes: BTreeMap<&'a str, OpId>,
    /// The containers each service has once the plan has run, by number.
    placed: BTreeMap<&'a str, Vec<(u32, Target)>>,
    /// Container starts (unpauses included), by service.
    starts: BTreeMap<&'a str, Vec<OpId>>,
    /// `Wait` ops by (dependent, dependency).
    waits: BTreeMap<(&'a str, &'a str), OpId>,
    /// Containers already stopped by the plan (by id), and why.
    stopped: BTreeMap<&'a str, (OpId, String)>,
    /// The stops of `restart: true` dependents, by the recreated service.
    dependents_stopped: BTreeMap<&'a str, Vec<OpId>>,
    /// Services with a recreated container.
    recreated: BTreeSet<&'a str>,
}

impl<'a> Up<'a> {
    /// Plans one service. Its dependencies are already planned.
    fn service(&mut self, name: &'a str) {
        let spec = &self.project.services[name];
        let desired = &self.checked.services[name];
        let replicas = desired.replicas as usize;
        let targeted =
            self.options.services.is_empty() || self.options.services.iter().any(|s| s == name);
        let policy = if targeted {
            self.options.recreate
        } else {
            self.options.recreate_dependencies
        };
        let parent = namespace_parents(spec)
            .into_iter()
            .find(|p| self.recreated.contains(p));
        let expected = Expected {
            desired,
            networks: spec
                .networks
                .keys()
                .filter_map(|key| self.project.networks.get(key))
                .map(|network| network.name.as_str())
                .collect(),
            volumes: spec
                .volumes
                .iter()
                .filter(|mount| mount.kind == VolumeType::Volume)
                .filter_map(|mount| self.project.volumes.get(mount.source.as_deref()?))
                .map(|volume| volume.name.as_str())
                .collect(),
        };
        let existing: Vec<&'a ObservedContainer> =
            self.containers.get(name).cloned().unwrap_or_default();
        let mut current: Vec<(&'a ObservedContainer, Option<String>)> = existing
            .iter()
            .map(|c| (*c, diverged(c, &expected, policy, parent)))
            .collect();
        // As Compose does: up-to-date containers first, then by number, so
        // a scale-down removes outdated and high-numbered containers first.
        current.sort_by(|(a, a_why), (b, b_why)| {
            (a_why.is_some(), a.number(), a.created, &a.id).cmp(&(
                b_why.is_some(),
                b.number(),
                b.created,
                &b.id,
            ))
        });
        let highest = existing.iter().map(|c| c.number()).max().unwrap_or(0);

        for (c, _) in current.iter().skip(replicas).rev() {
            self.scale_down(name, spec, c);
        }
        for (c, why) in current.iter().take(replicas) {
            match why {
                Some(why) => self.recreate(name, spec, c, why),
                None => self.keep(name, c),
            }
        }
        let missing = replicas.saturating_sub(current.len());
        let cause = if existing.is_empty() {
            "no existing container".to_owned()
        } else {
            format!("scale up to {replicas}")
        };
        for number in (highest + 1..).take(missing) {
            let create = self.create(name, spec, number, None, &cause, []);
            let resource = Resource::Container {
                service: name.to_owned(),
                number,
            };
            self.start(name, resource, Target::Created(create), &cause, [create]);
        }
    }

    fn scale_down(&mut self, name: &'a str, spec: &Service, c: &'a ObservedContainer) {
        let resource = container_resource(name, c);
        let stop = self.stop(name, spec, c, "scale down", []);
        let remove = Action::RemoveContainer {
            container: existing(c),
            volumes: false,
        };
        self.plan.add(resource, remove, "scale down", stop);
    }

    /// Plans stopping `c` unless it is not running or the plan already
    /// stops it; returns the stop.
    fn stop(
        &mut self,
        name: &str,
        spec: &Service,
        c: &'a ObservedContainer,
        cause: &str,
        after: impl IntoIterator<Item = OpId>,
    ) -> Option<OpId> {
        if let Some((id, _)) = self.stopped.get(c.id.as_str()) {
            return Some(*id);
        }
        if !c.state.is_stoppable() {
            return None;
        }
        let action = Action::StopContainer {
            container: existing(c),
            timeout: stop_timeout(self.options.timeout, spec),
        };
        let id = self
            .plan
            .add(container_resource(name, c), action, cause, after);
        self.stopped.insert(&c.id, (id, cause.to_owned()));
        Some(id)
    }

    fn recreate(&mut self, name: &'a str, spec: &Service, c: &'a ObservedContainer, why: &str) {
        let resource = container_resource(name, c);
        let dependents = self.stop_restart_dependents(name);
        let stop = self.stop(name, spec, c, why, dependents.iter().copied());
        let remove = Action::RemoveContainer {
            container: existing(c),
            volumes: false,
        };
        let after_stop = stop.map_or(dependents, |s| vec![s]);
        let remove = self.plan.add(resource.clone(), remove, why, after_stop);
        let create = self.create(name, spec, c.number(), Some(c), why, [remove]);
        self.start(name, resource, Target::Created(create), why, [create]);
        self.recreated.insert(name);
    }

    /// Before a service's containers are recreated, Compose stops the
    /// running containers of services that depend on it with
    /// `restart: true`; they start again after it (see [`Up::keep`]).
    fn stop_restart_dependents(&mut self, name: &'a str) -> Vec<OpId> {
        if !self.options.start {
            // Nothing would start them again.
            return Vec::new();
        }
        if let Some(ids) = self.dependents_stopped.get(name) {
            return ids.clone();
        }
        let mut ids = Vec::new();
        let graph = self.graph;
        // A dependent already stopped (for another recreated dependency)
        // keeps that stop, which this recreate then waits for too.
        for (dependent, edge) in graph.dependents(name).unwrap_or_default() {
            let Some((dependent, spec)) = self.project.services.get_key_value(dependent) else {
                continue;
            };
            if !edge.restart || !self.checked.services.contains_key(dependent.as_str()) {
                continue;
            }
            let cause = format!("dependency {name} is recreated");
            let containers = self.containers.get(dependent.as_str()).cloned();
            for c in containers.unwrap_or_default() {
                ids.extend(self.stop(dependent, spec, c, &cause, []));
            }
        }
        self.dependents_stopped.insert(name, ids.clone());
        ids
    }

    /// An up-to-date container: started again when the plan stopped it or
    /// it is not running, as Compose's `up` does.
    fn keep(&mut self, name: &'a str, c: &'a ObservedContainer) {
        self.placed
            .entry(name)
            .or_default()
            .push((c.number(), existing(c)));
        let resource = container_resource(name, c);
        if let Some((stop, cause)) = self.stopped.get(c.id.as_str()).cloned() {
            let cause = format!("restart: {cause}");
            self.start(name, resource, existing(c), &cause, [stop]);
            return;
        }
        match c.state {
            ContainerState::Running | ContainerState::Restarting | ContainerState::Removing => {}
            ContainerState::Paused => self.unpause(name, resource, c),
            ContainerState::Created | ContainerState::Exited | ContainerState::Dead => {
                self.start(name, resource, existing(c), "not running", []);
            }
        }
    }

    fn create(
        &mut self,
        name: &'a str,
        spec: &Service,
        number: u32,
        replaces: Option<&ObservedContainer>,
        cause: &str,
        after: impl IntoIterator<Item = OpId>,
    ) -> OpId {
        let desired = &self.checked.services[name];
        let mut deps: Vec<OpId> = after.into_iter().collect();
        deps.extend(
            spec.networks
                .keys()
                .filter_map(|k| self.networks.get(k.as_str())),
        );
        for mount in &spec.volumes {
            if let (VolumeType::Volume, Some(source)) = (mount.kind, &mount.source) {
                deps.extend(self.volumes.get(source.as_str()));
            }
        }
        let shares = self.shares(spec);
        deps.extend(shares.values().filter_map(|target| match target {
            Target::Created(op) => Some(*op),
            Target::Existing { .. } => None,
        }));
        let image_id = desired.present.map_or("", |image| image.id.as_str());
        let identity = ContainerIdentity {
            project: &self.project.name,
            service: name,
            number,
            config_hash: &desired.hash,
            image_id,
            replaces: replaces.map(|_| format!("{name}-{number}")),
        };
        let inherit = match (replaces, desired.present) {
            (Some(old), Some(image)) => inherited_mounts(spec, image, old),
            _ => Vec::new(),
        };
        let action = Action::CreateContainer(Box::new(CreateContainer {
            service: name.to_owned(),
            number,
            name: labels::container_name(&self.project.name, name, spec, number),
            image: desired.image.clone(),
            labels: labels::container_labels(&identity, spec, &self.options.labels),
            inherit,
            shares,
        }));
        let resource = Resource::Container {
            service: name.to_owned(),
            number,
        };
        let id = self.plan.add(resource, action, cause, deps);
        self.placed
            .entry(name)
            .or_default()
            .push((number, Target::Created(id)));
        id
    }

    /// For each service whose namespace or volumes `spec` shares, the
    /// container to share with: its lowest-numbered one once the plan has
    /// run, or, for a service outside this `up`, as it is now. Services
    /// come after those they share with (the loader makes sharing a
    /// dependency), and the checks made sure each has a container.
    fn shares(&self, spec: &Service) -> BTreeMap<String, Target> {
        let mut shares = BTreeMap::new();
        for parent in namespace_parents(spec) {
            let placed = self.placed.get(parent).and_then(|list| {
                list.iter()
                    .min_by_key(|(number, _)| *number)
                    .map(|(_, target)| target.clone())
            });
            let current = || {
                let list = self.containers.get(parent)?;
                list.iter().min_by_key(|c| c.number()).map(|c| existing(c))
            };
            if let Some(target) = placed.or_else(current) {
                shares.insert(parent.to_owned(), target);
            }
        }
        shares
    }

    fn start(
        &mut self,
        name: &'a str,
        resource: Resource,
        target: Target,
        cause: &str,
        after: impl IntoIterator<Item = OpId>,
    ) {
        if !self.options.start {
            return;
        }
        let mut deps: Vec<OpId> = after.into_iter().collect();
        deps.extend(self.gates(name));
        let id = self
            .plan
            .add(resource, Action::StartContainer(target), cause, deps);
        self.starts.entry(name).or_default().push(id);
    }

    fn unpause(&mut self, name: &'a str, resource: Resource, c: &ObservedContainer) {
        if !self.options.start {
            return;
        }
        let deps = self.gates(name);
        let action = Action::UnpauseContainer(existing(c));
        let id = self.plan.add(resource, action, "paused", deps);
        self.starts.entry(name).or_default().push(id);
    }

    /// What a start of `name`'s containers waits for: the starts of its
    /// `service_started` dependencies, and a `Wait` op per dependency with
    /// another condition. Dependencies outside this `up` (`--no-deps`) and
    /// ones scaled to zero are not waited for, as in Compose.
    fn gates(&mut self, name: &'a str) -> Vec<OpId> {
        let mut deps = Vec::new();
        let graph = self.graph;
        for (dependency, edge) in graph.dependencies(name).unwrap_or_default() {
            let Some((dependency, desired)) = self.checked.services.get_key_value(dependency)
            else {
                continue;
            };
            if desired.replicas == 0 {
                continue;
            }
            let started = self.starts.get(dependency).cloned().unwrap_or_default();
            match edge.condition {
                ServiceCondition::ServiceStarted => deps.extend(started),
                _ => deps.push(self.wait(name, dependency, edge, started)),
            }
        }
        deps
    }

    fn wait(
        &mut self,
        dependent: &'a str,
        dependency: &'a str,
        edge: Edge,
        after: Vec<OpId>,
    ) -> OpId {
        if let Some(id) = self.waits.get(&(dependent, dependency)) {
            return *id;
        }
        let action = Action::Wait(Wait {
            dependent: dependent.to_owned(),
            dependency: dependency.to_owned(),
            edge,
        });
        let cause = format!("{dependent} depends on {dependency}");
        let resource = Resource::Service(dependency.to_owned());
        let id = self.plan.add(resource, action, cause, after);
        self.waits.insert((dependent, dependency), id);
        id
    }
}

/// What a service's containers must look like.
struct Expected<'a, 'b> {
    desired: &'b Desired<'a>,
    /// The engine names of its networks and named volumes.
    networks: Vec<&'a str>,
    volumes: Vec<&'a str>,
}

/// Why container `c` must be replaced under `policy`, if it must. Besides
/// configuration and image, like Compose: a running container missing one
/// of its networks (removed and created again behind its back), or one not
/// mounting its named volumes (renamed).
fn diverged(
    c: &ObservedContainer,
    expected: &Expected<'_, '_>,
    policy: Recreate,
    parent: Option<&str>,
) -> Option<String> {
    let desired = expected.desired;
    match policy {
        Recreate::Never => return None,
        Recreate::Force => return Some("--force-recreate".to_owned()),
        Recreate::Diverged => {}
    }
    if let Some(parent) = parent {
        return Some(format!("shares resources with recreated {parent}"));
    }
    if c.config_hash() != Some(desired.hash.as_str()) {
        return Some("config changed".to_owned());
    }
    if desired.present.is_some_and(|image| image.id != c.image_id) {
        return Some("image changed".to_owned());
    }
    if c.state == ContainerState::Dead {
        return Some("container is dead".to_owned());
    }
    if c.state == ContainerState::Running {
        if let Some(network) = expected
            .networks
            .iter()
            .find(|name| !c.networks.iter().any(|n| n == *name))
        {
            return Some(format!("not connected to network {network}"));
        }
    }
    let mounted = |name: &str| {
        c.mounts
            .iter()
            .any(|m| m.kind == MountKind::Volume && m.name.as_deref() == Some(name))
    };
    let unmounted = expected.volumes.iter().find(|name| !mounted(name))?;
    Some(format!("volume {unmounted} is not mounted"))
}

/// The anonymous volumes a replacement of `old` takes over, as Compose
/// does: those mounted where the image declares a `VOLUME` or where the
/// service mounts a volume without a name, unless the service now mounts
/// something else there.
fn inherited_mounts(
    spec: &Service,
    image: &ObservedImage,
    old: &ObservedContainer,
) -> Vec<InheritedMount> {
    let mut inherit: Vec<InheritedMount> = old
        .mounts
        .iter()
        .filter(|m| m.kind == MountKind::Volume)
        .filter_map(|m| {
            let target = m.destination.as_str();
            let declared = spec.volumes.iter().find(|v| v.target == target);
            let anonymous = match declared {
                Some(v) => v.kind == VolumeType::Volume && v.source.is_none(),
                None => image.volumes.iter().any(|path| path == target),
            };
            Some(InheritedMount {
                volume: m.name.clone().filter(|_| anonymous)?,
                target: target.to_owned(),
                read_only: !m.read_write,
            })
        })
        .collect();
    inherit.sort_by(|a, b| a.target.cmp(&b.target));
    inherit
}
