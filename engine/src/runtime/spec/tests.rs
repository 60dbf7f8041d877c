//! Spec building compared as text: a rendering of the parts that decide
//! isolation, so a change to a default shows up as a readable diff.

use std::path::PathBuf;

use oci_spec::runtime::{LinuxSeccompAction, Spec};

use super::build;
use crate::runtime::config::{
    ContainerConfig, MountKind, MountSpec, NamespaceMode, Seccomp, Ulimit,
};
use crate::runtime::error::ConfigError;
use crate::runtime::seccomp::{HostArch, Platform};

fn build_x86(config: &ContainerConfig) -> Result<Spec, crate::runtime::ConfigErrors> {
    let platform = Platform {
        arch: HostArch::X86_64,
        x32: true,
    };
    build(config, platform)
}

fn config() -> ContainerConfig {
    ContainerConfig {
        rootfs: PathBuf::from("/var/stack/c1/rootfs"),
        args: vec!["sh".to_owned(), "-c".to_owned(), "true".to_owned()],
        env: vec!["A=1".to_owned()],
        hostname: Some("c1".to_owned()),
        cgroups_path: Some(PathBuf::from("/stack/c1")),
        ..ContainerConfig::default()
    }
}

fn join<T: ToString>(items: impl IntoIterator<Item = T>) -> String {
    items
        .into_iter()
        .map(|item| item.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn opt<T: std::fmt::Debug>(value: Option<T>) -> String {
    value.map_or("-".to_owned(), |v| format!("{v:?}"))
}

/// The isolation-relevant parts of a spec, one fact per line.
fn render(spec: &Spec) -> String {
    let mut out = Vec::new();
    let root = spec.root().as_ref().unwrap();
    out.push(format!(
        "root {} readonly={}",
        root.path().display(),
        opt(root.readonly())
    ));
    out.push(format!(
        "hostname {} domainname {}",
        opt(spec.hostname().as_ref()),
        opt(spec.domainname().as_ref())
    ));
    let process = spec.process().as_ref().unwrap();
    let user = process.user();
    out.push(format!(
        "user {}:{} groups=[{}] cwd={} tty={} nnp={} oom={}",
        user.uid(),
        user.gid(),
        join(user.additional_gids().clone().unwrap_or_default()),
        process.cwd().display(),
        opt(process.terminal()),
        opt(process.no_new_privileges()),
        opt(process.oom_score_adj()),
    ));
    out.push(format!("args {}", join(process.args().clone().unwrap())));
    out.push(format!("env {}", join(process.env().clone().unwrap())));
    let caps = process.capabilities().as_ref().unwrap();
    let mut bounding: Vec<String> = caps
        .bounding()
        .clone()
        .unwrap()
        .iter()
        .map(|c| format!("CAP_{c}"))
        .collect();
    bounding.sort();
    assert_eq!(caps.bounding(), caps.effective());
    assert_eq!(caps.bounding(), caps.permitted());
    assert_eq!(caps.inheritable().as_ref().map(|c| c.len()), Some(0));
    out.push(format!("caps {}", bounding.join(" ")));
    for rlimit in process.rlimits().clone().unwrap_or_default() {
        out.push(format!(
            "rlimit {:?} {}:{}",
            rlimit.typ(),
            rlimit.soft(),
            rlimit.hard()
        ));
    }
    for mount in spec.mounts().clone().unwrap() {
        out.push(format!(
            "mount {} {} {} {}",
            mount.destination().display(),
            mount.typ().clone().unwrap(),
            mount.source().clone().unwrap().display(),
            mount.options().clone().unwrap().join(",")
        ));
    }
    let linux = spec.linux().as_ref().unwrap();
    let namespaces = linux
        .namespaces()
        .clone()
        .unwrap()
        .into_iter()
        .map(|ns| match ns.path() {
            Some(path) => format!("{}={}", ns.typ(), path.display()),
            None => ns.typ().to_string(),
        });
    out.push(format!("namespaces {}", join(namespaces)));
    out.push(format!(
        "masked {}",
        join(linux.masked_paths().clone().unwrap())
    ));
    out.push(format!(
        "readonly {}",
        join(linux.readonly_paths().clone().unwrap())
    ));
    let devices = linux.devices().clone().unwrap().into_iter().map(|d| {
        format!(
            "{}:{}:{}:{:o}",
            d.path().display(),
            d.major(),
            d.minor(),
            d.file_mode().unwrap()
        )
    });
    out.push(format!("devices {}", join(devices)));
    let resources = linux.resources().as_ref().unwrap();
    for rule in resources.devices().clone().unwrap() {
        let number = |n: Option<i64>| n.map_or("*".to_owned(), |n| n.to_string());
        out.push(format!(
            "device-rule {} {} {}:{} {}",
            if rule.allow() { "allow" } else { "deny" },
            rule.typ().unwrap().as_str(),
            number(rule.major()),
            number(rule.minor()),
            rule.access().clone().unwrap()
        ));
    }
    if let Some(memory) = resources.memory() {
        out.push(format!(
            "memory limit={} swap={} reservation={} swappiness={}",
            opt(memory.limit()),
            opt(memory.swap()),
            opt(memory.reservation()),
            opt(memory.swappiness())
        ));
    }
    if let Some(cpu) = resources.cpu() {
        out.push(format!(
            "cpu quota={} period={} shares={} cpus={} mems={}",
            opt(cpu.quota()),
            opt(cpu.period()),
            opt(cpu.shares()),
            opt(cpu.cpus().as_ref()),
            opt(cpu.mems().as_ref())
        ));
    }
    if let Some(pids) = resources.pids() {
        out.push(format!("pids limit={}", pids.limit()));
    }
    out.push(format!(
        "cgroups {}",
        opt(linux
            .cgroups_path()
            .as_ref()
            .map(|p| p.display().to_string()))
    ));
    let mut sysctls: Vec<_> = linux.sysctl().clone().unwrap().into_iter().collect();
    sysctls.sort();
    for (name, value) in sysctls {
        out.push(format!("sysctl {name}={value}"));
    }
    match linux.seccomp() {
        Some(seccomp) => {
            let mount_allowed = seccomp.syscalls().clone().unwrap().iter().any(|s| {
                s.action() == LinuxSeccompAction::ScmpActAllow
                    && s.names().iter().any(|n| n == "mount")
            });
            out.push(format!(
                "seccomp default={:?} errno={} mount-allowed={mount_allowed}",
                seccomp.default_action(),
                opt(seccomp.default_errno_ret())
            ));
        }
        None => out.push("seccomp none".to_owned()),
    }
    out.join("\n") + "\n"
}

fn lines_with(rendered: &str, prefix: &str) -> Vec<String> {
    rendered
        .lines()
        .filter(|line| line.starts_with(prefix))
        .map(String::from)
        .collect()
}

const DEFAULT_RENDERING: &str = "\
root /var/stack/c1/rootfs readonly=false
hostname \"c1\" domainname -
user 0:0 groups=[] cwd=/ tty=false nnp=- oom=-
args sh -c true
env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin A=1
caps CAP_AUDIT_WRITE CAP_CHOWN CAP_DAC_OVERRIDE CAP_FOWNER CAP_FSETID CAP_KILL CAP_MKNOD CAP_NET_BIND_SERVICE CAP_NET_RAW CAP_SETFCAP CAP_SETGID CAP_SETPCAP CAP_SETUID CAP_SYS_CHROOT
mount /proc proc proc nosuid,noexec,nodev
mount /dev tmpfs tmpfs nosuid,strictatime,mode=755,size=65536k
mount /dev/pts devpts devpts nosuid,noexec,newinstance,ptmxmode=0666,mode=0620,gid=5
mount /sys sysfs sysfs nosuid,noexec,nodev,ro
mount /sys/fs/cgroup cgroup cgroup nosuid,noexec,nodev,relatime,ro
mount /dev/mqueue mqueue mqueue nosuid,noexec,nodev
mount /dev/shm tmpfs shm nosuid,noexec,nodev,mode=1777,size=67108864
namespaces pid net ipc uts cgroup mnt
masked /proc/acpi /proc/asound /proc/interrupts /proc/kcore /proc/keys /proc/latency_stats /proc/sched_debug /proc/scsi /proc/timer_list /proc/timer_stats /sys/devices/virtual/powercap /sys/firmware
readonly /proc/bus /proc/fs /proc/irq /proc/sys /proc/sysrq-trigger
devices /dev/null:1:3:666 /dev/zero:1:5:666 /dev/full:1:7:666 /dev/random:1:8:666 /dev/urandom:1:9:666 /dev/tty:5:0:666
device-rule deny a *:* rwm
device-rule allow c 1:5 rwm
device-rule allow c 1:3 rwm
device-rule allow c 1:9 rwm
device-rule allow c 1:8 rwm
device-rule allow c 5:0 rwm
device-rule allow c 5:1 rwm
device-rule deny c 10:229 rwm
device-rule allow c *:* m
device-rule allow b *:* m
device-rule allow c 1:7 rwm
device-rule allow c 136:* rwm
device-rule allow c 5:2 rwm
device-rule allow c 10:200 rwm
cgroups \"/stack/c1\"
seccomp default=ScmpActErrno errno=1 mount-allowed=false
";

#[test]
fn default_config_gets_dockers_defaults() {
    let spec = build_x86(&config()).unwrap();
    assert_eq!(render(&spec), DEFAULT_RENDERING);
}

#[test]
fn privileged_turns_the_confinement_off() {
    let spec = build_x86(&ContainerConfig {
        privileged: true,
        cap_drop: vec!["ALL".to_owned()],
        ..config()
    })
    .unwrap();
    let rendered = render(&spec);
    // Every capability (cap_drop is ignored, as Docker does).
    assert_eq!(lines_with(&rendered, "caps")[0].split(' ').count(), 1 + 41);
    assert_eq!(lines_with(&rendered, "masked"), ["masked "]);
    assert_eq!(lines_with(&rendered, "readonly"), ["readonly "]);
    assert_eq!(
        lines_with(&rendered, "device-rule"),
        ["device-rule allow a *:* rwm"]
    );
    assert_eq!(lines_with(&rendered, "seccomp"), ["seccomp none"]);
    assert_eq!(
        lines_with(&rendered, "mount /sys"),
        [
            "mount /sys sysfs sysfs nosuid,noexec,nodev",
            "mount /sys/fs/cgroup cgroup cgroup nosuid,noexec,nodev,relatime",
        ]
    );
}

fn caps_of(cap_add: &[&str], cap_drop: &[&str]) -> Result<String, Vec<ConfigError>> {
    let to_strings = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
    build_x86(&ContainerConfig {
        cap_add: to_strings(cap_add),
        cap_drop: to_strings(cap_drop),
        ..config()
    })
    .map(|spec| lines_with(&render(&spec), "caps")[0].clone())
    .map_err(|errors| errors.0)
}

#[test]
fn cap_add_and_cap_drop_follow_dockers_rules() {
    let tweaked = caps_of(&["net_admin", "CAP_SYS_PTRACE"], &["CHOWN", "cap_mknod"]).unwrap();
    assert!(tweaked.contains("CAP_NET_ADMIN") && tweaked.contains("CAP_SYS_PTRACE"));
    assert!(!tweaked.contains("CAP_CHOWN") && !tweaked.contains("CAP_MKNOD"));
    assert!(tweaked.contains("CAP_KILL"));

    assert_eq!(
        caps_of(&["NET_BIND_SERVICE"], &["ALL"]).unwrap(),
        "caps CAP_NET_BIND_SERVICE"
    );
    let all_but_one = caps_of(&["ALL"], &["SYS_ADMIN"]).unwrap();
    assert_eq!(all_but_one.split(' ').count(), 1 + 40);
    assert!(!all_but_one.contains("CAP_SYS_ADMIN"));

    assert_eq!(
        caps_of(&["NET_WIZARD"], &["BOGUS"]).unwrap_err(),
        [
            ConfigError::UnknownCapability("NET_WIZARD".to_owned()),
            ConfigError::UnknownCapability("BOGUS".to_owned()),
        ]
    );
}

#[test]
fn cap_sys_admin_opens_the_mount_syscalls() {
    let spec = build_x86(&ContainerConfig {
        cap_add: vec!["SYS_ADMIN".to_owned()],
        ..config()
    })
    .unwrap();
    assert_eq!(
        lines_with(&render(&spec), "seccomp"),
        ["seccomp default=ScmpActErrno errno=1 mount-allowed=true"]
    );
}

#[test]
fn seccomp_option_chooses_the_profile_and_privileged_wins() {
    let custom = Box::new(
        crate::runtime::seccomp::Profile::from_json(
            r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount"],"action":"SCMP_ACT_ERRNO"}]}"#,
        )
        .unwrap(),
    );
    let seccomp_of = |seccomp: Seccomp, privileged: bool| {
        let spec = build_x86(&ContainerConfig {
            seccomp,
            privileged,
            ..config()
        })
        .unwrap();
        lines_with(&render(&spec), "seccomp")
    };
    assert_eq!(seccomp_of(Seccomp::Unconfined, false), ["seccomp none"]);
    assert_eq!(
        seccomp_of(Seccomp::Profile(custom.clone()), false),
        ["seccomp default=ScmpActAllow errno=- mount-allowed=false"]
    );
    assert_eq!(seccomp_of(Seccomp::Profile(custom), true), ["seccomp none"]);
}

#[test]
fn only_namespaced_sysctls_are_accepted() {
    let mut ok = config();
    for (name, value) in [
        ("net.ipv4.ip_forward", "1"),
        ("kernel.shmmax", "1000"),
        ("fs.mqueue.msg_max", "20"),
    ] {
        ok.sysctls.insert(name.to_owned(), value.to_owned());
    }
    let rendered = render(&build_x86(&ok).unwrap());
    assert_eq!(
        lines_with(&rendered, "sysctl"),
        [
            "sysctl fs.mqueue.msg_max=20",
            "sysctl kernel.shmmax=1000",
            "sysctl net.ipv4.ip_forward=1"
        ]
    );

    let mut bad = config();
    bad.namespaces.net = NamespaceMode::Host;
    bad.sysctls
        .insert("net.ipv4.ip_forward".to_owned(), "1".to_owned());
    bad.sysctls
        .insert("vm.swappiness".to_owned(), "10".to_owned());
    bad.sysctls
        .insert("kernel.hostname".to_owned(), "x".to_owned());
    assert_eq!(
        build_x86(&bad).unwrap_err().0,
        [
            ConfigError::SysctlNotNamespaced("kernel.hostname".to_owned()),
            ConfigError::SysctlHostNamespace {
                name: "net.ipv4.ip_forward".to_owned(),
                namespace: "net"
            },
            ConfigError::SysctlNotNamespaced("vm.swappiness".to_owned()),
        ]
    );
}

#[test]
fn ulimits_map_to_rlimits() {
    let ulimit = |name: &str, soft, hard| Ulimit {
        name: name.to_owned(),
        soft,
        hard,
    };
    let spec = build_x86(&ContainerConfig {
        ulimits: vec![ulimit("nofile", 1024, 4096), ulimit("nproc", 100, 100)],
        ..config()
    })
    .unwrap();
    assert_eq!(
        lines_with(&render(&spec), "rlimit"),
        [
            "rlimit RlimitNofile 1024:4096",
            "rlimit RlimitNproc 100:100"
        ]
    );
    let errors = build_x86(&ContainerConfig {
        ulimits: vec![ulimit("files", 1, 1), ulimit("core", 10, 5)],
        ..config()
    })
    .unwrap_err();
    assert_eq!(
        errors.0,
        [
            ConfigError::UnknownUlimit("files".to_owned()),
            ConfigError::UlimitSoftAboveHard {
                name: "core".to_owned(),
                soft: 10,
                hard: 5
            },
        ]
    );
}

#[test]
fn host_and_joined_namespaces() {
    let mut shared = config();
    shared.hostname = None;
    shared.namespaces.pid = NamespaceMode::Host;
    shared.namespaces.ipc = NamespaceMode::Host;
    shared.namespaces.uts = NamespaceMode::Host;
    shared.namespaces.net = NamespaceMode::Join(PathBuf::from("/proc/42/ns/net"));
    shared.namespaces.cgroup = NamespaceMode::Host;
    let rendered = render(&build_x86(&shared).unwrap());
    assert_eq!(
        lines_with(&rendered, "namespaces"),
        ["namespaces net=/proc/42/ns/net mnt"]
    );
    assert_eq!(
        lines_with(&rendered, "mount /dev/shm"),
        ["mount /dev/shm bind /dev/shm rbind,nosuid,noexec,nodev"]
    );

    shared.hostname = Some("web".to_owned());
    shared.domainname = Some("example.org".to_owned());
    assert_eq!(
        build_x86(&shared).unwrap_err().0,
        [
            ConfigError::HostnameWithHostUts("web".to_owned()),
            ConfigError::DomainnameWithHostUts("example.org".to_owned())
        ]
    );
}

#[test]
fn user_mounts_follow_the_standard_ones_and_replace_them() {
    let spec = build_x86(&ContainerConfig {
        read_only_rootfs: true,
        mounts: vec![
            MountSpec {
                target: PathBuf::from("/data"),
                kind: MountKind::Volume {
                    source: PathBuf::from("/var/stack/volumes/db/_data"),
                },
                read_only: false,
            },
            MountSpec {
                target: PathBuf::from("/etc/app.conf"),
                kind: MountKind::Bind {
                    source: PathBuf::from("/srv/app.conf"),
                },
                read_only: true,
            },
            MountSpec {
                target: PathBuf::from("/dev/shm"),
                kind: MountKind::Tmpfs {
                    size: Some(1 << 20),
                    mode: Some(0o1777),
                },
                read_only: false,
            },
        ],
        ..config()
    })
    .unwrap();
    let rendered = render(&spec);
    assert_eq!(
        lines_with(&rendered, "root"),
        ["root /var/stack/c1/rootfs readonly=true"]
    );
    let mounts = lines_with(&rendered, "mount");
    assert_eq!(mounts.len(), 6 + 3);
    assert_eq!(
        mounts[6..],
        [
            "mount /data bind /var/stack/volumes/db/_data rbind,rprivate",
            "mount /etc/app.conf bind /srv/app.conf rbind,rprivate,ro",
            "mount /dev/shm tmpfs tmpfs nosuid,nodev,noexec,size=1048576,mode=1777",
        ]
    );
}

#[test]
fn resources_follow_dockers_units_and_defaults() {
    let mut limited = config();
    limited.resources.memory = Some(64 << 20);
    limited.resources.cpu_quota = Some(150_000);
    limited.resources.cpu_period = Some(100_000);
    limited.resources.cpu_shares = Some(512);
    limited.resources.cpuset_cpus = Some("0-1".to_owned());
    limited.resources.pids_limit = Some(100);
    let rendered = render(&build_x86(&limited).unwrap());
    assert_eq!(
        lines_with(&rendered, "memory"),
        ["memory limit=67108864 swap=134217728 reservation=- swappiness=-"]
    );
    assert_eq!(
        lines_with(&rendered, "cpu"),
        ["cpu quota=150000 period=100000 shares=512 cpus=\"0-1\" mems=-"]
    );
    assert_eq!(lines_with(&rendered, "pids"), ["pids limit=100"]);

    limited.resources.memory_swap = Some(-1);
    limited.resources.memory_reservation = Some(32 << 20);
    limited.resources.memory_swappiness = Some(10);
    limited.resources.pids_limit = Some(0);
    let rendered = render(&build_x86(&limited).unwrap());
    assert_eq!(
        lines_with(&rendered, "memory"),
        ["memory limit=67108864 swap=-1 reservation=33554432 swappiness=10"]
    );
    assert!(lines_with(&rendered, "pids").is_empty());

    limited.resources.memory_swap = Some(1 << 20);
    limited.resources.cpu_quota = Some(10);
    limited.resources.cpu_period = Some(5_000_000);
    assert_eq!(
        build_x86(&limited).unwrap_err().0,
        [
            ConfigError::SwapBelowMemory {
                memory: 64 << 20,
                swap: 1 << 20
            },
            ConfigError::CpuQuotaTooSmall(10),
            ConfigError::CpuPeriodOutOfRange(5_000_000),
        ]
    );
}

#[test]
fn the_swap_limit_can_be_dropped() {
    let mut spec = build_x86(&ContainerConfig {
        resources: crate::runtime::Resources {
            memory: Some(1 << 20),
            ..Default::default()
        },
        ..config()
    })
    .unwrap();
    super::drop_swap_limit(&mut spec);
    assert_eq!(
        lines_with(&render(&spec), "memory"),
        ["memory limit=1048576 swap=- reservation=- swappiness=-"]
    );
}

#[test]
fn process_fields_are_carried_over() {
    let mut custom = config();
    custom.env = vec!["PATH=/app/bin".to_owned()];
    custom.cwd = PathBuf::from("/app");
    custom.user.uid = 1000;
    custom.user.gid = 1000;
    custom.user.additional_gids = vec![10, 20];
    custom.tty = true;
    custom.no_new_privileges = true;
    custom.oom_score_adj = Some(500);
    custom.domainname = Some("example.org".to_owned());
    custom.shm_size = Some(1 << 20);
    let rendered = render(&build_x86(&custom).unwrap());
    assert_eq!(
        lines_with(&rendered, "hostname"),
        ["hostname \"c1\" domainname \"example.org\""]
    );
    assert_eq!(
        lines_with(&rendered, "mount /dev/shm"),
        ["mount /dev/shm tmpfs shm nosuid,noexec,nodev,mode=1777,size=1048576"]
    );
    custom.no_shm = true;
    let rendered = render(&build_x86(&custom).unwrap());
    assert!(lines_with(&rendered, "mount /dev/shm").is_empty());
    assert_eq!(
        lines_with(&rendered, "user"),
        ["user 1000:1000 groups=[10 20] cwd=/app tty=true nnp=true oom=500"]
    );
    assert_eq!(lines_with(&rendered, "env"), ["env PATH=/app/bin"]);
}

#[test]
fn every_problem_is_reported_at_once() {
    let broken = ContainerConfig {
        rootfs: PathBuf::from("rootfs"),
        args: Vec::new(),
        cwd: PathBuf::from("app"),
        mounts: vec![MountSpec {
            target: PathBuf::from("data"),
            kind: MountKind::Bind {
                source: PathBuf::from("./data"),
            },
            read_only: false,
        }],
        ..ContainerConfig::default()
    };
    let errors = build_x86(&broken).unwrap_err();
    assert_eq!(
        errors.0,
        [
            ConfigError::RelativeRootfs(PathBuf::from("rootfs")),
            ConfigError::NoCommand,
            ConfigError::RelativeCwd(PathBuf::from("app")),
            ConfigError::RelativeMountTarget(PathBuf::from("data")),
            ConfigError::RelativeMountSource {
                target: PathBuf::from("data"),
                host_path: PathBuf::from("./data"),
            },
        ]
    );
    assert!(errors
        .to_string()
        .starts_with("rootfs \"rootfs\": must be an absolute path; args: "));
}

#[test]
fn capability_masks_follow_kernel_numbering() {
    use oci_spec::runtime::Capability;
    // Docker's default set, as /proc/<pid>/status shows it.
    let defaults = super::capabilities_from_mask(0xa80425fb);
    assert_eq!(defaults.len(), 14);
    assert!(defaults.contains(&Capability::AuditWrite) && defaults.contains(&Capability::Setfcap));
    // A root without CAP_SYS_RESOURCE (bit 24).
    let confined = super::capabilities_from_mask(0x1fffeffffff);
    assert_eq!(confined.len(), 40);
    assert!(!confined.contains(&Capability::SysResource));
    assert!(confined.contains(&Capability::CheckpointRestore));
}

#[test]
fn privileged_gets_only_what_the_engine_holds() {
    use oci_spec::runtime::Capability;
    let mut spec = build_x86(&ContainerConfig {
        privileged: true,
        ..config()
    })
    .unwrap();
    let available = super::capabilities_from_mask(0x1fffeffffff);
    super::restrict_capabilities(&mut spec, &available);
    let caps = lines_with(&render(&spec), "caps")[0].clone();
    assert_eq!(caps.split(' ').count(), 1 + 40);
    assert!(!caps.contains(&format!("CAP_{}", Capability::SysResource)));
}
