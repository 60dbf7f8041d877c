//! A real Compose client beyond `up` and `down` (issue 5's "Real client
//! checks"): Debian's `docker-compose` 1.29 against our daemon recreates a
//! service whose configuration changed (it renames the old container to
//! `<shortid>_<name>` first), runs one-off containers (`run --rm`, `run -d`,
//! which send legacy links), scales a service up and back down, and drives
//! `restart`, `stop`, `start`, `kill`, `pause`/`unpause`, `top`, `port` and
//! `rm -f`. A `links:` entry is a name only the linking container resolves,
//! `volumes_from: [web:ro]` mounts web's volumes read-only, and
//! `stack container rename` (the API's rename) follows Docker: 409 on a
//! taken name, the running container keeps running under its new name,
//! which DNS and inspect show. Project `clife` on 10.251.41.0/24 (absent
//! from this host's routes); after `down -v` nothing of it is left in the
//! engine, and the host is as before the test.
//!
//! Skipped unless root with /usr/bin/docker-compose (scripts/setup installs
//! it).

mod common;
mod docker_compose;
// The network tests' harness; this test uses a part of it.
#[allow(dead_code)]
mod network_harness;

use common::{stderr, stdout};
use docker_compose::{compose, compose_ok, compose_succeeds, installed, project_dir};
use network_harness::{eventually, free_port, http_get, net_test, NetTest};
use stack_engine::network::names::BridgeName;
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;

const PROJECT: &str = "clife";

/// `web` (httpd, published on `port` of 127.0.0.1, a named volume, the
/// environment `greeting`), `client` linking to it as `webby`, `worker`,
/// an idle service to scale, and `reader`, which mounts web's volumes
/// read-only (`volumes_from`).
fn compose_file(port: u16, greeting: &str) -> String {
    format!(
        r#"version: "3.8"
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    # httpd as PID 1 ignores SIGTERM: a short grace period keeps stops quick.
    stop_grace_period: 1s
    environment:
      GREETING: {greeting}
    ports:
      - "127.0.0.1:{port}:80"
    volumes:
      - data:/data
  client:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    links:
      - web:webby
  worker:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
  reader:
    image: busybox:latest
    command: ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 0.1; done"]
    volumes_from:
      - web:ro
volumes:
  data:
networks:
  default:
    ipam:
      config:
        - subnet: 10.251.41.0/24
"#
    )
}

/// The inspect document of one container.
fn inspect(t: &NetTest, container: &str) -> serde_json::Value {
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["container", "inspect", container])).unwrap();
    json[0].clone()
}

/// Full ids of every container of the engine.
fn all_ids(t: &NetTest) -> Vec<String> {
    t.ok(&["container", "ls", "-a", "-q", "--no-trunc"])
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

/// Names of every container of the engine.
fn all_names(t: &NetTest) -> Vec<String> {
    all_ids(t)
        .iter()
        .map(|id| {
            let name = inspect(t, id)["Name"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            name.trim_start_matches('/').to_owned()
        })
        .collect()
}

/// What busybox nslookup inside `service`'s container says of `name`: the
/// addresses (without the server's own) and its whole output.
fn lookup(t: &NetTest, dir: &Path, service: &str, name: &str) -> (Vec<String>, String) {
    let out = compose(t, PROJECT, dir, &["exec", "-T", service, "nslookup", name]);
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let mut addresses: Vec<String> = text
        .split("\n\n")
        .filter(|block| block.contains("Name:"))
        .flat_map(|block| block.lines())
        .filter_map(|l| l.strip_prefix("Address:"))
        .map(|a| a.trim().to_owned())
        .collect();
    addresses.sort();
    addresses.dedup();
    (addresses, text)
}

/// `name` resolves to exactly `expected` inside `service`'s container. A
/// few tries: on a loaded host a single query of nslookup can time out.
fn assert_resolves(t: &NetTest, dir: &Path, service: &str, name: &str, mut expected: Vec<String>) {
    expected.sort();
    let mut last = String::new();
    for _ in 0..3 {
        let (addresses, text) = lookup(t, dir, service, name);
        if addresses == expected {
            return;
        }
        last = text;
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("{name} in {service}: expected {expected:?}, nslookup says:\n{last}");
}

/// `name` is NXDOMAIN inside `service`'s container.
fn assert_unknown(t: &NetTest, dir: &Path, service: &str, name: &str) {
    let mut last = String::new();
    for _ in 0..3 {
        let (addresses, text) = lookup(t, dir, service, name);
        if addresses.is_empty() && text.contains("NXDOMAIN") {
            return;
        }
        last = text;
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    panic!("{name} in {service}: expected NXDOMAIN, nslookup says:\n{last}");
}

/// The container's address on the project network.
fn address(t: &NetTest, container: &str) -> String {
    t.address(container, "clife_default")
}

/// The line of `ps` for `container`.
fn ps_line(t: &NetTest, dir: &Path, container: &str) -> String {
    let ps = compose_ok(t, PROJECT, dir, &["ps"]);
    ps.lines()
        .find(|l| l.starts_with(&format!("{container} ")))
        .unwrap_or_else(|| panic!("{container} missing in ps:\n{ps}"))
        .to_owned()
}

#[test]
fn docker_compose_recreates_runs_scales_and_renames() {
    if !installed() {
        return;
    }
    let Some(t) = net_test() else { return };
    let port = free_port();
    let dir = project_dir(&t, &compose_file(port, "one"));
    compose_ok(&t, PROJECT, &dir, &["up", "-d"]);
    let network_id = t
        .ok(&["network", "inspect", "--format", "{{.Id}}", "clife_default"])
        .trim()
        .to_owned();
    t.networks.borrow_mut().push(network_id);

    links_are_names_of_the_linking_container(&t, &dir);
    recreate_after_a_change(&t, &dir, port);
    one_off_containers(&t, &dir);
    scale_up_and_back(&t, &dir);
    rename_through_the_cli(&t, &dir);
    lifecycle_commands(&t, &dir, port);

    compose_ok(&t, PROJECT, &dir, &["down", "-v"]);
    assert_eq!(
        all_ids(&t),
        Vec::<String>::new(),
        "containers left after down -v"
    );
    let networks = t.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(
        networks
            .split_whitespace()
            .all(|n| ["bridge", "host", "none"].contains(&n)),
        "networks left after down -v: {networks}"
    );
    assert_eq!(
        t.ok(&["volume", "ls", "-q"]).trim(),
        "",
        "volumes left after down -v"
    );
    t.finish();
}

/// `client` resolves its link `webby` to web; `worker`, not linking, does
/// not. Inspect shows the link on the endpoint, as Docker does.
fn links_are_names_of_the_linking_container(t: &NetTest, dir: &Path) {
    let client = inspect(t, "clife_client_1");
    let links = &client["NetworkSettings"]["Networks"]["clife_default"]["Links"];
    assert!(
        links
            .as_array()
            .is_some_and(|l| l.iter().any(|l| l == "clife_web_1:webby")),
        "{links}"
    );
    let web = address(t, "clife_web_1");
    assert_resolves(t, dir, "client", "webby", vec![web.clone()]);
    assert_unknown(t, dir, "worker", "webby");
    assert_resolves(t, dir, "worker", "web", vec![web]);
}

/// A changed environment recreates web: the old container is gone, the new
/// one runs with the new environment, keeps the named volume's data and
/// serves on the published port; an unchanged service keeps its container,
/// and the link follows the new web.
fn recreate_after_a_change(t: &NetTest, dir: &Path, port: u16) {
    compose_ok(
        t,
        PROJECT,
        dir,
        &["exec", "-T", "web", "sh", "-c", "echo kept > /data/marker"],
    );
    let old_web = inspect(t, "clife_web_1")["Id"].as_str().unwrap().to_owned();
    let worker = inspect(t, "clife_worker_1")["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    std::fs::write(dir.join("docker-compose.yml"), compose_file(port, "two")).unwrap();
    let output = stderr(&compose_succeeds(t, PROJECT, dir, &["up", "-d"]));
    assert!(output.contains("Recreating clife_web_1"), "{output}");

    let ids = all_ids(t);
    assert!(!ids.contains(&old_web), "the old web is left: {ids:?}");
    assert!(ids.contains(&worker), "worker was recreated too: {output}");
    let names = all_names(t);
    assert!(
        !names.iter().any(|n| n.ends_with("_clife_web_1")),
        "the renamed old container is left: {names:?}"
    );
    let web = inspect(t, "clife_web_1");
    assert_ne!(web["Id"].as_str(), Some(old_web.as_str()));
    assert_eq!(web["State"]["Running"], true, "{web}");
    let seen = compose_ok(
        t,
        PROJECT,
        dir,
        &[
            "exec",
            "-T",
            "web",
            "sh",
            "-c",
            "echo $GREETING; cat /data/marker",
        ],
    );
    assert_eq!(
        seen.trim(),
        "two\nkept",
        "environment and volume after recreate"
    );
    eventually("the recreated web answers on its published port", || {
        http_get(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
            .is_some_and(|r| r.contains("hello from the container"))
    });
    // The link names the new web.
    assert_resolves(t, dir, "client", "webby", vec![address(t, "clife_web_1")]);
    let read = compose_ok(
        t,
        PROJECT,
        dir,
        &["run", "--rm", "reader", "cat", "/data/marker"],
    );
    assert_eq!(read.trim(), "kept", "volumes_from shares web's volume");
    let write = compose(
        t,
        PROJECT,
        dir,
        &["run", "--rm", "reader", "touch", "/data/other"],
    );
    assert!(
        !write.status.success(),
        "volumes_from web:ro is writable: {}",
        stdout(&write)
    );
    // The engine CLI's --link and --volumes-from send the same fields.
    let flags = [
        "--network",
        "clife_default",
        "--link",
        "clife_web_1:kk",
        "--volumes-from",
        "clife_web_1:ro",
    ];
    let seen = t.sh_ok(&flags, "cat /data/marker; nslookup kk | grep -A1 '^Name:'");
    assert!(
        seen.contains("kept") && seen.contains(&address(t, "clife_web_1")),
        "{seen}"
    );
}

/// `run --rm` prints its command's output and leaves no container; `run -d`
/// leaves one running, which `rm -f` then removes.
fn one_off_containers(t: &NetTest, dir: &Path) {
    let output = compose_ok(
        t,
        PROJECT,
        dir,
        &[
            "run",
            "--rm",
            "client",
            "sh",
            "-c",
            "echo one-off; nslookup webby",
        ],
    );
    assert!(output.contains("one-off"), "{output}");
    assert!(
        output.contains(&address(t, "clife_web_1")),
        "the one-off does not resolve the service's link:\n{output}"
    );
    let names = all_names(t);
    assert!(
        !names.iter().any(|n| n.starts_with("clife_client_run")),
        "run --rm left its container: {names:?}"
    );

    let name = compose_ok(t, PROJECT, dir, &["run", "-d", "worker", "sleep", "300"]);
    let name = name
        .lines()
        .find(|l| l.starts_with("clife_worker_run"))
        .unwrap_or_else(|| panic!("run -d printed no container name:\n{name}"))
        .trim()
        .to_owned();
    assert_eq!(inspect(t, &name)["State"]["Running"], true);
    let removed = t.engine.stack(&["container", "rm", "-f", &name]);
    assert!(removed.status.success(), "{}", stderr(&removed));
}

/// `up --scale worker=2` adds `clife_worker_2`, which the service name then
/// also resolves to; `--scale worker=1` removes it again. The bridge keeps
/// its hardware address meanwhile (the containers' ARP entry for their
/// gateway stays right).
fn scale_up_and_back(t: &NetTest, dir: &Path) {
    let network = t
        .ok(&["network", "inspect", "--format", "{{.Id}}", "clife_default"])
        .trim()
        .to_owned();
    let bridge = BridgeName::for_network(&network);
    let mac_path = Path::new("/sys/class/net")
        .join(bridge.as_str())
        .join("address");
    let mac = std::fs::read_to_string(&mac_path).unwrap();
    compose_ok(t, PROJECT, dir, &["up", "-d", "--scale", "worker=2"]);
    assert!(ps_line(t, dir, "clife_worker_2").contains(" Up"));
    let both = vec![address(t, "clife_worker_1"), address(t, "clife_worker_2")];
    assert_resolves(t, dir, "client", "worker", both);
    compose_ok(t, PROJECT, dir, &["up", "-d", "--scale", "worker=1"]);
    let names = all_names(t);
    assert!(
        !names.iter().any(|n| n == "clife_worker_2"),
        "scaling back left clife_worker_2: {names:?}"
    );
    assert!(ps_line(t, dir, "clife_worker_1").contains(" Up"));
    assert_eq!(std::fs::read_to_string(&mac_path).unwrap(), mac);
}

/// `stack container rename`: a taken name is refused with Docker's 409
/// message; a free one renames the running container, which keeps running
/// and answers to the new name only.
fn rename_through_the_cli(t: &NetTest, dir: &Path) {
    let id = inspect(t, "clife_worker_1")["Id"]
        .as_str()
        .unwrap()
        .to_owned();
    let taken = t
        .engine
        .stack(&["container", "rename", "clife_worker_1", "clife_web_1"]);
    assert_eq!(taken.status.code(), Some(1));
    assert!(
        stderr(&taken).contains("Conflict. The container name \"/clife_web_1\" is already in use"),
        "{}",
        stderr(&taken)
    );
    let unknown = t
        .engine
        .stack(&["container", "rename", "no-such-one", "x1"]);
    assert!(
        stderr(&unknown).contains("No such container: no-such-one"),
        "{}",
        stderr(&unknown)
    );

    t.ok(&["container", "rename", "clife_worker_1", "renamed-worker"]);
    let renamed = inspect(t, "renamed-worker");
    assert_eq!(renamed["Id"].as_str(), Some(id.as_str()));
    assert_eq!(renamed["Name"], "/renamed-worker");
    assert_eq!(renamed["State"]["Running"], true, "{renamed}");
    let worker = address(t, "renamed-worker");
    assert_resolves(t, dir, "client", "renamed-worker", vec![worker]);
    assert_unknown(t, dir, "client", "clife_worker_1");
    // Compose finds its containers by label: the service is still up.
    assert!(ps_line(t, dir, "renamed-worker").contains(" Up"));
    t.ok(&["container", "rename", &id[..12], "clife_worker_1"]);
}

/// The remaining per-container commands, as `docker-compose` drives them.
fn lifecycle_commands(t: &NetTest, dir: &Path, port: u16) {
    let port_line = compose_ok(t, PROJECT, dir, &["port", "web", "80"]);
    assert_eq!(port_line.trim(), format!("127.0.0.1:{port}"));
    let top = compose_ok(t, PROJECT, dir, &["top", "web"]);
    assert!(top.contains("httpd -f -p 80"), "{top}");

    compose_ok(t, PROJECT, dir, &["pause", "worker"]);
    assert!(ps_line(t, dir, "clife_worker_1").contains("Paused"));
    compose_ok(t, PROJECT, dir, &["unpause", "worker"]);
    assert!(ps_line(t, dir, "clife_worker_1").contains(" Up"));

    let started = |c: &str| {
        inspect(t, c)["State"]["StartedAt"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let before = started("clife_worker_1");
    compose_ok(t, PROJECT, dir, &["restart", "worker"]);
    assert_ne!(started("clife_worker_1"), before, "restart did not restart");
    compose_ok(t, PROJECT, dir, &["stop", "worker"]);
    assert!(ps_line(t, dir, "clife_worker_1").contains("Exit 0"));
    compose_ok(t, PROJECT, dir, &["start", "worker"]);
    assert!(ps_line(t, dir, "clife_worker_1").contains(" Up"));
    compose_ok(t, PROJECT, dir, &["kill", "worker"]);
    assert!(ps_line(t, dir, "clife_worker_1").contains("Exit 137"));
    compose_ok(t, PROJECT, dir, &["rm", "-f", "worker"]);
    let names = all_names(t);
    assert!(
        !names.iter().any(|n| n == "clife_worker_1"),
        "rm -f left the worker: {names:?}"
    );
}
