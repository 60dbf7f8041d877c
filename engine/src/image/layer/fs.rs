//! Creating the nodes of one layer under its directory, walking every path
//! from a directory fd one component at a time with `O_NOFOLLOW`, so that no
//! symlink — created earlier in the layer or planted any other way — is ever
//! followed, whatever the entry names say.

use std::ffi::{CString, OsStr, OsString};
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{self as rfs, AtFlags, FileType, Mode, OFlags, Timespec, Timestamps, XattrFlags};
use rustix::io::Errno;

use super::entry::{display, Action, Components, EntryError, Meta, Plan, OPAQUE_XATTR};

/// Why one entry could not be applied.
#[derive(Debug)]
pub(crate) enum ApplyError {
    Refused(EntryError),
    Io(&'static str, io::Error),
}

impl From<EntryError> for ApplyError {
    fn from(e: EntryError) -> Self {
        ApplyError::Refused(e)
    }
}

fn io_err(op: &'static str) -> impl FnOnce(Errno) -> ApplyError {
    move |e| ApplyError::Io(op, e.into())
}

/// Writes the entries of one layer into a directory it holds open.
pub(crate) struct LayerWriter {
    root: OwnedFd,
    /// Directory mtimes, applied last because creating children changes them.
    dir_times: Vec<(Components, i64)>,
    /// Bytes of regular file content written.
    size: u64,
}

impl LayerWriter {
    /// Opens `root`, an existing empty directory, as the layer's root.
    pub(crate) fn new(root: &Path) -> io::Result<LayerWriter> {
        let root = rfs::open(root, dir_flags(), Mode::empty())?;
        Ok(LayerWriter {
            root,
            dir_times: Vec::new(),
            size: 0,
        })
    }

    /// Applies one planned entry; `data` is the entry's content.
    pub(crate) fn apply(&mut self, plan: &Plan, data: &mut dyn Read) -> Result<(), ApplyError> {
        match &plan.action {
            Action::Skip => return Ok(()),
            Action::Opaque => {
                let dir = self.walk(&plan.path, true)?;
                return rfs::fsetxattr(&dir, OPAQUE_XATTR, b"y", XattrFlags::empty())
                    .map_err(io_err("set opaque xattr"));
            }
            _ => {}
        }
        let Some((name, parent_path)) = plan.path.split_last() else {
            // The layer root itself (`./`): only its metadata is applied.
            let root = self.walk(&[], false)?;
            set_owner_and_mode(&root, &plan.meta)?;
            set_xattrs_fd(&root, &plan.meta)?;
            self.dir_times.push((Vec::new(), plan.meta.mtime));
            return Ok(());
        };
        let parent = self.walk(parent_path, true)?;
        let meta = &plan.meta;
        match &plan.action {
            Action::Dir => {
                if !clear(&parent, name, true)? {
                    rfs::mkdirat(&parent, name, Mode::from_raw_mode(0o700))
                        .map_err(io_err("mkdir"))?;
                }
                let dir = rfs::openat(&parent, name, dir_flags(), Mode::empty())
                    .map_err(io_err("open dir"))?;
                set_owner_and_mode(&dir, meta)?;
                set_xattrs_fd(&dir, meta)?;
                self.dir_times.push((plan.path.clone(), meta.mtime));
            }
            Action::File => {
                clear(&parent, name, false)?;
                let flags = OFlags::WRONLY
                    | OFlags::CREATE
                    | OFlags::EXCL
                    | OFlags::NOFOLLOW
                    | OFlags::CLOEXEC;
                let fd = rfs::openat(&parent, name, flags, Mode::from_raw_mode(0o600))
                    .map_err(io_err("create file"))?;
                let mut file = File::from(fd);
                self.size +=
                    io::copy(data, &mut file).map_err(|e| ApplyError::Io("write file", e))?;
                set_owner_and_mode(&file, meta)?;
                set_xattrs_fd(&file, meta)?;
                rfs::futimens(&file, &times(meta.mtime)).map_err(io_err("set mtime"))?;
            }
            Action::Symlink(target) => {
                clear(&parent, name, false)?;
                rfs::symlinkat(target.as_os_str(), &parent, name).map_err(io_err("symlink"))?;
                rfs::chownat(
                    &parent,
                    name,
                    Some(uid(meta.uid)),
                    Some(gid(meta.gid)),
                    AtFlags::SYMLINK_NOFOLLOW,
                )
                .map_err(io_err("chown"))?;
                set_xattrs_at(&parent, name, meta)?;
                set_time_at(&parent, name, meta.mtime)?;
            }
            Action::HardLink(target) => self.hard_link(&parent, name, &plan.path, target)?,
            Action::Char(major, minor) => make_node(
                &parent,
                name,
                FileType::CharacterDevice,
                (*major, *minor),
                meta,
            )?,
            Action::Block(major, minor) => {
                make_node(&parent, name, FileType::BlockDevice, (*major, *minor), meta)?
            }
            Action::Fifo => make_node(&parent, name, FileType::Fifo, (0, 0), meta)?,
            Action::Whiteout => {
                clear(&parent, name, false)?;
                rfs::mknodat(
                    &parent,
                    name,
                    FileType::CharacterDevice,
                    Mode::empty(),
                    rfs::makedev(0, 0),
                )
                .map_err(io_err("create whiteout"))?;
            }
            Action::Skip | Action::Opaque => {}
        }
        Ok(())
    }

    /// Sets directory mtimes (deepest last-created first) and returns the
    /// bytes of file content written.
    pub(crate) fn finish(self) -> Result<u64, ApplyError> {
        for (path, mtime) in self.dir_times.iter().rev() {
            let Some((name, parent_path)) = path.split_last() else {
                rfs::futimens(&self.root, &times(*mtime)).map_err(io_err("set mtime"))?;
                continue;
            };
            // A later entry may have replaced the directory or a parent of
            // it; then there is nothing left to date.
            if let Ok(parent) = self.walk(parent_path, false) {
                match rfs::statat(&parent, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                        set_time_at(&parent, name, *mtime)?;
                    }
                    _ => {}
                }
            }
        }
        Ok(self.size)
    }

    fn hard_link(
        &self,
        parent: &OwnedFd,
        name: &OsStr,
        path: &[OsString],
        target: &[OsString],
    ) -> Result<(), ApplyError> {
        let shown = || display(target);
        let Some((target_name, target_parent)) = target.split_last() else {
            return Err(EntryError::LinkToDirectory(shown()).into());
        };
        let target_dir = match self.walk(target_parent, false) {
            Err(ApplyError::Io(_, e)) if e.kind() == io::ErrorKind::NotFound => {
                return Err(EntryError::LinkTargetMissing(shown()).into());
            }
            other => other?,
        };
        match rfs::statat(
            &target_dir,
            target_name.as_os_str(),
            AtFlags::SYMLINK_NOFOLLOW,
        ) {
            Err(Errno::NOENT) => return Err(EntryError::LinkTargetMissing(shown()).into()),
            Err(e) => return Err(ApplyError::Io("stat link target", e.into())),
            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
                return Err(EntryError::LinkToDirectory(shown()).into());
            }
            Ok(_) => {}
        }
        if path == target {
            return Ok(());
        }
        clear(parent, name, false)?;
        // No AT_SYMLINK_FOLLOW: a link to a symlink links the symlink itself.
        rfs::linkat(
            &target_dir,
            target_name.as_os_str(),
            parent,
            name,
            AtFlags::empty(),
        )
        .map_err(io_err("hard link"))
    }

    /// Opens the directory at `path`, refusing any component that is a
    /// symlink or not a directory; missing ones are created (0755, root)
    /// when `create` is set, as tar does for entries without parents.
    fn walk(&self, path: &[OsString], create: bool) -> Result<OwnedFd, ApplyError> {
        let mut dir = rfs::openat(&self.root, ".", dir_flags(), Mode::empty())
            .map_err(io_err("open layer root"))?;
        for (i, component) in path.iter().enumerate() {
            let mut next = rfs::openat(&dir, component.as_os_str(), dir_flags(), Mode::empty());
            if matches!(next, Err(Errno::NOENT)) && create {
                let created =
                    match rfs::mkdirat(&dir, component.as_os_str(), Mode::from_raw_mode(0o755)) {
                        Ok(()) => true,
                        Err(Errno::EXIST) => false,
                        Err(e) => return Err(ApplyError::Io("mkdir parent", e.into())),
                    };
                next = rfs::openat(&dir, component.as_os_str(), dir_flags(), Mode::empty());
                if let (true, Ok(fd)) = (created, &next) {
                    // mkdir is subject to the umask; the image's users need
                    // to traverse the directory whatever ours is.
                    rfs::fchmod(fd, Mode::from_raw_mode(0o755)).map_err(io_err("chmod parent"))?;
                }
            }
            dir = match next {
                Ok(fd) => fd,
                Err(e @ (Errno::LOOP | Errno::NOTDIR)) => {
                    let prefix = display(&path[..=i]);
                    return Err(
                        match rfs::statat(&dir, component.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
                            Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => {
                                EntryError::ThroughSymlink(prefix).into()
                            }
                            Ok(_) => EntryError::ThroughNonDirectory(prefix).into(),
                            Err(_) => ApplyError::Io("open parent", e.into()),
                        },
                    );
                }
                Err(e) => return Err(ApplyError::Io("open parent", e.into())),
            };
        }
        Ok(dir)
    }
}

fn dir_flags() -> OFlags {
    OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC
}

fn uid(raw: u32) -> rfs::Uid {
    rfs::Uid::from_raw(raw)
}

fn gid(raw: u32) -> rfs::Gid {
    rfs::Gid::from_raw(raw)
}

fn times(mtime: i64) -> Timestamps {
    let at = Timespec {
        tv_sec: mtime,
        tv_nsec: 0,
    };
    Timestamps {
        last_access: at,
        last_modification: at,
    }
}

fn set_time_at(parent: &OwnedFd, name: &OsStr, mtime: i64) -> Result<(), ApplyError> {
    rfs::utimensat(parent, name, &times(mtime), AtFlags::SYMLINK_NOFOLLOW)
        .map_err(io_err("set mtime"))
}

/// Chown first: changing the owner clears setuid/setgid bits.
fn set_owner_and_mode(fd: &impl AsFd, meta: &Meta) -> Result<(), ApplyError> {
    rfs::fchown(fd, Some(uid(meta.uid)), Some(gid(meta.gid))).map_err(io_err("chown"))?;
    rfs::fchmod(fd, Mode::from_raw_mode(meta.mode & 0o7777)).map_err(io_err("chmod"))
}

fn make_node(
    parent: &OwnedFd,
    name: &OsStr,
    kind: FileType,
    (major, minor): (u32, u32),
    meta: &Meta,
) -> Result<(), ApplyError> {
    clear(parent, name, false)?;
    rfs::mknodat(
        parent,
        name,
        kind,
        Mode::from_raw_mode(0o600),
        rfs::makedev(major, minor),
    )
    .map_err(io_err("mknod"))?;
    rfs::chownat(
        parent,
        name,
        Some(uid(meta.uid)),
        Some(gid(meta.gid)),
        AtFlags::SYMLINK_NOFOLLOW,
    )
    .map_err(io_err("chown"))?;
    // mknod is subject to the umask and never sets setuid bits: chmod after.
    rfs::chmodat(
        parent,
        name,
        Mode::from_raw_mode(meta.mode & 0o7777),
        AtFlags::empty(),
    )
    .map_err(io_err("chmod"))?;
    set_xattrs_at(parent, name, meta)?;
    set_time_at(parent, name, meta.mtime)
}

fn set_xattrs_fd(fd: &impl AsFd, meta: &Meta) -> Result<(), ApplyError> {
    for (key, value) in &meta.xattrs {
        tolerate_unsupported(
            key,
            rfs::fsetxattr(fd, key.as_str(), value, XattrFlags::empty()),
        )?;
    }
    Ok(())
}

/// Symlinks and device nodes cannot be opened for fsetxattr, so their xattrs
/// go through the parent's `/proc/self/fd` link (a handle to the directory
/// we already hold, not a path that could be redirected) with lsetxattr.
fn set_xattrs_at(parent: &OwnedFd, name: &OsStr, meta: &Meta) -> Result<(), ApplyError> {
    if meta.xattrs.is_empty() {
        return Ok(());
    }
    let path = PathBuf::from(format!("/proc/self/fd/{}", parent.as_raw_fd())).join(name);
    for (key, value) in &meta.xattrs {
        tolerate_unsupported(
            key,
            rfs::lsetxattr(&path, key.as_str(), value, XattrFlags::empty()),
        )?;
    }
    Ok(())
}

/// A filesystem without xattr support (or a namespace like `user.` that
/// does not apply to this node type) loses the xattr with a warning, as
/// Docker's best-effort mode does; other failures stop the layer.
fn tolerate_unsupported(key: &str, result: rustix::io::Result<()>) -> Result<(), ApplyError> {
    match result {
        Err(e @ (Errno::OPNOTSUPP | Errno::PERM)) => {
            tracing::warn!(xattr = key, error = %e, "xattr not kept");
            Ok(())
        }
        other => other.map_err(io_err("set xattr")),
    }
}

/// Makes room for a new node at `name`: tar semantics are that a later
/// entry replaces an earlier one, except a directory over a directory,
/// which is kept (returns true then).
fn clear(parent: &OwnedFd, name: &OsStr, keep_dir: bool) -> Result<bool, ApplyError> {
    match rfs::statat(parent, name, AtFlags::SYMLINK_NOFOLLOW) {
        Err(Errno::NOENT) => Ok(false),
        Err(e) => Err(ApplyError::Io("stat", e.into())),
        Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Directory => {
            if keep_dir {
                return Ok(true);
            }
            remove_tree(parent, name).map_err(io_err("remove replaced directory"))?;
            Ok(false)
        }
        Ok(_) => {
            rfs::unlinkat(parent, name, AtFlags::empty())
                .map_err(io_err("remove replaced entry"))?;
            Ok(false)
        }
    }
}

/// Removes a directory tree below `parent` without following symlinks.
fn remove_tree(parent: &OwnedFd, name: &OsStr) -> rustix::io::Result<()> {
    let dir = rfs::openat(parent, name, dir_flags(), Mode::empty())?;
    let mut children: Vec<(CString, bool)> = Vec::new();
    for entry in rfs::Dir::read_from(&dir)? {
        let entry = entry?;
        let child = entry.file_name();
        if child.to_bytes() == b"." || child.to_bytes() == b".." {
            continue;
        }
        let is_dir = match entry.file_type() {
            FileType::Unknown => {
                let st = rfs::statat(&dir, child, AtFlags::SYMLINK_NOFOLLOW)?;
                FileType::from_raw_mode(st.st_mode) == FileType::Directory
            }
            kind => kind == FileType::Directory,
        };
        children.push((child.to_owned(), is_dir));
    }
    for (child, is_dir) in children {
        if is_dir {
            remove_tree(&dir, OsStr::from_bytes(child.to_bytes()))?;
        } else {
            rfs::unlinkat(&dir, child.as_c_str(), AtFlags::empty())?;
        }
    }
    rfs::unlinkat(parent, name, AtFlags::REMOVEDIR)
}
