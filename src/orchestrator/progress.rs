//! Progress as a stream of events: the executor reports what happens to each
//! resource; renderers (a live terminal view, plain lines, JSON lines) live
//! in the CLI and only consume these. [`subject`] says what an op of a plan
//! is about and how its work is worded, so every executor words it alike.

use super::plan::{Action, Op, Plan, Target};
use stack_compose::model::ServiceCondition;
use std::fmt;
use std::time::Duration;

/// The kind of resource an event is about; renderers print it before the
/// name, as Compose does (`Container app-web-1`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// A container.
    Container,
    /// A network.
    Network,
    /// A volume.
    Volume,
    /// An image.
    Image,
    /// A service as a whole (waits on its containers).
    Service,
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Kind::Container => "Container",
            Kind::Network => "Network",
            Kind::Volume => "Volume",
            Kind::Image => "Image",
            Kind::Service => "Service",
        })
    }
}

/// Where a resource's work stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Status {
    /// Under way (`Creating`, `Starting`, `Waiting`).
    Working,
    /// Finished (`Created`, `Started`, `Healthy`).
    Done,
    /// Finished with something the user should know.
    Warning,
    /// Failed; the text says why.
    Error,
}

impl Status {
    /// Whether no further event is expected for the resource.
    pub fn is_final(self) -> bool {
        !matches!(self, Status::Working)
    }
}

/// One progress event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// What kind of resource.
    pub kind: Kind,
    /// Its engine name (`app-web-1`, `app_default`).
    pub name: String,
    /// Where its work stands.
    pub status: Status,
    /// What is happening, in Compose's words (`Creating`, `Healthy`).
    pub text: String,
    /// Time since the work on the resource began.
    pub elapsed: Duration,
}

impl Event {
    /// An event about `name`, its work begun `elapsed` ago.
    pub fn new(
        kind: Kind,
        name: impl Into<String>,
        status: Status,
        text: impl Into<String>,
        elapsed: Duration,
    ) -> Self {
        Event {
            kind,
            name: name.into(),
            status,
            text: text.into(),
            elapsed,
        }
    }
}

/// How progress shows one op of a plan: what it is about, and the words
/// for its work under way and done, as Compose words them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    /// What kind of resource.
    pub kind: Kind,
    /// Its engine name (the service name for waits).
    pub name: String,
    /// The text while the op runs (`Creating`).
    pub working: &'static str,
    /// The text once it has succeeded (`Created`).
    pub done: &'static str,
}

/// The subject of `op`, one of `plan`'s ops.
pub fn subject(plan: &Plan, op: &Op) -> Subject {
    let (kind, name, working, done) = match &op.action {
        Action::CreateNetwork { name, .. } => (Kind::Network, name.clone(), "Creating", "Created"),
        Action::RemoveNetwork { name } => (Kind::Network, name.clone(), "Removing", "Removed"),
        Action::CreateVolume { name, .. } => (Kind::Volume, name.clone(), "Creating", "Created"),
        Action::RemoveVolume { name } => (Kind::Volume, name.clone(), "Removing", "Removed"),
        Action::CreateContainer(create) => {
            (Kind::Container, create.name.clone(), "Creating", "Created")
        }
        Action::StartContainer(target) => (
            Kind::Container,
            container_name(plan, target),
            "Starting",
            "Started",
        ),
        Action::UnpauseContainer(target) => (
            Kind::Container,
            container_name(plan, target),
            "Unpausing",
            "Unpaused",
        ),
        Action::StopContainer { container, .. } => (
            Kind::Container,
            container_name(plan, container),
            "Stopping",
            "Stopped",
        ),
        Action::RemoveContainer { container, .. } => (
            Kind::Container,
            container_name(plan, container),
            "Removing",
            "Removed",
        ),
        Action::Wait(wait) => {
            let done = match wait.edge.condition {
                ServiceCondition::ServiceStarted => "Started",
                ServiceCondition::ServiceHealthy => "Healthy",
                ServiceCondition::ServiceCompletedSuccessfully => "Exited",
            };
            (Kind::Service, wait.dependency.clone(), "Waiting", done)
        }
    };
    Subject {
        kind,
        name,
        working,
        done,
    }
}

/// The name of the container `target` designates.
fn container_name(plan: &Plan, target: &Target) -> String {
    match target {
        Target::Existing { name, .. } => name.clone(),
        Target::Created(id) => match plan.op(*id).map(|op| &op.action) {
            Some(Action::CreateContainer(create)) => create.name.clone(),
            // A plan only refers to its own creations; this is a bug in it.
            _ => format!("container created by #{id}"),
        },
    }
}

/// Where events go. Implementations must be cheap and must not block: the
/// executor calls it from every task it runs.
pub trait Sink: Send + Sync {
    /// Takes one event.
    fn event(&self, event: Event);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_working_is_not_final() {
        assert!(!Status::Working.is_final());
        assert!(Status::Done.is_final() && Status::Warning.is_final() && Status::Error.is_final());
    }

    #[test]
    fn subjects_name_what_each_op_acts_on() {
        use crate::orchestrator::plan::{CreateContainer, Resource, Wait};
        use stack_compose::graph::Edge;

        let mut plan = Plan::default();
        let resource = Resource::Container {
            service: "web".into(),
            number: 1,
        };
        let create = plan.add(
            resource.clone(),
            Action::CreateContainer(Box::new(CreateContainer {
                service: "web".into(),
                number: 1,
                name: "app-web-1".into(),
                image: "nginx".into(),
                labels: Default::default(),
                inherit: vec![],
                shares: Default::default(),
            })),
            "new",
            [],
        );
        let wait = Action::Wait(Wait {
            dependent: "web".into(),
            dependency: "db".into(),
            edge: Edge {
                condition: ServiceCondition::ServiceHealthy,
                ..Edge::default()
            },
        });
        plan.add(
            Resource::Service("db".into()),
            wait,
            "web depends on db",
            [],
        );
        let start = Action::StartContainer(Target::Created(create));
        plan.add(resource.clone(), start, "new", [create]);
        let stop = Action::StopContainer {
            container: Target::Existing {
                id: "c0".into(),
                name: "app-old-1".into(),
            },
            timeout: None,
        };
        plan.add(Resource::Orphan("app-old-1".into()), stop, "orphan", []);
        let shown: Vec<String> = plan
            .ops()
            .iter()
            .map(|op| {
                let s = subject(&plan, op);
                format!("{} {} {}/{}", s.kind, s.name, s.working, s.done)
            })
            .collect();
        assert_eq!(
            shown,
            [
                "Container app-web-1 Creating/Created",
                "Service db Waiting/Healthy",
                "Container app-web-1 Starting/Started",
                "Container app-old-1 Stopping/Stopped",
            ]
        );
    }

    #[test]
    fn kinds_print_as_compose_names_them() {
        let e = Event::new(
            Kind::Container,
            "app-web-1",
            Status::Done,
            "Started",
            Duration::from_millis(120),
        );
        assert_eq!(
            format!("{} {} {}", e.kind, e.name, e.text),
            "Container app-web-1 Started"
        );
    }
}
