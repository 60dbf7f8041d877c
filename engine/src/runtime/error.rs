//! Errors of the container runtime: configuration problems found while
//! building the spec (all of them at once), and failures of the lifecycle
//! operations, each naming the container and the operation.

use std::fmt;
use std::path::PathBuf;

/// One problem in a [`ContainerConfig`](super::ContainerConfig).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// The root filesystem path is not absolute.
    #[error("rootfs {0:?}: must be an absolute path")]
    RelativeRootfs(PathBuf),
    /// No command was given.
    #[error(
        "args: the container needs a command to run (set the image's CMD or the service's command)"
    )]
    NoCommand,
    /// The working directory is not absolute.
    #[error("working directory {0:?}: must be an absolute path")]
    RelativeCwd(PathBuf),
    /// A mount target is not absolute.
    #[error("mount {0:?}: the target must be an absolute path inside the container")]
    RelativeMountTarget(PathBuf),
    /// A bind or volume source is not absolute.
    #[error("mount {target:?}: source {host_path:?} must be an absolute host path")]
    RelativeMountSource {
        /// The mount's target.
        target: PathBuf,
        /// The offending source.
        host_path: PathBuf,
    },
    /// A capability name is unknown.
    #[error("capability {0:?}: unknown (use names like NET_ADMIN or CAP_NET_ADMIN, or ALL)")]
    UnknownCapability(String),
    /// A sysctl is not namespaced, so setting it would change the host.
    #[error("sysctl {0}: not namespaced, a container may only set kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, kernel.domainname and net.*")]
    SysctlNotNamespaced(String),
    /// A namespaced sysctl whose namespace is shared with the host.
    #[error("sysctl {name}: it belongs to the {namespace} namespace, which this container shares with the host or another container (drop the sysctl or the shared {namespace} mode)")]
    SysctlHostNamespace {
        /// The sysctl.
        name: String,
        /// The namespace it lives in (`ipc`, `net`, `uts`).
        namespace: &'static str,
    },
    /// A ulimit name is unknown.
    #[error("ulimit {0:?}: unknown (known: as, core, cpu, data, fsize, locks, memlock, msgqueue, nice, nofile, nproc, rss, rtprio, rttime, sigpending, stack)")]
    UnknownUlimit(String),
    /// A ulimit's soft limit is above its hard limit.
    #[error("ulimit {name}: soft limit {soft} is above the hard limit {hard}")]
    UlimitSoftAboveHard {
        /// The limit.
        name: String,
        /// Its soft value.
        soft: u64,
        /// Its hard value.
        hard: u64,
    },
    /// A hostname was set although the UTS namespace is shared.
    #[error("hostname {0:?}: cannot be set while the container shares a UTS namespace (the host's or another container's); drop the hostname or the shared namespace")]
    HostnameWithHostUts(String),
    /// A domain name was set although the UTS namespace is shared.
    #[error("domainname {0:?}: cannot be set while the container shares a UTS namespace (the host's or another container's); drop the domainname or the shared namespace")]
    DomainnameWithHostUts(String),
    /// `memory_swap` is below `memory`.
    #[error("memory swap limit {swap} is below the memory limit {memory}: memory_swap counts memory plus swap, so it must be at least the memory limit (or -1 for unlimited swap)")]
    SwapBelowMemory {
        /// The memory limit.
        memory: i64,
        /// The memory plus swap limit.
        swap: i64,
    },
    /// A CPU quota was set below the kernel's minimum of 1 ms.
    #[error("cpu quota {0}µs: must be at least 1000µs")]
    CpuQuotaTooSmall(i64),
    /// A CPU period outside the kernel's range.
    #[error("cpu period {0}µs: must be between 1000µs and 1000000µs")]
    CpuPeriodOutOfRange(u64),
}

/// Every problem found in one [`ContainerConfig`](super::ContainerConfig).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

/// A lifecycle operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The configuration was refused before anything was created.
    #[error("container {id}: invalid configuration: {source}")]
    Config {
        /// The container.
        id: String,
        /// What is wrong.
        source: ConfigErrors,
    },
    /// A container with this id already exists under the runtime's state root.
    #[error("container {id}: already exists (delete it first, or pick another id)")]
    AlreadyExists {
        /// The container.
        id: String,
    },
    /// A file or directory of the runtime could not be read or written.
    #[error("container {id}: {operation} {path:?}: {source}")]
    Io {
        /// The container.
        id: String,
        /// What was being done.
        operation: &'static str,
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// libcontainer refused or failed an operation.
    #[error("container {id}: {operation}: {source}")]
    Runtime {
        /// The container.
        id: String,
        /// What was being done (`create`, `start`, `kill`, `delete`, `load`).
        operation: &'static str,
        /// libcontainer's error.
        source: Box<libcontainer::error::LibcontainerError>,
    },
    /// Waiting for the container's process failed.
    #[error("container {id}: wait for pid {pid}: {source}")]
    Wait {
        /// The container.
        id: String,
        /// Its init process.
        pid: i32,
        /// The errno.
        source: nix::Error,
    },
    /// The container's seccomp filter could not be prepared.
    #[error("container {id}: {source}")]
    Seccomp {
        /// The container.
        id: String,
        /// What went wrong.
        source: super::filter::FilterError,
    },
    /// The container has no process (it was never started or is gone).
    #[error("container {id}: has no process to {operation}")]
    NoProcess {
        /// The container.
        id: String,
        /// What was being done.
        operation: &'static str,
    },
    /// Removing the container's cgroup directories failed.
    #[error("container {id}: remove cgroup {path:?}: {source}")]
    CgroupCleanup {
        /// The container.
        id: String,
        /// The directory that could not be removed.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}
