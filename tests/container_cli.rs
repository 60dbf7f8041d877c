//! `stack container` end to end, as root, through the real binary: each
//! test has its own state root and run directory, a busybox image imported
//! from the host's /bin/busybox, and its own daemon (started on demand by
//! the CLI). Every test ends by removing its containers, stopping its
//! daemon and checking that nothing is left: no mount under its root, no
//! cgroup of its containers, no process naming its root.

#[path = "common/busybox.rs"]
mod busybox;
mod common;

use busybox::engine;
use common::{stderr, stdout};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

#[test]
fn run_prints_and_exits_with_the_containers_code() {
    let Some(engine) = engine() else { return };
    let out = engine.stack(&["container", "run", "--rm", "busybox", "echo", "hi"]);
    assert_eq!(stdout(&out), "hi\n", "{}", stderr(&out));
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(
        engine.ok(&["ps", "-a", "-q"]),
        "",
        "--rm left the container"
    );

    let out = engine.stack(&[
        "container",
        "run",
        "--name",
        "three",
        "busybox",
        "sh",
        "-c",
        "echo err >&2; exit 3",
    ]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert_eq!(stderr(&out), "err\n");
    let taken = engine.stack(&["container", "run", "--name", "three", "busybox", "true"]);
    assert_eq!(taken.status.code(), Some(125));
    assert!(
        stderr(&taken).contains("already in use"),
        "{}",
        stderr(&taken)
    );
    let missing = engine.stack(&["container", "run", "--rm", "busybox", "no-such-command"]);
    assert_eq!(missing.status.code(), Some(127), "{}", stderr(&missing));
    let ids = engine.ids();
    assert_eq!(engine.inspect("three")["State"]["ExitCode"], 3);
    assert_eq!(engine.inspect("three")["State"]["Status"], "exited");
    engine.finish(&ids);
}

#[test]
fn the_container_sees_only_itself_and_its_image() {
    let Some(engine) = engine() else { return };
    let out = engine.ok(&[
        "run",
        "--name",
        "iso",
        "--hostname",
        "box",
        "busybox",
        "sh",
        "-c",
        "echo $$; hostname; ps -o pid= ; echo --; ls /",
    ]);
    let ids = engine.ids();
    let (head, listing) = out.split_once("--\n").expect("separator");
    let mut lines = head.lines();
    assert_eq!(lines.next(), Some("1"), "{out}");
    assert_eq!(lines.next(), Some("box"), "{out}");
    let pids: Vec<i32> = lines.map(|l| l.trim().parse().unwrap()).collect();
    assert!(
        pids.len() <= 3 && pids.contains(&1),
        "ps sees other processes: {out}"
    );
    let entries: Vec<&str> = listing.lines().collect();
    assert!(
        entries.contains(&"bin") && entries.contains(&"etc"),
        "{listing}"
    );
    assert!(
        !entries.contains(&"usr") && !entries.contains(&"home"),
        "the host's root: {listing}"
    );
    engine.finish(&ids);
}

#[test]
fn detached_containers_log_stop_with_grace_and_are_removed() {
    let Some(engine) = engine() else { return };
    let id = engine.ok(&[
        "run",
        "-d",
        "--name",
        "polite",
        "busybox",
        "sh",
        "-c",
        "trap 'echo bye; exit 0' TERM; echo started; while true; do sleep 0.1; done",
    ]);
    assert_eq!(id.trim().len(), 64);
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "stubborn",
        "busybox",
        "sh",
        "-c",
        "trap '' TERM; while true; do sleep 0.1; done",
    ]);
    let ids = engine.ids();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !engine.ok(&["logs", "polite"]).contains("started") {
        assert!(Instant::now() < deadline, "no log line");
        std::thread::sleep(Duration::from_millis(50));
    }
    let running = engine.ok(&["ps"]);
    assert!(
        running.contains("polite") && running.contains("stubborn"),
        "{running}"
    );
    assert!(engine.inspect("polite")["State"]["Pid"].as_i64().unwrap() > 0);
    let info = engine.stack(&["info"]);
    let info = stdout(&info);
    for line in [
        " Containers: 2",
        "  Running: 2",
        "  Stopped: 0",
        " Firewall Backend: ",
    ] {
        assert!(info.contains(line), "{line:?} not in stack info:\n{info}");
    }

    let started = Instant::now();
    engine.ok(&["stop", "polite"]);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "SIGTERM was not honoured"
    );
    assert_eq!(engine.inspect("polite")["State"]["ExitCode"], 0);
    assert!(engine.ok(&["logs", "polite"]).contains("bye"));

    let started = Instant::now();
    engine.ok(&["stop", "-t", "1", "stubborn"]);
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "killed before the grace period"
    );
    assert_eq!(engine.inspect("stubborn")["State"]["ExitCode"], 137);
    assert_eq!(engine.ok(&["ps", "-q"]), "");

    let out = engine.stack(&["container", "rm", "polite", "stubborn"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(engine.ok(&["ps", "-a", "-q"]), "");
    engine.finish(&ids);
}

#[test]
fn a_process_over_its_memory_limit_is_oom_killed() {
    let Some(engine) = engine() else { return };
    let out = engine.stack(&[
        "container",
        "run",
        "--name",
        "hog",
        "--memory",
        "16m",
        "busybox",
        "sh",
        "-c",
        "a=x; while true; do a=\"$a$a\"; done",
    ]);
    assert_eq!(out.status.code(), Some(137), "{}", stderr(&out));
    let state = &engine.inspect("hog")["State"];
    assert_eq!(state["OOMKilled"], true, "{state}");
    assert_eq!(state["ExitCode"], 137);
    let ids = engine.ids();
    engine.finish(&ids);
}

#[test]
fn containers_survive_a_killed_daemon() {
    let Some(engine) = engine() else { return };
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "lasting",
        "busybox",
        "sh",
        "-c",
        "trap 'exit 0' TERM; while true; do sleep 0.1; done",
    ]);
    // One to remove on exit, which ends while no daemon runs.
    engine.ok(&[
        "run", "-d", "--rm", "--name", "brief", "-v", "/scratch", "busybox", "sleep", "1",
    ]);
    let brief_pid = engine.inspect("brief")["State"]["Pid"].as_i64().unwrap();
    let ids = engine.ids();
    let pid = engine.daemon_pid().expect("daemon pid");
    // Started on demand, it leads a session of its own, as a daemon does.
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..].split(' ').collect();
    assert_eq!(fields[3], pid.to_string(), "the daemon's session: {stat}");
    Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Path::new(&format!("/proc/{pid}")).exists() {
        assert!(Instant::now() < deadline, "the daemon survived SIGKILL");
        std::thread::sleep(Duration::from_millis(20));
    }
    while Path::new(&format!("/proc/{brief_pid}")).exists() {
        assert!(Instant::now() < deadline, "brief's sleep 1 did not end");
        std::thread::sleep(Duration::from_millis(20));
    }
    // The CLI starts a new daemon, which finds the container running, and
    // removes the one that ended meanwhile, as Docker's restore does.
    let deadline = Instant::now() + Duration::from_secs(10);
    while engine.ok(&["ps", "-a"]).contains("brief") {
        assert!(Instant::now() < deadline, "the ended --rm container stays");
        std::thread::sleep(Duration::from_millis(50));
    }
    let volumes = engine.stack(&["volume", "ls", "-q"]);
    assert_eq!(stdout(&volumes), "", "its anonymous volume stays");
    let running = engine.ok(&["ps"]);
    assert!(
        running.contains("lasting") && running.contains("Up "),
        "{running}"
    );
    assert_eq!(engine.inspect("lasting")["State"]["Running"], true);
    engine.ok(&["stop", "lasting"]);
    assert_eq!(engine.inspect("lasting")["State"]["ExitCode"], 0);
    engine.ok(&["rm", "lasting"]);
    engine.finish(&ids);
}

#[test]
fn the_docker_client_runs_containers() {
    let Some(docker_path) = common::docker_client() else {
        return;
    };
    let Some(engine) = engine() else { return };
    // Starts the daemon.
    engine.ok(&["ps"]);
    let docker = |args: &[&str]| {
        let out = engine
            .docker(docker_path)
            .args(args)
            .output()
            .expect("docker");
        assert!(out.status.success(), "docker {args:?}: {}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(docker(&["run", "--rm", "busybox", "echo", "hi"]), "hi\n");
    let out = docker(&[
        "run",
        "--rm",
        "-v",
        "/scratch",
        "busybox",
        "sh",
        "-c",
        "touch /scratch/x && echo ok",
    ]);
    assert_eq!(out, "ok\n");
    assert_eq!(
        docker(&["volume", "ls", "-q"]),
        "",
        "--rm left the anonymous volume"
    );
    let failed = engine
        .docker(docker_path)
        .args(["run", "--rm", "busybox", "no-such-command"])
        .output()
        .expect("docker");
    assert!(!failed.status.success());
    assert!(stderr(&failed).contains("not found"), "{}", stderr(&failed));
    assert_eq!(
        docker(&["ps", "-a", "-q"]),
        "",
        "a --rm container that failed to start was kept"
    );
    let id = docker(&[
        "run",
        "-d",
        "--name",
        "viadocker",
        "busybox",
        "sh",
        "-c",
        "echo from-docker; sleep 100",
    ]);
    let ids = vec![id.trim().to_owned()];
    let deadline = Instant::now() + Duration::from_secs(10);
    while !docker(&["logs", "viadocker"]).contains("from-docker") {
        assert!(Instant::now() < deadline, "no log line");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(docker(&["ps", "-a"]).contains("viadocker"));
    docker(&["restart", "-t", "0", "viadocker"]);
    assert!(
        docker(&["ps"]).contains("viadocker"),
        "not running after restart"
    );
    docker(&["rm", "-f", "viadocker"]);
    assert!(!docker(&["ps", "-a"]).contains("viadocker"));
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 1;
    let events = docker(&[
        "events",
        "--since",
        "0",
        "--until",
        &until.to_string(),
        "--filter",
        "type=container",
        "--format",
        "{{.Action}}",
    ]);
    for action in ["create", "start", "die", "destroy", "restart"] {
        assert!(
            events.lines().any(|l| l == action),
            "no {action} event in {events}"
        );
    }
    engine.finish(&ids);
}

#[test]
fn volumes_and_images_in_use_are_kept() {
    let Some(engine) = engine() else { return };
    let out = engine.ok(&[
        "run",
        "--name",
        "writer",
        "-v",
        "data:/data",
        "-v",
        "/scratch",
        "busybox",
        "sh",
        "-c",
        "echo kept > /data/file; touch /scratch/x; cat /etc/hostname",
    ]);
    assert_eq!(out.trim().len(), 12, "hostname is the short id: {out}");
    let ids = engine.ids();
    let volumes = stdout(&engine.stack(&["volume", "ls", "-q"]));
    assert_eq!(volumes.lines().count(), 2, "{volumes}");
    let refused = engine.stack(&["volume", "rm", "data"]);
    assert!(!refused.status.success(), "a volume in use was removed");
    let refused = engine.stack(&["image", "rm", "busybox"]);
    assert!(!refused.status.success(), "an image in use was removed");
    let mounts = engine.inspect("writer")["Mounts"].clone();
    let data = mounts
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["Destination"] == "/data")
        .expect("the /data mount in inspect");
    assert_eq!(data["Type"], "volume");
    assert_eq!(data["Name"], "data");
    assert_eq!(data["RW"], true);
    engine.ok(&["rm", "-v", "writer"]);
    let volumes = stdout(&engine.stack(&["volume", "ls", "-q"]));
    assert_eq!(volumes, "data\n", "rm -v keeps named volumes only");
    let data = engine.root().join("volumes/data/_data/file");
    assert_eq!(std::fs::read_to_string(data).unwrap(), "kept\n");
    assert!(engine.stack(&["volume", "rm", "data"]).status.success());
    // An empty volume gets the image's content at its mount point.
    let group = engine.ok(&[
        "run",
        "--rm",
        "-v",
        "conf:/etc",
        "busybox",
        "cat",
        "/etc/group",
    ]);
    assert_eq!(group, "root:x:0:\n");
    let copied = engine.root().join("volumes/conf/_data/passwd");
    assert!(copied.is_file(), "not copied into the volume");
    assert!(engine.stack(&["volume", "rm", "conf"]).status.success());
    engine.finish(&ids);
}

#[test]
fn a_container_whose_monitor_died_is_dead_and_removed_without_leftovers() {
    let Some(engine) = engine() else { return };
    let id = engine.ok(&["run", "-d", "--name", "orphan", "busybox", "sleep", "1000"]);
    let id = id.trim().to_owned();
    let state: serde_json::Value = serde_json::from_slice(
        &std::fs::read(
            engine
                .root()
                .join("containers")
                .join(&id)
                .join("state.json"),
        )
        .unwrap(),
    )
    .unwrap();
    let monitor = state["monitor_pid"].as_i64().expect("monitor pid");
    Command::new("kill")
        .args(["-9", &monitor.to_string()])
        .status()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while engine.inspect("orphan")["State"]["Status"] != "dead" {
        assert!(Instant::now() < deadline, "not marked dead");
        std::thread::sleep(Duration::from_millis(50));
    }
    engine.ok(&["rm", "orphan"]);
    engine.finish(&[id]);
}

#[test]
fn a_test_engine_dropped_with_running_containers_leaves_none() {
    let Some(engine) = engine() else { return };
    let id = engine.ok(&["run", "-d", "busybox", "sleep", "1000"]);
    let id = id.trim().to_owned();
    let pid = engine.inspect(&id)["State"]["Pid"]
        .as_i64()
        .expect("pid")
        .to_string();
    let cgroups: Vec<std::path::PathBuf> =
        common::cgroup_dirs(&common::cgroup_parent(&engine.root()).join(&id));
    assert!(!cgroups.is_empty(), "the container has no cgroup");
    // What a test that fails before removing its containers leaves to the
    // harness's cleanup.
    drop(engine);
    let deadline = Instant::now() + Duration::from_secs(5);
    while Path::new("/proc").join(&pid).exists() || cgroups.iter().any(|d| d.exists()) {
        assert!(
            Instant::now() < deadline,
            "the container's process or cgroups outlived the engine"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn ctrl_c_on_a_foreground_run_reaches_the_container() {
    use std::io::{BufRead, BufReader};
    let Some(engine) = engine() else { return };
    let mut child = Command::new(env!("CARGO_BIN_EXE_stack"))
        .args(["container", "run", "--name", "fg", "busybox", "sh", "-c"])
        .arg("trap 'echo got-int; exit 5' INT; echo ready; while true; do sleep 0.1; done")
        .env("STACK_ROOT", engine.root())
        .env("STACK_RUN_DIR", engine.run_dir())
        .env_remove("STACK_HOST")
        .env_remove("DOCKER_HOST")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run stack");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "ready");
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert_eq!(lines.next().unwrap().unwrap(), "got-int");
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(5));
    let ids = engine.ids();
    engine.finish(&ids);
}
