//! The profile checked rule by rule: per capability group, argument
//! filter and host architecture.

use super::*;
use crate::runtime::defaults::DEFAULT_CAPABILITIES;

fn profile(extra: &[Capability], arch: HostArch) -> LinuxSeccomp {
    let caps: Capabilities = DEFAULT_CAPABILITIES
        .into_iter()
        .chain(extra.iter().copied())
        .collect();
    docker_default(&caps, Platform { arch, x32: true })
}

/// The rules naming `name`, rendered as `action errno [index op value value2]...`.
fn rules_for(seccomp: &LinuxSeccomp, name: &str) -> Vec<String> {
    let syscalls = seccomp.syscalls().clone().unwrap_or_default();
    syscalls
        .iter()
        .filter(|rule| rule.names().iter().any(|n| n == name))
        .map(|rule| {
            let args = rule.args().clone().unwrap_or_default();
            let args = args.iter().map(|arg| {
                format!(
                    " [{} {:?} {:#x} {:?}]",
                    arg.index(),
                    arg.op(),
                    arg.value(),
                    arg.value_two()
                )
            });
            format!(
                "{:?} {:?}{}",
                rule.action(),
                rule.errno_ret(),
                args.collect::<String>()
            )
        })
        .collect()
}

fn allowed(seccomp: &LinuxSeccomp, name: &str) -> bool {
    rules_for(seccomp, name)
        .iter()
        .any(|rule| rule == "ScmpActAllow None")
}

#[test]
fn denies_by_default_with_eperm_on_every_abi_of_the_host() {
    let x86 = profile(&[], HostArch::X86_64);
    assert_eq!(x86.default_action(), LinuxSeccompAction::ScmpActErrno);
    assert_eq!(x86.default_errno_ret(), Some(1));
    assert_eq!(
        x86.architectures().clone().unwrap(),
        [Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
    );
    let arm = profile(&[], HostArch::Aarch64);
    assert_eq!(
        arm.architectures().clone().unwrap(),
        [Arch::ScmpArchAarch64, Arch::ScmpArchArm]
    );
    let no_x32 = Platform {
        arch: HostArch::X86_64,
        x32: false,
    };
    assert_eq!(
        docker_default(&Capabilities::new(), no_x32)
            .architectures()
            .clone()
            .unwrap(),
        [Arch::ScmpArchX86_64, Arch::ScmpArchX86]
    );
}

#[test]
fn ordinary_syscalls_are_allowed_and_privileged_ones_are_not() {
    let seccomp = profile(&[], HostArch::X86_64);
    for name in [
        "read",
        "write",
        "execve",
        "openat",
        "futex",
        "ptrace",
        "arch_prctl",
    ] {
        assert!(allowed(&seccomp, name), "{name} should be allowed");
    }
    for name in [
        "mount",
        "umount2",
        "unshare",
        "setns",
        "reboot",
        "init_module",
        "settimeofday",
        "clock_settime",
        "kexec_load",
        "bpf",
        "perf_event_open",
        "open_by_handle_at",
        "set_tls",
        "iopl",
        "syslog",
        "acct",
    ] {
        assert!(
            rules_for(&seccomp, name).is_empty(),
            "{name} should be denied"
        );
    }
}

#[test]
fn without_sys_admin_clone_may_not_create_namespaces() {
    let seccomp = profile(&[], HostArch::X86_64);
    assert_eq!(
        rules_for(&seccomp, "clone"),
        ["ScmpActAllow None [0 ScmpCmpMaskedEq 0x7e020000 Some(0)]"]
    );
    assert_eq!(rules_for(&seccomp, "clone3"), ["ScmpActErrno Some(38)"]);

    let admin = profile(&[Capability::SysAdmin], HostArch::X86_64);
    assert_eq!(rules_for(&admin, "clone"), ["ScmpActAllow None"]);
    assert_eq!(rules_for(&admin, "clone3"), ["ScmpActAllow None"]);
    for name in ["mount", "umount2", "unshare", "setns", "sethostname"] {
        assert!(allowed(&admin, name), "{name} should be allowed");
    }
}

#[test]
fn capability_groups_follow_the_capabilities() {
    let cases = [
        (Capability::SysPtrace, "kcmp"),
        (Capability::SysTime, "clock_settime"),
        (Capability::SysModule, "finit_module"),
        (Capability::SysBoot, "reboot"),
        (Capability::SysRawio, "iopl"),
        (Capability::SysNice, "mbind"),
        (Capability::SysPacct, "acct"),
        (Capability::SysTtyConfig, "vhangup"),
        (Capability::Syslog, "syslog"),
        (Capability::Bpf, "bpf"),
        (Capability::Perfmon, "perf_event_open"),
        (Capability::DacReadSearch, "open_by_handle_at"),
    ];
    let base = profile(&[], HostArch::X86_64);
    for (cap, name) in cases {
        assert!(!allowed(&base, name), "{name} without {cap}");
        assert!(
            allowed(&profile(&[cap], HostArch::X86_64), name),
            "{name} with {cap}"
        );
    }
    // chroot is in Docker's default capability set.
    assert!(allowed(&base, "chroot"));
}

#[test]
fn argument_filtered_groups() {
    let seccomp = profile(&[], HostArch::X86_64);
    assert_eq!(
        rules_for(&seccomp, "socket"),
        [
            "ScmpActAllow None [0 ScmpCmpLt 0x26 None]",
            "ScmpActAllow None [0 ScmpCmpEq 0x27 None]",
            "ScmpActAllow None [0 ScmpCmpGt 0x28 None]",
        ]
    );
    assert_eq!(
        rules_for(&seccomp, "personality"),
        [
            "ScmpActAllow None [0 ScmpCmpEq 0x0 None]",
            "ScmpActAllow None [0 ScmpCmpEq 0x8 None]",
            "ScmpActAllow None [0 ScmpCmpEq 0x20000 None]",
            "ScmpActAllow None [0 ScmpCmpEq 0x20008 None]",
            "ScmpActAllow None [0 ScmpCmpEq 0xffffffff None]",
        ]
    );
}

#[test]
fn arch_specific_groups_follow_the_host() {
    let x86 = profile(&[], HostArch::X86_64);
    let arm = profile(&[], HostArch::Aarch64);
    assert!(allowed(&x86, "modify_ldt") && !allowed(&arm, "modify_ldt"));
    assert!(allowed(&arm, "set_tls") && !allowed(&x86, "set_tls"));
}

#[test]
fn the_always_allowed_list_has_no_duplicates_or_gated_calls() {
    let mut names = ALWAYS_ALLOWED.to_vec();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), ALWAYS_ALLOWED.len());
    let gated = DOCKER_DEFAULT
        .iter()
        .filter(|group| !group.requires.is_empty() || !group.unless.is_empty());
    for group in gated {
        for name in group.names {
            assert!(!ALWAYS_ALLOWED.contains(name), "{name} is gated");
        }
    }
}
