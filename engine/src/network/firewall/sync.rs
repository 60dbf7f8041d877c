//! Bringing the host's firewall in line with the engine's networks and
//! published ports: the one entry point the daemon calls after every
//! network or port change, and on start and stop.
//!
//! The decisions (which driver, which rules, whether the iptables chain is
//! needed) are made here; the effects go through [`FirewallBackend`], implemented for
//! the real host by [`HostFirewall`] and by a recording fake in the tests.

use std::fmt;

use crate::network::firewall::apply::{self, FirewallError, ForwardPolicy, Tools};
use crate::network::firewall::iptables::IptablesForward;
use crate::network::firewall::rules::{rule_set, FirewallNetwork, PortForward, RuleError, RuleSet};

/// Which program holds the engine's rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Driver {
    /// A table of our own through `nft`: preferred, used wherever `nft`
    /// runs.
    Nftables,
    /// Chains of our own through `iptables`: only where `nft` is missing.
    Iptables,
}

impl Driver {
    /// The name `stack info` shows.
    pub fn name(self) -> &'static str {
        match self {
            Self::Nftables => "nftables",
            Self::Iptables => "iptables",
        }
    }
}

/// The driver in use, and whether it was just found by probing the host
/// (the first sync of a daemon, or after `nft` could not be run).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DriverChoice {
    /// The driver.
    pub driver: Driver,
    /// Whether the host was probed for it just now.
    pub probed: bool,
}

/// Which of the engine's iptables chains to remove.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Chains {
    /// All of them, with their jumps.
    All,
    /// The `filter` one (both drivers use it).
    Forward,
    /// The `nat` ones, which only the iptables driver uses.
    Nat,
}

/// The firewall operations the engine needs, each idempotent.
pub trait FirewallBackend {
    /// The driver to use: nftables when `nft` runs, else iptables when
    /// `iptables` runs, else [`FirewallError::NoFirewall`]. The host is
    /// probed on the first call and again after [`Self::forget_driver`].
    fn driver(&mut self) -> Result<DriverChoice, FirewallError>;
    /// Makes the next [`Self::driver`] probe the host again.
    fn forget_driver(&mut self);
    /// Replaces the engine's nft table with `rules`, atomically.
    fn apply_table(&mut self, rules: &RuleSet) -> Result<(), FirewallError>;
    /// Deletes the engine's nft table (absent = success).
    fn remove_table(&mut self) -> Result<(), FirewallError>;
    /// iptables' `FORWARD` policy, `None` without iptables.
    fn forward_policy(&mut self) -> Result<Option<ForwardPolicy>, FirewallError>;
    /// Writes the `STACK-FORWARD` chain and its jump (nftables driver).
    fn apply_forward_chain(&mut self, plan: &IptablesForward) -> Result<(), FirewallError>;
    /// Replaces the engine's iptables chains with `rules` (iptables
    /// driver), adding missing jumps.
    fn apply_chains(&mut self, rules: &RuleSet) -> Result<(), FirewallError>;
    /// Removes the engine's iptables chains and their jumps (absent =
    /// success).
    fn remove_chains(&mut self, which: Chains) -> Result<(), FirewallError>;
}

/// The host's firewall, driven with the programs in [`Tools`]; acts on the
/// network namespace of the calling thread.
#[derive(Debug, Clone, Default)]
pub struct HostFirewall {
    tools: Tools,
    driver: Option<Driver>,
}

impl HostFirewall {
    /// A firewall driven with `tools`.
    pub fn new(tools: Tools) -> Self {
        Self {
            tools,
            driver: None,
        }
    }
}

impl FirewallBackend for HostFirewall {
    fn driver(&mut self) -> Result<DriverChoice, FirewallError> {
        if let Some(driver) = self.driver {
            return Ok(DriverChoice {
                driver,
                probed: false,
            });
        }
        let driver = match apply::detect_nft(&self.tools) {
            Ok(_) => Driver::Nftables,
            Err(nft) => match apply::detect_iptables(&self.tools) {
                Ok(version) => {
                    tracing::warn!(%nft, iptables = %version, "nft cannot be run: using iptables for the firewall rules");
                    Driver::Iptables
                }
                Err(iptables) => {
                    return Err(FirewallError::NoFirewall {
                        nft: Box::new(nft),
                        iptables: Box::new(iptables),
                    })
                }
            },
        };
        self.driver = Some(driver);
        Ok(DriverChoice {
            driver,
            probed: true,
        })
    }

    fn forget_driver(&mut self) {
        self.driver = None;
    }

    fn apply_table(&mut self, rules: &RuleSet) -> Result<(), FirewallError> {
        apply::apply(&self.tools, rules)
    }

    fn remove_table(&mut self) -> Result<(), FirewallError> {
        apply::remove(&self.tools)
    }

    fn forward_policy(&mut self) -> Result<Option<ForwardPolicy>, FirewallError> {
        apply::forward_policy(&self.tools)
    }

    fn apply_forward_chain(&mut self, plan: &IptablesForward) -> Result<(), FirewallError> {
        apply::apply_iptables_forward(&self.tools, plan)
    }

    fn apply_chains(&mut self, rules: &RuleSet) -> Result<(), FirewallError> {
        apply::apply_iptables(&self.tools, rules)
    }

    fn remove_chains(&mut self, which: Chains) -> Result<(), FirewallError> {
        let jumps = self.tools.chains.jumps();
        let jumps = match which {
            Chains::All => &jumps[..],
            Chains::Forward => &jumps[..1],
            Chains::Nat => &jumps[1..],
        };
        apply::remove_iptables_chains(&self.tools, jumps)
    }
}

/// What [`sync`] put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOutcome {
    /// The driver in use; `None` when there was nothing to put in place
    /// and neither `nft` nor `iptables` can be run.
    pub driver: Option<Driver>,
    /// Rules in the rule set (0 when everything was removed).
    pub rules: usize,
    /// Whether the nftables driver's iptables `STACK-FORWARD` chain is in
    /// use (the host's `FORWARD` policy is DROP); worth showing in `stack
    /// info`.
    pub iptables_chain: bool,
}

impl SyncOutcome {
    /// The driver's name and where the rules are, as `stack info` shows
    /// them.
    pub fn describe(&self, tools: &Tools) -> (&'static str, String) {
        let chains = &tools.chains;
        match self.driver {
            None => (
                "none",
                "none: neither nft nor iptables can be run (no rules needed yet)".to_owned(),
            ),
            Some(Driver::Nftables) if self.rules == 0 => {
                ("nftables", "nftables (no rules)".to_owned())
            }
            Some(Driver::Nftables) if self.iptables_chain => (
                "nftables",
                format!(
                    "nftables table ip {} + iptables chain {} (FORWARD policy is DROP)",
                    tools.table, chains.forward
                ),
            ),
            Some(Driver::Nftables) => ("nftables", format!("nftables table ip {}", tools.table)),
            Some(Driver::Iptables) if self.rules == 0 => {
                ("iptables", "iptables, nft not found (no rules)".to_owned())
            }
            Some(Driver::Iptables) => (
                "iptables",
                format!(
                    "iptables chains {} (filter), {}, {}, {} (nat); nft not found",
                    chains.forward, chains.prerouting, chains.output, chains.postrouting
                ),
            ),
        }
    }
}

/// Why [`sync`] or [`teardown`] failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The input is inconsistent; nothing was changed.
    Rules(Vec<RuleError>),
    /// Applying or removing failed; every failure is listed.
    Apply(Vec<FirewallError>),
}

impl fmt::Display for SyncError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, messages): (&str, Vec<String>) = match self {
            Self::Rules(errors) => (
                "cannot compute the firewall rules",
                errors.iter().map(ToString::to_string).collect(),
            ),
            Self::Apply(errors) => (
                "cannot update the firewall",
                errors.iter().map(ToString::to_string).collect(),
            ),
        };
        write!(f, "{what}: {}", messages.join("; "))
    }
}

fn one(error: FirewallError) -> SyncError {
    SyncError::Apply(vec![error])
}

/// Makes the firewall match `networks` and `ports`. With nftables, the
/// whole nft table is replaced, and the iptables chain is added when the
/// host's `FORWARD` policy is DROP, or removed when it is not (Docker may
/// have gone away); a daemon that just chose nftables also removes the
/// iptables driver's chains an earlier run without `nft` left. When `nft`
/// cannot be run (also when it disappears while the daemon runs), the
/// rules go into the engine's iptables chains instead. With no networks at
/// all, everything is removed ([`teardown`]). The rules are computed
/// before anything is touched.
pub fn sync(
    backend: &mut impl FirewallBackend,
    networks: &[FirewallNetwork],
    ports: &[PortForward],
) -> Result<SyncOutcome, SyncError> {
    if networks.is_empty() && ports.is_empty() {
        let driver = teardown(backend)?;
        return Ok(SyncOutcome {
            driver,
            rules: 0,
            iptables_chain: false,
        });
    }
    let rules = rule_set(networks, ports).map_err(SyncError::Rules)?;
    let choice = backend.driver().map_err(one)?;
    if choice.driver == Driver::Nftables {
        match backend.apply_table(&rules) {
            Ok(()) => return nft_iptables_chains(backend, networks, &rules, choice),
            Err(missing @ FirewallError::NftMissing { .. }) => {
                backend.forget_driver();
                if backend.driver().map_err(one)?.driver == Driver::Nftables {
                    return Err(one(missing));
                }
            }
            Err(error) => return Err(one(error)),
        }
    }
    backend.apply_chains(&rules).map_err(one)?;
    Ok(SyncOutcome {
        driver: Some(Driver::Iptables),
        rules: rules.rule_count(),
        iptables_chain: false,
    })
}

/// The iptables side of the nftables driver, once its table is in place.
fn nft_iptables_chains(
    backend: &mut impl FirewallBackend,
    networks: &[FirewallNetwork],
    rules: &RuleSet,
    choice: DriverChoice,
) -> Result<SyncOutcome, SyncError> {
    let iptables_chain = backend.forward_policy().map_err(one)? == Some(ForwardPolicy::Drop);
    if iptables_chain {
        backend
            .apply_forward_chain(&IptablesForward::new(networks))
            .map_err(one)?;
    } else {
        backend.remove_chains(Chains::Forward).map_err(one)?;
    }
    if choice.probed {
        backend.remove_chains(Chains::Nat).map_err(one)?;
    }
    Ok(SyncOutcome {
        driver: Some(Driver::Nftables),
        rules: rules.rule_count(),
        iptables_chain,
    })
}

/// Removes everything the engine put in the firewall, trying every step
/// even when one fails, and reporting all failures. Returns the driver in
/// use, or `None` when neither `nft` nor `iptables` can be run (then the
/// engine cannot have put anything there).
pub fn teardown(backend: &mut impl FirewallBackend) -> Result<Option<Driver>, SyncError> {
    let driver = match backend.driver() {
        Ok(choice) => choice.driver,
        Err(FirewallError::NoFirewall { .. }) => return Ok(None),
        Err(error) => return Err(one(error)),
    };
    let mut results = Vec::new();
    if driver == Driver::Nftables {
        results.push(backend.remove_table());
    }
    results.push(backend.remove_chains(Chains::All));
    let errors: Vec<FirewallError> = results.into_iter().filter_map(Result::err).collect();
    if errors.is_empty() {
        Ok(Some(driver))
    } else {
        Err(SyncError::Apply(errors))
    }
}

#[cfg(test)]
mod tests;
