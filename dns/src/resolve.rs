//! What to answer to one question, decided without I/O.
//!
//! A container sees the names of the networks it is attached to and nothing
//! else: the network the query arrived on first, then its other networks in
//! name order. A name that exists only on networks the asker is not attached
//! to gets NXDOMAIN rather than being forwarded, so it cannot leak to (or be
//! answered by) the upstream resolvers.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use crate::records::{Addresses, Container, RecordSet};

/// The record types the server answers itself; everything else is
/// [`QueryType::Other`] (an empty answer for local names, forwarded for the
/// rest).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryType {
    A,
    Aaaa,
    Ptr,
    Other,
}

/// One question as received.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Question<'a> {
    /// The queried name in any case, with or without the trailing dot.
    pub(crate) name: &'a str,
    pub(crate) kind: QueryType,
    /// Source address of the query.
    pub(crate) asker: IpAddr,
    /// The network whose listener received the query.
    pub(crate) network: &'a str,
}

/// One record of a local answer; the owner name is the queried name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Data {
    A(Ipv4Addr),
    Aaaa(Ipv6Addr),
    Ptr(String),
}

/// The decision for one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Resolution {
    /// A local name: these records (possibly none, which is NODATA).
    Answer(Vec<Data>),
    /// A name that exists only where the asker cannot see it.
    NxDomain,
    /// Not a local name: ask these upstream servers.
    Forward(Arc<[SocketAddr]>),
    /// The asker is not an endpoint on the network it asked on; the server is
    /// not an open resolver for whoever can reach the gateway address.
    Refused,
}

/// Decides the answer to `question`. `rotation` picks the round-robin order of
/// multi-address answers (the caller passes a counter).
pub(crate) fn resolve(records: &RecordSet, question: &Question<'_>, rotation: usize) -> Resolution {
    let Some(asker) = records.asker(question.network, question.asker) else {
        return Resolution::Refused;
    };
    let name = question
        .name
        .strip_suffix('.')
        .unwrap_or(question.name)
        .to_ascii_lowercase();
    let upstreams = || {
        asker
            .upstreams
            .clone()
            .unwrap_or_else(|| records.upstreams.clone())
    };
    if question.kind == QueryType::Ptr {
        if let Some(address) = parse_reverse_name(&name) {
            return resolve_reverse(records, asker, question.network, address)
                .unwrap_or_else(|| Resolution::Forward(upstreams()));
        }
    }
    for network in visible_networks(asker, question.network) {
        // The asker's links come first: Docker resolves a link's alias to
        // its target's current addresses, for the linking container only.
        let linked = asker
            .link(network, &name)
            .and_then(|target| records.lookup(network, target.as_str()));
        if let Some(addresses) = linked.or_else(|| records.lookup(network, &name)) {
            return Resolution::Answer(select(addresses, question.kind, rotation));
        }
    }
    if records.exists_anywhere(&name) {
        Resolution::NxDomain
    } else {
        Resolution::Forward(upstreams())
    }
}

/// `None` when the address is not an endpoint anywhere (forward it).
fn resolve_reverse(
    records: &RecordSet,
    asker: &Container,
    arrival: &str,
    address: IpAddr,
) -> Option<Resolution> {
    for network in visible_networks(asker, arrival) {
        if let Some(target) = records.reverse(network, address) {
            return Some(Resolution::Answer(vec![Data::Ptr(target)]));
        }
    }
    records
        .is_member_anywhere(address)
        .then_some(Resolution::NxDomain)
}

fn visible_networks<'a>(asker: &'a Container, arrival: &'a str) -> impl Iterator<Item = &'a str> {
    let others = asker
        .networks
        .iter()
        .map(|network| network.as_str())
        .filter(move |network| *network != arrival);
    std::iter::once(arrival).chain(others)
}

fn select(addresses: &Addresses, kind: QueryType, rotation: usize) -> Vec<Data> {
    let mut data: Vec<Data> = match kind {
        QueryType::A => addresses.v4.iter().copied().map(Data::A).collect(),
        QueryType::Aaaa => addresses.v6.iter().copied().map(Data::Aaaa).collect(),
        QueryType::Ptr | QueryType::Other => Vec::new(),
    };
    if !data.is_empty() {
        let shift = rotation % data.len();
        data.rotate_left(shift);
    }
    data
}

/// Reads `4.3.2.1.in-addr.arpa` and the 32-nibble `ip6.arpa` form; `None`
/// for anything else (partial names, zones), which is then forwarded.
fn parse_reverse_name(name: &str) -> Option<IpAddr> {
    if let Some(rest) = name.strip_suffix(".in-addr.arpa") {
        let mut octets = [0u8; 4];
        let mut parts = rest.split('.');
        for octet in octets.iter_mut().rev() {
            let part = parts.next()?;
            // Leading zeros are not the canonical form of an octet.
            if part.len() > 1 && part.starts_with('0') {
                return None;
            }
            *octet = part.parse().ok()?;
        }
        return parts.next().is_none().then_some(IpAddr::from(octets));
    }
    let rest = name.strip_suffix(".ip6.arpa")?;
    let mut value: u128 = 0;
    let mut count = 0;
    for (index, part) in rest.split('.').enumerate() {
        if index >= 32 || part.len() != 1 {
            return None;
        }
        let nibble = u128::from(u8::from_str_radix(part, 16).ok()?);
        value |= nibble << (4 * index);
        count += 1;
    }
    (count == 32).then_some(IpAddr::V6(Ipv6Addr::from(value)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::{DnsName, Endpoint, NetworkName};

    fn name(text: &str) -> DnsName {
        DnsName::parse(text).unwrap()
    }

    fn net(text: &str) -> NetworkName {
        NetworkName::parse(text).unwrap()
    }

    fn upstream(port: u16) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], port))
    }

    /// `front`: web replicas .2 and .3, `both` (also on `back`);
    /// `back`: db, `both`; `other`: lonely with its own upstream.
    fn sample() -> RecordSet {
        let mut builder = RecordSet::builder();
        builder
            .upstreams(vec![upstream(53)])
            .endpoint(
                Endpoint::new(net("front"), name("app-web-1"))
                    .alias(name("web"))
                    .ipv4(Ipv4Addr::new(10, 1, 0, 2)),
            )
            .endpoint(
                Endpoint::new(net("front"), name("app-web-2"))
                    .alias(name("web"))
                    .ipv4(Ipv4Addr::new(10, 1, 0, 3))
                    .ipv6("fd01::3".parse().unwrap()),
            )
            .endpoint(Endpoint::new(net("front"), name("both")).ipv4(Ipv4Addr::new(10, 1, 0, 9)))
            .endpoint(Endpoint::new(net("back"), name("both")).ipv4(Ipv4Addr::new(10, 2, 0, 9)))
            .endpoint(
                Endpoint::new(net("back"), name("app-db-1"))
                    .alias(name("db"))
                    .ipv4(Ipv4Addr::new(10, 2, 0, 2)),
            )
            .endpoint(
                Endpoint::new(net("other"), name("lonely"))
                    .ipv4(Ipv4Addr::new(10, 3, 0, 2))
                    .upstreams(vec![upstream(5353)]),
            );
        builder.build().unwrap()
    }

    fn ask(
        set: &RecordSet,
        asker: &str,
        network: &str,
        qname: &str,
        kind: QueryType,
    ) -> Resolution {
        let question = Question {
            name: qname,
            kind,
            asker: asker.parse().unwrap(),
            network,
        };
        resolve(set, &question, 0)
    }

    fn a(text: &str) -> Data {
        Data::A(text.parse().unwrap())
    }

    #[test]
    fn links_resolve_for_the_linking_container_only() {
        let mut builder = RecordSet::builder();
        builder
            .upstreams(vec![upstream(53)])
            .endpoint(
                Endpoint::new(net("front"), name("app-client-1"))
                    .link(name("webby"), name("app-web-1"))
                    .link(name("gone"), name("app-gone-1"))
                    .ipv4(Ipv4Addr::new(10, 1, 0, 5)),
            )
            .endpoint(
                Endpoint::new(net("front"), name("app-web-1")).ipv4(Ipv4Addr::new(10, 1, 0, 2)),
            )
            .endpoint(Endpoint::new(net("front"), name("webby")).ipv4(Ipv4Addr::new(10, 1, 0, 7)));
        let set = builder.build().unwrap();
        assert_eq!(
            ask(&set, "10.1.0.5", "front", "WEBBY.", QueryType::A),
            Resolution::Answer(vec![a("10.1.0.2")])
        );
        // Anyone else gets the network's own record of the name.
        assert_eq!(
            ask(&set, "10.1.0.2", "front", "webby", QueryType::A),
            Resolution::Answer(vec![a("10.1.0.7")])
        );
        // A link whose target has no record falls through to the name.
        assert_eq!(
            ask(&set, "10.1.0.5", "front", "gone", QueryType::A),
            Resolution::Forward(vec![upstream(53)].into())
        );
    }

    #[test]
    fn replicas_answer_every_address_in_rotating_order() {
        let set = sample();
        let question = Question {
            name: "web",
            kind: QueryType::A,
            asker: "10.1.0.9".parse().unwrap(),
            network: "front",
        };
        assert_eq!(
            resolve(&set, &question, 0),
            Resolution::Answer(vec![a("10.1.0.2"), a("10.1.0.3")])
        );
        assert_eq!(
            resolve(&set, &question, 1),
            Resolution::Answer(vec![a("10.1.0.3"), a("10.1.0.2")])
        );
        assert_eq!(
            resolve(&set, &question, 2),
            Resolution::Answer(vec![a("10.1.0.2"), a("10.1.0.3")])
        );
    }

    #[test]
    fn names_are_case_insensitive_and_may_be_fully_qualified() {
        let set = sample();
        let expected = Resolution::Answer(vec![a("10.1.0.2")]);
        assert_eq!(
            ask(&set, "10.1.0.3", "front", "APP-Web-1.", QueryType::A),
            expected
        );
        assert_eq!(
            ask(&set, "10.1.0.3", "front", "app-web-1.FRONT", QueryType::A),
            expected
        );
    }

    #[test]
    fn other_networks_names_are_nxdomain() {
        let set = sample();
        assert_eq!(
            ask(&set, "10.1.0.2", "front", "db", QueryType::A),
            Resolution::NxDomain
        );
        assert_eq!(
            ask(&set, "10.1.0.2", "front", "db.back", QueryType::A),
            Resolution::NxDomain
        );
        assert_eq!(
            ask(&set, "10.3.0.2", "other", "web", QueryType::Aaaa),
            Resolution::NxDomain
        );
    }

    #[test]
    fn a_container_on_two_networks_sees_both_arrival_network_first() {
        let set = sample();
        assert_eq!(
            ask(&set, "10.1.0.9", "front", "db", QueryType::A),
            Resolution::Answer(vec![a("10.2.0.2")])
        );
        assert_eq!(
            ask(&set, "10.1.0.9", "front", "both", QueryType::A),
            Resolution::Answer(vec![a("10.1.0.9")])
        );
        assert_eq!(
            ask(&set, "10.2.0.9", "back", "both", QueryType::A),
            Resolution::Answer(vec![a("10.2.0.9")])
        );
    }

    #[test]
    fn local_names_without_records_of_the_type_are_nodata() {
        let set = sample();
        assert_eq!(
            ask(&set, "10.1.0.2", "front", "web", QueryType::Aaaa),
            Resolution::Answer(vec![Data::Aaaa("fd01::3".parse().unwrap())])
        );
        assert_eq!(
            ask(&set, "10.1.0.2", "front", "app-web-1", QueryType::Aaaa),
            Resolution::Answer(vec![])
        );
        assert_eq!(
            ask(&set, "10.1.0.2", "front", "web", QueryType::Other),
            Resolution::Answer(vec![])
        );
    }

    #[test]
    fn unknown_names_are_forwarded_to_the_askers_upstreams() {
        let set = sample();
        assert_eq!(
            ask(&set, "10.1.0.2", "front", "example.org", QueryType::A),
            Resolution::Forward(vec![upstream(53)].into())
        );
        assert_eq!(
            ask(&set, "10.3.0.2", "other", "example.org", QueryType::A),
            Resolution::Forward(vec![upstream(5353)].into())
        );
    }

    #[test]
    fn askers_that_are_not_endpoints_are_refused() {
        let set = sample();
        assert_eq!(
            ask(&set, "10.1.0.77", "front", "web", QueryType::A),
            Resolution::Refused
        );
        // An endpoint of another network asking through this network's gateway.
        assert_eq!(
            ask(&set, "10.2.0.2", "front", "web", QueryType::A),
            Resolution::Refused
        );
    }

    #[test]
    fn reverse_lookups_are_scoped_too() {
        let set = sample();
        assert_eq!(
            ask(
                &set,
                "10.1.0.3",
                "front",
                "2.0.1.10.in-addr.arpa.",
                QueryType::Ptr
            ),
            Resolution::Answer(vec![Data::Ptr("app-web-1.front".to_owned())])
        );
        let v6 = "3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.d.f.ip6.arpa";
        assert_eq!(
            ask(&set, "10.1.0.2", "front", v6, QueryType::Ptr),
            Resolution::Answer(vec![Data::Ptr("app-web-2.front".to_owned())])
        );
        assert_eq!(
            ask(
                &set,
                "10.1.0.2",
                "front",
                "2.0.2.10.in-addr.arpa",
                QueryType::Ptr
            ),
            Resolution::NxDomain
        );
        assert_eq!(
            ask(
                &set,
                "10.1.0.2",
                "front",
                "8.8.8.8.in-addr.arpa",
                QueryType::Ptr
            ),
            Resolution::Forward(vec![upstream(53)].into())
        );
    }

    #[test]
    fn reverse_names_parse_only_in_full_canonical_form() {
        assert_eq!(
            parse_reverse_name("4.3.2.1.in-addr.arpa"),
            Some("1.2.3.4".parse().unwrap())
        );
        assert_eq!(parse_reverse_name("3.2.1.in-addr.arpa"), None);
        assert_eq!(parse_reverse_name("5.4.3.2.1.in-addr.arpa"), None);
        assert_eq!(parse_reverse_name("04.3.2.1.in-addr.arpa"), None);
        assert_eq!(parse_reverse_name("256.3.2.1.in-addr.arpa"), None);
        assert_eq!(parse_reverse_name("1.0.ip6.arpa"), None);
        assert_eq!(parse_reverse_name("web"), None);
    }
}
