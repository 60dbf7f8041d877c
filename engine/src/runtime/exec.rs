//! Running another process in a running container (`docker exec`): it joins
//! the container's namespaces and cgroup and keeps the container's process
//! settings (capabilities, rlimits, seccomp, `no_new_privs`), with its own
//! command, environment, working directory, user and terminal.
//!
//! libcontainer 0.7 does not carry the container's seccomp filter over to
//! such a process, so a small executor loads it just before the exec. By
//! then the capabilities are already dropped, and the kernel only lets an
//! unprivileged process load a filter under `no_new_privs`: an exec'd
//! process in a filtered container therefore always runs with
//! `no_new_privs` (stricter than Docker, where it follows the container).
//!
//! A privileged exec (`docker exec --privileged`) gets every capability the
//! engine holds, in a container that stays unprivileged; as Docker's does,
//! it keeps the container's seccomp filter, masked paths and device rules.

use std::fs;
use std::path::PathBuf;
use std::time::Duration;

use libcontainer::container::builder::ContainerBuilder;
use libcontainer::syscall::syscall::SyscallType;
use libcontainer::workload::{self, Executor, ExecutorError, ExecutorValidationError};
use nix::errno::Errno;
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use oci_spec::runtime::{Capabilities, LinuxSeccomp, Process, Spec, User as OciUser};

use super::config::User;
use super::defaults::ALL_CAPABILITIES;
use super::error::{ConfigError, ConfigErrors, RunError};
use super::run::{permitted_capabilities, quiet, runtime_error, Container, ExitStatus, Stdio};
use super::wait;

/// What to run in the container.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExecConfig {
    /// The command and its arguments.
    pub args: Vec<String>,
    /// `NAME=value` entries added to the container's environment (an entry
    /// replaces the container's value of the same name).
    pub env: Vec<String>,
    /// Working directory; the container's when absent.
    pub cwd: Option<PathBuf>,
    /// Identity; the container's when absent.
    pub user: Option<User>,
    /// Give the process its own pseudo-terminal (needs a console socket).
    pub tty: bool,
    /// Give the process every capability (`exec --privileged`).
    pub privileged: bool,
}

/// A process started in a container by [`Container::exec`]; a child of the
/// caller, who waits for it.
#[derive(Debug)]
pub struct ExecProcess {
    container_id: String,
    pid: Pid,
}

impl Container {
    /// Starts `exec` in this running container. `exec_id` names the process
    /// description written next to the container's `config.json` while the
    /// process is set up.
    pub fn exec(
        &self,
        exec_id: &str,
        exec: &ExecConfig,
        stdio: Stdio,
    ) -> Result<ExecProcess, RunError> {
        let id = self.id().to_owned();
        if exec.args.is_empty() {
            return Err(RunError::Config {
                id,
                source: ConfigErrors(vec![ConfigError::NoCommand]),
            });
        }
        let bundle = self.bundle();
        let io_error = |operation, path: &PathBuf| {
            let (id, path) = (id.clone(), path.clone());
            move |source| RunError::Io {
                id,
                operation,
                path,
                source,
            }
        };
        let config_path = bundle.join("config.json");
        let spec = Spec::load(&config_path)
            .map_err(|error| io_error("read", &config_path)(std::io::Error::other(error)))?;
        let mut process = exec_process(spec.process().clone().unwrap_or_default(), exec);
        if exec.privileged {
            // The kernel grants no capability this process lacks.
            let status_path = PathBuf::from("/proc/self/status");
            let status =
                fs::read_to_string(&status_path).map_err(io_error("read", &status_path))?;
            grant_all_capabilities(&mut process, &permitted_capabilities(&status));
        }
        let seccomp = spec
            .linux()
            .as_ref()
            .and_then(|linux| linux.seccomp().clone());
        if seccomp.is_some() {
            process.set_no_new_privileges(Some(true));
        }
        let process_path = bundle.join(format!("exec-{exec_id}.json"));
        let json = serde_json::to_vec(&process)
            .map_err(|error| io_error("serialize", &process_path)(error.into()))?;
        fs::write(&process_path, json).map_err(io_error("write", &process_path))?;

        let started = quiet(|| {
            let mut builder = ContainerBuilder::new(id.clone(), SyscallType::default())
                .with_root_path(self.state_root())?
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
            if let Some(seccomp) = seccomp {
                builder = builder.with_executor(SeccompExecutor { seccomp });
            }
            builder
                .as_tenant()
                .with_process(Some(&process_path))
                .with_detach(true)
                .build()
        });
        // The description was read during the build; a stale file is harmless.
        let _ = fs::remove_file(&process_path);
        let pid = started.map_err(|source| runtime_error(&id, "exec", source))?;
        Ok(ExecProcess {
            container_id: id,
            pid,
        })
    }
}

/// libcontainer's default executor, after loading the container's seccomp
/// filter (see the module documentation).
#[derive(Clone)]
struct SeccompExecutor {
    seccomp: LinuxSeccomp,
}

impl Executor for SeccompExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        libcontainer::seccomp::initialize_seccomp(&self.seccomp)
            .map_err(|error| ExecutorError::Execution(Box::new(error)))?;
        workload::default::get_executor().exec(spec)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        workload::default::get_executor().validate(spec)
    }
}

/// The container's process settings with the exec's overrides.
fn exec_process(mut process: Process, exec: &ExecConfig) -> Process {
    let name = |entry: &str| entry.split('=').next().unwrap_or_default().to_owned();
    let overridden: Vec<String> = exec.env.iter().map(|entry| name(entry)).collect();
    let mut env: Vec<String> = process
        .env()
        .clone()
        .unwrap_or_default()
        .into_iter()
        .filter(|entry| !overridden.contains(&name(entry)))
        .collect();
    env.extend(exec.env.iter().cloned());
    process
        .set_args(Some(exec.args.clone()))
        .set_env(Some(env))
        .set_terminal(Some(exec.tty));
    if let Some(cwd) = &exec.cwd {
        process.set_cwd(cwd.clone());
    }
    if let Some(user) = &exec.user {
        let mut oci_user = OciUser::default();
        oci_user
            .set_uid(user.uid)
            .set_gid(user.gid)
            .set_additional_gids(Some(user.additional_gids.clone()));
        process.set_user(oci_user);
    }
    process
}

/// Every capability of `available` in each set but the ambient one, as
/// Docker gives a privileged exec.
fn grant_all_capabilities(process: &mut Process, available: &Capabilities) {
    let all: Capabilities = ALL_CAPABILITIES
        .into_iter()
        .filter(|cap| available.contains(cap))
        .collect();
    let mut caps = process.capabilities().clone().unwrap_or_default();
    caps.set_bounding(Some(all.clone()))
        .set_permitted(Some(all.clone()))
        .set_inheritable(Some(all.clone()))
        .set_effective(Some(all));
    process.set_capabilities(Some(caps));
}

impl ExecProcess {
    /// The host pid of the process.
    pub fn pid(&self) -> i32 {
        self.pid.as_raw()
    }

    /// Blocks until the process exits and reaps it.
    pub fn wait(&mut self) -> Result<ExitStatus, RunError> {
        let (code, signal) = wait::reap(self.pid).map_err(|source| self.error(source))?;
        Ok(ExitStatus {
            code,
            signal,
            oom_killed: false,
        })
    }

    /// Like [`ExecProcess::wait`], but gives up after `timeout` (`Ok(None)`).
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>, RunError> {
        match wait::exits_within(self.pid, timeout) {
            Ok(true) => self.wait().map(Some),
            Ok(false) => Ok(None),
            Err(source) => Err(self.error(source)),
        }
    }

    /// Sends `signal` to the process; one that already exited is left alone.
    pub fn kill(&self, signal: Signal) -> Result<(), RunError> {
        match kill(self.pid, signal) {
            Ok(()) | Err(Errno::ESRCH) => Ok(()),
            Err(source) => Err(self.error(source)),
        }
    }

    fn error(&self, source: Errno) -> RunError {
        RunError::Wait {
            id: self.container_id.clone(),
            pid: self.pid.as_raw(),
            source,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use oci_spec::runtime::Capability;

    #[test]
    fn exec_keeps_the_container_process_and_overrides_what_it_names() {
        let mut base = Process::default();
        base.set_env(Some(vec!["PATH=/bin".to_owned(), "MODE=prod".to_owned()]))
            .set_cwd(PathBuf::from("/app"));
        let exec = ExecConfig {
            args: vec!["sh".to_owned()],
            env: vec!["MODE=debug".to_owned(), "EXTRA=1".to_owned()],
            cwd: None,
            user: Some(User {
                uid: 1000,
                gid: 100,
                additional_gids: vec![],
            }),
            tty: true,
            privileged: false,
        };
        let process = exec_process(base.clone(), &exec);
        assert_eq!(process.args().clone().unwrap(), ["sh"]);
        assert_eq!(
            process.env().clone().unwrap(),
            ["PATH=/bin", "MODE=debug", "EXTRA=1"]
        );
        assert_eq!(process.cwd(), &PathBuf::from("/app"));
        assert_eq!((process.user().uid(), process.user().gid()), (1000, 100));
        assert_eq!(process.terminal(), Some(true));
        assert_eq!(process.capabilities(), base.capabilities());
    }

    #[test]
    fn a_privileged_exec_gets_every_capability_the_engine_holds() {
        let mut process = Process::default();
        let available: Capabilities = [
            Capability::SysAdmin,
            Capability::Chown,
            Capability::NetAdmin,
        ]
        .into_iter()
        .collect();
        grant_all_capabilities(&mut process, &available);
        let caps = process.capabilities().clone().unwrap();
        for set in [
            caps.bounding(),
            caps.permitted(),
            caps.inheritable(),
            caps.effective(),
        ] {
            assert_eq!(set.as_ref(), Some(&available));
        }
        assert_eq!(
            caps.ambient(),
            Process::default().capabilities().clone().unwrap().ambient()
        );
    }
}
