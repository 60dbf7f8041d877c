//! What the network tests share: an engine per test holding one lock (they
//! compare host-wide state), the host's network state before and after,
//! small clients and servers (HTTP over TCP, a UDP echo, a fake upstream DNS
//! server) and a cleanup that removes the test's bridges by name when a test
//! fails.

use crate::common::{
    cgroup_dirs, cgroup_parent, is_root, processes_naming, stderr, stdout, Engine,
};
use stack_engine::network::names::BridgeName;
use std::cell::RefCell;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

pub static HOST_NETWORK: Mutex<()> = Mutex::new(());

/// One test's engine with the busybox image, holding the host lock, and the
/// host's state from before the engine started.
pub struct NetTest {
    pub engine: Engine,
    before: HostState,
    pub networks: RefCell<Vec<String>>,
    _lock: MutexGuard<'static, ()>,
}

/// A test engine, or `None` (the test is skipped) when not root or without
/// /bin/busybox, nft or iptables-save.
pub fn net_test() -> Option<NetTest> {
    let tools = ["/bin/busybox", "/usr/sbin/nft", "/usr/sbin/iptables-save"];
    if !is_root() || !tools.iter().all(|t| Path::new(t).exists()) {
        eprintln!("skipped: needs root, {tools:?}");
        return None;
    }
    let lock = HOST_NETWORK.lock().unwrap_or_else(|e| e.into_inner());
    let engine = Engine::new();
    let before = HostState::capture(&engine, &[]);
    engine.import_busybox(&[("www/index.html", "hello from the container\n")]);
    Some(NetTest {
        engine,
        before,
        networks: RefCell::new(Vec::new()),
        _lock: lock,
    })
}

impl NetTest {
    /// `stack ARGS`, which must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.engine.stack(args);
        assert!(out.status.success(), "stack {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// `stack network create ARGS... NAME`, remembering the network's id so
    /// that its bridge can be removed even when the test fails.
    pub fn network(&self, name: &str, args: &[&str]) -> String {
        let mut all = vec!["network", "create"];
        all.extend_from_slice(args);
        all.push(name);
        let id = self.ok(&all).trim().to_owned();
        assert_eq!(id.len(), 64, "network create prints the id: {id}");
        self.networks.borrow_mut().push(id.clone());
        id
    }

    /// A detached busybox httpd serving /www on port 80, with extra `run` flags.
    pub fn httpd(&self, name: &str, flags: &[&str]) -> String {
        let mut args = vec!["container", "run", "-d", "--name", name];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "httpd", "-f", "-p", "80", "-h", "/www"]);
        let id = self.ok(&args).trim().to_owned();
        // With a container on a network, the engine's table exists: proof
        // that `table_name` finds it, so the comparison in `finish` sees it.
        let table = format!("table ip {}", table_name(&self.engine));
        assert!(
            run_text("nft", &["list", "tables"]).contains(&table),
            "no {table}: the host comparison would not see this engine's rules"
        );
        id
    }

    /// `container run --rm FLAGS busybox sh -c SCRIPT`, whatever its outcome.
    pub fn sh(&self, flags: &[&str], script: &str) -> Output {
        // The trailing `exit` keeps sh from exec'ing the last command as PID
        // 1, which ignores the SIGTERM of `timeout`.
        let script = format!("{script}\nexit $?");
        let mut args = vec!["container", "run", "--rm"];
        args.extend_from_slice(flags);
        args.extend_from_slice(&["busybox", "sh", "-c", &script]);
        self.engine.stack(&args)
    }

    /// `sh`, which must succeed; its stdout.
    pub fn sh_ok(&self, flags: &[&str], script: &str) -> String {
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
    pub fn address(&self, container: &str, network: &str) -> String {
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
    pub fn finish(self) {
        self.remove_everything();
        self.engine.stop_daemon();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let after = HostState::capture(&self.engine, &self.networks.borrow());
            let mut differences = self.before.differences(&after);
            differences.extend(
                processes_naming(&self.engine.root())
                    .iter()
                    .map(|pid| format!("process {pid} still names the engine's root")),
            );
            differences.extend(
                cgroup_dirs(&cgroup_parent(&self.engine.root()))
                    .iter()
                    .map(|dir| format!("cgroup {} is left", dir.display())),
            );
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

    pub fn remove_everything(&self) {
        // The default network's id too: its bridge is this engine's.
        let ids = stdout(&self.engine.stack(&["network", "ls", "-q", "--no-trunc"]));
        for id in ids.split_whitespace() {
            if !self.networks.borrow().iter().any(|n| n == id) {
                self.networks.borrow_mut().push(id.to_owned());
            }
        }
        let containers = stdout(&self.engine.stack(&["container", "ps", "-a", "-q"]));
        let containers: Vec<&str> = containers.split_whitespace().collect();
        if !containers.is_empty() {
            let mut args = vec!["container", "rm", "-f"];
            args.extend(containers);
            self.engine.stack(&args);
        }
        let networks = stdout(
            &self
                .engine
                .stack(&["network", "ls", "--format", "{{.Name}}"]),
        );
        let networks: Vec<&str> = networks
            .split_whitespace()
            .filter(|n| !["bridge", "host", "none"].contains(n))
            .collect();
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

/// The nft table of the daemon serving `engine`'s root: `stack_` and the
/// first 8 hex digits of the root's sha256 (as the engine names it).
pub fn table_name(engine: &Engine) -> String {
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("sha256sum");
    let root = engine.root().display().to_string();
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(root.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("sha256sum");
    format!("stack_{}", &stdout(&out)[..8])
}

/// What one engine may change on the host, as text to compare: the bridges
/// of its networks and veths on them (or on no bridge: a leaked veth),
/// named network namespaces, its nftables table and any other rule naming
/// its bridges, its iptables chain, and mounts under its directory or of
/// network namespaces. Counters and timestamps are dropped. Other engines
/// on this host (Docker, Podman, other `stack` daemons) change their own
/// state meanwhile and are left out.
#[derive(Debug)]
pub struct HostState {
    parts: Vec<(&'static str, Vec<String>)>,
}

impl HostState {
    /// The state as `engine` (whose networks are `network_ids`) sees it.
    pub fn capture(engine: &Engine, network_ids: &[String]) -> HostState {
        let bridges: Vec<String> = network_ids
            .iter()
            .map(|id| BridgeName::for_network(id).as_str().to_owned())
            .collect();
        let table = table_name(engine);
        let chain = format!("STACK-FWD-{}", &table["stack_".len()..]);
        let names_a_bridge = |line: &str| bridges.iter().any(|b| line.contains(b.as_str()));
        let links: Vec<String> = run_text("ip", &["-o", "link", "show"])
            .lines()
            .filter(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                let name = words.get(1).map_or("", |n| n.trim_end_matches(':'));
                let name = name.split('@').next().unwrap_or(name);
                let master = words
                    .iter()
                    .position(|w| *w == "master")
                    .and_then(|i| words.get(i + 1));
                bridges.iter().any(|b| b == name)
                    || (name.starts_with("stv-")
                        && master.is_none_or(|m| bridges.iter().any(|b| b == m)))
            })
            .map(|l| l.split_whitespace().nth(1).unwrap_or_default().to_owned())
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
                in_table = line.split_whitespace().nth(2) == Some(table.as_str());
            }
            if in_table || names_a_bridge(line) {
                nft_ours.push(strip_counters(line));
            }
        }
        let iptables: Vec<String> = run_text("iptables-save", &[])
            .lines()
            .filter(|l| !l.starts_with('#') && (l.contains(&chain) || names_a_bridge(l)))
            .map(|l| l.split(" [").next().unwrap_or(l).to_owned())
            .collect();
        let dir = engine.dir().display().to_string();
        let mounts: Vec<String> = std::fs::read_to_string("/proc/mounts")
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                // The host's named namespaces (not Podman's `netns-…`)
                // and anything under this engine's directory.
                let point = l.split_whitespace().nth(1).unwrap_or_default();
                (point.starts_with("/run/netns/") && !point.starts_with("/run/netns/netns-"))
                    || l.contains(&dir)
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
    ///
    /// Interfaces only count when added: a veth on no bridge in the first
    /// capture is another engine's, between its creation and its move into
    /// a container.
    pub fn differences(&self, after: &HostState) -> Vec<String> {
        let mut out = Vec::new();
        for ((source, before), (_, now)) in self.parts.iter().zip(&after.parts) {
            let gone = before.iter().filter(|l| !now.contains(l));
            for line in gone.filter(|_| *source != "ip link") {
                out.push(format!("{source}: - {line}"));
            }
            for line in now.iter().filter(|l| !before.contains(l)) {
                out.push(format!("{source}: + {line}"));
            }
        }
        out
    }
}

pub fn strip_counters(line: &str) -> String {
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

pub fn run_text(program: &str, args: &[&str]) -> String {
    Command::new(program)
        .args(args)
        .output()
        .map(|o| stdout(&o))
        .unwrap_or_default()
}

/// The host's primary IPv4 address: the one on the default route's device.
pub fn primary_address() -> IpAddr {
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
pub fn free_port() -> u16 {
    loop {
        let tcp = TcpListener::bind("0.0.0.0:0").unwrap();
        let port = tcp.local_addr().unwrap().port();
        if UdpSocket::bind(("0.0.0.0", port)).is_ok() {
            return port;
        }
    }
}

/// A static UDP echo server (busybox has none), built with the C compiler
/// that linking Rust needs anyway; `udp-echo PORT` answers each datagram
/// with itself.
pub fn udp_echo_binary(dir: &Path) -> std::path::PathBuf {
    let source = dir.join("udp-echo.c");
    std::fs::write(
        &source,
        r#"#include <netinet/in.h>
#include <stdlib.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons(argc > 1 ? atoi(argv[1]) : 9999);
    if (s < 0 || bind(s, (struct sockaddr *)&a, sizeof a) != 0) return 1;
    for (;;) {
        char buf[1500];
        struct sockaddr_in from;
        socklen_t len = sizeof from;
        ssize_t n = recvfrom(s, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
        if (n >= 0) sendto(s, buf, n, 0, (struct sockaddr *)&from, len);
    }
}
"#,
    )
    .unwrap();
    let binary = dir.join("udp-echo");
    let out = Command::new("cc")
        .args(["-static", "-O2", "-o"])
        .arg(&binary)
        .arg(&source)
        .output()
        .expect("cc");
    assert!(out.status.success(), "cc udp-echo.c: {}", stderr(&out));
    binary
}

/// `GET /` over plain TCP: the response, or `None` when nothing answers
/// within 3 seconds.
pub fn http_get(ip: IpAddr, port: u16) -> Option<String> {
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
pub fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(Instant::now() < deadline, "{what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A DNS server on 127.0.0.77:53 that answers `known.upstream.test` with
/// 10.251.99.7 and NXDOMAIN for everything else, recording each question.
pub struct FakeUpstream {
    questions: Arc<Mutex<Vec<String>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeUpstream {
    pub fn start() -> FakeUpstream {
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

    pub fn questions(&self) -> Vec<String> {
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
pub fn dns_reply(query: &[u8]) -> Option<(String, Vec<u8>)> {
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
