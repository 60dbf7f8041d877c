//! Docker's default seccomp profile, as our own data, and its conversion into
//! the OCI form for a given capability set and host architecture.
//!
//! The profile denies every system call with `EPERM` except those listed.
//! Some groups are allowed only when the container holds a capability (the
//! `mount` family with `CAP_SYS_ADMIN`, `ptrace` with `CAP_SYS_PTRACE`...),
//! and without `CAP_SYS_ADMIN`, `clone` may not create namespaces while
//! `clone3` fails with `ENOSYS` (so libc falls back to `clone`, whose flags
//! seccomp can inspect). As in current Docker, `io_uring` is not allowed and
//! neither are `AF_ALG` and `AF_VSOCK` sockets. Docker's gate on kernel 4.8
//! for `ptrace` is always met by the kernels this engine runs on, so it is
//! not modelled.

use oci_spec::runtime::{
    Arch, Capabilities, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompArg,
    LinuxSeccompArgBuilder, LinuxSeccompOperator, LinuxSyscall,
};

/// The architecture family of the host, which decides the seccomp
/// architectures listed and the arch-specific groups.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HostArch {
    /// x86_64, with its x86 and x32 compatibility ABIs.
    X86_64,
    /// aarch64, with its 32-bit arm compatibility ABI.
    Aarch64,
    /// Anything else: only the native ABI is listed.
    Other,
}

/// The host as the profile sees it: its architecture family, and whether
/// its kernel runs x32 programs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Platform {
    /// The architecture family.
    pub arch: HostArch,
    /// The kernel accepts x32 system calls (`CONFIG_X86_X32_ABI`, on by
    /// default only on some distributions).
    pub x32: bool,
}

impl Platform {
    /// The platform this process runs on.
    pub fn detect() -> Self {
        if cfg!(target_arch = "x86_64") {
            Platform {
                arch: HostArch::X86_64,
                x32: kernel_runs_x32(),
            }
        } else if cfg!(target_arch = "aarch64") {
            Platform {
                arch: HostArch::Aarch64,
                x32: false,
            }
        } else {
            Platform {
                arch: HostArch::Other,
                x32: false,
            }
        }
    }

    /// The ABIs the filter covers. Like Docker: the native one and its
    /// compatibility ABIs. x32 only where the kernel runs it: elsewhere an
    /// x32 system call fails anyway, and covering it costs libseccomp more
    /// than the whole rest of container creation (≈ 20 ms).
    fn seccomp_arches(self) -> Vec<Arch> {
        match self.arch {
            HostArch::X86_64 if self.x32 => {
                vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86, Arch::ScmpArchX32]
            }
            HostArch::X86_64 => vec![Arch::ScmpArchX86_64, Arch::ScmpArchX86],
            HostArch::Aarch64 => vec![Arch::ScmpArchAarch64, Arch::ScmpArchArm],
            HostArch::Other => vec![Arch::ScmpArchNative],
        }
    }
}

/// Asks the kernel for `getpid` through the x32 ABI: a kernel without x32
/// support answers `ENOSYS`.
#[cfg(target_arch = "x86_64")]
fn kernel_runs_x32() -> bool {
    const X32_SYSCALL_BIT: nix::libc::c_long = 0x4000_0000;
    // SAFETY: getpid takes no arguments and has no side effects, whichever
    // ABI serves it.
    let result = unsafe { nix::libc::syscall(X32_SYSCALL_BIT | nix::libc::SYS_getpid) };
    result >= 0
}

#[cfg(not(target_arch = "x86_64"))]
fn kernel_runs_x32() -> bool {
    false
}

/// `EPERM`: what a forbidden system call returns.
const EPERM: u32 = 1;
/// `ENOSYS`: what `clone3` returns without `CAP_SYS_ADMIN`.
const ENOSYS: u32 = 38;

/// The namespace flags of `clone(2)`: `CLONE_NEWNS | CLONE_NEWCGROUP |
/// CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET`.
const CLONE_NAMESPACE_FLAGS: u64 = 0x7E02_0000;

/// What a matching rule does.
#[derive(Clone, Copy)]
enum Action {
    Allow,
    Errno(u32),
}

/// A condition on one system call argument.
#[derive(Clone, Copy)]
enum ArgCheck {
    /// `arg == value`.
    Equal(usize, u64),
    /// `arg < value`.
    Less(usize, u64),
    /// `arg > value`.
    Greater(usize, u64),
    /// `arg & mask == 0`.
    MaskedZero(usize, u64),
}

/// One group of system calls with a common action and common conditions.
struct Group {
    names: &'static [&'static str],
    action: Action,
    /// All must hold.
    args: &'static [ArgCheck],
    /// The group applies only if the container holds all of these.
    requires: &'static [Capability],
    /// The group is skipped if the container holds any of these.
    unless: &'static [Capability],
    /// The group applies only on these hosts; empty means every host.
    arches: &'static [HostArch],
}

const fn allow(names: &'static [&'static str]) -> Group {
    Group {
        names,
        action: Action::Allow,
        args: &[],
        requires: &[],
        unless: &[],
        arches: &[],
    }
}

const fn allow_with(names: &'static [&'static str], requires: &'static [Capability]) -> Group {
    Group {
        requires,
        ..allow(names)
    }
}

const fn allow_on(names: &'static [&'static str], arches: &'static [HostArch]) -> Group {
    Group {
        arches,
        ..allow(names)
    }
}

const fn allow_if(names: &'static [&'static str], args: &'static [ArgCheck]) -> Group {
    Group {
        args,
        ..allow(names)
    }
}

/// System calls every container may make.
#[rustfmt::skip]
const ALWAYS_ALLOWED: &[&str] = &[
    "accept", "accept4", "access", "adjtimex", "alarm", "bind", "brk", "cachestat", "capget",
    "capset", "chdir", "chmod", "chown", "chown32", "clock_adjtime", "clock_adjtime64",
    "clock_getres", "clock_getres_time64", "clock_gettime", "clock_gettime64", "clock_nanosleep",
    "clock_nanosleep_time64", "close", "close_range", "connect", "copy_file_range", "creat",
    "dup", "dup2", "dup3", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old",
    "epoll_pwait", "epoll_pwait2", "epoll_wait", "epoll_wait_old", "eventfd", "eventfd2",
    "execve", "execveat", "exit", "exit_group", "faccessat", "faccessat2", "fadvise64",
    "fadvise64_64", "fallocate", "fanotify_mark", "fchdir", "fchmod", "fchmodat", "fchmodat2",
    "fchown", "fchown32", "fchownat", "fcntl", "fcntl64", "fdatasync", "fgetxattr", "flistxattr",
    "flock", "fork", "fremovexattr", "fsetxattr", "fstat", "fstat64", "fstatat64", "fstatfs",
    "fstatfs64", "fsync", "ftruncate", "ftruncate64", "futex", "futex_requeue", "futex_time64",
    "futex_wait", "futex_waitv", "futex_wake", "futimesat", "getcpu", "getcwd", "getdents",
    "getdents64", "getegid", "getegid32", "geteuid", "geteuid32", "getgid", "getgid32",
    "getgroups", "getgroups32", "getitimer", "getpeername", "getpgid", "getpgrp", "getpid",
    "getppid", "getpriority", "getrandom", "getresgid", "getresgid32", "getresuid", "getresuid32",
    "getrlimit", "get_robust_list", "getrusage", "getsid", "getsockname", "getsockopt",
    "get_thread_area", "gettid", "gettimeofday", "getuid", "getuid32", "getxattr", "getxattrat",
    "inotify_add_watch", "inotify_init", "inotify_init1", "inotify_rm_watch", "io_cancel",
    "ioctl", "io_destroy", "io_getevents", "io_pgetevents", "io_pgetevents_time64", "ioprio_get",
    "ioprio_set", "io_setup", "io_submit", "ipc", "kill", "landlock_add_rule",
    "landlock_create_ruleset", "landlock_restrict_self", "lchown", "lchown32", "lgetxattr",
    "link", "linkat", "listen", "listmount", "listxattr", "listxattrat", "llistxattr", "_llseek",
    "lremovexattr", "lseek", "lsetxattr", "lstat", "lstat64", "madvise", "map_shadow_stack",
    "membarrier", "memfd_create", "memfd_secret", "mincore", "mkdir", "mkdirat", "mknod",
    "mknodat", "mlock", "mlock2", "mlockall", "mmap", "mmap2", "mprotect", "mq_getsetattr",
    "mq_notify", "mq_open", "mq_timedreceive", "mq_timedreceive_time64", "mq_timedsend",
    "mq_timedsend_time64", "mq_unlink", "mremap", "mseal", "msgctl", "msgget", "msgrcv", "msgsnd",
    "msync", "munlock", "munlockall", "munmap", "name_to_handle_at", "nanosleep", "newfstatat",
    "_newselect", "open", "openat", "openat2", "pause", "pidfd_open", "pidfd_send_signal", "pipe",
    "pipe2", "pkey_alloc", "pkey_free", "pkey_mprotect", "poll", "ppoll", "ppoll_time64", "prctl",
    "pread64", "preadv", "preadv2", "prlimit64", "process_mrelease", "pselect6",
    "pselect6_time64", "pwrite64", "pwritev", "pwritev2", "read", "readahead", "readlink",
    "readlinkat", "readv", "recv", "recvfrom", "recvmmsg", "recvmmsg_time64", "recvmsg",
    "remap_file_pages", "removexattr", "removexattrat", "rename", "renameat", "renameat2",
    "restart_syscall", "riscv_hwprobe", "rmdir", "rseq", "rt_sigaction", "rt_sigpending",
    "rt_sigprocmask", "rt_sigqueueinfo", "rt_sigreturn", "rt_sigsuspend", "rt_sigtimedwait",
    "rt_sigtimedwait_time64", "rt_tgsigqueueinfo", "sched_getaffinity", "sched_getattr",
    "sched_getparam", "sched_get_priority_max", "sched_get_priority_min", "sched_getscheduler",
    "sched_rr_get_interval", "sched_rr_get_interval_time64", "sched_setaffinity", "sched_setattr",
    "sched_setparam", "sched_setscheduler", "sched_yield", "seccomp", "select", "semctl",
    "semget", "semop", "semtimedop", "semtimedop_time64", "send", "sendfile", "sendfile64",
    "sendmmsg", "sendmsg", "sendto", "setfsgid", "setfsgid32", "setfsuid", "setfsuid32", "setgid",
    "setgid32", "setgroups", "setgroups32", "setitimer", "setpgid", "setpriority", "setregid",
    "setregid32", "setresgid", "setresgid32", "setresuid", "setresuid32", "setreuid",
    "setreuid32", "setrlimit", "set_robust_list", "setsid", "setsockopt", "set_thread_area",
    "set_tid_address", "setuid", "setuid32", "setxattr", "setxattrat", "shmat", "shmctl", "shmdt",
    "shmget", "shutdown", "sigaltstack", "signalfd", "signalfd4", "sigprocmask", "sigreturn",
    "socketcall", "socketpair", "splice", "stat", "stat64", "statfs", "statfs64", "statmount",
    "statx", "symlink", "symlinkat", "sync", "sync_file_range", "syncfs", "sysinfo", "tee",
    "tgkill", "time", "timer_create", "timer_delete", "timer_getoverrun", "timer_gettime",
    "timer_gettime64", "timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime",
    "timerfd_gettime64", "timerfd_settime", "timerfd_settime64", "times", "tkill", "truncate",
    "truncate64", "ugetrlimit", "umask", "uname", "unlink", "unlinkat", "uretprobe", "utime",
    "utimensat", "utimensat_time64", "utimes", "vfork", "vmsplice", "wait4", "waitid", "waitpid",
    "write", "writev",
];

/// `AF_ALG` (kernel crypto) and `AF_VSOCK` (host-guest sockets): the socket
/// families Docker's profile refuses.
const AF_ALG: u64 = 38;
const AF_VSOCK: u64 = 40;

/// The `personality(2)` values Docker allows: `PER_LINUX`, `PER_LINUX32`,
/// `UNAME26`, `UNAME26 | PER_LINUX32`, and `0xffffffff` (query only).
const PERSONALITIES: [u64; 5] = [0x0, 0x8, 0x2_0000, 0x2_0008, 0xffff_ffff];

const DOCKER_DEFAULT: &[Group] = &[
    allow(ALWAYS_ALLOWED),
    // ptrace and friends are safe since kernel 4.8 (seccomp is rechecked after a tracer's change).
    allow(&["process_vm_readv", "process_vm_writev", "ptrace"]),
    allow_if(&["socket"], &[ArgCheck::Less(0, AF_ALG)]),
    allow_if(&["socket"], &[ArgCheck::Equal(0, AF_ALG + 1)]),
    allow_if(&["socket"], &[ArgCheck::Greater(0, AF_VSOCK)]),
    allow_if(&["personality"], &[ArgCheck::Equal(0, PERSONALITIES[0])]),
    allow_if(&["personality"], &[ArgCheck::Equal(0, PERSONALITIES[1])]),
    allow_if(&["personality"], &[ArgCheck::Equal(0, PERSONALITIES[2])]),
    allow_if(&["personality"], &[ArgCheck::Equal(0, PERSONALITIES[3])]),
    allow_if(&["personality"], &[ArgCheck::Equal(0, PERSONALITIES[4])]),
    allow_on(
        &[
            "arm_fadvise64_64",
            "arm_sync_file_range",
            "sync_file_range2",
            "breakpoint",
            "cacheflush",
            "set_tls",
        ],
        &[HostArch::Aarch64],
    ),
    allow_on(&["arch_prctl", "modify_ldt"], &[HostArch::X86_64]),
    allow_with(&["open_by_handle_at"], &[Capability::DacReadSearch]),
    allow_with(
        &[
            "bpf",
            "clone",
            "clone3",
            "fanotify_init",
            "fsconfig",
            "fsmount",
            "fsopen",
            "fspick",
            "lookup_dcookie",
            "lsm_get_self_attr",
            "lsm_list_modules",
            "lsm_set_self_attr",
            "mount",
            "mount_setattr",
            "move_mount",
            "open_tree",
            "perf_event_open",
            "quotactl",
            "quotactl_fd",
            "setdomainname",
            "sethostname",
            "setns",
            "syslog",
            "umount",
            "umount2",
            "unshare",
        ],
        &[Capability::SysAdmin],
    ),
    // Without CAP_SYS_ADMIN: plain clone (threads, fork) but no new namespaces...
    Group {
        unless: &[Capability::SysAdmin],
        ..allow_if(
            &["clone"],
            &[ArgCheck::MaskedZero(0, CLONE_NAMESPACE_FLAGS)],
        )
    },
    // ...and clone3, whose flags live in memory seccomp cannot read, reports
    // "not implemented" so that libc falls back to clone.
    Group {
        action: Action::Errno(ENOSYS),
        unless: &[Capability::SysAdmin],
        ..allow(&["clone3"])
    },
    allow_with(&["reboot"], &[Capability::SysBoot]),
    allow_with(&["chroot"], &[Capability::SysChroot]),
    allow_with(
        &["delete_module", "init_module", "finit_module"],
        &[Capability::SysModule],
    ),
    allow_with(&["acct"], &[Capability::SysPacct]),
    allow_with(
        &[
            "kcmp",
            "pidfd_getfd",
            "process_madvise",
            "process_vm_readv",
            "process_vm_writev",
            "ptrace",
        ],
        &[Capability::SysPtrace],
    ),
    allow_with(&["iopl", "ioperm"], &[Capability::SysRawio]),
    allow_with(
        &["settimeofday", "stime", "clock_settime", "clock_settime64"],
        &[Capability::SysTime],
    ),
    allow_with(&["vhangup"], &[Capability::SysTtyConfig]),
    allow_with(
        &[
            "get_mempolicy",
            "mbind",
            "set_mempolicy",
            "set_mempolicy_home_node",
        ],
        &[Capability::SysNice],
    ),
    allow_with(&["syslog"], &[Capability::Syslog]),
    allow_with(&["bpf"], &[Capability::Bpf]),
    allow_with(&["perf_event_open"], &[Capability::Perfmon]),
];

impl Group {
    fn applies(&self, capabilities: &Capabilities, arch: HostArch) -> bool {
        self.requires.iter().all(|cap| capabilities.contains(cap))
            && !self.unless.iter().any(|cap| capabilities.contains(cap))
            && (self.arches.is_empty() || self.arches.contains(&arch))
    }

    fn to_oci(&self) -> LinuxSyscall {
        let (action, errno) = match self.action {
            Action::Allow => (LinuxSeccompAction::ScmpActAllow, None),
            Action::Errno(errno) => (LinuxSeccompAction::ScmpActErrno, Some(errno)),
        };
        let args: Vec<LinuxSeccompArg> = self.args.iter().copied().map(ArgCheck::to_oci).collect();
        let mut syscall = LinuxSyscall::default();
        syscall
            .set_names(self.names.iter().map(|name| name.to_string()).collect())
            .set_action(action)
            .set_errno_ret(errno)
            .set_args((!args.is_empty()).then_some(args));
        syscall
    }
}

impl ArgCheck {
    fn to_oci(self) -> LinuxSeccompArg {
        let (index, value, value_two, op) = match self {
            ArgCheck::Equal(index, value) => (index, value, None, LinuxSeccompOperator::ScmpCmpEq),
            ArgCheck::Less(index, value) => (index, value, None, LinuxSeccompOperator::ScmpCmpLt),
            ArgCheck::Greater(index, value) => {
                (index, value, None, LinuxSeccompOperator::ScmpCmpGt)
            }
            ArgCheck::MaskedZero(index, mask) => (
                index,
                mask,
                Some(0u64),
                LinuxSeccompOperator::ScmpCmpMaskedEq,
            ),
        };
        let mut builder = LinuxSeccompArgBuilder::default()
            .index(index)
            .value(value)
            .op(op);
        if let Some(value_two) = value_two {
            builder = builder.value_two(value_two);
        }
        builder.build().expect("every LinuxSeccompArg field is set")
    }
}

/// Docker's default profile for a container holding `capabilities` on `platform`.
pub fn docker_default(capabilities: &Capabilities, platform: Platform) -> LinuxSeccomp {
    let syscalls = DOCKER_DEFAULT
        .iter()
        .filter(|group| group.applies(capabilities, platform.arch))
        .map(Group::to_oci)
        .collect();
    let mut seccomp = LinuxSeccomp::default();
    seccomp
        .set_default_action(LinuxSeccompAction::ScmpActErrno)
        .set_default_errno_ret(Some(EPERM))
        .set_architectures(Some(platform.seccomp_arches()))
        .set_flags(None)
        .set_syscalls(Some(syscalls));
    seccomp
}

mod profile;
#[cfg(test)]
mod tests;

pub use profile::{KernelVersion, Profile, ProfileError};
