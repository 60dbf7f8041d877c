//! Planning `down`.
//!
//! Each service's running containers stop once the containers of every
//! service depending on it have stopped (so dependents always stop before
//! what they depend on, and independent services stop in parallel); each
//! container is removed after its own stop. Then the project's networks
//! (never external ones, only ones created for this project) and, with `-v`,
//! its named volumes (never external ones) are removed once every container
//! is gone; `-v` also removes the containers' anonymous volumes.

use super::{
    classify, container_resource, existing, orphan_warning, owned_by, remove_orphans, stop_timeout,
    DownOptions,
};
use crate::orchestrator::observe::Observed;
use crate::orchestrator::plan::{Action, OpId, Plan, Resource};
use stack_compose::graph::ServiceGraph;
use stack_compose::model::Project;
use std::collections::BTreeMap;

/// Plans `down` of `project` (whose dependency graph is `graph`) on an
/// engine in state `observed`.
pub fn reconcile_down(
    project: &Project,
    graph: &ServiceGraph,
    observed: &Observed,
    options: &DownOptions,
) -> Plan {
    let containers = classify(project, observed, &options.disabled_services);
    let mut plan = Plan::default();
    // What "this service has stopped" means for the services it depends
    // on: its own stops, or, when none of its containers runs, whatever
    // its own dependents' stops were.
    let mut stopped: BTreeMap<&str, Vec<OpId>> = BTreeMap::new();
    let mut removed = Vec::new();
    for level in graph.stop_levels() {
        for name in level {
            let Some(spec) = project.services.get(name) else {
                continue;
            };
            let after: Vec<OpId> = graph
                .dependents(name)
                .unwrap_or_default()
                .iter()
                .flat_map(|(dependent, _)| stopped.get(dependent).cloned().unwrap_or_default())
                .collect();
            let mut stops = Vec::new();
            for c in containers.by_service.get(name).into_iter().flatten() {
                let resource = container_resource(name, c);
                let stop = c.state.is_stoppable().then(|| {
                    let action = Action::StopContainer {
                        container: existing(c),
                        timeout: stop_timeout(options.timeout, spec),
                    };
                    plan.add(resource.clone(), action, "down", after.iter().copied())
                });
                let remove = Action::RemoveContainer {
                    container: existing(c),
                    volumes: options.remove_volumes,
                };
                removed.push(plan.add(resource, remove, "down", stop));
                stops.extend(stop);
            }
            stopped.insert(name, if stops.is_empty() { after } else { stops });
        }
    }

    if options.remove_orphans {
        // As Compose, `--remove-orphans` takes one-off containers still
        // running too: they hold the project's networks.
        let running_oneoffs = observed.containers.iter().filter(|c| {
            c.project() == Some(project.name.as_str())
                && c.is_oneoff()
                && !containers.orphans.iter().any(|o| o.id == c.id)
        });
        let orphans: Vec<_> = containers
            .orphans
            .iter()
            .copied()
            .chain(running_oneoffs)
            .collect();
        removed.extend(remove_orphans(&mut plan, &orphans, options.timeout));
    } else if !containers.orphans.is_empty() {
        plan.warn(orphan_warning(&containers.orphans));
    }

    let mut networks: Vec<(&String, _)> = project.networks.iter().collect();
    networks.sort_by_key(|(key, _)| *key);
    for (key, network) in networks {
        let ours = observed
            .network(&network.name)
            .is_some_and(|found| owned_by(&found.labels, &project.name));
        if network.external || !ours {
            continue;
        }
        let action = Action::RemoveNetwork {
            name: network.name.clone(),
        };
        let resource = Resource::Network(key.clone());
        plan.add(resource, action, "down", removed.iter().copied());
    }

    if options.remove_volumes {
        let mut volumes: Vec<(&String, _)> = project.volumes.iter().collect();
        volumes.sort_by_key(|(key, _)| *key);
        for (key, volume) in volumes {
            // Like Compose, by name: `down -v` removes the volumes the file
            // declares, whoever created them, but never external ones.
            if volume.external || observed.volume(&volume.name).is_none() {
                continue;
            }
            let action = Action::RemoveVolume {
                name: volume.name.clone(),
            };
            let resource = Resource::Volume(key.clone());
            plan.add(resource, action, "down --volumes", removed.iter().copied());
        }
    }
    plan
}
