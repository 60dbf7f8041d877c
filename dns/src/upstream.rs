//! Forwarding names this server does not know to upstream resolvers, and
//! reading the host's resolv.conf into the list of those resolvers.
//!
//! The query bytes are forwarded as received and the upstream's reply is
//! passed back unchanged (same id, same EDNS options), so the client sees the
//! upstream's own NXDOMAIN or SERVFAIL rather than a timeout of ours.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::time::{timeout_at, Instant};

/// At most this many upstreams are tried for one query, like Docker (and
/// glibc's MAXNS): with more, the client would give up first anyway.
const MAX_TRIED: usize = 3;

/// DNS response codes that mean "this server could not answer", after which
/// the next upstream is worth a try.
const RCODE_SERVFAIL: u8 = 2;
const RCODE_REFUSED: u8 = 5;

/// How long forwarding may take.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ForwardLimits {
    /// For one upstream (UDP and a TCP retry together).
    pub(crate) per_upstream: Duration,
    /// For the whole query over all upstreams.
    pub(crate) total: Duration,
}

/// Forwarding a query failed without any upstream answering.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ForwardError {
    #[error("cannot forward the query: no upstream servers are configured")]
    NoUpstreams,
    #[error("forwarding the query to {server} over {transport} failed: {source}")]
    Io {
        server: SocketAddr,
        transport: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("forwarding the query to {server} timed out")]
    Timeout { server: SocketAddr },
    #[error("{server} sent a reply over TCP that does not match the query")]
    Mismatch { server: SocketAddr },
}

/// Sends `query` (a whole DNS message) to the upstreams in order and returns
/// the first usable reply. A SERVFAIL or REFUSED reply moves on to the next
/// upstream, but is returned if no later upstream does better; only when no
/// upstream replied at all is the last failure returned as an error.
pub(crate) async fn forward(
    query: &[u8],
    upstreams: &[SocketAddr],
    limits: ForwardLimits,
) -> Result<Vec<u8>, ForwardError> {
    let deadline = Instant::now() + limits.total;
    let mut failed_reply = None;
    let mut last_error = ForwardError::NoUpstreams;
    for &server in upstreams.iter().take(MAX_TRIED) {
        let attempt_deadline = deadline.min(Instant::now() + limits.per_upstream);
        match timeout_at(attempt_deadline, exchange(server, query)).await {
            Ok(Ok(reply)) if matches!(rcode(&reply), RCODE_SERVFAIL | RCODE_REFUSED) => {
                failed_reply = Some(reply);
            }
            Ok(Ok(reply)) => return Ok(reply),
            Ok(Err(error)) => last_error = error,
            Err(_) => last_error = ForwardError::Timeout { server },
        }
        if Instant::now() >= deadline {
            break;
        }
    }
    failed_reply.ok_or(last_error)
}

/// One upstream: UDP first, then TCP if the UDP reply is truncated.
async fn exchange(server: SocketAddr, query: &[u8]) -> Result<Vec<u8>, ForwardError> {
    let io_error = |transport| {
        move |source| ForwardError::Io {
            server,
            transport,
            source,
        }
    };
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    // A fresh socket per query gets a random source port from the kernel, and
    // connecting it makes the kernel drop datagrams from anyone but `server`:
    // together with the id check this is the usual defence against spoofed
    // replies.
    let socket = UdpSocket::bind(local).await.map_err(io_error("UDP"))?;
    socket.connect(server).await.map_err(io_error("UDP"))?;
    socket.send(query).await.map_err(io_error("UDP"))?;
    let mut buffer = vec![0u8; 65535];
    let reply = loop {
        let length = socket.recv(&mut buffer).await.map_err(io_error("UDP"))?;
        let reply = &buffer[..length];
        if is_reply_to(reply, query) {
            break reply;
        }
    };
    if !is_truncated(reply) {
        return Ok(reply.to_vec());
    }
    exchange_tcp(server, query).await
}

async fn exchange_tcp(server: SocketAddr, query: &[u8]) -> Result<Vec<u8>, ForwardError> {
    let io_error = |source| ForwardError::Io {
        server,
        transport: "TCP",
        source,
    };
    let length = u16::try_from(query.len()).map_err(|_| ForwardError::Mismatch { server })?;
    let mut stream = TcpStream::connect(server).await.map_err(io_error)?;
    let mut framed = Vec::with_capacity(query.len() + 2);
    framed.extend_from_slice(&length.to_be_bytes());
    framed.extend_from_slice(query);
    stream.write_all(&framed).await.map_err(io_error)?;
    let length = stream.read_u16().await.map_err(io_error)?;
    let mut reply = vec![0u8; usize::from(length)];
    stream.read_exact(&mut reply).await.map_err(io_error)?;
    if is_reply_to(&reply, query) {
        Ok(reply)
    } else {
        Err(ForwardError::Mismatch { server })
    }
}

/// The header checks that matter for forwarding, on raw bytes: the reply
/// flag and the id.
fn is_reply_to(reply: &[u8], query: &[u8]) -> bool {
    reply.len() >= 12 && query.len() >= 2 && reply[..2] == query[..2] && reply[2] & 0x80 != 0
}

fn is_truncated(reply: &[u8]) -> bool {
    reply.len() >= 3 && reply[2] & 0x02 != 0
}

fn rcode(reply: &[u8]) -> u8 {
    reply.get(3).map_or(0, |flags| flags & 0x0f)
}

/// What the host's resolv.conf says, as far as containers need it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostResolvConf {
    /// Resolvers containers can use, in file order.
    pub nameservers: Vec<IpAddr>,
    /// Loopback resolvers (e.g. systemd-resolved's 127.0.0.53), skipped as
    /// Docker does: they live in the host's network namespace, not the
    /// container's. On such hosts the caller may read the real upstream list
    /// (for systemd-resolved, `/run/systemd/resolve/resolv.conf`) instead.
    pub skipped_loopback: Vec<IpAddr>,
    /// `nameserver` values that are not IP addresses (including link-local
    /// IPv6 addresses with a `%zone`, which cannot be used from a container),
    /// so the caller can warn about them.
    pub invalid: Vec<String>,
    /// Search domains (`search` or `domain`, the last one in the file wins,
    /// as in glibc).
    pub search: Vec<String>,
    /// `options` tokens, in file order.
    pub options: Vec<String>,
}

impl HostResolvConf {
    /// The usable nameservers as upstream addresses on port 53.
    pub fn upstreams(&self) -> Vec<SocketAddr> {
        self.nameservers
            .iter()
            .map(|&address| SocketAddr::new(address, 53))
            .collect()
    }
}

/// Parses resolv.conf text (the caller reads the file). Unknown keywords are
/// ignored, as by glibc; `#` and `;` start comments.
pub fn parse_resolv_conf(text: &str) -> HostResolvConf {
    let mut conf = HostResolvConf::default();
    for line in text.lines() {
        let line = line.split(['#', ';']).next().unwrap_or_default();
        let mut words = line.split_whitespace();
        match words.next() {
            Some("nameserver") => {
                let Some(value) = words.next() else { continue };
                match value.parse::<IpAddr>() {
                    Ok(address) if address.is_loopback() => conf.skipped_loopback.push(address),
                    Ok(address) => conf.nameservers.push(address),
                    Err(_) => conf.invalid.push(value.to_owned()),
                }
            }
            Some("search" | "domain") => conf.search = words.map(str::to_owned).collect(),
            Some("options") => conf.options.extend(words.map(str::to_owned)),
            _ => {}
        }
    }
    conf
}

/// The `/etc/resolv.conf` of a container on a user-defined network: this
/// server (the network's gateway) as the only nameserver, then the search
/// domains and options (the host's, or the container's `dns_search` and
/// `dns_opt`). `ndots:0` is added unless an `ndots` option is given, as
/// Docker does, so single-label names such as `db` go to this server as they
/// are instead of through the search list first.
pub fn container_resolv_conf(nameserver: IpAddr, search: &[String], options: &[String]) -> String {
    let mut text = format!("nameserver {nameserver}\n");
    if !search.is_empty() {
        text.push_str(&format!("search {}\n", search.join(" ")));
    }
    let mut options = options.to_vec();
    if !options.iter().any(|option| option.starts_with("ndots:")) {
        options.push("ndots:0".to_owned());
    }
    text.push_str(&format!("options {}\n", options.join(" ")));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_skips_loopback_and_keeps_order() {
        let conf = parse_resolv_conf(
            "# generated\n\
             nameserver 127.0.0.53\n\
             nameserver 10.0.0.2 # office\n\
             nameserver ::1\n\
             nameserver 2001:db8::1\n\
             ; old\n\
             nameserver fe80::1%eth0\n\
             nameserver\n\
             domain old.example\n\
             search corp.example example\n\
             options edns0 trust-ad\n\
             options ndots:2\n\
             sortlist 10.0.0.0\n",
        );
        assert_eq!(
            conf,
            HostResolvConf {
                nameservers: vec!["10.0.0.2".parse().unwrap(), "2001:db8::1".parse().unwrap()],
                skipped_loopback: vec!["127.0.0.53".parse().unwrap(), "::1".parse().unwrap()],
                invalid: vec!["fe80::1%eth0".to_owned()],
                search: vec!["corp.example".to_owned(), "example".to_owned()],
                options: vec![
                    "edns0".to_owned(),
                    "trust-ad".to_owned(),
                    "ndots:2".to_owned()
                ],
            }
        );
        assert_eq!(
            conf.upstreams(),
            vec![
                "10.0.0.2:53".parse::<SocketAddr>().unwrap(),
                "[2001:db8::1]:53".parse().unwrap()
            ]
        );
    }

    #[test]
    fn resolv_conf_with_only_loopback_has_no_upstreams() {
        let conf = parse_resolv_conf("nameserver 127.0.0.1\nnameserver 127.0.1.1\n");
        assert!(conf.upstreams().is_empty());
        assert_eq!(conf.skipped_loopback.len(), 2);
        assert_eq!(parse_resolv_conf(""), HostResolvConf::default());
    }

    #[test]
    fn container_resolv_conf_points_at_the_gateway() {
        let gateway: IpAddr = "172.30.0.1".parse().unwrap();
        let host = parse_resolv_conf("nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n");
        assert_eq!(
            container_resolv_conf(gateway, &host.search, &host.options),
            "nameserver 172.30.0.1\nsearch corp.example\noptions edns0 ndots:0\n"
        );
        assert_eq!(
            container_resolv_conf(gateway, &[], &["ndots:2".to_owned()]),
            "nameserver 172.30.0.1\noptions ndots:2\n"
        );
    }

    #[test]
    fn reply_checks_read_the_header() {
        let query = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        let mut reply = [0x12, 0x34, 0x81, 0x82, 0, 1, 0, 0, 0, 0, 0, 0];
        assert!(is_reply_to(&reply, &query));
        assert_eq!(rcode(&reply), RCODE_SERVFAIL);
        assert!(!is_truncated(&reply));
        reply[2] |= 0x02;
        assert!(is_truncated(&reply));
        reply[1] = 0x35;
        assert!(!is_reply_to(&reply, &query));
        assert!(!is_reply_to(&query, &query));
    }
}
