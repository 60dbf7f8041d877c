//! Bridges, veth pairs, addresses and routes through rtnetlink, plus the two
//! sysctls the engine's networking needs.
//!
//! A netlink socket acts on the network namespace it was created in. So
//! [`Netlink::connect`] talks to the namespace of the calling thread and
//! [`Netlink::connect_in`] creates its socket on a short-lived thread that
//! first enters the target namespace; the socket stays bound to that
//! namespace for its whole life. Both need a tokio runtime (the connection
//! task is spawned on it). Nothing here decides addresses or names: the
//! caller passes them in (see `ipam.rs`, `names.rs`).

use std::fs::File;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use futures::TryStreamExt;
use ipnet::Ipv4Net;
use rtnetlink::packet_route::link::{InfoData, InfoVeth, LinkAttribute, LinkInfo, LinkMessage};
use rtnetlink::packet_route::route::{RouteAddress, RouteAttribute};
use rtnetlink::{Handle, LinkBridge, LinkBridgePort, LinkUnspec, LinkVeth, RouteMessageBuilder};

use crate::network::names::{IfName, VethNames, BRIDGE_PREFIX, VETH_HOST_PREFIX};

const ENODEV: i32 = 19;
const EEXIST: i32 = 17;

/// A failed link operation, naming the object and the operation.
#[derive(Debug, thiserror::Error)]
pub enum LinkError {
    /// A netlink request failed.
    #[error("{operation} {object}: {source}")]
    Netlink {
        /// What was being done ("create bridge", "move veth", …).
        operation: &'static str,
        /// The interface, address or route concerned.
        object: String,
        /// The kernel's answer.
        source: rtnetlink::Error,
    },
    /// An interface that should exist does not.
    #[error("{operation}: no interface named {name}")]
    NoSuchLink {
        /// What was being done.
        operation: &'static str,
        /// The missing interface.
        name: String,
    },
    /// A file under /proc, /run/netns or similar could not be used.
    #[error("{operation} {path}: {source}")]
    Io {
        /// What was being done.
        operation: &'static str,
        /// The file.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
    /// Entering a network namespace or opening a socket there failed.
    #[error("{operation}: {source}")]
    Namespace {
        /// What was being done.
        operation: &'static str,
        /// The error.
        source: io::Error,
    },
    /// The call was made outside a tokio runtime.
    #[error("netlink needs a tokio runtime: {0}")]
    NoRuntime(#[from] tokio::runtime::TryCurrentError),
}

fn errno(err: &rtnetlink::Error) -> Option<i32> {
    match err {
        rtnetlink::Error::NetlinkError(msg) => msg.code.map(|c| -c.get()),
        _ => None,
    }
}

/// An open network namespace (a file under `/proc/<pid>/ns/net` or
/// `/run/netns/<name>`, or a descriptor handed over by the runtime).
#[derive(Debug)]
pub struct Netns {
    fd: OwnedFd,
}

impl Netns {
    /// Opens the namespace file at `path`.
    pub fn open(path: &Path) -> Result<Self, LinkError> {
        let file = File::open(path).map_err(|source| LinkError::Io {
            operation: "open network namespace",
            path: path.to_owned(),
            source,
        })?;
        Ok(Self { fd: file.into() })
    }

    /// Opens the namespace of process `pid`, through the proc file system
    /// mounted at `proc_dir`.
    pub fn of_pid(proc_dir: &Path, pid: u32) -> Result<Self, LinkError> {
        Self::open(&proc_dir.join(pid.to_string()).join("ns/net"))
    }

    /// Runs `f` on a new thread that has entered this namespace, and returns
    /// its result. The calling thread's namespace is not changed.
    pub fn run_in<R: Send>(&self, f: impl FnOnce() -> R + Send) -> Result<R, LinkError> {
        std::thread::scope(|scope| {
            scope
                .spawn(|| {
                    rustix::thread::move_into_link_name_space(
                        self.fd.as_fd(),
                        Some(rustix::thread::LinkNameSpaceType::Network),
                    )
                    .map_err(|e| LinkError::Namespace {
                        operation: "enter network namespace",
                        source: e.into(),
                    })?;
                    Ok(f())
                })
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        })
    }
}

impl From<OwnedFd> for Netns {
    fn from(fd: OwnedFd) -> Self {
        Self { fd }
    }
}

/// A route-netlink connection bound to one network namespace.
#[derive(Debug, Clone)]
pub struct Netlink {
    handle: Handle,
}

impl Netlink {
    /// A connection to the calling thread's network namespace.
    pub fn connect() -> Result<Self, LinkError> {
        let runtime = tokio::runtime::Handle::try_current()?;
        let (connection, handle, _) =
            rtnetlink::new_connection().map_err(|source| LinkError::Namespace {
                operation: "open netlink socket",
                source,
            })?;
        runtime.spawn(connection);
        Ok(Self { handle })
    }

    /// A connection to `netns`, usable from any thread.
    pub fn connect_in(netns: &Netns) -> Result<Self, LinkError> {
        let runtime = tokio::runtime::Handle::try_current()?;
        let (connection, handle, _) = netns
            .run_in(|| {
                // The socket is registered with the runtime's reactor from the
                // helper thread, so enter the runtime there.
                let _guard = runtime.enter();
                rtnetlink::new_connection()
            })?
            .map_err(|source| LinkError::Namespace {
                operation: "open netlink socket in the namespace",
                source,
            })?;
        runtime.spawn(connection);
        Ok(Self { handle })
    }

    /// The index of interface `name`, or `None` when there is none.
    pub async fn index_of(&self, name: &IfName) -> Result<Option<u32>, LinkError> {
        Ok(self.link(name).await?.map(|l| l.header.index))
    }

    /// Interface `name` as the kernel describes it, or `None` when there
    /// is none.
    async fn link(&self, name: &IfName) -> Result<Option<LinkMessage>, LinkError> {
        let mut links = self
            .handle
            .link()
            .get()
            .match_name(name.as_str().to_owned())
            .execute();
        match links.try_next().await {
            Ok(link) => Ok(link),
            Err(e) if errno(&e) == Some(ENODEV) => Ok(None),
            Err(source) => Err(LinkError::Netlink {
                operation: "look up",
                object: name.to_string(),
                source,
            }),
        }
    }

    /// The index and hardware address (as `aa:bb:cc:dd:ee:ff`) of
    /// interface `name`.
    async fn index_and_mac(&self, name: &IfName) -> Result<(u32, String), LinkError> {
        let link = self.link(name).await?;
        link.and_then(|l| {
            let index = l.header.index;
            l.attributes.into_iter().find_map(|a| match a {
                LinkAttribute::Address(bytes) => Some((index, format_mac(&bytes))),
                _ => None,
            })
        })
        .ok_or_else(|| LinkError::NoSuchLink {
            operation: "read the MAC address of",
            name: name.to_string(),
        })
    }

    async fn require_index(
        &self,
        name: &IfName,
        operation: &'static str,
    ) -> Result<u32, LinkError> {
        self.index_of(name)
            .await?
            .ok_or_else(|| LinkError::NoSuchLink {
                operation,
                name: name.to_string(),
            })
    }

    /// Creates bridge `name` (or keeps it if it exists) with address
    /// `gateway` (address and prefix length, e.g. `172.18.0.1/16`), MTU
    /// `mtu` and a hardware address of its own ([`bridge_mac`]), and sets
    /// it up.
    pub async fn create_bridge(
        &self,
        name: &IfName,
        gateway: Ipv4Net,
        mtu: u32,
    ) -> Result<(), LinkError> {
        let created = self
            .handle
            .link()
            .add(
                LinkBridge::new(name.as_str())
                    .mtu(mtu)
                    .address(bridge_mac(name).to_vec())
                    .build(),
            )
            .execute()
            .await;
        match created {
            Ok(()) => {}
            Err(e) if errno(&e) == Some(EEXIST) => {}
            Err(source) => {
                return Err(LinkError::Netlink {
                    operation: "create bridge",
                    object: name.to_string(),
                    source,
                })
            }
        }
        let index = self.require_index(name, "create bridge").await?;
        self.handle
            .address()
            .add(index, IpAddr::V4(gateway.addr()), gateway.prefix_len())
            .replace()
            .execute()
            .await
            .map_err(|source| LinkError::Netlink {
                operation: "add address",
                object: format!("{gateway} on {name}"),
                source,
            })?;
        self.set_up(index, name).await
    }

    async fn set_up(&self, index: u32, name: &IfName) -> Result<(), LinkError> {
        self.handle
            .link()
            .set(LinkUnspec::new_with_index(index).up().build())
            .execute()
            .await
            .map_err(|source| LinkError::Netlink {
                operation: "set up",
                object: name.to_string(),
                source,
            })
    }

    /// Deletes interface `name` (a bridge, or either end of a veth pair,
    /// which removes both). An interface that does not exist counts as
    /// deleted, so teardown can be repeated.
    pub async fn delete_link(&self, name: &IfName) -> Result<(), LinkError> {
        let Some(index) = self.index_of(name).await? else {
            return Ok(());
        };
        match self.handle.link().del(index).execute().await {
            Ok(()) => Ok(()),
            Err(e) if errno(&e) == Some(ENODEV) => Ok(()),
            Err(source) => Err(LinkError::Netlink {
                operation: "delete",
                object: name.to_string(),
                source,
            }),
        }
    }

    /// The interfaces of this namespace whose names carry one of the
    /// engine's prefixes (bridges, veth ends), sorted. After a crash, those
    /// that the persisted state does not mention are leftovers to delete.
    pub async fn engine_links(&self) -> Result<Vec<IfName>, LinkError> {
        let links: Vec<_> = self
            .handle
            .link()
            .get()
            .execute()
            .try_collect()
            .await
            .map_err(|source| LinkError::Netlink {
                operation: "list",
                object: "interfaces".to_owned(),
                source,
            })?;
        let mut names: Vec<IfName> = links
            .iter()
            .flat_map(|l| &l.attributes)
            .filter_map(|a| match a {
                LinkAttribute::IfName(name) => Some(name.as_str()),
                _ => None,
            })
            .filter(|n| {
                [BRIDGE_PREFIX, VETH_HOST_PREFIX]
                    .iter()
                    .any(|p| n.starts_with(p))
            })
            .filter_map(|n| IfName::new(n).ok())
            .collect();
        names.sort();
        Ok(names)
    }

    /// The destinations of the IPv4 routes of the main table, for the
    /// subnet pool to avoid.
    pub async fn ipv4_routes(&self) -> Result<Vec<Ipv4Net>, LinkError> {
        let query = RouteMessageBuilder::<Ipv4Addr>::new().build();
        let routes: Vec<_> = self
            .handle
            .route()
            .get(query)
            .execute()
            .try_collect()
            .await
            .map_err(|source| LinkError::Netlink {
                operation: "list",
                object: "IPv4 routes".to_owned(),
                source,
            })?;
        Ok(routes
            .iter()
            .filter_map(|r| {
                let dest = r.attributes.iter().find_map(|a| match a {
                    RouteAttribute::Destination(RouteAddress::Inet(addr)) => Some(*addr),
                    _ => None,
                })?;
                Ipv4Net::new(dest, r.header.destination_prefix_length).ok()
            })
            .collect())
    }
}

/// One container endpoint to wire up.
#[derive(Debug)]
pub struct EndpointSpec<'a> {
    /// The network's bridge (already created).
    pub bridge: &'a IfName,
    /// The host-side name of the veth pair.
    pub veth: &'a VethNames,
    /// The container's network namespace.
    pub netns: &'a Netns,
    /// The name inside the container (`eth0`, `eth1`, …).
    pub ifname: &'a IfName,
    /// The container's address with the subnet's prefix length.
    pub address: Ipv4Net,
    /// `Some(gateway)` for the first network: the container's default route.
    pub default_route: Option<Ipv4Addr>,
    /// The MTU, the bridge's.
    pub mtu: u32,
    /// A hardware address of the user's (`--mac-address`); the kernel's
    /// random one otherwise.
    pub mac: Option<[u8; 6]>,
}

/// Creates the veth pair of `spec` on `host` (the namespace of the
/// bridges) in one request — the host end attached to the bridge and up,
/// the container end made directly in the container's namespace under its
/// final name — then configures the container end there (address, up,
/// default route). Making the peer in place spares moving it between
/// namespaces, which waits for the network stack's quiescence while
/// holding the host-wide netlink lock, and renaming it. Returns the
/// container side's MAC address (the kernel chose it), as
/// `aa:bb:cc:dd:ee:ff`. If a step fails, the pair is deleted again and the
/// error returned; nothing is left behind.
pub async fn attach_endpoint(host: &Netlink, spec: &EndpointSpec<'_>) -> Result<String, LinkError> {
    let bridge = host.require_index(spec.bridge, "attach veth").await?;
    let create = || host.handle.link().add(veth_pair(spec, bridge)).execute();
    let created = match create().await {
        // The pair of this container's previous run, whose namespace the
        // kernel has not finished destroying (see `detach_endpoint`).
        Err(e) if errno(&e) == Some(EEXIST) => {
            host.delete_link(&spec.veth.host).await?;
            create().await
        }
        created => created,
    };
    created.map_err(|source| LinkError::Netlink {
        operation: "create veth pair",
        object: format!("{} / {} in the container", spec.veth.host, spec.ifname),
        source,
    })?;
    let result = wire_endpoint(host, spec).await;
    if result.is_err() {
        // The error being returned is the useful one; a failure to delete
        // here would only repeat it.
        let _ = host.delete_link(&spec.veth.host).await;
    }
    result
}

/// The request creating `spec`'s pair: the host end enslaved to `bridge`
/// and up; the peer named `spec.ifname`, in `spec.netns` (brought up once
/// configured: a veth cannot be up before its pair is complete).
fn veth_pair(spec: &EndpointSpec<'_>, bridge: u32) -> LinkMessage {
    let mut message = LinkVeth::new(spec.veth.host.as_str(), spec.ifname.as_str())
        .mtu(spec.mtu)
        .controller(bridge)
        .up()
        .build();
    let peers = message.attributes.iter_mut().flat_map(|a| match a {
        LinkAttribute::LinkInfo(infos) => infos.iter_mut().collect(),
        _ => Vec::new(),
    });
    for info in peers {
        if let LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))) = info {
            peer.attributes.push(LinkAttribute::Mtu(spec.mtu));
            if let Some(mac) = spec.mac {
                peer.attributes.push(LinkAttribute::Address(mac.to_vec()));
            }
            peer.attributes
                .push(LinkAttribute::NetNsFd(spec.netns.fd.as_raw_fd()));
        }
    }
    message
}

async fn wire_endpoint(host: &Netlink, spec: &EndpointSpec<'_>) -> Result<String, LinkError> {
    let host_end = host
        .require_index(&spec.veth.host, "set hairpin mode on")
        .await?;
    // Hairpin mode lets a container reach itself through a published port:
    // with bridge netfilter, the DNAT'd frame is bridged back out of the
    // port it came in on, which a bridge refuses by default.
    host.handle
        .link()
        .set_port(LinkBridgePort::new(host_end).hairpin(true).build())
        .execute()
        .await
        .map_err(|source| LinkError::Netlink {
            operation: "set hairpin mode on",
            object: spec.veth.host.to_string(),
            source,
        })?;
    let inside = Netlink::connect_in(spec.netns)?;
    configure_inside(&inside, spec).await
}

/// Inside the container's namespace (whose `lo` is up since its creation):
/// the address, the interface up, the default route. Returns the interface's MAC.
async fn configure_inside(nl: &Netlink, spec: &EndpointSpec<'_>) -> Result<String, LinkError> {
    let (index, mac) = nl.index_and_mac(spec.ifname).await?;
    let fail = |operation: &'static str, object: String| {
        move |source| LinkError::Netlink {
            operation,
            object,
            source,
        }
    };
    nl.handle
        .address()
        .add(
            index,
            IpAddr::V4(spec.address.addr()),
            spec.address.prefix_len(),
        )
        .execute()
        .await
        .map_err(fail(
            "add address",
            format!("{} on {}", spec.address, spec.ifname),
        ))?;
    nl.set_up(index, spec.ifname).await?;
    if let Some(gateway) = spec.default_route {
        nl.handle
            .route()
            .add(
                RouteMessageBuilder::<Ipv4Addr>::new()
                    .gateway(gateway)
                    .output_interface(index)
                    .build(),
            )
            .execute()
            .await
            .map_err(fail("add default route", format!("via {gateway}")))?;
    }
    Ok(mac)
}

/// The bridge's own hardware address, derived from its name (so the same
/// network gets the same one again). Without one set, Linux gives a bridge
/// the lowest address of its ports and changes it as veths come and go
/// (`--scale`, recreations): every container's ARP entry for the gateway
/// then points nowhere for seconds, and DNS and outbound traffic stall, so
/// Docker sets one too. Locally administered, unicast.
fn bridge_mac(name: &IfName) -> [u8; 6] {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(name.as_str().as_bytes());
    let mut mac = [0u8; 6];
    mac.copy_from_slice(&digest[..6]);
    mac[0] = (mac[0] & 0xfe) | 0x02;
    mac
}

/// A hardware address as users write it (`02:42:ac:11:00:02`, any case,
/// `-` allowed as separator), checked to be one an interface can have
/// (unicast); in Docker's form, lower-case with colons.
pub fn parse_mac(text: &str) -> Result<String, String> {
    let invalid = |why: &str| format!("invalid MAC address {text:?}: {why}");
    let parts: Vec<&str> = text.split([':', '-']).collect();
    let bytes = parts
        .iter()
        .map(|p| {
            (p.len() == 2)
                .then(|| u8::from_str_radix(p, 16).ok())
                .flatten()
        })
        .collect::<Option<Vec<u8>>>()
        .filter(|b| b.len() == 6)
        .ok_or_else(|| invalid("write six hex pairs, such as 02:42:ac:11:00:02"))?;
    if bytes[0] & 1 == 1 {
        return Err(invalid(
            "it is a multicast address (its first byte is odd); an interface needs a unicast one",
        ));
    }
    Ok(format_mac(&bytes))
}

/// The bytes of an address [`parse_mac`] accepted.
pub fn mac_bytes(mac: &str) -> Option<[u8; 6]> {
    let bytes: Vec<u8> = mac
        .split(':')
        .map(|p| u8::from_str_radix(p, 16).ok())
        .collect::<Option<_>>()?;
    bytes.try_into().ok()
}

/// Hardware address bytes as Docker shows them: lower-case hex pairs
/// joined by colons.
fn format_mac(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Removes an endpoint's veth pair from the host side, for an endpoint
/// whose namespace lives on (a disconnect, or a namespace another container
/// joined); a destroyed namespace takes its pairs along by itself. Gone
/// already is success.
pub async fn detach_endpoint(host: &Netlink, veth: &VethNames) -> Result<(), LinkError> {
    host.delete_link(&veth.host).await
}

/// Sets `route_localnet=1` on `bridge`, under `conf_dir` (normally
/// `/proc/sys/net/ipv4/conf`), so that connections the host makes to
/// `127.0.0.1:PORT` may be DNAT'd to a container on that bridge. Without
/// it the kernel drops packets with a loopback source on a non-loopback
/// interface. Only the engine's bridge gets it, not `all`.
pub fn set_route_localnet(conf_dir: &Path, bridge: &IfName) -> Result<(), LinkError> {
    write_sysctl(&conf_dir.join(bridge.as_str()).join("route_localnet"))
}

/// Sets `ip_forward=1` under `ipv4_dir` (normally `/proc/sys/net/ipv4`):
/// without it nothing is routed between bridges, out of them, or to a
/// published port from another host. Docker sets it too.
pub fn enable_ip_forward(ipv4_dir: &Path) -> Result<(), LinkError> {
    write_sysctl(&ipv4_dir.join("ip_forward"))
}

fn write_sysctl(path: &Path) -> Result<(), LinkError> {
    // Writing only when needed keeps a read-only /proc/sys usable when the
    // value is already right.
    if std::fs::read_to_string(path).is_ok_and(|v| v.trim() == "1") {
        return Ok(());
    }
    std::fs::write(path, "1").map_err(|source| LinkError::Io {
        operation: "write sysctl",
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtnetlink::packet_route::link::LinkFlags;

    #[test]
    fn bridges_have_a_fixed_locally_administered_unicast_address() {
        let a = IfName::new("stk-0123456789a").unwrap();
        let b = IfName::new("stk-0123456789b").unwrap();
        let mac = bridge_mac(&a);
        assert_eq!(mac, bridge_mac(&a));
        assert_ne!(mac, bridge_mac(&b));
        assert_eq!(mac[0] & 0x03, 0x02, "{}", format_mac(&mac));
    }

    #[test]
    fn the_pair_is_made_with_its_peer_in_the_container_under_its_final_name() {
        let netns = Netns::from(OwnedFd::from(File::open("/dev/null").unwrap()));
        let fd = netns.fd.as_raw_fd();
        let (bridge, ifname) = (IfName::new("stk-x").unwrap(), IfName::container(1));
        let veth = VethNames::for_endpoint("c1", "n1");
        let spec = EndpointSpec {
            bridge: &bridge,
            veth: &veth,
            netns: &netns,
            ifname: &ifname,
            address: "10.9.0.2/24".parse().unwrap(),
            default_route: None,
            mtu: 1400,
            mac: Some([0x02, 0, 0, 0, 0, 1]),
        };
        let message = veth_pair(&spec, 7);
        let host = &message.attributes;
        assert!(host.contains(&LinkAttribute::IfName(veth.host.to_string())));
        assert!(host.contains(&LinkAttribute::Controller(7)));
        assert!(host.contains(&LinkAttribute::Mtu(1400)));
        assert!(message.header.flags.contains(LinkFlags::Up));
        let peers: Vec<&LinkMessage> = host
            .iter()
            .filter_map(|a| match a {
                LinkAttribute::LinkInfo(infos) => Some(infos),
                _ => None,
            })
            .flatten()
            .filter_map(|info| match info {
                LinkInfo::Data(InfoData::Veth(InfoVeth::Peer(peer))) => Some(peer),
                _ => None,
            })
            .collect();
        assert_eq!(peers.len(), 1);
        let peer = &peers[0].attributes;
        assert!(peer.contains(&LinkAttribute::IfName("eth1".into())));
        assert!(peer.contains(&LinkAttribute::NetNsFd(fd)));
        assert!(peer.contains(&LinkAttribute::Mtu(1400)));
        assert!(peer.contains(&LinkAttribute::Address(vec![0x02, 0, 0, 0, 0, 1])));
        // A veth cannot be up before its pair exists (ENOTCONN).
        assert!(!peers[0].header.flags.contains(LinkFlags::Up));
    }

    #[test]
    fn sysctls_are_written_under_the_given_directory() {
        let dir = tempfile::tempdir().unwrap();
        let bridge = IfName::new("stk-test").unwrap();
        std::fs::create_dir_all(dir.path().join("conf/stk-test")).unwrap();
        std::fs::write(dir.path().join("conf/stk-test/route_localnet"), "0\n").unwrap();
        set_route_localnet(&dir.path().join("conf"), &bridge).unwrap();
        let value = std::fs::read_to_string(dir.path().join("conf/stk-test/route_localnet"));
        assert_eq!(value.unwrap(), "1");
        std::fs::write(dir.path().join("ip_forward"), "0\n").unwrap();
        enable_ip_forward(dir.path()).unwrap();
        assert_eq!(
            std::fs::read_to_string(dir.path().join("ip_forward")).unwrap(),
            "1"
        );
    }

    #[test]
    fn a_missing_bridge_directory_is_reported_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let err = set_route_localnet(dir.path(), &IfName::new("stk-none").unwrap()).unwrap_err();
        assert!(
            matches!(&err, LinkError::Io { source, .. } if source.kind() == io::ErrorKind::NotFound)
        );
        assert!(err.to_string().contains("stk-none/route_localnet"), "{err}");
    }

    #[test]
    fn mac_addresses_are_lower_case_hex_pairs() {
        assert_eq!(
            format_mac(&[0x02, 0x42, 0xac, 0x11, 0x00, 0x0a]),
            "02:42:ac:11:00:0a"
        );
    }

    #[test]
    fn users_mac_addresses_are_read_in_any_case_and_must_be_unicast() {
        assert_eq!(parse_mac("02:42:AC:11:00:0A").unwrap(), "02:42:ac:11:00:0a");
        assert_eq!(parse_mac("02-42-ac-11-00-0a").unwrap(), "02:42:ac:11:00:0a");
        assert_eq!(
            mac_bytes("02:42:ac:11:00:0a"),
            Some([0x02, 0x42, 0xac, 0x11, 0x00, 0x0a])
        );
        for bad in [
            "02:42:ac:11:00",
            "02:42:ac:11:00:0g",
            "2:42:ac:11:00:0a",
            "",
        ] {
            assert!(
                parse_mac(bad).unwrap_err().contains("six hex pairs"),
                "{bad}"
            );
        }
        assert!(parse_mac("01:00:5e:00:00:01")
            .unwrap_err()
            .contains("multicast"));
    }

    #[test]
    fn a_missing_namespace_file_is_reported_with_its_path() {
        let err = Netns::of_pid(Path::new("/nonexistent-proc"), 1).unwrap_err();
        assert_eq!(
            err.to_string(),
            "open network namespace /nonexistent-proc/1/ns/net: No such file or directory (os error 2)"
        );
    }
}
