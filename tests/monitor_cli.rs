//! The `stack-monitor` executable as the daemon finds it. The daemon
//! looks for it next to its own executable (every other container test
//! relies on that); a daemon pointed at a monitor that is not there says so
//! in its log when it starts, and refuses to start containers with an error
//! that names the path and says how to build it. Run by hand with a
//! command line that is not the daemon's, the monitor refuses it.

mod common;

use common::{is_root, mounts_under, processes_naming, stderr, stdout, Engine};
use std::path::Path;
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
        .arg(&missing)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&log_path).unwrap());
    engine.env(&mut command);
    let mut daemon = command.spawn().expect("start stack daemon");
    // Reaped as soon as it exits, so that the engine's cleanup sees it gone.
    let reaper = std::thread::spawn(move || daemon.wait());
    let deadline = Instant::now() + Duration::from_secs(15);
    while !engine.socket().exists() {
        assert!(Instant::now() < deadline, "the daemon did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
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
