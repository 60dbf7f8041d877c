//! The immutable record set: per network, which names resolve to which
//! addresses, and which networks each asker may see.
//!
//! A [`RecordSet`] is built in one go from endpoint descriptions and never
//! changed afterwards; the server swaps a whole new set in on every update, so
//! one query always sees one consistent snapshot.

mod name;

use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

pub use name::{DnsName, NameError, NameErrorReason, NetworkName};

/// One container's attachment to one network, as the engine describes it.
///
/// Every name given here (the container name and each alias: service name,
/// network aliases, hostname) resolves on `network` to this endpoint's
/// addresses; names shared by several endpoints (replicas) resolve to all of
/// them.
#[derive(Debug, Clone)]
pub struct Endpoint {
    network: NetworkName,
    container: DnsName,
    aliases: Vec<DnsName>,
    links: Vec<(DnsName, DnsName)>,
    ipv4: Option<Ipv4Addr>,
    ipv6: Option<Ipv6Addr>,
    upstreams: Option<Vec<SocketAddr>>,
}

impl Endpoint {
    /// An endpoint of `container` on `network`, with no address yet.
    pub fn new(network: NetworkName, container: DnsName) -> Self {
        Endpoint {
            network,
            container,
            aliases: Vec::new(),
            links: Vec::new(),
            ipv4: None,
            ipv6: None,
            upstreams: None,
        }
    }

    /// Adds a further name for this endpoint (service name, alias, hostname).
    pub fn alias(mut self, name: DnsName) -> Self {
        self.aliases.push(name);
        self
    }

    /// A link (Docker's legacy links on a user-defined network): `alias`
    /// resolves, for this container only and on this endpoint's network, to
    /// whatever `target` resolves to there at the time of the query.
    pub fn link(mut self, alias: DnsName, target: DnsName) -> Self {
        self.links.push((alias, target));
        self
    }

    /// Sets the endpoint's IPv4 address.
    pub fn ipv4(mut self, address: Ipv4Addr) -> Self {
        self.ipv4 = Some(address);
        self
    }

    /// Sets the endpoint's IPv6 address.
    pub fn ipv6(mut self, address: Ipv6Addr) -> Self {
        self.ipv6 = Some(address);
        self
    }

    /// The container's own upstream servers (its `dns:` option), used instead
    /// of the default ones for names this server does not know. Give the same
    /// list on every endpoint of the container.
    pub fn upstreams(mut self, servers: Vec<SocketAddr>) -> Self {
        self.upstreams = Some(servers);
        self
    }
}

/// Addresses of one name on one network, sorted so answers are deterministic
/// before rotation.
#[derive(Debug, Default, Clone)]
pub(crate) struct Addresses {
    pub(crate) v4: Vec<Ipv4Addr>,
    pub(crate) v6: Vec<Ipv6Addr>,
}

/// A container as seen by the server: its name, the networks it is attached
/// to (sorted), its own upstreams if it has a `dns:` option, and its links
/// (network, alias, target).
#[derive(Debug)]
pub(crate) struct Container {
    pub(crate) name: DnsName,
    pub(crate) networks: Vec<NetworkName>,
    pub(crate) upstreams: Option<Arc<[SocketAddr]>>,
    pub(crate) links: Vec<(NetworkName, DnsName, DnsName)>,
}

impl Container {
    /// The name `alias` stands for on `network`, for this container only.
    pub(crate) fn link(&self, network: &str, alias: &str) -> Option<&DnsName> {
        self.links
            .iter()
            .find(|(n, a, _)| n.as_str() == network && a.as_str() == alias)
            .map(|(_, _, target)| target)
    }
}

/// The records of one network.
#[derive(Debug, Default)]
pub(crate) struct NetworkRecords {
    /// The network name as a DNS suffix for `name.network` queries; `None`
    /// when the network name is not a valid DNS name (for example it contains
    /// `..`), so only the short forms work there.
    pub(crate) suffix: Option<DnsName>,
    pub(crate) names: HashMap<DnsName, Addresses>,
    /// Address → index into [`RecordSet::containers`]; both the asker map
    /// and the reverse (PTR) map.
    pub(crate) members: HashMap<IpAddr, usize>,
}

impl NetworkRecords {
    fn lookup(&self, name: &str) -> Option<&Addresses> {
        if let Some(addresses) = self.names.get(name) {
            return Some(addresses);
        }
        let suffix = self.suffix.as_ref()?;
        let short = name.strip_suffix(suffix.as_str())?.strip_suffix('.')?;
        self.names.get(short)
    }
}

/// All DNS records the server answers, immutable once built.
#[derive(Debug, Default)]
pub struct RecordSet {
    pub(crate) networks: HashMap<NetworkName, NetworkRecords>,
    pub(crate) containers: Vec<Container>,
    pub(crate) upstreams: Arc<[SocketAddr]>,
}

impl RecordSet {
    /// Starts an empty builder.
    pub fn builder() -> RecordSetBuilder {
        RecordSetBuilder::default()
    }

    /// The container that owns `address` on `network`, if any.
    pub(crate) fn asker(&self, network: &str, address: IpAddr) -> Option<&Container> {
        let index = *self.networks.get(network)?.members.get(&address)?;
        self.containers.get(index)
    }

    /// Looks `name` up on one network, in short or `name.network` form.
    pub(crate) fn lookup(&self, network: &str, name: &str) -> Option<&Addresses> {
        self.networks.get(network)?.lookup(name)
    }

    /// Whether `name` exists on any network at all.
    pub(crate) fn exists_anywhere(&self, name: &str) -> bool {
        self.networks
            .values()
            .any(|records| records.lookup(name).is_some())
    }

    /// The PTR target for `address` on `network`: `container.network`, as
    /// Docker answers, or the bare container name when the network name is not
    /// a DNS name.
    pub(crate) fn reverse(&self, network: &str, address: IpAddr) -> Option<String> {
        let records = self.networks.get(network)?;
        let container = self.containers.get(*records.members.get(&address)?)?;
        Some(match &records.suffix {
            Some(suffix) => format!("{}.{}", container.name, suffix),
            None => container.name.to_string(),
        })
    }

    /// Whether `address` belongs to an endpoint on any network.
    pub(crate) fn is_member_anywhere(&self, address: IpAddr) -> bool {
        self.networks
            .values()
            .any(|records| records.members.contains_key(&address))
    }
}

/// Collects endpoints and the default upstream servers, then checks them all
/// at once in [`RecordSetBuilder::build`].
#[derive(Debug, Default)]
pub struct RecordSetBuilder {
    endpoints: Vec<Endpoint>,
    upstreams: Vec<SocketAddr>,
}

impl RecordSetBuilder {
    /// Sets the default upstream servers for names not served here (usually
    /// from the host's resolv.conf, see [`crate::parse_resolv_conf`]).
    pub fn upstreams(&mut self, servers: Vec<SocketAddr>) -> &mut Self {
        self.upstreams = servers;
        self
    }

    /// Adds one endpoint.
    pub fn endpoint(&mut self, endpoint: Endpoint) -> &mut Self {
        self.endpoints.push(endpoint);
        self
    }

    /// Builds the record set, or reports every conflict found: an address
    /// claimed by two containers on one network, a container with two
    /// endpoints on one network, or different upstream lists for one
    /// container.
    pub fn build(self) -> Result<RecordSet, BuildError> {
        let mut set = RecordSet {
            upstreams: self.upstreams.into(),
            ..RecordSet::default()
        };
        let mut conflicts = Vec::new();
        let mut container_index: HashMap<DnsName, usize> = HashMap::new();
        for endpoint in self.endpoints {
            let index = *container_index
                .entry(endpoint.container.clone())
                .or_insert_with(|| {
                    set.containers.push(Container {
                        name: endpoint.container.clone(),
                        networks: Vec::new(),
                        upstreams: None,
                        links: Vec::new(),
                    });
                    set.containers.len() - 1
                });
            let container = &mut set.containers[index];
            if container.networks.contains(&endpoint.network) {
                conflicts.push(Conflict::DuplicateEndpoint {
                    network: endpoint.network.clone(),
                    container: endpoint.container.clone(),
                });
                continue;
            }
            container.networks.push(endpoint.network.clone());
            let network = &endpoint.network;
            container.links.extend(
                (endpoint.links.into_iter())
                    .map(|(alias, target)| (network.clone(), alias, target)),
            );
            if let Some(servers) = endpoint.upstreams {
                match &container.upstreams {
                    Some(existing) if **existing != *servers => {
                        conflicts.push(Conflict::Upstreams {
                            container: endpoint.container.clone(),
                        });
                    }
                    _ => container.upstreams = Some(servers.into()),
                }
            }
            let records = set
                .networks
                .entry(endpoint.network.clone())
                .or_insert_with(|| NetworkRecords {
                    suffix: DnsName::parse(endpoint.network.as_str()).ok(),
                    ..NetworkRecords::default()
                });
            let addresses = endpoint.ipv4.map(IpAddr::V4).into_iter();
            for address in addresses.chain(endpoint.ipv6.map(IpAddr::V6)) {
                match records.members.entry(address) {
                    Entry::Vacant(slot) => {
                        slot.insert(index);
                    }
                    Entry::Occupied(slot) => {
                        conflicts.push(Conflict::Address {
                            network: endpoint.network.clone(),
                            address,
                            first: set.containers[*slot.get()].name.clone(),
                            second: endpoint.container.clone(),
                        });
                    }
                }
            }
            let names = std::iter::once(endpoint.container).chain(endpoint.aliases);
            for name in names {
                let entry = records.names.entry(name).or_default();
                entry.v4.extend(endpoint.ipv4);
                entry.v6.extend(endpoint.ipv6);
            }
        }
        if !conflicts.is_empty() {
            conflicts.sort_by_key(ToString::to_string);
            return Err(BuildError { conflicts });
        }
        for container in &mut set.containers {
            container.networks.sort();
        }
        for records in set.networks.values_mut() {
            for addresses in records.names.values_mut() {
                addresses.v4.sort();
                addresses.v4.dedup();
                addresses.v6.sort();
                addresses.v6.dedup();
            }
        }
        Ok(set)
    }
}

/// The endpoints given to [`RecordSetBuilder`] contradict each other.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot build the DNS record set: {}", list(.conflicts))]
pub struct BuildError {
    /// Every conflict found, sorted by message.
    pub conflicts: Vec<Conflict>,
}

fn list(conflicts: &[Conflict]) -> String {
    conflicts
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// One contradiction between endpoints.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Two containers claim one address on one network.
    #[error("address {address} on network {network} is claimed by both {first} and {second} (give each endpoint its own address)")]
    Address {
        /// The network.
        network: NetworkName,
        /// The doubly claimed address.
        address: IpAddr,
        /// The container that claimed it first.
        first: DnsName,
        /// The container that claimed it again.
        second: DnsName,
    },
    /// One container has two endpoints on one network.
    #[error("container {container} has two endpoints on network {network} (give one endpoint per network)")]
    DuplicateEndpoint {
        /// The network.
        network: NetworkName,
        /// The container.
        container: DnsName,
    },
    /// One container's endpoints carry different upstream lists.
    #[error("container {container} has different upstream servers on its endpoints (give the same `dns:` list on each)")]
    Upstreams {
        /// The container.
        container: DnsName,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    fn name(text: &str) -> DnsName {
        DnsName::parse(text).unwrap()
    }

    fn net(text: &str) -> NetworkName {
        NetworkName::parse(text).unwrap()
    }

    fn sample() -> RecordSet {
        let mut builder = RecordSet::builder();
        builder
            .endpoint(
                Endpoint::new(net("front"), name("app-web-2"))
                    .alias(name("web"))
                    .ipv4(Ipv4Addr::new(10, 1, 0, 3)),
            )
            .endpoint(
                Endpoint::new(net("front"), name("app-web-1"))
                    .alias(name("web"))
                    .ipv4(Ipv4Addr::new(10, 1, 0, 2))
                    .ipv6("fd00::2".parse().unwrap()),
            )
            .endpoint(
                Endpoint::new(net("back"), name("app-web-1"))
                    .alias(name("web"))
                    .ipv4(Ipv4Addr::new(10, 2, 0, 2)),
            );
        builder.build().unwrap()
    }

    #[test]
    fn replicas_share_a_name_and_addresses_are_sorted() {
        let set = sample();
        let web = set.lookup("front", "web").unwrap();
        assert_eq!(
            web.v4,
            vec![Ipv4Addr::new(10, 1, 0, 2), Ipv4Addr::new(10, 1, 0, 3)]
        );
        assert_eq!(web.v6, vec!["fd00::2".parse::<Ipv6Addr>().unwrap()]);
        assert_eq!(
            set.lookup("back", "web").unwrap().v4,
            vec![Ipv4Addr::new(10, 2, 0, 2)]
        );
    }

    #[test]
    fn network_suffix_form_resolves() {
        let set = sample();
        assert!(set.lookup("front", "app-web-2.front").is_some());
        assert!(set.lookup("front", "app-web-2.back").is_none());
        assert!(set.lookup("front", "app-web-2front").is_none());
        assert!(set.exists_anywhere("web.back"));
        assert!(!set.exists_anywhere("db"));
    }

    #[test]
    fn askers_and_reverse_names_come_from_the_endpoints() {
        let set = sample();
        let asker = set.asker("front", "10.1.0.2".parse().unwrap()).unwrap();
        assert_eq!(asker.name.as_str(), "app-web-1");
        assert_eq!(asker.networks, vec![net("back"), net("front")]);
        assert!(set.asker("back", "10.1.0.2".parse().unwrap()).is_none());
        assert_eq!(
            set.reverse("front", "fd00::2".parse().unwrap()).as_deref(),
            Some("app-web-1.front")
        );
        assert!(set.is_member_anywhere("10.2.0.2".parse().unwrap()));
    }

    #[test]
    fn conflicts_are_all_reported() {
        let mut builder = RecordSet::builder();
        let same = Ipv4Addr::new(10, 1, 0, 2);
        let dns = |port| vec![SocketAddr::from(([127, 0, 0, 1], port))];
        builder
            .endpoint(Endpoint::new(net("front"), name("a")).ipv4(same))
            .endpoint(Endpoint::new(net("front"), name("b")).ipv4(same))
            .endpoint(Endpoint::new(net("front"), name("a")))
            .endpoint(Endpoint::new(net("x"), name("c")).upstreams(dns(53)))
            .endpoint(Endpoint::new(net("y"), name("c")).upstreams(dns(54)));
        let error = builder.build().unwrap_err();
        assert_eq!(
            error.to_string(),
            "cannot build the DNS record set: \
             address 10.1.0.2 on network front is claimed by both a and b (give each endpoint its own address); \
             container a has two endpoints on network front (give one endpoint per network); \
             container c has different upstream servers on its endpoints (give the same `dns:` list on each)"
        );
    }
}
