//! The rule set as `iptables-restore --noflush` input: the iptables driver,
//! used only where `nft` is not installed.
//!
//! The same rules as the nft table, in chains of our own
//! ([`IptablesChains`]): the `forward` rules in the `filter` chain, DNAT and
//! masquerade in the three `nat` chains. iptables has no sets of interface
//! names, so a rule on "any of our bridges" becomes one rule per bridge (and
//! none without bridges, as an empty set matches nothing). A chain declared
//! in `--noflush` input is flushed, so every sync replaces our chains whole,
//! in one commit per table, and the host's other chains are left as they
//! are; the jumps from the built-in chains go into the same commit when they
//! are missing.

use super::{Action, Cond, Dir, Hook, Rule, RuleSet};
use crate::network::firewall::iptables::{IptablesChains, Jump};

impl Hook {
    /// The iptables table the hook's rules live in.
    fn iptables_table(self) -> &'static str {
        match self {
            Hook::Forward => "filter",
            Hook::Prerouting | Hook::Output | Hook::Postrouting => "nat",
        }
    }

    fn chain(self, chains: &IptablesChains) -> &str {
        match self {
            Hook::Forward => &chains.forward,
            Hook::Prerouting => &chains.prerouting,
            Hook::Output => &chains.output,
            Hook::Postrouting => &chains.postrouting,
        }
    }
}

/// Arguments with their place in a rule: iptables-save prints addresses,
/// interfaces and the protocol first, then the matches, so rules are
/// written in that order and read back the same.
type Part = (u8, String);

fn negated(positive: bool, rest: String) -> String {
    if positive {
        rest
    } else {
        format!("! {rest}")
    }
}

fn interface(dir: Dir, name: &str, positive: bool) -> Part {
    match dir {
        Dir::In => (2, negated(positive, format!("-i {name}"))),
        Dir::Out => (3, negated(positive, format!("-o {name}"))),
    }
}

impl Cond {
    /// The alternatives this condition stands for: one, except for "one of
    /// our bridges", which is one per bridge.
    fn alternatives(&self, bridges: &[String]) -> Vec<Vec<Part>> {
        let one = |parts: Vec<Part>| vec![parts];
        match self {
            Cond::If(dir, name, positive) => one(vec![interface(*dir, name, *positive)]),
            Cond::IfBridges(dir) => bridges
                .iter()
                .map(|b| vec![interface(*dir, b, true)])
                .collect(),
            Cond::Saddr(net, positive) => one(vec![(0, negated(*positive, format!("-s {net}")))]),
            Cond::Daddr(net, positive) => one(vec![(1, negated(*positive, format!("-d {net}")))]),
            Cond::DaddrLocal => one(vec![(5, "-m addrtype --dst-type LOCAL".to_owned())]),
            Cond::Established => one(vec![(
                5,
                "-m conntrack --ctstate RELATED,ESTABLISHED".to_owned(),
            )]),
            Cond::Dnatted => one(vec![(5, "-m conntrack --ctstate DNAT".to_owned())]),
            Cond::Dport(proto, port) => {
                let p = proto.as_str();
                one(vec![
                    (4, format!("-p {p}")),
                    (6, format!("-m {p} --dport {port}")),
                ])
            }
        }
    }
}

impl Action {
    fn target(&self) -> String {
        match self {
            Action::Accept => "-j ACCEPT".to_owned(),
            Action::Drop => "-j DROP".to_owned(),
            Action::Masquerade => "-j MASQUERADE".to_owned(),
            Action::Dnat(ip, port) => format!("-j DNAT --to-destination {ip}:{port}"),
        }
    }
}

impl Rule {
    /// The rule's iptables arguments after `-A CHAIN`, one line per
    /// combination of alternatives.
    fn iptables_lines(&self, bridges: &[String]) -> Vec<String> {
        let mut combos: Vec<Vec<Part>> = vec![Vec::new()];
        for cond in &self.conds {
            let alternatives = cond.alternatives(bridges);
            combos = combos
                .iter()
                .flat_map(|combo| {
                    alternatives.iter().map(move |alt| {
                        let mut next = combo.clone();
                        next.extend(alt.iter().cloned());
                        next
                    })
                })
                .collect();
        }
        combos
            .into_iter()
            .map(|mut parts| {
                // Stable: matches of one rank keep the order they came in.
                parts.sort_by_key(|(rank, _)| *rank);
                let mut words: Vec<String> = parts.into_iter().map(|(_, text)| text).collect();
                words.push(self.action.target());
                words.join(" ")
            })
            .collect()
    }
}

impl RuleSet {
    /// The input for `iptables-restore --noflush` that replaces our chains
    /// (named by `chains`) with this rule set, and adds the jumps in
    /// `missing` at the top of their built-in chains.
    pub fn to_restore(&self, chains: &IptablesChains, missing: &[Jump<'_>]) -> String {
        let mut text = String::new();
        for table in ["filter", "nat"] {
            let hooks: Vec<Hook> = (Hook::ALL.into_iter())
                .filter(|h| h.iptables_table() == table)
                .collect();
            text.push_str(&format!("*{table}\n"));
            for hook in &hooks {
                text.push_str(&format!(":{} - [0:0]\n", hook.chain(chains)));
            }
            for jump in missing.iter().filter(|j| j.table == table) {
                text.push_str(&format!("-I {} 1 -j {}\n", jump.from, jump.to));
            }
            for hook in hooks {
                for rule in self.rules.iter().filter(|r| r.hook == hook) {
                    for line in rule.iptables_lines(&self.bridges) {
                        text.push_str(&format!("-A {} {line}\n", hook.chain(chains)));
                    }
                }
            }
            text.push_str("COMMIT\n");
        }
        text
    }
}
