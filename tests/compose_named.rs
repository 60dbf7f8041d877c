//! `stop -p NAME` and `down -p NAME` without the compose file: the project
//! is rebuilt from its containers' labels, dependents stop before what
//! they depend on (the `com.docker.compose.depends_on` label), and `down`
//! removes everything. End to end as root with its own engine.

mod common;
#[path = "common/project.rs"]
mod project;

use common::stderr;
use project::Project;
use serde_json::Value;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

/// Three services in a chain, web -> api -> db, each taking half a second
/// to stop, so that an order of stops shows in their exit times.
const CHAIN: &str = "name: chain
services:
  db:
    image: busybox
    command: [sh, -c, 'trap \"sleep 0.5; exit 0\" TERM; while true; do sleep 0.1; done']
  api:
    image: busybox
    command: [sh, -c, 'trap \"sleep 0.5; exit 0\" TERM; while true; do sleep 0.1; done']
    depends_on:
      db: {condition: service_started, restart: true}
  web:
    image: busybox
    command: [sh, -c, 'trap \"sleep 0.5; exit 0\" TERM; while true; do sleep 0.1; done']
    depends_on: [api]
";

/// Seconds since the epoch of an RFC 3339 UTC time of the engine's.
fn seconds(text: &str) -> f64 {
    let (date, clock) = text.trim_end_matches('Z').split_once('T').expect("a time");
    let days: Vec<i64> = date.split('-').map(|p| p.parse().unwrap()).collect();
    let parts: Vec<f64> = clock.split(':').map(|p| p.parse().unwrap()).collect();
    // Days from the civil date (the tests run in one month; only
    // differences matter).
    let day = days[2] as f64;
    day * 86400.0 + parts[0] * 3600.0 + parts[1] * 60.0 + parts[2]
}

fn finished(p: &Project, name: &str) -> f64 {
    seconds(
        p.inspect(name)["State"]["FinishedAt"]
            .as_str()
            .unwrap_or_default(),
    )
}

/// Nanoseconds since the epoch.
fn now() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos()
}

#[test]
fn stop_and_down_by_name_alone_stop_dependents_first() {
    let Some(p) = Project::new(CHAIN) else { return };
    p.ok(&["up", "-d"]);
    let label = |name: &str| {
        p.inspect(name)["Config"]["Labels"]["com.docker.compose.depends_on"]
            .as_str()
            .unwrap_or("(none)")
            .to_owned()
    };
    assert_eq!(label("chain-web-1"), "api:service_started:false");
    assert_eq!(label("chain-api-1"), "db:service_started:true");
    assert_eq!(label("chain-db-1"), "");

    // From a directory without the file, by name alone.
    let elsewhere = |args: &[&str]| -> Output {
        let mut command = p.command(args);
        command.current_dir(p.engine.dir());
        command.output().expect("run stack")
    };
    let out = elsewhere(&["-p", "chain", "stop"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let (web, api, db) = (
        finished(&p, "chain-web-1"),
        finished(&p, "chain-api-1"),
        finished(&p, "chain-db-1"),
    );
    assert!(
        web + 0.3 < api && api + 0.3 < db,
        "web {web}, api {api}, db {db}"
    );

    p.ok(&["up", "-d"]);
    let since = now();
    let out = elsewhere(&["-p", "chain", "down"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let events = p.engine_get(&format!(
        "/events?since={}&until={}&filters=%7B%22event%22%3A%5B%22die%22%5D%7D",
        since / 1_000_000_000,
        now() / 1_000_000_000 + 1
    ));
    let died: Vec<String> = events
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        // The stops above may share the first second.
        .filter(|event| {
            event["timeNano"]
                .as_u64()
                .is_some_and(|t| u128::from(t) >= since)
        })
        .filter_map(|event| {
            event["Actor"]["Attributes"]["name"]
                .as_str()
                .map(str::to_owned)
        })
        .collect();
    assert_eq!(
        died,
        ["chain-web-1", "chain-api-1", "chain-db-1"],
        "{events}"
    );
    assert_eq!(p.all_containers(), "");
    let networks = p.ok(&["network", "ls"]);
    assert!(!networks.contains("chain_default"), "{networks}");
    p.finish();
}
