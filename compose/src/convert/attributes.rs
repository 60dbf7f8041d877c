//! The structured attributes of a service: build, depends_on, deploy,
//! healthcheck, networks, secrets/configs references and friends.

use super::reader::{
    boolean, bytes, duration, float, integer, key_values, string, string_list, string_map,
    string_or_list, to_json, MapReader, Sink,
};
use super::volumes::{file_mode, resolve_path};
use crate::model::{
    Build, DependsOn, Deploy, DeployRestartPolicy, Device, EnvFile, Environment, Extensions,
    FileMode, FileRef, Healthcheck, Logging, Resource, Resources, RestartCondition,
    ServiceCondition, ServiceNetwork, StringMap, Ulimit,
};
use crate::tree::{KeyPath, Kind, Node};
use indexmap::IndexMap;

/// A build context that is a URL (git or http) rather than a directory.
fn is_remote(context: &str) -> bool {
    context.contains("://") || context.starts_with("git@") || context.starts_with("github.com/")
}

fn context(sink: &mut Sink, text: &str, node: &Node, path: &KeyPath) -> Option<String> {
    if is_remote(text) {
        Some(text.to_string())
    } else {
        resolve_path(sink, text, node, path)
    }
}

/// `build: ./dir` or the long form. The context becomes absolute and the
/// Dockerfile defaults to `Dockerfile`, as Compose does.
pub(super) fn build(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Build> {
    if let Kind::Scalar(s) = &node.kind {
        return Some(Build {
            context: context(sink, &s.text, node, path)?,
            dockerfile: Some("Dockerfile".into()),
            ..Build::default()
        });
    }
    let mut m = MapReader::new(sink, node, path)?;
    let ctx = match m.get("context") {
        Some((n, p)) => string(sink, n, &p).and_then(|t| context(sink, &t, n, &p)),
        None => context(sink, ".", node, path),
    };
    let mut b = Build {
        context: String::new(),
        dockerfile: m.read(sink, "dockerfile", string),
        dockerfile_inline: m.read(sink, "dockerfile_inline", string),
        args: m.read(sink, "args", build_args).unwrap_or_default(),
        ssh: m
            .read(sink, "ssh", key_values)
            .map(|kv| {
                kv.into_iter()
                    .map(|(k, v)| v.map_or(k.clone(), |v| format!("{k}={v}")))
                    .collect()
            })
            .unwrap_or_default(),
        labels: m.read(sink, "labels", string_map).unwrap_or_default(),
        cache_from: m.read(sink, "cache_from", string_list).unwrap_or_default(),
        cache_to: m.read(sink, "cache_to", string_list).unwrap_or_default(),
        no_cache: m.read(sink, "no_cache", boolean).unwrap_or(false),
        no_cache_filter: m
            .read(sink, "no_cache_filter", string_or_list)
            .unwrap_or_default(),
        additional_contexts: m
            .read(sink, "additional_contexts", additional_contexts)
            .unwrap_or_default(),
        network: m.read(sink, "network", string),
        target: m.read(sink, "target", string),
        shm_size: m.read(sink, "shm_size", bytes),
        extra_hosts: m.read(sink, "extra_hosts", extra_hosts).unwrap_or_default(),
        isolation: m.read(sink, "isolation", string),
        privileged: m.read(sink, "privileged", boolean).unwrap_or(false),
        secrets: m.read(sink, "secrets", file_refs).unwrap_or_default(),
        tags: m.read(sink, "tags", string_list).unwrap_or_default(),
        ulimits: m.read(sink, "ulimits", ulimits).unwrap_or_default(),
        platforms: m.read(sink, "platforms", string_list).unwrap_or_default(),
        pull: m.read(sink, "pull", boolean).unwrap_or(false),
        entitlements: m
            .read(sink, "entitlements", string_list)
            .unwrap_or_default(),
        provenance: m.read(sink, "provenance", string),
        sbom: m.read(sink, "sbom", string),
        extensions: Extensions::new(),
    };
    b.extensions = m.finish(sink, true);
    if b.dockerfile.is_none() && b.dockerfile_inline.is_none() {
        b.dockerfile = Some("Dockerfile".into());
    }
    b.context = ctx?;
    Some(b)
}

/// `build.additional_contexts`: directories become absolute; image,
/// service and URL references are kept.
fn additional_contexts(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<StringMap> {
    let contexts = string_map(sink, node, path)?;
    let mut out = StringMap::new();
    for (name, value) in contexts {
        let is_reference = ["docker-image://", "oci-layout://", "service:"]
            .iter()
            .any(|p| value.starts_with(p))
            || is_remote(&value);
        let value = if is_reference {
            Some(value)
        } else {
            let at = node.get(&name).unwrap_or(node);
            resolve_path(sink, &value, at, &path.key(&name))
        };
        if let Some(v) = value {
            out.insert(name, v);
        }
    }
    Some(out)
}

/// `build.args`: an argument without a value takes it from the environment,
/// and is left out when the environment does not set it either.
fn build_args(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Environment> {
    let args = key_values(sink, node, path)?;
    Some(
        args.into_iter()
            .filter_map(|(k, v)| {
                let v = v.or_else(|| sink.ctx.env.get(&k).map(str::to_string))?;
                Some((k, Some(v)))
            })
            .collect(),
    )
}

/// `depends_on:` as a list (started, required) or a mapping of conditions.
pub(super) fn depends_on(
    sink: &mut Sink,
    node: &Node,
    path: &KeyPath,
) -> Option<IndexMap<String, DependsOn>> {
    if node.as_seq().is_some() {
        let names = string_list(sink, node, path)?;
        return Some(
            names
                .into_iter()
                .map(|n| (n, DependsOn::started()))
                .collect(),
        );
    }
    let Some(map) = node.as_map() else {
        sink.wrong_type(node, path, "a mapping or a list");
        return None;
    };
    let mut out = IndexMap::new();
    for (name, entry) in map {
        let p = path.key(name);
        if entry.value.is_null() {
            sink.error(
                &entry.key_location,
                &p,
                "expected a mapping, found null",
                "write `condition: service_started` under it, or use the list form `depends_on: [name]`",
            );
            continue;
        }
        let Some(mut m) = MapReader::new(sink, &entry.value, &p) else {
            continue;
        };
        let condition = m.parse(sink, "condition", |t| match t {
            "service_started" => Ok(ServiceCondition::ServiceStarted),
            "service_healthy" => Ok(ServiceCondition::ServiceHealthy),
            "service_completed_successfully" => Ok(ServiceCondition::ServiceCompletedSuccessfully),
            _ => Err((
                format!("unknown condition `{t}`"),
                "use service_started, service_healthy or service_completed_successfully".into(),
            )),
        });
        let condition_given = entry.value.get("condition").is_some();
        let restart = m.read(sink, "restart", boolean).unwrap_or(false);
        let required = m.read(sink, "required", boolean).unwrap_or(true);
        let extensions = m.finish(sink, true);
        if condition.is_some() || !condition_given {
            out.insert(
                name.clone(),
                DependsOn {
                    condition: condition.unwrap_or(ServiceCondition::ServiceStarted),
                    restart,
                    required,
                    extensions,
                },
            );
        }
    }
    Some(out)
}

/// `healthcheck:`; a string `test` is a shell command (`CMD-SHELL`).
pub(super) fn healthcheck(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Healthcheck> {
    let mut m = MapReader::new(sink, node, path)?;
    let test = m.read(sink, "test", |sink, n, p| match &n.kind {
        Kind::Scalar(s) => Some(vec!["CMD-SHELL".to_string(), s.text.clone()]),
        _ => {
            let list = string_list(sink, n, p)?;
            match list.first().map(String::as_str) {
                Some("CMD" | "CMD-SHELL" | "NONE") => Some(list),
                _ => {
                    sink.error(
                        &n.location,
                        p,
                        "a healthcheck test list must start with `CMD`, `CMD-SHELL` or `NONE`",
                        "e.g. [\"CMD\", \"curl\", \"-f\", \"http://localhost\"], or write the command as a string",
                    );
                    None
                }
            }
        }
    });
    Some(Healthcheck {
        test: test.unwrap_or_default(),
        timeout: m.read(sink, "timeout", duration),
        interval: m.read(sink, "interval", duration),
        retries: m.read(sink, "retries", integer),
        start_period: m.read(sink, "start_period", duration),
        start_interval: m.read(sink, "start_interval", duration),
        disable: m.read(sink, "disable", boolean).unwrap_or(false),
        extensions: m.finish(sink, true),
    })
}

fn resource(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Resource> {
    let mut m = MapReader::new(sink, node, path)?;
    let verbatim = |sink: &mut Sink, m: &mut MapReader, key| {
        m.read(sink, key, |sink, n, p| match to_json(n) {
            serde_json::Value::Array(items) => Some(items),
            _ => {
                sink.wrong_type(n, p, "a list");
                None
            }
        })
        .unwrap_or_default()
    };
    Some(Resource {
        cpus: m.read(sink, "cpus", float),
        memory: m.read(sink, "memory", bytes),
        pids: m.read(sink, "pids", integer),
        devices: verbatim(sink, &mut m, "devices"),
        generic_resources: verbatim(sink, &mut m, "generic_resources"),
        extensions: m.finish(sink, true),
    })
}

/// `deploy:`; what only Swarm uses (placement, update/rollback config) is kept verbatim.
pub(super) fn deploy(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Deploy> {
    let mut m = MapReader::new(sink, node, path)?;
    let resources = m.read(sink, "resources", |sink, n, p| {
        let mut r = MapReader::new(sink, n, p)?;
        Some(Resources {
            limits: r.read(sink, "limits", resource),
            reservations: r.read(sink, "reservations", resource),
            extensions: r.finish(sink, true),
        })
    });
    let restart_policy = m.read(sink, "restart_policy", |sink, n, p| {
        let mut r = MapReader::new(sink, n, p)?;
        Some(DeployRestartPolicy {
            condition: r.parse(sink, "condition", |t| match t {
                "none" => Ok(RestartCondition::None),
                "on-failure" => Ok(RestartCondition::OnFailure),
                "any" => Ok(RestartCondition::Any),
                _ => Err((
                    format!("unknown restart condition `{t}`"),
                    "use `none`, `on-failure` or `any`".into(),
                )),
            }),
            delay: r.read(sink, "delay", duration),
            max_attempts: r.read(sink, "max_attempts", integer),
            window: r.read(sink, "window", duration),
            extensions: r.finish(sink, true),
        })
    });
    let mut verbatim = |key| m.get(key).map(|(n, _)| to_json(n));
    let update_config = verbatim("update_config");
    let rollback_config = verbatim("rollback_config");
    let placement = verbatim("placement");
    Some(Deploy {
        mode: m.read(sink, "mode", string),
        replicas: m.read(sink, "replicas", integer),
        labels: m.read(sink, "labels", string_map).unwrap_or_default(),
        update_config,
        rollback_config,
        resources,
        restart_policy,
        placement,
        endpoint_mode: m.read(sink, "endpoint_mode", string),
        extensions: m.finish(sink, true),
    })
}

/// `devices:`: `/dev/a[:/dev/b[:rwm]]` or the long form.
pub(super) fn devices(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Vec<Device>> {
    let Some(items) = node.as_seq() else {
        sink.wrong_type(node, path, "a list");
        return None;
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        if let Kind::Scalar(s) = &item.kind {
            let parts: Vec<&str> = s.text.split(':').collect();
            let device = match parts.as_slice() {
                [src] => (src, src, None),
                [src, dst] => (src, dst, None),
                [src, dst, perm] => (src, dst, Some(perm.to_string())),
                _ => {
                    sink.error(
                        &item.location,
                        &p,
                        format!("invalid device `{}`", s.text),
                        "write it as HOST_PATH[:CONTAINER_PATH[:PERMISSIONS]]",
                    );
                    continue;
                }
            };
            out.push(Device {
                source: device.0.to_string(),
                target: device.1.to_string(),
                permissions: device.2,
            });
            continue;
        }
        let Some(mut m) = MapReader::new(sink, item, &p) else {
            continue;
        };
        let (source, target) = (
            m.read(sink, "source", string),
            m.read(sink, "target", string),
        );
        let permissions = m.read(sink, "permissions", string);
        m.finish(sink, false);
        match source {
            Some(source) => out.push(Device {
                target: target.unwrap_or_else(|| source.clone()),
                source,
                permissions,
            }),
            None if item.get("source").is_some_and(|n| !n.is_null()) => {}
            None => sink.error(
                &item.location,
                &p,
                "missing `source`",
                "add `source:` with the device path on the host",
            ),
        }
    }
    Some(out)
}

/// `env_file:`: a path, or a list of paths or `{path, required, format}`.
/// Paths become absolute; the files themselves are read by the loader.
pub(super) fn env_files(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Vec<EnvFile>> {
    let items: Vec<(&Node, KeyPath)> = match &node.kind {
        Kind::Scalar(_) => vec![(node, path.clone())],
        Kind::Seq(items) => items
            .iter()
            .enumerate()
            .map(|(i, n)| (n, path.index(i)))
            .collect(),
        _ => {
            sink.wrong_type(node, path, "a string or a list");
            return None;
        }
    };
    let mut out = Vec::new();
    for (item, p) in items {
        let (file, required, format) = match &item.kind {
            Kind::Scalar(s) => (Some(s.text.clone()), true, None),
            _ => {
                let Some(mut m) = MapReader::new(sink, item, &p) else {
                    continue;
                };
                let file = m.read(sink, "path", string);
                let required = m.read(sink, "required", boolean).unwrap_or(true);
                let format = m.read(sink, "format", string);
                m.finish(sink, false);
                if file.is_none() && item.get("path").is_none_or(Node::is_null) {
                    sink.error(
                        &item.location,
                        &p,
                        "missing `path`",
                        "add `path:` with the file to read",
                    );
                }
                (file, required, format)
            }
        };
        if let Some(path) = file.and_then(|f| resolve_path(sink, &f, item, &p)) {
            out.push(EnvFile {
                path,
                required,
                format,
            });
        }
    }
    Some(out)
}

/// `extra_hosts:` as a list of `host=ip` / `host:ip` or a mapping host → ip(s).
pub(super) fn extra_hosts(
    sink: &mut Sink,
    node: &Node,
    path: &KeyPath,
) -> Option<IndexMap<String, Vec<String>>> {
    let mut out: IndexMap<String, Vec<String>> = IndexMap::new();
    let unbracket = |ip: &str| {
        ip.strip_prefix('[')
            .and_then(|i| i.strip_suffix(']'))
            .unwrap_or(ip)
            .to_string()
    };
    match &node.kind {
        Kind::Map(map) => {
            for (host, entry) in map {
                let Some(ips) = string_or_list(sink, &entry.value, &path.key(host)) else {
                    continue;
                };
                out.entry(host.clone())
                    .or_default()
                    .extend(ips.iter().map(|i| unbracket(i)));
            }
        }
        _ => {
            for (i, text) in string_list(sink, node, path)?.into_iter().enumerate() {
                let split = text.split_once('=').or_else(|| text.split_once(':'));
                match split {
                    Some((host, ips)) if !host.is_empty() && !ips.is_empty() => out
                        .entry(host.to_string())
                        .or_default()
                        .extend(ips.split(',').map(unbracket)),
                    _ => {
                        let item = node.as_seq().and_then(|s| s.get(i)).unwrap_or(node);
                        sink.error(
                            &item.location,
                            &path.index(i),
                            format!("invalid extra host `{text}`"),
                            "write it as `host=ip`, e.g. `db.local=10.0.0.5`",
                        );
                    }
                }
            }
        }
    }
    Some(out)
}

/// `secrets:` / `configs:` of a service: names, or `{source, target, uid, gid, mode}`.
pub(super) fn file_refs(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Vec<FileRef>> {
    let Some(items) = node.as_seq() else {
        sink.wrong_type(node, path, "a list");
        return None;
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        if let Kind::Scalar(s) = &item.kind {
            out.push(FileRef {
                source: s.text.clone(),
                ..FileRef::default()
            });
            continue;
        }
        let Some(mut m) = MapReader::new(sink, item, &p) else {
            continue;
        };
        let source = m.read(sink, "source", string);
        let r = FileRef {
            source: String::new(),
            target: m.read(sink, "target", string),
            uid: m.read(sink, "uid", string),
            gid: m.read(sink, "gid", string),
            mode: m.read(sink, "mode", file_mode).map(FileMode),
            extensions: m.finish(sink, true),
        };
        match source {
            Some(source) => out.push(FileRef { source, ..r }),
            None if item.get("source").is_some_and(|n| !n.is_null()) => {}
            None => sink.error(
                &item.location,
                &p,
                "missing `source`",
                "add `source:` with the name of a top-level secret or config",
            ),
        }
    }
    Some(out)
}

pub(super) fn logging(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Logging> {
    let mut m = MapReader::new(sink, node, path)?;
    Some(Logging {
        driver: m.read(sink, "driver", string),
        options: m.read(sink, "options", string_map).unwrap_or_default(),
        extensions: m.finish(sink, true),
    })
}

/// A service's `networks:` as a list of names or a mapping of options.
pub(super) fn service_networks(
    sink: &mut Sink,
    node: &Node,
    path: &KeyPath,
) -> Option<IndexMap<String, Option<ServiceNetwork>>> {
    if node.as_seq().is_some() {
        let names = string_list(sink, node, path)?;
        return Some(names.into_iter().map(|n| (n, None)).collect());
    }
    let Some(map) = node.as_map() else {
        sink.wrong_type(node, path, "a mapping or a list");
        return None;
    };
    let mut out = IndexMap::new();
    for (name, entry) in map {
        if entry.value.is_null() {
            out.insert(name.clone(), None);
            continue;
        }
        let Some(mut m) = MapReader::new(sink, &entry.value, &path.key(name)) else {
            continue;
        };
        let net = ServiceNetwork {
            aliases: m.read(sink, "aliases", string_list).unwrap_or_default(),
            driver_opts: m.read(sink, "driver_opts", string_map).unwrap_or_default(),
            gw_priority: m.read(sink, "gw_priority", integer),
            interface_name: m.read(sink, "interface_name", string),
            ipv4_address: m.read(sink, "ipv4_address", string),
            ipv6_address: m.read(sink, "ipv6_address", string),
            link_local_ips: m
                .read(sink, "link_local_ips", string_list)
                .unwrap_or_default(),
            mac_address: m.read(sink, "mac_address", string),
            priority: m.read(sink, "priority", integer),
            extensions: m.finish(sink, true),
        };
        out.insert(name.clone(), Some(net));
    }
    Some(out)
}

/// `ulimits:`: name → a single value, or `{soft, hard}`.
pub(super) fn ulimits(
    sink: &mut Sink,
    node: &Node,
    path: &KeyPath,
) -> Option<IndexMap<String, Ulimit>> {
    let Some(map) = node.as_map() else {
        sink.wrong_type(node, path, "a mapping");
        return None;
    };
    let mut out = IndexMap::new();
    for (name, entry) in map {
        let p = path.key(name);
        let limit = match &entry.value.kind {
            Kind::Scalar(_) => integer(sink, &entry.value, &p).map(Ulimit::Single),
            _ => {
                let Some(mut m) = MapReader::new(sink, &entry.value, &p) else {
                    continue;
                };
                let soft = m.read(sink, "soft", integer);
                let hard = m.read(sink, "hard", integer);
                m.finish(sink, true);
                match (soft, hard) {
                    (Some(soft), Some(hard)) if soft <= hard => Some(Ulimit::Range { soft, hard }),
                    (Some(soft), Some(hard)) => {
                        sink.error(
                            &entry.value.location,
                            &p,
                            format!("the soft limit {soft} is above the hard limit {hard}"),
                            "make `soft` at most `hard`",
                        );
                        None
                    }
                    _ if entry.value.get("soft").is_some_and(|n| !n.is_null())
                        && entry.value.get("hard").is_some_and(|n| !n.is_null()) =>
                    {
                        None
                    }
                    _ => {
                        sink.error(
                            &entry.value.location,
                            &p,
                            "a ulimit needs both `soft` and `hard`",
                            "add the missing one, or give a single number for both",
                        );
                        None
                    }
                }
            }
        };
        if let Some(limit) = limit {
            out.insert(name.clone(), limit);
        }
    }
    Some(out)
}
