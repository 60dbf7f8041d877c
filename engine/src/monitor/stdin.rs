//! Handing the container's standard input to the daemon: for a container
//! with a TTY, the terminal's master side (which also takes resizes); for
//! one with `OpenStdin`, the write end of its stdin pipe. The monitor
//! listens on a socket in the run directory; each connection gets one line,
//! `ok`, with the descriptor attached (`SCM_RIGHTS`), and is closed. The
//! daemon writes what attached clients type into it directly, so the
//! monitor's loop only has to answer connections.
//!
//! With `StdinOnce`, the monitor gives up its own copy of the pipe once it
//! handed it out: when the client that got it is done, the container reads
//! the end of its input (`echo hi | docker run -i busybox cat`).

use std::io::{self, IoSlice};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::net::UnixListener;
use std::path::PathBuf;

use nix::sys::socket::{sendmsg, ControlMessage, MsgFlags};

/// The listening socket and the descriptor it hands out.
pub(super) struct StdinHandout {
    listener: UnixListener,
    path: PathBuf,
    fd: Option<OwnedFd>,
    once: bool,
}

impl StdinHandout {
    /// Listens on `path` (replacing a stale socket) to hand out `fd`.
    pub(super) fn bind(path: PathBuf, fd: OwnedFd, once: bool) -> io::Result<StdinHandout> {
        // A socket left by a monitor that died is stale.
        let _ = std::fs::remove_file(&path);
        let listener = UnixListener::bind(&path)?;
        listener.set_nonblocking(true)?;
        Ok(StdinHandout {
            listener,
            path,
            fd: Some(fd),
            once,
        })
    }

    /// The handout as the watcher takes it over from the monitor: `listener`
    /// listens (non-blocking) on `path`.
    pub(super) fn adopt(
        listener: UnixListener,
        path: PathBuf,
        fd: OwnedFd,
        once: bool,
    ) -> StdinHandout {
        StdinHandout {
            listener,
            path,
            fd: Some(fd),
            once,
        }
    }

    /// The listening socket's descriptor number.
    pub(super) fn listener_fd(&self) -> RawFd {
        self.listener.as_raw_fd()
    }

    /// The number of the descriptor it hands out, until given away.
    pub(super) fn fd(&self) -> Option<RawFd> {
        self.fd.as_ref().map(AsRawFd::as_raw_fd)
    }

    /// Whether it hands its descriptor out once only (`StdinOnce`).
    pub(super) fn once(&self) -> bool {
        self.once
    }

    /// What the monitor's loop polls for connections.
    pub(super) fn poll_fd(&self) -> BorrowedFd<'_> {
        self.listener.as_fd()
    }

    /// Answers the waiting connections.
    pub(super) fn serve(&mut self) {
        while let Ok((stream, _)) = self.listener.accept() {
            let Some(fd) = &self.fd else {
                // Given away already (`StdinOnce`): the connection just closes.
                continue;
            };
            let fds = [fd.as_raw_fd()];
            let iov = [IoSlice::new(b"ok\n")];
            let sent = sendmsg::<()>(
                stream.as_raw_fd(),
                &iov,
                &[ControlMessage::ScmRights(&fds)],
                MsgFlags::empty(),
                None,
            );
            if sent.is_ok() && self.once {
                self.fd = None;
            }
        }
    }
}

impl Drop for StdinHandout {
    fn drop(&mut self) {
        // Ours; a failure only leaves a stale socket for the next start.
        let _ = std::fs::remove_file(&self.path);
    }
}
