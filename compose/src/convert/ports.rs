//! `ports:`: the short syntax (`[ip:][host:]container[/protocol]`, with
//! ranges) and the long one, both to [`Port`]s.

use super::reader::{integer, string, MapReader, Sink};
use crate::model::{Extensions, Port, PortMode, Protocol};
use crate::tree::{KeyPath, Kind, Node};
use std::ops::RangeInclusive;

const SHORT_HINT: &str =
    "write it as [HOST_IP:][HOST_PORT:]CONTAINER_PORT[/PROTOCOL], e.g. `127.0.0.1:8080:80/tcp`";

pub(super) fn ports(sink: &mut Sink, node: &Node, path: &KeyPath) -> Vec<Port> {
    let Some(items) = node.as_seq() else {
        sink.wrong_type(node, path, "a list");
        return Vec::new();
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let p = path.index(i);
        match &item.kind {
            Kind::Scalar(s) => match parse_short(&s.text) {
                Ok(ports) => out.extend(ports),
                Err((msg, hint)) => sink.error(&item.location, &p, msg, hint),
            },
            Kind::Map(_) => out.extend(long(sink, item, &p)),
            _ => sink.wrong_type(item, &p, "a string or a mapping"),
        }
    }
    out
}

type ParseError = (String, String);

fn port_error(text: &str) -> ParseError {
    (
        format!("invalid port `{text}`"),
        "a port is a number from 1 to 65535, or a range like `8000-8010`".into(),
    )
}

/// `80` or `8000-8010`.
fn parse_range(text: &str) -> Result<RangeInclusive<u16>, ParseError> {
    let one = |t: &str| match t.parse::<u16>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(port_error(text)),
    };
    match text.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (one(a)?, one(b)?);
            if a > b {
                return Err((
                    format!("invalid port range `{text}`: the start is after the end"),
                    "write the lower port first, e.g. `8000-8010`".into(),
                ));
            }
            Ok(a..=b)
        }
        None => one(text).map(|n| n..=n),
    }
}

fn parse_protocol(text: &str) -> Result<Protocol, ParseError> {
    match text.to_ascii_lowercase().as_str() {
        "tcp" => Ok(Protocol::Tcp),
        "udp" => Ok(Protocol::Udp),
        "sctp" => Ok(Protocol::Sctp),
        _ => Err((
            format!("unknown protocol `{text}`"),
            "use `tcp`, `udp` or `sctp`".into(),
        )),
    }
}

fn parse_host_ip(text: &str) -> Result<String, ParseError> {
    let bare = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .unwrap_or(text);
    match bare.parse::<std::net::IpAddr>() {
        Ok(_) => Ok(bare.to_string()),
        Err(_) => Err((
            format!("invalid host IP `{text}`"),
            "use an IPv4 address like `127.0.0.1` or an IPv6 one in brackets like `[::1]`".into(),
        )),
    }
}

/// One short port spec to one or more ports (ranges map port by port).
pub(crate) fn parse_short(spec: &str) -> Result<Vec<Port>, ParseError> {
    let (rest, protocol) = match spec.rsplit_once('/') {
        Some((rest, proto)) => (rest, parse_protocol(proto)?),
        None => (spec, Protocol::Tcp),
    };
    let parts: Vec<&str> = rest.split(':').collect();
    let n = parts.len();
    let container = parts[n - 1];
    let host = if n >= 2 { parts[n - 2] } else { "" };
    let ip = if n >= 3 {
        parts[..n - 2].join(":")
    } else {
        String::new()
    };
    if container.is_empty() {
        return Err((
            format!("invalid port spec `{spec}`: no container port"),
            SHORT_HINT.into(),
        ));
    }
    let targets = parse_range(container)?;
    let host_ip = if ip.is_empty() {
        None
    } else {
        Some(parse_host_ip(&ip)?)
    };
    let port = |target: u16, published: Option<String>| Port {
        name: None,
        mode: PortMode::Ingress,
        host_ip: host_ip.clone(),
        target,
        published,
        protocol,
        app_protocol: None,
        extensions: Extensions::new(),
    };
    if host.is_empty() {
        return Ok(targets.map(|t| port(t, None)).collect());
    }
    let published = parse_range(host)?;
    if published.len() == targets.len() {
        return Ok(targets
            .zip(published)
            .map(|(t, h)| port(t, Some(h.to_string())))
            .collect());
    }
    if targets.len() == 1 {
        return Ok(vec![port(*targets.start(), Some(host.to_string()))]);
    }
    Err((
        format!(
            "the host range `{host}` and the container range `{container}` have different sizes"
        ),
        "map ranges of the same size, or one container port to a host range".into(),
    ))
}

fn long(sink: &mut Sink, node: &Node, path: &KeyPath) -> Option<Port> {
    let mut m = MapReader::new(sink, node, path)?;
    let target = match m.get("target") {
        Some((n, p)) => match integer::<u16>(sink, n, &p) {
            Some(0) => {
                let (msg, hint) = port_error("0");
                sink.error(&n.location, &p, msg, hint);
                None
            }
            t => t,
        },
        None => {
            sink.error(
                &node.location,
                path,
                "missing `target`",
                "add `target:` with the container port",
            );
            None
        }
    };
    let published = m.parse(sink, "published", |t| parse_range(t).map(|_| t.to_string()));
    let host_ip = m.parse(sink, "host_ip", parse_host_ip);
    let protocol = m.parse(sink, "protocol", parse_protocol);
    let mode = m.parse(sink, "mode", |t| match t {
        "host" => Ok(PortMode::Host),
        "ingress" => Ok(PortMode::Ingress),
        _ => Err((
            format!("unknown port mode `{t}`"),
            "use `host` or `ingress`".into(),
        )),
    });
    let name = m.read(sink, "name", string);
    let app_protocol = m.read(sink, "app_protocol", string);
    let extensions = m.finish(sink, true);
    Some(Port {
        name,
        mode: mode.unwrap_or(PortMode::Ingress),
        host_ip,
        target: target?,
        published,
        protocol: protocol.unwrap_or(Protocol::Tcp),
        app_protocol,
        extensions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn short(spec: &str) -> Vec<(Option<String>, u16, Option<String>, Protocol)> {
        parse_short(spec)
            .unwrap()
            .into_iter()
            .map(|p| (p.host_ip, p.target, p.published, p.protocol))
            .collect()
    }

    fn s(v: &str) -> Option<String> {
        Some(v.to_string())
    }

    #[test]
    fn short_syntax() {
        assert_eq!(short("80"), vec![(None, 80, None, Protocol::Tcp)]);
        assert_eq!(short("8080:80"), vec![(None, 80, s("8080"), Protocol::Tcp)]);
        assert_eq!(
            short("127.0.0.1:8080:80/udp"),
            vec![(s("127.0.0.1"), 80, s("8080"), Protocol::Udp)]
        );
        assert_eq!(
            short("[::1]:80:80"),
            vec![(s("::1"), 80, s("80"), Protocol::Tcp)]
        );
        assert_eq!(
            short("127.0.0.1::80"),
            vec![(s("127.0.0.1"), 80, None, Protocol::Tcp)]
        );
        assert_eq!(
            short("8000-8001:9000-9001"),
            vec![
                (None, 9000, s("8000"), Protocol::Tcp),
                (None, 9001, s("8001"), Protocol::Tcp)
            ]
        );
        assert_eq!(
            short("8000-8010:80"),
            vec![(None, 80, s("8000-8010"), Protocol::Tcp)]
        );
        assert_eq!(short("3000-3001").len(), 2);
    }

    #[test]
    fn short_syntax_errors() {
        let e = |spec: &str| parse_short(spec).unwrap_err().0;
        assert_eq!(e("80/tpc"), "unknown protocol `tpc`");
        assert_eq!(e("abc"), "invalid port `abc`");
        assert_eq!(e("70000:80"), "invalid port `70000`");
        assert_eq!(e("0"), "invalid port `0`");
        assert_eq!(
            e("90-80"),
            "invalid port range `90-80`: the start is after the end"
        );
        assert_eq!(
            e("8000-8001:80-85"),
            "the host range `8000-8001` and the container range `80-85` have different sizes"
        );
        assert_eq!(e("1.2.3:80:80"), "invalid host IP `1.2.3`");
        assert_eq!(e("8080:"), "invalid port spec `8080:`: no container port");
    }
}
