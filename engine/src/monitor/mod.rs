//! The per-container monitor: a small executable of its own,
//! `stack-monitor` (installed next to `stack`; see [`main`]), that the
//! daemon starts once per container start, like containerd's shim or
//! Podman's conmon. The daemon never calls libcontainer itself,
//! because libcontainer forks its caller and must run in a single-threaded
//! process; the monitor is one, and it is the parent of the container's
//! init process, so it alone can reap it and learn its exit status.
//!
//! The monitor, in order: enters a mount namespace of its own
//! (`mount_ns`), mounts the overlay root filesystem there, writes
//! `/etc/hostname` and `/etc/hosts`, copies the image's content into
//! empty volumes (as Docker does), creates and starts the container with
//! pipes on its stdout and stderr, records the run as `running` in
//! `state.json`, reports `ok` (or the error) on its own stdout (the
//! daemon's "ready" pipe), then replaces itself (`execve`, same pid) with
//! the small watcher executable `stack-watch` ([`watch`]), which copies the
//! pipes into the json-file log (rotated as its `max-size`/`max-file`
//! say) until the container exits, records the exit (code, OOM kill,
//! time), deletes the container (processes, cgroups, libcontainer's state)
//! and unmounts the root filesystem. Only the watcher lives as long as the
//! container, and it links none of libcontainer: what a process that ran
//! libcontainer keeps (relocated data, the heap and stack the start grew)
//! is gone with the `execve`.
//!
//! It runs in its own process group, with no tie to the daemon besides the
//! files under the state root: a daemon that dies or restarts leaves it and
//! its container running. Stopping a container is a signal the daemon
//! sends to the container's init process directly (its pid is in
//! `state.json`); the monitor only observes the exit.

mod args;
mod copy_up;
pub mod exec;
mod handover;
mod log;
mod log_file;
mod mount_ns;
mod rootfs;
mod shrink;
mod stdin;
pub mod watch;

pub(crate) use args::spawn_error;
pub use args::{check_executable, ArgsError, Invocation, MonitorArgs, MonitorMissing, EXECUTABLE};

use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, Write};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::container::launch::{
    resolve_groups, resolve_user, EtcFiles, LaunchMountKind, LaunchSpec,
};
use crate::container::run_state::{RunState, RunStatus};
use crate::network::record::{ContainerNetwork, Namespace};
use crate::runtime::{ConsoleSocket, NamespaceMode, Namespaces, Runtime, Stdio};
use crate::state::{self, time::rfc3339_nanos, Layout};
use log::Stream;
use rootfs::Rootfs;
use stdin::StdinHandout;
use watch::{unix_seconds, Outputs, Watch};

/// The `stack-monitor` executable's work: runs the monitor, or with
/// `--exec` the exec helper, as `args` (the arguments after the program's
/// name) say; returns the process's exit code (2 for a command line that
/// is not the daemon's). Must be called from a single-threaded process.
pub fn main(args: impl IntoIterator<Item = OsString>) -> u8 {
    let invocation = match Invocation::parse(args) {
        Ok(invocation) => invocation,
        Err(error) => {
            eprintln!(
                "stack-monitor: {error}\nusage: stack-monitor --root DIR --run-dir DIR [--exec JSON] ID \
                 (the stack daemon starts it for each container; it is not run by hand)"
            );
            return 2;
        }
    };
    if invocation.watch.is_some() {
        eprintln!(
            "stack-monitor: --watch is for {}, not for the monitor",
            watch::EXECUTABLE
        );
        return 2;
    }
    let Some(json) = invocation.exec else {
        return if run(&invocation.args) == 0 { 0 } else { 1 };
    };
    let code = match serde_json::from_str(&json) {
        Ok(request) => exec::run(&invocation.args, &request),
        Err(error) => {
            eprintln!("stack-monitor --exec: invalid request: {error}");
            exec::EXIT_CANNOT_RUN
        }
    };
    u8::try_from(code).unwrap_or(u8::MAX)
}

/// Runs one container to its end; the process's exit code is 0 when the
/// container ran (whatever its own exit code), 1 when it could not start.
/// Must be called from a single-threaded process.
fn run(args: &MonitorArgs) -> i32 {
    let mut ready = Ready::stdout();
    match launch(args, &mut ready) {
        Ok(()) => 0,
        Err(error) => {
            let message = format!("{error}");
            eprintln!("stack-monitor {}: {message}", args.id);
            ready.fail(&message);
            1
        }
    }
}

/// The daemon's "ready" pipe: one line, `ok` or `error: ...`.
struct Ready {
    reported: bool,
}

impl Ready {
    fn stdout() -> Ready {
        Ready { reported: false }
    }

    fn report(&mut self, line: &str) {
        if self.reported {
            return;
        }
        self.reported = true;
        // The daemon may be gone; the run goes on without it.
        let _ = writeln!(io::stdout(), "{line}").and_then(|()| io::stdout().flush());
        // Nothing else goes to the daemon: let it see the end of the pipe.
        if let Ok(null) = File::options().write(true).open("/dev/null") {
            let _ = nix::unistd::dup2(null.as_raw_fd(), io::stdout().as_raw_fd());
        }
    }

    fn ok(&mut self) {
        self.report("ok");
    }

    fn fail(&mut self, message: &str) {
        self.report(&format!("error: {}", message.replace('\n', " ")));
    }
}

fn context(what: String) -> impl FnOnce(io::Error) -> io::Error {
    move |e| io::Error::new(e.kind(), format!("{what}: {e}"))
}

/// The watcher next to this executable, checked before anything is made.
fn watcher() -> io::Result<PathBuf> {
    let exe = std::env::current_exe()
        .map_err(context("cannot find the monitor's own executable".into()))?;
    watch::check_executable(&exe).map_err(io::Error::other)?;
    Ok(watch::executable_next_to(&exe))
}

fn launch(args: &MonitorArgs, ready: &mut Ready) -> io::Result<()> {
    let watcher = watcher()?;
    let layout = &Layout::new(args.root.clone(), args.run_dir.clone());
    let id = args.id.as_str();
    let launch_path = layout.container_launch(id);
    let spec: LaunchSpec = state::read_json(&launch_path)
        .map_err(context(format!("cannot read {}", launch_path.display())))?
        .ok_or_else(|| io::Error::other(format!("{} is missing", launch_path.display())))?;
    let network_path = layout.container_network(id);
    let network: Option<ContainerNetwork> = state::read_json(&network_path)
        .map_err(context(format!("cannot read {}", network_path.display())))?;
    let join = match network.as_ref().map(|n| &n.namespace) {
        Some(Namespace::Join(path)) => Some(path.as_path()),
        _ => None,
    };
    let joined = mount_ns::enter(&layout.netns_dir(), join).map_err(context(
        "cannot set up the monitor's mount namespace".into(),
    ))?;
    let rootfs = Rootfs::mount(
        &spec.layers,
        &layout.container_upper(id),
        &layout.container_work(id),
        &layout.container_rootfs(id),
    )
    .map_err(context("cannot mount the root filesystem".into()))?;
    let read_etc =
        |name: &str| fs::read_to_string(rootfs.path().join("etc").join(name)).unwrap_or_default();
    let mut user = resolve_user(&spec.user, &read_etc("passwd"), &read_etc("group"))
        .map_err(io::Error::other)?;
    user.additional_gids =
        resolve_groups(&spec.group_add, &read_etc("group")).map_err(io::Error::other)?;
    let dir = layout.container(id);
    let hostname_file = dir.join("hostname");
    let hosts_file = dir.join("hosts");
    let resolv_file = dir.join("resolv.conf");
    fs::write(&hostname_file, format!("{}\n", spec.hostname))?;
    let hosts_text = network
        .as_ref()
        .map_or_else(|| hosts(&spec.hostname), |n| n.hosts.clone());
    fs::write(&hosts_file, hosts_text)?;
    let resolv_conf = network.as_ref().and_then(|n| n.resolv_conf.as_deref());
    if let Some(text) = resolv_conf {
        fs::write(&resolv_file, text)?;
    }
    let net = match network.as_ref().map(|n| n.namespace.clone()) {
        None | Some(Namespace::Private) => NamespaceMode::Private,
        Some(Namespace::Host) => NamespaceMode::Host,
        Some(Namespace::Join(path)) => {
            NamespaceMode::Join(joined.as_ref().map_or(path, |netns| netns.path()))
        }
    };
    for mount in spec
        .mounts
        .iter()
        .filter(|m| m.kind == LaunchMountKind::Volume)
    {
        copy_up::copy_up(rootfs.path(), &mount.target, Path::new(&mount.source)).map_err(
            context(format!(
                "cannot copy the image's {} into its volume",
                mount.target
            )),
        )?;
    }
    let etc = EtcFiles {
        hostname: &hostname_file,
        hosts: &hosts_file,
        resolv_conf: resolv_conf.is_some().then_some(resolv_file.as_path()),
    };
    let running_pid = |other: &str| -> Result<i32, String> {
        let state: Option<RunState> = state::read_json(&layout.container_state(other))
            .map_err(|e| format!("cannot read its state: {e}"))?;
        match state {
            Some(run) if run.status == RunStatus::Running && run.pid > 0 => Ok(run.pid),
            _ => Err("it is not running (start it first)".to_owned()),
        }
    };
    let namespaces = Namespaces {
        net,
        pid: spec
            .pid
            .resolve("pid", running_pid)
            .map_err(io::Error::other)?,
        ipc: spec
            .ipc
            .resolve("ipc", running_pid)
            .map_err(io::Error::other)?,
        ..Namespaces::default()
    };
    let mut config = spec.runtime_config(rootfs.path(), user, &etc, namespaces);
    config.devices = spec.host_devices()?;

    let runtime = Runtime::new(layout.runtime_state(), layout.cgroup_parent());
    // A container of this id left by a monitor that died: its process is
    // gone with its pid namespace, so only its state and cgroup are left.
    if let Ok(stale) = runtime.load(id) {
        let _ = stale.delete();
    }
    let mut streams = Streams::open(layout, id, &spec)?;
    let mut container = runtime
        .create(id, &dir, &config, streams.stdio.take().unwrap_or_default())
        .map_err(|e| io::Error::other(crate::api::chain(&e)))?;
    let (outputs, handout) = match streams.receive(layout, id, &spec) {
        Ok(received) => received,
        Err(error) => {
            let _ = container.delete();
            return Err(error);
        }
    };
    if let Err(error) = container.start() {
        let message = crate::api::chain(&error);
        let _ = container.delete();
        return Err(io::Error::other(message));
    }
    let pid = container.pid().unwrap_or(0);
    let run = RunState {
        status: RunStatus::Running,
        pid,
        monitor_pid: std::process::id() as i32,
        started_at: rfc3339_nanos(SystemTime::now()),
        started_unix: unix_seconds(SystemTime::now()),
        finished_unix: 0,
        finished_at: None,
        exit_code: None,
        oom_killed: false,
        error: None,
    };
    state::write_json_replace(&layout.container_state(id), &run)?;
    ready.ok();

    rootfs.hand_over();
    let watch = Watch {
        run,
        log: spec.log,
        cgroups_path: container.cgroups_path().to_path_buf(),
        outputs,
        handout,
    };
    watch::hand_over(args, &watcher, watch)
}

/// The container's standard streams: pipes for its output (and its
/// input with `OpenStdin`), or a terminal.
struct Streams {
    /// What the runtime gets, until it has it.
    stdio: Option<Stdio>,
    /// The read ends of the output pipes, without a terminal.
    outputs: Outputs,
    /// The write end of the stdin pipe, with `OpenStdin` and no terminal.
    stdin: Option<OwnedFd>,
    /// Where the terminal arrives, with a TTY.
    console: Option<ConsoleSocket>,
}

impl Streams {
    fn open(layout: &Layout, id: &str, spec: &LaunchSpec) -> io::Result<Streams> {
        let pipe = || rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC);
        if spec.tty {
            let path = layout.container_console_socket(id);
            // A socket left by a monitor that died is stale.
            let _ = fs::remove_file(&path);
            let console = ConsoleSocket::bind(path)?;
            return Ok(Streams {
                stdio: Some(Stdio {
                    console_socket: Some(console.path().to_path_buf()),
                    ..Stdio::default()
                }),
                outputs: Vec::new(),
                stdin: None,
                console: Some(console),
            });
        }
        let (out_read, out_write) = pipe()?;
        let (err_read, err_write) = pipe()?;
        let (stdin_read, stdin_write): (OwnedFd, Option<OwnedFd>) = if spec.open_stdin {
            let (read, write) = pipe()?;
            (read, Some(write))
        } else {
            (File::open("/dev/null")?.into(), None)
        };
        Ok(Streams {
            stdio: Some(Stdio {
                stdin: Some(stdin_read),
                stdout: Some(out_write),
                stderr: Some(err_write),
                console_socket: None,
            }),
            outputs: vec![
                (Stream::Stdout, out_read.into()),
                (Stream::Stderr, err_read.into()),
            ],
            stdin: stdin_write,
            console: None,
        })
    }

    /// Once the container is created: the outputs to copy into the log,
    /// and the socket that hands out its input.
    fn receive(
        &mut self,
        layout: &Layout,
        id: &str,
        spec: &LaunchSpec,
    ) -> io::Result<(Outputs, Option<StdinHandout>)> {
        let path = layout.container_stdin_socket(id);
        if let Some(console) = self.console.take() {
            let master = console
                .receive_master()
                .map_err(context("cannot receive the container's terminal".into()))?;
            if let Some((rows, cols)) = spec.console_size {
                // Before the start: the process sees its size from the first moment.
                crate::runtime::set_size(&master, rows, cols)?;
            }
            let handout = StdinHandout::bind(path, master.try_clone()?, false)?;
            return Ok((vec![(Stream::Stdout, master.into())], Some(handout)));
        }
        let handout = match self.stdin.take() {
            Some(fd) => Some(StdinHandout::bind(path, fd, spec.stdin_once)?),
            None => None,
        };
        Ok((std::mem::take(&mut self.outputs), handout))
    }
}

/// The container's `/etc/hosts`: loopback names, and its own hostname on
/// the loopback address (it has no other interface yet).
fn hosts(hostname: &str) -> String {
    let mut text = String::from(
        "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\nfe00::0\tip6-localnet\nff00::0\tip6-mcastprefix\nff02::1\tip6-allnodes\nff02::2\tip6-allrouters\n",
    );
    if !hostname.is_empty() {
        text.push_str(&format!("127.0.0.1\t{hostname}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_name_the_container_on_loopback() {
        let text = hosts("web");
        assert!(text.starts_with("127.0.0.1\tlocalhost\n"));
        assert!(text.ends_with("127.0.0.1\tweb\n"));
        assert!(!hosts("").contains("\t\n"));
    }
}
