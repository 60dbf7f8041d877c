//! Container networking for real, as root, inside network namespaces this
//! test creates (`ip netns add` with unique names, deleted at the end).
//!
//! Each scenario builds one outer namespace that plays the host (bridges,
//! the `ip stack` table, iptables) and a namespace per "container", so the
//! real host's interfaces, routes and firewall are never touched. Traffic
//! goes only to addresses of these namespaces and to 127.0.0.1 inside the
//! outer one. Skips (with a message) unless run as root with `ip` and `nft`.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use ipnet::Ipv4Net;
use stack_engine::network::firewall::apply::{self, ForwardPolicy, Tools};
use stack_engine::network::firewall::iptables::{IptablesChains, IptablesForward};
use stack_engine::network::firewall::rules::{self, FirewallNetwork, PortForward, Protocol};
use stack_engine::network::firewall::sync::{self, Driver, HostFirewall};
use stack_engine::network::ipam::{
    plan_network, AddressBook, NetworkAddressing, PoolEntry, SubnetPool, SubnetRequest, TakenSubnet,
};
use stack_engine::network::link::{self, EndpointSpec, Netlink, Netns};
use stack_engine::network::names::{BridgeName, IfName, VethNames};

/// Where `ip netns add` puts its namespace files.
const NETNS_DIR: &str = "/run/netns";
const PROC_SYS_IPV4: &str = "/proc/sys/net/ipv4";

fn skip_reason() -> Option<&'static str> {
    if !rustix::process::geteuid().is_root() {
        return Some("needs root");
    }
    if Command::new("ip").arg("-V").output().is_err() {
        return Some("needs `ip` (apt-get install iproute2)");
    }
    if apply::detect_nft(&Tools::default()).is_err() {
        return Some("needs `nft` (apt-get install nftables)");
    }
    None
}

fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Namespaces created with `ip netns add`, deleted on drop (also when the
/// test fails halfway).
struct Namespaces {
    names: Vec<String>,
}

impl Namespaces {
    fn create(tag: &str, count: usize) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let names: Vec<String> = (0..count)
            .map(|i| format!("stkt-{}-{tag}{n}-{i}", std::process::id()))
            .collect();
        let mut made = Self { names: Vec::new() };
        for name in names {
            run("ip", &["netns", "add", &name]);
            made.names.push(name.clone());
            // As the daemon's namespaces have it from their creation.
            run("ip", &["-n", &name, "link", "set", "lo", "up"]);
        }
        made
    }

    fn name(&self, i: usize) -> &str {
        &self.names[i]
    }

    fn path(&self, i: usize) -> PathBuf {
        Path::new(NETNS_DIR).join(&self.names[i])
    }
}

impl Drop for Namespaces {
    fn drop(&mut self) {
        for name in &self.names {
            let _ = Command::new("ip").args(["netns", "del", name]).status();
        }
    }
}

/// Runs `f` on a thread inside the namespace at `path`.
fn in_netns<R: Send>(path: &Path, f: impl FnOnce() -> R + Send) -> R {
    Netns::open(path).unwrap().run_in(f).unwrap()
}

/// A TCP server in a namespace that answers every connection with its
/// greeting, until dropped.
struct Server {
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// A TCP server on `port`.
    fn start(netns: &Path, port: u16, greeting: &'static str) -> Self {
        Self::spawn(netns, move |stop, ready| {
            let listener = TcpListener::bind(("0.0.0.0", port)).unwrap();
            listener.set_nonblocking(true).unwrap();
            ready();
            while !stop.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((mut stream, _)) => {
                        let _ = stream.write_all(greeting.as_bytes());
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        })
    }

    /// A UDP server on `port` that answers every datagram with `greeting`.
    fn start_udp(netns: &Path, port: u16, greeting: &'static str) -> Self {
        Self::spawn(netns, move |stop, ready| {
            let socket = UdpSocket::bind(("0.0.0.0", port)).unwrap();
            socket.set_nonblocking(true).unwrap();
            ready();
            let mut buf = [0u8; 64];
            while !stop.load(Ordering::Relaxed) {
                match socket.recv_from(&mut buf) {
                    Ok((_, from)) => {
                        let _ = socket.send_to(greeting.as_bytes(), from);
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        })
    }

    /// Runs `serve` on a thread inside `netns`; returns once it called
    /// `ready`.
    fn spawn(netns: &Path, serve: impl FnOnce(&AtomicBool, &dyn Fn()) + Send + 'static) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let netns = Netns::open(netns).unwrap();
        let flag = stop.clone();
        let thread = std::thread::spawn(move || {
            netns
                .run_in(|| serve(&flag, &|| ready_tx.send(()).unwrap()))
                .unwrap();
        });
        ready_rx.recv().unwrap();
        Self {
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Connects from the namespace at `netns` to `addr` and returns the
/// greeting, or the error (a dropped packet shows as a timeout).
fn fetch(netns: &Path, addr: SocketAddr) -> Result<String, String> {
    in_netns(netns, || {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_millis(800))
            .map_err(|e| e.to_string())?;
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut text = String::new();
        stream
            .read_to_string(&mut text)
            .map_err(|e| e.to_string())?;
        Ok(text)
    })
}

/// Sends one datagram from the namespace at `netns` to `addr` and returns
/// the answer.
fn ask_udp(netns: &Path, addr: SocketAddr) -> Result<String, String> {
    in_netns(netns, || {
        let socket = UdpSocket::bind(("0.0.0.0", 0)).map_err(|e| e.to_string())?;
        socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        socket.send_to(b"?", addr).map_err(|e| e.to_string())?;
        let mut buf = [0u8; 64];
        let n = socket.recv(&mut buf).map_err(|e| e.to_string())?;
        Ok(String::from_utf8_lossy(&buf[..n]).into_owned())
    })
}

fn sock(ip: Ipv4Addr, port: u16) -> SocketAddr {
    SocketAddr::from((ip, port))
}

/// A network of the scenario: its bridge, addressing and address book.
struct TestNetwork {
    bridge: BridgeName,
    book: AddressBook,
    internal: bool,
}

impl TestNetwork {
    fn addressing(&self) -> NetworkAddressing {
        *self.book.addressing()
    }

    fn firewall(&self) -> FirewallNetwork {
        FirewallNetwork {
            bridge: self.bridge.clone(),
            subnet: self.addressing().subnet,
            internal: self.internal,
        }
    }
}

/// Plans `count` networks from a pool of the test's own (10.213.0.0/16 in
/// /24s), avoiding the outer namespace's routes, and creates their bridges.
async fn create_networks(nl: &Netlink, tag: &str, count: usize) -> Vec<TestNetwork> {
    let pool = SubnetPool::new(vec![
        PoolEntry::new("10.213.0.0/16".parse().unwrap(), 24).unwrap()
    ]);
    let routes = nl.ipv4_routes().await.unwrap();
    let mut taken: Vec<TakenSubnet> = Vec::new();
    let mut networks = Vec::new();
    for i in 0..count {
        let id = format!("{tag}-{}-{i}", std::process::id());
        let addressing = plan_network(&pool, &SubnetRequest::default(), &routes, &taken).unwrap();
        taken.push(TakenSubnet {
            subnet: addressing.subnet,
            network: id.clone(),
        });
        let bridge = BridgeName::for_network(&id);
        nl.create_bridge(bridge.ifname(), addressing.gateway_net(), 1500)
            .await
            .unwrap();
        // Creating an existing bridge again is accepted (daemon restarts).
        nl.create_bridge(bridge.ifname(), addressing.gateway_net(), 1500)
            .await
            .unwrap();
        link::set_route_localnet(&Path::new(PROC_SYS_IPV4).join("conf"), bridge.ifname()).unwrap();
        networks.push(TestNetwork {
            bridge,
            book: AddressBook::new(addressing),
            internal: false,
        });
    }
    networks
}

/// Attaches the container namespace at `netns` to `network` as
/// `eth<index>` (the first network gets the default route) and returns its
/// address and veth names.
async fn attach(
    nl: &Netlink,
    network: &mut TestNetwork,
    container: &str,
    netns: &Path,
    index: u16,
) -> (Ipv4Addr, VethNames) {
    let addr = network.book.allocate(container, None).unwrap();
    let addressing = network.addressing();
    let veth = VethNames::for_endpoint(container, network.bridge.as_str());
    let ns = Netns::open(netns).unwrap();
    let spec = EndpointSpec {
        bridge: network.bridge.ifname(),
        veth: &veth,
        netns: &ns,
        ifname: &IfName::container(index),
        address: Ipv4Net::new(addr, addressing.subnet.prefix_len()).unwrap(),
        default_route: (index == 0).then_some(addressing.gateway),
        mtu: 1500,
        mac: None,
    };
    let mac = link::attach_endpoint(nl, &spec).await.unwrap();
    // The address returned is the one the interface has inside.
    let shown = run(
        "nsenter",
        &[
            &format!("--net={}", netns.display()),
            "ip",
            "-br",
            "link",
            "show",
            "dev",
            IfName::container(index).as_str(),
        ],
    );
    assert_eq!(
        shown.split_whitespace().nth(2),
        Some(mac.as_str()),
        "{shown}"
    );
    (addr, veth)
}

fn set_loopback_up() {
    run("ip", &["link", "set", "lo", "up"]);
}

/// What must be exactly the same before and after a scenario in the outer
/// namespace (the thread calling this must be inside it).
fn outer_snapshot() -> String {
    format!(
        "{}{}",
        run("ip", &["-br", "link"]),
        run("nft", &["list", "ruleset"])
    )
}

/// Links and tables of the real host that carry our names, and the
/// namespaces of the scenario `tag` (other tests run in parallel).
fn host_leftovers(tag: &str) -> (Vec<String>, bool, Vec<String>) {
    let links = run("ip", &["-o", "link"])
        .lines()
        .filter_map(|l| l.split(": ").nth(1))
        .map(|n| n.split('@').next().unwrap_or(n).to_owned())
        .filter(|n| n.starts_with("stk-") || n.starts_with("stv-"))
        .collect();
    let table = run("nft", &["list", "tables"]).contains("table ip stack");
    let netns = run("ip", &["netns", "list"])
        .lines()
        .filter(|l| l.starts_with(&format!("stkt-{}-{tag}", std::process::id())))
        .map(str::to_owned)
        .collect();
    (links, table, netns)
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn bridged_containers_isolation_and_published_ports() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let host_before = host_leftovers("iso");
    {
        // 0: the outer namespace ("host"), 1 and 2: containers on network
        // A, 3: a container on network B, 4: a container on both.
        let ns = Namespaces::create("iso", 5);
        let outer = ns.path(0);
        in_netns(&outer, || runtime().block_on(scenario(&ns)));
    }
    assert_eq!(host_leftovers("iso"), host_before, "the real host changed");
}

async fn scenario(ns: &Namespaces) {
    let tools = Tools::default();
    let (outer, c1, c2, c3, c4) = (ns.path(0), ns.path(1), ns.path(2), ns.path(3), ns.path(4));
    let (c1, c2, c3, c4) = (&c1, &c2, &c3, &c4);
    set_loopback_up();
    link::enable_ip_forward(Path::new(PROC_SYS_IPV4)).unwrap();
    let before = outer_snapshot();

    let nl = Netlink::connect().unwrap();
    let mut nets = create_networks(&nl, "iso", 2).await;
    let (a1, v1) = attach(&nl, &mut nets[0], "c1", c1, 0).await;
    let (a2, v2) = attach(&nl, &mut nets[0], "c2", c2, 0).await;
    let (a3, v3) = attach(&nl, &mut nets[1], "c3", c3, 0).await;
    let (_, v4a) = attach(&nl, &mut nets[0], "c4", c4, 0).await;
    let (_, v4b) = attach(&nl, &mut nets[1], "c4", c4, 1).await;
    let gw_a = nets[0].addressing().gateway;
    let gw_b = nets[1].addressing().gateway;
    let mut ours: Vec<IfName> = nets.iter().map(|n| n.bridge.ifname().clone()).collect();
    ours.extend([&v1, &v2, &v3, &v4a, &v4b].map(|v| v.host.clone()));
    ours.sort();
    assert_eq!(nl.engine_links().await.unwrap(), ours);
    assert_eq!(nets[0].addressing().subnet.to_string(), "10.213.0.0/24");
    assert_eq!(a1, Ipv4Addr::new(10, 213, 0, 2));
    assert_eq!(a3, Ipv4Addr::new(10, 213, 1, 2));

    // Inside a container: eth0 with its address and the default route.
    let addr = run(
        "ip",
        &["-n", ns.name(1), "-br", "-4", "addr", "show", "eth0"],
    );
    assert!(addr.contains(&format!("{a1}/24")), "{addr}");
    let routes = run("ip", &["-n", ns.name(1), "route"]);
    assert!(
        routes.contains(&format!("default via {gw_a} dev eth0")),
        "{routes}"
    );
    assert!(run("ip", &["-n", ns.name(1), "-br", "link", "show", "lo"]).contains("UNKNOWN"));

    let _s1 = Server::start(c1, 80, "c1");
    let _s2 = Server::start(c2, 8081, "c2");
    let _s3 = Server::start(c3, 80, "c3");
    let _u1 = Server::start_udp(c1, 5353, "c1/udp");

    // Without rules, the outer namespace routes between the bridges: the
    // isolation below is the rule set's doing.
    assert_eq!(fetch(c1, sock(a2, 8081)), Ok("c2".into()));
    assert_eq!(fetch(c3, sock(a1, 80)), Ok("c1".into()));

    let udp = PortForward {
        host_ip: None,
        host_port: 18053,
        container_ip: a1,
        container_port: 5353,
        protocol: Protocol::Udp,
    };
    let ports = [published(a1, a2).as_slice(), &[udp]].concat();
    let networks: Vec<FirewallNetwork> = nets.iter().map(TestNetwork::firewall).collect();
    let rule_set = rules::rule_set(&networks, &ports).unwrap();
    apply::apply(&tools, &rule_set).unwrap();
    let listed = run("nft", &["list", "table", "ip", "stack"]);
    // Re-applying replaces the table instead of appending to it.
    apply::apply(&tools, &rule_set).unwrap();
    assert_eq!(run("nft", &["list", "table", "ip", "stack"]), listed);
    let rule_lines = listed
        .lines()
        .filter(|l| {
            let l = l.trim_end();
            ["accept", "drop", "masquerade"]
                .iter()
                .any(|v| l.ends_with(v))
                || l.contains(" dnat to ")
        })
        .count();
    assert_eq!(rule_lines, rule_set.rule_count(), "{listed}");

    // Same network: reachable. Other network: dropped both ways.
    assert_eq!(fetch(c1, sock(a2, 8081)), Ok("c2".into()));
    assert!(fetch(c3, sock(a1, 80)).is_err());
    assert!(fetch(c1, sock(a3, 80)).is_err());

    // A container on both networks reaches both, through eth0 and eth1,
    // with its default route via the first network only.
    assert_eq!(fetch(c4, sock(a1, 80)), Ok("c1".into()));
    assert_eq!(fetch(c4, sock(a3, 80)), Ok("c3".into()));
    let routes = run("ip", &["-n", ns.name(4), "route"]);
    assert_eq!(routes.matches("default").count(), 1, "{routes}");
    assert!(
        routes.contains(&format!("default via {gw_a} dev eth0")),
        "{routes}"
    );
    assert!(run("ip", &["-n", ns.name(4), "-br", "link"]).contains("eth1@"));

    // Published on all addresses: from the host's loopback (route_localnet
    // + masquerade), the host's other addresses, another network through
    // the host, and the container itself (hairpin).
    assert_eq!(
        fetch(&outer, sock(Ipv4Addr::LOCALHOST, 18080)),
        Ok("c1".into())
    );
    assert_eq!(fetch(&outer, sock(gw_b, 18080)), Ok("c1".into()));
    assert_eq!(fetch(c3, sock(gw_b, 18080)), Ok("c1".into()));
    assert_eq!(fetch(c1, sock(gw_a, 18080)), Ok("c1".into()));
    assert_eq!(
        ask_udp(&outer, sock(Ipv4Addr::LOCALHOST, 18053)),
        Ok("c1/udp".into())
    );
    assert_eq!(ask_udp(c3, sock(gw_b, 18053)), Ok("c1/udp".into()));
    // Published on 127.0.0.1 only: not on the host's other addresses, nor
    // from containers.
    assert_eq!(
        fetch(&outer, sock(Ipv4Addr::LOCALHOST, 18081)),
        Ok("c2".into())
    );
    assert!(fetch(&outer, sock(gw_a, 18081)).is_err());
    assert!(fetch(c3, sock(gw_b, 18081)).is_err());

    // Teardown, each step twice: not found is success.
    for _ in 0..2 {
        for v in [&v1, &v2, &v3, &v4a, &v4b] {
            link::detach_endpoint(&nl, v).await.unwrap();
        }
        apply::remove(&tools).unwrap();
        for net in &nets {
            nl.delete_link(net.bridge.ifname()).await.unwrap();
        }
    }
    assert_eq!(outer_snapshot(), before);
    assert_eq!(nl.engine_links().await.unwrap(), []);
    let inside = run("ip", &["-n", ns.name(1), "-br", "link"]);
    assert!(!inside.contains("eth0"), "{inside}");
}

#[test]
fn a_failed_attach_leaves_nothing_behind() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let ns = Namespaces::create("fail", 2);
    let (outer, c1) = (ns.path(0), ns.path(1));
    in_netns(&outer, || {
        runtime().block_on(async {
            let before = run("ip", &["-br", "link"]);
            let nl = Netlink::connect().unwrap();
            let veth = VethNames::for_endpoint("c1", "nowhere");
            let missing = IfName::new("stk-missing").unwrap();
            let netns = Netns::open(&c1).unwrap();
            let spec = EndpointSpec {
                bridge: &missing,
                veth: &veth,
                netns: &netns,
                ifname: &IfName::container(0),
                address: "10.213.9.2/24".parse().unwrap(),
                default_route: None,
                mtu: 1500,
                mac: None,
            };
            let err = link::attach_endpoint(&nl, &spec).await.unwrap_err();
            assert_eq!(
                err.to_string(),
                "attach veth: no interface named stk-missing"
            );
            assert_eq!(run("ip", &["-br", "link"]), before);
        })
    });
}

#[test]
fn iptables_forward_drop_policy_is_opened_for_our_bridges_only() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let tools = Tools::default();
    if Command::new(&tools.iptables).arg("-V").output().is_err() {
        eprintln!("skipped: needs iptables");
        return;
    }
    let ns = Namespaces::create("ipt", 4);
    let (outer, c1, c2, c3) = (ns.path(0), ns.path(1), ns.path(2), ns.path(3));
    in_netns(&outer, || {
        runtime().block_on(async {
            set_loopback_up();
            link::enable_ip_forward(Path::new(PROC_SYS_IPV4)).unwrap();
            let nl = Netlink::connect().unwrap();
            let mut nets = create_networks(&nl, "ipt", 2).await;
            let (a1, _) = attach(&nl, &mut nets[0], "c1", &c1, 0).await;
            attach(&nl, &mut nets[0], "c2", &c2, 0).await;
            attach(&nl, &mut nets[1], "c3", &c3, 0).await;
            let gw_b = nets[1].addressing().gateway;
            let _s1 = Server::start(&c1, 80, "c1");
            let port = PortForward {
                host_ip: None,
                host_port: 18080,
                container_ip: a1,
                container_port: 80,
                protocol: Protocol::Tcp,
            };
            let networks: Vec<FirewallNetwork> = nets.iter().map(TestNetwork::firewall).collect();
            apply::apply(&tools, &rules::rule_set(&networks, &[port]).unwrap()).unwrap();
            assert_eq!(fetch(&c3, sock(gw_b, 18080)), Ok("c1".into()));

            // What Docker does to the host.
            run("iptables", &["-P", "FORWARD", "DROP"]);
            assert_eq!(
                apply::forward_policy(&tools).unwrap(),
                Some(ForwardPolicy::Drop)
            );
            let before = run("iptables", &["-S"]);
            assert!(fetch(&c3, sock(gw_b, 18080)).is_err());
            let bridged = std::fs::read_to_string("/proc/sys/net/bridge/bridge-nf-call-iptables")
                .is_ok_and(|v| v.trim() == "1");
            if bridged {
                assert!(fetch(&c2, sock(a1, 80)).is_err());
            }

            // The daemon's entry point notices the policy and opens FORWARD
            // for our bridges; repeating it changes nothing.
            let plan = IptablesForward::new(&networks);
            let mut firewall = HostFirewall::new(tools.clone());
            for _ in 0..2 {
                let outcome = sync::sync(&mut firewall, &networks, &[port]).unwrap();
                assert!(outcome.iptables_chain);
            }
            let chain = run("iptables", &["-S", "STACK-FORWARD"]);
            assert_eq!(chain.lines().count(), 1 + plan.rule_count(), "{chain}");
            let forward = run("iptables", &["-S", "FORWARD"]);
            assert_eq!(forward.matches("-j STACK-FORWARD").count(), 1, "{forward}");
            assert_eq!(fetch(&c3, sock(gw_b, 18080)), Ok("c1".into()));
            assert_eq!(fetch(&c2, sock(a1, 80)), Ok("c1".into()));
            // The nft table still isolates the networks.
            assert!(fetch(&c3, sock(a1, 80)).is_err());

            for _ in 0..2 {
                sync::teardown(&mut firewall).unwrap();
            }
            assert_eq!(run("iptables", &["-S"]), before);
            assert!(!run("nft", &["list", "tables"]).contains("table ip stack"));
        })
    });
}

#[test]
fn the_pool_avoids_routes_of_the_namespace() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let ns = Namespaces::create("route", 1);
    in_netns(&ns.path(0), || {
        runtime().block_on(async {
            let nl = Netlink::connect().unwrap();
            run("ip", &["link", "add", "stk-dummy0", "type", "bridge"]);
            run("ip", &["addr", "add", "10.213.0.1/23", "dev", "stk-dummy0"]);
            run("ip", &["link", "set", "stk-dummy0", "up"]);
            let routes = nl.ipv4_routes().await.unwrap();
            assert!(
                routes.contains(&"10.213.0.0/23".parse().unwrap()),
                "{routes:?}"
            );
            let pool = SubnetPool::new(vec![
                PoolEntry::new("10.213.0.0/16".parse().unwrap(), 24).unwrap()
            ]);
            assert_eq!(
                pool.allocate(&routes, &[]).unwrap().to_string(),
                "10.213.2.0/24"
            );
        })
    });
}

/// A process in a network namespace of its own, killed on drop.
struct Unshared {
    child: std::process::Child,
}

impl Unshared {
    /// Starts `unshare --net sleep 60` and waits until the child is in its
    /// new namespace.
    fn start() -> Self {
        let mut child = Command::new("unshare")
            .args(["--net", "sleep", "60"])
            .spawn()
            .unwrap();
        let ours = std::fs::read_link("/proc/thread-self/ns/net").unwrap();
        let theirs = format!("/proc/{}/ns/net", child.id());
        for _ in 0..200 {
            if std::fs::read_link(&theirs).is_ok_and(|ns| ns != ours) {
                return Self { child };
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("unshare never entered a new network namespace");
    }
}

impl Drop for Unshared {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_container_by_pid_on_an_internal_network() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    if Command::new("unshare").arg("-V").output().is_err() {
        eprintln!("skipped: needs unshare (util-linux)");
        return;
    }
    let ns = Namespaces::create("pid", 2);
    let (outer, c1) = (ns.path(0), ns.path(1));
    in_netns(&outer, || {
        runtime().block_on(async {
            set_loopback_up();
            link::enable_ip_forward(Path::new(PROC_SYS_IPV4)).unwrap();
            let before = outer_snapshot();
            let nl = Netlink::connect().unwrap();
            let mut nets = create_networks(&nl, "pid", 2).await;
            nets[1].internal = true;
            let (a1, v1) = attach(&nl, &mut nets[0], "c1", &c1, 0).await;
            let _s1 = Server::start(&c1, 80, "c1");

            // The container is known by its pid; an internal network gets
            // no default route.
            let mut container = Unshared::start();
            let pid = container.child.id();
            let netns = Netns::of_pid(Path::new("/proc"), pid).unwrap();
            let internal = &mut nets[1];
            let addr = internal.book.allocate("pid", None).unwrap();
            let veth = VethNames::for_endpoint("pid", internal.bridge.as_str());
            let spec = EndpointSpec {
                bridge: internal.bridge.ifname(),
                veth: &veth,
                netns: &netns,
                ifname: &IfName::container(0),
                address: Ipv4Net::new(addr, 24).unwrap(),
                default_route: None,
                mtu: 1500,
                mac: None,
            };
            link::attach_endpoint(&nl, &spec).await.unwrap();
            let inside = format!("/proc/{pid}/ns/net");
            let enter = format!("--net={inside}");
            let gw_i = internal.addressing().gateway;
            let routes = run("nsenter", &[&enter, "ip", "route"]);
            assert!(!routes.contains("default"), "{routes}");
            assert!(routes.contains(&format!("dev eth0 proto kernel scope link src {addr}")));

            // Reachable by routing only once the rules are in place: give
            // it a route to network A to show the firewall is what stops it.
            run(
                "nsenter",
                &[
                    &enter,
                    "ip",
                    "route",
                    "add",
                    "10.213.0.0/24",
                    "via",
                    &gw_i.to_string(),
                ],
            );
            let pid_ns = PathBuf::from(&inside);
            assert_eq!(fetch(&pid_ns, sock(a1, 80)), Ok("c1".into()));
            let mut firewall = HostFirewall::default();
            let networks: Vec<FirewallNetwork> = nets.iter().map(TestNetwork::firewall).collect();
            sync::sync(&mut firewall, &networks, &[]).unwrap();
            assert!(fetch(&pid_ns, sock(a1, 80)).is_err());
            // Nor from the other side in.
            let server = Server::start(&pid_ns, 80, "internal");
            assert!(fetch(&c1, sock(addr, 80)).is_err());
            drop(server);

            // The container exits: its namespace and the veth pair go with
            // it, and detaching is still a success.
            container.child.kill().unwrap();
            container.child.wait().unwrap();
            drop(netns);
            // (The kernel destroys a namespace asynchronously; nothing of
            // ours may keep it alive, such as a leaked netlink socket.)
            let mut waited = 0;
            while nl.index_of(&veth.host).await.unwrap().is_some() {
                assert!(
                    waited < 400,
                    "the veth pair outlived the container's namespace"
                );
                tokio::time::sleep(Duration::from_millis(5)).await;
                waited += 1;
            }
            link::detach_endpoint(&nl, &veth).await.unwrap();
            link::detach_endpoint(&nl, &v1).await.unwrap();
            sync::teardown(&mut firewall).unwrap();
            for net in &nets {
                nl.delete_link(net.bridge.ifname()).await.unwrap();
            }
            assert_eq!(outer_snapshot(), before);
        })
    });
}

/// `iptables-save` of the calling thread's namespace without comments and
/// counters: what must be the same before and after.
fn iptables_save(program: &str) -> String {
    run(program, &[])
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| l.split(" [").next().unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Where `nft` is missing, the iptables driver holds the whole rule set in
/// chains of its own: published ports (127.0.0.1 too), isolation, an
/// internal network without outbound, next to the "host's" own rules,
/// which come out exactly as they were. Run with the host's `iptables`
/// (Debian 12: the nf_tables backend) and, where installed, with
/// `iptables-legacy`.
#[test]
fn without_nft_the_iptables_driver_does_the_same() {
    if let Some(reason) = skip_reason() {
        eprintln!("skipped: {reason}");
        return;
    }
    let variants = [
        ("iptables", "iptables-restore", "iptables-save"),
        (
            "iptables-legacy",
            "iptables-legacy-restore",
            "iptables-legacy-save",
        ),
    ];
    for (iptables, restore, save) in variants {
        let tools = Tools {
            nft: "/nonexistent/stack-test/nft".into(),
            chains: IptablesChains::tagged(&format!("t{}", std::process::id() % 100_000)),
            iptables: iptables.into(),
            iptables_restore: restore.into(),
            ..Tools::default()
        };
        let present = |p: &str| Command::new(p).arg("--version").output().is_ok();
        if ![iptables, restore, save].into_iter().all(present) {
            eprintln!("skipped for {iptables}: needs {iptables}, {restore} and {save}");
            continue;
        }
        eprintln!("{}", apply::detect_iptables(&tools).unwrap());
        // 0: the outer namespace ("host"), 1 and 2: containers on network
        // A, 3: one on network B, 4: one on internal network C, 5: a
        // machine outside the host, on a link to it.
        let ns = Namespaces::create("fallback", 6);
        let outer = ns.path(0);
        in_netns(&outer, || {
            runtime().block_on(fallback_scenario(&ns, &tools, save));
        });
    }
}

async fn fallback_scenario(ns: &Namespaces, tools: &Tools, save: &str) {
    let ipt = tools.iptables.to_str().unwrap();
    let (outer, c1, c2, c3, c4, outside) = (
        ns.path(0),
        ns.path(1),
        ns.path(2),
        ns.path(3),
        ns.path(4),
        ns.path(5),
    );
    set_loopback_up();
    link::enable_ip_forward(Path::new(PROC_SYS_IPV4)).unwrap();
    // The "host": a link to the outside world with address 10.214.0.1, and
    // rules of its own. Its FORWARD policy is ACCEPT at first, so that
    // every drop seen is the engine's doing.
    let host_ip = Ipv4Addr::new(10, 214, 0, 1);
    let outside_ip = Ipv4Addr::new(10, 214, 0, 2);
    run(
        "ip",
        &[
            "link",
            "add",
            "stk-up0",
            "type",
            "veth",
            "peer",
            "name",
            "stk-up1",
            "netns",
            ns.name(5),
        ],
    );
    run("ip", &["addr", "add", "10.214.0.1/24", "dev", "stk-up0"]);
    run("ip", &["link", "set", "stk-up0", "up"]);
    run(
        "ip",
        &[
            "-n",
            ns.name(5),
            "addr",
            "add",
            "10.214.0.2/24",
            "dev",
            "stk-up1",
        ],
    );
    run("ip", &["-n", ns.name(5), "link", "set", "stk-up1", "up"]);
    run(
        ipt,
        &["-A", "FORWARD", "-s", "198.51.100.0/24", "-j", "ACCEPT"],
    );
    run(
        ipt,
        &[
            "-t",
            "nat",
            "-A",
            "POSTROUTING",
            "-s",
            "198.51.100.0/24",
            "-j",
            "MASQUERADE",
        ],
    );
    run(
        ipt,
        &[
            "-t",
            "nat",
            "-A",
            "PREROUTING",
            "-d",
            "198.51.100.1",
            "-j",
            "RETURN",
        ],
    );
    let before = iptables_save(save);

    let nl = Netlink::connect().unwrap();
    let mut nets = create_networks(&nl, "fallback", 3).await;
    nets[2].internal = true;
    let (a1, _) = attach(&nl, &mut nets[0], "c1", &c1, 0).await;
    let (a2, _) = attach(&nl, &mut nets[0], "c2", &c2, 0).await;
    attach(&nl, &mut nets[1], "c3", &c3, 0).await;
    attach(&nl, &mut nets[2], "c4", &c4, 0).await;
    let gw_b = nets[1].addressing().gateway;
    let _s1 = Server::start(&c1, 80, "c1");
    let _s2 = Server::start(&c2, 8081, "c2");
    let _out = Server::start(&outside, 7070, "outside");
    let ports = published(a1, a2);
    let networks: Vec<FirewallNetwork> = nets.iter().map(TestNetwork::firewall).collect();

    // The daemon's entry point finds no nft and uses iptables; syncing
    // again, also after a restart (a new firewall), replaces the chains
    // rather than appending to them.
    let outcome = sync::sync(&mut HostFirewall::new(tools.clone()), &networks, &ports).unwrap();
    assert_eq!(outcome.driver, Some(Driver::Iptables));
    let mut firewall = HostFirewall::new(tools.clone());
    for _ in 0..2 {
        let outcome = sync::sync(&mut firewall, &networks, &ports).unwrap();
        assert_eq!(outcome.driver, Some(Driver::Iptables));
    }
    let expected = rules::rule_set(&networks, &ports)
        .unwrap()
        .to_restore(&tools.chains, &[]);
    let added = |l: &&str| l.starts_with("-A ");
    for jump in tools.chains.jumps() {
        let chain = run(ipt, &["-t", jump.table, "-S", jump.to]);
        let want = expected
            .lines()
            .filter(added)
            .filter(|l| l.split(' ').nth(1) == Some(jump.to))
            .count();
        assert_eq!(chain.lines().filter(added).count(), want, "{chain}");
        let from = run(ipt, &["-t", jump.table, "-S", jump.from]);
        let first = from.lines().find(added);
        assert_eq!(
            first,
            Some(format!("-A {} -j {}", jump.from, jump.to).as_str()),
            "{from}"
        );
        assert_eq!(
            from.matches(&format!("-j {}", jump.to)).count(),
            1,
            "{from}"
        );
    }

    // Published on all addresses: from the host's loopback and its other
    // address, from outside the host, and from another network.
    assert_eq!(
        fetch(&outer, sock(Ipv4Addr::LOCALHOST, 18080)),
        Ok("c1".into())
    );
    assert_eq!(fetch(&outer, sock(host_ip, 18080)), Ok("c1".into()));
    assert_eq!(fetch(&outside, sock(host_ip, 18080)), Ok("c1".into()));
    assert_eq!(fetch(&c3, sock(gw_b, 18080)), Ok("c1".into()));
    // Published on 127.0.0.1 only.
    assert_eq!(
        fetch(&outer, sock(Ipv4Addr::LOCALHOST, 18081)),
        Ok("c2".into())
    );
    assert!(fetch(&outer, sock(host_ip, 18081)).is_err());
    assert!(fetch(&outside, sock(host_ip, 18081)).is_err());
    // Same network: reachable; other network: not, either way.
    assert_eq!(fetch(&c1, sock(a2, 8081)), Ok("c2".into()));
    assert!(fetch(&c3, sock(a1, 80)).is_err());
    // Outbound: masqueraded from a network (the outside has no route back
    // to the bridges), nothing from an internal one.
    assert_eq!(fetch(&c1, sock(outside_ip, 7070)), Ok("outside".into()));
    assert!(fetch(&c4, sock(outside_ip, 7070)).is_err());
    // Without the rules (and with a route back), those would pass.
    sync::teardown(&mut firewall).unwrap();
    run(
        "ip",
        &[
            "-n",
            ns.name(5),
            "route",
            "add",
            "10.213.0.0/16",
            "via",
            "10.214.0.1",
        ],
    );
    assert_eq!(fetch(&c3, sock(a1, 80)), Ok("c1".into()));
    assert_eq!(fetch(&c4, sock(outside_ip, 7070)), Ok("outside".into()));

    // What Docker does to the host: the engine's accepts still let its
    // traffic through, and sync does not move its jumps off the top.
    run(ipt, &["-P", "FORWARD", "DROP"]);
    run(ipt, &["-I", "FORWARD", "-j", "RETURN"]);
    sync::sync(&mut firewall, &networks, &ports).unwrap();
    run(ipt, &["-D", "FORWARD", "2"]);
    sync::sync(&mut firewall, &networks, &ports).unwrap();
    let forward = run(ipt, &["-S", "FORWARD"]);
    assert!(
        forward.contains(&format!(
            "-A FORWARD -j {}\n-A FORWARD -s 198",
            tools.chains.forward
        )),
        "{forward}"
    );
    assert_eq!(fetch(&c1, sock(outside_ip, 7070)), Ok("outside".into()));
    assert_eq!(fetch(&outside, sock(host_ip, 18080)), Ok("c1".into()));
    assert_eq!(fetch(&c1, sock(a2, 8081)), Ok("c2".into()));
    assert!(fetch(&c3, sock(a1, 80)).is_err());
    run(ipt, &["-P", "FORWARD", "ACCEPT"]);

    // Removal, twice: not found is success; the host's rules are as before.
    for _ in 0..2 {
        assert_eq!(
            sync::teardown(&mut firewall).unwrap(),
            Some(Driver::Iptables)
        );
    }
    assert_eq!(iptables_save(save), before);

    // Once nft is installed, a restarted daemon moves the rules into its
    // table and removes the chains of the iptables run.
    sync::sync(&mut firewall, &networks, &ports).unwrap();
    let nft_tools = Tools {
        nft: "nft".into(),
        ..tools.clone()
    };
    let mut firewall = HostFirewall::new(nft_tools.clone());
    let outcome = sync::sync(&mut firewall, &networks, &ports).unwrap();
    assert_eq!(outcome.driver, Some(Driver::Nftables));
    assert!(!outcome.iptables_chain);
    assert_eq!(iptables_save(save), before);
    assert_eq!(fetch(&outer, sock(host_ip, 18080)), Ok("c1".into()));
    assert!(fetch(&outer, sock(host_ip, 18081)).is_err());
    assert!(fetch(&c3, sock(a1, 80)).is_err());
    sync::teardown(&mut firewall).unwrap();
    assert!(!run("nft", &["list", "tables"]).contains(&nft_tools.table));
    assert_eq!(iptables_save(save), before);
}

/// The ports both firewall tests publish: `a1`'s 80 on every host address
/// as 18080, `a2`'s 8081 on 127.0.0.1 only as 18081.
fn published(a1: Ipv4Addr, a2: Ipv4Addr) -> [PortForward; 2] {
    [
        PortForward {
            host_ip: None,
            host_port: 18080,
            container_ip: a1,
            container_port: 80,
            protocol: Protocol::Tcp,
        },
        PortForward {
            host_ip: Some(Ipv4Addr::LOCALHOST),
            host_port: 18081,
            container_ip: a2,
            container_port: 8081,
            protocol: Protocol::Tcp,
        },
    ]
}
