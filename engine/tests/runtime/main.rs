//! Root-only tests of the container runtime on the real kernel, with a
//! busybox root filesystem made at test time from Debian's `busybox-static`.
//!
//! libcontainer forks the calling process, so this target has no test
//! harness: `main` runs the tests one after another on its only thread. Each
//! test has its own state root, bundle, rootfs and cgroup parent, and checks
//! afterwards that no cgroup directory, mount or process was left behind.
//! Run one test with `cargo test -p stack-engine --test runtime -- NAME`.

mod bench;
mod fixture;
mod isolation;
mod lifecycle;
mod limits;
mod seccomp;

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;
use std::time::Instant;

use fixture::{LogSink, TestResult, BUSYBOX};

/// A test's name and body.
type Test = (&'static str, fn() -> TestResult);

const TESTS: &[Test] = &[
    (
        "process_is_pid_1_and_sees_only_its_processes",
        isolation::pid_1_and_ps,
    ),
    ("ls_shows_the_rootfs", isolation::ls_shows_the_rootfs),
    ("hostname_is_the_containers", isolation::hostname),
    (
        "read_only_rootfs_refuses_writes",
        isolation::read_only_rootfs,
    ),
    (
        "writable_rootfs_and_tmpfs_accept_writes",
        isolation::writable_rootfs_and_tmpfs,
    ),
    ("mount_needs_cap_sys_admin", isolation::mount_is_refused),
    ("proc_sys_is_read_only", isolation::proc_sys_is_read_only),
    ("masked_paths_are_empty", isolation::masked_paths_are_empty),
    (
        "default_capabilities_are_dockers",
        isolation::default_capabilities_work,
    ),
    (
        "cgroup_limits_are_written_to_the_hierarchy",
        limits::cgroup_limits_are_written,
    ),
    (
        "memory_limit_oom_kills_with_137",
        limits::memory_limit_oom_kills,
    ),
    (
        "pids_limit_stops_a_fork_bomb",
        limits::pids_limit_stops_a_fork_bomb,
    ),
    ("cpu_quota_is_enforced", limits::cpu_quota_is_enforced),
    (
        "kill_sigkill_reports_the_signal",
        lifecycle::kill_reports_the_signal,
    ),
    (
        "stop_with_grace_period_then_kill",
        lifecycle::stop_with_grace_period_then_kill,
    ),
    (
        "pause_freezes_and_resume_thaws",
        lifecycle::pause_freezes_and_resume_thaws,
    ),
    (
        "exec_joins_the_running_container",
        lifecycle::exec_joins_the_running_container,
    ),
    ("exit_code_is_reported", lifecycle::exit_code_is_reported),
    (
        "invalid_config_is_refused",
        lifecycle::invalid_config_creates_nothing,
    ),
    (
        "missing_command_fails_cleanly",
        lifecycle::missing_command_fails_cleanly,
    ),
    (
        "duplicate_id_leaves_the_first_container_alone",
        lifecycle::duplicate_id,
    ),
    (
        "libcontainer_logs_nothing",
        lifecycle::libcontainer_logs_nothing,
    ),
    (
        "joins_another_containers_network_namespace",
        isolation::joins_a_network_namespace,
    ),
    (
        "host_pid_namespace_shows_host_processes",
        isolation::host_pid_namespace,
    ),
    (
        "cgroup_namespace_hides_the_host_tree",
        isolation::cgroup_namespace_hides_the_host_tree,
    ),
    (
        "tty_gives_the_process_a_terminal",
        lifecycle::tty_gives_a_terminal,
    ),
    ("process_settings_apply", lifecycle::process_settings_apply),
    (
        "privileged_container_can_mount",
        isolation::privileged_can_mount,
    ),
    (
        "device_cgroup_allows_only_standard_devices",
        isolation::device_rules_apply,
    ),
    (
        "seccomp_custom_profile_applies_and_is_cached",
        seccomp::custom_profile_applies_and_is_cached,
    ),
    (
        "seccomp_unconfined_has_no_filter",
        seccomp::unconfined_has_no_filter,
    ),
    (
        "seccomp_program_is_libcontainers",
        seccomp::program_is_libcontainers,
    ),
    ("bench_create_start_wait_true", bench::bench_true),
];

fn main() {
    let filter: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| !arg.starts_with('-'))
        .collect();
    let selected: Vec<_> = TESTS
        .iter()
        .filter(|(name, _)| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str())))
        .collect();
    if !nix::unistd::geteuid().is_root() || !Path::new(BUSYBOX).exists() {
        println!("runtime tests skipped: they need root and {BUSYBOX} (Debian's busybox-static)");
        println!("0 passed, 0 failed, {} skipped", selected.len());
        return;
    }
    // Everything logged at any level lands in LOG, so a test can check that
    // the runtime kept libcontainer quiet.
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(|| LogSink)
        .init();
    let (mut passed, mut failed) = (0, 0);
    for (name, test) in selected {
        let started = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(test))
            .unwrap_or_else(|panic| Err(format!("panicked: {panic:?}")));
        match result {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok ({} ms)", started.elapsed().as_millis());
            }
            Err(message) => {
                failed += 1;
                println!("test {name} ... FAILED: {message}");
            }
        }
    }
    println!("{passed} passed, {failed} failed");
    if failed > 0 {
        std::process::exit(1);
    }
}
