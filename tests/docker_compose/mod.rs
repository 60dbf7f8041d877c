//! Running Debian's `docker-compose` 1.29 (Python, docker-py) against a
//! network test's engine, for the real-client tests.

use crate::common::{stderr, stdout};
use crate::network_harness::NetTest;
use std::path::Path;
use std::process::{Command, Output};

/// Where scripts/setup installs it.
pub const COMPOSE: &str = "/usr/bin/docker-compose";

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
