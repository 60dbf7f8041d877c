//! Validation and normalisation of the parts of a [`ContainerConfig`] that
//! users write by name: capabilities, ulimits, sysctls, paths and limits.
//! Each function pushes every problem it finds and returns what it could
//! resolve, so `build` reports all problems at once.

use std::collections::HashMap;

use oci_spec::runtime::{
    Capabilities, Capability, PosixRlimit, PosixRlimitBuilder, PosixRlimitType,
};

use crate::runtime::config::{
    ContainerConfig, MountKind, NamespaceMode, Namespaces, Resources, Ulimit,
};
use crate::runtime::defaults::{ALL_CAPABILITIES, DEFAULT_CAPABILITIES, IPC_SYSCTLS};
use crate::runtime::error::ConfigError;

pub(super) fn check_paths(config: &ContainerConfig, errors: &mut Vec<ConfigError>) {
    if !config.rootfs.is_absolute() {
        errors.push(ConfigError::RelativeRootfs(config.rootfs.clone()));
    }
    if config.args.is_empty() {
        errors.push(ConfigError::NoCommand);
    }
    if !config.cwd.as_os_str().is_empty() && !config.cwd.is_absolute() {
        errors.push(ConfigError::RelativeCwd(config.cwd.clone()));
    }
    for mount in &config.mounts {
        if !mount.target.is_absolute() {
            errors.push(ConfigError::RelativeMountTarget(mount.target.clone()));
        }
        if let MountKind::Bind { source } | MountKind::Volume { source } = &mount.kind {
            if !source.is_absolute() {
                errors.push(ConfigError::RelativeMountSource {
                    target: mount.target.clone(),
                    host_path: source.clone(),
                });
            }
        }
    }
}

pub(super) fn check_resources(resources: &Resources, errors: &mut Vec<ConfigError>) {
    if let (Some(memory), Some(swap)) = (resources.memory, resources.memory_swap) {
        if swap != -1 && swap < memory {
            errors.push(ConfigError::SwapBelowMemory { memory, swap });
        }
    }
    if let Some(quota) = resources.cpu_quota {
        // -1 is the kernel's "no limit"; any other value below 1 ms is refused by it.
        if quota != -1 && quota < 1000 {
            errors.push(ConfigError::CpuQuotaTooSmall(quota));
        }
    }
    if let Some(period) = resources.cpu_period {
        if !(1000..=1_000_000).contains(&period) {
            errors.push(ConfigError::CpuPeriodOutOfRange(period));
        }
    }
}

/// Parses `NET_ADMIN`, `cap_net_admin` or `CAP_NET_ADMIN`.
pub(crate) fn parse_capability(name: &str) -> Option<Capability> {
    let upper = name.to_ascii_uppercase();
    let bare = upper.strip_prefix("CAP_").unwrap_or(&upper);
    ALL_CAPABILITIES
        .iter()
        .copied()
        .find(|cap| cap.to_string() == bare)
}

fn is_all(name: &str) -> bool {
    name.eq_ignore_ascii_case("ALL")
}

/// The final capability set, following Docker's rules: `privileged` gets
/// everything; `cap_add: [ALL]` gets everything but the drops; `cap_drop:
/// [ALL]` keeps only the adds; otherwise the defaults minus drops plus adds.
pub(super) fn capabilities(
    config: &ContainerConfig,
    errors: &mut Vec<ConfigError>,
) -> Capabilities {
    if config.privileged {
        return ALL_CAPABILITIES.into_iter().collect();
    }
    let mut resolve = |names: &[String]| -> Vec<Capability> {
        names
            .iter()
            .filter(|name| !is_all(name))
            .filter_map(|name| {
                let cap = parse_capability(name);
                if cap.is_none() {
                    errors.push(ConfigError::UnknownCapability(name.clone()));
                }
                cap
            })
            .collect()
    };
    let add = resolve(&config.cap_add);
    let drop = resolve(&config.cap_drop);
    if config.cap_add.iter().any(|name| is_all(name)) {
        ALL_CAPABILITIES
            .into_iter()
            .filter(|cap| !drop.contains(cap))
            .collect()
    } else if config.cap_drop.iter().any(|name| is_all(name)) {
        add.into_iter().collect()
    } else {
        DEFAULT_CAPABILITIES
            .into_iter()
            .filter(|cap| !drop.contains(cap))
            .chain(add)
            .collect()
    }
}

fn rlimit_type(name: &str) -> Option<PosixRlimitType> {
    Some(match name {
        "as" => PosixRlimitType::RlimitAs,
        "core" => PosixRlimitType::RlimitCore,
        "cpu" => PosixRlimitType::RlimitCpu,
        "data" => PosixRlimitType::RlimitData,
        "fsize" => PosixRlimitType::RlimitFsize,
        "locks" => PosixRlimitType::RlimitLocks,
        "memlock" => PosixRlimitType::RlimitMemlock,
        "msgqueue" => PosixRlimitType::RlimitMsgqueue,
        "nice" => PosixRlimitType::RlimitNice,
        "nofile" => PosixRlimitType::RlimitNofile,
        "nproc" => PosixRlimitType::RlimitNproc,
        "rss" => PosixRlimitType::RlimitRss,
        "rtprio" => PosixRlimitType::RlimitRtprio,
        "rttime" => PosixRlimitType::RlimitRttime,
        "sigpending" => PosixRlimitType::RlimitSigpending,
        "stack" => PosixRlimitType::RlimitStack,
        _ => return None,
    })
}

/// Checks one ulimit as the spec takes it: a known name (Docker's, lower
/// case) and a soft limit no higher than the hard one.
pub fn check_ulimit(ulimit: &Ulimit) -> Result<PosixRlimitType, ConfigError> {
    let typ =
        rlimit_type(&ulimit.name).ok_or_else(|| ConfigError::UnknownUlimit(ulimit.name.clone()))?;
    if ulimit.soft > ulimit.hard {
        return Err(ConfigError::UlimitSoftAboveHard {
            name: ulimit.name.clone(),
            soft: ulimit.soft,
            hard: ulimit.hard,
        });
    }
    Ok(typ)
}

pub(super) fn rlimits(ulimits: &[Ulimit], errors: &mut Vec<ConfigError>) -> Vec<PosixRlimit> {
    let mut rlimits = Vec::new();
    for ulimit in ulimits {
        let typ = match check_ulimit(ulimit) {
            Ok(typ) => typ,
            Err(error) => {
                errors.push(error);
                continue;
            }
        };
        let rlimit = PosixRlimitBuilder::default()
            .typ(typ)
            .soft(ulimit.soft)
            .hard(ulimit.hard)
            .build()
            .expect("every PosixRlimit field is set");
        rlimits.push(rlimit);
    }
    rlimits
}

/// The namespace a sysctl belongs to, or `None` when it is global to the
/// host (and so must not be set from a container).
fn sysctl_namespace(name: &str) -> Option<&'static str> {
    if IPC_SYSCTLS.contains(&name) || name.starts_with("fs.mqueue.") {
        Some("ipc")
    } else if name.starts_with("net.") {
        Some("net")
    } else if name == "kernel.domainname" {
        Some("uts")
    } else {
        None
    }
}

/// Checks that a container with `namespaces` may set the sysctl `name`:
/// it must belong to a namespace, and that namespace must not be the
/// host's (setting it there would change the host's value). A joined
/// namespace is accepted: the engine joins the network namespaces it made
/// for the container itself; callers refuse other containers' ones.
pub fn check_sysctl(name: &str, namespaces: &Namespaces) -> Result<(), ConfigError> {
    let namespace =
        sysctl_namespace(name).ok_or_else(|| ConfigError::SysctlNotNamespaced(name.to_owned()))?;
    let mode = match namespace {
        "ipc" => &namespaces.ipc,
        "net" => &namespaces.net,
        _ => &namespaces.uts,
    };
    if *mode == NamespaceMode::Host {
        return Err(ConfigError::SysctlHostNamespace {
            name: name.to_owned(),
            namespace,
        });
    }
    Ok(())
}

pub(super) fn sysctls(
    config: &ContainerConfig,
    errors: &mut Vec<ConfigError>,
) -> HashMap<String, String> {
    let mut sysctls = HashMap::new();
    for (name, value) in &config.sysctls {
        match check_sysctl(name, &config.namespaces) {
            Ok(()) => {
                sysctls.insert(name.clone(), value.clone());
            }
            Err(error) => errors.push(error),
        }
    }
    sysctls
}
