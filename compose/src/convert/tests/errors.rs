//! Errors and warnings: exact texts with positions, all found in one pass.

use super::*;

#[test]
fn port_errors_are_precise() {
    let e = errors(
        r#"services:
  web:
    ports:
      - "8080:80"
      - 80/tpc
      - "8000-8001:80-85"
      - target: 0
      - published: 80
"#,
    );
    assert_eq!(
        e,
        vec![
            "compose.yaml:5:9: services.web.ports[1]: unknown protocol `tpc` (use `tcp`, `udp` or `sctp`)",
            "compose.yaml:6:9: services.web.ports[2]: the host range `8000-8001` and the container range `80-85` have different sizes (map ranges of the same size, or one container port to a host range)",
            "compose.yaml:7:17: services.web.ports[3].target: invalid port `0` (a port is a number from 1 to 65535, or a range like `8000-8010`)",
            "compose.yaml:8:9: services.web.ports[4]: missing `target` (add `target:` with the container port)",
        ]
    );
}

#[test]
fn volume_errors() {
    let e = errors(
        "services:\n  web:\n    volumes:\n      - ./x:data\n      - type: bind\n        target: /x\n      - type: disk\n        target: /y\n",
    );
    assert_eq!(
        e,
        vec![
            "compose.yaml:4:9: services.web.volumes[0]: the container path `data` is not absolute (mount targets are absolute paths inside the container, e.g. `/data`)",
            "compose.yaml:5:9: services.web.volumes[1]: a bind mount needs a `source` (add `source:` with the host path)",
            "compose.yaml:7:15: services.web.volumes[2].type: unknown volume type `disk` (use `bind`, `volume`, `tmpfs`, `image`, `npipe` or `cluster`)",
        ]
    );
    let c = convert_env("services:\n  web:\n    volumes: [\"~/x:/x\"]\n", &[]);
    assert_eq!(
        c.errors[0].to_string(),
        "compose.yaml:3:15: services.web.volumes[0]: cannot expand `~` in `~/x`: HOME is not set (set HOME, or write the path relative to the project directory)"
    );
}

#[test]
fn every_error_of_a_pass_is_reported() {
    let e = errors(
        r#"services:
  web:
    image: nginx
    prots: ["80"]
    environment: 42
    restart: sometimes
    healthcheck:
      interval: 10
      test: ["curl", "x"]
    depends_on:
      db:
        condition: service_ready
  db:
    imagee: postgres
    mem_limit: lots
networks:
  n:
    drivr: bridge
secrets:
  s:
    file: a
    environment: B
"#,
    );
    assert_eq!(
        e,
        vec![
            "compose.yaml:4:5: services.web.prots: unknown key `prots` (did you mean `ports`?)",
            "compose.yaml:5:18: services.web.environment: expected a mapping or a list, found `42` (write indented `KEY: value` lines, or a list of `KEY=value` items)",
            "compose.yaml:6:14: services.web.restart: unknown restart policy `sometimes` (use `no`, `always`, `on-failure[:max-retries]` or `unless-stopped`)",
            "compose.yaml:8:17: services.web.healthcheck.interval: invalid duration `10` (write a number with a unit, e.g. `30s`, `1m30s`, `500ms`)",
            "compose.yaml:9:13: services.web.healthcheck.test: a healthcheck test list must start with `CMD`, `CMD-SHELL` or `NONE` (e.g. [\"CMD\", \"curl\", \"-f\", \"http://localhost\"], or write the command as a string)",
            "compose.yaml:12:20: services.web.depends_on.db.condition: unknown condition `service_ready` (use service_started, service_healthy or service_completed_successfully)",
            "compose.yaml:14:5: services.db.imagee: unknown key `imagee` (did you mean `image`?)",
            "compose.yaml:15:16: services.db.mem_limit: invalid size `lots` (write a number of bytes or a number with a unit: b, k, m, g, t, p (e.g. `512m`))",
            "compose.yaml:18:5: networks.n.drivr: unknown key `drivr` (did you mean `driver`?)",
            "compose.yaml:21:5: secrets.s: a secret needs exactly one source (set one of `file`, `environment` or `external: true`)",
        ]
    );
}

#[test]
fn wrong_types_and_unknown_keys_without_suggestion() {
    let e =
        errors("services:\n  web:\n    ports: {a: 1}\n    zzz: 1\n    dns: {a: b}\nvolumes: [a]\n");
    assert_eq!(
        e,
        vec![
            "compose.yaml:3:12: services.web.ports: expected a list, found a mapping (write one `- item` per line, or `[a, b]`)",
            "compose.yaml:4:5: services.web.zzz: unknown key `zzz` (remove it, or prefix it with `x-` to keep it as an extension)",
            "compose.yaml:5:10: services.web.dns: expected a string or a list, found a mapping (write a single value, or a list of values)",
            "compose.yaml:6:10: volumes: expected a mapping, found a list (write indented `key: value` lines)",
        ]
    );
}

#[test]
fn structural_errors() {
    let e = errors(
        r#"services:
  web:
    depends_on:
      db:
    pull_policy: sometimes
    cgroup: shared
    env_file:
      - path: .env
        requird: false
    logging: [json-file]
  list: [a]
unknown: 1
x-fine: 1
include: []
"#,
    );
    assert_eq!(
        e,
        vec![
            "compose.yaml:4:7: services.web.depends_on.db: expected a mapping, found null (write `condition: service_started` under it, or use the list form `depends_on: [name]`)",
            "compose.yaml:5:18: services.web.pull_policy: unknown pull policy `sometimes` (use always, never, missing, build, refresh, daily, weekly or every_<duration>)",
            "compose.yaml:6:13: services.web.cgroup: unknown cgroup namespace mode `shared` (use host or private)",
            "compose.yaml:9:9: services.web.env_file[0].requird: unknown key `requird` (did you mean `required`?)",
            "compose.yaml:10:14: services.web.logging: expected a mapping, found a list (write indented `key: value` lines)",
            "compose.yaml:11:9: services.list: expected a mapping, found a list (write indented `key: value` lines)",
            "compose.yaml:12:1: unknown: unknown key `unknown` (remove it, or prefix it with `x-` to keep it as an extension)",
        ]
    );
}

#[test]
fn unsupported_attributes_warn_once_and_are_kept() {
    let c = convert_env(
        r#"version: "3.8"
services:
  a:
    platform: linux/amd64
    runtime: runc
    blkio_config: {weight: 300}
  b:
    runtime: runc
    devices: ["/dev/fuse"]
"#,
        &[],
    );
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let warnings: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        vec![
            "compose.yaml:1:1: version: the attribute `version` is obsolete, it will be ignored; remove it to avoid confusion",
            "compose.yaml:4:5: services.a.platform: `platform` is not supported by stack yet; it is kept in the configuration but has no effect",
            "compose.yaml:5:5: services.a.runtime: `runtime` is not supported by stack yet; it is kept in the configuration but has no effect",
            "compose.yaml:6:5: services.a.blkio_config: `blkio_config` is not supported by stack yet; it is kept in the configuration but has no effect",
        ]
    );
    let v = serde_json::to_value(&c.project).unwrap();
    assert_eq!(v["services"]["a"]["blkio_config"], json!({"weight": 300}));
    assert_eq!(v["services"]["a"]["platform"], json!("linux/amd64"));
    assert_eq!(
        v["services"]["b"]["devices"],
        json!([{"source": "/dev/fuse", "target": "/dev/fuse"}])
    );
}

#[test]
fn bad_numbers_and_modes() {
    let e = errors(
        "services:\n  web:\n    scale: -1\n    network_mode: \"service:\"\n    cpus: lots\n",
    );
    assert_eq!(
        e,
        vec![
            "compose.yaml:3:12: services.web.scale: `-1` is out of range (this value cannot be negative)",
            "compose.yaml:4:19: services.web.network_mode: `service:` names no network mode (use host, none, bridge, service:<service> or container:<container>)",
            "compose.yaml:5:11: services.web.cpus: expected a number, found `lots` (write a number, e.g. `0.5`)",
        ]
    );
}

#[test]
fn misplaced_keys_point_to_where_they_belong() {
    let e = errors("services:\n  web:\n    replicas: 2\n    dockerfile: Dockerfile.dev\n");
    assert_eq!(
        e,
        vec![
            "compose.yaml:3:5: services.web.replicas: unknown key `replicas` (did you mean `deploy.replicas`?)",
            "compose.yaml:4:5: services.web.dockerfile: unknown key `dockerfile` (did you mean `build.dockerfile`?)",
        ]
    );
}
