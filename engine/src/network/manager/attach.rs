//! Starting and stopping a container's network: its endpoints at create,
//! its namespace, veth pairs, ports, DNS records and `/etc` files at start,
//! their teardown at exit, and their recovery after a daemon restart.

use std::net::Ipv4Addr;
use std::path::Path;

use bollard_stubs::models::{HostConfig, NetworkingConfig};
use ipnet::Ipv4Net;

use super::files::{self, LookupOptions};
use super::ports;
use super::{find, host_err, Active, NetError, Networks, State, MTU};
use crate::network::link::{self, EndpointSpec, Netns};
use crate::network::names::{IfName, VethNames};
use crate::network::netns;
use crate::network::record::{
    ActiveEndpoint, ContainerNetwork, EndpointRequest, Endpoints, Link, Mode, Namespace,
    NetworkRecord,
};
use crate::state;

/// What the network needs to know of a container being started.
pub(crate) struct ContainerFacts<'a> {
    pub(crate) id: &'a str,
    pub(crate) name: &'a str,
    pub(crate) hostname: &'a str,
    pub(crate) host_config: &'a HostConfig,
    /// `ExposedPorts` keys (`80/tcp`), for `-P`.
    pub(crate) exposed: Vec<String>,
}

/// The running container whose namespace a `container:` mode joins.
pub(crate) struct Peer {
    pub(crate) pid: i32,
    pub(crate) network: Option<ContainerNetwork>,
}

impl Networks {
    /// A container's wanted networks from its create request: the network
    /// of `NetworkMode` first, then the others of `EndpointsConfig`.
    /// `container` resolves `container:NAME` to an id.
    pub(crate) fn endpoints_for_create(
        &self,
        host: &HostConfig,
        networking: Option<&NetworkingConfig>,
        container: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Endpoints, NetError> {
        let configs = networking
            .and_then(|n| n.endpoints_config.clone())
            .unwrap_or_default();
        let mode_text = host.network_mode.as_deref().unwrap_or("");
        let mode = match mode_text {
            "none" => Mode::None,
            "host" => Mode::Host,
            other if other.starts_with("container:") => {
                let reference = &other["container:".len()..];
                let id = container(reference).ok_or_else(|| {
                    NetError::NotFound(format!(
                        "network mode {other:?}: no such container {reference}"
                    ))
                })?;
                Mode::Container(id)
            }
            _ => Mode::Bridge,
        };
        let host_links = parse_links(host.links.as_deref())?;
        if mode != Mode::Bridge {
            if !host_links.is_empty() {
                return Err(NetError::Invalid(format!(
                    "conflicting options: network mode {mode_text:?} cannot be used with links (links need a user-defined network)"
                )));
            }
            if configs
                .values()
                .any(|c| c.mac_address.as_deref().is_some_and(|m| !m.is_empty()))
            {
                return Err(NetError::Invalid(format!(
                    "conflicting options: network mode {mode_text:?} cannot be used with a MAC address (the container has no interface of its own)"
                )));
            }
            if configs.keys().any(|k| k != mode_text) {
                return Err(NetError::Invalid(format!(
                    "a container with network mode {mode_text:?} cannot be attached to other networks"
                )));
            }
            return Ok(Endpoints {
                mode,
                networks: Vec::new(),
            });
        }
        let first = match mode_text {
            "" | "default" => "bridge",
            name => name,
        };
        let state = self.lock();
        let mut names: Vec<&str> = vec![first];
        let mut others: Vec<&String> = configs.keys().filter(|k| k.as_str() != first).collect();
        others.sort();
        names.extend(others.iter().map(|s| s.as_str()));
        let mut networks = Vec::new();
        for name in names {
            let record = find(&state, name)?;
            let config = configs.get(name).cloned().unwrap_or_default();
            let ipv4_address = config
                .ipam_config
                .and_then(|c| c.ipv4_address)
                .filter(|a| !a.is_empty())
                .map(|a| {
                    a.parse::<Ipv4Addr>().map_err(|_| {
                        NetError::Invalid(format!(
                            "invalid IPv4 address {a:?} for network {}",
                            record.name
                        ))
                    })
                })
                .transpose()?;
            let mut links = parse_links(config.links.as_deref())?;
            // Docker applies HostConfig.Links to the network of NetworkMode.
            if name == first {
                links.splice(0..0, host_links.iter().cloned());
            }
            let request = EndpointRequest {
                aliases: config.aliases.unwrap_or_default(),
                ipv4_address,
                links,
                mac_address: requested_mac(config.mac_address.as_deref(), &record.name)?,
            };
            check_scoped(record, &request)?;
            if let Some(address) = ipv4_address {
                if !record.subnet.contains(&address) {
                    return Err(NetError::Invalid(format!(
                        "address {address} is not in subnet {} of network {}",
                        record.subnet, record.name
                    )));
                }
            }
            networks.push((record.id.clone(), request));
        }
        Ok(Endpoints {
            mode: Mode::Bridge,
            networks,
        })
    }

    /// A container's wanted networks as the record to write at its create.
    pub(crate) fn endpoints_record(
        &self,
        id: &str,
        endpoints: &Endpoints,
    ) -> Result<state::Record, NetError> {
        let path = self.layout.container_endpoints(id);
        state::Record::json(path, endpoints)
            .map_err(|e| NetError::Host(format!("cannot encode the networks of {id}: {e}")))
    }

    /// Records a container's wanted networks (on connect and disconnect).
    pub(crate) fn save_endpoints(&self, id: &str, endpoints: &Endpoints) -> Result<(), NetError> {
        let path = self.layout.container_endpoints(id);
        state::write_json_atomic(&path, endpoints)
            .map_err(|e| NetError::Host(format!("cannot write {}: {e}", path.display())))
    }

    /// A container's wanted networks; a container without the file (made
    /// before networks existed) is on the default network.
    pub(crate) fn endpoints(&self, id: &str) -> Endpoints {
        let path = self.layout.container_endpoints(id);
        match state::read_json::<Endpoints>(&path) {
            Ok(Some(endpoints)) => endpoints,
            _ => Endpoints {
                mode: Mode::Bridge,
                networks: self
                    .lock()
                    .networks
                    .values()
                    .filter(|n| n.default)
                    .map(|n| (n.id.clone(), EndpointRequest::default()))
                    .collect(),
            },
        }
    }

    /// The network of a running container.
    pub(crate) fn active(&self, id: &str) -> Option<ContainerNetwork> {
        self.lock().active.get(id).map(|a| a.network.clone())
    }

    /// Sets up a starting container's network before its monitor runs:
    /// namespace, endpoints, host ports, firewall, DNS records and the
    /// `/etc` files, recorded in its `network.json`. On failure nothing of
    /// it is left.
    pub(crate) async fn prepare(
        &self,
        c: &ContainerFacts<'_>,
        peer: Option<Peer>,
    ) -> Result<ContainerNetwork, NetError> {
        let wanted = self.endpoints(c.id);
        let host = c.host_config;
        let lookup = LookupOptions {
            dns: (host.dns.iter().flatten())
                .map(|d| {
                    d.parse().map_err(|_| {
                        NetError::Invalid(format!("invalid DNS server {d:?}: give an IP address"))
                    })
                })
                .collect::<Result<_, _>>()?,
            search: host.dns_search.clone().unwrap_or_default(),
            options: host.dns_options.clone().unwrap_or_default(),
            extra_hosts: host.extra_hosts.clone().unwrap_or_default(),
        };
        let host_conf = stack_dns::parse_resolv_conf(
            &std::fs::read_to_string(&self.options.resolv_conf).unwrap_or_default(),
        );
        let network = match &wanted.mode {
            Mode::None => ContainerNetwork {
                namespace: Namespace::Private,
                netns_file: None,
                endpoints: Vec::new(),
                ports: Vec::new(),
                hosts: files::hosts(
                    c.hostname,
                    None,
                    &files::extra_hosts(&lookup.extra_hosts, None).map_err(NetError::Invalid)?,
                ),
                resolv_conf: Some(files::resolv_conf_direct(&host_conf, &lookup)),
                dns_servers: lookup.dns.clone(),
            },
            Mode::Host => ContainerNetwork {
                namespace: Namespace::Host,
                netns_file: None,
                endpoints: Vec::new(),
                ports: Vec::new(),
                hosts: std::fs::read_to_string("/etc/hosts").unwrap_or_default(),
                resolv_conf: std::fs::read_to_string(&self.options.resolv_conf).ok(),
                dns_servers: lookup.dns.clone(),
            },
            Mode::Container(other) => {
                let peer = peer.ok_or_else(|| {
                    NetError::Conflict(format!(
                        "cannot join the network namespace of container {other}: it is not running"
                    ))
                })?;
                let namespace = match peer.network.as_ref().and_then(|n| n.netns_file.clone()) {
                    Some(file) => Namespace::Join(file),
                    None => match peer.network.as_ref().map(|n| &n.namespace) {
                        Some(Namespace::Host) => Namespace::Host,
                        _ => Namespace::Join(format!("/proc/{}/ns/net", peer.pid).into()),
                    },
                };
                let base = peer.network.unwrap_or_else(|| ContainerNetwork {
                    namespace: Namespace::Private,
                    netns_file: None,
                    endpoints: Vec::new(),
                    ports: Vec::new(),
                    hosts: files::hosts(c.hostname, None, &[]),
                    resolv_conf: None,
                    dns_servers: Vec::new(),
                });
                ContainerNetwork {
                    namespace,
                    netns_file: None,
                    endpoints: Vec::new(),
                    ports: Vec::new(),
                    ..base
                }
            }
            Mode::Bridge => return self.prepare_bridge(c, &wanted, &lookup, &host_conf).await,
        };
        self.write_network(c.id, &network)?;
        Ok(network)
    }

    async fn prepare_bridge(
        &self,
        c: &ContainerFacts<'_>,
        wanted: &Endpoints,
        lookup: &LookupOptions,
        host_conf: &stack_dns::HostResolvConf,
    ) -> Result<ContainerNetwork, NetError> {
        let host = c.host_config;
        let requests = ports::requests(
            &host.port_bindings.clone().unwrap_or_default(),
            host.publish_all_ports.unwrap_or(false),
            &c.exposed,
        )
        .map_err(NetError::Invalid)?;
        let netns_file = self.layout.container_netns(c.id);
        let (mut network, records) =
            self.reserve(c, wanted, &requests, lookup, host_conf, &netns_file)?;
        let new_bridge = match self.wire(c.id, &mut network, &records, &netns_file).await {
            Ok(new_bridge) => new_bridge,
            Err(error) => {
                self.release(c.id).await;
                return Err(error);
            }
        };
        if !network.ports.is_empty() || new_bridge {
            if let Err(error) = self.sync_firewall().await {
                self.release(c.id).await;
                return Err(error);
            }
        }
        self.refresh_dns();
        if let Err(error) = self.write_network(c.id, &network) {
            self.release(c.id).await;
            return Err(error);
        }
        Ok(network)
    }

    /// Takes the addresses and host ports under the lock and records the
    /// container as active, so concurrent starts see them.
    #[allow(clippy::too_many_arguments)]
    fn reserve(
        &self,
        c: &ContainerFacts<'_>,
        wanted: &Endpoints,
        requests: &[ports::PortRequest],
        lookup: &LookupOptions,
        host_conf: &stack_dns::HostResolvConf,
        netns_file: &Path,
    ) -> Result<(ContainerNetwork, Vec<NetworkRecord>), NetError> {
        let mut state = self.lock();
        let mut endpoints = Vec::new();
        let mut records = Vec::new();
        let undo = |state: &mut State, endpoints: &[ActiveEndpoint]| {
            for e in endpoints {
                if let Some(book) = state.books.get_mut(&e.network_id) {
                    book.release(e.address);
                }
            }
        };
        for (index, (network_id, request)) in wanted.networks.iter().enumerate() {
            let Some(record) = state.networks.get(network_id).cloned() else {
                undo(&mut state, &endpoints);
                return Err(NetError::NotFound(format!(
                    "network {network_id} not found: it was removed; disconnect the container from it or connect it to another network"
                )));
            };
            let endpoint_id = match crate::container::names::new_id() {
                Ok(id) => id,
                Err(error) => {
                    undo(&mut state, &endpoints);
                    return Err(host_err(error));
                }
            };
            let allocated = state
                .books
                .get_mut(network_id)
                .ok_or_else(|| {
                    NetError::Host(format!("network {} has no address book", record.name))
                })
                .and_then(|book| {
                    book.allocate(c.id, request.ipv4_address)
                        .map_err(|e| NetError::Conflict(format!("network {}: {e}", record.name)))
                });
            let address = match allocated {
                Ok(address) => address,
                Err(error) => {
                    undo(&mut state, &endpoints);
                    return Err(error);
                }
            };
            endpoints.push(new_endpoint(
                c,
                &record,
                index as u16,
                address,
                request,
                endpoint_id,
            ));
            records.push(record);
        }
        let routed = records.iter().any(|r| !r.internal);
        if !requests.is_empty() && !routed {
            undo(&mut state, &endpoints);
            return Err(NetError::Invalid(
                "published ports need the container on a network that is not internal".to_owned(),
            ));
        }
        let taken = state.published();
        let chosen =
            match ports::choose(requests, &taken, &ports::probe_host, &ports::ephemeral_host) {
                Ok(chosen) => chosen,
                Err(errors) => {
                    undo(&mut state, &endpoints);
                    return Err(NetError::Conflict(errors.join("; ")));
                }
            };
        let first_user = records
            .iter()
            .zip(&endpoints)
            .find(|(r, _)| !r.default)
            .map(|(r, _)| r.gateway);
        let gateway = records.first().map(|r| r.gateway);
        let extra = match files::extra_hosts(&lookup.extra_hosts, gateway) {
            Ok(extra) => extra,
            Err(message) => {
                undo(&mut state, &endpoints);
                return Err(NetError::Invalid(message));
            }
        };
        let network = ContainerNetwork {
            namespace: Namespace::Join(netns_file.to_path_buf()),
            netns_file: Some(netns_file.to_path_buf()),
            hosts: files::hosts(c.hostname, endpoints.first().map(|e| e.address), &extra),
            resolv_conf: Some(match first_user {
                Some(server) => files::resolv_conf_served(server, host_conf, lookup),
                None => files::resolv_conf_direct(host_conf, lookup),
            }),
            dns_servers: lookup.dns.clone(),
            endpoints,
            ports: chosen,
        };
        state.active.insert(
            c.id.to_owned(),
            Active {
                name: c.name.to_owned(),
                hostname: c.hostname.to_owned(),
                network: network.clone(),
            },
        );
        Ok((network, records))
    }

    /// The kernel side: the namespace file and one veth pair per network.
    /// Returns whether the default network's bridge had to be made (the
    /// firewall then needs it).
    async fn wire(
        &self,
        id: &str,
        network: &mut ContainerNetwork,
        records: &[NetworkRecord],
        netns_file: &Path,
    ) -> Result<bool, NetError> {
        let file = netns_file.to_path_buf();
        tokio::task::spawn_blocking(move || {
            netns::remove(&file)?;
            netns::create(&file)
        })
        .await
        .map_err(host_err)?
        .map_err(host_err)?;
        let ns = Netns::open(netns_file).map_err(host_err)?;
        let mut route_given = false;
        let mut new_bridge = false;
        for (endpoint, record) in network.endpoints.iter_mut().zip(records) {
            if record.default {
                new_bridge |= self.ensure_default_bridge(record).await?;
            }
            endpoint.mac_address = self
                .attach_one(id, endpoint, record, &ns, !route_given && !record.internal)
                .await?;
            route_given |= !record.internal;
        }
        Ok(new_bridge)
    }

    /// Makes the default network's bridge unless it exists; true when it
    /// was made now. It stays until the daemon stops idle.
    pub(super) async fn ensure_default_bridge(
        &self,
        record: &NetworkRecord,
    ) -> Result<bool, NetError> {
        let mut ready = self.default_ready.lock().await;
        if *ready {
            return Ok(false);
        }
        self.bring_up_bridge(record).await?;
        *ready = true;
        self.lock().default_bridge_up = true;
        Ok(true)
    }

    /// Wires `endpoint` of container `id` to `record`'s bridge and
    /// records the MAC address the kernel gave it in the active state
    /// (inspect shows it); returns that address.
    pub(super) async fn attach_one(
        &self,
        id: &str,
        endpoint: &ActiveEndpoint,
        record: &NetworkRecord,
        ns: &Netns,
        default_route: bool,
    ) -> Result<String, NetError> {
        let bridge = IfName::new(&record.bridge).map_err(host_err)?;
        let ifname = IfName::new(&endpoint.ifname).map_err(host_err)?;
        let address = Ipv4Net::new(endpoint.address, endpoint.prefix_len).map_err(host_err)?;
        let veth = VethNames::for_endpoint(id, &record.id);
        let mac = link::attach_endpoint(
            &self.netlink,
            &EndpointSpec {
                bridge: &bridge,
                veth: &veth,
                netns: ns,
                ifname: &ifname,
                address,
                default_route: default_route.then_some(record.gateway),
                mtu: MTU,
                mac: link::mac_bytes(&endpoint.mac_address),
            },
        )
        .await
        .map_err(|e| NetError::Host(format!("cannot attach to network {}: {e}", record.name)))?;
        let mut state = self.lock();
        let active = state.active.get_mut(id).into_iter();
        for e in active.flat_map(|a| a.network.endpoints.iter_mut()) {
            if e.network_id == record.id {
                e.mac_address = mac.clone();
            }
        }
        Ok(mac)
    }

    pub(super) fn write_network(
        &self,
        id: &str,
        network: &ContainerNetwork,
    ) -> Result<(), NetError> {
        let path = self.layout.container_network(id);
        state::write_json_replace(&path, network)
            .map_err(|e| NetError::Host(format!("cannot write {}: {e}", path.display())))
    }

    /// Tears down a container's network (after it exited, or a failed
    /// start): endpoints, namespace file, addresses, ports, records. Safe
    /// to repeat; works from `network.json` when the daemon restarted.
    pub(crate) async fn release(&self, id: &str) {
        let path = self.layout.container_network(id);
        let network = {
            let mut state = self.lock();
            let network = state.active.remove(id).map(|a| a.network);
            let network = network.or_else(|| state::read_json(&path).ok().flatten());
            for e in network.iter().flat_map(|n| &n.endpoints) {
                if let Some(book) = state.books.get_mut(&e.network_id) {
                    book.release(e.address);
                }
            }
            network.map(|network| {
                let shared = outlives_its_container(&network, state.active.values());
                (network, shared)
            })
        };
        let Some((network, shared)) = network else {
            return;
        };
        // Once its file is unmounted, the namespace dies with its last
        // process, and the kernel deletes its veth pairs then, all dying
        // namespaces in one batch. Deleting each pair here instead costs
        // one wait for the network stack's quiescence per pair (tens of
        // milliseconds each, serialized host-wide), which made removing
        // many containers slow. Only a namespace that another container
        // joined outlives this container: its pairs go now, so that the
        // addresses just released are not left answering on the bridge.
        if shared {
            for e in &network.endpoints {
                let veth = VethNames::for_endpoint(id, &e.network_id);
                if let Err(error) = link::detach_endpoint(&self.netlink, &veth).await {
                    tracing::warn!(id, %error, "cannot remove an endpoint");
                }
            }
        }
        if let Some(file) = network.netns_file.clone() {
            let removed = tokio::task::spawn_blocking(move || netns::remove(&file)).await;
            if let Ok(Err(error)) = removed {
                tracing::warn!(id, %error, "cannot remove the network namespace");
            }
        }
        if !network.ports.is_empty() {
            if let Err(error) = self.sync_firewall().await {
                tracing::warn!(id, %error, "cannot update the firewall");
            }
        }
        self.refresh_dns();
        let _ = std::fs::remove_file(&path);
    }

    /// After a restart: keeps the networks of `running` containers (id,
    /// name, hostname) and tears down those of every other container.
    pub(crate) async fn recover(&self, running: &[(String, String, String)], all: &[String]) {
        for id in all {
            let path = self.layout.container_network(id);
            let Ok(Some(network)) = state::read_json::<ContainerNetwork>(&path) else {
                continue;
            };
            match running.iter().find(|(r, _, _)| r == id) {
                Some((_, name, hostname)) => {
                    let mut state = self.lock();
                    for e in &network.endpoints {
                        if let Some(book) = state.books.get_mut(&e.network_id) {
                            let _ = book.allocate(id, Some(e.address));
                        }
                    }
                    state.active.insert(
                        id.clone(),
                        Active {
                            name: name.clone(),
                            hostname: hostname.clone(),
                            network,
                        },
                    );
                }
                None => self.release(id).await,
            }
        }
        let default_used = self.lock().default_in_use();
        if default_used {
            let record = self.lock().networks.values().find(|n| n.default).cloned();
            if let Some(record) = record {
                if let Err(error) = self.ensure_default_bridge(&record).await {
                    tracing::warn!(%error, "cannot bring up the default network's bridge");
                }
            }
        }
        // Namespace files whose container is not running (a crash between
        // making one and recording it).
        let known: Vec<&String> = running.iter().map(|(id, _, _)| id).collect();
        for entry in std::fs::read_dir(self.layout.netns_dir())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !known.iter().any(|k| **k == name) {
                if let Err(error) = netns::remove(&entry.path()) {
                    tracing::warn!(%error, "cannot remove a stale network namespace");
                }
            }
        }
    }
}

/// Refuses what only user-defined networks take (Docker's rule).
pub(super) fn check_scoped(
    record: &NetworkRecord,
    request: &EndpointRequest,
) -> Result<(), NetError> {
    if record.default && (!request.aliases.is_empty() || request.ipv4_address.is_some()) {
        return Err(NetError::Invalid(
            "network-scoped aliases and fixed addresses are supported only on user-defined networks (create one with `stack network create`)".to_owned(),
        ));
    }
    if record.default && !request.links.is_empty() {
        return Err(NetError::Invalid(
            "links on the default bridge network (Docker's legacy links, with /etc/hosts entries and environment variables) are not supported: attach the containers to a user-defined network, where a link is a name the linking container resolves".to_owned(),
        ));
    }
    Ok(())
}

/// The links of a request, in Docker's `NAME[:ALIAS]` forms.
fn parse_links(texts: Option<&[String]>) -> Result<Vec<Link>, NetError> {
    (texts.into_iter().flatten())
        .map(|text| Link::parse(text).map_err(NetError::Invalid))
        .collect()
}

/// Whether `network`'s namespace lives on after its container: another
/// running container (in `active`) joined it. Its veth pairs must then be
/// deleted explicitly; otherwise they die with the namespace.
fn outlives_its_container<'a>(
    network: &ContainerNetwork,
    mut active: impl Iterator<Item = &'a Active>,
) -> bool {
    network.netns_file.as_ref().is_some_and(|file| {
        let joined = Namespace::Join(file.clone());
        active.any(|a| a.network.namespace == joined)
    })
}

/// A MAC address asked for on network `network` (empty is none), in
/// Docker's form.
pub(crate) fn requested_mac(text: Option<&str>, network: &str) -> Result<Option<String>, NetError> {
    text.filter(|m| !m.is_empty())
        .map(|m| {
            link::parse_mac(m).map_err(|e| NetError::Invalid(format!("network {network}: {e}")))
        })
        .transpose()
}

/// The endpoint of container `c` on `record` as interface `eth<index>` at
/// `address`: on user-defined networks it answers to the container's name
/// first, then the request's aliases.
pub(super) fn new_endpoint(
    c: &ContainerFacts<'_>,
    record: &NetworkRecord,
    index: u16,
    address: Ipv4Addr,
    request: &EndpointRequest,
    endpoint_id: String,
) -> ActiveEndpoint {
    let mut aliases = request.aliases.clone();
    if !record.default && !aliases.iter().any(|a| a == c.name) {
        aliases.insert(0, c.name.to_owned());
    }
    ActiveEndpoint {
        network_id: record.id.clone(),
        ifname: IfName::container(index).as_str().to_owned(),
        address,
        prefix_len: record.subnet.prefix_len(),
        gateway: record.gateway,
        mac_address: request.mac_address.clone().unwrap_or_default(),
        veth_host: VethNames::for_endpoint(c.id, &record.id)
            .host
            .as_str()
            .to_owned(),
        aliases,
        links: request.links.clone(),
        endpoint_id,
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn record(default: bool) -> NetworkRecord {
        NetworkRecord {
            id: "n1".into(),
            name: if default { "bridge" } else { "shop" }.into(),
            created: String::new(),
            internal: false,
            attachable: false,
            labels: HashMap::new(),
            options: HashMap::new(),
            subnet: "10.9.0.0/24".parse().unwrap(),
            gateway: "10.9.0.1".parse().unwrap(),
            ip_range: "10.9.0.0/24".parse().unwrap(),
            explicit_subnet: true,
            bridge: "stk-test".into(),
            default,
        }
    }

    #[test]
    fn only_a_namespace_another_container_joined_outlives_its_container() {
        let own = |file: Option<&str>| ContainerNetwork {
            namespace: Namespace::Private,
            netns_file: file.map(Into::into),
            endpoints: Vec::new(),
            ports: Vec::new(),
            hosts: String::new(),
            resolv_conf: None,
            dns_servers: Vec::new(),
        };
        let joiner = |namespace: Namespace| Active {
            name: "joiner".into(),
            hostname: "joiner".into(),
            network: ContainerNetwork {
                namespace,
                ..own(None)
            },
        };
        let file = "/run/stack/netns/a";
        let joined = [joiner(Namespace::Join(file.into()))];
        let elsewhere = [
            joiner(Namespace::Join("/run/stack/netns/b".into())),
            joiner(Namespace::Private),
        ];
        assert!(outlives_its_container(&own(Some(file)), joined.iter()));
        assert!(!outlives_its_container(&own(Some(file)), elsewhere.iter()));
        assert!(!outlives_its_container(&own(None), joined.iter()));
    }

    #[test]
    fn endpoints_answer_to_the_container_name_first_on_user_networks_only() {
        let host = HostConfig::default();
        let c = ContainerFacts {
            id: "c1",
            name: "shop-web-1",
            hostname: "web",
            host_config: &host,
            exposed: Vec::new(),
        };
        let link = Link::parse("shop-db-1:database").unwrap();
        let request = EndpointRequest {
            aliases: vec!["web".into()],
            ipv4_address: None,
            links: vec![link.clone()],
            mac_address: Some("02:42:ac:11:00:0a".into()),
        };
        let address = "10.9.0.2".parse().unwrap();
        let user = new_endpoint(&c, &record(false), 1, address, &request, "e".into());
        assert_eq!(user.aliases, ["shop-web-1", "web"]);
        assert_eq!(user.mac_address, "02:42:ac:11:00:0a");
        assert_eq!(user.links, [link]);
        assert_eq!(user.ifname, "eth1");
        assert_eq!(
            (user.prefix_len, user.gateway.to_string()),
            (24, "10.9.0.1".into())
        );
        let plain = EndpointRequest::default();
        let default = new_endpoint(&c, &record(true), 0, address, &plain, "e".into());
        assert!(default.aliases.is_empty());
    }

    #[test]
    fn aliases_links_and_fixed_addresses_are_refused_on_the_default_network() {
        let alias = EndpointRequest {
            aliases: vec!["db".into()],
            ..EndpointRequest::default()
        };
        let fixed = EndpointRequest {
            ipv4_address: Some("10.9.0.9".parse().unwrap()),
            ..EndpointRequest::default()
        };
        let linked = EndpointRequest {
            links: vec![Link::parse("db").unwrap()],
            ..EndpointRequest::default()
        };
        for request in [&alias, &fixed, &linked] {
            assert!(check_scoped(&record(true), request).is_err());
            assert!(check_scoped(&record(false), request).is_ok());
        }
    }
}
