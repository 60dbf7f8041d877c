//! Facts about the host for `/version` and `/info`, read from files under a
//! root the caller gives (`/` in the daemon, a tempdir in tests).

use std::fs;
use std::path::Path;

use bollard_stubs::models::SystemInfoCgroupVersionEnum;

/// What the host offers, read once when the daemon starts.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct HostFacts {
    pub(crate) kernel: String,
    pub(crate) hostname: String,
    pub(crate) operating_system: String,
    pub(crate) os_version: String,
    pub(crate) mem_total: i64,
    pub(crate) cgroup: CgroupFacts,
}

/// The cgroup hierarchy and which limits it can enforce.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct CgroupFacts {
    pub(crate) v2: bool,
    pub(crate) memory: bool,
    pub(crate) swap: bool,
    pub(crate) cpu: bool,
    pub(crate) cpuset: bool,
    pub(crate) pids: bool,
}

impl CgroupFacts {
    pub(crate) fn version(&self) -> SystemInfoCgroupVersionEnum {
        if self.v2 {
            SystemInfoCgroupVersionEnum::_2
        } else {
            SystemInfoCgroupVersionEnum::_1
        }
    }
}

impl HostFacts {
    /// Reads the facts from `root`'s `/proc`, `/etc` and `/sys/fs/cgroup`;
    /// what cannot be read stays empty rather than failing the daemon.
    pub(crate) fn read(root: &Path) -> HostFacts {
        let read = |path: &str| fs::read_to_string(root.join(path)).unwrap_or_default();
        let os_release = read("etc/os-release");
        HostFacts {
            kernel: read("proc/sys/kernel/osrelease").trim().to_string(),
            hostname: read("proc/sys/kernel/hostname").trim().to_string(),
            operating_system: os_release_field(&os_release, "PRETTY_NAME")
                .unwrap_or_else(|| "Linux".into()),
            os_version: os_release_field(&os_release, "VERSION_ID").unwrap_or_default(),
            mem_total: mem_total(&read("proc/meminfo")).unwrap_or(0),
            cgroup: cgroup_facts(&root.join("sys/fs/cgroup")),
        }
    }
}

/// `MemTotal` from `/proc/meminfo`, in bytes.
fn mem_total(meminfo: &str) -> Option<i64> {
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: i64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// One `KEY=value` or `KEY="value"` of `/etc/os-release`.
fn os_release_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|line| {
        let value = line.strip_prefix(key)?.strip_prefix('=')?;
        Some(value.trim().trim_matches('"').to_string())
    })
}

/// v2 when the unified hierarchy is mounted at `dir` (it has
/// `cgroup.controllers`); otherwise v1, with one directory per controller.
fn cgroup_facts(dir: &Path) -> CgroupFacts {
    match fs::read_to_string(dir.join("cgroup.controllers")) {
        Ok(controllers) => {
            let has = |c: &str| controllers.split_whitespace().any(|x| x == c);
            CgroupFacts {
                v2: true,
                memory: has("memory"),
                swap: has("memory"),
                cpu: has("cpu"),
                cpuset: has("cpuset"),
                pids: has("pids"),
            }
        }
        Err(_) => CgroupFacts {
            v2: false,
            memory: dir.join("memory").is_dir(),
            swap: dir.join("memory/memory.memsw.limit_in_bytes").exists(),
            cpu: dir.join("cpu").is_dir(),
            cpuset: dir.join("cpuset").is_dir(),
            pids: dir.join("pids").is_dir(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn reads_a_v1_host() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(root, "proc/sys/kernel/osrelease", "6.1.0-test\n");
        write(root, "proc/sys/kernel/hostname", "box\n");
        write(
            root,
            "proc/meminfo",
            "MemTotal:       16384 kB\nMemFree: 1 kB\n",
        );
        write(
            root,
            "etc/os-release",
            "NAME=\"Debian\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nVERSION_ID=\"12\"\n",
        );
        write(
            root,
            "sys/fs/cgroup/memory/memory.memsw.limit_in_bytes",
            "0",
        );
        fs::create_dir_all(root.join("sys/fs/cgroup/pids")).unwrap();
        let facts = HostFacts::read(root);
        assert_eq!(facts.kernel, "6.1.0-test");
        assert_eq!(facts.hostname, "box");
        assert_eq!(facts.operating_system, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(facts.os_version, "12");
        assert_eq!(facts.mem_total, 16384 * 1024);
        let cgroup = CgroupFacts {
            v2: false,
            memory: true,
            swap: true,
            cpu: false,
            cpuset: false,
            pids: true,
        };
        assert_eq!(facts.cgroup, cgroup);
        assert_eq!(facts.cgroup.version(), SystemInfoCgroupVersionEnum::_1);
    }

    #[test]
    fn reads_a_v2_host_and_tolerates_missing_files() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "sys/fs/cgroup/cgroup.controllers",
            "cpuset cpu io memory pids\n",
        );
        let facts = HostFacts::read(dir.path());
        assert!(facts.cgroup.v2 && facts.cgroup.memory && facts.cgroup.pids && facts.cgroup.cpuset);
        assert_eq!(facts.cgroup.version(), SystemInfoCgroupVersionEnum::_2);
        assert_eq!(facts.kernel, "");
        assert_eq!(facts.operating_system, "Linux");
    }
}
