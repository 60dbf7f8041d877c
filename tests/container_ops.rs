//! Health checks, restart policies, exec, pause/unpause, top and stats, end
//! to end as root through the real binary (and Debian's docker client where
//! it is installed), each test with its own engine and a leak check at the
//! end.

#[path = "common/busybox.rs"]
mod busybox;
mod common;

use busybox::engine;
use common::{stderr, stdout, Engine};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

/// Polls `check` until it holds, failing after `limit` with `what`.
fn wait_for(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn health(engine: &Engine, container: &str) -> (String, i64) {
    let state = &engine.inspect(container)["State"]["Health"];
    (
        state["Status"].as_str().unwrap_or_default().to_owned(),
        state["FailingStreak"].as_i64().unwrap_or(-1),
    )
}

#[test]
fn a_health_check_goes_from_starting_to_healthy_and_to_unhealthy_after_its_retries() {
    let Some(engine) = engine() else { return };
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "checked",
        "--health-cmd",
        "test -f /tmp/ok",
        "--health-interval",
        "200ms",
        "--health-retries",
        "2",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /tmp; sleep 1; touch /tmp/ok; sleep 3; rm /tmp/ok; sleep 100",
    ]);
    let ids = engine.ids();
    assert_eq!(health(&engine, "checked").0, "starting");
    assert!(engine.ok(&["ps"]).contains("(health: starting)"));
    wait_for(Duration::from_secs(5), "healthy", || {
        health(&engine, "checked").0 == "healthy"
    });
    assert!(engine.ok(&["ps"]).contains("(healthy)"));
    // A daemon that starts again keeps the status and resumes the checks
    // (the unhealthy below comes from them).
    let pid = engine.daemon_pid().expect("daemon pid");
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    wait_for(Duration::from_secs(10), "the daemon's end", || {
        !Path::new(&format!("/proc/{pid}")).exists()
    });
    assert_eq!(health(&engine, "checked").0, "healthy");
    wait_for(Duration::from_secs(8), "unhealthy", || {
        health(&engine, "checked").0 == "unhealthy"
    });
    let state = engine.inspect("checked")["State"]["Health"].clone();
    assert!(state["FailingStreak"].as_i64().unwrap() >= 2, "{state}");
    let log = state["Log"].as_array().unwrap();
    assert!(!log.is_empty() && log.len() <= 5, "{state}");
    assert_eq!(log.last().unwrap()["ExitCode"], 1, "{state}");
    assert!(engine.ok(&["ps"]).contains("(unhealthy)"));
    // `--no-healthcheck` and no check at all: no Health in inspect.
    engine.ok(&["run", "-d", "--name", "plain", "busybox", "sleep", "100"]);
    assert!(engine.inspect("plain")["State"]["Health"].is_null());
    let ids: Vec<String> = ids.into_iter().chain(engine.ids()).collect();
    engine.finish(&ids);
}

#[test]
fn restart_policies_restart_with_a_count_and_a_stop_ends_them() {
    let Some(engine) = engine() else { return };
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "failing",
        "--restart",
        "on-failure:2",
        "busybox",
        "sh",
        "-c",
        "echo run; exit 3",
    ]);
    wait_for(Duration::from_secs(10), "two restarts", || {
        let details = engine.inspect("failing");
        details["RestartCount"] == 2 && details["State"]["Status"] == "exited"
    });
    std::thread::sleep(Duration::from_millis(800));
    let details = engine.inspect("failing");
    assert_eq!(details["RestartCount"], 2);
    assert_eq!(details["State"]["Status"], "exited");
    assert_eq!(details["State"]["ExitCode"], 3);
    assert_eq!(engine.ok(&["logs", "failing"]), "run\nrun\nrun\n");

    engine.ok(&[
        "run",
        "-d",
        "--name",
        "always",
        "--restart",
        "always",
        "busybox",
        "sleep",
        "100",
    ]);
    let first_pid = engine.inspect("always")["State"]["Pid"].clone();
    engine.ok(&["kill", "always"]);
    wait_for(Duration::from_secs(5), "the restart after a kill", || {
        let details = engine.inspect("always");
        details["State"]["Running"] == true
            && details["State"]["Pid"] != first_pid
            && details["RestartCount"] == 1
    });
    engine.ok(&["stop", "-t", "1", "always"]);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(engine.inspect("always")["State"]["Status"], "exited");

    // As Docker's: a daemon that starts again brings `always` back, even stopped.
    let ids = engine.ids();
    let pid = engine.daemon_pid().expect("daemon pid");
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    wait_for(Duration::from_secs(10), "the daemon's end", || {
        !Path::new(&format!("/proc/{pid}")).exists()
    });
    wait_for(
        Duration::from_secs(10),
        "always after a daemon start",
        || engine.inspect("always")["State"]["Running"] == true,
    );
    assert_eq!(engine.inspect("failing")["State"]["Status"], "exited");
    engine.finish(&ids);
}

#[test]
fn exec_runs_commands_with_their_output_exit_code_and_terminal() {
    let Some(engine) = engine() else { return };
    engine.ok(&["run", "-d", "--name", "host", "busybox", "sleep", "100"]);
    let ids = engine.ids();
    let out = engine.stack(&[
        "container",
        "exec",
        "-e",
        "GREETING=hello",
        "-w",
        "/etc",
        "host",
        "sh",
        "-c",
        "echo $GREETING from $(pwd); echo oops >&2; exit 3",
    ]);
    assert_eq!(stdout(&out), "hello from /etc\n");
    assert_eq!(stderr(&out), "oops\n");
    assert_eq!(out.status.code(), Some(3));
    let out = engine.stack(&["container", "exec", "-t", "host", "tty"]);
    assert!(stdout(&out).starts_with("/dev/pts/"), "{}", stdout(&out));
    let mut piped = Command::new(env!("CARGO_BIN_EXE_stack"));
    engine.env(&mut piped);
    let mut child = piped
        .args(["container", "exec", "-i", "host", "wc", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"12345").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out).trim(), "5");
    let out = engine.stack(&["container", "exec", "host", "no-such-command"]);
    assert_eq!(out.status.code(), Some(127), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("not found"),
        "{}{}",
        stdout(&out),
        stderr(&out)
    );
    let out = engine.stack(&["container", "exec", "-u", "65534", "host", "id", "-u"]);
    assert_eq!(stdout(&out), "65534\n");
    engine.ok(&["stop", "-t", "0", "host"]);
    let out = engine.stack(&["container", "exec", "host", "true"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("is not running"), "{}", stderr(&out));
    engine.finish(&ids);
}

#[test]
fn pause_freezes_top_lists_and_stats_measure_a_container() {
    let Some(engine) = engine() else { return };
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "busybox",
        "sh",
        "-c",
        "mkdir -p /tmp; i=0; while true; do i=$((i+1)); echo $i > /tmp/tick; sleep 0.05; done",
    ]);
    let ids = engine.ids();
    let tick = engine
        .root()
        .join("containers")
        .join(&ids[0])
        .join("upper/tmp/tick");
    let read = || std::fs::read_to_string(&tick).unwrap_or_default();
    wait_for(Duration::from_secs(5), "the first tick", || {
        !read().is_empty()
    });

    let top = engine.ok(&["top", "ticker"]);
    let pid = engine.inspect("ticker")["State"]["Pid"].to_string();
    assert!(top.starts_with("UID"), "{top}");
    assert!(
        top.lines()
            .any(|l| l.split_whitespace().nth(1) == Some(pid.as_str())),
        "{top}"
    );
    assert!(!top.contains("stack daemon"), "{top}");

    let stats = engine.ok(&["stats", "--no-stream", "ticker"]);
    let row = stats.lines().nth(1).expect("a stats row");
    assert!(row.contains("ticker"), "{stats}");
    assert!(row.contains("iB / "), "no memory usage in {stats}");

    engine.ok(&["pause", "ticker"]);
    assert_eq!(engine.inspect("ticker")["State"]["Status"], "paused");
    assert!(engine.ok(&["ps"]).contains("(Paused)"));
    let frozen = read();
    std::thread::sleep(Duration::from_millis(400));
    assert_eq!(read(), frozen, "a paused container kept running");
    let out = engine.stack(&["container", "exec", "ticker", "true"]);
    assert!(stderr(&out).contains("paused"), "{}", stderr(&out));
    engine.ok(&["unpause", "ticker"]);
    assert_eq!(engine.inspect("ticker")["State"]["Status"], "running");
    wait_for(Duration::from_secs(5), "ticks after unpause", || {
        read() != frozen
    });
    // A paused container still stops.
    engine.ok(&["pause", "ticker"]);
    engine.ok(&["stop", "-t", "1", "ticker"]);
    assert_eq!(engine.inspect("ticker")["State"]["Status"], "exited");
    engine.finish(&ids);
}

#[test]
fn the_docker_client_execs_lists_measures_and_pauses() {
    let docker_path = "/usr/bin/docker";
    let has_script = Path::new("/usr/bin/script").exists();
    if !Path::new(docker_path).exists() || !has_script {
        eprintln!("skipped: needs Debian's docker client and script");
        return;
    }
    let Some(engine) = engine() else { return };
    engine.ok(&["run", "-d", "--name", "target", "busybox", "sleep", "100"]);
    let ids = engine.ids();
    let host = format!("unix://{}", engine.socket().display());
    let docker = |args: &[&str]| {
        Command::new(docker_path)
            .arg("-H")
            .arg(&host)
            .args(args)
            .output()
            .expect("docker")
    };
    let out = docker(&["exec", "target", "sh", "-c", "echo hi; exit 4"]);
    assert_eq!(
        (stdout(&out).as_str(), out.status.code()),
        ("hi\n", Some(4))
    );
    // `exec -it` needs a terminal: script(1) gives it one.
    let command = format!("{docker_path} -H {host} exec -it target sh -c 'tty; exit 5'");
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(stdout(&out).contains("/dev/pts/"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    let out = docker(&["top", "target"]);
    assert!(stdout(&out).contains("sleep 100"), "{}", stderr(&out));
    let out = docker(&["stats", "--no-stream", "target"]);
    assert!(stdout(&out).contains("target"), "{}", stderr(&out));
    assert!(stdout(&out).contains("iB / "), "{}", stdout(&out));
    assert!(docker(&["pause", "target"]).status.success());
    assert!(stdout(&docker(&["ps"])).contains("(Paused)"));
    assert!(docker(&["unpause", "target"]).status.success());
    assert!(!stdout(&docker(&["ps"])).contains("(Paused)"));
    // `run -it` and `run -i` with a pipe.
    let command = format!("{docker_path} -H {host} run -it --rm busybox sh -c 'tty; exit 3'");
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .output()
        .unwrap();
    assert!(stdout(&out).contains("/dev/pts/"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let mut piped = Command::new(docker_path)
        .args(["-H", &host, "run", "-i", "--rm", "busybox", "wc", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut piped.stdin.take().unwrap(), b"1234").unwrap();
    let out = piped.wait_with_output().unwrap();
    assert_eq!(stdout(&out).trim(), "4");
    assert_eq!(stdout(&docker(&["ps", "-a", "-q"])).lines().count(), 1);
    engine.finish(&ids);
}

#[test]
fn run_attaches_a_terminal_and_standard_input() {
    let Some(engine) = engine() else { return };
    engine.ok(&["ps"]);
    let out = engine.stack(&[
        "container",
        "run",
        "-t",
        "--rm",
        "busybox",
        "sh",
        "-c",
        "tty; exit 3",
    ]);
    assert!(stdout(&out).starts_with("/dev/pts/"), "{}", stdout(&out));
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    let mut piped = Command::new(env!("CARGO_BIN_EXE_stack"));
    engine.env(&mut piped);
    let mut child = piped
        .args([
            "container",
            "run",
            "-i",
            "--rm",
            "busybox",
            "sh",
            "-c",
            "cat; echo done",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), b"typed\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(stdout(&out), "typed\ndone\n");
    // Detached with a terminal: its output is in the log, raw.
    engine.ok(&[
        "run",
        "-d",
        "-t",
        "--name",
        "bg",
        "busybox",
        "sh",
        "-c",
        "echo hi; sleep 100",
    ]);
    let ids = engine.ids();
    wait_for(Duration::from_secs(5), "the terminal's output", || {
        engine.ok(&["logs", "bg"]) == "hi\r\n"
    });
    assert!(engine.ids().len() == 1, "--rm left a container");
    engine.finish(&ids);
}
