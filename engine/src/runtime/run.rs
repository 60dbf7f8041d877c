//! The container lifecycle through libcontainer: create (namespaces, mounts,
//! cgroup, loopback; the process waits at the start barrier), start, wait
//! for the exit status (with OOM detection from the cgroup), kill, pause and
//! resume, delete (with every cgroup directory). `exec` adds processes.
//!
//! libcontainer forks the calling process without exec, so these calls must
//! come from a single-threaded process (the per-container monitor), never
//! from an async runtime's worker threads. The container's init process is a
//! child of the caller, which is what lets [`Container::wait`] reap it.

use std::fs;
use std::os::fd::OwnedFd;
use std::path::{Path, PathBuf};
use std::time::Duration;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::container::{Container as Inner, ContainerStatus};
use libcontainer::error::LibcontainerError;
use libcontainer::syscall::syscall::SyscallType;
use nix::errno::Errno;
use nix::sys::signal::Signal;
use nix::sys::wait::waitpid;
use nix::unistd::Pid;

use super::cgroup::{CgroupMounts, MOUNTINFO};
use super::config::{ContainerConfig, NamespaceMode};
use super::error::RunError;
use super::filter::{self, SeccompExecutor};
use super::loopback;
use super::seccomp::Platform;
use super::spec;
use super::wait;

/// Where libcontainer keeps its per-container state, and the cgroup under
/// which containers get their own cgroup.
#[derive(Clone, Debug)]
pub struct Runtime {
    state_root: PathBuf,
    cgroup_parent: PathBuf,
}

/// The standard streams of a container's process; `None` inherits the caller's.
#[derive(Debug, Default)]
pub struct Stdio {
    /// Standard input.
    pub stdin: Option<OwnedFd>,
    /// Standard output.
    pub stdout: Option<OwnedFd>,
    /// Standard error.
    pub stderr: Option<OwnedFd>,
    /// A Unix socket that receives the pty master when the config asks for a TTY.
    pub console_socket: Option<PathBuf>,
}

/// How a container's process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ExitStatus {
    /// The exit code, or 128 + the signal number when killed, like a shell reports it.
    pub code: i32,
    /// The signal that killed the process, if one did.
    pub signal: Option<i32>,
    /// The kernel's OOM killer killed a process of the container (Docker's `OOMKilled`).
    pub oom_killed: bool,
}

/// A created container: its process exists and is held at the start barrier
/// until [`Container::start`].
#[derive(Debug)]
pub struct Container {
    id: String,
    inner: Inner,
    cgroups_path: PathBuf,
    /// The init process was waited for: its pid may since name another process.
    reaped: bool,
    /// libcontainer's state root, which holds this container's directory.
    state_root: PathBuf,
}

impl Runtime {
    /// A runtime keeping libcontainer's state in `state_root/<id>` and putting
    /// each container's cgroup at `cgroup_parent/<id>` in every hierarchy
    /// (unless its config names another cgroups path).
    pub fn new(state_root: impl Into<PathBuf>, cgroup_parent: impl Into<PathBuf>) -> Self {
        Runtime {
            state_root: state_root.into(),
            cgroup_parent: cgroup_parent.into(),
        }
    }

    /// Writes `config.json` into `bundle` and creates the container `id`:
    /// namespaces, root filesystem, mounts and cgroup are set up, `lo` is up
    /// in a new network namespace, and the process waits to be started
    /// (network setup for other interfaces goes in between). On failure
    /// nothing is left behind.
    pub fn create(
        &self,
        id: &str,
        bundle: &Path,
        config: &ContainerConfig,
        stdio: Stdio,
    ) -> Result<Container, RunError> {
        // Checked first: the cleanup after a failed creation below must never
        // touch another container that happens to have this id.
        if self.state_root.join(id).exists() {
            return Err(RunError::AlreadyExists { id: id.to_owned() });
        }
        let mut config = config.clone();
        let cgroups_path = config
            .cgroups_path
            .get_or_insert_with(|| self.cgroup_parent.join(id))
            .clone();
        let mut spec =
            spec::build(&config, Platform::detect()).map_err(|source| RunError::Config {
                id: id.to_owned(),
                source,
            })?;
        let io_error = |operation, path: &Path| {
            let (id, path) = (id.to_owned(), path.to_owned());
            move |source| RunError::Io {
                id,
                operation,
                path,
                source,
            }
        };
        let status_path = Path::new("/proc/self/status");
        let own_capabilities = fs::read_to_string(status_path)
            .map(|status| permitted_capabilities(&status))
            .map_err(io_error("read", status_path))?;
        spec::restrict_capabilities(&mut spec, &own_capabilities);
        let mounts = CgroupMounts::from_proc().map_err(io_error("read", Path::new(MOUNTINFO)))?;
        if !mounts.supports_swap_limit() {
            spec::drop_swap_limit(&mut spec);
        }
        fs::create_dir_all(&self.state_root).map_err(io_error("create", &self.state_root))?;
        let filter = SeccompExecutor::take(
            &mut spec,
            bundle,
            &filter::cache_dir(&self.state_root),
            &own_capabilities,
        )
        .map_err(|source| RunError::Seccomp {
            id: id.to_owned(),
            source,
        })?;
        let config_path = bundle.join("config.json");
        let json = serde_json::to_vec_pretty(&spec)
            .map_err(|error| io_error("serialize", &config_path)(error.into()))?;
        fs::write(&config_path, json).map_err(io_error("write", &config_path))?;

        let built = quiet(|| {
            let mut builder = ContainerBuilder::new(id.to_owned(), SyscallType::default())
                .with_root_path(&self.state_root)?
                .with_console_socket(stdio.console_socket.as_ref());
            if let Some(fd) = stdio.stdin {
                builder = builder.with_stdin(fd);
            }
            if let Some(fd) = stdio.stdout {
                builder = builder.with_stdout(fd);
            }
            if let Some(fd) = stdio.stderr {
                builder = builder.with_stderr(fd);
            }
            if let Some(filter) = filter {
                builder = builder.with_executor(filter);
            }
            builder
                .as_init(bundle)
                .with_systemd(false)
                .with_detach(true)
                .build()
        });
        match built {
            Ok(inner) => {
                let container = Container {
                    id: id.to_owned(),
                    inner,
                    cgroups_path,
                    reaped: false,
                    state_root: self.state_root.clone(),
                };
                let resources = &config.resources;
                let path = container.cgroups_path.clone();
                let forbidden =
                    mounts.forbid_swap_when_equal(&path, resources.memory, resources.memory_swap);
                if let Err(source) = forbidden {
                    let _ = container.delete();
                    return Err(RunError::Io {
                        id: id.to_owned(),
                        operation: "write memory.swap.max of",
                        path,
                        source,
                    });
                }
                if config.namespaces.net == NamespaceMode::Private {
                    if let Err(error) = container.bring_up_loopback() {
                        // The failure to report is the loopback one.
                        let _ = container.delete();
                        return Err(error);
                    }
                }
                Ok(container)
            }
            Err(source) => {
                // A half-created container may have left its state directory
                // and cgroup; remove them so a retry starts clean.
                if let Ok(container) = self.load(id) {
                    // The creation error is the one worth reporting.
                    let _ = container.delete();
                } else {
                    let _ = mounts.remove(&cgroups_path);
                }
                Err(runtime_error(id, "create", source))
            }
        }
    }

    /// Finds a container created earlier by this runtime (for instance by a
    /// monitor that was restarted).
    pub fn load(&self, id: &str) -> Result<Container, RunError> {
        let inner = quiet(|| Inner::load(self.state_root.join(id)))
            .map_err(|source| runtime_error(id, "load", source))?;
        let cgroups_path = quiet(|| inner.spec())
            .map(|config| config.cgroup_path)
            .map_err(|source| runtime_error(id, "load", source))?;
        Ok(Container {
            id: id.to_owned(),
            inner,
            cgroups_path,
            reaped: false,
            state_root: self.state_root.clone(),
        })
    }
}

impl Container {
    /// The container's id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The host pid of the container's init process.
    pub fn pid(&self) -> Option<i32> {
        self.inner.pid().map(Pid::as_raw)
    }

    /// Its cgroup path, relative to each hierarchy's root.
    pub fn cgroups_path(&self) -> &Path {
        &self.cgroups_path
    }

    /// The container's cgroup directory in every mounted hierarchy (whether
    /// or not the kernel has it), for reading usage and checking removal.
    pub fn cgroup_dirs(&self) -> Result<Vec<PathBuf>, RunError> {
        let mounts = CgroupMounts::from_proc().map_err(|source| self.mountinfo_error(source))?;
        Ok(mounts.dirs(&self.cgroups_path))
    }

    fn mountinfo_error(&self, source: std::io::Error) -> RunError {
        RunError::Io {
            id: self.id.clone(),
            operation: "read",
            path: PathBuf::from(MOUNTINFO),
            source,
        }
    }

    /// The bundle directory holding the container's `config.json`.
    pub(crate) fn bundle(&self) -> PathBuf {
        self.inner.bundle().clone()
    }

    /// libcontainer's state root.
    pub(crate) fn state_root(&self) -> &Path {
        &self.state_root
    }

    fn bring_up_loopback(&self) -> Result<(), RunError> {
        let pid = self.pid().ok_or_else(|| RunError::NoProcess {
            id: self.id.clone(),
            operation: "bring up loopback for",
        })?;
        loopback::bring_up(pid).map_err(|source| RunError::Io {
            id: self.id.clone(),
            operation: "bring up lo in",
            path: PathBuf::from(format!("/proc/{pid}/ns/net")),
            source,
        })
    }

    /// Releases the process from the start barrier: it execs its command.
    pub fn start(&mut self) -> Result<(), RunError> {
        quiet(|| self.inner.start()).map_err(|source| runtime_error(&self.id, "start", source))
    }

    /// Blocks until the container's init process exits and reaps it. Only
    /// the process that created the container can wait for it.
    pub fn wait(&mut self) -> Result<ExitStatus, RunError> {
        let pid = self.init_pid("wait for")?;
        let (code, signal) = wait::reap(pid).map_err(|source| self.wait_error(pid, source))?;
        self.reaped = true;
        let oom_kills = CgroupMounts::from_proc()
            .ok()
            .and_then(|mounts| mounts.oom_kills(&self.cgroups_path));
        // Keep libcontainer's recorded status in step; a failure here only
        // means a later operation refreshes it again.
        let _ = quiet(|| {
            self.inner.refresh_status()?;
            self.inner.save()
        });
        Ok(ExitStatus {
            code,
            signal,
            oom_killed: oom_kills.is_some_and(|kills| kills > 0),
        })
    }

    /// Like [`Container::wait`], but gives up after `timeout`: `Ok(None)`
    /// means the process still runs (for a stop with a grace period).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>, RunError> {
        let pid = self.init_pid("wait for")?;
        match wait::exits_within(pid, timeout) {
            Ok(true) => self.wait().map(Some),
            Ok(false) => Ok(None),
            Err(source) => Err(self.wait_error(pid, source)),
        }
    }

    fn init_pid(&self, operation: &'static str) -> Result<Pid, RunError> {
        self.inner.pid().ok_or_else(|| RunError::NoProcess {
            id: self.id.clone(),
            operation,
        })
    }

    fn wait_error(&self, pid: Pid, source: Errno) -> RunError {
        RunError::Wait {
            id: self.id.clone(),
            pid: pid.as_raw(),
            source,
        }
    }

    /// Sends `signal` to the container's init process. A container whose
    /// process already exited is left alone.
    pub fn kill(&mut self, signal: Signal) -> Result<(), RunError> {
        quiet(|| {
            self.inner.refresh_status()?;
            if self.inner.status() == ContainerStatus::Stopped {
                return Ok(());
            }
            self.inner.kill(signal, false)
        })
        .map_err(|source| runtime_error(&self.id, "kill", source))
    }

    /// Freezes every process of the container (the cgroup freezer).
    pub fn pause(&mut self) -> Result<(), RunError> {
        quiet(|| self.inner.pause()).map_err(|source| runtime_error(&self.id, "pause", source))
    }

    /// Thaws a paused container.
    pub fn resume(&mut self) -> Result<(), RunError> {
        quiet(|| self.inner.resume()).map_err(|source| runtime_error(&self.id, "resume", source))
    }

    /// Removes the container: kills what still runs, removes libcontainer's
    /// state and the container's cgroup in every hierarchy (the parent
    /// stays; see [`CgroupMounts::remove`]).
    pub fn delete(mut self) -> Result<(), RunError> {
        quiet(|| self.inner.delete(true))
            .map_err(|source| runtime_error(&self.id, "delete", source))?;
        // A process that was never waited for (the container was deleted
        // before it ran, or while it ran) was just killed: reap it so no
        // zombie is left. ECHILD means it was reaped already or is not ours.
        if let Some(pid) = self.inner.pid().filter(|_| !self.reaped) {
            while let Err(Errno::EINTR) = waitpid(pid, None) {}
        }
        let mounts = CgroupMounts::from_proc().map_err(|source| self.mountinfo_error(source))?;
        mounts
            .remove(&self.cgroups_path)
            .map_err(|(path, source)| RunError::CgroupCleanup {
                id: self.id.clone(),
                path,
                source,
            })
    }
}

/// The capabilities a process may grant, from its `/proc/<pid>/status`: the
/// child that becomes the container can only keep what this process holds.
pub(super) fn permitted_capabilities(status: &str) -> oci_spec::runtime::Capabilities {
    let mask = status
        .lines()
        .find_map(|line| line.strip_prefix("CapPrm:"))
        .and_then(|hex| u64::from_str_radix(hex.trim(), 16).ok())
        .unwrap_or(0);
    spec::capabilities_from_mask(mask)
}

pub(crate) fn runtime_error(
    id: &str,
    operation: &'static str,
    source: LibcontainerError,
) -> RunError {
    RunError::Runtime {
        id: id.to_owned(),
        operation,
        source: Box::new(source),
    }
}

/// Runs `f` with logging switched off for this thread. libcontainer and
/// libcgroups log every cgroup controller they skip and log each error at
/// several layers before returning it; the returned error is what we report.
pub(crate) fn quiet<T>(f: impl FnOnce() -> T) -> T {
    tracing::subscriber::with_default(tracing::subscriber::NoSubscriber::default(), f)
}
