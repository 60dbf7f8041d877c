//! What the engine keeps about networks and container attachments, as the
//! JSON files of the state root.

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use ipnet::Ipv4Net;
use serde::{Deserialize, Serialize};

use crate::network::firewall::rules::Protocol;
use crate::network::ipam::NetworkAddressing;

/// One network (`networks/<id>.json`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct NetworkRecord {
    /// 64 hex digits.
    pub(crate) id: String,
    pub(crate) name: String,
    /// RFC 3339 creation time.
    pub(crate) created: String,
    /// `internal`: no route out, no masquerade, no published ports.
    pub(crate) internal: bool,
    pub(crate) attachable: bool,
    pub(crate) labels: HashMap<String, String>,
    pub(crate) options: HashMap<String, String>,
    pub(crate) subnet: Ipv4Net,
    pub(crate) gateway: Ipv4Addr,
    pub(crate) ip_range: Ipv4Net,
    /// Whether the subnet was given by the user (inspect shows it as configured).
    pub(crate) explicit_subnet: bool,
    /// The Linux bridge.
    pub(crate) bridge: String,
    /// Docker's default `bridge` network: no DNS, no aliases.
    #[serde(default)]
    pub(crate) default: bool,
}

impl NetworkRecord {
    /// The network's addressing, for its address book.
    pub(crate) fn addressing(&self) -> NetworkAddressing {
        NetworkAddressing {
            subnet: self.subnet,
            gateway: self.gateway,
            ip_range: self.ip_range,
        }
    }
}

/// One network a container is to be attached to (from the create request
/// or a connect), as Docker's `EndpointSettings` give it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct EndpointRequest {
    /// Further names on this network (compose: the service name, `aliases`).
    pub(crate) aliases: Vec<String>,
    /// A fixed address (`ipv4_address`, `--ip`).
    pub(crate) ipv4_address: Option<Ipv4Addr>,
    /// Links (`EndpointSettings.Links`, and `HostConfig.Links` on the
    /// network of `NetworkMode`).
    #[serde(default)]
    pub(crate) links: Vec<Link>,
    /// A fixed hardware address (`mac_address`, `--mac-address`), in
    /// Docker's form.
    #[serde(default)]
    pub(crate) mac_address: Option<String>,
}

/// A link on a user-defined network, as Docker makes one there: `alias`
/// resolves, for the linking container only, to the addresses the
/// container named `target` has on the network when the name is asked.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Link {
    pub(crate) target: String,
    pub(crate) alias: String,
}

/// Docker's `NAME:ALIAS` form, as inspect shows an endpoint's links.
impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.target, self.alias)
    }
}

impl Link {
    /// Reads Docker's forms: `name`, `name:alias`, and `/name:/linker/alias`
    /// (how Docker shows links, which clients send back on recreation).
    pub(crate) fn parse(text: &str) -> Result<Link, String> {
        let parts: Vec<&str> = text.split(':').collect();
        let (target, alias) = match parts.as_slice() {
            [name] => (*name, *name),
            [name, alias] => match name.strip_prefix('/') {
                Some(bare) => (bare, alias.rsplit('/').next().unwrap_or(alias)),
                None => (*name, *alias),
            },
            _ => {
                return Err(format!(
                    "bad format for links: {text} (expected NAME or NAME:ALIAS)"
                ))
            }
        };
        if target.is_empty() || alias.is_empty() {
            return Err(format!(
                "bad format for links: {text:?} (expected NAME or NAME:ALIAS)"
            ));
        }
        Ok(Link {
            target: target.to_owned(),
            alias: alias.to_owned(),
        })
    }
}

/// How a container is networked (`HostConfig.NetworkMode`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Mode {
    /// Its own namespace attached to the networks of [`Endpoints::networks`].
    Bridge,
    /// Its own namespace with loopback only.
    None,
    /// The host's namespace.
    Host,
    /// Another container's namespace (`container:ID`), by id.
    Container(String),
}

/// A container's wanted attachments (`containers/<id>/endpoints.json`),
/// network id → endpoint, in attachment order (the first gives the
/// default route).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Endpoints {
    pub(crate) mode: Mode,
    pub(crate) networks: Vec<(String, EndpointRequest)>,
}

/// One attachment of a running container.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ActiveEndpoint {
    pub(crate) network_id: String,
    /// `eth0`, `eth1`, … inside the container.
    pub(crate) ifname: String,
    pub(crate) address: Ipv4Addr,
    pub(crate) prefix_len: u8,
    pub(crate) gateway: Ipv4Addr,
    pub(crate) mac_address: String,
    /// The host end of the veth pair.
    pub(crate) veth_host: String,
    /// Every name the endpoint answers to on the network (DNS).
    pub(crate) aliases: Vec<String>,
    /// Names only this container resolves on the network (its links).
    #[serde(default)]
    pub(crate) links: Vec<Link>,
    /// Docker's endpoint id (64 hex digits).
    pub(crate) endpoint_id: String,
}

/// One published port of a running container, its host port chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ActivePort {
    pub(crate) host_ip: Option<Ipv4Addr>,
    pub(crate) host_port: u16,
    pub(crate) container_port: u16,
    pub(crate) protocol: Protocol,
}

/// What the network namespace of a starting container is, for the monitor.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Namespace {
    /// A new one with loopback only, made by the runtime.
    Private,
    /// The host's.
    Host,
    /// Join the namespace file at this path.
    Join(PathBuf),
}

/// A running container's network (`containers/<id>/network.json`): written
/// by the daemon before the monitor starts, read by the monitor for the
/// namespace and the `/etc` files, and by the daemon after a restart to
/// know what to tear down.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ContainerNetwork {
    pub(crate) namespace: Namespace,
    /// The namespace file the daemon made (removed at teardown).
    pub(crate) netns_file: Option<PathBuf>,
    pub(crate) endpoints: Vec<ActiveEndpoint>,
    pub(crate) ports: Vec<ActivePort>,
    /// Content of `/etc/hosts`.
    pub(crate) hosts: String,
    /// Content of `/etc/resolv.conf`; `None` keeps the image's.
    pub(crate) resolv_conf: Option<String>,
    /// The container's own DNS servers (`--dns`), for forwarding.
    pub(crate) dns_servers: Vec<IpAddr>,
}

/// Port → host bindings as inspect's `NetworkSettings.Ports` and the
/// container list show them: `"80/tcp" -> [(host_ip, host_port)]`.
pub(crate) fn port_map(
    exposed: impl IntoIterator<Item = (u16, Protocol)>,
    ports: &[ActivePort],
) -> BTreeMap<String, Vec<(String, String)>> {
    let mut map: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    for (port, protocol) in exposed {
        map.entry(format!("{port}/{}", protocol.as_str()))
            .or_default();
    }
    for p in ports {
        map.entry(format!("{}/{}", p.container_port, p.protocol.as_str()))
            .or_default()
            .push((
                p.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED).to_string(),
                p.host_port.to_string(),
            ));
    }
    map
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(target: &str, alias: &str) -> Link {
        Link {
            target: target.into(),
            alias: alias.into(),
        }
    }

    #[test]
    fn links_read_dockers_three_forms() {
        assert_eq!(Link::parse("db").unwrap(), link("db", "db"));
        assert_eq!(
            Link::parse("app_db_1:database").unwrap(),
            link("app_db_1", "database")
        );
        assert_eq!(
            Link::parse("/app_db_1:/app_web_1/database").unwrap(),
            link("app_db_1", "database")
        );
        let shown = Link::parse("/app_db_1:/app_web_1/database").unwrap();
        assert_eq!(shown.to_string(), "app_db_1:database");
        assert_eq!(Link::parse(&shown.to_string()).unwrap(), shown);
        for bad in ["", "a:b:c", ":x", "x:"] {
            assert!(Link::parse(bad).is_err(), "{bad}");
        }
    }
}
