//! Every short and long syntax of a service, normalized.

use super::*;

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
    cpu_quota: 50000
    cpu_period: 100000
    mem_swappiness: 10
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
    assert_eq!(
        (s.cpu_quota, s.cpu_period, s.mem_swappiness),
        (Some(50_000), Some(100_000), Some(10))
    );
    assert!(s.unsupported.is_empty(), "{:?}", s.unsupported);
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
fn build_args_without_value_come_from_the_environment() {
    let c = convert_env(
        "services:\n  web:\n    build:\n      args: [FROM_ENV, UNSET, SET=1]\n",
        &[("FROM_ENV", "x")],
    );
    assert!(c.errors.is_empty(), "{:?}", c.errors);
    let args = &c.project.services["web"].build.as_ref().unwrap().args;
    assert_eq!(
        serde_json::to_value(args).unwrap(),
        json!({"FROM_ENV": "x", "SET": "1"})
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
