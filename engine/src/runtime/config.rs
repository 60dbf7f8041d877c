//! The engine's own description of one container, before it becomes an OCI
//! runtime spec. Plain data: the caller (container assembly) fills it from an
//! image config and a service definition; `spec::build` turns it into the
//! `config.json` that libcontainer reads.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use super::seccomp::Profile;

/// Everything needed to turn a root filesystem into an isolated container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ContainerConfig {
    /// Absolute path of the (already mounted) root filesystem.
    pub rootfs: PathBuf,
    /// The command and its arguments; `args[0]` is looked up in `PATH`.
    pub args: Vec<String>,
    /// `NAME=value` entries; `PATH` gets Docker's default when missing.
    pub env: Vec<String>,
    /// Working directory inside the container; `/` when empty.
    pub cwd: PathBuf,
    /// Numeric identity the process runs as.
    pub user: User,
    /// Hostname inside the container's own UTS namespace.
    pub hostname: Option<String>,
    /// NIS domain name inside the container's own UTS namespace (`domainname`).
    pub domainname: Option<String>,
    /// Allocate a pseudo-terminal for the process (needs a console socket).
    pub tty: bool,
    /// Mount the root filesystem read-only (`read_only: true`).
    pub read_only_rootfs: bool,
    /// Bind mounts, tmpfs mounts and volumes, in the order given.
    pub mounts: Vec<MountSpec>,
    /// Capabilities added to Docker's default set (`NET_ADMIN`, `CAP_NET_ADMIN` or `ALL`).
    pub cap_add: Vec<String>,
    /// Capabilities removed from Docker's default set (`ALL` drops them all).
    pub cap_drop: Vec<String>,
    /// Docker's `--privileged`: every capability, no seccomp (whatever
    /// [`ContainerConfig::seccomp`] says), no masked paths, writable `/sys`,
    /// all devices allowed by the device cgroup.
    pub privileged: bool,
    /// The seccomp profile (`security_opt: seccomp=...`).
    pub seccomp: Seccomp,
    /// Namespaced sysctls only; others are refused by `spec::build`.
    pub sysctls: BTreeMap<String, String>,
    /// Resource limits such as `nofile`, by Docker's names.
    pub ulimits: Vec<Ulimit>,
    /// Which namespaces the container gets of its own.
    pub namespaces: Namespaces,
    /// cgroup limits.
    pub resources: Resources,
    /// cgroup path relative to each hierarchy's root, e.g. `/stack/<id>`.
    pub cgroups_path: Option<PathBuf>,
    /// Set `no_new_privs` on the process (`security_opt: no-new-privileges`).
    pub no_new_privileges: bool,
    /// The process's OOM score adjustment.
    pub oom_score_adj: Option<i32>,
    /// Size in bytes of the `/dev/shm` tmpfs of a private IPC namespace
    /// (`shm_size`); Docker's 64 MiB when absent.
    pub shm_size: Option<u64>,
    /// No `/dev/shm` at all (Docker's `--ipc none`).
    pub no_shm: bool,
    /// Host devices made available (`--device`), beside Docker's standard ones.
    pub devices: Vec<super::Device>,
    /// Device cgroup rules of the user's, allowed after Docker's
    /// (`--device-cgroup-rule`).
    pub device_cgroup_rules: Vec<super::DeviceCgroupRule>,
}

/// Which seccomp profile confines a container's processes, as Docker's
/// `--security-opt seccomp=` chooses it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Seccomp {
    /// Docker's default profile for the container's capabilities.
    #[default]
    Default,
    /// No filter (`seccomp=unconfined`).
    Unconfined,
    /// A profile of the user's, in Docker's format (`seccomp=FILE`),
    /// resolved for the container's capabilities when its spec is built.
    Profile(Box<Profile>),
}

/// The numeric identity of the container's process.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct User {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary group ids.
    pub additional_gids: Vec<u32>,
}

/// One mount inside the container.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MountSpec {
    /// Absolute path inside the container.
    pub target: PathBuf,
    /// What is mounted there.
    pub kind: MountKind,
    /// Mount it read-only (`:ro`).
    pub read_only: bool,
}

/// The source of a [`MountSpec`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MountKind {
    /// A host path bound into the container.
    Bind {
        /// Absolute host path.
        source: PathBuf,
    },
    /// A named or anonymous volume: a directory the engine owns under its state root.
    Volume {
        /// Absolute path of the volume's data directory.
        source: PathBuf,
    },
    /// A fresh tmpfs (Docker's `--tmpfs`): `nosuid,nodev,noexec` like Docker.
    Tmpfs {
        /// Size limit in bytes; unlimited (half of RAM) when absent.
        size: Option<u64>,
        /// Permission bits of the tmpfs root, e.g. `0o1777`.
        mode: Option<u32>,
    },
}

/// One `ulimit`, by Docker's name (`nofile`, `nproc`, `core`...).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ulimit {
    /// Docker's name of the limit, without the `RLIMIT_` prefix, lower case.
    pub name: String,
    /// Soft limit.
    pub soft: u64,
    /// Hard limit.
    pub hard: u64,
}

/// How the container gets one kind of namespace.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum NamespaceMode {
    /// A new namespace of its own (Docker's default).
    #[default]
    Private,
    /// The host's namespace: no new one is created (`pid: host`, `network_mode: host`).
    Host,
    /// Another container's namespace, joined through its `/proc/<pid>/ns/<kind>`
    /// path (`network_mode: container:ID`).
    Join(PathBuf),
}

/// The namespaces of a container; the mount namespace is always private.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Namespaces {
    /// Process ids.
    pub pid: NamespaceMode,
    /// System V IPC and POSIX message queues.
    pub ipc: NamespaceMode,
    /// Network devices, addresses, routes, firewall.
    pub net: NamespaceMode,
    /// Hostname and domain name.
    pub uts: NamespaceMode,
    /// The cgroup tree: private, the container sees its own cgroup as the
    /// root of `/sys/fs/cgroup` and of `/proc/self/cgroup` (Docker's default
    /// on cgroup v2; `cgroupns: host` shares the host's view).
    pub cgroup: NamespaceMode,
}

/// cgroup limits, with Docker's units and meanings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Resources {
    /// Memory limit in bytes (`--memory`).
    pub memory: Option<i64>,
    /// Memory plus swap in bytes (`--memory-swap`); `-1` is unlimited swap.
    /// Like Docker, twice `memory` when only `memory` is set.
    pub memory_swap: Option<i64>,
    /// Soft memory limit in bytes, enforced under memory pressure (`--memory-reservation`).
    pub memory_reservation: Option<i64>,
    /// How eagerly the kernel swaps the container's anonymous pages, 0 to 100
    /// (`--memory-swappiness`); the kernel's default when absent.
    pub memory_swappiness: Option<u64>,
    /// CPU time per period in microseconds (`--cpu-quota`, or `--cpus` × period).
    pub cpu_quota: Option<i64>,
    /// Length of a CPU accounting period in microseconds (`--cpu-period`).
    pub cpu_period: Option<u64>,
    /// Relative CPU weight (`--cpu-shares`).
    pub cpu_shares: Option<u64>,
    /// CPUs the container may run on, e.g. `0-1` (`--cpuset-cpus`).
    pub cpuset_cpus: Option<String>,
    /// Memory nodes the container may use (`--cpuset-mems`).
    pub cpuset_mems: Option<String>,
    /// Maximum number of processes (`--pids-limit`); `-1` or absent is unlimited.
    pub pids_limit: Option<i64>,
}
