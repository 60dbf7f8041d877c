//! The daemon end to end, as a client sees it: a daemon on a socket in a
//! tempdir with a tempdir state root, spoken to with a hyper client and, if
//! one is installed, the `docker` CLI (only the client; no Docker daemon).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use stack_engine::daemon::{self, DaemonConfig, DaemonError};
use tokio::net::UnixStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// A daemon running in this process, stopped by `stop`.
struct Running {
    dir: tempfile::TempDir,
    config: DaemonConfig,
    stop: oneshot::Sender<()>,
    task: JoinHandle<Result<(), DaemonError>>,
}

fn config(dir: &Path) -> DaemonConfig {
    DaemonConfig::new(dir.join("root"), dir.join("run"))
}

async fn start() -> Running {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(daemon::run(config.clone(), async {
        let _ = stopped.await;
    }));
    wait_for_socket(&config.socket).await;
    Running {
        dir,
        config,
        stop,
        task,
    }
}

async fn wait_for_socket(socket: &Path) {
    for _ in 0..500 {
        // A stale socket file may exist before the daemon's: wait for an answer.
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the daemon never answered on {}", socket.display());
}

impl Running {
    async fn stop(self) -> tempfile::TempDir {
        self.stop.send(()).unwrap();
        let result = tokio::time::timeout(Duration::from_secs(15), self.task).await;
        result.expect("the daemon stops promptly").unwrap().unwrap();
        self.dir
    }

    async fn send(&self, method: &str, path: &str, body: &str) -> Response<Incoming> {
        let stream = UnixStream::connect(&self.config.socket).await.unwrap();
        let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .unwrap();
        tokio::spawn(connection);
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("Host", "stack")
            .header("Content-Type", "application/json")
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        sender.send_request(request).await.unwrap()
    }

    /// Status and JSON body (`Null` for an empty body).
    async fn call(&self, method: &str, path: &str, body: &str) -> (StatusCode, Value) {
        let response = self.send(method, path, body).await;
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        let value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into()))
        };
        (status, value)
    }
}

fn encode(filters: Value) -> String {
    filters
        .to_string()
        .bytes()
        .map(|b| format!("%{b:02X}"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serves_system_endpoints_on_a_private_socket() {
    let daemon = start().await;
    let mode = std::fs::metadata(&daemon.config.socket)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "socket mode {mode:o}");

    let ping = daemon.send("GET", "/_ping", "").await;
    assert_eq!(ping.status(), StatusCode::OK);
    assert_eq!(ping.headers()["API-Version"], "1.44");
    assert_eq!(ping.headers()["OSType"], "linux");
    assert_eq!(ping.headers()["Docker-Experimental"], "false");
    assert_eq!(
        &ping.into_body().collect().await.unwrap().to_bytes()[..],
        b"OK"
    );
    let head = daemon.send("HEAD", "/v1.41/_ping", "").await;
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["API-Version"], "1.44");

    let (status, version) = daemon.call("GET", "/v1.41/version", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(version["ApiVersion"], "1.44");
    assert_eq!(version["MinAPIVersion"], "1.24");
    assert_eq!(version["Os"], "linux");

    let (status, info) = daemon.call("GET", "/info", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(info["Containers"], 0);
    assert_eq!(info["Images"], 0);
    assert!(info["NCPU"].as_i64().unwrap() >= 1);
    assert!(info["MemTotal"].as_i64().unwrap() > 0);
    assert!(!info["KernelVersion"].as_str().unwrap().is_empty());
    assert!(["1", "2"].contains(&info["CgroupVersion"].as_str().unwrap()));
    assert_eq!(info["CgroupDriver"], "cgroupfs");
    assert_eq!(
        info["DockerRootDir"],
        daemon.config.root.display().to_string()
    );
    let id = info["ID"].as_str().unwrap().to_string();

    let (status, error) = daemon.call("POST", "/v1.41/build", "").await;
    assert_eq!(status, StatusCode::NOT_IMPLEMENTED);
    assert!(
        error["message"]
            .as_str()
            .unwrap()
            .contains("POST /v1.41/build"),
        "{error}"
    );
    let (status, error) = daemon.call("GET", "/info?verbose=1", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"].as_str().unwrap().contains("\"verbose\""),
        "{error}"
    );
    let (status, error) = daemon.call("GET", "/v1.99/version", "").await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"].as_str().unwrap().contains("too new"),
        "{error}"
    );
    let (status, _) = daemon.call("GET", "/nothing", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let dir = daemon.stop().await;
    // Nothing left in the run directory; the identity survives a restart.
    assert_eq!(
        std::fs::read_dir(dir.path().join("run")).unwrap().count(),
        0
    );
    let daemon = start_in(dir).await;
    let (_, info) = daemon.call("GET", "/info", "").await;
    assert_eq!(info["ID"], id.as_str());
    daemon.stop().await;
}

async fn start_in(dir: tempfile::TempDir) -> Running {
    let config = config(dir.path());
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(daemon::run(config.clone(), async {
        let _ = stopped.await;
    }));
    wait_for_socket(&config.socket).await;
    Running {
        dir,
        config,
        stop,
        task,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volumes_and_their_events() {
    let daemon = start().await;
    // A follower of volume events, connected before anything happens.
    let events = daemon
        .send(
            "GET",
            &format!("/events?filters={}", encode(json!({"type": ["volume"]}))),
            "",
        )
        .await;
    assert_eq!(events.status(), StatusCode::OK);
    let mut events = events.into_body();

    let (status, created) = daemon
        .call(
            "POST",
            "/v1.41/volumes/create",
            r#"{"Name":"data","Driver":"local","DriverOpts":{},"Labels":{"app":"db"}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["Name"], "data");
    assert_eq!(created["Driver"], "local");
    assert_eq!(created["Scope"], "local");
    assert_eq!(created["Labels"]["app"], "db");
    let mountpoint = PathBuf::from(created["Mountpoint"].as_str().unwrap());
    assert_eq!(mountpoint, daemon.config.root.join("volumes/data/_data"));
    assert!(mountpoint.is_dir());

    let frame = tokio::time::timeout(Duration::from_secs(5), events.frame())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let event: Value = serde_json::from_slice(frame.data_ref().unwrap()).unwrap();
    assert_eq!(event["Type"], "volume");
    assert_eq!(event["Action"], "create");
    assert_eq!(event["Actor"]["ID"], "data");
    assert_eq!(event["Actor"]["Attributes"]["driver"], "local");

    let (status, anonymous) = daemon.call("POST", "/volumes/create", "{}").await;
    assert_eq!(status, StatusCode::CREATED);
    let anonymous = anonymous["Name"].as_str().unwrap().to_string();
    assert_eq!(anonymous.len(), 64);

    let (status, error) = daemon
        .call(
            "POST",
            "/volumes/create",
            r#"{"Name":"x1","DriverOpts":{"type":"nfs"}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"].as_str().unwrap().contains("\"type\""),
        "{error}"
    );
    let (status, error) = daemon
        .call("POST", "/volumes/create", r#"{"Name":"x1","Nmae":"x"}"#)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"].as_str().unwrap().contains("\"Nmae\""),
        "{error}"
    );
    let (status, _) = daemon
        .call("POST", "/volumes/create", r#"{"Name":"../etc"}"#)
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _) = daemon
        .call(
            "POST",
            "/volumes/create",
            r#"{"Name":"data","Labels":{"app":"other"}}"#,
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);

    let list = |filters: Value| {
        let daemon = &daemon;
        async move {
            let (status, body) = daemon
                .call("GET", &format!("/volumes?filters={}", encode(filters)), "")
                .await;
            assert_eq!(status, StatusCode::OK, "{body}");
            let mut names: Vec<String> = body["Volumes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["Name"].as_str().unwrap().to_string())
                .collect();
            names.sort();
            names
        }
    };
    assert_eq!(list(json!({})).await.len(), 2);
    assert_eq!(list(json!({"label": ["app=db"]})).await, ["data"]);
    assert_eq!(list(json!({"name": ["dat"]})).await, ["data"]);
    assert_eq!(list(json!({"dangling": ["true"]})).await.len(), 2);
    assert!(list(json!({"driver": ["nfs"]})).await.is_empty());
    let (status, error) = daemon
        .call(
            "GET",
            &format!("/volumes?filters={}", encode(json!({"colour": ["x"]}))),
            "",
        )
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert!(
        error["message"].as_str().unwrap().contains("'colour'"),
        "{error}"
    );

    let (status, inspected) = daemon.call("GET", "/volumes/data", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(inspected["CreatedAt"], created["CreatedAt"]);
    let (status, error) = daemon.call("GET", "/volumes/nope", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(error["message"], "get nope: no such volume");

    // API 1.42+: prune spares named volumes unless all=true.
    let (status, pruned) = daemon.call("POST", "/v1.44/volumes/prune", "").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(pruned["VolumesDeleted"], json!([anonymous]));
    let (status, _) = daemon.call("DELETE", "/volumes/data", "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert!(!mountpoint.exists());
    let (status, _) = daemon.call("DELETE", "/volumes/data", "").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = daemon.call("DELETE", "/volumes/data?force=1", "").await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // Past events: everything since 0 until now, then the stream ends.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let path = format!(
        "/events?since=0&until={now:.9}&filters={}",
        encode(json!({"event": ["destroy"]}))
    );
    let (status, body) = daemon.call("GET", &path, "").await;
    assert_eq!(status, StatusCode::OK);
    let Value::String(lines) = body else {
        panic!("expected several JSON lines, got {body}")
    };
    let destroyed: Vec<String> = lines
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["Actor"]["ID"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(destroyed, [anonymous.as_str(), "data"]);

    // The open event stream does not keep the daemon from stopping.
    let dir = daemon.stop().await;
    let volumes = dir.path().join("root/volumes");
    assert_eq!(std::fs::read_dir(volumes).unwrap().count(), 0);
    drop(events);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_daemons_never_share_a_root_or_a_socket() {
    let daemon = start().await;
    let same_root = DaemonConfig {
        socket: daemon.dir.path().join("other.sock"),
        ..daemon.config.clone()
    };
    let err = daemon::run(same_root, async {}).await.unwrap_err();
    let message = err.to_string();
    assert!(matches!(err, DaemonError::Locked(_)), "{message}");
    assert!(
        message.contains(&format!("pid {}", std::process::id())),
        "{message}"
    );
    assert!(
        message.contains(&daemon.config.root.display().to_string()),
        "{message}"
    );
    assert!(!daemon.dir.path().join("other.sock").exists());

    let other = tempfile::tempdir().unwrap();
    let same_socket = DaemonConfig {
        socket: daemon.config.socket.clone(),
        ..config(other.path())
    };
    let err = daemon::run(same_socket, async {}).await.unwrap_err();
    assert!(matches!(err, DaemonError::SocketInUse { .. }), "{err}");
    // The first daemon still answers.
    let (status, _) = daemon.call("GET", "/_ping", "").await;
    assert_eq!(status, StatusCode::OK);
    daemon.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stale_socket_is_replaced() {
    let dir = tempfile::tempdir().unwrap();
    let config = config(dir.path());
    std::fs::create_dir_all(&config.run_dir).unwrap();
    drop(std::os::unix::net::UnixListener::bind(&config.socket).unwrap());
    let daemon = start_in(dir).await;
    let (status, _) = daemon.call("GET", "/_ping", "").await;
    assert_eq!(status, StatusCode::OK);
    daemon.stop().await;
}

/// Every `docker` CLI installed (Debian's docker.io gives /usr/bin/docker,
/// API 1.41; a newer one may sit in /usr/local/bin); only clients are run.
fn docker_clis() -> Vec<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut found: Vec<PathBuf> = std::env::split_paths(&path)
        .map(|dir| dir.join("docker"))
        .collect();
    found.push(PathBuf::from("/usr/bin/docker"));
    found.retain(|p| p.is_file());
    let mut seen = Vec::new();
    found.retain(|p| {
        let real = std::fs::canonicalize(p).unwrap_or_else(|_| p.clone());
        let new = !seen.contains(&real);
        seen.push(real);
        new
    });
    found
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_docker_cli_talks_to_the_daemon() {
    let clis = docker_clis();
    if clis.is_empty() {
        eprintln!("skipped: no docker CLI installed (apt-get install docker.io gives one)");
        return;
    }
    for docker in clis {
        let daemon = start().await;
        let host = format!("unix://{}", daemon.config.socket.display());
        let config_dir = daemon.dir.path().join("docker-config");
        let mountpoint = daemon.config.root.join("volumes/cli-vol/_data");
        let run = move |args: &[&str]| {
            let output = std::process::Command::new(&docker)
                .arg("-H")
                .arg(&host)
                .args(args)
                .env("DOCKER_CONFIG", &config_dir)
                .env_remove("DOCKER_HOST")
                .env_remove("DOCKER_CONTEXT")
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            let what = format!("{} {args:?}", docker.display());
            (output.status.success(), stdout, format!("{what}: {stderr}"))
        };
        tokio::task::spawn_blocking(move || {
            let ok = |args: &[&str]| {
                let (success, stdout, stderr) = run(args);
                assert!(success, "{stderr}");
                stdout
            };
            let version = ok(&[
                "version",
                "--format",
                "{{.Server.APIVersion}} {{.Server.Os}}",
            ]);
            assert_eq!(version, "1.44 linux");
            assert!(ok(&["info"]).contains("Cgroup Version:"));
            assert_eq!(
                ok(&["volume", "create", "--label", "k=v", "cli-vol"]),
                "cli-vol"
            );
            assert_eq!(
                ok(&["volume", "ls", "--quiet", "--filter", "label=k=v"]),
                "cli-vol"
            );
            let inspect = ok(&[
                "volume",
                "inspect",
                "--format",
                "{{.Driver}} {{.Mountpoint}}",
                "cli-vol",
            ]);
            assert_eq!(inspect, format!("local {}", mountpoint.display()));
            assert_eq!(ok(&["volume", "rm", "cli-vol"]), "cli-vol");
            let (success, _, stderr) = run(&["volume", "inspect", "cli-vol"]);
            assert!(
                !success && stderr.to_lowercase().contains("no such volume"),
                "{stderr}"
            );
            let anonymous = ok(&["volume", "create"]);
            assert!(ok(&["volume", "prune", "--force"]).contains(&anonymous));
            // The CLI sends `until` in whole seconds: let this second pass.
            std::thread::sleep(Duration::from_millis(1100));
            let events = ok(&[
                "events",
                "--since",
                "0",
                "--until",
                "0s",
                "--filter",
                "type=volume",
                "--format",
                "{{.Action}} {{.Actor.ID}}",
            ]);
            assert!(
                events.contains("create cli-vol") && events.contains("destroy cli-vol"),
                "{events}"
            );
            assert!(ok(&["ps", "-a"]).starts_with("CONTAINER ID"));
            let networks = ok(&["network", "ls", "--format", "{{.Name}} {{.Driver}}"]);
            assert_eq!(networks.trim(), "bridge bridge\nhost host\nnone null");
        })
        .await
        .unwrap();
        daemon.stop().await;
    }
}
