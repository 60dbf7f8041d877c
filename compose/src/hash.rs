//! Configuration hashes: a service's hash changes exactly when its
//! containers must be recreated, so `up` can keep what did not change.
//!
//! The hash is the sha256 of a canonical JSON rendering of the serialized
//! service: object keys sorted at every depth and `null` members left out
//! (an unset field must hash like an absent one, so that a field added to
//! the model later does not recreate every container of an existing
//! project), with the fields that do not shape the container removed first,
//! as Docker Compose does (`pkg/compose/hash.go`). Empty lists and mappings
//! are kept: the model only prints them when they mean something
//! (`command: []` clears the image's `CMD`).

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Service fields that never require recreating containers: how the image
/// is obtained (`build`, `pull_policy`), how many containers run (`scale`,
/// `deploy.replicas`: scaling adds or removes containers), and which
/// services come up with it (`depends_on`, `profiles`). That is Compose's
/// list, plus `pull_refresh_after`, which only tunes `pull_policy`.
const NOT_RECREATING: &[&[&str]] = &[
    &["build"],
    &["pull_policy"],
    &["pull_refresh_after"],
    &["scale"],
    &["deploy", "replicas"],
    &["depends_on"],
    &["profiles"],
];

/// The configuration hash of one service (hex sha256), blind to the fields
/// that do not require recreating its containers.
pub fn service_hash<T: Serialize + ?Sized>(service: &T) -> Result<String, serde_json::Error> {
    let mut value = serde_json::to_value(service)?;
    for path in NOT_RECREATING {
        remove_path(&mut value, path);
    }
    Ok(digest(&value))
}

/// The hash of any other project object (network, volume, config) as a
/// whole: the canonical rendering of all its fields.
pub fn config_hash<T: Serialize + ?Sized>(object: &T) -> Result<String, serde_json::Error> {
    Ok(digest(&serde_json::to_value(object)?))
}

fn digest(value: &Value) -> String {
    let text = canonical(value).to_string();
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Removes the key at `path` (a chain of object keys), if present, and the
/// objects on the way that it leaves empty: `deploy: {replicas: 3}` must
/// hash like no `deploy` at all.
fn remove_path(value: &mut Value, path: &[&str]) {
    let Value::Object(map) = value else { return };
    match path {
        [] => {}
        [last] => {
            map.remove(*last);
        }
        [first, rest @ ..] => {
            if let Some(child) = map.get_mut(*first) {
                remove_path(child, rest);
                if child.as_object().is_some_and(Map::is_empty) {
                    map.remove(*first);
                }
            }
        }
    }
}

/// `value` with object keys sorted at every depth and `null` members left
/// out. List order is kept: it is meaningful (`command`, `ports`, ...), and
/// so are nulls inside lists (dropping one would shift the items after it).
fn canonical(value: &Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.iter().map(canonical).collect()),
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            // serde_json preserves insertion order here, so inserting in
            // sorted order renders sorted keys.
            Value::Object(
                keys.into_iter()
                    .filter(|k| !map[k.as_str()].is_null())
                    .map(|k| (k.clone(), canonical(&map[k.as_str()])))
                    .collect(),
            )
        }
        scalar => scalar.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn web() -> Value {
        json!({
            "image": "nginx:1.27",
            "environment": {"B": "2", "A": "1"},
            "ports": [{"target": 80, "published": "8080"}],
            "deploy": {"replicas": 2, "resources": {"limits": {"memory": "64m"}}},
        })
    }

    fn hash(value: &Value) -> String {
        service_hash(value).unwrap()
    }

    #[test]
    fn canonical_rendering_sorts_keys_at_every_depth() {
        let value = json!({"b": {"z": 1, "a": [{"y": 2, "x": null}]}, "a": true});
        assert_eq!(
            canonical(&value).to_string(),
            r#"{"a":true,"b":{"a":[{"y":2}],"z":1}}"#
        );
    }

    #[test]
    fn canonical_rendering_drops_null_members_only() {
        let value = json!({"a": null, "b": [], "c": {}, "d": {"e": null}, "f": [null, 1], "g": ""});
        assert_eq!(
            canonical(&value).to_string(),
            r#"{"b":[],"c":{},"d":{},"f":[null,1],"g":""}"#
        );
    }

    #[test]
    fn hash_is_hex_sha256_of_the_canonical_text() {
        // `printf '%s' '{"image":"redis"}' | sha256sum`
        assert_eq!(
            hash(&json!({"image": "redis", "profiles": ["debug"]})),
            "622f419d8440c752b36db3206ee7a47f005cf1e6af8657c31af7dc9682dcfef5"
        );
    }

    #[test]
    fn hash_is_stable_under_key_order() {
        let reordered = json!({
            "deploy": {"resources": {"limits": {"memory": "64m"}}, "replicas": 2},
            "ports": [{"published": "8080", "target": 80}],
            "environment": {"A": "1", "B": "2"},
            "image": "nginx:1.27",
        });
        assert_eq!(hash(&web()), hash(&reordered));
    }

    #[test]
    fn hash_changes_with_anything_that_shapes_the_container() {
        let base = hash(&web());
        let changes: [(&str, Value); 5] = [
            ("/image", json!("nginx:1.28")),
            ("/environment/A", json!("one")),
            ("/ports/0/published", json!("8081")),
            ("/deploy/resources/limits/memory", json!("128m")),
            ("/command", json!(["nginx", "-g", "daemon off;"])),
        ];
        for (pointer, new) in changes {
            let mut changed = web();
            let (parent, key) = pointer.rsplit_once('/').unwrap();
            let slot = changed.pointer_mut(parent).unwrap();
            match slot {
                Value::Object(map) => {
                    map.insert(key.to_owned(), new);
                }
                Value::Array(items) => items[key.parse::<usize>().unwrap()] = new,
                _ => unreachable!(),
            }
            assert_ne!(
                hash(&changed),
                base,
                "changing {pointer} must change the hash"
            );
        }
    }

    #[test]
    fn hash_changes_with_list_order() {
        let a = json!({"command": ["a", "b"]});
        let b = json!({"command": ["b", "a"]});
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn hash_ignores_fields_that_do_not_recreate_containers() {
        let base = hash(&web());
        let mut changed = web();
        let map = changed.as_object_mut().unwrap();
        map.insert("build".into(), json!({"context": "."}));
        map.insert("pull_policy".into(), json!("always"));
        map.insert("pull_refresh_after".into(), json!("24h"));
        map.insert("scale".into(), json!(5));
        map.insert(
            "depends_on".into(),
            json!({"db": {"condition": "service_healthy"}}),
        );
        map.insert("profiles".into(), json!(["debug"]));
        map["deploy"]["replicas"] = json!(7);
        assert_eq!(hash(&changed), base);
    }

    #[test]
    fn deploy_without_replicas_hashes_like_no_deploy() {
        let a = json!({"image": "redis", "deploy": {"replicas": 3}});
        let b = json!({"image": "redis"});
        assert_eq!(hash(&a), hash(&b));
    }

    #[test]
    fn unset_fields_hash_like_absent_ones() {
        let a = json!({"image": "redis", "user": null, "environment": {"A": null}});
        let b = json!({"image": "redis", "environment": {}});
        assert_eq!(hash(&a), hash(&b));
    }

    #[test]
    fn an_empty_list_is_not_an_absent_one() {
        // `command: []` clears the image's CMD: another container.
        let a = json!({"image": "redis", "command": []});
        let b = json!({"image": "redis"});
        assert_ne!(hash(&a), hash(&b));
    }

    #[test]
    fn removing_replicas_keeps_the_rest_of_deploy() {
        let a = json!({"deploy": {"replicas": 3, "mode": "replicated"}});
        let b = json!({"deploy": {"mode": "replicated"}});
        let c = json!({});
        assert_eq!(hash(&a), hash(&b));
        assert_ne!(hash(&a), hash(&c));
    }

    #[test]
    fn hash_works_on_any_serializable_type() {
        #[derive(Serialize)]
        struct Service {
            image: String,
            scale: Option<u32>,
        }
        let one = Service {
            image: "redis".into(),
            scale: Some(1),
        };
        let three = Service {
            image: "redis".into(),
            scale: Some(3),
        };
        assert_eq!(service_hash(&one).unwrap(), service_hash(&three).unwrap());
        assert_eq!(
            service_hash(&one).unwrap(),
            hash(&json!({"image": "redis"}))
        );
    }

    #[test]
    fn model_services_hash_by_what_shapes_their_containers() {
        use crate::model::{Deploy, Service};
        let base = Service {
            image: Some("redis:7".into()),
            ..Service::default()
        };
        let scaled = Service {
            scale: Some(3),
            deploy: Some(Deploy {
                replicas: Some(3),
                ..Deploy::default()
            }),
            profiles: vec!["cache".into()],
            ..base.clone()
        };
        let cleared = Service {
            command: Some(Vec::new()),
            ..base.clone()
        };
        assert_eq!(service_hash(&base).unwrap(), service_hash(&scaled).unwrap());
        assert_ne!(
            service_hash(&base).unwrap(),
            service_hash(&cleared).unwrap()
        );
    }

    #[test]
    fn config_hash_covers_every_field() {
        let a = json!({"driver": "local", "labels": {"b": "1", "a": "2"}});
        let b = json!({"labels": {"a": "2", "b": "1"}, "driver": "local"});
        assert_eq!(config_hash(&a).unwrap(), config_hash(&b).unwrap());
        let replicas = json!({"replicas": 1});
        assert_ne!(
            config_hash(&replicas).unwrap(),
            config_hash(&json!({})).unwrap()
        );
    }

    #[test]
    fn serialization_errors_are_returned() {
        let bad: std::collections::BTreeMap<(u8, u8), u8> = [((1, 2), 3)].into();
        assert!(service_hash(&bad).is_err());
    }
}
