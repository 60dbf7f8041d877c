//! Not a test: the time to run `true`, beside `runc` on the same bundle.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::fixture::{expect_eq, Fixture, TestResult};

/// Not a test: prints the median time of create + start + wait for `true`
/// and, when `runc` is installed, of `runc run` on the very same bundle
/// (same spec: Docker's defaults and seccomp profile) in the same run.
pub fn bench_true() -> TestResult {
    const RUNS: usize = 30;
    let fixture = Fixture::new("bench")?;
    let config = fixture.config(&["true"]);
    let mut ours = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        let (mut container, _) = fixture.create(&config)?;
        let status = container.start().and_then(|()| container.wait());
        let elapsed = started.elapsed();
        container.delete().map_err(|e| e.to_string())?;
        expect_eq("exit", status.map_err(|e| e.to_string())?.code, 0)?;
        ours.push(elapsed);
    }
    let ours = median(ours);
    println!("median create+start+wait of `true`: {ours:.1} ms ({RUNS} runs)");

    let bundle = fixture.base.join(format!("bundle-{}", fixture.name));
    let runc_root = fixture.base.join("runc");
    let mut runc = Vec::new();
    for i in 0..RUNS {
        let started = Instant::now();
        let status = Command::new("runc")
            .arg("--root")
            .arg(&runc_root)
            .args(["run", "--bundle"])
            .arg(&bundle)
            .arg(format!("runc-bench-{i}"))
            .stdout(std::process::Stdio::null())
            .status();
        match status {
            Ok(status) if status.success() => runc.push(started.elapsed()),
            // runc is optional here: no comparison without it.
            _ => break,
        }
    }
    // runc leaves the parent cgroup directory: one more container of ours
    // removes it on delete, and the leak check proves it.
    let (container, _) = fixture.create(&config)?;
    let pid = container.pid();
    let dirs = container.cgroup_dirs().map_err(|e| e.to_string())?;
    container.delete().map_err(|e| e.to_string())?;
    fixture.check_no_leaks(&dirs, pid)?;
    if runc.len() == RUNS {
        let runc = median(runc);
        println!(
            "median `runc run` (create+start+wait+delete) of the same bundle: {runc:.1} ms, ratio {:.2}",
            runc / ours
        );
    }
    Ok(())
}

fn median(mut times: Vec<Duration>) -> f64 {
    times.sort();
    times[times.len() / 2].as_secs_f64() * 1000.0
}
