//! Pure decisions about one tar entry: is its path acceptable, what does it
//! become in an unpacked overlayfs layer, which xattrs are kept.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

/// Prefix of a whiteout file in a layer tar (`.wh.name` hides `name`).
const WHITEOUT_PREFIX: &[u8] = b".wh.";
/// Marks its directory opaque: lower layers' content of it is hidden.
const OPAQUE_MARKER: &[u8] = b".wh..wh..opq";
/// Prefix of other AUFS metadata (`.wh..wh.plnk`, `.wh..wh.aufs`), skipped.
const META_PREFIX: &[u8] = b".wh..wh.";
/// The xattr overlayfs reads to treat a directory as opaque.
pub(crate) const OPAQUE_XATTR: &str = "trusted.overlay.opaque";

/// A path inside the layer: normal components only, never empty strings,
/// `.` or `..`; the empty list is the layer root.
pub(crate) type Components = Vec<OsString>;

/// Why an entry is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum EntryError {
    /// The path starts with `/`.
    #[error("absolute path")]
    Absolute,
    /// The path has a `..` component.
    #[error("path has a `..` component")]
    ParentComponent,
    /// A hard link points outside the layer.
    #[error("hard link target {0:?} is outside the layer")]
    LinkOutside(String),
    /// A hard link points at a directory.
    #[error("hard link target {0:?} is a directory")]
    LinkToDirectory(String),
    /// A hard link points at nothing earlier in the layer.
    #[error("hard link target {0:?} does not exist earlier in the layer")]
    LinkTargetMissing(String),
    /// A parent of the path is a symlink (named).
    #[error("path goes through symlink {0:?}")]
    ThroughSymlink(String),
    /// A parent of the path is not a directory (named).
    #[error("path goes through {0:?}, which is not a directory")]
    ThroughNonDirectory(String),
    /// A whiteout names nothing (`.wh.`, `.wh..`).
    #[error("invalid whiteout name")]
    BadWhiteout,
    /// The entry type cannot be unpacked.
    #[error("unsupported entry type {0}")]
    Unsupported(String),
    /// A device entry has no device numbers.
    #[error("device entry without device numbers")]
    MissingDevice,
}

/// What a tar entry is, as far as unpacking cares.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum RawKind {
    File,
    Dir,
    Symlink,
    HardLink,
    Char,
    Block,
    Fifo,
    /// Headers with no filesystem effect (PAX global headers).
    Ignored,
    Other(String),
}

/// The fields of one tar entry that unpacking reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct RawEntry {
    pub(crate) path: Vec<u8>,
    pub(crate) kind: RawKind,
    pub(crate) link: Option<Vec<u8>>,
    pub(crate) meta: Meta,
    pub(crate) device: Option<(u32, u32)>,
}

/// Ownership, permissions, time and xattrs to apply to a created node.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Meta {
    /// Permission bits including setuid/setgid/sticky (`0o7777`).
    pub(crate) mode: u32,
    pub(crate) uid: u32,
    pub(crate) gid: u32,
    pub(crate) mtime: i64,
    pub(crate) xattrs: Vec<(String, Vec<u8>)>,
}

/// What to do for one entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Action {
    File,
    Dir,
    Symlink(OsString),
    HardLink(Components),
    Char(u32, u32),
    Block(u32, u32),
    Fifo,
    /// `.wh.name`: a 0/0 character device at `name`, as overlayfs expects.
    Whiteout,
    /// `.wh..wh..opq`: mark the directory at the path opaque.
    Opaque,
    Skip,
}

/// One decided entry: where, what, with which metadata.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Plan {
    pub(crate) path: Components,
    pub(crate) action: Action,
    pub(crate) meta: Meta,
}

/// Splits an entry path into normal components. `./` prefixes, `.` and
/// repeated slashes are dropped; absolute paths and `..` are refused.
pub(crate) fn normalize(raw: &[u8]) -> Result<Components, EntryError> {
    if raw.first() == Some(&b'/') {
        return Err(EntryError::Absolute);
    }
    let mut components = Vec::new();
    for part in raw.split(|b| *b == b'/') {
        match part {
            b"" | b"." => {}
            b".." => return Err(EntryError::ParentComponent),
            part => components.push(OsStr::from_bytes(part).to_owned()),
        }
    }
    Ok(components)
}

/// Decides what one entry becomes; the checks here are the string-level
/// half of the safety rules (the walk in `fs` refuses symlinked parents).
pub(crate) fn plan_entry(raw: &RawEntry) -> Result<Plan, EntryError> {
    let mut path = normalize(&raw.path)?;
    // AUFS keeps hard-link bookkeeping under `.wh..wh.plnk/` at the top;
    // Docker skips that tree, and so do we.
    if path.len() > 1 && path[0].as_bytes().starts_with(META_PREFIX) {
        return Ok(Plan {
            path,
            action: Action::Skip,
            meta: Meta::default(),
        });
    }
    let name = path.last().map(|n| n.as_bytes().to_vec());
    if let Some(name) = name.as_deref().filter(|n| n.starts_with(WHITEOUT_PREFIX)) {
        let action = if name == OPAQUE_MARKER {
            path.pop();
            Action::Opaque
        } else if name.starts_with(META_PREFIX) {
            Action::Skip
        } else {
            let hidden = &name[WHITEOUT_PREFIX.len()..];
            if hidden.is_empty() || hidden == b"." || hidden == b".." {
                return Err(EntryError::BadWhiteout);
            }
            if let Some(last) = path.last_mut() {
                *last = OsStr::from_bytes(hidden).to_owned();
            }
            Action::Whiteout
        };
        return Ok(Plan {
            path,
            action,
            meta: Meta::default(),
        });
    }
    let device = || raw.device.ok_or(EntryError::MissingDevice);
    let action = match &raw.kind {
        RawKind::File => Action::File,
        RawKind::Dir => Action::Dir,
        RawKind::Symlink => {
            Action::Symlink(OsStr::from_bytes(raw.link.as_deref().unwrap_or_default()).to_owned())
        }
        RawKind::HardLink => {
            let target = raw.link.as_deref().unwrap_or_default();
            let shown = || String::from_utf8_lossy(target).into_owned();
            let components = normalize(target).map_err(|_| EntryError::LinkOutside(shown()))?;
            if components.is_empty() {
                return Err(EntryError::LinkToDirectory(shown()));
            }
            Action::HardLink(components)
        }
        RawKind::Char => {
            let (major, minor) = device()?;
            Action::Char(major, minor)
        }
        RawKind::Block => {
            let (major, minor) = device()?;
            Action::Block(major, minor)
        }
        RawKind::Fifo => Action::Fifo,
        RawKind::Ignored => Action::Skip,
        RawKind::Other(kind) => return Err(EntryError::Unsupported(kind.clone())),
    };
    if path.is_empty() && action != Action::Dir && action != Action::Skip {
        // Only a directory can stand for the layer root (`./`).
        return Err(EntryError::Unsupported(
            "non-directory at the layer root".to_string(),
        ));
    }
    let is_dir = action == Action::Dir;
    let mut meta = raw.meta.clone();
    meta.xattrs
        .retain(|(name, value)| keep_xattr(name, value, is_dir));
    Ok(Plan { path, action, meta })
}

/// Overlayfs reads `trusted.overlay.*` on lower layers (redirects, metacopy,
/// origin), so a layer must not smuggle them in; only an opaque marker on a
/// directory is kept, because tars of overlay upper dirs carry it that way.
pub(crate) fn keep_xattr(name: &str, value: &[u8], is_dir: bool) -> bool {
    match name.strip_prefix("trusted.overlay.") {
        Some("opaque") => is_dir && value == b"y",
        Some(_) => false,
        None => true,
    }
}

/// Renders components for error messages.
pub(crate) fn display(components: &[OsString]) -> String {
    let parts: Vec<_> = components.iter().map(|c| c.to_string_lossy()).collect();
    parts.join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, kind: RawKind) -> RawEntry {
        RawEntry {
            path: path.as_bytes().to_vec(),
            kind,
            link: None,
            meta: Meta {
                mode: 0o644,
                ..Meta::default()
            },
            device: None,
        }
    }

    fn names(components: &[OsString]) -> Vec<&str> {
        components.iter().map(|c| c.to_str().unwrap()).collect()
    }

    #[test]
    fn normalize_drops_dots_and_slashes_and_refuses_escapes() {
        assert_eq!(names(&normalize(b"./a//b/./c/").unwrap()), ["a", "b", "c"]);
        assert!(normalize(b"./").unwrap().is_empty());
        assert_eq!(normalize(b"/etc/passwd"), Err(EntryError::Absolute));
        assert_eq!(normalize(b"../escape"), Err(EntryError::ParentComponent));
        assert_eq!(normalize(b"a/../../b"), Err(EntryError::ParentComponent));
        assert_eq!(normalize(b"a/.."), Err(EntryError::ParentComponent));
        assert_eq!(
            names(&normalize(b"a/..b/c..").unwrap()),
            ["a", "..b", "c.."]
        );
    }

    #[test]
    fn whiteouts_and_opaque_markers() {
        let plan = plan_entry(&entry("etc/.wh.passwd", RawKind::File)).unwrap();
        assert_eq!(
            (names(&plan.path), plan.action),
            (vec!["etc", "passwd"], Action::Whiteout)
        );
        let plan = plan_entry(&entry("./var/.wh..wh..opq", RawKind::File)).unwrap();
        assert_eq!(
            (names(&plan.path), plan.action),
            (vec!["var"], Action::Opaque)
        );
        let plan = plan_entry(&entry(".wh..wh..opq", RawKind::File)).unwrap();
        assert_eq!((plan.path.len(), plan.action), (0, Action::Opaque));
        let plan = plan_entry(&entry(".wh..wh.plnk/1.2", RawKind::File)).unwrap();
        assert_eq!(plan.action, Action::Skip);
        let plan = plan_entry(&entry("x/.wh..wh.plnk", RawKind::Dir)).unwrap();
        assert_eq!(plan.action, Action::Skip);
        assert_eq!(
            plan_entry(&entry("a/.wh.", RawKind::File)),
            Err(EntryError::BadWhiteout)
        );
        assert_eq!(
            plan_entry(&entry("a/.wh...", RawKind::File)),
            Err(EntryError::BadWhiteout)
        );
    }

    #[test]
    fn hard_links_stay_inside_the_layer() {
        let mut link = entry("bin/sh", RawKind::HardLink);
        link.link = Some(b"./bin/busybox".to_vec());
        assert_eq!(
            plan_entry(&link).unwrap().action,
            Action::HardLink(normalize(b"bin/busybox").unwrap())
        );
        link.link = Some(b"../x".to_vec());
        assert_eq!(
            plan_entry(&link),
            Err(EntryError::LinkOutside("../x".into()))
        );
        link.link = Some(b"/etc/shadow".to_vec());
        assert_eq!(
            plan_entry(&link),
            Err(EntryError::LinkOutside("/etc/shadow".into()))
        );
        link.link = Some(b"./".to_vec());
        assert_eq!(
            plan_entry(&link),
            Err(EntryError::LinkToDirectory("./".into()))
        );
    }

    #[test]
    fn symlink_targets_are_kept_verbatim() {
        let mut link = entry("link", RawKind::Symlink);
        link.link = Some(b"/etc".to_vec());
        assert_eq!(
            plan_entry(&link).unwrap().action,
            Action::Symlink("/etc".into())
        );
    }

    #[test]
    fn devices_need_numbers_and_unknown_kinds_are_refused() {
        let mut dev = entry("dev/null", RawKind::Char);
        assert_eq!(plan_entry(&dev), Err(EntryError::MissingDevice));
        dev.device = Some((1, 3));
        assert_eq!(plan_entry(&dev).unwrap().action, Action::Char(1, 3));
        assert_eq!(
            plan_entry(&entry("x", RawKind::Other("GNU volume header".into()))),
            Err(EntryError::Unsupported("GNU volume header".into()))
        );
        assert!(plan_entry(&entry("./", RawKind::File)).is_err());
        assert_eq!(
            plan_entry(&entry("./", RawKind::Dir)).unwrap().path.len(),
            0
        );
    }

    #[test]
    fn overlay_xattrs_are_filtered() {
        assert!(keep_xattr("user.comment", b"x", false));
        assert!(keep_xattr("security.capability", b"\x01", false));
        assert!(keep_xattr(OPAQUE_XATTR, b"y", true));
        assert!(!keep_xattr(OPAQUE_XATTR, b"y", false));
        assert!(!keep_xattr("trusted.overlay.redirect", b"/etc", true));
        assert!(!keep_xattr("trusted.overlay.metacopy", b"", false));
        let mut dir = entry("d", RawKind::Dir);
        dir.meta.xattrs = vec![
            ("trusted.overlay.redirect".into(), b"/x".to_vec()),
            ("user.a".into(), b"1".to_vec()),
        ];
        assert_eq!(
            plan_entry(&dir).unwrap().meta.xattrs,
            vec![("user.a".to_string(), b"1".to_vec())]
        );
    }
}
