//! The few iptables rules the engine needs when the host's iptables drops
//! forwarded traffic (pure).
//!
//! nftables evaluates every base chain on a hook: a packet our `ip stack`
//! table accepts is still dropped by iptables' `FORWARD` chain when its
//! policy is DROP, which is what Docker sets. So, only in that case, the
//! engine adds a chain of its own, `STACK-FORWARD`, jumped to from the top
//! of `FORWARD`, that accepts traffic of our bridges; what is actually
//! allowed is still decided by our nft table (isolation, internal networks),
//! which runs in the same hook and drops what it must.
//!
//! The chain is written with `iptables-restore --noflush`, which flushes a
//! user-defined chain it declares, so re-applying never duplicates rules;
//! the jump is added only when `iptables -C` says it is missing.

use crate::network::firewall::rules::FirewallNetwork;

/// The default name of the engine's chain in iptables' `filter` table
/// (daemons with another state root use another, see `apply::Tools`).
pub const FORWARD_CHAIN: &str = "STACK-FORWARD";

/// The content of [`FORWARD_CHAIN`] for a set of networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IptablesForward {
    /// Each rule as iptables arguments after `-A STACK-FORWARD`.
    rules: Vec<Vec<String>>,
}

impl IptablesForward {
    /// The accept rules for `networks` (sorted by bridge name): replies and
    /// DNAT'd connections into each bridge, traffic within it, and for
    /// non-internal networks everything leaving it.
    pub fn new(networks: &[FirewallNetwork]) -> Self {
        let mut networks: Vec<&FirewallNetwork> = networks.iter().collect();
        networks.sort_by(|a, b| a.bridge.cmp(&b.bridge));
        let args = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        let mut rules = Vec::new();
        for net in networks {
            let b = net.bridge.as_str();
            rules.push(args(&format!(
                "-o {b} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT"
            )));
            if net.internal {
                rules.push(args(&format!("-i {b} -o {b} -j ACCEPT")));
            } else {
                rules.push(args(&format!(
                    "-o {b} -m conntrack --ctstate DNAT -j ACCEPT"
                )));
                rules.push(args(&format!("-i {b} -j ACCEPT")));
            }
        }
        Self { rules }
    }

    /// The input for `iptables-restore --noflush`: declares (and so
    /// flushes) the chain and fills it, in one commit.
    pub fn restore_input(&self, chain: &str) -> String {
        let mut text = format!("*filter\n:{chain} - [0:0]\n");
        for rule in &self.rules {
            text.push_str(&format!("-A {chain} {}\n", rule.join(" ")));
        }
        text.push_str("COMMIT\n");
        text
    }

    /// The number of rules in the chain.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }
}

/// The rule in `FORWARD` that sends packets to our chain, as arguments after
/// `-C`, `-I` or `-D`.
pub fn jump_rule(chain: &str) -> [&str; 3] {
    ["FORWARD", "-j", chain]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::names::{BridgeName, IfName};

    fn network(bridge: &str, subnet: &str, internal: bool) -> FirewallNetwork {
        FirewallNetwork {
            bridge: BridgeName::explicit(IfName::new(bridge).unwrap()),
            subnet: subnet.parse().unwrap(),
            internal,
        }
    }

    #[test]
    fn restore_input_golden() {
        let plan = IptablesForward::new(&[
            network("stk-b", "10.2.0.0/24", true),
            network("stk-a", "10.1.0.0/24", false),
        ]);
        assert_eq!(
            plan.restore_input(FORWARD_CHAIN),
            "*filter\n\
             :STACK-FORWARD - [0:0]\n\
             -A STACK-FORWARD -o stk-a -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A STACK-FORWARD -o stk-a -m conntrack --ctstate DNAT -j ACCEPT\n\
             -A STACK-FORWARD -i stk-a -j ACCEPT\n\
             -A STACK-FORWARD -o stk-b -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n\
             -A STACK-FORWARD -i stk-b -o stk-b -j ACCEPT\n\
             COMMIT\n"
        );
        assert_eq!(plan.rule_count(), 5);
    }

    #[test]
    fn no_networks_gives_an_empty_chain() {
        assert_eq!(
            IptablesForward::new(&[]).restore_input(FORWARD_CHAIN),
            "*filter\n:STACK-FORWARD - [0:0]\nCOMMIT\n"
        );
    }
}
