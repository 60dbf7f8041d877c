//! The cgroup directories of one container on this host's hierarchies: where
//! they are (from the mount table, so both cgroup v1, v2 and hybrid layouts
//! work), how many OOM kills happened in them, removing them, and removing
//! the engine's parent directory once the daemon stops.

use std::io;
use std::path::{Component, Path, PathBuf};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::Duration;

use nix::errno::Errno;

/// The calling process's mount table.
pub(crate) const MOUNTINFO: &str = "/proc/self/mountinfo";

/// The cgroup hierarchies mounted on this host.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct CgroupMounts {
    /// cgroup v1 hierarchies: mount point and the controllers bound to it.
    pub v1: Vec<(PathBuf, Vec<String>)>,
    /// The cgroup v2 (unified) hierarchy, if mounted.
    pub v2: Option<PathBuf>,
}

impl CgroupMounts {
    /// The hierarchies in the calling process's mount table, read once per
    /// process: they are mounted at boot and stay, while the table itself
    /// is long to render and parse, and a container start asks several
    /// times (a failed read is not remembered).
    pub fn from_proc() -> io::Result<Self> {
        static MOUNTS: OnceLock<CgroupMounts> = OnceLock::new();
        if let Some(mounts) = MOUNTS.get() {
            return Ok(mounts.clone());
        }
        let mounts = Self::parse(&std::fs::read_to_string(MOUNTINFO)?);
        Ok(MOUNTS.get_or_init(|| mounts).clone())
    }

    /// Parses `/proc/<pid>/mountinfo` text.
    pub fn parse(mountinfo: &str) -> Self {
        let mut mounts = CgroupMounts::default();
        for line in mountinfo.lines() {
            let fields: Vec<&str> = line.split(' ').collect();
            let Some(separator) = fields.iter().position(|field| *field == "-") else {
                continue;
            };
            let (Some(mount_point), Some(fstype), Some(options)) = (
                fields.get(4),
                fields.get(separator + 1),
                fields.get(separator + 3),
            ) else {
                continue;
            };
            match *fstype {
                "cgroup" => {
                    let controllers = options
                        .split(',')
                        .filter(|option| !matches!(*option, "rw" | "ro" | "xattr"))
                        .map(String::from)
                        .collect();
                    mounts.v1.push((PathBuf::from(mount_point), controllers));
                }
                "cgroup2" => mounts.v2 = Some(PathBuf::from(mount_point)),
                _ => {}
            }
        }
        mounts
    }

    /// Every directory a cgroup path can have, one per hierarchy.
    pub fn dirs(&self, cgroups_path: &Path) -> Vec<PathBuf> {
        let relative = relative(cgroups_path);
        self.v1
            .iter()
            .map(|(mount, _)| mount)
            .chain(self.v2.iter())
            .map(|mount| mount.join(&relative))
            .collect()
    }

    /// Whether a swap limit can be set. On cgroup v1 that needs swap
    /// accounting (`swapaccount=1` on some kernels); without it, writing the
    /// limit fails, so the limit is dropped, as Docker does. cgroup v2 always
    /// has `memory.swap.max` when it has swap.
    pub fn supports_swap_limit(&self) -> bool {
        match self.v1_memory() {
            Some(mount) => mount.join("memory.memsw.limit_in_bytes").exists(),
            None => true,
        }
    }

    /// On cgroup v2, forbids swap to a container whose memory plus swap
    /// limit equals its memory limit (Docker's "no swap"): libcgroups takes
    /// the difference, 0, for "not set" and leaves swap unlimited. v1 has
    /// the sum itself in `memory.memsw.limit_in_bytes`; nothing to do there.
    pub fn forbid_swap_when_equal(
        &self,
        cgroups_path: &Path,
        memory: Option<i64>,
        memory_swap: Option<i64>,
    ) -> io::Result<()> {
        let equal = matches!((memory, memory_swap), (Some(m), Some(s)) if m > 0 && m == s);
        match (&self.v2, self.v1_memory()) {
            (Some(mount), None) if equal => {
                let file = mount.join(relative(cgroups_path)).join("memory.swap.max");
                // Without swap (or its accounting) there is nothing to forbid.
                if file.exists() {
                    std::fs::write(file, "0")
                } else {
                    Ok(())
                }
            }
            _ => Ok(()),
        }
    }

    fn v1_memory(&self) -> Option<&PathBuf> {
        self.v1_controller("memory")
    }

    /// The v1 hierarchy the `controller` is bound to, if any.
    pub fn v1_controller(&self, controller: &str) -> Option<&PathBuf> {
        self.v1
            .iter()
            .find(|(_, controllers)| controllers.iter().any(|c| c == controller))
            .map(|(mount, _)| mount)
    }

    /// The directory of `cgroups_path` in the v1 hierarchy of `controller`,
    /// or else in the v2 hierarchy (which has every controller).
    pub fn controller_dir(&self, controller: &str, cgroups_path: &Path) -> Option<PathBuf> {
        let relative = relative(cgroups_path);
        self.v1_controller(controller)
            .or(self.v2.as_ref())
            .map(|mount| mount.join(relative))
    }

    /// Whether `controller_dir` of `controller` is a v1 directory.
    pub fn is_v1(&self, controller: &str) -> bool {
        self.v1_controller(controller).is_some()
    }

    /// How many processes the kernel's OOM killer killed in this cgroup:
    /// `oom_kill` of `memory.oom_control` on v1, of `memory.events` on v2.
    /// `None` when the memory controller's files cannot be read.
    pub fn oom_kills(&self, cgroups_path: &Path) -> Option<u64> {
        let relative = relative(cgroups_path);
        let file = match (self.v1_memory(), &self.v2) {
            (Some(mount), _) => mount.join(&relative).join("memory.oom_control"),
            (None, Some(mount)) => mount.join(&relative).join("memory.events"),
            (None, None) => return None,
        };
        let text = std::fs::read_to_string(file).ok()?;
        parse_oom_kills(&text)
    }

    /// Kills (`SIGKILL`) every process left in the container's cgroup, as
    /// libcontainer's delete does before removing it: with a pid namespace
    /// of its own they died with its init process, but one that shares the
    /// host's (or another container's) outlives it. On cgroup v2 with
    /// `cgroup.kill` the kernel does it in one write; otherwise each pid
    /// listed in `cgroup.procs` of each hierarchy gets the signal. A
    /// missing directory has nothing to kill.
    pub fn kill(&self, cgroups_path: &Path) {
        for dir in self.dirs(cgroups_path) {
            // Opened, never created: a kernel without it has no such file.
            let killed_at_once = self.v2.as_ref().is_some_and(|v2| dir.starts_with(v2))
                && std::fs::File::options()
                    .write(true)
                    .open(dir.join("cgroup.kill"))
                    .and_then(|mut file| std::io::Write::write_all(&mut file, b"1"))
                    .is_ok();
            if killed_at_once {
                continue;
            }
            let Ok(procs) = std::fs::read_to_string(dir.join("cgroup.procs")) else {
                continue;
            };
            for pid in procs.lines().filter_map(|line| line.trim().parse().ok()) {
                // Gone already (ESRCH) is what this wants.
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }

    /// Removes the container's directory in every hierarchy. Its parents
    /// stay: libcontainer makes a container's parent and then its directory,
    /// so a parent removed in between (by another container's exit, in this
    /// engine or another one) fails that start. Missing directories are not
    /// an error.
    pub fn remove(&self, cgroups_path: &Path) -> Result<(), (PathBuf, io::Error)> {
        let relative = relative(cgroups_path);
        for mount in self.hierarchies() {
            let dir = mount.join(&relative);
            remove_leaf(&dir).map_err(|error| (dir.clone(), error))?;
        }
        Ok(())
    }

    /// Removes `parent` in every hierarchy where no container's directory
    /// is left below it: for a daemon that stops, when no start of its own
    /// can run. Missing and busy directories are left as they are.
    pub fn remove_empty_parent(&self, parent: &Path) {
        let relative = relative(parent);
        for mount in self.hierarchies() {
            // Busy (another engine's container below it) or gone: left.
            let _ = std::fs::remove_dir(mount.join(&relative));
        }
    }

    fn hierarchies(&self) -> impl Iterator<Item = &PathBuf> {
        self.v1.iter().map(|(mount, _)| mount).chain(self.v2.iter())
    }
}

/// `/stack/abc` → `stack/abc`, so it can be joined under a mount point.
fn relative(cgroups_path: &Path) -> PathBuf {
    cgroups_path
        .components()
        .filter(|component| matches!(component, Component::Normal(_)))
        .collect()
}

/// `rmdir`, treating "already gone" as success and retrying briefly while the
/// kernel still counts exiting processes in the cgroup. (A parent with child
/// cgroups also answers `EBUSY`, so parents are not retried.)
fn remove_leaf(dir: &Path) -> io::Result<()> {
    let mut attempts = 0;
    loop {
        match std::fs::remove_dir(dir) {
            Ok(()) => return Ok(()),
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(error) if error.raw_os_error() == Some(Errno::EBUSY as i32) && attempts < 20 => {
                attempts += 1;
                sleep(Duration::from_millis(10));
            }
            Err(error) => return Err(error),
        }
    }
}

fn parse_oom_kills(text: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix("oom_kill ")?;
        value.trim().parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
25 30 0:23 / /sys rw,nosuid,nodev,noexec,relatime shared:7 - sysfs sysfs rw
26 25 0:24 / /sys/fs/cgroup ro,nosuid,nodev,noexec shared:8 - tmpfs tmpfs ro,mode=755
27 26 0:25 / /sys/fs/cgroup/unified rw,nosuid,nodev,noexec,relatime shared:9 - cgroup2 cgroup2 rw,nsdelegate
28 26 0:26 / /sys/fs/cgroup/systemd rw,nosuid,nodev,noexec,relatime shared:10 - cgroup cgroup rw,xattr,name=systemd
31 26 0:29 / /sys/fs/cgroup/memory rw,nosuid,nodev,noexec,relatime shared:13 - cgroup cgroup rw,memory
32 26 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid,nodev,noexec,relatime shared:14 - cgroup cgroup rw,cpu,cpuacct
";

    #[test]
    fn parses_a_hybrid_layout() {
        let mounts = CgroupMounts::parse(HYBRID);
        assert_eq!(mounts.v2, Some(PathBuf::from("/sys/fs/cgroup/unified")));
        assert_eq!(
            mounts.v1,
            vec![
                (
                    PathBuf::from("/sys/fs/cgroup/systemd"),
                    vec!["name=systemd".to_owned()]
                ),
                (
                    PathBuf::from("/sys/fs/cgroup/memory"),
                    vec!["memory".to_owned()]
                ),
                (
                    PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"),
                    vec!["cpu".to_owned(), "cpuacct".to_owned()]
                ),
            ]
        );
        assert_eq!(
            mounts.dirs(Path::new("/stack/c1")),
            vec![
                PathBuf::from("/sys/fs/cgroup/systemd/stack/c1"),
                PathBuf::from("/sys/fs/cgroup/memory/stack/c1"),
                PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/stack/c1"),
                PathBuf::from("/sys/fs/cgroup/unified/stack/c1"),
            ]
        );
    }

    #[test]
    fn parses_a_unified_layout() {
        let mounts = CgroupMounts::parse(
            "30 25 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate,memory_recursiveprot\n",
        );
        assert_eq!(mounts.v1, vec![]);
        assert_eq!(mounts.v2, Some(PathBuf::from("/sys/fs/cgroup")));
    }

    #[test]
    fn reads_oom_kill_counters_of_both_versions() {
        let v1 = "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n";
        let v2 = "low 0\nhigh 0\nmax 5\noom 1\noom_kill 1\noom_group_kill 0\n";
        assert_eq!(parse_oom_kills(v1), Some(2));
        assert_eq!(parse_oom_kills(v2), Some(1));
        assert_eq!(parse_oom_kills("under_oom 0\n"), None);
    }

    #[test]
    fn swap_limits_need_swap_accounting_on_v1() {
        let base = std::env::temp_dir().join(format!("stack-swap-test-{}", std::process::id()));
        std::fs::create_dir_all(&base).unwrap();
        let v1 = CgroupMounts {
            v1: vec![(base.clone(), vec!["memory".to_owned()])],
            v2: None,
        };
        assert!(!v1.supports_swap_limit());
        std::fs::write(base.join("memory.memsw.limit_in_bytes"), "").unwrap();
        assert!(v1.supports_swap_limit());
        let v2 = CgroupMounts {
            v1: Vec::new(),
            v2: Some(base.clone()),
        };
        assert!(v2.supports_swap_limit());
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn swap_is_forbidden_on_v2_when_the_limits_are_equal() {
        let base = std::env::temp_dir().join(format!("stack-noswap-test-{}", std::process::id()));
        let dir = base.join("stack/c1");
        std::fs::create_dir_all(&dir).unwrap();
        let swap_max = dir.join("memory.swap.max");
        std::fs::write(&swap_max, "max").unwrap();
        let v2 = CgroupMounts {
            v1: Vec::new(),
            v2: Some(base.clone()),
        };
        let path = Path::new("/stack/c1");
        v2.forbid_swap_when_equal(path, Some(64), Some(128))
            .unwrap();
        assert_eq!(std::fs::read_to_string(&swap_max).unwrap(), "max");
        v2.forbid_swap_when_equal(path, Some(64), Some(64)).unwrap();
        assert_eq!(std::fs::read_to_string(&swap_max).unwrap(), "0");
        std::fs::write(&swap_max, "max").unwrap();
        let v1 = CgroupMounts {
            v1: vec![(base.clone(), vec!["memory".to_owned()])],
            v2: Some(base.clone()),
        };
        v1.forbid_swap_when_equal(path, Some(64), Some(64)).unwrap();
        assert_eq!(std::fs::read_to_string(&swap_max).unwrap(), "max");
        std::fs::remove_file(&swap_max).unwrap();
        v2.forbid_swap_when_equal(path, Some(64), Some(64)).unwrap();
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn what_is_left_in_the_cgroups_is_killed() {
        let base = std::env::temp_dir().join(format!("stack-kill-test-{}", std::process::id()));
        let mounts = CgroupMounts {
            v1: vec![(base.join("pids"), vec!["pids".to_owned()])],
            v2: Some(base.join("unified")),
        };
        let mut left = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let mut other = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        std::fs::create_dir_all(base.join("pids/stack/c1")).unwrap();
        std::fs::create_dir_all(base.join("unified/stack/c1")).unwrap();
        std::fs::write(
            base.join("pids/stack/c1/cgroup.procs"),
            format!("{}\n", left.id()),
        )
        .unwrap();
        // v2 with cgroup.kill: one write, the kernel's job.
        std::fs::write(base.join("unified/stack/c1/cgroup.kill"), "").unwrap();
        std::fs::write(
            base.join("unified/stack/c1/cgroup.procs"),
            format!("{}\n", other.id()),
        )
        .unwrap();

        mounts.kill(Path::new("/stack/c1"));
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(left.wait().unwrap().signal(), Some(9));
        assert_eq!(
            std::fs::read_to_string(base.join("unified/stack/c1/cgroup.kill")).unwrap(),
            "1"
        );
        assert_eq!(
            other.try_wait().unwrap(),
            None,
            "killed through cgroup.procs"
        );
        other.kill().unwrap();
        other.wait().unwrap();
        // Missing directories have nothing to kill.
        mounts.kill(Path::new("/stack/none"));
        std::fs::remove_dir_all(&base).unwrap();
    }

    #[test]
    fn removes_the_leaf_and_keeps_the_parent_until_asked() {
        let base = std::env::temp_dir().join(format!("stack-cgroup-test-{}", std::process::id()));
        let mounts = CgroupMounts {
            v1: vec![(base.join("memory"), vec!["memory".to_owned()])],
            v2: Some(base.join("unified")),
        };
        std::fs::create_dir_all(base.join("memory/stack/c1")).unwrap();
        std::fs::create_dir_all(base.join("memory/stack/c2")).unwrap();
        std::fs::create_dir_all(base.join("unified/stack/c1")).unwrap();

        mounts.remove(Path::new("/stack/c1")).unwrap();
        assert!(!base.join("memory/stack/c1").exists());
        assert!(base.join("memory/stack/c2").exists());
        assert!(!base.join("unified/stack/c1").exists());
        assert!(base.join("unified/stack").exists());

        mounts.remove_empty_parent(Path::new("/stack"));
        assert!(base.join("memory/stack/c2").exists());
        assert!(!base.join("unified/stack").exists());
        mounts.remove(Path::new("/stack/c2")).unwrap();
        mounts.remove_empty_parent(Path::new("/stack"));
        assert!(!base.join("memory/stack").exists());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
