//! A plan: the operations one `up` or `down` performs, as a graph.
//!
//! Each [`Op`] is one engine call (or one wait), names the resource it acts
//! on, says why it is needed, and lists the ops that must finish first. The
//! executor walks the graph and makes no decision of its own; everything it
//! needs — names, labels, volumes to carry over, conditions to wait for — is
//! in the op. Ops are numbered in the order they were planned, which is
//! always a topological order (an op only depends on earlier ones).
//!
//! The text rendering is one line per op,
//! `[deps] -> #id resource, Action, cause`, then one `warning: ...` line per
//! warning: stable from run to run, so tests compare it as golden text.

use stack_compose::graph::Edge;
use std::collections::BTreeMap;
use std::fmt;
use std::time::Duration;

use super::labels::condition_name;

/// The number of an op in its plan (`#3`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OpId(pub usize);

impl fmt::Display for OpId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// What an op acts on, as the plan text names it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Resource {
    /// A project network, by its key (`network:default`).
    Network(String),
    /// A project volume, by its key (`volume:data`).
    Volume(String),
    /// One container of a service (`service:web:2`).
    Container {
        /// The service.
        service: String,
        /// The replica number.
        number: u32,
    },
    /// A service as a whole (`service:db`), for waits on its containers.
    Service(String),
    /// A container of a service the project no longer has (`orphan:app-old-1`).
    Orphan(String),
}

impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Resource::Network(key) => write!(f, "network:{key}"),
            Resource::Volume(key) => write!(f, "volume:{key}"),
            Resource::Container { service, number } => write!(f, "service:{service}:{number}"),
            Resource::Service(name) => write!(f, "service:{name}"),
            Resource::Orphan(name) => write!(f, "orphan:{name}"),
        }
    }
}

/// The container an op acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// One that exists now.
    Existing {
        /// The engine's id.
        id: String,
        /// Its name, for messages.
        name: String,
    },
    /// The one an earlier `CreateContainer` op of the plan creates.
    Created(OpId),
}

/// A container to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreateContainer {
    /// The service it runs (its spec is `project.services[service]`).
    pub service: String,
    /// Its replica number.
    pub number: u32,
    /// Its engine name.
    pub name: String,
    /// The image reference to run.
    pub image: String,
    /// Every label it carries, Compose's included.
    pub labels: BTreeMap<String, String>,
    /// Anonymous volumes of the container it replaces, mounted again at
    /// the same paths so their data survives the recreate.
    pub inherit: Vec<InheritedMount>,
    /// For each service named by `network_mode`, `ipc` or `pid`
    /// (`service:NAME`) or `volumes_from`: the container to share with.
    pub shares: BTreeMap<String, Target>,
}

/// An anonymous volume a recreated container takes over.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InheritedMount {
    /// The volume's engine name.
    pub volume: String,
    /// The path inside the container.
    pub target: String,
    /// Mounted read-only.
    pub read_only: bool,
}

/// A wait for a dependency's containers to reach a `depends_on` condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Wait {
    /// The service that waits.
    pub dependent: String,
    /// The service waited for (all its containers).
    pub dependency: String,
    /// The condition, whether it is required, and whether a restart of the
    /// dependency restarts the dependent, as written in `depends_on`. When
    /// not required, the executor warns instead of failing.
    pub edge: Edge,
}

/// What an op does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create a network (its spec is `project.networks[key]`).
    CreateNetwork {
        /// The engine name.
        name: String,
        /// Every label it carries.
        labels: BTreeMap<String, String>,
    },
    /// Remove a network.
    RemoveNetwork {
        /// The engine name.
        name: String,
    },
    /// Create a volume (its spec is `project.volumes[key]`).
    CreateVolume {
        /// The engine name.
        name: String,
        /// Every label it carries.
        labels: BTreeMap<String, String>,
    },
    /// Remove a volume.
    RemoveVolume {
        /// The engine name.
        name: String,
    },
    /// Create a container.
    CreateContainer(Box<CreateContainer>),
    /// Start a container.
    StartContainer(Target),
    /// Unpause a paused container.
    UnpauseContainer(Target),
    /// Stop a container: its stop signal, then SIGKILL after `timeout`
    /// (the service's `stop_grace_period` or `-t`; the engine's default
    /// when `None`).
    StopContainer {
        /// The container.
        container: Target,
        /// The grace period.
        timeout: Option<Duration>,
    },
    /// Remove a (stopped) container.
    RemoveContainer {
        /// The container.
        container: Target,
        /// Also remove its anonymous volumes (`down -v`).
        volumes: bool,
    },
    /// Wait until a dependency reaches a condition.
    Wait(Wait),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::CreateNetwork { .. } => f.write_str("CreateNetwork"),
            Action::RemoveNetwork { .. } => f.write_str("RemoveNetwork"),
            Action::CreateVolume { .. } => f.write_str("CreateVolume"),
            Action::RemoveVolume { .. } => f.write_str("RemoveVolume"),
            Action::CreateContainer(_) => f.write_str("CreateContainer"),
            Action::StartContainer(_) => f.write_str("StartContainer"),
            Action::UnpauseContainer(_) => f.write_str("UnpauseContainer"),
            Action::StopContainer { .. } => f.write_str("StopContainer"),
            Action::RemoveContainer { volumes: false, .. } => f.write_str("RemoveContainer"),
            Action::RemoveContainer { volumes: true, .. } => {
                f.write_str("RemoveContainer(volumes)")
            }
            Action::Wait(wait) => {
                write!(f, "Wait({}", condition_name(wait.edge.condition))?;
                if !wait.edge.required {
                    f.write_str(", optional")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// One operation of a plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Op {
    /// Its number.
    pub id: OpId,
    /// What it acts on.
    pub resource: Resource,
    /// What it does.
    pub action: Action,
    /// Why it is needed.
    pub cause: String,
    /// The ops that must have finished first, sorted.
    pub depends_on: Vec<OpId>,
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[")?;
        for (i, dep) in self.depends_on.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{dep}")?;
        }
        write!(
            f,
            "] -> #{} {}, {}, {}",
            self.id, self.resource, self.action, self.cause
        )
    }
}

/// The operations of one `up` or `down`, and what it warns about.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    ops: Vec<Op>,
    warnings: Vec<String>,
}

impl Plan {
    /// The ops, in a topological order (each after the ops it depends on).
    pub fn ops(&self) -> &[Op] {
        &self.ops
    }

    /// The op numbered `id`.
    pub fn op(&self, id: OpId) -> Option<&Op> {
        // Ids are handed out as 1-based positions.
        id.0.checked_sub(1).and_then(|i| self.ops.get(i))
    }

    /// What the user should be told before the plan runs.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Whether there is nothing to do.
    pub fn is_empty(&self) -> bool {
        self.ops.is_empty()
    }

    /// The plan of only the ops `keep` accepts, renumbered, each still
    /// after those of its dependencies that are kept (e.g. only the stops
    /// of a `down`, which depend on nothing else, to stop a stack without
    /// removing it). Warnings are dropped.
    pub fn retain(&self, keep: impl Fn(&Op) -> bool) -> Plan {
        let mut renumbered = BTreeMap::new();
        let mut plan = Plan::default();
        for op in self.ops.iter().filter(|op| keep(op)) {
            let deps: Vec<OpId> = op
                .depends_on
                .iter()
                .filter_map(|d| renumbered.get(d).copied())
                .collect();
            let id = plan.add(
                op.resource.clone(),
                op.action.clone(),
                op.cause.clone(),
                deps,
            );
            renumbered.insert(op.id, id);
        }
        plan
    }

    /// Appends an op after `depends_on` (sorted, duplicates dropped).
    pub(crate) fn add(
        &mut self,
        resource: Resource,
        action: Action,
        cause: impl Into<String>,
        depends_on: impl IntoIterator<Item = OpId>,
    ) -> OpId {
        let id = OpId(self.ops.len() + 1);
        let mut depends_on: Vec<OpId> = depends_on.into_iter().collect();
        depends_on.sort();
        depends_on.dedup();
        self.ops.push(Op {
            id,
            resource,
            action,
            cause: cause.into(),
            depends_on,
        });
        id
    }

    /// Records a warning.
    pub(crate) fn warn(&mut self, warning: impl Into<String>) {
        self.warnings.push(warning.into());
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for op in &self.ops {
            writeln!(f, "{op}")?;
        }
        for warning in &self.warnings {
            writeln!(f, "warning: {warning}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use stack_compose::model::ServiceCondition;

    fn existing() -> Target {
        Target::Existing {
            id: "c1".into(),
            name: "app-web-1".into(),
        }
    }

    #[test]
    fn renders_one_line_per_op_with_sorted_deps() {
        let mut plan = Plan::default();
        let net = plan.add(
            Resource::Network("default".into()),
            Action::CreateNetwork {
                name: "app_default".into(),
                labels: BTreeMap::new(),
            },
            "not found",
            [],
        );
        let stop = plan.add(
            Resource::Container {
                service: "web".into(),
                number: 1,
            },
            Action::StopContainer {
                container: existing(),
                timeout: None,
            },
            "config changed",
            [],
        );
        let remove = plan.add(
            Resource::Container {
                service: "web".into(),
                number: 1,
            },
            Action::RemoveContainer {
                container: existing(),
                volumes: true,
            },
            "config changed",
            [stop, net, stop],
        );
        plan.add(
            Resource::Service("db".into()),
            Action::Wait(Wait {
                dependent: "web".into(),
                dependency: "db".into(),
                edge: Edge {
                    condition: ServiceCondition::ServiceHealthy,
                    required: false,
                    restart: false,
                },
            }),
            "web depends on db",
            [remove],
        );
        plan.warn("something to know");
        assert_eq!(
            plan.to_string(),
            "\
[] -> #1 network:default, CreateNetwork, not found
[] -> #2 service:web:1, StopContainer, config changed
[1,2] -> #3 service:web:1, RemoveContainer(volumes), config changed
[3] -> #4 service:db, Wait(service_healthy, optional), web depends on db
warning: something to know
"
        );
        assert_eq!(plan.op(OpId(3)).map(|op| op.id), Some(OpId(3)));
        let removes = plan.retain(|op| matches!(op.action, Action::RemoveContainer { .. }));
        assert_eq!(
            removes.to_string(),
            "[] -> #1 service:web:1, RemoveContainer(volumes), config changed\n"
        );
        assert!(plan.op(OpId(0)).is_none() && plan.op(OpId(5)).is_none());
        assert!(!plan.is_empty());
    }
}
