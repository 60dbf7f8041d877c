//! `stack info`: what the engine reports about itself, as `docker info`'s
//! server part: containers by state, images, storage, cgroups, which
//! firewall backend holds the rules, the host.

use super::engine;
use anyhow::{Context, Result};
use bollard::models::SystemInfo;
use stack_compose::env::Environment;
use std::fmt::Write;
use std::process::ExitCode;

/// How `info` prints.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InfoFormat {
    /// Labelled lines, as `docker info`
    #[default]
    Table,
    /// The engine's `/info` document as JSON
    Json,
}

#[derive(Debug, clap::Args)]
pub struct InfoArgs {
    /// Output format
    #[arg(long, value_enum, default_value_t = InfoFormat::Table)]
    format: InfoFormat,
}

/// Asks the engine for `/info` and prints it.
pub fn run(args: &InfoArgs, env: &Environment) -> Result<ExitCode> {
    let info = engine::with_client(env, |client| async move {
        client
            .info()
            .await
            .map_err(|e| anyhow::anyhow!("{}", engine::api_message(&e)))
    })?;
    match args.format {
        InfoFormat::Json => println!(
            "{}",
            serde_json::to_string(&info).context("encoding the engine's information")?
        ),
        InfoFormat::Table => print!("{}", render(&info)),
    }
    Ok(ExitCode::SUCCESS)
}

/// `docker info`'s server section for `info`; fields the engine left out
/// are left out here too.
fn render(info: &SystemInfo) -> String {
    let mut out = String::from("Server:\n");
    let mut line = |indent: &str, label: &str, value: Option<String>| {
        if let Some(value) = value {
            let _ = writeln!(out, "{indent}{label}: {value}");
        }
    };
    let number = |n: Option<i64>| n.map(|n| n.to_string());
    line(" ", "Containers", number(info.containers));
    line("  ", "Running", number(info.containers_running));
    line("  ", "Paused", number(info.containers_paused));
    line("  ", "Stopped", number(info.containers_stopped));
    line(" ", "Images", number(info.images));
    line(" ", "Server Version", info.server_version.clone());
    line(" ", "Storage Driver", info.driver.clone());
    line(
        " ",
        "Cgroup Driver",
        info.cgroup_driver.as_ref().map(|d| d.to_string()),
    );
    line(
        " ",
        "Cgroup Version",
        info.cgroup_version.as_ref().map(|v| v.to_string()),
    );
    if let Some(firewall) = &info.firewall_backend {
        line(" ", "Firewall Backend", firewall.driver.clone());
        for row in firewall.info.iter().flatten() {
            if let [label, value] = row.as_slice() {
                line("  ", label, Some(value.clone()));
            }
        }
    }
    line(" ", "Kernel Version", info.kernel_version.clone());
    line(" ", "Operating System", info.operating_system.clone());
    line(" ", "OSType", info.os_type.clone());
    line(" ", "Architecture", info.architecture.clone());
    line(" ", "CPUs", number(info.ncpu));
    line(" ", "Total Memory", info.mem_total.map(gibibytes));
    line(" ", "Name", info.name.clone());
    line(" ", "ID", info.id.clone());
    line(" ", "Root Dir", info.docker_root_dir.clone());
    for warning in info.warnings.iter().flatten() {
        let _ = writeln!(out, "WARNING: {warning}");
    }
    out
}

/// Bytes as `docker info` shows memory: GiB with two decimals.
fn gibibytes(bytes: i64) -> String {
    format!("{:.2}GiB", bytes as f64 / f64::from(1u32 << 30))
}

#[cfg(test)]
mod tests {
    use super::*;
    use bollard::models::FirewallInfo;

    #[test]
    fn the_server_section_names_the_counts_and_the_firewall_backend() {
        let info = SystemInfo {
            containers: Some(3),
            containers_running: Some(1),
            containers_paused: Some(1),
            containers_stopped: Some(1),
            images: Some(2),
            server_version: Some("0.1.0".into()),
            firewall_backend: Some(FirewallInfo {
                driver: Some("nftables".into()),
                info: Some(vec![vec!["Rules".into(), "nftables table ip stack".into()]]),
            }),
            mem_total: Some(3 << 29),
            warnings: Some(vec!["No swap limit support".into()]),
            ..SystemInfo::default()
        };
        assert_eq!(
            render(&info),
            "Server:\n Containers: 3\n  Running: 1\n  Paused: 1\n  Stopped: 1\n Images: 2\n \
             Server Version: 0.1.0\n Firewall Backend: nftables\n  Rules: nftables table ip \
             stack\n Total Memory: 1.50GiB\nWARNING: No swap limit support\n"
        );
    }
}
