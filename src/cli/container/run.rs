//! `stack container run`: create, start, and in the foreground follow the
//! container to its end (its logs, or with `-i`/`-t` its attached streams),
//! exiting with its exit code as docker does.

use super::super::engine::api_message;
use super::attach::{self, Ended, Session};
use super::{create, logs, wait, RunArgs};
use anyhow::{anyhow, Result};
use bollard::query_parameters::{
    KillContainerOptions, RemoveContainerOptions, StartContainerOptions,
};
use bollard::Docker;
use stack_compose::env::Environment;
use std::process::ExitCode;
use tokio::signal::unix::{signal, SignalKind};

/// `run`: create and start; in the foreground, stream the logs and exit
/// with the container's exit code (removing it afterwards with `--rm`).
pub(super) async fn run_container(
    client: &Docker,
    args: RunArgs,
    env: &Environment,
) -> Result<ExitCode> {
    // In the foreground, `--rm` is done here after the exit code is known;
    // detached, the daemon removes the container when it exits.
    let id = match create(client, &args.create, env, args.detach && args.create.rm).await {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: {e:#}");
            return Ok(ExitCode::from(125));
        }
    };
    if !args.detach && (args.create.interactive || args.create.tty) {
        return run_interactive(client, &id, &args).await;
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
    let code = wait(client, &id).await?;
    finish(client, &id, &args, code).await
}

/// `run -i`/`-t` in the foreground: attach, start, relay until the end,
/// remove with `--rm`, exit with the container's code; or, detached with
/// the detach keys, leave it running and exit 0.
async fn run_interactive(client: &Docker, id: &str, args: &RunArgs) -> Result<ExitCode> {
    let start = async {
        client
            .start_container(id, None::<StartContainerOptions>)
            .await
            .map_err(|e| anyhow!("{}", api_message(&e)))
    };
    let session = Session {
        id,
        interactive: args.create.interactive,
        tty: args.create.tty,
        detach_keys: args.detach_keys.clone(),
    };
    let code = match attach::session(client, session, start).await {
        // Still running: `--rm` is the daemon's job from now on, as docker's is.
        Ok(Ended::Detached) => return Ok(ExitCode::SUCCESS),
        Ok(Ended::Exited) => wait(client, id).await?,
        Err(e) => {
            eprintln!("error: {e:#}");
            i64::from(start_failure_code(&format!("{e:#}")))
        }
    };
    finish(client, id, args, code).await
}

/// The end of a foreground run: the container removed with `--rm` (and
/// its anonymous volumes, as docker does), the process exiting with the
/// container's code.
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
    Ok(ExitCode::from(
        u8::try_from(code.rem_euclid(256)).unwrap_or(1),
    ))
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
