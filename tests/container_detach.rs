//! Detaching from attached sessions with the detach keys (docker's
//! ctrl-p ctrl-q, or `--detach-keys`), from `stack container run -it`,
//! `attach` and `exec -it` and from Debian's docker client, each under a
//! terminal of its own (script(1)); and `exec --privileged`. End to end as
//! root, each test with its own engine and a leak check at the end.

#[path = "common/busybox.rs"]
mod busybox;
mod common;
#[path = "common/terminal.rs"]
mod terminal;

use busybox::engine;
use common::{stderr, stdout, Engine};
use std::path::Path;
use std::time::{Duration, Instant};
use terminal::{typed_session, SCRIPT};

const DOCKER: &str = "/usr/bin/docker";

fn running(engine: &Engine, container: &str) -> bool {
    engine.inspect(container)["State"]["Running"] == true
}

#[test]
fn the_detach_keys_leave_the_container_running_and_it_can_be_attached_again() {
    if !Path::new(SCRIPT).exists() {
        eprintln!("skipped: needs script(1)");
        return;
    }
    let Some(engine) = engine() else { return };
    let stack = env!("CARGO_BIN_EXE_stack");

    // Docker's default keys, from `run -it`.
    let (status, screen) = typed_session(
        &engine,
        &format!("{stack} container run -it --name shell busybox sh"),
        "first",
        &[&[0x10, 0x11]],
    );
    assert!(status.success(), "{screen}");
    assert!(running(&engine, "shell"), "{screen}");
    let ids = engine.ids();

    // Other keys, from `attach`; the shell still has its state.
    // ctrl-p ctrl-q are plain keys now.
    let (status, screen) = typed_session(
        &engine,
        &format!("{stack} container attach --detach-keys ctrl-a,x shell"),
        "second",
        &[&[0x10, 0x11], &[0x01, b'x']],
    );
    assert!(status.success(), "{screen}");
    assert!(screen.contains("read escape sequence"), "{screen}");
    assert!(running(&engine, "shell"));

    // From an exec: the exec'd shell goes on too.
    let (status, screen) = typed_session(
        &engine,
        &format!("{stack} container exec -it --detach-keys e,n,d shell sh"),
        "third",
        &[b"end"],
    );
    assert!(status.success(), "{screen}");
    assert!(screen.contains("read escape sequence"), "{screen}");
    let processes = engine.ok(&["top", "shell"]);
    let shells = processes
        .lines()
        .filter(|line| line.trim_end().ends_with(" sh"))
        .count();
    assert_eq!(shells, 2, "{processes}");

    // Keys that are not keys are refused by the engine, named.
    let out = engine.stack(&["container", "attach", "--detach-keys", "ctrl-1", "shell"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("Invalid detach keys (ctrl-1)"),
        "{}",
        stderr(&out)
    );
    let out = engine.stack(&["container", "exec", "--detach-keys", "ab", "shell", "true"]);
    assert!(
        stderr(&out).contains("\"ab\" is not a key"),
        "{}",
        stderr(&out)
    );

    // Detached from `run -it --rm`: the engine removes it once it exits.
    let (status, screen) = typed_session(
        &engine,
        &format!("{stack} container run -it --rm --name passing busybox sh"),
        "fifth",
        &[&[0x10, 0x11]],
    );
    assert!(status.success(), "{screen}");
    assert!(running(&engine, "passing"));
    engine.ok(&["kill", "passing"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while engine.ok(&["ps", "-a"]).contains("passing") {
        assert!(Instant::now() < deadline, "--rm left the container");
        std::thread::sleep(Duration::from_millis(50));
    }

    // Without a TTY the input is data: piped bytes that hold the keys
    // reach an exec'd `cat` whole, as in Docker.
    let data: &[u8] = b"a\x10\x11b\n";
    let mut child = {
        let mut command = std::process::Command::new(stack);
        engine.env(&mut command);
        command
            .args(["container", "exec", "-i", "shell", "cat"])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("spawn exec")
    };
    {
        use std::io::Write;
        let mut input = child.stdin.take().expect("stdin");
        input.write_all(data).expect("write");
    }
    let out = child.wait_with_output().expect("exec output");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, data);

    // `start -a -i` attaches again, and the shell's exit ends it.
    engine.ok(&["stop", "-t", "1", "shell"]);
    let (status, screen) = typed_session(
        &engine,
        &format!("{stack} container start -ai shell"),
        "fourth",
        &[b"exit 7\r"],
    );
    assert_eq!(status.code(), Some(7), "{screen}");
    engine.finish(&ids);
}

#[test]
fn the_docker_client_detaches_from_run_attach_and_exec() {
    if !Path::new(SCRIPT).exists() || !Path::new(DOCKER).exists() {
        eprintln!("skipped: needs script(1) and Debian's docker client");
        return;
    }
    let Some(engine) = engine() else { return };
    let docker = format!("{DOCKER} -H unix://{}", engine.socket().display());

    let (status, screen) = typed_session(
        &engine,
        &format!("{docker} run -it --name shell busybox sh"),
        "first",
        &[&[0x10, 0x11]],
    );
    assert!(status.success(), "{screen}");
    assert!(running(&engine, "shell"));
    let ids = engine.ids();

    let (_, screen) = typed_session(
        &engine,
        &format!("{docker} attach --detach-keys ctrl-a,x shell"),
        "second",
        &[&[0x01, b'x']],
    );
    // docker's attach says so (and exits 1, its own choice).
    assert!(screen.contains("read escape sequence"), "{screen}");
    assert!(running(&engine, "shell"));

    let (_, screen) = typed_session(
        &engine,
        &format!("{docker} exec -it shell sh"),
        "third",
        &[&[0x10, 0x11]],
    );
    assert!(screen.contains("read escape sequence"), "{screen}");
    let out = engine.stack(&["container", "exec", "shell", "echo", "still"]);
    assert_eq!(stdout(&out), "still\n");
    engine.finish(&ids);
}

#[test]
fn a_privileged_exec_has_every_capability_in_an_unprivileged_container() {
    let Some(engine) = engine() else { return };
    engine.ok(&["run", "-d", "--name", "plain", "busybox", "sleep", "100"]);
    let ids = engine.ids();
    let effective = |privileged: bool| {
        let mut args = vec!["exec"];
        if privileged {
            args.push("--privileged");
        }
        args.extend(["plain", "grep", "CapEff", "/proc/self/status"]);
        let line = engine.ok(&args);
        let hex = line
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned();
        u64::from_str_radix(&hex, 16).unwrap()
    };
    // Docker's 14.
    assert_eq!(effective(false), 0xa804_25fb);
    // Every capability this test (the engine's user) holds.
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let own = status
        .lines()
        .find_map(|l| l.strip_prefix("CapPrm:"))
        .map(|hex| u64::from_str_radix(hex.trim(), 16).unwrap())
        .unwrap();
    assert_eq!(effective(true), own);
    // CAP_NET_ADMIN in the container's own network namespace.
    let denied = engine.stack(&[
        "container",
        "exec",
        "plain",
        "ip",
        "link",
        "set",
        "lo",
        "mtu",
        "1200",
    ]);
    assert!(!denied.status.success());
    engine.ok(&[
        "exec",
        "--privileged",
        "plain",
        "ip",
        "link",
        "set",
        "lo",
        "mtu",
        "1200",
    ]);
    assert!(engine
        .ok(&["exec", "plain", "ip", "link", "show", "lo"])
        .contains("mtu 1200"));
    // The container itself stays unprivileged.
    assert_eq!(effective(false), 0xa804_25fb);
    assert_eq!(engine.inspect("plain")["HostConfig"]["Privileged"], false);
    engine.finish(&ids);
}
