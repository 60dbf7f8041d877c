//! The `stack-monitor` executable as the daemon finds it. The daemon
//! looks for it next to its own executable (every other container test
//! relies on that); a daemon pointed at a monitor that is not there says so
//! in its log when it starts, and refuses to start containers with an error
//! that names the path and says how to build it. Run by hand with a
//! command line that is not the daemon's, the monitor refuses it. Once its
//! container runs, the monitor is `stack-watch` (found next to it, with
//! the same checks), which still logs, reaps and cleans up.

#[path = "common/busybox.rs"]
mod busybox;
mod common;

use common::{is_root, mounts_under, processes_naming, stderr, stdout, Engine};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_missing_monitor_refuses_container_starts_by_name() {
    if !is_root() || !Path::new("/bin/busybox").exists() {
        eprintln!("skipped: needs root and /bin/busybox");
        return;
    }
    let engine = Engine::new();
    let missing = engine.dir().join("no-such-monitor");
    let (reaper, log_path) = daemon_with_monitor(&engine, &missing);
    engine.import_busybox(&[]);

    let out = engine.stack(&["container", "run", "--rm", "busybox", "true"]);
    let message = stderr(&out);
    assert!(!out.status.success(), "the container ran: {message}");
    let path = missing.display().to_string();
    assert!(message.contains(&path), "{message}");
    assert!(message.contains("cargo build --release"), "{message}");
    assert!(message.contains("--monitor-path"), "{message}");

    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(&path) && l.contains("containers cannot start")),
        "the daemon's log says nothing of the missing monitor:\n{log}"
    );
    // `--rm` removed the refused container.
    let ids = stdout(&engine.stack(&["container", "ps", "-a", "-q"]));
    assert_eq!(ids.trim(), "", "containers left behind");
    engine.stop_daemon();
    reaper.join().unwrap().unwrap();
    assert!(processes_naming(&engine.root()).is_empty());
    assert!(mounts_under(engine.dir()).is_empty());
}

#[test]
fn the_monitor_refuses_a_command_line_that_is_not_the_daemons() {
    let out = Command::new(env!("CARGO_BIN_EXE_stack-monitor"))
        .args(["--root", "/nonexistent"])
        .output()
        .expect("run stack-monitor");
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(message.contains("--run-dir is missing"), "{message}");
    assert!(message.contains("usage: stack-monitor"), "{message}");
}

/// The parent of `pid`, from its `/proc` status.
fn parent_of(pid: i64) -> Option<i64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("PPid:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[test]
fn a_running_containers_monitor_is_the_watcher_and_still_logs_reaps_and_cleans_up() {
    let Some(engine) = busybox::engine() else {
        return;
    };
    let id = engine.ok(&[
        "run",
        "-d",
        "busybox",
        "sh",
        "-c",
        "echo out; echo err >&2; sleep 2; exit 3",
    ]);
    let id = id.trim().to_owned();
    let pid = engine.inspect(&id)["State"]["Pid"].as_i64().expect("pid");
    let monitor = parent_of(pid).expect("the container's process runs");
    let exe = std::fs::read_link(format!("/proc/{monitor}/exe")).unwrap();
    assert_eq!(
        exe.file_name().and_then(|n| n.to_str()),
        Some("stack-watch"),
        "the container's parent runs {}",
        exe.display()
    );
    assert_eq!(
        exe.parent(),
        Path::new(env!("CARGO_BIN_EXE_stack-monitor")).parent()
    );
    // Nothing of libcontainer's start is mapped in it.
    let maps = std::fs::read_to_string(format!("/proc/{monitor}/maps")).unwrap();
    assert!(!maps.contains("stack-monitor"), "{maps}");
    assert!(!maps.contains("libseccomp"), "{maps}");
    let cgroups: Vec<PathBuf> =
        common::cgroup_dirs(&common::cgroup_parent(&engine.root()).join(&id));
    assert!(!cgroups.is_empty(), "the container has no cgroup");
    let runtime_state = engine.run_dir().join("runtime").join(&id);
    assert!(runtime_state.is_dir(), "{}", runtime_state.display());

    assert_eq!(engine.ok(&["wait", &id]).trim(), "3");
    let state = engine.inspect(&id)["State"].clone();
    assert_eq!(state["ExitCode"], 3, "{state}");
    assert_eq!(state["OOMKilled"], false, "{state}");
    let logs = engine.stack(&["container", "logs", &id]);
    assert_eq!(stdout(&logs), "out\n");
    assert_eq!(stderr(&logs), "err\n");
    assert!(
        !Path::new(&format!("/proc/{monitor}")).exists(),
        "the watcher outlived its container"
    );
    for dir in &cgroups {
        assert!(!dir.exists(), "{} is left", dir.display());
    }
    assert!(
        !runtime_state.exists(),
        "{} is left",
        runtime_state.display()
    );
    assert!(mounts_under(engine.dir()).iter().all(|m| !m.contains(&id)));
    engine.finish(&[id]);
}

#[test]
fn a_missing_watcher_refuses_container_starts_by_name() {
    let Some(engine) = busybox::engine() else {
        return;
    };
    // A monitor without the watcher beside it.
    let bin = engine.dir().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let monitor = bin.join("stack-monitor");
    std::fs::copy(env!("CARGO_BIN_EXE_stack-monitor"), &monitor).unwrap();
    engine.stop_daemon();
    let (reaper, log_path) = daemon_with_monitor(&engine, &monitor);

    let out = engine.stack(&["container", "run", "--rm", "busybox", "true"]);
    let message = stderr(&out);
    assert!(!out.status.success(), "the container ran: {message}");
    let path = bin.join("stack-watch").display().to_string();
    assert!(message.contains(&path), "{message}");
    assert!(message.contains("cargo build --release"), "{message}");
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(
        log.lines()
            .any(|l| l.contains(&path) && l.contains("containers cannot start")),
        "the daemon's log says nothing of the missing watcher:\n{log}"
    );
    let ids = engine.ids();
    assert!(ids.is_empty(), "containers left behind: {ids:?}");
    engine.stop_daemon();
    reaper.join().unwrap().unwrap();
    busybox::check_no_leaks(&engine.root(), &[]);
}

#[test]
fn the_watcher_refuses_a_command_line_that_is_not_a_monitors() {
    let watcher = env!("CARGO_BIN_EXE_stack-watch");
    let out = Command::new(watcher)
        .args(["--root", "/nonexistent", "--run-dir", "/nonexistent", "abc"])
        .output()
        .expect("run stack-watch");
    assert_eq!(out.status.code(), Some(2));
    let message = stderr(&out);
    assert!(message.contains("--watch is missing"), "{message}");
    assert!(message.contains("usage: stack-watch"), "{message}");
    let out = Command::new(watcher)
        .args(["--root", "/r", "--run-dir", "/d", "--watch", "{}", "abc"])
        .output()
        .expect("run stack-watch");
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("invalid handover"),
        "{}",
        stderr(&out)
    );
}

/// Starts `engine`'s daemon by hand with `--monitor-path monitor` and its
/// log in `daemon.log`, once its socket accepts connections (not through
/// the CLI, which would start a daemon of its own). The thread reaps the
/// daemon as soon as it exits, so that the engine's cleanup sees it gone.
fn daemon_with_monitor(
    engine: &Engine,
    monitor: &Path,
) -> (
    std::thread::JoinHandle<std::io::Result<std::process::ExitStatus>>,
    PathBuf,
) {
    let log_path = engine.dir().join("daemon.log");
    let mut command = Command::new(env!("CARGO_BIN_EXE_stack"));
    // The root on the command line: the cleanup finds the daemon by it.
    command
        .arg("daemon")
        .arg("--root")
        .arg(engine.root())
        .arg("--run-dir")
        .arg(engine.run_dir())
        .arg("--monitor-path")
        .arg(monitor)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap());
    engine.env(&mut command);
    let mut daemon = command.spawn().expect("start stack daemon");
    let reaper = std::thread::spawn(move || daemon.wait());
    let deadline = Instant::now() + Duration::from_secs(15);
    while std::os::unix::net::UnixStream::connect(engine.socket()).is_err() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    (reaper, log_path)
}
