//! Filling an [`Observed`] snapshot from the engine, through its API: the
//! project's containers (by the project label, stopped ones included), the
//! networks and volumes it labels or names, and its services' images.

use super::labels;
use super::observe::{
    ContainerState, Health, MountKind, Observed, ObservedContainer, ObservedImage, ObservedMount,
    ObservedNetwork, ObservedVolume,
};
use super::{api_message, labels::image_reference};
use anyhow::{anyhow, Result};
use bollard::errors::Error as ApiError;
use bollard::models::{ContainerSummary, HealthStatusEnum};
use bollard::query_parameters::{
    InspectContainerOptions, ListContainersOptions, ListNetworksOptions, ListVolumesOptions,
};
use bollard::Docker;
use futures_util::future::try_join_all;
use stack_compose::graph::ServiceGraph;
use stack_compose::model::Project;
use std::collections::{BTreeMap, HashMap};

/// The engine's state for `project`.
pub async fn observe(client: &Docker, project: &Project) -> Result<Observed> {
    let containers = project_containers(client, &project.name).await?;
    let mut observed = Observed {
        containers: try_join_all(containers.iter().map(|c| container(client, c))).await?,
        ..Observed::default()
    };
    let wanted = |labels: &HashMap<String, String>, name: &str, names: &[&str]| {
        labels.get(labels::PROJECT) == Some(&project.name) || names.contains(&name)
    };
    // A project without networks has none to look for.
    if !project.networks.is_empty() {
        let names: Vec<&str> = project.networks.values().map(|n| n.name.as_str()).collect();
        let networks = match client.list_networks(None::<ListNetworksOptions>).await {
            Ok(networks) => networks,
            // 501: an engine without networks holds none; creating one
            // then fails with the engine's own word on it.
            Err(ApiError::DockerResponseServerError {
                status_code: 501, ..
            }) => Vec::new(),
            Err(e) => return Err(anyhow!("listing networks: {}", api_message(&e))),
        };
        for n in networks {
            let (name, labels) = (n.name.unwrap_or_default(), n.labels.unwrap_or_default());
            if wanted(&labels, &name, &names) {
                observed.networks.push(ObservedNetwork {
                    id: n.id.unwrap_or_default(),
                    name,
                    labels: labels.into_iter().collect(),
                });
            }
        }
    }
    let names: Vec<&str> = project.volumes.values().map(|v| v.name.as_str()).collect();
    let volumes = client
        .list_volumes(None::<ListVolumesOptions>)
        .await
        .map_err(|e| anyhow!("listing volumes: {}", api_message(&e)))?;
    for v in volumes.volumes.unwrap_or_default() {
        if wanted(&v.labels, &v.name, &names) {
            observed.volumes.push(ObservedVolume {
                name: v.name,
                labels: v.labels.into_iter().collect(),
            });
        }
    }
    for (name, spec) in &project.services {
        let reference = image_reference(&project.name, name, spec);
        if observed.images.contains_key(&reference) {
            continue;
        }
        match client.inspect_image(&reference).await {
            Ok(image) => {
                let volumes = image
                    .config
                    .and_then(|c| c.volumes)
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
                let id = image.id.unwrap_or_default();
                observed
                    .images
                    .insert(reference, ObservedImage { id, volumes });
            }
            Err(e) if is_not_found(&e) => {}
            Err(e) => return Err(anyhow!("inspecting image {reference}: {}", api_message(&e))),
        }
    }
    Ok(observed)
}

/// Adds to `project` the networks and volumes the engine has labelled
/// with its name (keyed as their labels say), for a project known only by
/// its name (`down -p NAME` without a compose file).
pub async fn add_labelled_resources(client: &Docker, project: &mut Project) -> Result<()> {
    let filters: HashMap<String, Vec<String>> = [(
        "label".to_owned(),
        vec![format!("{}={}", labels::PROJECT, project.name)],
    )]
    .into_iter()
    .collect();
    let networks = client
        .list_networks(Some(ListNetworksOptions {
            filters: Some(filters.clone()),
        }))
        .await
        .map_err(|e| anyhow!("listing networks: {}", api_message(&e)))?;
    for n in networks {
        let name = n.name.unwrap_or_default();
        let key = n
            .labels
            .and_then(|l| l.get(labels::NETWORK).cloned())
            .unwrap_or_else(|| name.clone());
        let network = stack_compose::model::Network {
            name,
            ..Default::default()
        };
        project.networks.insert(key, network);
    }
    let volumes = client
        .list_volumes(Some(ListVolumesOptions {
            filters: Some(filters),
        }))
        .await
        .map_err(|e| anyhow!("listing volumes: {}", api_message(&e)))?;
    for v in volumes.volumes.unwrap_or_default() {
        let key = v
            .labels
            .get(labels::VOLUME)
            .cloned()
            .unwrap_or_else(|| v.name.clone());
        let volume = stack_compose::model::Volume {
            name: v.name,
            ..Default::default()
        };
        project.volumes.insert(key, volume);
    }
    Ok(())
}

/// Adds to `project` the services its labelled containers run (one-off
/// ones aside), with the image each runs and the dependencies their
/// [`labels::DEPENDS_ON`] label records, as Compose rebuilds a project
/// known only by its name (`down -p NAME`, `stop -p NAME` without a compose
/// file) so that dependents stop first. A dependency without a container
/// has nothing to stop and is left out. Returns the project's graph.
pub async fn add_labelled_services(client: &Docker, project: &mut Project) -> Result<ServiceGraph> {
    let containers = project_containers(client, &project.name).await?;
    for c in &containers {
        let labels = c.labels.clone().unwrap_or_default();
        let Some(service) = labels.get(labels::SERVICE) else {
            continue;
        };
        if labels.get(labels::ONEOFF).is_some_and(|v| v == "True") {
            continue;
        }
        let spec = project.services.entry(service.clone()).or_default();
        if spec.image.is_none() {
            spec.image.clone_from(&c.image);
        }
        let depends_on = labels.get(labels::DEPENDS_ON).map(String::as_str);
        for (name, on) in labels::parse_depends_on(depends_on.unwrap_or_default()) {
            spec.depends_on.entry(name).or_insert(on);
        }
    }
    let names: Vec<String> = project.services.keys().cloned().collect();
    for spec in project.services.values_mut() {
        spec.depends_on.retain(|name, _| names.contains(name));
    }
    ServiceGraph::from_project(project).map_err(|errors| {
        let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow!(
            "the dependencies recorded on project {}'s containers do not form a graph: {}; \
             run the command with the project's compose file",
            project.name,
            errors.join("; ")
        )
    })
}

/// Whether the engine answered 404.
pub(crate) fn is_not_found(e: &ApiError) -> bool {
    matches!(
        e,
        ApiError::DockerResponseServerError {
            status_code: 404,
            ..
        }
    )
}

/// Every container labelled with project `project`, stopped ones too.
pub async fn project_containers(client: &Docker, project: &str) -> Result<Vec<ContainerSummary>> {
    labelled_containers(client, vec![format!("{}={project}", labels::PROJECT)])
        .await
        .map_err(|e| {
            anyhow!(
                "listing the containers of project {project}: {}",
                api_message(&e)
            )
        })
}

/// Every container (stopped ones too) carrying all of `labels` (`key` or
/// `key=value`).
pub async fn labelled_containers(
    client: &Docker,
    labels: Vec<String>,
) -> Result<Vec<ContainerSummary>, ApiError> {
    let filters: HashMap<String, Vec<String>> = [("label".to_owned(), labels)].into();
    let options = ListContainersOptions {
        all: true,
        filters: Some(filters),
        ..ListContainersOptions::default()
    };
    client.list_containers(Some(options)).await
}

/// One container: the summary's fields, and from its inspection the
/// health and exit code the summary lacks.
async fn container(client: &Docker, c: &ContainerSummary) -> Result<ObservedContainer> {
    let id = c.id.clone().unwrap_or_default();
    let name = c
        .names
        .as_ref()
        .and_then(|n| n.first())
        .map(|n| n.trim_start_matches('/').to_owned())
        .unwrap_or_else(|| id.clone());
    let inspect = client
        .inspect_container(&id, None::<InspectContainerOptions>)
        .await
        .map_err(|e| anyhow!("inspecting container {name}: {}", api_message(&e)))?;
    let state = inspect.state.as_ref();
    let status = state
        .and_then(|s| s.status)
        .map(|s| s.to_string())
        .unwrap_or_default();
    let health = state
        .and_then(|s| s.health.as_ref())
        .and_then(|h| h.status)
        .and_then(health);
    let exit_code = state
        .filter(|_| status == "exited")
        .and_then(|s| s.exit_code);
    let mounts = c
        .mounts
        .iter()
        .flatten()
        .map(|m| ObservedMount {
            kind: match m.typ.as_deref() {
                Some("bind") => MountKind::Bind,
                Some("volume") => MountKind::Volume,
                Some("tmpfs") => MountKind::Tmpfs,
                _ => MountKind::Other,
            },
            name: m.name.clone().filter(|n| !n.is_empty()),
            source: m.source.clone().unwrap_or_default(),
            destination: m.destination.clone().unwrap_or_default(),
            read_write: m.rw.unwrap_or(true),
        })
        .collect();
    let networks = c
        .network_settings
        .as_ref()
        .and_then(|n| n.networks.as_ref())
        .map(|n| n.keys().cloned().collect())
        .unwrap_or_default();
    let labels: BTreeMap<String, String> =
        c.labels.clone().unwrap_or_default().into_iter().collect();
    Ok(ObservedContainer {
        id,
        state: ContainerState::parse(&status).ok_or_else(|| {
            anyhow!("container {name} is in a state the engine calls {status:?}, which stack does not know")
        })?,
        name,
        labels,
        health,
        image_id: c.image_id.clone().unwrap_or_default(),
        exit_code,
        created: c.created.unwrap_or_default(),
        mounts,
        networks,
    })
}

/// The health status, `None` for "no health check".
pub(crate) fn health(status: HealthStatusEnum) -> Option<Health> {
    match status {
        HealthStatusEnum::STARTING => Some(Health::Starting),
        HealthStatusEnum::HEALTHY => Some(Health::Healthy),
        HealthStatusEnum::UNHEALTHY => Some(Health::Unhealthy),
        HealthStatusEnum::NONE | HealthStatusEnum::EMPTY => None,
    }
}
