//! Spanned tree → typed [`Project`], with Docker Compose's normalization.
//!
//! Input is one merged, interpolated tree (the whole compose document, with
//! `extends` and `include` already resolved). Every short syntax becomes its
//! long form, relative paths become absolute, and the defaults Compose fills
//! in are filled in. Every problem is collected in one pass, each with its
//! `file:line:column`, key path and a hint. Deliberately not done here:
//! reading `env_file` contents, and checks across references (undefined
//! networks, dependency cycles), which belong to validation.

mod attributes;
pub(crate) mod ports;
mod reader;
mod service;
mod text;
pub(crate) mod volumes;

#[cfg(test)]
mod tests;

use crate::env::Environment;
use crate::error::{LoadError, Warning};
use crate::model::{FileObject, Ipam, IpamPool, Network, Project, Volume};
use crate::tree::{KeyPath, Kind, Node};
use reader::{boolean, string, string_map, to_json, MapReader, Sink};
use std::path::PathBuf;

/// What the conversion needs besides the tree.
pub(crate) struct ConvertContext<'a> {
    /// The project name, already decided (`-p`, `COMPOSE_PROJECT_NAME`, `name:`, directory).
    pub project_name: String,
    /// Base of relative paths (bind mounts, build contexts, env files, secrets).
    pub project_dir: PathBuf,
    /// Resolves `environment: [FOO]` and `build.args` without a value, and `~` (HOME).
    pub env: &'a Environment,
}

/// The result of a conversion: the project (complete as far as it could be
/// read), and every error and warning found. The project is only meaningful
/// when `errors` is empty.
#[derive(Debug)]
pub(crate) struct Converted {
    pub project: Project,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<Warning>,
}

/// Converts the whole compose document `doc`.
pub(crate) fn project(doc: &Node, ctx: &ConvertContext) -> Converted {
    let mut sink = Sink::new(ctx);
    let mut project = Project {
        name: ctx.project_name.clone(),
        ..Project::default()
    };
    let root = KeyPath::root();
    if let Some(mut m) = MapReader::new(&mut sink, doc, &root) {
        // The name was read when the project name was decided; `include` was resolved before.
        m.get("name");
        m.get("include");
        if let (Some((_, p)), Some(at)) = (m.get("version"), m.key_location("version")) {
            sink.warn(
                at,
                &p,
                "the attribute `version` is obsolete, it will be ignored; remove it to avoid confusion",
            );
        }
        if let Some((n, p)) = m.get("services") {
            each_entry(&mut sink, n, &p, |sink, name, node, path| {
                if let Some(s) = service::service(sink, node, path) {
                    project.services.insert(name.to_string(), s);
                }
            });
        }
        if let Some((n, p)) = m.get("networks") {
            each_entry(&mut sink, n, &p, |sink, key, node, path| {
                if let Some(net) = network(sink, key, node, path) {
                    project.networks.insert(key.to_string(), net);
                }
            });
        }
        if let Some((n, p)) = m.get("volumes") {
            each_entry(&mut sink, n, &p, |sink, key, node, path| {
                if let Some(v) = volume(sink, key, node, path) {
                    project.volumes.insert(key.to_string(), v);
                }
            });
        }
        for (kind, is_config) in [("secrets", false), ("configs", true)] {
            if let Some((n, p)) = m.get(kind) {
                each_entry(&mut sink, n, &p, |sink, key, node, path| {
                    if let Some(f) = file_object(sink, key, node, path, is_config) {
                        let map = if is_config {
                            &mut project.configs
                        } else {
                            &mut project.secrets
                        };
                        map.insert(key.to_string(), f);
                    }
                });
            }
        }
        if let (Some((n, p)), Some(at)) = (m.get("models"), m.key_location("models")) {
            sink.unsupported("models", at, &p);
            project.extensions.insert("models".into(), to_json(n));
        }
        project.extensions.extend(m.finish(&mut sink, true));
    }
    default_network(&mut project);
    // Attributes are read in a fixed order, not file order; users read file order.
    sink.errors
        .sort_by(|a, b| (&a.location, &a.path).cmp(&(&b.location, &b.path)));
    sink.warnings.sort();
    Converted {
        project,
        errors: sink.errors,
        warnings: sink.warnings,
    }
}

/// Calls `f` for each entry of the mapping `node` (a null node has none).
fn each_entry(
    sink: &mut Sink,
    node: &Node,
    path: &KeyPath,
    mut f: impl FnMut(&mut Sink, &str, &Node, &KeyPath),
) {
    match &node.kind {
        Kind::Map(map) => {
            for (key, entry) in map {
                f(sink, key, &entry.value, &path.key(key));
            }
        }
        Kind::Null => {}
        _ => sink.wrong_type(node, path, "a mapping"),
    }
}

/// Services with neither `networks` nor `network_mode` join the `default`
/// network, which then exists (as `<project>_default`) unless declared.
fn default_network(project: &mut Project) {
    let mut uses_default = false;
    for s in project.services.values_mut() {
        // A service with network_mode joins nothing by default, but one that
        // still names `default` (an error validation reports) must not also
        // get a misleading "undefined network" error.
        if s.network_mode.is_none() && s.networks.is_empty() {
            s.networks.insert("default".into(), None);
        }
        uses_default |= s.networks.contains_key("default");
    }
    if uses_default && !project.networks.contains_key("default") {
        project.networks.insert(
            "default".into(),
            Network {
                name: format!("{}_default", project.name),
                ..Network::default()
            },
        );
    }
}

/// `external:` as a boolean, or the legacy `external: {name: x}` (returns the name).
fn external(sink: &mut Sink, m: &mut MapReader) -> (bool, Option<String>) {
    let Some((n, p)) = m.get("external") else {
        return (false, None);
    };
    if n.as_map().is_some() {
        let mut e = match MapReader::new(sink, n, &p) {
            Some(e) => e,
            None => return (true, None),
        };
        let name = e.read(sink, "name", string);
        e.finish(sink, false);
        sink.warn(
            &n.location,
            &p,
            "`external.name` is deprecated; use `name` next to `external: true`",
        );
        return (true, name);
    }
    (boolean(sink, n, &p).unwrap_or(false), None)
}

/// The engine-side name: as set, else the key when external, else `<project>_<key>`.
fn resource_name(sink: &Sink, key: &str, name: Option<String>, external: bool) -> String {
    match name {
        Some(n) => n,
        None if external => key.to_string(),
        None => format!("{}_{key}", sink.ctx.project_name),
    }
}

fn network(sink: &mut Sink, key: &str, node: &Node, path: &KeyPath) -> Option<Network> {
    let mut m = MapReader::new(sink, node, path)?;
    let (is_external, legacy_name) = external(sink, &mut m);
    let name = m.read(sink, "name", string).or(legacy_name);
    let ipam = m.read(sink, "ipam", |sink, n, p| {
        let mut i = MapReader::new(sink, n, p)?;
        let config = i.read(sink, "config", |sink, n, p| {
            let Some(pools) = n.as_seq() else {
                sink.wrong_type(n, p, "a list");
                return None;
            };
            let mut out = Vec::new();
            for (idx, pool) in pools.iter().enumerate() {
                let Some(mut c) = MapReader::new(sink, pool, &p.index(idx)) else {
                    continue;
                };
                out.push(IpamPool {
                    subnet: c.read(sink, "subnet", string),
                    gateway: c.read(sink, "gateway", string),
                    ip_range: c.read(sink, "ip_range", string),
                    aux_addresses: c
                        .read(sink, "aux_addresses", string_map)
                        .unwrap_or_default(),
                    extensions: c.finish(sink, true),
                });
            }
            Some(out)
        });
        Some(Ipam {
            driver: i.read(sink, "driver", string),
            config: config.unwrap_or_default(),
            options: i.read(sink, "options", string_map).unwrap_or_default(),
            extensions: i.finish(sink, true),
        })
    });
    Some(Network {
        name: resource_name(sink, key, name, is_external),
        driver: m.read(sink, "driver", string),
        driver_opts: m.read(sink, "driver_opts", string_map).unwrap_or_default(),
        ipam,
        external: is_external,
        internal: m.read(sink, "internal", boolean).unwrap_or(false),
        attachable: m.read(sink, "attachable", boolean).unwrap_or(false),
        labels: m.read(sink, "labels", string_map).unwrap_or_default(),
        enable_ipv4: m.read(sink, "enable_ipv4", boolean),
        enable_ipv6: m.read(sink, "enable_ipv6", boolean),
        extensions: m.finish(sink, true),
    })
}

fn volume(sink: &mut Sink, key: &str, node: &Node, path: &KeyPath) -> Option<Volume> {
    let mut m = MapReader::new(sink, node, path)?;
    let (is_external, legacy_name) = external(sink, &mut m);
    let name = m.read(sink, "name", string).or(legacy_name);
    Some(Volume {
        name: resource_name(sink, key, name, is_external),
        driver: m.read(sink, "driver", string),
        driver_opts: m.read(sink, "driver_opts", string_map).unwrap_or_default(),
        external: is_external,
        labels: m.read(sink, "labels", string_map).unwrap_or_default(),
        extensions: m.finish(sink, true),
    })
}

/// A top-level secret or config; `content` is for configs only.
fn file_object(
    sink: &mut Sink,
    key: &str,
    node: &Node,
    path: &KeyPath,
    is_config: bool,
) -> Option<FileObject> {
    let mut m = MapReader::new(sink, node, path)?;
    let (is_external, legacy_name) = external(sink, &mut m);
    let name = m.read(sink, "name", string).or(legacy_name);
    let file = m.get("file").and_then(|(n, p)| {
        let text = string(sink, n, &p)?;
        volumes::resolve_path(sink, &text, n, &p)
    });
    let environment = m.read(sink, "environment", string);
    let content = if is_config {
        m.read(sink, "content", string)
    } else {
        None
    };
    let sources = [
        file.is_some(),
        environment.is_some(),
        content.is_some(),
        is_external,
    ];
    if sources.iter().filter(|s| **s).count() != 1 {
        let what = if is_config { "config" } else { "secret" };
        let from = if is_config {
            "`file`, `environment`, `content`"
        } else {
            "`file`, `environment`"
        };
        sink.error(
            &node.location,
            path,
            format!("a {what} needs exactly one source"),
            format!("set one of {from} or `external: true`"),
        );
    }
    Some(FileObject {
        name: resource_name(sink, key, name, is_external),
        file,
        environment,
        content,
        external: is_external,
        labels: m.read(sink, "labels", string_map).unwrap_or_default(),
        // Secret drivers are a Swarm feature configs do not have.
        driver: (!is_config)
            .then(|| m.read(sink, "driver", string))
            .flatten(),
        driver_opts: (!is_config)
            .then(|| m.read(sink, "driver_opts", string_map))
            .flatten()
            .unwrap_or_default(),
        template_driver: m.read(sink, "template_driver", string),
        extensions: m.finish(sink, true),
    })
}
