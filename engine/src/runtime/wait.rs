//! Waiting for a child process: blocking with its exit status, or with a
//! deadline through a pidfd (which signals the exit without reaping).

use std::os::fd::{AsFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::Pid;

/// Reaps `pid`: its exit code, or 128 + the signal that killed it and the signal.
pub(crate) fn reap(pid: Pid) -> Result<(i32, Option<i32>), Errno> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok((code, None)),
            Ok(WaitStatus::Signaled(_, signal, _)) => {
                return Ok((128 + signal as i32, Some(signal as i32)))
            }
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
        }
    }
}

/// Whether `pid` exits within `timeout` (it is not reaped).
pub(crate) fn exits_within(pid: Pid, timeout: Duration) -> Result<bool, Errno> {
    // SAFETY: pidfd_open takes a pid and flags and returns a new descriptor
    // or -1; it touches no memory of ours.
    let raw = unsafe { nix::libc::syscall(nix::libc::SYS_pidfd_open, pid.as_raw(), 0) };
    let raw = RawFd::try_from(raw).map_err(|_| Errno::EBADF)?;
    if raw < 0 {
        return Err(Errno::last());
    }
    // SAFETY: the kernel just returned this descriptor to us alone.
    let pidfd = unsafe { OwnedFd::from_raw_fd(raw) };
    let deadline = Instant::now() + timeout;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        let left = PollTimeout::try_from(left).unwrap_or(PollTimeout::MAX);
        let mut fds = [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)];
        match poll(&mut fds, left) {
            Ok(0) => return Ok(false),
            Ok(_) => return Ok(true),
            Err(Errno::EINTR) => continue,
            Err(errno) => return Err(errno),
        }
    }
}
