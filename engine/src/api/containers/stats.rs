//! `GET /containers/{id}/stats?stream=&one-shot=`: Docker's stats JSON
//! from the container's cgroup files (v1 or v2): memory usage, limit and
//! `memory.stat`; CPU time in total, per CPU and by mode, with the host's
//! CPU time beside it (clients compute the percentage from two samples);
//! pids; block I/O bytes. Streamed once a second, or one answer: after two
//! samples a second apart (so it carries `precpu_stats`) or, with
//! `one-shot`, at once.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use bollard_stubs::models::{
    ContainerBlkioStatEntry, ContainerBlkioStats, ContainerCpuStats, ContainerCpuUsage,
    ContainerMemoryStats, ContainerPidsStats, ContainerStatsResponse, ContainerStorageStats,
    ContainerThrottlingData,
};
use bytes::Bytes;
use hyper::Response;
use serde_json::Value;
use tokio::sync::mpsc;

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::lookup;
use crate::container::record::Status;
use crate::container::Entry;
use crate::runtime::CgroupMounts;
use crate::state::time::rfc3339_nanos;

/// Docker's sampling period.
const PERIOD: Duration = Duration::from_secs(1);

/// `/proc/stat` counts in these per second (`USER_HZ`, 100 on Linux).
const CLOCK_TICKS: u64 = 100;

/// `GET /containers/{id}/stats`.
pub(crate) fn stats(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let stream = query
        .take("stream")
        .is_none_or(|s| s != "0" && s != "false");
    let one_shot = query.take_bool("one-shot");
    query.finish()?;
    if one_shot && stream {
        return Err(ApiError::bad_request(
            "cannot have stream=true and one-shot=true",
        ));
    }
    let entry = lookup(ctx, reference)?;
    let mem_total = u64::try_from(ctx.host.mem_total).unwrap_or(0);
    let (tx, rx) = mpsc::channel(2);
    let mut stopping = ctx.stopping.clone();
    tokio::spawn(async move {
        let mut previous: Option<(String, ContainerCpuStats)> = None;
        if !stream && !one_shot {
            previous = Some(sample(&entry, mem_total).await).map(|s| (s.0, cpu_of(&s.1)));
            tokio::time::sleep(PERIOD).await;
        }
        loop {
            let (read, stats) = sample(&entry, mem_total).await;
            let body = render(&entry, &read, stats.clone(), previous.as_ref());
            previous = Some((read, cpu_of(&stats)));
            let Ok(mut bytes) = serde_json::to_vec(&body) else {
                return;
            };
            bytes.push(b'\n');
            if tx.send(Bytes::from(bytes)).await.is_err() || !stream {
                return;
            }
            tokio::select! {
                _ = tokio::time::sleep(PERIOD) => {}
                _ = stopping.wait_for(|stop| *stop) => return,
            }
        }
    });
    Ok(reply::json_stream(rx))
}

fn cpu_of(stats: &ContainerStatsResponse) -> ContainerCpuStats {
    stats.cpu_stats.clone().unwrap_or_default()
}

/// One sample (all zero when the container does not run) and its time.
async fn sample(entry: &Arc<Entry>, mem_total: u64) -> (String, ContainerStatsResponse) {
    let running = entry.snapshot().status() == Status::Running;
    let cgroup = entry.cgroup.clone();
    let read = rfc3339_nanos(SystemTime::now());
    if !running {
        return (read, ContainerStatsResponse::default());
    }
    let sampled = tokio::task::spawn_blocking(move || read_cgroup(&cgroup, mem_total))
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or_default();
    (read, sampled)
}

/// The response: ids, times (as text, like inspect's `Created`) and the
/// previous sample's CPU figures.
fn render(
    entry: &Entry,
    read: &str,
    mut stats: ContainerStatsResponse,
    previous: Option<&(String, ContainerCpuStats)>,
) -> Value {
    stats.id = Some(entry.record.id.clone());
    stats.name = Some(format!("/{}", entry.name()));
    stats.os_type = Some("linux".into());
    stats.precpu_stats = Some(previous.map(|p| p.1.clone()).unwrap_or_default());
    stats.storage_stats = Some(ContainerStorageStats::default());
    stats.networks = None;
    let mut value = serde_json::to_value(&stats).unwrap_or(Value::Null);
    if let Value::Object(map) = &mut value {
        map.insert("read".into(), read.into());
        let preread = previous.map_or("0001-01-01T00:00:00Z", |p| p.0.as_str());
        map.insert("preread".into(), preread.into());
    }
    value
}

/// Reads the container's cgroup files.
fn read_cgroup(path: &Path, mem_total: u64) -> std::io::Result<ContainerStatsResponse> {
    let mounts = CgroupMounts::from_proc()?;
    let dir = |controller: &str| mounts.controller_dir(controller, path);
    let files = |controller: &str| CgroupFiles(dir(controller).unwrap_or_default());
    let (system, online) = host_cpu(&std::fs::read_to_string("/proc/stat")?);
    let mut cpu = if mounts.is_v1("cpuacct") {
        cpu_v1(&files("cpuacct"), &files("cpu"))
    } else {
        cpu_v2(&files("cpu"))
    };
    cpu.system_cpu_usage = Some(system);
    cpu.online_cpus = Some(online);
    let memory = if mounts.is_v1("memory") {
        memory_v1(&files("memory"))
    } else {
        memory_v2(&files("memory"))
    };
    let memory = cap_limit(memory, mem_total);
    let pids = files("pids");
    let limit = pids.text("pids.max").and_then(|t| t.trim().parse().ok());
    let blkio = if mounts.is_v1("blkio") {
        blkio_v1(
            &files("blkio")
                .text("blkio.throttle.io_service_bytes_recursive")
                .unwrap_or_default(),
        )
    } else {
        blkio_v2(&files("io").text("io.stat").unwrap_or_default())
    };
    Ok(ContainerStatsResponse {
        cpu_stats: Some(cpu),
        memory_stats: Some(memory),
        pids_stats: Some(ContainerPidsStats {
            current: pids.number("pids.current"),
            limit,
        }),
        blkio_stats: Some(ContainerBlkioStats {
            io_service_bytes_recursive: Some(blkio),
            ..ContainerBlkioStats::default()
        }),
        num_procs: Some(0),
        ..ContainerStatsResponse::default()
    })
}

/// One cgroup directory's files.
struct CgroupFiles(PathBuf);

impl CgroupFiles {
    fn text(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.0.join(name)).ok()
    }

    fn number(&self, name: &str) -> Option<u64> {
        self.text(name)?.trim().parse().ok()
    }

    /// A `key value` file as a map.
    fn map(&self, name: &str) -> HashMap<String, u64> {
        key_values(&self.text(name).unwrap_or_default())
    }
}

fn key_values(text: &str) -> HashMap<String, u64> {
    text.lines()
        .filter_map(|line| {
            let (key, value) = line.split_once(' ')?;
            Some((key.to_owned(), value.trim().parse().ok()?))
        })
        .collect()
}

/// The host's CPU time in nanoseconds, as Docker sums it (user to
/// softirq of the `cpu` line), and the number of online CPUs.
fn host_cpu(proc_stat: &str) -> (u64, u32) {
    let mut total = 0;
    let mut cpus = 0;
    for line in proc_stat.lines() {
        let mut fields = line.split_whitespace();
        match fields.next() {
            Some("cpu") => {
                let ticks: u64 = fields.take(7).filter_map(|f| f.parse::<u64>().ok()).sum();
                total = ticks * (1_000_000_000 / CLOCK_TICKS);
            }
            Some(name) if name.starts_with("cpu") => cpus += 1,
            _ => {}
        }
    }
    (total, cpus)
}

fn cpu_v1(cpuacct: &CgroupFiles, cpu: &CgroupFiles) -> ContainerCpuStats {
    let percpu: Vec<u64> = cpuacct
        .text("cpuacct.usage_percpu")
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|v| v.parse().ok())
        .collect();
    let modes = cpuacct.map("cpuacct.stat");
    let nanos = |key: &str| modes.get(key).map(|t| t * (1_000_000_000 / CLOCK_TICKS));
    let throttle = cpu.map("cpu.stat");
    ContainerCpuStats {
        cpu_usage: Some(ContainerCpuUsage {
            total_usage: cpuacct.number("cpuacct.usage"),
            percpu_usage: Some(percpu),
            usage_in_kernelmode: nanos("system"),
            usage_in_usermode: nanos("user"),
        }),
        throttling_data: Some(ContainerThrottlingData {
            periods: throttle.get("nr_periods").copied(),
            throttled_periods: throttle.get("nr_throttled").copied(),
            throttled_time: throttle.get("throttled_time").copied(),
        }),
        ..ContainerCpuStats::default()
    }
}

fn cpu_v2(cpu: &CgroupFiles) -> ContainerCpuStats {
    let stat = cpu.map("cpu.stat");
    let nanos = |key: &str| stat.get(key).map(|us| us * 1000);
    ContainerCpuStats {
        cpu_usage: Some(ContainerCpuUsage {
            total_usage: nanos("usage_usec"),
            percpu_usage: None,
            usage_in_kernelmode: nanos("system_usec"),
            usage_in_usermode: nanos("user_usec"),
        }),
        throttling_data: Some(ContainerThrottlingData {
            periods: stat.get("nr_periods").copied(),
            throttled_periods: stat.get("nr_throttled").copied(),
            throttled_time: nanos("throttled_usec"),
        }),
        ..ContainerCpuStats::default()
    }
}

fn memory_v1(memory: &CgroupFiles) -> ContainerMemoryStats {
    ContainerMemoryStats {
        usage: memory.number("memory.usage_in_bytes"),
        max_usage: memory.number("memory.max_usage_in_bytes"),
        failcnt: memory.number("memory.failcnt"),
        limit: memory.number("memory.limit_in_bytes"),
        stats: Some(memory.map("memory.stat")),
        ..ContainerMemoryStats::default()
    }
}

fn memory_v2(memory: &CgroupFiles) -> ContainerMemoryStats {
    ContainerMemoryStats {
        usage: memory.number("memory.current"),
        // "max" does not parse: no limit, capped to the host's memory below.
        limit: Some(memory.number("memory.max").unwrap_or(u64::MAX)),
        stats: Some(memory.map("memory.stat")),
        ..ContainerMemoryStats::default()
    }
}

/// A limit above the host's memory is the host's memory, as Docker shows it.
fn cap_limit(mut memory: ContainerMemoryStats, mem_total: u64) -> ContainerMemoryStats {
    if mem_total > 0 && memory.limit.is_some_and(|l| l > mem_total) {
        memory.limit = Some(mem_total);
    }
    memory
}

/// `MAJ:MIN Op bytes` lines (the last, `Total N`, has no device).
fn blkio_v1(text: &str) -> Vec<ContainerBlkioStatEntry> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let [device, op, value] = fields.as_slice() else {
                return None;
            };
            let (major, minor) = device.split_once(':')?;
            Some(ContainerBlkioStatEntry {
                major: major.parse().ok(),
                minor: minor.parse().ok(),
                op: Some((*op).to_owned()),
                value: value.parse().ok(),
            })
        })
        .collect()
}

/// `MAJ:MIN rbytes=N wbytes=N ...` lines, as Docker's `read`/`write` entries.
fn blkio_v2(text: &str) -> Vec<ContainerBlkioStatEntry> {
    let mut entries = Vec::new();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some((major, minor)) = fields.next().and_then(|d| d.split_once(':')) else {
            continue;
        };
        for field in fields {
            let op = match field.split_once('=') {
                Some(("rbytes", v)) => ("read", v),
                Some(("wbytes", v)) => ("write", v),
                _ => continue,
            };
            entries.push(ContainerBlkioStatEntry {
                major: major.parse().ok(),
                minor: minor.parse().ok(),
                op: Some(op.0.to_owned()),
                value: op.1.parse().ok(),
            });
        }
    }
    entries
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_cpu_time_is_the_first_seven_fields_in_nanoseconds() {
        let stat = "cpu  100 0 50 1000 10 0 5 7 0 0\ncpu0 50 0 25 500 5 0 2 3 0 0\ncpu1 50 0 25 500 5 0 3 4 0 0\nintr 1\n";
        assert_eq!(host_cpu(stat), (1165 * 10_000_000, 2));
    }

    #[test]
    fn memory_of_both_versions_with_the_limit_capped() {
        let dir = tempfile::tempdir().unwrap();
        let files = CgroupFiles(dir.path().to_path_buf());
        std::fs::write(dir.path().join("memory.usage_in_bytes"), "4096\n").unwrap();
        std::fs::write(
            dir.path().join("memory.limit_in_bytes"),
            "9223372036854771712\n",
        )
        .unwrap();
        std::fs::write(dir.path().join("memory.stat"), "cache 10\nrss 20\n").unwrap();
        let v1 = cap_limit(memory_v1(&files), 8 << 30);
        assert_eq!(v1.usage, Some(4096));
        assert_eq!(v1.limit, Some(8 << 30));
        assert_eq!(v1.stats.unwrap()["rss"], 20);
        std::fs::write(dir.path().join("memory.current"), "8192\n").unwrap();
        std::fs::write(dir.path().join("memory.max"), "max\n").unwrap();
        let v2 = cap_limit(memory_v2(&files), 8 << 30);
        assert_eq!((v2.usage, v2.limit), (Some(8192), Some(8 << 30)));
        std::fs::write(dir.path().join("memory.max"), "1048576\n").unwrap();
        assert_eq!(memory_v2(&files).limit, Some(1 << 20));
    }

    #[test]
    fn cpu_of_both_versions() {
        let dir = tempfile::tempdir().unwrap();
        let files = CgroupFiles(dir.path().to_path_buf());
        std::fs::write(dir.path().join("cpuacct.usage"), "123456\n").unwrap();
        std::fs::write(dir.path().join("cpuacct.usage_percpu"), "100000 23456 \n").unwrap();
        std::fs::write(dir.path().join("cpuacct.stat"), "user 3\nsystem 1\n").unwrap();
        std::fs::write(
            dir.path().join("cpu.stat"),
            "nr_periods 4\nnr_throttled 1\nthrottled_time 99\nusage_usec 7\nuser_usec 5\nsystem_usec 2\nthrottled_usec 3\n",
        )
        .unwrap();
        let v1 = cpu_v1(&files, &files);
        let usage = v1.cpu_usage.unwrap();
        assert_eq!(usage.total_usage, Some(123_456));
        assert_eq!(usage.percpu_usage.unwrap(), [100_000, 23_456]);
        assert_eq!(usage.usage_in_usermode, Some(30_000_000));
        assert_eq!(v1.throttling_data.unwrap().throttled_time, Some(99));
        let v2 = cpu_v2(&files);
        assert_eq!(v2.cpu_usage.unwrap().total_usage, Some(7000));
        assert_eq!(v2.throttling_data.unwrap().throttled_time, Some(3000));
    }

    #[test]
    fn block_io_of_both_versions() {
        let v1 = blkio_v1("8:0 Read 4096\n8:0 Write 512\n8:0 Total 4608\nTotal 4608\n");
        assert_eq!(v1.len(), 3);
        assert_eq!(v1[0].op.as_deref(), Some("Read"));
        assert_eq!(
            (v1[1].major, v1[1].minor, v1[1].value),
            (Some(8), Some(0), Some(512))
        );
        let v2 = blkio_v2("8:0 rbytes=4096 wbytes=512 rios=1 wios=1 dbytes=0 dios=0\n");
        assert_eq!(v2.len(), 2);
        assert_eq!(v2[1].op.as_deref(), Some("write"));
        assert_eq!(v2[1].value, Some(512));
    }
}
