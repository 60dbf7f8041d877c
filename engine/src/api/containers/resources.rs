//! The resource and namespace fields of a create request — the cgroup
//! limits beyond `Memory`, `NanoCpus` and `PidsLimit`, `OomScoreAdj`,
//! `Sysctls`, `GroupAdd`, `IpcMode`, `PidMode`, `ShmSize` — checked as
//! Docker's daemon checks them and turned into launch fields, and the
//! defaults Docker's daemon writes into the stored `HostConfig` (so that
//! inspect shows `MemorySwap`, `ShmSize` and `IpcMode` as Docker does).

use std::collections::{BTreeMap, BTreeSet};

use bollard_stubs::models::{HostConfig, HostConfigCgroupnsModeEnum};

use super::super::error::ApiError;
use crate::container::launch::{Limits, Share};
use crate::runtime::{spec, NamespaceMode, Namespaces};

/// Docker's `/dev/shm` size when `ShmSize` is not set: 64 MiB.
pub(super) const DEFAULT_SHM_SIZE: i64 = 64 << 20;

/// The smallest memory limit or reservation Docker accepts: 6 MiB.
const MIN_MEMORY: i64 = 6 << 20;

/// What the host offers that the checks compare requests with.
pub(super) struct Available {
    /// CPUs in the kernel's list format (`/sys/devices/system/cpu/online`).
    pub(super) cpus: String,
    /// Memory nodes in the same format (`/sys/devices/system/node/online`).
    pub(super) mems: String,
}

impl Available {
    /// Reads the host's online CPUs and memory nodes; a host without NUMA
    /// information has the one node `0`.
    pub(super) fn read() -> Available {
        let read = |path: &str| {
            std::fs::read_to_string(path)
                .map(|t| t.trim().to_owned())
                .unwrap_or_else(|_| "0".to_owned())
        };
        Available {
            cpus: read("/sys/devices/system/cpu/online"),
            mems: read("/sys/devices/system/node/online"),
        }
    }
}

/// Finds the id of the container a `container:NAME` mode names.
pub(super) type ContainerId<'a> = &'a dyn Fn(&str) -> Result<String, ApiError>;

/// The launch fields of the request's resources and namespaces.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Settings {
    pub(super) limits: Limits,
    pub(super) sysctls: BTreeMap<String, String>,
    pub(super) group_add: Vec<String>,
    pub(super) ipc: Share,
    pub(super) pid: Share,
    pub(super) shm_size: Option<u64>,
}

/// Checks the fields of `host` as Docker does, for a container whose
/// network namespace is `net`; `container_id` finds the container a
/// `container:NAME` mode names.
pub(super) fn settings(
    host: &HostConfig,
    net: NamespaceMode,
    available: &Available,
    container_id: ContainerId<'_>,
) -> Result<Settings, ApiError> {
    let bad = |message: String| Err(ApiError::bad_request(message));
    let memory = host.memory.unwrap_or(0);
    let swap = host.memory_swap.unwrap_or(0);
    let reservation = host.memory_reservation.unwrap_or(0);
    if memory > 0 && memory < MIN_MEMORY {
        return bad(format!(
            "HostConfig.Memory {memory}: the minimum memory limit is 6MB"
        ));
    }
    if swap > 0 && memory <= 0 {
        return bad(format!(
            "HostConfig.MemorySwap {swap}: a memory plus swap limit needs a memory limit (set Memory too, or MemorySwap -1 for unlimited swap)"
        ));
    }
    if swap > 0 && swap < memory {
        return bad(format!(
            "HostConfig.MemorySwap {swap}: below the memory limit {memory}; it counts memory plus swap, so it must be at least Memory (or -1 for unlimited swap)"
        ));
    }
    if swap < -1 {
        return bad(format!(
            "HostConfig.MemorySwap {swap}: must be a number of bytes, 0 for twice the memory limit, or -1 for unlimited swap"
        ));
    }
    if reservation < 0 || (reservation > 0 && reservation < MIN_MEMORY) {
        return bad(format!(
            "HostConfig.MemoryReservation {reservation}: the minimum memory reservation is 6MB"
        ));
    }
    if memory > 0 && reservation > memory {
        return bad(format!(
            "HostConfig.MemoryReservation {reservation}: above the memory limit {memory}; a soft limit must not exceed the hard one"
        ));
    }
    let swappiness = match host.memory_swappiness {
        None | Some(-1) => None,
        Some(value @ 0..=100) => Some(value as u64),
        Some(value) => {
            return bad(format!(
                "HostConfig.MemorySwappiness {value}: the valid range is 0-100 (or -1 for the kernel's default)"
            ))
        }
    };
    let nano_cpus = host.nano_cpus.unwrap_or(0);
    let online = parse_list(&available.cpus).map_or(1, |cpus| cpus.len().max(1)) as i64;
    if nano_cpus < 0 || nano_cpus > online * 1_000_000_000 {
        return bad(format!(
            "HostConfig.NanoCpus {nano_cpus}: the range of CPUs is from 0.01 to {online}.00, as there are only {online} CPUs available"
        ));
    }
    let quota = host.cpu_quota.unwrap_or(0);
    let period = host.cpu_period.unwrap_or(0);
    for (field, value) in [("CpuPeriod", period), ("CpuQuota", quota)] {
        if nano_cpus > 0 && value > 0 {
            return bad(format!(
                "conflicting options: HostConfig.NanoCpus (--cpus) and HostConfig.{field} cannot both be set; use one or the other"
            ));
        }
    }
    if period != 0 && !(1000..=1_000_000).contains(&period) {
        return bad(format!(
            "HostConfig.CpuPeriod {period}: the CPU CFS period must be between 1ms (1000) and 1s (1000000)"
        ));
    }
    if quota > 0 && quota < 1000 {
        return bad(format!(
            "HostConfig.CpuQuota {quota}: the CPU CFS quota must be at least 1ms (1000)"
        ));
    }
    let shares = host.cpu_shares.unwrap_or(0);
    if shares < 0 {
        return bad(format!(
            "HostConfig.CpuShares {shares}: must be a positive relative weight (1024 is the default)"
        ));
    }
    let cpuset_cpus = cpuset("CpusetCpus", host.cpuset_cpus.as_deref(), &available.cpus)?;
    let cpuset_mems = cpuset("CpusetMems", host.cpuset_mems.as_deref(), &available.mems)?;
    let oom_score_adj = match host.oom_score_adj.unwrap_or(0) {
        0 => None,
        value @ -1000..=1000 => Some(value as i32),
        value => {
            return bad(format!(
                "HostConfig.OomScoreAdj {value}: the valid range is -1000 to 1000"
            ))
        }
    };
    let shm_size = match host.shm_size.unwrap_or(0) {
        0 => None,
        size if size < 0 => {
            return bad(format!(
                "HostConfig.ShmSize {size}: the size of /dev/shm cannot be negative"
            ))
        }
        size => Some(size as u64),
    };
    let ipc = share(
        "IpcMode",
        host.ipc_mode.as_deref(),
        &[
            ("private", Share::Private),
            ("shareable", Share::Private),
            ("none", Share::None),
        ],
        None,
    )?;
    let pid = share("PidMode", host.pid_mode.as_deref(), &[], Some(container_id))?;
    // For the sysctl checks, another container's namespace is as shared as the host's.
    let shared = |share: &Share| match share {
        Share::Private | Share::None => NamespaceMode::Private,
        Share::Host | Share::Container(_) => NamespaceMode::Host,
    };
    let namespaces = Namespaces {
        ipc: shared(&ipc),
        pid: shared(&pid),
        net,
        ..Namespaces::default()
    };
    let mut sysctls = BTreeMap::new();
    for (name, value) in host.sysctls.iter().flatten() {
        spec::check_sysctl(name, &namespaces)
            .map_err(|e| ApiError::bad_request(format!("HostConfig.Sysctls: {e}")))?;
        sysctls.insert(name.clone(), value.clone());
    }
    let group_add = host.group_add.clone().unwrap_or_default();
    if let Some(empty) = group_add.iter().find(|g| g.trim().is_empty()) {
        return bad(format!(
            "HostConfig.GroupAdd {empty:?}: a group must be a name or a number"
        ));
    }
    Ok(Settings {
        limits: Limits {
            // Unlimited swap without a memory limit is the kernel's default
            // (and libcgroups refuses a swap limit without a memory one on v2).
            memory_swap: (swap != 0 && memory > 0).then_some(swap),
            memory_reservation: (reservation > 0).then_some(reservation),
            memory_swappiness: swappiness,
            cpu_shares: (shares > 0).then_some(shares as u64),
            cpu_quota: (quota != 0).then_some(quota),
            cpu_period: (period > 0).then_some(period as u64),
            cpuset_cpus,
            cpuset_mems,
            oom_score_adj,
        },
        sysctls,
        group_add,
        ipc,
        pid,
        shm_size,
    })
}

/// Fills in what Docker's daemon fills in before it stores a container's
/// `HostConfig`: twice the memory limit as memory plus swap, the default
/// `/dev/shm` size, the private IPC mode and the private cgroup namespace
/// (this engine's default on cgroup v1 and v2 alike).
pub(super) fn adapt(host: &mut HostConfig) {
    let memory = host.memory.unwrap_or(0);
    if memory > 0 && host.memory_swap.unwrap_or(0) == 0 {
        host.memory_swap = Some(memory.saturating_mul(2));
    }
    if host.shm_size.unwrap_or(0) == 0 {
        host.shm_size = Some(DEFAULT_SHM_SIZE);
    }
    if host.ipc_mode.as_deref().is_none_or(str::is_empty) {
        host.ipc_mode = Some("private".to_owned());
    }
    if matches!(
        host.cgroupns_mode,
        None | Some(HostConfigCgroupnsModeEnum::EMPTY)
    ) {
        host.cgroupns_mode = Some(HostConfigCgroupnsModeEnum::PRIVATE);
    }
}

/// `IpcMode` or `PidMode`: empty, `host`, one of `named` (such as
/// `private`), or `container:NAME` where `container_id` is given; the rest
/// is refused by name.
fn share(
    field: &str,
    mode: Option<&str>,
    named: &[(&str, Share)],
    container_id: Option<ContainerId<'_>>,
) -> Result<Share, ApiError> {
    let mode = mode.unwrap_or_default();
    if let Some((_, share)) = named.iter().find(|(name, _)| *name == mode) {
        return Ok(share.clone());
    }
    match (mode, mode.strip_prefix("container:"), container_id) {
        ("", _, _) => Ok(Share::Private),
        ("host", _, _) => Ok(Share::Host),
        (_, Some(name), Some(container_id)) if !name.is_empty() => {
            let id = container_id(name).map_err(|e| ApiError {
                status: e.status,
                message: format!("HostConfig.{field} {mode:?}: {}", e.message),
            })?;
            Ok(Share::Container(id))
        }
        (mode, _, container_id) => {
            let mut known = vec!["host"];
            known.extend(named.iter().map(|(name, _)| *name));
            if container_id.is_some() {
                known.push("container:NAME");
            }
            Err(ApiError::bad_request(format!(
                "HostConfig.{field} {mode:?} is not supported yet by the stack engine (use {}, or leave it empty for a namespace of the container's own)",
                known.join(", ")
            )))
        }
    }
}

/// A cpuset list (`0-2,4`), checked for syntax and against what the host
/// has online.
fn cpuset(field: &str, text: Option<&str>, available: &str) -> Result<Option<String>, ApiError> {
    let Some(text) = text.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let requested = parse_list(text).ok_or_else(|| {
        ApiError::bad_request(format!(
            "HostConfig.{field} {text:?}: expected a list such as 0-2,4"
        ))
    })?;
    let online = parse_list(available).unwrap_or_default();
    if let Some(missing) = requested.iter().find(|n| !online.contains(n)) {
        return Err(ApiError::bad_request(format!(
            "HostConfig.{field} {text:?}: {missing} is not available on this host (available: {available})"
        )));
    }
    Ok(Some(text.to_owned()))
}

/// The numbers of a kernel list such as `0-2,4`.
fn parse_list(text: &str) -> Option<BTreeSet<u32>> {
    let mut numbers = BTreeSet::new();
    for part in text.split(',') {
        let (low, high): (u32, u32) = match part.split_once('-') {
            Some((low, high)) => (low.trim().parse().ok()?, high.trim().parse().ok()?),
            None => {
                let n = part.trim().parse().ok()?;
                (n, n)
            }
        };
        if low > high {
            return None;
        }
        numbers.extend(low..=high);
    }
    Some(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn two_cpus() -> Available {
        Available {
            cpus: "0-1".into(),
            mems: "0".into(),
        }
    }

    /// Knows one container, `db`.
    fn container_id(name: &str) -> Result<String, ApiError> {
        match name {
            "db" => Ok("c0ffee".to_owned()),
            _ => Err(ApiError::not_found(format!("No such container: {name}"))),
        }
    }

    fn check(host: HostConfig) -> Result<Settings, String> {
        settings(&host, NamespaceMode::Private, &two_cpus(), &container_id).map_err(|e| e.message)
    }

    fn refused(host: HostConfig, named: &str) {
        let message = check(host).unwrap_err();
        assert!(message.contains(named), "{message}");
    }

    #[test]
    fn limits_become_launch_fields() {
        let settings = check(HostConfig {
            memory: Some(64 << 20),
            memory_swap: Some(-1),
            memory_reservation: Some(32 << 20),
            memory_swappiness: Some(0),
            cpu_shares: Some(512),
            cpu_quota: Some(50_000),
            cpu_period: Some(100_000),
            cpuset_cpus: Some("0-1".into()),
            cpuset_mems: Some("0".into()),
            oom_score_adj: Some(-500),
            shm_size: Some(1 << 20),
            ipc_mode: Some("shareable".into()),
            pid_mode: Some("host".into()),
            group_add: Some(vec!["audio".into(), "1234".into()]),
            sysctls: Some([("kernel.shmmax".to_owned(), "1024".to_owned())].into()),
            ..HostConfig::default()
        })
        .unwrap();
        assert_eq!(
            settings.limits,
            Limits {
                memory_swap: Some(-1),
                memory_reservation: Some(32 << 20),
                memory_swappiness: Some(0),
                cpu_shares: Some(512),
                cpu_quota: Some(50_000),
                cpu_period: Some(100_000),
                cpuset_cpus: Some("0-1".into()),
                cpuset_mems: Some("0".into()),
                oom_score_adj: Some(-500),
            }
        );
        assert_eq!(settings.shm_size, Some(1 << 20));
        assert_eq!(
            (&settings.ipc, &settings.pid),
            (&Share::Private, &Share::Host)
        );
        let joined = check(HostConfig {
            pid_mode: Some("container:db".into()),
            ..HostConfig::default()
        })
        .unwrap();
        assert_eq!(joined.pid, Share::Container("c0ffee".into()));
        let none = check(HostConfig {
            ipc_mode: Some("none".into()),
            ..HostConfig::default()
        })
        .unwrap();
        assert_eq!(none.ipc, Share::None);
        assert_eq!(settings.group_add, ["audio", "1234"]);
        assert_eq!(settings.sysctls["kernel.shmmax"], "1024");
        // What clients send for "not set"; -1 alone is the default too.
        let unset = check(HostConfig {
            memory_swap: Some(-1),
            memory_swappiness: Some(-1),
            cpu_shares: Some(0),
            oom_score_adj: Some(0),
            ipc_mode: Some(String::new()),
            ..HostConfig::default()
        })
        .unwrap();
        assert_eq!(unset, Settings::default());
    }

    #[test]
    fn bad_values_are_refused_by_name() {
        let refused_host = |f: fn(&mut HostConfig), named: &str| {
            let mut host = HostConfig::default();
            f(&mut host);
            refused(host, named);
        };
        refused_host(
            |h| h.memory_swap = Some(1 << 30),
            "MemorySwap 1073741824: a memory plus swap limit needs a memory limit",
        );
        refused_host(
            |h| {
                h.memory = Some(64 << 20);
                h.memory_swap = Some(32 << 20);
            },
            "below the memory limit",
        );
        refused_host(
            |h| h.memory_reservation = Some(1 << 20),
            "minimum memory reservation is 6MB",
        );
        refused_host(
            |h| {
                h.memory = Some(16 << 20);
                h.memory_reservation = Some(32 << 20);
            },
            "MemoryReservation 33554432: above the memory limit",
        );
        refused_host(|h| h.memory_swappiness = Some(101), "MemorySwappiness 101");
        refused_host(
            |h| h.memory = Some(1 << 20),
            "HostConfig.Memory 1048576: the minimum memory limit is 6MB",
        );
        refused_host(
            |h| h.nano_cpus = Some(3_000_000_000),
            "NanoCpus 3000000000: the range of CPUs is from 0.01 to 2.00, as there are only 2 CPUs available",
        );
        refused_host(
            |h| {
                h.nano_cpus = Some(1_000_000_000);
                h.cpu_quota = Some(50_000);
            },
            "NanoCpus (--cpus) and HostConfig.CpuQuota cannot both be set",
        );
        refused_host(
            |h| {
                h.nano_cpus = Some(1_000_000_000);
                h.cpu_period = Some(50_000);
            },
            "HostConfig.CpuPeriod cannot both be set",
        );
        refused_host(|h| h.cpu_period = Some(500), "CpuPeriod 500");
        refused_host(|h| h.cpu_quota = Some(999), "CpuQuota 999");
        refused_host(|h| h.cpu_shares = Some(-2), "CpuShares -2");
        refused_host(
            |h| h.cpuset_cpus = Some("0-3".into()),
            "CpusetCpus \"0-3\": 2 is not available on this host (available: 0-1)",
        );
        refused_host(|h| h.cpuset_cpus = Some("a".into()), "CpusetCpus \"a\"");
        refused_host(|h| h.cpuset_mems = Some("1".into()), "CpusetMems \"1\"");
        refused_host(|h| h.oom_score_adj = Some(1001), "OomScoreAdj 1001");
        refused_host(|h| h.shm_size = Some(-1), "ShmSize -1");
        refused_host(
            |h| h.ipc_mode = Some("container:db".into()),
            "HostConfig.IpcMode \"container:db\" is not supported yet",
        );
        refused_host(
            |h| h.pid_mode = Some("private".into()),
            "HostConfig.PidMode \"private\" is not supported yet by the stack engine (use host, container:NAME",
        );
        refused_host(
            |h| h.pid_mode = Some("container:web".into()),
            "HostConfig.PidMode \"container:web\": No such container: web",
        );
        refused_host(
            |h| h.sysctls = Some([("vm.swappiness".to_owned(), "1".to_owned())].into()),
            "HostConfig.Sysctls: sysctl vm.swappiness: not namespaced",
        );
        refused_host(
            |h| {
                h.ipc_mode = Some("host".into());
                h.sysctls = Some([("kernel.shmmax".to_owned(), "1".to_owned())].into());
            },
            "sysctl kernel.shmmax: it belongs to the ipc namespace",
        );
        refused_host(|h| h.group_add = Some(vec![String::new()]), "GroupAdd \"\"");
    }

    #[test]
    fn net_sysctls_need_a_network_namespace_of_the_containers_own() {
        let host = HostConfig {
            sysctls: Some([("net.ipv4.ip_forward".to_owned(), "1".to_owned())].into()),
            ..HostConfig::default()
        };
        assert!(settings(&host, NamespaceMode::Private, &two_cpus(), &container_id).is_ok());
        let error = settings(&host, NamespaceMode::Host, &two_cpus(), &container_id).unwrap_err();
        assert!(
            error.message.contains("net.ipv4.ip_forward"),
            "{}",
            error.message
        );
    }

    #[test]
    fn docker_defaults_are_stored() {
        let mut host = HostConfig {
            memory: Some(64 << 20),
            ..HostConfig::default()
        };
        adapt(&mut host);
        assert_eq!(host.memory_swap, Some(128 << 20));
        assert_eq!(host.shm_size, Some(DEFAULT_SHM_SIZE));
        assert_eq!(host.ipc_mode.as_deref(), Some("private"));
        let mut set = HostConfig {
            memory: Some(64 << 20),
            memory_swap: Some(-1),
            shm_size: Some(1 << 20),
            ipc_mode: Some("host".into()),
            ..HostConfig::default()
        };
        adapt(&mut set);
        assert_eq!(set.memory_swap, Some(-1));
        assert_eq!(set.shm_size, Some(1 << 20));
        assert_eq!(set.ipc_mode.as_deref(), Some("host"));
    }

    #[test]
    fn kernel_lists() {
        assert_eq!(parse_list("0-2,4"), Some([0, 1, 2, 4].into()));
        assert_eq!(parse_list("3"), Some([3].into()));
        assert_eq!(parse_list("2-1"), None);
        assert_eq!(parse_list("x"), None);
        assert_eq!(parse_list(""), None);
    }
}
