//! Attached sessions with a container's own process: `stack container
//! attach`, `start -a` and `run -i`/`-t` in the foreground. The keys that
//! detach (`--detach-keys`, docker's ctrl-p ctrl-q by default) are watched
//! for by the engine, as Docker's does: this side only forwards what is
//! typed, and tells a detach from an exit by the container still running
//! once the stream ended.

use super::super::engine::api_message;
use super::ops::{self, RawTerminal, ResizeTarget, DETACHED};
use super::wait;
use crate::orchestrator::snapshot::is_not_found;
use anyhow::{anyhow, bail, Result};
use bollard::query_parameters::{
    AttachContainerOptions, InspectContainerOptions, StartContainerOptions,
};
use bollard::Docker;
use std::process::ExitCode;

/// `attach`'s flags.
#[derive(Debug, clap::Args)]
pub struct AttachArgs {
    /// Override the key sequence for detaching a container
    #[arg(long)]
    detach_keys: Option<String>,
    /// Do not attach STDIN
    #[arg(long)]
    no_stdin: bool,
    /// The container
    container: String,
}

/// `start`'s flags.
#[derive(Debug, clap::Args)]
pub struct StartArgs {
    /// Attach STDOUT/STDERR and forward signals
    #[arg(short, long)]
    attach: bool,
    /// Attach container's STDIN
    #[arg(short, long)]
    interactive: bool,
    /// Override the key sequence for detaching a container
    #[arg(long)]
    detach_keys: Option<String>,
    #[arg(required = true)]
    pub(super) containers: Vec<String>,
}

impl StartArgs {
    /// Whether the start attaches (`-a` or `-i`), as docker's does.
    pub(super) fn attaches(&self) -> bool {
        self.attach || self.interactive
    }
}

/// How an attached session ended.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Ended {
    /// The container's process exited (or the output ended).
    Exited,
    /// The detach keys were typed: the container goes on running.
    Detached,
}

/// What an attached session asks for.
pub(in crate::cli) struct Session<'a> {
    /// The container.
    pub(in crate::cli) id: &'a str,
    /// This process's stdin goes to the container's.
    pub(in crate::cli) interactive: bool,
    /// The container has a TTY: this terminal goes raw and its size follows.
    pub(in crate::cli) tty: bool,
    /// `--detach-keys` (none: the engine's default, ctrl-p ctrl-q).
    pub(in crate::cli) detach_keys: Option<String>,
}

/// Attaches to container `session.id` (before its start, as docker does),
/// then `start` starts it (a no-op when it runs already), then the streams
/// are relayed until the container ends or the user detaches.
pub(super) async fn session(
    client: &Docker,
    session: Session<'_>,
    start: impl std::future::Future<Output = Result<()>>,
) -> Result<Ended> {
    let options = AttachContainerOptions {
        stdin: session.interactive,
        stdout: true,
        stderr: true,
        stream: true,
        logs: false,
        detach_keys: session.detach_keys,
    };
    let attached = client
        .attach_container(session.id, Some(options))
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    let raw = (session.tty && session.interactive)
        .then(|| RawTerminal::enter().ok())
        .flatten();
    let started = start.await;
    if let Err(e) = started {
        drop(raw);
        return Err(e);
    }
    let target = session
        .tty
        .then(|| ResizeTarget::Container(session.id.to_owned()));
    let relayed = ops::relay(
        client,
        attached.output,
        attached.input,
        session.interactive,
        target,
    )
    .await;
    drop(raw);
    relayed?;
    // The engine ends the stream after the exit is recorded, so a
    // container still running was left with the detach keys.
    let state = match client
        .inspect_container(session.id, None::<InspectContainerOptions>)
        .await
    {
        Ok(details) => details.state,
        // Removed on exit (`run --rm`).
        Err(e) if is_not_found(&e) => return Ok(Ended::Exited),
        Err(e) => bail!("{}", api_message(&e)),
    };
    if session.interactive && state.and_then(|s| s.running) == Some(true) {
        return Ok(Ended::Detached);
    }
    Ok(Ended::Exited)
}

/// The exit code of a session: 0 after a detach (said as docker's
/// `attach` says it), the container's otherwise.
async fn exit_code(client: &Docker, id: &str, ended: Ended) -> Result<ExitCode> {
    let code = match ended {
        Ended::Detached => {
            eprintln!("{DETACHED}");
            0
        }
        Ended::Exited => wait(client, id).await?,
    };
    Ok(ExitCode::from(
        u8::try_from(code.rem_euclid(256)).unwrap_or(1),
    ))
}

/// `attach`: the running container's streams here until it exits (its
/// exit code) or the user detaches (0).
pub(super) async fn attach(client: &Docker, args: AttachArgs) -> Result<ExitCode> {
    let details = client
        .inspect_container(&args.container, None::<InspectContainerOptions>)
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    let id = details.id.unwrap_or_default();
    let state = details.state.unwrap_or_default();
    if state.running != Some(true) {
        bail!("You cannot attach to a stopped container, start it first");
    }
    if state.paused == Some(true) {
        bail!("You cannot attach to a paused container, unpause it first");
    }
    let config = details.config.unwrap_or_default();
    let session = Session {
        id: &id,
        interactive: !args.no_stdin && config.open_stdin == Some(true),
        tty: config.tty == Some(true),
        detach_keys: args.detach_keys,
    };
    let ended = self::session(client, session, async { Ok(()) }).await?;
    exit_code(client, &id, ended).await
}

/// `start -a`/`-i`: one container, attached before it starts.
pub(super) async fn start_attached(client: &Docker, args: StartArgs) -> Result<ExitCode> {
    let [container] = args.containers.as_slice() else {
        bail!("you cannot start and attach multiple containers at once");
    };
    let details = client
        .inspect_container(container, None::<InspectContainerOptions>)
        .await
        .map_err(|e| anyhow!("{}", api_message(&e)))?;
    let id = details.id.unwrap_or_default();
    let config = details.config.unwrap_or_default();
    let session = Session {
        id: &id,
        interactive: args.interactive && config.open_stdin == Some(true),
        tty: config.tty == Some(true),
        detach_keys: args.detach_keys,
    };
    let start = async {
        client
            .start_container(&id, None::<StartContainerOptions>)
            .await
            .map_err(|e| anyhow!("{}", api_message(&e)))
    };
    let ended = self::session(client, session, start).await?;
    exit_code(client, &id, ended).await
}
