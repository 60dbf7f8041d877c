//! Where each node of the loaded project was written, by key path, so that
//! checks on the typed model can still say `file:line:column`.

use crate::error::Location;
use crate::tree::{KeyPath, Kind, Node, Segment};
use std::collections::HashMap;

/// Positions by rendered key path (`services.web.ports[1]`). Built from the
/// final spanned tree the model was converted from; a path that the model
/// has and the tree does not (a short-syntax port range expanded into
/// several ports, say) is located at its nearest recorded ancestor.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Spans(HashMap<String, Location>);

impl Spans {
    /// Records every node of `root`: mapping entries at their key, list
    /// items at the item. A scalar list item is also recorded under its
    /// text as a key, because the model turns the list forms of
    /// `depends_on: [db]` and `networks: [front]` into mappings.
    pub fn from_tree(root: &Node) -> Self {
        let mut spans = Spans::default();
        spans.insert(&KeyPath::root(), root.location.clone());
        spans.record(root, &KeyPath::root());
        spans
    }

    fn record(&mut self, node: &Node, path: &KeyPath) {
        match &node.kind {
            Kind::Map(map) => {
                for (key, entry) in map {
                    let child = path.key(key);
                    self.insert(&child, entry.key_location.clone());
                    self.record(&entry.value, &child);
                }
            }
            Kind::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let child = path.index(i);
                    self.insert(&child, item.location.clone());
                    if let Some(text) = item.as_str() {
                        self.0
                            .entry(path.key(text).to_string())
                            .or_insert_with(|| item.location.clone());
                    }
                    self.record(item, &child);
                }
            }
            Kind::Null | Kind::Scalar(_) => {}
        }
    }

    /// Records (or replaces) the position of `path`.
    pub fn insert(&mut self, path: &KeyPath, location: Location) {
        self.0.insert(path.to_string(), location);
    }

    /// Whether `path` itself (not an ancestor) was recorded.
    pub fn contains(&self, path: &KeyPath) -> bool {
        self.0.contains_key(&path.to_string())
    }

    /// The position of `path`, or of its nearest recorded ancestor.
    pub fn locate(&self, path: &KeyPath) -> Option<Location> {
        let mut prefix = KeyPath::root();
        let mut prefixes = vec![prefix.to_string()];
        for segment in path.segments() {
            prefix = match segment {
                Segment::Key(key) => prefix.key(key),
                Segment::Index(i) => prefix.index(*i),
            };
            prefixes.push(prefix.to_string());
        }
        prefixes.iter().rev().find_map(|p| self.0.get(p)).cloned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn spans(text: &str) -> Spans {
        let file: Arc<str> = Arc::from("compose.yaml");
        let docs = crate::yaml::parse(text, &file).unwrap();
        Spans::from_tree(&docs[0])
    }

    fn at(spans: &Spans, path: &KeyPath) -> String {
        spans
            .locate(path)
            .map(|l| l.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn mapping_entries_are_located_at_their_key() {
        let s = spans("services:\n  web:\n    image: nginx\n");
        let web = KeyPath::root().key("services").key("web");
        assert_eq!(at(&s, &web), "compose.yaml:2:3");
        assert_eq!(at(&s, &web.key("image")), "compose.yaml:3:5");
    }

    #[test]
    fn list_items_are_located_by_index_and_by_text() {
        let s = spans("services:\n  web:\n    depends_on:\n      - db\n      - cache\n");
        let deps = KeyPath::root().key("services").key("web").key("depends_on");
        assert_eq!(at(&s, &deps.index(1)), "compose.yaml:5:9");
        assert_eq!(at(&s, &deps.key("db")), "compose.yaml:4:9");
    }

    #[test]
    fn unknown_paths_fall_back_to_their_nearest_ancestor() {
        let s = spans("services:\n  web:\n    ports:\n      - 8000-8001:8000-8001\n");
        let ports = KeyPath::root().key("services").key("web").key("ports");
        assert_eq!(at(&s, &ports.index(1)), "compose.yaml:3:5");
        assert!(s.contains(&ports.index(0)));
        assert!(!s.contains(&ports.index(1)));
        let nowhere = Spans::default();
        assert_eq!(nowhere.locate(&ports), None);
    }

    #[test]
    fn inserted_positions_win() {
        let mut s = spans("services: {}\n");
        let path = KeyPath::root().key("services").key("web");
        let here = Location::new(Arc::from("other.yaml"), 7, 3);
        s.insert(&path, here.clone());
        assert_eq!(s.locate(&path), Some(here));
    }
}
