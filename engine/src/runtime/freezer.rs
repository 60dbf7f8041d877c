//! Pausing a container: the cgroup freezer stops every process of the
//! container's cgroup (`docker pause`). On cgroup v1 that is the freezer
//! hierarchy's `freezer.state` (`FROZEN`/`THAWED`), on v2 the cgroup's own
//! `cgroup.freeze` (`1`/`0`), whose completion `cgroup.events` reports.
//! The daemon does this itself: the files are plain writes, and a frozen
//! container's monitor needs to know nothing of it.

use std::fs;
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

use super::cgroup::CgroupMounts;

/// How long a freeze may take to reach every process.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(5);

/// Freezes (`true`) or thaws (`false`) the cgroup at `cgroups_path` and
/// waits until the kernel reports it done.
pub(crate) fn set_frozen(cgroups_path: impl AsRef<Path>, frozen: bool) -> io::Result<()> {
    let mounts = CgroupMounts::from_proc()?;
    let path = cgroups_path.as_ref();
    let dir = mounts
        .controller_dir("freezer", path)
        .ok_or_else(|| io::Error::other("no cgroup freezer is mounted on this host"))?;
    let (file, value) = if mounts.is_v1("freezer") {
        ("freezer.state", if frozen { "FROZEN" } else { "THAWED" })
    } else {
        ("cgroup.freeze", if frozen { "1" } else { "0" })
    };
    let target = dir.join(file);
    fs::write(&target, value)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot write {}: {e}", target.display())))?;
    let deadline = Instant::now() + SETTLE_TIMEOUT;
    while state(&mounts, path)? != Some(frozen) {
        if Instant::now() > deadline {
            return Err(io::Error::other(format!(
                "{} did not settle within {SETTLE_TIMEOUT:?}",
                target.display()
            )));
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    Ok(())
}

/// Whether the cgroup at `cgroups_path` is frozen (false when it has no
/// freezer directory).
pub(crate) fn is_frozen(cgroups_path: impl AsRef<Path>) -> io::Result<bool> {
    let mounts = CgroupMounts::from_proc()?;
    Ok(state(&mounts, cgroups_path.as_ref())?.unwrap_or(false))
}

/// `Some(frozen)` once settled, `None` while freezing is under way.
fn state(mounts: &CgroupMounts, path: &Path) -> io::Result<Option<bool>> {
    let Some(dir) = mounts.controller_dir("freezer", path) else {
        return Ok(Some(false));
    };
    let read = |name: &str| match fs::read_to_string(dir.join(name)) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    };
    if mounts.is_v1("freezer") {
        Ok(read("freezer.state")?.map_or(Some(false), |t| parse_v1(&t)))
    } else {
        Ok(read("cgroup.events")?.map_or(Some(false), |t| Some(parse_v2(&t))))
    }
}

/// `FROZEN` → frozen, `THAWED` → not, `FREEZING` → not settled.
fn parse_v1(text: &str) -> Option<bool> {
    match text.trim() {
        "FROZEN" => Some(true),
        "FREEZING" => None,
        _ => Some(false),
    }
}

/// The `frozen` line of `cgroup.events`.
fn parse_v2(events: &str) -> bool {
    events
        .lines()
        .any(|line| line.split_whitespace().collect::<Vec<_>>() == ["frozen", "1"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freezer_states_of_both_versions() {
        assert_eq!(parse_v1("FROZEN\n"), Some(true));
        assert_eq!(parse_v1("THAWED\n"), Some(false));
        assert_eq!(parse_v1("FREEZING\n"), None);
        assert!(parse_v2("populated 1\nfrozen 1\n"));
        assert!(!parse_v2("populated 1\nfrozen 0\n"));
    }
}
