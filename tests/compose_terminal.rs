//! `stack run` and `stack exec` as a person at a terminal uses them, end
//! to end as root through the real binary: under a terminal of its own
//! (script(1)) a one-off shell gets a TTY of the terminal's size, runs
//! what is typed, exits with its code and can be left running with ctrl-p
//! ctrl-q; `-T` gives it none;
//! piped stdin reaches it without one; `exec -it` opens a shell in a
//! service's container. Each test has its own engine and ends with
//! `down` and the check that nothing of the project is left.

mod common;
#[path = "common/project.rs"]
mod project;
#[path = "common/terminal.rs"]
mod terminal;

use common::{stderr, stdout};
use project::Project;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use terminal::{check_live, typed_session, Terminal, SCRIPT};

/// Project `app` with one service, `app`, that runs until stopped.
const COMPOSE: &str = "name: app\nservices:\n  app:\n    image: busybox\n    \
    network_mode: none\n    command: [sh, -c, 'trap \"exit 0\" TERM; while true; do sleep 0.1; done']\n";

/// The project, or `None` (skipped) without root, busybox or script(1).
fn project() -> Option<Project> {
    if !Path::new(SCRIPT).exists() {
        eprintln!("skipped: needs script(1)");
        return None;
    }
    Project::new(COMPOSE)
}

/// The names of the project's one-off containers, running or not.
fn oneoffs(p: &Project) -> Vec<String> {
    p.ok(&["container", "ps", "-a"])
        .lines()
        .filter_map(|line| line.split_whitespace().last())
        .filter(|name| name.starts_with("app-app-run-"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn run_under_a_terminal_gives_a_shell_on_a_tty_and_its_exit_code() {
    let Some(p) = project() else { return };
    let (status, screen) = typed_session(
        &p.engine,
        &p.command_line("run --rm app sh"),
        "first",
        // ctrl-c is the shell's key here: it ends the sleep, not the run.
        &[b"sleep 100\r", &[0x03], b"tty\r", b"exit 3\r"],
    );
    assert_eq!(status.code(), Some(3), "{screen}");
    assert!(screen.contains("first42"), "{screen}");
    assert!(screen.contains("/dev/pts/"), "{screen}");
    assert!(!screen.contains("not a tty"), "{screen}");
    // --rm: gone once the session ended.
    assert_eq!(oneoffs(&p), Vec::<String>::new());

    // -T: the same shell without a TTY, fed what is typed.
    let (status, screen) = typed_session(
        &p.engine,
        &p.command_line("run --rm -T app sh"),
        "second",
        &[b"tty\r", b"exit 0\r"],
    );
    assert_eq!(status.code(), Some(0), "{screen}");
    assert!(screen.contains("not a tty"), "{screen}");
    assert_eq!(oneoffs(&p), Vec::<String>::new());
    p.finish();
}

#[test]
fn a_oneoffs_tty_takes_the_terminals_size_and_follows_its_changes() {
    let Some(p) = project() else { return };
    // The terminal changes size once the test creates `resize` (or after
    // 20 s, so that nothing outlives a failed test).
    let resize = p.dir.join("resize");
    let command = format!(
        "stty rows 33 cols 99; (for i in $(seq 400); do [ -e '{}' ] && break; sleep 0.05; done; \
         stty rows 44 cols 111 </dev/tty) & {}",
        resize.display(),
        p.command_line("run --rm app sh")
    );
    let mut session = Terminal::start(&p.engine, &command);
    check_live(&mut session, "first");
    session.type_keys(b"stty size\r");
    session.expect("33 99");
    std::fs::write(&resize, "").unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !session.screen().contains("44 111") {
        assert!(
            Instant::now() < deadline,
            "the size did not follow: {}",
            session.screen()
        );
        session.type_keys(b"stty size\r");
        std::thread::sleep(Duration::from_millis(200));
    }
    session.type_keys(b"exit\r");
    let (status, screen) = session.wait();
    assert!(status.success(), "{screen}");
    p.finish();
}

#[test]
fn the_detach_keys_leave_the_oneoff_running_and_rm_removes_it_when_it_ends() {
    let Some(p) = project() else { return };
    let (status, screen) = typed_session(
        &p.engine,
        &p.command_line("run --rm app sh"),
        "first",
        &[&[0x10, 0x11]],
    );
    assert!(status.success(), "{screen}");
    let names = oneoffs(&p);
    assert_eq!(names.len(), 1, "{names:?}");
    let state = &p.inspect(&names[0])["State"];
    assert_eq!(state["Running"], true, "{state}");
    // Still the same shell: it answers a command through `exec`.
    let out = p.ok(&["container", "exec", &names[0], "echo", "still"]);
    assert_eq!(out, "still\n");
    p.ok(&["container", "kill", &names[0]]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !oneoffs(&p).is_empty() {
        assert!(Instant::now() < deadline, "--rm left {:?}", oneoffs(&p));
        std::thread::sleep(Duration::from_millis(50));
    }
    p.finish();
}

#[test]
fn piped_stdin_reaches_a_oneoff_without_a_tty_and_ctrl_c_stops_it() {
    let Some(p) = Project::new(COMPOSE) else {
        return;
    };
    let mut child = p
        .command(&["run", "--rm", "app", "sh", "-c", "tty; cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stack run");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(b"hi\n").unwrap();
    drop(stdin);
    let out = child.wait_with_output().expect("stack run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "not a tty\nhi\n");
    // Without a TTY, ctrl-p ctrl-q in the data are data, as in Docker.
    let mut child = p
        .command(&["run", "--rm", "app", "cat"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stack run");
    let data = [b'a', 0x10, 0x11, b'b', b'\n'];
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(&data).unwrap();
    drop(stdin);
    let out = child.wait_with_output().expect("stack run");
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(out.stdout, data);
    // --interactive=false: the command's stdin is closed, not this one.
    let out = p.run(&["run", "--rm", "--interactive=false", "app", "cat"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out), "");
    // Without a TTY, Ctrl-C reaches `stack`, which stops the one-off.
    let mut child = p
        .command(&[
            "run",
            "--rm",
            "app",
            "sh",
            "-c",
            "trap 'exit 0' TERM; echo started; while true; do sleep 0.1; done",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("stack run");
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .unwrap();
    assert_eq!(line, "started\n");
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let out = child.wait_with_output().expect("stack run");
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(oneoffs(&p), Vec::<String>::new());
    // Compose's refusals.
    let out = p.run(&["run", "--rm", "-t", "-T", "app", "true"]);
    assert!(
        stderr(&out).contains("--tty and --no-tty can't be used together"),
        "{}",
        stderr(&out)
    );
    assert_eq!(oneoffs(&p), Vec::<String>::new());
    p.finish();
}

#[test]
fn exec_it_opens_a_shell_in_a_services_container() {
    let Some(p) = project() else { return };
    p.ok(&["up", "-d"]);
    let (status, screen) = typed_session(
        &p.engine,
        &p.command_line("exec -it app sh"),
        "first",
        &[b"tty\r", b"exit 4\r"],
    );
    assert_eq!(status.code(), Some(4), "{screen}");
    assert!(screen.contains("/dev/pts/"), "{screen}");
    // -T: no TTY, even on a terminal.
    let (status, screen) = typed_session(
        &p.engine,
        &p.command_line("exec -T app sh"),
        "second",
        &[b"tty\r", b"exit 0\r"],
    );
    assert_eq!(status.code(), Some(0), "{screen}");
    assert!(screen.contains("not a tty"), "{screen}");
    p.finish();
}
