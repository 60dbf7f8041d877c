//! Bringing up `lo` in a container's new network namespace. A fresh
//! namespace has its loopback device down; Docker containers (even with
//! `network_mode: none`) always have it up, and libcontainer does not do it.

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use nix::libc;
use nix::sched::{setns, CloneFlags};

/// Sets `lo` up in the network namespace of process `pid`.
///
/// The work happens on a short-lived thread, because entering a network
/// namespace changes only the calling thread: the caller's own namespace is
/// never touched, and the thread is gone (so the process is single-threaded
/// again, as libcontainer needs) when this returns.
pub(crate) fn bring_up(pid: i32) -> io::Result<()> {
    let netns = File::open(format!("/proc/{pid}/ns/net"))?;
    std::thread::spawn(move || {
        setns(&netns, CloneFlags::CLONE_NEWNET)?;
        set_up("lo")
    })
    .join()
    .unwrap_or_else(|_| Err(io::Error::other("the loopback thread panicked")))
}

/// `SIOCGIFFLAGS` then `SIOCSIFFLAGS` with `IFF_UP` added, in the calling
/// thread's network namespace.
pub(crate) fn set_up(name: &str) -> io::Result<()> {
    // SAFETY: socket() takes plain integers and returns a new fd or -1.
    let raw = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the descriptor was just created and is owned by nobody else.
    let socket = unsafe { OwnedFd::from_raw_fd(raw) };

    // SAFETY: ifreq is plain old data; all zeroes is a valid value.
    let mut request: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, byte) in request.ifr_name.iter_mut().zip(name.bytes()) {
        *slot = byte as libc::c_char;
    }
    // SAFETY: SIOCGIFFLAGS reads the name from and writes the flags into the
    // ifreq we own, which lives across the call.
    if unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCGIFFLAGS, &mut request) } < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: the kernel filled ifru_flags for SIOCGIFFLAGS.
    let flags = unsafe { request.ifr_ifru.ifru_flags };
    request.ifr_ifru.ifru_flags = flags | libc::IFF_UP as libc::c_short;
    // SAFETY: as above; SIOCSIFFLAGS only reads the ifreq.
    if unsafe { libc::ioctl(socket.as_raw_fd(), libc::SIOCSIFFLAGS, &request) } < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
