//! The engine's whole nftables rule set, computed from its networks and
//! published ports (pure).
//!
//! Everything lives in one table of our own, `ip stack`, so the host's rules
//! are never touched or reordered, and cleanup is deleting that table. The
//! table is replaced as a whole on every change ([`RuleSet::to_batch`]:
//! add + delete + add the table, then its contents, in one `nft -j -f`
//! transaction), because re-applying a batch appends duplicate rules.
//!
//! What the rules do (see [`rule_set`]):
//! - `forward` (filter): replies and DNAT'd connections to our bridges are
//!   accepted first; then per bridge: traffic inside the bridge is accepted,
//!   traffic to another of our bridges is dropped (isolation, as Docker's
//!   `DOCKER-ISOLATION` chains), outbound is accepted unless the network is
//!   internal, and new connections from elsewhere into the bridge are dropped
//!   unless DNAT'd (unpublished ports are not reachable from other hosts).
//!   The chain's policy is accept: traffic that is not ours is left alone.
//! - `prerouting` / `output` (nat): DNAT of published ports. A port bound
//!   to all addresses matches every local address, but in `prerouting` not
//!   127.0.0.0/8, so that a packet forged with a loopback destination on an
//!   outside interface cannot reach a container (CVE-2020-8558). A port bound
//!   to a loopback address only gets an `output` rule: only the host itself
//!   reaches it.
//! - `postrouting` (nat): masquerade of outbound traffic from non-internal
//!   subnets (not within the subnet itself), of hairpin connections (a
//!   container reaching a published port that leads back into its own
//!   subnet, whose reply would otherwise bypass the host), and of
//!   connections from the host's loopback, which DNAT sends to a bridge:
//!   those need `route_localnet=1` on the bridge (see `link.rs`) and a
//!   routable source address.
//!
//! Where `nft` is not installed, the same rules go into iptables chains of
//! our own instead ([`RuleSet::to_restore`]).
//!
//! IPv4 only; IPv6 will get its own `ip6 stack` table.

use std::fmt;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;
use nftables::types::{NfChainType, NfHook};

use crate::network::names::BridgeName;

mod batch;
mod restore;

pub use batch::removal_batch;

/// The default name of the engine's table (family `ip`); daemons with
/// another state root use another (see `apply::Tools`).
pub const TABLE: &str = "stack";
/// The named set holding every bridge of the engine.
const BRIDGES_SET: &str = "bridges";

/// One network as the firewall sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FirewallNetwork {
    /// The network's bridge.
    pub bridge: BridgeName,
    /// The network's subnet.
    pub subnet: Ipv4Net,
    /// `internal: true`: no traffic in or out of the bridge.
    pub internal: bool,
}

/// A transport protocol of a published port.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
}

impl Protocol {
    /// The name nft and iptables use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Tcp => "tcp",
            Self::Udp => "udp",
        }
    }
}

/// One published port: `host_ip:host_port` → `container_ip:container_port`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PortForward {
    /// The host address it is bound to; `None` for all addresses.
    pub host_ip: Option<Ipv4Addr>,
    /// The host port (already chosen, never 0).
    pub host_port: u16,
    /// The container's address on a non-internal network.
    pub container_ip: Ipv4Addr,
    /// The port inside the container.
    pub container_port: u16,
    /// TCP or UDP.
    pub protocol: Protocol,
}

impl fmt::Display for PortForward {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = self.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED);
        write!(
            f,
            "{host}:{}->{}:{}/{}",
            self.host_port,
            self.container_ip,
            self.container_port,
            self.protocol.as_str()
        )
    }
}

/// An inconsistency in the input; all of them are reported at once.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RuleError {
    /// Two networks share a bridge name.
    #[error("bridge {0} belongs to more than one network")]
    DuplicateBridge(String),
    /// A port leads to an address on no (non-internal) network.
    #[error(
        "published port {0} leads to an address on no non-internal network \
         (ports of containers only on internal networks are not published)"
    )]
    NoNetworkForPort(PortForward),
    /// Two published ports claim the same host address and port.
    #[error("host port {port}/{protocol} is published twice: {first} and {second}")]
    PortClash {
        /// The host port.
        port: u16,
        /// Its protocol.
        protocol: &'static str,
        /// One claim.
        first: PortForward,
        /// The other claim.
        second: PortForward,
    },
    /// A host port of 0 (not chosen yet).
    #[error("published port {0} has host port 0; choose the port before computing rules")]
    PortZero(PortForward),
}

/// A base chain of the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Hook {
    Forward,
    Prerouting,
    Output,
    Postrouting,
}

impl Hook {
    const ALL: [Hook; 4] = [
        Hook::Forward,
        Hook::Prerouting,
        Hook::Output,
        Hook::Postrouting,
    ];

    fn name(self) -> &'static str {
        match self {
            Hook::Forward => "forward",
            Hook::Prerouting => "prerouting",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
        }
    }

    /// Chain type, netfilter hook, priority and the priority as `nft list`
    /// prints it (nft 1.0.6 has no symbolic name for nat/output).
    fn base(self) -> (NfChainType, NfHook, i32, &'static str) {
        match self {
            Hook::Forward => (NfChainType::Filter, NfHook::Forward, 0, "filter"),
            Hook::Prerouting => (NfChainType::NAT, NfHook::Prerouting, -100, "dstnat"),
            Hook::Output => (NfChainType::NAT, NfHook::Output, -100, "-100"),
            Hook::Postrouting => (NfChainType::NAT, NfHook::Postrouting, 100, "srcnat"),
        }
    }
}

/// Which interface a condition looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dir {
    In,
    Out,
}

/// One match of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Cond {
    /// The interface is (or with `false`, is not) this one.
    If(Dir, String, bool),
    /// The interface is one of the engine's bridges.
    IfBridges(Dir),
    /// The source address is (not) in this network.
    Saddr(Ipv4Net, bool),
    /// The destination address is (not) in this network.
    Daddr(Ipv4Net, bool),
    /// The destination is an address of this host.
    DaddrLocal,
    /// The connection is a reply or related to a known one.
    Established,
    /// The connection was DNAT'd.
    Dnatted,
    /// Transport protocol and destination port.
    Dport(Protocol, u16),
}

/// What a rule does when all its conditions match.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Action {
    Accept,
    Drop,
    Masquerade,
    Dnat(Ipv4Addr, u16),
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    hook: Hook,
    conds: Vec<Cond>,
    action: Action,
}

/// The complete table, as data: render it with `Display` (nft syntax, for
/// people and golden tests) or turn it into one atomic batch with
/// [`RuleSet::to_batch`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSet {
    bridges: Vec<String>,
    rules: Vec<Rule>,
}

impl RuleSet {
    /// How many rules the table holds (for tests that check re-applying
    /// does not duplicate anything).
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }
}

/// Computes the rule set for `networks` and `ports`. The output is
/// deterministic: networks are sorted by bridge name and ports by their
/// fields, whatever order they come in.
pub fn rule_set(
    networks: &[FirewallNetwork],
    ports: &[PortForward],
) -> Result<RuleSet, Vec<RuleError>> {
    let mut networks: Vec<&FirewallNetwork> = networks.iter().collect();
    networks.sort_by(|a, b| a.bridge.cmp(&b.bridge));
    let mut ports: Vec<PortForward> = ports.to_vec();
    ports.sort();
    ports.dedup();
    let errors = check(&networks, &ports);
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut rules = forward_rules(&networks);
    rules.extend(dnat_rules(&ports));
    rules.extend(masquerade_rules(&networks, !ports.is_empty()));
    Ok(RuleSet {
        bridges: networks
            .iter()
            .map(|n| n.bridge.as_str().to_owned())
            .collect(),
        rules,
    })
}

fn check(networks: &[&FirewallNetwork], ports: &[PortForward]) -> Vec<RuleError> {
    let mut errors: Vec<RuleError> = networks
        .windows(2)
        .filter(|w| w[0].bridge == w[1].bridge)
        .map(|w| RuleError::DuplicateBridge(w[0].bridge.as_str().to_owned()))
        .collect();
    for (i, port) in ports.iter().enumerate() {
        if port.host_port == 0 {
            errors.push(RuleError::PortZero(*port));
        }
        let reachable = networks
            .iter()
            .any(|n| !n.internal && n.subnet.contains(&port.container_ip));
        if !reachable {
            errors.push(RuleError::NoNetworkForPort(*port));
        }
        // A port bound to all addresses clashes with any binding of the
        // same port; two specific addresses only when they are equal.
        let clash = ports[..i].iter().find(|p| {
            p.protocol == port.protocol
                && p.host_port == port.host_port
                && (p.host_ip.is_none() || port.host_ip.is_none() || p.host_ip == port.host_ip)
        });
        if let Some(first) = clash {
            errors.push(RuleError::PortClash {
                port: port.host_port,
                protocol: port.protocol.as_str(),
                first: *first,
                second: *port,
            });
        }
    }
    errors
}

fn rule(hook: Hook, conds: Vec<Cond>, action: Action) -> Rule {
    Rule {
        hook,
        conds,
        action,
    }
}

fn forward_rules(networks: &[&FirewallNetwork]) -> Vec<Rule> {
    use Cond::*;
    if networks.is_empty() {
        return Vec::new();
    }
    // Accepted before the isolation rules, so that a published port is
    // reachable through the host's address from every network.
    let mut rules = vec![
        rule(
            Hook::Forward,
            vec![IfBridges(Dir::Out), Established],
            Action::Accept,
        ),
        rule(
            Hook::Forward,
            vec![IfBridges(Dir::Out), Dnatted],
            Action::Accept,
        ),
    ];
    for net in networks {
        let b = net.bridge.as_str().to_owned();
        rules.push(rule(
            Hook::Forward,
            vec![If(Dir::In, b.clone(), true), If(Dir::Out, b.clone(), true)],
            Action::Accept,
        ));
        if net.internal {
            rules.push(rule(
                Hook::Forward,
                vec![If(Dir::In, b.clone(), true)],
                Action::Drop,
            ));
        } else {
            rules.push(rule(
                Hook::Forward,
                vec![If(Dir::In, b.clone(), true), IfBridges(Dir::Out)],
                Action::Drop,
            ));
            rules.push(rule(
                Hook::Forward,
                vec![If(Dir::In, b.clone(), true)],
                Action::Accept,
            ));
        }
        rules.push(rule(
            Hook::Forward,
            vec![If(Dir::Out, b, true)],
            Action::Drop,
        ));
    }
    rules
}

fn loopback() -> Ipv4Net {
    Ipv4Net::new_assert(Ipv4Addr::new(127, 0, 0, 0), 8)
}

fn host(addr: Ipv4Addr) -> Ipv4Net {
    Ipv4Net::new_assert(addr, 32)
}

fn dnat_rules(ports: &[PortForward]) -> Vec<Rule> {
    use Cond::*;
    let mut prerouting = Vec::new();
    let mut output = Vec::new();
    for p in ports {
        let dport = Dport(p.protocol, p.host_port);
        let to = Action::Dnat(p.container_ip, p.container_port);
        match p.host_ip {
            None => {
                prerouting.push(rule(
                    Hook::Prerouting,
                    vec![DaddrLocal, Daddr(loopback(), false), dport.clone()],
                    to.clone(),
                ));
                output.push(rule(Hook::Output, vec![DaddrLocal, dport], to));
            }
            Some(ip) if ip.is_loopback() => {
                output.push(rule(Hook::Output, vec![Daddr(host(ip), true), dport], to));
            }
            Some(ip) => {
                prerouting.push(rule(
                    Hook::Prerouting,
                    vec![Daddr(host(ip), true), dport.clone()],
                    to.clone(),
                ));
                output.push(rule(Hook::Output, vec![Daddr(host(ip), true), dport], to));
            }
        }
    }
    prerouting.extend(output);
    prerouting
}

fn masquerade_rules(networks: &[&FirewallNetwork], any_ports: bool) -> Vec<Rule> {
    use Cond::*;
    let mut rules = Vec::new();
    for net in networks.iter().filter(|n| !n.internal) {
        let b = net.bridge.as_str().to_owned();
        rules.push(rule(
            Hook::Postrouting,
            vec![Saddr(net.subnet, true), If(Dir::Out, b.clone(), false)],
            Action::Masquerade,
        ));
        if any_ports {
            rules.push(rule(
                Hook::Postrouting,
                vec![If(Dir::Out, b, true), Saddr(net.subnet, true), Dnatted],
                Action::Masquerade,
            ));
        }
    }
    if any_ports && !networks.is_empty() {
        rules.push(rule(
            Hook::Postrouting,
            vec![IfBridges(Dir::Out), Saddr(loopback(), true)],
            Action::Masquerade,
        ));
    }
    rules
}

fn addr_text(net: &Ipv4Net) -> String {
    if net.prefix_len() == 32 {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

fn eq_text(positive: bool) -> &'static str {
    if positive {
        ""
    } else {
        "!= "
    }
}

impl fmt::Display for Cond {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let key = |dir: &Dir| match dir {
            Dir::In => "iifname",
            Dir::Out => "oifname",
        };
        match self {
            Cond::If(dir, name, pos) => write!(f, "{} {}\"{name}\"", key(dir), eq_text(*pos)),
            Cond::IfBridges(dir) => write!(f, "{} @{BRIDGES_SET}", key(dir)),
            Cond::Saddr(net, pos) => write!(f, "ip saddr {}{}", eq_text(*pos), addr_text(net)),
            Cond::Daddr(net, pos) => write!(f, "ip daddr {}{}", eq_text(*pos), addr_text(net)),
            Cond::DaddrLocal => f.write_str("fib daddr type local"),
            Cond::Established => f.write_str("ct state established,related"),
            Cond::Dnatted => f.write_str("ct status dnat"),
            Cond::Dport(proto, port) => write!(f, "{} dport {port}", proto.as_str()),
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Action::Accept => f.write_str("accept"),
            Action::Drop => f.write_str("drop"),
            Action::Masquerade => f.write_str("masquerade"),
            Action::Dnat(ip, port) => write!(f, "dnat to {ip}:{port}"),
        }
    }
}

impl fmt::Display for RuleSet {
    /// The table in `nft list` style, for golden tests and diagnostics.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "table ip {TABLE} {{")?;
        writeln!(f, "\tset {BRIDGES_SET} {{")?;
        writeln!(f, "\t\ttype ifname")?;
        if !self.bridges.is_empty() {
            let quoted: Vec<String> = self.bridges.iter().map(|b| format!("\"{b}\"")).collect();
            writeln!(f, "\t\telements = {{ {} }}", quoted.join(", "))?;
        }
        writeln!(f, "\t}}")?;
        for hook in Hook::ALL {
            let (kind, _, _, prio) = hook.base();
            let kind = match kind {
                NfChainType::NAT => "nat",
                _ => "filter",
            };
            writeln!(f, "\n\tchain {} {{", hook.name())?;
            writeln!(
                f,
                "\t\ttype {kind} hook {} priority {prio}; policy accept;",
                hook.name()
            )?;
            for r in self.rules.iter().filter(|r| r.hook == hook) {
                let conds: Vec<String> = r.conds.iter().map(ToString::to_string).collect();
                writeln!(f, "\t\t{} {}", conds.join(" "), r.action)?;
            }
            writeln!(f, "\t}}")?;
        }
        writeln!(f, "}}")
    }
}

#[cfg(test)]
mod tests;
