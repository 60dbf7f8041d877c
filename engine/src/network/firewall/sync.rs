//! Bringing the host's firewall in line with the engine's networks and
//! published ports: the one entry point the daemon calls after every
//! network or port change, and on start and stop.
//!
//! The decisions (which rules, whether the iptables chain is needed) are
//! made here; the effects go through [`FirewallBackend`], implemented for
//! the real host by [`HostFirewall`] and by a recording fake in the tests.

use std::fmt;

use crate::network::firewall::apply::{self, FirewallError, ForwardPolicy, Tools};
use crate::network::firewall::iptables::IptablesForward;
use crate::network::firewall::rules::{rule_set, FirewallNetwork, PortForward, RuleError, RuleSet};

/// The firewall operations the engine needs, each idempotent.
pub trait FirewallBackend {
    /// Replaces the engine's nft table with `rules`, atomically.
    fn apply_table(&mut self, rules: &RuleSet) -> Result<(), FirewallError>;
    /// Deletes the engine's nft table (absent = success).
    fn remove_table(&mut self) -> Result<(), FirewallError>;
    /// iptables' `FORWARD` policy, `None` without iptables.
    fn forward_policy(&mut self) -> Result<Option<ForwardPolicy>, FirewallError>;
    /// Writes the `STACK-FORWARD` chain and its jump.
    fn apply_forward_chain(&mut self, plan: &IptablesForward) -> Result<(), FirewallError>;
    /// Removes the `STACK-FORWARD` chain and its jump (absent = success).
    fn remove_forward_chain(&mut self) -> Result<(), FirewallError>;
}

/// The host's firewall, driven with the programs in [`Tools`]; acts on the
/// network namespace of the calling thread.
#[derive(Debug, Clone, Default)]
pub struct HostFirewall {
    tools: Tools,
}

impl HostFirewall {
    /// A firewall driven with `tools`.
    pub fn new(tools: Tools) -> Self {
        Self { tools }
    }
}

impl FirewallBackend for HostFirewall {
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

    fn remove_forward_chain(&mut self) -> Result<(), FirewallError> {
        apply::remove_iptables_forward(&self.tools)
    }
}

/// What [`sync`] put in place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyncOutcome {
    /// Rules in the nft table (0 when the table was removed).
    pub rules: usize,
    /// Whether the iptables `STACK-FORWARD` chain is in use (the host's
    /// `FORWARD` policy is DROP); worth showing in `stack info`.
    pub iptables_chain: bool,
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

/// Makes the firewall match `networks` and `ports`: the whole nft table is
/// replaced, and the iptables chain is added when the host's `FORWARD`
/// policy is DROP, or removed when it is not (Docker may have gone away).
/// With no networks at all, everything is removed ([`teardown`]). The rules
/// are computed before anything is touched.
pub fn sync(
    backend: &mut impl FirewallBackend,
    networks: &[FirewallNetwork],
    ports: &[PortForward],
) -> Result<SyncOutcome, SyncError> {
    if networks.is_empty() && ports.is_empty() {
        teardown(backend)?;
        return Ok(SyncOutcome {
            rules: 0,
            iptables_chain: false,
        });
    }
    let rules = rule_set(networks, ports).map_err(SyncError::Rules)?;
    let one = |e| SyncError::Apply(vec![e]);
    backend.apply_table(&rules).map_err(one)?;
    let iptables_chain = backend.forward_policy().map_err(one)? == Some(ForwardPolicy::Drop);
    if iptables_chain {
        backend
            .apply_forward_chain(&IptablesForward::new(networks))
            .map_err(one)?;
    } else {
        backend.remove_forward_chain().map_err(one)?;
    }
    Ok(SyncOutcome {
        rules: rules.rule_count(),
        iptables_chain,
    })
}

/// Removes everything the engine put in the firewall, trying every step
/// even when one fails, and reporting all failures.
pub fn teardown(backend: &mut impl FirewallBackend) -> Result<(), SyncError> {
    let errors: Vec<FirewallError> = [backend.remove_table(), backend.remove_forward_chain()]
        .into_iter()
        .filter_map(Result::err)
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SyncError::Apply(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::network::firewall::rules::Protocol;
    use crate::network::names::{BridgeName, IfName};

    /// Records every call; fails the operations named in `fail`.
    #[derive(Default)]
    struct Recorder {
        calls: Vec<String>,
        policy: Option<ForwardPolicy>,
        fail: Vec<&'static str>,
    }

    impl Recorder {
        fn call(&mut self, name: &'static str, detail: String) -> Result<(), FirewallError> {
            self.calls.push(format!("{name}{detail}"));
            if self.fail.contains(&name) {
                return Err(FirewallError::NftMissing {
                    program: "nft".into(),
                    source: std::io::ErrorKind::NotFound.into(),
                });
            }
            Ok(())
        }
    }

    impl FirewallBackend for Recorder {
        fn apply_table(&mut self, rules: &RuleSet) -> Result<(), FirewallError> {
            self.call("apply table", format!(" ({} rules)", rules.rule_count()))
        }
        fn remove_table(&mut self) -> Result<(), FirewallError> {
            self.call("remove table", String::new())
        }
        fn forward_policy(&mut self) -> Result<Option<ForwardPolicy>, FirewallError> {
            self.call("forward policy", String::new())?;
            Ok(self.policy)
        }
        fn apply_forward_chain(&mut self, plan: &IptablesForward) -> Result<(), FirewallError> {
            self.call(
                "apply forward chain",
                format!(" ({} rules)", plan.rule_count()),
            )
        }
        fn remove_forward_chain(&mut self) -> Result<(), FirewallError> {
            self.call("remove forward chain", String::new())
        }
    }

    fn network() -> FirewallNetwork {
        FirewallNetwork {
            bridge: BridgeName::explicit(IfName::new("stk-a").unwrap()),
            subnet: "10.1.0.0/24".parse().unwrap(),
            internal: false,
        }
    }

    #[test]
    fn an_accepting_host_gets_the_table_and_no_iptables_chain() {
        let mut fw = Recorder {
            policy: Some(ForwardPolicy::Accept),
            ..Recorder::default()
        };
        let outcome = sync(&mut fw, &[network()], &[]).unwrap();
        assert_eq!(
            fw.calls,
            [
                "apply table (7 rules)",
                "forward policy",
                "remove forward chain"
            ]
        );
        assert_eq!(
            outcome,
            SyncOutcome {
                rules: 7,
                iptables_chain: false
            }
        );
    }

    #[test]
    fn a_dropping_host_also_gets_the_iptables_chain() {
        let mut fw = Recorder {
            policy: Some(ForwardPolicy::Drop),
            ..Recorder::default()
        };
        assert!(sync(&mut fw, &[network()], &[]).unwrap().iptables_chain);
        assert_eq!(fw.calls[2], "apply forward chain (3 rules)");
    }

    #[test]
    fn no_networks_removes_everything() {
        let mut fw = Recorder::default();
        let outcome = sync(&mut fw, &[], &[]).unwrap();
        assert_eq!(fw.calls, ["remove table", "remove forward chain"]);
        assert_eq!(outcome.rules, 0);
    }

    #[test]
    fn bad_input_changes_nothing() {
        let mut fw = Recorder::default();
        let port = PortForward {
            host_ip: None,
            host_port: 80,
            container_ip: "10.9.0.2".parse().unwrap(),
            container_port: 80,
            protocol: Protocol::Tcp,
        };
        let err = sync(&mut fw, &[network()], &[port]).unwrap_err();
        assert!(
            matches!(err, SyncError::Rules(ref e) if e.len() == 1),
            "{err}"
        );
        assert!(fw.calls.is_empty());
    }

    #[test]
    fn a_failed_table_is_not_followed_by_iptables_changes() {
        let mut fw = Recorder {
            fail: vec!["apply table"],
            ..Recorder::default()
        };
        assert!(sync(&mut fw, &[network()], &[]).is_err());
        assert_eq!(fw.calls, ["apply table (7 rules)"]);
    }

    #[test]
    fn teardown_tries_every_step_and_reports_every_failure() {
        let mut fw = Recorder {
            fail: vec!["remove table", "remove forward chain"],
            ..Recorder::default()
        };
        let err = teardown(&mut fw).unwrap_err();
        assert_eq!(fw.calls, ["remove table", "remove forward chain"]);
        assert!(matches!(err, SyncError::Apply(ref e) if e.len() == 2));
        assert!(err
            .to_string()
            .starts_with("cannot update the firewall: cannot run \"nft\""));
    }
}
