//! Merging one spanned tree onto another, by Docker Compose's rules.
//!
//! Used for `-f a.yaml -f b.yaml`, for several YAML documents in one file,
//! for `extends` and for includes. The rules are a table keyed by path
//! patterns (`services.*.ports`): everything not in the table merges the
//! default way — mappings key by key, sequences appended, scalars replaced.
//! A node tagged `!reset` removes what the base had; `!override` replaces it
//! without merging.
//!
//! Where Compose accepts a list or a mapping for the same attribute
//! (`environment`, `labels`, `depends_on`, `networks`, ...), both sides are
//! brought to the mapping form before merging, so the merged tree holds the
//! mapping form.

use crate::error::LoadError;
use crate::tree::{Entry, KeyPath, Kind, Mapping, Node, NodeTag, Style};

mod keys;
#[cfg(test)]
pub(crate) mod tests;

use keys::SeqKey;

/// How the value at one path is merged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// The override replaces the base as a whole (`command`, `entrypoint`).
    Replace,
    /// `KEY=VALUE` lists or mappings, merged as one mapping keyed by KEY.
    KeyValue,
    /// `extra_hosts`: `host:ip` / `host=ip` lists or mappings, merged by host.
    Hosts,
    /// A list of names or a mapping of name → options (`networks`), merged
    /// as a mapping; listed names get a null value.
    Named,
    /// `depends_on`: like [`Rule::Named`], listed names get Compose's
    /// defaults (`condition: service_started`, `required: true`).
    DependsOn,
    /// `build`: a string is short for `{context: ...}`.
    Build,
    /// `logging`: options merge only when both sides use the same driver.
    Logging,
    /// A sequence (or one scalar) appended; a later item with the same key
    /// replaces the earlier one in place.
    Unique(SeqKey),
    /// `ipam.config`: items with the same subnet are merged.
    IpamConfig,
}

/// The merge table. Patterns are key paths; `*` matches any one key.
const RULES: &[(&str, Rule)] = &[
    ("services.*.command", Rule::Replace),
    ("services.*.entrypoint", Rule::Replace),
    ("services.*.healthcheck.test", Rule::Replace),
    ("services.*.ulimits.*", Rule::Replace),
    ("services.*.environment", Rule::KeyValue),
    ("services.*.labels", Rule::KeyValue),
    ("services.*.annotations", Rule::KeyValue),
    ("services.*.sysctls", Rule::KeyValue),
    ("services.*.deploy.labels", Rule::KeyValue),
    ("services.*.build.args", Rule::KeyValue),
    ("services.*.build.labels", Rule::KeyValue),
    ("services.*.build.additional_contexts", Rule::KeyValue),
    ("networks.*.labels", Rule::KeyValue),
    ("volumes.*.labels", Rule::KeyValue),
    ("secrets.*.labels", Rule::KeyValue),
    ("configs.*.labels", Rule::KeyValue),
    ("services.*.extra_hosts", Rule::Hosts),
    ("services.*.build.extra_hosts", Rule::Hosts),
    ("services.*.networks", Rule::Named),
    ("services.*.depends_on", Rule::DependsOn),
    ("services.*.build", Rule::Build),
    ("services.*.logging", Rule::Logging),
    ("services.*.ports", Rule::Unique(SeqKey::Port)),
    ("services.*.volumes", Rule::Unique(SeqKey::MountTarget)),
    ("services.*.devices", Rule::Unique(SeqKey::MountTarget)),
    ("services.*.secrets", Rule::Unique(SeqKey::Secret)),
    ("services.*.configs", Rule::Unique(SeqKey::Config)),
    ("services.*.env_file", Rule::Unique(SeqKey::EnvFile)),
    ("services.*.label_file", Rule::Unique(SeqKey::Text)),
    ("services.*.dns", Rule::Unique(SeqKey::Text)),
    ("services.*.dns_opt", Rule::Unique(SeqKey::Text)),
    ("services.*.dns_search", Rule::Unique(SeqKey::Text)),
    ("services.*.tmpfs", Rule::Unique(SeqKey::Text)),
    ("services.*.cap_add", Rule::Unique(SeqKey::Text)),
    ("services.*.cap_drop", Rule::Unique(SeqKey::Text)),
    ("services.*.expose", Rule::Unique(SeqKey::Text)),
    ("services.*.profiles", Rule::Unique(SeqKey::Text)),
    ("services.*.links", Rule::Unique(SeqKey::Text)),
    ("services.*.build.tags", Rule::Unique(SeqKey::Text)),
    ("services.*.build.platforms", Rule::Unique(SeqKey::Text)),
    ("services.*.networks.*.aliases", Rule::Unique(SeqKey::Text)),
    (
        "services.*.networks.*.link_local_ips",
        Rule::Unique(SeqKey::Text),
    ),
    ("networks.*.ipam.config", Rule::IpamConfig),
];

fn rule_for(path: &[String]) -> Option<Rule> {
    RULES.iter().find_map(|(pattern, rule)| {
        let mut parts = pattern.split('.');
        let matches = path
            .iter()
            .all(|seg| parts.next().is_some_and(|p| p == "*" || p == seg));
        (matches && parts.next().is_none()).then_some(*rule)
    })
}

/// Merges `over` onto `base` (`base` from an earlier file, document or
/// `extends` base). Returns every conflict found, each naming the key path.
pub fn merge(base: Node, over: Node) -> Result<Node, Vec<LoadError>> {
    merge_at(base, over, &[])
}

/// Merges two values that both sit at `path` (`["services", "web"]` for
/// `extends`), so that the rules for that place apply.
pub fn merge_at(base: Node, over: Node, path: &[&str]) -> Result<Node, Vec<LoadError>> {
    let path = path.iter().map(|s| s.to_string()).collect();
    let mut m = Merger {
        path,
        errors: Vec::new(),
    };
    let merged = m.node(clean(base), over);
    if m.errors.is_empty() {
        Ok(merged)
    } else {
        Err(m.errors)
    }
}

/// Removes `!reset` nodes and clears `!override` tags in a tree that has
/// nothing to merge onto (the first file, or a key only the override has).
pub fn clean(mut node: Node) -> Node {
    node.tag = NodeTag::None;
    match &mut node.kind {
        Kind::Map(map) => {
            map.retain(|_, e| e.value.tag != NodeTag::Reset);
            for e in map.values_mut() {
                e.value = clean(std::mem::replace(&mut e.value, null_at(&e.key_location)));
            }
        }
        Kind::Seq(items) => {
            items.retain(|n| n.tag != NodeTag::Reset);
            for n in items.iter_mut() {
                *n = clean(std::mem::replace(n, null_at(&n.location)));
            }
        }
        Kind::Null | Kind::Scalar(_) => {}
    }
    node
}

fn null_at(location: &crate::error::Location) -> Node {
    Node::new(Kind::Null, location.clone())
}

struct Merger {
    /// Keys from the document root to the node being merged.
    path: Vec<String>,
    errors: Vec<LoadError>,
}

impl Merger {
    fn key_path(&self) -> KeyPath {
        self.path.iter().fold(KeyPath::root(), |p, k| p.key(k))
    }

    fn mismatch(&mut self, base: &Node, over: &Node) {
        self.errors.push(
            LoadError::new(
                Some(over.location.clone()),
                self.key_path().to_string(),
                format!(
                    "cannot merge {} onto {} defined at {}",
                    over.kind_name(),
                    base.kind_name(),
                    base.location
                ),
            )
            .with_hint("write it in the same form as the earlier definition, or tag it `!override` to replace it"),
        );
    }

    /// Merges a value whose base is already clean.
    fn node(&mut self, base: Node, over: Node) -> Node {
        if over.tag == NodeTag::Override {
            return clean(over);
        }
        if over.is_null() {
            return base;
        }
        if base.is_null() {
            return clean(over);
        }
        match rule_for(&self.path) {
            Some(rule) => self.with_rule(rule, base, over),
            None => self.default(base, over),
        }
    }

    fn default(&mut self, base: Node, over: Node) -> Node {
        match (base.kind, over.kind) {
            (Kind::Map(b), Kind::Map(o)) => {
                Node::new(Kind::Map(self.mappings(b, o)), base.location)
            }
            (Kind::Seq(mut b), Kind::Seq(o)) => {
                b.extend(o.into_iter().filter(|n| n.tag != NodeTag::Reset).map(clean));
                Node::new(Kind::Seq(b), base.location)
            }
            (b @ (Kind::Map(_) | Kind::Seq(_)), o) => {
                let base = Node::new(b, base.location);
                let over = Node::new(o, over.location);
                self.mismatch(&base, &over);
                base
            }
            (_, o) => clean(Node {
                kind: o,
                location: over.location,
                tag: over.tag,
            }),
        }
    }

    /// Merges two mappings key by key, each value by the rule of its path.
    fn mappings(&mut self, mut base: Mapping, over: Mapping) -> Mapping {
        for (key, entry) in over {
            if entry.value.tag == NodeTag::Reset {
                base.shift_remove(&key);
            } else if let Some(old) = base.get_mut(&key) {
                let old_value = std::mem::replace(&mut old.value, null_at(&entry.key_location));
                self.path.push(key);
                old.value = self.node(old_value, entry.value);
                self.path.pop();
            } else {
                let value = clean(entry.value);
                base.insert(
                    key,
                    Entry {
                        key_location: entry.key_location,
                        value,
                    },
                );
            }
        }
        base
    }

    fn with_rule(&mut self, rule: Rule, base: Node, over: Node) -> Node {
        let location = base.location.clone();
        match rule {
            Rule::Replace => clean(over),
            Rule::KeyValue | Rule::Hosts => {
                let split = if rule == Rule::Hosts {
                    keys::split_host
                } else {
                    keys::split_key_value
                };
                match (
                    self.as_mapping_form(base, &split),
                    self.as_mapping_form(over, &split),
                ) {
                    (Some(b), Some(o)) => Node::new(Kind::Map(flat(b, o)), location),
                    _ => Node::new(Kind::Map(Mapping::new()), location),
                }
            }
            Rule::Named | Rule::DependsOn => {
                let named = |item: &Node| -> Option<(String, Node)> {
                    let name = item.as_str()?.to_string();
                    let value = if rule == Rule::DependsOn {
                        keys::depends_on_defaults(&item.location)
                    } else {
                        null_at(&item.location)
                    };
                    Some((name, value))
                };
                match (
                    self.as_mapping_form(base, &named),
                    self.as_mapping_form(over, &named),
                ) {
                    (Some(b), Some(o)) => Node::new(Kind::Map(self.mappings(b, o)), location),
                    _ => Node::new(Kind::Map(Mapping::new()), location),
                }
            }
            Rule::Build => {
                let (b, o) = (keys::build_map(base), keys::build_map(over));
                self.default(b, o)
            }
            Rule::Logging => {
                let driver = |n: &Node| n.get("driver").and_then(Node::as_str).map(str::to_string);
                match (driver(&base), driver(&over)) {
                    (Some(b), Some(o)) if b != o => clean(over),
                    _ => self.default(base, over),
                }
            }
            Rule::Unique(key) => match (self.as_sequence_form(base), self.as_sequence_form(over)) {
                (Some(b), Some(o)) => Node::new(Kind::Seq(keys::unique(b, o, key)), location),
                _ => Node::new(Kind::Seq(Vec::new()), location),
            },
            Rule::IpamConfig => match (self.as_sequence_form(base), self.as_sequence_form(over)) {
                (Some(b), Some(o)) => Node::new(Kind::Seq(self.ipam(b, o)), location),
                _ => Node::new(Kind::Seq(Vec::new()), location),
            },
        }
    }

    /// A list-or-mapping attribute in its mapping form; list items are split
    /// into a key and a value by `split`.
    fn as_mapping_form(
        &mut self,
        node: Node,
        split: &dyn Fn(&Node) -> Option<(String, Node)>,
    ) -> Option<Mapping> {
        match node.kind {
            Kind::Map(m) => Some(m),
            Kind::Seq(items) => {
                let mut map = Mapping::new();
                for item in items {
                    if item.tag == NodeTag::Reset {
                        continue;
                    }
                    match split(&item) {
                        Some((key, value)) => {
                            map.insert(key, Entry { key_location: item.location.clone(), value });
                        }
                        None => self.errors.push(
                            LoadError::new(
                                Some(item.location.clone()),
                                self.key_path().to_string(),
                                format!("cannot read {} as a key and a value", item.kind_name()),
                            )
                            .with_hint("write each item as `KEY=VALUE` (`host:ip` for extra_hosts) or use the mapping form"),
                        ),
                    }
                }
                Some(map)
            }
            _ => {
                self.errors.push(
                    LoadError::new(
                        Some(node.location.clone()),
                        self.key_path().to_string(),
                        format!("expected a list or a mapping, found {}", node.kind_name()),
                    )
                    .with_hint("write it as a list of `KEY=VALUE` items or as a mapping"),
                );
                None
            }
        }
    }

    /// A sequence attribute that also accepts one scalar (`dns: 8.8.8.8`).
    fn as_sequence_form(&mut self, node: Node) -> Option<Vec<Node>> {
        match node.kind {
            Kind::Seq(items) => Some(items),
            Kind::Scalar(_) => Some(vec![node]),
            _ => {
                self.errors.push(
                    LoadError::new(
                        Some(node.location.clone()),
                        self.key_path().to_string(),
                        format!("expected a list, found {}", node.kind_name()),
                    )
                    .with_hint("write it as a list"),
                );
                None
            }
        }
    }

    fn ipam(&mut self, mut base: Vec<Node>, over: Vec<Node>) -> Vec<Node> {
        let subnet = |n: &Node| n.get("subnet").and_then(Node::as_str).map(str::to_string);
        for item in over.into_iter().filter(|n| n.tag != NodeTag::Reset) {
            let found = subnet(&item)
                .and_then(|s| base.iter().position(|b| subnet(b).as_deref() == Some(&s)));
            match found {
                Some(i) => {
                    let old = std::mem::replace(&mut base[i], null_at(&item.location));
                    base[i] = self.default(old, item);
                }
                None => base.push(clean(item)),
            }
        }
        base
    }
}

/// Merges two mappings whose values are replaced, not merged.
fn flat(mut base: Mapping, over: Mapping) -> Mapping {
    for (key, entry) in over {
        if entry.value.tag == NodeTag::Reset {
            base.shift_remove(&key);
        } else if let Some(old) = base.get_mut(&key) {
            old.value = clean(entry.value);
        } else {
            base.insert(
                key,
                Entry {
                    key_location: entry.key_location,
                    value: clean(entry.value),
                },
            );
        }
    }
    base
}

/// A string scalar synthesized from part of a list item (`KEY=VALUE`).
/// Quoted, because the text was part of a string and must stay one.
fn string_at(text: &str, location: &crate::error::Location) -> Node {
    Node::string(text, Style::Quoted, location.clone())
}
