//! Golden plans: a project loaded from YAML, an engine state written by
//! hand, and the plan text expected, in the manner of docker/compose's
//! `reconcile_test.go`.

mod down;
mod up;

use super::*;
use crate::orchestrator::labels::{container_labels, ContainerIdentity};
use crate::orchestrator::observe::{
    ContainerState, MountKind, ObservedContainer, ObservedImage, ObservedMount, ObservedNetwork,
    ObservedVolume,
};
use crate::orchestrator::test_project::load;
use stack_compose::Loaded;

/// A project and an engine state to reconcile it against.
struct World {
    loaded: Loaded,
    observed: Observed,
}

impl World {
    /// `yaml` on an engine with no project objects, where every image the
    /// services use is present with id `sha256:<image>`.
    fn new(yaml: &str) -> Self {
        let loaded = load(yaml);
        let mut observed = Observed::default();
        for (name, spec) in &loaded.project.services {
            let image = labels::image_reference("app", name, spec);
            let id = format!("sha256:{image}");
            observed.images.insert(
                image,
                ObservedImage {
                    id,
                    volumes: vec![],
                },
            );
        }
        World { loaded, observed }
    }

    /// Adds the network or volume a previous `up` created.
    fn with_network(mut self, name: &str) -> Self {
        self.observed.networks.push(ObservedNetwork {
            id: format!("net-{name}"),
            name: name.into(),
            labels: [(labels::PROJECT.to_owned(), "app".to_owned())].into(),
        });
        self
    }

    fn with_volume(mut self, name: &str) -> Self {
        self.observed.volumes.push(ObservedVolume {
            name: name.into(),
            labels: [(labels::PROJECT.to_owned(), "app".to_owned())].into(),
        });
        self
    }

    /// Adds container `number` of `service` as a previous `up` created it
    /// from the current file, in `state`.
    fn with(mut self, service: &str, number: u32, state: ContainerState) -> Self {
        let container = self.container(service, number, state);
        self.observed.containers.push(container);
        self
    }

    /// Everything of the file as a previous `up` left it: networks,
    /// volumes, and each service's replicas, running.
    fn up_to_date(mut self) -> Self {
        let project = self.loaded.project.clone();
        for (key, network) in project.networks.iter().filter(|(_, n)| !n.external) {
            let hash = stack_compose::hash::config_hash(network).expect("hash");
            self.observed.networks.push(ObservedNetwork {
                id: format!("net-{key}"),
                name: network.name.clone(),
                labels: labels::network_labels("app", key, network, &hash),
            });
        }
        for (key, volume) in project.volumes.iter().filter(|(_, v)| !v.external) {
            let hash = stack_compose::hash::config_hash(volume).expect("hash");
            self.observed.volumes.push(ObservedVolume {
                name: volume.name.clone(),
                labels: labels::volume_labels("app", key, volume, &hash),
            });
        }
        for (name, spec) in &project.services {
            for number in 1..=spec.replicas() {
                self = self.with(name, number, ContainerState::Running);
            }
        }
        self
    }

    fn container(&self, service: &str, number: u32, state: ContainerState) -> ObservedContainer {
        let spec = &self.loaded.project.services[service];
        let image = labels::image_reference("app", service, spec);
        let image_id = format!("sha256:{image}");
        let hash = stack_compose::hash::service_hash(spec).expect("hash");
        let project = &self.loaded.project;
        let networks = spec
            .networks
            .keys()
            .map(|key| project.networks[key].name.clone())
            .collect();
        let mounts = spec
            .volumes
            .iter()
            .filter_map(|m| {
                let volume = &project.volumes.get(m.source.as_deref()?)?.name;
                Some(mount(MountKind::Volume, Some(volume), &m.target))
            })
            .collect();
        let identity = ContainerIdentity {
            project: "app",
            service,
            number,
            config_hash: &hash,
            image_id: &image_id,
            replaces: None,
        };
        ObservedContainer {
            id: format!("{service}{number}"),
            name: labels::container_name("app", service, spec, number),
            labels: container_labels(&identity, spec, &ProjectLabels::default()),
            state,
            health: None,
            image_id,
            exit_code: None,
            created: i64::from(number),
            mounts,
            networks,
        }
    }

    /// The observed container named `name`, to edit.
    fn edit(&mut self, name: &str) -> &mut ObservedContainer {
        self.observed
            .containers
            .iter_mut()
            .find(|c| c.name == name)
            .expect("container")
    }

    fn up(&self, options: &UpOptions) -> Plan {
        match self.try_up(options) {
            Ok(plan) => plan,
            Err(e) => panic!("{e}"),
        }
    }

    fn try_up(&self, options: &UpOptions) -> Result<Plan, ReconcileError> {
        reconcile(
            &self.loaded.project,
            &self.loaded.graph,
            &self.observed,
            options,
        )
    }

    fn down(&self, options: &DownOptions) -> Plan {
        reconcile_down(
            &self.loaded.project,
            &self.loaded.graph,
            &self.observed,
            options,
        )
    }
}

/// Removes the common indentation and the first newline of an expected
/// plan written inline.
fn text(expected: &str) -> String {
    let expected = expected.strip_prefix('\n').unwrap_or(expected);
    let indent = expected
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start().len())
        .min()
        .unwrap_or(0);
    expected
        .lines()
        .map(|l| format!("{}\n", l.get(indent..).unwrap_or("")))
        .collect::<String>()
        .trim_end()
        .to_owned()
        + "\n"
}

#[track_caller]
fn assert_plan(plan: &Plan, expected: &str) {
    let expected = if expected.trim().is_empty() {
        String::new()
    } else {
        text(expected)
    };
    assert_eq!(plan.to_string(), expected, "\n--- got ---\n{plan}");
}

fn mount(kind: MountKind, name: Option<&str>, destination: &str) -> ObservedMount {
    ObservedMount {
        kind,
        name: name.map(str::to_owned),
        source: format!("/var/lib/stack/volumes/{}", name.unwrap_or("x")),
        destination: destination.into(),
        read_write: true,
    }
}
