//! Starting the kernel's wait for moving a process between cgroups early.
//!
//! Every write of a pid to a `cgroup.procs` or `tasks` file takes the
//! kernel's global cgroup migration lock for writing, and when no other
//! migration happened in the last moments that means waiting for an RCU
//! grace period first: measured on this kind of host, 11 to 18 ms off the
//! CPU in libcontainer's intermediate process, which moves itself into the
//! container's cgroups — a third of a whole `run --rm`. Once one writer has
//! waited, the lock stays in its fast mode until a grace period after the
//! last writer, and later writers pass without waiting.
//!
//! So when a container is about to start, the daemon moves one thread of its
//! own into the cgroup that thread is already in (nothing changes), on a
//! thread of its own: that write waits out the grace period while the
//! daemon sets up the network and the monitor starts, and the container's
//! own move then finds the lock ready.

use std::fs;
use std::path::PathBuf;
use std::sync::OnceLock;

use super::cgroup::CgroupMounts;

/// Starts the grace period (see the module documentation) without waiting
/// for it. Failing to is harmless: the container's own move then waits.
pub(crate) fn start_grace_period() {
    static FILE: OnceLock<Option<(PathBuf, Writer)>> = OnceLock::new();
    let Some((file, writer)) = FILE.get_or_init(own_cgroup_file).clone() else {
        return;
    };
    let _ = std::thread::Builder::new()
        .name("cgroup-grace".into())
        .spawn(move || {
            let id = match writer {
                Writer::Thread => rustix::thread::gettid().as_raw_nonzero().get(),
                Writer::Process => rustix::process::getpid().as_raw_nonzero().get(),
            };
            let _ = fs::write(&file, id.to_string());
        });
}

/// Who the file moves: one thread (cgroup v1's `tasks`) or the whole
/// process (cgroup v2's `cgroup.procs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Writer {
    Thread,
    Process,
}

/// The file that moves a thread (or, on cgroup v2 alone, the process) of the
/// daemon into the cgroup it is in already.
fn own_cgroup_file() -> Option<(PathBuf, Writer)> {
    let mounts = CgroupMounts::from_proc().ok()?;
    let own = fs::read_to_string("/proc/self/cgroup").ok()?;
    move_file(&mounts, &own)
}

/// The move file for the membership listed in `own` (`/proc/self/cgroup`):
/// a cgroup v1 hierarchy's `tasks` when there is one, else the v2
/// `cgroup.procs`.
fn move_file(mounts: &CgroupMounts, own: &str) -> Option<(PathBuf, Writer)> {
    let mut unified = None;
    for line in own.lines() {
        let mut fields = line.splitn(3, ':');
        let (Some(_), Some(controllers), Some(path)) =
            (fields.next(), fields.next(), fields.next())
        else {
            continue;
        };
        let relative = path.trim_start_matches('/');
        if controllers.is_empty() {
            unified = mounts
                .v2
                .as_ref()
                .map(|root| (root.join(relative).join("cgroup.procs"), Writer::Process));
            continue;
        }
        let named: Vec<&str> = controllers.split(',').collect();
        if let Some((mount, _)) = mounts
            .v1
            .iter()
            .find(|(_, bound)| bound.iter().any(|c| named.contains(&c.as_str())))
        {
            return Some((mount.join(relative).join("tasks"), Writer::Thread));
        }
    }
    unified
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mounts() -> CgroupMounts {
        CgroupMounts {
            v1: vec![
                (PathBuf::from("/sys/fs/cgroup/pids"), vec!["pids".into()]),
                (
                    PathBuf::from("/sys/fs/cgroup/cpu,cpuacct"),
                    vec!["cpu".into(), "cpuacct".into()],
                ),
            ],
            v2: Some(PathBuf::from("/sys/fs/cgroup/unified")),
        }
    }

    #[test]
    fn a_v1_hierarchy_moves_one_thread() {
        let own = "12:cpu,cpuacct:/user/a\n5:pids:/user/b\n0::/user/c\n";
        assert_eq!(
            move_file(&mounts(), own),
            Some((
                PathBuf::from("/sys/fs/cgroup/cpu,cpuacct/user/a/tasks"),
                Writer::Thread
            ))
        );
    }

    #[test]
    fn cgroup_v2_alone_moves_the_process() {
        let only_v2 = CgroupMounts {
            v1: Vec::new(),
            v2: Some(PathBuf::from("/sys/fs/cgroup")),
        };
        assert_eq!(
            move_file(&only_v2, "0::/\n"),
            Some((
                PathBuf::from("/sys/fs/cgroup/cgroup.procs"),
                Writer::Process
            ))
        );
    }

    #[test]
    fn no_known_hierarchy_means_nothing_to_write() {
        let none = CgroupMounts::default();
        assert_eq!(move_file(&none, "3:blkio:/\n0::/\n"), None);
    }
}
