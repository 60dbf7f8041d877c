//! What makes two items "the same" when sequences are merged, and how list
//! items of list-or-mapping attributes split into a key and a value.

use super::{null_at, string_at};
use crate::error::Location;
use crate::tree::{Entry, Kind, Mapping, Node, NodeTag, Style};
use std::collections::HashMap;

/// The identity of a sequence item: a later item with the same identity
/// replaces an earlier one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SeqKey {
    /// The item's text up to the first `=` (`cap_add`, `dns`, `profiles`).
    Text,
    /// (host ip, published, target, protocol) of a port.
    Port,
    /// The container path of a volume or device.
    MountTarget,
    /// Where a secret lands: its target, or `/run/secrets/<source>`.
    Secret,
    /// Where a config lands: its target, or `/<source>`.
    Config,
    /// The path of an env file (string or `{path: ...}`).
    EnvFile,
}

/// Appends `over` to `base`; an item whose key is already present replaces
/// the earlier one where it stood, as Compose does.
pub(super) fn unique(base: Vec<Node>, over: Vec<Node>, key: SeqKey) -> Vec<Node> {
    let mut out: Vec<Node> = Vec::with_capacity(base.len() + over.len());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let items = base
        .into_iter()
        .chain(over)
        .filter(|n| n.tag != NodeTag::Reset);
    for item in items.map(super::clean) {
        match item_key(&item, key) {
            Some(k) => match seen.get(&k) {
                Some(&i) => out[i] = item,
                None => {
                    seen.insert(k, out.len());
                    out.push(item);
                }
            },
            None => out.push(item),
        }
    }
    out
}

fn item_key(item: &Node, key: SeqKey) -> Option<String> {
    let field = |name: &str| item.get(name).and_then(Node::as_str);
    match (key, &item.kind) {
        (SeqKey::Text, Kind::Scalar(s)) => {
            Some(s.text.split('=').next().unwrap_or_default().to_string())
        }
        (SeqKey::Port, Kind::Scalar(s)) => Some(short_port_key(&s.text)),
        (SeqKey::Port, Kind::Map(_)) => Some(format!(
            "{}:{}:{}/{}",
            field("host_ip").unwrap_or_default(),
            field("published").unwrap_or_default(),
            field("target")?,
            field("protocol").unwrap_or("tcp")
        )),
        (SeqKey::MountTarget, Kind::Scalar(s)) => {
            let mut parts = s.text.split(':');
            let first = parts.next().unwrap_or_default();
            Some(parts.next().unwrap_or(first).to_string())
        }
        (SeqKey::MountTarget, Kind::Map(_)) => field("target").map(str::to_string),
        (SeqKey::Secret | SeqKey::Config, Kind::Scalar(s)) => Some(default_target(key, &s.text)),
        (SeqKey::Secret | SeqKey::Config, Kind::Map(_)) => match field("target") {
            Some(t) => Some(t.to_string()),
            None => field("source").map(|s| default_target(key, s)),
        },
        (SeqKey::EnvFile, Kind::Scalar(s)) => Some(s.text.clone()),
        (SeqKey::EnvFile, Kind::Map(_)) => field("path").map(str::to_string),
        _ => None,
    }
}

fn default_target(key: SeqKey, source: &str) -> String {
    if key == SeqKey::Secret {
        format!("/run/secrets/{source}")
    } else {
        format!("/{source}")
    }
}

/// `[host_ip:][published:]target[/protocol]` → `ip:published:target/protocol`.
fn short_port_key(text: &str) -> String {
    let (rest, protocol) = text.rsplit_once('/').unwrap_or((text, "tcp"));
    let mut parts = rest.rsplitn(3, ':');
    let target = parts.next().unwrap_or_default();
    let published = parts.next().unwrap_or_default();
    let ip = parts.next().unwrap_or_default();
    let ip = ip
        .strip_prefix('[')
        .and_then(|i| i.strip_suffix(']'))
        .unwrap_or(ip);
    format!("{ip}:{published}:{target}/{protocol}")
}

/// `KEY=VALUE` → (KEY, "VALUE"); a bare `KEY` has a null value (Compose then
/// takes it from the environment).
pub(super) fn split_key_value(item: &Node) -> Option<(String, Node)> {
    let text = item.as_str()?;
    Some(match text.split_once('=') {
        Some((k, v)) => (k.to_string(), string_at(v, &item.location)),
        None => (text.to_string(), null_at(&item.location)),
    })
}

/// `host=ip` or `host:ip` (the first separator wins, so IPv6 addresses keep
/// their colons) → (host, "ip").
pub(super) fn split_host(item: &Node) -> Option<(String, Node)> {
    let text = item.as_str()?;
    let (host, ip) = text.split_once('=').or_else(|| text.split_once(':'))?;
    Some((host.to_string(), string_at(ip, &item.location)))
}

/// The long form Compose gives a `depends_on` list item.
pub(super) fn depends_on_defaults(location: &Location) -> Node {
    let mut map = Mapping::new();
    for (key, value) in [("condition", "service_started"), ("required", "true")] {
        let value = Node::string(value, Style::Plain, location.clone());
        map.insert(
            key.to_string(),
            Entry {
                key_location: location.clone(),
                value,
            },
        );
    }
    Node::new(Kind::Map(map), location.clone())
}

/// `build: ./dir` is short for `build: {context: ./dir}`.
pub(super) fn build_map(node: Node) -> Node {
    match node.kind {
        Kind::Scalar(_) => {
            let location = node.location.clone();
            let mut map = Mapping::new();
            map.insert(
                "context".to_string(),
                Entry {
                    key_location: location.clone(),
                    value: node,
                },
            );
            Node::new(Kind::Map(map), location)
        }
        _ => node,
    }
}
