//! The Docker Engine API subset, served as HTTP/1.1 on a Unix socket.
//!
//! - `route`: method + path → [`route::Route`] (pure);
//! - `query`, `filters`, `reply`: decoding requests, refusing what is not
//!   supported by name, and building Docker-shaped answers;
//! - `error`: `{"message": ...}` with Docker's status codes;
//! - `system`, `volumes`, `images`, `events`, `containers`: the handlers; `host`: facts
//!   about the host.

mod containers;
mod error;
mod events;
mod filters;
mod host;
mod images;
mod networks;
mod query;
mod reply;
mod route;
mod system;
mod volumes;

use std::convert::Infallible;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, SERVER};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

pub(crate) use containers::watch_running;
pub(crate) use error::chain;
pub(crate) use host::HostFacts;
pub(crate) use images::ImageUsers;
pub(crate) use route::API_VERSION;

use crate::container::Containers;
use crate::events::EventBus;
use crate::image::ImageStore;
use crate::network::manager::Networks;
use crate::state::Layout;
use crate::volume::VolumeStore;
use error::ApiError;
use query::Query;
use reply::Body;
use route::{Route, API_VERSION_TEXT};

/// How long open connections get to finish once shutdown begins.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// Everything the handlers work with.
pub(crate) struct Context {
    pub(crate) layout: Layout,
    pub(crate) engine_id: String,
    pub(crate) host: HostFacts,
    pub(crate) images: ImageStore,
    /// Which images containers use (refuses their removal, spares them in prune).
    pub(crate) image_users: Arc<dyn ImageUsers>,
    pub(crate) volumes: VolumeStore,
    pub(crate) containers: Arc<Containers>,
    pub(crate) networks: Arc<Networks>,
    pub(crate) events: EventBus,
    /// Turns true when the daemon stops, ending streams such as `/events`.
    pub(crate) stopping: watch::Receiver<bool>,
    /// The daemon's `--init-path`, if given.
    pub(crate) init_path: Option<PathBuf>,
}

/// Serves `listener` until `shutdown` completes, then stops accepting,
/// tells connections and long-lived streams (such as `/events`) to finish
/// through `stop`, and waits (bounded) for them.
pub(crate) async fn serve(
    listener: UnixListener,
    ctx: Arc<Context>,
    stop: watch::Sender<bool>,
    shutdown: impl Future<Output = ()>,
) {
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    while connections.try_join_next().is_some() {}
                    connections.spawn(connection(stream, ctx.clone(), stop.subscribe()));
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning.
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            },
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    // Every receiver may be gone already; that is fine.
    let _ = stop.send(true);
    let drained = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while connections.join_next().await.is_some() {}
    });
    if drained.await.is_err() {
        tracing::warn!("connections still open after {DRAIN_TIMEOUT:?}; closing them");
    }
}

/// Serves one connection; when the daemon stops, lets the request in
/// flight finish and closes it.
async fn connection(stream: UnixStream, ctx: Arc<Context>, stopping: watch::Receiver<bool>) {
    let service = service_fn(move |request| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(handle(ctx, request).await) }
    });
    // Upgrades are kept for attach and exec's raw streams.
    let connection = http1::Builder::new()
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = stopped(stopping) => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(e) = result {
        tracing::debug!(error = %e, "connection ended with an error");
    }
}

/// Completes once the daemon is stopping.
pub(crate) async fn stopped(mut stopping: watch::Receiver<bool>) {
    // An error means the daemon is gone, which is stopping too.
    let _ = stopping.wait_for(|stop| *stop).await;
}

/// Answers one request, never failing: errors become Docker's JSON errors.
async fn handle(ctx: Arc<Context>, request: Request<Incoming>) -> Response<Body> {
    let method = request.method().clone();
    let path = request.uri().path().to_string();
    let mut response = match dispatch(&ctx, request).await {
        Ok(response) => response,
        Err(error) => {
            if error.status.is_server_error() && error.status != hyper::StatusCode::NOT_IMPLEMENTED
            {
                tracing::error!(%method, %path, message = %error.message, "request failed");
            }
            error.into_response()
        }
    };
    tracing::debug!(%method, %path, status = response.status().as_u16(), "request");
    let headers = response.headers_mut();
    headers.insert("API-Version", HeaderValue::from_static(API_VERSION_TEXT));
    headers.insert("Docker-Experimental", HeaderValue::from_static("false"));
    headers.insert("OSType", HeaderValue::from_static("linux"));
    headers.insert(
        SERVER,
        HeaderValue::from_static(concat!("stack/", env!("CARGO_PKG_VERSION"), " (linux)")),
    );
    response
}

async fn dispatch(
    ctx: &Arc<Context>,
    request: Request<Incoming>,
) -> Result<Response<Body>, ApiError> {
    let (version, route) = route::route(request.method(), request.uri().path())?;
    let query = Query::parse(request.uri().query())?;
    match route {
        Route::Ping => system::ping(request.method(), query),
        Route::Version => system::version(ctx, query),
        Route::Info => blocking(ctx, move |ctx| system::info(ctx, query)).await,
        Route::Events => events::stream(ctx, query),
        Route::VolumeList => blocking(ctx, move |ctx| volumes::list(ctx, query)).await,
        Route::VolumeCreate => {
            let body = reply::read_json_body(request).await?;
            blocking(ctx, move |ctx| volumes::create(ctx, query, body)).await
        }
        Route::VolumeInspect(name) => {
            blocking(ctx, move |ctx| volumes::inspect(ctx, &name, query)).await
        }
        Route::VolumeRemove(name) => {
            blocking(ctx, move |ctx| volumes::remove(ctx, &name, query)).await
        }
        Route::NetworkList => networks::list(ctx, query),
        Route::NetworkInspect(id) => networks::inspect(ctx, &id, query),
        Route::NetworkCreate => {
            let body = reply::read_json_body(request).await?;
            networks::create(ctx, query, body).await
        }
        Route::NetworkRemove(id) => networks::remove(ctx, &id, query).await,
        Route::NetworkPrune => networks::prune(ctx, query).await,
        Route::NetworkConnect(id) => {
            let body = reply::read_json_body(request).await?;
            networks::connect(ctx, &id, query, body).await
        }
        Route::NetworkDisconnect(id) => {
            let body = reply::read_json_body(request).await?;
            networks::disconnect(ctx, &id, query, body).await
        }
        Route::VolumePrune => blocking(ctx, move |ctx| volumes::prune(ctx, version, query)).await,
        Route::ContainerCreate => {
            let body = reply::read_json_body(request).await?;
            blocking(ctx, move |ctx| containers::create(ctx, query, &body)).await
        }
        Route::ContainerList => blocking(ctx, move |ctx| containers::list(ctx, query)).await,
        Route::ContainerInspect(id) => {
            blocking(ctx, move |ctx| containers::inspect(ctx, &id, query)).await
        }
        Route::ContainerStart(id) => containers::start(ctx, &id, query).await,
        Route::ContainerStop(id) => containers::stop(ctx, &id, query).await,
        Route::ContainerRestart(id) => containers::restart(ctx, &id, query).await,
        Route::ContainerRename(id) => containers::rename(ctx, &id, query).await,
        Route::ContainerKill(id) => containers::kill(ctx, &id, query).await,
        Route::ContainerWait(id) => containers::wait(ctx, &id, query),
        Route::ContainerLogs(id) => containers::logs(ctx, &id, query),
        Route::ContainerRemove(id) => containers::remove(ctx, &id, query).await,
        Route::ContainerAttach(id) => containers::attach(ctx, &id, query, request),
        Route::ContainerResize(id) => containers::resize(ctx, &id, query).await,
        Route::ContainerPause(id) => containers::set_paused(ctx, &id, query, true).await,
        Route::ContainerUnpause(id) => containers::set_paused(ctx, &id, query, false).await,
        Route::ContainerTop(id) => containers::top(ctx, &id, query).await,
        Route::ContainerStats(id) => containers::stats(ctx, &id, query),
        Route::ContainerExec(id) => {
            let body = reply::read_json_body(request).await?;
            blocking(ctx, move |ctx| {
                containers::exec_create(ctx, &id, query, &body)
            })
            .await
        }
        Route::ExecStart(id) => containers::exec_start(ctx, &id, query, request).await,
        Route::ExecInspect(id) => containers::exec_inspect(ctx, &id, query),
        Route::ExecResize(id) => containers::exec_resize(ctx, &id, query),
        Route::ImageList => blocking(ctx, move |ctx| images::list(ctx, query)).await,
        Route::ImageInspect(name) => {
            blocking(ctx, move |ctx| images::inspect(ctx, &name, query)).await
        }
        Route::ImageRemove(name) => {
            blocking(ctx, move |ctx| images::remove(ctx, &name, query)).await
        }
        Route::ImageTag(name) => blocking(ctx, move |ctx| images::tag(ctx, &name, query)).await,
        Route::ImagePrune => blocking(ctx, move |ctx| images::prune(ctx, query)).await,
        Route::ImageLoad => images::load(ctx, query, request.into_body()).await,
        Route::ImageCreate => images::create(ctx, query, request.into_body()).await,
        Route::ImageSave(name) => images::save(ctx, name, query).await,
        Route::Unsupported => Err(unsupported(request.method(), request.uri().path())),
    }
}

/// The one answer for the parts of Docker's API this engine does not serve.
fn unsupported(method: &Method, path: &str) -> ApiError {
    ApiError::not_implemented(format!(
        "{method} {path} is not supported by the stack engine: it serves containers, exec, \
         networks, volumes, system and images by load, import, save and tag; build, push, \
         search, history, commit, export and archive are not available"
    ))
}

/// Runs a handler that does file I/O off the async worker threads.
async fn blocking<F>(ctx: &Arc<Context>, handler: F) -> Result<Response<Body>, ApiError>
where
    F: FnOnce(&Context) -> Result<Response<Body>, ApiError> + Send + 'static,
{
    let ctx = ctx.clone();
    tokio::task::spawn_blocking(move || handler(&ctx))
        .await
        .map_err(|e| ApiError::internal(format!("the request handler failed: {e}")))?
}
