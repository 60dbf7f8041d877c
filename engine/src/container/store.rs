//! [`Containers`]: every container of the daemon, in memory and on disk
//! (`containers/<id>/container.json` by the daemon, `state.json` by the
//! monitor), with lookups by id, name and id prefix, and each container's
//! run state as a watch channel so that `wait`, `stop` and `logs -f` learn
//! of an exit as soon as the daemon sees it.

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, RwLock};
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::Signal;

use tokio::sync::watch;

use super::launch::LaunchSpec;
use super::record::{ContainerRecord, Status};
use super::restart::Backoff;
use super::run_state::{RunState, RunStatus};
use super::supervision::Supervision;
use crate::runtime::CgroupMounts;
use crate::state::{self, time, Layout};
use crate::volume::{VolumeName, VolumeUsers};

/// One container: its record (fixed after creation but for its name), its
/// current name and its run state.
pub(crate) struct Entry {
    /// The record as created or loaded; its `name` may be out of date after
    /// a rename: [`Entry::name`] is the current one.
    pub(crate) record: ContainerRecord,
    /// The current name (a rename changes it while the container runs).
    name: RwLock<String>,
    run: watch::Sender<Snapshot>,
    /// Serializes start, stop and removal of this container.
    pub(crate) operation: tokio::sync::Mutex<()>,
    /// The delay before its next automatic restart.
    pub(crate) backoff: Mutex<Backoff>,
    /// Its cgroup in every hierarchy (see [`Layout::container_cgroup`]).
    pub(crate) cgroup: PathBuf,
}

/// What the daemon knows of a container's runs.
#[derive(Clone, Debug, Default)]
pub(crate) struct Snapshot {
    /// The current or last run; none before the first start.
    pub(crate) run: Option<RunState>,
    /// How many exits the daemon has seen (for `wait?condition=next-exit`).
    pub(crate) exits: u64,
    /// The container was removed.
    pub(crate) removed: bool,
    /// How many starts failed (attached clients stop waiting for output).
    pub(crate) failed_starts: u64,
    /// Restart count, manual stop and health (persisted by the daemon).
    pub(crate) supervision: Supervision,
    /// Waiting for an automatic restart (Docker's `restarting`).
    pub(crate) restarting: bool,
    /// Its processes are frozen (Docker's `paused`).
    pub(crate) paused: bool,
}

impl Snapshot {
    /// The container's status.
    pub(crate) fn status(&self) -> Status {
        Status::of(self.run.as_ref())
    }

    /// Its last exit code (0 before any exit).
    pub(crate) fn exit_code(&self) -> i64 {
        self.run
            .as_ref()
            .and_then(|r| r.exit_code)
            .map_or(0, i64::from)
    }
}

impl Entry {
    /// The container's name now, without Docker's leading `/`.
    pub(crate) fn name(&self) -> String {
        self.name.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// The run state now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        self.run.borrow().clone()
    }

    /// A receiver that sees every later change.
    pub(crate) fn subscribe(&self) -> watch::Receiver<Snapshot> {
        self.run.subscribe()
    }

    /// Counts a start that failed.
    pub(crate) fn note_failed_start(&self) {
        self.run.send_modify(|snapshot| snapshot.failed_starts += 1);
    }

    /// Changes the snapshot in place (waiters see the change).
    pub(crate) fn update(&self, change: impl FnOnce(&mut Snapshot)) {
        self.run.send_modify(change);
    }

    /// Records a new run that started.
    pub(crate) fn set_run(&self, run: RunState) {
        self.run.send_modify(|snapshot| {
            snapshot.run = Some(run);
            snapshot.restarting = false;
            snapshot.paused = false;
        });
    }

    /// Records how a run ended; `restarting`: an automatic restart follows
    /// (counted in the restart count).
    pub(crate) fn set_exit(&self, run: RunState, restarting: bool) {
        self.run.send_modify(|snapshot| {
            snapshot.run = Some(run);
            snapshot.exits += 1;
            snapshot.paused = false;
            snapshot.restarting = restarting;
            if restarting {
                snapshot.supervision.restart_count += 1;
            }
        });
    }
}

/// The daemon's containers.
pub(crate) struct Containers {
    layout: Layout,
    /// The executable started as each container's monitor.
    monitor_exe: Option<PathBuf>,
    entries: Mutex<BTreeMap<String, Arc<Entry>>>,
    /// Exec instances of every container.
    execs: super::exec::Execs,
    /// Where removed containers' directories are deleted.
    trash: state::Trash,
}

/// Why a reference names no single container.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LookupError {
    #[error("No such container: {0}")]
    NotFound(String),
    #[error("multiple containers found with provided prefix: {0}")]
    Ambiguous(String),
}

impl Containers {
    /// Loads every container under the state root. A run recorded as
    /// running whose monitor is gone (killed, or the host rebooted) is
    /// recorded as dead: nothing watches or reaps it any more.
    pub(crate) fn open(layout: Layout, monitor_exe: Option<PathBuf>) -> io::Result<Containers> {
        let dir = layout.containers();
        fs::create_dir_all(&dir)?;
        let mut entries = BTreeMap::new();
        for item in fs::read_dir(&dir)? {
            let id = item?.file_name().to_string_lossy().into_owned();
            let record_path = layout.container_record(&id);
            let record = match state::read_json::<ContainerRecord>(&record_path) {
                Ok(Some(record)) => record,
                Ok(None) => {
                    // Creation never finished: nothing else refers to it.
                    tracing::info!(id, "removing a container whose creation did not finish");
                    fs::remove_dir_all(layout.container(&id))?;
                    continue;
                }
                Err(error) => {
                    // As Docker does, one unreadable container does not keep
                    // the daemon (and every other container) down.
                    tracing::error!(
                        path = %record_path.display(),
                        %error,
                        "cannot read a container's record; leaving the container out (remove its directory if it is not needed)"
                    );
                    continue;
                }
            };
            let mut run = read_run_at_start(&layout, &id)?;
            if let Some(r) = run.as_mut() {
                if r.status == RunStatus::Running && !monitor_alive(r.monitor_pid, &id) {
                    tracing::warn!(id, "the container's monitor is gone; marking it dead");
                    mark_dead(r);
                    state::write_json_replace(&layout.container_state(&id), r)?;
                }
            }
            let supervision_path = layout.container_supervision(&id);
            let supervision = state::read_json(&supervision_path)
                .unwrap_or_else(|error| {
                    // Not synced (see `state`): a host crash can tear it.
                    tracing::warn!(path = %supervision_path.display(), %error, "cannot read the container's restart record; starting it afresh");
                    None
                })
                .unwrap_or_default();
            let paused = run.as_ref().is_some_and(|r| r.status == RunStatus::Running)
                && crate::runtime::freezer::is_frozen(layout.container_cgroup(&id))
                    .unwrap_or(false);
            let snapshot = Snapshot {
                run,
                supervision,
                paused,
                ..Snapshot::default()
            };
            let cgroup = layout.container_cgroup(&id);
            entries.insert(id, Arc::new(new_entry(record, snapshot, cgroup)));
        }
        Ok(Containers {
            trash: state::Trash::open(layout.trash())?,
            layout,
            monitor_exe,
            entries: Mutex::new(entries),
            execs: super::exec::Execs::default(),
        })
    }

    fn lock(&self) -> MutexGuard<'_, BTreeMap<String, Arc<Entry>>> {
        // The map stays consistent: every change is a single insert or remove.
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The state layout.
    pub(crate) fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The monitor executable, if the daemon was given one.
    pub(crate) fn monitor_exe(&self) -> Option<&PathBuf> {
        self.monitor_exe.as_ref()
    }

    /// The exec instances.
    pub(crate) fn execs(&self) -> &super::exec::Execs {
        &self.execs
    }

    /// Every container, oldest first.
    pub(crate) fn list(&self) -> Vec<Arc<Entry>> {
        let mut all: Vec<Arc<Entry>> = self.lock().values().cloned().collect();
        all.sort_by(|a, b| a.record.created.cmp(&b.record.created));
        all
    }

    /// Finds a container by full id, name (with or without `/`) or a unique id prefix.
    pub(crate) fn get(&self, reference: &str) -> Result<Arc<Entry>, LookupError> {
        let entries = self.lock();
        if let Some(entry) = entries.get(reference) {
            return Ok(entry.clone());
        }
        let name = reference.strip_prefix('/').unwrap_or(reference);
        if let Some(entry) = entries.values().find(|e| e.name() == name) {
            return Ok(entry.clone());
        }
        let mut prefixed = entries
            .range(reference.to_owned()..)
            .take_while(|(id, _)| id.starts_with(reference) && !reference.is_empty());
        match (prefixed.next(), prefixed.next()) {
            (Some((_, entry)), None) => Ok(entry.clone()),
            (Some(_), Some(_)) => Err(LookupError::Ambiguous(reference.to_owned())),
            _ => Err(LookupError::NotFound(reference.to_owned())),
        }
    }

    /// The id of the container called `name`, if any.
    pub(crate) fn id_of_name(&self, name: &str) -> Option<String> {
        self.lock()
            .values()
            .find(|e| e.name() == name)
            .map(|e| e.record.id.clone())
    }

    /// Persists and adds a new container, with `more` records of its own
    /// (in its directory) written and synced together with its record and
    /// launch description; `Err` with the holder's id when the name was
    /// taken meanwhile.
    pub(crate) fn insert(
        &self,
        record: ContainerRecord,
        launch: &LaunchSpec,
        more: Vec<state::Record>,
    ) -> Result<Arc<Entry>, InsertError> {
        let mut entries = self.lock();
        if let Some(holder) = entries.values().find(|e| e.name() == record.name) {
            return Err(InsertError::NameTaken {
                name: record.name.clone(),
                id: holder.record.id.clone(),
            });
        }
        let id = record.id.clone();
        let dir = self.layout.container(&id);
        let written = fs::create_dir_all(&dir)
            .and_then(|()| {
                let mut records = vec![
                    state::Record::json(self.layout.container_launch(&id), launch)?,
                    state::Record::json(self.layout.container_record(&id), &record)?,
                ];
                records.extend(more);
                Ok(records)
            })
            .and_then(|records| state::write_all_atomic(&dir, &records));
        if let Err(error) = written {
            let _ = fs::remove_dir_all(self.layout.container(&id));
            return Err(InsertError::Io(error));
        }
        let cgroup = self.layout.container_cgroup(&record.id);
        let entry = Arc::new(new_entry(record, Snapshot::default(), cgroup));
        entries.insert(id, entry.clone());
        Ok(entry)
    }

    /// Renames a container, as Docker's rename: the new name must be free
    /// (its holder's id in the error otherwise); the record on disk follows.
    /// Returns the old name.
    pub(crate) fn rename(&self, entry: &Entry, new_name: &str) -> Result<String, InsertError> {
        let entries = self.lock();
        let old = entry.name();
        if let Some(holder) = entries.values().find(|e| e.name() == new_name) {
            return Err(InsertError::NameTaken {
                name: new_name.to_owned(),
                id: holder.record.id.clone(),
            });
        }
        let mut record = entry.record.clone();
        record.name = new_name.to_owned();
        state::write_json_replace(&self.layout.container_record(&record.id), &record)
            .map_err(InsertError::Io)?;
        *entry.name.write().unwrap_or_else(|p| p.into_inner()) = new_name.to_owned();
        Ok(old)
    }

    /// Reads the run state the monitor recorded for `entry`.
    pub(crate) fn read_run(&self, entry: &Entry) -> io::Result<Option<RunState>> {
        state::read_json(&self.layout.container_state(&entry.record.id))
    }

    /// Persists the entry's supervision record as the snapshot has it.
    pub(crate) fn save_supervision(&self, entry: &Entry) -> io::Result<()> {
        let supervision = entry.snapshot().supervision;
        state::write_json_replace(
            &self.layout.container_supervision(&entry.record.id),
            &supervision,
        )
    }

    /// Records that a run's monitor died without recording the end.
    pub(crate) fn record_dead(&self, entry: &Entry, mut run: RunState) -> io::Result<RunState> {
        mark_dead(&mut run);
        state::write_json_replace(&self.layout.container_state(&entry.record.id), &run)?;
        Ok(run)
    }

    /// Forgets a container and removes its files. What a monitor that died
    /// could not clean up goes first: processes still in the container's
    /// cgroup (killed), the cgroup itself, libcontainer's state and the
    /// root filesystem's mount.
    pub(crate) fn remove(&self, entry: &Entry) -> io::Result<()> {
        let id = &entry.record.id;
        kill_leftovers(&entry.cgroup)?;
        let runtime_state = self.layout.runtime_state().join(id);
        match fs::remove_dir_all(&runtime_state) {
            Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        let rootfs = self.layout.container_rootfs(id);
        // Not mounted is the usual case.
        let _ = rustix::mount::unmount(&rootfs, rustix::mount::UnmountFlags::DETACH);
        self.trash.discard(&self.layout.container(id))?;
        self.lock().remove(id);
        self.execs.remove_container(id);
        entry.run.send_modify(|s| s.removed = true);
        Ok(())
    }
}

/// Volumes in use: those any container, running or not, mounts.
impl VolumeUsers for Containers {
    fn users(&self, name: &VolumeName) -> Vec<String> {
        self.lock()
            .values()
            .filter(|e| {
                let record = &e.record;
                record
                    .volumes
                    .iter()
                    .chain(&record.anonymous_volumes)
                    .any(|v| v == name.as_str())
            })
            .map(|e| e.record.id.clone())
            .collect()
    }
}

/// Why a container could not be added.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InsertError {
    #[error("Conflict. The container name \"/{name}\" is already in use by container \"{id}\". You have to remove (or rename) that container to be able to reuse that name.")]
    NameTaken { name: String, id: String },
    #[error("cannot write the container's record: {0}")]
    Io(#[source] io::Error),
}

fn new_entry(record: ContainerRecord, snapshot: Snapshot, cgroup: PathBuf) -> Entry {
    Entry {
        name: RwLock::new(record.name.clone()),
        record,
        run: watch::channel(snapshot).0,
        operation: tokio::sync::Mutex::new(()),
        backoff: Mutex::new(Backoff::default()),
        cgroup,
    }
}

/// Kills whatever still runs in the container's cgroup and removes the
/// cgroup in every hierarchy; nothing to do after a monitor's own cleanup.
fn kill_leftovers(path: &Path) -> io::Result<()> {
    let mounts = CgroupMounts::from_proc()?;
    let dirs = mounts.dirs(path);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let pids: Vec<i32> = dirs
            .iter()
            .filter_map(|dir| fs::read_to_string(dir.join("cgroup.procs")).ok())
            .flat_map(|procs| {
                procs
                    .lines()
                    .filter_map(|l| l.trim().parse().ok())
                    .collect::<Vec<i32>>()
            })
            .collect();
        if pids.is_empty() || Instant::now() > deadline {
            break;
        }
        for pid in pids {
            // Gone already is fine.
            let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    mounts.remove(path).map_err(|(dir, e)| {
        io::Error::new(e.kind(), format!("cannot remove {}: {e}", dir.display()))
    })
}

/// The run state of container `id` as its monitor last recorded it. The
/// record is not synced (see `state`), so a host crash can leave it torn:
/// such a run is recorded as dead, as a run whose monitor is gone is.
fn read_run_at_start(layout: &Layout, id: &str) -> io::Result<Option<RunState>> {
    let path = layout.container_state(id);
    match state::read_json::<RunState>(&path) {
        Ok(run) => Ok(run),
        Err(error) if error.kind() == io::ErrorKind::InvalidData => {
            tracing::warn!(path = %path.display(), %error, "cannot read the container's run state; marking the run dead");
            // Nothing of it is known but that it cannot run any more.
            let mut run = RunState {
                error: Some(format!("the run's record could not be read: {error}")),
                ..RunState::unknown(RunStatus::Dead)
            };
            mark_dead(&mut run);
            state::write_json_replace(&path, &run)?;
            Ok(Some(run))
        }
        Err(error) => Err(error),
    }
}

fn mark_dead(run: &mut RunState) {
    run.status = RunStatus::Dead;
    run.finished_at = Some(time::rfc3339_nanos(SystemTime::now()));
    run.finished_unix = time::unix_nanos(SystemTime::now()) / 1_000_000_000;
    run.exit_code.get_or_insert(255);
    run.error
        .get_or_insert_with(|| "the container's monitor exited without recording its end".into());
}

/// Whether `pid` is the monitor of container `id` (and not a process that
/// got its pid later): its command line, after the program's name, is a
/// monitor's for this container, and not an exec helper's (which names the
/// container too, but watches no run).
///
/// Right after its container starts, the monitor `execve`s the watcher,
/// and while the kernel builds the new program's memory its command line
/// reads empty: a stop, kill or removal asked for at that moment found no
/// monitor and waited in vain for the container to end. An empty command
/// line of a process that is not a zombie is therefore read again, for up
/// to half a second.
pub(crate) fn monitor_alive(pid: i32, id: &str) -> bool {
    let deadline = Instant::now() + Duration::from_millis(500);
    loop {
        match fs::read(format!("/proc/{pid}/cmdline")) {
            Ok(cmdline) if !cmdline.is_empty() => return is_monitor_of(&cmdline, id),
            Ok(_) if !is_zombie(pid) && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(1));
            }
            _ => return false,
        }
    }
}

/// Whether `pid` has exited and waits to be reaped (or is gone).
fn is_zombie(pid: i32) -> bool {
    fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        // The state follows the command name, which is in parentheses.
        stat.rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().next())
            .is_none_or(|state| state == "Z" || state == "X")
    })
}

/// Whether `cmdline` (NUL-separated, as in `/proc/PID/cmdline`) is the
/// command line of container `id`'s monitor, or of the watcher it became.
fn is_monitor_of(cmdline: &[u8], id: &str) -> bool {
    let args = cmdline
        .strip_suffix(&[0])
        .unwrap_or(cmdline)
        .split(|b| *b == 0)
        .skip(1)
        .map(|arg| std::ffi::OsStr::from_bytes(arg).to_os_string());
    crate::monitor::Invocation::parse(args)
        .is_ok_and(|invocation| invocation.exec.is_none() && invocation.args.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::monitor::MonitorArgs;

    fn record(id: &str, name: &str) -> ContainerRecord {
        ContainerRecord {
            id: id.to_owned(),
            name: name.to_owned(),
            created: format!("2024-01-01T00:00:0{}Z", id.len() % 10),
            created_unix: 0,
            image: "busybox".into(),
            image_id: "sha256:00".into(),
            config: Default::default(),
            host_config: Default::default(),
            anonymous_volumes: vec![],
            volumes: vec!["data".into()],
            mounts: vec![],
        }
    }

    fn running(monitor_pid: i32) -> RunState {
        RunState {
            monitor_pid,
            ..RunState::sample(RunStatus::Running)
        }
    }

    #[test]
    fn lookups_by_id_name_and_unique_prefix() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path().join("root"), dir.path().join("run"));
        let store = Containers::open(layout, None).unwrap();
        store
            .insert(record("abc123", "web"), &LaunchSpec::default(), vec![])
            .unwrap();
        store
            .insert(record("abd456", "db"), &LaunchSpec::default(), vec![])
            .unwrap();
        assert_eq!(store.get("abc123").unwrap().record.name, "web");
        assert_eq!(store.get("/db").unwrap().record.id, "abd456");
        assert_eq!(store.get("abc").unwrap().record.id, "abc123");
        assert!(matches!(store.get("ab"), Err(LookupError::Ambiguous(_))));
        assert!(matches!(store.get("zz"), Err(LookupError::NotFound(_))));
        assert!(matches!(store.get(""), Err(LookupError::NotFound(_))));
        let taken = store.insert(record("ffff", "web"), &LaunchSpec::default(), vec![]);
        assert!(matches!(taken, Err(InsertError::NameTaken { .. })));
        let users = store.users(&VolumeName::parse("data").unwrap());
        assert_eq!(users.len(), 2);
    }

    fn cmdline(args: &[std::ffi::OsString]) -> Vec<u8> {
        let mut bytes = b"/usr/local/bin/stack-monitor\0".to_vec();
        for arg in args {
            bytes.extend_from_slice(arg.as_bytes());
            bytes.push(0);
        }
        bytes
    }

    #[test]
    fn a_monitor_is_recognised_by_its_command_line() {
        let args = MonitorArgs {
            root: "/var/lib/stack".into(),
            run_dir: "/run/stack".into(),
            id: "abc".into(),
        };
        assert!(is_monitor_of(&cmdline(&args.to_args()), "abc"));
        assert!(!is_monitor_of(&cmdline(&args.to_args()), "abd"));
        let exec = args.to_exec_args(&Default::default());
        assert!(!is_monitor_of(&cmdline(&exec), "abc"));
        // The watcher the monitor becomes (its executable's name does not matter).
        let watch = args.to_watch_args("{}".into());
        assert!(is_monitor_of(&cmdline(&watch), "abc"));
        assert!(!is_monitor_of(&cmdline(&watch), "abd"));
        // Another program that names the id, and a process without arguments.
        assert!(!is_monitor_of(b"/bin/sleep\0abc\0", "abc"));
        assert!(!is_monitor_of(b"", "abc"));
    }

    #[test]
    fn a_live_process_is_no_zombie_and_a_gone_one_counts_as_one() {
        assert!(!is_zombie(std::process::id() as i32));
        assert!(is_zombie(i32::MAX));
        // Our own command line is no monitor's, and is answered at once.
        assert!(!monitor_alive(std::process::id() as i32, "abc"));
    }

    #[test]
    fn renames_keep_names_unique_and_persist() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path().join("root"), dir.path().join("run"));
        let store = Containers::open(layout.clone(), None).unwrap();
        let web = store
            .insert(record("abc123", "web"), &LaunchSpec::default(), vec![])
            .unwrap();
        store
            .insert(record("abd456", "db"), &LaunchSpec::default(), vec![])
            .unwrap();
        let taken = store.rename(&web, "db").unwrap_err();
        assert!(
            matches!(&taken, InsertError::NameTaken { name, id } if name == "db" && id == "abd456"),
            "{taken}"
        );
        assert_eq!(store.rename(&web, "front").unwrap(), "web");
        assert_eq!(web.name(), "front");
        assert_eq!(store.get("/front").unwrap().record.id, "abc123");
        assert!(matches!(store.get("web"), Err(LookupError::NotFound(_))));
        assert_eq!(store.id_of_name("front").as_deref(), Some("abc123"));
        // The old name is free again.
        store
            .insert(record("ffff", "web"), &LaunchSpec::default(), vec![])
            .unwrap();
        drop(store);
        let reopened = Containers::open(layout, None).unwrap();
        assert_eq!(reopened.get("abc123").unwrap().name(), "front");
    }

    #[test]
    fn a_running_record_without_its_monitor_reloads_as_dead() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path().join("root"), dir.path().join("run"));
        {
            let store = Containers::open(layout.clone(), None).unwrap();
            store
                .insert(record("aaa", "gone"), &LaunchSpec::default(), vec![])
                .unwrap();
        }
        // No process is `monitor ... aaa`: this pid is our own test binary.
        let run = running(std::process::id() as i32);
        state::write_json_atomic(&layout.container_state("aaa"), &run).unwrap();
        // A directory without its record is an unfinished creation.
        fs::create_dir_all(layout.container("half")).unwrap();
        let store = Containers::open(layout.clone(), None).unwrap();
        let snapshot = store.get("gone").unwrap().snapshot();
        assert_eq!(snapshot.status(), Status::Dead);
        assert_eq!(snapshot.exit_code(), 255);
        assert!(!layout.container("half").exists());
        let entry = store.get("aaa").unwrap();
        store.remove(&entry).unwrap();
        assert!(entry.snapshot().removed);
        assert!(!layout.container("aaa").exists());
        assert!(store.list().is_empty());
    }

    #[test]
    fn torn_records_leave_one_container_out_or_its_run_dead_but_never_stop_the_load() {
        let dir = tempfile::tempdir().unwrap();
        let layout = Layout::new(dir.path().join("root"), dir.path().join("run"));
        {
            let store = Containers::open(layout.clone(), None).unwrap();
            for (id, name) in [("aaa", "torn-run"), ("bbb", "torn-record"), ("ccc", "fine")] {
                store
                    .insert(record(id, name), &LaunchSpec::default(), vec![])
                    .unwrap();
            }
        }
        // What a host crash can leave of files written without a sync.
        fs::write(layout.container_state("aaa"), b"").unwrap();
        fs::write(layout.container_supervision("aaa"), b"{\"restart_co").unwrap();
        fs::write(layout.container_record("bbb"), b"").unwrap();
        let store = Containers::open(layout.clone(), None).unwrap();
        let snapshot = store.get("torn-run").unwrap().snapshot();
        assert_eq!(snapshot.status(), Status::Dead);
        assert_eq!(snapshot.exit_code(), 255);
        assert_eq!(snapshot.supervision.restart_count, 0);
        // The dead run is recorded, so the next load reads it.
        let rewritten: RunState = state::read_json(&layout.container_state("aaa"))
            .unwrap()
            .unwrap();
        assert_eq!(rewritten.status, RunStatus::Dead);
        assert!(matches!(
            store.get("torn-record"),
            Err(LookupError::NotFound(_))
        ));
        assert!(
            layout.container("bbb").exists(),
            "its files stay for the user"
        );
        assert!(store.get("fine").unwrap().snapshot().run.is_none());
    }
}
