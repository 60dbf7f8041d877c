//! YAML text → spanned tree.
//!
//! Built on `saphyr-parser`'s event stream, which gives every event its
//! position. Anchors and aliases are resolved here (an alias is a copy of the
//! anchored node, keeping the anchor's positions) and `<<` merge keys are
//! applied here, so that later stages never see either and every node keeps a
//! real `file:line:column`.

use crate::error::{LoadError, Location};
use crate::tree::{Entry, Kind, Mapping, Node, NodeTag, Scalar, Style};
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::collections::HashMap;
use std::sync::Arc;

/// Parses every document of `text`. An empty file yields no documents.
pub fn parse(text: &str, file: &Arc<str>) -> Result<Vec<Node>, LoadError> {
    let mut builder = Builder {
        file: file.clone(),
        anchors: HashMap::new(),
        stack: Vec::new(),
        documents: Vec::new(),
    };
    let mut parser = Parser::new_from_str(text);
    while let Some(event) = parser.next_event() {
        let (event, span) = event.map_err(|e| {
            let m = e.marker();
            LoadError::new(
                Some(Location::new(file.clone(), m.line(), m.col() + 1)),
                "",
                format!("invalid YAML: {}", e.info()),
            )
            .with_hint("fix the YAML syntax at this position")
        })?;
        builder.event(event, span)?;
    }
    Ok(builder.documents)
}

/// A collection being built.
enum Open {
    Seq {
        anchor: usize,
        tag: NodeTag,
        location: Location,
        items: Vec<Node>,
    },
    Map {
        anchor: usize,
        tag: NodeTag,
        location: Location,
        entries: Mapping,
        /// Mappings named by `<<`, in order of precedence (first wins).
        merges: Vec<Node>,
        /// A key waiting for its value, and whether it was written plain
        /// (only a plain `<<` is a merge key; a quoted `"<<"` is a literal key).
        key: Option<(String, Location, bool)>,
    },
}

struct Builder {
    file: Arc<str>,
    anchors: HashMap<usize, Node>,
    stack: Vec<Open>,
    documents: Vec<Node>,
}

impl Builder {
    fn location(&self, span: &Span) -> Location {
        Location::new(self.file.clone(), span.start.line(), span.start.col() + 1)
    }

    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), LoadError> {
        let location = self.location(&span);
        match event {
            Event::Nothing
            | Event::StreamStart
            | Event::StreamEnd
            | Event::DocumentStart(_)
            | Event::DocumentEnd => Ok(()),
            Event::Alias(id) => {
                let node = self.anchors.get(&id).cloned().ok_or_else(|| {
                    LoadError::new(Some(location.clone()), "", "alias to an unknown anchor")
                        .with_hint("define the anchor with `&name` before using `*name`")
                })?;
                self.push_node(node)
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node_tag = node_tag(tag.as_deref(), &location)?;
                let forced_string = tag
                    .as_deref()
                    .is_some_and(|t| t.is_yaml_core_schema() && t.suffix == "str");
                let kind = if style == ScalarStyle::Plain && !forced_string && is_null(&text) {
                    Kind::Null
                } else {
                    Kind::Scalar(Scalar {
                        text: text.into_owned(),
                        style: if style == ScalarStyle::Plain && !forced_string {
                            Style::Plain
                        } else {
                            Style::Quoted
                        },
                    })
                };
                let mut node = Node::new(kind, location);
                node.tag = node_tag;
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_node(node)
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = node_tag(tag.as_deref(), &location)?;
                self.stack.push(Open::Seq {
                    anchor,
                    tag,
                    location,
                    items: Vec::new(),
                });
                Ok(())
            }
            Event::MappingStart(anchor, tag) => {
                let tag = node_tag(tag.as_deref(), &location)?;
                self.stack.push(Open::Map {
                    anchor,
                    tag,
                    location,
                    entries: Mapping::new(),
                    merges: Vec::new(),
                    key: None,
                });
                Ok(())
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (anchor, node) = match self.stack.pop() {
                    Some(Open::Seq {
                        anchor,
                        tag,
                        location,
                        items,
                    }) => {
                        let mut node = Node::new(Kind::Seq(items), location);
                        node.tag = tag;
                        (anchor, node)
                    }
                    Some(Open::Map {
                        anchor,
                        tag,
                        location,
                        mut entries,
                        merges,
                        ..
                    }) => {
                        // Explicit keys win over merged ones; among merged
                        // mappings the first listed wins (YAML merge key rules).
                        for merged in merges {
                            if let Kind::Map(m) = merged.kind {
                                for (k, e) in m {
                                    entries.entry(k).or_insert(e);
                                }
                            }
                        }
                        let mut node = Node::new(Kind::Map(entries), location);
                        node.tag = tag;
                        (anchor, node)
                    }
                    None => return Ok(()),
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                self.push_node(node)
            }
        }
    }

    /// Adds a finished node to the innermost open collection (or as a document).
    fn push_node(&mut self, node: Node) -> Result<(), LoadError> {
        match self.stack.last_mut() {
            None => {
                self.documents.push(node);
                Ok(())
            }
            Some(Open::Seq { items, .. }) => {
                items.push(node);
                Ok(())
            }
            Some(Open::Map {
                entries,
                merges,
                key,
                ..
            }) => {
                match key.take() {
                    None => {
                        let (text, plain) = match &node.kind {
                            Kind::Scalar(s) => (s.text.clone(), s.style == Style::Plain),
                            Kind::Null => (String::new(), true),
                            _ => {
                                return Err(LoadError::new(
                                    Some(node.location.clone()),
                                    "",
                                    format!(
                                        "a mapping key must be a scalar, found {}",
                                        node.kind_name()
                                    ),
                                )
                                .with_hint("use a plain string as the key"))
                            }
                        };
                        *key = Some((text, node.location, plain));
                        Ok(())
                    }
                    Some((k, _, true)) if k == "<<" => {
                        match &node.kind {
                            Kind::Map(_) => merges.push(node),
                            Kind::Seq(items) if items.iter().all(|i| i.as_map().is_some()) => {
                                merges.extend(items.iter().cloned())
                            }
                            _ => return Err(LoadError::new(
                                Some(node.location.clone()),
                                "<<",
                                format!(
                                    "a merge key needs a mapping or a list of mappings, found {}",
                                    node.kind_name()
                                ),
                            )
                            .with_hint(
                                "write `<<: *anchor` or `<<: [*a, *b]` with anchors of mappings",
                            )),
                        }
                        Ok(())
                    }
                    Some((k, key_location, _)) => {
                        if let Some(previous) = entries.get(&k) {
                            return Err(LoadError::new(
                                Some(key_location),
                                "",
                                format!(
                                    "duplicate key `{k}`, already defined at line {}",
                                    previous.key_location.line
                                ),
                            )
                            .with_hint("remove one of the two keys"));
                        }
                        entries.insert(
                            k,
                            Entry {
                                key_location,
                                value: node,
                            },
                        );
                        Ok(())
                    }
                }
            }
        }
    }
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

/// Compose's own tags: `!reset` removes an inherited value in a merge, and
/// `!override` replaces it instead of merging. Core-schema tags (`!!str`, ...)
/// are accepted; any other tag is an error.
fn node_tag(tag: Option<&Tag>, location: &Location) -> Result<NodeTag, LoadError> {
    let Some(tag) = tag else {
        return Ok(NodeTag::None);
    };
    if tag.is_yaml_core_schema() {
        return Ok(NodeTag::None);
    }
    match (tag.handle.as_str(), tag.suffix.as_str()) {
        ("!", "reset") => Ok(NodeTag::Reset),
        ("!", "override") => Ok(NodeTag::Override),
        (handle, suffix) => Err(LoadError::new(
            Some(location.clone()),
            "",
            format!("unsupported YAML tag `{handle}{suffix}`"),
        )
        .with_hint("Compose files only use `!reset` and `!override`")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(text: &str) -> Node {
        let mut docs = parse(text, &Arc::from("compose.yaml")).expect("parses");
        assert_eq!(docs.len(), 1);
        docs.remove(0)
    }

    #[test]
    fn keeps_line_and_column() {
        let n = doc("services:\n  web:\n    image: nginx\n");
        let image = n
            .get("services")
            .and_then(|s| s.get("web"))
            .and_then(|w| w.get("image"));
        let image = image.expect("image");
        assert_eq!(image.as_str(), Some("nginx"));
        assert_eq!((image.location.line, image.location.column), (3, 12));
        let web = n
            .get("services")
            .and_then(|s| s.as_map())
            .and_then(|m| m.get("web"));
        let web = web.expect("web");
        assert_eq!((web.key_location.line, web.key_location.column), (2, 3));
    }

    #[test]
    fn resolves_aliases_and_merge_keys() {
        let n = doc(
            "x-base: &base\n  image: busybox\n  restart: always\nservices:\n  a:\n    <<: *base\n    restart: \"no\"\n  b: *base\n",
        );
        let a = n.get("services").and_then(|s| s.get("a")).expect("a");
        assert_eq!(a.get("image").and_then(Node::as_str), Some("busybox"));
        assert_eq!(a.get("restart").and_then(Node::as_str), Some("no"));
        assert!(a.get("<<").is_none());
        let b = n.get("services").and_then(|s| s.get("b")).expect("b");
        assert_eq!(b.get("restart").and_then(Node::as_str), Some("always"));
    }

    #[test]
    fn merge_list_first_wins() {
        let n = doc("a: &a {x: 1}\nb: &b {x: 2, y: 2}\nc:\n  <<: [*a, *b]\n");
        let c = n.get("c").expect("c");
        assert_eq!(c.get("x").and_then(Node::as_str), Some("1"));
        assert_eq!(c.get("y").and_then(Node::as_str), Some("2"));
    }

    #[test]
    fn nulls_and_styles() {
        let n = doc("a:\nb: ~\nc: 'null'\nd: 80\ne: \"80\"\nf: !!str 80\n");
        assert!(n.get("a").is_some_and(Node::is_null));
        assert!(n.get("b").is_some_and(Node::is_null));
        assert_eq!(
            n.get("c").and_then(Node::as_scalar).map(|s| s.style),
            Some(Style::Quoted)
        );
        assert_eq!(
            n.get("d").and_then(Node::as_scalar).map(|s| s.style),
            Some(Style::Plain)
        );
        assert_eq!(
            n.get("e").and_then(Node::as_scalar).map(|s| s.style),
            Some(Style::Quoted)
        );
        assert_eq!(
            n.get("f").and_then(Node::as_scalar).map(|s| s.style),
            Some(Style::Quoted)
        );
    }

    #[test]
    fn compose_tags() {
        let n = doc("a: !reset []\nb: !override [1]\n");
        assert_eq!(n.get("a").map(|a| a.tag), Some(NodeTag::Reset));
        assert_eq!(n.get("b").map(|b| b.tag), Some(NodeTag::Override));
        let err = parse("a: !foo 1\n", &Arc::from("f.yaml")).expect_err("unknown tag");
        assert!(
            err.to_string()
                .starts_with("f.yaml:1:4: unsupported YAML tag `!foo`"),
            "{err}"
        );
    }

    #[test]
    fn duplicate_keys_are_errors() {
        let err = parse("a: 1\nb: 2\na: 3\n", &Arc::from("f.yaml")).expect_err("duplicate");
        assert_eq!(
            err.to_string(),
            "f.yaml:3:1: duplicate key `a`, already defined at line 1 (remove one of the two keys)"
        );
    }

    #[test]
    fn syntax_errors_have_positions() {
        let err = parse("services:\n  web: [a\n", &Arc::from("f.yaml")).expect_err("syntax");
        assert!(err.to_string().starts_with("f.yaml:"), "{err}");
        assert!(err.to_string().contains("invalid YAML"), "{err}");
    }

    #[test]
    fn unknown_alias_is_an_error() {
        assert!(parse("a: *nope\n", &Arc::from("f.yaml")).is_err());
    }

    #[test]
    fn several_documents() {
        let docs = parse("a: 1\n---\nb: 2\n", &Arc::from("f.yaml")).expect("parses");
        assert_eq!(docs.len(), 2);
        assert!(parse("", &Arc::from("f.yaml")).expect("empty").is_empty());
    }
}
