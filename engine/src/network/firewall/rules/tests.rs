use super::*;
use crate::network::names::IfName;
use serde_json::json;

fn network(bridge: &str, subnet: &str, internal: bool) -> FirewallNetwork {
    FirewallNetwork {
        bridge: BridgeName::explicit(IfName::new(bridge).unwrap()),
        subnet: subnet.parse().unwrap(),
        internal,
    }
}

fn port(host: Option<&str>, host_port: u16, to: &str, container_port: u16) -> PortForward {
    PortForward {
        host_ip: host.map(|h| h.parse().unwrap()),
        host_port,
        container_ip: to.parse().unwrap(),
        container_port,
        protocol: Protocol::Tcp,
    }
}

fn udp(p: PortForward) -> PortForward {
    PortForward {
        protocol: Protocol::Udp,
        ..p
    }
}

fn three_networks() -> Vec<FirewallNetwork> {
    vec![
        network("stk-web", "172.18.0.0/16", false),
        network("stk-db", "172.19.0.0/16", true),
        network("stk-app", "172.20.0.0/16", false),
    ]
}

fn three_ports() -> Vec<PortForward> {
    vec![
        port(None, 8080, "172.18.0.2", 80),
        port(Some("127.0.0.1"), 5432, "172.20.0.3", 5432),
        udp(port(Some("192.168.1.10"), 53, "172.18.0.2", 53)),
    ]
}

/// Two ordinary networks and an internal one; a port on all addresses, one
/// on loopback only, one (udp) on a specific address.
const GOLDEN: &str = r#"table ip stack {
	set bridges {
		type ifname
		elements = { "stk-app", "stk-db", "stk-web" }
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname @bridges ct state established,related accept
		oifname @bridges ct status dnat accept
		iifname "stk-app" oifname "stk-app" accept
		iifname "stk-app" oifname @bridges drop
		iifname "stk-app" accept
		oifname "stk-app" drop
		iifname "stk-db" oifname "stk-db" accept
		iifname "stk-db" drop
		oifname "stk-db" drop
		iifname "stk-web" oifname "stk-web" accept
		iifname "stk-web" oifname @bridges drop
		iifname "stk-web" accept
		oifname "stk-web" drop
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local ip daddr != 127.0.0.0/8 tcp dport 8080 dnat to 172.18.0.2:80
		ip daddr 192.168.1.10 udp dport 53 dnat to 172.18.0.2:53
	}

	chain output {
		type nat hook output priority -100; policy accept;
		fib daddr type local tcp dport 8080 dnat to 172.18.0.2:80
		ip daddr 127.0.0.1 tcp dport 5432 dnat to 172.20.0.3:5432
		ip daddr 192.168.1.10 udp dport 53 dnat to 172.18.0.2:53
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 172.20.0.0/16 oifname != "stk-app" masquerade
		oifname "stk-app" ip saddr 172.20.0.0/16 ct status dnat masquerade
		ip saddr 172.18.0.0/16 oifname != "stk-web" masquerade
		oifname "stk-web" ip saddr 172.18.0.0/16 ct status dnat masquerade
		oifname @bridges ip saddr 127.0.0.0/8 masquerade
	}
}
"#;

#[test]
fn representative_rule_set_golden() {
    let rules = rule_set(&three_networks(), &three_ports()).unwrap();
    assert_eq!(rules.to_string(), GOLDEN);
    assert_eq!(rules.rule_count(), 13 + 2 + 3 + 5);
}

#[test]
fn input_order_does_not_matter() {
    let mut networks = three_networks();
    networks.reverse();
    let mut ports = three_ports();
    ports.rotate_left(1);
    ports.push(ports[0]);
    assert_eq!(rule_set(&networks, &ports).unwrap().to_string(), GOLDEN);
}

#[test]
fn one_network_without_ports_has_no_nat_for_ports() {
    let rules = rule_set(&[network("stk-a", "10.1.0.0/24", false)], &[]).unwrap();
    assert_eq!(
        rules.to_string(),
        r#"table ip stack {
	set bridges {
		type ifname
		elements = { "stk-a" }
	}

	chain forward {
		type filter hook forward priority filter; policy accept;
		oifname @bridges ct state established,related accept
		oifname @bridges ct status dnat accept
		iifname "stk-a" oifname "stk-a" accept
		iifname "stk-a" oifname @bridges drop
		iifname "stk-a" accept
		oifname "stk-a" drop
	}

	chain prerouting {
		type nat hook prerouting priority dstnat; policy accept;
	}

	chain output {
		type nat hook output priority -100; policy accept;
	}

	chain postrouting {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.1.0.0/24 oifname != "stk-a" masquerade
	}
}
"#
    );
}

#[test]
fn an_internal_network_only_talks_inside_its_bridge() {
    let rules = rule_set(&[network("stk-i", "10.9.0.0/24", true)], &[]).unwrap();
    let text = rules.to_string();
    assert!(text.contains("\t\tiifname \"stk-i\" oifname \"stk-i\" accept\n\t\tiifname \"stk-i\" drop\n\t\toifname \"stk-i\" drop\n"));
    assert!(!text.contains("masquerade"), "{text}");
}

#[test]
fn no_networks_gives_an_empty_table() {
    let text = rule_set(&[], &[]).unwrap().to_string();
    assert!(!text.contains("elements"));
    assert!(!text.contains("accept\n\t\t"), "{text}");
}

#[test]
fn inconsistent_input_is_reported_all_at_once() {
    let errors = rule_set(
        &[
            network("stk-a", "10.1.0.0/24", false),
            network("stk-a", "10.2.0.0/24", false),
            network("stk-i", "10.9.0.0/24", true),
        ],
        &[
            port(None, 8080, "10.1.0.2", 80),
            port(Some("10.0.0.5"), 8080, "10.1.0.3", 80),
            udp(port(None, 8080, "10.1.0.3", 80)),
            port(None, 9000, "10.9.0.2", 80),
            port(None, 0, "10.1.0.2", 81),
        ],
    )
    .unwrap_err();
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "bridge stk-a belongs to more than one network",
            "published port 0.0.0.0:0->10.1.0.2:81/tcp has host port 0; choose the port before computing rules",
            "published port 0.0.0.0:9000->10.9.0.2:80/tcp leads to an address on no non-internal network (ports of containers only on internal networks are not published)",
            "host port 8080/tcp is published twice: 0.0.0.0:8080->10.1.0.2:80/tcp and 10.0.0.5:8080->10.1.0.3:80/tcp",
        ]
    );
}

#[test]
fn two_specific_addresses_may_share_a_port() {
    let ports = [
        port(Some("127.0.0.1"), 8080, "10.1.0.2", 80),
        port(Some("10.0.0.5"), 8080, "10.1.0.3", 80),
    ];
    assert!(rule_set(&[network("stk-a", "10.1.0.0/24", false)], &ports).is_ok());
}

fn rules_json(rules: &RuleSet) -> Vec<serde_json::Value> {
    let batch = serde_json::to_value(rules.to_batch(TABLE)).unwrap();
    batch["nftables"].as_array().unwrap().clone()
}

#[test]
fn the_batch_replaces_the_table_in_one_transaction() {
    let rules = rule_set(&[network("stk-a", "10.1.0.0/24", false)], &[]).unwrap();
    let cmds = rules_json(&rules);
    let table = json!({"family": "ip", "name": "stack"});
    assert_eq!(cmds[0], json!({"add": {"table": table}}));
    assert_eq!(cmds[1], json!({"delete": {"table": table}}));
    assert_eq!(cmds[2], json!({"add": {"table": table}}));
    assert_eq!(
        cmds[3],
        json!({"add": {"set": {"family": "ip", "table": "stack", "name": "bridges",
            "type": "ifname", "elem": ["stk-a"]}}})
    );
    assert_eq!(
        cmds[4],
        json!({"add": {"chain": {"family": "ip", "table": "stack", "name": "forward",
            "type": "filter", "hook": "forward", "prio": 0, "policy": "accept"}}})
    );
    assert_eq!(cmds.len(), 3 + 1 + 4 + rules.rule_count());
    let removal = serde_json::to_value(removal_batch(TABLE)).unwrap();
    assert_eq!(
        removal,
        json!({"nftables": [{"add": {"table": table}}, {"delete": {"table": table}}]})
    );
}

#[test]
fn statements_serialise_as_nft_expects() {
    let rules = rule_set(
        &[network("stk-a", "10.1.0.0/24", false)],
        &[port(None, 8080, "10.1.0.2", 80)],
    )
    .unwrap();
    let cmds = rules_json(&rules);
    let expr = |i: usize| cmds[i]["add"]["rule"]["expr"].clone();
    // forward: established replies.
    assert_eq!(
        expr(8),
        json!([
            {"match": {"left": {"meta": {"key": "oifname"}}, "right": "@bridges", "op": "=="}},
            {"match": {"left": {"ct": {"key": "state"}}, "right": ["established", "related"], "op": "in"}},
            {"accept": null}
        ])
    );
    // prerouting: DNAT of a port on all addresses except loopback.
    let dnat = cmds
        .iter()
        .find(|c| c["add"]["rule"]["chain"] == "prerouting")
        .unwrap();
    assert_eq!(
        dnat["add"]["rule"]["expr"],
        json!([
            {"match": {"left": {"fib": {"result": "type", "flags": ["daddr"]}}, "right": "local", "op": "=="}},
            {"match": {"left": {"payload": {"protocol": "ip", "field": "daddr"}},
                       "right": {"prefix": {"addr": "127.0.0.0", "len": 8}}, "op": "!="}},
            {"match": {"left": {"payload": {"protocol": "tcp", "field": "dport"}}, "right": 8080, "op": "=="}},
            {"dnat": {"addr": "10.1.0.2", "port": 80}}
        ])
    );
}

/// The iptables driver's version of [`GOLDEN`], with every jump missing:
/// "one of our bridges" is one rule per bridge (`-i stk-app -o stk-app -j
/// DROP` is one of them, unreachable after the accept above it, as in nft).
const RESTORE_GOLDEN: &str = r#"*filter
:STACK-FORWARD - [0:0]
-I FORWARD 1 -j STACK-FORWARD
-A STACK-FORWARD -o stk-app -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A STACK-FORWARD -o stk-db -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A STACK-FORWARD -o stk-web -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A STACK-FORWARD -o stk-app -m conntrack --ctstate DNAT -j ACCEPT
-A STACK-FORWARD -o stk-db -m conntrack --ctstate DNAT -j ACCEPT
-A STACK-FORWARD -o stk-web -m conntrack --ctstate DNAT -j ACCEPT
-A STACK-FORWARD -i stk-app -o stk-app -j ACCEPT
-A STACK-FORWARD -i stk-app -o stk-app -j DROP
-A STACK-FORWARD -i stk-app -o stk-db -j DROP
-A STACK-FORWARD -i stk-app -o stk-web -j DROP
-A STACK-FORWARD -i stk-app -j ACCEPT
-A STACK-FORWARD -o stk-app -j DROP
-A STACK-FORWARD -i stk-db -o stk-db -j ACCEPT
-A STACK-FORWARD -i stk-db -j DROP
-A STACK-FORWARD -o stk-db -j DROP
-A STACK-FORWARD -i stk-web -o stk-web -j ACCEPT
-A STACK-FORWARD -i stk-web -o stk-app -j DROP
-A STACK-FORWARD -i stk-web -o stk-db -j DROP
-A STACK-FORWARD -i stk-web -o stk-web -j DROP
-A STACK-FORWARD -i stk-web -j ACCEPT
-A STACK-FORWARD -o stk-web -j DROP
COMMIT
*nat
:STACK-PREROUTING - [0:0]
:STACK-OUTPUT - [0:0]
:STACK-POSTROUTING - [0:0]
-I PREROUTING 1 -j STACK-PREROUTING
-I OUTPUT 1 -j STACK-OUTPUT
-I POSTROUTING 1 -j STACK-POSTROUTING
-A STACK-PREROUTING ! -d 127.0.0.0/8 -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80
-A STACK-PREROUTING -d 192.168.1.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 172.18.0.2:53
-A STACK-OUTPUT -p tcp -m addrtype --dst-type LOCAL -m tcp --dport 8080 -j DNAT --to-destination 172.18.0.2:80
-A STACK-OUTPUT -d 127.0.0.1/32 -p tcp -m tcp --dport 5432 -j DNAT --to-destination 172.20.0.3:5432
-A STACK-OUTPUT -d 192.168.1.10/32 -p udp -m udp --dport 53 -j DNAT --to-destination 172.18.0.2:53
-A STACK-POSTROUTING -s 172.20.0.0/16 ! -o stk-app -j MASQUERADE
-A STACK-POSTROUTING -s 172.20.0.0/16 -o stk-app -m conntrack --ctstate DNAT -j MASQUERADE
-A STACK-POSTROUTING -s 172.18.0.0/16 ! -o stk-web -j MASQUERADE
-A STACK-POSTROUTING -s 172.18.0.0/16 -o stk-web -m conntrack --ctstate DNAT -j MASQUERADE
-A STACK-POSTROUTING -s 127.0.0.0/8 -o stk-app -j MASQUERADE
-A STACK-POSTROUTING -s 127.0.0.0/8 -o stk-db -j MASQUERADE
-A STACK-POSTROUTING -s 127.0.0.0/8 -o stk-web -j MASQUERADE
COMMIT
"#;

#[test]
fn restore_input_golden() {
    use crate::network::firewall::iptables::IptablesChains;
    let rules = rule_set(&three_networks(), &three_ports()).unwrap();
    let chains = IptablesChains::default();
    assert_eq!(rules.to_restore(&chains, &chains.jumps()), RESTORE_GOLDEN);
}

#[test]
fn restore_input_without_bridges_or_missing_jumps() {
    use crate::network::firewall::iptables::IptablesChains;
    let chains = IptablesChains::tagged("0123abcd");
    assert_eq!(
        rule_set(&[], &[]).unwrap().to_restore(&chains, &[]),
        "*filter\n:STACK-FWD-0123abcd - [0:0]\nCOMMIT\n\
         *nat\n:STACK-PRE-0123abcd - [0:0]\n:STACK-OUT-0123abcd - [0:0]\n\
         :STACK-POST-0123abcd - [0:0]\nCOMMIT\n"
    );
}
