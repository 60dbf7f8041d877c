//! What the monitor hands to the watcher (`stack-watch`) when it replaces
//! itself with it once the container runs: the record of the run, the
//! log's options, the container's cgroup path, and by number the
//! descriptors the watch loop reads and serves. It travels as JSON on the
//! watcher's command line (`--watch JSON`); the descriptors stay open
//! across the `execve` because the monitor clears their close-on-exec flag
//! just before it.

use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use rustix::io::{fcntl_getfd, fcntl_setfd, FdFlags};
use serde::{Deserialize, Serialize};

use super::log::Stream;
use crate::container::log_options::LogOptions;
use crate::container::run_state::RunState;

/// The monitor's state after the start, with descriptors as numbers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Handover {
    /// The run as recorded in `state.json` at the start.
    pub(crate) run: RunState,
    /// The json-file log's driver and rotation.
    pub(crate) log: LogOptions,
    /// The container's cgroup path, relative to each hierarchy's root.
    pub(crate) cgroups_path: PathBuf,
    /// The streams copied into the log: the read ends of the output pipes,
    /// or the terminal's master side.
    pub(crate) outputs: Vec<(Stream, RawFd)>,
    /// The stdin handout, with `OpenStdin` or a terminal.
    pub(crate) stdin: Option<StdinFds>,
}

/// The stdin handout's descriptors (see `stdin`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StdinFds {
    /// The listening socket (non-blocking).
    pub(crate) listener: RawFd,
    /// What it hands out: the stdin pipe's write end, or the terminal.
    pub(crate) fd: RawFd,
    /// `StdinOnce`: give it out once only.
    pub(crate) once: bool,
}

/// The descriptors of a [`Handover`], owned again in the watcher.
pub(crate) struct Taken {
    /// The streams copied into the log.
    pub(crate) outputs: Vec<(Stream, File)>,
    /// The stdin handout's listener, descriptor and `StdinOnce`.
    pub(crate) stdin: Option<(UnixListener, OwnedFd, bool)>,
}

/// Why a handover cannot be taken.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HandoverError {
    /// A number that cannot be a descriptor handed over (the standard
    /// streams are the watcher's own).
    #[error("descriptor {0} cannot be handed over")]
    Reserved(RawFd),
    /// One descriptor named twice: owning it twice would close it twice.
    #[error("descriptor {0} is handed over twice")]
    Twice(RawFd),
    /// No stream to copy.
    #[error("no output stream is handed over")]
    NoOutput,
    /// A descriptor that is not open in this process.
    #[error("descriptor {0} is not open")]
    NotOpen(RawFd),
}

impl Handover {
    /// Every descriptor number it names, outputs first.
    pub(crate) fn fds(&self) -> Vec<RawFd> {
        let mut fds: Vec<RawFd> = self.outputs.iter().map(|(_, fd)| *fd).collect();
        if let Some(stdin) = self.stdin {
            fds.extend([stdin.listener, stdin.fd]);
        }
        fds
    }

    /// Checks the numbers: at least one output, none a standard stream,
    /// none twice.
    pub(crate) fn check(&self) -> Result<(), HandoverError> {
        if self.outputs.is_empty() {
            return Err(HandoverError::NoOutput);
        }
        let fds = self.fds();
        for (index, fd) in fds.iter().enumerate() {
            if *fd <= 2 {
                return Err(HandoverError::Reserved(*fd));
            }
            if fds[..index].contains(fd) {
                return Err(HandoverError::Twice(*fd));
            }
        }
        Ok(())
    }

    /// Keeps the descriptors open across the coming `execve` (the monitor
    /// calls it just before).
    pub(crate) fn keep_across_exec(&self) -> io::Result<()> {
        for fd in self.fds() {
            // SAFETY: the monitor owns these descriptors and keeps them open
            // until the execve; only their flag changes.
            let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            fcntl_setfd(borrowed, FdFlags::empty())?;
        }
        Ok(())
    }

    /// Takes ownership of the descriptors in the watcher, after
    /// [`Handover::check`] and a check that each is open; they are made
    /// close-on-exec again.
    pub(crate) fn take(&self) -> Result<Taken, HandoverError> {
        self.check()?;
        for fd in self.fds() {
            // SAFETY: only the descriptor's flags are read and set.
            let borrowed = unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) };
            fcntl_getfd(borrowed)
                .and_then(|_| fcntl_setfd(borrowed, FdFlags::CLOEXEC))
                .map_err(|_| HandoverError::NotOpen(fd))?;
        }
        // SAFETY (each from_raw_fd below): the numbers are open, distinct
        // and not the standard streams (checked above), and nothing else in
        // this process owns them: the monitor's owners did not survive its
        // execve, and this is the only place that wraps them.
        let outputs = self
            .outputs
            .iter()
            .map(|(stream, fd)| (*stream, unsafe { File::from_raw_fd(*fd) }))
            .collect();
        let stdin = self.stdin.map(|stdin| unsafe {
            (
                UnixListener::from_raw_fd(stdin.listener),
                OwnedFd::from_raw_fd(stdin.fd),
                stdin.once,
            )
        });
        Ok(Taken { outputs, stdin })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::run_state::RunStatus;

    fn handover(outputs: Vec<(Stream, RawFd)>, stdin: Option<StdinFds>) -> Handover {
        Handover {
            run: RunState {
                status: RunStatus::Running,
                pid: 42,
                monitor_pid: 41,
                started_at: "2026-11-23T21:00:00.000000001Z".into(),
                started_unix: 1_795_467_600,
                finished_unix: 0,
                finished_at: None,
                exit_code: None,
                oom_killed: false,
                error: None,
            },
            log: LogOptions {
                max_size: Some(1024),
                max_file: 3,
                ..LogOptions::default()
            },
            cgroups_path: "/stack/abc".into(),
            outputs,
            stdin,
        }
    }

    #[test]
    fn the_json_on_the_command_line_parses_back() {
        let sent = handover(
            vec![(Stream::Stdout, 5), (Stream::Stderr, 7)],
            Some(StdinFds {
                listener: 8,
                fd: 9,
                once: true,
            }),
        );
        let json = serde_json::to_string(&sent).unwrap();
        let received: Handover = serde_json::from_str(&json).unwrap();
        assert_eq!(received, sent);
        assert_eq!(received.fds(), [5, 7, 8, 9]);
        assert_eq!(received.check(), Ok(()));
    }

    #[test]
    fn standard_streams_repeats_and_no_output_are_refused() {
        let stdin = |listener, fd| {
            Some(StdinFds {
                listener,
                fd,
                once: false,
            })
        };
        let check = |outputs, stdin| handover(outputs, stdin).check();
        assert_eq!(check(vec![], None), Err(HandoverError::NoOutput));
        assert_eq!(
            check(vec![(Stream::Stdout, 1)], None),
            Err(HandoverError::Reserved(1))
        );
        assert_eq!(
            check(vec![(Stream::Stdout, 5)], stdin(6, -1)),
            Err(HandoverError::Reserved(-1))
        );
        assert_eq!(
            check(vec![(Stream::Stdout, 5), (Stream::Stderr, 5)], None),
            Err(HandoverError::Twice(5))
        );
        assert_eq!(
            check(vec![(Stream::Stdout, 5)], stdin(6, 5)),
            Err(HandoverError::Twice(5))
        );
    }

    #[test]
    fn descriptors_are_taken_only_when_open() {
        let (read, write) = rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).unwrap();
        let sent = handover(
            vec![(Stream::Stdout, std::os::fd::IntoRawFd::into_raw_fd(read))],
            None,
        );
        sent.keep_across_exec().unwrap();
        let taken = sent.take().unwrap();
        assert_eq!(taken.outputs.len(), 1);
        let flags = fcntl_getfd(&taken.outputs[0].1).unwrap();
        assert!(flags.contains(FdFlags::CLOEXEC));
        drop((taken, write));
        // Above the open-files limit: never open.
        let closed = handover(vec![(Stream::Stdout, 1_000_000)], None);
        assert!(matches!(
            closed.take(),
            Err(HandoverError::NotOpen(1_000_000))
        ));
    }
}
