//! Host devices made available in a container (Docker's `--device`,
//! compose `devices:`): the device node created in the container's `/dev`
//! and the device cgroup rule that lets its processes use it as asked.

use std::fs;
use std::io;
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// A character or block device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeviceKind {
    /// A character device (`c`).
    Char,
    /// A block device (`b`).
    Block,
}

/// One device node of the container, with what its processes may do with
/// it (the device cgroup rule).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Device {
    /// Absolute path inside the container.
    pub path: PathBuf,
    /// Character or block device.
    pub kind: DeviceKind,
    /// The device's major number.
    pub major: i64,
    /// The device's minor number.
    pub minor: i64,
    /// Permission bits of the node, as the host's.
    pub file_mode: u32,
    /// Owner of the node, as the host's.
    pub uid: u32,
    /// Group of the node, as the host's.
    pub gid: u32,
    /// What the device cgroup allows: some of `r` (read), `w` (write) and
    /// `m` (mknod), in that order.
    pub access: String,
}

/// A device cgroup rule of the user's, allowing what it names
/// (`--device-cgroup-rule 'c 1:3 mr'`, compose `device_cgroup_rules:`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeviceCgroupRule {
    /// The kind of device; none for every kind (`a`).
    pub kind: Option<DeviceKind>,
    /// The major number; none for any (`*`).
    pub major: Option<i64>,
    /// The minor number; none for any (`*`).
    pub minor: Option<i64>,
    /// Some of `rwm`, in that order.
    pub access: String,
}

/// Reads a rule as Docker takes it: `TYPE MAJOR:MINOR ACCESS`, where TYPE
/// is `a`, `c` or `b`, MAJOR and MINOR numbers or `*`, ACCESS some of `rwm`.
pub fn parse_device_cgroup_rule(text: &str) -> Result<DeviceCgroupRule, String> {
    let invalid = |why: &str| {
        format!("invalid device cgroup rule {text:?}: {why} (write it as TYPE MAJOR:MINOR ACCESS, such as 'c 1:3 mr' or 'b 7:* rwm')")
    };
    let fields: Vec<&str> = text.split_whitespace().collect();
    let [kind, numbers, access] = fields.as_slice() else {
        return Err(invalid("expected three fields"));
    };
    let kind = match *kind {
        "a" => None,
        "c" => Some(DeviceKind::Char),
        "b" => Some(DeviceKind::Block),
        _ => return Err(invalid("the type is a, c or b")),
    };
    let (major, minor) = numbers
        .split_once(':')
        .ok_or_else(|| invalid("the numbers are MAJOR:MINOR"))?;
    let number = |n: &str| match n {
        "*" => Ok(None),
        n => n
            .parse::<u32>()
            .map(|n| Some(i64::from(n)))
            .map_err(|_| invalid(&format!("{n:?} is neither a number nor *"))),
    };
    Ok(DeviceCgroupRule {
        kind,
        major: number(major)?,
        minor: number(minor)?,
        access: check_access(access).map_err(|why| invalid(&why))?,
    })
}

/// Checks a device cgroup permission string as Docker does (`r`, `w` and
/// `m`, each at most once, in any order, at least one) and returns it in
/// `rwm` order.
pub fn check_access(access: &str) -> Result<String, String> {
    let mut seen = [false; 3];
    for c in access.chars() {
        let index = "rwm".find(c).ok_or_else(|| {
            format!("invalid device permissions {access:?}: use r, w and m (such as rwm or r)")
        })?;
        if std::mem::replace(&mut seen[index], true) {
            return Err(format!(
                "invalid device permissions {access:?}: {c} is given twice"
            ));
        }
    }
    if access.is_empty() {
        return Err("empty device permissions: use r, w and m (such as rwm or r)".to_owned());
    }
    Ok("rwm"
        .chars()
        .zip(seen)
        .filter_map(|(c, on)| on.then_some(c))
        .collect())
}

/// The devices for host path `host` seen at `container`: the device itself,
/// or, for a directory, every device below it (as Docker adds `/dev/snd`),
/// at the same place below `container`. Symbolic links are followed for
/// `host` itself only.
pub fn host_devices(host: &Path, container: &Path, access: &str) -> io::Result<Vec<Device>> {
    let meta = fs::metadata(host)?;
    if meta.is_dir() {
        let mut found = Vec::new();
        collect(host, container, access, &mut found)?;
        return Ok(found);
    }
    device(&meta, container, access)
        .map(|d| vec![d])
        .ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "not a device node (give a character or block device, or a directory of them)",
            )
        })
}

/// Every device of the host's `/dev`, at the same path in the container,
/// as Docker gives a privileged container: what runc's host device scan
/// leaves out is left out here too (the terminal devices the runtime sets
/// up itself, and the file systems mounted below `/dev`).
pub fn all_host_devices() -> io::Result<Vec<Device>> {
    let mut found = Vec::new();
    walk(
        Path::new("/dev"),
        Path::new("/dev"),
        "rwm",
        true,
        &mut found,
    )?;
    Ok(found)
}

/// Below `/dev`: the runtime's own nodes and mounted file systems.
const NOT_HOST_DEVICES: [&str; 9] = [
    "pts",
    "shm",
    "fd",
    "mqueue",
    ".lxc",
    ".lxd-mounts",
    ".udev",
    "console",
    "ptmx",
];

fn collect(dir: &Path, container: &Path, access: &str, found: &mut Vec<Device>) -> io::Result<()> {
    walk(dir, container, access, false, found)
}

fn walk(
    dir: &Path,
    container: &Path,
    access: &str,
    host_dev: bool,
    found: &mut Vec<Device>,
) -> io::Result<()> {
    let mut entries = fs::read_dir(dir)?.collect::<io::Result<Vec<_>>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if host_dev && NOT_HOST_DEVICES.iter().any(|n| name == *n) {
            continue;
        }
        let meta = match fs::symlink_metadata(entry.path()) {
            Ok(meta) => meta,
            // Gone meanwhile (a device unplugged): nothing to give.
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => return Err(e),
        };
        let target = container.join(&name);
        if meta.is_dir() {
            walk(&entry.path(), &target, access, host_dev, found)?;
        } else if let Some(device) = device(&meta, &target, access) {
            found.push(device);
        }
    }
    Ok(())
}

fn device(meta: &fs::Metadata, path: &Path, access: &str) -> Option<Device> {
    let kind = if meta.file_type().is_char_device() {
        DeviceKind::Char
    } else if meta.file_type().is_block_device() {
        DeviceKind::Block
    } else {
        return None;
    };
    let rdev = meta.rdev();
    Some(Device {
        path: path.to_path_buf(),
        kind,
        major: i64::from(rustix::fs::major(rdev)),
        minor: i64::from(rustix::fs::minor(rdev)),
        file_mode: meta.mode() & 0o7777,
        uid: meta.uid(),
        gid: meta.gid(),
        access: access.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_cgroup_rules_as_docker_takes_them() {
        let rule = parse_device_cgroup_rule("c 1:3 mr").unwrap();
        assert_eq!(
            (rule.kind, rule.major, rule.minor, rule.access.as_str()),
            (Some(DeviceKind::Char), Some(1), Some(3), "rm")
        );
        let rule = parse_device_cgroup_rule("a *:* rwm").unwrap();
        assert_eq!((rule.kind, rule.major, rule.minor), (None, None, None));
        let rule = parse_device_cgroup_rule("b 7:* w").unwrap();
        assert_eq!(
            (rule.kind, rule.major, rule.minor),
            (Some(DeviceKind::Block), Some(7), None)
        );
        for bad in [
            "c 1:3",
            "x 1:3 r",
            "c 1 r",
            "c one:3 r",
            "c 1:3 rx",
            "c 1:3 r extra",
        ] {
            let error = parse_device_cgroup_rule(bad).unwrap_err();
            assert!(error.contains(&format!("{bad:?}")), "{error}");
        }
    }

    #[test]
    fn permissions_as_docker_takes_them() {
        assert_eq!(check_access("rwm").unwrap(), "rwm");
        assert_eq!(check_access("mr").unwrap(), "rm");
        assert_eq!(check_access("w").unwrap(), "w");
        assert!(check_access("").unwrap_err().contains("empty"));
        assert!(check_access("rx").unwrap_err().contains("\"rx\""));
        assert!(check_access("rr").unwrap_err().contains("twice"));
    }

    #[test]
    fn a_device_keeps_its_numbers_and_mode_at_its_container_path() {
        let found = host_devices(Path::new("/dev/null"), Path::new("/dev/nothing"), "r").unwrap();
        assert_eq!(found.len(), 1);
        let null = &found[0];
        assert_eq!(null.path, Path::new("/dev/nothing"));
        assert_eq!(
            (null.kind, null.major, null.minor),
            (DeviceKind::Char, 1, 3)
        );
        assert_eq!(null.file_mode, 0o666);
        assert_eq!(null.access, "r");
    }

    #[test]
    fn the_hosts_devices_leave_out_what_the_runtime_sets_up() {
        let all = all_host_devices().unwrap();
        let null = all
            .iter()
            .find(|d| d.path == Path::new("/dev/null"))
            .unwrap();
        assert_eq!(
            (null.major, null.minor, null.access.as_str()),
            (1, 3, "rwm")
        );
        assert!(
            all.iter().all(|d| !d.path.starts_with("/dev/pts")
                && d.path != Path::new("/dev/console")
                && d.path != Path::new("/dev/ptmx")),
            "{all:?}"
        );
    }

    #[test]
    fn a_directory_gives_the_devices_below_it_and_a_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink("/dev/null", dir.path().join("link")).unwrap();
        fs::write(dir.path().join("file"), b"").unwrap();
        // Neither a link nor a plain file below a directory is a device.
        let found = host_devices(dir.path(), Path::new("/dev/x"), "rwm").unwrap();
        assert!(found.is_empty(), "{found:?}");
        // A node in a subdirectory (making one needs root: skipped without).
        fs::create_dir(dir.path().join("sub")).unwrap();
        let made = rustix::fs::mknodat(
            rustix::fs::CWD,
            dir.path().join("sub/zero"),
            rustix::fs::FileType::CharacterDevice,
            rustix::fs::Mode::from_raw_mode(0o640),
            rustix::fs::makedev(1, 5),
        );
        if made.is_ok() {
            let found = host_devices(dir.path(), Path::new("/dev/x"), "rw").unwrap();
            assert_eq!(found.len(), 1, "{found:?}");
            assert_eq!(found[0].path, Path::new("/dev/x/sub/zero"));
            assert_eq!(
                (found[0].major, found[0].minor, found[0].file_mode),
                (1, 5, 0o640)
            );
        }
        let error = host_devices(&dir.path().join("file"), Path::new("/dev/x"), "rwm").unwrap_err();
        assert!(error.to_string().contains("not a device node"), "{error}");
        let missing = host_devices(Path::new("/dev/no-such-device"), Path::new("/dev/x"), "rwm");
        assert_eq!(missing.unwrap_err().kind(), io::ErrorKind::NotFound);
    }
}
