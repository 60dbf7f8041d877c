//! `stack images`, `run -v`/`-p`/`--service-ports` and `down --rmi` end to
//! end, as root, through the real binary, each test with its own engine
//! and project (see tests/common/project.rs), ending with the leak check.

mod common;
#[path = "common/project.rs"]
mod project;

use common::{fetch, free_local_port, stderr, stdout};
use project::Project;
use serde_json::Value;

const TWO_SERVICES: &str = "name: app
services:
  web:
    image: busybox
    network_mode: none
    command: [sleep, '600']
  db:
    image: busybox:latest
    network_mode: none
    command: [sleep, '600']
";

#[test]
fn images_lists_the_image_of_each_container() {
    let Some(p) = Project::new(TWO_SERVICES) else {
        return;
    };
    p.ok(&["up", "-d"]);
    let id = p.inspect("app-web-1")["Image"].as_str().unwrap().to_owned();
    let hex = id.trim_start_matches("sha256:");

    let table = p.ok(&["images"]);
    let lines: Vec<&str> = table.lines().collect();
    let header: Vec<&str> = lines[0]
        .split("   ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .collect();
    assert_eq!(
        header,
        ["CONTAINER", "REPOSITORY", "TAG", "IMAGE ID", "SIZE"]
    );
    assert_eq!(lines.len(), 3, "{table}");
    for (line, container) in lines[1..].iter().zip(["app-db-1", "app-web-1"]) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(
            cells[..4],
            [container, "busybox", "latest", &hex[..12]],
            "{table}"
        );
        assert!(cells[4].ends_with('B'), "size in {line}");
    }

    assert_eq!(p.ok(&["images", "-q"]), format!("{hex}\n"));

    let json: Value = serde_json::from_str(&p.ok(&["images", "--format", "json", "web"])).unwrap();
    let list = json.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0]["ContainerName"], "app-web-1");
    assert_eq!(list[0]["ID"], id.as_str());
    assert_eq!(list[0]["Repository"], "busybox");
    assert_eq!(list[0]["Tag"], "latest");
    assert!(list[0]["Size"].as_i64().unwrap() > 0);

    let unknown = p.run(&["images", "nope"]);
    assert!(!unknown.status.success());
    assert!(
        stderr(&unknown).contains("no such service: nope"),
        "{}",
        stderr(&unknown)
    );
    assert!(stdout(&unknown).is_empty());
    p.finish();
}

/// The host ports a container publishes, as `PORT/PROTO -> HOSTPORT`.
fn published(p: &Project, name: &str) -> Vec<String> {
    let inspect = p.inspect(name);
    let mut out = Vec::new();
    if let Some(ports) = inspect["NetworkSettings"]["Ports"].as_object() {
        for (port, bindings) in ports {
            for b in bindings.as_array().into_iter().flatten() {
                out.push(format!(
                    "{port} -> {}",
                    b["HostPort"].as_str().unwrap_or("")
                ));
            }
        }
    }
    out
}

#[test]
fn run_publishes_only_what_it_is_told_and_mounts_volumes() {
    let service_port = free_local_port();
    let compose = format!(
        "name: app
services:
  web:
    image: busybox
    command: [httpd, -f, -p, '80', -h, /etc]
    ports: ['127.0.0.1:{service_port}:80']
"
    );
    let Some(p) = Project::new(&compose) else {
        return;
    };
    let plain = p.ok(&["run", "-d", "--name", "plain", "web"]);
    assert_eq!(plain.trim(), "plain");
    assert_eq!(published(&p, "plain"), Vec::<String>::new());

    p.ok(&[
        "run",
        "-d",
        "--name",
        "with-ports",
        "--service-ports",
        "web",
    ]);
    assert_eq!(
        published(&p, "with-ports"),
        [format!("80/tcp -> {service_port}")]
    );
    // Any HTTP answer (busybox httpd lists no directory) shows the port is published.
    fetch(service_port);

    let site = p.dir.join("site");
    std::fs::create_dir_all(&site).unwrap();
    std::fs::write(site.join("index.html"), "from the host\n").unwrap();
    let port = free_local_port();
    let publish = format!("127.0.0.1:{port}:8080");
    p.ok(&[
        "run",
        "-d",
        "--name",
        "flags",
        "-p",
        &publish,
        "-v",
        "./site:/www:ro",
        "web",
        "httpd",
        "-f",
        "-p",
        "8080",
        "-h",
        "/www",
    ]);
    assert_eq!(published(&p, "flags"), [format!("8080/tcp -> {port}")]);
    assert_eq!(fetch(port), "from the host\n");
    let read_only = p.run(&["container", "exec", "flags", "touch", "/www/x"]);
    assert!(!read_only.status.success(), "-v ...:ro is read-only");

    let both = p.run(&["run", "--service-ports", "-p", "1:1", "web"]);
    assert!(!both.status.success());
    assert!(
        stderr(&both).contains("--service-ports and --publish are incompatible"),
        "{}",
        stderr(&both)
    );
    let bad = p.run(&["run", "-v", "a:b:c:d", "web"]);
    assert!(!bad.status.success());
    assert!(stderr(&bad).contains("-v a:b:c:d"), "{}", stderr(&bad));
    p.finish();
}

#[test]
fn down_rmi_removes_the_images_compose_would() {
    let Some(p) = Project::new(TWO_SERVICES) else {
        return;
    };
    let images = |p: &Project| -> String {
        p.ok(&["image", "ls"])
            .lines()
            .skip(1)
            .map(|l| {
                let cells: Vec<&str> = l.split_whitespace().collect();
                format!("{}:{}\n", cells[0], cells[1])
            })
            .collect()
    };
    p.ok(&["up", "-d"]);
    p.ok(&["down", "-t", "0", "--rmi", "local"]);
    assert_eq!(images(&p), "busybox:latest\n", "local keeps named images");

    p.ok(&[
        "container",
        "create",
        "--name",
        "outside",
        "busybox",
        "true",
    ]);
    p.ok(&["up", "-d"]);
    let out = p.run(&["down", "-t", "0", "--rmi", "all"]);
    assert!(
        !out.status.success(),
        "an image in use elsewhere is not forced"
    );
    let err = stderr(&out);
    assert!(
        err.contains("busybox:latest") && err.contains("in use"),
        "{err}"
    );
    assert_eq!(
        p.ok(&["ps", "-a", "-q"]),
        "",
        "the containers went all the same"
    );
    assert_eq!(images(&p), "busybox:latest\n");

    p.ok(&["container", "rm", "outside"]);
    let out = p.run(&["down", "--rmi", "all", "--progress", "plain"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("Image busybox:latest"),
        "{}",
        stderr(&out)
    );
    assert_eq!(images(&p), "");
    p.finish();
}
