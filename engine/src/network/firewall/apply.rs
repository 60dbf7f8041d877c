//! Applying and removing the rule sets through the host's tools.
//!
//! nftables goes through the `nft` binary (the `nftables` crate's JSON on
//! its standard input, one transaction per call); iptables (the
//! compatibility chain, or the whole rule set where `nft` is missing)
//! through `iptables-restore --noflush`, which replaces our chains in one
//! commit per table, and `iptables` for checking and removing the jumps.
//! Every program is a parameter ([`Tools`]), so tests and unusual hosts can
//! point elsewhere. Commands act on the network namespace of the calling thread.

use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::network::firewall::iptables::{IptablesChains, IptablesForward, Jump};
use crate::network::firewall::rules::{removal_batch, RuleSet, TABLE};

/// The programs the firewall code runs, and the names of the objects it
/// owns: each daemon (each state root) has a table and chains of its own,
/// so two daemons on one host never replace each other's rules.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tools {
    /// The engine's nft table (family `ip`).
    pub table: String,
    /// The engine's chains in iptables.
    pub chains: IptablesChains,
    /// `nft` (Debian package `nftables`).
    pub nft: PathBuf,
    /// `iptables` (whichever backend the host uses).
    pub iptables: PathBuf,
    /// `iptables-restore`, the same backend as `iptables`.
    pub iptables_restore: PathBuf,
}

impl Default for Tools {
    /// The programs as found on `PATH`.
    fn default() -> Self {
        Self {
            table: TABLE.to_owned(),
            chains: IptablesChains::default(),
            nft: "nft".into(),
            iptables: "iptables".into(),
            iptables_restore: "iptables-restore".into(),
        }
    }
}

/// A firewall operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum FirewallError {
    /// `nft` is not installed (or not executable).
    #[error(
        "cannot run {program:?}: {source}; install nftables (Debian: apt-get install nftables) \
         so the engine can set up published ports and network isolation"
    )]
    NftMissing {
        /// The program that was tried.
        program: PathBuf,
        /// Why it could not run.
        source: std::io::Error,
    },
    /// `nft` ran and refused the batch.
    #[error("nft failed while {operation}: {stderr}")]
    NftRefused {
        /// What was being done.
        operation: &'static str,
        /// What nft printed on standard error.
        stderr: String,
    },
    /// The batch could not be turned into JSON.
    #[error("cannot encode the nft batch while {operation}: {source}")]
    Encode {
        /// What was being done.
        operation: &'static str,
        /// The encoder's error.
        source: serde_json::Error,
    },
    /// Neither `nft` nor `iptables` can be run.
    #[error("{nft}; iptables, the fallback, cannot be used either: {iptables}")]
    NoFirewall {
        /// Why `nft` cannot be used.
        nft: Box<FirewallError>,
        /// Why `iptables` cannot be used.
        iptables: Box<FirewallError>,
    },
    /// An iptables program could not be started.
    #[error("cannot run {program:?}")]
    Spawn {
        /// The program.
        program: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// An iptables program exited with an error.
    #[error("{program:?} {args:?} failed ({status}): {stderr}")]
    Failed {
        /// The program.
        program: PathBuf,
        /// Its arguments.
        args: Vec<OsString>,
        /// Its exit status.
        status: std::process::ExitStatus,
        /// What it printed on standard error.
        stderr: String,
    },
}

/// The version line of `nft --version`, or [`FirewallError::NftMissing`].
pub fn detect_nft(tools: &Tools) -> Result<String, FirewallError> {
    let output = Command::new(&tools.nft)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map_err(|source| FirewallError::NftMissing {
            program: tools.nft.clone(),
            source,
        })?;
    check(&tools.nft, &[OsString::from("--version")], &output)?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Replaces the engine's table with `rules`, atomically.
pub fn apply(tools: &Tools, rules: &RuleSet) -> Result<(), FirewallError> {
    run_nft(
        tools,
        &rules.to_batch(&tools.table),
        "replacing the engine's nft table",
    )
}

/// Deletes the engine's table; succeeds when it does not exist.
pub fn remove(tools: &Tools) -> Result<(), FirewallError> {
    run_nft(
        tools,
        &removal_batch(&tools.table),
        "deleting the engine's nft table",
    )
}

/// Runs `nft -j -f -` with `batch` on its standard input. The `nftables`
/// crate's own helper lets nft's standard error go to ours, which would
/// lose the one line that says why a batch was refused; so the process is
/// run here and only the crate's types are used.
fn run_nft(
    tools: &Tools,
    batch: &nftables::schema::Nftables<'_>,
    operation: &'static str,
) -> Result<(), FirewallError> {
    let payload =
        serde_json::to_vec(batch).map_err(|source| FirewallError::Encode { operation, source })?;
    let missing = |source| FirewallError::NftMissing {
        program: tools.nft.clone(),
        source,
    };
    let mut child = Command::new(&tools.nft)
        .args(["-j", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(missing)?;
    if let Some(mut stdin) = child.stdin.take() {
        // nft reads its whole input before it answers; a write error shows
        // up as its failure below.
        let _ = stdin.write_all(&payload);
    }
    let output = child.wait_with_output().map_err(missing)?;
    if output.status.success() {
        return Ok(());
    }
    Err(FirewallError::NftRefused {
        operation,
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

/// The policy of iptables' `FORWARD` chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ForwardPolicy {
    /// Forwarded packets not matched by a rule pass.
    Accept,
    /// Forwarded packets not matched by a rule are dropped (Docker's
    /// setting): the engine needs [`IptablesForward`].
    Drop,
}

/// The policy of the `FORWARD` chain, or `None` when `iptables` is not
/// installed (then nothing in iptables can drop our traffic).
pub fn forward_policy(tools: &Tools) -> Result<Option<ForwardPolicy>, FirewallError> {
    let args = ["-S", "FORWARD"].map(OsString::from);
    let Some(output) = run_installed_iptables(tools, &args)? else {
        return Ok(None);
    };
    check(&tools.iptables, &args, &output)?;
    Ok(Some(parse_forward_policy(&String::from_utf8_lossy(
        &output.stdout,
    ))))
}

/// Reads the policy from `iptables -S FORWARD` output (`-P FORWARD DROP`).
fn parse_forward_policy(listing: &str) -> ForwardPolicy {
    let drop = listing
        .lines()
        .any(|l| l.split_whitespace().eq(["-P", "FORWARD", "DROP"]));
    if drop {
        ForwardPolicy::Drop
    } else {
        ForwardPolicy::Accept
    }
}

/// The version line of `iptables --version` (it names the backend:
/// `(nf_tables)` or `(legacy)`).
pub fn detect_iptables(tools: &Tools) -> Result<String, FirewallError> {
    let args = [OsString::from("--version")];
    let output = run_iptables(tools, &args)?;
    check(&tools.iptables, &args, &output)?;
    Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
}

/// Writes the engine's forward chain and makes sure `FORWARD` jumps to it first;
/// repeating the call leaves the same rules.
pub fn apply_iptables_forward(tools: &Tools, plan: &IptablesForward) -> Result<(), FirewallError> {
    let [forward, ..] = tools.chains.jumps();
    let missing = missing_jumps(tools, &[forward])?;
    restore(tools, &plan.restore_input(&tools.chains.forward, &missing))
}

/// Replaces the engine's iptables chains with `rules` (the iptables
/// driver), one commit per table, adding the jumps to them that are
/// missing; repeating the call leaves the same rules.
pub fn apply_iptables(tools: &Tools, rules: &RuleSet) -> Result<(), FirewallError> {
    let missing = missing_jumps(tools, &tools.chains.jumps())?;
    restore(tools, &rules.to_restore(&tools.chains, &missing))
}

/// Removes `jumps` (of [`IptablesChains::jumps`]) and the chains they lead
/// to; succeeds when they are already gone, or iptables is not installed.
/// Nothing else in those tables is touched.
pub fn remove_iptables_chains(tools: &Tools, jumps: &[Jump<'_>]) -> Result<(), FirewallError> {
    for jump in jumps {
        let table = jump.table_args();
        // `-D` removes one copy per call; a crash between the check and
        // the insert of two daemons could have left two.
        while iptables_ok(tools, &table, "-C", &jump.rule())? {
            iptables(tools, &[&table[..], &["-D"], &jump.rule()[..]].concat())?;
        }
        if iptables_ok(tools, &table, "-S", &[jump.to])? {
            iptables(tools, &[&table[..], &["-F", jump.to]].concat())?;
            iptables(tools, &[&table[..], &["-X", jump.to]].concat())?;
        }
    }
    Ok(())
}

/// Those of `jumps` that are not in their built-in chain yet.
fn missing_jumps<'a>(tools: &Tools, jumps: &[Jump<'a>]) -> Result<Vec<Jump<'a>>, FirewallError> {
    let mut missing = Vec::new();
    for jump in jumps {
        if !iptables_ok(tools, &jump.table_args(), "-C", &jump.rule())? {
            missing.push(*jump);
        }
    }
    Ok(missing)
}

/// Runs `iptables-restore -w --noflush` with `input`.
fn restore(tools: &Tools, input: &str) -> Result<(), FirewallError> {
    let args = ["-w", "--noflush"].map(OsString::from);
    let spawn_err = |source| FirewallError::Spawn {
        program: tools.iptables_restore.clone(),
        source,
    };
    let mut child = Command::new(&tools.iptables_restore)
        .args(&args)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(spawn_err)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A write error shows up as the program's failure below.
        let _ = stdin.write_all(input.as_bytes());
    }
    let output = child.wait_with_output().map_err(spawn_err)?;
    check(&tools.iptables_restore, &args, &output)
}

/// Runs `iptables -t TABLE <verb> <args>` and tells whether it exited
/// with 0 (for `-C` and `-S`, whose failure means "no such rule/chain");
/// without iptables installed, nothing exists there.
fn iptables_ok(
    tools: &Tools,
    table: &[&str; 2],
    verb: &str,
    args: &[&str],
) -> Result<bool, FirewallError> {
    let args: Vec<OsString> = ["-w"]
        .iter()
        .chain(table)
        .chain([&verb])
        .chain(args)
        .map(OsString::from)
        .collect();
    Ok(run_installed_iptables(tools, &args)?.is_some_and(|output| output.status.success()))
}

/// Runs `iptables -w ARGS` (`-w`: wait for the xtables lock, which the
/// legacy backend takes, instead of failing while Docker holds it).
fn iptables(tools: &Tools, args: &[&str]) -> Result<(), FirewallError> {
    let args: Vec<OsString> = std::iter::once("-w")
        .chain(args.iter().copied())
        .map(OsString::from)
        .collect();
    let output = run_iptables(tools, &args)?;
    check(&tools.iptables, &args, &output)
}

/// Runs `iptables ARGS` without a standard input and returns its output.
fn run_iptables(tools: &Tools, args: &[OsString]) -> Result<Output, FirewallError> {
    Command::new(&tools.iptables)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .map_err(|source| FirewallError::Spawn {
            program: tools.iptables.clone(),
            source,
        })
}

/// [`run_iptables`], with `None` when `iptables` is not installed.
fn run_installed_iptables(
    tools: &Tools,
    args: &[OsString],
) -> Result<Option<Output>, FirewallError> {
    match run_iptables(tools, args) {
        Ok(output) => Ok(Some(output)),
        Err(FirewallError::Spawn { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            Ok(None)
        }
        Err(error) => Err(error),
    }
}

fn check(program: &Path, args: &[OsString], output: &Output) -> Result<(), FirewallError> {
    if output.status.success() {
        return Ok(());
    }
    Err(FirewallError::Failed {
        program: program.to_owned(),
        args: args.to_vec(),
        status: output.status,
        stderr: String::from_utf8_lossy(&output.stderr).trim().to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_forward_policy() {
        let docker = "-P FORWARD DROP\n-N DOCKER-USER\n-A FORWARD -j DOCKER-USER\n";
        assert_eq!(parse_forward_policy(docker), ForwardPolicy::Drop);
        assert_eq!(
            parse_forward_policy("-P FORWARD ACCEPT\n"),
            ForwardPolicy::Accept
        );
        assert_eq!(parse_forward_policy(""), ForwardPolicy::Accept);
    }

    #[test]
    fn a_missing_nft_is_reported_with_the_package_to_install() {
        let tools = Tools {
            nft: "/nonexistent/nft".into(),
            ..Tools::default()
        };
        let err = detect_nft(&tools).unwrap_err();
        assert!(matches!(err, FirewallError::NftMissing { .. }));
        assert!(
            err.to_string().contains("apt-get install nftables"),
            "{err}"
        );
        let err = remove(&tools).unwrap_err();
        assert!(matches!(err, FirewallError::NftMissing { .. }), "{err}");
    }

    /// A stand-in for `nft` that keeps its standard input in `input` and
    /// fails with `stderr` when that is not empty.
    fn fake_nft(dir: &Path, stderr: &str) -> Tools {
        use std::os::unix::fs::PermissionsExt;
        let program = dir.join("nft");
        let fail = if stderr.is_empty() {
            String::new()
        } else {
            format!("echo '{stderr}' >&2; exit 1\n")
        };
        let script = format!("#!/bin/sh\ncat > '{}'\n{fail}", dir.join("input").display());
        std::fs::write(&program, script).unwrap();
        std::fs::set_permissions(&program, std::fs::Permissions::from_mode(0o755)).unwrap();
        Tools {
            nft: program,
            ..Tools::default()
        }
    }

    #[test]
    fn the_batch_goes_to_nft_as_json_on_standard_input() {
        let dir = tempfile::tempdir().unwrap();
        let tools = fake_nft(dir.path(), "");
        remove(&tools).unwrap();
        let sent: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.path().join("input")).unwrap()).unwrap();
        assert_eq!(sent, serde_json::to_value(removal_batch(TABLE)).unwrap());
    }

    #[test]
    fn a_refused_batch_reports_what_nft_said() {
        let dir = tempfile::tempdir().unwrap();
        let tools = fake_nft(dir.path(), "Error: Could not process rule");
        let err = remove(&tools).unwrap_err();
        assert_eq!(
            err.to_string(),
            "nft failed while deleting the engine's nft table: Error: Could not process rule"
        );
    }

    #[test]
    fn a_missing_iptables_means_no_forward_policy() {
        let tools = Tools {
            iptables: "/nonexistent/iptables".into(),
            ..Tools::default()
        };
        assert!(matches!(forward_policy(&tools), Ok(None)));
    }
}
