//! Checks within one service: attributes that contradict each other.

use super::{suggest_or, Check};
use crate::model::{Project, Service};
use crate::tree::KeyPath;
use std::collections::HashMap;

/// Runs every check on `service` (named `name`, at `path`).
pub(super) fn check(
    project: &Project,
    name: &str,
    service: &Service,
    path: &KeyPath,
    check: &mut Check<'_>,
) {
    image_or_build(name, service, path, check);
    network_mode_with_networks(service, path, check);
    scale_and_replicas(service, path, check);
    container_name_with_scale(service, path, check);
    mount_targets(service, path, check);
    build_contexts(project, name, service, path, check);
}

/// Without an image there is nothing to run. A `provider` service is
/// run by a plugin instead; `stack` keeps it as unsupported.
fn image_or_build(name: &str, service: &Service, path: &KeyPath, check: &mut Check<'_>) {
    if service.image.is_none()
        && service.build.is_none()
        && !service.unsupported.contains_key("provider")
    {
        check.error(
            path.clone(),
            format!("service \"{name}\" has neither an image nor a build context"),
            "set `image:` to run an existing image, or `build:` to build one",
        );
    }
}

fn network_mode_with_networks(service: &Service, path: &KeyPath, check: &mut Check<'_>) {
    if let (Some(mode), false) = (&service.network_mode, service.networks.is_empty()) {
        check.error(
            path.key("networks"),
            "network_mode and networks cannot be used together",
            format!(
                "network_mode \"{mode}\" already decides the service's network: remove networks"
            ),
        );
    }
}

fn scale_and_replicas(service: &Service, path: &KeyPath, check: &mut Check<'_>) {
    let replicas = service.deploy.as_ref().and_then(|d| d.replicas);
    if let (Some(scale), Some(replicas)) = (service.scale, replicas) {
        if scale != replicas {
            check.error(
                path.key("scale"),
                format!("scale {scale} and deploy.replicas {replicas} disagree"),
                "set only one of them",
            );
        }
    }
}

/// A container name is unique on the host, so a service that sets one
/// cannot run more than one container.
fn container_name_with_scale(service: &Service, path: &KeyPath, check: &mut Check<'_>) {
    let Some(container_name) = &service.container_name else {
        return;
    };
    let replicas = service.deploy.as_ref().and_then(|d| d.replicas);
    let (key, count) = match (service.scale, replicas) {
        (Some(scale), _) => ("scale", scale),
        (None, Some(replicas)) => ("deploy.replicas", replicas),
        (None, None) => return,
    };
    if count > 1 {
        check.error(
            path.key("container_name"),
            format!("container_name \"{container_name}\" cannot be used with {key} {count}"),
            format!("a container name must be unique: remove container_name, or set {key} to 1"),
        );
    }
}

/// Two mounts on one container path: the later would hide the earlier.
/// `tmpfs` entries come first, then `volumes`, in file order.
fn mount_targets(service: &Service, path: &KeyPath, check: &mut Check<'_>) {
    let tmpfs = service.tmpfs.iter().enumerate().map(|(i, entry)| {
        // `/run` or `/run:size=64m,mode=1777`.
        let target = entry.split_once(':').map_or(entry.as_str(), |(t, _)| t);
        (path.key("tmpfs").index(i), target)
    });
    let volumes = service
        .volumes
        .iter()
        .enumerate()
        .map(|(i, mount)| (path.key("volumes").index(i), mount.target.as_str()));
    let mut seen: HashMap<&str, KeyPath> = HashMap::new();
    for (at, target) in tmpfs.chain(volumes) {
        let target = target.trim_end_matches('/');
        let target = if target.is_empty() { "/" } else { target };
        match seen.get(target) {
            Some(first) => check.error(
                at,
                format!("target {target} is already mounted by {first}"),
                "mount one thing per container path",
            ),
            None => {
                seen.insert(target, at);
            }
        }
    }
}

/// `build.additional_contexts` may name another service (`service:base`),
/// whose built image is then the context: it must exist and build.
fn build_contexts(
    project: &Project,
    name: &str,
    service: &Service,
    path: &KeyPath,
    check: &mut Check<'_>,
) {
    let Some(build) = &service.build else { return };
    for (context, source) in &build.additional_contexts {
        let Some(target) = source.strip_prefix("service:") else {
            continue;
        };
        let at = path.key("build").key("additional_contexts").key(context);
        match project.services.get(target) {
            None => {
                let hint = suggest_or(target, project.services.keys(), || {
                    format!("define service \"{target}\" with a `build:` section")
                });
                check.error(
                    at,
                    format!(
                        "service \"{name}\" uses undefined service \"{target}\" as build \
                         context \"{context}\""
                    ),
                    hint,
                );
            }
            Some(other) if other.build.is_none() => check.error(
                at,
                format!(
                    "service \"{name}\" uses service \"{target}\" as build context \
                     \"{context}\", but \"{target}\" is not built"
                ),
                format!(
                    "add a `build:` section to \"{target}\", or name its image with \
                     docker-image://"
                ),
            ),
            Some(_) => {}
        }
    }
}
