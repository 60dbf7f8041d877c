//! Docker's `filters` query parameter: a JSON object mapping each filter to
//! its values, either `{"label":["a=b"]}` or the older `{"label":{"a=b":true}}`.
//!
//! Values of one filter are alternatives (any may match), except `label`,
//! whose values must all match; different filters must all match.

use std::collections::{BTreeMap, HashMap};

use super::error::ApiError;

/// Parsed filters, each key with its values (sorted, deduplicated).
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Filters(BTreeMap<String, Vec<String>>);

impl Filters {
    /// Parses the parameter's value and checks every key against `allowed`.
    pub(crate) fn parse(raw: Option<&str>, allowed: &[&str]) -> Result<Filters, ApiError> {
        let raw = raw.unwrap_or("").trim();
        if raw.is_empty() {
            return Ok(Filters::default());
        }
        let invalid =
            |why: String| ApiError::bad_request(format!("invalid filters {raw:?}: {why}"));
        let value: serde_json::Value =
            serde_json::from_str(raw).map_err(|e| invalid(e.to_string()))?;
        let serde_json::Value::Object(object) = value else {
            return Err(invalid("expected a JSON object".into()));
        };
        let mut filters = BTreeMap::new();
        for (key, values) in object {
            if !allowed.contains(&key.as_str()) {
                return Err(ApiError::bad_request(format!(
                    "invalid filter '{key}' (this endpoint filters by: {})",
                    allowed.join(", ")
                )));
            }
            let mut list: Vec<String> = match values {
                serde_json::Value::Array(items) => items
                    .into_iter()
                    .map(|v| match v {
                        serde_json::Value::String(s) => Ok(s),
                        other => Err(invalid(format!(
                            "values of {key:?} must be strings, not {other}"
                        ))),
                    })
                    .collect::<Result<_, _>>()?,
                // The pre-1.22 form: {"value": true}; a false entry is not a value.
                serde_json::Value::Object(map) => map
                    .into_iter()
                    .filter(|(_, on)| on.as_bool() == Some(true))
                    .map(|(v, _)| v)
                    .collect(),
                other => {
                    return Err(invalid(format!(
                        "values of {key:?} must be a list, not {other}"
                    )))
                }
            };
            list.sort();
            list.dedup();
            filters.insert(key, list);
        }
        Ok(Filters(filters))
    }

    /// Whether `key` was given at all.
    pub(crate) fn contains(&self, key: &str) -> bool {
        self.0.contains_key(key)
    }

    /// The values of `key` (empty if not given).
    pub(crate) fn values(&self, key: &str) -> &[String] {
        self.0.get(key).map(Vec::as_slice).unwrap_or(&[])
    }

    /// True when `key` is absent or one of its values equals `value`.
    pub(crate) fn exact(&self, key: &str, value: &str) -> bool {
        !self.contains(key) || self.values(key).iter().any(|v| v == value)
    }

    /// A boolean filter (`dangling`, `all`): `true`/`1` or `false`/`0`;
    /// `None` when absent. Contradictory or other values are refused.
    pub(crate) fn boolean(&self, key: &str) -> Result<Option<bool>, ApiError> {
        let mut result = None;
        for value in self.values(key) {
            let parsed = match value.to_ascii_lowercase().as_str() {
                "true" | "1" => true,
                "false" | "0" => false,
                _ => {
                    return Err(ApiError::bad_request(format!(
                        "invalid filter '{key}={value}'"
                    )))
                }
            };
            if result.is_some_and(|r| r != parsed) {
                return Err(ApiError::bad_request(format!(
                    "conflicting values for filter '{key}'"
                )));
            }
            result = Some(parsed);
        }
        Ok(result)
    }

    /// Every `key` value (`name` or `name=value`) is among `labels`.
    pub(crate) fn labels_match(&self, key: &str, labels: &HashMap<String, String>) -> bool {
        self.values(key)
            .iter()
            .all(|want| label_present(want, labels))
    }

    /// No `key` value is among `labels` (for `label!`).
    pub(crate) fn labels_absent(&self, key: &str, labels: &HashMap<String, String>) -> bool {
        !self
            .values(key)
            .iter()
            .any(|want| label_present(want, labels))
    }
}

fn label_present(want: &str, labels: &HashMap<String, String>) -> bool {
    match want.split_once('=') {
        Some((name, value)) => labels.get(name).is_some_and(|v| v == value),
        None => labels.contains_key(want),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALLOWED: &[&str] = &["label", "dangling", "name"];

    #[test]
    fn both_json_forms_parse() {
        let new =
            Filters::parse(Some(r#"{"label":["b","a=1","b"],"name":["x"]}"#), ALLOWED).unwrap();
        assert_eq!(new.values("label"), ["a=1", "b"]);
        let old = Filters::parse(
            Some(r#"{"label":{"a=1":true,"b":true,"c":false},"name":{"x":true}}"#),
            ALLOWED,
        )
        .unwrap();
        assert_eq!(old, new);
        assert_eq!(Filters::parse(None, ALLOWED).unwrap(), Filters::default());
        assert_eq!(
            Filters::parse(Some("{}"), ALLOWED).unwrap(),
            Filters::default()
        );
    }

    #[test]
    fn unknown_keys_and_malformed_json_are_refused() {
        let err = Filters::parse(Some(r#"{"driver":["local"]}"#), ALLOWED).unwrap_err();
        assert_eq!(err.status, hyper::StatusCode::BAD_REQUEST);
        assert!(
            err.message.starts_with("invalid filter 'driver'"),
            "{}",
            err.message
        );
        for bad in ["{", "[]", r#"{"label":"a"}"#, r#"{"label":[1]}"#] {
            assert!(Filters::parse(Some(bad), ALLOWED).is_err(), "{bad}");
        }
    }

    #[test]
    fn labels_are_all_required_and_values_are_alternatives() {
        let f = Filters::parse(Some(r#"{"label":["a=1","b"],"name":["x","y"]}"#), ALLOWED).unwrap();
        let labels = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        assert!(f.labels_match("label", &labels(&[("a", "1"), ("b", "")])));
        assert!(!f.labels_match("label", &labels(&[("a", "1")])));
        assert!(!f.labels_match("label", &labels(&[("a", "2"), ("b", "")])));
        assert!(f.labels_absent("label!", &labels(&[("a", "1")])));
        assert!(f.exact("name", "y") && !f.exact("name", "z") && f.exact("other", "z"));
    }

    #[test]
    fn booleans_are_checked() {
        let f = |raw: &str| Filters::parse(Some(raw), ALLOWED).unwrap();
        assert_eq!(
            f(r#"{"dangling":["true"]}"#).boolean("dangling").unwrap(),
            Some(true)
        );
        assert_eq!(
            f(r#"{"dangling":["0"]}"#).boolean("dangling").unwrap(),
            Some(false)
        );
        assert_eq!(f("{}").boolean("dangling").unwrap(), None);
        let err = f(r#"{"dangling":["maybe"]}"#)
            .boolean("dangling")
            .unwrap_err();
        assert_eq!(err.message, "invalid filter 'dangling=maybe'");
        assert!(f(r#"{"dangling":["true","false"]}"#)
            .boolean("dangling")
            .is_err());
    }
}
