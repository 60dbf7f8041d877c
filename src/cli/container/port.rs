//! `stack container port`: a container's published ports, as `docker port`
//! prints them.

use super::api_message;
use anyhow::{anyhow, bail, Result};
use bollard::models::PortMap;
use bollard::query_parameters::InspectContainerOptions;
use bollard::Docker;

/// Prints `PORT/PROTO -> HOST_IP:HOST_PORT` lines, or only the host side of
/// one port when `port` is given.
pub(super) async fn port(client: &Docker, container: &str, port: Option<&str>) -> Result<()> {
    let details = client
        .inspect_container(container, None::<InspectContainerOptions>)
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    let ports = details
        .network_settings
        .and_then(|s| s.ports)
        .unwrap_or_default();
    let wanted = port.map(normalize).transpose()?;
    let lines = lines(&ports, wanted.as_deref());
    if lines.is_empty() {
        if let Some(wanted) = wanted {
            bail!(
                "no public port {wanted} published for container {container}: publish it with -p or -P when creating the container"
            );
        }
    }
    lines.iter().for_each(|l| println!("{l}"));
    Ok(())
}

/// `80` is `80/tcp`, as in docker.
fn normalize(port: &str) -> Result<String> {
    let (number, proto) = port.split_once('/').unwrap_or((port, "tcp"));
    match (number.parse::<u16>(), proto) {
        (Ok(n), "tcp" | "udp" | "sctp") if n > 0 => Ok(format!("{n}/{proto}")),
        _ => bail!("invalid port {port:?}: write PORT or PORT/PROTO, e.g. 80/tcp"),
    }
}

/// The output lines, sorted by container port number, then protocol.
fn lines(ports: &PortMap, wanted: Option<&str>) -> Vec<String> {
    let mut keys: Vec<&String> = ports.keys().collect();
    keys.sort_by_key(|k| {
        let (number, proto) = k.split_once('/').unwrap_or((k, ""));
        (number.parse::<u32>().unwrap_or(u32::MAX), proto.to_owned())
    });
    let mut out = Vec::new();
    for key in keys {
        if wanted.is_some_and(|w| w != key) {
            continue;
        }
        for binding in ports[key].iter().flatten() {
            let ip = binding.host_ip.as_deref().unwrap_or_default();
            let ip = match ip {
                "" => "0.0.0.0".to_owned(),
                v6 if v6.contains(':') => format!("[{v6}]"),
                v4 => v4.to_owned(),
            };
            let host = format!("{ip}:{}", binding.host_port.as_deref().unwrap_or_default());
            out.push(match wanted {
                Some(_) => host,
                None => format!("{key} -> {host}"),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::PortBinding;

    fn binding(ip: &str, port: &str) -> PortBinding {
        PortBinding {
            host_ip: Some(ip.into()),
            host_port: Some(port.into()),
        }
    }

    #[test]
    fn lines_as_docker_prints_them() {
        let ports = PortMap::from([
            (
                "443/tcp".to_owned(),
                Some(vec![binding("0.0.0.0", "8443"), binding("::", "8443")]),
            ),
            (
                "80/tcp".to_owned(),
                Some(vec![binding("127.0.0.1", "8080")]),
            ),
            ("53/udp".to_owned(), Some(vec![binding("0.0.0.0", "5353")])),
            ("9000/tcp".to_owned(), None),
        ]);
        assert_eq!(
            lines(&ports, None),
            [
                "53/udp -> 0.0.0.0:5353",
                "80/tcp -> 127.0.0.1:8080",
                "443/tcp -> 0.0.0.0:8443",
                "443/tcp -> [::]:8443",
            ]
        );
        assert_eq!(lines(&ports, Some("80/tcp")), ["127.0.0.1:8080"]);
        assert!(lines(&ports, Some("9000/tcp")).is_empty());
        assert_eq!(normalize("80").expect("port"), "80/tcp");
        assert!(normalize("80/icmp").is_err());
    }
}
