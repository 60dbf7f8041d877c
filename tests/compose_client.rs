//! A real Compose client against our daemon (issue 5's "Real client
//! checks"): Debian's `docker-compose` 1.29 (Python, docker-py), pointed at
//! the test engine's socket with DOCKER_HOST, runs `up` in the foreground
//! (stopped with Ctrl-C), `up -d`, `ps`, `logs`, `exec -T` and `down -v` on
//! a two-service stack: a busybox httpd with a
//! published port and a named volume, and a client that fetches its page by
//! service name over the project network (subnet 10.251.40.0/24, absent
//! from this host's routes). After `down -v` nothing of the project is left
//! in the engine (containers, the network, the volume) nor on the host (its
//! interfaces, firewall rules, network namespaces, mounts, processes).
//!
//! Skipped unless root with /usr/bin/docker-compose (scripts/setup installs
//! it).

mod common;
mod docker_compose;
// The network tests' harness; this test uses a part of it.
#[allow(dead_code)]
mod network_harness;

use common::{mounts_under, processes_naming};
use docker_compose::{compose, compose_ok, installed, project_dir, COMPOSE};
use network_harness::{eventually, free_port, http_get, net_test, run_text, NetTest};
use stack_engine::network::names::{BridgeName, VethNames};
use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

const PROJECT: &str = "ctest";

/// The compose file: `web` serves the image's /www (the harness writes
/// "hello from the container" there) on `port` of 127.0.0.1 and mounts the
/// named volume; `client` fetches `http://web/` until it answers, then
/// waits for SIGTERM, which ends it at once.
fn compose_file(port: u16) -> String {
    format!(
        r#"version: "3.8"
services:
  web:
    image: busybox:latest
    command: ["httpd", "-f", "-p", "80", "-h", "/www"]
    # httpd as PID 1 ignores SIGTERM: a short grace period keeps stops quick.
    stop_grace_period: 1s
    ports:
      - "127.0.0.1:{port}:80"
    volumes:
      - data:/data
  client:
    image: busybox:latest
    command:
      - sh
      - -c
      - >-
        trap 'exit 0' TERM;
        until timeout 3 wget -q -O - http://web/; do sleep 0.2; done;
        echo fetched-by-name;
        while true; do sleep 0.1; done
    depends_on:
      - web
volumes:
  data:
networks:
  default:
    ipam:
      config:
        - subnet: 10.251.40.0/24
"#
    )
}

/// Names the engine lists with `stack KIND ls --format {{.Name}}` (or `-q`).
fn listed(t: &NetTest, args: &[&str]) -> Vec<String> {
    t.ok(args).split_whitespace().map(str::to_owned).collect()
}

#[test]
fn docker_compose_runs_a_two_service_stack() {
    if !installed() {
        return;
    }
    let Some(t) = net_test() else { return };
    let port = free_port();
    let dir = project_dir(&t, &compose_file(port));

    foreground_up_stops_on_ctrl_c(&t, &dir);
    // The project network's bridge goes away by name if the test fails.
    let network_id = t
        .ok(&["network", "inspect", "--format", "{{.Id}}", "ctest_default"])
        .trim()
        .to_owned();
    t.networks.borrow_mut().push(network_id.clone());
    // Starts the stopped containers again.
    compose_ok(&t, PROJECT, &dir, &["up", "-d"]);

    let ps = compose_ok(&t, PROJECT, &dir, &["ps"]);
    for container in ["ctest_web_1", "ctest_client_1"] {
        let line = ps
            .lines()
            .find(|l| l.starts_with(container))
            .unwrap_or_else(|| panic!("{container} missing in ps:\n{ps}"));
        assert!(line.contains(" Up "), "{container} is not up:\n{ps}");
    }
    assert!(ps.contains(&format!("127.0.0.1:{port}->80/tcp")), "{ps}");

    let mut logs = String::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(logs.contains("hello from the container") && logs.contains("fetched-by-name")) {
        assert!(
            Instant::now() < deadline,
            "the client's logs do not show the page fetched by name:\n{logs}"
        );
        std::thread::sleep(Duration::from_millis(200));
        logs = compose_ok(&t, PROJECT, &dir, &["logs", "--no-color", "client"]);
    }

    let hostname = compose_ok(
        &t,
        PROJECT,
        &dir,
        &["exec", "-T", "web", "cat", "/etc/hostname"],
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&t.ok(&["container", "inspect", "ctest_web_1"])).unwrap();
    let web_id = inspect[0]["Id"].as_str().unwrap_or_default().to_owned();
    assert!(
        !hostname.trim().is_empty() && web_id.starts_with(hostname.trim()),
        "exec printed {hostname:?}, web is {web_id}"
    );
    let failed = compose(
        &t,
        PROJECT,
        &dir,
        &["exec", "-T", "web", "sh", "-c", "exit 3"],
    );
    assert_eq!(failed.status.code(), Some(3), "exec's exit code");

    eventually("the published port answers on 127.0.0.1", || {
        http_get(IpAddr::V4(Ipv4Addr::LOCALHOST), port)
            .is_some_and(|r| r.contains("hello from the container"))
    });

    // What the project put on the host, by name: its bridge and each
    // container's veth, all gone after `down`.
    let mut interfaces = vec![BridgeName::for_network(&network_id).as_str().to_owned()];
    for name in ["ctest_web_1", "ctest_client_1"] {
        let inspect: serde_json::Value =
            serde_json::from_str(&t.ok(&["container", "inspect", name])).unwrap();
        let id = inspect[0]["Id"].as_str().unwrap_or_default();
        interfaces.push(VethNames::for_endpoint(id, &network_id).host.to_string());
    }
    for interface in &interfaces {
        assert!(
            Path::new("/sys/class/net").join(interface).exists(),
            "no interface {interface} while the stack is up"
        );
    }

    compose_ok(&t, PROJECT, &dir, &["down", "-v"]);
    assert_eq!(
        listed(&t, &["container", "ls", "-a", "-q"]),
        Vec::<String>::new(),
        "containers left after down -v"
    );
    let networks = listed(&t, &["network", "ls", "--format", "{{.Name}}"]);
    assert!(
        networks
            .iter()
            .all(|n| ["bridge", "host", "none"].contains(&n.as_str())),
        "networks left after down -v: {networks:?}"
    );
    assert_eq!(
        listed(&t, &["volume", "ls", "-q"]),
        Vec::<String>::new(),
        "volumes left after down -v"
    );
    assert!(
        http_get(IpAddr::V4(Ipv4Addr::LOCALHOST), port).is_none(),
        "port {port} still answers after down"
    );
    assert_nothing_of_the_project_on_the_host(&t, &interfaces);
}

/// Foreground `up` streams the services' logs (the client's fetch among
/// them) and, on Ctrl-C (SIGINT), stops every container and returns; its
/// events watcher (which reads Docker's legacy event fields) must not fail.
fn foreground_up_stops_on_ctrl_c(t: &NetTest, dir: &Path) {
    let log = t.engine.dir().join("foreground-up.log");
    let file = std::fs::File::create(&log).unwrap();
    let mut child = Command::new(COMPOSE)
        .args(["-p", PROJECT, "--no-ansi", "up"])
        .current_dir(dir)
        .env(
            "DOCKER_HOST",
            format!("unix://{}", t.engine.socket().display()),
        )
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .expect("run docker-compose up");
    let read = || std::fs::read_to_string(&log).unwrap_or_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !read().contains("fetched-by-name") {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("foreground up shows no fetch by the client:\n{}", read());
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(20);
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("foreground up did not return after SIGINT:\n{}", read());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let output = read();
    assert!(!output.contains("Traceback"), "{output}");
    let ps = compose_ok(t, PROJECT, dir, &["ps"]);
    assert!(
        ps.lines().filter(|l| l.starts_with("ctest_")).count() == 2 && !ps.contains(" Up "),
        "not every container stopped after Ctrl-C:\n{ps}\n{output}"
    );
}

/// The project's interfaces, firewall rules (which name its interfaces or
/// its subnet) and mounts are gone, and once the daemon is stopped no
/// process of the engine remains. Only this project's names are compared:
/// other engines on the host change theirs meanwhile.
fn assert_nothing_of_the_project_on_the_host(t: &NetTest, interfaces: &[String]) {
    let mentions = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| {
                l.contains("10.251.40.") || interfaces.iter().any(|i| l.contains(i.as_str()))
            })
            .map(str::to_owned)
            .collect()
    };
    eventually("the project's interfaces are removed", || {
        interfaces
            .iter()
            .all(|i| !Path::new("/sys/class/net").join(i).exists())
    });
    assert_eq!(
        mentions(&run_text("nft", &["list", "ruleset"])),
        Vec::<String>::new(),
        "nftables rules of the project left"
    );
    assert_eq!(
        mentions(&run_text("iptables-save", &[])),
        Vec::<String>::new(),
        "iptables rules of the project left"
    );
    let netns: Vec<String> = mounts_under(t.engine.dir())
        .into_iter()
        .filter(|m| m.contains("/netns/"))
        .collect();
    assert_eq!(
        netns,
        Vec::<String>::new(),
        "network namespaces left mounted"
    );
    t.engine.stop_daemon();
    assert_eq!(
        processes_naming(&t.engine.root()),
        Vec::<i32>::new(),
        "processes of the engine left after its daemon stopped"
    );
    assert_eq!(
        mounts_under(t.engine.dir()),
        Vec::<String>::new(),
        "mounts left under the engine's directory"
    );
}
