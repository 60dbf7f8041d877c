//! Conversion tests: YAML in, model / JSON / exact errors out.

use super::{project, ConvertContext, Converted};
use crate::env::Environment;
use crate::model::{
    NetworkMode, PortMode, Project, Protocol, RestartPolicy, ServiceCondition, Ulimit, VolumeType,
};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

fn convert_env(yaml: &str, env: &[(&str, &str)]) -> Converted {
    let docs = crate::yaml::parse(yaml, &Arc::from("compose.yaml")).unwrap();
    let env: Environment = env.iter().copied().collect();
    let ctx = ConvertContext {
        project_name: "demo".into(),
        project_dir: PathBuf::from("/proj"),
        env: &env,
    };
    project(&docs[0], &ctx)
}

fn ok(yaml: &str) -> Project {
    let c = convert_env(yaml, &[("HOME", "/home/me")]);
    let errors: Vec<String> = c.errors.iter().map(ToString::to_string).collect();
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    c.project
}

fn json_of(yaml: &str) -> Value {
    serde_json::to_value(ok(yaml)).unwrap()
}

/// The JSON of service `web`.
fn web(yaml: &str) -> Value {
    json_of(yaml)["services"]["web"].clone()
}

fn errors(yaml: &str) -> Vec<String> {
    let c = convert_env(yaml, &[]);
    c.errors.iter().map(ToString::to_string).collect()
}

#[test]
fn minimal_project_gets_the_default_network() {
    let v = json_of("services:\n  web:\n    image: nginx\n");
    assert_eq!(
        v,
        json!({
            "name": "demo",
            "services": {"web": {"image": "nginx", "networks": {"default": null}}},
            "networks": {"default": {"name": "demo_default"}}
        })
    );
}

#[test]
fn ports_short_and_long() {
    let v = web(r#"
services:
  web:
    image: nginx
    ports:
      - 80
      - "8080:80"
      - "127.0.0.1:8081:81/udp"
      - "[::1]:82:82"
      - "9000-9001:9000-9001"
      - "7000-7010:70"
      - target: 443
        published: 8443
        host_ip: 0.0.0.0
        protocol: tcp
        mode: host
        name: https
        app_protocol: https
"#);
    assert_eq!(
        v["ports"],
        json!([
            {"mode": "ingress", "target": 80, "protocol": "tcp"},
            {"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"},
            {"mode": "ingress", "host_ip": "127.0.0.1", "target": 81, "published": "8081", "protocol": "udp"},
            {"mode": "ingress", "host_ip": "::1", "target": 82, "published": "82", "protocol": "tcp"},
            {"mode": "ingress", "target": 9000, "published": "9000", "protocol": "tcp"},
            {"mode": "ingress", "target": 9001, "published": "9001", "protocol": "tcp"},
            {"mode": "ingress", "target": 70, "published": "7000-7010", "protocol": "tcp"},
            {"name": "https", "mode": "host", "host_ip": "0.0.0.0", "target": 443, "published": "8443",
             "protocol": "tcp", "app_protocol": "https"}
        ])
    );
    let p = ok("services:\n  web:\n    ports: [\"53:53/udp\"]\n");
    let port = &p.services["web"].ports[0];
    assert_eq!(
        (port.mode, port.protocol),
        (PortMode::Ingress, Protocol::Udp)
    );
}

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
fn volumes_short_and_long() {
    let v = web(r#"
services:
  web:
    volumes:
      - ./data:/data:ro
      - ../shared/./x:/x
      - ~/cache:/cache:z
      - named:/var/lib/db
      - /anon
      - type: bind
        source: ./conf
        target: /etc/conf/
        bind:
          propagation: rshared
      - type: volume
        source: logs
        target: /logs
        volume:
          nocopy: true
          subpath: app
      - type: tmpfs
        target: /tmp
        tmpfs:
          size: 64m
          mode: 01777
"#);
    assert_eq!(
        v["volumes"],
        json!([
            {"type": "bind", "source": "/proj/data", "target": "/data", "read_only": true,
             "bind": {"create_host_path": true}},
            {"type": "bind", "source": "/shared/x", "target": "/x", "bind": {"create_host_path": true}},
            {"type": "bind", "source": "/home/me/cache", "target": "/cache",
             "bind": {"create_host_path": true, "selinux": "z"}},
            {"type": "volume", "source": "named", "target": "/var/lib/db", "volume": {}},
            {"type": "volume", "target": "/anon", "volume": {}},
            {"type": "bind", "source": "/proj/conf", "target": "/etc/conf",
             "bind": {"propagation": "rshared", "create_host_path": true}},
            {"type": "volume", "source": "logs", "target": "/logs", "volume": {"nocopy": true, "subpath": "app"}},
            {"type": "tmpfs", "target": "/tmp", "tmpfs": {"size": "67108864", "mode": 1023}},
        ])
    );
    let p = ok("services:\n  web:\n    volumes: [\"/a:/b\"]\n");
    assert_eq!(p.services["web"].volumes[0].kind, VolumeType::Bind);
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
fn environment_and_labels_as_list_or_map() {
    let yaml = r#"
services:
  web:
    environment:
      - A=1
      - B=
      - FROM_ENV
      - UNSET
      - C=x=y
    labels:
      - com.example.a=1
      - com.example.flag
  db:
    environment:
      PORT: 5432
      DEBUG: true
      FROM_ENV:
      UNSET: null
    labels:
      tier: back
"#;
    let c = convert_env(yaml, &[("FROM_ENV", "hello")]);
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let v = serde_json::to_value(c.project).unwrap();
    assert_eq!(
        v["services"]["web"]["environment"],
        json!({"A": "1", "B": "", "FROM_ENV": "hello", "UNSET": null, "C": "x=y"})
    );
    assert_eq!(
        v["services"]["web"]["labels"],
        json!({"com.example.a": "1", "com.example.flag": ""})
    );
    assert_eq!(
        v["services"]["db"]["environment"],
        json!({"PORT": "5432", "DEBUG": "true", "FROM_ENV": "hello", "UNSET": null})
    );
    assert_eq!(v["services"]["db"]["labels"], json!({"tier": "back"}));
}

#[test]
fn depends_on_list_map_and_implicit() {
    let p = ok(r#"
services:
  web:
    depends_on: [db, cache]
  api:
    depends_on:
      db:
        condition: service_healthy
        restart: true
      migrate:
        condition: service_completed_successfully
        required: false
    links: ["cache:redis"]
    network_mode: "service:db"
  db: {}
  cache: {}
  migrate: {}
"#);
    let web = &p.services["web"].depends_on;
    assert_eq!(web.keys().collect::<Vec<_>>(), ["db", "cache"]);
    assert_eq!(web["db"].condition, ServiceCondition::ServiceStarted);
    assert!(web["db"].required);
    let v = serde_json::to_value(&p.services["api"]).unwrap();
    assert_eq!(
        v["depends_on"],
        json!({
            "db": {"condition": "service_healthy", "restart": true, "required": true},
            "migrate": {"condition": "service_completed_successfully", "required": false},
            "cache": {"condition": "service_started", "restart": true, "required": true}
        })
    );
    assert_eq!(v["network_mode"], json!("service:db"));
    assert_eq!(
        p.services["api"].network_mode,
        Some(NetworkMode::Service("db".into()))
    );
    // network_mode: no default network for that service.
    assert!(p.services["api"].networks.is_empty());
}

#[test]
fn healthcheck_command_and_durations() {
    let v = json_of(
        r#"
services:
  web:
    command: sh -c 'echo "hi there"; sleep 1'
    entrypoint: ["/bin/tini", "--"]
    stop_grace_period: 90s
    healthcheck:
      test: curl -f http://localhost || exit 1
      interval: 1m30s
      timeout: 10s
      retries: 3
      start_period: 1.5s
      start_interval: 500ms
  db:
    command: []
    healthcheck:
      test: ["CMD", "pg_isready"]
  off:
    healthcheck:
      disable: true
"#,
    );
    let web = &v["services"]["web"];
    assert_eq!(
        web["command"],
        json!(["sh", "-c", "echo \"hi there\"; sleep 1"])
    );
    assert_eq!(web["entrypoint"], json!(["/bin/tini", "--"]));
    assert_eq!(web["stop_grace_period"], json!("1m30s"));
    assert_eq!(
        web["healthcheck"],
        json!({
            "test": ["CMD-SHELL", "curl -f http://localhost || exit 1"],
            "timeout": "10s", "interval": "1m30s", "retries": 3,
            "start_period": "1.5s", "start_interval": "500ms"
        })
    );
    assert_eq!(v["services"]["db"]["command"], json!([]));
    assert_eq!(
        v["services"]["db"]["healthcheck"]["test"],
        json!(["CMD", "pg_isready"])
    );
    assert_eq!(
        v["services"]["off"]["healthcheck"],
        json!({"disable": true})
    );
}

#[test]
fn resources_limits_and_kernel_settings() {
    let yaml = r#"
services:
  web:
    mem_limit: 512m
    memswap_limit: -1
    cpus: 1.5
    cpu_shares: 512
    cpuset: "0-1"
    pids_limit: 100
    shm_size: 1gb
    restart: on-failure:3
    pull_policy: if_not_present
    init: true
    read_only: true
    privileged: false
    tty: true
    stdin_open: true
    scale: 2
    ulimits:
      nproc: 65535
      nofile:
        soft: 20000
        hard: 40000
    sysctls:
      - net.core.somaxconn=1024
    cap_add: [NET_ADMIN]
    cap_drop: [ALL]
    dns: 8.8.8.8
    dns_search: [example.com]
    tmpfs: /run
    extra_hosts:
      - "host.docker.internal:host-gateway"
      - "v6=[::1]"
    deploy:
      replicas: 2
      resources:
        limits: {cpus: "0.5", memory: 50M, pids: 10}
        reservations: {memory: 20M}
      restart_policy: {condition: on-failure, delay: 5s, max_attempts: 3}
      placement: {constraints: ["node.role==manager"]}
    logging:
      driver: json-file
      options: {max-size: 10m, max-file: 3}
"#;
    let p = ok(yaml);
    let s = &p.services["web"];
    assert_eq!(s.restart, Some(RestartPolicy::OnFailure(Some(3))));
    assert_eq!(s.ulimits["nproc"], Ulimit::Single(65535));
    let v = serde_json::to_value(s).unwrap();
    assert_eq!(v["mem_limit"], json!("536870912"));
    assert_eq!(v["memswap_limit"], json!("-1"));
    assert_eq!(v["shm_size"], json!("1073741824"));
    assert_eq!(v["cpus"], json!(1.5));
    assert_eq!(v["restart"], json!("on-failure:3"));
    assert_eq!(v["pull_policy"], json!("missing"));
    assert_eq!(
        v["ulimits"],
        json!({"nproc": 65535, "nofile": {"soft": 20000, "hard": 40000}})
    );
    assert_eq!(v["sysctls"], json!({"net.core.somaxconn": "1024"}));
    assert_eq!(v["dns"], json!(["8.8.8.8"]));
    assert_eq!(v["tmpfs"], json!(["/run"]));
    assert_eq!(
        v["extra_hosts"],
        json!(["host.docker.internal=host-gateway", "v6=::1"])
    );
    assert_eq!(v.get("privileged"), None);
    assert_eq!(
        (v["tty"].clone(), v["init"].clone(), v["scale"].clone()),
        (json!(true), json!(true), json!(2))
    );
    assert_eq!(
        v["deploy"],
        json!({
            "replicas": 2,
            "resources": {
                "limits": {"cpus": 0.5, "memory": "52428800", "pids": 10},
                "reservations": {"memory": "20971520"}
            },
            "restart_policy": {"condition": "on-failure", "delay": "5s", "max_attempts": 3},
            "placement": {"constraints": ["node.role==manager"]}
        })
    );
    assert_eq!(
        v["logging"],
        json!({"driver": "json-file", "options": {"max-size": "10m", "max-file": "3"}})
    );
}

#[test]
fn networks_list_map_and_modes() {
    let v = json_of(
        r#"
services:
  web:
    networks: [front, back]
  api:
    networks:
      back:
        aliases: [api.internal]
        ipv4_address: 172.20.0.5
        priority: 100
      default:
  host:
    network_mode: host
networks:
  front:
  back:
    driver: bridge
    internal: true
    ipam:
      config:
        - subnet: 172.20.0.0/16
          gateway: 172.20.0.1
  outside:
    external: true
  named:
    name: custom
"#,
    );
    assert_eq!(
        v["services"]["web"]["networks"],
        json!({"front": null, "back": null})
    );
    assert_eq!(
        v["services"]["api"]["networks"],
        json!({"back": {"aliases": ["api.internal"], "ipv4_address": "172.20.0.5", "priority": 100}, "default": null})
    );
    assert_eq!(v["services"]["host"].get("networks"), None);
    assert_eq!(
        v["networks"],
        json!({
            "front": {"name": "demo_front"},
            "back": {"name": "demo_back", "driver": "bridge", "internal": true,
                     "ipam": {"config": [{"subnet": "172.20.0.0/16", "gateway": "172.20.0.1"}]}},
            "outside": {"name": "outside", "external": true},
            "named": {"name": "custom"},
            "default": {"name": "demo_default"}
        })
    );
}

#[test]
fn build_short_and_long() {
    let v = json_of(
        r#"
services:
  web:
    build: ./app
  api:
    build:
      context: api
      dockerfile: Dockerfile.dev
      target: dev
      args:
        - VERSION=1
        - FROM_ENV
        - UNSET
      labels: {a: b}
      additional_contexts:
        base: ../base
        img: docker-image://alpine
      provenance: false
  remote:
    build: https://github.com/docker/rootfs.git#main
  default:
    build: {}
"#,
    );
    assert_eq!(
        v["services"]["web"]["build"],
        json!({"context": "/proj/app", "dockerfile": "Dockerfile"})
    );
    assert_eq!(
        v["services"]["api"]["build"],
        json!({"context": "/proj/api", "dockerfile": "Dockerfile.dev", "args": {"VERSION": "1"},
               "labels": {"a": "b"}, "target": "dev",
               "additional_contexts": {"base": "/base", "img": "docker-image://alpine"},
               "provenance": "false"})
    );
    assert_eq!(
        v["services"]["remote"]["build"]["context"],
        json!("https://github.com/docker/rootfs.git#main")
    );
    assert_eq!(v["services"]["default"]["build"]["context"], json!("/proj"));
}

#[test]
fn top_level_resources_are_named() {
    let v = json_of(
        r#"
services:
  web:
    secrets: [token, {source: cert, target: /certs/c.pem, mode: 0440}]
    configs: [app]
    env_file:
      - .env
      - path: ./extra.env
        required: false
volumes:
  data:
  ext:
    external: true
  legacy:
    external:
      name: old
  opts:
    driver: local
    driver_opts: {type: none, o: bind, device: /srv}
secrets:
  token:
    environment: TOKEN
  cert:
    file: ./cert.pem
configs:
  app:
    content: "hello"
"#,
    );
    assert_eq!(
        v["volumes"],
        json!({
            "data": {"name": "demo_data"},
            "ext": {"name": "ext", "external": true},
            "legacy": {"name": "old", "external": true},
            "opts": {"name": "demo_opts", "driver": "local",
                     "driver_opts": {"type": "none", "o": "bind", "device": "/srv"}}
        })
    );
    assert_eq!(
        v["secrets"],
        json!({
            "token": {"name": "demo_token", "environment": "TOKEN"},
            "cert": {"name": "demo_cert", "file": "/proj/cert.pem"}
        })
    );
    assert_eq!(
        v["configs"],
        json!({"app": {"name": "demo_app", "content": "hello"}})
    );
    let web = &v["services"]["web"];
    assert_eq!(
        web["secrets"],
        json!([{"source": "token", "target": "/run/secrets/token"}, {"source": "cert", "target": "/certs/c.pem", "mode": "0440"}])
    );
    assert_eq!(web["configs"], json!([{"source": "app"}]));
    assert_eq!(
        web["env_file"],
        json!([{"path": "/proj/.env", "required": true}, {"path": "/proj/extra.env", "required": false}])
    );
}

#[test]
fn extensions_are_kept() {
    let v = json_of(
        r#"
x-common: &common
  restart: always
services:
  web:
    image: nginx
    x-team: web
    ports:
      - target: 80
        x-note: main
networks:
  n:
    x-color: blue
"#,
    );
    assert_eq!(v["x-common"], json!({"restart": "always"}));
    assert_eq!(v["services"]["web"]["x-team"], json!("web"));
    assert_eq!(v["services"]["web"]["ports"][0]["x-note"], json!("main"));
    assert_eq!(v["networks"]["n"]["x-color"], json!("blue"));
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
            "compose.yaml:1:10: version: the attribute `version` is obsolete, it will be ignored; remove it to avoid confusion",
            "compose.yaml:4:5: services.a.platform: `platform` is not supported by stack yet; it is kept in the configuration but has no effect",
            "compose.yaml:5:5: services.a.runtime: `runtime` is not supported by stack yet; it is kept in the configuration but has no effect",
            "compose.yaml:6:5: services.a.blkio_config: `blkio_config` is not supported by stack yet; it is kept in the configuration but has no effect",
            "compose.yaml:9:5: services.b.devices: `devices` is not supported by stack yet; it is kept in the configuration but has no effect",
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
fn more_short_and_long_forms() {
    let c = convert_env(
        r#"
name: ignored-here
services:
  web:
    volumes: ["cache:/cache:z"]
    depends_on:
      db: {required: false}
    extra_hosts:
      db.local: 10.0.0.5
      multi: ["10.0.0.6", "[::2]"]
    env_file: .env
    devices:
      - source: /dev/sda
        target: /dev/xvda
        permissions: r
    secrets:
      - source: s
        mode: "440"
    networks:
      front:
    ulimits:
      nofile: {soft: 10}
  db:
    image: postgres
networks:
  front:
    external:
      name: shared
"#,
        &[],
    );
    let errors: Vec<String> = c.errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        vec!["compose.yaml:22:15: services.web.ulimits.nofile: a ulimit needs both `soft` and `hard` (add the missing one, or give a single number for both)"]
    );
    let warnings: Vec<String> = c.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        warnings,
        vec![
            "compose.yaml:5:15: services.web.volumes[0]: the volume option `z` does not apply here and is ignored",
            "compose.yaml:12:5: services.web.devices: `devices` is not supported by stack yet; it is kept in the configuration but has no effect",
            "compose.yaml:28:7: networks.front.external: `external.name` is deprecated; use `name` next to `external: true`",
        ]
    );
    let v = serde_json::to_value(&c.project).unwrap();
    let web = &v["services"]["web"];
    assert_eq!(
        web["depends_on"],
        json!({"db": {"condition": "service_started", "required": false}})
    );
    assert_eq!(
        web["extra_hosts"],
        json!(["db.local=10.0.0.5", "multi=10.0.0.6", "multi=::2"])
    );
    assert_eq!(
        web["env_file"],
        json!([{"path": "/proj/.env", "required": true}])
    );
    assert_eq!(
        web["devices"],
        json!([{"source": "/dev/sda", "target": "/dev/xvda", "permissions": "r"}])
    );
    assert_eq!(web["secrets"][0]["mode"], json!("0440"));
    assert_eq!(web["networks"], json!({"front": null}));
    assert_eq!(
        v["networks"],
        json!({"front": {"name": "shared", "external": true}, "default": {"name": "demo_default"}})
    );
    assert_eq!(v["name"], json!("demo"));
}

#[test]
fn structural_errors() {
    let e = errors(
        r#"services:
  web:
    depends_on:
      db:
    pull_policy: sometimes
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
            "compose.yaml:5:18: services.web.pull_policy: unknown pull policy `sometimes` (use always, never, missing, build, daily, weekly or every_<duration>)",
            "compose.yaml:8:9: services.web.env_file[0].requird: unknown key `requird` (did you mean `required`?)",
            "compose.yaml:9:14: services.web.logging: expected a mapping, found a list (write indented `key: value` lines)",
            "compose.yaml:10:9: services.list: expected a mapping, found a list (write indented `key: value` lines)",
            "compose.yaml:11:1: unknown: unknown key `unknown` (remove it, or prefix it with `x-` to keep it as an extension)",
        ]
    );
}
