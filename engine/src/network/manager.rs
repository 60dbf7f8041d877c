//! The daemon's networks: the records, the bridges, each running
//! container's endpoints and published ports, the firewall table and the
//! DNS server, kept consistent with one another.
//!
//! State lives in memory behind one lock that is never held across an
//! await; kernel work (netlink, `nft`) happens outside it. Addresses and
//! host ports are reserved under the lock before the kernel work starts, so
//! containers starting at once never get the same ones. Everything is also
//! on disk (`networks/<id>.json`, each container's `endpoints.json` and
//! `network.json`), so a daemon that restarts (after a crash too) finds its
//! running containers' endpoints and tears down those of containers that
//! are gone.

mod attach;
mod connect;
mod define;
mod dns;
mod files;
mod ports;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use ipnet::Ipv4Net;

use crate::network::firewall::apply::Tools;
use crate::network::firewall::iptables::IptablesChains;
use crate::network::firewall::rules::{FirewallNetwork, PortForward};
use crate::network::firewall::sync::{self, HostFirewall};
use crate::network::ipam::{self, AddressBook, PoolEntry, SubnetPool, SubnetRequest, TakenSubnet};
use crate::network::link::{self, Netlink};
use crate::network::names::{BridgeName, IfName};
use crate::network::netns;
use crate::network::record::{ActivePort, ContainerNetwork, NetworkRecord};
use crate::state::{self, time, Layout};

pub(crate) use attach::{requested_mac, ContainerFacts, Peer};
pub(crate) use define::CreateRequest;
pub(crate) use ports::parse_port_key;

/// The MTU of bridges and endpoints.
const MTU: u32 = 1500;

/// What went wrong, with the HTTP status class the API answers with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum NetError {
    /// No such network or container.
    NotFound(String),
    /// The name is taken, the network is in use, an address or port is held.
    Conflict(String),
    /// The request cannot be honoured as given.
    Invalid(String),
    /// The host refused (netlink, nft, files).
    Host(String),
}

impl fmt::Display for NetError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotFound(m) | Self::Conflict(m) | Self::Invalid(m) | Self::Host(m) => {
                f.write_str(m)
            }
        }
    }
}

fn host_err(e: impl fmt::Display) -> NetError {
    NetError::Host(e.to_string())
}

/// How the daemon's networks are set up.
#[derive(Debug, Clone)]
pub(crate) struct NetworkOptions {
    /// The host's resolver configuration (upstreams for the DNS server, the
    /// default network's `/etc/resolv.conf`).
    pub(crate) resolv_conf: PathBuf,
    /// The firewall's programs and the names of its table and chains.
    pub(crate) tools: Tools,
    /// Where subnets of networks without one come from.
    pub(crate) pool: SubnetPool,
    /// `/proc/sys/net/ipv4` (tests may point elsewhere).
    pub(crate) sysctl_ipv4: PathBuf,
}

impl NetworkOptions {
    /// Docker's defaults: 172.17-31.0.0/16 then 192.168.0.0/20 blocks,
    /// with a table and chains named after the state root (the default root
    /// keeps the plain names).
    pub(crate) fn for_root(root: &std::path::Path) -> Self {
        let mut tools = Tools::default();
        if let Some(tag) = crate::root_tag(root) {
            tools.table = format!("stack_{tag}");
            tools.chains = IptablesChains::tagged(&tag);
        }
        let pool = [
            "172.17.0.0/16",
            "172.18.0.0/15",
            "172.20.0.0/14",
            "172.24.0.0/13",
        ]
        .iter()
        .filter_map(|b| b.parse::<Ipv4Net>().ok())
        .filter_map(|b| PoolEntry::new(b, 16).ok())
        .chain(
            "192.168.0.0/16"
                .parse::<Ipv4Net>()
                .ok()
                .and_then(|b| PoolEntry::new(b, 20).ok()),
        )
        .collect();
        Self {
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            tools,
            pool: SubnetPool::new(pool),
            sysctl_ipv4: PathBuf::from("/proc/sys/net/ipv4"),
        }
    }
}

/// One running container's network, as the manager tracks it.
#[derive(Debug, Clone)]
pub(crate) struct Active {
    pub(crate) name: String,
    pub(crate) hostname: String,
    pub(crate) network: ContainerNetwork,
}

#[derive(Default)]
struct State {
    networks: BTreeMap<String, NetworkRecord>,
    books: HashMap<String, AddressBook>,
    active: HashMap<String, Active>,
    /// Whether the default network's bridge exists (it is made for its
    /// first endpoint and removed after its last).
    default_bridge_up: bool,
}

impl State {
    /// The host ports running containers publish, with their names.
    fn published(&self) -> Vec<(ActivePort, String)> {
        self.active
            .values()
            .flat_map(|a| a.network.ports.iter().map(|p| (*p, a.name.clone())))
            .collect()
    }

    /// What the firewall must hold: every network whose bridge exists (the
    /// default one only while it is up) and every running container's
    /// published ports, forwarded to its address on its first network that
    /// is not internal.
    fn firewall_input(&self) -> (Vec<FirewallNetwork>, Vec<PortForward>) {
        let networks = (self.networks.values())
            .filter(|n| !n.default || self.default_bridge_up)
            .filter_map(|n| {
                Some(FirewallNetwork {
                    bridge: BridgeName::explicit(IfName::new(&n.bridge).ok()?),
                    subnet: n.subnet,
                    internal: n.internal,
                })
            })
            .collect();
        let forwards = (self.active.values())
            .flat_map(|a| self.port_forwards(&a.network))
            .collect();
        (networks, forwards)
    }

    /// The forwards of `network`'s published ports, to its address on the
    /// first non-internal network.
    fn port_forwards(&self, network: &ContainerNetwork) -> Vec<PortForward> {
        let Some(address) = network.endpoints.iter().find_map(|e| {
            let n = self.networks.get(&e.network_id)?;
            (!n.internal).then_some(e.address)
        }) else {
            return Vec::new();
        };
        (network.ports.iter())
            .map(|p| PortForward {
                host_ip: p.host_ip,
                host_port: p.host_port,
                container_ip: address,
                container_port: p.container_port,
                protocol: p.protocol,
            })
            .collect()
    }

    /// Whether a running container has an endpoint on the default network.
    fn default_in_use(&self) -> bool {
        self.active.values().any(|a| {
            (a.network.endpoints.iter())
                .any(|e| self.networks.get(&e.network_id).is_some_and(|n| n.default))
        })
    }
}

/// The networks of one daemon.
pub(crate) struct Networks {
    layout: Layout,
    options: NetworkOptions,
    netlink: Netlink,
    state: Mutex<State>,
    /// Serializes firewall updates; each applies the state as it is when
    /// it runs, so the last one always reflects the latest state.
    firewall: tokio::sync::Mutex<HostFirewall>,
    dns: dns::Dns,
    /// Whether the default network's bridge exists; held while making it,
    /// so concurrent starts wait for it rather than race.
    default_ready: tokio::sync::Mutex<bool>,
    /// Serializes network creation: the route dump it needs fails with
    /// EBUSY while another dump runs on the same netlink socket.
    creating: tokio::sync::Mutex<()>,
    /// What `stack info` shows of the firewall: the driver and what it
    /// holds.
    backend: Mutex<(&'static str, String)>,
}

/// A network as the API shows it.
#[derive(Debug, Clone)]
pub(crate) struct NetworkView {
    pub(crate) record: NetworkRecord,
    /// Container id → (name, endpoint) for running containers attached to it.
    pub(crate) containers: Vec<(String, String, crate::network::record::ActiveEndpoint)>,
}

impl Networks {
    /// Opens the networks of `layout`: loads the records, makes sure the
    /// default `bridge` network exists, re-creates bridges missing after a
    /// reboot, keeps the endpoints of containers in `running` (id, name,
    /// hostname) and tears
    /// down those of every other container, then brings the firewall and
    /// the DNS server in line.
    pub(crate) async fn open(
        layout: Layout,
        options: NetworkOptions,
        running: &[(String, String, String)],
        all_containers: &[String],
    ) -> Result<Arc<Networks>, NetError> {
        for dir in [layout.networks(), layout.netns_dir()] {
            std::fs::create_dir_all(&dir)
                .map_err(|e| NetError::Host(format!("cannot create {}: {e}", dir.display())))?;
        }
        let netlink = Netlink::connect().map_err(host_err)?;
        let host_conf = std::fs::read_to_string(&options.resolv_conf).unwrap_or_default();
        let networks = Arc::new(Networks {
            firewall: tokio::sync::Mutex::new(HostFirewall::new(options.tools.clone())),
            dns: dns::Dns::new(stack_dns::parse_resolv_conf(&host_conf)),
            layout,
            options,
            netlink,
            state: Mutex::new(State::default()),
            default_ready: tokio::sync::Mutex::new(false),
            creating: tokio::sync::Mutex::new(()),
            backend: Mutex::new(("nftables", String::new())),
        });
        networks.load_records().await?;
        networks.recover(running, all_containers).await;
        networks.sync_firewall().await?;
        networks.refresh_dns();
        Ok(networks)
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves plain data; keep serving.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    async fn load_records(&self) -> Result<(), NetError> {
        let dir = self.layout.networks();
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| NetError::Host(format!("cannot read {}: {e}", dir.display())))?;
        let mut records = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_some_and(|e| e == "json") {
                match state::read_json::<NetworkRecord>(&path) {
                    Ok(Some(record)) => records.push(record),
                    Ok(None) => {}
                    Err(error) => {
                        tracing::warn!(path = %path.display(), %error, "cannot read a network record; skipping it")
                    }
                }
            }
        }
        if !records.iter().any(|r| r.default) {
            records.push(self.new_default_record().await?);
        }
        for record in records {
            if !record.default {
                self.bring_up_bridge(&record).await?;
                self.dns.listen(&record).await;
            }
            let mut state = self.lock();
            state
                .books
                .insert(record.id.clone(), AddressBook::new(record.addressing()));
            state.networks.insert(record.id.clone(), record);
        }
        Ok(())
    }

    async fn new_default_record(&self) -> Result<NetworkRecord, NetError> {
        let routes = self.netlink.ipv4_routes().await.map_err(host_err)?;
        let addressing = ipam::plan_network(
            &self.options.pool,
            &SubnetRequest::default(),
            &routes,
            &self.taken_subnets(),
        )
        .map_err(|e| {
            NetError::Host(format!(
                "cannot choose a subnet for the default network: {e}"
            ))
        })?;
        let id = crate::container::names::new_id().map_err(host_err)?;
        let record = NetworkRecord {
            bridge: BridgeName::for_network(&id).as_str().to_owned(),
            id,
            name: "bridge".to_owned(),
            created: time::rfc3339_nanos(SystemTime::now()),
            internal: false,
            attachable: false,
            labels: HashMap::new(),
            options: HashMap::new(),
            subnet: addressing.subnet,
            gateway: addressing.gateway,
            ip_range: addressing.ip_range,
            explicit_subnet: false,
            default: true,
        };
        self.save(&record)?;
        Ok(record)
    }

    fn save(&self, record: &NetworkRecord) -> Result<(), NetError> {
        let path = self.layout.network_record(&record.id);
        state::write_json_atomic(&path, record)
            .map_err(|e| NetError::Host(format!("cannot write {}: {e}", path.display())))
    }

    fn taken_subnets(&self) -> Vec<TakenSubnet> {
        self.lock()
            .networks
            .values()
            .map(|n| TakenSubnet {
                subnet: n.subnet,
                network: n.name.clone(),
            })
            .collect()
    }

    async fn bring_up_bridge(&self, record: &NetworkRecord) -> Result<(), NetError> {
        let bridge = IfName::new(&record.bridge).map_err(host_err)?;
        let gateway = record.addressing().gateway_net();
        self.netlink
            .create_bridge(&bridge, gateway, MTU)
            .await
            .map_err(host_err)?;
        link::set_route_localnet(&self.options.sysctl_ipv4.join("conf"), &bridge)
            .and_then(|()| link::enable_ip_forward(&self.options.sysctl_ipv4))
            .map_err(host_err)
    }

    /// Checks a create request's published ports (`PortBindings`, `-P`
    /// over `ExposedPorts`): each must be well-formed, and each fixed host
    /// port free now, so that a doomed container is refused before it
    /// exists, naming the port and who holds it. (The start checks again
    /// and reserves.)
    pub(crate) fn check_ports(
        &self,
        host: &bollard_stubs::models::HostConfig,
        exposed: &[String],
    ) -> Result<(), NetError> {
        let requests = ports::requests(
            &host.port_bindings.clone().unwrap_or_default(),
            host.publish_all_ports.unwrap_or(false),
            exposed,
        )
        .map_err(NetError::Invalid)?;
        let taken = self.lock().published();
        ports::choose(
            &requests,
            &taken,
            &ports::probe_host,
            &ports::ephemeral_host,
        )
        .map(drop)
        .map_err(|errors| NetError::Conflict(errors.join("; ")))
    }

    /// Every network with its running containers' endpoints, by name.
    pub(crate) fn list(&self) -> Vec<NetworkView> {
        let state = self.lock();
        let mut views: Vec<NetworkView> = state
            .networks
            .values()
            .map(|record| view(&state, record))
            .collect();
        views.sort_by(|a, b| a.record.name.cmp(&b.record.name));
        views
    }

    /// The network named `reference` by full id, name, or unique id prefix.
    pub(crate) fn inspect(&self, reference: &str) -> Result<NetworkView, NetError> {
        let state = self.lock();
        let record = find(&state, reference)?;
        Ok(view(&state, record))
    }

    /// Where the firewall rules are: the nft table (and whether the
    /// iptables chain is in use), or the iptables chains.
    pub(crate) fn backend(&self) -> String {
        self.backend
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .1
            .clone()
    }

    /// The firewall driver in use: `nftables`, or `iptables` where `nft`
    /// is not installed.
    pub(crate) fn firewall_driver(&self) -> &'static str {
        self.backend.lock().unwrap_or_else(|p| p.into_inner()).0
    }

    /// Brings the firewall in line with the current state (networks with a
    /// bridge, published ports of running containers).
    async fn sync_firewall(&self) -> Result<(), NetError> {
        let mut firewall = self.firewall.lock().await;
        let (networks, forwards) = self.lock().firewall_input();
        let mut backend = std::mem::take(&mut *firewall);
        let (backend, outcome) = tokio::task::spawn_blocking(move || {
            let outcome = sync::sync(&mut backend, &networks, &forwards);
            (backend, outcome)
        })
        .await
        .map_err(host_err)?;
        *firewall = backend;
        let outcome = outcome.map_err(host_err)?;
        let shown = outcome.describe(&self.options.tools);
        *self.backend.lock().unwrap_or_else(|p| p.into_inner()) = shown;
        Ok(())
    }

    /// Rebuilds the DNS records from the running containers.
    fn refresh_dns(&self) {
        let state = self.lock();
        self.dns.update(&state.networks, &state.active);
    }

    /// Stops the DNS server; removes the default network's bridge when no
    /// running container uses it, and every rule when no network has a
    /// bridge left. Called when the daemon stops, so an idle engine leaves
    /// nothing in the host's firewall or interfaces (running containers
    /// and user-defined networks keep theirs).
    pub(crate) async fn shutdown(&self) {
        self.dns.stop_all();
        if let Err(error) = netns::release_dir(&self.layout.netns_dir()) {
            tracing::warn!(%error, "cannot remove the network namespace directory");
        }
        let (default_bridge, idle) = {
            let mut state = self.lock();
            let bridge = (state.default_bridge_up && !state.default_in_use())
                .then(|| state.networks.values().find(|n| n.default))
                .flatten()
                .and_then(|n| IfName::new(&n.bridge).ok());
            if bridge.is_some() {
                state.default_bridge_up = false;
            }
            let idle = state.active.is_empty() && state.networks.values().all(|n| n.default);
            (bridge, idle)
        };
        if let Some(bridge) = default_bridge {
            *self.default_ready.lock().await = false;
            if let Err(error) = self.netlink.delete_link(&bridge).await {
                tracing::warn!(%error, "cannot remove the default network's bridge");
            }
        }
        if idle {
            let mut firewall = self.firewall.lock().await;
            let mut backend = std::mem::take(&mut *firewall);
            let result = tokio::task::spawn_blocking(move || sync::teardown(&mut backend)).await;
            if let Ok(Err(error)) = result {
                tracing::warn!(%error, "cannot remove the firewall rules");
            }
        } else if let Err(error) = self.sync_firewall().await {
            tracing::warn!(%error, "cannot update the firewall");
        }
    }
}

fn view(state: &State, record: &NetworkRecord) -> NetworkView {
    let mut containers: Vec<_> = state
        .active
        .iter()
        .flat_map(|(id, active)| {
            active
                .network
                .endpoints
                .iter()
                .filter(|e| e.network_id == record.id)
                .map(|e| (id.clone(), active.name.clone(), e.clone()))
        })
        .collect();
    containers.sort_by(|a, b| a.1.cmp(&b.1));
    NetworkView {
        record: record.clone(),
        containers,
    }
}

/// Docker's lookup order: full id, exact name, then unique id prefix.
fn find<'a>(state: &'a State, reference: &str) -> Result<&'a NetworkRecord, NetError> {
    if let Some(record) = state.networks.get(reference) {
        return Ok(record);
    }
    if let Some(record) = state.networks.values().find(|n| n.name == reference) {
        return Ok(record);
    }
    let mut matches = state
        .networks
        .values()
        .filter(|n| !reference.is_empty() && n.id.starts_with(reference));
    match (matches.next(), matches.next()) {
        (Some(record), None) => Ok(record),
        (Some(_), Some(_)) => Err(NetError::NotFound(format!(
            "network {reference} is ambiguous: give more of its id"
        ))),
        _ => Err(NetError::NotFound(format!("network {reference} not found"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::firewall::rules::Protocol;
    use crate::network::record::{ActiveEndpoint, Namespace};

    fn network(id: &str, default: bool, internal: bool, subnet: &str) -> NetworkRecord {
        let subnet: Ipv4Net = subnet.parse().unwrap();
        NetworkRecord {
            id: id.into(),
            name: id.into(),
            created: String::new(),
            internal,
            attachable: false,
            labels: HashMap::new(),
            options: HashMap::new(),
            subnet,
            gateway: subnet.hosts().next().unwrap(),
            ip_range: subnet,
            explicit_subnet: true,
            bridge: format!("stk-{id}"),
            default,
        }
    }

    fn endpoint(network_id: &str, address: &str) -> ActiveEndpoint {
        ActiveEndpoint {
            network_id: network_id.into(),
            ifname: "eth0".into(),
            address: address.parse().unwrap(),
            prefix_len: 24,
            gateway: "10.0.0.1".parse().unwrap(),
            mac_address: String::new(),
            veth_host: String::new(),
            aliases: Vec::new(),
            links: Vec::new(),
            endpoint_id: String::new(),
        }
    }

    #[test]
    fn the_firewall_holds_bridges_that_exist_and_ports_to_the_first_routed_address() {
        let mut state = State::default();
        for n in [
            network("default", true, false, "10.0.0.0/24"),
            network("back", false, true, "10.0.1.0/24"),
            network("front", false, false, "10.0.2.0/24"),
        ] {
            state.networks.insert(n.id.clone(), n);
        }
        state.active.insert(
            "c1".into(),
            Active {
                name: "web".into(),
                hostname: "web".into(),
                network: ContainerNetwork {
                    namespace: Namespace::Private,
                    netns_file: None,
                    endpoints: vec![endpoint("back", "10.0.1.5"), endpoint("front", "10.0.2.7")],
                    ports: vec![ActivePort {
                        host_ip: None,
                        host_port: 8080,
                        container_port: 80,
                        protocol: Protocol::Tcp,
                    }],
                    hosts: String::new(),
                    resolv_conf: None,
                    dns_servers: Vec::new(),
                },
            },
        );
        let (networks, forwards) = state.firewall_input();
        let bridges: Vec<&str> = networks.iter().map(|n| n.bridge.as_str()).collect();
        assert_eq!(bridges, ["stk-back", "stk-front"]);
        assert_eq!(forwards.len(), 1);
        assert_eq!(forwards[0].container_ip.to_string(), "10.0.2.7");
        assert_eq!(state.published()[0].1, "web");
        assert!(!state.default_in_use());

        state.default_bridge_up = true;
        let (networks, _) = state.firewall_input();
        assert_eq!(networks.len(), 3);
    }
}
