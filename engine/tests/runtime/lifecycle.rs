//! Create, start, wait, kill and delete: exit statuses, failures that leave nothing behind, terminals, process settings, logging.

use std::fs::{self, File};
use std::io::Read;
use std::path::PathBuf;
use std::time::Duration;

use nix::sys::signal::Signal;
use stack_engine::runtime::{ConsoleSocket, ExecConfig, ExitStatus, Stdio, Ulimit, User};

use crate::fixture::{expect_contains, expect_eq, sh, Fixture, TestResult, LOG};

pub fn kill_reports_the_signal() -> TestResult {
    let fixture = Fixture::new("kill")?;
    let config = fixture.config(&["sleep", "100"]);
    let (mut container, _) = fixture.create(&config)?;
    let pid = container.pid();
    let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
    let status = container
        .start()
        .and_then(|()| container.kill(Signal::SIGKILL))
        .and_then(|()| container.wait());
    let deleted = container.delete();
    let status = status.map_err(|e| e.to_string())?;
    deleted.map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    expect_eq("exit code", status.code, 137)?;
    expect_eq("signal", status.signal, Some(9))?;
    expect_eq("oom killed", status.oom_killed, false)
}

pub fn exit_code_is_reported() -> TestResult {
    let fixture = Fixture::new("exit")?;
    let outcome = sh(&fixture, "exit 42")?;
    expect_eq("exit code", outcome.status.code, 42)?;
    expect_eq("signal", outcome.status.signal, None)
}

pub fn invalid_config_creates_nothing() -> TestResult {
    let fixture = Fixture::new("invalid")?;
    let mut config = fixture.config(&["true"]);
    config
        .sysctls
        .insert("kernel.panic".to_owned(), "1".to_owned());
    match fixture
        .runtime
        .create(&fixture.name, &fixture.bundle, &config, Stdio::default())
    {
        Ok(_) => Err("a host sysctl was accepted".to_owned()),
        Err(error) => {
            expect_contains("error", &error.to_string(), "kernel.panic: not namespaced")?;
            fixture.check_no_leaks(&[], None)
        }
    }
}

pub fn missing_command_fails_cleanly() -> TestResult {
    let fixture = Fixture::new("nocmd")?;
    let config = fixture.config(&["no-such-command"]);
    match fixture.create(&config) {
        // libcontainer checks the executable before it reports the container created.
        Err(error) => {
            expect_contains("error", &error, "no-such-command")?;
            fixture.check_no_leaks(&[], None)
        }
        Ok((mut container, _)) => {
            let pid = container.pid();
            let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
            let status = container.start().and_then(|()| container.wait());
            container.delete().map_err(|e| e.to_string())?;
            fixture.check_no_leaks(&dirs, pid)?;
            expect_eq("exit", status.map_err(|e| e.to_string())?.code, 127)
        }
    }
}

pub fn duplicate_id() -> TestResult {
    let fixture = Fixture::new("dup")?;
    let (mut first, _) = fixture.create(&fixture.config(&["sh", "-c", "exit 7"]))?;
    let pid = first.pid();
    let dirs = first.cgroup_dirs().map_err(|e| e.to_string())?;
    let second = fixture.create(&fixture.config(&["true"]));
    // The first container must still be intact: it starts and exits with its code.
    let status = first.start().and_then(|()| first.wait());
    first.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    match second {
        Ok(_) => return Err("a second container with the same id was created".to_owned()),
        Err(error) => expect_contains("error", &error, "already exists")?,
    }
    expect_eq("first exit", status.map_err(|e| e.to_string())?.code, 7)
}

pub fn libcontainer_logs_nothing() -> TestResult {
    let fixture = Fixture::new("quiet")?;
    LOG.lock().map_err(|e| e.to_string())?.clear();
    let mut config = fixture.config(&["true"]);
    config.resources.memory = Some(64 << 20);
    fixture.run(&config)?;
    let log = String::from_utf8_lossy(&LOG.lock().map_err(|e| e.to_string())?).into_owned();
    expect_eq("log", log.as_str(), "")
}

pub fn tty_gives_a_terminal() -> TestResult {
    let fixture = Fixture::new("tty")?;
    let socket =
        ConsoleSocket::bind(fixture.base.join("console.sock")).map_err(|e| e.to_string())?;
    let mut config = fixture.config(&["sh", "-c", "tty; echo hello from the terminal"]);
    config.tty = true;
    let stdio = Stdio {
        console_socket: Some(socket.path().to_owned()),
        ..Stdio::default()
    };
    let mut container = fixture
        .runtime
        .create(&fixture.name, &fixture.bundle, &config, stdio)
        .map_err(|e| e.to_string())?;
    let pid = container.pid();
    let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
    let ran = socket
        .receive_master()
        .map_err(|e| format!("receive the terminal: {e}"))
        .and_then(|master| {
            container.start().map_err(|e| e.to_string())?;
            let mut terminal = File::from(master);
            let mut output = Vec::new();
            let mut buf = [0u8; 4096];
            // The master reads EIO once the last process holding the terminal exits.
            while let Ok(n @ 1..) = terminal.read(&mut buf) {
                output.extend_from_slice(&buf[..n]);
            }
            let status = container.wait().map_err(|e| e.to_string())?;
            Ok((status, String::from_utf8_lossy(&output).into_owned()))
        });
    if ran.is_err() {
        let _ = container.kill(Signal::SIGKILL);
    }
    container.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    let (status, output) = ran?;
    expect_eq("exit", status.code, 0)?;
    expect_contains("tty", &output, "/dev/pts/0")?;
    // The terminal turns \n into \r\n, as a terminal does.
    expect_contains("echo", &output, "hello from the terminal\r\n")
}

pub fn process_settings_apply() -> TestResult {
    let fixture = Fixture::new("process")?;
    let mut config = fixture.config(&[
        "sh",
        "-c",
        "id; pwd; echo greeting=$GREETING; ulimit -n; cat /proc/sys/net/ipv4/ip_forward; \
         grep -E 'NoNewPrivs|CapEff' /proc/self/status; cat /proc/self/oom_score_adj",
    ]);
    config.user.uid = 1000;
    config.user.gid = 1000;
    config.user.additional_gids = vec![2000];
    config.cwd = PathBuf::from("/tmp");
    config.env = vec!["GREETING=hi".to_owned()];
    config.ulimits = vec![Ulimit {
        name: "nofile".to_owned(),
        soft: 512,
        hard: 1024,
    }];
    config
        .sysctls
        .insert("net.ipv4.ip_forward".to_owned(), "1".to_owned());
    config.no_new_privileges = true;
    config.oom_score_adj = Some(300);
    let outcome = fixture.run(&config)?;
    let lines: Vec<&str> = outcome.output.lines().collect();
    expect_eq(
        "output",
        lines,
        vec![
            "uid=1000 gid=1000 groups=2000",
            "/tmp",
            "greeting=hi",
            "512",
            "1",
            "CapEff:\t0000000000000000",
            "NoNewPrivs:\t1",
            "300",
        ],
    )
}

/// Docker's stop: the stop signal, a grace period, then SIGKILL. PID 1 of a
/// container ignores signals it has no handler for, so `sleep` outlives
/// SIGTERM and needs the SIGKILL.
pub fn stop_with_grace_period_then_kill() -> TestResult {
    let fixture = Fixture::new("stop")?;
    let (mut container, _) = fixture.create(&fixture.config(&["sleep", "30"]))?;
    let pid = container.pid();
    let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
    let grace = Duration::from_millis(300);
    let stopped = (|| {
        container.start()?;
        let running = container.wait_timeout(Duration::from_millis(100))?;
        container.kill(Signal::SIGTERM)?;
        let after_term = container.wait_timeout(grace)?;
        container.kill(Signal::SIGKILL)?;
        let after_kill = container.wait_timeout(Duration::from_secs(10))?;
        Ok::<_, stack_engine::runtime::RunError>((running, after_term, after_kill))
    })();
    if stopped.is_err() {
        let _ = container.kill(Signal::SIGKILL);
    }
    container.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    let (running, after_term, after_kill) = stopped.map_err(|e| e.to_string())?;
    expect_eq("still running", running, None)?;
    expect_eq("after SIGTERM", after_term, None)?;
    expect_eq(
        "after SIGKILL",
        after_kill.map(|status| (status.code, status.signal)),
        Some((137, Some(9))),
    )
}

/// pause and resume go through the cgroup freezer.
pub fn pause_freezes_and_resume_thaws() -> TestResult {
    let fixture = Fixture::new("pause")?;
    let (mut container, _) = fixture.create(&fixture.config(&["sleep", "30"]))?;
    let pid = container.pid();
    let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
    // cgroup v1's freezer.state, or v2's cgroup.freeze.
    let frozen = |dirs: &[PathBuf]| {
        dirs.iter().find_map(|dir| {
            let v1 = fs::read_to_string(dir.join("freezer.state")).ok();
            let v2 = fs::read_to_string(dir.join("cgroup.freeze")).ok();
            v1.map(|state| state.trim() == "FROZEN")
                .or(v2.map(|state| state.trim() == "1"))
        })
    };
    let states = (|| {
        container.start()?;
        container.pause()?;
        let paused = frozen(&dirs);
        container.resume()?;
        let resumed = frozen(&dirs);
        Ok::<_, stack_engine::runtime::RunError>((paused, resumed))
    })();
    let _ = container.kill(Signal::SIGKILL);
    let _ = container.wait_timeout(Duration::from_secs(10));
    container.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    let (paused, resumed) = states.map_err(|e| e.to_string())?;
    expect_eq("paused", paused, Some(true))?;
    expect_eq("resumed", resumed, Some(false))
}

/// `docker exec`: a second process joins the running container, with the
/// container's confinement and its own command, environment and user.
pub fn exec_joins_the_running_container() -> TestResult {
    let fixture = Fixture::new("exec")?;
    let (mut container, _) = fixture.create(&fixture.config(&["sleep", "30"]))?;
    let pid = container.pid();
    let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
    let output_path = fixture.base.join("exec-output");
    let ran = (|| -> Result<ExitStatus, String> {
        container.start().map_err(|e| e.to_string())?;
        let file = File::create(&output_path).map_err(|e| e.to_string())?;
        let stdout = file.try_clone().map_err(|e| e.to_string())?;
        let stdio = Stdio {
            stdout: Some(stdout.into()),
            stderr: Some(file.into()),
            ..Stdio::default()
        };
        let exec = ExecConfig {
            args: [
                "sh",
                "-c",
                "id -u; echo $GREETING; hostname; ps -o pid,comm | grep ' 1 '; \
                    grep -E 'Seccomp:' /proc/self/status; exit 3",
            ]
            .map(String::from)
            .to_vec(),
            env: vec!["GREETING=hi".to_owned()],
            user: Some(User {
                uid: 1000,
                gid: 1000,
                additional_gids: Vec::new(),
            }),
            ..ExecConfig::default()
        };
        let mut process = container
            .exec("e1", &exec, stdio)
            .map_err(|e| e.to_string())?;
        process
            .wait_timeout(Duration::from_secs(30))
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "the exec'd process hung".to_owned())
    })();
    let _ = container.kill(Signal::SIGKILL);
    let _ = container.wait_timeout(Duration::from_secs(10));
    container.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    expect_eq("exec exit", ran?.code, 3)?;
    let output = fs::read_to_string(&output_path).map_err(|e| e.to_string())?;
    let lines: Vec<&str> = output.lines().map(str::trim).collect();
    expect_eq(
        "exec output",
        lines,
        vec!["1000", "hi", "box-exec", "1 sleep", "Seccomp:\t2"],
    )
}
