//! Namespaces, the root filesystem, capabilities, seccomp, masked paths and devices: what a container can see and do.

use std::fs;
use std::path::PathBuf;

use nix::sys::signal::Signal;
use stack_engine::runtime::{MountKind, MountSpec, NamespaceMode};

use crate::fixture::{expect_contains, expect_eq, sh, Fixture, TestResult};

pub fn pid_1_and_ps() -> TestResult {
    let fixture = Fixture::new("pid1")?;
    let outcome = sh(&fixture, "echo pid=$$; ps -o pid,comm; echo done")?;
    expect_eq("exit", outcome.status.code, 0)?;
    expect_contains("own pid", &outcome.output, "pid=1\n")?;
    // The shell (PID 1) and ps itself, nothing of the host.
    let processes: Vec<&str> = outcome
        .output
        .lines()
        .skip(2)
        .take_while(|l| *l != "done")
        .collect();
    expect_eq("ps lines", processes.len(), 2)?;
    expect_contains("ps", processes[0], "1 sh")
}

pub fn ls_shows_the_rootfs() -> TestResult {
    let fixture = Fixture::new("ls")?;
    let outcome = sh(&fixture, "ls /")?;
    expect_contains("ls /", &outcome.output, "stack-rootfs-marker")?;
    let names: Vec<&str> = outcome.output.split_whitespace().collect();
    if names.contains(&"work") || names.contains(&"home") {
        return Err(format!("host directories visible: {names:?}"));
    }
    Ok(())
}

pub fn hostname() -> TestResult {
    let fixture = Fixture::new("hostname")?;
    let outcome = sh(&fixture, "hostname")?;
    expect_eq("hostname", outcome.output.trim(), "box-hostname")
}

pub fn read_only_rootfs() -> TestResult {
    let fixture = Fixture::new("rofs")?;
    let mut config = fixture.config(&["sh", "-c", "touch /x && echo wrote || echo refused"]);
    config.read_only_rootfs = true;
    let outcome = fixture.run(&config)?;
    expect_contains("touch /x", &outcome.output, "refused")?;
    expect_contains("error", &outcome.output, "Read-only file system")
}

pub fn writable_rootfs_and_tmpfs() -> TestResult {
    let fixture = Fixture::new("rwfs")?;
    let mut config = fixture.config(&[
        "sh",
        "-c",
        "touch /x && echo wrote-root; echo hi > /scratch/f && grep tmpfs /proc/mounts | grep -c /scratch",
    ]);
    config.mounts.push(MountSpec {
        target: PathBuf::from("/scratch"),
        kind: MountKind::Tmpfs {
            size: Some(1 << 20),
            mode: Some(0o1777),
        },
        read_only: false,
    });
    let outcome = fixture.run(&config)?;
    expect_contains("touch /x", &outcome.output, "wrote-root")?;
    expect_contains("tmpfs", &outcome.output, "1\n")?;
    if !fixture.rootfs.join("x").exists() {
        return Err("the write did not land in the rootfs".to_owned());
    }
    Ok(())
}

pub fn mount_is_refused() -> TestResult {
    let fixture = Fixture::new("mount")?;
    let outcome = sh(
        &fixture,
        "mount -t tmpfs x /mnt && echo mounted || echo refused",
    )?;
    expect_contains("mount", &outcome.output, "refused")
}

pub fn proc_sys_is_read_only() -> TestResult {
    let fixture = Fixture::new("procsys")?;
    let outcome = sh(
        &fixture,
        "echo 1 > /proc/sys/vm/overcommit_memory && echo wrote || echo refused",
    )?;
    expect_contains("write /proc/sys", &outcome.output, "refused")
}

/// Masked files that have content on this host read empty in a container;
/// /proc/kcore (absent on some kernels) must not be readable either.
pub fn masked_paths_are_empty() -> TestResult {
    for file in ["/proc/keys", "/proc/interrupts", "/proc/timer_list"] {
        let host = fs::read(file).map_err(|e| format!("host {file}: {e}"))?;
        if host.is_empty() {
            return Err(format!(
                "{file} is empty on the host: the test proves nothing"
            ));
        }
    }
    let fixture = Fixture::new("masked")?;
    let outcome = sh(
        &fixture,
        "for f in /proc/keys /proc/interrupts /proc/timer_list /proc/kcore; do \
         echo $f=$(cat $f 2>/dev/null | wc -c); done; ls /sys/firmware | wc -l",
    )?;
    expect_eq(
        "masked",
        outcome.output.as_str(),
        "/proc/keys=0\n/proc/interrupts=0\n/proc/timer_list=0\n/proc/kcore=0\n0\n",
    )
}

pub fn default_capabilities_work() -> TestResult {
    let fixture = Fixture::new("caps")?;
    let outcome = sh(
        &fixture,
        "chown 1:1 /tmp && echo chown-ok; grep -E 'CapEff|Seccomp:' /proc/self/status; date -s 2000-01-01; ping -c 1 -W 1 127.0.0.1",
    )?;
    expect_contains("chown", &outcome.output, "chown-ok")?;
    // Docker's 14 default capabilities.
    expect_contains("CapEff", &outcome.output, "00000000a80425fb")?;
    // Filter mode: Docker's profile is loaded.
    expect_contains("seccomp", &outcome.output, "Seccomp:\t2\n")?;
    expect_contains(
        "date -s",
        &outcome.output,
        "can't set date: Operation not permitted",
    )?;
    // ping opens a raw socket (CAP_NET_RAW, allowed by the seccomp profile)
    // and gets its answer over the container's own loopback.
    expect_contains("ping", &outcome.output, "1 packets received")
}

/// CAP_MKNOD lets a container create any node (as in Docker), but the device
/// cgroup only lets it open the standard ones.
pub fn device_rules_apply() -> TestResult {
    let fixture = Fixture::new("devices")?;
    let outcome = sh(
        &fixture,
        "mknod /dev/null2 c 1 3 && echo x > /dev/null2 && echo null-ok; \
         mknod /dev/mem2 c 1 1 && echo mknod-ok; head -c 1 /dev/mem2 || echo mem-refused",
    )?;
    expect_contains("null", &outcome.output, "null-ok")?;
    expect_contains("mknod", &outcome.output, "mknod-ok")?;
    expect_contains("mem", &outcome.output, "Operation not permitted")?;
    expect_contains("mem", &outcome.output, "mem-refused")
}

pub fn privileged_can_mount() -> TestResult {
    let fixture = Fixture::new("privileged")?;
    let mut config = fixture.config(&[
        "sh",
        "-c",
        "mount -t tmpfs x /mnt && echo mounted; grep -E 'CapEff|Seccomp:' /proc/self/status; cat /proc/keys | head -c 1 | wc -c",
    ]);
    config.privileged = true;
    let outcome = fixture.run(&config)?;
    expect_contains("mount", &outcome.output, "mounted")?;
    // Everything this test process holds, no more.
    let status = fs::read_to_string("/proc/self/status").map_err(|e| e.to_string())?;
    let own = status
        .lines()
        .find_map(|line| line.strip_prefix("CapPrm:"))
        .unwrap_or_default()
        .trim();
    expect_contains("CapEff", &outcome.output, own)?;
    expect_contains("seccomp", &outcome.output, "Seccomp:\t0\n")?;
    // Nothing is masked.
    expect_contains("/proc/keys", &outcome.output, "\n1\n")
}

pub fn joins_a_network_namespace() -> TestResult {
    let fixture = Fixture::new("netjoin")?;
    let (mut first, _) = fixture.create_as("netjoin-a", &fixture.config(&["sleep", "30"]))?;
    let first_pid = first.pid();
    let mut dirs = first.cgroup_dirs().map_err(|e| e.to_string())?;
    let joined = first.start().map_err(|e| e.to_string()).and_then(|()| {
        let pid = first_pid.ok_or("no pid")?;
        let netns = PathBuf::from(format!("/proc/{pid}/ns/net"));
        let expected = fs::read_link(&netns).map_err(|e| e.to_string())?;
        let mut config = fixture.config(&["readlink", "/proc/self/ns/net"]);
        config.namespaces.net = NamespaceMode::Join(netns);
        let (mut second, output) = fixture.create_as("netjoin-b", &config)?;
        dirs.extend(second.cgroup_dirs().map_err(|e| e.to_string())?);
        let status = second.start().and_then(|()| second.wait());
        second.delete().map_err(|e| e.to_string())?;
        expect_eq("exit", status.map_err(|e| e.to_string())?.code, 0)?;
        let output = fs::read_to_string(output).map_err(|e| e.to_string())?;
        expect_eq("netns", output.trim(), expected.to_string_lossy().as_ref())
    });
    let _ = first.kill(Signal::SIGKILL);
    let waited = first.wait().map_err(|e| e.to_string());
    first.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, first_pid)?;
    joined?;
    expect_eq("first exit", waited?.code, 137)
}

pub fn host_pid_namespace() -> TestResult {
    let fixture = Fixture::new("hostpid")?;
    let mut config = fixture.config(&["sh", "-c", "echo pid=$$; ls /proc | grep -c '^[0-9]'"]);
    config.namespaces.pid = NamespaceMode::Host;
    let outcome = fixture.run(&config)?;
    if outcome.output.contains("pid=1\n") {
        return Err(format!(
            "still in a private pid namespace: {}",
            outcome.output
        ));
    }
    let count: usize = outcome
        .output
        .lines()
        .nth(1)
        .and_then(|l| l.trim().parse().ok())
        .unwrap_or(0);
    if count < 10 {
        return Err(format!("host processes not visible: {}", outcome.output));
    }
    Ok(())
}

/// In its own cgroup namespace a container sees its cgroup as the root.
pub fn cgroup_namespace_hides_the_host_tree() -> TestResult {
    let fixture = Fixture::new("cgroupns")?;
    let outcome = sh(&fixture, "grep memory /proc/self/cgroup")?;
    expect_eq(
        "cgroup",
        outcome.output.trim().rsplit(':').next(),
        Some("/"),
    )
}
