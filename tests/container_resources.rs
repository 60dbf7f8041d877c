//! cgroup limits, namespaces and kernel parameters end to end, as root,
//! through the real binary: `--memory-swap`, `--memory-reservation`,
//! `--cpu-shares`, `--cpu-quota`/`--cpu-period`, `--cpuset-cpus`,
//! `--oom-score-adj`, `--sysctl`, `--group-add`, `--pid host|container:NAME`, `--ipc host`,
//! `--shm-size` and `--domainname` reach the container's cgroup or its
//! processes and show in inspect as Docker shows them; bad values are
//! refused by name with nothing created; Debian's docker client sends
//! them; compose services get them from `stack up` (`pid: service:NAME`
//! too). The host's own sysctls, processes and IPC objects are only
//! read. Each test has its own engine and ends by checking that nothing is
//! left: no mount, cgroup or process of its root.

// Its helpers on `Engine`; its `engine()` is replaced here by one whose
// image has a group file of its own.
#[path = "common/busybox.rs"]
mod busybox;
mod common;
#[path = "common/project.rs"]
mod project;

use common::{is_root, stderr, Engine};
use project::Project;
use std::path::{Path, PathBuf};

/// The image's groups: `staff` shows that names are resolved in it.
const GROUP: &str = "root:x:0:\nstaff:x:50:\n";

fn engine() -> Option<Engine> {
    if !is_root() || !Path::new("/bin/busybox").exists() {
        eprintln!("skipped: needs root and /bin/busybox");
        return None;
    }
    let engine = Engine::new();
    engine.import_busybox(&[("etc/group", GROUP)]);
    Some(engine)
}

/// Whether the host runs cgroup v2 (one unified hierarchy).
fn cgroup_v2() -> bool {
    Path::new("/sys/fs/cgroup/cgroup.controllers").exists()
}

/// A file of container `id`'s cgroup under the engine root `root`, read on
/// the host: `v1` (controller, file) on cgroup v1, `v2` on cgroup v2.
fn cgroup_file(root: &Path, id: &str, v1: (&str, &str), v2: &str) -> String {
    let container = common::cgroup_parent(root).join(id);
    let path: PathBuf = if cgroup_v2() {
        Path::new("/sys/fs/cgroup").join(container).join(v2)
    } else {
        Path::new("/sys/fs/cgroup")
            .join(v1.0)
            .join(container)
            .join(v1.1)
    };
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .trim()
        .to_owned()
}

#[test]
fn limits_reach_the_cgroup_and_show_in_inspect() {
    let Some(engine) = engine() else { return };
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "limited",
        "--memory",
        "64m",
        "--memory-swap",
        "96m",
        "--memory-reservation",
        "32m",
        "--cpu-shares",
        "512",
        "--cpu-quota",
        "50000",
        "--cpu-period",
        "200000",
        "--cpuset-cpus",
        "0",
        "--oom-score-adj",
        "300",
        "busybox",
        "sleep",
        "60",
    ]);
    let ids = engine.ids();
    let id = &ids[0];
    let root = engine.root();
    let cgroup = |v1, v2| cgroup_file(&root, id, v1, v2);
    if cgroup_v2() {
        assert_eq!(cgroup(("", ""), "memory.max"), (64u64 << 20).to_string());
        // v2 counts swap alone: memory plus swap minus memory.
        assert_eq!(
            cgroup(("", ""), "memory.swap.max"),
            (32u64 << 20).to_string()
        );
        assert_eq!(cgroup(("", ""), "memory.low"), (32u64 << 20).to_string());
        assert_eq!(cgroup(("", ""), "cpu.max"), "50000 200000");
        assert_eq!(cgroup(("", ""), "cpu.weight"), "20");
    } else {
        let memory = |file| cgroup(("memory", file), "");
        assert_eq!(memory("memory.limit_in_bytes"), (64u64 << 20).to_string());
        assert_eq!(
            memory("memory.memsw.limit_in_bytes"),
            (96u64 << 20).to_string()
        );
        assert_eq!(
            memory("memory.soft_limit_in_bytes"),
            (32u64 << 20).to_string()
        );
        assert_eq!(cgroup(("cpu", "cpu.cfs_quota_us"), ""), "50000");
        assert_eq!(cgroup(("cpu", "cpu.cfs_period_us"), ""), "200000");
        assert_eq!(cgroup(("cpu", "cpu.shares"), ""), "512");
    }
    assert_eq!(cgroup(("cpuset", "cpuset.cpus"), "cpuset.cpus"), "0");
    assert_eq!(
        engine.ok(&["exec", "limited", "cat", "/proc/1/oom_score_adj"]),
        "300\n"
    );
    let host = &engine.inspect("limited")["HostConfig"];
    assert_eq!(host["Memory"], 64 << 20);
    assert_eq!(host["MemorySwap"], 96 << 20);
    assert_eq!(host["MemoryReservation"], 32 << 20);
    assert_eq!(host["CpuShares"], 512);
    assert_eq!(host["CpuQuota"], 50000);
    assert_eq!(host["CpuPeriod"], 200000);
    assert_eq!(host["CpusetCpus"], "0");
    assert_eq!(host["OomScoreAdj"], 300);
    assert_eq!(host["ShmSize"], 64 << 20);
    assert_eq!(host["IpcMode"], "private");

    // Docker's defaults: memory alone gets as much swap again; -1 is unlimited.
    engine.ok(&[
        "run", "-d", "--name", "twice", "--memory", "64m", "busybox", "sleep", "60",
    ]);
    engine.ok(&[
        "run",
        "-d",
        "--name",
        "unlimited",
        "--memory",
        "64m",
        "--memory-swap",
        "-1",
        "busybox",
        "sleep",
        "60",
    ]);
    assert_eq!(
        engine.inspect("twice")["HostConfig"]["MemorySwap"],
        128 << 20
    );
    assert_eq!(engine.inspect("unlimited")["HostConfig"]["MemorySwap"], -1);
    let id_of = |name| engine.inspect(name)["Id"].as_str().expect("id").to_owned();
    let (twice, unlimited) = (id_of("twice"), id_of("unlimited"));
    if cgroup_v2() {
        assert_eq!(
            cgroup_file(&engine.root(), &twice, ("", ""), "memory.swap.max"),
            (64u64 << 20).to_string()
        );
        assert_eq!(
            cgroup_file(&engine.root(), &unlimited, ("", ""), "memory.swap.max"),
            "max"
        );
    } else {
        let memsw = ("memory", "memory.memsw.limit_in_bytes");
        assert_eq!(
            cgroup_file(&engine.root(), &twice, memsw, ""),
            (128u64 << 20).to_string()
        );
        // The kernel's "no limit" (a page-aligned i64::MAX).
        assert!(cgroup_file(&engine.root(), &unlimited, memsw, "").len() >= 19);
    }
    // Unlimited swap without a memory limit is the default, as with Docker.
    engine.ok(&["run", "--rm", "--memory-swap", "-1", "busybox", "true"]);
    let ids = engine.ids();
    engine.finish(&ids);
}

#[test]
fn sysctls_groups_namespaces_shm_and_domainname_reach_the_container() {
    let Some(engine) = engine() else { return };
    let run = |args: &[&str], script: &str| {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        all.extend(["busybox", "sh", "-c", script]);
        engine.ok(&all)
    };
    assert_eq!(
        run(
            &[
                "--sysctl",
                "net.ipv4.ip_forward=1",
                "--sysctl",
                "kernel.shmmax=1234567"
            ],
            "cat /proc/sys/net/ipv4/ip_forward /proc/sys/kernel/shmmax"
        ),
        "1\n1234567\n"
    );
    assert_eq!(
        run(&["--group-add", "staff", "--group-add", "1234"], "id -G"),
        "0 50 1234\n"
    );
    assert_eq!(
        run(
            &["--domainname", "example.org"],
            "cat /proc/sys/kernel/domainname"
        ),
        "example.org\n"
    );
    let shm_kib = |args: &[&str]| {
        run(args, "df -k /dev/shm | tail -n 1")
            .split_whitespace()
            .nth(1)
            .expect("df size")
            .to_owned()
    };
    assert_eq!(shm_kib(&[]), "65536");
    assert_eq!(shm_kib(&["--shm-size", "16m"]), "16384");
    assert_eq!(
        run(
            &["--ipc", "none"],
            "grep -c ' /dev/shm ' /proc/mounts; true"
        ),
        "0\n"
    );

    // The host's namespaces, only looked at.
    let host_ipc = std::fs::read_link("/proc/self/ns/ipc").unwrap();
    let host_ipc = host_ipc.to_string_lossy();
    assert_eq!(
        run(&["--ipc", "host"], "readlink /proc/self/ns/ipc"),
        format!("{host_ipc}\n")
    );
    assert_ne!(
        run(&[], "readlink /proc/self/ns/ipc"),
        format!("{host_ipc}\n")
    );
    let host_init = std::fs::read_to_string("/proc/1/comm").unwrap();
    assert_eq!(run(&["--pid", "host"], "cat /proc/1/comm"), host_init);
    let host_uts = std::fs::read_link("/proc/self/ns/uts").unwrap();
    assert_eq!(
        run(&["--uts", "host"], "readlink /proc/self/ns/uts"),
        format!("{}\n", host_uts.display())
    );
    let host_cgroupns = std::fs::read_link("/proc/self/ns/cgroup").unwrap();
    assert_eq!(
        run(&["--cgroupns", "host"], "readlink /proc/self/ns/cgroup"),
        format!("{}\n", host_cgroupns.display())
    );
    assert_ne!(
        run(&[], "readlink /proc/self/ns/cgroup"),
        format!("{}\n", host_cgroupns.display())
    );
    engine.refused(
        &["--uts", "host", "--hostname", "web"],
        "Conflicting options: a hostname or domain name and the UTS mode host",
    );
    let seen: usize = run(&["--pid", "host"], "ls -d /proc/[0-9]* | wc -l")
        .trim()
        .parse()
        .unwrap();
    assert!(seen > 3, "--pid host sees {seen} processes");
    // Without it, PID 1 is the container's own command.
    assert_eq!(run(&[], "cat /proc/1/comm; true"), "sh\n");
    engine.finish(&[]);
}

#[test]
fn a_container_joins_the_pid_namespace_of_a_running_one() {
    let Some(engine) = engine() else { return };
    engine.ok(&["run", "-d", "--name", "donor", "busybox", "sleep", "60"]);
    let out = engine.ok(&[
        "run",
        "--rm",
        "--pid",
        "container:donor",
        "busybox",
        "sh",
        "-c",
        "cat /proc/1/comm; true",
    ]);
    assert_eq!(out, "sleep\n");
    engine.ok(&["create", "--name", "idle", "busybox", "true"]);
    let out = engine.stack(&[
        "container",
        "run",
        "--name",
        "joiner",
        "--pid",
        "container:idle",
        "busybox",
        "true",
    ]);
    assert_ne!(out.status.code(), Some(0));
    assert!(
        stderr(&out).contains("cannot join the pid namespace of container")
            && stderr(&out).contains("it is not running"),
        "{}",
        stderr(&out)
    );
    engine.refused(
        &["--pid", "container:nobody"],
        "HostConfig.PidMode \"container:nobody\": No such container: nobody",
    );
    let ids = engine.ids();
    engine.finish(&ids);
}

#[test]
fn bad_values_are_refused_by_name_and_nothing_is_created() {
    let Some(engine) = engine() else { return };
    engine.refused(
        &["--sysctl", "vm.swappiness=10"],
        "sysctl vm.swappiness: not namespaced",
    );
    engine.refused(
        &["--network", "host", "--sysctl", "net.ipv4.ip_forward=1"],
        "sysctl net.ipv4.ip_forward: it belongs to the net namespace",
    );
    engine.refused(
        &["--ipc", "host", "--sysctl", "kernel.shmmax=1"],
        "sysctl kernel.shmmax: it belongs to the ipc namespace",
    );
    engine.refused(
        &["--cpus", "1", "--cpu-quota", "50000"],
        "HostConfig.NanoCpus (--cpus) and HostConfig.CpuQuota cannot both be set",
    );
    engine.refused(
        &["--cpuset-cpus", "0-4095"],
        "HostConfig.CpusetCpus \"0-4095\"",
    );
    engine.refused(
        &["--memory-swap", "1g"],
        "HostConfig.MemorySwap 1073741824: a memory plus swap limit needs a memory limit",
    );
    engine.refused(&["--oom-score-adj", "2000"], "HostConfig.OomScoreAdj 2000");
    engine.refused(&["--cpus", "4096"], "the range of CPUs is from 0.01 to");
    engine.refused(
        &["--ipc", "container:other"],
        "HostConfig.IpcMode \"container:other\" is not supported yet",
    );
    engine.refused(
        &["--sysctl", "kernel.shmmax"],
        "invalid --sysctl \"kernel.shmmax\"",
    );
    assert_eq!(engine.ok(&["ps", "-a", "-q"]), "", "a refused run created");
    engine.finish(&[]);
}

#[test]
fn the_docker_client_sends_limits_namespaces_and_sysctls() {
    let Some(docker) = common::docker_client() else {
        return;
    };
    let Some(engine) = engine() else { return };
    // Starts the daemon (docker cannot).
    engine.ok(&["ps"]);
    let out = engine
        .docker(docker)
        .args([
            "run",
            "--rm",
            "--network",
            "none",
            "--memory",
            "64m",
            "--memory-swap",
            "96m",
            "--cpu-shares",
            "512",
            "--cpuset-cpus",
            "0",
            "--oom-score-adj",
            "100",
            "--sysctl",
            "kernel.shmmax=4096",
            "--group-add",
            "staff",
            "--shm-size",
            "8m",
            "--domainname",
            "example.org",
            "busybox",
            "sh",
            "-c",
            "cat /proc/self/oom_score_adj /proc/sys/kernel/shmmax /proc/sys/kernel/domainname; \
             id -G; df -k /dev/shm | tail -n 1 | awk '{print $2}'",
        ])
        .output()
        .expect("docker");
    assert_eq!(
        common::stdout(&out),
        "100\n4096\nexample.org\n0 50\n8192\n",
        "{}",
        stderr(&out)
    );
    assert_eq!(engine.ok(&["ps", "-a", "-q"]), "");
    engine.finish(&[]);
}

const COMPOSE: &str = "\
name: res
services:
  tuned:
    image: busybox
    network_mode: none
    command: [sleep, '60']
    mem_limit: 64m
    memswap_limit: 96m
    mem_reservation: 32m
    cpu_shares: 512
    cpuset: '0'
    oom_score_adj: 200
    sysctls:
      kernel.shmmax: '1234567'
    group_add: ['1234']
    shm_size: 16m
    domainname: example.org
    pid: host
  app:
    image: busybox
    network_mode: none
    command: [sh, -c, 'while true; do sleep 1; done']
  debug:
    image: busybox
    network_mode: none
    pid: service:app
    uts: host
    cgroup: host
    command: [sleep, '60']
";

#[test]
fn compose_services_get_their_limits_and_namespaces_from_up() {
    let Some(project) = Project::new(COMPOSE) else {
        return;
    };
    project.ok(&["up", "-d"]);
    let out = project.ok(&[
        "exec",
        "-T",
        "tuned",
        "sh",
        "-c",
        "cat /proc/sys/kernel/shmmax /proc/sys/kernel/domainname /proc/self/oom_score_adj; \
         id -G; df -k /dev/shm | tail -n 1 | awk '{print $2}'",
    ]);
    assert_eq!(out, "1234567\nexample.org\n200\n0 1234\n16384\n");
    // Another user of an exec gets the service's groups too, as with Docker.
    assert_eq!(
        project.ok(&["exec", "-T", "-u", "1000:1000", "tuned", "id", "-G"]),
        "1000 1234\n"
    );
    let host_init = std::fs::read_to_string("/proc/1/comm").unwrap();
    assert_eq!(
        project.ok(&["exec", "-T", "tuned", "cat", "/proc/1/comm"]),
        host_init
    );
    // `pid: service:app`: the app's shell is PID 1 of the debug container.
    assert_eq!(
        project.ok(&["exec", "-T", "debug", "cat", "/proc/1/comm"]),
        "sh\n"
    );
    // `uts: host`: the host's name, in /etc/hostname too.
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_eq!(
        project.ok(&[
            "exec",
            "-T",
            "debug",
            "sh",
            "-c",
            "hostname; cat /etc/hostname"
        ]),
        format!("{host_name}{host_name}")
    );
    let debug = &project.inspect("res-debug-1")["HostConfig"];
    assert_eq!(debug["UTSMode"], "host");
    assert_eq!(debug["CgroupnsMode"], "host");
    let host_cgroupns = std::fs::read_link("/proc/self/ns/cgroup").unwrap();
    assert_eq!(
        project.ok(&["exec", "-T", "debug", "readlink", "/proc/self/ns/cgroup"]),
        format!("{}\n", host_cgroupns.display())
    );
    assert_eq!(
        project.inspect("res-tuned-1")["HostConfig"]["CgroupnsMode"],
        "private"
    );
    let inspect = project.inspect("res-tuned-1");
    let id = inspect["Id"].as_str().expect("id").to_owned();
    let host = &inspect["HostConfig"];
    assert_eq!(host["CpuShares"], 512);
    assert_eq!(host["CpusetCpus"], "0");
    assert_eq!(host["MemorySwap"], 96 << 20);
    assert_eq!(host["MemoryReservation"], 32 << 20);
    assert_eq!(host["PidMode"], "host");
    assert_eq!(host["ShmSize"], 16 << 20);
    assert_eq!(inspect["Config"]["Domainname"], "example.org");
    assert_eq!(
        cgroup_file(
            &project.engine.root(),
            &id,
            ("cpuset", "cpuset.cpus"),
            "cpuset.cpus"
        ),
        "0"
    );
    if !cgroup_v2() {
        assert_eq!(
            cgroup_file(&project.engine.root(), &id, ("cpu", "cpu.shares"), ""),
            "512"
        );
        assert_eq!(
            cgroup_file(
                &project.engine.root(),
                &id,
                ("memory", "memory.memsw.limit_in_bytes"),
                ""
            ),
            (96u64 << 20).to_string()
        );
    }
    project.finish();
}
