//! `stack images`, `run -v`/`-p`/`--service-ports` and `down --rmi` end to
//! end, as root, through the real binary, each test with its own engine
//! and project (see tests/common/project.rs), ending with the leak check.

mod common;
#[path = "common/project.rs"]
mod project;

use common::{stderr, stdout};
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
