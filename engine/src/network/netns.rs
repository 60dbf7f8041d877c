//! Network namespace files: a container's network namespace is made by the
//! daemon before the container exists, so that its interfaces, addresses,
//! routes and DNS records are in place before its first instruction runs.
//! The namespace is kept alive by a bind mount on a file in the run
//! directory (as `ip netns add` does), which the container then joins.
//!
//! That directory is a mount point of its own (bound onto itself, as
//! `ip netns` does with `/run/netns`): a container's monitor runs in a
//! mount namespace of its own, copied from the host's, and detaches the
//! directory there in one call, so that the mount tables the container's
//! start reads list none of the other containers' namespace files.

use std::fs::File;
use std::io;
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{unshare, CloneFlags};

use crate::runtime::loopback;

/// Makes `dir` (created if missing) a private mount point of its own,
/// unless it is one already (a daemon that stopped with containers
/// running leaves it so).
fn prepare_dir(dir: &Path) -> io::Result<()> {
    std::fs::create_dir_all(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot create {}: {e}", dir.display())))?;
    let private = || {
        mount(
            None::<&str>,
            dir,
            None::<&str>,
            MsFlags::MS_PRIVATE,
            None::<&str>,
        )
    };
    // EINVAL: not a mount point yet.
    if private() == Err(nix::errno::Errno::EINVAL) {
        mount(Some(dir), dir, None::<&str>, MsFlags::MS_BIND, None::<&str>)
            .and_then(|()| private())
            .map_err(|e| {
                io::Error::new(
                    io::Error::from(e).kind(),
                    format!("cannot make {} a mount point: {e}", dir.display()),
                )
            })?;
    }
    Ok(())
}

/// Unmounts and deletes `dir` when no namespace file is left in it (running
/// containers keep theirs, and the directory with them).
pub(crate) fn release_dir(dir: &Path) -> io::Result<()> {
    if std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_some()) {
        return Ok(());
    }
    match umount2(dir, MntFlags::MNT_DETACH) {
        Ok(()) | Err(nix::errno::Errno::EINVAL) => {}
        Err(e) => {
            return Err(io::Error::new(
                io::Error::from(e).kind(),
                format!("cannot unmount {}: {e}", dir.display()),
            ))
        }
    }
    std::fs::remove_dir(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot delete {}: {e}", dir.display())))
}

/// Creates a new network namespace with `lo` up, bound at `path` (its
/// directory made a mount point of its own first, see [`prepare_dir`]).
/// The work happens on a short-lived thread: only that thread enters the
/// new namespace, and it is gone afterwards.
pub(crate) fn create(path: &Path) -> io::Result<()> {
    if let Some(dir) = path.parent() {
        prepare_dir(dir)?;
    }
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
