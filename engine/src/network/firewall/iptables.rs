//! The engine's chains in iptables (pure): their names, the rules that jump
//! to them, and the few accept rules the nftables driver needs when the
//! host's iptables drops forwarded traffic.
//!
//! Where `nft` is not installed, the whole rule set lives in these chains
//! instead (see `rules::RuleSet::to_restore`): the forward rules in the
//! `filter` chain and DNAT and masquerade in three `nat` chains, each
//! jumped to from the top of its built-in chain by one rule.
//!
//! nftables evaluates every base chain on a hook: a packet our `ip stack`
//! table accepts is still dropped by iptables' `FORWARD` chain when its
//! policy is DROP, which is what Docker sets. So, only in that case, the
//! engine adds a chain of its own, `STACK-FORWARD`, jumped to from the top
//! of `FORWARD`, that accepts traffic of our bridges; what is actually
//! allowed is still decided by our nft table (isolation, internal networks),
//! which runs in the same hook and drops what it must.
//!
//! The chains are written with `iptables-restore --noflush`, which flushes a
//! user-defined chain it declares, so re-applying never duplicates rules;
//! a jump is added (in the same commit) only when `iptables -C` says it is
//! missing.

use crate::network::firewall::rules::FirewallNetwork;

/// The default name of the engine's chain in iptables' `filter` table
/// (daemons with another state root use another, see `apply::Tools`).
pub const FORWARD_CHAIN: &str = "STACK-FORWARD";

/// The engine's chains in iptables, one per built-in chain it hooks into;
/// each daemon (each state root) has chains of its own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IptablesChains {
    /// In `filter`, jumped to from `FORWARD`: the compatibility chain of
    /// the nftables driver, or the forward rules of the iptables driver.
    pub forward: String,
    /// In `nat`, jumped to from `PREROUTING`: DNAT of published ports.
    pub prerouting: String,
    /// In `nat`, jumped to from `OUTPUT`: DNAT for the host's own
    /// connections.
    pub output: String,
    /// In `nat`, jumped to from `POSTROUTING`: masquerade.
    pub postrouting: String,
}

impl Default for IptablesChains {
    /// The names of the daemon with the default state root.
    fn default() -> Self {
        Self {
            forward: FORWARD_CHAIN.to_owned(),
            prerouting: "STACK-PREROUTING".to_owned(),
            output: "STACK-OUTPUT".to_owned(),
            postrouting: "STACK-POSTROUTING".to_owned(),
        }
    }
}

impl IptablesChains {
    /// The names for a daemon whose objects carry `tag` (derived from its
    /// state root, as its nft table's name is); short enough for
    /// iptables' 28-character limit.
    pub fn tagged(tag: &str) -> Self {
        Self {
            forward: format!("STACK-FWD-{tag}"),
            prerouting: format!("STACK-PRE-{tag}"),
            output: format!("STACK-OUT-{tag}"),
            postrouting: format!("STACK-POST-{tag}"),
        }
    }

    /// Every jump into the chains: `filter` first, then `nat`.
    pub fn jumps(&self) -> [Jump<'_>; 4] {
        [
            Jump::new("filter", "FORWARD", &self.forward),
            Jump::new("nat", "PREROUTING", &self.prerouting),
            Jump::new("nat", "OUTPUT", &self.output),
            Jump::new("nat", "POSTROUTING", &self.postrouting),
        ]
    }
}

/// The one rule at the top of a built-in chain that sends every packet to
/// one of ours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Jump<'a> {
    /// The iptables table (`filter`, `nat`).
    pub table: &'static str,
    /// The built-in chain.
    pub from: &'static str,
    /// Our chain.
    pub to: &'a str,
}

impl<'a> Jump<'a> {
    fn new(table: &'static str, from: &'static str, to: &'a str) -> Self {
        Self { table, from, to }
    }

    /// The rule as arguments after `-C`, `-D` (or, with a position in
    /// between, `-I`): `FROM -j TO`.
    pub fn rule(&self) -> [&str; 3] {
        [self.from, "-j", self.to]
    }

    /// `iptables -t TABLE`.
    pub fn table_args(&self) -> [&str; 2] {
        ["-t", self.table]
    }
}

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
    /// flushes) the chain, adds the jumps in `missing` and fills the chain,
    /// in one commit.
    pub fn restore_input(&self, chain: &str, missing: &[Jump<'_>]) -> String {
        let mut text = format!("*filter\n:{chain} - [0:0]\n");
        for jump in missing {
            text.push_str(&format!("-I {} 1 -j {}\n", jump.from, jump.to));
        }
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
            plan.restore_input(FORWARD_CHAIN, &[]),
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
    fn tagged_chains_fit_iptables_limit_and_jump_from_their_hooks() {
        let chains = IptablesChains::tagged("0123abcd");
        let jumps = chains.jumps();
        assert!(jumps.iter().all(|j| j.to.len() <= 28), "{jumps:?}");
        assert_eq!(jumps[0].rule(), ["FORWARD", "-j", "STACK-FWD-0123abcd"]);
        assert_eq!(jumps[3].table_args(), ["-t", "nat"]);
        assert_eq!(
            jumps[3].rule(),
            ["POSTROUTING", "-j", "STACK-POST-0123abcd"]
        );
    }

    #[test]
    fn no_networks_gives_an_empty_chain() {
        assert_eq!(
            IptablesForward::new(&[]).restore_input(FORWARD_CHAIN, &[]),
            "*filter\n:STACK-FORWARD - [0:0]\nCOMMIT\n"
        );
    }

    #[test]
    fn a_missing_jump_goes_into_the_same_commit() {
        let chains = IptablesChains::default();
        let [forward, ..] = chains.jumps();
        assert_eq!(
            IptablesForward::new(&[]).restore_input(&chains.forward, &[forward]),
            "*filter\n:STACK-FORWARD - [0:0]\n-I FORWARD 1 -j STACK-FORWARD\nCOMMIT\n"
        );
    }
}
