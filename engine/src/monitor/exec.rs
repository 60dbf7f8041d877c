//! `stack-monitor --exec JSON ID`: one process run in a running container
//! (`docker exec`, and each health-check probe), from a short-lived helper
//! process the daemon spawns.
//!
//! libcontainer forks its caller to join a container, which the daemon's
//! threads must not do; the container's own monitor is single-threaded but
//! busy in its poll loop and must stay small. So each exec gets a helper of
//! its own, the monitor's executable started with `--exec`: it loads the
//! container from libcontainer's state, starts the process with the
//! helper's standard streams (or a pseudo-terminal), tells the daemon the
//! process's pid on the control socket at fd 3 (with the terminal's master
//! side attached as `SCM_RIGHTS`, so that the daemon relays and resizes it),
//! waits for the process and exits with its exit code. A process that could
//! not be started is reported on the control socket as `error: ...` and the
//! helper exits 126 (127 when the command was not found), as Docker does.

use std::fs;
use std::io::{self, IoSlice};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};
use serde::{Deserialize, Serialize};

use super::MonitorArgs;
use crate::container::launch::{resolve_groups, resolve_user, LaunchSpec};
use crate::runtime::{set_size, ConsoleSocket, ExecConfig, Runtime, Stdio};
use crate::state::{self, Layout};

/// The descriptor the daemon gives the helper for its reports.
pub const CONTROL_FD: RawFd = 3;

/// Exit code of a helper whose process could not be started.
pub const EXIT_CANNOT_RUN: i32 = 126;

/// Exit code of a helper whose command was not found.
pub const EXIT_NOT_FOUND: i32 = 127;

/// What to run, as the daemon passes it (JSON, on the command line).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExecRequest {
    /// The command and its arguments.
    pub args: Vec<String>,
    /// `NAME=value` entries added to the container's environment.
    #[serde(default)]
    pub env: Vec<String>,
    /// Working directory; the container's when empty.
    #[serde(default)]
    pub cwd: String,
    /// `user[:group]`; the container's when empty.
    #[serde(default)]
    pub user: String,
    /// Give the process a pseudo-terminal.
    #[serde(default)]
    pub tty: bool,
    /// Give the process every capability (`exec --privileged`).
    #[serde(default)]
    pub privileged: bool,
    /// A short name for the console socket and the process description.
    pub name: String,
    /// The terminal's first size (rows, columns), set as soon as it exists.
    #[serde(default)]
    pub console_size: Option<(u16, u16)>,
}

/// Runs `request` in container `args.id`; returns the helper's exit code.
/// Must be called from a single-threaded process whose fd 3 is the control
/// socket.
pub(super) fn run(args: &MonitorArgs, request: &ExecRequest) -> i32 {
    // SAFETY: the daemon opened fd 3 for this process alone.
    let control = unsafe { OwnedFd::from_raw_fd(CONTROL_FD) };
    let layout = Layout::new(args.root.clone(), args.run_dir.clone());
    match start(&layout, &args.id, request) {
        Ok((mut process, master)) => {
            let report = format!("pid {}\n", process.pid());
            let sent = match &master {
                Some(fd) => send(&control, report.as_bytes(), Some(fd.as_raw_fd())),
                None => send(&control, report.as_bytes(), None),
            };
            if let Err(error) = sent {
                eprintln!("stack exec: cannot report to the daemon: {error}");
            }
            // The daemon holds the terminal now; the process keeps its slave side.
            drop(master);
            match process.wait() {
                Ok(status) => status.code,
                Err(error) => {
                    eprintln!("stack exec: {}", crate::api::chain(&error));
                    EXIT_CANNOT_RUN
                }
            }
        }
        Err(message) => {
            let line = format!("error: {}\n", message.replace('\n', " "));
            let _ = send(&control, line.as_bytes(), None);
            if not_found(&message) {
                EXIT_NOT_FOUND
            } else {
                EXIT_CANNOT_RUN
            }
        }
    }
}

/// Whether an exec error says the command does not exist.
fn not_found(message: &str) -> bool {
    let lower = message.to_ascii_lowercase();
    lower.contains("not found") || lower.contains("no such file")
}

fn start(
    layout: &Layout,
    id: &str,
    request: &ExecRequest,
) -> Result<(crate::runtime::ExecProcess, Option<OwnedFd>), String> {
    let runtime = Runtime::new(layout.runtime_state(), layout.cgroup_parent());
    let container = runtime
        .load(id)
        .map_err(|e| format!("container {id} is not running: {}", crate::api::chain(&e)))?;
    let user = if request.user.is_empty() {
        None
    } else {
        let etc = layout.container_rootfs(id).join("etc");
        let read = |name: &str| fs::read_to_string(etc.join(name)).unwrap_or_default();
        let mut user = resolve_user(&request.user, &read("passwd"), &read("group"))?;
        // The container's `GroupAdd` applies to every user its processes
        // run as, as with Docker.
        let launch_path = layout.container_launch(id);
        let launch: Option<LaunchSpec> = state::read_json(&launch_path)
            .map_err(|e| format!("cannot read {}: {e}", launch_path.display()))?;
        let group_add = launch.map(|l| l.group_add).unwrap_or_default();
        user.additional_gids = resolve_groups(&group_add, &read("group"))?;
        Some(user)
    };
    let config = ExecConfig {
        args: request.args.clone(),
        env: request.env.clone(),
        cwd: (!request.cwd.is_empty()).then(|| PathBuf::from(&request.cwd)),
        user,
        tty: request.tty,
        privileged: request.privileged,
    };
    let console = if request.tty {
        let path = layout.run_dir().join(format!("exec-{}.sock", request.name));
        // A socket left by a helper that died is stale.
        let _ = fs::remove_file(&path);
        Some(ConsoleSocket::bind(path).map_err(|e| format!("cannot open a console socket: {e}"))?)
    } else {
        None
    };
    let stdio = Stdio {
        console_socket: console.as_ref().map(|c| c.path().to_path_buf()),
        ..Stdio::default()
    };
    let process = container
        .exec(&request.name, &config, stdio)
        .map_err(|e| crate::api::chain(&e))?;
    let master = match &console {
        Some(console) => {
            let master = console
                .receive_master()
                .map_err(|e| format!("cannot receive the terminal: {e}"))?;
            if let Some((rows, cols)) = request.console_size {
                // A size the terminal cannot take leaves the default one.
                let _ = set_size(&master, rows, cols);
            }
            Some(master)
        }
        None => None,
    };
    Ok((process, master))
}

/// Writes `bytes` on the control socket, with `fd` attached.
fn send(control: &OwnedFd, bytes: &[u8], fd: Option<RawFd>) -> io::Result<()> {
    let iov = [IoSlice::new(bytes)];
    let fds = fd.map(|fd| [fd]);
    let cmsgs: Vec<ControlMessage> = fds.iter().map(|f| ControlMessage::ScmRights(f)).collect();
    sendmsg::<()>(control.as_raw_fd(), &iov, &cmsgs, MsgFlags::empty(), None)
        .map(|_| ())
        .map_err(io::Error::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_commands_are_told_apart() {
        assert!(not_found(
            "exec failed: executable file `nope` not found in $PATH"
        ));
        assert!(not_found("No such file or directory (os error 2)"));
        assert!(!not_found("permission denied"));
    }

    #[test]
    fn requests_round_trip_as_json() {
        let request = ExecRequest {
            args: vec!["sh".into(), "-c".into(), "exit 3".into()],
            tty: true,
            name: "abc".into(),
            ..ExecRequest::default()
        };
        let text = serde_json::to_string(&request).unwrap();
        assert_eq!(serde_json::from_str::<ExecRequest>(&text).unwrap(), request);
    }
}
