//! Published ports: reading Docker's `PortBindings`, choosing host ports,
//! and refusing a host port that something already holds, naming it.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, UdpSocket};

use bollard_stubs::models::PortBinding;

use crate::network::firewall::rules::Protocol;
use crate::network::record::ActivePort;

/// One port to publish, before its host port is chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PortRequest {
    pub(crate) host_ip: Option<Ipv4Addr>,
    /// The host port or range; `None` for an ephemeral port.
    pub(crate) host_ports: Option<(u16, u16)>,
    pub(crate) container_port: u16,
    pub(crate) protocol: Protocol,
}

/// Parses a `"80/tcp"` key of `PortBindings` or `ExposedPorts`.
pub(crate) fn parse_port_key(key: &str) -> Result<(u16, Protocol), String> {
    let (port, protocol) = key.split_once('/').unwrap_or((key, "tcp"));
    let protocol = match protocol {
        "tcp" => Protocol::Tcp,
        "udp" => Protocol::Udp,
        other => {
            return Err(format!(
                "port {key:?}: protocol {other:?} is not supported (use tcp or udp)"
            ))
        }
    };
    let port =
        port.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
            format!("invalid container port {key:?}: use a number from 1 to 65535")
        })?;
    Ok((port, protocol))
}

/// The ports to publish: every binding of `bindings`, and with
/// `publish_all` (`-P`) every exposed port not bound otherwise, on an
/// ephemeral host port. Errors name the binding.
pub(crate) fn requests(
    bindings: &HashMap<String, Option<Vec<PortBinding>>>,
    publish_all: bool,
    exposed: &[String],
) -> Result<Vec<PortRequest>, String> {
    let mut out = Vec::new();
    let mut keys: Vec<&String> = bindings.keys().collect();
    keys.sort();
    for key in keys {
        let (container_port, protocol) = parse_port_key(key)?;
        let list = bindings.get(key).cloned().flatten().unwrap_or_default();
        let list = if list.is_empty() {
            vec![PortBinding::default()]
        } else {
            list
        };
        for binding in list {
            out.push(PortRequest {
                host_ip: host_ip(key, binding.host_ip.as_deref().unwrap_or(""))?,
                host_ports: host_ports(key, binding.host_port.as_deref().unwrap_or(""))?,
                container_port,
                protocol,
            });
        }
    }
    if publish_all {
        for key in exposed {
            let (container_port, protocol) = parse_port_key(key)?;
            let bound = out
                .iter()
                .any(|r| r.container_port == container_port && r.protocol == protocol);
            if !bound {
                out.push(PortRequest {
                    host_ip: None,
                    host_ports: None,
                    container_port,
                    protocol,
                });
            }
        }
    }
    Ok(out)
}

fn host_ip(key: &str, text: &str) -> Result<Option<Ipv4Addr>, String> {
    match text {
        "" | "0.0.0.0" | "::" => Ok(None),
        other => other.parse().map(Some).map_err(|_| {
            format!(
                "port {key}: host address {other:?} is not supported (use an IPv4 address, or none for all)"
            )
        }),
    }
}

fn host_ports(key: &str, text: &str) -> Result<Option<(u16, u16)>, String> {
    if text.is_empty() || text == "0" {
        return Ok(None);
    }
    let parse = |p: &str| {
        p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
            format!(
                "port {key}: invalid host port {text:?} (use 1-65535 or a range such as 8000-8010)"
            )
        })
    };
    let (low, high) = match text.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => (parse(text)?, parse(text)?),
    };
    if low > high {
        return Err(format!("port {key}: host port range {text:?} is reversed"));
    }
    Ok(Some((low, high)))
}

/// Chooses a host port for every request, avoiding the ports in `taken`
/// (published by other containers; `owner` names their holder) and ports
/// that `probe` finds in use on the host. Every refusal is reported.
pub(crate) fn choose(
    requests: &[PortRequest],
    taken: &[(ActivePort, String)],
    probe: &dyn Fn(Option<Ipv4Addr>, u16, Protocol) -> Result<(), String>,
    ephemeral: &dyn Fn(Option<Ipv4Addr>, Protocol) -> Result<u16, String>,
) -> Result<Vec<ActivePort>, Vec<String>> {
    let mut chosen: Vec<ActivePort> = Vec::new();
    let mut errors = Vec::new();
    let clash = |chosen: &[ActivePort], ip: Option<Ipv4Addr>, port: u16, proto: Protocol| {
        let hit = |p: &ActivePort| {
            p.protocol == proto
                && p.host_port == port
                && (p.host_ip.is_none() || ip.is_none() || p.host_ip == ip)
        };
        if let Some((_, owner)) = taken.iter().find(|(p, _)| hit(p)) {
            return Some(format!("it is published by container {owner}"));
        }
        chosen
            .iter()
            .any(hit)
            .then(|| "it is published twice by this container".to_owned())
    };
    for request in requests {
        let found = match request.host_ports {
            Some((low, high)) => {
                let mut last = None;
                let mut port = None;
                for candidate in low..=high {
                    let why = clash(&chosen, request.host_ip, candidate, request.protocol)
                        .map_or_else(
                            || probe(request.host_ip, candidate, request.protocol).err(),
                            Some,
                        );
                    match why {
                        None => {
                            port = Some(candidate);
                            break;
                        }
                        Some(why) => last = Some(why),
                    }
                }
                port.ok_or_else(|| {
                    let what = if low == high {
                        format!("host port {low}")
                    } else {
                        format!("every host port of {low}-{high}")
                    };
                    format!(
                        "cannot publish {what}/{} on {}: {} (choose another host port, or stop what holds it)",
                        request.protocol.as_str(),
                        request.host_ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
                        last.unwrap_or_default()
                    )
                })
            }
            None => (0..32)
                .find_map(|_| {
                    ephemeral(request.host_ip, request.protocol)
                        .ok()
                        .filter(|p| clash(&chosen, request.host_ip, *p, request.protocol).is_none())
                })
                .ok_or_else(|| {
                    format!(
                        "no free ephemeral host port for {}/{}",
                        request.container_port,
                        request.protocol.as_str()
                    )
                }),
        };
        match found {
            Ok(host_port) => chosen.push(ActivePort {
                host_ip: request.host_ip,
                host_port,
                container_port: request.container_port,
                protocol: request.protocol,
            }),
            Err(message) => errors.push(message),
        }
    }
    if errors.is_empty() {
        Ok(chosen)
    } else {
        Err(errors)
    }
}

/// Whether `port` can be bound on the host now; when not, who holds it if
/// `/proc` tells.
pub(crate) fn probe_host(
    ip: Option<Ipv4Addr>,
    port: u16,
    protocol: Protocol,
) -> Result<(), String> {
    let address = SocketAddr::from((ip.unwrap_or(Ipv4Addr::UNSPECIFIED), port));
    let bound = match protocol {
        Protocol::Tcp => TcpListener::bind(address).map(drop),
        Protocol::Udp => UdpSocket::bind(address).map(drop),
    };
    bound.map_err(|e| match holder(port, protocol) {
        Some(who) => format!("it is in use by {who}"),
        None => format!("it cannot be bound ({e})"),
    })
}

/// A port the kernel picks as free now.
pub(crate) fn ephemeral_host(ip: Option<Ipv4Addr>, protocol: Protocol) -> Result<u16, String> {
    let address = SocketAddr::from((ip.unwrap_or(Ipv4Addr::UNSPECIFIED), 0));
    let local = match protocol {
        Protocol::Tcp => TcpListener::bind(address).and_then(|l| l.local_addr()),
        Protocol::Udp => UdpSocket::bind(address).and_then(|s| s.local_addr()),
    };
    local.map(|a| a.port()).map_err(|e| e.to_string())
}

/// `process PID (COMM)` holding a listening socket on `port`, from
/// `/proc/net/{tcp,udp}{,6}` and the processes' descriptors.
fn holder(port: u16, protocol: Protocol) -> Option<String> {
    let tables: &[&str] = match protocol {
        Protocol::Tcp => &["/proc/net/tcp", "/proc/net/tcp6"],
        Protocol::Udp => &["/proc/net/udp", "/proc/net/udp6"],
    };
    let inodes: Vec<String> = tables
        .iter()
        .filter_map(|t| std::fs::read_to_string(t).ok())
        .flat_map(|text| socket_inodes(&text, port, protocol))
        .collect();
    if inodes.is_empty() {
        return None;
    }
    let wanted: Vec<String> = inodes.iter().map(|i| format!("socket:[{i}]")).collect();
    for process in std::fs::read_dir("/proc").ok()?.flatten() {
        let Ok(pid) = process.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(fds) = std::fs::read_dir(process.path().join("fd")) else {
            continue;
        };
        let holds = fds.flatten().any(|fd| {
            std::fs::read_link(fd.path())
                .is_ok_and(|target| wanted.iter().any(|w| target.as_os_str() == w.as_str()))
        });
        if holds {
            let comm = std::fs::read_to_string(process.path().join("comm")).unwrap_or_default();
            return Some(format!("process {pid} ({})", comm.trim()));
        }
    }
    Some("another process".to_owned())
}

/// The inodes of sockets bound to `port` in a `/proc/net/*` table (TCP:
/// listening ones only).
fn socket_inodes(table: &str, port: u16, protocol: Protocol) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let local_port = fields.get(1)?.rsplit(':').next()?;
            let state = fields.get(3)?;
            let listening = protocol == Protocol::Udp || *state == "0A";
            (u16::from_str_radix(local_port, 16).ok()? == port && listening)
                .then(|| fields.get(9).map(|s| (*s).to_owned()))
                .flatten()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: Some(ip.into()),
            host_port: Some(port.into()),
        }
    }

    #[test]
    fn bindings_and_publish_all_become_requests() {
        let mut bindings = HashMap::new();
        bindings.insert(
            "80/tcp".to_owned(),
            Some(vec![binding("127.0.0.1", "8080")]),
        );
        bindings.insert("53/udp".to_owned(), Some(vec![binding("", "5300-5302")]));
        let got = requests(&bindings, true, &["80/tcp".into(), "443/tcp".into()]).unwrap();
        assert_eq!(
            got,
            vec![
                PortRequest {
                    host_ip: None,
                    host_ports: Some((5300, 5302)),
                    container_port: 53,
                    protocol: Protocol::Udp
                },
                PortRequest {
                    host_ip: Some(Ipv4Addr::LOCALHOST),
                    host_ports: Some((8080, 8080)),
                    container_port: 80,
                    protocol: Protocol::Tcp
                },
                PortRequest {
                    host_ip: None,
                    host_ports: None,
                    container_port: 443,
                    protocol: Protocol::Tcp
                },
            ]
        );
    }

    #[test]
    fn bad_bindings_are_named() {
        let mut bindings = HashMap::new();
        bindings.insert("80/sctp".to_owned(), None);
        assert!(requests(&bindings, false, &[])
            .unwrap_err()
            .contains("sctp"));
        let mut bindings = HashMap::new();
        bindings.insert("80/tcp".to_owned(), Some(vec![binding("", "99999")]));
        assert!(requests(&bindings, false, &[])
            .unwrap_err()
            .contains("99999"));
        let mut bindings = HashMap::new();
        bindings.insert("80/tcp".to_owned(), Some(vec![binding("::1", "80")]));
        assert!(requests(&bindings, false, &[]).unwrap_err().contains("::1"));
    }

    #[test]
    fn choose_skips_taken_ports_in_a_range_and_reports_every_refusal() {
        let request = |ip: Option<Ipv4Addr>, ports: (u16, u16)| PortRequest {
            host_ip: ip,
            host_ports: Some(ports),
            container_port: 80,
            protocol: Protocol::Tcp,
        };
        let taken = vec![(
            ActivePort {
                host_ip: None,
                host_port: 8000,
                container_port: 80,
                protocol: Protocol::Tcp,
            },
            "web-1".to_owned(),
        )];
        let probe = |_: Option<Ipv4Addr>, port: u16, _: Protocol| {
            if port == 8001 {
                Err("it is in use by process 7 (nginx)".to_owned())
            } else {
                Ok(())
            }
        };
        let ephemeral = |_: Option<Ipv4Addr>, _: Protocol| Ok(40000);
        let got = choose(&[request(None, (8000, 8002))], &taken, &probe, &ephemeral).unwrap();
        assert_eq!(got[0].host_port, 8002);
        let errors = choose(
            &[
                request(Some(Ipv4Addr::LOCALHOST), (8000, 8000)),
                request(None, (8001, 8001)),
            ],
            &taken,
            &probe,
            &ephemeral,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2);
        assert!(
            errors[0].contains("published by container web-1"),
            "{}",
            errors[0]
        );
        assert!(errors[1].contains("process 7 (nginx)"), "{}", errors[1]);
    }

    #[test]
    fn listening_sockets_are_found_in_proc_tables() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 12345 1\n   1: 0100007F:1F90 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 999 1\n";
        assert_eq!(socket_inodes(table, 8080, Protocol::Tcp), vec!["12345"]);
        assert!(socket_inodes(table, 80, Protocol::Tcp).is_empty());
    }

    #[test]
    fn a_held_port_is_refused_naming_the_process() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let err = probe_host(Some(Ipv4Addr::LOCALHOST), port, Protocol::Tcp).unwrap_err();
        assert!(
            err.contains(&format!("process {}", std::process::id())),
            "{err}"
        );
    }
}
