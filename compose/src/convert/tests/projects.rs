//! Whole projects: defaults, top-level resources, extensions, golden output.

use super::*;

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

/// What `docker compose config` prints for a typical file (its YAML
/// rendering; the JSON one adds `command: null`, `entrypoint: null` and an
/// empty `ipam` that carry no information).
#[test]
fn a_typical_project_matches_docker_compose_config() {
    let v = json_of(
        r#"
services:
  web:
    image: nginx
    ports:
      - "8080:80"
    volumes:
      - ./html:/usr/share/nginx/html:ro
    environment:
      - FOO=bar
    depends_on:
      - db
  db:
    image: postgres
    volumes:
      - db-data:/var/lib/postgresql/data
volumes:
  db-data:
"#,
    );
    assert_eq!(
        v,
        json!({
            "name": "demo",
            "services": {
                "web": {
                    "depends_on": {"db": {"condition": "service_started", "required": true}},
                    "environment": {"FOO": "bar"},
                    "image": "nginx",
                    "networks": {"default": null},
                    "ports": [{"mode": "ingress", "target": 80, "published": "8080", "protocol": "tcp"}],
                    "volumes": [{"type": "bind", "source": "/proj/html", "target": "/usr/share/nginx/html",
                                 "read_only": true, "bind": {"create_host_path": true}}]
                },
                "db": {
                    "image": "postgres",
                    "networks": {"default": null},
                    "volumes": [{"type": "volume", "source": "db-data",
                                 "target": "/var/lib/postgresql/data", "volume": {}}]
                }
            },
            "networks": {"default": {"name": "demo_default"}},
            "volumes": {"db-data": {"name": "demo_db-data"}}
        })
    );
}

#[test]
fn kafka_stack_converts_without_errors() {
    let p = ok(r#"
services:
  zookeeper:
    image: confluentinc/cp-zookeeper:7.5.0
    environment:
      ZOOKEEPER_CLIENT_PORT: 2181
      ZOOKEEPER_TICK_TIME: 2000
    healthcheck:
      test: ["CMD-SHELL", "echo ruok | nc localhost 2181 | grep imok"]
      interval: 10s
      retries: 5
  kafka:
    image: confluentinc/cp-kafka:7.5.0
    depends_on:
      zookeeper:
        condition: service_healthy
    ports:
      - "9092:9092"
    environment:
      KAFKA_BROKER_ID: 1
      KAFKA_ZOOKEEPER_CONNECT: "zookeeper:2181"
      KAFKA_ADVERTISED_LISTENERS: PLAINTEXT://kafka:29092,PLAINTEXT_HOST://localhost:9092
    restart: unless-stopped
"#);
    let kafka = &p.services["kafka"];
    assert_eq!(kafka.restart, Some(RestartPolicy::UnlessStopped));
    assert_eq!(
        kafka.depends_on["zookeeper"].condition,
        ServiceCondition::ServiceHealthy
    );
    assert_eq!(
        kafka.environment["KAFKA_ZOOKEEPER_CONNECT"].as_deref(),
        Some("zookeeper:2181")
    );
    assert_eq!(
        p.services["zookeeper"]
            .healthcheck
            .as_ref()
            .map(|h| h.test.len()),
        Some(2)
    );
}
