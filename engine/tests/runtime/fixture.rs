//! One test's private directories, rootfs and runtime, and the checks
//! that nothing it created is left behind.

use std::fs::{self, File};
use std::os::fd::OwnedFd;
use std::os::unix::fs::PermissionsExt;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Mutex;
use std::time::Duration;

use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;
use stack_engine::runtime::{Container, ContainerConfig, ExitStatus, Runtime, Stdio};

pub const BUSYBOX: &str = "/bin/busybox";

pub static LOG: Mutex<Vec<u8>> = Mutex::new(Vec::new());

pub struct LogSink;

impl std::io::Write for LogSink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        LOG.lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// One test's private directories and names; removed on drop unless a leak
/// was found (then they are kept for inspection).
pub struct Fixture {
    pub name: String,
    pub base: PathBuf,
    pub rootfs: PathBuf,
    pub bundle: PathBuf,
    pub runtime: Runtime,
    pub cgroup_parent: PathBuf,
}

/// What a finished container printed and how it ended.
pub struct Outcome {
    pub status: ExitStatus,
    pub output: String,
}

impl Fixture {
    pub fn new(name: &str) -> Result<Self, String> {
        let unique = format!("stack-rt-{}-{name}", std::process::id());
        let base = std::env::temp_dir().join(&unique);
        let _ = fs::remove_dir_all(&base);
        let rootfs = base.join("rootfs");
        let bundle = base.join("bundle");
        let cgroup_parent = PathBuf::from("/").join(&unique);
        for dir in [
            "bin", "sbin", "usr/bin", "usr/sbin", "proc", "sys", "dev", "tmp", "mnt", "etc",
        ] {
            fs::create_dir_all(rootfs.join(dir)).map_err(|e| format!("mkdir {dir}: {e}"))?;
        }
        fs::create_dir_all(&bundle).map_err(|e| format!("mkdir bundle: {e}"))?;
        fs::set_permissions(rootfs.join("tmp"), fs::Permissions::from_mode(0o1777))
            .map_err(|e| format!("chmod tmp: {e}"))?;
        fs::copy(BUSYBOX, rootfs.join("bin/busybox")).map_err(|e| format!("copy busybox: {e}"))?;
        fs::write(rootfs.join("stack-rootfs-marker"), "").map_err(|e| e.to_string())?;
        // Installed from inside the rootfs so that the links say /bin/busybox.
        let status = Command::new("chroot")
            .arg(&rootfs)
            .args(["/bin/busybox", "--install", "-s"])
            .status()
            .map_err(|e| format!("chroot busybox --install: {e}"))?;
        if !status.success() {
            return Err(format!("busybox --install failed: {status}"));
        }
        Ok(Fixture {
            name: name.to_owned(),
            runtime: Runtime::new(base.join("state"), &cgroup_parent),
            base,
            rootfs,
            bundle,
            cgroup_parent,
        })
    }

    pub fn config(&self, args: &[&str]) -> ContainerConfig {
        ContainerConfig {
            rootfs: self.rootfs.clone(),
            args: args.iter().map(|arg| arg.to_string()).collect(),
            hostname: Some(format!("box-{}", self.name)),
            ..ContainerConfig::default()
        }
    }

    pub fn create(&self, config: &ContainerConfig) -> Result<(Container, PathBuf), String> {
        self.create_as(&self.name, config)
    }

    /// Creates container `id` with its own bundle and output file.
    pub fn create_as(
        &self,
        id: &str,
        config: &ContainerConfig,
    ) -> Result<(Container, PathBuf), String> {
        let output = self.base.join(format!("output-{id}"));
        let bundle = self.base.join(format!("bundle-{id}"));
        fs::create_dir_all(&bundle).map_err(|e| format!("mkdir bundle: {e}"))?;
        let file = File::create(&output).map_err(|e| e.to_string())?;
        let stdout = file.try_clone().map_err(|e| e.to_string())?;
        let stdio = Stdio {
            stdin: None,
            stdout: Some(OwnedFd::from(stdout)),
            stderr: Some(OwnedFd::from(file)),
            console_socket: None,
        };
        let container = self
            .runtime
            .create(id, &bundle, config, stdio)
            .map_err(|e| e.to_string())?;
        Ok((container, output))
    }

    /// Creates, starts and waits for a container, then deletes it and checks
    /// that nothing is left; `inspect` runs between create and start.
    pub fn run_with(
        &self,
        config: &ContainerConfig,
        inspect: impl FnOnce(&mut Container) -> TestResult,
    ) -> Result<Outcome, String> {
        let (mut container, output) = self.create(config)?;
        let pid = container.pid();
        let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
        let ran = inspect(&mut container).and_then(|()| {
            container.start().map_err(|e| e.to_string())?;
            finish(&mut container)
        });
        if ran.is_err() {
            let _ = container.kill(Signal::SIGKILL);
        }
        let deleted = container.delete().map_err(|e| format!("delete: {e}"));
        let status = ran?;
        deleted?;
        self.check_no_leaks(&dirs, pid)?;
        let output = fs::read_to_string(output).map_err(|e| e.to_string())?;
        Ok(Outcome { status, output })
    }

    pub fn run(&self, config: &ContainerConfig) -> Result<Outcome, String> {
        self.run_with(config, |_| Ok(()))
    }

    pub fn check_no_leaks(&self, dirs: &[PathBuf], pid: Option<i32>) -> TestResult {
        for dir in dirs {
            if dir.exists() {
                return Err(format!("cgroup directory left behind: {}", dir.display()));
            }
            if let Some(parent) = dir.parent().filter(|parent| {
                parent.ends_with(
                    self.cgroup_parent
                        .strip_prefix("/")
                        .unwrap_or(&self.cgroup_parent),
                )
            }) {
                // The runtime keeps the parent, as the daemon keeps /stack
                // while it runs; the test's own parent goes with the test,
                // and must then be empty.
                let _ = fs::remove_dir(parent);
                if parent.exists() {
                    return Err(format!("parent cgroup left behind: {}", parent.display()));
                }
            }
        }
        let mounts = fs::read_to_string("/proc/self/mountinfo").map_err(|e| e.to_string())?;
        let base = self.base.to_string_lossy();
        if let Some(line) = mounts.lines().find(|line| line.contains(base.as_ref())) {
            return Err(format!("mount left behind: {line}"));
        }
        if let Some(pid) = pid {
            if kill(Pid::from_raw(pid), None).is_ok() {
                return Err(format!("process {pid} still exists"));
            }
        }
        if self.base.join("state").join(&self.name).exists() {
            return Err("libcontainer state directory left behind".to_owned());
        }
        Ok(())
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        // The test's own cgroup parent, which the runtime keeps, in every
        // hierarchy (v1: one per directory; v2: the root); left if busy.
        let relative = self
            .cgroup_parent
            .strip_prefix("/")
            .unwrap_or(&self.cgroup_parent);
        let hierarchies = fs::read_dir("/sys/fs/cgroup")
            .into_iter()
            .flatten()
            .flatten()
            .map(|entry| entry.path())
            .chain([PathBuf::from("/sys/fs/cgroup")]);
        for hierarchy in hierarchies {
            let _ = fs::remove_dir(hierarchy.join(relative));
        }
        let mounts = fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        if !mounts.contains(self.base.to_string_lossy().as_ref()) {
            let _ = fs::remove_dir_all(&self.base);
        }
    }
}

pub type TestResult = Result<(), String>;

/// How long a test container may run before it counts as hung.
const TIME_LIMIT: Duration = Duration::from_secs(60);

/// Waits for a started container, killing it if it runs past the time limit
/// so that a broken test fails instead of hanging.
pub fn finish(container: &mut Container) -> Result<ExitStatus, String> {
    match container.wait_timeout(TIME_LIMIT) {
        Ok(Some(status)) => Ok(status),
        Ok(None) => {
            let _ = container.kill(Signal::SIGKILL);
            let _ = container.wait();
            Err(format!("the container ran longer than {TIME_LIMIT:?}"))
        }
        Err(error) => Err(error.to_string()),
    }
}

pub fn expect_eq<T: PartialEq + std::fmt::Debug>(what: &str, got: T, want: T) -> TestResult {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, want {want:?}"))
    }
}

pub fn expect_contains(what: &str, text: &str, needle: &str) -> TestResult {
    if text.contains(needle) {
        Ok(())
    } else {
        Err(format!("{what}: {needle:?} not in {text:?}"))
    }
}

pub fn sh(fixture: &Fixture, script: &str) -> Result<Outcome, String> {
    fixture.run(&fixture.config(&["sh", "-c", script]))
}
