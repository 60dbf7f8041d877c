//! The published-port check `up` makes before it creates anything: each
//! host port a new container will publish must be free, which only binding
//! it can tell for sure.

use super::observe::{ContainerState, Observed};
use stack_compose::model::{Project, Protocol};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

/// One host port a service publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The service.
    pub service: String,
    /// The host address (all addresses when unset).
    pub host_ip: Option<String>,
    /// The host port.
    pub port: u16,
    /// The protocol.
    pub protocol: Protocol,
}

/// The fixed host ports `services` publish, except those of services
/// that already have a running container (it holds their ports now, and a
/// recreate stops it before the new one starts).
pub fn published_ports(
    project: &Project,
    services: &[String],
    observed: &Observed,
) -> Vec<Published> {
    let mut out = Vec::new();
    let running = |service: &str| {
        observed
            .containers
            .iter()
            .any(|c| c.service() == Some(service) && c.state == ContainerState::Running)
    };
    for service in services {
        let Some(spec) = project.services.get(service) else {
            continue;
        };
        if running(service) {
            continue;
        }
        for port in &spec.ports {
            let Some(published) = &port.published else {
                continue;
            };
            for number in port_range(published) {
                let entry = Published {
                    service: service.clone(),
                    host_ip: port.host_ip.clone().filter(|ip| !ip.is_empty()),
                    port: number,
                    protocol: port.protocol,
                };
                if !out.contains(&entry) {
                    out.push(entry);
                }
            }
        }
    }
    out
}

/// `8080` or `8080-8082` as the ports it names; nothing for `0` or text
/// that is not a port (the engine then picks or refuses).
fn port_range(text: &str) -> Vec<u16> {
    let (start, end) = text.split_once('-').unwrap_or((text, text));
    match (start.trim().parse::<u16>(), end.trim().parse::<u16>()) {
        (Ok(start), Ok(end)) if start > 0 && start <= end => (start..=end).collect(),
        _ => Vec::new(),
    }
}

/// One message per port of `ports` that cannot be bound now, naming the
/// service and the port.
pub fn busy(ports: &[Published]) -> Vec<String> {
    ports
        .iter()
        .filter_map(|p| {
            let ip: IpAddr = match &p.host_ip {
                Some(ip) => ip.parse().ok()?,
                None => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            };
            let addr = SocketAddr::new(ip, p.port);
            let result = match p.protocol {
                Protocol::Udp => UdpSocket::bind(addr).map(drop),
                // SCTP cannot be tried from the standard library; TCP is
                // the common case and what the check is for.
                Protocol::Tcp | Protocol::Sctp => TcpListener::bind(addr).map(drop),
            };
            let e = result.err()?;
            Some(format!(
                "service \"{}\" publishes port {addr}, which is not free ({e}); \
                 stop what uses it or publish another port",
                p.service
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(port_range("8080"), vec![8080]);
        assert_eq!(port_range("8080-8082"), vec![8080, 8081, 8082]);
        assert!(port_range("0").is_empty() && port_range("x").is_empty());
    }

    #[test]
    fn a_bound_port_is_reported() {
        let held = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = held.local_addr().expect("addr").port();
        let ports = [Published {
            service: "web".into(),
            host_ip: Some("127.0.0.1".into()),
            port,
            protocol: Protocol::Tcp,
        }];
        let problems = busy(&ports);
        assert_eq!(problems.len(), 1);
        assert!(problems[0].starts_with(&format!(
            "service \"web\" publishes port 127.0.0.1:{port}, which is not free"
        )));
        drop(held);
        assert!(busy(&ports).is_empty());
    }
}
