//! cgroup limits: written to the hierarchy, memory OOM kills, the pids limit.

use std::fs;
use std::time::{Duration, Instant};

use crate::fixture::{expect_contains, expect_eq, finish, Fixture, TestResult};

pub fn cgroup_limits_are_written() -> TestResult {
    let fixture = Fixture::new("limits")?;
    let mut config = fixture.config(&["true"]);
    config.resources.memory = Some(64 << 20);
    config.resources.pids_limit = Some(50);
    config.resources.cpu_quota = Some(50_000);
    config.resources.cpu_period = Some(100_000);
    fixture
        .run_with(&config, |container| {
            let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
            let read = |file: &str| {
                dirs.iter()
                    .map(|dir| dir.join(file))
                    .find(|path| path.exists())
                    .and_then(|path| fs::read_to_string(path).ok())
                    .map(|text| text.trim().to_owned())
            };
            // cgroup v1 file names first, then their v2 equivalents.
            let memory = read("memory.limit_in_bytes").or_else(|| read("memory.max"));
            expect_eq("memory limit", memory.as_deref(), Some("67108864"))?;
            expect_eq("pids limit", read("pids.max").as_deref(), Some("50"))?;
            let quota = read("cpu.cfs_quota_us").or_else(|| read("cpu.max"));
            match quota.as_deref() {
                Some("50000") | Some("50000 100000") => Ok(()),
                other => Err(format!("cpu quota: {other:?}")),
            }
        })
        .map(|_| ())
}

pub fn memory_limit_oom_kills() -> TestResult {
    let fixture = Fixture::new("oom")?;
    // tail keeps the whole "line" of /dev/zero in memory: it only grows.
    let mut config = fixture.config(&["tail", "/dev/zero"]);
    config.resources.memory = Some(16 << 20);
    config.resources.memory_swap = Some(16 << 20);
    let outcome = fixture.run(&config)?;
    expect_eq("exit code", outcome.status.code, 137)?;
    expect_eq("signal", outcome.status.signal, Some(9))?;
    expect_eq("oom killed", outcome.status.oom_killed, true)
}

pub fn pids_limit_stops_a_fork_bomb() -> TestResult {
    let fixture = Fixture::new("forkbomb")?;
    let mut config = fixture.config(&[
        "sh",
        "-c",
        "bomb() { bomb | bomb & }; bomb; sleep 2; echo survived",
    ]);
    config.resources.pids_limit = Some(32);
    let started = Instant::now();
    let outcome = fixture.run(&config)?;
    expect_contains("init", &outcome.output, "survived")?;
    expect_contains("fork refused", &outcome.output, "can't fork")?;
    if started.elapsed() > Duration::from_secs(30) {
        return Err("the fork bomb was not contained".to_owned());
    }
    Ok(())
}

/// A busy loop for one second under a quota of a fifth of a CPU uses about a
/// fifth of a second of CPU time (read from the container's own cgroup).
pub fn cpu_quota_is_enforced() -> TestResult {
    let fixture = Fixture::new("cpuquota")?;
    // timeout must not be PID 1, which ignores the SIGTERM it sends.
    let mut config = fixture.config(&["sh", "-c", "timeout 1 sh -c 'while :; do :; done'; true"]);
    config.resources.cpu_quota = Some(20_000);
    config.resources.cpu_period = Some(100_000);
    let (mut container, _) = fixture.create(&config)?;
    let pid = container.pid();
    let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
    let ran = container
        .start()
        .map_err(|e| e.to_string())
        .and_then(|()| finish(&mut container));
    // cgroup v1's cpuacct.usage is in nanoseconds, v2's usage_usec in microseconds.
    let used = dirs.iter().find_map(|dir| {
        let v1 = fs::read_to_string(dir.join("cpuacct.usage")).ok();
        let v1 = v1.and_then(|text| text.trim().parse::<u64>().ok());
        let v2 = fs::read_to_string(dir.join("cpu.stat"))
            .ok()
            .and_then(|text| {
                text.lines()
                    .find_map(|line| line.strip_prefix("usage_usec "))
                    .and_then(|value| value.trim().parse::<u64>().ok())
                    .map(|usec| usec * 1000)
            });
        v1.or(v2).map(Duration::from_nanos)
    });
    container.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    ran?;
    let used = used.ok_or("no CPU usage found in the cgroup")?;
    if used < Duration::from_millis(100) || used > Duration::from_millis(400) {
        return Err(format!("CPU time used in 1 s at 0.2 CPU: {used:?}"));
    }
    Ok(())
}
