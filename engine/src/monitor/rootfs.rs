//! The container's root filesystem: an overlay of the image's layers (read
//! only, shared) under the container's own upper directory, mounted while
//! the container runs and unmounted when it ends.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use rustix::mount::{mount, unmount, MountFlags, UnmountFlags};

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
        let _ = unmount(target, UnmountFlags::DETACH);
        let data = std::ffi::CString::new(overlay_options(layers, upper, work))
            .map_err(|_| io::Error::other("a layer path contains a NUL byte"))?;
        mount(
            "overlay",
            target,
            "overlay",
            MountFlags::empty(),
            Some(data.as_c_str()),
        )?;
        Ok(Rootfs {
            target: target.to_path_buf(),
        })
    }

    /// The mount point.
    pub(crate) fn path(&self) -> &Path {
        &self.target
    }
}

impl Drop for Rootfs {
    fn drop(&mut self) {
        if let Err(error) = unmount(&self.target, UnmountFlags::DETACH) {
            eprintln!("cannot unmount {}: {error}", self.target.display());
        }
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
