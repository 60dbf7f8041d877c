//! Subnet and address allocation (pure, IPv4).
//!
//! [`SubnetPool`] picks a subnet for a new network that overlaps neither the
//! host's routes nor another network's subnet; [`plan_network`] turns a
//! request (explicit subnet, gateway, ip_range, or nothing) into the checked
//! [`NetworkAddressing`] of a network; [`AddressBook`] hands out and takes
//! back container addresses inside one network. Nothing here talks to the
//! kernel: the caller reads the routes and passes them in.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use ipnet::Ipv4Net;

/// An allocation failure, worded for the user.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpamError {
    /// A pool entry cannot be split as asked.
    #[error("address pool {base} cannot be split into /{size} subnets")]
    BadPool {
        /// The pool's base network.
        base: Ipv4Net,
        /// The requested subnet size.
        size: u8,
    },
    /// Every candidate subnet of every pool overlaps something.
    #[error(
        "all predefined address pools overlap existing networks or host routes; \
         remove unused networks (`stack network prune`) or pass an explicit --subnet"
    )]
    PoolExhausted,
    /// An explicit subnet has host bits set.
    #[error("subnet {given} has host bits set (did you mean {network}?)")]
    HostBitsSet {
        /// The subnet as given.
        given: Ipv4Net,
        /// The network it probably meant.
        network: Ipv4Net,
    },
    /// A subnet too small for a gateway and one container.
    #[error("subnet {0} is too small: use a prefix of /30 or shorter")]
    TooSmall(Ipv4Net),
    /// An explicit subnet overlaps another network's.
    #[error("subnet {subnet} overlaps subnet {other} of network {network:?}")]
    Overlap {
        /// The requested subnet.
        subnet: Ipv4Net,
        /// The subnet it overlaps.
        other: Ipv4Net,
        /// The network owning `other`.
        network: String,
    },
    /// The gateway is outside the subnet, or its network or broadcast address.
    #[error("gateway {gateway} is not a usable host address of subnet {subnet}")]
    GatewayOutside {
        /// The requested gateway.
        gateway: Ipv4Addr,
        /// The network's subnet.
        subnet: Ipv4Net,
    },
    /// `ip_range` is not inside the subnet.
    #[error("ip_range {range} is not inside subnet {subnet}")]
    RangeOutside {
        /// The requested range.
        range: Ipv4Net,
        /// The network's subnet.
        subnet: Ipv4Net,
    },
    /// A gateway or ip_range was given without a subnet.
    #[error("a gateway or ip_range needs an explicit subnet")]
    NeedsSubnet,
    /// A requested container address is outside the subnet.
    #[error("address {addr} is not a usable host address of subnet {subnet}")]
    AddressOutside {
        /// The requested address.
        addr: Ipv4Addr,
        /// The network's subnet.
        subnet: Ipv4Net,
    },
    /// A requested container address is the gateway.
    #[error("address {0} is the network's gateway; choose another ipv4_address")]
    AddressIsGateway(Ipv4Addr),
    /// A requested container address is already taken.
    #[error("address {addr} is already in use by {owner}")]
    AddressInUse {
        /// The requested address.
        addr: Ipv4Addr,
        /// Who holds it (a container name or id).
        owner: String,
    },
    /// The network's range has no free address left.
    #[error("no free address left in {range} of network with subnet {subnet}")]
    RangeFull {
        /// The range addresses are taken from.
        range: Ipv4Net,
        /// The network's subnet.
        subnet: Ipv4Net,
    },
}

/// One block of address space and the size of the subnets cut from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PoolEntry {
    base: Ipv4Net,
    size: u8,
}

impl PoolEntry {
    /// `base` cut into subnets of prefix length `size` (`size` between the
    /// base's prefix length and 30).
    pub fn new(base: Ipv4Net, size: u8) -> Result<Self, IpamError> {
        if size < base.prefix_len() || size > 30 || base.trunc() != base {
            return Err(IpamError::BadPool { base, size });
        }
        Ok(Self { base, size })
    }

    fn candidates(&self) -> impl Iterator<Item = Ipv4Net> + '_ {
        // `subnets` only fails for a size shorter than the base, which `new`
        // excludes; an empty iterator is the harmless reading of that case.
        self.base.subnets(self.size).into_iter().flatten()
    }
}

/// The ordered list of blocks that networks without an explicit subnet get
/// their subnet from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubnetPool {
    entries: Vec<PoolEntry>,
}

impl Default for SubnetPool {
    /// Docker's default pools: `172.17.0.0/16` … `172.31.0.0/16` as one /16
    /// each, then `192.168.0.0/16` cut into /20s. Keeping Docker's choice
    /// means the same addresses users already allow in their own firewalls.
    fn default() -> Self {
        let mut entries: Vec<PoolEntry> = (17..=31u8)
            .map(|b| PoolEntry {
                base: Ipv4Net::new_assert(Ipv4Addr::new(172, b, 0, 0), 16),
                size: 16,
            })
            .collect();
        entries.push(PoolEntry {
            base: Ipv4Net::new_assert(Ipv4Addr::new(192, 168, 0, 0), 16),
            size: 20,
        });
        Self { entries }
    }
}

/// An address space already taken, with a name for error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TakenSubnet {
    /// The taken subnet.
    pub subnet: Ipv4Net,
    /// The network owning it (empty for a host route).
    pub network: String,
}

impl SubnetPool {
    /// A pool of the given entries, tried in order.
    pub fn new(entries: Vec<PoolEntry>) -> Self {
        Self { entries }
    }

    /// The first candidate subnet that overlaps none of `host_routes` (the
    /// destinations of the host's routes; default routes, `/0`, are ignored
    /// since they overlap everything) and none of `networks`.
    pub fn allocate(
        &self,
        host_routes: &[Ipv4Net],
        networks: &[TakenSubnet],
    ) -> Result<Ipv4Net, IpamError> {
        let taken: Vec<Ipv4Net> = host_routes
            .iter()
            .filter(|r| r.prefix_len() > 0)
            .copied()
            .chain(networks.iter().map(|n| n.subnet))
            .collect();
        self.entries
            .iter()
            .flat_map(PoolEntry::candidates)
            .find(|c| !taken.iter().any(|t| overlaps(c, t)))
            .ok_or(IpamError::PoolExhausted)
    }
}

fn overlaps(a: &Ipv4Net, b: &Ipv4Net) -> bool {
    a.contains(&b.network()) || b.contains(&a.network())
}

/// What the user asked for (compose `ipam.config`, `--subnet`, …).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SubnetRequest {
    /// `subnet`: taken as is (it must not overlap another network).
    pub subnet: Option<Ipv4Net>,
    /// `gateway`: default is the subnet's first host address.
    pub gateway: Option<Ipv4Addr>,
    /// `ip_range`: container addresses are taken from here; default is the
    /// whole subnet.
    pub ip_range: Option<Ipv4Net>,
}

/// The checked addressing of one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkAddressing {
    /// The network's subnet.
    pub subnet: Ipv4Net,
    /// The bridge's address and the containers' default gateway.
    pub gateway: Ipv4Addr,
    /// Where dynamically allocated container addresses come from.
    pub ip_range: Ipv4Net,
}

impl NetworkAddressing {
    /// The gateway with the subnet's prefix length, as put on the bridge.
    pub fn gateway_net(&self) -> Ipv4Net {
        Ipv4Net::new_assert(self.gateway, self.subnet.prefix_len())
    }
}

/// Checks `request` against the other networks and fills in what it left
/// out: a subnet from `pool` (avoiding `host_routes` and `networks`), the
/// first host address as gateway, the whole subnet as range.
pub fn plan_network(
    pool: &SubnetPool,
    request: &SubnetRequest,
    host_routes: &[Ipv4Net],
    networks: &[TakenSubnet],
) -> Result<NetworkAddressing, IpamError> {
    let subnet = match request.subnet {
        Some(subnet) => {
            check_explicit_subnet(subnet, networks)?;
            subnet
        }
        None if request.gateway.is_some() || request.ip_range.is_some() => {
            return Err(IpamError::NeedsSubnet)
        }
        None => pool.allocate(host_routes, networks)?,
    };
    let gateway = match request.gateway {
        Some(gateway) if !is_host(subnet, gateway) => {
            return Err(IpamError::GatewayOutside { gateway, subnet })
        }
        Some(gateway) => gateway,
        None => first_host(subnet),
    };
    let ip_range = match request.ip_range {
        Some(range) if range.trunc() != range => {
            return Err(IpamError::HostBitsSet {
                given: range,
                network: range.trunc(),
            })
        }
        Some(range) if !subnet.contains(&range) => {
            return Err(IpamError::RangeOutside { range, subnet })
        }
        Some(range) => range,
        None => subnet,
    };
    Ok(NetworkAddressing {
        subnet,
        gateway,
        ip_range,
    })
}

fn check_explicit_subnet(subnet: Ipv4Net, networks: &[TakenSubnet]) -> Result<(), IpamError> {
    if subnet.trunc() != subnet {
        return Err(IpamError::HostBitsSet {
            given: subnet,
            network: subnet.trunc(),
        });
    }
    if subnet.prefix_len() > 30 {
        return Err(IpamError::TooSmall(subnet));
    }
    if let Some(other) = networks.iter().find(|n| overlaps(&subnet, &n.subnet)) {
        return Err(IpamError::Overlap {
            subnet,
            other: other.subnet,
            network: other.network.clone(),
        });
    }
    Ok(())
}

fn first_host(subnet: Ipv4Net) -> Ipv4Addr {
    Ipv4Addr::from(u32::from(subnet.network()) + 1)
}

/// Whether `addr` is in `subnet` and neither its network nor its broadcast
/// address.
fn is_host(subnet: Ipv4Net, addr: Ipv4Addr) -> bool {
    subnet.contains(&addr) && addr != subnet.network() && addr != subnet.broadcast()
}

/// The container addresses in use on one network, with their owners.
///
/// Rebuilt on daemon start from the persisted endpoints by calling
/// [`AddressBook::allocate`] with each endpoint's recorded address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressBook {
    addressing: NetworkAddressing,
    used: BTreeMap<Ipv4Addr, String>,
}

impl AddressBook {
    /// An empty book for a network (the gateway is never handed out).
    pub fn new(addressing: NetworkAddressing) -> Self {
        Self {
            addressing,
            used: BTreeMap::new(),
        }
    }

    /// The network's addressing.
    pub fn addressing(&self) -> &NetworkAddressing {
        &self.addressing
    }

    /// Reserves `requested` (an explicit `ipv4_address`, which may lie
    /// anywhere in the subnet, as in Docker) or else the lowest free address
    /// of the range, for `owner`.
    pub fn allocate(
        &mut self,
        owner: &str,
        requested: Option<Ipv4Addr>,
    ) -> Result<Ipv4Addr, IpamError> {
        let NetworkAddressing {
            subnet,
            gateway,
            ip_range,
        } = self.addressing;
        let addr = match requested {
            Some(addr) if !is_host(subnet, addr) => {
                return Err(IpamError::AddressOutside { addr, subnet })
            }
            Some(addr) if addr == gateway => return Err(IpamError::AddressIsGateway(addr)),
            Some(addr) => {
                if let Some(owner) = self.used.get(&addr) {
                    return Err(IpamError::AddressInUse {
                        addr,
                        owner: owner.clone(),
                    });
                }
                addr
            }
            None => (u32::from(ip_range.network())..=u32::from(ip_range.broadcast()))
                .map(Ipv4Addr::from)
                .find(|a| is_host(subnet, *a) && *a != gateway && !self.used.contains_key(a))
                .ok_or(IpamError::RangeFull {
                    range: ip_range,
                    subnet,
                })?,
        };
        self.used.insert(addr, owner.to_owned());
        Ok(addr)
    }

    /// Gives `addr` back; returns whether it was in use. Releasing an
    /// address twice is harmless, so teardown can be repeated.
    pub fn release(&mut self, addr: Ipv4Addr) -> bool {
        self.used.remove(&addr).is_some()
    }

    /// The owner of `addr`, if it is in use.
    pub fn owner(&self, addr: Ipv4Addr) -> Option<&str> {
        self.used.get(&addr).map(String::as_str)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> Ipv4Net {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> Ipv4Addr {
        s.parse().unwrap()
    }

    fn taken(subnet: &str, network: &str) -> TakenSubnet {
        TakenSubnet {
            subnet: net(subnet),
            network: network.into(),
        }
    }

    #[test]
    fn default_pool_starts_like_docker() {
        let pool = SubnetPool::default();
        assert_eq!(pool.allocate(&[], &[]), Ok(net("172.17.0.0/16")));
        assert_eq!(
            pool.allocate(&[], &[taken("172.17.0.0/16", "bridge")]),
            Ok(net("172.18.0.0/16"))
        );
    }

    #[test]
    fn skips_host_routes_but_not_the_default_route() {
        let pool = SubnetPool::default();
        let routes = [net("0.0.0.0/0"), net("172.17.5.0/24"), net("172.18.0.0/15")];
        assert_eq!(pool.allocate(&routes, &[]), Ok(net("172.20.0.0/16")));
    }

    #[test]
    fn a_wide_route_covering_a_pool_blocks_all_its_subnets() {
        let pool = SubnetPool::default();
        let routes = [net("172.16.0.0/12")];
        assert_eq!(pool.allocate(&routes, &[]), Ok(net("192.168.0.0/20")));
        let routes = [net("172.16.0.0/12"), net("192.168.0.0/19")];
        assert_eq!(pool.allocate(&routes, &[]), Ok(net("192.168.32.0/20")));
    }

    #[test]
    fn exhaustion_is_reported_with_what_to_do() {
        let pool = SubnetPool::new(vec![PoolEntry::new(net("10.9.0.0/23"), 24).unwrap()]);
        let nets = [taken("10.9.0.0/24", "a"), taken("10.9.1.0/24", "b")];
        let err = pool.allocate(&[], &nets).unwrap_err();
        assert_eq!(err, IpamError::PoolExhausted);
        assert!(err.to_string().contains("--subnet"));
    }

    #[test]
    fn pool_entries_are_checked() {
        assert!(PoolEntry::new(net("10.0.0.0/16"), 15).is_err());
        assert!(PoolEntry::new(net("10.0.0.0/16"), 31).is_err());
        assert!(PoolEntry::new(net("10.0.0.1/16"), 24).is_err());
        let pool = SubnetPool::new(vec![PoolEntry::new(net("10.0.0.0/8"), 24).unwrap()]);
        assert_eq!(
            pool.allocate(&[net("10.0.0.0/23")], &[]),
            Ok(net("10.0.2.0/24"))
        );
    }

    #[test]
    fn plan_fills_in_gateway_and_range() {
        let plan =
            plan_network(&SubnetPool::default(), &SubnetRequest::default(), &[], &[]).unwrap();
        assert_eq!(plan.subnet, net("172.17.0.0/16"));
        assert_eq!(plan.gateway, ip("172.17.0.1"));
        assert_eq!(plan.ip_range, net("172.17.0.0/16"));
        assert_eq!(plan.gateway_net(), net("172.17.0.1/16"));
    }

    #[test]
    fn explicit_subnet_gateway_and_range_are_honoured() {
        let request = SubnetRequest {
            subnet: Some(net("10.5.0.0/24")),
            gateway: Some(ip("10.5.0.254")),
            ip_range: Some(net("10.5.0.128/25")),
        };
        // Host routes do not stop an explicit subnet: the user chose it.
        let plan =
            plan_network(&SubnetPool::default(), &request, &[net("10.0.0.0/8")], &[]).unwrap();
        assert_eq!(plan.subnet, net("10.5.0.0/24"));
        assert_eq!(plan.gateway, ip("10.5.0.254"));
        assert_eq!(plan.ip_range, net("10.5.0.128/25"));
    }

    #[test]
    fn explicit_requests_are_checked() {
        let pool = SubnetPool::default();
        let req = |subnet: &str, gateway: Option<&str>, range: Option<&str>| SubnetRequest {
            subnet: Some(net(subnet)),
            gateway: gateway.map(ip),
            ip_range: range.map(net),
        };
        let others = [taken("10.1.0.0/16", "other_net")];
        let err = plan_network(&pool, &req("10.1.2.0/24", None, None), &[], &others);
        assert_eq!(
            err.unwrap_err().to_string(),
            "subnet 10.1.2.0/24 overlaps subnet 10.1.0.0/16 of network \"other_net\""
        );
        let err = plan_network(&pool, &req("10.2.0.5/16", None, None), &[], &[]);
        assert_eq!(
            err.unwrap_err().to_string(),
            "subnet 10.2.0.5/16 has host bits set (did you mean 10.2.0.0/16?)"
        );
        let err = plan_network(&pool, &req("10.2.0.0/31", None, None), &[], &[]);
        assert_eq!(err, Err(IpamError::TooSmall(net("10.2.0.0/31"))));
        for gateway in ["10.2.1.1", "10.2.0.0", "10.2.0.255"] {
            let err = plan_network(&pool, &req("10.2.0.0/24", Some(gateway), None), &[], &[]);
            assert!(
                matches!(err, Err(IpamError::GatewayOutside { .. })),
                "{gateway}"
            );
        }
        let err = plan_network(
            &pool,
            &req("10.2.0.0/24", None, Some("10.3.0.0/25")),
            &[],
            &[],
        );
        assert!(matches!(err, Err(IpamError::RangeOutside { .. })));
        let no_subnet = SubnetRequest {
            gateway: Some(ip("10.0.0.1")),
            ..SubnetRequest::default()
        };
        assert_eq!(
            plan_network(&pool, &no_subnet, &[], &[]),
            Err(IpamError::NeedsSubnet)
        );
    }

    fn book(subnet: &str, range: Option<&str>) -> AddressBook {
        let request = SubnetRequest {
            subnet: Some(net(subnet)),
            gateway: None,
            ip_range: range.map(net),
        };
        AddressBook::new(plan_network(&SubnetPool::default(), &request, &[], &[]).unwrap())
    }

    #[test]
    fn containers_get_addresses_from_two_up() {
        let mut book = book("10.7.0.0/24", None);
        assert_eq!(book.allocate("a", None), Ok(ip("10.7.0.2")));
        assert_eq!(book.allocate("b", None), Ok(ip("10.7.0.3")));
        assert!(book.release(ip("10.7.0.2")));
        assert!(!book.release(ip("10.7.0.2")));
        assert_eq!(book.allocate("c", None), Ok(ip("10.7.0.2")));
        assert_eq!(book.owner(ip("10.7.0.3")), Some("b"));
    }

    #[test]
    fn explicit_addresses_are_honoured_and_conflicts_named() {
        let mut book = book("10.7.0.0/24", None);
        assert_eq!(
            book.allocate("web", Some(ip("10.7.0.50"))),
            Ok(ip("10.7.0.50"))
        );
        assert_eq!(
            book.allocate("db", Some(ip("10.7.0.50")))
                .unwrap_err()
                .to_string(),
            "address 10.7.0.50 is already in use by web"
        );
        assert_eq!(
            book.allocate("db", Some(ip("10.7.0.1"))),
            Err(IpamError::AddressIsGateway(ip("10.7.0.1")))
        );
        for outside in ["10.8.0.2", "10.7.0.0", "10.7.0.255"] {
            assert!(matches!(
                book.allocate("db", Some(ip(outside))),
                Err(IpamError::AddressOutside { .. })
            ));
        }
    }

    #[test]
    fn dynamic_addresses_come_from_the_range_and_run_out() {
        let mut book = book("10.7.0.0/24", Some("10.7.0.252/30"));
        assert_eq!(book.allocate("a", None), Ok(ip("10.7.0.252")));
        assert_eq!(book.allocate("b", None), Ok(ip("10.7.0.253")));
        assert_eq!(book.allocate("c", None), Ok(ip("10.7.0.254")));
        // .255 is the subnet's broadcast address.
        assert!(matches!(
            book.allocate("d", None),
            Err(IpamError::RangeFull { .. })
        ));
        // An explicit address outside the range but inside the subnet is fine.
        assert_eq!(book.allocate("d", Some(ip("10.7.0.9"))), Ok(ip("10.7.0.9")));
    }

    #[test]
    fn the_gateway_is_skipped_when_it_lies_in_the_range() {
        let request = SubnetRequest {
            subnet: Some(net("10.7.0.0/24")),
            gateway: Some(ip("10.7.0.2")),
            ip_range: None,
        };
        let plan = plan_network(&SubnetPool::default(), &request, &[], &[]).unwrap();
        let mut book = AddressBook::new(plan);
        assert_eq!(book.allocate("a", None), Ok(ip("10.7.0.1")));
        assert_eq!(book.allocate("b", None), Ok(ip("10.7.0.3")));
    }
}
