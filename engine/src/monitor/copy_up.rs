//! Docker's volume copy-up: a volume that is still empty gets what the
//! image has at the mount point (files, directories, symlinks, with their
//! modes and owners) before the container first sees it.
//!
//! Paths inside the root filesystem are never resolved through a symlink:
//! a mount point under a symlink is left alone, and symlinks are copied as
//! links, so nothing outside the image is ever read.

use std::fs;
use std::io;
use std::os::unix::fs::{lchown, symlink, MetadataExt, PermissionsExt};
use std::path::{Component, Path, PathBuf};

/// Copies the image's content at `target` (inside `rootfs`) into `volume`
/// if the volume is empty; nothing to do when the image has nothing there.
pub(crate) fn copy_up(rootfs: &Path, target: &str, volume: &Path) -> io::Result<()> {
    let Some(source) = inside(rootfs, target)? else {
        return Ok(());
    };
    if fs::read_dir(volume)?.next().is_some() {
        return Ok(());
    }
    let meta = fs::symlink_metadata(&source)?;
    if !meta.is_dir() {
        return Ok(());
    }
    copy_dir_contents(&source, volume)?;
    // The volume's root takes the mode and owner of the image's directory.
    fs::set_permissions(volume, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    lchown(volume, Some(meta.uid()), Some(meta.gid()))
}

/// `rootfs/target` if every component exists and none is a symlink.
fn inside(rootfs: &Path, target: &str) -> io::Result<Option<PathBuf>> {
    let mut path = rootfs.to_path_buf();
    for component in Path::new(target).components() {
        match component {
            Component::Normal(name) => path.push(name),
            Component::RootDir | Component::CurDir => continue,
            Component::ParentDir | Component::Prefix(_) => return Ok(None),
        }
        match fs::symlink_metadata(&path) {
            Ok(meta) if meta.file_type().is_symlink() => return Ok(None),
            Ok(_) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        }
    }
    Ok(Some(path))
}

fn copy_dir_contents(from: &Path, to: &Path) -> io::Result<()> {
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let source = entry.path();
        let dest = to.join(entry.file_name());
        let meta = fs::symlink_metadata(&source)?;
        let kind = meta.file_type();
        if kind.is_symlink() {
            symlink(fs::read_link(&source)?, &dest)?;
        } else if kind.is_dir() {
            fs::create_dir(&dest)?;
            copy_dir_contents(&source, &dest)?;
            fs::set_permissions(&dest, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        } else if kind.is_file() {
            fs::copy(&source, &dest)?;
            fs::set_permissions(&dest, fs::Permissions::from_mode(meta.mode() & 0o7777))?;
        } else {
            // Devices, sockets and fifos are not copied (Docker skips
            // what it cannot copy as well).
            continue;
        }
        lchown(&dest, Some(meta.uid()), Some(meta.gid()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_volume_gets_the_images_content_once() {
        let dir = tempfile::tempdir().unwrap();
        let rootfs = dir.path().join("rootfs");
        fs::create_dir_all(rootfs.join("data/sub")).unwrap();
        fs::write(rootfs.join("data/sub/file"), "image").unwrap();
        symlink("sub/file", rootfs.join("data/link")).unwrap();
        let volume = dir.path().join("volume");
        fs::create_dir(&volume).unwrap();
        copy_up(&rootfs, "/data", &volume).unwrap();
        assert_eq!(
            fs::read_to_string(volume.join("sub/file")).unwrap(),
            "image"
        );
        assert_eq!(
            fs::read_link(volume.join("link")).unwrap(),
            Path::new("sub/file")
        );
        fs::write(volume.join("sub/file"), "changed").unwrap();
        copy_up(&rootfs, "/data", &volume).unwrap();
        assert_eq!(
            fs::read_to_string(volume.join("sub/file")).unwrap(),
            "changed"
        );
    }

    #[test]
    fn nothing_is_read_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let rootfs = dir.path().join("rootfs");
        fs::create_dir_all(&rootfs).unwrap();
        let outside = dir.path().join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("secret"), "host").unwrap();
        symlink(&outside, rootfs.join("data")).unwrap();
        let volume = dir.path().join("volume");
        fs::create_dir(&volume).unwrap();
        copy_up(&rootfs, "/data", &volume).unwrap();
        copy_up(&rootfs, "/data/../..", &volume).unwrap();
        copy_up(&rootfs, "/missing", &volume).unwrap();
        assert_eq!(fs::read_dir(&volume).unwrap().count(), 0);
    }
}
