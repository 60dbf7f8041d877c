//! The `linux` section of the spec: namespaces, devices, device cgroup rules,
//! resource limits, masked and read-only paths, sysctls and seccomp.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use oci_spec::runtime::{
    Capabilities, Linux, LinuxCpu, LinuxDevice, LinuxDeviceCgroup, LinuxDeviceType, LinuxMemory,
    LinuxNamespace, LinuxNamespaceType, LinuxPids, LinuxResources,
};

use crate::runtime::config::{ContainerConfig, NamespaceMode, Seccomp};
use crate::runtime::defaults::{DEVICE_NODES, DEVICE_RULES, MASKED_PATHS, READONLY_PATHS};
use crate::runtime::seccomp;
use crate::runtime::{Device, DeviceCgroupRule, DeviceKind};

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
        .set_devices(Some(devices(&config.devices)))
        .set_resources(Some(resources(config)))
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

/// Docker's standard device nodes, then the host devices asked for; one
/// asked for at a standard node's path takes its place.
fn devices(extra: &[Device]) -> Vec<LinuxDevice> {
    let node = |path: PathBuf, typ, major, minor, mode, uid, gid| {
        let mut device = LinuxDevice::default();
        device
            .set_path(path)
            .set_typ(typ)
            .set_major(major)
            .set_minor(minor)
            .set_file_mode(Some(mode))
            .set_uid(Some(uid))
            .set_gid(Some(gid));
        device
    };
    DEVICE_NODES
        .iter()
        .filter(|n| !extra.iter().any(|d| d.path == Path::new(n.path)))
        .map(|n| {
            node(
                PathBuf::from(n.path),
                LinuxDeviceType::C,
                n.major,
                n.minor,
                0o666,
                0,
                0,
            )
        })
        .chain(extra.iter().map(|d| {
            let typ = device_type(d.kind);
            node(
                d.path.clone(),
                typ,
                d.major,
                d.minor,
                d.file_mode,
                d.uid,
                d.gid,
            )
        }))
        .collect()
}

fn device_type(kind: DeviceKind) -> LinuxDeviceType {
    match kind {
        DeviceKind::Char => LinuxDeviceType::C,
        DeviceKind::Block => LinuxDeviceType::B,
    }
}

/// Docker's rules (or everything, privileged), then an allow rule for
/// each host device asked for, with its permissions, then the user's rules.
fn device_rules(
    privileged: bool,
    extra: &[Device],
    user: &[DeviceCgroupRule],
) -> Vec<LinuxDeviceCgroup> {
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
        .chain(extra.iter().map(|d| {
            rule(
                true,
                device_type(d.kind),
                Some(d.major),
                Some(d.minor),
                &d.access,
            )
        }))
        .chain(user.iter().map(|r| {
            let typ = r.kind.map_or(LinuxDeviceType::A, device_type);
            rule(true, typ, r.major, r.minor, &r.access)
        }))
        .collect()
}

fn resources(config: &ContainerConfig) -> LinuxResources {
    let limits = &config.resources;
    let mut resources = LinuxResources::default();
    resources.set_devices(Some(device_rules(
        config.privileged,
        &config.devices,
        &config.device_cgroup_rules,
    )));

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

#[cfg(test)]
mod tests {
    use super::*;

    fn device(path: &str, kind: DeviceKind, major: i64, minor: i64, access: &str) -> Device {
        Device {
            path: PathBuf::from(path),
            kind,
            major,
            minor,
            file_mode: 0o660,
            uid: 0,
            gid: 6,
            access: access.to_owned(),
        }
    }

    #[test]
    fn host_devices_get_a_node_and_an_allow_rule_and_replace_a_standard_node() {
        let extra = [
            device("/dev/sda", DeviceKind::Block, 8, 0, "rw"),
            device("/dev/null", DeviceKind::Char, 1, 7, "rwm"),
        ];
        let nodes = devices(&extra);
        let at = |path: &str| {
            let found: Vec<_> = nodes
                .iter()
                .filter(|d| d.path() == Path::new(path))
                .collect();
            assert_eq!(found.len(), 1, "{path}: {nodes:?}");
            found[0].clone()
        };
        let sda = at("/dev/sda");
        assert_eq!(
            (sda.typ(), sda.major(), sda.minor()),
            (LinuxDeviceType::B, 8, 0)
        );
        assert_eq!((sda.file_mode(), sda.gid()), (Some(0o660), Some(6)));
        assert_eq!(at("/dev/null").minor(), 7);
        assert_eq!(at("/dev/zero").minor(), 5);
        assert_eq!(nodes.len(), DEVICE_NODES.len() + 1);

        let user = [DeviceCgroupRule {
            kind: None,
            major: Some(7),
            minor: None,
            access: "rm".to_owned(),
        }];
        let rules = device_rules(false, &extra, &user);
        assert_eq!(rules.len(), DEVICE_RULES.len() + 3);
        let last = &rules[rules.len() - 3];
        assert!(last.allow());
        assert_eq!(last.typ(), Some(LinuxDeviceType::B));
        assert_eq!((last.major(), last.minor()), (Some(8), Some(0)));
        assert_eq!(last.access().as_deref(), Some("rw"));
        let mine = &rules[rules.len() - 1];
        assert_eq!(mine.typ(), Some(LinuxDeviceType::A));
        assert_eq!((mine.major(), mine.minor()), (Some(7), None));
        assert_eq!(mine.access().as_deref(), Some("rm"));
        // Privileged allows everything already.
        assert_eq!(device_rules(true, &extra, &user).len(), 1);
    }
}
