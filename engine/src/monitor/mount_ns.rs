//! The monitor's own mount namespace. The container's root filesystem is
//! mounted there rather than in the host's namespace: the host's mount
//! table stays the same size however many containers run. Every start
//! reads that table many times (libcontainer looks up each cgroup
//! controller's mount point in it, and so does the engine), and a host
//! with 50 containers listed 50 overlays with their long options in it,
//! which made each start cost about a third more CPU. The mount also goes
//! away by itself when the monitor and its container are gone.
//!
//! The namespace is a copy of the host's, taken as a slave so that
//! unmounts on the host (a file system the host wants to release) reach
//! it. The copy also holds the bind mounts of every running container's
//! network namespace file (under the daemon's namespace directory, a
//! mount point of its own): the monitor detaches that directory in its
//! copy, in one call, so that they do not grow its mount table either.
//! The namespace file the container joins is opened first and handed to
//! libcontainer as `/proc/<monitor>/fd/<n>`. (A copy never keeps another
//! container's namespace alive: deleting a mount point's file detaches
//! its mounts in every namespace, and the daemon deletes the file.)

use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

/// A network namespace file the container joins, kept open while the
/// monitor lives.
pub(crate) struct JoinedNetns {
    fd: OwnedFd,
}

impl JoinedNetns {
    /// The path under which the container's init process opens it.
    pub(crate) fn path(&self) -> PathBuf {
        PathBuf::from(format!(
            "/proc/{}/fd/{}",
            std::process::id(),
            self.fd.as_raw_fd()
        ))
    }
}

/// Moves this process into a mount namespace of its own (see the module
/// documentation). `join` is the network namespace file the container
/// joins; when it lives in `netns_dir` it is opened before the directory is
/// detached, and returned.
pub(crate) fn enter(netns_dir: &Path, join: Option<&Path>) -> io::Result<Option<JoinedNetns>> {
    let joined = match join {
        Some(path) if path.starts_with(netns_dir) => Some(JoinedNetns {
            fd: File::open(path)
                .map_err(|e| with_path(e, "cannot open", path))?
                .into(),
        }),
        _ => None,
    };
    unshare(CloneFlags::CLONE_NEWNS)
        .map_err(|e| io::Error::new(io::Error::from(e).kind(), format!("unshare: {e}")))?;
    mount(
        None::<&str>,
        "/",
        None::<&str>,
        MsFlags::MS_REC | MsFlags::MS_SLAVE,
        None::<&str>,
    )
    .map_err(|e| io::Error::new(io::Error::from(e).kind(), format!("mount / as slave: {e}")))?;
    match umount2(netns_dir, MntFlags::MNT_DETACH) {
        Ok(()) | Err(Errno::ENOENT) => {}
        // Not a mount point (a daemon that set it up differently): each
        // namespace file on its own, then.
        Err(Errno::EINVAL) => {
            for entry in std::fs::read_dir(netns_dir).into_iter().flatten().flatten() {
                match umount2(&entry.path(), MntFlags::MNT_DETACH) {
                    Ok(()) | Err(Errno::EINVAL) | Err(Errno::ENOENT) => {}
                    Err(e) => return Err(with_path(e.into(), "cannot detach", &entry.path())),
                }
            }
        }
        Err(e) => return Err(with_path(e.into(), "cannot detach", netns_dir)),
    }
    Ok(joined)
}

fn with_path(error: io::Error, what: &str, path: &Path) -> io::Error {
    io::Error::new(error.kind(), format!("{what} {}: {error}", path.display()))
}
