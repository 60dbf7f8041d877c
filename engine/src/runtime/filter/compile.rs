//! An OCI seccomp profile compiled to a classic BPF program by libseccomp,
//! with libcontainer's reading of the profile: same default action and
//! errno (`EPERM` when none is given), same architectures, rules whose
//! action is the default one skipped, names this libseccomp does not know
//! skipped, and conditions on a repeated argument split into one rule each.
//! The program is the one libcontainer would have loaded, because it comes
//! from the same library with the same rules; only where and when it is
//! loaded changes (see the module above).

use std::io::{Read, Seek, SeekFrom};

use libseccomp::error::SeccompError;
use libseccomp::{ScmpAction, ScmpArch, ScmpArgCompare, ScmpCompareOp, ScmpFilterContext};
use libseccomp::{ScmpSyscall, ScmpVersion};
use oci_spec::runtime::{Arch, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompOperator};

/// `EPERM`: the errno of an `SCMP_ACT_ERRNO` without one, as in libcontainer.
const EPERM: i32 = 1;

/// Why a profile could not be compiled.
#[derive(Debug, thiserror::Error)]
pub enum CompileError {
    /// libseccomp refused a step.
    #[error("libseccomp could not {step}: {source}")]
    Libseccomp {
        /// What was being done.
        step: &'static str,
        /// libseccomp's error.
        source: SeccompError,
    },
    /// A `SCMP_ACT_TRACE` errno does not fit the 16 bits of the action.
    #[error("SCMP_ACT_TRACE errno {0} is out of range (0 to 65535)")]
    TraceErrno(u32),
    /// Reading the exported program back failed.
    #[error("could not read the exported program back: {0}")]
    Export(#[from] std::io::Error),
}

/// What identifies this libseccomp for the cache: a different version or
/// kernel API level may generate a different program from the same profile.
pub(super) fn libseccomp_identity() -> String {
    let version = ScmpVersion::current()
        .map(|v| format!("{}.{}.{}", v.major, v.minor, v.micro))
        .unwrap_or_else(|_| "unknown".to_owned());
    format!("libseccomp {version} api {}", libseccomp::get_api())
}

/// The BPF program for `profile`: `sock_filter` instructions in the host's
/// byte order, as `seccomp_export_bpf` writes them.
pub(super) fn compile(profile: &LinuxSeccomp) -> Result<Vec<u8>, CompileError> {
    let libseccomp = |step| move |source| CompileError::Libseccomp { step, source };
    let default = action(profile.default_action(), profile.default_errno_ret())?;
    let mut ctx = ScmpFilterContext::new(default).map_err(libseccomp("create a filter"))?;
    for &arch in profile.architectures().iter().flatten() {
        ctx.add_arch(scmp_arch(arch))
            .map_err(libseccomp("add an architecture"))?;
    }
    for rule in profile.syscalls().iter().flatten() {
        let action = action(rule.action(), rule.errno_ret())?;
        if action == default {
            continue;
        }
        let comparisons: Vec<ScmpArgCompare> = rule
            .args()
            .iter()
            .flatten()
            .map(|arg| {
                ScmpArgCompare::new(
                    arg.index() as u32,
                    compare_op(arg.op(), arg.value_two()),
                    arg.value(),
                )
            })
            .collect();
        // libseccomp compares each argument at most once per rule.
        let mut indexes: Vec<usize> = rule
            .args()
            .iter()
            .flatten()
            .map(|arg| arg.index())
            .collect();
        indexes.sort_unstable();
        indexes.dedup();
        let split = indexes.len() < comparisons.len();
        for name in rule.names() {
            // A name this libseccomp does not know is a system call this
            // kernel generation does not have: nothing to filter.
            let Ok(syscall) = ScmpSyscall::from_name(name) else {
                continue;
            };
            if comparisons.is_empty() {
                ctx.add_rule(action, syscall)
                    .map_err(libseccomp("add a rule"))?;
            } else if split {
                for comparison in &comparisons {
                    ctx.add_rule_conditional(action, syscall, std::slice::from_ref(comparison))
                        .map_err(libseccomp("add a conditional rule"))?;
                }
            } else {
                ctx.add_rule_conditional(action, syscall, &comparisons)
                    .map_err(libseccomp("add a conditional rule"))?;
            }
        }
    }
    let mut exported = tempfile::tempfile()?;
    ctx.export_bpf(&exported)
        .map_err(libseccomp("export the program"))?;
    exported.seek(SeekFrom::Start(0))?;
    let mut program = Vec::new();
    exported.read_to_end(&mut program)?;
    Ok(program)
}

fn action(action: LinuxSeccompAction, errno: Option<u32>) -> Result<ScmpAction, CompileError> {
    let errno_value = errno.map_or(EPERM, |errno| errno as i32);
    Ok(match action {
        LinuxSeccompAction::ScmpActKill | LinuxSeccompAction::ScmpActKillThread => {
            ScmpAction::KillThread
        }
        LinuxSeccompAction::ScmpActKillProcess => ScmpAction::KillProcess,
        LinuxSeccompAction::ScmpActTrap => ScmpAction::Trap,
        LinuxSeccompAction::ScmpActErrno => ScmpAction::Errno(errno_value),
        LinuxSeccompAction::ScmpActTrace => ScmpAction::Trace(
            u16::try_from(errno_value)
                .map_err(|_| CompileError::TraceErrno(errno.unwrap_or_default()))?,
        ),
        LinuxSeccompAction::ScmpActAllow => ScmpAction::Allow,
        LinuxSeccompAction::ScmpActNotify => ScmpAction::Notify,
        LinuxSeccompAction::ScmpActLog => ScmpAction::Log,
    })
}

fn compare_op(op: LinuxSeccompOperator, value_two: Option<u64>) -> ScmpCompareOp {
    match op {
        LinuxSeccompOperator::ScmpCmpNe => ScmpCompareOp::NotEqual,
        LinuxSeccompOperator::ScmpCmpLt => ScmpCompareOp::Less,
        LinuxSeccompOperator::ScmpCmpLe => ScmpCompareOp::LessOrEqual,
        LinuxSeccompOperator::ScmpCmpEq => ScmpCompareOp::Equal,
        LinuxSeccompOperator::ScmpCmpGe => ScmpCompareOp::GreaterEqual,
        LinuxSeccompOperator::ScmpCmpGt => ScmpCompareOp::Greater,
        LinuxSeccompOperator::ScmpCmpMaskedEq => {
            ScmpCompareOp::MaskedEqual(value_two.unwrap_or_default())
        }
    }
}

fn scmp_arch(arch: Arch) -> ScmpArch {
    match arch {
        Arch::ScmpArchNative => ScmpArch::Native,
        Arch::ScmpArchX86 => ScmpArch::X86,
        Arch::ScmpArchX86_64 => ScmpArch::X8664,
        Arch::ScmpArchX32 => ScmpArch::X32,
        Arch::ScmpArchArm => ScmpArch::Arm,
        Arch::ScmpArchAarch64 => ScmpArch::Aarch64,
        Arch::ScmpArchMips => ScmpArch::Mips,
        Arch::ScmpArchMips64 => ScmpArch::Mips64,
        Arch::ScmpArchMips64n32 => ScmpArch::Mips64N32,
        Arch::ScmpArchMipsel => ScmpArch::Mipsel,
        Arch::ScmpArchMipsel64 => ScmpArch::Mipsel64,
        Arch::ScmpArchMipsel64n32 => ScmpArch::Mipsel64N32,
        Arch::ScmpArchPpc => ScmpArch::Ppc,
        Arch::ScmpArchPpc64 => ScmpArch::Ppc64,
        Arch::ScmpArchPpc64le => ScmpArch::Ppc64Le,
        Arch::ScmpArchS390 => ScmpArch::S390,
        Arch::ScmpArchS390x => ScmpArch::S390X,
        Arch::ScmpArchRiscv64 => ScmpArch::Riscv64,
        Arch::ScmpArchParisc => ScmpArch::Parisc,
        Arch::ScmpArchParisc64 => ScmpArch::Parisc64,
        Arch::ScmpArchLoongarch64 => ScmpArch::Loongarch64,
        Arch::ScmpArchM68k => ScmpArch::M68k,
        Arch::ScmpArchSh => ScmpArch::Sh,
        Arch::ScmpArchSheb => ScmpArch::Sheb,
    }
}
