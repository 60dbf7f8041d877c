//! The daemon on a host without `nft`, end to end, as root: its firewall
//! rules go into iptables chains of its own, `/info` says so, published
//! ports, isolation and internal networks behave as with nftables, and
//! removal leaves `iptables-save` exactly as it was.
//!
//! The daemon runs inside a network namespace this test creates (started
//! there by `nsenter --net=… stack`), standing in for the host, with
//! `STACK_NFT` pointing at a missing program; so the real host's rules are
//! never touched. A second namespace plays a machine outside the host.
//! Traffic goes only to 127.0.0.1 and addresses of these namespaces and of
//! the test's networks.

mod common;

use common::{is_root, stderr, stdout, Engine};
use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const HOST_IP: &str = "10.215.0.1";
const OUTSIDE_IP: &str = "10.215.0.2";

/// Namespaces created with `ip netns add`, deleted on drop, and processes
/// the test started in them, killed first.
struct Namespaces {
    names: Vec<String>,
    children: Vec<Child>,
}

impl Namespaces {
    fn create(count: usize) -> Self {
        let mut made = Self {
            names: Vec::new(),
            children: Vec::new(),
        };
        for i in 0..count {
            let name = format!("stkt-{}-fb-{i}", std::process::id());
            run("ip", &["netns", "add", &name]);
            made.names.push(name.clone());
            run("ip", &["-n", &name, "link", "set", "lo", "up"]);
        }
        made
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(out.status.success(), "{program} {args:?}: {}", stderr(&out));
    stdout(&out)
}

/// `nsenter` into the network namespace `ns` only: unlike `ip netns exec`,
/// which mounts a /sys of its own, the cgroup file systems stay visible,
/// and the daemon needs them.
fn nsenter(ns: &str) -> Command {
    let mut command = Command::new("nsenter");
    command.arg(format!("--net=/run/netns/{ns}"));
    command
}

/// `PROGRAM ARGS` inside the namespace `ns`.
fn in_ns(ns: &str, program: &str, args: &[&str]) -> Output {
    nsenter(ns).arg(program).args(args).output().unwrap()
}

/// `iptables-save` inside `ns`, without comments and counters.
fn iptables_save(ns: &str) -> String {
    let out = in_ns(ns, "iptables-save", &[]);
    assert!(out.status.success(), "iptables-save: {}", stderr(&out));
    stdout(&out)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(" [").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `curl` of `url` from inside `ns`: the body, or `None` when nothing
/// answers within 3 seconds.
fn get(ns: &str, url: &str) -> Option<String> {
    let out = in_ns(ns, "curl", &["-sf", "-m", "3", url]);
    out.status.success().then(|| stdout(&out))
}

/// The test's engine, whose daemon runs inside the namespace `ns`.
struct Daemon<'a> {
    engine: Engine,
    ns: &'a str,
}

impl Daemon<'_> {
    /// `stack ARGS` from inside the namespace (the first call starts the
    /// daemon there), with no `nft` to be found.
    fn stack(&self, args: &[&str]) -> Output {
        let mut command = nsenter(self.ns);
        command.arg(env!("CARGO_BIN_EXE_stack")).args(args);
        self.engine.env(&mut command);
        command.env("STACK_NFT", "/nonexistent/stack-test/nft");
        command.output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> String {
        let out = self.stack(args);
        assert!(out.status.success(), "stack {args:?}: {}", stderr(&out));
        stdout(&out)
    }

    /// `container run --rm --network NETWORK busybox wget URL` succeeded
    /// within 3 seconds (`timeout`: Debian's static busybox crashes on
    /// `wget -T`; the trailing `exit` keeps sh as PID 1, so that wget is
    /// not, and dies of the SIGTERM of `timeout`).
    fn reaches(&self, network: &str, url: &str) -> bool {
        let script = format!("timeout 3 wget -q -O - {url}\nexit $?");
        let args = [
            "container",
            "run",
            "--rm",
            "--network",
            network,
            "busybox",
            "sh",
            "-c",
            &script,
        ];
        self.stack(&args).status.success()
    }

    /// `GET /info` on the daemon's socket.
    fn info(&self) -> serde_json::Value {
        let socket = self.engine.socket();
        let body = run(
            "curl",
            &[
                "-sf",
                "--unix-socket",
                socket.to_str().unwrap(),
                "http://stack/info",
            ],
        );
        serde_json::from_str(&body).unwrap()
    }

    fn remove_everything(&self) {
        let ids = stdout(&self.stack(&["container", "ps", "-a", "-q"]));
        let ids: Vec<&str> = ids.split_whitespace().collect();
        if !ids.is_empty() {
            let mut args = vec!["container", "rm", "-f"];
            args.extend(ids);
            self.stack(&args);
        }
        for network in ["fb-a", "fb-b", "fb-int"] {
            self.stack(&["network", "rm", network]);
        }
    }
}

impl Drop for Daemon<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.remove_everything();
        }
        self.engine.stop_daemon();
    }
}

#[test]
fn without_nft_the_daemon_uses_iptables_chains_of_its_own() {
    let tools = ["/bin/busybox", "/usr/bin/curl", "/usr/sbin/iptables-save"];
    if !is_root() || !tools.iter().all(|t| Path::new(t).exists()) {
        eprintln!("skipped: needs root, {tools:?}");
        return;
    }
    let mut ns = Namespaces::create(2);
    let (host, outside) = (ns.names[0].clone(), ns.names[1].clone());
    // The "host": a link to the outside machine, and rules of its own in
    // both tables the engine uses.
    run(
        "ip",
        &[
            "-n", &host, "link", "add", "stk-fbo0", "type", "veth", "peer", "name", "stk-fbo1",
            "netns", &outside,
        ],
    );
    run(
        "ip",
        &[
            "-n",
            &host,
            "addr",
            "add",
            "10.215.0.1/24",
            "dev",
            "stk-fbo0",
        ],
    );
    run("ip", &["-n", &host, "link", "set", "stk-fbo0", "up"]);
    run(
        "ip",
        &[
            "-n",
            &outside,
            "addr",
            "add",
            "10.215.0.2/24",
            "dev",
            "stk-fbo1",
        ],
    );
    run("ip", &["-n", &outside, "link", "set", "stk-fbo1", "up"]);
    for rule in [
        "-A FORWARD -s 198.51.100.0/24 -j ACCEPT",
        "-t nat -A POSTROUTING -s 198.51.100.0/24 -j MASQUERADE",
    ] {
        let args: Vec<&str> = rule.split(' ').collect();
        let out = in_ns(&host, "iptables", &args);
        assert!(out.status.success(), "iptables {rule}: {}", stderr(&out));
    }
    let before = iptables_save(&host);
    let www = tempfile::tempdir().unwrap();
    std::fs::write(www.path().join("index.html"), "outside\n").unwrap();
    let server = nsenter(&outside)
        .args(["/bin/busybox", "httpd", "-f"])
        .args(["-p", "7070", "-h", www.path().to_str().unwrap()])
        .spawn()
        .unwrap();
    ns.children.push(server);

    let daemon = Daemon {
        engine: Engine::new(),
        ns: &host,
    };
    daemon.ok(&["network", "ls"]);
    daemon
        .engine
        .import_busybox(&[("www/index.html", "hello from the container\n")]);
    daemon.ok(&["network", "create", "fb-a"]);
    daemon.ok(&["network", "create", "fb-b"]);
    daemon.ok(&["network", "create", "--internal", "fb-int"]);
    let httpd = ["busybox", "httpd", "-f", "-p", "80", "-h", "/www"];
    for (name, publish) in [("fb-web", "18080:80"), ("fb-local", "127.0.0.1:18081:80")] {
        let mut args = vec!["container", "run", "-d", "--name", name];
        args.extend(["--network", "fb-a", "-p", publish]);
        args.extend(httpd);
        daemon.ok(&args);
    }

    let info = daemon.info();
    let firewall = &info["FirewallBackend"];
    assert_eq!(firewall["Driver"], "iptables", "{firewall}");
    assert!(
        firewall["Info"][0][1]
            .as_str()
            .is_some_and(|rules| rules.contains("iptables chains STACK-FWD-")),
        "{firewall}"
    );
    let chains = stdout(&in_ns(&host, "iptables", &["-S", "FORWARD"]));
    assert!(chains.contains("-A FORWARD -j STACK-FWD-"), "{chains}");

    // Published on all addresses: the host's loopback, its other address,
    // the outside machine. On 127.0.0.1 only: nowhere else.
    let hello = Some("hello from the container\n".to_owned());
    let answers = |ns: &str, url: &str| {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let got = get(ns, url);
            if got == hello || Instant::now() > deadline {
                return got;
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    };
    assert_eq!(answers(&host, "http://127.0.0.1:18080/"), hello);
    assert_eq!(answers(&host, &format!("http://{HOST_IP}:18080/")), hello);
    assert_eq!(
        answers(&outside, &format!("http://{HOST_IP}:18080/")),
        hello
    );
    assert_eq!(answers(&host, "http://127.0.0.1:18081/"), hello);
    assert_eq!(get(&host, &format!("http://{HOST_IP}:18081/")), None);
    assert_eq!(get(&outside, &format!("http://{HOST_IP}:18081/")), None);

    // Isolation: the server is reachable from its own network only.
    let inspect: serde_json::Value =
        serde_json::from_str(&daemon.ok(&["container", "inspect", "fb-web"])).unwrap();
    let web_ip = inspect[0]["NetworkSettings"]["Networks"]["fb-a"]["IPAddress"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(daemon.reaches("fb-a", &format!("http://{web_ip}/")));
    assert!(!daemon.reaches("fb-b", &format!("http://{web_ip}/")));
    // Outbound: masqueraded from a network (the outside machine has no
    // route back to it), none from an internal one.
    let out_url = format!("http://{OUTSIDE_IP}:7070/");
    assert!(daemon.reaches("fb-a", &out_url));
    assert!(!daemon.reaches("fb-int", &out_url));

    daemon.remove_everything();
    daemon.engine.stop_daemon();
    let deadline = Instant::now() + Duration::from_secs(5);
    while iptables_save(&host) != before && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(iptables_save(&host), before);
}
