//! The `linux` section of the spec: namespaces, devices, device cgroup rules,
//! resource limits, masked and read-only paths, sysctls and seccomp.

use std::collections::HashMap;
use std::path::PathBuf;

use oci_spec::runtime::{
    Capabilities, Linux, LinuxCpu, LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType, LinuxMemory,
    LinuxNamespace, LinuxNamespaceType, LinuxPids, LinuxResources,
};

use crate::runtime::config::{ContainerConfig, NamespaceMode, Resources, Seccomp};
use crate::runtime::defaults::{DEVICE_NODES, DEVICE_RULES, MASKED_PATHS, READONLY_PATHS};
use crate::runtime::seccomp;

pub(super) fn linux(
    config: &ContainerConfig,
    capabilities: &Capabilities,
    sysctls: HashMap<String, String>,
    platform: seccomp::Platform,
) -> Linux {
    let (masked, readonly) = if config.privileged {
        (Vec::new(), Vec::new())
    } else {
        (
            MASKED_PATHS.map(String::from).to_vec(),
            READONLY_PATHS.map(String::from).to_vec(),
        )
    };
    let seccomp = match &config.seccomp {
        _ if config.privileged => None,
        Seccomp::Default => Some(seccomp::docker_default(capabilities, platform)),
        Seccomp::Unconfined => None,
        Seccomp::Profile(profile) => {
            profile.resolve(capabilities, platform, seccomp::KernelVersion::host())
        }
    };
    let mut linux = Linux::default();
    linux
        .set_namespaces(Some(namespaces(config)))
        .set_devices(Some(devices()))
        .set_resources(Some(resources(&config.resources, config.privileged)))
        .set_cgroups_path(config.cgroups_path.clone())
        .set_masked_paths(Some(masked))
        .set_readonly_paths(Some(readonly))
        .set_sysctl(Some(sysctls))
        .set_seccomp(seccomp)
        .set_uid_mappings(None)
        .set_gid_mappings(None)
        .set_rootfs_propagation(None)
        .set_mount_label(None);
    linux
}

/// Private namespaces are created, host ones are simply not listed (the
/// process stays in the host's), joined ones carry the path to enter.
fn namespaces(config: &ContainerConfig) -> Vec<LinuxNamespace> {
    let modes = [
        (LinuxNamespaceType::Pid, &config.namespaces.pid),
        (LinuxNamespaceType::Network, &config.namespaces.net),
        (LinuxNamespaceType::Ipc, &config.namespaces.ipc),
        (LinuxNamespaceType::Uts, &config.namespaces.uts),
        (LinuxNamespaceType::Cgroup, &config.namespaces.cgroup),
        (LinuxNamespaceType::Mount, &NamespaceMode::Private),
    ];
    modes
        .into_iter()
        .filter_map(|(typ, mode)| {
            let path = match mode {
                NamespaceMode::Private => None,
                NamespaceMode::Host => return None,
                NamespaceMode::Join(path) => Some(path.clone()),
            };
            let mut namespace = LinuxNamespace::default();
            namespace.set_typ(typ).set_path(path);
            Some(namespace)
        })
        .collect()
}

fn devices() -> Vec<LinuxDevice> {
    DEVICE_NODES
        .iter()
        .map(|node| {
            let mut device = LinuxDevice::default();
            device
                .set_path(PathBuf::from(node.path))
                .set_typ(LinuxDeviceType::C)
                .set_major(node.major)
                .set_minor(node.minor)
                .set_file_mode(Some(0o666))
                .set_uid(Some(0))
                .set_gid(Some(0));
            device
        })
        .collect()
}

fn device_rules(privileged: bool) -> Vec<LinuxDeviceCgroup> {
    let rule = |allow, typ, major, minor, access: &str| {
        let mut rule = LinuxDeviceCgroup::default();
        rule.set_allow(allow)
            .set_typ(Some(typ))
            .set_major(major)
            .set_minor(minor)
            .set_access(Some(access.to_owned()));
        rule
    };
    if privileged {
        return vec![rule(true, LinuxDeviceType::A, None, None, "rwm")];
    }
    DEVICE_RULES
        .iter()
        .map(|r| rule(r.allow, r.typ, r.major, r.minor, r.access))
        .collect()
}

fn resources(limits: &Resources, privileged: bool) -> LinuxResources {
    let mut resources = LinuxResources::default();
    resources.set_devices(Some(device_rules(privileged)));

    // Docker: with only a memory limit, memory plus swap is twice the limit.
    let swap = match (limits.memory, limits.memory_swap) {
        (_, Some(swap)) => Some(swap),
        (Some(memory), None) if memory > 0 => Some(memory.saturating_mul(2)),
        _ => None,
    };
    let memory_set = limits.memory.is_some()
        || swap.is_some()
        || limits.memory_reservation.is_some()
        || limits.memory_swappiness.is_some();
    if memory_set {
        let mut memory = LinuxMemory::default();
        memory
            .set_limit(limits.memory)
            .set_swap(swap)
            .set_reservation(limits.memory_reservation)
            .set_swappiness(limits.memory_swappiness);
        resources.set_memory(Some(memory));
    }

    let cpu_set = limits.cpu_quota.is_some()
        || limits.cpu_period.is_some()
        || limits.cpu_shares.is_some()
        || limits.cpuset_cpus.is_some()
        || limits.cpuset_mems.is_some();
    if cpu_set {
        let mut cpu = LinuxCpu::default();
        cpu.set_quota(limits.cpu_quota)
            .set_period(limits.cpu_period)
            .set_shares(limits.cpu_shares)
            .set_cpus(limits.cpuset_cpus.clone())
            .set_mems(limits.cpuset_mems.clone());
        resources.set_cpu(Some(cpu));
    }

    // Docker treats 0 and -1 alike as "no limit".
    if let Some(limit) = limits.pids_limit.filter(|limit| *limit > 0) {
        let mut pids = LinuxPids::default();
        pids.set_limit(limit);
        resources.set_pids(Some(pids));
    }
    resources
}
