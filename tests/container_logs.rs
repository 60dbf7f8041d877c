//! The json-file log's rotation (`--log-opt max-size/max-file`), reading
//! and following across rotated files, and the refused log settings, end
//! to end as root through the real binary, each test with its own engine
//! and a leak check at the end.

#[path = "common/busybox.rs"]
mod busybox;
mod common;

use busybox::engine;
use common::stderr;
use std::process::{Command, Stdio};

/// The numbers the container printed, in the order `logs` shows them.
fn numbers(text: &str) -> Vec<u32> {
    text.lines()
        .map(|l| {
            l.trim()
                .parse()
                .unwrap_or_else(|_| panic!("not a number: {l:?}"))
        })
        .collect()
}

#[test]
fn a_log_is_rotated_at_max_size_keeping_max_file_files_read_in_order() {
    let Some(engine) = engine() else { return };
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "chatty",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=3",
        "busybox",
        "seq",
        "1",
        "500",
    ]);
    let ids = engine.ids();
    let config = &engine.inspect("chatty")["HostConfig"]["LogConfig"]["Config"];
    assert_eq!(config["max-size"], "1k");
    assert_eq!(engine.ok(&["wait", "chatty"]).trim(), "0");
    let dir = engine.root().join("containers").join(&ids[0]);
    let log = dir.join(format!("{}-json.log", ids[0]));
    let mut files = vec![log.clone()];
    files.extend((1..=2).map(|n| dir.join(format!("{}-json.log.{n}", ids[0]))));
    for file in &files {
        let size = std::fs::metadata(file)
            .unwrap_or_else(|e| panic!("{}: {e}", file.display()))
            .len();
        // Rotated once it holds 1000 bytes: at most one entry more.
        assert!(
            size > 0 && size < 1100,
            "{} holds {size} bytes",
            file.display()
        );
    }
    assert!(!dir.join(format!("{}-json.log.3", ids[0])).exists());

    let shown = numbers(&engine.ok(&["logs", "chatty"]));
    assert_eq!(shown.last(), Some(&500));
    assert!(shown.len() > 20 && shown.len() < 60, "{shown:?}");
    let first = shown[0];
    assert_eq!(shown, (first..=500).collect::<Vec<_>>());
    let tail = numbers(&engine.ok(&["logs", "--tail", "3", "chatty"]));
    assert_eq!(tail, [498, 499, 500]);
    engine.finish(&ids);
}

#[test]
fn logs_follow_a_running_container_across_rotations() {
    let Some(engine) = engine() else { return };
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "ticker",
        "--log-opt",
        "max-size=1k",
        "--log-opt",
        "max-file=2",
        "busybox",
        "sh",
        "-c",
        "sleep 0.5; i=0; while [ $i -lt 100 ]; do i=$((i+1)); echo $i; sleep 0.01; done",
    ]);
    let ids = engine.ids();
    let mut follow = Command::new(env!("CARGO_BIN_EXE_stack"));
    engine.env(&mut follow);
    let out = follow
        .args(["container", "logs", "-f", "ticker"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(out.status.success(), "logs -f: {}", stderr(&out));
    let shown = numbers(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(shown, (1..=100).collect::<Vec<_>>());
    // The files are rotated meanwhile: 100 entries do not fit in 1k.
    let dir = engine.root().join("containers").join(&ids[0]);
    assert!(dir.join(format!("{}-json.log.1", ids[0])).exists());
    engine.finish(&ids);
}

#[test]
fn unsupported_log_settings_are_refused_by_name_and_none_keeps_no_log() {
    let Some(engine) = engine() else { return };
    let refused = |args: &[&str], named: &str| {
        let mut all = vec!["container", "create"];
        all.extend_from_slice(args);
        all.extend_from_slice(&["busybox", "true"]);
        let out = engine.stack(&all);
        assert!(!out.status.success(), "{args:?} was accepted");
        assert!(stderr(&out).contains(named), "{args:?}: {}", stderr(&out));
    };
    refused(&["--log-driver", "syslog"], "\"syslog\"");
    refused(&["--log-opt", "compress=true"], "compress");
    refused(&["--log-opt", "max-size=lots"], "max-size");
    refused(&["--log-opt", "max-file=0"], "max-file");

    engine.ok(&[
        "run",
        "-d",
        "--name",
        "quiet",
        "--log-driver",
        "none",
        "busybox",
        "echo",
        "hi",
    ]);
    let ids = engine.ids();
    engine.ok(&["wait", "quiet"]);
    let out = engine.stack(&["container", "logs", "quiet"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("none"), "{}", stderr(&out));
    engine.finish(&ids);
}
