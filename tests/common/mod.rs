//! The harness the end-to-end tests of the binary share: an engine with its
//! own state root and run directory (a tempdir), the `stack` binary run
//! against it (starting its daemon on demand), and a cleanup that runs even
//! when a test fails: stop the daemon found by the pid in its own root's lock
//! file, kill whatever still names its root, unmount what is left under it.

// Each test binary uses its own subset of these helpers.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

pub struct Engine {
    dir: tempfile::TempDir,
}

impl Engine {
    pub fn new() -> Engine {
        Engine {
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The tempdir: the root and run directory live inside it.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    pub fn root(&self) -> PathBuf {
        self.dir().join("root")
    }

    pub fn run_dir(&self) -> PathBuf {
        self.dir().join("run")
    }

    pub fn socket(&self) -> PathBuf {
        self.run_dir().join("stack.sock")
    }

    /// Points `command` at this engine and at nothing else.
    pub fn env(&self, command: &mut Command) {
        command
            .env("STACK_ROOT", self.root())
            .env("STACK_RUN_DIR", self.run_dir())
            .env_remove("STACK_HOST")
            .env_remove("DOCKER_HOST");
    }

    /// The docker client at `client` (see [`docker_client`]) pointed at
    /// this engine's socket, with a configuration directory of its own.
    pub fn docker(&self, client: &str) -> Command {
        let mut command = Command::new(client);
        command
            .arg("-H")
            .arg(format!("unix://{}", self.socket().display()))
            .env_remove("DOCKER_HOST")
            .env("DOCKER_CONFIG", self.dir().join("docker-config"));
        command
    }

    /// `stack ARGS` against this engine.
    pub fn stack(&self, args: &[&str]) -> Output {
        let mut command = Command::new(env!("CARGO_BIN_EXE_stack"));
        command.args(args);
        self.env(&mut command);
        command.output().expect("run stack")
    }

    /// The pid of this test's daemon: the one in its root's lock file, if
    /// that process is still a daemon serving this root.
    pub fn daemon_pid(&self) -> Option<i32> {
        let pid: i32 = std::fs::read_to_string(self.root().join("daemon.lock"))
            .ok()?
            .trim()
            .parse()
            .ok()?;
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
        let root = self.root();
        let ours = cmdline
            .split(|b| *b == 0)
            .any(|arg| arg == root.as_os_str().as_encoded_bytes());
        ours.then_some(pid)
    }

    /// SIGTERM to this test's daemon, and a wait for it to be gone.
    pub fn stop_daemon(&self) {
        if let Some(pid) = self.daemon_pid() {
            let _ = Command::new("kill").arg(pid.to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(15);
            while Path::new(&format!("/proc/{pid}")).exists() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    }
}

impl Engine {
    /// Imports `busybox:latest` into this engine: a root filesystem made of
    /// the host's /bin/busybox with a link per applet, a root-only
    /// /etc/passwd and /etc/group, and `files` (path under the root,
    /// content) on top.
    pub fn import_busybox(&self, files: &[(&str, &str)]) {
        let rootfs = self.dir().join("rootfs");
        let bin = rootfs.join("bin");
        std::fs::create_dir_all(&bin).unwrap();
        std::fs::create_dir_all(rootfs.join("etc")).unwrap();
        std::fs::copy("/bin/busybox", bin.join("busybox")).unwrap();
        let applets = Command::new("/bin/busybox").arg("--list").output().unwrap();
        for applet in String::from_utf8_lossy(&applets.stdout).lines() {
            if applet != "busybox" {
                std::os::unix::fs::symlink("busybox", bin.join(applet)).unwrap();
            }
        }
        std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        std::fs::write(rootfs.join("etc/group"), "root:x:0:\n").unwrap();
        for (path, content) in files {
            let path = rootfs.join(path);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, content).unwrap();
        }
        let out = self.stack(&[
            "image",
            "import",
            rootfs.to_str().unwrap(),
            "busybox:latest",
        ]);
        assert!(out.status.success(), "import: {}", stderr(&out));
    }
}

/// Debian's docker client (only the client: a Docker daemon is never
/// started), or `None` with a line saying the test is skipped.
pub fn docker_client() -> Option<&'static str> {
    let found = ["/usr/bin/docker", "/usr/local/bin/docker"]
        .into_iter()
        .find(|p| Path::new(p).exists());
    if found.is_none() {
        eprintln!("skipped: needs a docker client");
    }
    found
}

/// Whether the tests run as root (the kernel tests need it).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            let line = s.lines().find(|l| l.starts_with("Uid:"))?.to_owned();
            line.split_whitespace().nth(2)?.parse::<u32>().ok()
        })
        == Some(0)
}

impl Drop for Engine {
    fn drop(&mut self) {
        // What a test that failed left behind goes through the engine
        // first: its containers, then its networks, so that the daemon,
        // idle, removes its default bridge and firewall table as it stops.
        if self.daemon_pid().is_some() {
            let ids = stdout(&self.stack(&["container", "ps", "-a", "-q"]));
            let ids: Vec<&str> = ids.split_whitespace().collect();
            if !ids.is_empty() {
                self.stack(&[&["container", "rm", "-f"][..], &ids].concat());
            }
            self.stack(&["network", "prune", "-f"]);
        }
        self.stop_daemon();
        // Containers the engine could not remove go next: once their
        // monitors are killed below, nothing would ever stop them or remove
        // their cgroups.
        let cgroups = container_cgroups(&self.root());
        for dir in &cgroups {
            for pid in std::fs::read_to_string(dir.join("cgroup.procs"))
                .unwrap_or_default()
                .lines()
            {
                let _ = Command::new("kill").args(["-9", pid]).status();
            }
        }
        let leftovers = processes_naming(&self.root());
        for pid in &leftovers {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        if !leftovers.is_empty() {
            std::thread::sleep(Duration::from_millis(200));
        }
        // The run directory too: a container's network namespace file is
        // a mount there, and it keeps the namespace (and its veth) alive.
        for mount in mounts_under(self.dir()) {
            let _ = Command::new("umount").args(["-l", &mount]).status();
        }
        for dir in &cgroups {
            // Empty once its processes are reaped; gone already after a
            // clean removal.
            let _ = std::fs::remove_dir(dir);
        }
        // The engine's own parent, which a daemon killed rather than
        // stopped leaves; no other engine uses it.
        for dir in cgroup_dirs(&cgroup_parent(&self.root())) {
            let _ = std::fs::remove_dir(dir);
        }
    }
}

/// The cgroup directories, in every hierarchy, of the containers under
/// the engine root `root` (the engine puts container `ID` at
/// `<parent>/ID`, see [`cgroup_parent`]).
fn container_cgroups(root: &Path) -> Vec<PathBuf> {
    let parent = cgroup_parent(root);
    std::fs::read_dir(root.join("containers"))
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|e| cgroup_dirs(&parent.join(e.file_name())))
        .collect()
}

/// The engine's cgroup parent for the state root `root`, relative to each
/// hierarchy's mount point (`stack-<tag>`: every test root has its own).
pub fn cgroup_parent(root: &Path) -> PathBuf {
    let parent = stack_engine::cgroup_parent(root);
    parent.strip_prefix("/").unwrap_or(&parent).to_path_buf()
}

/// The directories `relative` below every cgroup hierarchy (v1: one per
/// directory of /sys/fs/cgroup; v2: /sys/fs/cgroup itself) that exist.
pub fn cgroup_dirs(relative: &Path) -> Vec<PathBuf> {
    std::fs::read_dir("/sys/fs/cgroup")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .chain([PathBuf::from("/sys/fs/cgroup")])
        .map(|h| h.join(relative))
        .filter(|dir| dir.is_dir())
        .collect()
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Mount points under `root`.
pub fn mounts_under(root: &Path) -> Vec<String> {
    let root = root.display().to_string();
    std::fs::read_to_string("/proc/self/mountinfo")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.split_whitespace().nth(4).map(str::to_owned))
        .filter(|m| m.starts_with(&root))
        .collect()
}

/// Processes whose command line names `root` (daemons and monitors of this
/// test's engine).
pub fn processes_naming(root: &Path) -> Vec<i32> {
    let needle = root.as_os_str().as_encoded_bytes().to_vec();
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<i32>().ok())
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline"))
                .is_ok_and(|c| c.windows(needle.len()).any(|w| w == needle.as_slice()))
        })
        .collect()
}

/// A port of 127.0.0.1 that was free a moment ago.
pub fn free_local_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().unwrap().port()
}

/// The body of `GET /` on 127.0.0.1:`port`, retried for up to 10 s while
/// the server starts.
pub fn fetch(port: u16) -> String {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let attempt = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(2)))?;
            s.write_all(b"GET / HTTP/1.0\r\n\r\n")?;
            let mut text = String::new();
            s.read_to_string(&mut text)?;
            Ok(text)
        });
        match attempt {
            Ok(text) if text.contains("\r\n\r\n") => {
                return text.split_once("\r\n\r\n").unwrap().1.to_owned()
            }
            other => {
                assert!(
                    Instant::now() < deadline,
                    "no answer on port {port}: {other:?}"
                );
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}
