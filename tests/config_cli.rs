//! `stack config` through the real binary: output, exit codes, errors.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn stack(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_stack"))
        .args(args)
        .current_dir(dir)
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .env_remove("COMPOSE_PROFILES")
        .output()
        .expect("run stack")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn renders_the_isolation_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = stack(root, &["-f", "examples/isolation/compose.yaml", "config"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let yaml = text(&out.stdout);
    assert!(yaml.starts_with("name: isolation\n"), "{yaml}");
    assert!(yaml.contains("published: '8080'"), "{yaml}");
    assert!(yaml.contains("condition: service_healthy"), "{yaml}");

    let out = stack(
        root,
        &[
            "-f",
            "examples/isolation/compose.yaml",
            "config",
            "--services",
        ],
    );
    assert_eq!(text(&out.stdout), "web\nclient\n");
}

#[test]
fn invalid_files_fail_with_positions_and_exit_code_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("compose.yaml"),
        "services:\n  web:\n    image: nginx\n    ports: [\"99999:80\"]\n",
    )
    .expect("write");
    let out = stack(dir.path(), &["config", "-q"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let err = text(&out.stderr);
    assert!(
        err.starts_with("error: compose.yaml:4:13: services.web.ports[0]: invalid port `99999`"),
        "{err}"
    );
}

#[test]
fn reads_standard_input_and_renders_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_stack"))
        .args(["-f", "-", "-p", "piped", "config", "--format", "json"])
        .current_dir(dir.path())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run stack");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"services:\n  a:\n    image: busybox\n")
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    assert!(out.status.success());
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(json["name"], "piped");
    assert_eq!(json["services"]["a"]["image"], "busybox");
    assert_eq!(json["networks"]["default"]["name"], "piped_default");
}
