//! Configuration hashes: a service's hash changes exactly when its
//! containers must be recreated, so `up` can keep what did not change.
//!
//! The hash is the sha256 of a canonical JSON rendering of the serialized
//! service: object keys sorted at every depth, `null`s and empty lists or
//! mappings left out (an unset field and an empty one create the same
//! container, and a field added to the model later must not recreate every
//! container of an existing project), and the fields that do not shape the
//! container removed first, as Docker Compose does (`pkg/compose/hash.go`).

use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// Service fields that never require recreating containers: how the image
/// is obtained (`build`, `pull_policy`), how many containers run (`scale`,
/// `deploy.replicas`: scaling adds or removes containers), and which
/// services come up with it (`depends_on`, `profiles`).
const NOT_RECREATING: &[&[&str]] = &[
    &["build"],
    &["pull_policy"],
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
    let text = canonical(value).map_or_else(String::new, |v| v.to_string());
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Removes the key at `path` (a chain of object keys), if present.
fn remove_path(value: &mut Value, path: &[&str]) {
    match path {
        [] => {}
        [last] => {
            if let Value::Object(map) = value {
                map.remove(*last);
            }
        }
        [first, rest @ ..] => {
            if let Some(child) = value.get_mut(*first) {
                remove_path(child, rest);
            }
        }
    }
}

/// `value` with object keys sorted at every depth and `null`s and empty
/// collections dropped; `None` when nothing is left of it. List order is
/// kept: it is meaningful (`command`, `ports`, ...).
fn canonical(value: &Value) -> Option<Value> {
    match value {
        Value::Null => None,
        Value::Array(items) => {
            // Inside a list, a null is kept: dropping it would shift the
            // positions of the items that follow.
            let items: Vec<Value> = items
                .iter()
                .map(|v| canonical(v).unwrap_or(Value::Null))
                .collect();
            (!items.is_empty()).then_some(Value::Array(items))
        }
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            // serde_json preserves insertion order here, so inserting in
            // sorted order renders sorted keys.
            let sorted: Map<String, Value> = keys
                .into_iter()
                .filter_map(|k| Some((k.clone(), canonical(&map[k])?)))
                .collect();
            (!sorted.is_empty()).then_some(Value::Object(sorted))
        }
        scalar => Some(scalar.clone()),
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
            canonical(&value).unwrap().to_string(),
            r#"{"a":true,"b":{"a":[{"y":2}],"z":1}}"#
        );
    }

    #[test]
    fn canonical_rendering_drops_nulls_and_empty_collections_but_not_list_slots() {
        let value = json!({"a": null, "b": [], "c": {}, "d": {"e": null}, "f": [null, 1], "g": ""});
        assert_eq!(
            canonical(&value).unwrap().to_string(),
            r#"{"f":[null,1],"g":""}"#
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
    fn unset_and_empty_fields_hash_alike() {
        let a = json!({"image": "redis", "labels": {}, "volumes": [], "user": null});
        let b = json!({"image": "redis"});
        assert_eq!(hash(&a), hash(&b));
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
