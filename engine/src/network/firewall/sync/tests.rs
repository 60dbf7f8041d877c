use super::*;
use crate::network::firewall::rules::Protocol;
use crate::network::names::{BridgeName, IfName};

/// Records every call; fails the operations named in `fail`. `drivers`
/// are the answers of successive probes (the last one repeats).
#[derive(Default)]
struct Recorder {
    calls: Vec<String>,
    policy: Option<ForwardPolicy>,
    fail: Vec<&'static str>,
    drivers: Vec<Option<Driver>>,
    probes: usize,
    known: Option<Driver>,
}

fn missing_nft() -> FirewallError {
    FirewallError::NftMissing {
        program: "nft".into(),
        source: std::io::ErrorKind::NotFound.into(),
    }
}

impl Recorder {
    fn with(drivers: &[Option<Driver>]) -> Self {
        Self {
            drivers: drivers.to_vec(),
            ..Self::default()
        }
    }

    fn call(&mut self, name: &'static str, detail: String) -> Result<(), FirewallError> {
        self.calls.push(format!("{name}{detail}"));
        if self.fail.contains(&name) {
            return Err(missing_nft());
        }
        Ok(())
    }
}

impl FirewallBackend for Recorder {
    fn driver(&mut self) -> Result<DriverChoice, FirewallError> {
        if let Some(driver) = self.known {
            return Ok(DriverChoice {
                driver,
                probed: false,
            });
        }
        self.calls.push("probe".into());
        let answer = (self.drivers.get(self.probes))
            .or(self.drivers.last())
            .copied()
            .unwrap_or(Some(Driver::Nftables));
        self.probes += 1;
        let driver = answer.ok_or_else(|| FirewallError::NoFirewall {
            nft: Box::new(missing_nft()),
            iptables: Box::new(missing_nft()),
        })?;
        self.known = Some(driver);
        Ok(DriverChoice {
            driver,
            probed: true,
        })
    }
    fn forget_driver(&mut self) {
        self.calls.push("forget driver".into());
        self.known = None;
    }
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
    fn apply_chains(&mut self, rules: &RuleSet) -> Result<(), FirewallError> {
        self.call("apply chains", format!(" ({} rules)", rules.rule_count()))
    }
    fn remove_chains(&mut self, which: Chains) -> Result<(), FirewallError> {
        self.call("remove chains", format!(" {which:?}"))
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
    // The first sync also clears what an iptables run may have left.
    assert_eq!(
        fw.calls,
        [
            "probe",
            "apply table (7 rules)",
            "forward policy",
            "remove chains Forward",
            "remove chains Nat"
        ]
    );
    assert_eq!(
        outcome,
        SyncOutcome {
            driver: Some(Driver::Nftables),
            rules: 7,
            iptables_chain: false
        }
    );
    fw.calls.clear();
    sync(&mut fw, &[network()], &[]).unwrap();
    assert_eq!(
        fw.calls,
        [
            "apply table (7 rules)",
            "forward policy",
            "remove chains Forward"
        ]
    );
}

#[test]
fn a_dropping_host_also_gets_the_iptables_chain() {
    let mut fw = Recorder {
        policy: Some(ForwardPolicy::Drop),
        ..Recorder::default()
    };
    assert!(sync(&mut fw, &[network()], &[]).unwrap().iptables_chain);
    assert_eq!(fw.calls[3], "apply forward chain (3 rules)");
}

#[test]
fn without_nft_the_rules_go_into_iptables_chains() {
    let mut fw = Recorder::with(&[Some(Driver::Iptables)]);
    let outcome = sync(&mut fw, &[network()], &[]).unwrap();
    assert_eq!(fw.calls, ["probe", "apply chains (7 rules)"]);
    assert_eq!(
        outcome,
        SyncOutcome {
            driver: Some(Driver::Iptables),
            rules: 7,
            iptables_chain: false
        }
    );
    fw.calls.clear();
    assert_eq!(
        sync(&mut fw, &[], &[]).unwrap().driver,
        Some(Driver::Iptables)
    );
    assert_eq!(fw.calls, ["remove chains All"]);
}

#[test]
fn nft_gone_while_running_falls_back_to_iptables() {
    let mut fw = Recorder {
        fail: vec!["apply table"],
        ..Recorder::with(&[Some(Driver::Nftables), Some(Driver::Iptables)])
    };
    let outcome = sync(&mut fw, &[network()], &[]).unwrap();
    assert_eq!(
        fw.calls,
        [
            "probe",
            "apply table (7 rules)",
            "forget driver",
            "probe",
            "apply chains (7 rules)"
        ]
    );
    assert_eq!(outcome.driver, Some(Driver::Iptables));
}

#[test]
fn nft_failing_but_still_found_is_reported() {
    let mut fw = Recorder {
        fail: vec!["apply table"],
        ..Recorder::default()
    };
    let err = sync(&mut fw, &[network()], &[]).unwrap_err();
    assert!(err.to_string().contains("install nftables"), "{err}");
    assert_eq!(fw.calls.last().map(String::as_str), Some("probe"));
}

#[test]
fn neither_nft_nor_iptables() {
    let mut fw = Recorder::with(&[None]);
    let err = sync(&mut fw, &[network()], &[]).unwrap_err();
    assert!(
        err.to_string()
            .contains("iptables, the fallback, cannot be used either"),
        "{err}"
    );
    // With nothing to set up, there is nothing to remove either.
    let outcome = sync(&mut fw, &[], &[]).unwrap();
    assert_eq!(outcome.driver, None);
}

#[test]
fn no_networks_removes_everything() {
    let mut fw = Recorder::default();
    let outcome = sync(&mut fw, &[], &[]).unwrap();
    assert_eq!(fw.calls, ["probe", "remove table", "remove chains All"]);
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
    assert!(
        !fw.calls.iter().any(|c| c.contains("chain")),
        "{:?}",
        fw.calls
    );
}

#[test]
fn teardown_tries_every_step_and_reports_every_failure() {
    let mut fw = Recorder {
        fail: vec!["remove table", "remove chains"],
        ..Recorder::default()
    };
    let err = teardown(&mut fw).unwrap_err();
    assert_eq!(fw.calls, ["probe", "remove table", "remove chains All"]);
    assert!(matches!(err, SyncError::Apply(ref e) if e.len() == 2));
    assert!(err
        .to_string()
        .starts_with("cannot update the firewall: cannot run \"nft\""));
}

#[test]
fn stack_info_says_which_driver_holds_what() {
    let tools = Tools {
        chains: crate::network::firewall::iptables::IptablesChains::tagged("ab12"),
        table: "stack_ab12".into(),
        ..Tools::default()
    };
    let outcome = |driver, rules, iptables_chain| SyncOutcome {
        driver,
        rules,
        iptables_chain,
    };
    let shown = |o: SyncOutcome| {
        let (driver, text) = o.describe(&tools);
        format!("{driver}: {text}")
    };
    assert_eq!(
        shown(outcome(Some(Driver::Nftables), 7, false)),
        "nftables: nftables table ip stack_ab12"
    );
    assert_eq!(
        shown(outcome(Some(Driver::Nftables), 7, true)),
        "nftables: nftables table ip stack_ab12 + iptables chain STACK-FWD-ab12 \
         (FORWARD policy is DROP)"
    );
    assert_eq!(
        shown(outcome(Some(Driver::Iptables), 7, false)),
        "iptables: iptables chains STACK-FWD-ab12 (filter), STACK-PRE-ab12, \
         STACK-OUT-ab12, STACK-POST-ab12 (nat); nft not found"
    );
    assert_eq!(
        shown(outcome(Some(Driver::Iptables), 0, false)),
        "iptables: iptables, nft not found (no rules)"
    );
    assert!(shown(outcome(None, 0, false)).starts_with("none: "));
}
