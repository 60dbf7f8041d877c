//! A compose project under test: an engine with the busybox image and a
//! project directory with a compose file, the `stack` commands run in it,
//! and the check it ends with (included by the compose test binaries with
//! `#[path]`): after `down -v`, no container, volume, mount, cgroup or
//! process of its engine is left.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use crate::common::{is_root, mounts_under, processes_naming, stderr, stdout, Engine};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Project {
    pub engine: Engine,
    pub dir: PathBuf,
}

impl Project {
    /// An engine with the busybox image and a project directory holding
    /// `compose` as compose.yaml; `None` (skipped) unless root with
    /// /bin/busybox.
    pub fn new(compose: &str) -> Option<Project> {
        if !is_root() || !Path::new("/bin/busybox").exists() {
            eprintln!("skipped: needs root and /bin/busybox");
            return None;
        }
        let engine = Engine::new();
        engine.import_busybox(&[]);
        let dir = engine.dir().join("project");
        std::fs::create_dir_all(&dir).unwrap();
        let project = Project { engine, dir };
        project.write(compose);
        Some(project)
    }

    pub fn write(&self, compose: &str) {
        std::fs::write(self.dir.join("compose.yaml"), compose).unwrap();
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stack"));
        command.args(args).current_dir(&self.dir);
        self.engine.env(&mut command);
        command
    }

    /// The shell command line (for a terminal's script(1)) that runs
    /// `stack ARGS` in the project directory; `args` as typed at a shell.
    pub fn command_line(&self, args: &str) -> String {
        format!(
            "cd '{}' && {} {args}",
            self.dir.display(),
            env!("CARGO_BIN_EXE_stack")
        )
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run stack")
    }

    /// `stack ARGS`, which must succeed; its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "stack {args:?} failed: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// `ps -a --format json`, one object per container.
    pub fn ps(&self) -> Vec<Value> {
        self.ok(&["ps", "-a", "--format", "json"])
            .lines()
            .map(|l| serde_json::from_str(l).expect("ps json line"))
            .collect()
    }

    /// The id of each container by name.
    pub fn ids(&self) -> Vec<(String, String)> {
        self.ps()
            .iter()
            .map(|c| {
                (
                    c["Name"].as_str().unwrap().to_owned(),
                    c["ID"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    pub fn id(&self, name: &str) -> String {
        self.ids()
            .into_iter()
            .find(|(n, _)| n == name)
            .map(|(_, id)| id)
            .unwrap_or_else(|| panic!("no container {name}"))
    }

    pub fn inspect(&self, name: &str) -> Value {
        let out = self.ok(&["container", "inspect", name]);
        serde_json::from_str::<Value>(&out).expect("inspect json")[0].clone()
    }

    /// `GET path` on the engine's socket; the response body.
    pub fn engine_get(&self, path: &str) -> String {
        use std::io::{Read, Write};
        let mut stream =
            std::os::unix::net::UnixStream::connect(self.engine.socket()).expect("socket");
        write!(stream, "GET {path} HTTP/1.0\r\nHost: stack\r\n\r\n").unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        response
            .split_once("\r\n\r\n")
            .map(|(_, body)| body.to_owned())
            .unwrap_or_default()
    }

    /// Every container of the engine, of any project.
    pub fn all_containers(&self) -> String {
        self.ok(&["container", "ps", "-a", "-q", "--no-trunc"])
    }

    /// `down -v`, then: no container, no volume, no mount, no cgroup, no
    /// process but the daemon's; then the daemon stops.
    pub fn finish(self) {
        let ids = self.all_containers();
        self.ok(&["down", "-v", "-t", "0", "--remove-orphans"]);
        assert_eq!(self.all_containers(), "", "down left containers");
        let volumes = self.ok(&["volume", "ls", "-q"]);
        assert_eq!(volumes, "", "down -v left volumes");
        self.engine.stop_daemon();
        let root = self.engine.root();
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let mounts = mounts_under(&root);
            let processes = processes_naming(&root);
            let parent = crate::common::cgroup_parent(&root);
            let cgroups: Vec<PathBuf> = ids
                .lines()
                .flat_map(|id| crate::common::cgroup_dirs(&parent.join(id)))
                .collect();
            // The daemon is stopped: its parent cgroup is gone too.
            let parents = crate::common::cgroup_dirs(&parent);
            if mounts.is_empty() && processes.is_empty() && cgroups.is_empty() && parents.is_empty()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "left behind: mounts {mounts:?}, processes {processes:?}, cgroups {cgroups:?}, parent cgroups {parents:?}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}
