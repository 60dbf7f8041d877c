//! Small readers from spanned nodes to typed values. Each reports what is
//! wrong into a [`Sink`] and returns `None`, so one pass finds every error.

use super::text::{parse_bytes, parse_duration, split_shell_words};
use super::ConvertContext;
use crate::error::{LoadError, Location, Warning};
use crate::model::{Bytes, Duration, Extensions};
use crate::tree::{KeyPath, Kind, Mapping, Node, Style};
use indexmap::IndexMap;

/// Where errors and warnings of one conversion go, with the context.
pub(super) struct Sink<'c> {
    pub ctx: &'c ConvertContext<'c>,
    pub errors: Vec<LoadError>,
    pub warnings: Vec<Warning>,
    /// Unsupported attributes already warned about (one warning each).
    reported: Vec<&'static str>,
}

impl<'c> Sink<'c> {
    pub fn new(ctx: &'c ConvertContext<'c>) -> Self {
        Sink {
            ctx,
            errors: Vec::new(),
            warnings: Vec::new(),
            reported: Vec::new(),
        }
    }

    pub fn error(
        &mut self,
        at: &Location,
        path: &KeyPath,
        message: impl Into<String>,
        hint: impl Into<String>,
    ) {
        self.errors
            .push(LoadError::new(Some(at.clone()), path.to_string(), message).with_hint(hint));
    }

    /// "expected X, found Y" for a node of the wrong kind.
    pub fn wrong_type(&mut self, node: &Node, path: &KeyPath, expected: &str) {
        let found = match &node.kind {
            Kind::Scalar(s) => format!("`{}`", s.text),
            _ => node.kind_name().to_string(),
        };
        self.error(
            &node.location,
            path,
            format!("expected {expected}, found {found}"),
            type_hint(expected),
        );
    }

    /// Warns, once per attribute name, that `key` is kept but has no effect.
    pub fn unsupported(&mut self, key: &'static str, at: &Location, path: &KeyPath) {
        if self.reported.contains(&key) {
            return;
        }
        self.reported.push(key);
        self.warn(
            at,
            path,
            format!("`{key}` is not supported by stack yet; it is kept in the configuration but has no effect"),
        );
    }

    pub fn warn(&mut self, at: &Location, path: &KeyPath, message: impl Into<String>) {
        self.warnings.push(Warning {
            location: Some(at.clone()),
            path: path.to_string(),
            message: message.into(),
        });
    }
}

/// What to write instead, for each kind of value the readers expect.
fn type_hint(expected: &str) -> &'static str {
    match expected {
        "a list" => "write one `- item` per line, or `[a, b]`",
        "a mapping" => "write indented `key: value` lines",
        "a string" => {
            "write a single value; quote it if it contains `: ` or starts with `{`, `[` or `*`"
        }
        "a string, a number or a boolean" => "write a single value, not a list or a mapping",
        "`true` or `false`" => "write `true` or `false`",
        "an integer" => "write a whole number, e.g. `3`",
        "a number" => "write a number, e.g. `0.5`",
        "a string or a list" => "write a single value, or a list of values",
        "a mapping or a list" => {
            "write indented `KEY: value` lines, or a list of `KEY=value` items"
        }
        _ => "write either a short string form or the long mapping form",
    }
}

/// Reads a mapping key by key, remembering which keys were asked for, so
/// that the keys nobody asked for are reported as unknown at the end.
pub(super) struct MapReader<'n> {
    map: &'n Mapping,
    pub path: KeyPath,
    known: Vec<&'static str>,
    /// Keys users put here that belong elsewhere, with where they belong.
    misplaced: &'static [(&'static str, &'static str)],
}

impl<'n> MapReader<'n> {
    /// A reader over `node`, or an error when it is not a mapping. Null is an empty mapping.
    pub fn new(sink: &mut Sink, node: &'n Node, path: &KeyPath) -> Option<Self> {
        static EMPTY: std::sync::OnceLock<Mapping> = std::sync::OnceLock::new();
        let map = match &node.kind {
            Kind::Map(m) => m,
            Kind::Null => EMPTY.get_or_init(Mapping::new),
            _ => {
                sink.wrong_type(node, path, "a mapping");
                return None;
            }
        };
        Some(MapReader {
            map,
            path: path.clone(),
            known: Vec::new(),
            misplaced: &[],
        })
    }

    /// Unknown keys listed in `misplaced` get a hint naming where they belong.
    pub fn with_misplaced(mut self, misplaced: &'static [(&'static str, &'static str)]) -> Self {
        self.misplaced = misplaced;
        self
    }

    /// The value of `key` and its path, unless absent or null (null means unset).
    pub fn get(&mut self, key: &'static str) -> Option<(&'n Node, KeyPath)> {
        self.known.push(key);
        let entry = self.map.get(key)?;
        if entry.value.is_null() {
            return None;
        }
        Some((&entry.value, self.path.key(key)))
    }

    /// Where `key` is written, when present.
    pub fn key_location(&self, key: &str) -> Option<&'n Location> {
        self.map.get(key).map(|e| &e.key_location)
    }

    /// Reads `key` with `read` (one of the readers of this module).
    pub fn read<T>(
        &mut self,
        sink: &mut Sink,
        key: &'static str,
        read: impl FnOnce(&mut Sink, &Node, &KeyPath) -> Option<T>,
    ) -> Option<T> {
        let (node, path) = self.get(key)?;
        read(sink, node, &path)
    }

    /// Reads `key` as a string and parses it with `parse`, which returns the
    /// error message and hint on failure.
    pub fn parse<T>(
        &mut self,
        sink: &mut Sink,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, (String, String)>,
    ) -> Option<T> {
        let (node, path) = self.get(key)?;
        let text = string(sink, node, &path)?;
        match parse(&text) {
            Ok(v) => Some(v),
            Err((message, hint)) => {
                sink.error(&node.location, &path, message, hint);
                None
            }
        }
    }

    /// Reports every key nobody asked for (with a "did you mean" when one is
    /// close) and returns the `x-*` fields when `extensions` are allowed here.
    pub fn finish(self, sink: &mut Sink, extensions: bool) -> Extensions {
        let mut ext = Extensions::new();
        for (key, entry) in self.map {
            if self.known.contains(&key.as_str()) {
                continue;
            }
            if extensions && key.starts_with("x-") {
                ext.insert(key.clone(), to_json(&entry.value));
                continue;
            }
            let elsewhere = self.misplaced.iter().find(|(k, _)| k == key);
            let hint = match elsewhere
                .map(|(_, to)| *to)
                .or_else(|| closest(key, &self.known))
            {
                Some(k) => format!("did you mean `{k}`?"),
                None if extensions => {
                    "remove it, or prefix it with `x-` to keep it as an extension".into()
                }
                None => format!("valid keys here: {}", self.known.join(", ")),
            };
            sink.error(
                &entry.key_location,
                &self.path.key(key),
                format!("unknown key `{key}`"),
                hint,
            );
        }
        ext
    }
}

/// The known key closest to `key`, when it is close enough to be a typo.
pub(super) fn closest<'k>(key: &str, known: &[&'k str]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| (strsim::damerau_levenshtein(key, k), *k))
        .filter(|(d, k)| *d <= 2.max(k.len() / 4) && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// A node as JSON, for attributes kept verbatim. Plain scalars become
/// booleans or numbers when they read as one, as YAML would type them.
pub(super) fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &node.kind {
        Kind::Null => Value::Null,
        Kind::Scalar(s) if s.style == Style::Quoted => Value::String(s.text.clone()),
        Kind::Scalar(s) => match s.text.as_str() {
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            t => {
                if let Ok(i) = t.parse::<i64>() {
                    Value::from(i)
                } else if let Some(f) = t.parse::<f64>().ok().and_then(serde_json::Number::from_f64)
                {
                    Value::Number(f)
                } else {
                    Value::String(t.to_string())
                }
            }
        },
        Kind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        Kind::Map(m) => Value::Object(
            m.iter()
                .map(|(k, e)| (k.clone(), to_json(&e.value)))
                .collect(),
        ),
    }
}

/// A scalar's text. Numbers and booleans are strings too (`version: 3` is `"3"`).
pub(super) fn string(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<String> {
    match &node.kind {
        Kind::Scalar(s) => Some(s.text.clone()),
        _ => {
            sink.wrong_type(node, path, "a string");
            None
        }
    }
}

pub(super) fn boolean(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<bool> {
    match node.as_str() {
        Some("true" | "True" | "TRUE") => Some(true),
        Some("false" | "False" | "FALSE") => Some(false),
        _ => {
            sink.wrong_type(node, path, "`true` or `false`");
            None
        }
    }
}

/// An integer in the range of `T`.
pub(super) fn integer<T: TryFrom<i64>>(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<T> {
    let parsed = node.as_str().and_then(|t| t.parse::<i64>().ok());
    match parsed.map(|n| (n, T::try_from(n))) {
        Some((_, Ok(v))) => Some(v),
        Some((n, Err(_))) => {
            let hint = if n < 0 {
                "this value cannot be negative"
            } else {
                "use a smaller number"
            };
            sink.error(&node.location, path, format!("`{n}` is out of range"), hint);
            None
        }
        None => {
            sink.wrong_type(node, path, "an integer");
            None
        }
    }
}

pub(super) fn float(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<f64> {
    match node.as_str().and_then(|t| t.parse::<f64>().ok()) {
        Some(f) if f.is_finite() => Some(f),
        _ => {
            sink.wrong_type(node, path, "a number");
            None
        }
    }
}

/// A Go-style duration: `1m30s`, `1.5s`, `500ms`, `1h`, `2d`.
pub(super) fn duration(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Duration> {
    let text = string(sink, node, path)?;
    match parse_duration(&text) {
        Some(d) => Some(d),
        None => {
            sink.error(
                &node.location,
                path,
                format!("invalid duration `{text}`"),
                "write a number with a unit, e.g. `30s`, `1m30s`, `500ms`",
            );
            None
        }
    }
}

/// A byte size: an integer, or a number with a unit (`512m`, `1.5g`, `2GiB`), binary multiples.
pub(super) fn bytes(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Bytes> {
    let text = string(sink, node, path)?;
    match parse_bytes(&text) {
        Some(b) => Some(b),
        None => {
            sink.error(
                &node.location,
                path,
                format!("invalid size `{text}`"),
                "write a number of bytes or a number with a unit: b, k, m, g, t, p (e.g. `512m`)",
            );
            None
        }
    }
}

/// A list of strings; each item must be a scalar.
pub(super) fn string_list(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Vec<String>> {
    let Some(items) = node.as_seq() else {
        sink.wrong_type(node, path, "a list");
        return None;
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        if let Some(s) = string(sink, item, &path.index(i)) {
            out.push(s);
        }
    }
    Some(out)
}

/// One string or a list of strings (`dns: 8.8.8.8` or `dns: [8.8.8.8]`).
pub(super) fn string_or_list(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Vec<String>> {
    match &node.kind {
        Kind::Scalar(s) => Some(vec![s.text.clone()]),
        Kind::Seq(_) => string_list(sink, node, path),
        _ => {
            sink.wrong_type(node, path, "a string or a list");
            None
        }
    }
}

/// `KEY=VALUE` pairs as a mapping or a list. A list item or map value
/// without a value is `None` (environment), which callers may turn into `""`.
pub(super) fn key_values(
    sink: &mut Sink,
    node: &Node,
    path: &KeyPath,
) -> Option<IndexMap<String, Option<String>>> {
    let mut out = IndexMap::new();
    match &node.kind {
        Kind::Map(m) => {
            for (key, entry) in m {
                let value = match &entry.value.kind {
                    Kind::Null => None,
                    Kind::Scalar(s) => Some(s.text.clone()),
                    _ => {
                        sink.wrong_type(
                            &entry.value,
                            &path.key(key),
                            "a string, a number or a boolean",
                        );
                        continue;
                    }
                };
                out.insert(key.clone(), value);
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let Some(text) = string(sink, item, &path.index(i)) else {
                    continue;
                };
                let (key, value) = match text.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (text, None),
                };
                if key.is_empty() {
                    sink.error(
                        &item.location,
                        &path.index(i),
                        format!(
                            "`{}` has no name before `=`",
                            item.as_str().unwrap_or_default()
                        ),
                        "write it as NAME=value",
                    );
                    continue;
                }
                out.insert(key, value);
            }
        }
        _ => {
            sink.wrong_type(node, path, "a mapping or a list");
            return None;
        }
    }
    Some(out)
}

/// Like [`key_values`], but every key has a string value (`""` when none given).
pub(super) fn string_map(
    sink: &mut Sink,
    node: &Node,
    path: &KeyPath,
) -> Option<IndexMap<String, String>> {
    key_values(sink, node, path).map(|m| {
        m.into_iter()
            .map(|(k, v)| (k, v.unwrap_or_default()))
            .collect()
    })
}

/// A command: a list of arguments, or a string split like a POSIX shell
/// splits words (quotes and backslashes; no expansion), as Compose does.
pub(super) fn command(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Vec<String>> {
    match &node.kind {
        Kind::Scalar(s) => match split_shell_words(&s.text) {
            Ok(words) => Some(words),
            Err(msg) => {
                sink.error(
                    &node.location,
                    path,
                    msg,
                    "close the quote, or write the command as a list of arguments",
                );
                None
            }
        },
        Kind::Seq(_) => string_list(sink, node, path),
        _ => {
            sink.wrong_type(node, path, "a string or a list");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closest_keys() {
        assert_eq!(closest("prots", &["image", "ports"]), Some("ports"));
        assert_eq!(
            closest("enviroment", &["environment", "env_file"]),
            Some("environment")
        );
        assert_eq!(closest("zzz", &["image", "ports"]), None);
    }
}
