//! The container's root filesystem: an overlay of the image's layers (read
//! only, shared) under the container's own upper directory, mounted while
//! the container runs and unmounted when it ends.
//!
//! The overlay is mounted `volatile` where the kernel has it (5.10+), as
//! Podman does for its `--rm` containers: without it, unmounting an
//! overlay syncs the whole file system under the upper directory (every
//! dirty page of every process on it, not just the container's), which on
//! a busy host made each container's exit wait 100 ms and more. The price:
//! `fsync` inside the container's writable layer is not a durability
//! point, so its data is as durable as any unsynced write of the host;
//! durable data belongs in volumes (bind mounts, synced as usual), as
//! Docker advises. Overlay marks a volatile upper directory with
//! `work/work/incompat/volatile` and refuses to mount it again while the
//! marker exists; the engine is the only user of its upper directories, so
//! it removes the marker before each mount.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rustix::mount::{mount, MountFlags, UnmountFlags};

/// A mounted overlay; unmounted (lazily, so a busy mount never blocks the
/// monitor's exit) when dropped.
pub(crate) struct Rootfs {
    target: PathBuf,
}

impl Rootfs {
    /// Mounts `layers` (bottom first) with `upper` and `work` at `target`,
    /// creating the directories. A mount left there by a monitor that died
    /// is removed first.
    pub(crate) fn mount(
        layers: &[PathBuf],
        upper: &Path,
        work: &Path,
        target: &Path,
    ) -> io::Result<Rootfs> {
        if layers.is_empty() {
            return Err(io::Error::other("the image has no layers"));
        }
        for dir in [upper, work, target] {
            fs::create_dir_all(dir)?;
        }
        // Not mounted is the usual case: nothing to remove.
        let _ = rustix::mount::unmount(target, UnmountFlags::DETACH);
        match fs::remove_dir_all(work.join("work/incompat")) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let options = overlay_options(layers, upper, work);
        let mount_with = |options: String| {
            let data = std::ffi::CString::new(options)
                .map_err(|_| io::Error::other("a layer path contains a NUL byte"))?;
            mount(
                "overlay",
                target,
                "overlay",
                MountFlags::empty(),
                Some(data.as_c_str()),
            )
            .map_err(io::Error::from)
        };
        match mount_with(format!("{options},volatile")) {
            // A kernel older than 5.10 does not know the option.
            Err(e) if e.raw_os_error() == Some(rustix::io::Errno::INVAL.raw_os_error()) => {
                mount_with(options)?
            }
            mounted => mounted?,
        }
        Ok(Rootfs {
            target: target.to_path_buf(),
        })
    }

    /// The mount point.
    pub(crate) fn path(&self) -> &Path {
        &self.target
    }

    /// Leaves the mount in place for the watcher, which unmounts it (with
    /// [`unmount`]) when the container ends.
    pub(crate) fn hand_over(self) {
        std::mem::forget(self);
    }
}

impl Drop for Rootfs {
    fn drop(&mut self) {
        unmount(&self.target);
    }
}

/// Unmounts the root filesystem at `target` (detached: a process that
/// outlived the container may still hold a file in it).
pub(crate) fn unmount(target: &Path) {
    if let Err(error) = rustix::mount::unmount(target, UnmountFlags::DETACH) {
        eprintln!("cannot unmount {}: {error}", target.display());
    }
}

/// overlayfs options: `lowerdir` lists the top layer first.
fn overlay_options(layers: &[PathBuf], upper: &Path, work: &Path) -> String {
    let lower: Vec<String> = layers
        .iter()
        .rev()
        .map(|layer| layer.display().to_string())
        .collect();
    format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.join(":"),
        upper.display(),
        work.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_top_layer_comes_first() {
        let layers = [PathBuf::from("/l/base"), PathBuf::from("/l/top")];
        assert_eq!(
            overlay_options(&layers, Path::new("/c/upper"), Path::new("/c/work")),
            "lowerdir=/l/top:/l/base,upperdir=/c/upper,workdir=/c/work"
        );
    }
}
