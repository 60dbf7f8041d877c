//! The spanned YAML tree every loader stage works on.
//!
//! Anchors, aliases and `<<` merge keys are already resolved when a tree is
//! built (see `yaml.rs`); every node keeps the position it came from, so that
//! interpolation, merging and `extends` can move nodes between files and the
//! typed conversion can still say `file:line:column` for any value.

use crate::error::Location;
use indexmap::IndexMap;
use std::fmt;

/// How a scalar was written. Quoted scalars are always strings; plain ones may
/// be read as numbers or booleans where the model expects one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    Quoted,
}

/// A scalar as written (after interpolation, with the substituted text).
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    pub text: String,
    pub style: Style,
}

/// One value of a mapping, with the position of its key.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub key_location: Location,
    pub value: Node,
}

/// A mapping: keys are strings (YAML keys are read as their text), in file order.
pub type Mapping = IndexMap<String, Entry>;

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A plain `null`, `~`, `Null`, `NULL` or an empty value.
    Null,
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Mapping),
}

/// Compose's merge tags on a node: `!reset` removes what an earlier file or
/// an `extends` base set, `!override` replaces it instead of merging.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NodeTag {
    #[default]
    None,
    Reset,
    Override,
}

/// A YAML node and where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    pub location: Location,
    pub tag: NodeTag,
}

impl Node {
    pub fn new(kind: Kind, location: Location) -> Self {
        Node {
            kind,
            location,
            tag: NodeTag::None,
        }
    }

    /// A string scalar node at `location` (used when the loader synthesizes values).
    pub fn string(text: impl Into<String>, style: Style, location: Location) -> Self {
        Node::new(
            Kind::Scalar(Scalar {
                text: text.into(),
                style,
            }),
            location,
        )
    }

    pub fn as_map(&self) -> Option<&Mapping> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_map_mut(&mut self) -> Option<&mut Mapping> {
        match &mut self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.kind {
            Kind::Seq(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The scalar's text, whatever its style.
    pub fn as_str(&self) -> Option<&str> {
        self.as_scalar().map(|s| s.text.as_str())
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// The value under `key` when this node is a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key)).map(|e| &e.value)
    }

    /// What a user would call this kind of node in an error message.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Scalar(_) => "a scalar",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
        }
    }
}

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

/// A key path such as `services.web.ports[1]`, built up while walking a tree.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyPath(Vec<Segment>);

impl KeyPath {
    pub fn root() -> Self {
        KeyPath(Vec::new())
    }

    #[must_use]
    pub fn key(&self, key: &str) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Key(key.to_string()));
        p
    }

    #[must_use]
    pub fn index(&self, index: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Segment::Index(index));
        p
    }

    pub fn segments(&self) -> &[Segment] {
        &self.0
    }
}

impl fmt::Display for KeyPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Segment::Key(k) if i == 0 => f.write_str(k)?,
                Segment::Key(k) => write!(f, ".{k}")?,
                Segment::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_path_renders_like_compose() {
        let p = KeyPath::root()
            .key("services")
            .key("web")
            .key("ports")
            .index(1);
        assert_eq!(p.to_string(), "services.web.ports[1]");
        assert_eq!(KeyPath::root().to_string(), "");
    }
}
