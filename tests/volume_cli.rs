//! `stack volume` through the real binary: the CLI starts the embedded daemon
//! on demand (own state root and run directory per test), talks to it over
//! its socket, and the daemon stops cleanly on SIGTERM.

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

struct Engine {
    dir: tempfile::TempDir,
}

impl Engine {
    fn new() -> Engine {
        Engine {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn root(&self) -> std::path::PathBuf {
        self.dir.path().join("root")
    }

    fn run_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("run")
    }

    fn stack(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_stack"))
            .args(args)
            .env("STACK_ROOT", self.root())
            .env("STACK_RUN_DIR", self.run_dir())
            .env_remove("STACK_HOST")
            .env_remove("DOCKER_HOST")
            .output()
            .expect("run stack")
    }

    /// The pid of this test's daemon: the one in its root's lock file, if
    /// that process is still a daemon serving this root.
    fn daemon_pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.root().join("daemon.lock"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let root = self.root();
        let ours = cmdline
            .split(|b| *b == 0)
            .any(|arg| arg == root.as_os_str().as_encoded_bytes());
        ours.then_some(pid)
    }
}

impl Drop for Engine {
    /// Stops the daemon this test started (found by the pid in its own
    /// root's lock file), even when the test failed.
    fn drop(&mut self) {
        if let Some(pid) = self.daemon_pid() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(10);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

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
