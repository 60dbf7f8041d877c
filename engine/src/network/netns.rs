//! Network namespace files: a container's network namespace is made by the
//! daemon before the container exists, so that its interfaces, addresses,
//! routes and DNS records are in place before its first instruction runs.
//! The namespace is kept alive by a bind mount on a file in the run
//! directory (as `ip netns add` does), which the container then joins.

use std::fs::File;
use std::io;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

use crate::runtime::loopback;

/// Creates a new network namespace with `lo` up, bound at `path` (whose
/// directory must exist). The work happens on a short-lived thread: only
/// that thread enters the new namespace, and it is gone afterwards.
pub(crate) fn create(path: &Path) -> io::Result<()> {
    File::options()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| io::Error::new(e.kind(), format!("create {}: {e}", path.display())))?;
    let target = path.to_path_buf();
    let made = std::thread::spawn(move || -> io::Result<()> {
        unshare(CloneFlags::CLONE_NEWNET).map_err(|e| with_context("unshare", e.into()))?;
        loopback::set_up("lo").map_err(|e| with_context("set lo up", e))?;
        mount(
            Some("/proc/thread-self/ns/net"),
            &target,
            None::<&str>,
            MsFlags::MS_BIND,
            None::<&str>,
        )
        .map_err(|e| with_context("bind the namespace", e.into()))
    })
    .join()
    .unwrap_or_else(|_| Err(io::Error::other("the namespace thread panicked")));
    if let Err(error) = made {
        // The file is ours and holds nothing yet.
        let _ = std::fs::remove_file(path);
        return Err(io::Error::new(
            error.kind(),
            format!(
                "cannot create the network namespace {}: {error}",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Unbinds and deletes the namespace file at `path`; the namespace goes
/// away with its last user. A file that is gone already counts as removed,
/// so teardown can be repeated (after a crash, say).
pub(crate) fn remove(path: &Path) -> io::Result<()> {
    match umount2(path, MntFlags::MNT_DETACH) {
        // EINVAL: not a mount point (a crash between create and bind).
        Ok(()) | Err(nix::errno::Errno::EINVAL) | Err(nix::errno::Errno::ENOENT) => {}
        Err(e) => {
            return Err(io::Error::new(
                io::Error::from(e).kind(),
                format!("cannot unmount {}: {e}", path.display()),
            ))
        }
    }
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(io::Error::new(
            e.kind(),
            format!("cannot delete {}: {e}", path.display()),
        )),
        _ => Ok(()),
    }
}

fn with_context(what: &str, error: io::Error) -> io::Error {
    io::Error::new(error.kind(), format!("{what}: {error}"))
}
