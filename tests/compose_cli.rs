//! The Compose commands end to end, as root, through the real binary: each
//! test has its own engine (state root, run directory, daemon), a busybox
//! image imported from the host's /bin/busybox, and a project directory
//! with a compose file. Services use `network_mode: none`. Every test ends
//! with `down` and checks that nothing of the project is left: no
//! container, no volume (after `-v`), no mount under its root, no cgroup,
//! no process but the daemon.

mod common;
#[path = "common/project.rs"]
mod project;

use common::{stderr, stdout};
use project::Project;
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A service command that prints `text`, then runs until SIGTERM, which
/// ends it at once.
fn sleeper(text: &str) -> String {
    format!(
        "[sh, -c, 'trap \"echo bye; exit 0\" TERM; echo {text}; while true; do sleep 0.1; done']"
    )
}

/// Project `app`: a `job` that exits with `code` after `delay` seconds,
/// and a `side` service that runs until stopped.
fn job_and_side(delay: &str, code: u8) -> String {
    format!(
        "name: app\nservices:\n  job:\n    image: busybox\n    network_mode: none\n    \
         command: [sh, -c, 'sleep {delay}; exit {code}']\n  side:\n    image: busybox\n    \
         network_mode: none\n    command: {}\n",
        sleeper("side")
    )
}

fn three_services(web_env: &str) -> String {
    format!(
        "name: app
services:
  db:
    image: busybox
    network_mode: none
    command: {db}
  migrate:
    image: busybox
    network_mode: none
    command: [sh, -c, 'echo migrating; sleep 0.3']
    depends_on: [db]
  web:
    image: busybox
    network_mode: none
    command: {web}
    environment: {{GREETING: {web_env}}}
    depends_on:
      db: {{condition: service_started}}
      migrate: {{condition: service_completed_successfully}}
",
        db = sleeper("db up"),
        web = sleeper("web up")
    )
}

/// A time of the engine's inspect output (RFC 3339, UTC, the fraction
/// possibly shortened) as seconds since the day began (tests run within
/// one day's minutes).
fn time(container: &Value, field: &str) -> f64 {
    let text = container["State"][field].as_str().unwrap_or_default();
    let clock = text
        .split_once('T')
        .map_or("", |(_, clock)| clock)
        .trim_end_matches('Z');
    let parts: Vec<f64> = clock.split(':').filter_map(|p| p.parse().ok()).collect();
    match parts.as_slice() {
        [h, m, s] => h * 3600.0 + m * 60.0 + s,
        _ => panic!("{field} is not a time: {text:?}"),
    }
}

#[test]
fn up_starts_in_dependency_order_and_converges() {
    let Some(p) = Project::new(&three_services("hello")) else {
        return;
    };
    p.ok(&["up", "-d"]);
    let containers = p.ps();
    let state = |name: &str| {
        containers
            .iter()
            .find(|c| c["Name"] == name)
            .map(|c| c["State"].as_str().unwrap().to_owned())
    };
    assert_eq!(state("app-db-1").as_deref(), Some("running"));
    assert_eq!(state("app-migrate-1").as_deref(), Some("exited"));
    assert_eq!(state("app-web-1").as_deref(), Some("running"));
    // migrate started after db, web only after migrate had finished.
    let (db, migrate, web) = (
        p.inspect("app-db-1"),
        p.inspect("app-migrate-1"),
        p.inspect("app-web-1"),
    );
    assert!(time(&migrate, "StartedAt") >= time(&db, "StartedAt"));
    assert!(time(&web, "StartedAt") >= time(&migrate, "FinishedAt"));
    for c in &containers {
        assert_eq!(c["Project"], "app");
        assert!(c["Labels"]
            .as_str()
            .unwrap()
            .contains("com.docker.compose.config-hash="));
    }

    // Unchanged: the running services keep their containers.
    let (db_id, web_id) = (p.id("app-db-1"), p.id("app-web-1"));
    let started = time(&p.inspect("app-web-1"), "StartedAt");
    p.ok(&["up", "-d"]);
    assert_eq!(p.id("app-db-1"), db_id);
    assert_eq!(p.id("app-web-1"), web_id);
    assert_eq!(time(&p.inspect("app-web-1"), "StartedAt"), started);

    // One service's environment changed: only it is recreated.
    p.write(&three_services("changed"));
    let out = p.run(&["up", "-d", "--progress", "json"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.id("app-db-1"), db_id);
    assert_ne!(p.id("app-web-1"), web_id);
    let env = p.inspect("app-web-1")["Config"]["Env"].clone();
    assert!(env
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e == "GREETING=changed"));
    let events: Vec<Value> = stderr(&out)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(events
        .iter()
        .any(|e| e["name"] == "app-web-1" && e["text"] == "Started" && e["status"] == "done"));
    assert!(!events.iter().any(|e| e["name"] == "app-db-1"));
    p.finish();
}

#[test]
fn orphans_are_named_and_removed_on_request() {
    let two = format!(
        "name: app\nservices:\n  a:\n    image: busybox\n    network_mode: none\n    command: {a}\n  \
         old:\n    image: busybox\n    network_mode: none\n    command: {a}\n",
        a = sleeper("a")
    );
    let Some(p) = Project::new(&two) else { return };
    p.ok(&["up", "-d"]);
    p.write(&format!(
        "name: app\nservices:\n  a:\n    image: busybox\n    network_mode: none\n    command: {}\n",
        sleeper("a")
    ));
    let out = p.run(&["up", "-d"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("found orphan containers (app-old-1)"),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.ids().len(), 2);
    p.ok(&["up", "-d", "--remove-orphans"]);
    let names: Vec<String> = p.ids().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["app-a-1"]);

    // Without the file, `-p NAME` finds the project by its labels alone.
    let elsewhere = |args: &[&str]| {
        let mut command = p.command(args);
        command.current_dir(p.engine.dir());
        command.output().expect("run stack")
    };
    let out = elsewhere(&["-p", "app", "ps", "-q"]);
    assert_eq!(stdout(&out).lines().count(), 1, "{}", stderr(&out));
    let out = elsewhere(&["-p", "app", "down", "-t", "0"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(p.all_containers(), "");
    p.finish();
}

#[test]
fn a_failed_one_shot_dependency_fails_up_naming_it_and_its_code() {
    let compose = format!(
        "name: app
services:
  db:
    image: busybox
    network_mode: none
    command: {db}
  migrate:
    image: busybox
    network_mode: none
    command: [sh, -c, 'exit 3']
  web:
    image: busybox
    network_mode: none
    command: {db}
    depends_on:
      db: {{condition: service_started}}
      migrate: {{condition: service_completed_successfully}}
",
        db = sleeper("up")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("service \"migrate\" didn't complete successfully: exit 3"),
        "{err}"
    );
    assert!(err.contains("service \"web\""), "{err}");
    // Already started services stay up; the dependent, never started, is
    // not left behind half-made.
    let containers = p.ps();
    let state = |name: &str| {
        containers
            .iter()
            .find(|c| c["Name"] == name)
            .map(|c| c["State"].as_str().unwrap().to_owned())
    };
    assert_eq!(state("app-db-1").as_deref(), Some("running"));
    assert_eq!(state("app-web-1"), None);
    p.finish();
}

#[test]
fn a_service_that_cannot_start_fails_up_naming_it() {
    let compose = format!(
        "name: app\nservices:\n  ok:\n    image: busybox\n    network_mode: none\n    command: {}\n  \
         broken:\n    image: busybox\n    network_mode: none\n    command: [/nonexistent]\n  \
         after:\n    image: busybox\n    network_mode: none\n    command: {}\n    \
         depends_on: [broken]\n",
        sleeper("ok"),
        sleeper("after")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("error: service \"broken\": container app-broken-1:"),
        "{err}"
    );
    assert!(err.contains("/nonexistent"), "{err}");
    let names: Vec<String> = p.ids().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["app-ok-1"]);
    p.finish();
}

#[test]
fn a_failed_up_leaves_no_network_that_nothing_uses() {
    let compose =
        "name: lone\nservices:\n  broken:\n    image: busybox\n    command: [/nonexistent]\n";
    let Some(p) = Project::new(compose) else {
        return;
    };
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("service \"broken\""),
        "{}",
        stderr(&out)
    );
    assert_eq!(p.all_containers(), "");
    let networks = p.ok(&["network", "ls", "--format", "{{.Name}}"]);
    assert!(!networks.contains("lone_default"), "{networks}");
    p.finish();
}

#[test]
fn named_volumes_survive_down_and_go_with_down_v() {
    let compose = "name: app
services:
  keeper:
    image: busybox
    network_mode: none
    volumes: [data:/data]
    command: [sh, -c, 'trap \"exit 0\" TERM; if [ -f /data/seen ]; then echo again; else echo first; touch /data/seen; fi; while true; do sleep 0.1; done']
volumes:
  data: {}
";
    let Some(p) = Project::new(compose) else {
        return;
    };
    let logs = |p: &Project| {
        // The first line may take a moment to be written.
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let out = p.ok(&["logs", "--no-log-prefix"]);
            if !out.is_empty() || Instant::now() > deadline {
                return out;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    p.ok(&["up", "-d"]);
    assert_eq!(logs(&p), "first\n");
    p.ok(&["down"]);
    assert!(p.ok(&["volume", "ls", "-q"]).contains("app_data"));
    p.ok(&["up", "-d"]);
    assert_eq!(logs(&p), "again\n");
    p.ok(&["down", "-v"]);
    assert!(!p.ok(&["volume", "ls", "-q"]).contains("app_data"));
    p.ok(&["up", "-d"]);
    assert_eq!(logs(&p), "first\n");
    p.finish();
}

#[test]
fn nothing_is_created_when_up_cannot_succeed() {
    let held = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = held.local_addr().unwrap().port();
    let compose = format!(
        "name: app
services:
  web:
    image: busybox
    command: {cmd}
    ports: ['127.0.0.1:{port}:80']
  gone:
    image: nothere:1
    network_mode: none
volumes:
  ext:
    external: true
",
        cmd = sleeper("x")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains("\"nothere:1\", which is not in the engine"),
        "{err}"
    );
    assert!(err.contains("volume \"ext\" is external"), "{err}");
    assert!(
        err.contains(&format!(
            "publishes port 127.0.0.1:{port}, which is not free"
        )),
        "{err}"
    );
    assert_eq!(p.all_containers(), "");
    drop(held);
    p.finish();
}

#[test]
fn builds_and_pulls_are_refused_by_name_before_anything_is_created() {
    let compose = format!(
        "name: imgs\nservices:\n  web:\n    image: busybox\n    network_mode: none\n    \
         command: {cmd}\n  app:\n    build: .\n    image: app:dev\n    network_mode: none\n",
        cmd = sleeper("x")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    let cases: [(&[&str], &str); 3] = [
        (
            &["up", "-d", "--build"],
            "service \"app\" (--build): stack cannot build",
        ),
        (
            &["up", "-d", "--pull", "always", "web"],
            "--pull always: stack cannot pull",
        ),
        (
            &["up", "-d"],
            "builds image \"app:dev\", which is not in the engine",
        ),
    ];
    for (args, expected) in cases {
        let out = p.run(args);
        assert!(!out.status.success(), "{args:?} succeeded");
        let err = stderr(&out);
        assert!(err.contains(expected), "{args:?}: {err}");
        assert!(err.contains("nothing was created"), "{args:?}: {err}");
        assert_eq!(p.all_containers(), "", "{args:?}");
    }
    p.ok(&["up", "-d", "--pull", "missing", "--no-build", "web"]);
    assert_eq!(p.all_containers().lines().count(), 1);
    p.ok(&["down", "-t", "0"]);
    p.finish();
}

#[test]
fn foreground_up_prints_prefixed_logs_and_ctrl_c_stops_everything() {
    let compose = format!(
        "name: fg\nservices:\n  a:\n    image: busybox\n    network_mode: none\n    command: {a}\n  \
         bb:\n    image: busybox\n    network_mode: none\n    command: {b}\n    depends_on: [a]\n",
        a = sleeper("hello-a"),
        b = sleeper("hello-b")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    let mut child = p
        .command(&["up"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn up");
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            let _ = tx.send(line);
        }
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while !(seen.iter().any(|l| l == "a-1  | hello-a")
        && seen.iter().any(|l| l == "bb-1 | hello-b"))
    {
        assert!(Instant::now() < deadline, "no logs: {seen:?}");
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(line);
        }
    }
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    // The reader thread may still hold the last lines; it ends at EOF.
    let deadline = Instant::now() + Duration::from_secs(10);
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        seen.push(line);
    }
    assert_eq!(status.code(), Some(130));
    assert!(seen.iter().any(|l| l == "a-1  | bye"), "{seen:?}");
    assert!(
        seen.iter().any(|l| l == "a-1 exited with code 0"),
        "{seen:?}"
    );
    for c in p.ps() {
        assert_eq!(c["State"], "exited", "{c}");
    }
    p.finish();
}

#[test]
fn exit_code_from_returns_that_services_code_and_stops_the_rest() {
    let compose = job_and_side("0.5", 5);
    let Some(p) = Project::new(&compose) else {
        return;
    };
    let out = p.run(&["up", "--exit-code-from", "job"]);
    assert_eq!(out.status.code(), Some(5), "{}", stderr(&out));
    for c in p.ps() {
        assert_eq!(c["State"], "exited", "{c}");
    }
    p.finish();
}

#[test]
fn scale_adds_and_removes_replicas_and_wait_returns_once_running() {
    let compose = format!(
        "name: app\nservices:\n  w:\n    image: busybox\n    network_mode: none\n    command: {}\n",
        sleeper("w")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    p.ok(&["up", "-d", "--wait", "--scale", "w=3"]);
    for c in p.ps() {
        assert_eq!(c["State"], "running", "{c}");
    }
    let names = |p: &Project| -> Vec<String> { p.ids().into_iter().map(|(n, _)| n).collect() };
    assert_eq!(names(&p), ["app-w-1", "app-w-2", "app-w-3"]);
    let first = p.id("app-w-1");
    p.ok(&["up", "-d", "--scale", "w=1"]);
    assert_eq!(names(&p), ["app-w-1"]);
    assert_eq!(p.id("app-w-1"), first);
    p.finish();
}

/// The body of `GET /` on 127.0.0.1:`port`.
fn http_get(port: u16) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    write!(stream, "GET / HTTP/1.0\r\nHost: localhost\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    response
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default()
}

#[test]
fn services_reach_each_other_by_name_on_their_networks_only() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let serve = |text: &str| {
        format!("[sh, -c, 'mkdir -p /www && echo {text} > /www/index.html && exec httpd -f -p 80 -h /www']")
    };
    let probe = |script: &str| {
        format!("[sh, -c, 'trap \"exit 0\" TERM; {script}; echo probed; while true; do sleep 0.1; done']")
    };
    let compose = format!(
        "name: app
services:
  api:
    image: busybox
    command: {api}
    networks:
      back: {{aliases: [backend-api], mac_address: '02:42:ac:fb:0d:01'}}
  web:
    image: busybox
    command: {web}
    mac_address: '02:42:ac:fb:0d:02'
    ports: ['127.0.0.1:{port}:80']
    networks: [front, back]
    depends_on: [api]
  front-probe:
    image: busybox
    command: {front_probe}
    networks: [front]
    depends_on: [web]
  back-probe:
    image: busybox
    command: {back_probe}
    networks: [back]
    depends_on: [web]
networks:
  front: {{}}
  back: {{}}
",
        api = serve("from-api"),
        web = serve("from-web"),
        front_probe = probe("wget -qO- http://web/; wget -T 1 -qO- http://api/ || echo no-api"),
        back_probe = probe("wget -qO- http://backend-api/"),
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    p.ok(&["up", "-d", "--wait"]);
    let deadline = Instant::now() + Duration::from_secs(15);
    let logs = loop {
        let logs = p.ok(&["logs", "front-probe", "back-probe"]);
        if logs.matches("probed").count() == 2 || Instant::now() > deadline {
            break logs;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(logs.contains("front-probe-1 | from-web"), "{logs}");
    assert!(logs.contains("front-probe-1 | no-api"), "{logs}");
    assert!(logs.contains("back-probe-1  | from-api"), "{logs}");
    assert_eq!(http_get(port), "from-web\n");
    let web = p
        .ps()
        .into_iter()
        .find(|c| c["Service"] == "web")
        .expect("web");
    assert_eq!(web["Networks"], "app_back,app_front");
    assert_eq!(web["Publishers"][0]["PublishedPort"], port);
    assert_eq!(p.ok(&["port", "web", "80"]), format!("127.0.0.1:{port}\n"));
    // A network's mac_address, and the service's on its first network.
    let mac = |service: &str| p.ok(&["exec", "-T", service, "cat", "/sys/class/net/eth0/address"]);
    assert_eq!(mac("api"), "02:42:ac:fb:0d:01\n");
    assert_eq!(mac("web"), "02:42:ac:fb:0d:02\n");
    let networks = p.engine_get("/networks");
    assert!(networks.contains("\"app_front\"") && networks.contains("\"app_back\""));

    p.ok(&["down", "-t", "0"]);
    let networks = p.engine_get("/networks");
    assert!(!networks.contains("app_"), "down left networks: {networks}");
    p.finish();
}

#[test]
fn run_starts_dependencies_and_returns_the_commands_exit_code() {
    let compose = format!(
        "name: app\nservices:\n  db:\n    image: busybox\n    network_mode: none\n    command: {}\n  \
         tool:\n    image: busybox\n    network_mode: none\n    depends_on: [db]\n",
        sleeper("db")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    let out = p.run(&[
        "run",
        "--rm",
        "-e",
        "X=42",
        "tool",
        "sh",
        "-c",
        "echo x=$X; exit 7",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", stderr(&out));
    assert_eq!(stdout(&out), "x=42\n");
    // The dependency runs; the one-off container is gone.
    let names: Vec<String> = p.ids().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["app-db-1"]);
    assert_eq!(p.all_containers().lines().count(), 1);
    p.finish();
}

#[test]
fn five_services_on_two_networks_come_up_healthy_in_dependency_order() {
    let healthy_after = |seconds: &str| {
        format!(
            "[sh, -c, 'trap \"exit 0\" TERM; sleep {seconds}; touch /ready; while true; do sleep 0.1; done']"
        )
    };
    let check = "{test: [CMD, test, -f, /ready], interval: 100ms, retries: 100}";
    let compose = format!(
        "name: app
services:
  db:
    image: busybox
    command: {slow}
    healthcheck: {check}
    networks: [back]
  cache:
    image: busybox
    command: {fast}
    healthcheck: {check}
    networks: [back]
  api:
    image: busybox
    command: {fast}
    healthcheck: {check}
    networks: [back, front]
    depends_on:
      db: {{condition: service_healthy}}
      cache: {{condition: service_healthy}}
  web:
    image: busybox
    command: {fast}
    healthcheck: {check}
    networks: [front]
    depends_on:
      api: {{condition: service_healthy}}
  worker:
    image: busybox
    command: {fast}
    networks: [back]
    depends_on: [api]
networks:
  front: {{}}
  back: {{}}
",
        slow = healthy_after("0.5"),
        fast = healthy_after("0.1"),
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    p.ok(&["up", "-d", "--wait"]);
    let containers = p.ps();
    assert_eq!(containers.len(), 5);
    for c in &containers {
        assert_eq!(c["State"], "running", "{c}");
        let expected = if c["Service"] == "worker" {
            ""
        } else {
            "healthy"
        };
        assert_eq!(c["Health"], expected, "{c}");
    }
    let started = |name: &str| time(&p.inspect(name), "StartedAt");
    assert!(started("app-api-1") > started("app-db-1"));
    assert!(started("app-api-1") > started("app-cache-1"));
    assert!(started("app-web-1") > started("app-api-1"));
    assert!(started("app-worker-1") > started("app-api-1"));
    p.finish();
}

#[test]
fn exec_top_stats_and_pause_act_on_a_services_container() {
    let compose = format!(
        "name: app\nservices:\n  a:\n    image: busybox\n    network_mode: none\n    command: {}\n",
        sleeper("a")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    p.ok(&["up", "-d"]);
    let out = p.run(&[
        "exec",
        "-T",
        "-e",
        "X=1",
        "a",
        "sh",
        "-c",
        "echo x=$X; exit 4",
    ]);
    assert_eq!(out.status.code(), Some(4), "{}", stderr(&out));
    assert_eq!(stdout(&out), "x=1\n");
    let top = p.ok(&["top"]);
    assert!(top.starts_with("app-a-1\n"), "{top}");
    assert!(top.contains("while true"), "{top}");
    let stats = p.ok(&["stats", "--no-stream"]);
    assert!(stats.contains("app-a-1"), "{stats}");
    p.ok(&["pause"]);
    assert_eq!(p.ps()[0]["State"], "paused");
    p.ok(&["unpause"]);
    assert_eq!(p.ps()[0]["State"], "running");
    let out = p.run(&["exec", "--index", "2", "a", "true"]);
    assert!(
        stderr(&out).contains("service \"a\" has no running container number 2"),
        "{}",
        stderr(&out)
    );
    p.finish();
}

#[test]
fn an_unhealthy_dependency_fails_up_naming_it() {
    let compose = format!(
        "name: app
services:
  db:
    image: busybox
    network_mode: none
    command: {db}
    healthcheck: {{test: [CMD, 'false'], interval: 100ms, retries: 2}}
  web:
    image: busybox
    network_mode: none
    command: {db}
    depends_on:
      db: {{condition: service_healthy}}
",
        db = sleeper("up")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    let out = p.run(&["up", "-d"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(
        err.contains(
            "service \"web\" cannot start: its dependency \"db\" failed: container app-db-1 is unhealthy"
        ),
        "{err}"
    );
    let names: Vec<String> = p.ids().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names, ["app-db-1"]);
    p.finish();
}

#[test]
fn wait_returns_the_first_exit_code_and_can_take_the_project_down() {
    let compose = job_and_side("0.3", 6);
    let Some(p) = Project::new(&compose) else {
        return;
    };
    p.ok(&["up", "-d"]);
    let out = p.run(&["wait", "job"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    p.ok(&["up", "-d"]);
    let out = p.run(&["wait", "--down-project"]);
    assert_eq!(out.status.code(), Some(6), "{}", stderr(&out));
    assert_eq!(p.all_containers(), "");
    p.finish();
}

#[test]
fn bind_mounts_are_writable_or_read_only_as_written() {
    let Some(p) = Project::new("services: {}\n") else {
        return;
    };
    let shared = p.engine.dir().join("shared");
    let fixed = p.engine.dir().join("fixed");
    std::fs::create_dir_all(&shared).unwrap();
    std::fs::create_dir_all(&fixed).unwrap();
    std::fs::write(fixed.join("note"), "from the host\n").unwrap();
    p.write(&format!(
        "name: app
services:
  writer:
    image: busybox
    network_mode: none
    volumes: ['{shared}:/out', '{fixed}:/in:ro']
    command: [sh, -c, 'cat /in/note; echo written > /out/file; touch /in/x 2>/dev/null || echo read-only']
",
        shared = shared.display(),
        fixed = fixed.display()
    ));
    let out = p.run(&["up", "--no-log-prefix"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("from the host\n"), "{text}");
    assert!(text.contains("read-only\n"), "{text}");
    assert_eq!(
        std::fs::read_to_string(shared.join("file")).unwrap(),
        "written\n"
    );
    assert!(!fixed.join("x").exists());
    p.finish();
}

#[test]
fn create_start_kill_restart_stop_and_rm_act_on_the_services_containers() {
    let compose = format!(
        "name: app\nservices:\n  a:\n    image: busybox\n    network_mode: none\n    command: {}\n",
        sleeper("started")
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    p.ok(&["create"]);
    assert_eq!(p.ps()[0]["State"], "created");
    p.ok(&["start"]);
    assert_eq!(p.ps()[0]["State"], "running");
    p.ok(&["kill", "-s", "TERM", "a"]);
    let deadline = Instant::now() + Duration::from_secs(5);
    while p.ps()[0]["State"] != "exited" {
        assert!(Instant::now() < deadline, "kill -s TERM did not end it");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(p.ps()[0]["ExitCode"], 0);
    p.ok(&["start"]);
    assert_eq!(p.ps()[0]["State"], "running");
    let before = time(&p.inspect("app-a-1"), "StartedAt");
    p.ok(&["restart", "-t", "1"]);
    assert!(time(&p.inspect("app-a-1"), "StartedAt") > before);
    p.ok(&["stop"]);
    assert_eq!(p.ps()[0]["State"], "exited");
    p.ok(&["rm", "-f"]);
    assert_eq!(p.all_containers(), "");
    p.finish();
}
