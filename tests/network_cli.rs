//! Networks end to end, as root, through the real binary (issue 4's "Tests
//! and evidence"): names resolve within a network and not across; published
//! ports answer where they are bound and nowhere else; `--internal`, `none`
//! and `host`; DNS forwarding to a fake upstream the test runs on
//! 127.0.0.77; and nothing left behind after removal or a killed daemon.
//!
//! Each test has its own state root, run directory, daemon, network names
//! and subnets (10.251.x.0/24, absent from this host's routes). The tests
//! take one lock, because every engine on a host shares the nftables table
//! `ip stack`, and each compares the host's network state (the engine's
//! interfaces, named network namespaces, nftables and iptables rules, and
//! mounts) before and after. Traffic goes only to 127.0.0.0/8, to the host's
//! own primary address and to the networks the tests create.

mod common;

use common::{stderr, stdout, Engine};
use stack_engine::network::names::BridgeName;
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

static HOST_NETWORK: Mutex<()> = Mutex::new(());

/// One test's engine with the busybox image, holding the host lock, and the
/// host's state from before the engine started.
struct NetTest {
    engine: Engine,
    before: HostState,
    networks: RefCell<Vec<String>>,
    _lock: MutexGuard<'static, ()>,
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2)?.parse::<u32>().ok()
        })
        == Some(0)
}

/// A test engine, or `None` (the test is skipped) when not root or without
/// /bin/busybox, nft or iptables-save.
fn net_test() -> Option<NetTest> {
    let tools = ["/bin/busybox", "/usr/sbin/nft", "/usr/sbin/iptables-save"];
    if !is_root() || !tools.iter().all(|t| Path::new(t).exists()) {
        eprintln!("skipped: needs root, {tools:?}");
        return None;
    }
    let lock = HOST_NETWORK.lock().unwrap_or_else(|e| e.into_inner());
    let before = HostState::capture(None);
    let engine = Engine::new();
    let rootfs = engine.dir().join("rootfs");
    let bin = rootfs.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    std::fs::create_dir_all(rootfs.join("etc")).unwrap();
    std::fs::create_dir_all(rootfs.join("www")).unwrap();
    std::fs::write(rootfs.join("www/index.html"), "hello from the container\n").unwrap();
    std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
    let applets = Command::new("/bin/busybox").arg("--list").output().unwrap();
    for applet in String::from_utf8_lossy(&applets.stdout).lines() {
        if applet != "busybox" {
            std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
        }
    }
    std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    std::fs::write(rootfs.join("etc/group"), "root:x:0:\n").unwrap();
    let out = engine.stack(&[
        "image",
        "import",
        rootfs.to_str().unwrap(),
        "busybox:latest",
    ]);
    assert!(out.status.success(), "import: {}", stderr(&out));
    Some(NetTest {
        engine,
        before,
        networks: RefCell::new(Vec::new()),
        _lock: lock,
    })
}

impl NetTest {
    /// `stack ARGS`, which must succeed; its stdout.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.engine.stack(args);
        assert!(out.status.success(), "stack {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// `stack network create ARGS... NAME`, remembering the network's id so
    /// that its bridge can be removed even when the test fails.
    fn network(&self, name: &str, args: &[&str]) -> String {
        let mut all = vec!["network", "create"];
        all.extend_from_slice(args);
        all.push(name);
        let id = self.ok(&all).trim().to_owned();
        assert_eq!(id.len(), 64, "network create prints the id: {id}");
        self.networks.borrow_mut().push(id.clone());
        id
    }

    /// A detached busybox httpd serving /www on port 80, with extra `run` flags.
    fn httpd(&self, name: &str, flags: &[&str]) -> String {
        let mut args = vec!["container", "run", "-d", "--name", name];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "httpd", "-f", "-p", "80", "-h", "/www"]);
        self.ok(&args).trim().to_owned()
    }

    /// `container run --rm FLAGS busybox sh -c SCRIPT`, whatever its outcome.
    fn sh(&self, flags: &[&str], script: &str) -> Output {
        let mut args = vec!["container", "run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "sh", "-c", script]);
        self.engine.stack(&args)
    }

    /// `sh`, which must succeed; its stdout.
    fn sh_ok(&self, flags: &[&str], script: &str) -> String {
        let out = self.sh(flags, script);
        assert!(
            out.status.success(),
            "{flags:?} {script:?}: exit {:?}\n{}{}",
            out.status.code(),
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// The container's address on `network`, from inspect.
    fn address(&self, container: &str, network: &str) -> String {
        let json: serde_json::Value =
            serde_json::from_str(&self.ok(&["container", "inspect", container])).unwrap();
        let ip = &json[0]["NetworkSettings"]["Networks"][network]["IPAddress"];
        ip.as_str()
            .filter(|ip| !ip.is_empty())
            .unwrap_or_else(|| panic!("no address of {container} on {network}: {json}"))
            .to_owned()
    }

    /// Removes every container and network, stops the daemon and compares
    /// the host with its state before the test.
    fn finish(self) {
        self.remove_everything();
        self.engine.stop_daemon();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let after = HostState::capture(Some(&self.engine));
            let differences = self.before.differences(&after);
            if differences.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the host is not as before the test:\n{}",
                differences.join("\n")
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    fn remove_everything(&self) {
        let containers = stdout(&self.engine.stack(&["container", "ps", "-a", "-q"]));
        let containers: Vec<&str> = containers.split_whitespace().collect();
        if !containers.is_empty() {
            let mut args = vec!["container", "rm", "-f"];
            args.extend(containers);
            self.engine.stack(&args);
        }
        let networks =
            stdout(
                &self
                    .engine
                    .stack(&["network", "ls", "-q", "--filter", "type=custom"]),
            );
        let networks: Vec<&str> = networks.split_whitespace().collect();
        if !networks.is_empty() {
            let mut args = vec!["network", "rm"];
            args.extend(networks);
            self.engine.stack(&args);
        }
    }
}

impl Drop for NetTest {
    /// After a failure: the engine removes what it can, then whatever bridge
    /// of this test's networks is still there goes (by its derived name, so
    /// nothing of anyone else's is touched). The common harness then stops
    /// the daemon.
    fn drop(&mut self) {
        if !std::thread::panicking() {
            return;
        }
        self.remove_everything();
        self.engine.stop_daemon();
        for id in self.networks.borrow().iter() {
            let bridge = BridgeName::for_network(id);
            if Path::new("/sys/class/net").join(bridge.as_str()).exists() {
                let _ = Command::new("ip")
                    .args(["link", "del", bridge.as_str()])
                    .status();
            }
        }
    }
}

/// What the engine may change on the host, as text to compare: its own
/// interfaces (`stk-`, `stv-`, `stp-`), named network namespaces, its
/// nftables table and any rule naming it, its iptables chains, and mounts of
/// its root or of network namespaces. Counters and timestamps are dropped.
/// Other engines on this host (Docker, Podman) change their own rules
/// meanwhile; only what names `stack` or its interfaces is compared.
#[derive(Debug)]
struct HostState {
    parts: Vec<(&'static str, Vec<String>)>,
}

impl HostState {
    fn capture(engine: Option<&Engine>) -> HostState {
        let ours = |line: &str| {
            ["stk-", "stv-", "stp-", "stack", "STACK"]
                .iter()
                .any(|n| line.contains(n))
        };
        let links: Vec<String> = run_text("ip", &["-o", "link", "show"])
            .lines()
            .filter_map(|l| l.split(':').nth(1).map(|n| n.trim().to_owned()))
            .filter(|n| ours(n))
            .collect();
        let netns: Vec<String> = run_text("ip", &["netns", "list"])
            .lines()
            .filter(|l| !l.starts_with("netns-"))
            .map(str::to_owned)
            .collect();
        let nft = run_text("nft", &["list", "ruleset"]);
        let mut nft_ours = Vec::new();
        let mut in_table = false;
        for line in nft.lines() {
            if line.starts_with("table ") {
                in_table = line.split_whitespace().nth(2) == Some("stack");
            }
            if in_table || ours(line) {
                nft_ours.push(strip_counters(line));
            }
        }
        let iptables: Vec<String> = run_text("iptables-save", &[])
            .lines()
            .filter(|l| !l.starts_with('#') && ours(l))
            .map(|l| l.split(" [").next().unwrap_or(l).to_owned())
            .collect();
        let mounts: Vec<String> = std::fs::read_to_string("/proc/mounts")
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                (l.contains("/run/netns/") && !l.contains("/run/netns/netns-"))
                    || engine.is_some_and(|e| l.contains(&e.dir().display().to_string()))
            })
            .map(str::to_owned)
            .collect();
        HostState {
            parts: vec![
                ("ip link", links),
                ("ip netns", netns),
                ("nft list ruleset", nft_ours),
                ("iptables-save", iptables),
                ("/proc/mounts", mounts),
            ],
        }
    }

    /// Lines present only before (`-`) or only after (`+`), per source.
    fn differences(&self, after: &HostState) -> Vec<String> {
        let mut out = Vec::new();
        for ((source, before), (_, now)) in self.parts.iter().zip(&after.parts) {
            for line in before.iter().filter(|l| !now.contains(l)) {
                out.push(format!("{source}: - {line}"));
            }
            for line in now.iter().filter(|l| !before.contains(l)) {
                out.push(format!("{source}: + {line}"));
            }
        }
        out
    }
}

fn strip_counters(line: &str) -> String {
    let words: Vec<&str> = line.split_whitespace().collect();
    let mut kept = Vec::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "counter" && words.get(1 + i) == Some(&"packets") {
            i += 5;
        } else {
            kept.push(words[i]);
            i += 1;
        }
    }
    kept.join(" ")
}

fn run_text(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| stdout(&o))
        .unwrap_or_default()
}

/// The host's primary IPv4 address: the one on the default route's device.
fn primary_address() -> IpAddr {
    let route = run_text("ip", &["-4", "route", "show", "default"]);
    let device = route
        .split_whitespace()
        .skip_while(|w| *w != "dev")
        .nth(1)
        .expect("a default route with a device")
        .to_owned();
    let addr = run_text("ip", &["-4", "-o", "addr", "show", "dev", &device]);
    let cidr = addr
        .split_whitespace()
        .skip_while(|w| *w != "inet")
        .nth(1)
        .expect("an IPv4 address on the default route's device");
    cidr.split('/').next().unwrap().parse().unwrap()
}

/// A port no one listens on right now (TCP and UDP, on every address).
fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("0.0.0.0:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("0.0.0.0", port)).is_ok() {
            return port;
        }
    }
}

/// `GET /` over plain TCP: the response, or `None` when nothing answers
/// within 3 seconds.
fn http_get(ip: IpAddr, port: u16) -> Option<String> {
    let address = SocketAddr::new(ip, port);
    let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(3)).ok()?;
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .unwrap();
    stream
        .write_all(b"GET / HTTP/1.0\r\nHost: test\r\n\r\n")
        .ok()?;
    let mut response = String::new();
    stream.read_to_string(&mut response).ok()?;
    (!response.is_empty()).then_some(response)
}

/// Retries `check` for up to 10 seconds (a server in a container that was
/// just started may not listen yet).
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn names_resolve_within_a_network_and_not_across() {
    let Some(t) = net_test() else { return };
    t.network("nt-front", &["--subnet", "10.251.1.0/24"]);
    t.network("nt-back", &["--subnet", "10.251.2.0/24"]);
    t.httpd("web", &["--network", "nt-front", "--network-alias", "www"]);
    t.httpd("api", &["--network", "nt-back"]);
    let web = t.address("web", "nt-front");
    assert!(web.starts_with("10.251.1."), "{web}");
    let get = "wget -q -T 3 -O - http://";
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
    t.ok(&["container", "create", "--name", "late", "busybox", "true"]);
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

    // Disconnected, it no longer resolves the other network's names.
    t.ok(&["network", "disconnect", "nt-back", "both"]);
    let inspect: serde_json::Value =
        serde_json::from_str(&t.ok(&["network", "inspect", "nt-back"])).unwrap();
    let endpoints = inspect[0]["Containers"]
        .as_object()
        .cloned()
        .unwrap_or_default();
    assert_eq!(endpoints.len(), 1, "only api stays on nt-back: {inspect}");
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

    // UDP.
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
        "busybox",
        "nc",
        "-u",
        "-l",
        "-p",
        "9999",
    ]);
    let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
    eventually("no datagram reached the container", || {
        let _ = socket.send_to(b"datagram-over-udp\n", ("127.0.0.1", udp_port));
        std::thread::sleep(Duration::from_millis(200));
        t.ok(&["container", "logs", "udp"])
            .contains("datagram-over-udp")
    });
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
    let fetch = format!("wget -q -T 3 -O - http://{primary}:{port}/");
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
    t.finish();
}

/// A DNS server on 127.0.0.77:53 that answers `known.upstream.test` with
/// 10.251.99.7 and NXDOMAIN for everything else, recording each question.
struct FakeUpstream {
    questions: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeUpstream {
    fn start() -> FakeUpstream {
        let socket = UdpSocket::bind("127.0.0.77:53").expect("bind 127.0.0.77:53");
        socket
            .set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let questions = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (questions, stop) = (Arc::clone(&questions), Arc::clone(&stop));
            std::thread::spawn(move || {
                let mut buf = [0u8; 512];
                while !stop.load(Ordering::Relaxed) {
                    let Ok((len, from)) = socket.recv_from(&mut buf) else {
                        continue;
                    };
                    if let Some((name, reply)) = dns_reply(&buf[..len]) {
                        questions.lock().unwrap().push(name);
                        let _ = socket.send_to(&reply, from);
                    }
                }
            })
        };
        FakeUpstream {
            questions,
            stop,
            thread: Some(thread),
        }
    }

    fn questions(&self) -> Vec<String> {
        self.questions.lock().unwrap().clone()
    }
}

impl Drop for FakeUpstream {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// The fake upstream's answer to one query: (question name, reply).
fn dns_reply(query: &[u8]) -> Option<(String, Vec<u8>)> {
    let mut at = 12;
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*query.get(at)?);
        at += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(query.get(at..at + len)?).to_lowercase());
        at += len;
    }
    let qtype = u16::from_be_bytes([*query.get(at)?, *query.get(at + 1)?]);
    let question_end = at + 4;
    let name = labels.join(".");
    let known = name == "known.upstream.test";
    let answer = known && qtype == 1;
    let mut reply = query.get(..2)?.to_vec();
    let rcode = if known { 0 } else { 3 };
    reply.extend_from_slice(&[0x81, 0x80 | rcode, 0, 1, 0, u8::from(answer), 0, 0, 0, 0]);
    reply.extend_from_slice(query.get(12..question_end)?);
    if answer {
        reply.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 251, 99, 7]);
    }
    Some((name, reply))
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
        sections[0].contains("asker"),
        "its own name in /etc/hosts: {}",
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
    t.httpd("fixed", &["--network", "nt-cli", "--ip", "10.251.8.20"]);
    assert_eq!(t.address("fixed", "nt-cli"), "10.251.8.20");
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
    assert!(listed.lines().any(|l| l == "bridge bridge"), "{listed}");
    let json: serde_json::Value =
        serde_json::from_str(&run(&["network", "inspect", "nt-docker"])).unwrap();
    assert_eq!(
        json[0]["IPAM"]["Config"][0]["Subnet"], "10.251.9.0/24",
        "{json}"
    );
    assert_eq!(json[0]["Labels"]["via"], "docker", "{json}");
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
        "ip -4 -o addr show eth0; wget -q -T 3 -O - http://dweb/",
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
