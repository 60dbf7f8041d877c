//! Ulimits, security options and host devices end to end, as root,
//! through the real binary (and Debian's docker client where installed):
//! `--device` and compose `devices:` (the node, its permissions in the
//! device cgroup, and a missing device refused before anything is made),
//! the host's devices in a privileged container, device cgroup rules,
//! `--ulimit`,
//! `--security-opt no-new-privileges`, `seccomp=unconfined` and a custom
//! seccomp profile file reach the container's process, show in inspect,
//! and bad values are refused by name with nothing created; the same from
//! a compose file through `stack up` and `stack run`. Each test has its
//! own engine (state root, run directory, daemon) and ends by checking
//! that nothing is left: no mount, cgroup or process of its root.

#[path = "common/busybox.rs"]
mod busybox;
mod common;
#[path = "common/project.rs"]
mod project;

use busybox::engine;
use common::{stderr, stdout};
use project::Project;
use std::time::{Duration, Instant};

/// What the tests read from a container's view of its own process.
const STATUS: &str = "grep -E '^(NoNewPrivs|Seccomp):' /proc/self/status";

/// A profile in Docker's format that allows everything but `mkdir`.
const DENY_MKDIR: &str = r#"{
  "defaultAction": "SCMP_ACT_ALLOW",
  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86"]}],
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1, "comment": "no new directories"}
  ]
}
"#;

#[test]
fn ulimits_reach_the_process_and_show_in_inspect() {
    let Some(engine) = engine() else { return };
    let out = engine.ok(&[
        "run",
        "--name",
        "limited",
        "--ulimit",
        "nofile=1024:2048",
        "--ulimit",
        "core=0",
        "busybox",
        "sh",
        "-c",
        "ulimit -n; ulimit -Hn; ulimit -c",
    ]);
    assert_eq!(out, "1024\n2048\n0\n");
    let ids = engine.ids();
    let ulimits = &engine.inspect("limited")["HostConfig"]["Ulimits"];
    assert_eq!(
        ulimits,
        &serde_json::json!([
            {"Name": "nofile", "Soft": 1024, "Hard": 2048},
            {"Name": "core", "Soft": 0, "Hard": 0}
        ])
    );
    // Without the flag, the daemon's own limit, as with Docker.
    let plain = engine.ok(&["run", "--rm", "busybox", "sh", "-c", "ulimit -n"]);
    assert_ne!(plain, "1024\n");
    engine.finish(&ids);
}

#[test]
fn security_options_reach_the_process_and_show_in_inspect() {
    let Some(engine) = engine() else { return };
    let run = |args: &[&str]| {
        let mut all = vec!["run", "--rm"];
        all.extend_from_slice(args);
        all.extend(["busybox", "sh", "-c", STATUS]);
        engine.ok(&all)
    };
    assert_eq!(run(&[]), "NoNewPrivs:\t0\nSeccomp:\t2\n");
    assert_eq!(
        run(&["--security-opt", "no-new-privileges"]),
        "NoNewPrivs:\t1\nSeccomp:\t2\n"
    );
    assert_eq!(
        run(&["--security-opt", "no-new-privileges:false"]),
        "NoNewPrivs:\t0\nSeccomp:\t2\n"
    );
    assert_eq!(
        run(&["--security-opt", "seccomp=unconfined"]),
        "NoNewPrivs:\t0\nSeccomp:\t0\n"
    );
    // Docker on a host without AppArmor or SELinux accepts and ignores these.
    assert_eq!(
        run(&[
            "--security-opt",
            "apparmor=unconfined",
            "--security-opt",
            "label=disable"
        ]),
        "NoNewPrivs:\t0\nSeccomp:\t2\n"
    );
    assert_eq!(run(&["--privileged"]), "NoNewPrivs:\t0\nSeccomp:\t0\n");

    let profile = engine.dir().join("deny-mkdir.json");
    std::fs::write(&profile, DENY_MKDIR).unwrap();
    let out = engine.stack(&[
        "container",
        "run",
        "--name",
        "custom",
        "--security-opt",
        &format!("seccomp={}", profile.display()),
        "--security-opt",
        "no-new-privileges=true",
        "busybox",
        "sh",
        "-c",
        &format!("{STATUS}; mkdir /tmp/made"),
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stdout(&out), "NoNewPrivs:\t1\nSeccomp:\t2\n");
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );
    let ids = engine.ids();
    let options = engine.inspect("custom")["HostConfig"]["SecurityOpt"].clone();
    let options: Vec<String> = serde_json::from_value(options).unwrap();
    assert_eq!(options.len(), 2, "{options:?}");
    assert!(
        options[0].starts_with(r#"seccomp={"defaultAction":"SCMP_ACT_ALLOW""#),
        "{options:?}"
    );
    assert_eq!(options[1], "no-new-privileges=true");
    engine.finish(&ids);
}

#[test]
fn bad_ulimits_and_security_options_are_refused_by_name() {
    let Some(engine) = engine() else { return };
    engine.refused(&["--ulimit", "files=1:1"], r#"ulimit "files": unknown"#);
    engine.refused(
        &["--ulimit", "nofile=2048:1024"],
        "ulimit nofile: soft limit 2048 is above the hard limit 1024",
    );
    engine.refused(&["--ulimit", "nofile"], r#"invalid --ulimit "nofile""#);
    engine.refused(
        &["--security-opt", "foo=bar"],
        r#"HostConfig.SecurityOpt "foo=bar": unknown option "foo""#,
    );
    engine.refused(
        &["--security-opt", "no-new-privileges=maybe"],
        r#""maybe" is not a boolean"#,
    );
    let missing = engine.dir().join("missing.json");
    engine.refused(
        &["--security-opt", &format!("seccomp={}", missing.display())],
        &format!("cannot read the seccomp profile {}", missing.display()),
    );
    let not_json = engine.dir().join("profile.yaml");
    std::fs::write(&not_json, "defaultAction: SCMP_ACT_ALLOW\n").unwrap();
    engine.refused(
        &["--security-opt", &format!("seccomp={}", not_json.display())],
        &format!("the seccomp profile {} is not JSON", not_json.display()),
    );
    let bad_profile = engine.dir().join("bad.json");
    std::fs::write(&bad_profile, r#"{"defaultAction":"SCMP_ACT_SOMETIMES"}"#).unwrap();
    engine.refused(
        &[
            "--security-opt",
            &format!("seccomp={}", bad_profile.display()),
        ],
        "SCMP_ACT_SOMETIMES",
    );
    assert_eq!(engine.ok(&["ps", "-a", "-q"]), "", "a refused run created");
    let volumes = engine.stack(&["volume", "ls", "-q"]);
    assert_eq!(stdout(&volumes), "");
    engine.finish(&[]);
}

#[test]
fn the_docker_client_sends_ulimits_and_security_options() {
    let Some(docker) = common::docker_client() else {
        return;
    };
    let Some(engine) = engine() else { return };
    let profile = engine.dir().join("deny-mkdir.json");
    std::fs::write(&profile, DENY_MKDIR).unwrap();
    let docker_run = |args: &[&str]| {
        engine
            .docker(docker)
            .arg("run")
            .arg("--rm")
            .args(args)
            .output()
            .expect("docker")
    };
    // Starts the daemon (docker cannot).
    engine.ok(&["ps"]);
    let out = docker_run(&[
        "--ulimit",
        "nofile=1024:2048",
        "--security-opt",
        "no-new-privileges",
        "busybox",
        "sh",
        "-c",
        &format!("ulimit -n; ulimit -Hn; {STATUS}"),
    ]);
    assert_eq!(
        stdout(&out),
        "1024\n2048\nNoNewPrivs:\t1\nSeccomp:\t2\n",
        "{}",
        stderr(&out)
    );
    let out = docker_run(&[
        "--security-opt",
        "seccomp=unconfined",
        "busybox",
        "sh",
        "-c",
        STATUS,
    ]);
    assert_eq!(
        stdout(&out),
        "NoNewPrivs:\t0\nSeccomp:\t0\n",
        "{}",
        stderr(&out)
    );
    let out = docker_run(&[
        "--security-opt",
        &format!("seccomp={}", profile.display()),
        "busybox",
        "mkdir",
        "/tmp/made",
    ]);
    assert_ne!(out.status.code(), Some(0), "mkdir was allowed");
    assert!(
        stderr(&out).contains("Operation not permitted"),
        "{}",
        stderr(&out)
    );
    let out = docker_run(&["--security-opt", "foo=bar", "busybox", "true"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("foo=bar"), "{}", stderr(&out));
    assert_eq!(engine.ok(&["ps", "-a", "-q"]), "");
    engine.finish(&[]);
}

/// The compose file of the compose tests: one service with ulimits and
/// security options, its profile read from the project directory.
const LIMITED: &str = "name: sec\nservices:\n  limited:\n    image: busybox\n    \
    network_mode: none\n    \
    command: [sh, -c, \"ulimit -u; ulimit -n; ulimit -Hn; grep -E '^(NoNewPrivs|Seccomp):' \
    /proc/self/status; mkdir /tmp/made 2>/dev/null && echo made || echo refused; echo done; sleep 600\"]\n    \
    ulimits:\n      nproc: 64\n      nofile: {soft: 100, hard: 200}\n    \
    security_opt: [no-new-privileges:true, 'seccomp:profiles/deny-mkdir.json']\n";

const LIMITED_OUTPUT: &str = "64\n100\n200\nNoNewPrivs:\t1\nSeccomp:\t2\nrefused\ndone\n";

#[test]
fn compose_ulimits_and_security_opt_reach_the_containers() {
    let Some(project) = Project::new(LIMITED) else {
        return;
    };
    std::fs::create_dir_all(project.dir.join("profiles")).unwrap();
    std::fs::write(project.dir.join("profiles/deny-mkdir.json"), DENY_MKDIR).unwrap();
    project.ok(&["up", "-d"]);
    let deadline = Instant::now() + Duration::from_secs(10);
    let logs = loop {
        let logs = project.ok(&["logs", "--no-log-prefix", "limited"]);
        if logs.contains("done") || Instant::now() > deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(logs.starts_with(LIMITED_OUTPUT), "{logs}");
    let host = &project.inspect("sec-limited-1")["HostConfig"];
    assert_eq!(
        host["Ulimits"],
        serde_json::json!([
            {"Name": "nproc", "Soft": 64, "Hard": 64},
            {"Name": "nofile", "Soft": 100, "Hard": 200}
        ])
    );
    assert_eq!(host["SecurityOpt"][0], "no-new-privileges:true");

    // `run` takes the service's options too; its output is the container's.
    let out = project.run(&[
        "run",
        "--rm",
        "limited",
        "sh",
        "-c",
        "ulimit -Hn; grep NoNewPrivs /proc/self/status; mkdir /tmp/x || echo refused",
    ]);
    assert_eq!(
        stdout(&out),
        "200\nNoNewPrivs:\t1\nrefused\n",
        "{}",
        stderr(&out)
    );
    project.finish();
}

#[test]
fn compose_refuses_a_missing_profile_and_bad_options_before_creating() {
    let Some(project) = Project::new(LIMITED) else {
        return;
    };
    let out = project.run(&["up", "-d"]);
    assert_ne!(out.status.code(), Some(0));
    let missing = project.dir.join("profiles/deny-mkdir.json");
    let message = stderr(&out);
    assert!(
        message.contains("service limited: security_opt \"seccomp:profiles/deny-mkdir.json\"")
            && message.contains(&missing.display().to_string())
            && message.contains("nothing was created"),
        "{message}"
    );
    assert_eq!(project.all_containers(), "");

    project.write(
        "name: sec\nservices:\n  limited:\n    image: busybox\n    network_mode: none\n    \
         command: [true]\n    ulimits: {fsize: 10, nofiles: 5}\n",
    );
    let out = project.run(&["up", "-d"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(stderr(&out).contains("nofiles"), "{}", stderr(&out));
    assert_eq!(project.all_containers(), "");
    project.finish();
}

#[test]
fn a_host_device_is_usable_as_its_permissions_say_and_a_missing_one_is_refused() {
    let Some(engine) = engine() else { return };
    let zeros = engine.ok(&[
        "run",
        "--rm",
        "--network",
        "none",
        "--device",
        "/dev/zero:/dev/stack-zero",
        "busybox",
        "sh",
        "-c",
        "head -c 4 /dev/stack-zero | od -An -tx1; ls -l /dev/stack-zero",
    ]);
    let mut lines = zeros.lines();
    assert_eq!(lines.next().map(str::trim), Some("00 00 00 00"), "{zeros}");
    let listing = lines.next().unwrap_or_default();
    assert!(
        listing.starts_with("crw-rw-rw-") && listing.contains("1,   5"),
        "{zeros}"
    );
    // Read only: the device cgroup lets it be opened for reading only.
    // /dev/fuse is one Docker's rules deny, so only --device's rule counts.
    if std::path::Path::new("/dev/fuse").exists() {
        let out = engine.stack(&[
            "container",
            "run",
            "--rm",
            "--network",
            "none",
            "--device",
            "/dev/fuse:/dev/stack-fuse:r",
            "busybox",
            "sh",
            "-c",
            "exec 3</dev/stack-fuse && echo read; echo x >/dev/stack-fuse || echo refused",
        ]);
        assert_eq!(stdout(&out), "read\nrefused\n", "{}", stderr(&out));
    } else {
        eprintln!("no /dev/fuse on this host: the read-only device case is not run");
    }
    // Without --device the node is not there.
    let out = engine.stack(&[
        "container",
        "run",
        "--rm",
        "--network",
        "none",
        "busybox",
        "ls",
        "/dev/stack-zero",
    ]);
    assert_ne!(out.status.code(), Some(0));
    // A missing device is named, and nothing is created.
    engine.refused(
        &["--device", "/dev/stack-no-such-device"],
        "cannot add device /dev/stack-no-such-device",
    );
    assert_eq!(engine.ok(&["ps", "-a", "-q"]), "");
    engine.finish(&[]);
}

#[test]
fn a_device_cgroup_rule_allows_a_device_dockers_rules_deny() {
    let Some(engine) = engine() else { return };
    // /dev/fuse's numbers: Docker's rules deny them; mknod is allowed.
    let open_fuse =
        "mknod /f c 10 229 && if ( : </f ) 2>/dev/null; then echo opened; else echo denied; fi";
    let run = |rule: Option<&str>| {
        let mut args = vec!["container", "run", "--rm", "--network", "none"];
        if let Some(rule) = rule {
            args.extend(["--device-cgroup-rule", rule]);
        }
        args.extend(["busybox", "sh", "-c", open_fuse]);
        let out = engine.stack(&args);
        assert!(out.status.success(), "{}", stderr(&out));
        stdout(&out)
    };
    assert_eq!(run(None), "denied\n");
    assert_eq!(run(Some("c 10:229 r")), "opened\n");
    engine.refused(
        &["--device-cgroup-rule", "c 10 r"],
        "invalid device cgroup rule \"c 10 r\"",
    );
    assert_eq!(engine.ok(&["ps", "-a", "-q"]), "");
    engine.finish(&[]);
}

#[test]
fn compose_devices_reach_the_container() {
    let Some(project) = Project::new(
        "name: dev\nservices:\n  app:\n    image: busybox\n    network_mode: none\n    \
         devices: [\"/dev/zero:/dev/stack-zero:r\"]\n    \
         device_cgroup_rules: [\"c 10:229 r\"]\n    command: [sleep, \"60\"]\n",
    ) else {
        return;
    };
    project.ok(&["up", "-d"]);
    let host = &project.inspect("dev-app-1")["HostConfig"];
    assert_eq!(
        host["Devices"],
        serde_json::json!([{
            "PathOnHost": "/dev/zero",
            "PathInContainer": "/dev/stack-zero",
            "CgroupPermissions": "r"
        }])
    );
    assert_eq!(host["DeviceCgroupRules"], serde_json::json!(["c 10:229 r"]));
    let out = project.run(&[
        "exec",
        "app",
        "sh",
        "-c",
        "head -c 2 /dev/stack-zero | od -An -tx1",
    ]);
    assert_eq!(stdout(&out).trim(), "00 00", "{}", stderr(&out));
    project.finish();
}

#[test]
fn a_privileged_container_gets_the_hosts_devices() {
    let Some(engine) = engine() else { return };
    // Block devices (the loop devices, the disks) and character devices
    // beyond Docker's standard six, as the host has them.
    let host: Vec<String> = std::fs::read_dir("/dev")
        .unwrap()
        .filter_map(|e| {
            use std::os::unix::fs::FileTypeExt;
            let e = e.ok()?;
            let kind = e.file_type().ok()?;
            (kind.is_block_device() || kind.is_char_device())
                .then(|| e.file_name().to_string_lossy().into_owned())
        })
        .filter(|name| !["console", "ptmx"].contains(&name.as_str()))
        .collect();
    let listing = |privileged: bool| {
        let mut args = vec!["run", "--rm", "--network", "none"];
        if privileged {
            args.push("--privileged");
        }
        args.extend(["busybox", "ls", "/dev"]);
        engine.ok(&args)
    };
    let privileged = listing(true);
    let names: Vec<&str> = privileged.lines().collect();
    let missing: Vec<&String> = host
        .iter()
        .filter(|h| !names.contains(&h.as_str()))
        .collect();
    assert!(missing.is_empty(), "missing {missing:?} in {privileged}");
    let unprivileged = listing(false);
    let extra: Vec<&String> = host
        .iter()
        .filter(|h| unprivileged.lines().any(|l| l == h.as_str()))
        .filter(|h| !["null", "zero", "full", "random", "urandom", "tty"].contains(&h.as_str()))
        .collect();
    assert!(extra.is_empty(), "unprivileged sees {extra:?}");
    engine.finish(&[]);
}
