//! `/_ping`, `/version` and `/info`.

use std::collections::HashMap;
use std::fs;
use std::time::SystemTime;

use bollard_stubs::models::{
    FirewallInfo, PluginsInfo, SystemInfo, SystemInfoCgroupDriverEnum, SystemVersion,
    SystemVersionComponents, SystemVersionPlatform,
};
use hyper::header::{HeaderValue, CACHE_CONTROL, PRAGMA};
use hyper::{Method, Response, StatusCode};

use super::error::ApiError;
use super::query::Query;
use super::reply::{empty, json, text, Body};
use super::route::{API_VERSION, MIN_API_VERSION};
use super::Context;
use crate::container::record::Status;
use crate::container::Snapshot;
use crate::state::time::rfc3339_nanos;

const ENGINE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// `GET|HEAD /_ping`: `OK`, never cached; the version headers every
/// response carries are what clients negotiate with.
pub(super) fn ping(method: &Method, query: Query) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let mut response = if method == Method::HEAD {
        let mut r = empty(StatusCode::OK);
        r.headers_mut().insert(
            hyper::header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    } else {
        text(StatusCode::OK, "OK")
    };
    let headers = response.headers_mut();
    headers.insert(
        CACHE_CONTROL,
        HeaderValue::from_static("no-cache, no-store, must-revalidate"),
    );
    headers.insert(PRAGMA, HeaderValue::from_static("no-cache"));
    Ok(response)
}

/// `GET /version`.
pub(super) fn version(ctx: &Context, query: Query) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let arch = go_arch(std::env::consts::ARCH);
    let details = HashMap::from([
        ("ApiVersion".to_string(), API_VERSION.to_string()),
        ("MinAPIVersion".to_string(), MIN_API_VERSION.to_string()),
        ("Os".to_string(), "linux".to_string()),
        ("Arch".to_string(), arch.to_string()),
        ("KernelVersion".to_string(), ctx.host.kernel.clone()),
        ("Experimental".to_string(), "false".to_string()),
    ]);
    let version = SystemVersion {
        platform: Some(SystemVersionPlatform {
            name: format!("stack {ENGINE_VERSION}"),
        }),
        components: Some(vec![SystemVersionComponents {
            name: "Engine".to_string(),
            version: ENGINE_VERSION.to_string(),
            details: Some(details),
        }]),
        version: Some(ENGINE_VERSION.to_string()),
        api_version: Some(API_VERSION.to_string()),
        min_api_version: Some(MIN_API_VERSION.to_string()),
        os: Some("linux".to_string()),
        arch: Some(arch.to_string()),
        kernel_version: Some(ctx.host.kernel.clone()),
        ..Default::default()
    };
    Ok(json(StatusCode::OK, &version))
}

/// Architecture names as Go spells them (`GOARCH`), which `/version` reports.
fn go_arch(rust_arch: &str) -> &str {
    match rust_arch {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Counts of what the engine holds, for `/info`.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Counts {
    containers: i64,
    running: i64,
    paused: i64,
    stopped: i64,
    images: i64,
}

impl Counts {
    /// Adds one container in the state `snapshot` describes, as Docker
    /// counts it: paused first, then running (a container waiting for its
    /// restart counts as running, as in Docker), stopped otherwise.
    fn add(&mut self, snapshot: &Snapshot) {
        self.containers += 1;
        match snapshot.status() {
            Status::Running if snapshot.paused => self.paused += 1,
            Status::Running => self.running += 1,
            _ if snapshot.restarting => self.running += 1,
            _ => self.stopped += 1,
        }
    }
}

/// Counts the containers by state, and the images.
pub(super) fn counts(ctx: &Context) -> Result<Counts, ApiError> {
    let mut counts = Counts::default();
    for entry in ctx.containers.list() {
        counts.add(&entry.snapshot());
    }
    counts.images = ctx
        .images
        .list()
        .map_err(|e| ApiError::internal(super::error::chain(&e)))?
        .len() as i64;
    Ok(counts)
}

/// `GET /info`.
pub(super) fn info(ctx: &Context, query: Query) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let counts = counts(ctx)?;
    let host = &ctx.host;
    let cgroup = &host.cgroup;
    let open_fds = fs::read_dir("/proc/self/fd").map(|d| d.count() as i64).ok();
    let cpus = std::thread::available_parallelism()
        .map(|n| n.get() as i64)
        .unwrap_or(1);
    let info = SystemInfo {
        id: Some(ctx.engine_id.clone()),
        containers: Some(counts.containers),
        containers_running: Some(counts.running),
        containers_paused: Some(counts.paused),
        containers_stopped: Some(counts.stopped),
        images: Some(counts.images),
        plugins: Some(PluginsInfo {
            volume: Some(vec!["local".to_string()]),
            network: Some(vec!["bridge".into(), "host".into(), "none".into()]),
            ..Default::default()
        }),
        firewall_backend: Some(FirewallInfo {
            driver: Some(ctx.networks.firewall_driver().to_string()),
            info: Some(vec![vec!["Rules".to_string(), ctx.networks.backend()]]),
        }),
        driver: Some("overlayfs".to_string()),
        docker_root_dir: Some(ctx.layout.root().display().to_string()),
        memory_limit: Some(cgroup.memory),
        swap_limit: Some(cgroup.swap),
        cpu_cfs_period: Some(cgroup.cpu),
        cpu_cfs_quota: Some(cgroup.cpu),
        cpu_shares: Some(cgroup.cpu),
        cpu_set: Some(cgroup.cpuset),
        pids_limit: Some(cgroup.pids),
        debug: Some(false),
        nfd: open_fds,
        system_time: Some(rfc3339_nanos(SystemTime::now())),
        cgroup_driver: Some(SystemInfoCgroupDriverEnum::CGROUPFS),
        cgroup_version: Some(cgroup.version()),
        n_events_listener: Some(ctx.events.listeners() as i64),
        kernel_version: Some(host.kernel.clone()),
        operating_system: Some(host.operating_system.clone()),
        os_version: Some(host.os_version.clone()),
        os_type: Some("linux".to_string()),
        architecture: Some(std::env::consts::ARCH.to_string()),
        ncpu: Some(cpus),
        mem_total: Some(host.mem_total),
        name: Some(host.hostname.clone()),
        labels: Some(Vec::new()),
        experimental_build: Some(false),
        server_version: Some(ENGINE_VERSION.to_string()),
        live_restore_enabled: Some(false),
        warnings: Some(Vec::new()),
        ..Default::default()
    };
    Ok(json(StatusCode::OK, &info))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn containers_are_counted_by_state_as_docker_counts_them() {
        use crate::container::run_state::{RunState, RunStatus};
        let run = |status| Some(RunState::sample(status));
        let states = [
            Snapshot::default(),
            Snapshot {
                run: run(RunStatus::Running),
                ..Snapshot::default()
            },
            Snapshot {
                run: run(RunStatus::Running),
                paused: true,
                ..Snapshot::default()
            },
            Snapshot {
                run: run(RunStatus::Exited),
                restarting: true,
                ..Snapshot::default()
            },
            Snapshot {
                run: run(RunStatus::Exited),
                ..Snapshot::default()
            },
        ];
        let mut counts = Counts::default();
        for snapshot in &states {
            counts.add(snapshot);
        }
        assert_eq!(
            counts,
            Counts {
                containers: 5,
                running: 2,
                paused: 1,
                stopped: 2,
                images: 0,
            }
        );
    }

    #[test]
    fn go_architecture_names() {
        assert_eq!(go_arch("x86_64"), "amd64");
        assert_eq!(go_arch("aarch64"), "arm64");
        assert_eq!(go_arch("riscv64"), "riscv64");
    }
}
