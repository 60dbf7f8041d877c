//! Networks end to end, as root, through the real binary (issue 4's "Tests
//! and evidence"): names resolve within a network and not across; published
//! ports answer where they are bound and nowhere else; `--internal`, `none`,
//! `host` and `container:NAME`; a fixed MAC address; DNS forwarding to a fake upstream the test runs on
//! 127.0.0.77; and nothing left behind after removal or a killed daemon.
//!
//! Each test has its own state root, run directory, daemon, network names
//! and subnets (10.251.x.0/24, absent from this host's routes). Each test
//! compares the host's network state (the engines' interfaces, named network
//! namespaces, nftables and iptables rules, and mounts) before and after, so
//! the tests take one lock and run one at a time. Traffic goes only to 127.0.0.0/8, to the host's
//! own primary address and to the networks the tests create.

mod common;
mod network_harness;

use common::{mounts_under, stderr, stdout};
use network_harness::{
    eventually, free_port, http_get, net_test, primary_address, run_text, udp_echo_binary,
    FakeUpstream,
};
use stack_engine::network::names::BridgeName;
use std::io::{Read, Write};
use std::net::{IpAddr, TcpListener, UdpSocket};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[test]
fn names_resolve_within_a_network_and_not_across() {
    let Some(t) = net_test() else { return };
    t.network("nt-front", &["--subnet", "10.251.1.0/24"]);
    t.network("nt-back", &["--subnet", "10.251.2.0/24"]);
    t.httpd("web", &["--network", "nt-front", "--network-alias", "www"]);
    t.httpd("api", &["--network", "nt-back"]);
    let web = t.address("web", "nt-front");
    assert!(web.starts_with("10.251.1."), "{web}");
    // Debian's static busybox wget crashes with -T, hence `timeout`.
    let get = "timeout 5 wget -q -O - http://";
    // Container name, alias and NAME.NETWORK.
    let fetched = t.sh_ok(
        &["--network", "nt-front"],
        &format!("{get}web/ && {get}www/ && {get}web.nt-front/ && {get}WEB/"),
    );
    assert_eq!(
        fetched.matches("hello from the container").count(),
        4,
        "{fetched}"
    );

    // An alias given on connect, and replicas sharing one alias.
    t.httpd("one", &["--network", "name=nt-front,alias=pool"]);
    t.httpd("two", &["--network", "nt-front", "--network-alias", "pool"]);
    // A running container joins later, with an alias of its own.
    t.ok(&[
        "container",
        "run",
        "-d",
        "--name",
        "late",
        "busybox",
        "sleep",
        "600",
    ]);
    t.ok(&["network", "connect", "--alias", "later", "nt-front", "late"]);
    let lookup = t.sh_ok(&["--network", "nt-front"], "nslookup pool; nslookup later");
    for replica in ["one", "two", "late"] {
        let ip = t.address(replica, "nt-front");
        assert!(
            lookup.contains(&ip),
            "{replica} ({ip}) missing in:\n{lookup}"
        );
    }

    // The other network: no name, no path.
    let out = t.sh(&["--network", "nt-back"], "nslookup web");
    assert!(
        format!("{}{}", stdout(&out), stderr(&out)).contains("NXDOMAIN"),
        "web is resolved from nt-back: {}{}",
        stdout(&out),
        stderr(&out)
    );
    let out = t.sh(&["--network", "nt-back"], &format!("{get}{web}/"));
    assert!(
        !out.status.success(),
        "nt-back reaches web at {web}: {}",
        stdout(&out)
    );

    // A container on both networks reaches both.
    t.ok(&[
        "container",
        "create",
        "--name",
        "both",
        "--network",
        "nt-front",
        "busybox",
        "sh",
        "-c",
        &format!("{get}web/ && {get}api/"),
    ]);
    t.ok(&["network", "connect", "nt-back", "both"]);
    t.ok(&["container", "start", "both"]);
    assert_eq!(t.ok(&["container", "wait", "both"]).trim(), "0");
    let logs = t.ok(&["container", "logs", "both"]);
    assert_eq!(
        logs.matches("hello from the container").count(),
        2,
        "{logs}"
    );

    // A running container leaves a network: its name goes with it.
    t.ok(&["network", "connect", "nt-back", "late"]);
    let api = t.address("api", "nt-back");
    assert!(t
        .sh_ok(&["--network", "nt-back"], "nslookup late")
        .contains(&t.address("late", "nt-back")));
    t.ok(&["network", "disconnect", "nt-back", "late"]);
    let out = t.sh(&["--network", "nt-back"], "nslookup late");
    assert!(
        !out.status.success(),
        "late still resolves on nt-back: {}",
        stdout(&out)
    );
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["container", "inspect", "late"])).unwrap();
    let networks = &json[0]["NetworkSettings"]["Networks"];
    assert!(
        networks.get("nt-back").is_none() && networks.get("nt-front").is_some(),
        "{networks}"
    );
    let inspect: serde_json::Value =
        serde_json::from_str(&t.ok(&["network", "inspect", "nt-back"])).unwrap();
    let endpoints = inspect[0]["Containers"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    let addresses: Vec<String> = endpoints
        .values()
        .map(|e| e["IPv4Address"].as_str().unwrap_or_default().to_owned())
        .collect();
    assert_eq!(
        addresses,
        [format!("{api}/24")],
        "only api stays on nt-back: {inspect}"
    );
    t.finish();
}

#[test]
fn published_ports_answer_where_they_are_bound() {
    let Some(t) = net_test() else { return };
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    let primary = primary_address();
    let (everywhere, local_only) = (free_port(), free_port());
    // On the default network, as `docker run -p` without --network.
    t.httpd(
        "pub",
        &[
            "-p",
            &format!("{everywhere}:80"),
            "-p",
            &format!("127.0.0.1:{local_only}:80"),
        ],
    );
    eventually("the published port does not answer on 127.0.0.1", || {
        http_get(loopback, everywhere).is_some_and(|r| r.contains("hello from the container"))
    });
    let on_primary = http_get(primary, everywhere).unwrap_or_default();
    assert!(
        on_primary.contains("hello from the container"),
        "{primary}:{everywhere}: {on_primary:?}"
    );
    let local = http_get(loopback, local_only).unwrap_or_default();
    assert!(
        local.contains("hello from the container"),
        "127.0.0.1:{local_only}: {local:?}"
    );
    assert_eq!(
        http_get(primary, local_only),
        None,
        "a port bound to 127.0.0.1 answers on {primary}"
    );
    let ports = t.ok(&["container", "port", "pub"]);
    assert!(
        ports.contains(&format!("80/tcp -> 127.0.0.1:{local_only}")),
        "{ports}"
    );
    assert!(ports.contains(&format!(":{everywhere}")), "{ports}");
    let listed = t.ok(&["container", "ps", "--filter", "name=pub"]);
    assert!(
        listed.contains(&format!("127.0.0.1:{local_only}->80/tcp")),
        "{listed}"
    );

    // -P on a user-defined network: the port is chosen and reported.
    t.network("nt-pub", &["--subnet", "10.251.3.0/24"]);
    t.httpd("auto", &["--network", "nt-pub", "--expose", "80", "-P"]);
    let chosen = t.ok(&["container", "port", "auto", "80"]);
    let port: u16 = chosen
        .lines()
        .next()
        .and_then(|l| l.rsplit(':').next())
        .and_then(|p| p.trim().parse().ok())
        .unwrap_or_else(|| panic!("no port in {chosen:?}"));
    assert!(port > 0);
    eventually("the -P port does not answer", || {
        http_get(loopback, port).is_some_and(|r| r.contains("hello from the container"))
    });

    // UDP, both ways: a datagram from the host and the echo back.
    let echo = udp_echo_binary(t.engine.dir());
    let udp_port = free_port();
    t.ok(&[
        "container",
        "run",
        "-d",
        "--name",
        "udp",
        "--network",
        "nt-pub",
        "-p",
        &format!("{udp_port}:9999/udp"),
        "-v",
        &format!("{}:/udp-echo:ro", echo.display()),
        "busybox",
        "/udp-echo",
        "9999",
    ]);
    let socket = UdpSocket::bind("0.0.0.0:0").unwrap();
    socket
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    for ip in [loopback, primary] {
        eventually(&format!("no UDP echo through {ip}:{udp_port}"), || {
            let _ = socket.send_to(b"datagram-over-udp", (ip, udp_port));
            let mut buf = [0u8; 64];
            matches!(socket.recv_from(&mut buf), Ok((17, _)) if &buf[..17] == b"datagram-over-udp")
        });
    }
    // A host port in use, by a process or by another container, is refused
    // before anything is created.
    let held = TcpListener::bind(("0.0.0.0", 0)).unwrap();
    let held_port = held.local_addr().unwrap().port();
    for (name, port) in [("clash1", held_port), ("clash2", everywhere)] {
        let out = t.engine.stack(&[
            "container",
            "run",
            "-d",
            "--name",
            name,
            "-p",
            &format!("{port}:80"),
            "busybox",
            "httpd",
            "-f",
        ]);
        assert!(
            !out.status.success(),
            "{name}: port {port} was published twice"
        );
        assert!(
            stderr(&out).contains(&port.to_string()),
            "the error names the port: {}",
            stderr(&out)
        );
        let all = t.ok(&["container", "ps", "-a"]);
        assert!(!all.contains(name), "{name} was created:\n{all}");
    }
    drop(held);

    t.finish();
}

#[test]
fn internal_none_and_host_networks() {
    let Some(t) = net_test() else { return };
    let primary = primary_address();
    // A server of the test's own on the host's address stands for "outside".
    let server = TcpListener::bind((primary, 0)).unwrap();
    let port = server.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let serving = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            server.set_nonblocking(true).unwrap();
            while !stop.load(Ordering::Relaxed) {
                match server.accept() {
                    Ok((mut stream, _)) => {
                        stream.set_nonblocking(false).unwrap();
                        let mut buf = [0u8; 1024];
                        let _ = stream.read(&mut buf);
                        let _ = stream.write_all(
                            b"HTTP/1.0 200 OK\r\nContent-Length: 12\r\n\r\nhost-server\n",
                        );
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(20)),
                }
            }
        })
    };
    let fetch = format!("timeout 5 wget -q -O - http://{primary}:{port}/");
    t.network("nt-open", &["--subnet", "10.251.5.0/24"]);
    t.network("nt-closed", &["--subnet", "10.251.4.0/24", "--internal"]);
    let open = t.sh_ok(&["--network", "nt-open"], &fetch);
    assert_eq!(
        open, "host-server\n",
        "the control container cannot reach the host server"
    );
    let closed = t.sh(&["--network", "nt-closed"], &format!("ip route; {fetch}"));
    assert!(
        !closed.status.success(),
        "--internal reached {primary}:{port}: {}",
        stdout(&closed)
    );
    assert!(
        !stdout(&closed).contains("default"),
        "--internal has a default route:\n{}",
        stdout(&closed)
    );
    stop.store(true, Ordering::Relaxed);
    serving.join().unwrap();

    let none = t.sh_ok(&["--network", "none"], "ls /sys/class/net; ip -4 -o addr");
    let interfaces: Vec<&str> = none.lines().take_while(|l| !l.contains("inet")).collect();
    assert_eq!(interfaces, ["lo"], "--network none:\n{none}");
    assert!(!none.contains("eth0"), "{none}");

    let host = t.sh_ok(&["--network", "host"], "ip -4 -o addr");
    assert!(
        host.contains(&format!("inet {primary}/")),
        "--network host does not see {primary}:\n{host}"
    );

    // container:NAME shares another container's namespace: its loopback too.
    t.httpd("owner", &["--network", "nt-open"]);
    let shared = t.sh_ok(
        &["--network", "container:owner"],
        "ip -4 -o addr show eth0; timeout 5 wget -q -O - http://127.0.0.1/",
    );
    let owner = t.address("owner", "nt-open");
    assert!(
        shared.contains(&format!("inet {owner}/")) && shared.contains("hello from the container"),
        "container:owner:\n{shared}"
    );
    t.finish();
}

#[test]
fn dns_forwards_other_names_to_the_containers_servers() {
    let Some(t) = net_test() else { return };
    let upstream = FakeUpstream::start();
    t.network(
        "nt-dns",
        &["--subnet", "10.251.6.0/24", "--gateway", "10.251.6.1"],
    );
    let flags = [
        "--network",
        "nt-dns",
        "--name",
        "asker",
        "--hostname",
        "askerhost",
        "--dns",
        "127.0.0.77",
        "--add-host",
        "extra.test:10.251.99.8",
    ];
    let started = Instant::now();
    let out = t.sh(
        &flags,
        "cat /etc/resolv.conf /etc/hosts; echo ==; nslookup known.upstream.test; echo ==; nslookup missing.upstream.test",
    );
    let elapsed = started.elapsed();
    let text = format!("{}{}", stdout(&out), stderr(&out));
    let sections: Vec<&str> = text.split("==\n").collect();
    assert_eq!(sections.len(), 3, "{text}");
    assert!(
        sections[0].contains("nameserver 10.251.6.1"),
        "resolv.conf: {}",
        sections[0]
    );
    assert!(
        !sections[0].contains("127.0.0.77"),
        "the container cannot reach a loopback resolver:\n{}",
        sections[0]
    );
    assert!(
        sections[0].contains("10.251.99.8") && sections[0].contains("extra.test"),
        "hosts: {}",
        sections[0]
    );
    assert!(
        sections[0]
            .lines()
            .any(|l| l.starts_with("10.251.6.") && l.contains("askerhost")),
        "its own address and host name in /etc/hosts: {}",
        sections[0]
    );
    assert!(
        sections[1].contains("10.251.99.7"),
        "forwarded answer: {}",
        sections[1]
    );
    assert!(
        sections[2].contains("NXDOMAIN"),
        "NXDOMAIN passed through: {}",
        sections[2]
    );
    assert!(
        elapsed < Duration::from_secs(8),
        "NXDOMAIN took {elapsed:?} (a timeout?)"
    );
    let questions = upstream.questions();
    assert!(
        questions.iter().any(|q| q == "known.upstream.test"),
        "{questions:?}"
    );
    assert!(
        questions.iter().any(|q| q == "missing.upstream.test"),
        "{questions:?}"
    );
    assert!(
        !questions.iter().any(|q| q.starts_with("asker")),
        "a container name was forwarded: {questions:?}"
    );
    drop(upstream);
    t.finish();
}

#[test]
fn a_removed_containers_namespace_goes_while_later_ones_run() {
    let Some(t) = net_test() else { return };
    let id = t.network("nt-pin", &["--subnet", "10.251.11.0/24"]);
    let bridge = BridgeName::for_network(&id);
    let ports = || {
        run_text("ip", &["-o", "link", "show", "master", bridge.as_str()])
            .lines()
            .count()
    };
    t.httpd("first", &["--network", "nt-pin"]);
    t.httpd("later", &["--network", "nt-pin"]);
    assert_eq!(ports(), 2);
    // Each container's root file system is mounted in its monitor's own
    // mount namespace, not in the host's.
    assert_eq!(mounts_under(&t.engine.root()), Vec::<String>::new());
    // The later container's monitor runs in a copy of the host's mounts
    // taken while the first container's namespace file was bound: that
    // copy must not keep the namespace, and its interface, alive.
    t.ok(&["container", "rm", "-f", "first"]);
    eventually(
        "the removed container's interface stays on the bridge",
        || ports() == 1,
    );
    t.finish();
}

#[test]
fn a_mac_address_is_the_containers_on_its_network() {
    let Some(t) = net_test() else { return };
    t.network("nt-mac", &["--subnet", "10.251.12.0/24"]);
    let read = "cat /sys/class/net/eth0/address";
    let flags = ["--network", "nt-mac", "--mac-address", "02:42:AC:FB:0C:0A"];
    assert_eq!(t.sh_ok(&flags, read), "02:42:ac:fb:0c:0a\n");
    // On the default bridge too, as with Docker.
    assert_eq!(
        t.sh_ok(&["--mac-address", "02:42:ac:fb:0c:0b"], read),
        "02:42:ac:fb:0c:0b\n"
    );
    t.httpd(
        "fixed",
        &["--network", "nt-mac", "--mac-address", "02:42:ac:fb:0c:0c"],
    );
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["container", "inspect", "fixed"])).unwrap();
    assert_eq!(
        json[0]["NetworkSettings"]["Networks"]["nt-mac"]["MacAddress"],
        "02:42:ac:fb:0c:0c"
    );
    // A multicast address, or one on network mode none, is refused by
    // name before anything is made.
    for (flags, named) in [
        (vec!["--mac-address", "01:00:5e:00:00:01"], "multicast"),
        (
            vec!["--network", "none", "--mac-address", "02:42:ac:fb:0c:0d"],
            "--mac-address and --network none",
        ),
    ] {
        let out = t.sh(&flags, "true");
        assert_eq!(out.status.code(), Some(125), "{flags:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(named), "{flags:?}: {}", stderr(&out));
    }
    let out = t.ok(&["container", "ps", "-a", "-q"]);
    assert_eq!(out.lines().count(), 1, "only `fixed` exists: {out}");
    t.finish();
}

#[test]
fn nothing_is_left_after_a_killed_daemon() {
    let Some(t) = net_test() else { return };
    t.network("nt-crash", &["--subnet", "10.251.7.0/24"]);
    let port = free_port();
    t.httpd(
        "survivor",
        &["--network", "nt-crash", "-p", &format!("{port}:80")],
    );
    let loopback: IpAddr = "127.0.0.1".parse().unwrap();
    eventually("the published port does not answer", || {
        http_get(loopback, port).is_some()
    });
    let pid = t.engine.daemon_pid().expect("daemon pid");
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "the daemon survived SIGKILL");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The next command starts a new daemon, which finds both again.
    assert!(t.ok(&["network", "ls"]).contains("nt-crash"));
    assert!(t.ok(&["container", "ps"]).contains("survivor"));
    assert!(
        http_get(loopback, port).is_some(),
        "the port stopped answering after the restart"
    );
    t.finish();
}

#[test]
fn network_commands_as_docker() {
    let Some(t) = net_test() else { return };
    let id = t.network(
        "nt-cli",
        &[
            "--subnet",
            "10.251.8.0/24",
            "--gateway",
            "10.251.8.254",
            "--ip-range",
            "10.251.8.128/25",
            "--label",
            "team=core",
            "--attachable",
        ],
    );
    t.network(
        "nt-cli-internal",
        &["--subnet", "10.251.10.0/24", "--internal"],
    );
    // Docker's pseudo-networks are listed beside the default one, with
    // their running containers.
    let quiet = t.ok(&[
        "container",
        "run",
        "-d",
        "--name",
        "quiet",
        "--network",
        "none",
        "busybox",
        "sleep",
        "100",
    ]);
    assert_eq!(
        t.ok(&[
            "network",
            "ls",
            "--filter",
            "type=builtin",
            "--format",
            "{{.Name}} {{.Driver}}"
        ]),
        "bridge bridge\nhost host\nnone null\n"
    );
    let none: serde_json::Value =
        serde_json::from_str(&t.ok(&["network", "inspect", "none"])).unwrap();
    assert_eq!(none[0]["Driver"], "null", "{none}");
    assert_eq!(
        none[0]["Containers"][quiet.trim()]["Name"],
        "quiet",
        "{none}"
    );
    let none_id = none[0]["Id"].as_str().unwrap().to_owned();
    assert_eq!(none_id.len(), 64, "{none}");
    let by_id: serde_json::Value =
        serde_json::from_str(&t.ok(&["network", "inspect", &none_id[..12]])).unwrap();
    assert_eq!(by_id[0]["Name"], "none");
    let quiet: serde_json::Value =
        serde_json::from_str(&t.ok(&["container", "inspect", "quiet"])).unwrap();
    let endpoint = &quiet[0]["NetworkSettings"]["Networks"]["none"];
    assert_eq!(endpoint["NetworkID"], none_id.as_str(), "{quiet}");
    let host: serde_json::Value =
        serde_json::from_str(&t.ok(&["network", "inspect", "host"])).unwrap();
    assert_eq!(host[0]["Containers"], serde_json::json!({}), "{host}");
    assert_eq!(host[0]["IPAM"]["Config"], serde_json::json!([]), "{host}");
    t.ok(&["container", "rm", "-f", "quiet"]);
    assert_eq!(
        t.ok(&[
            "network",
            "ls",
            "-q",
            "--filter",
            "dangling=true",
            "--filter",
            "type=builtin"
        ]),
        ""
    );
    let table = t.ok(&["network", "ls"]);
    let header = table.lines().next().unwrap();
    assert!(header.starts_with("NETWORK ID     NAME"), "{table}");
    assert!(
        header.contains("DRIVER") && header.ends_with("SCOPE"),
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.starts_with(&id[..12])
            && l.contains("nt-cli ")
            && l.contains("bridge")
            && l.ends_with("local")),
        "{table}"
    );
    assert!(
        table.contains(" bridge "),
        "the default network is listed:\n{table}"
    );
    assert_eq!(
        t.ok(&[
            "network",
            "ls",
            "-q",
            "--no-trunc",
            "--filter",
            "label=team=core"
        ]),
        format!("{id}\n")
    );
    assert_eq!(
        t.ok(&[
            "network",
            "ls",
            "--filter",
            "name=nt-cli",
            "--format",
            "{{.Name}} {{.Internal}}"
        ]),
        "nt-cli false\nnt-cli-internal true\n"
    );
    let json: serde_json::Value =
        serde_json::from_str(&t.ok(&["network", "inspect", "nt-cli"])).unwrap();
    let config = &json[0]["IPAM"]["Config"][0];
    assert_eq!(config["Subnet"], "10.251.8.0/24", "{json}");
    assert_eq!(config["Gateway"], "10.251.8.254", "{json}");
    assert_eq!(config["IPRange"], "10.251.8.128/25", "{json}");
    assert_eq!(json[0]["Labels"]["team"], "core");
    assert_eq!(json[0]["Attachable"], true);
    assert_eq!(
        t.ok(&[
            "network",
            "inspect",
            "-f",
            "{{range .IPAM.Config}}{{.Gateway}}{{end}} {{.Driver}}",
            "nt-cli"
        ]),
        "10.251.8.254 bridge\n"
    );

    // Addresses come from the range; --ip picks one.
    t.httpd("ranged", &["--network", "nt-cli"]);
    let ip: std::net::Ipv4Addr = t.address("ranged", "nt-cli").parse().unwrap();
    assert!(ip.octets()[3] >= 128, "{ip} is outside --ip-range");
    let fixed = t.httpd("fixed", &["--network", "nt-cli", "--ip", "10.251.8.20"]);
    assert_eq!(t.address("fixed", "nt-cli"), "10.251.8.20");
    // The MAC address shown is the interface's own.
    let mac = t.ok(&[
        "container",
        "exec",
        "fixed",
        "cat",
        "/sys/class/net/eth0/address",
    ]);
    let mac = mac.trim();
    assert_eq!(mac.len(), 17, "{mac}");
    let shown: serde_json::Value =
        serde_json::from_str(&t.ok(&["container", "inspect", "fixed"])).unwrap();
    assert_eq!(
        shown[0]["NetworkSettings"]["Networks"]["nt-cli"]["MacAddress"], mac,
        "{shown}"
    );
    let network: serde_json::Value =
        serde_json::from_str(&t.ok(&["network", "inspect", "nt-cli"])).unwrap();
    assert_eq!(
        network[0]["Containers"][&fixed]["MacAddress"], mac,
        "{network}"
    );
    let taken = t.engine.stack(&[
        "container",
        "run",
        "-d",
        "--name",
        "dup",
        "--network",
        "nt-cli",
        "--ip",
        "10.251.8.20",
        "busybox",
        "true",
    ]);
    assert!(!taken.status.success(), "10.251.8.20 given twice");
    assert!(stderr(&taken).contains("10.251.8.20"), "{}", stderr(&taken));

    // Refusals name the network and say what to do.
    let out = t.engine.stack(&["network", "create", "nt-cli"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("nt-cli") && stderr(&out).contains("stack network rm"),
        "{}",
        stderr(&out)
    );
    let out = t.engine.stack(&[
        "network",
        "create",
        "--subnet",
        "10.251.8.0/25",
        "nt-overlap",
    ]);
    assert!(!out.status.success(), "an overlapping subnet was accepted");
    assert!(stderr(&out).contains("nt-overlap"), "{}", stderr(&out));
    let out = t.engine.stack(&["network", "rm", "nt-cli"]);
    assert_eq!(out.status.code(), Some(1), "a network in use was removed");
    assert!(
        stderr(&out).contains("nt-cli") && stderr(&out).contains("disconnect"),
        "{}",
        stderr(&out)
    );
    for name in ["bridge", "host", "none"] {
        let out = t.engine.stack(&["network", "rm", name]);
        assert_eq!(out.status.code(), Some(1), "{name} was removed");
        let expected = format!("{name} is a pre-defined network and cannot be removed");
        assert!(stderr(&out).contains(&expected), "{}", stderr(&out));
    }
    let out = t.engine.stack(&["network", "connect", "host", "fixed"]);
    assert!(
        !out.status.success() && stderr(&out).contains("--network host"),
        "{}",
        stderr(&out)
    );
    let out = t.engine.stack(&["network", "rm", "nt-missing"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("nt-missing"), "{}", stderr(&out));
    assert!(t
        .engine
        .stack(&["network", "rm", "-f", "nt-missing"])
        .status
        .success());
    let out = t.engine.stack(&[
        "network",
        "create",
        "--gateway",
        "10.251.8.1",
        "nt-nosubnet",
    ]);
    assert!(
        !out.status.success() && stderr(&out).contains("--subnet"),
        "{}",
        stderr(&out)
    );
    let out = t
        .engine
        .stack(&["container", "create", "--ip", "10.251.8.30", "busybox"]);
    assert!(
        !out.status.success() && stderr(&out).contains("--network"),
        "{}",
        stderr(&out)
    );

    // Prune removes unused user-defined networks only.
    t.ok(&["container", "rm", "-f", "ranged", "fixed"]);
    let pruned = t.ok(&["network", "prune", "-f"]);
    assert!(pruned.starts_with("Deleted Networks:\n"), "{pruned}");
    assert!(
        pruned.contains("nt-cli\n") && pruned.contains("nt-cli-internal\n"),
        "{pruned}"
    );
    assert!(!pruned.contains("bridge"), "{pruned}");
    assert_eq!(
        t.ok(&["network", "ls", "-q", "--filter", "type=custom"]),
        ""
    );
    assert!(t.ok(&["network", "ls"]).contains(" bridge "));
    t.finish();
}

/// Debian's docker client (never a Docker daemon) against our socket.
#[test]
fn the_docker_client_manages_networks() {
    let docker = "/usr/bin/docker";
    if !Path::new(docker).exists() {
        eprintln!("skipped: no {docker} (apt-get install docker.io)");
        return;
    }
    let Some(t) = net_test() else { return };
    let host = format!("unix://{}", t.engine.socket().display());
    let run = |args: &[&str]| {
        let out = Command::new(docker)
            .arg("-H")
            .arg(&host)
            .args(args)
            .env("DOCKER_CONFIG", t.engine.dir().join("docker-config"))
            .output()
            .expect("docker");
        assert!(out.status.success(), "docker {args:?}: {}", stderr(&out));
        stdout(&out)
    };
    let id = run(&[
        "network",
        "create",
        "--subnet",
        "10.251.9.0/24",
        "--label",
        "via=docker",
        "nt-docker",
    ]);
    t.networks.borrow_mut().push(id.trim().to_owned());
    let listed = run(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
    assert!(listed.lines().any(|l| l == "nt-docker bridge"), "{listed}");
    for pair in ["bridge bridge", "host host", "none null"] {
        assert!(listed.lines().any(|l| l == pair), "{listed}");
    }
    let json: serde_json::Value =
        serde_json::from_str(&run(&["network", "inspect", "nt-docker"])).unwrap();
    assert_eq!(
        json[0]["IPAM"]["Config"][0]["Subnet"], "10.251.9.0/24",
        "{json}"
    );
    assert_eq!(json[0]["Labels"]["via"], "docker", "{json}");
    // The client of API 1.41 sends --mac-address as the container's.
    let mac = run(&[
        "run",
        "--rm",
        "--network",
        "nt-docker",
        "--mac-address",
        "02:42:ac:fb:09:0a",
        "busybox",
        "cat",
        "/sys/class/net/eth0/address",
    ]);
    assert_eq!(mac, "02:42:ac:fb:09:0a\n");
    run(&[
        "run",
        "-d",
        "--name",
        "dsrv",
        "--network",
        "nt-docker",
        "--network-alias",
        "dweb",
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/www",
    ]);
    let out = run(&[
        "run",
        "--rm",
        "--network",
        "nt-docker",
        "busybox",
        "sh",
        "-c",
        "ip -4 -o addr show eth0; timeout 5 wget -q -O - http://dweb/",
    ]);
    assert!(out.contains("inet 10.251.9."), "{out}");
    assert!(out.contains("hello from the container"), "{out}");
    let port = free_port();
    run(&[
        "run",
        "-d",
        "--name",
        "dpub",
        "-p",
        &format!("127.0.0.1:{port}:80"),
        "busybox",
        "httpd",
        "-f",
        "-p",
        "80",
        "-h",
        "/www",
    ]);
    assert!(run(&["port", "dpub"]).contains(&format!("127.0.0.1:{port}")));
    eventually("docker -p does not answer", || {
        http_get("127.0.0.1".parse().unwrap(), port).is_some_and(|r| r.contains("hello"))
    });
    run(&["rm", "-f", "dsrv", "dpub"]);
    assert_eq!(run(&["network", "rm", "nt-docker"]), "nt-docker\n");
    assert!(!run(&["network", "ls"]).contains("nt-docker"));
    t.finish();
}
