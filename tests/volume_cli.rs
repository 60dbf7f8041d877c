//! `stack volume` through the real binary: the CLI starts the embedded daemon
//! on demand (own state root and run directory per test), talks to it over
//! its socket, and the daemon stops cleanly on SIGTERM.

mod common;

use common::{stdout, Engine};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn volume_commands_start_the_daemon_and_manage_volumes() {
    let engine = Engine::new();
    let out = engine.stack(&["volume", "create", "--label", "team=core", "data"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(stdout(&out), "data\n");

    let socket = engine.run_dir().join("stack.sock");
    let mode = std::fs::metadata(&socket).expect("socket").permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o600
    );

    let out = engine.stack(&["volume", "ls", "-q", "--filter", "label=team=core"]);
    assert_eq!(stdout(&out), "data\n");
    assert!(engine.root().join("volumes/data/_data").is_dir());

    let out = engine.stack(&["volume", "inspect", "data"]);
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json[0]["Labels"]["team"], "core");

    let out = engine.stack(&["volume", "rm", "data", "missing"]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(stdout(&out), "data\n");
    assert!(String::from_utf8_lossy(&out.stderr).contains("missing"));
    assert!(!engine.root().join("volumes/data").exists());

    let pid = engine.daemon_pid().expect("daemon pid in the lock file");
    let status = Command::new("kill")
        .arg(pid.to_string())
        .status()
        .expect("kill");
    assert!(status.success());
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(
        !Path::new(&format!("/proc/{pid}")).exists(),
        "daemon still running"
    );
    assert!(!socket.exists(), "socket left behind");
}
