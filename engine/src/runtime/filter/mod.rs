//! A container's seccomp filter, compiled once per distinct profile and
//! loaded by the container's process just before it execs its command.
//!
//! Left to libcontainer, the profile would be compiled by libseccomp in
//! every container's init process and every exec'd process (3–4 ms of CPU
//! for Docker's ≈ 300 rules). Instead the runtime takes the profile out of
//! the spec libcontainer sees, compiles it with the same libseccomp and the
//! same reading of the profile (`compile`), keeps the program in a file
//! cache (`cache`), and hands it to an [`Executor`] that loads it with
//! `seccomp(2)` and the profile's flags right before the exec.
//!
//! The kernel lets a process load a filter only with `no_new_privs` or with
//! `CAP_SYS_ADMIN`. libcontainer loads it before dropping capabilities when
//! `no_new_privs` is not asked for; the executor runs after the drop. So for
//! such a process the spec also grants `CAP_SYS_ADMIN` (and `CAP_SETPCAP`,
//! to shrink the bounding set) when the container does not hold them, and
//! the executor takes them away again: out of the bounding set, then the
//! filter is loaded, then out of the effective and permitted sets (the
//! `capset` runs under the filter, as libcontainer's own did). The process
//! execs with exactly the capabilities, `no_new_privs` and filter it would
//! have had; nothing of the container runs in between.
//!
//! The profile and the capabilities granted for loading are recorded next to
//! `config.json` (`seccomp.json`), so that `exec` can do the same.

mod cache;
mod compile;
#[cfg(test)]
mod tests;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use libcontainer::workload::{self, Executor, ExecutorError, ExecutorValidationError};
use nix::libc;
use oci_spec::runtime::{
    Capabilities, Capability, LinuxSeccomp, LinuxSeccompAction, LinuxSeccompFilterFlag, Spec,
};
use rustix::thread::{self as rthread, CapabilitySet};
use serde::{Deserialize, Serialize};

pub use compile::CompileError;

use cache::{Cache, Key, INSTRUCTION_SIZE};

/// The file next to `config.json` that records the container's filter.
const RECORD: &str = "seccomp.json";

/// The capabilities a process needs to load a filter without `no_new_privs`
/// (`CAP_SYS_ADMIN`) and to take one out of its bounding set (`CAP_SETPCAP`).
const LOADER_CAPABILITIES: [(Capability, CapabilitySet); 2] = [
    (Capability::SysAdmin, CapabilitySet::SYS_ADMIN),
    (Capability::Setpcap, CapabilitySet::SETPCAP),
];

/// Why a container's filter could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum FilterError {
    /// The profile sends system calls to a user-space agent, which this
    /// engine does not run.
    #[error(
        "the seccomp profile uses SCMP_ACT_NOTIFY, which is not supported: use another action"
    )]
    Notify,
    /// libseccomp could not compile the profile.
    #[error("cannot compile the seccomp profile: {0}")]
    Compile(#[from] CompileError),
    /// The program is longer than the kernel accepts.
    #[error("the seccomp profile compiles to {0} BPF instructions, more than the kernel's 4096: use fewer rules")]
    TooLong(usize),
    /// The record next to `config.json` could not be written or read.
    #[error("{operation} {path:?}: {source}")]
    Record {
        /// What was being done.
        operation: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// What `seccomp.json` holds.
#[derive(Debug, Serialize, Deserialize)]
struct Record {
    profile: LinuxSeccomp,
    /// Capabilities the spec grants only for loading the filter.
    raised: Vec<Capability>,
}

/// The directory of compiled programs under libcontainer's state root. `@`
/// is not allowed in a container id, so it never names a container.
pub(crate) fn cache_dir(state_root: &Path) -> PathBuf {
    state_root.join("@seccomp")
}

/// libcontainer's default executor, after loading a compiled filter (and
/// taking away the capabilities granted for loading it).
#[derive(Clone, Debug)]
pub(crate) struct SeccompExecutor {
    program: Vec<u8>,
    flags: libc::c_ulong,
    raised: Vec<Capability>,
}

impl SeccompExecutor {
    /// Takes the seccomp profile out of `spec` and returns the executor that
    /// loads it instead, granting the spec the capabilities it needs for
    /// that (among `available`, those the caller can grant), and records both
    /// in `bundle`. `None` when the spec has no filter.
    pub(crate) fn take(
        spec: &mut Spec,
        bundle: &Path,
        cache_dir: &Path,
        available: &Capabilities,
    ) -> Result<Option<SeccompExecutor>, FilterError> {
        let Some(profile) = spec.linux().as_ref().and_then(|l| l.seccomp().clone()) else {
            return Ok(None);
        };
        let executor = SeccompExecutor::new(&profile, cache_dir, Vec::new())?;
        if let Some(linux) = spec.linux_mut() {
            linux.set_seccomp(None);
        }
        let raised = raise_loader_capabilities(spec, available);
        let record = Record { profile, raised };
        let path = bundle.join(RECORD);
        let record_error = |source| FilterError::Record {
            operation: "write",
            path: path.clone(),
            source,
        };
        let json = serde_json::to_vec(&record).map_err(|e| record_error(e.into()))?;
        fs::write(&path, json).map_err(record_error)?;
        Ok(Some(SeccompExecutor {
            raised: record.raised,
            ..executor
        }))
    }

    /// The executor for a process exec'd in the container whose spec and
    /// bundle these are, and whether that process must set `no_new_privs`:
    /// a container created before filters were cached kept its profile in
    /// the spec and its process no capability for loading it.
    pub(crate) fn for_exec(
        spec: &Spec,
        bundle: &Path,
        cache_dir: &Path,
    ) -> Result<Option<(SeccompExecutor, bool)>, FilterError> {
        if let Some(profile) = spec.linux().as_ref().and_then(|l| l.seccomp().as_ref()) {
            let executor = SeccompExecutor::new(profile, cache_dir, Vec::new())?;
            return Ok(Some((executor, true)));
        }
        let path = bundle.join(RECORD);
        let read_error = |source| FilterError::Record {
            operation: "read",
            path: path.clone(),
            source,
        };
        let json = match fs::read(&path) {
            Ok(json) => json,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(read_error(error)),
        };
        let record: Record = serde_json::from_slice(&json).map_err(|e| read_error(e.into()))?;
        let executor = SeccompExecutor::new(&record.profile, cache_dir, record.raised)?;
        Ok(Some((executor, false)))
    }

    fn new(
        profile: &LinuxSeccomp,
        cache_dir: &Path,
        raised: Vec<Capability>,
    ) -> Result<SeccompExecutor, FilterError> {
        if is_notify(profile) {
            return Err(FilterError::Notify);
        }
        Ok(SeccompExecutor {
            program: program(profile, &Cache::new(cache_dir))?,
            flags: load_flags(profile),
            raised,
        })
    }

    /// The same filter for a process that keeps every capability its spec
    /// gives it (a privileged exec): nothing granted for loading is taken
    /// away again.
    pub(crate) fn keeping_capabilities(self) -> SeccompExecutor {
        SeccompExecutor {
            raised: Vec::new(),
            ..self
        }
    }

    /// Shrinks the bounding set, loads the filter, then shrinks the
    /// effective and permitted sets (see the module documentation).
    fn install(&self) -> io::Result<()> {
        let raised: Vec<_> = LOADER_CAPABILITIES
            .iter()
            .filter(|(capability, ..)| self.raised.contains(capability))
            .collect();
        for (_, capability) in &raised {
            rthread::remove_capability_from_bounding_set(*capability)?;
        }
        load(&self.program, self.flags)?;
        if !raised.is_empty() {
            let mask = raised
                .iter()
                .fold(CapabilitySet::empty(), |mask, (_, set)| mask | *set);
            let mut sets = rthread::capabilities(None)?;
            sets.effective.remove(mask);
            sets.permitted.remove(mask);
            rthread::set_capabilities(None, sets)?;
        }
        Ok(())
    }
}

impl Executor for SeccompExecutor {
    fn exec(&self, spec: &Spec) -> Result<(), ExecutorError> {
        if let Err(error) = self.install() {
            // The container's stderr: the only place the user sees why the
            // process never ran (this runs after the container started).
            eprintln!("stack: cannot load the container's seccomp filter: {error}");
            return Err(ExecutorError::Other(format!(
                "load the seccomp filter: {error}"
            )));
        }
        workload::default::get_executor().exec(spec)
    }

    fn validate(&self, spec: &Spec) -> Result<(), ExecutorValidationError> {
        workload::default::get_executor().validate(spec)
    }
}

/// Grants the spec's process the loader capabilities it lacks (see the
/// module documentation) and returns them. Nothing is needed under
/// `no_new_privs`, with `CAP_SYS_ADMIN`, or without capability settings
/// (libcontainer then keeps all of the caller's). A capability is granted
/// only if the caller holds it and the spec has it in none of the
/// bounding, effective and permitted sets.
fn raise_loader_capabilities(spec: &mut Spec, available: &Capabilities) -> Vec<Capability> {
    let Some(process) = spec.process_mut() else {
        return Vec::new();
    };
    if process.no_new_privileges() == Some(true) {
        return Vec::new();
    }
    let Some(mut capabilities) = process.capabilities().clone() else {
        return Vec::new();
    };
    fn holds(set: &Option<Capabilities>, capability: &Capability) -> bool {
        set.as_ref().is_some_and(|set| set.contains(capability))
    }
    if holds(capabilities.effective(), &Capability::SysAdmin) {
        return Vec::new();
    }
    let raised: Vec<Capability> = LOADER_CAPABILITIES
        .iter()
        .map(|(capability, ..)| *capability)
        .filter(|capability| {
            available.contains(capability)
                && !holds(capabilities.bounding(), capability)
                && !holds(capabilities.effective(), capability)
                && !holds(capabilities.permitted(), capability)
        })
        .collect();
    if raised.is_empty() {
        return raised;
    }
    let with_raised = |set: &Option<Capabilities>| {
        let mut set = set.clone().unwrap_or_default();
        set.extend(raised.iter().copied());
        Some(set)
    };
    let (bounding, effective, permitted) = (
        with_raised(capabilities.bounding()),
        with_raised(capabilities.effective()),
        with_raised(capabilities.permitted()),
    );
    capabilities
        .set_bounding(bounding)
        .set_effective(effective)
        .set_permitted(permitted);
    process.set_capabilities(Some(capabilities));
    raised
}

/// The compiled program of `profile`: from the cache, or compiled and stored.
/// A cache that cannot be read or written only costs the compilation.
fn program(profile: &LinuxSeccomp, cache: &Cache) -> Result<Vec<u8>, FilterError> {
    let json = serde_json::to_vec(profile).map_err(|e| CompileError::Export(e.into()))?;
    let key = Key::new(&json, &host());
    match cache.load(&key) {
        Ok(Some(program)) => return Ok(program),
        Ok(None) => {}
        Err(error) => tracing::warn!(%error, "cannot read the seccomp program cache"),
    }
    let program = compile::compile(profile)?;
    if !cache::storable(&program) {
        return Err(FilterError::TooLong(program.len() / INSTRUCTION_SIZE));
    }
    if let Err(error) = cache.store(&key, &program) {
        tracing::warn!(%error, "cannot write the seccomp program cache");
    }
    Ok(program)
}

/// Everything besides the profile that shapes the compiled program.
fn host() -> String {
    let release = fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!(
        "{} {} {}",
        compile::libseccomp_identity(),
        std::env::consts::ARCH,
        release.trim()
    )
}

fn is_notify(profile: &LinuxSeccomp) -> bool {
    profile.default_action() == LinuxSeccompAction::ScmpActNotify
        || profile
            .syscalls()
            .iter()
            .flatten()
            .any(|rule| rule.action() == LinuxSeccompAction::ScmpActNotify)
}

/// The `seccomp(2)` flags libseccomp would pass for the profile's flags.
fn load_flags(profile: &LinuxSeccomp) -> libc::c_ulong {
    profile
        .flags()
        .iter()
        .flatten()
        .map(|flag| match flag {
            LinuxSeccompFilterFlag::SeccompFilterFlagLog => libc::SECCOMP_FILTER_FLAG_LOG,
            LinuxSeccompFilterFlag::SeccompFilterFlagTsync => libc::SECCOMP_FILTER_FLAG_TSYNC,
            LinuxSeccompFilterFlag::SeccompFilterFlagSpecAllow => {
                libc::SECCOMP_FILTER_FLAG_SPEC_ALLOW
            }
            LinuxSeccompFilterFlag::SeccompFilterFlagWaitKillableRecv => {
                libc::SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV
            }
        })
        .fold(0, |flags, flag| flags | flag)
}

/// Loads `program` (whole `sock_filter` instructions in host byte order)
/// into the calling thread with `seccomp(2)`. No crate loads a given BPF
/// program with flags and without setting `no_new_privs` (seccompiler's
/// `apply_filter` sets it), which would change the container's process.
fn load(program: &[u8], flags: libc::c_ulong) -> io::Result<()> {
    let mut instructions: Vec<libc::sock_filter> = program
        .chunks_exact(INSTRUCTION_SIZE)
        .map(|bytes| libc::sock_filter {
            code: u16::from_ne_bytes([bytes[0], bytes[1]]),
            jt: bytes[2],
            jf: bytes[3],
            k: u32::from_ne_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]),
        })
        .collect();
    let len = u16::try_from(instructions.len())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "program too long"))?;
    let fprog = libc::sock_fprog {
        len,
        filter: instructions.as_mut_ptr(),
    };
    // SAFETY: `fprog` points to `len` initialised instructions that live
    // until the call returns; the kernel only reads them (it copies the
    // program) and keeps no pointer into our memory.
    let result = unsafe {
        libc::syscall(
            libc::SYS_seccomp,
            libc::SECCOMP_SET_MODE_FILTER,
            flags,
            &fprog as *const libc::sock_fprog,
        )
    };
    if result == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
