//! A container's `/etc/hosts` and `/etc/resolv.conf`, as Docker writes
//! them (pure).

use std::net::{IpAddr, Ipv4Addr};

use stack_dns::HostResolvConf;

/// The name lookups a container is set up with (`--dns`, `--dns-search`,
/// `--dns-option`, `--add-host`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct LookupOptions {
    pub(crate) dns: Vec<IpAddr>,
    pub(crate) search: Vec<String>,
    pub(crate) options: Vec<String>,
    /// `name:address` entries.
    pub(crate) extra_hosts: Vec<String>,
}

/// `/etc/hosts`: loopback names, the container's own address (or loopback
/// without one) under its hostname, then `extra_hosts`.
pub(crate) fn hosts(hostname: &str, own: Option<Ipv4Addr>, extra: &[(String, IpAddr)]) -> String {
    let mut text = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\n\
         ff02::2\tip6-allrouters\n",
    );
    for (name, address) in extra {
        text.push_str(&format!("{address}\t{name}\n"));
    }
    if !hostname.is_empty() {
        let address = own.unwrap_or(Ipv4Addr::LOCALHOST);
        text.push_str(&format!("{address}\t{hostname}\n"));
    }
    text
}

/// Parses `extra_hosts` entries (`name:address`, `name=address`; Docker's
/// `host-gateway` is the gateway of the first network, or refused without
/// one), naming the entry that cannot be read.
pub(crate) fn extra_hosts(
    entries: &[String],
    gateway: Option<Ipv4Addr>,
) -> Result<Vec<(String, IpAddr)>, String> {
    entries
        .iter()
        .map(|entry| {
            let (name, address) = entry
                .split_once(['=', ':'])
                .filter(|(n, a)| !n.is_empty() && !a.is_empty())
                .ok_or_else(|| format!("invalid extra host {entry:?}: write it as name:address"))?;
            let address = if address == "host-gateway" {
                IpAddr::V4(gateway.ok_or_else(|| {
                    format!(
                        "extra host {entry:?}: host-gateway needs the container on a bridge network"
                    )
                })?)
            } else {
                address
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse()
                    .map_err(|_| {
                        format!("invalid extra host {entry:?}: {address:?} is not an IP address")
                    })?
            };
            Ok((name.to_owned(), address))
        })
        .collect()
}

/// `/etc/resolv.conf` of a container whose names are answered by the
/// engine's DNS server at `server` (a user-defined network's gateway).
pub(crate) fn resolv_conf_served(
    server: Ipv4Addr,
    host: &HostResolvConf,
    lookup: &LookupOptions,
) -> String {
    let (search, options) = search_and_options(host, lookup);
    stack_dns::container_resolv_conf(IpAddr::V4(server), &search, &options)
}

/// `/etc/resolv.conf` of a container without the engine's DNS (the default
/// `bridge` network, `none`): its own `--dns` servers, else the host's
/// resolvers that it can reach (not loopback ones, as Docker does).
pub(crate) fn resolv_conf_direct(host: &HostResolvConf, lookup: &LookupOptions) -> String {
    let servers = if lookup.dns.is_empty() {
        &host.nameservers
    } else {
        &lookup.dns
    };
    let (search, options) = search_and_options(host, lookup);
    let mut text: String = servers
        .iter()
        .map(|s| format!("nameserver {s}\n"))
        .collect();
    if !search.is_empty() {
        text.push_str(&format!("search {}\n", search.join(" ")));
    }
    if !options.is_empty() {
        text.push_str(&format!("options {}\n", options.join(" ")));
    }
    text
}

fn search_and_options(host: &HostResolvConf, lookup: &LookupOptions) -> (Vec<String>, Vec<String>) {
    let search = if lookup.search.is_empty() {
        host.search.clone()
    } else {
        lookup.search.clone()
    };
    let options = if lookup.options.is_empty() {
        host.options.clone()
    } else {
        lookup.options.clone()
    };
    (search, options)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_list_the_container_under_its_address_and_extra_hosts_first() {
        let extra = vec![("db.local".to_owned(), "10.1.2.3".parse().unwrap())];
        let text = hosts("web", Some(Ipv4Addr::new(172, 30, 0, 2)), &extra);
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(
            text.ends_with("10.1.2.3\tdb.local\n172.30.0.2\tweb\n"),
            "{text}"
        );
        assert!(hosts("web", None, &[]).ends_with("127.0.0.1\tweb\n"));
    }

    #[test]
    fn extra_hosts_take_both_separators_host_gateway_and_ipv6() {
        let gw = Some(Ipv4Addr::new(172, 30, 0, 1));
        let parsed = extra_hosts(
            &[
                "a:10.0.0.1".into(),
                "b=10.0.0.2".into(),
                "c:host-gateway".into(),
                "d:[2001:db8::1]".into(),
            ],
            gw,
        )
        .unwrap();
        let text: Vec<String> = parsed.iter().map(|(n, a)| format!("{n} {a}")).collect();
        assert_eq!(
            text,
            ["a 10.0.0.1", "b 10.0.0.2", "c 172.30.0.1", "d 2001:db8::1"]
        );
        assert!(extra_hosts(&["nocolon".into()], gw)
            .unwrap_err()
            .contains("name:address"));
        assert!(extra_hosts(&["x:host-gateway".into()], None)
            .unwrap_err()
            .contains("bridge network"));
        assert!(extra_hosts(&["x:notanip".into()], gw)
            .unwrap_err()
            .contains("not an IP address"));
    }

    #[test]
    fn resolv_conf_points_at_the_server_or_the_reachable_host_resolvers() {
        let host = stack_dns::parse_resolv_conf(
            "nameserver 127.0.0.53\nnameserver 10.0.0.2\nsearch corp.example\noptions edns0\n",
        );
        let served = resolv_conf_served(
            Ipv4Addr::new(172, 30, 0, 1),
            &host,
            &LookupOptions::default(),
        );
        assert_eq!(
            served,
            "nameserver 172.30.0.1\nsearch corp.example\noptions edns0 ndots:0\n"
        );
        let direct = resolv_conf_direct(&host, &LookupOptions::default());
        assert_eq!(
            direct,
            "nameserver 10.0.0.2\nsearch corp.example\noptions edns0\n"
        );
        let own = LookupOptions {
            dns: vec!["10.9.9.9".parse().unwrap()],
            search: vec!["svc.local".into()],
            ..LookupOptions::default()
        };
        assert_eq!(
            resolv_conf_direct(&host, &own),
            "nameserver 10.9.9.9\nsearch svc.local\noptions edns0\n"
        );
    }
}
