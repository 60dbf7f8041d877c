//! The network flags of `container run` and `create`, as docker's:
//! `--network` (also `name=NET,alias=A,ip=IP`), `--network-alias`, `--ip`,
//! `--mac-address`, `-p/--publish`, `-P/--publish-all`, `--expose`, `--dns*` and `--add-host`.
//! Every value is checked here, so a typo is reported with the flag before
//! the engine creates anything.

use anyhow::{bail, Result};
use bollard::models::{
    ContainerCreateBody, EndpointIpamConfig, EndpointSettings, HostConfig, NetworkingConfig,
    PortBinding,
};
use std::collections::HashMap;
use std::net::IpAddr;

/// The network flags `run` and `create` share.
#[derive(Debug, clap::Args)]
pub(super) struct NetworkArgs {
    /// Connect a container to a network: NAME, `none`, `host`, `container:ID`, or
    /// `name=NET,alias=A,ip=IP` (repeatable)
    #[arg(long = "network", alias = "net")]
    networks: Vec<String>,
    /// Add network-scoped alias for the container (repeatable)
    #[arg(long = "network-alias", alias = "net-alias")]
    aliases: Vec<String>,
    /// IPv4 address (e.g. 172.30.100.104)
    #[arg(long)]
    ip: Option<String>,
    /// IPv6 address (e.g. 2001:db8::33)
    #[arg(long)]
    ip6: Option<String>,
    /// Container MAC address on its first network (e.g. 92:d0:c6:0a:29:33)
    #[arg(long)]
    mac_address: Option<String>,
    /// Publish a container's port(s) to the host ([IP:][HOST_PORT:]PORT[/PROTO], repeatable)
    #[arg(short = 'p', long = "publish")]
    publish: Vec<String>,
    /// Publish all exposed ports to random ports
    #[arg(short = 'P', long)]
    publish_all: bool,
    /// Expose a port or a range of ports (PORT[-PORT][/PROTO], repeatable)
    #[arg(long)]
    expose: Vec<String>,
    /// Set custom DNS servers (repeatable)
    #[arg(long)]
    dns: Vec<String>,
    /// Set DNS options (repeatable)
    #[arg(long = "dns-option", alias = "dns-opt")]
    dns_options: Vec<String>,
    /// Set custom DNS search domains (repeatable)
    #[arg(long)]
    dns_search: Vec<String>,
    /// Add a custom host-to-IP mapping (HOST:IP, repeatable)
    #[arg(long = "add-host")]
    add_hosts: Vec<String>,
}

/// One `--network`: the network and this container's endpoint on it.
#[derive(Clone, Debug, PartialEq)]
struct Attachment {
    name: String,
    aliases: Vec<String>,
    ip: Option<String>,
    ip6: Option<String>,
}

impl NetworkArgs {
    /// Fills the network parts of a create request.
    pub(super) fn apply(&self, body: &mut ContainerCreateBody) -> Result<()> {
        let attachments = self.attachments()?;
        let mut exposed: Vec<String> = Vec::new();
        let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
        for spec in &self.publish {
            for (port, binding) in parse_publish(spec)? {
                if !exposed.contains(&port) {
                    exposed.push(port.clone());
                }
                bindings
                    .entry(port)
                    .or_insert_with(|| Some(Vec::new()))
                    .get_or_insert_with(Vec::new)
                    .push(binding);
            }
        }
        for spec in &self.expose {
            for port in parse_expose(spec)? {
                if !exposed.contains(&port) {
                    exposed.push(port);
                }
            }
        }
        for server in &self.dns {
            if server.parse::<IpAddr>().is_err() {
                bail!(
                    "invalid --dns {server:?}: give a name server's IP address, e.g. 10.251.1.53"
                );
            }
        }
        let extra_hosts = self
            .add_hosts
            .iter()
            .map(|h| parse_add_host(h))
            .collect::<Result<Vec<_>>>()?;
        if !exposed.is_empty() {
            body.exposed_ports = Some(exposed);
        }
        let host = body.host_config.get_or_insert_with(HostConfig::default);
        host.network_mode = attachments.first().map(|a| a.name.clone());
        host.port_bindings = (!bindings.is_empty()).then_some(bindings);
        host.publish_all_ports = self.publish_all.then_some(true);
        host.dns = (!self.dns.is_empty()).then(|| self.dns.clone());
        host.dns_options = (!self.dns_options.is_empty()).then(|| self.dns_options.clone());
        host.dns_search = (!self.dns_search.is_empty()).then(|| self.dns_search.clone());
        host.extra_hosts = (!extra_hosts.is_empty()).then_some(extra_hosts);
        let mut endpoints: HashMap<String, EndpointSettings> = attachments
            .iter()
            .filter(|a| !is_namespace_mode(&a.name))
            .cloned()
            .map(|a| {
                let ipam_config = (a.ip.is_some() || a.ip6.is_some()).then(|| EndpointIpamConfig {
                    ipv4_address: a.ip,
                    ipv6_address: a.ip6,
                    ..Default::default()
                });
                let settings = EndpointSettings {
                    aliases: (!a.aliases.is_empty()).then_some(a.aliases),
                    ipam_config,
                    ..Default::default()
                };
                (a.name, settings)
            })
            .collect();
        if let Some(mac) = &self.mac_address {
            // Docker's: the container's address on the network of NetworkMode.
            let first = attachments.first().map_or("bridge", |a| a.name.as_str());
            if is_namespace_mode(first) {
                bail!("conflicting options: --mac-address and --network {first} (the container has no interface of its own)");
            }
            endpoints.entry(first.to_owned()).or_default().mac_address = Some(mac.clone());
        }
        if !endpoints.is_empty() {
            body.networking_config = Some(NetworkingConfig {
                endpoints_config: Some(endpoints),
            });
        }
        Ok(())
    }

    /// The `--network` flags with `--network-alias`, `--ip` and `--ip6`
    /// given to the one network they can belong to.
    fn attachments(&self) -> Result<Vec<Attachment>> {
        let mut attachments = self
            .networks
            .iter()
            .map(|spec| parse_network(spec))
            .collect::<Result<Vec<_>>>()?;
        let per_container = !self.aliases.is_empty() || self.ip.is_some() || self.ip6.is_some();
        if !per_container {
            return Ok(attachments);
        }
        match attachments.as_mut_slice() {
            [] => bail!(
                "--network-alias, --ip and --ip6 need the user-defined network they apply to: add --network NAME"
            ),
            [only] if is_namespace_mode(&only.name) || only.name == "bridge" || only.name == "default" => bail!(
                "--network-alias, --ip and --ip6 work on user-defined networks only, not on --network {}: create one with `stack network create NAME`",
                only.name
            ),
            [only] => {
                only.aliases.extend(self.aliases.iter().cloned());
                if self.ip.is_some() {
                    only.ip = self.ip.clone();
                }
                if self.ip6.is_some() {
                    only.ip6 = self.ip6.clone();
                }
                Ok(attachments)
            }
            _ => bail!(
                "--network-alias, --ip and --ip6 are ambiguous with several --network flags: write them per network, e.g. --network name=NET,alias=A,ip=IP"
            ),
        }
    }
}

/// `host`, `none` and `container:ID` share or drop a namespace rather than
/// attach to a network.
fn is_namespace_mode(name: &str) -> bool {
    name == "host" || name == "none" || name.starts_with("container:")
}

/// `NET` or `name=NET,alias=A,ip=IP,ip6=IP6`.
fn parse_network(spec: &str) -> Result<Attachment> {
    let mut attachment = Attachment {
        name: spec.to_owned(),
        aliases: Vec::new(),
        ip: None,
        ip6: None,
    };
    if !spec.contains('=') {
        if spec.is_empty() {
            bail!("--network needs a network name");
        }
        return Ok(attachment);
    }
    attachment.name.clear();
    for part in spec.split(',') {
        match part.split_once('=') {
            Some(("name", v)) => attachment.name = v.to_owned(),
            Some(("alias", v)) => attachment.aliases.push(v.to_owned()),
            Some(("ip", v)) => attachment.ip = Some(v.to_owned()),
            Some(("ip6", v)) => attachment.ip6 = Some(v.to_owned()),
            _ => {
                bail!("invalid --network {spec:?}: {part:?} is not one of name=, alias=, ip=, ip6=")
            }
        }
    }
    if attachment.name.is_empty() {
        bail!("invalid --network {spec:?}: name=NET is missing");
    }
    Ok(attachment)
}

/// `80`, `8000-8010` (with `/tcp`, `/udp` or `/sctp`): first and last port and protocol.
fn parse_ports(text: &str, flag: &str, spec: &str) -> Result<(u16, u16)> {
    let port = |p: &str| match p.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => bail!("invalid {flag} {spec:?}: {p:?} is not a port between 1 and 65535"),
    };
    match text.split_once('-') {
        Some((first, last)) => {
            let (first, last) = (port(first)?, port(last)?);
            if last < first {
                bail!("invalid {flag} {spec:?}: the range {text} ends before it starts");
            }
            Ok((first, last))
        }
        None => port(text).map(|p| (p, p)),
    }
}

fn split_protocol<'a>(spec: &'a str, flag: &str) -> Result<(&'a str, &'a str)> {
    match spec.rsplit_once('/') {
        Some((rest, proto @ ("tcp" | "udp" | "sctp"))) => Ok((rest, proto)),
        Some((_, proto)) => {
            bail!("invalid {flag} {spec:?}: protocol {proto:?} is not tcp, udp or sctp")
        }
        None => Ok((spec, "tcp")),
    }
}

/// `[IP:][HOST_PORT[-HOST_PORT]:]PORT[-PORT][/PROTO]` into (`PORT/PROTO`, binding) pairs.
fn parse_publish(spec: &str) -> Result<Vec<(String, PortBinding)>> {
    let (rest, proto) = split_protocol(spec, "--publish")?;
    // An IPv6 host address is written in brackets: [::1]:8080:80.
    let (host_ip, rest) = match rest.strip_prefix('[') {
        Some(bracketed) => match bracketed.split_once("]:") {
            Some((ip, rest)) => (ip, rest),
            None => bail!("invalid --publish {spec:?}: write an IPv6 address as [ADDRESS]:HOST_PORT:PORT"),
        },
        None => match rest.matches(':').count() {
            0 | 1 => ("", rest),
            2 => rest.split_once(':').unwrap_or(("", rest)),
            _ => bail!("invalid --publish {spec:?}: write [IP:][HOST_PORT:]PORT[/PROTO], with an IPv6 address in brackets"),
        },
    };
    if !host_ip.is_empty() && host_ip.parse::<IpAddr>().is_err() {
        bail!("invalid --publish {spec:?}: {host_ip:?} is not an IP address of this host");
    }
    let (host_ports, container_ports) = rest.rsplit_once(':').unwrap_or(("", rest));
    let (first, last) = parse_ports(container_ports, "--publish", spec)?;
    let count = last - first + 1;
    let host = if host_ports.is_empty() {
        None
    } else {
        Some(parse_ports(host_ports, "--publish", spec)?)
    };
    let binding = |host_port: String| PortBinding {
        host_ip: Some(host_ip.to_owned()),
        host_port: Some(host_port),
    };
    match host {
        None => Ok((first..=last)
            .map(|p| (format!("{p}/{proto}"), binding(String::new())))
            .collect()),
        // One container port may take any free port of a host range.
        Some((h_first, h_last)) if count == 1 => Ok(vec![(
            format!("{first}/{proto}"),
            binding(if h_first == h_last {
                h_first.to_string()
            } else {
                format!("{h_first}-{h_last}")
            }),
        )]),
        Some((h_first, h_last)) if h_last - h_first + 1 == count => Ok((0..count)
            .map(|i| (format!("{}/{proto}", first + i), binding((h_first + i).to_string())))
            .collect()),
        Some(_) => bail!(
            "invalid --publish {spec:?}: the host range and the container range must have the same number of ports"
        ),
    }
}

/// `PORT[-PORT][/PROTO]` into `PORT/PROTO` keys.
fn parse_expose(spec: &str) -> Result<Vec<String>> {
    let (ports, proto) = split_protocol(spec, "--expose")?;
    let (first, last) = parse_ports(ports, "--expose", spec)?;
    Ok((first..=last).map(|p| format!("{p}/{proto}")).collect())
}

/// `HOST:IP` or `HOST=IP` (IP may be IPv6 or `host-gateway`) as the API's `HOST:IP`.
fn parse_add_host(spec: &str) -> Result<String> {
    let split = spec.split_once('=').or_else(|| spec.split_once(':'));
    match split {
        Some((host, ip))
            if !host.is_empty()
                && (ip == "host-gateway"
                    || ip.trim_matches(['[', ']']).parse::<IpAddr>().is_ok()) =>
        {
            Ok(format!("{host}:{}", ip.trim_matches(['[', ']'])))
        }
        _ => bail!("invalid --add-host {spec:?}: write HOST:IP, e.g. db:10.251.1.5"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn published(spec: &str) -> Vec<(String, String, String)> {
        parse_publish(spec)
            .expect("publish")
            .into_iter()
            .map(|(port, b)| {
                (
                    port,
                    b.host_ip.unwrap_or_default(),
                    b.host_port.unwrap_or_default(),
                )
            })
            .collect()
    }

    fn triple(port: &str, ip: &str, host: &str) -> (String, String, String) {
        (port.to_owned(), ip.to_owned(), host.to_owned())
    }

    #[test]
    fn publish_forms() {
        assert_eq!(published("80"), [triple("80/tcp", "", "")]);
        assert_eq!(published("8080:80"), [triple("80/tcp", "", "8080")]);
        assert_eq!(
            published("127.0.0.1:8080:80/udp"),
            [triple("80/udp", "127.0.0.1", "8080")]
        );
        assert_eq!(
            published("127.0.0.1::80"),
            [triple("80/tcp", "127.0.0.1", "")]
        );
        assert_eq!(
            published("[::1]:8080:80"),
            [triple("80/tcp", "::1", "8080")]
        );
        assert_eq!(
            published("8000-8001:80-81"),
            [triple("80/tcp", "", "8000"), triple("81/tcp", "", "8001")]
        );
        assert_eq!(
            published("8000-8010:80"),
            [triple("80/tcp", "", "8000-8010")]
        );
    }

    #[test]
    fn publish_mistakes_name_the_flag_and_value() {
        for bad in [
            "80/xyz",
            "0",
            "70000:80",
            "8000-8002:80-81",
            "nothost:1:80",
            "81-80",
        ] {
            let e = parse_publish(bad).expect_err(bad).to_string();
            assert!(e.contains("--publish") && e.contains(bad), "{e}");
        }
    }

    #[test]
    fn networks_with_aliases_and_addresses() {
        assert_eq!(
            parse_network("name=front,alias=web,alias=www,ip=10.251.1.9").expect("network"),
            Attachment {
                name: "front".into(),
                aliases: vec!["web".into(), "www".into()],
                ip: Some("10.251.1.9".into()),
                ip6: None,
            }
        );
        assert!(parse_network("alias=web").is_err());
        assert!(parse_network("name=x,mac=1").is_err());
    }

    #[test]
    fn expose_and_add_host() {
        assert_eq!(
            parse_expose("8000-8001/udp").expect("expose"),
            ["8000/udp", "8001/udp"]
        );
        assert_eq!(parse_add_host("db:10.0.0.5").expect("host"), "db:10.0.0.5");
        assert_eq!(parse_add_host("db=::1").expect("host"), "db:::1");
        assert_eq!(
            parse_add_host("gw:host-gateway").expect("host"),
            "gw:host-gateway"
        );
        assert!(parse_add_host("db").is_err());
        assert!(parse_add_host("db:nonsense").is_err());
    }
}
