//! Detaching from attached sessions with the detach keys (docker's
//! ctrl-p ctrl-q, or `--detach-keys`), from `stack container run -it`,
//! `attach` and `exec -it` and from Debian's docker client, each under a
//! terminal of its own (script(1)); and `exec --privileged`. End to end as
//! root, each test with its own engine and a leak check at the end.

#[path = "common/busybox.rs"]
mod busybox;
mod common;

use busybox::engine;
use common::{stderr, stdout, Engine};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const DOCKER: &str = "/usr/bin/docker";
const SCRIPT: &str = "/usr/bin/script";

/// A command run under a terminal (script(1)): what is written to it is
/// typed on that terminal, what it prints is collected.
struct Terminal {
    child: Child,
    keys: Option<ChildStdin>,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    fn start(engine: &Engine, command: &str) -> Terminal {
        let mut script = Command::new(SCRIPT);
        script
            .args(["-qfec", command, "/dev/null"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        engine.env(&mut script);
        let mut child = script.spawn().expect("script");
        let keys = child.stdin.take();
        let mut output = child.stdout.take().expect("script's output");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let shared = screen.clone();
        std::thread::spawn(move || {
            let mut buffer = [0u8; 4096];
            while let Ok(n) = output.read(&mut buffer) {
                if n == 0 {
                    break;
                }
                shared.lock().unwrap().extend_from_slice(&buffer[..n]);
            }
        });
        Terminal {
            child,
            keys,
            screen,
        }
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits until the screen shows `text`.
    fn expect(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(10);
        while !self.screen().contains(text) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?} on the screen: {:?}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Types `keys` one at a time, as a person does.
    fn type_keys(&mut self, keys: &[u8]) {
        let input = self.keys.as_mut().expect("the terminal's input");
        for key in keys {
            input.write_all(&[*key]).unwrap();
            input.flush().unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the command to end (its input still open: a closed one
    /// would end the session by itself).
    fn wait(mut self) -> (ExitStatus, String) {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // The reader gets the last bytes.
                std::thread::sleep(Duration::from_millis(100));
                return (status, self.screen());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!("the session did not end: {:?}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Terminal {
    fn drop(&mut self) {
        // Ended already on success; killed when a test failed midway.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn running(engine: &Engine, container: &str) -> bool {
    engine.inspect(container)["State"]["Running"] == true
}

/// Types a command in an attached shell and waits for its answer, so that
/// the session is known to be live before the detach keys come.
fn check_live(terminal: &mut Terminal, tag: &str) {
    terminal.type_keys(format!("echo {tag}$((40+2))\r").as_bytes());
    terminal.expect(&format!("{tag}42"));
}

/// Runs `command` under a terminal, checks it is live (`tag`), types each
/// of `keys` and waits for the client to end: its status and screen.
fn typed_session(
    engine: &Engine,
    command: &str,
    tag: &str,
    keys: &[&[u8]],
) -> (ExitStatus, String) {
    let mut session = Terminal::start(engine, command);
    check_live(&mut session, tag);
    for sequence in keys {
        session.type_keys(sequence);
    }
    session.wait()
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
