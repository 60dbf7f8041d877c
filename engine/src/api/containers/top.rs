//! `GET /containers/{id}/top?ps_args=`: the container's processes, as
//! Docker lists them: the host's `ps` with the given arguments (`-ef` by
//! default), keeping the header as `Titles` and the rows whose PID is in
//! the container's cgroup as `Processes`.

use std::path::Path;
use std::sync::Arc;

use bollard_stubs::models::ContainerTopResponse;
use hyper::{Response, StatusCode};

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::lookup;
use crate::container::record::Status;
use crate::runtime::CgroupMounts;

/// `GET /containers/{id}/top`.
pub(crate) async fn top(
    ctx: &Arc<Context>,
    reference: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let ps_args = query.take("ps_args").filter(|a| !a.is_empty());
    query.finish()?;
    let entry = lookup(ctx, reference)?;
    let id = entry.record.id.clone();
    if entry.snapshot().status() != Status::Running {
        return Err(ApiError::conflict(format!("Container {id} is not running")));
    }
    let cgroup = entry.cgroup.clone();
    let pids = tokio::task::spawn_blocking(move || container_pids(&cgroup))
        .await
        .map_err(|e| ApiError::internal(format!("the process listing failed: {e}")))?
        .map_err(|e| ApiError::internal(format!("cannot list the container's processes: {e}")))?;
    let args: Vec<String> = ps_args
        .as_deref()
        .unwrap_or("-ef")
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let output = tokio::process::Command::new("ps")
        .args(&args)
        .output()
        .await
        .map_err(|e| ApiError::internal(format!("cannot run ps: {e}")))?;
    if !output.status.success() {
        return Err(ApiError::internal(format!(
            "ps {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    let response =
        parse_ps(&String::from_utf8_lossy(&output.stdout), &pids).map_err(ApiError::internal)?;
    Ok(reply::json(StatusCode::OK, &response))
}

/// The pids of the processes in the container's cgroup.
fn container_pids(cgroup: &Path) -> std::io::Result<Vec<i32>> {
    let mounts = CgroupMounts::from_proc()?;
    let dir = mounts
        .controller_dir("pids", cgroup)
        .ok_or_else(|| std::io::Error::other("no cgroup hierarchy is mounted"))?;
    let procs = std::fs::read_to_string(dir.join("cgroup.procs"))?;
    Ok(procs
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect())
}

/// Docker's reading of `ps` output: the header's fields are the titles,
/// the last one (the command) takes the rest of each row; rows of other
/// processes are dropped, and thread rows (PID `-`) follow their process.
fn parse_ps(output: &str, pids: &[i32]) -> Result<ContainerTopResponse, String> {
    let mut lines = output.lines();
    let titles: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let pid_index = titles
        .iter()
        .position(|t| t == "PID")
        .ok_or("Couldn't find PID field in ps output: give ps arguments that show it")?;
    let mut processes = Vec::new();
    let mut previous_kept = false;
    for line in lines.filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(pid) = fields.get(pid_index) else {
            continue;
        };
        let keep = if *pid == "-" {
            previous_kept
        } else {
            previous_kept = pid.parse::<i32>().is_ok_and(|p| pids.contains(&p));
            previous_kept
        };
        if !keep {
            continue;
        }
        let split = (titles.len() - 1).min(fields.len());
        let mut row: Vec<String> = fields[..split].iter().map(|f| f.to_string()).collect();
        row.push(fields[split..].join(" "));
        processes.push(row);
    }
    Ok(ContainerTopResponse {
        titles: Some(titles),
        processes: Some(processes),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_containers_rows_with_whole_commands() {
        let output = "UID          PID    PPID  C STIME TTY          TIME CMD\n\
                      root           1       0  0 10:00 ?        00:00:01 /sbin/init\n\
                      root        4242    4200  0 10:01 ?        00:00:00 sleep 1000\n\
                      root        4243    4242  0 10:01 ?        00:00:00 sh -c echo a b\n";
        let top = parse_ps(output, &[4242, 4243]).unwrap();
        assert_eq!(top.titles.unwrap().len(), 8);
        let processes = top.processes.unwrap();
        assert_eq!(processes.len(), 2);
        assert_eq!(processes[0][1], "4242");
        assert_eq!(processes[0][7], "sleep 1000");
        assert_eq!(processes[1][7], "sh -c echo a b");
    }

    #[test]
    fn thread_rows_follow_their_process_and_pid_is_required() {
        let output = "PID TID CMD\n10 - a\n- 11 -\n12 - b\n- 13 -\n";
        let top = parse_ps(output, &[10]).unwrap();
        assert_eq!(top.processes.unwrap().len(), 2);
        let err = parse_ps("USER CMD\nroot x\n", &[1]).unwrap_err();
        assert!(err.contains("PID"), "{err}");
    }
}
