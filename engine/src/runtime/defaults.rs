//! Docker's defaults for a container, as data: the capability set, the masked
//! and read-only paths, the standard mounts, device nodes and device cgroup
//! rules. libcontainer's own defaults differ (3 capabilities, no masking), so
//! the spec builder always states these explicitly.

use oci_spec::runtime::{Capability, LinuxDeviceType};

/// The 14 capabilities Docker grants an unprivileged container.
pub(crate) const DEFAULT_CAPABILITIES: [Capability; 14] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::Fsetid,
    Capability::Fowner,
    Capability::Mknod,
    Capability::NetRaw,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setfcap,
    Capability::Setpcap,
    Capability::NetBindService,
    Capability::SysChroot,
    Capability::Kill,
    Capability::AuditWrite,
];

/// Every capability the kernel knows (up to `CAP_CHECKPOINT_RESTORE`), for
/// `privileged` and `cap_add: [ALL]`, in kernel order: the index of each is
/// its bit in `/proc/<pid>/status` masks.
pub(crate) const ALL_CAPABILITIES: [Capability; 41] = [
    Capability::Chown,
    Capability::DacOverride,
    Capability::DacReadSearch,
    Capability::Fowner,
    Capability::Fsetid,
    Capability::Kill,
    Capability::Setgid,
    Capability::Setuid,
    Capability::Setpcap,
    Capability::LinuxImmutable,
    Capability::NetBindService,
    Capability::NetBroadcast,
    Capability::NetAdmin,
    Capability::NetRaw,
    Capability::IpcLock,
    Capability::IpcOwner,
    Capability::SysModule,
    Capability::SysRawio,
    Capability::SysChroot,
    Capability::SysPtrace,
    Capability::SysPacct,
    Capability::SysAdmin,
    Capability::SysBoot,
    Capability::SysNice,
    Capability::SysResource,
    Capability::SysTime,
    Capability::SysTtyConfig,
    Capability::Mknod,
    Capability::Lease,
    Capability::AuditWrite,
    Capability::AuditControl,
    Capability::Setfcap,
    Capability::MacOverride,
    Capability::MacAdmin,
    Capability::Syslog,
    Capability::WakeAlarm,
    Capability::BlockSuspend,
    Capability::AuditRead,
    Capability::Perfmon,
    Capability::Bpf,
    Capability::CheckpointRestore,
];

/// Paths Docker hides from unprivileged containers (an empty file or an
/// empty read-only tmpfs is mounted over them): they leak host information
/// (`/proc/interrupts` and `powercap` allow side-channel attacks) or let a
/// process poke the host kernel. Docker also masks each CPU's
/// `thermal_throttle` directory where the host has one; that depends on the
/// host, so it is the caller's to add.
pub(crate) const MASKED_PATHS: [&str; 12] = [
    "/proc/acpi",
    "/proc/asound",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/sys/devices/virtual/powercap",
    "/sys/firmware",
];

/// Paths Docker remounts read-only in unprivileged containers: writing there
/// would change the host kernel, not just the container.
pub(crate) const READONLY_PATHS: [&str; 5] = [
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// One of the mounts every container gets.
pub(crate) struct StandardMount {
    pub destination: &'static str,
    pub typ: &'static str,
    pub source: &'static str,
    pub options: &'static [&'static str],
}

/// Docker's standard mounts, in mount order. `/sys` and the cgroup mount
/// are read-only unless the container is privileged (see `spec`).
pub(crate) const STANDARD_MOUNTS: [StandardMount; 7] = [
    StandardMount {
        destination: "/proc",
        typ: "proc",
        source: "proc",
        options: &["nosuid", "noexec", "nodev"],
    },
    StandardMount {
        destination: "/dev",
        typ: "tmpfs",
        source: "tmpfs",
        options: &["nosuid", "strictatime", "mode=755", "size=65536k"],
    },
    StandardMount {
        destination: "/dev/pts",
        typ: "devpts",
        source: "devpts",
        options: &[
            "nosuid",
            "noexec",
            "newinstance",
            "ptmxmode=0666",
            "mode=0620",
            "gid=5",
        ],
    },
    StandardMount {
        destination: "/sys",
        typ: "sysfs",
        source: "sysfs",
        options: &["nosuid", "noexec", "nodev", "ro"],
    },
    StandardMount {
        destination: "/sys/fs/cgroup",
        typ: "cgroup",
        source: "cgroup",
        options: &["nosuid", "noexec", "nodev", "relatime", "ro"],
    },
    StandardMount {
        destination: "/dev/mqueue",
        typ: "mqueue",
        source: "mqueue",
        options: &["nosuid", "noexec", "nodev"],
    },
    StandardMount {
        destination: "/dev/shm",
        typ: "tmpfs",
        source: "shm",
        options: &["nosuid", "noexec", "nodev", "mode=1777", "size=67108864"],
    },
];

/// A standard device node created in the container's `/dev`.
pub(crate) struct DeviceNode {
    pub path: &'static str,
    pub major: i64,
    pub minor: i64,
}

/// The device nodes every container gets (all character devices, mode 0666).
pub(crate) const DEVICE_NODES: [DeviceNode; 6] = [
    DeviceNode {
        path: "/dev/null",
        major: 1,
        minor: 3,
    },
    DeviceNode {
        path: "/dev/zero",
        major: 1,
        minor: 5,
    },
    DeviceNode {
        path: "/dev/full",
        major: 1,
        minor: 7,
    },
    DeviceNode {
        path: "/dev/random",
        major: 1,
        minor: 8,
    },
    DeviceNode {
        path: "/dev/urandom",
        major: 1,
        minor: 9,
    },
    DeviceNode {
        path: "/dev/tty",
        major: 5,
        minor: 0,
    },
];

/// One device cgroup rule; `None` for major or minor means `*`.
pub(crate) struct DeviceRule {
    pub allow: bool,
    pub typ: LinuxDeviceType,
    pub major: Option<i64>,
    pub minor: Option<i64>,
    pub access: &'static str,
}

/// The device cgroup rules Docker ends up with for an unprivileged container:
/// its own (deny everything, allow the standard nodes, keep `/dev/fuse`
/// denied) followed by the ones runc always appends (`mknod` of any node,
/// `/dev/full`, ptys, `/dev/ptmx`, `/dev/net/tun`). The order matters on
/// cgroup v1, where a deny cannot follow a wildcard allow.
pub(crate) const DEVICE_RULES: [DeviceRule; 14] = [
    rule(false, LinuxDeviceType::A, None, None, "rwm"),
    rule(true, LinuxDeviceType::C, Some(1), Some(5), "rwm"),
    rule(true, LinuxDeviceType::C, Some(1), Some(3), "rwm"),
    rule(true, LinuxDeviceType::C, Some(1), Some(9), "rwm"),
    rule(true, LinuxDeviceType::C, Some(1), Some(8), "rwm"),
    rule(true, LinuxDeviceType::C, Some(5), Some(0), "rwm"),
    rule(true, LinuxDeviceType::C, Some(5), Some(1), "rwm"),
    rule(false, LinuxDeviceType::C, Some(10), Some(229), "rwm"),
    rule(true, LinuxDeviceType::C, None, None, "m"),
    rule(true, LinuxDeviceType::B, None, None, "m"),
    rule(true, LinuxDeviceType::C, Some(1), Some(7), "rwm"),
    rule(true, LinuxDeviceType::C, Some(136), None, "rwm"),
    rule(true, LinuxDeviceType::C, Some(5), Some(2), "rwm"),
    rule(true, LinuxDeviceType::C, Some(10), Some(200), "rwm"),
];

const fn rule(
    allow: bool,
    typ: LinuxDeviceType,
    major: Option<i64>,
    minor: Option<i64>,
    access: &'static str,
) -> DeviceRule {
    DeviceRule {
        allow,
        typ,
        major,
        minor,
        access,
    }
}

/// Docker's `PATH` for a container whose image sets none.
pub(crate) const DEFAULT_PATH: &str =
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// Sysctls that live in the IPC namespace (besides the `fs.mqueue.*` family).
pub(crate) const IPC_SYSCTLS: [&str; 8] = [
    "kernel.msgmax",
    "kernel.msgmnb",
    "kernel.msgmni",
    "kernel.sem",
    "kernel.shmall",
    "kernel.shmmax",
    "kernel.shmmni",
    "kernel.shm_rmid_forced",
];
