//! A command under a terminal of its own (script(1)), as a person at a
//! terminal drives it: what the test writes is typed there, what the
//! command prints is collected (included by the test binaries that drive
//! attached sessions with `#[path]`).

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use crate::common::Engine;
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// script(1), which gives the command a terminal; tests skip without it.
pub const SCRIPT: &str = "/usr/bin/script";

/// A command run under a terminal (script(1)): what is written to it is
/// typed on that terminal, what it prints is collected.
pub struct Terminal {
    child: Child,
    keys: Option<ChildStdin>,
    screen: Arc<Mutex<Vec<u8>>>,
}

impl Terminal {
    pub fn start(engine: &Engine, command: &str) -> Terminal {
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

    pub fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits until the screen shows `text`.
    pub fn expect(&self, text: &str) {
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
    pub fn type_keys(&mut self, keys: &[u8]) {
        let input = self.keys.as_mut().expect("the terminal's input");
        for key in keys {
            input.write_all(&[*key]).unwrap();
            input.flush().unwrap();
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the command to end (its input still open: a closed one
    /// would end the session by itself).
    pub fn wait(mut self) -> (ExitStatus, String) {
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

/// Types a command in an attached shell and waits for its answer, so that
/// the session is known to be live before the detach keys come.
pub fn check_live(terminal: &mut Terminal, tag: &str) {
    terminal.type_keys(format!("echo {tag}$((40+2))\r").as_bytes());
    terminal.expect(&format!("{tag}42"));
}

/// Runs `command` under a terminal, checks it is live (`tag`), types each
/// of `keys` and waits for the client to end: its status and screen.
pub fn typed_session(
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
