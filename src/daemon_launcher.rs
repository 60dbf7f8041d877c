//! Finding the engine, and starting the embedded one when nobody answers.
//!
//! `STACK_HOST` (then `DOCKER_HOST`) names another engine — a real Docker
//! Engine works too, since the orchestrator speaks the Docker API. Without
//! either, the CLI uses the embedded daemon's socket under `STACK_RUN_DIR`
//! (default `/run/stack`) and, if no daemon answers there, starts
//! `stack daemon` detached, logging to `RUN_DIR/daemon.log`, and waits for it.

use anyhow::{bail, Context, Result};
use stack_compose::env::Environment;
use std::fs::{self, OpenOptions};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where the CLI's engine is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// The embedded daemon: started on demand.
    Embedded {
        root: PathBuf,
        run_dir: PathBuf,
        socket: PathBuf,
    },
    /// Another engine named by `STACK_HOST` / `DOCKER_HOST` (`unix://PATH`):
    /// never started by us.
    External { socket: PathBuf },
}

impl Target {
    /// The target the environment asks for.
    pub fn from_env(env: &Environment) -> Result<Target> {
        let host = env
            .get("STACK_HOST")
            .filter(|h| !h.is_empty())
            .or_else(|| env.get("DOCKER_HOST").filter(|h| !h.is_empty()));
        if let Some(host) = host {
            let Some(path) = host.strip_prefix("unix://") else {
                bail!(
                    "unsupported engine address {host:?}: only unix:///path/to/socket is supported"
                );
            };
            return Ok(Target::External {
                socket: PathBuf::from(path),
            });
        }
        let root = PathBuf::from(env.get("STACK_ROOT").unwrap_or("/var/lib/stack"));
        let run_dir = PathBuf::from(env.get("STACK_RUN_DIR").unwrap_or("/run/stack"));
        Ok(Target::Embedded {
            socket: run_dir.join("stack.sock"),
            root,
            run_dir,
        })
    }

    pub fn socket(&self) -> &PathBuf {
        match self {
            Target::Embedded { socket, .. } | Target::External { socket } => socket,
        }
    }
}

/// How long a freshly started daemon may take to answer.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// Starts the embedded daemon detached, in a session of its own as a daemon
/// runs (a Ctrl-C or hang-up of the CLI's terminal does not reach it, and
/// where the kernel groups each session for the scheduler, it does not
/// share the CPU share of whatever else that terminal runs), and waits
/// until `answers` says it is serving. On failure the error quotes the end
/// of its log.
pub async fn start_daemon<F, Fut>(root: &PathBuf, run_dir: &PathBuf, answers: F) -> Result<()>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(run_dir)
        .with_context(|| format!("creating {}", run_dir.display()))?;
    let log_path = run_dir.join("daemon.log");
    let log = OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(&log_path)
        .with_context(|| format!("opening {}", log_path.display()))?;
    let exe = std::env::current_exe().context("finding the stack binary")?;
    let mut command = Command::new(exe);
    command
        .arg("daemon")
        .arg("--root")
        .arg(root)
        .arg("--run-dir")
        .arg(run_dir)
        .stdin(Stdio::null())
        .stdout(log.try_clone().context("duplicating the log file")?)
        .stderr(log);
    // SAFETY: setsid is async-signal-safe and touches no memory of ours.
    unsafe {
        command.pre_exec(|| rustix::process::setsid().map(drop).map_err(Into::into));
    }
    let mut child = command.spawn().context("starting stack daemon")?;
    let started = Instant::now();
    loop {
        if answers().await {
            return Ok(());
        }
        if let Some(status) = child.try_wait().context("watching stack daemon")? {
            bail!(
                "stack daemon exited ({status}) before answering; the end of {}:\n{}",
                log_path.display(),
                log_tail(&log_path)
            );
        }
        if started.elapsed() > START_TIMEOUT {
            bail!(
                "stack daemon did not answer within {}s; see {}",
                START_TIMEOUT.as_secs(),
                log_path.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn log_tail(path: &PathBuf) -> String {
    let text = fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(10)..].join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        pairs.iter().copied().collect()
    }

    #[test]
    fn embedded_by_default_with_overridable_dirs() {
        assert_eq!(
            Target::from_env(&env(&[])).expect("target"),
            Target::Embedded {
                root: "/var/lib/stack".into(),
                run_dir: "/run/stack".into(),
                socket: "/run/stack/stack.sock".into(),
            }
        );
        let t = Target::from_env(&env(&[
            ("STACK_RUN_DIR", "/tmp/r"),
            ("STACK_ROOT", "/tmp/s"),
        ]));
        assert_eq!(
            t.expect("target").socket(),
            &PathBuf::from("/tmp/r/stack.sock")
        );
    }

    #[test]
    fn stack_host_wins_over_docker_host() {
        let t = Target::from_env(&env(&[
            ("DOCKER_HOST", "unix:///var/run/docker.sock"),
            ("STACK_HOST", "unix:///tmp/other.sock"),
        ]));
        assert_eq!(
            t.expect("target"),
            Target::External {
                socket: "/tmp/other.sock".into()
            }
        );
        let t = Target::from_env(&env(&[("DOCKER_HOST", "unix:///var/run/docker.sock")]));
        assert_eq!(
            t.expect("target").socket(),
            &PathBuf::from("/var/run/docker.sock")
        );
        let err = Target::from_env(&env(&[("STACK_HOST", "tcp://1.2.3.4:2375")]));
        assert!(err.is_err());
    }
}
