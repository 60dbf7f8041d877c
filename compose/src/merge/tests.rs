//! One input/input/expected case per merge rule, as compose-go tests them.

use super::*;
use std::sync::Arc;

/// A tree as compact text without positions or styles, for comparisons.
pub(crate) fn render(node: &Node) -> String {
    match &node.kind {
        Kind::Null => "~".to_string(),
        Kind::Scalar(s) => s.text.clone(),
        Kind::Seq(items) => format!(
            "[{}]",
            items.iter().map(render).collect::<Vec<_>>().join(", ")
        ),
        Kind::Map(map) => format!(
            "{{{}}}",
            map.iter()
                .map(|(k, e)| format!("{k}: {}", render(&e.value)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Parses one YAML document (test input).
pub(crate) fn doc(text: &str, file: &str) -> Node {
    let file: Arc<str> = Arc::from(file);
    crate::yaml::parse(text, &file).unwrap().remove(0)
}

fn check(base: &str, over: &str, expected: &str) {
    let merged = merge(doc(base, "base.yaml"), doc(over, "over.yaml")).unwrap();
    assert_eq!(
        render(&merged),
        render(&clean(doc(expected, "expected.yaml")))
    );
}

#[test]
fn mappings_merge_recursively_and_scalars_replace() {
    check(
        "services: {web: {image: a, restart: always, healthcheck: {interval: 5s}}}",
        "services: {web: {image: b, healthcheck: {retries: 3}}, db: {image: pg}}",
        "services: {web: {image: b, restart: always, healthcheck: {interval: 5s, retries: 3}}, db: {image: pg}}",
    );
}

#[test]
fn unlisted_sequences_are_appended() {
    check(
        "services: {web: {security_opt: [a]}}",
        "services: {web: {security_opt: [b]}}",
        "services: {web: {security_opt: [a, b]}}",
    );
}

#[test]
fn command_entrypoint_and_healthcheck_test_replace() {
    check(
        "services: {web: {command: [a, b], entrypoint: [x], healthcheck: {test: [CMD, a], retries: 1}}}",
        "services: {web: {command: [c], entrypoint: y, healthcheck: {test: [CMD, b]}}}",
        "services: {web: {command: [c], entrypoint: y, healthcheck: {test: [CMD, b], retries: 1}}}",
    );
}

#[test]
fn ulimits_entries_replace() {
    check(
        "services: {web: {ulimits: {nofile: {soft: 1, hard: 2}, nproc: 5}}}",
        "services: {web: {ulimits: {nofile: {soft: 3}}}}",
        "services: {web: {ulimits: {nofile: {soft: 3}, nproc: 5}}}",
    );
}

#[test]
fn environment_merges_as_a_map_from_list_and_map_forms() {
    check(
        "services: {web: {environment: [A=1, B=2, C]}}",
        "services: {web: {environment: {B: 3, D: 4}}}",
        "services: {web: {environment: {A: '1', B: 3, C: ~, D: 4}}}",
    );
    check(
        "services: {web: {environment: {A: 1}}}",
        "services: {web: {environment: [A=x=y]}}",
        "services: {web: {environment: {A: x=y}}}",
    );
}

#[test]
fn labels_sysctls_and_build_args_merge_as_maps() {
    check(
        "services: {web: {labels: [a=1], sysctls: [net.core.somaxconn=1024], build: {args: [X=1]}}}",
        "services: {web: {labels: [b=2], sysctls: {net.core.somaxconn: 2048}, build: {args: {Y: 2}}}}",
        "services: {web: {labels: {a: 1, b: 2}, sysctls: {net.core.somaxconn: 2048}, build: {args: {X: 1, Y: 2}}}}",
    );
}

#[test]
fn extra_hosts_merge_by_host() {
    check(
        "services: {web: {extra_hosts: ['a:10.0.0.1', 'b=10.0.0.2', 'v6:::1']}}",
        "services: {web: {extra_hosts: {a: 10.0.0.9}}}",
        "services: {web: {extra_hosts: {a: 10.0.0.9, b: 10.0.0.2, v6: '::1'}}}",
    );
}

#[test]
fn depends_on_list_and_map_forms_merge_as_maps() {
    check(
        "services: {web: {depends_on: [db, cache]}}",
        "services: {web: {depends_on: {db: {condition: service_healthy}, queue: {condition: service_started}}}}",
        "services: {web: {depends_on: {
            db: {condition: service_healthy, required: true},
            cache: {condition: service_started, required: true},
            queue: {condition: service_started}}}}",
    );
}

#[test]
fn service_networks_merge_as_maps_and_aliases_are_unique() {
    check(
        "services: {web: {networks: {front: {aliases: [a, b]}, back: ~}}}",
        "services: {web: {networks: [extra, front]}}",
        "services: {web: {networks: {front: {aliases: [a, b]}, back: ~, extra: ~}}}",
    );
    check(
        "services: {web: {networks: {front: {aliases: [a]}}}}",
        "services: {web: {networks: {front: {aliases: [a, c]}}}}",
        "services: {web: {networks: {front: {aliases: [a, c]}}}}",
    );
}

#[test]
fn ports_merge_by_ip_published_target_protocol() {
    check(
        "services: {web: {ports: ['8080:80', '127.0.0.1:9000:9000', '53:53/udp', 443]}}",
        "services: {web: {ports: [{target: 80, published: '8080'}, '53:53', '[::1]:9000:9000']}}",
        "services: {web: {ports: [{target: 80, published: '8080'}, '127.0.0.1:9000:9000', '53:53/udp', 443,
            '53:53', '[::1]:9000:9000']}}",
    );
}

#[test]
fn volumes_and_devices_merge_by_target() {
    check(
        "services: {web: {volumes: ['data:/data', '/cache', './src:/src:ro'], devices: ['/dev/a:/dev/x']}}",
        "services: {web: {volumes: [{type: bind, source: ./other, target: /src}, 'logs:/logs'], devices: ['/dev/b:/dev/x:r']}}",
        "services: {web: {volumes: ['data:/data', '/cache', {type: bind, source: ./other, target: /src}, 'logs:/logs'],
            devices: ['/dev/b:/dev/x:r']}}",
    );
}

#[test]
fn secrets_and_configs_merge_by_target() {
    check(
        "services: {web: {secrets: [a, {source: b, target: /etc/b}], configs: [c]}}",
        "services: {web: {secrets: [{source: a, mode: 0400}, {source: x, target: /etc/b}], configs: [{source: c, target: /c}]}}",
        "services: {web: {secrets: [{source: a, mode: 0400}, {source: x, target: /etc/b}], configs: [{source: c, target: /c}]}}",
    );
}

#[test]
fn string_lists_are_appended_without_duplicates() {
    check(
        "services: {web: {dns: 8.8.8.8, dns_search: [a], cap_add: [NET_ADMIN], cap_drop: [ALL], expose: [80],
            profiles: [dev], tmpfs: /tmp, env_file: [a.env]}}",
        "services: {web: {dns: [1.1.1.1, 8.8.8.8], dns_search: b, cap_add: [NET_ADMIN, SYS_TIME], cap_drop: [ALL],
            expose: ['80', 81], profiles: [dev, test], tmpfs: [/tmp, /run], env_file: [{path: a.env, required: false}, b.env]}}",
        "services: {web: {dns: [8.8.8.8, 1.1.1.1], dns_search: [a, b], cap_add: [NET_ADMIN, SYS_TIME], cap_drop: [ALL],
            expose: ['80', 81], profiles: [dev, test], tmpfs: [/tmp, /run], env_file: [{path: a.env, required: false}, b.env]}}",
    );
}

#[test]
fn build_string_is_short_for_context() {
    check(
        "services: {web: {build: ./app}}",
        "services: {web: {build: {dockerfile: Dev.Dockerfile}}}",
        "services: {web: {build: {context: ./app, dockerfile: Dev.Dockerfile}}}",
    );
}

#[test]
fn logging_options_merge_only_for_the_same_driver() {
    check(
        "services: {web: {logging: {driver: json-file, options: {max-size: 1m}}}}",
        "services: {web: {logging: {options: {max-file: '3'}}}}",
        "services: {web: {logging: {driver: json-file, options: {max-size: 1m, max-file: '3'}}}}",
    );
    check(
        "services: {web: {logging: {driver: json-file, options: {max-size: 1m}}}}",
        "services: {web: {logging: {driver: syslog}}}",
        "services: {web: {logging: {driver: syslog}}}",
    );
}

#[test]
fn ipam_config_merges_by_subnet() {
    check(
        "networks: {n: {ipam: {config: [{subnet: 10.0.0.0/24, gateway: 10.0.0.1}]}}}",
        "networks: {n: {ipam: {config: [{subnet: 10.0.0.0/24, ip_range: 10.0.0.0/25}, {subnet: 10.1.0.0/24}]}}}",
        "networks: {n: {ipam: {config: [{subnet: 10.0.0.0/24, gateway: 10.0.0.1, ip_range: 10.0.0.0/25},
            {subnet: 10.1.0.0/24}]}}}",
    );
}

#[test]
fn reset_removes_the_base_value() {
    check(
        "services: {web: {ports: ['80:80'], environment: {A: 1, B: 2}, image: a}, db: {image: pg}}",
        "services: {web: {ports: !reset [], environment: {A: !reset ~}}, db: !reset}",
        "services: {web: {environment: {B: 2}, image: a}}",
    );
}

#[test]
fn override_replaces_without_merging() {
    check(
        "services: {web: {ports: ['80:80'], environment: {A: 1}}}",
        "services: {web: {ports: !override ['81:81'], environment: !override {B: 2}}}",
        "services: {web: {ports: ['81:81'], environment: {B: 2}}}",
    );
}

#[test]
fn tags_are_removed_where_there_is_no_base() {
    let merged = merge(
        doc("services: {}", "a.yaml"),
        doc(
            "services: {web: {image: a, ports: !reset [], labels: !override {a: 1}}}",
            "b.yaml",
        ),
    )
    .unwrap();
    assert_eq!(
        render(&merged),
        "{services: {web: {image: a, labels: {a: 1}}}}"
    );
    let labels = merged
        .get("services")
        .and_then(|s| s.get("web"))
        .and_then(|w| w.get("labels"))
        .unwrap();
    assert_eq!(labels.tag, NodeTag::None);
}

#[test]
fn null_override_keeps_the_base() {
    check(
        "services: {web: {environment: {A: 1}}}",
        "services: {web: {environment: }}",
        "services: {web: {environment: {A: 1}}}",
    );
}

#[test]
fn merging_a_list_onto_a_mapping_is_an_error_naming_both_places() {
    let errors = merge(
        doc("services:\n  web:\n    deploy: {replicas: 2}\n", "a.yaml"),
        doc("services:\n  web:\n    deploy: [x]\n", "b.yaml"),
    )
    .unwrap_err();
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors[0].to_string(),
        "b.yaml:3:13: services.web.deploy: cannot merge a list onto a mapping defined at a.yaml:3:13 \
         (write it in the same form as the earlier definition, or tag it `!override` to replace it)"
    );
}

#[test]
fn merged_values_keep_their_positions() {
    let merged = merge(
        doc("services:\n  web:\n    image: a\n", "a.yaml"),
        doc("services:\n  web:\n    image: b\n", "b.yaml"),
    )
    .unwrap();
    let image = merged
        .get("services")
        .and_then(|s| s.get("web"))
        .and_then(|w| w.get("image"))
        .unwrap();
    assert_eq!(image.location.to_string(), "b.yaml:3:12");
}
