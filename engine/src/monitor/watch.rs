//! The long-lived part of the monitor: `stack-watch`, the small executable
//! the monitor replaces itself with (`execve`) once its container runs.
//! Creating the container needs libcontainer, and a process that ran it
//! keeps, for the container's whole life, hundreds of kilobytes of data
//! the loader relocated at its start (panic locations, vtables, Unicode
//! tables), private to each monitor. The watcher links none of that: it
//! copies the container's output into the log, hands out its input,
//! reaps its init process, removes what libcontainer's delete would
//! (the container's processes and cgroup directories in every hierarchy,
//! libcontainer's state directory), unmounts the root filesystem and
//! records the exit. A container that runs longer than half a second gets
//! the pages of the watcher's own start given back ([`super::shrink`]).
//!
//! An `execve` keeps the process's pid, its children (the container's init
//! stays its child, so it alone can reap it), its mount namespace (where
//! the root filesystem is mounted), its process group and its standard
//! streams, so nothing changes for the daemon: `state.json` names the same
//! monitor pid, and the watcher's command line names the container as the
//! monitor's did (see [`super::Invocation`]). If the `execve` fails, the
//! monitor runs the same loop itself.

use std::ffi::{CString, OsString};
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

use super::handover::{Handover, StdinFds};
use super::log::{JsonLog, Stream};
use super::shrink;
use super::stdin::StdinHandout;
use super::{rootfs, ArgsError, Invocation, MonitorArgs, MonitorMissing};
use crate::container::log_options::LogOptions;
use crate::container::run_state::{RunState, RunStatus};
use crate::runtime::{wait, CgroupMounts};
use crate::state::{self, time::rfc3339_nanos, Layout};

/// The watcher executable's file name: it is found next to the monitor's.
pub const EXECUTABLE: &str = "stack-watch";

/// How long the watcher keeps reading output after the init process
/// exited: its pid namespace is gone, so only a process outside it that
/// inherited the pipes could keep them open.
const DRAIN_AFTER_EXIT: Duration = Duration::from_secs(2);

/// How long a container runs before its watcher gives back the pages its
/// start mapped (see [`super::shrink`]): a short-lived container (a `run
/// --rm` of one command) ends before that and does not pay for it on its
/// exit path, where the dropped pages would fault back in.
const SHRINK_AFTER: Duration = Duration::from_millis(500);

/// The streams copied into the log, each with its name.
pub(super) type Outputs = Vec<(Stream, File)>;

/// `stack-watch` next to the monitor executable at `monitor`.
pub fn executable_next_to(monitor: &Path) -> PathBuf {
    monitor.with_file_name(EXECUTABLE)
}

/// Checks that the watcher next to the monitor executable `monitor` is an
/// executable file (the daemon does at its start, each monitor before it
/// creates its container).
pub fn check_executable(monitor: &Path) -> Result<(), MonitorMissing> {
    let path = executable_next_to(monitor);
    super::check_executable(&path).map_err(|missing| match missing {
        MonitorMissing::NotFound(_) => MonitorMissing::WatcherNotFound(path),
        _ => MonitorMissing::WatcherNotExecutable(path),
    })
}

/// What a container's watch needs, owned.
pub(super) struct Watch {
    /// The run as recorded at the start; the watch records its end.
    pub(super) run: RunState,
    /// The log's driver and rotation.
    pub(super) log: LogOptions,
    /// The container's cgroup path, relative to each hierarchy's root.
    pub(super) cgroups_path: PathBuf,
    /// The streams copied into the log.
    pub(super) outputs: Outputs,
    /// The stdin handout, with `OpenStdin` or a terminal.
    pub(super) handout: Option<StdinHandout>,
}

impl Watch {
    fn handover(&self) -> Handover {
        Handover {
            run: self.run.clone(),
            log: self.log,
            cgroups_path: self.cgroups_path.clone(),
            outputs: self
                .outputs
                .iter()
                .map(|(stream, file)| (*stream, file.as_raw_fd()))
                .collect(),
            // A handout whose descriptor was given away (never the case
            // before the watch starts) has nothing left to serve.
            stdin: self.handout.as_ref().and_then(|handout| {
                Some(StdinFds {
                    listener: handout.listener_fd(),
                    fd: handout.fd()?,
                    once: handout.once(),
                })
            }),
        }
    }
}

/// Replaces the monitor with the watcher at `watcher`, handing `watch`
/// over; returns only if that fails, after running the watch here.
pub(super) fn hand_over(args: &MonitorArgs, watcher: &Path, watch: Watch) -> io::Result<()> {
    let error = exec(args, watcher, &watch.handover());
    eprintln!(
        "stack-monitor {}: cannot run the watcher {}: {error}; the monitor watches the container itself",
        args.id,
        watcher.display()
    );
    let layout = Layout::new(args.root.clone(), args.run_dir.clone());
    run(&layout, &args.id, watch)
}

/// `execve`s the watcher with `handover`; returns only on failure.
fn exec(args: &MonitorArgs, watcher: &Path, handover: &Handover) -> io::Error {
    let json = match serde_json::to_string(handover) {
        Ok(json) => json,
        Err(error) => return io::Error::other(error),
    };
    let cstring = |bytes: &[u8]| CString::new(bytes).map_err(io::Error::other);
    let argv: io::Result<Vec<CString>> = std::iter::once(watcher.as_os_str().to_owned())
        .chain(args.to_watch_args(json))
        .map(|arg| cstring(arg.as_bytes()))
        .collect();
    let (path, argv) = match (cstring(watcher.as_os_str().as_bytes()), argv) {
        (Ok(path), Ok(argv)) => (path, argv),
        (Err(error), _) | (_, Err(error)) => return error,
    };
    if let Err(error) = handover.keep_across_exec() {
        return error;
    }
    match nix::unistd::execv(&path, &argv) {
        Err(errno) => errno.into(),
        Ok(never) => match never {},
    }
}

/// The `stack-watch` executable's work, as `args` (the arguments after the
/// program's name) say; returns the process's exit code: 0 when the
/// container's end was recorded, 1 when not, 2 for a command line that is
/// not a monitor's.
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    let (args, json) = match Invocation::parse(args) {
        Ok(Invocation {
            args,
            exec: None,
            watch: Some(json),
        }) => (args, json),
        Ok(_) => return usage(&ArgsError::Missing("--watch")),
        Err(error) => return usage(&error),
    };
    let watch = serde_json::from_str::<Handover>(&json)
        .map_err(|error| format!("invalid handover: {error}"))
        .and_then(|handover| {
            let taken = handover
                .take()
                .map_err(|error| format!("invalid handover: {error}"))?;
            let layout = Layout::new(args.root.clone(), args.run_dir.clone());
            let handout = taken.stdin.map(|(listener, fd, once)| {
                StdinHandout::adopt(listener, layout.container_stdin_socket(&args.id), fd, once)
            });
            Ok((
                layout,
                Watch {
                    run: handover.run,
                    log: handover.log,
                    cgroups_path: handover.cgroups_path,
                    outputs: taken.outputs,
                    handout,
                },
            ))
        });
    let result = match watch {
        Ok((layout, watch)) => run(&layout, &args.id, watch),
        Err(message) => Err(io::Error::other(message)),
    };
    match result {
        Ok(()) => 0,
        Err(error) => {
            eprintln!("stack-watch {}: {error}", args.id);
            1
        }
    }
}

fn usage(error: &ArgsError) -> u8 {
    eprintln!(
        "stack-watch: {error}\nusage: stack-watch --root DIR --run-dir DIR --watch JSON ID \
         (a container's monitor becomes it; it is not run by hand)"
    );
    2
}

/// Watches container `id` to its end: copies its output into the log
/// while handing out its input, reaps its init process, removes the
/// container and records the exit in `state.json`.
fn run(layout: &Layout, id: &str, watch: Watch) -> io::Result<()> {
    let Watch {
        mut run,
        log,
        cgroups_path,
        outputs,
        mut handout,
    } = watch;
    let pid = run.pid;
    let copied = match JsonLog::open(layout.container_log(id), log) {
        Ok(mut log) => copy_output(&mut log, outputs, pid, handout.as_mut())
            .and_then(|()| log.finish())
            .map_err(|e| format!("cannot write the log: {e}")),
        Err(error) => {
            // The container goes on, its output read and dropped, rather
            // than blocked on a full pipe or killed by a closed one.
            let mut sink = JsonLog::new(io::sink());
            let _ = copy_output(&mut sink, outputs, pid, handout.as_mut());
            Err(format!("cannot open the log: {error}"))
        }
    };
    drop(handout);
    let status = wait::reap(nix::unistd::Pid::from_raw(pid));
    let mounts = CgroupMounts::from_proc();
    let finished = SystemTime::now();
    run.status = RunStatus::Exited;
    run.finished_at = Some(rfc3339_nanos(finished));
    run.finished_unix = unix_seconds(finished);
    match status {
        Ok((code, _)) => {
            run.exit_code = Some(code);
            run.oom_killed = mounts
                .as_ref()
                .ok()
                .and_then(|mounts| mounts.oom_kills(&cgroups_path))
                .is_some_and(|kills| kills > 0);
        }
        Err(errno) => {
            run.exit_code = Some(-1);
            run.error = Some(format!(
                "cannot wait for the container's process {pid}: {errno}"
            ));
        }
    }
    if let Err(error) = copied {
        run.error.get_or_insert(error);
    }
    if let Err(error) = remove(layout, id, mounts, &cgroups_path) {
        eprintln!("stack-watch {id}: {error}");
    }
    rootfs::unmount(&layout.container_rootfs(id));
    state::write_json_replace(&layout.container_state(id), &run)
}

/// What libcontainer's delete of a stopped container removes: what still
/// runs in its cgroups is killed, its cgroup directories are removed in
/// every hierarchy (with the parents it leaves empty), and so is
/// libcontainer's state directory.
fn remove(
    layout: &Layout,
    id: &str,
    mounts: io::Result<CgroupMounts>,
    cgroups_path: &Path,
) -> io::Result<()> {
    let mounts = mounts.map_err(|e| {
        io::Error::new(
            e.kind(),
            format!("cannot read the cgroup mounts to remove the container's cgroups: {e}"),
        )
    })?;
    mounts.kill(cgroups_path);
    mounts.remove(cgroups_path).map_err(|(path, e)| {
        io::Error::new(e.kind(), format!("cannot remove {}: {e}", path.display()))
    })?;
    let dir = layout.runtime_state().join(id);
    match fs::remove_dir_all(&dir) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io::Error::new(
            e.kind(),
            format!("cannot remove {}: {e}", dir.display()),
        )),
        _ => Ok(()),
    }
}

/// Copies the container's output into the log until every stream ends, or
/// until [`DRAIN_AFTER_EXIT`] after its init process `pid` exited, handing
/// out its input meanwhile.
fn copy_output<W: Write>(
    log: &mut JsonLog<W>,
    mut pipes: Outputs,
    pid: i32,
    mut handout: Option<&mut StdinHandout>,
) -> io::Result<()> {
    let pidfd: Option<OwnedFd> = rustix::process::Pid::from_raw(pid).and_then(|pid| {
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
    });
    let mut exited_at: Option<Instant> = None;
    let started = Instant::now();
    let mut shrunk = false;
    let mut buffer = vec![0u8; 32 * 1024];
    while !pipes.is_empty() {
        if !shrunk && exited_at.is_none() && started.elapsed() >= SHRINK_AFTER {
            shrink::shrink();
            shrunk = true;
        }
        let timeout = match exited_at {
            Some(at) => {
                let left = DRAIN_AFTER_EXIT.saturating_sub(at.elapsed());
                if left.is_zero() {
                    break;
                }
                PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX)
            }
            None if !shrunk => {
                PollTimeout::try_from(SHRINK_AFTER.saturating_sub(started.elapsed()))
                    .unwrap_or(PollTimeout::MAX)
            }
            None => PollTimeout::NONE,
        };
        let mut fds: Vec<PollFd> = pipes
            .iter()
            .map(|(_, file)| PollFd::new(file.as_fd(), PollFlags::POLLIN))
            .collect();
        let handout_index = fds.len();
        if let Some(handout) = handout.as_deref() {
            fds.push(PollFd::new(handout.poll_fd(), PollFlags::POLLIN));
        }
        let watch_exit = exited_at.is_none() && pidfd.is_some();
        if let Some(pidfd) = pidfd.as_ref().filter(|_| watch_exit) {
            fds.push(PollFd::new(pidfd.as_fd(), PollFlags::POLLIN));
        }
        match poll(&mut fds, timeout) {
            Ok(_) => {}
            Err(nix::errno::Errno::EINTR) => continue,
            Err(errno) => return Err(errno.into()),
        }
        let ready: Vec<bool> = fds
            .iter()
            .map(|fd| fd.revents().is_some_and(|r| !r.is_empty()))
            .collect();
        drop(fds);
        if watch_exit && ready.last() == Some(&true) {
            exited_at = Some(Instant::now());
        }
        if let Some(handout) = handout.as_deref_mut() {
            if ready[handout_index] {
                handout.serve();
            }
        }
        let mut ended = Vec::new();
        for (index, (stream, file)) in pipes.iter_mut().enumerate() {
            if !ready[index] {
                continue;
            }
            match file.read(&mut buffer) {
                Ok(0) => ended.push(index),
                Ok(n) => log.push(*stream, &buffer[..n])?,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A terminal whose every slave side closed: the process ended.
                Err(e) if e.raw_os_error() == Some(nix::libc::EIO) => ended.push(index),
                Err(e) => return Err(e),
            }
        }
        for index in ended.into_iter().rev() {
            pipes.remove(index);
        }
    }
    Ok(())
}

pub(super) fn unix_seconds(t: SystemTime) -> i64 {
    crate::state::time::unix_nanos(t) / 1_000_000_000
}
