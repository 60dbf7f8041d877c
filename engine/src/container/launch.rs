//! What the monitor needs to run a container, as one JSON file the daemon
//! writes (`launch.json`) and the monitor reads: the image's layers and the
//! process, mounts and limits already merged from the image config and the
//! create request. Everything in it is plain data the monitor turns into a
//! [`ContainerConfig`] once the root filesystem is mounted.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::init;
use super::log_options::LogOptions;
use crate::runtime::{
    all_host_devices, host_devices, ContainerConfig, Device, DeviceCgroupRule, MountKind,
    MountSpec, NamespaceMode, Namespaces, Resources, Seccomp, Ulimit, User,
};

/// The cgroup period `--cpus` is expressed in, as Docker uses it (100 ms).
const CPU_PERIOD_US: u64 = 100_000;

/// A container's launch description.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LaunchSpec {
    /// The image's unpacked layers, bottom layer first.
    pub(crate) layers: Vec<PathBuf>,
    /// Entrypoint followed by the command.
    pub(crate) args: Vec<String>,
    /// `NAME=value` entries.
    pub(crate) env: Vec<String>,
    /// Working directory inside the container (`/` when empty).
    pub(crate) cwd: String,
    /// `user[:group]`, by number or by name from the image's files.
    pub(crate) user: String,
    /// The container's hostname.
    pub(crate) hostname: String,
    /// Mount the root filesystem read-only.
    pub(crate) read_only: bool,
    /// Binds, volumes and tmpfs mounts, in order.
    pub(crate) mounts: Vec<LaunchMount>,
    /// Capabilities added to Docker's default set.
    pub(crate) cap_add: Vec<String>,
    /// Capabilities removed from Docker's default set.
    pub(crate) cap_drop: Vec<String>,
    /// Docker's `--privileged`.
    pub(crate) privileged: bool,
    /// Memory limit in bytes.
    pub(crate) memory: Option<i64>,
    /// CPUs in billionths of a CPU (`--cpus`).
    pub(crate) nano_cpus: Option<i64>,
    /// Maximum number of processes.
    pub(crate) pids_limit: Option<i64>,
    /// The process gets a pseudo-terminal (`Tty`).
    #[serde(default)]
    pub(crate) tty: bool,
    /// Its standard input stays open for attached clients (`OpenStdin`).
    #[serde(default)]
    pub(crate) open_stdin: bool,
    /// Standard input closes after the first attached client leaves (`StdinOnce`).
    #[serde(default)]
    pub(crate) stdin_once: bool,
    /// The terminal's first size (rows, columns), with a TTY.
    #[serde(default)]
    pub(crate) console_size: Option<(u16, u16)>,
    /// The host's init binary (`HostConfig.Init`): bound read-only at
    /// [`init::INIT_TARGET`], it runs as PID 1 with `args` as its child.
    #[serde(default)]
    pub(crate) init: Option<PathBuf>,
    /// Where the output goes and when its log file is rotated.
    #[serde(default)]
    pub(crate) log: LogOptions,
    /// Resource limits of the process (`HostConfig.Ulimits`).
    #[serde(default)]
    pub(crate) ulimits: Vec<Ulimit>,
    /// The seccomp profile (`HostConfig.SecurityOpt` `seccomp=`).
    #[serde(default)]
    pub(crate) seccomp: Seccomp,
    /// `no_new_privs` for every process (`SecurityOpt` `no-new-privileges`).
    #[serde(default)]
    pub(crate) no_new_privileges: bool,
    /// cgroup limits beyond `memory`, `nano_cpus` and `pids_limit`.
    #[serde(default)]
    pub(crate) limits: Limits,
    /// Namespaced sysctls (`HostConfig.Sysctls`), checked at create.
    #[serde(default)]
    pub(crate) sysctls: BTreeMap<String, String>,
    /// Supplementary groups by number or by name from the image's
    /// `/etc/group` (`HostConfig.GroupAdd`).
    #[serde(default)]
    pub(crate) group_add: Vec<String>,
    /// The IPC namespace (`HostConfig.IpcMode`).
    #[serde(default)]
    pub(crate) ipc: Share,
    /// The pid namespace (`HostConfig.PidMode`).
    #[serde(default)]
    pub(crate) pid: Share,
    /// Size in bytes of `/dev/shm` (`HostConfig.ShmSize`); Docker's 64 MiB when absent.
    #[serde(default)]
    pub(crate) shm_size: Option<u64>,
    /// The NIS domain name (`Config.Domainname`); none when empty.
    #[serde(default)]
    pub(crate) domainname: String,
    /// Host devices made available (`HostConfig.Devices`), looked up on the
    /// host at each start.
    #[serde(default)]
    pub(crate) devices: Vec<LaunchDevice>,
    /// The host's UTS namespace (`HostConfig.UTSMode` `host`): no hostname
    /// or domain name of the container's own.
    #[serde(default)]
    pub(crate) uts_host: bool,
    /// The host's cgroup namespace (`HostConfig.CgroupnsMode` `host`).
    #[serde(default)]
    pub(crate) cgroupns_host: bool,
    /// Device cgroup rules of the user's (`HostConfig.DeviceCgroupRules`).
    #[serde(default)]
    pub(crate) device_cgroup_rules: Vec<DeviceCgroupRule>,
}

/// One host device (or directory of devices) of a [`LaunchSpec`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LaunchDevice {
    /// The device's path on the host.
    pub(crate) host: PathBuf,
    /// Where it appears in the container.
    pub(crate) container: PathBuf,
    /// Device cgroup permissions, some of `rwm`.
    pub(crate) access: String,
}

/// cgroup limits and the OOM score, with Docker's units; absent is the
/// kernel's default.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Limits {
    /// Memory plus swap in bytes; -1 is unlimited swap (`MemorySwap`).
    pub(crate) memory_swap: Option<i64>,
    /// Soft memory limit in bytes (`MemoryReservation`).
    pub(crate) memory_reservation: Option<i64>,
    /// Swap eagerness, 0 to 100 (`MemorySwappiness`).
    pub(crate) memory_swappiness: Option<u64>,
    /// Relative CPU weight (`CpuShares`).
    pub(crate) cpu_shares: Option<u64>,
    /// CPU time per period in microseconds (`CpuQuota`); wins over `nano_cpus`
    /// (the API refuses both together).
    pub(crate) cpu_quota: Option<i64>,
    /// CPU accounting period in microseconds (`CpuPeriod`).
    pub(crate) cpu_period: Option<u64>,
    /// CPUs the processes may run on, such as `0-1` (`CpusetCpus`).
    pub(crate) cpuset_cpus: Option<String>,
    /// Memory nodes the processes may use (`CpusetMems`).
    pub(crate) cpuset_mems: Option<String>,
    /// The OOM killer's preference adjustment, -1000 to 1000 (`OomScoreAdj`).
    pub(crate) oom_score_adj: Option<i32>,
}

/// Whether a container gets a namespace of its own, shares the host's or
/// joins another container's.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Share {
    /// A namespace of its own (Docker's `private`, `shareable` or empty mode).
    #[default]
    Private,
    /// The host's namespace (`host`).
    Host,
    /// The namespace of the running container of this id (`container:ID`).
    Container(String),
    /// IPC only: a namespace of its own without `/dev/shm` (`none`).
    None,
}

impl Share {
    /// The runtime's mode for the namespace `kind` (`pid`, `ipc`), with
    /// `running_pid` giving the host pid of a container to join.
    pub(crate) fn resolve(
        &self,
        kind: &str,
        running_pid: impl FnOnce(&str) -> Result<i32, String>,
    ) -> Result<NamespaceMode, String> {
        Ok(match self {
            Share::Private | Share::None => NamespaceMode::Private,
            Share::Host => NamespaceMode::Host,
            Share::Container(id) => {
                let pid = running_pid(id).map_err(|e| {
                    format!("cannot join the {kind} namespace of container {id}: {e}")
                })?;
                NamespaceMode::Join(PathBuf::from(format!("/proc/{pid}/ns/{kind}")))
            }
        })
    }
}

/// A namespace of the container's own, or the host's.
fn own_or_host(host: bool) -> NamespaceMode {
    if host {
        NamespaceMode::Host
    } else {
        NamespaceMode::Private
    }
}

/// One mount of a [`LaunchSpec`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct LaunchMount {
    /// Absolute path inside the container.
    pub(crate) target: String,
    /// Host path for binds and volumes; empty for tmpfs.
    pub(crate) source: String,
    /// `bind`, `volume` or `tmpfs`.
    pub(crate) kind: LaunchMountKind,
    /// Mounted read-only.
    pub(crate) read_only: bool,
    /// tmpfs size limit in bytes.
    pub(crate) size: Option<u64>,
    /// tmpfs root permission bits.
    pub(crate) mode: Option<u32>,
    /// The volume's name, for volumes.
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// The source kind of a [`LaunchMount`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum LaunchMountKind {
    /// A host path.
    Bind,
    /// A volume's data directory.
    Volume,
    /// A fresh tmpfs.
    Tmpfs,
}

impl LaunchSpec {
    /// The host devices to give the container, as the host has them now:
    /// those asked for, or all of them when privileged (Docker then
    /// ignores the ones asked for).
    pub(crate) fn host_devices(&self) -> io::Result<Vec<Device>> {
        if self.privileged {
            return all_host_devices().map_err(|e| {
                io::Error::new(e.kind(), format!("cannot list the host's devices: {e}"))
            });
        }
        let mut all = Vec::new();
        for d in &self.devices {
            let found = host_devices(&d.host, &d.container, &d.access).map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("cannot add device {}: {e}", d.host.display()),
                )
            })?;
            all.extend(found);
        }
        Ok(all)
    }

    /// The runtime's configuration for this spec on the mounted `rootfs`,
    /// running as `user`, with the `/etc` files bound from those the
    /// monitor wrote, in the network, pid and IPC namespaces the monitor
    /// resolved (`net`, `pid`, `ipc` of `namespaces`).
    pub(crate) fn runtime_config(
        &self,
        rootfs: &Path,
        user: User,
        etc: &EtcFiles<'_>,
        namespaces: Namespaces,
    ) -> ContainerConfig {
        let mut mounts: Vec<MountSpec> = [
            ("/etc/hostname", Some(etc.hostname)),
            ("/etc/hosts", Some(etc.hosts)),
            ("/etc/resolv.conf", etc.resolv_conf),
        ]
        .into_iter()
        .filter_map(|(target, source)| {
            Some(MountSpec {
                target: PathBuf::from(target),
                kind: MountKind::Bind {
                    source: source?.to_path_buf(),
                },
                read_only: false,
            })
        })
        .collect();
        mounts.extend(self.mounts.iter().map(|m| MountSpec {
            target: PathBuf::from(&m.target),
            kind: match m.kind {
                LaunchMountKind::Bind => MountKind::Bind {
                    source: PathBuf::from(&m.source),
                },
                LaunchMountKind::Volume => MountKind::Volume {
                    source: PathBuf::from(&m.source),
                },
                LaunchMountKind::Tmpfs => MountKind::Tmpfs {
                    size: m.size,
                    mode: m.mode,
                },
            },
            read_only: m.read_only,
        }));
        let mut args = self.args.clone();
        if let Some(source) = &self.init {
            mounts.push(MountSpec {
                target: PathBuf::from(init::INIT_TARGET),
                kind: MountKind::Bind {
                    source: source.clone(),
                },
                read_only: true,
            });
            args = init::wrap_args(&args);
        }
        let limits = &self.limits;
        let (cpu_quota, cpu_period) = if limits.cpu_quota.is_some() || limits.cpu_period.is_some() {
            (limits.cpu_quota, limits.cpu_period)
        } else {
            let quota = self
                .nano_cpus
                .filter(|n| *n > 0)
                .map(|n| n * CPU_PERIOD_US as i64 / 1_000_000_000);
            (quota, quota.map(|_| CPU_PERIOD_US))
        };
        ContainerConfig {
            rootfs: rootfs.to_path_buf(),
            args,
            env: self.env.clone(),
            cwd: PathBuf::from(if self.cwd.is_empty() { "/" } else { &self.cwd }),
            user,
            hostname: Some(self.hostname.clone()).filter(|h| !h.is_empty() && !self.uts_host),
            domainname: Some(self.domainname.clone()).filter(|d| !d.is_empty() && !self.uts_host),
            tty: self.tty,
            read_only_rootfs: self.read_only,
            mounts,
            cap_add: self.cap_add.clone(),
            cap_drop: self.cap_drop.clone(),
            privileged: self.privileged,
            ulimits: self.ulimits.clone(),
            seccomp: self.seccomp.clone(),
            no_new_privileges: self.no_new_privileges,
            sysctls: self.sysctls.clone(),
            oom_score_adj: limits.oom_score_adj,
            shm_size: self.shm_size,
            no_shm: self.ipc == Share::None,
            device_cgroup_rules: self.device_cgroup_rules.clone(),
            resources: Resources {
                memory: self.memory.filter(|m| *m > 0),
                memory_swap: limits.memory_swap,
                memory_reservation: limits.memory_reservation,
                memory_swappiness: limits.memory_swappiness,
                cpu_quota,
                cpu_period,
                cpu_shares: limits.cpu_shares,
                cpuset_cpus: limits.cpuset_cpus.clone(),
                cpuset_mems: limits.cpuset_mems.clone(),
                pids_limit: self.pids_limit.filter(|p| *p > 0),
            },
            namespaces: Namespaces {
                uts: own_or_host(self.uts_host),
                cgroup: own_or_host(self.cgroupns_host),
                ..namespaces
            },
            ..ContainerConfig::default()
        }
    }
}

/// The per-container files bound over the image's `/etc` ones.
#[derive(Debug, Clone, Copy)]
pub(crate) struct EtcFiles<'a> {
    pub(crate) hostname: &'a Path,
    pub(crate) hosts: &'a Path,
    /// `None` keeps the image's `/etc/resolv.conf`.
    pub(crate) resolv_conf: Option<&'a Path>,
}

/// Resolves `user[:group]` to numbers: numeric parts as they are, names
/// through the image's `/etc/passwd` and `/etc/group` (given as text; a
/// missing file reads as empty). A user name without a group takes the
/// user's primary group, as Docker does.
pub(crate) fn resolve_user(spec: &str, passwd: &str, group: &str) -> Result<User, String> {
    if spec.is_empty() {
        return Ok(User::default());
    }
    let (user_part, group_part) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let entry = |text: &str, name: &str| -> Option<Vec<String>> {
        text.lines()
            .map(|line| line.split(':').map(str::to_owned).collect::<Vec<_>>())
            .find(|fields| fields.first().is_some_and(|f| f == name))
    };
    let (uid, primary_gid) = match user_part.parse::<u32>() {
        Ok(uid) => (uid, Some(0)),
        Err(_) => {
            let fields = entry(passwd, user_part).ok_or_else(|| {
                format!("unable to find user {user_part}: no matching entries in passwd file")
            })?;
            let number = |i: usize| fields.get(i).and_then(|f| f.parse::<u32>().ok());
            let uid = number(2).ok_or_else(|| format!("invalid passwd entry for {user_part}"))?;
            (uid, number(3))
        }
    };
    let gid = match group_part {
        None => primary_gid.unwrap_or(0),
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => entry(group, g)
                .and_then(|fields| fields.get(2).and_then(|f| f.parse().ok()))
                .ok_or_else(|| {
                    format!("unable to find group {g}: no matching entries in group file")
                })?,
        },
    };
    Ok(User {
        uid,
        gid,
        additional_gids: Vec::new(),
    })
}

/// Resolves `group_add` entries to numbers: numeric ones as they are,
/// names through the image's `/etc/group` (given as text), as Docker does.
pub(crate) fn resolve_groups(names: &[String], group: &str) -> Result<Vec<u32>, String> {
    names
        .iter()
        .map(|name| {
            name.parse::<u32>().or_else(|_| {
                group
                    .lines()
                    .map(|line| line.split(':').collect::<Vec<_>>())
                    .find(|fields| fields.first() == Some(&name.as_str()))
                    .and_then(|fields| fields.get(2).and_then(|gid| gid.parse().ok()))
                    .ok_or_else(|| {
                        format!("unable to find group {name}: no matching entries in group file (group_add takes group names of the image's /etc/group or numbers)")
                    })
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\nwww:x:33:34::/var/www:/bin/false\n";
    const GROUP: &str = "root:x:0:\nstaff:x:50:\n";

    /// `spec`'s runtime configuration with placeholder /etc files, on the
    /// host's network.
    fn host_config_of(spec: &LaunchSpec) -> crate::runtime::ContainerConfig {
        let etc = EtcFiles {
            hostname: Path::new("/h"),
            hosts: Path::new("/hosts"),
            resolv_conf: None,
        };
        let namespaces = Namespaces {
            net: NamespaceMode::Host,
            ..Namespaces::default()
        };
        spec.runtime_config(Path::new("/r"), User::default(), &etc, namespaces)
    }

    #[test]
    fn users_by_number_and_by_name() {
        let user = |spec| resolve_user(spec, PASSWD, GROUP).map(|u| (u.uid, u.gid));
        assert_eq!(user(""), Ok((0, 0)));
        assert_eq!(user("1000"), Ok((1000, 0)));
        assert_eq!(user("1000:1001"), Ok((1000, 1001)));
        assert_eq!(user("www"), Ok((33, 34)));
        assert_eq!(user("www:staff"), Ok((33, 50)));
        assert!(user("nobody")
            .unwrap_err()
            .contains("unable to find user nobody"));
        assert!(user("www:wheel").unwrap_err().contains("group wheel"));
    }

    #[test]
    fn cpus_become_a_quota_per_period() {
        let spec = LaunchSpec {
            nano_cpus: Some(1_500_000_000),
            memory: Some(0),
            ..LaunchSpec::default()
        };
        let etc = EtcFiles {
            hostname: Path::new("/h"),
            hosts: Path::new("/hosts"),
            resolv_conf: Some(Path::new("/resolv")),
        };
        let namespaces = Namespaces {
            net: NamespaceMode::Host,
            ..Namespaces::default()
        };
        let config = spec.runtime_config(Path::new("/r"), User::default(), &etc, namespaces);
        assert_eq!(config.resources.cpu_quota, Some(150_000));
        assert_eq!(config.resources.cpu_period, Some(100_000));
        assert_eq!(config.resources.memory, None);
        assert_eq!(config.cwd, Path::new("/"));
        assert_eq!(config.mounts[0].target, Path::new("/etc/hostname"));
        assert_eq!(config.mounts[2].target, Path::new("/etc/resolv.conf"));
        assert_eq!(config.namespaces.net, NamespaceMode::Host);
        assert!(!config.no_new_privileges);
        assert_eq!(config.seccomp, Seccomp::Default);
    }

    #[test]
    fn security_options_and_ulimits_reach_the_runtime_and_survive_json() {
        let spec = LaunchSpec {
            ulimits: vec![Ulimit {
                name: "nofile".into(),
                soft: 1024,
                hard: 2048,
            }],
            seccomp: Seccomp::Unconfined,
            no_new_privileges: true,
            ..LaunchSpec::default()
        };
        let read: LaunchSpec = serde_json::from_slice(&serde_json::to_vec(&spec).unwrap()).unwrap();
        assert_eq!(read, spec);
        let older: LaunchSpec = serde_json::from_str(
            r#"{"layers":[],"args":[],"env":[],"cwd":"","user":"","hostname":"","read_only":false,"mounts":[],"cap_add":[],"cap_drop":[],"privileged":false,"memory":null,"nano_cpus":null,"pids_limit":null}"#,
        )
        .unwrap();
        assert_eq!(older.seccomp, Seccomp::Default);
        let config = host_config_of(&spec);
        assert_eq!(config.ulimits, spec.ulimits);
        assert_eq!(config.seccomp, Seccomp::Unconfined);
        assert!(config.no_new_privileges);
    }

    #[test]
    fn groups_by_number_and_by_name() {
        let groups = |names: &[&str]| {
            let names: Vec<String> = names.iter().map(|n| n.to_string()).collect();
            resolve_groups(&names, GROUP)
        };
        assert_eq!(groups(&[]), Ok(vec![]));
        assert_eq!(groups(&["staff", "1234", "root"]), Ok(vec![50, 1234, 0]));
        assert!(groups(&["wheel"])
            .unwrap_err()
            .contains("unable to find group wheel"));
    }

    #[test]
    fn limits_namespaces_and_sysctls_reach_the_runtime() {
        let spec = LaunchSpec {
            memory: Some(64 << 20),
            nano_cpus: Some(2_000_000_000),
            limits: Limits {
                memory_swap: Some(-1),
                memory_reservation: Some(32 << 20),
                memory_swappiness: Some(0),
                cpu_shares: Some(512),
                cpu_quota: Some(50_000),
                cpu_period: Some(200_000),
                cpuset_cpus: Some("0".into()),
                cpuset_mems: Some("0".into()),
                oom_score_adj: Some(300),
            },
            sysctls: BTreeMap::from([("net.ipv4.ip_forward".into(), "1".into())]),
            ipc: Share::Host,
            pid: Share::Host,
            shm_size: Some(1 << 20),
            domainname: "example.org".into(),
            ..LaunchSpec::default()
        };
        let read: LaunchSpec = serde_json::from_slice(&serde_json::to_vec(&spec).unwrap()).unwrap();
        assert_eq!(read, spec);
        let config = host_config_of(&spec);
        let resources = &config.resources;
        assert_eq!(resources.memory, Some(64 << 20));
        assert_eq!(resources.memory_swap, Some(-1));
        assert_eq!(resources.memory_reservation, Some(32 << 20));
        assert_eq!(resources.memory_swappiness, Some(0));
        assert_eq!(resources.cpu_shares, Some(512));
        // An explicit quota wins over --cpus (the API refuses both together).
        assert_eq!(resources.cpu_quota, Some(50_000));
        assert_eq!(resources.cpu_period, Some(200_000));
        assert_eq!(resources.cpuset_cpus.as_deref(), Some("0"));
        assert_eq!(resources.cpuset_mems.as_deref(), Some("0"));
        assert_eq!(config.oom_score_adj, Some(300));
        assert_eq!(config.sysctls, spec.sysctls);
        assert_eq!(config.shm_size, Some(1 << 20));
        assert_eq!(config.domainname.as_deref(), Some("example.org"));
        let defaults = host_config_of(&LaunchSpec::default());
        assert_eq!(defaults.domainname, None);
        assert!(!defaults.no_shm);
        let no_ipc = LaunchSpec {
            ipc: Share::None,
            ..LaunchSpec::default()
        };
        assert!(host_config_of(&no_ipc).no_shm);
    }

    #[test]
    fn shared_namespaces_resolve_to_modes() {
        let running = |id: &str| match id {
            "up" => Ok(42),
            _ => Err("it is not running".to_owned()),
        };
        assert_eq!(
            Share::Private.resolve("pid", running),
            Ok(NamespaceMode::Private)
        );
        assert_eq!(Share::Host.resolve("ipc", running), Ok(NamespaceMode::Host));
        assert_eq!(
            Share::Container("up".into()).resolve("pid", running),
            Ok(NamespaceMode::Join(PathBuf::from("/proc/42/ns/pid")))
        );
        assert_eq!(
            Share::Container("down".into()).resolve("pid", running),
            Err("cannot join the pid namespace of container down: it is not running".into())
        );
        let stored = serde_json::to_string(&Share::Container("up".into())).unwrap();
        assert_eq!(stored, r#"{"container":"up"}"#);
    }

    #[test]
    fn an_init_is_bound_read_only_and_runs_the_command() {
        let spec = LaunchSpec {
            args: vec!["sleep".into(), "5".into()],
            init: Some(PathBuf::from("/usr/bin/tini-static")),
            ..LaunchSpec::default()
        };
        let config = host_config_of(&spec);
        assert_eq!(config.args, ["/sbin/docker-init", "--", "sleep", "5"]);
        let mount = config.mounts.last().unwrap();
        assert_eq!(mount.target, Path::new("/sbin/docker-init"));
        assert!(mount.read_only);
        assert_eq!(
            mount.kind,
            MountKind::Bind {
                source: PathBuf::from("/usr/bin/tini-static")
            }
        );
    }

    #[test]
    fn the_hosts_uts_namespace_leaves_the_names_to_the_host() {
        let spec = LaunchSpec {
            hostname: "box".into(),
            domainname: "example.org".into(),
            ..LaunchSpec::default()
        };
        let own = host_config_of(&spec);
        assert_eq!(own.namespaces.uts, NamespaceMode::Private);
        assert_eq!(own.hostname.as_deref(), Some("box"));
        let shared = host_config_of(&LaunchSpec {
            uts_host: true,
            ..spec
        });
        assert_eq!(shared.namespaces.uts, NamespaceMode::Host);
        assert_eq!(shared.namespaces.cgroup, NamespaceMode::Private);
        assert_eq!((shared.hostname, shared.domainname), (None, None));
        // The others the monitor resolved stay as it gave them.
        assert_eq!(shared.namespaces.net, NamespaceMode::Host);
    }
}
