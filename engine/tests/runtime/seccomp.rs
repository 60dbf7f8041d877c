//! The seccomp filter compiled once per profile and loaded just before the
//! container's command: a user's profile applies to the container and to
//! exec'd processes, the program is the one libcontainer itself would have
//! loaded, the capabilities granted for loading it are gone by the time the
//! command runs, and containers with the same profile share one cache file.

use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::libc;
use nix::sys::signal::Signal;
use oci_spec::runtime::LinuxSeccomp;
use stack_engine::runtime::seccomp::Profile;
use stack_engine::runtime::{ExecConfig, Seccomp, Stdio};

use crate::fixture::{expect_contains, expect_eq, finish, Fixture, TestResult};

/// `PTRACE_SECCOMP_GET_FILTER` (linux/ptrace.h), which the libc crate lacks.
const PTRACE_SECCOMP_GET_FILTER: libc::c_uint = 0x420c;

/// Docker's 14 default capabilities, as `/proc/<pid>/status` shows them.
const DOCKER_CAPS: &str = "00000000a80425fb";

/// Allows everything but `mkdir`/`mkdirat`, which fail with `EPERM`.
fn deny_mkdir() -> Box<Profile> {
    let profile = Profile::from_json(
        r#"{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mkdir","mkdirat"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}"#,
    );
    Box::new(profile.expect("the test profile is valid"))
}

fn cache_files(fixture: &Fixture) -> Result<Vec<PathBuf>, String> {
    let dir = fixture.base.join("state").join("@seccomp");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .collect();
    files.sort();
    Ok(files)
}

const MKDIR_AND_STATUS: &str = "mkdir /tmp/made && echo mkdir-ok || echo mkdir-refused; \
     grep -E '^(Cap(Bnd|Prm|Eff)|NoNewPrivs|Seccomp):' /proc/self/status";

/// The default profile allows `mkdir`, a profile denying it makes it fail
/// with EPERM (in the container and in an exec'd process), and a second
/// container with the same profile reuses the first one's cache file.
pub fn custom_profile_applies_and_is_cached() -> TestResult {
    let fixture = Fixture::new("seccomp-custom")?;
    let default = fixture.run(&fixture.config(&["sh", "-c", MKDIR_AND_STATUS]))?;
    expect_contains("default mkdir", &default.output, "mkdir-ok")?;
    for set in ["CapBnd", "CapPrm", "CapEff"] {
        // CAP_SYS_ADMIN, granted only for loading the filter, is gone.
        expect_contains(set, &default.output, &format!("{set}:\t{DOCKER_CAPS}\n"))?;
    }
    expect_contains("no_new_privs", &default.output, "NoNewPrivs:\t0\n")?;
    expect_contains("filter", &default.output, "Seccomp:\t2\n")?;
    let after_default = cache_files(&fixture)?;
    expect_eq("cache files", after_default.len(), 1)?;

    let mut config = fixture.config(&["sh", "-c", MKDIR_AND_STATUS]);
    config.seccomp = Seccomp::Profile(deny_mkdir());
    let custom = fixture.run(&config)?;
    expect_contains("custom mkdir", &custom.output, "Operation not permitted")?;
    expect_contains("custom mkdir", &custom.output, "mkdir-refused")?;
    expect_contains("filter", &custom.output, "Seccomp:\t2\n")?;
    expect_contains("caps", &custom.output, &format!("CapBnd:\t{DOCKER_CAPS}\n"))?;
    let files = cache_files(&fixture)?;
    expect_eq("cache files", files.len(), 2)?;
    let custom_file = files
        .iter()
        .find(|file| !after_default.contains(file))
        .ok_or("no cache file for the custom profile")?
        .clone();
    let written = fs::metadata(&custom_file).and_then(|m| m.modified());

    // A second container with the same profile: same file, not rewritten,
    // and an exec'd process is filtered with the container's capabilities.
    let mut config = fixture.config(&["sleep", "30"]);
    config.seccomp = Seccomp::Profile(deny_mkdir());
    let exec_output = fixture.base.join("exec-output");
    let (mut container, _) = fixture.create_as("seccomp-second", &config)?;
    let pid = container.pid();
    let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
    let ran = (|| -> TestResult {
        container.start().map_err(|e| e.to_string())?;
        let file = File::create(&exec_output).map_err(|e| e.to_string())?;
        let stdio = Stdio {
            stdout: Some(file.try_clone().map_err(|e| e.to_string())?.into()),
            stderr: Some(file.into()),
            ..Stdio::default()
        };
        let exec = ExecConfig {
            args: ["sh", "-c", MKDIR_AND_STATUS].map(String::from).to_vec(),
            ..ExecConfig::default()
        };
        let mut process = container
            .exec("e1", &exec, stdio)
            .map_err(|e| e.to_string())?;
        let status = process
            .wait_timeout(Duration::from_secs(30))
            .map_err(|e| e.to_string())?
            .ok_or("the exec'd process hung")?;
        expect_eq("exec exit", status.code, 0)
    })();
    let _ = container.kill(Signal::SIGKILL);
    let _ = container.wait_timeout(Duration::from_secs(10));
    container.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    ran?;
    let output = fs::read_to_string(&exec_output).map_err(|e| e.to_string())?;
    expect_contains("exec mkdir", &output, "mkdir-refused")?;
    for set in ["CapBnd", "CapPrm", "CapEff"] {
        expect_contains(set, &output, &format!("{set}:\t{DOCKER_CAPS}\n"))?;
    }
    expect_contains("exec no_new_privs", &output, "NoNewPrivs:\t0\n")?;
    expect_eq("cache files", cache_files(&fixture)?, files)?;
    expect_eq(
        "cache file rewritten",
        fs::metadata(&custom_file)
            .and_then(|m| m.modified())
            .map_err(|e| e.to_string())?,
        written.map_err(|e| e.to_string())?,
    )
}

/// `seccomp=unconfined` loads no filter and leaves no cache file.
pub fn unconfined_has_no_filter() -> TestResult {
    let fixture = Fixture::new("seccomp-unconfined")?;
    let mut config = fixture.config(&["sh", "-c", MKDIR_AND_STATUS]);
    config.seccomp = Seccomp::Unconfined;
    let outcome = fixture.run(&config)?;
    expect_contains("mkdir", &outcome.output, "mkdir-ok")?;
    expect_contains("filter", &outcome.output, "Seccomp:\t0\n")?;
    expect_contains(
        "caps",
        &outcome.output,
        &format!("CapBnd:\t{DOCKER_CAPS}\n"),
    )?;
    if fixture.base.join("state").join("@seccomp").exists() {
        return Err("a cache directory was made without a filter".to_owned());
    }
    Ok(())
}

/// The filter the container's process runs under is, instruction for
/// instruction, the one libcontainer loads from the same profile.
pub fn program_is_libcontainers() -> TestResult {
    let fixture = Fixture::new("seccomp-same")?;
    let (mut container, _) = fixture.create(&fixture.config(&["sleep", "30"]))?;
    let pid = container.pid();
    let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
    let ran = (|| -> Result<(Vec<u8>, Vec<u8>), String> {
        container.start().map_err(|e| e.to_string())?;
        let init = pid.ok_or("no pid")?;
        // The filter is loaded right before the exec: wait for `sleep`.
        for _ in 0..200 {
            let comm = fs::read_to_string(format!("/proc/{init}/comm")).unwrap_or_default();
            if comm.trim() == "sleep" {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let loaded = filter_of_running(init)?;
        let profile = recorded_profile(&fixture.base.join(format!("bundle-{}", fixture.name)))?;
        Ok((loaded, filter_loaded_by_libcontainer(&profile)?))
    })();
    let _ = container.kill(Signal::SIGKILL);
    let _ = finish(&mut container);
    container.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    let (ours, theirs) = ran?;
    if ours.is_empty() || ours != theirs {
        return Err(format!(
            "programs differ: ours {} bytes, libcontainer's {} bytes",
            ours.len(),
            theirs.len()
        ));
    }
    Ok(())
}

fn recorded_profile(bundle: &Path) -> Result<LinuxSeccomp, String> {
    let record = fs::read(bundle.join("seccomp.json")).map_err(|e| e.to_string())?;
    let record: serde_json::Value = serde_json::from_slice(&record).map_err(|e| e.to_string())?;
    serde_json::from_value(record["profile"].clone()).map_err(|e| e.to_string())
}

/// The newest filter of a process that is not ours to trace yet.
fn filter_of_running(pid: i32) -> Result<Vec<u8>, String> {
    // SAFETY: ptrace requests on another process's pid with no pointers
    // into our memory.
    let seized = unsafe { libc::ptrace(libc::PTRACE_SEIZE, pid, 0, 0) };
    if seized != 0 {
        return Err(format!(
            "PTRACE_SEIZE {pid}: {}",
            std::io::Error::last_os_error()
        ));
    }
    // SAFETY: as above.
    unsafe { libc::ptrace(libc::PTRACE_INTERRUPT, pid, 0, 0) };
    wait_stopped(pid)?;
    let filter = read_filter(pid);
    // SAFETY: as above.
    unsafe { libc::ptrace(libc::PTRACE_DETACH, pid, 0, 0) };
    filter
}

/// Forks a child that loads `profile` with libcontainer (under
/// `no_new_privs`, as for a process that asks for it) and stops; returns
/// the child's filter.
fn filter_loaded_by_libcontainer(profile: &LinuxSeccomp) -> Result<Vec<u8>, String> {
    // SAFETY: this test binary is single-threaded (see main.rs); the child
    // only makes system calls and library calls that do not need other threads.
    let child = unsafe { libc::fork() };
    if child == 0 {
        // SAFETY: plain system calls in the child, which then exits.
        unsafe {
            libc::ptrace(libc::PTRACE_TRACEME, 0, 0, 0);
            libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
        }
        let code = match libcontainer::seccomp::initialize_seccomp(profile) {
            Ok(_) => {
                // SAFETY: stops this process for the parent to read its filter.
                unsafe { libc::raise(libc::SIGSTOP) };
                0
            }
            Err(_) => 1,
        };
        // SAFETY: leaves the forked child without running the parent's destructors.
        unsafe { libc::_exit(code) };
    }
    if child < 0 {
        return Err(format!("fork: {}", std::io::Error::last_os_error()));
    }
    let stopped = wait_stopped(child);
    let filter = stopped.and_then(|()| read_filter(child));
    // SAFETY: kills and reaps our own child.
    unsafe {
        libc::kill(child, libc::SIGKILL);
        libc::waitpid(child, std::ptr::null_mut(), 0);
    }
    filter
}

fn wait_stopped(pid: i32) -> TestResult {
    let mut status = 0;
    // SAFETY: `status` is a valid place for the kernel to write to.
    let waited = unsafe { libc::waitpid(pid, &mut status, libc::__WALL) };
    if waited != pid || !libc::WIFSTOPPED(status) {
        return Err(format!("{pid} did not stop (status {status:#x})"));
    }
    Ok(())
}

/// The newest seccomp filter of a stopped tracee, as `sock_filter` bytes.
fn read_filter(pid: i32) -> Result<Vec<u8>, String> {
    // SAFETY: with a null buffer the kernel only returns the length.
    let count = unsafe {
        libc::ptrace(
            PTRACE_SECCOMP_GET_FILTER,
            pid,
            0,
            std::ptr::null_mut::<libc::c_void>(),
        )
    };
    if count <= 0 {
        return Err(format!(
            "PTRACE_SECCOMP_GET_FILTER {pid}: {}",
            std::io::Error::last_os_error()
        ));
    }
    let mut bytes = vec![0u8; count as usize * 8];
    // SAFETY: the buffer holds `count` instructions of 8 bytes each.
    let got = unsafe {
        libc::ptrace(
            PTRACE_SECCOMP_GET_FILTER,
            pid,
            0,
            bytes.as_mut_ptr() as *mut libc::c_void,
        )
    };
    if got != count {
        return Err(format!("PTRACE_SECCOMP_GET_FILTER {pid}: {got} != {count}"));
    }
    Ok(bytes)
}
