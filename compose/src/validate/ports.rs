//! Two published ports that would bind the same host address: the second
//! container would fail to start with "port is already allocated", so the
//! loader says it first, naming both.

use super::Check;
use crate::model::{Project, Protocol};
use crate::tree::KeyPath;
use std::fmt;

/// One published host port or range of a service.
struct Published<'a> {
    service: &'a str,
    path: KeyPath,
    /// `None` when the port binds every address of the host.
    ip: Option<&'a str>,
    first: u16,
    last: u16,
    protocol: Protocol,
}

impl Published<'_> {
    fn overlaps(&self, other: &Published<'_>) -> bool {
        let same_address = match (self.ip, other.ip) {
            // An unspecified address binds them all, so it clashes with any.
            (None, _) | (_, None) => true,
            (Some(a), Some(b)) => a == b,
        };
        self.protocol == other.protocol
            && same_address
            && self.first <= other.last
            && other.first <= self.last
    }

    fn same_ports(&self, other: &Published<'_>) -> bool {
        (self.ip, self.first, self.last) == (other.ip, other.first, other.last)
    }
}

impl fmt::Display for Published<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip {
            Some(ip) if ip.contains(':') => write!(f, "[{ip}]:")?,
            Some(ip) => write!(f, "{ip}:")?,
            None => {}
        }
        write!(f, "{}", self.first)?;
        if self.last != self.first {
            write!(f, "-{}", self.last)?;
        }
        let protocol = match self.protocol {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
            Protocol::Sctp => "sctp",
        };
        write!(f, "/{protocol}")
    }
}

/// `8080` or `8000-8010`; anything else was already reported by the
/// conversion and is skipped here.
fn parse_range(published: &str) -> Option<(u16, u16)> {
    let (first, last) = match published.split_once('-') {
        Some((a, b)) => (a.trim().parse().ok()?, b.trim().parse().ok()?),
        None => {
            let port = published.trim().parse().ok()?;
            (port, port)
        }
    };
    (first <= last).then_some((first, last))
}

fn unspecified(ip: &str) -> bool {
    matches!(ip, "" | "0.0.0.0" | "::" | "[::]")
}

/// Reports each published port that overlaps one published before it (in
/// file order), naming the earlier one.
pub(super) fn check(project: &Project, check: &mut Check<'_>) {
    let mut seen: Vec<Published<'_>> = Vec::new();
    for (name, service) in &project.services {
        for (i, port) in service.ports.iter().enumerate() {
            let Some((first, last)) = port.published.as_deref().and_then(parse_range) else {
                continue;
            };
            let mine = Published {
                service: name,
                path: KeyPath::root()
                    .key("services")
                    .key(name)
                    .key("ports")
                    .index(i),
                ip: port.host_ip.as_deref().filter(|ip| !unspecified(ip)),
                first,
                last,
                protocol: port.protocol,
            };
            if let Some(theirs) = seen.iter().find(|p| p.overlaps(&mine)) {
                // Where the other one is: its position when known (a port
                // expanded from a short-syntax range has no key path of
                // its own in the file), else its key path.
                let there = check
                    .spans
                    .locate(&theirs.path)
                    .map_or_else(|| theirs.path.to_string(), |l| l.to_string());
                let message = if mine.same_ports(theirs) {
                    format!(
                        "host port {mine} is already published by service \"{}\" ({there})",
                        theirs.service
                    )
                } else {
                    format!(
                        "host port {mine} overlaps {theirs} published by service \"{}\" ({there})",
                        theirs.service
                    )
                };
                check.error(
                    mine.path.clone(),
                    message,
                    "two containers cannot listen on the same host port: publish another one, \
                     or leave `published` out to let the engine choose",
                );
            }
            seen.push(mine);
        }
    }
}
