//! The exec endpoints: `POST /containers/{id}/exec` (create),
//! `POST /exec/{id}/start` (the process on a hijacked connection: raw with a
//! TTY, multiplexed without; or detached), `GET /exec/{id}/json` and
//! `POST /exec/{id}/resize`. The process itself is started by the exec
//! helper (`exec_run`); this module relays its streams. The detach keys
//! (`DetachKeys`, see `attach_keys`) typed on an attached input end the
//! stream and leave the process running, as Docker does.

use std::os::fd::OwnedFd;
use std::sync::{Arc, Mutex};

use bollard_stubs::models::{
    EventMessageTypeEnum, ExecConfig, ExecInspectResponse, ExecStartConfig, ProcessConfig,
};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::watch;

use super::super::error::ApiError;
use super::super::query::Query;
use super::super::reply::{self, Body};
use super::super::Context;
use super::attach_keys::{DetachKeys, Watcher};
use super::exec_run::{self, Started};
use super::stdin::{FdStream, INPUT_LINGER};
use super::{event_attributes, lookup};
use crate::container::exec::{ExecInstance, ExecState};
use crate::container::record::Status;
use crate::container::{names, Entry};
use crate::monitor::exec::ExecRequest;
use crate::runtime::console_size;
pub(super) use crate::runtime::set_size;

/// Fields of an exec's creation that are honoured.
const EXEC_FIELDS: &[&str] = &[
    "AttachStdin",
    "AttachStdout",
    "AttachStderr",
    "ConsoleSize",
    "DetachKeys",
    "Detach",
    "Tty",
    "Env",
    "Cmd",
    "Privileged",
    "User",
    "WorkingDir",
];

/// `POST /containers/{id}/exec`.
pub(crate) fn create(
    ctx: &Context,
    reference: &str,
    query: Query,
    body: &[u8],
) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let config: ExecConfig = reply::parse_json(body, EXEC_FIELDS)?;
    let entry = lookup(ctx, reference)?;
    let id = &entry.record.id;
    let snapshot = entry.snapshot();
    if snapshot.status() != Status::Running {
        return Err(ApiError::conflict(format!("Container {id} is not running")));
    }
    if snapshot.paused {
        return Err(ApiError::conflict(format!(
            "Container {id} is paused, unpause the container before exec"
        )));
    }
    if config.cmd.as_ref().is_none_or(Vec::is_empty) {
        return Err(ApiError::bad_request("No exec command specified"));
    }
    DetachKeys::parse(config.detach_keys.as_deref())?;
    let exec_id = names::new_id().map_err(|e| ApiError::internal(e.to_string()))?;
    let command = config.cmd.clone().unwrap_or_default().join(" ");
    ctx.containers.execs().insert(ExecInstance {
        id: exec_id.clone(),
        container_id: id.clone(),
        config,
        state: watch::channel(ExecState::default()).0,
        master: Mutex::new(None),
    });
    ctx.events.publish(
        EventMessageTypeEnum::CONTAINER,
        &format!("exec_create: {command}"),
        id,
        event_attributes(&entry),
    );
    // Docker's spelling (the model's serializes as `id`).
    Ok(reply::json(
        StatusCode::CREATED,
        &serde_json::json!({ "Id": exec_id }),
    ))
}

fn instance(ctx: &Context, id: &str) -> Result<Arc<ExecInstance>, ApiError> {
    ctx.containers
        .execs()
        .get(id)
        .ok_or_else(|| ApiError::not_found(format!("No such exec instance: {id}")))
}

/// `GET /exec/{id}/json`.
pub(crate) fn inspect(ctx: &Context, id: &str, query: Query) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let exec = instance(ctx, id)?;
    let state = exec.snapshot();
    let config = &exec.config;
    let cmd = config.cmd.clone().unwrap_or_default();
    let response = ExecInspectResponse {
        can_remove: Some(false),
        detach_keys: Some(config.detach_keys.clone().unwrap_or_default()),
        id: Some(exec.id.clone()),
        running: Some(state.running),
        exit_code: state.exit_code,
        process_config: Some(ProcessConfig {
            privileged: Some(config.privileged.unwrap_or(false)),
            user: Some(config.user.clone().unwrap_or_default()),
            tty: Some(config.tty.unwrap_or(false)),
            entrypoint: cmd.first().cloned(),
            arguments: Some(cmd.iter().skip(1).cloned().collect()),
        }),
        open_stdin: Some(config.attach_stdin.unwrap_or(false)),
        open_stderr: Some(config.attach_stderr.unwrap_or(false)),
        open_stdout: Some(config.attach_stdout.unwrap_or(false)),
        container_id: Some(exec.container_id.clone()),
        pid: Some(state.pid),
    };
    Ok(reply::json(StatusCode::OK, &response))
}

/// `POST /exec/{id}/resize?h=&w=`.
pub(crate) fn resize(
    ctx: &Context,
    id: &str,
    mut query: Query,
) -> Result<Response<Body>, ApiError> {
    let size = |query: &mut Query, key: &str| -> Result<u16, ApiError> {
        query.take(key).unwrap_or_default().parse().map_err(|_| {
            ApiError::bad_request(format!("invalid {key}: expected a number of cells"))
        })
    };
    let (rows, cols) = (size(&mut query, "h")?, size(&mut query, "w")?);
    query.finish()?;
    let exec = instance(ctx, id)?;
    let master = exec
        .master
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    match master {
        Some(master) => set_size(&master, rows, cols)
            .map_err(|e| ApiError::internal(format!("cannot resize the exec's terminal: {e}")))?,
        // Clients retry a resize that comes before the terminal (docker's does).
        None if exec.config.tty == Some(true) && exec.snapshot().exit_code.is_none() => {
            return Err(ApiError::conflict(format!(
                "the terminal of exec {id} is not there yet: try again"
            )))
        }
        None => {}
    }
    Ok(reply::empty(StatusCode::OK))
}

/// `POST /exec/{id}/start`.
pub(crate) async fn start(
    ctx: &Arc<Context>,
    id: &str,
    query: Query,
    mut request: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    query.finish()?;
    let upgrade = hyper::upgrade::on(&mut request);
    let body = reply::read_json_body(request).await?;
    let start: ExecStartConfig = reply::parse_json(&body, &["Detach", "Tty", "ConsoleSize"])?;
    let exec = instance(ctx, id)?;
    let entry = lookup(ctx, &exec.container_id)?;
    let mut already = false;
    exec.state.send_modify(|s| {
        already = s.started;
        s.started = true;
    });
    if already {
        return Err(ApiError::conflict(format!(
            "Error: Exec command {} has already run",
            exec.id
        )));
    }
    let config = &exec.config;
    let tty = config.tty.unwrap_or(false) || start.tty.unwrap_or(false);
    let stdin = config.attach_stdin.unwrap_or(false) && start.detach != Some(true);
    let request = ExecRequest {
        args: config.cmd.clone().unwrap_or_default(),
        env: config.env.clone().unwrap_or_default(),
        cwd: config.working_dir.clone().unwrap_or_default(),
        user: config.user.clone().unwrap_or_default(),
        tty,
        privileged: config.privileged.unwrap_or(false),
        name: exec.id[..12].to_owned(),
        console_size: console_size(
            start
                .console_size
                .as_deref()
                .or(config.console_size.as_deref()),
        ),
    };
    let finish = Finish {
        ctx: ctx.clone(),
        exec: exec.clone(),
        entry: entry.clone(),
    };
    if start.detach == Some(true) {
        let (started, _) = finish.launch(&request, stdin).await.map_err(|error| {
            ApiError::internal(format!("OCI runtime exec failed: {}", error.message))
        })?;
        tokio::spawn(async move {
            let code = wait_helper(started.helper).await;
            finish.done(code);
        });
        return Ok(reply::empty(StatusCode::OK));
    }
    // As Docker does, the stream is set up first: a process that cannot
    // start is reported on it, and its exit code in the exec's inspect.
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else {
            finish.done(-1);
            return;
        };
        let mut io = TokioIo::new(upgraded);
        match finish.launch(&request, stdin).await {
            Ok((started, Some(master))) => {
                // Checked at creation.
                let keys = DetachKeys::parse(finish.exec.config.detach_keys.as_deref())
                    .unwrap_or_default()
                    .watcher();
                relay_tty(io, master, started.helper, keys, finish).await
            }
            Ok((started, None)) => {
                let wanted = config_attach(&finish.exec);
                relay_pipes(io, started, wanted, finish).await
            }
            Err(error) => {
                let message = format!("OCI runtime exec failed: {}\r\n", error.message);
                // Recorded first: the client inspects the exec once the stream ends.
                finish.done(error.exit_code);
                let bytes = if request.tty {
                    message.into_bytes()
                } else {
                    frame(1, message.as_bytes())
                };
                // The client may be gone.
                let _ = io.write_all(&bytes).await;
                let _ = io.shutdown().await;
            }
        }
    });
    Ok(reply::upgraded_stream(tty))
}

/// Which output streams the client asked for: (stdout, stderr).
fn config_attach(exec: &ExecInstance) -> (bool, bool) {
    (
        exec.config.attach_stdout.unwrap_or(false),
        exec.config.attach_stderr.unwrap_or(false),
    )
}

/// What happens once the process ended.
struct Finish {
    ctx: Arc<Context>,
    exec: Arc<ExecInstance>,
    entry: Arc<Entry>,
}

impl Finish {
    /// Starts the process; its pid goes into the exec's state, its
    /// terminal (sized as asked) into the exec for resizes.
    async fn launch(
        &self,
        request: &ExecRequest,
        stdin: bool,
    ) -> Result<(Started, Option<Arc<OwnedFd>>), exec_run::StartError> {
        let started = exec_run::start(&self.ctx, &self.entry, request, stdin).await;
        let mut started = started.inspect_err(|error| {
            self.exec
                .state
                .send_modify(|s| s.exit_code = Some(error.exit_code));
        })?;
        let master = started.master.take().map(Arc::new);
        *self.exec.master.lock().unwrap_or_else(|e| e.into_inner()) = master.clone();
        let pid = i64::from(started.pid);
        self.exec.state.send_modify(|s| {
            s.running = true;
            s.pid = pid;
        });
        self.ctx.events.publish(
            EventMessageTypeEnum::CONTAINER,
            &format!("exec_start: {}", request.args.join(" ")),
            &self.entry.record.id,
            event_attributes(&self.entry),
        );
        Ok((started, master))
    }

    /// The client typed the detach keys: the process goes on without it.
    fn detached(&self) {
        let mut attributes = event_attributes(&self.entry);
        attributes.insert("execID".into(), self.exec.id.clone());
        self.ctx.events.publish(
            EventMessageTypeEnum::CONTAINER,
            "exec_detach",
            &self.entry.record.id,
            attributes,
        );
    }

    fn done(self, code: i64) {
        self.exec.state.send_modify(|s| {
            s.running = false;
            s.exit_code = Some(code);
        });
        *self.exec.master.lock().unwrap_or_else(|e| e.into_inner()) = None;
        let mut attributes = event_attributes(&self.entry);
        attributes.insert("execID".into(), self.exec.id.clone());
        attributes.insert("exitCode".into(), code.to_string());
        self.ctx.events.publish(
            EventMessageTypeEnum::CONTAINER,
            "exec_die",
            &self.entry.record.id,
            attributes,
        );
    }
}

async fn wait_helper(mut helper: tokio::process::Child) -> i64 {
    match helper.wait().await {
        Ok(status) => status.code().map_or(-1, i64::from),
        Err(_) => -1,
    }
}

/// Without a TTY: stdout and stderr as frames of the multiplexed format,
/// the client's bytes to stdin as they come, until both outputs end and the
/// process exits. No detach keys are watched for, as in Docker: without a
/// TTY the input is data, and piped binary data may hold the keys.
async fn relay_pipes<S>(io: S, mut started: Started, (stdout, stderr): (bool, bool), finish: Finish)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut reader, writer) = tokio::io::split(io);
    let writer = Arc::new(tokio::sync::Mutex::new(writer));
    let mut stdin = started.helper.stdin.take();
    let mut input = tokio::spawn(async move {
        let mut buffer = vec![0u8; 4096];
        while let Ok(n) = reader.read(&mut buffer).await {
            if n == 0 {
                break;
            }
            // Without an input to give them to, the bytes are dropped.
            if let Some(pipe) = stdin.as_mut() {
                if pipe.write_all(&buffer[..n]).await.is_err() {
                    stdin = None;
                }
            }
        }
        // The client closing its side closes the process's stdin.
        if let Some(mut pipe) = stdin {
            let _ = pipe.shutdown().await;
        }
    });
    let out = started.helper.stdout.take();
    let err = started.helper.stderr.take();
    let copy_out = async {
        if let Some(pipe) = out {
            frames(pipe, 1, stdout, writer.clone()).await;
        }
    };
    let copy_err = async {
        if let Some(pipe) = err {
            frames(pipe, 2, stderr, writer.clone()).await;
        }
    };
    tokio::join!(copy_out, copy_err);
    // Recorded before the stream ends: the client inspects the exec then.
    finish.done(wait_helper(started.helper).await);
    let _ = writer.lock().await.shutdown().await;
    linger(&mut input).await;
}

/// Waits (bounded) for the client to close its side after the output
/// ended: closing ours before it with its last bytes unread would reset
/// the connection under it.
async fn linger(input: &mut tokio::task::JoinHandle<()>) {
    if tokio::time::timeout(INPUT_LINGER, &mut *input)
        .await
        .is_err()
    {
        input.abort();
    }
}

/// Copies `pipe` to the client as frames of stream `kind` (dropped when
/// not `wanted`, so that the process never blocks on a full pipe).
async fn frames<R, W>(mut pipe: R, kind: u8, wanted: bool, writer: Arc<tokio::sync::Mutex<W>>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut buffer = vec![0u8; 32 * 1024];
    let mut client_gone = false;
    loop {
        let n = match pipe.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        if !wanted || client_gone {
            continue;
        }
        let frame = frame(kind, &buffer[..n]);
        let mut writer = writer.lock().await;
        client_gone = writer.write_all(&frame).await.is_err() || writer.flush().await.is_err();
    }
}

/// One frame of the multiplexed format: stream, 3 zero bytes, length, payload.
fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut frame = Vec::with_capacity(8 + payload.len());
    frame.extend_from_slice(&[kind, 0, 0, 0]);
    frame.extend_from_slice(
        &u32::try_from(payload.len())
            .unwrap_or(u32::MAX)
            .to_be_bytes(),
    );
    frame.extend_from_slice(payload);
    frame
}

/// With a TTY: the terminal's bytes to the client and back, raw, until
/// the process ends. The detach `keys` typed on the input end the stream
/// early; the terminal is still read (and its output dropped) so that the
/// process never blocks on it.
async fn relay_tty<S>(
    io: S,
    master: Arc<OwnedFd>,
    helper: tokio::process::Child,
    mut keys: Watcher,
    finish: Finish,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Ok(terminal) = FdStream::new(&master) else {
        finish.done(wait_helper(helper).await);
        return;
    };
    let terminal = Arc::new(terminal);
    let (mut reader, writer) = tokio::io::split(io);
    let (typed, mut detached) = watch::channel(false);
    let mut input = {
        let terminal = terminal.clone();
        tokio::spawn(async move {
            let mut buffer = vec![0u8; 4096];
            let mut open = true;
            while let Ok(n) = reader.read(&mut buffer).await {
                if n == 0 {
                    break;
                }
                let filtered = keys.feed(&buffer[..n]);
                // Once the terminal is gone, the rest is read and dropped.
                open = open && terminal.write_all(&filtered.forward).await.is_ok();
                if filtered.detached {
                    let _ = typed.send(true);
                    break;
                }
            }
        })
    };
    let mut client = Some(writer);
    let mut buffer = vec![0u8; 32 * 1024];
    loop {
        tokio::select! {
            read = terminal.read(&mut buffer) => {
                // EIO on the master means every slave side is closed: the process ended.
                let n = match read {
                    Ok(0) | Err(_) => break,
                    Ok(n) => n,
                };
                if let Some(writer) = client.as_mut() {
                    if writer.write_all(&buffer[..n]).await.is_err() {
                        client = None;
                    } else {
                        let _ = writer.flush().await;
                    }
                }
            }
            // An input that ended without the keys leaves the output going.
            true = async { detached.wait_for(|d| *d).await.is_ok() }, if client.is_some() => {
                finish.detached();
                if let Some(mut writer) = client.take() {
                    let _ = writer.shutdown().await;
                }
            }
        }
    }
    // Recorded before the stream ends: the client inspects the exec then.
    finish.done(wait_helper(helper).await);
    if let Some(mut writer) = client {
        let _ = writer.shutdown().await;
    }
    linger(&mut input).await;
}
