//! The networks and volumes `up` creates: the project's own ones that do
//! not exist yet. Existing ones are used as they are, as Compose does.

use super::owned_by;
use crate::orchestrator::labels;
use crate::orchestrator::observe::Observed;
use crate::orchestrator::plan::{Action, OpId, Plan, Resource};
use stack_compose::model::Project;
use std::collections::BTreeMap;

/// Plans creating the project's missing networks, by key; `hashes` are
/// their configuration hashes, by key.
pub(super) fn networks<'a>(
    plan: &mut Plan,
    project: &'a Project,
    observed: &Observed,
    hashes: &BTreeMap<&str, String>,
) -> BTreeMap<&'a str, OpId> {
    let mut created = BTreeMap::new();
    let mut keys: Vec<&String> = project.networks.keys().collect();
    keys.sort();
    for key in keys {
        let network = &project.networks[key];
        let Some(hash) = hashes.get(key.as_str()).filter(|_| !network.external) else {
            continue;
        };
        let found = observed.network(&network.name).map(|n| &n.labels);
        if exists(
            plan,
            &project.name,
            Object::Network,
            &network.name,
            found,
            hash,
        ) {
            continue;
        }
        let action = Action::CreateNetwork {
            name: network.name.clone(),
            labels: labels::network_labels(&project.name, key, network, hash),
        };
        let id = plan.add(Resource::Network(key.clone()), action, "not found", []);
        created.insert(key.as_str(), id);
    }
    created
}

/// Plans creating the project's missing volumes, by key; `hashes` are
/// their configuration hashes, by key.
pub(super) fn volumes<'a>(
    plan: &mut Plan,
    project: &'a Project,
    observed: &Observed,
    hashes: &BTreeMap<&str, String>,
) -> BTreeMap<&'a str, OpId> {
    let mut created = BTreeMap::new();
    let mut keys: Vec<&String> = project.volumes.keys().collect();
    keys.sort();
    for key in keys {
        let volume = &project.volumes[key];
        let Some(hash) = hashes.get(key.as_str()).filter(|_| !volume.external) else {
            continue;
        };
        let found = observed.volume(&volume.name).map(|v| &v.labels);
        if exists(
            plan,
            &project.name,
            Object::Volume,
            &volume.name,
            found,
            hash,
        ) {
            continue;
        }
        let action = Action::CreateVolume {
            name: volume.name.clone(),
            labels: labels::volume_labels(&project.name, key, volume, hash),
        };
        let id = plan.add(Resource::Volume(key.clone()), action, "not found", []);
        created.insert(key.as_str(), id);
    }
    created
}

/// Whether a network or volume of the project exists (with labels
/// `found`). An existing one is used as it is, as Compose does;
/// the plan warns when it belongs to someone else or was created from
/// another configuration, since the file's version is then not what runs.
fn exists(
    plan: &mut Plan,
    project: &str,
    kind: Object,
    name: &str,
    found: Option<&BTreeMap<String, String>>,
    hash: &str,
) -> bool {
    let Some(found) = found else {
        return false;
    };
    let (noun, remedy) = match kind {
        Object::Network => ("network", "run `stack down` and `stack up` to apply it"),
        Object::Volume => ("volume", "remove the volume (its data is lost) to apply it"),
    };
    if !owned_by(found, project) {
        plan.warn(format!(
            "{noun} {name} exists but was not created for project \"{project}\"; \
             set `external: true` to use an existing {noun}"
        ));
    } else if found
        .get(labels::CONFIG_HASH)
        .is_some_and(|created| created != hash)
    {
        plan.warn(format!(
            "{noun} {name} was created from another configuration than the \
             compose file's, which does not apply until it is created again; {remedy}"
        ));
    }
    true
}

/// A network or a volume, for messages.
#[derive(Clone, Copy)]
enum Object {
    Network,
    Volume,
}
