//! The container runtime core: from a root filesystem and a
//! [`ContainerConfig`] to a running, isolated process, with youki's
//! `libcontainer` doing the namespace, mount, capability, seccomp and cgroup
//! work.
//!
//! - `config`: the engine's own description of a container (plain data);
//! - `spec`: pure translation into an OCI runtime spec with Docker's defaults;
//! - `seccomp`: Docker's default seccomp profile as data, and users'
//!   profiles in Docker's format resolved for a container;
//! - `filter`: the seccomp profile compiled once, cached, and loaded just
//!   before the container's command runs;
//! - `defaults`: Docker's capabilities, masked paths, mounts and devices;
//! - `device`: host devices given to a container (`--device`);
//! - `cgroup`: finding, reading and removing a container's cgroup directories;
//! - `migration`: starting the kernel's wait for a cgroup move early;
//! - `freezer`: pausing and resuming a container's processes (v1 and v2);
//! - `exec`: another process in a running container (`docker exec`);
//! - `loopback`: `lo` up in a new network namespace, as Docker has it;
//! - `run`: the lifecycle (create, start, wait, kill, delete) through libcontainer;
//! - `tty`: receiving a container's pseudo-terminal over its console socket;
//! - `wait`: reaping a child process, with a deadline or without.

mod cgroup;
mod config;
mod defaults;
mod device;
mod error;
mod exec;
mod filter;
pub(crate) mod freezer;
pub(crate) mod loopback;
pub(crate) mod migration;
mod run;
pub mod seccomp;
pub mod spec;
mod tty;
pub(crate) mod wait;

pub(crate) use cgroup::CgroupMounts;
pub use config::{
    ContainerConfig, MountKind, MountSpec, NamespaceMode, Namespaces, Resources, Seccomp, Ulimit,
    User,
};
pub use device::{
    all_host_devices, check_access, host_devices, parse_device_cgroup_rule, Device,
    DeviceCgroupRule, DeviceKind,
};
pub use error::{ConfigError, ConfigErrors, RunError};
pub use exec::{ExecConfig, ExecProcess};
pub use filter::{CompileError, FilterError};
pub use run::{Container, ExitStatus, Runtime, Stdio};
pub use tty::{console_size, set_size, ConsoleSocket};
