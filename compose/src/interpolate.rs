//! `${VAR}` interpolation, as Compose does it, on strings and on the spanned tree.
//!
//! Syntax (docs.docker.com, "Interpolation"): `$VAR`, `${VAR}`,
//! `${VAR:-default}` / `${VAR-default}`, `${VAR:?message}` / `${VAR?message}`,
//! `${VAR:+alternative}` / `${VAR+alternative}`; defaults, messages and
//! alternatives may themselves contain expressions (`${A:-${B:-x}}`). `$$` is a
//! literal `$`, and a `$` that is followed neither by a name nor by `{` stays as
//! it is (`^REGEX$`, `a $ b`). Names are `[A-Za-z_][A-Za-z0-9_]*`.
//!
//! One deliberate difference from Compose: the whole expression is checked for
//! syntax, including defaults that end up unused, so a typo in a fallback is
//! reported the first time the file is loaded rather than the day the
//! variable goes missing.

pub mod template;

pub use template::{substitute, SubstitutionError};

use crate::env::Environment;
use crate::error::{LoadError, Location, Warning};
use crate::tree::{KeyPath, Kind, Node, Style};

/// Substitutes every scalar value under `node` (never mapping keys) with
/// variables from `env`. A substituted scalar keeps its style, so a plain
/// `${PORT}` can still be read as a number later. Returns every error found;
/// scalars that fail keep their original text. Unset variables that became
/// empty are reported in `warnings`, once per scalar and variable.
pub fn interpolate(
    node: &mut Node,
    env: &Environment,
    path: &KeyPath,
    warnings: &mut Vec<Warning>,
) -> Vec<LoadError> {
    let lookup = |name: &str| env.get(name).map(str::to_string);
    let mut errors = Vec::new();
    walk(node, &lookup, path, &mut errors, warnings);
    errors
}

fn walk(
    node: &mut Node,
    lookup: &dyn Fn(&str) -> Option<String>,
    path: &KeyPath,
    errors: &mut Vec<LoadError>,
    warnings: &mut Vec<Warning>,
) {
    let Node { kind, location, .. } = node;
    match kind {
        Kind::Null => {}
        Kind::Scalar(scalar) => {
            if !scalar.text.contains('$') {
                return;
            }
            match substitute(&scalar.text, lookup) {
                Ok(done) => {
                    scalar.text = done.text;
                    warnings.extend(done.unset.into_iter().map(|name| Warning {
                        location: Some(location.clone()),
                        path: path.to_string(),
                        message: format!(
                            "variable {name} is not set, substituting an empty string \
                             (set it, or give a default with ${{{name}:-default}})"
                        ),
                    }));
                }
                Err(e) => {
                    let at = error_location(location, &scalar.text, scalar.style, e.offset());
                    let hint = e.hint();
                    errors.push(
                        LoadError::new(Some(at), path.to_string(), e.to_string()).with_hint(hint),
                    );
                }
            }
        }
        Kind::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                walk(item, lookup, &path.index(i), errors, warnings);
            }
        }
        Kind::Map(entries) => {
            for (key, entry) in entries.iter_mut() {
                walk(&mut entry.value, lookup, &path.key(key), errors, warnings);
            }
        }
    }
}

/// Where the failing `$` is. Only a plain one-line scalar maps character for
/// character onto the source; for quoted or folded ones (escapes, line
/// joins) the scalar's own position is the honest answer.
fn error_location(scalar_at: &Location, text: &str, style: Style, offset: usize) -> Location {
    let mut at = scalar_at.clone();
    if style == Style::Plain && !text.contains('\n') {
        at.column += text
            .get(..offset)
            .map_or(0, |before| before.chars().count());
    }
    at
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;
    use std::sync::Arc;

    fn tree(text: &str) -> Node {
        let file: Arc<str> = Arc::from("compose.yaml");
        yaml::parse(text, &file).unwrap().remove(0)
    }

    fn env() -> Environment {
        [
            ("TAG", "1.2"),
            ("PORT", "8080"),
            ("EMPTY", ""),
            ("KEY_NAME", "nope"),
        ]
        .into_iter()
        .collect()
    }

    #[test]
    fn tree_values_are_substituted_keys_are_not() {
        let mut doc = tree(
            "services:\n  web:\n    image: \"nginx:${TAG}\"\n    ports:\n      - ${PORT}:80\n    labels:\n      $KEY_NAME: ${TAG:-x}\n",
        );
        let mut warnings = Vec::new();
        let errors = interpolate(&mut doc, &env(), &KeyPath::root(), &mut warnings);
        assert!(errors.is_empty(), "{errors:?}");
        assert!(warnings.is_empty(), "{warnings:?}");
        let web = doc.get("services").and_then(|s| s.get("web")).unwrap();
        assert_eq!(web.get("image").and_then(Node::as_str), Some("nginx:1.2"));
        let ports = web.get("ports").and_then(Node::as_seq).unwrap();
        assert_eq!(ports[0].as_str(), Some("8080:80"));
        let labels = web.get("labels").and_then(Node::as_map).unwrap();
        assert_eq!(labels.keys().collect::<Vec<_>>(), vec!["$KEY_NAME"]);
        assert_eq!(labels["$KEY_NAME"].value.as_str(), Some("1.2"));
    }

    #[test]
    fn every_scalar_style_is_interpolated() {
        // Unlike in `.env` files, YAML single quotes do not stop interpolation
        // in Compose: the YAML parser has already removed them.
        let mut doc = tree("a: '${TAG}'\nb: |\n  tag ${TAG}\n  port $PORT\nc: >\n  ${TAG}\n  x\n");
        let errors = interpolate(&mut doc, &env(), &KeyPath::root(), &mut Vec::new());
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(doc.get("a").and_then(Node::as_str), Some("1.2"));
        assert_eq!(
            doc.get("b").and_then(Node::as_str),
            Some("tag 1.2\nport 8080\n")
        );
        assert_eq!(doc.get("c").and_then(Node::as_str), Some("1.2 x\n"));
    }

    #[test]
    fn plain_scalar_columns_count_characters() {
        let mut doc = tree("k: héllo ${X:?}\n");
        let errors = interpolate(&mut doc, &env(), &KeyPath::root(), &mut Vec::new());
        let at = errors[0].location.clone().unwrap();
        assert_eq!((at.line, at.column), (1, 10));
    }

    #[test]
    fn substituted_scalars_keep_their_style() {
        let mut doc = tree("a: ${PORT}\nb: \"${PORT}\"\nc: ${EMPTY}\nd: 'x$$y'\n");
        let errors = interpolate(&mut doc, &env(), &KeyPath::root(), &mut Vec::new());
        assert!(errors.is_empty());
        let scalar = |k: &str| doc.get(k).and_then(Node::as_scalar).cloned().unwrap();
        assert_eq!(
            (scalar("a").text, scalar("a").style),
            ("8080".to_string(), Style::Plain)
        );
        assert_eq!(
            (scalar("b").text, scalar("b").style),
            ("8080".to_string(), Style::Quoted)
        );
        assert_eq!(
            (scalar("c").text, scalar("c").style),
            (String::new(), Style::Plain)
        );
        assert_eq!(scalar("d").text, "x$y");
    }

    #[test]
    fn tree_errors_are_all_collected_with_positions_and_paths() {
        let mut doc = tree(
            "services:\n  web:\n    image: nginx:${TAG:?set a tag}\n    command: echo ${oops\n    environment:\n      - A=${NEED:?please set NEED}\n      - B=\"${ok}\"\n",
        );
        let empty = Environment::new();
        let mut warnings = Vec::new();
        let errors = interpolate(&mut doc, &empty, &KeyPath::root(), &mut warnings);
        let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(shown.len(), 3, "{shown:#?}");
        assert_eq!(
            shown[0],
            "compose.yaml:3:18: services.web.image: required variable TAG is missing a value: set a tag \
             (set TAG in the environment or in the .env file)"
        );
        assert!(
            shown[1].starts_with(
                "compose.yaml:4:19: services.web.command: invalid interpolation format in \"${oops\": \
                 the \"${\" is never closed by \"}\" (write a literal $ as $$"
            ),
            "{}",
            shown[1]
        );
        assert!(
            shown[2].starts_with(
                "compose.yaml:6:11: services.web.environment[0]: required variable NEED"
            ),
            "{}",
            shown[2]
        );
        // The failing scalars keep their text; the good one is still substituted.
        let web = doc.get("services").and_then(|s| s.get("web")).unwrap();
        assert_eq!(
            web.get("image").and_then(Node::as_str),
            Some("nginx:${TAG:?set a tag}")
        );
        assert_eq!(warnings.len(), 1);
        assert_eq!(warnings[0].path, "services.web.environment[1]");
        assert!(
            warnings[0].message.contains("variable ok is not set"),
            "{}",
            warnings[0].message
        );
    }

    #[test]
    fn quoted_scalar_errors_point_at_the_scalar() {
        let mut doc = tree("x:\n  y: \"a\\tb ${NOPE:?}\"\n");
        let errors = interpolate(
            &mut doc,
            &Environment::new(),
            &KeyPath::root().key("top"),
            &mut Vec::new(),
        );
        assert_eq!(errors.len(), 1);
        let at = errors[0].location.clone().unwrap();
        assert_eq!((at.line, at.column), (2, 6));
        assert_eq!(errors[0].path, "top.x.y");
    }

    #[test]
    fn nulls_numbers_and_plain_text_are_untouched() {
        let mut doc = tree("a: ~\nb: 80\nc: [1, two]\nd: {e: f}\n");
        let before = doc.clone();
        assert!(interpolate(&mut doc, &env(), &KeyPath::root(), &mut Vec::new()).is_empty());
        assert_eq!(doc, before);
    }
}
