//! A test engine with a busybox image (imported from the host's
//! /bin/busybox), the `stack container` helpers the container tests share,
//! and the leak check they end with (included by each container test
//! binary with `#[path]`: the image tests have helpers of the same names): no mount under the root, no cgroup
//! of their containers, no process naming the root.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use crate::common::{is_root, mounts_under, processes_naming, stderr, stdout, Engine};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A test engine with the busybox image, or `None` (the test is skipped)
/// when not root or without /bin/busybox.
pub fn engine() -> Option<Engine> {
    if !is_root() || !Path::new("/bin/busybox").exists() {
        eprintln!("skipped: needs root and /bin/busybox");
        return None;
    }
    let engine = Engine::new();
    engine.import_busybox(&[]);
    Some(engine)
}

impl Engine {
    /// `stack container ARGS`, which must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let mut all = vec!["container"];
        all.extend_from_slice(args);
        let out = self.stack(&all);
        assert!(out.status.success(), "stack {all:?}: {}", stderr(&out));
        stdout(&out)
    }

    pub fn inspect(&self, container: &str) -> serde_json::Value {
        let json: serde_json::Value =
            serde_json::from_str(&self.ok(&["inspect", container])).expect("inspect json");
        json[0].clone()
    }

    /// Ids of every container of this engine (their cgroups are checked later).
    pub fn ids(&self) -> Vec<String> {
        self.ok(&["ps", "-a", "-q", "--no-trunc"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// `stack container run --name never ARGS... busybox true`, which must
    /// fail with docker's 125 and a message containing `named`.
    pub fn refused(&self, args: &[&str], named: &str) {
        let mut all = vec!["container", "run", "--name", "never"];
        all.extend_from_slice(args);
        all.extend(["busybox", "true"]);
        let out = self.stack(&all);
        assert_eq!(out.status.code(), Some(125), "{args:?}: {}", stderr(&out));
        assert!(stderr(&out).contains(named), "{args:?}: {}", stderr(&out));
    }

    /// Removes every container, stops the daemon, and checks for leaks.
    pub fn finish(self, ids: &[String]) {
        let all = self.ids();
        if !all.is_empty() {
            let mut args = vec!["rm", "-f"];
            args.extend(all.iter().map(String::as_str));
            self.ok(&args);
        }
        self.stop_daemon();
        check_no_leaks(&self.root(), ids);
    }
}

pub fn check_no_leaks(root: &Path, ids: &[String]) {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mounts = mounts_under(root);
        let processes = processes_naming(root);
        let parent = crate::common::cgroup_parent(root);
        let cgroups: Vec<PathBuf> = ids
            .iter()
            .flat_map(|id| crate::common::cgroup_dirs(&parent.join(id)))
            .collect();
        // The daemon is stopped: its parent cgroup is gone too.
        let parents = crate::common::cgroup_dirs(&parent);
        if mounts.is_empty() && processes.is_empty() && cgroups.is_empty() && parents.is_empty() {
            return;
        }
        if Instant::now() > deadline {
            panic!("left behind: mounts {mounts:?}, processes {processes:?}, cgroups {cgroups:?}, parent cgroups {parents:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
