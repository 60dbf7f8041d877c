//! Running a [`Plan`] against the engine: every op whose dependencies have
//! finished is started at once (so a level of independent services is
//! created, started and stopped concurrently), each reports progress
//! through a [`Sink`], and the first failure stops new ops from starting;
//! ops already under way finish, and what they started stays, as Compose
//! leaves already-started services up. Containers created but never
//! started are removed then, so nothing half-made is left.

use super::api_message;
use super::container_config::create_body;
use super::plan::{Action, Op, OpId, Plan, Resource, Target, Wait};
use super::progress::{subject, Event, Sink, Status};
use super::snapshot::is_not_found;
use super::waits::{wait_condition, WaitError};
use bollard::errors::Error as ApiError;
use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest, VolumeCreateRequest};
use bollard::query_parameters::{
    CreateContainerOptions, InspectNetworkOptions, RemoveContainerOptions, StartContainerOptions,
    StopContainerOptions,
};
use bollard::Docker;
use futures_util::stream::{FuturesUnordered, StreamExt};
use stack_compose::model::Project;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::time::Instant;

/// Why a plan did not run to its end: every op that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failed {
    /// One message per failed op, each naming what failed and why.
    pub errors: Vec<String>,
}

impl std::error::Error for Failed {}

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.errors.join("\n"))
    }
}

/// What an op leaves for the ops after it: the id of a created container.
type Outcome = Option<String>;

type OpFuture<'a> = Pin<Box<dyn Future<Output = (OpId, Result<Outcome, String>)> + 'a>>;

/// Runs `plan` (made for `project`) on the engine `client` talks to.
pub async fn execute(
    client: &Docker,
    project: &Project,
    plan: &Plan,
    sink: &dyn Sink,
) -> Result<(), Failed> {
    let executor = Executor {
        client,
        project,
        plan,
        sink,
    };
    let mut done: HashMap<OpId, Outcome> = HashMap::new();
    let mut launched: HashSet<OpId> = HashSet::new();
    let mut running: FuturesUnordered<OpFuture<'_>> = FuturesUnordered::new();
    let mut errors = Vec::new();
    loop {
        if errors.is_empty() {
            for op in plan.ops() {
                if launched.contains(&op.id) || !op.depends_on.iter().all(|d| done.contains_key(d))
                {
                    continue;
                }
                launched.insert(op.id);
                let created = created_ids(op, &done);
                let executor = &executor;
                running.push(Box::pin(
                    async move { (op.id, executor.run(op, created).await) },
                ));
            }
        }
        match running.next().await {
            Some((id, Ok(outcome))) => {
                done.insert(id, outcome);
            }
            Some((_, Err(message))) => errors.push(message),
            None => break,
        }
    }
    if !errors.is_empty() {
        executor.remove_unstarted(&done).await;
        executor.remove_unused_networks(&done).await;
    }
    if errors.is_empty() && done.len() != plan.ops().len() {
        // Only a plan whose ops depend on later ones can stall.
        errors.push("the plan could not be run to its end: an op waits for itself".to_owned());
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Failed { errors })
    }
}

/// The ids of the containers the ops `op` depends on created.
fn created_ids(op: &Op, done: &HashMap<OpId, Outcome>) -> HashMap<OpId, String> {
    op.depends_on
        .iter()
        .filter_map(|d| Some((*d, done.get(d)?.clone()?)))
        .collect()
}

struct Executor<'a> {
    client: &'a Docker,
    project: &'a Project,
    plan: &'a Plan,
    sink: &'a dyn Sink,
}

impl Executor<'_> {
    /// Runs one op, reporting its progress; the error names what failed.
    async fn run(&self, op: &Op, created: HashMap<OpId, String>) -> Result<Outcome, String> {
        let subject = subject(self.plan, op);
        let started = Instant::now();
        let event = |status, text: &str| {
            self.sink.event(Event::new(
                subject.kind,
                subject.name.clone(),
                status,
                text,
                started.elapsed(),
            ))
        };
        event(Status::Working, subject.working);
        match self.act(op, &created).await {
            Ok(Step::Done(outcome)) => {
                event(Status::Done, subject.done);
                Ok(outcome)
            }
            Ok(Step::Warned(warning)) => {
                event(Status::Warning, &warning);
                Ok(None)
            }
            Err(message) => {
                event(Status::Error, &message);
                Err(self.blame(op, &subject.name, &message))
            }
        }
    }

    /// After a failure: removes each container this run created and meant
    /// to start but did not, so a failed `up` leaves nothing half-made (the
    /// next `up` creates them again).
    async fn remove_unstarted(&self, done: &HashMap<OpId, Outcome>) {
        let unstarted = self.plan.ops().iter().filter_map(|op| match &op.action {
            Action::StartContainer(Target::Created(create)) if !done.contains_key(&op.id) => {
                let id = done.get(create)?.clone()?;
                Some((*create, id))
            }
            _ => None,
        });
        let removals = unstarted.map(|(create, id)| async move {
            let Some(op) = self.plan.op(create) else {
                return;
            };
            let started = Instant::now();
            let options = RemoveContainerOptions {
                v: true,
                force: true,
                link: false,
            };
            let removed = self.client.remove_container(&id, Some(options)).await;
            self.report_removal(op, started, removed);
        });
        futures_util::future::join_all(removals).await;
    }

    /// After a failure and [`Self::remove_unstarted`]: removes each network
    /// this run created that no container is attached to, so a failed `up`
    /// leaves no stray network (nor its bridge and rules). A network that a
    /// container started by this run uses stays, with that container.
    async fn remove_unused_networks(&self, done: &HashMap<OpId, Outcome>) {
        let created = self
            .plan
            .ops()
            .iter()
            .filter(|op| done.contains_key(&op.id));
        let removals = created.filter_map(|op| match &op.action {
            Action::CreateNetwork { name, .. } => Some((op, name)),
            _ => None,
        });
        let removals = removals.map(|(op, name)| async move {
            let unused = match self
                .client
                .inspect_network(name, None::<InspectNetworkOptions>)
                .await
            {
                Ok(network) => network.containers.unwrap_or_default().is_empty(),
                Err(_) => false,
            };
            if !unused {
                return;
            }
            let started = Instant::now();
            let removed = self.client.remove_network(name).await;
            self.report_removal(op, started, removed);
        });
        futures_util::future::join_all(removals).await;
    }

    /// Reports the removal, begun at `started`, of what `op` had made.
    fn report_removal(&self, op: &Op, started: Instant, removed: Result<(), ApiError>) {
        let subject = subject(self.plan, op);
        let (status, text) = match removed {
            Ok(()) => (Status::Done, "Removed".to_owned()),
            Err(e) => (Status::Error, format!("not removed: {}", api_message(&e))),
        };
        self.sink.event(Event::new(
            subject.kind,
            subject.name,
            status,
            text,
            started.elapsed(),
        ));
    }

    /// The error of a failed op: the service (or network, volume) first.
    fn blame(&self, op: &Op, name: &str, message: &str) -> String {
        match &op.resource {
            Resource::Container { service, .. } => {
                format!("service \"{service}\": container {name}: {message}")
            }
            Resource::Service(service) => match &op.action {
                Action::Wait(wait) => format!(
                    "service \"{}\" cannot start: its dependency \"{service}\" failed: {message}",
                    wait.dependent
                ),
                _ => format!("service \"{service}\": {message}"),
            },
            Resource::Network(key) => format!("network \"{key}\" ({name}): {message}"),
            Resource::Volume(key) => format!("volume \"{key}\" ({name}): {message}"),
            Resource::Orphan(name) => format!("orphan container {name}: {message}"),
        }
    }

    async fn act(&self, op: &Op, created: &HashMap<OpId, String>) -> Result<Step, String> {
        let api = |e: ApiError| api_message(&e);
        let client = self.client;
        match &op.action {
            Action::CreateNetwork { name, labels } => {
                let Resource::Network(key) = &op.resource else {
                    return Err(format!(
                        "op #{} creates a network but names no network",
                        op.id
                    ));
                };
                let spec = self.project.networks.get(key).cloned().unwrap_or_default();
                let ipam = spec.ipam.map(|ipam| Ipam {
                    driver: ipam.driver,
                    config: Some(
                        ipam.config
                            .into_iter()
                            .map(|pool| IpamConfig {
                                subnet: pool.subnet,
                                gateway: pool.gateway,
                                ip_range: pool.ip_range,
                                auxiliary_addresses: (!pool.aux_addresses.is_empty())
                                    .then(|| pool.aux_addresses.into_iter().collect()),
                            })
                            .collect(),
                    ),
                    options: (!ipam.options.is_empty()).then(|| ipam.options.into_iter().collect()),
                });
                let request = NetworkCreateRequest {
                    name: name.clone(),
                    driver: Some(spec.driver.unwrap_or_else(|| "bridge".to_owned())),
                    internal: Some(spec.internal),
                    attachable: Some(spec.attachable),
                    ipam,
                    enable_ipv4: spec.enable_ipv4,
                    enable_ipv6: spec.enable_ipv6,
                    options: (!spec.driver_opts.is_empty())
                        .then(|| spec.driver_opts.into_iter().collect()),
                    labels: Some(labels.clone().into_iter().collect()),
                    ..NetworkCreateRequest::default()
                };
                client.create_network(request).await.map_err(api)?;
            }
            Action::RemoveNetwork { name } => {
                ignore_missing(client.remove_network(name).await)?;
            }
            Action::CreateVolume { name, labels } => {
                let spec = match &op.resource {
                    Resource::Volume(key) => self.project.volumes.get(key).cloned(),
                    _ => None,
                }
                .unwrap_or_default();
                let request = VolumeCreateRequest {
                    name: Some(name.clone()),
                    driver: spec.driver,
                    driver_opts: (!spec.driver_opts.is_empty())
                        .then(|| spec.driver_opts.into_iter().collect()),
                    labels: Some(labels.clone().into_iter().collect()),
                    ..VolumeCreateRequest::default()
                };
                client.create_volume(request).await.map_err(api)?;
            }
            Action::RemoveVolume { name } => {
                ignore_missing(
                    client
                        .remove_volume(name, None::<bollard::query_parameters::RemoveVolumeOptions>)
                        .await,
                )?;
            }
            Action::CreateContainer(create) => {
                let spec = self
                    .project
                    .services
                    .get(&create.service)
                    .ok_or_else(|| format!("the project has no service {}", create.service))?;
                let shares: BTreeMap<String, String> = create
                    .shares
                    .iter()
                    .map(|(service, target)| Ok((service.clone(), self.id(target, created)?)))
                    .collect::<Result<_, String>>()?;
                let body = create_body(self.project, spec, create, &shares);
                let options = CreateContainerOptions {
                    name: Some(create.name.clone()),
                    platform: String::new(),
                };
                let response = client
                    .create_container(Some(options), body)
                    .await
                    .map_err(api)?;
                return Ok(Step::Done(Some(response.id)));
            }
            Action::StartContainer(target) => {
                let id = self.id(target, created)?;
                client
                    .start_container(&id, None::<StartContainerOptions>)
                    .await
                    .map_err(api)?;
            }
            Action::UnpauseContainer(target) => {
                let id = self.id(target, created)?;
                client.unpause_container(&id).await.map_err(api)?;
            }
            Action::StopContainer { container, timeout } => {
                let id = self.id(container, created)?;
                let options = StopContainerOptions {
                    t: timeout.map(|t| t.as_secs().min(i32::MAX as u64) as i32),
                    signal: None,
                };
                match client.stop_container(&id, Some(options)).await {
                    // 304: it had already stopped.
                    Err(ApiError::DockerResponseServerError {
                        status_code: 304, ..
                    }) => {}
                    other => ignore_missing(other)?,
                }
            }
            Action::RemoveContainer { container, volumes } => {
                let id = self.id(container, created)?;
                let options = RemoveContainerOptions {
                    v: *volumes,
                    force: true,
                    link: false,
                };
                ignore_missing(client.remove_container(&id, Some(options)).await)?;
            }
            Action::Wait(wait) => return self.wait(wait).await,
        }
        Ok(Step::Done(None))
    }

    async fn wait(&self, wait: &Wait) -> Result<Step, String> {
        let project = &self.project.name;
        match wait_condition(self.client, project, &wait.dependency, wait.edge.condition).await {
            Ok(()) => Ok(Step::Done(None)),
            Err(WaitError::Engine(message)) => Err(message),
            Err(WaitError::Condition(message)) if !wait.edge.required => Ok(Step::Warned(format!(
                "optional dependency of {}: {message}",
                wait.dependent
            ))),
            Err(WaitError::Condition(message)) => Err(message),
        }
    }

    /// The engine id of the container `target` designates.
    fn id(&self, target: &Target, created: &HashMap<OpId, String>) -> Result<String, String> {
        match target {
            Target::Existing { id, .. } => Ok(id.clone()),
            Target::Created(op) => created
                .get(op)
                .cloned()
                .ok_or_else(|| format!("the container op #{op} creates is not known")),
        }
    }
}

/// How an op ended well.
enum Step {
    /// As planned, with what later ops need.
    Done(Outcome),
    /// Not as planned, but the plan goes on (an optional dependency).
    Warned(String),
}

/// A removal or stop of something already gone succeeded.
fn ignore_missing<T>(result: Result<T, ApiError>) -> Result<(), String> {
    match result {
        Ok(_) => Ok(()),
        Err(e) if is_not_found(&e) => Ok(()),
        Err(e) => Err(api_message(&e)),
    }
}
