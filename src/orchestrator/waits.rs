//! Waiting for a service's containers to reach a `depends_on` condition
//! (and, for `up --wait`, to be running and healthy), reading the engine's
//! own state: Docker's `State.Status`, `State.Health.Status` and exit code.
//! The state is read again as soon as the engine reports an event about
//! the container (a health status, a death), and at the latest every
//! [`POLL`], so that an event missed or an engine without events only
//! slows a wait down.

use super::api_message;
use super::labels::{self, condition_name};
use super::snapshot::labelled_containers;
use bollard::models::{ContainerInspectResponse, ContainerStateStatusEnum, HealthStatusEnum};
use bollard::query_parameters::{EventsOptions, InspectContainerOptions};
use bollard::Docker;
use futures_util::StreamExt;
use stack_compose::model::ServiceCondition;
use std::collections::HashMap;
use std::time::Duration;

/// How often a container's state is read again, at the latest, while waiting.
const POLL: Duration = Duration::from_millis(100);

/// Why a wait ended without its condition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WaitError {
    /// The engine could not be asked.
    Engine(String),
    /// The condition cannot be met any more (exited, unhealthy, no check).
    Condition(String),
}

/// Waits until every container of `service` meets `condition`.
pub async fn wait_condition(
    client: &Docker,
    project: &str,
    service: &str,
    condition: ServiceCondition,
) -> Result<(), WaitError> {
    for id in service_containers(client, project, service).await? {
        until(client, &id, |state| reached(state, service, condition)).await?;
    }
    Ok(())
}

/// Reads container `id`'s state until `done` says yes (or fails): again on
/// each event the engine reports about it, and at the latest every [`POLL`].
async fn until<F>(client: &Docker, id: &str, mut done: F) -> Result<(), WaitError>
where
    F: FnMut(&ContainerInspectResponse) -> Result<bool, WaitError>,
{
    let filters: HashMap<String, Vec<String>> = [
        ("type".to_owned(), vec!["container".to_owned()]),
        ("container".to_owned(), vec![id.to_owned()]),
    ]
    .into();
    let options = EventsOptions {
        filters: Some(filters),
        ..EventsOptions::default()
    };
    let mut events = Some(client.events(Some(options)));
    loop {
        if done(&inspect(client, id).await?)? {
            return Ok(());
        }
        let sleep = tokio::time::sleep(POLL);
        tokio::pin!(sleep);
        match events.as_mut() {
            Some(stream) => {
                tokio::select! {
                    event = stream.next() => {
                        // An ended or failed stream leaves the polling.
                        if !matches!(event, Some(Ok(_))) {
                            events = None;
                            (&mut sleep).await;
                        }
                    }
                    () = &mut sleep => {}
                }
            }
            None => sleep.await,
        }
    }
}

/// Whether a container in `state` meets `condition`; an error when it
/// never will.
fn reached(
    state: &ContainerInspectResponse,
    service: &str,
    condition: ServiceCondition,
) -> Result<bool, WaitError> {
    let name = state
        .name
        .as_deref()
        .unwrap_or_default()
        .trim_start_matches('/');
    let s = state.state.clone().unwrap_or_default();
    let status = s.status.unwrap_or(ContainerStateStatusEnum::EMPTY);
    let exit = s.exit_code.unwrap_or_default();
    let ended = matches!(
        status,
        ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD
    );
    let fail = |text: String| Err(WaitError::Condition(text));
    match condition {
        ServiceCondition::ServiceStarted => Ok(true),
        ServiceCondition::ServiceCompletedSuccessfully => match (ended, exit) {
            (false, _) => Ok(false),
            (true, 0) => Ok(true),
            (true, code) => fail(format!(
                "service \"{service}\" didn't complete successfully: exit {code}"
            )),
        },
        ServiceCondition::ServiceHealthy => {
            let health = s.health.and_then(|h| h.status);
            match health {
                Some(HealthStatusEnum::HEALTHY) => Ok(true),
                Some(HealthStatusEnum::UNHEALTHY) => fail(format!("container {name} is unhealthy")),
                _ if ended => fail(format!(
                    "container {name} exited ({exit}) before it was healthy"
                )),
                None | Some(HealthStatusEnum::NONE) | Some(HealthStatusEnum::EMPTY) => {
                    fail(format!(
                        "container {name} has no healthcheck configured, so {} cannot be met \
                     (add a healthcheck to service \"{service}\")",
                        condition_name(condition)
                    ))
                }
                Some(HealthStatusEnum::STARTING) => Ok(false),
            }
        }
    }
}

/// Waits until every container of `service` runs, and is healthy when it
/// has a health check (`up --wait`).
pub async fn wait_running(client: &Docker, project: &str, service: &str) -> Result<(), WaitError> {
    for id in service_containers(client, project, service).await? {
        until(client, &id, running).await?;
    }
    Ok(())
}

/// Whether a container in `state` is running, and healthy when it has a
/// health check; an error when it never will be.
fn running(state: &ContainerInspectResponse) -> Result<bool, WaitError> {
    let name = state.name.as_deref().unwrap_or_default();
    let name = name.trim_start_matches('/');
    let s = state.state.clone().unwrap_or_default();
    let status = s.status.unwrap_or(ContainerStateStatusEnum::EMPTY);
    if status != ContainerStateStatusEnum::RUNNING {
        if matches!(
            status,
            ContainerStateStatusEnum::EXITED | ContainerStateStatusEnum::DEAD
        ) {
            let code = s.exit_code.unwrap_or_default();
            return Err(WaitError::Condition(format!(
                "container {name} exited ({code})"
            )));
        }
        return Ok(false);
    }
    match s.health.and_then(|h| h.status) {
        Some(HealthStatusEnum::STARTING) => Ok(false),
        Some(HealthStatusEnum::UNHEALTHY) => Err(WaitError::Condition(format!(
            "container {name} is unhealthy"
        ))),
        _ => Ok(true),
    }
}

async fn inspect(client: &Docker, id: &str) -> Result<ContainerInspectResponse, WaitError> {
    client
        .inspect_container(id, None::<InspectContainerOptions>)
        .await
        .map_err(|e| WaitError::Engine(format!("inspecting container {id}: {}", api_message(&e))))
}

/// The ids of the service containers (not one-off ones) of `service`.
pub async fn service_containers(
    client: &Docker,
    project: &str,
    service: &str,
) -> Result<Vec<String>, WaitError> {
    let wanted = vec![
        format!("{}={project}", labels::PROJECT),
        format!("{}={service}", labels::SERVICE),
    ];
    let list = labelled_containers(client, wanted).await.map_err(|e| {
        WaitError::Engine(format!(
            "listing the containers of service {service}: {}",
            api_message(&e)
        ))
    })?;
    Ok(list
        .into_iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .and_then(|l| l.get(labels::ONEOFF))
                .is_none_or(|v| v == labels::ONEOFF_FALSE)
        })
        .filter_map(|c| c.id)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::{ContainerState, Health};

    fn state(
        status: ContainerStateStatusEnum,
        exit: i64,
        health: Option<HealthStatusEnum>,
    ) -> ContainerInspectResponse {
        ContainerInspectResponse {
            name: Some("/app-db-1".into()),
            state: Some(ContainerState {
                status: Some(status),
                exit_code: Some(exit),
                health: health.map(|h| Health {
                    status: Some(h),
                    ..Health::default()
                }),
                ..ContainerState::default()
            }),
            ..ContainerInspectResponse::default()
        }
    }

    #[test]
    fn completed_successfully_means_exit_zero() {
        let done = ServiceCondition::ServiceCompletedSuccessfully;
        let running = state(ContainerStateStatusEnum::RUNNING, 0, None);
        assert_eq!(reached(&running, "db", done), Ok(false));
        let ok = state(ContainerStateStatusEnum::EXITED, 0, None);
        assert_eq!(reached(&ok, "db", done), Ok(true));
        let failed = state(ContainerStateStatusEnum::EXITED, 3, None);
        assert_eq!(
            reached(&failed, "db", done),
            Err(WaitError::Condition(
                "service \"db\" didn't complete successfully: exit 3".into()
            ))
        );
    }

    #[test]
    fn running_waits_for_health_when_there_is_a_check() {
        let starting = state(
            ContainerStateStatusEnum::RUNNING,
            0,
            Some(HealthStatusEnum::STARTING),
        );
        assert_eq!(running(&starting), Ok(false));
        let created = state(ContainerStateStatusEnum::CREATED, 0, None);
        assert_eq!(running(&created), Ok(false));
        let plain = state(ContainerStateStatusEnum::RUNNING, 0, None);
        assert_eq!(running(&plain), Ok(true));
        let exited = state(ContainerStateStatusEnum::EXITED, 2, None);
        assert_eq!(
            running(&exited),
            Err(WaitError::Condition("container app-db-1 exited (2)".into()))
        );
    }

    #[test]
    fn healthy_waits_for_the_health_status() {
        let healthy = ServiceCondition::ServiceHealthy;
        let starting = state(
            ContainerStateStatusEnum::RUNNING,
            0,
            Some(HealthStatusEnum::STARTING),
        );
        assert_eq!(reached(&starting, "db", healthy), Ok(false));
        let ok = state(
            ContainerStateStatusEnum::RUNNING,
            0,
            Some(HealthStatusEnum::HEALTHY),
        );
        assert_eq!(reached(&ok, "db", healthy), Ok(true));
        let bad = state(
            ContainerStateStatusEnum::RUNNING,
            0,
            Some(HealthStatusEnum::UNHEALTHY),
        );
        assert!(
            matches!(reached(&bad, "db", healthy), Err(WaitError::Condition(m)) if m.contains("app-db-1 is unhealthy"))
        );
        let none = state(ContainerStateStatusEnum::RUNNING, 0, None);
        assert!(
            matches!(reached(&none, "db", healthy), Err(WaitError::Condition(m)) if m.contains("no healthcheck"))
        );
    }
}
