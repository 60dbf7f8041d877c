//! `stack container run`: create, start, and in the foreground follow the
//! container to its end (its logs, or with `-i`/`-t` its attached streams),
//! exiting with its exit code as docker does.

use super::super::engine::api_message;
use super::attach::{self, Ended, Session};
use super::{create, logs, wait, RunArgs};
use anyhow::{anyhow, Result};
use bollard::query_parameters::{
    EventsOptions, KillContainerOptions, RemoveContainerOptions, StartContainerOptions,
    WaitContainerOptions,
};
use bollard::Docker;
use futures_util::StreamExt;
use stack_compose::env::Environment;
use std::collections::HashMap;
use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};
use tokio::signal::unix::{signal, SignalKind};

/// `run`: create and start; in the foreground, stream the logs and exit
/// with the container's exit code (removing it afterwards with `--rm`).
pub(super) async fn run_container(
    client: &Docker,
    args: RunArgs,
    env: &Environment,
) -> Result<ExitCode> {
    // Following the logs, `--rm` is done here after the exit code is known;
    // detached or attached (which may end in a detach), the daemon removes
    // the container when it exits, as docker's does.
    let attached = !args.detach && (args.create.interactive || args.create.tty);
    let auto_remove = args.create.rm && (args.detach || attached);
    let id = match create(client, &args.create, env, auto_remove).await {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(125));
        }
    };
    if attached {
        let session = Session {
            id: &id,
            interactive: args.create.interactive,
            tty: args.create.tty,
            detach_keys: args.detach_keys.clone(),
        };
        return run_attached(client, session, args.create.rm).await;
    }
    if let Err(e) = client
        .start_container(&id, None::<StartContainerOptions>)
        .await
    {
        let message = api_message(&e);
        eprintln!("error: {message}");
        if args.create.rm {
            let options = RemoveContainerOptions {
                force: true,
                ..Default::default()
            };
            // The start error is the one to report.
            let _ = client.remove_container(&id, Some(options)).await;
        }
        return Ok(ExitCode::from(start_failure_code(&message)));
    }
    if args.detach {
        println!("{id}");
        return Ok(ExitCode::SUCCESS);
    }
    // Asked now, the exit code arrives with the end of the output instead
    // of one request later; once started, "not-running" cannot miss the exit.
    let exited = tokio::spawn({
        let (client, id) = (client.clone(), id.clone());
        async move { wait(&client, &id).await }
    });
    // Like docker's sig-proxy: Ctrl-C and SIGTERM reach the container,
    // whose exit then ends the output and the run.
    let output = logs(client, &id, true, false, "all");
    let mut output = std::pin::pin!(output);
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    loop {
        let name = tokio::select! {
            result = &mut output => {
                result?;
                break;
            }
            _ = interrupt.recv() => "INT",
            _ = terminate.recv() => "TERM",
        };
        let options = KillContainerOptions {
            signal: name.to_owned(),
        };
        // The container may have exited meanwhile.
        let _ = client.kill_container(&id, Some(options)).await;
    }
    let code = exited
        .await
        .map_err(|e| anyhow!("waiting for the container's exit: {e}"))??;
    finish(client, &id, &args, code).await
}

/// A created container run in the foreground attached (`run -i`/`-t`,
/// and compose's `run`): attach, start, relay until the end, exit with the
/// container's code (once the daemon removed it when `auto_removed`); or,
/// detached with the detach keys, leave it running and exit 0.
pub(in crate::cli) async fn run_attached(
    client: &Docker,
    session: Session<'_>,
    auto_removed: bool,
) -> Result<ExitCode> {
    let id = session.id;
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let start = async {
        client
            .start_container(id, None::<StartContainerOptions>)
            .await
            .map_err(|e| anyhow!("{}", api_message(&e)))
    };
    let code = match attach::session(client, session, start).await {
        // Still running: `--rm` is the daemon's job.
        Ok(Ended::Detached) => return Ok(ExitCode::SUCCESS),
        Ok(Ended::Exited) => match wait(client, id).await {
            Ok(code) => code,
            // Removed already (`--rm`): its `die` event has the code.
            Err(e) => died_with(client, id, since).await.ok_or(e)?,
        },
        Err(e) => {
            eprintln!("error: {e:#}");
            i64::from(start_failure_code(&format!("{e:#}")))
        }
    };
    if auto_removed {
        let options = WaitContainerOptions {
            condition: "removed".into(),
        };
        // Gone already when the wait finds no container.
        let _ = client.wait_container(id, Some(options)).next().await;
    }
    Ok(exit_code(code))
}

/// The exit code in the last `die` event of container `id` since `since`
/// (seconds since the epoch).
async fn died_with(client: &Docker, id: &str, since: u64) -> Option<i64> {
    let until = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        + 1;
    let filters = HashMap::from([
        ("container".to_owned(), vec![id.to_owned()]),
        ("event".to_owned(), vec!["die".to_owned()]),
    ]);
    let options = EventsOptions {
        since: Some(since.to_string()),
        until: Some(until.to_string()),
        filters: Some(filters),
    };
    let events: Vec<_> = client.events(Some(options)).collect().await;
    events.into_iter().rev().find_map(|event| {
        let attributes = event.ok()?.actor?.attributes?;
        attributes.get("exitCode")?.parse().ok()
    })
}

/// A container's exit code as a process's.
fn exit_code(code: i64) -> ExitCode {
    ExitCode::from(u8::try_from(code.rem_euclid(256)).unwrap_or(1))
}

/// The end of a foreground run following the logs: the container removed
/// with `--rm` (and its anonymous volumes, as docker does), the process
/// exiting with the container's code.
async fn finish(client: &Docker, id: &str, args: &RunArgs, code: i64) -> Result<ExitCode> {
    if args.create.rm {
        let options = RemoveContainerOptions {
            force: true,
            v: true,
            link: false,
        };
        client
            .remove_container(id, Some(options))
            .await
            .map_err(|e| anyhow!("cannot remove the container: {}", api_message(&e)))?;
    }
    Ok(exit_code(code))
}

/// docker's exit code for a container that could not start: 127 when its
/// command is not found, 126 when it cannot be run, 125 otherwise.
fn start_failure_code(message: &str) -> u8 {
    if message.contains("not found") || message.contains("no such file or directory") {
        127
    } else if message.contains("permission denied") {
        126
    } else {
        125
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_failures_exit_like_docker() {
        assert_eq!(start_failure_code("executable 'x' not found in $PATH"), 127);
        assert_eq!(start_failure_code("open /x: permission denied"), 126);
        assert_eq!(start_failure_code("cannot mount"), 125);
    }
}
