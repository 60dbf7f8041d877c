//! Running Debian's `docker-compose` 1.29 (Python, docker-py) against a
//! network test's engine, for the real-client tests.

use crate::common::{stderr, stdout};
use crate::network_harness::NetTest;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Where scripts/setup installs it.
pub const COMPOSE: &str = "/usr/bin/docker-compose";

/// Whether docker-compose is installed; when not, says that the test is
/// skipped.
pub fn installed() -> bool {
    let there = Path::new(COMPOSE).exists();
    if !there {
        eprintln!("skipped: no {COMPOSE} (scripts/setup installs Debian's docker-compose)");
    }
    there
}

/// A project directory holding `file` as `docker-compose.yml`, in the test's
/// directory, with the test's daemon started (docker-compose talks to its
/// socket).
pub fn project_dir(t: &NetTest, file: &str) -> PathBuf {
    t.ok(&["container", "ls"]);
    let dir = t.engine.dir().join("project");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("docker-compose.yml"), file).unwrap();
    dir
}

/// `docker-compose -p PROJECT ARGS` in `dir` against the test's engine.
pub fn compose(t: &NetTest, project: &str, dir: &Path, args: &[&str]) -> Output {
    Command::new(COMPOSE)
        .args(["-p", project, "--ansi", "never"])
        .args(args)
        .current_dir(dir)
        .env(
            "DOCKER_HOST",
            format!("unix://{}", t.engine.socket().display()),
        )
        .env_remove("DOCKER_CONTEXT")
        .env_remove("DOCKER_TLS_VERIFY")
        .env_remove("COMPOSE_FILE")
        .env_remove("COMPOSE_PROJECT_NAME")
        .output()
        .expect("run docker-compose")
}

/// `compose`, which must succeed; its output (docker-compose writes its
/// progress to stderr).
pub fn compose_succeeds(t: &NetTest, project: &str, dir: &Path, args: &[&str]) -> Output {
    let out = compose(t, project, dir, args);
    assert!(
        out.status.success(),
        "docker-compose {args:?}: exit {:?}\n{}{}",
        out.status.code(),
        stdout(&out),
        stderr(&out)
    );
    out
}

/// `compose`, which must succeed; its stdout.
pub fn compose_ok(t: &NetTest, project: &str, dir: &Path, args: &[&str]) -> String {
    stdout(&compose_succeeds(t, project, dir, args))
}
