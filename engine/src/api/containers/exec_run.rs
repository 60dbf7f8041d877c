//! Starting the exec helper (`stack-monitor --exec`, see
//! `monitor::exec`) for one process in a running container, and running
//! a health-check probe with it.
//!
//! The helper's standard streams are the process's (pipes, or nothing with
//! a TTY); its fd 3 is one end of a socket pair on which it reports the
//! process's pid (with the terminal's master side attached) or why it
//! could not start it. Its exit code is the process's.

use std::io::IoSliceMut;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::process::Stdio as ProcessStdio;
use std::time::Duration;

use nix::sys::socket::{
    recvmsg, socketpair, AddressFamily, ControlMessageOwned, MsgFlags, SockFlag, SockType,
};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};

use super::super::Context;
use crate::container::health::truncate_output;
use crate::container::Entry;
use crate::monitor::exec::{ExecRequest, CONTROL_FD};
use crate::monitor::{spawn_error, MonitorArgs};

/// A process started in a container.
pub(super) struct Started {
    /// The helper; it exits with the process's exit code.
    pub(super) helper: Child,
    /// The process's host pid.
    pub(super) pid: i32,
    /// The terminal's master side, for a TTY process.
    pub(super) master: Option<OwnedFd>,
}

/// Why a process could not be started.
#[derive(Debug)]
pub(super) struct StartError {
    /// What went wrong.
    pub(super) message: String,
    /// The exit code Docker gives such an exec (126, or 127 when not found).
    pub(super) exit_code: i64,
}

/// Starts `request` in `entry`'s container; `stdin` pipes the helper's
/// standard input (for an attached client).
pub(super) async fn start(
    ctx: &Context,
    entry: &Entry,
    request: &ExecRequest,
    stdin: bool,
) -> Result<Started, StartError> {
    // The helper moves the process into the container's cgroups.
    crate::runtime::migration::start_grace_period();
    let cannot = |message: String| StartError {
        message,
        exit_code: i64::from(crate::monitor::exec::EXIT_CANNOT_RUN),
    };
    let exe = ctx.containers.monitor_exe().cloned().ok_or_else(|| {
        cannot("this daemon was started without a monitor executable; it cannot exec".into())
    })?;
    let layout = ctx.containers.layout();
    let args = MonitorArgs {
        root: layout.root().to_path_buf(),
        run_dir: layout.run_dir().to_path_buf(),
        id: entry.record.id.clone(),
    };
    let (ours, theirs) = socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .map_err(|e| cannot(format!("cannot create the exec's control socket: {e}")))?;
    let piped = |on: bool| {
        if on {
            ProcessStdio::piped()
        } else {
            ProcessStdio::null()
        }
    };
    let mut command = Command::new(&exe);
    command
        .args(args.to_exec_args(request))
        .stdin(piped(stdin && !request.tty))
        .stdout(piped(!request.tty))
        .stderr(piped(!request.tty))
        .process_group(0);
    let control = theirs.as_raw_fd();
    // SAFETY: between fork and exec only async-signal-safe calls are made
    // (dup2, fcntl), on a descriptor this process owns.
    unsafe {
        command.pre_exec(move || {
            if control == CONTROL_FD {
                // Already in place: only its close-on-exec flag must go.
                nix::fcntl::fcntl(
                    control,
                    nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
                )?;
            } else {
                nix::unistd::dup2(control, CONTROL_FD)?;
            }
            Ok(())
        });
    }
    let helper = command
        .spawn()
        .map_err(|e| cannot(spawn_error(&exe, "the exec helper", &e)))?;
    drop(theirs);
    let report = tokio::task::spawn_blocking(move || read_report(&ours))
        .await
        .map_err(|e| cannot(format!("the exec helper's report was lost: {e}")))?;
    let (line, master) =
        report.map_err(|e| cannot(format!("cannot read the exec helper's report: {e}")))?;
    if let Some(pid) = line
        .strip_prefix("pid ")
        .and_then(|p| p.trim().parse().ok())
    {
        return Ok(Started {
            helper,
            pid,
            master,
        });
    }
    let message = line
        .strip_prefix("error: ")
        .unwrap_or(&line)
        .trim()
        .to_owned();
    let mut helper = helper;
    let exit_code = match helper.wait().await {
        Ok(status) => status.code().map_or(126, i64::from),
        Err(_) => 126,
    };
    let message = if message.is_empty() {
        "the exec helper exited without starting the process".to_owned()
    } else {
        message
    };
    Err(StartError { message, exit_code })
}

/// One line from a control socket, with the descriptor sent along it.
pub(super) fn read_report(socket: &OwnedFd) -> std::io::Result<(String, Option<OwnedFd>)> {
    let mut line = Vec::new();
    let mut master = None;
    let mut buffer = [0u8; 512];
    while !line.contains(&b'\n') {
        let mut iov = [IoSliceMut::new(&mut buffer)];
        let mut space = nix::cmsg_space!([std::os::fd::RawFd; 1]);
        let message = match recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Ok(message) => message,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(errno.into()),
        };
        for cmsg in message.cmsgs().map_err(std::io::Error::from)? {
            if let ControlMessageOwned::ScmRights(fds) = cmsg {
                for fd in fds {
                    // SAFETY: the kernel just installed this descriptor for us alone.
                    master = Some(unsafe { OwnedFd::from_raw_fd(fd) });
                }
            }
        }
        let read = message.bytes;
        if read == 0 {
            break;
        }
        line.extend_from_slice(&buffer[..read]);
    }
    Ok((String::from_utf8_lossy(&line).into_owned(), master))
}

/// How a probe ended: its exit code (-1 when it timed out or could not
/// run) and its output.
pub(super) struct ProbeOutcome {
    pub(super) exit_code: i64,
    pub(super) output: String,
}

/// Runs a health-check probe: `args` in the container, its output
/// collected, killed after `timeout`.
pub(super) async fn probe(
    ctx: &Context,
    entry: &Entry,
    args: Vec<String>,
    timeout: Duration,
) -> ProbeOutcome {
    let request = ExecRequest {
        args,
        name: format!("probe-{}", &entry.record.id[..12]),
        ..ExecRequest::default()
    };
    let started = match start(ctx, entry, &request, false).await {
        Ok(started) => started,
        Err(error) => {
            return ProbeOutcome {
                exit_code: -1,
                output: error.message,
            }
        }
    };
    let Started {
        mut helper, pid, ..
    } = started;
    let mut stdout = helper.stdout.take();
    let mut stderr = helper.stderr.take();
    let run = async {
        let mut out = Vec::new();
        let mut err = Vec::new();
        let read_out = async {
            if let Some(pipe) = stdout.as_mut() {
                let _ = pipe.read_to_end(&mut out).await;
            }
        };
        let read_err = async {
            if let Some(pipe) = stderr.as_mut() {
                let _ = pipe.read_to_end(&mut err).await;
            }
        };
        tokio::join!(read_out, read_err);
        let status = helper.wait().await;
        out.extend_from_slice(&err);
        (status, out)
    };
    match tokio::time::timeout(timeout, run).await {
        Ok((status, output)) => ProbeOutcome {
            exit_code: match status {
                Ok(status) => status.code().map_or(-1, i64::from),
                Err(_) => -1,
            },
            output: truncate_output(&output),
        },
        Err(_) => {
            // The helper has not reaped the probe yet (it exits right
            // after), so the pid still names the probe.
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
            ProbeOutcome {
                exit_code: -1,
                output: format!("Health check exceeded timeout ({timeout:?})"),
            }
        }
    }
}
