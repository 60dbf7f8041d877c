//! The resource, namespace and kernel-parameter flags of `create` and
//! `run`, as docker reads them: `--memory-swap`, `--memory-reservation`,
//! `--memory-swappiness`, `--cpu-shares`, `--cpu-quota`, `--cpu-period`,
//! `--cpuset-cpus`, `--cpuset-mems`, `--oom-score-adj`, `--sysctl`,
//! `--group-add`, `--ipc`, `--pid`, `--uts`, `--cgroupns`, `--shm-size`
//! and `--domainname`. The
//! daemon checks the values; the client only parses sizes and pairs.

use super::parse_size;
use anyhow::{anyhow, Result};
use bollard::models::{ContainerCreateBody, HostConfig, HostConfigCgroupnsModeEnum};
use std::collections::HashMap;

/// The resource and namespace flags of `create` and `run`.
#[derive(Debug, Default, clap::Args)]
pub struct ResourceArgs {
    /// Swap limit equal to memory plus swap: -1 to enable unlimited swap
    #[arg(long, allow_hyphen_values = true)]
    memory_swap: Option<String>,
    /// Memory soft limit (e.g. 32m)
    #[arg(long)]
    memory_reservation: Option<String>,
    /// Tune container memory swappiness (0 to 100)
    #[arg(long, allow_hyphen_values = true)]
    memory_swappiness: Option<i64>,
    /// CPU shares (relative weight)
    #[arg(short = 'c', long)]
    cpu_shares: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) quota
    #[arg(long, allow_hyphen_values = true)]
    cpu_quota: Option<i64>,
    /// Limit CPU CFS (Completely Fair Scheduler) period
    #[arg(long)]
    cpu_period: Option<i64>,
    /// CPUs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    cpuset_cpus: Option<String>,
    /// MEMs in which to allow execution (0-3, 0,1)
    #[arg(long)]
    cpuset_mems: Option<String>,
    /// Tune host's OOM preferences (-1000 to 1000)
    #[arg(long, allow_hyphen_values = true)]
    oom_score_adj: Option<i64>,
    /// Sysctl options (NAME=VALUE; namespaced ones only)
    #[arg(long = "sysctl")]
    sysctls: Vec<String>,
    /// Add additional groups to join (name or number)
    #[arg(long)]
    group_add: Vec<String>,
    /// IPC mode to use (private, shareable, none or host)
    #[arg(long)]
    ipc: Option<String>,
    /// PID namespace to use (host)
    #[arg(long)]
    pid: Option<String>,
    /// UTS namespace to use (host)
    #[arg(long)]
    uts: Option<String>,
    /// Cgroup namespace to use (host or private)
    #[arg(long, value_parser = ["host", "private"])]
    cgroupns: Option<String>,
    /// Size of /dev/shm (e.g. 128m)
    #[arg(long)]
    shm_size: Option<String>,
    /// Container NIS domain name
    #[arg(long)]
    domainname: Option<String>,
}

impl ResourceArgs {
    /// Sets the request's fields for the flags given.
    pub(super) fn apply(&self, body: &mut ContainerCreateBody) -> Result<()> {
        let size = |flag: &str, value: &Option<String>| -> Result<Option<i64>> {
            value
                .as_deref()
                .map(|text| {
                    if text == "-1" {
                        return Ok(-1);
                    }
                    parse_size(text).ok_or_else(|| {
                        anyhow!("invalid --{flag} {text:?}: expected a size such as 64m or 1g")
                    })
                })
                .transpose()
        };
        let memory_swap = size("memory-swap", &self.memory_swap)?;
        let memory_reservation = size("memory-reservation", &self.memory_reservation)?;
        let shm_size = size("shm-size", &self.shm_size)?;
        let sysctls = self
            .sysctls
            .iter()
            .map(|entry| {
                entry
                    .split_once('=')
                    .filter(|(name, _)| !name.is_empty())
                    .map(|(name, value)| (name.to_owned(), value.to_owned()))
                    .ok_or_else(|| {
                        anyhow!("invalid --sysctl {entry:?}: expected NAME=VALUE, such as net.ipv4.ip_forward=1")
                    })
            })
            .collect::<Result<HashMap<_, _>>>()?;
        if self.domainname.is_some() {
            body.domainname = self.domainname.clone();
        }
        let host = body.host_config.get_or_insert_with(HostConfig::default);
        host.memory_swap = memory_swap;
        host.memory_reservation = memory_reservation;
        host.memory_swappiness = self.memory_swappiness;
        host.cpu_shares = self.cpu_shares;
        host.cpu_quota = self.cpu_quota;
        host.cpu_period = self.cpu_period;
        host.cpuset_cpus = self.cpuset_cpus.clone();
        host.cpuset_mems = self.cpuset_mems.clone();
        host.oom_score_adj = self.oom_score_adj;
        host.sysctls = (!sysctls.is_empty()).then_some(sysctls);
        host.group_add = (!self.group_add.is_empty()).then(|| self.group_add.clone());
        host.ipc_mode = self.ipc.clone();
        host.pid_mode = self.pid.clone();
        host.uts_mode = self.uts.clone();
        host.cgroupns_mode = self.cgroupns.as_deref().map(|mode| match mode {
            "host" => HostConfigCgroupnsModeEnum::HOST,
            _ => HostConfigCgroupnsModeEnum::PRIVATE,
        });
        host.shm_size = shm_size;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        resources: ResourceArgs,
    }

    fn body(args: &[&str]) -> Result<ContainerCreateBody> {
        let mut all = vec!["test"];
        all.extend_from_slice(args);
        let cli = Cli::try_parse_from(all)?;
        let mut body = ContainerCreateBody::default();
        cli.resources.apply(&mut body)?;
        Ok(body)
    }

    #[test]
    fn flags_fill_the_request() {
        let body = body(&[
            "--memory-swap",
            "-1",
            "--memory-reservation",
            "32m",
            "-c",
            "512",
            "--cpu-quota",
            "50000",
            "--cpu-period",
            "100000",
            "--cpuset-cpus",
            "0",
            "--oom-score-adj",
            "-500",
            "--sysctl",
            "net.ipv4.ip_forward=1",
            "--group-add",
            "audio",
            "--ipc",
            "host",
            "--pid",
            "host",
            "--shm-size",
            "128m",
            "--domainname",
            "example.org",
        ])
        .unwrap();
        assert_eq!(body.domainname.as_deref(), Some("example.org"));
        let host = body.host_config.unwrap();
        assert_eq!(host.memory_swap, Some(-1));
        assert_eq!(host.memory_reservation, Some(32 << 20));
        assert_eq!(host.cpu_shares, Some(512));
        assert_eq!(host.cpu_quota, Some(50_000));
        assert_eq!(host.cpu_period, Some(100_000));
        assert_eq!(host.cpuset_cpus.as_deref(), Some("0"));
        assert_eq!(host.oom_score_adj, Some(-500));
        assert_eq!(host.sysctls.unwrap()["net.ipv4.ip_forward"], "1");
        assert_eq!(host.group_add.unwrap(), ["audio"]);
        assert_eq!(host.ipc_mode.as_deref(), Some("host"));
        assert_eq!(host.pid_mode.as_deref(), Some("host"));
        assert_eq!(host.shm_size, Some(128 << 20));
    }

    #[test]
    fn bad_values_are_named() {
        let error = body(&["--sysctl", "kernel.shmmax"]).unwrap_err();
        assert!(error.to_string().contains("--sysctl \"kernel.shmmax\""));
        let error = body(&["--shm-size", "lots"]).unwrap_err();
        assert!(error.to_string().contains("--shm-size \"lots\""));
        let empty = body(&[]).unwrap().host_config.unwrap();
        assert_eq!(empty, HostConfig::default());
    }
}
