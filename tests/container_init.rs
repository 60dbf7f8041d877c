//! `--init` / `init: true` end to end as root through the real binary (and
//! Debian's docker client where it is installed): the host's static tini
//! runs as PID 1, reaps orphaned zombies and forwards the stop signal. Each
//! test has its own engine and ends with a leak check.

#[path = "common/busybox.rs"]
mod busybox;
mod common;

use busybox::engine;
use common::{stderr, stdout, Engine};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The command of both containers of the first test: a subshell leaves an
/// orphan that ends 0.2 s later, then the shell becomes `sleep`, which
/// never reaps anything and ignores SIGTERM as PID 1.
const ORPHAN_MAKER: &str = "(sleep 0.2 &); exec sleep 100";

/// Polls `check` until it holds, failing after `limit` with `what`.
fn wait_for(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// `ps` inside `container`: (pid, ppid, stat, args) per process.
fn processes(engine: &Engine, container: &str) -> Vec<(u32, u32, String, String)> {
    engine
        .ok(&["exec", container, "ps", "-o", "pid,ppid,stat,args"])
        .lines()
        .skip(1)
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let pid = fields.next()?.parse().ok()?;
            let ppid = fields.next()?.parse().ok()?;
            let stat = fields.next()?.to_owned();
            Some((pid, ppid, stat, fields.collect::<Vec<_>>().join(" ")))
        })
        .collect()
}

fn zombies(engine: &Engine, container: &str) -> usize {
    processes(engine, container)
        .iter()
        .filter(|(_, _, stat, _)| stat.starts_with('Z'))
        .count()
}

/// Whether the host has a static init to bind (Debian's `tini`).
fn has_init() -> bool {
    let found = ["/usr/bin/tini-static", "/usr/bin/docker-init"]
        .iter()
        .any(|p| Path::new(p).exists());
    if !found {
        eprintln!("skipped: needs `apt-get install tini`");
    }
    found
}

#[test]
fn init_is_pid_1_reaps_orphans_and_forwards_the_stop_signal() {
    if !has_init() {
        return;
    }
    let Some(engine) = engine() else { return };
    let run = |name: &str, init: bool| {
        let mut args = vec!["run", "-d", "--name", name];
        if init {
            args.push("--init");
        }
        args.extend(["busybox", "sh", "-c", ORPHAN_MAKER]);
        engine.ok(&args);
    };
    run("with-init", true);
    run("without", false);
    let ids = engine.ids();

    // Inspect shows the request and the command, not the init (as Docker).
    let details = engine.inspect("with-init");
    assert_eq!(details["HostConfig"]["Init"], true);
    assert_eq!(details["Path"], "sh");
    assert_eq!(details["Args"], serde_json::json!(["-c", ORPHAN_MAKER]));
    assert_eq!(details["Mounts"], serde_json::json!([]));
    assert!(engine.inspect("without")["HostConfig"]["Init"].is_null());

    // PID 1 is the init; the command is its child.
    let cmdline = engine.ok(&["exec", "with-init", "cat", "/proc/1/cmdline"]);
    assert!(
        cmdline.starts_with("/sbin/docker-init\0--\0sh\0-c\0"),
        "{cmdline:?}"
    );
    let listed = processes(&engine, "with-init");
    assert!(
        listed
            .iter()
            .any(|(pid, ppid, _, args)| *pid != 1 && *ppid == 1 && args == "sleep 100"),
        "{listed:?}"
    );

    // Without an init the orphan stays a zombie of the `sleep` that became
    // PID 1 (this is what makes the check below mean something)...
    wait_for(Duration::from_secs(5), "a zombie without init", || {
        zombies(&engine, "without") == 1
    });
    // ...with one, it is reaped: its orphan ended before the other's did.
    let listed = processes(&engine, "with-init");
    assert!(
        !listed
            .iter()
            .any(|(_, _, stat, args)| stat.starts_with('Z') || args == "sleep 0.2"),
        "{listed:?}"
    );

    // SIGTERM reaches `sleep` through the init, which exits as it did.
    let started = Instant::now();
    engine.ok(&["stop", "-t", "10", "with-init"]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "stop took {took:?}");
    assert_eq!(engine.inspect("with-init")["State"]["ExitCode"], 143);
    // Without it, the grace period runs out and SIGKILL ends it.
    engine.ok(&["stop", "-t", "1", "without"]);
    assert_eq!(engine.inspect("without")["State"]["ExitCode"], 137);

    // A stopped container with an init starts again with it.
    engine.ok(&["start", "with-init"]);
    let cmdline = engine.ok(&["exec", "with-init", "cat", "/proc/1/cmdline"]);
    assert!(cmdline.starts_with("/sbin/docker-init\0"), "{cmdline:?}");
    engine.finish(&ids);
}

#[test]
fn init_is_refused_naming_the_daemons_init_path_when_it_is_missing() {
    let Some(engine) = engine() else { return };
    // Stop the daemon the import started, and start one with a bad path.
    engine.stop_daemon();
    let missing = engine.dir().join("no-such-init");
    // The root on the command line: the harness finds its daemon by it.
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_stack"));
    engine.env(&mut daemon);
    daemon
        .arg("daemon")
        .arg("--root")
        .arg(engine.root())
        .arg("--run-dir")
        .arg(engine.run_dir())
        .args(["--init-path", missing.to_str().unwrap()])
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut child = daemon.spawn().expect("start the daemon");
    wait_for(Duration::from_secs(10), "the daemon's socket", || {
        engine.socket().exists()
    });
    let out = engine.stack(&["container", "create", "--init", "busybox", "true"]);
    assert!(!out.status.success());
    let message = stderr(&out);
    assert!(
        message.contains("HostConfig.Init") && message.contains(missing.to_str().unwrap()),
        "{message}"
    );
    assert_eq!(
        engine.ids(),
        Vec::<String>::new(),
        "a container was created"
    );
    engine.finish(&[]);
    let _ = child.wait();
}

#[test]
fn a_compose_service_with_init_true_runs_under_the_init() {
    if !has_init() {
        return;
    }
    let Some(engine) = engine() else { return };
    let project = engine.dir().join("project");
    std::fs::create_dir_all(&project).unwrap();
    std::fs::write(
        project.join("compose.yaml"),
        "name: initapp\nservices:\n  app:\n    image: busybox\n    init: true\n    \
         network_mode: none\n    command: [sleep, '100']\n",
    )
    .unwrap();
    let compose = |args: &[&str]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stack"));
        command.args(args).current_dir(&project);
        engine.env(&mut command);
        let out = command.output().expect("run stack");
        assert!(out.status.success(), "stack {args:?}: {}", stderr(&out));
    };
    compose(&["up", "-d"]);
    let ids = engine.ids();
    assert_eq!(engine.inspect("initapp-app-1")["HostConfig"]["Init"], true);
    let comm = engine.ok(&["exec", "initapp-app-1", "cat", "/proc/1/comm"]);
    assert_eq!(comm, "docker-init\n");
    let started = Instant::now();
    compose(&["down", "-t", "10"]);
    assert!(started.elapsed() < Duration::from_secs(5), "down waited");
    engine.finish(&ids);
}

#[test]
fn the_docker_client_runs_with_init() {
    let docker_path = "/usr/bin/docker";
    if !Path::new(docker_path).exists() {
        eprintln!("skipped: needs Debian's docker client");
        return;
    }
    if !has_init() {
        return;
    }
    let Some(engine) = engine() else { return };
    let out = Command::new(docker_path)
        .arg("-H")
        .arg(format!("unix://{}", engine.socket().display()))
        .args(["run", "--rm", "--init", "busybox", "cat", "/proc/1/comm"])
        .output()
        .expect("docker");
    assert_eq!(stdout(&out), "docker-init\n", "{}", stderr(&out));
    engine.finish(&[]);
}
