//! The orchestrator is engine-agnostic: `stack` with `STACK_HOST` pointing
//! at a real Docker Engine (Debian's dockerd 20.10) brings a two-service
//! stack up, runs `ps`, `exec`, `logs`, `images`, `run`, and takes it down,
//! leaving nothing. The test starts its own dockerd on its own socket, data
//! root, exec root and pidfile, with no iptables rules, a default bridge and
//! an address pool of its own (10.253.0.0/16), so that it never touches
//! another engine, the host's firewall or the host's `docker0` (a dockerd
//! told `--bridge=none` deletes `docker0`, the one of a Docker engine the
//! host may run); it stops it and removes all of it after, even when it
//! fails. Without root, dockerd or Docker's client, it says why and skips.

mod common;

use common::{fetch, free_local_port, is_root, stderr, stdout};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const DOCKERD: &str = "/usr/sbin/dockerd";
/// Debian's client: /usr/local/bin/docker may be a newer one.
const DOCKER: &str = "/usr/bin/docker";
/// The address pool of this test's dockerd; its bridges are found by it.
const POOL: &str = "10.253.0.0/16";
const POOL_PREFIX: &str = "10.253.";
/// The default bridge of this test's dockerd, made by the test, and its
/// address (in the pool, so that the clean-up finds it too).
const BRIDGE: &str = "stkt-dockerd";
const BRIDGE_ADDRESS: &str = "10.253.255.1/24";

/// A dockerd of this test's own, stopped and cleaned up on drop.
struct Dockerd {
    dir: tempfile::TempDir,
    child: Option<Child>,
}

impl Dockerd {
    /// Starts dockerd, or says why it cannot and returns `None`.
    fn start() -> Option<Dockerd> {
        if !is_root() {
            eprintln!("skipped: dockerd needs root");
            return None;
        }
        for tool in [DOCKERD, DOCKER, "/bin/busybox"] {
            if !Path::new(tool).exists() {
                eprintln!("skipped: {tool} is missing (scripts/setup installs docker.io and busybox-static)");
                return None;
            }
        }
        let forward = Command::new("iptables")
            .args(["-S", "FORWARD"])
            .output()
            .map(|o| stdout(&o))
            .unwrap_or_default();
        if forward.lines().any(|l| l == "-P FORWARD DROP") {
            eprintln!(
                "skipped: the host's FORWARD policy is DROP (another Docker engine runs here); \
                 this test's dockerd adds no iptables rules, so its containers could not reach each other"
            );
            return None;
        }
        let taken = Command::new("ip")
            .args(["-o", "-4", "addr", "show"])
            .output()
            .map(|o| stdout(&o).contains(&format!(" {POOL_PREFIX}")))
            .unwrap_or(false);
        if taken {
            eprintln!("skipped: an interface already has an address in {POOL}");
            return None;
        }
        let mut dockerd = Dockerd {
            dir: tempfile::Builder::new()
                .prefix("stkdk")
                .tempdir_in("/tmp")
                .expect("tempdir"),
            child: None,
        };
        std::fs::write(dockerd.path("daemon.json"), "{}").expect("daemon.json");
        for args in [
            vec!["link", "add", BRIDGE, "type", "bridge"],
            vec!["addr", "add", BRIDGE_ADDRESS, "dev", BRIDGE],
            vec!["link", "set", BRIDGE, "up"],
        ] {
            let out = Command::new("ip").args(&args).output().expect("ip");
            assert!(out.status.success(), "ip {args:?}: {}", stderr(&out));
        }
        let log = std::fs::File::create(dockerd.path("dockerd.log")).expect("log");
        let spawned = Command::new(DOCKERD)
            .arg("--host")
            .arg(dockerd.host())
            .arg("--data-root")
            .arg(dockerd.path("data"))
            .arg("--exec-root")
            .arg(dockerd.path("exec"))
            .arg("--pidfile")
            .arg(dockerd.path("dockerd.pid"))
            .arg("--config-file")
            .arg(dockerd.path("daemon.json"))
            .args([
                "--iptables=false",
                "--ip-forward=false",
                "--ip-masq=false",
                &format!("--bridge={BRIDGE}"),
                "--default-address-pool",
                &format!("base={POOL},size=24"),
            ])
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log)
            .spawn();
        match spawned {
            Ok(child) => dockerd.child = Some(child),
            Err(e) => {
                eprintln!("skipped: cannot start {DOCKERD}: {e}");
                return None;
            }
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if dockerd.docker(&["version"]).status.success() {
                return Some(dockerd);
            }
            std::thread::sleep(Duration::from_millis(200));
        }
        let log = std::fs::read_to_string(dockerd.path("dockerd.log")).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(5).collect();
        eprintln!("skipped: dockerd did not answer within 30 s; its log ends:");
        for line in tail.iter().rev() {
            eprintln!("  {line}");
        }
        None
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn host(&self) -> String {
        format!("unix://{}", self.path("docker.sock").display())
    }

    /// Docker's own client against this dockerd.
    fn docker(&self, args: &[&str]) -> Output {
        Command::new(DOCKER)
            .arg("-H")
            .arg(self.host())
            .args(args)
            .output()
            .expect("run docker")
    }

    /// `stack ARGS` in `dir` with `STACK_HOST` naming this dockerd (and a
    /// state root of the test's own, which must stay unused).
    fn stack(&self, dir: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_stack"))
            .args(args)
            .current_dir(dir)
            .env("STACK_HOST", self.host())
            .env("STACK_ROOT", self.path("stack-root"))
            .env("STACK_RUN_DIR", self.path("stack-run"))
            .env_remove("DOCKER_HOST")
            .output()
            .expect("run stack")
    }

    /// `stack ARGS`, which must succeed; its stdout.
    fn ok(&self, dir: &Path, args: &[&str]) -> String {
        let out = self.stack(dir, args);
        assert!(
            out.status.success(),
            "stack {args:?} against dockerd failed: {}{}",
            stdout(&out),
            stderr(&out)
        );
        stdout(&out)
    }

    /// `busybox:latest` in this dockerd: `docker import` of a root
    /// filesystem made of the host's /bin/busybox.
    fn import_busybox(&self) {
        let rootfs = self.path("rootfs");
        std::fs::create_dir_all(rootfs.join("bin")).unwrap();
        std::fs::create_dir_all(rootfs.join("etc")).unwrap();
        std::fs::copy("/bin/busybox", rootfs.join("bin/busybox")).unwrap();
        let applets = Command::new("/bin/busybox").arg("--list").output().unwrap();
        for applet in stdout(&applets).lines().filter(|a| *a != "busybox") {
            std::os::unix::fs::symlink("busybox", rootfs.join("bin").join(applet)).unwrap();
        }
        std::fs::write(rootfs.join("etc/passwd"), "root:x:0:0:root:/root:/bin/sh\n").unwrap();
        std::fs::write(rootfs.join("etc/group"), "root:x:0:\n").unwrap();
        let tar = self.path("rootfs.tar");
        let packed = Command::new("tar")
            .arg("-C")
            .arg(&rootfs)
            .arg("-cf")
            .arg(&tar)
            .arg(".")
            .status()
            .expect("tar");
        assert!(packed.success());
        let out = self.docker(&["import", tar.to_str().unwrap(), "busybox:latest"]);
        assert!(out.status.success(), "docker import: {}", stderr(&out));
    }
}

/// Links with an address of this test's pool: the bridges its dockerd made.
fn pool_links() -> Vec<String> {
    let out = Command::new("ip")
        .args(["-o", "-4", "addr", "show"])
        .output()
        .expect("ip addr");
    stdout(&out)
        .lines()
        .filter(|l| l.contains(&format!(" {POOL_PREFIX}")))
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect()
}

impl Drop for Dockerd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg(child.id().to_string()).status();
            let deadline = Instant::now() + Duration::from_secs(20);
            while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
        // Its containerd and shims, should they outlive it.
        for pid in common::processes_naming(self.dir.path()) {
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        }
        for mount in common::mounts_under(self.dir.path()).iter().rev() {
            let _ = Command::new("umount").args(["-l", mount]).status();
        }
        for link in pool_links() {
            let _ = Command::new("ip").args(["link", "del", &link]).status();
        }
    }
}

/// Docker's chains in the host's iptables (filter and nat), and the
/// built-in chains' policies (dockerd with forwarding sets FORWARD's to DROP).
fn iptables_chains() -> Vec<String> {
    let mut chains = Vec::new();
    for table in ["filter", "nat"] {
        if let Ok(out) = Command::new("iptables").args(["-t", table, "-S"]).output() {
            chains.extend(
                stdout(&out)
                    .lines()
                    .filter(|l| l.starts_with("-N DOCKER") || l.starts_with("-P "))
                    .map(|l| format!("{table} {l}")),
            );
        }
    }
    chains
}

#[test]
fn stack_drives_a_real_docker_engine() {
    let chains_before = iptables_chains();
    let Some(dockerd) = Dockerd::start() else {
        return;
    };
    dockerd.import_busybox();
    let dir = dockerd.path("project");
    std::fs::create_dir_all(dir.join("site")).unwrap();
    std::fs::write(dir.join("site/index.html"), "hello from the site\n").unwrap();
    let port = free_local_port();
    std::fs::write(
        dir.join("compose.yaml"),
        format!(
            "name: dk
services:
  db:
    image: busybox
    command: [sh, -c, 'echo db up; echo stored > /data/x; exec sleep 600']
    volumes: [data:/data]
    healthcheck:
      test: [CMD, test, -f, /data/x]
      interval: 200ms
  web:
    image: busybox
    command: [httpd, -f, -p, '80', -h, /site]
    volumes: ['./site:/site:ro']
    ports: ['127.0.0.1:{port}:80']
    depends_on:
      db: {{condition: service_healthy}}
volumes:
  data: {{}}
"
        ),
    )
    .unwrap();

    dockerd.ok(&dir, &["up", "-d", "--wait"]);
    let ps: Vec<Value> = dockerd
        .ok(&dir, &["ps", "--format", "json"])
        .lines()
        .map(|l| serde_json::from_str(l).expect("ps json"))
        .collect();
    let state: Vec<(String, String, String)> = ps
        .iter()
        .map(|c| {
            (
                c["Name"].as_str().unwrap().to_owned(),
                c["State"].as_str().unwrap().to_owned(),
                c["Health"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(
        state,
        [
            ("dk-db-1".into(), "running".into(), "healthy".into()),
            ("dk-web-1".into(), "running".into(), String::new()),
        ]
    );
    // Docker's own client sees what stack made, labelled as Compose labels it.
    let labels = dockerd.docker(&[
        "ps",
        "--filter",
        "label=com.docker.compose.project=dk",
        "--format",
        "{{.Names}} {{.Label \"com.docker.compose.service\"}}",
    ]);
    let mut listed: Vec<String> = stdout(&labels).lines().map(str::to_owned).collect();
    listed.sort();
    assert_eq!(listed, ["dk-db-1 db", "dk-web-1 web"]);

    assert_eq!(fetch(port), "hello from the site\n");
    assert_eq!(
        dockerd.ok(
            &dir,
            &["exec", "-T", "web", "wget", "-qO-", "http://localhost/"]
        ),
        "hello from the site\n"
    );
    assert_eq!(
        dockerd.ok(
            &dir,
            &[
                "exec",
                "-T",
                "web",
                "sh",
                "-c",
                "ping -c1 -W2 db >/dev/null && echo reached"
            ]
        ),
        "reached\n"
    );
    let logs = dockerd.ok(&dir, &["logs", "--no-log-prefix", "db"]);
    assert_eq!(logs, "db up\n");
    let images = dockerd.ok(&dir, &["images", "-q"]);
    assert_eq!(images.lines().count(), 1, "{images}");
    assert_eq!(
        dockerd.ok(&dir, &["run", "--rm", "--no-deps", "db", "cat", "/data/x"]),
        "stored\n"
    );
    let again = dockerd.stack(&dir, &["up", "-d"]);
    assert!(again.status.success(), "{}", stderr(&again));
    assert!(
        !stderr(&again).contains("Creating"),
        "a second up changes nothing: {}",
        stderr(&again)
    );

    dockerd.ok(&dir, &["down", "-v", "-t", "1"]);
    assert_eq!(stdout(&dockerd.docker(&["ps", "-aq"])), "");
    assert_eq!(stdout(&dockerd.docker(&["volume", "ls", "-q"])), "");
    let networks = stdout(&dockerd.docker(&["network", "ls", "--format", "{{.Name}}"]));
    assert!(!networks.contains("dk_"), "down left networks: {networks}");
    assert_eq!(pool_links(), [BRIDGE], "down left bridges");
    assert!(
        !dockerd.path("stack-root").exists(),
        "stack started its own daemon instead of using dockerd"
    );

    drop(dockerd);
    assert_eq!(iptables_chains(), chains_before, "dockerd changed iptables");
    assert_eq!(pool_links(), Vec::<String>::new());
}
