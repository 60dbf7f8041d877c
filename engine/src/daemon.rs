//! The `stack daemon` process as a library call: [`run`] takes the state
//! root, run directory and socket path from the caller, locks the root,
//! serves the API on a Unix socket (mode 0600) and, when the caller's
//! shutdown future completes, stops accepting, ends streams, drains
//! connections and removes its socket.

use std::future::Future;
use std::io;
use std::os::unix::fs::{DirBuilderExt, FileTypeExt, MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use tokio::net::UnixListener;
use tokio::sync::watch;

use crate::api::{self, Context, HostFacts};
use crate::container::run_state::RunStatus;
use crate::container::Containers;
use crate::events::EventBus;
use crate::image::{ImageError, ImageStore};
use crate::network::manager::{NetworkOptions, Networks};
use crate::runtime::CgroupMounts;
use crate::state::{self, Layout, RootLock};
use crate::volume::VolumeStore;

pub use crate::state::LockError;

/// Where the daemon keeps things. The CLI chooses the defaults
/// (`/var/lib/stack`, `/run/stack`, `/run/stack/stack.sock`); the library
/// assumes none of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DaemonConfig {
    /// The persistent state root (`--root`).
    pub root: PathBuf,
    /// The run directory for per-boot files.
    pub run_dir: PathBuf,
    /// The API socket (`--host unix://PATH`).
    pub socket: PathBuf,
    /// The executable started as each container's monitor with the
    /// arguments [`crate::monitor::MonitorArgs::to_args`] (the CLI passes
    /// `stack-monitor` next to itself, or `--monitor-path`); without one,
    /// containers cannot start.
    pub monitor_exe: Option<PathBuf>,
    /// The host's resolver configuration: the upstreams of the networks'
    /// DNS server and the default network's `/etc/resolv.conf`.
    pub resolv_conf: PathBuf,
    /// The init bound into containers created with `HostConfig.Init`
    /// (`--init-path`); without one, the first static one of
    /// `/usr/bin/tini-static` and `/usr/bin/docker-init`.
    pub init_path: Option<PathBuf>,
    /// The `nft` program (`--nft-path`); without one, `nft` on `PATH`.
    /// Where it cannot be run, the firewall rules go into iptables chains
    /// instead (tests point it at a missing file to exercise that).
    pub nft: Option<PathBuf>,
}

impl DaemonConfig {
    /// A configuration whose socket is `stack.sock` in `run_dir`.
    pub fn new(root: impl Into<PathBuf>, run_dir: impl Into<PathBuf>) -> DaemonConfig {
        let run_dir = run_dir.into();
        DaemonConfig {
            root: root.into(),
            socket: run_dir.join("stack.sock"),
            run_dir,
            monitor_exe: None,
            resolv_conf: PathBuf::from("/etc/resolv.conf"),
            init_path: None,
            nft: None,
        }
    }
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// Another daemon holds the state root.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// Something already answers on the socket path.
    #[error("another daemon already answers on {}; stop it or choose another socket with --host", socket.display())]
    SocketInUse {
        /// The socket path.
        socket: PathBuf,
    },
    /// The socket path is taken by something that is not a socket.
    #[error("{} exists and is not a socket; remove it or choose another socket path", path.display())]
    NotASocket {
        /// The path.
        path: PathBuf,
    },
    /// A file operation failed.
    #[error("cannot {op} {}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The image store could not be opened.
    #[error("cannot open the image store")]
    Images(#[source] ImageError),
    /// The volume store could not be opened.
    #[error("cannot open the volume store")]
    Volumes(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// The networks could not be set up.
    #[error("cannot set up the networks: {0}")]
    Networks(String),
    /// A startup task panicked or was cancelled.
    #[error("the daemon's startup failed: {0}")]
    Startup(String),
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> DaemonError {
    let path = path.to_path_buf();
    move |source| DaemonError::Io { op, path, source }
}

/// Resolves at the first SIGTERM or SIGINT; pass it to [`run`] as its
/// shutdown. Must be called inside a Tokio runtime, and early, so that a
/// signal during startup is not lost.
pub fn termination_signal() -> io::Result<impl Future<Output = ()>> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM received; stopping"),
            _ = interrupt.recv() => tracing::info!("SIGINT received; stopping"),
        }
    })
}

/// Runs the daemon until `shutdown` completes. The socket appears at
/// `config.socket` only once the daemon accepts connections, and is gone
/// when this returns.
pub async fn run(
    config: DaemonConfig,
    shutdown: impl Future<Output = ()>,
) -> Result<(), DaemonError> {
    let layout = Layout::new(config.root.clone(), config.run_dir.clone());
    let monitor_exe = config.monitor_exe.clone();
    let (started, _lock) = tokio::task::spawn_blocking(move || open_state(layout, monitor_exe))
        .await
        .map_err(|e| DaemonError::Startup(e.to_string()))??;
    let networks = open_networks(&started, &config).await?;
    let (listener, socket) = match bind_socket(&config.socket) {
        Ok(bound) => bound,
        Err(error) => {
            networks.shutdown().await;
            return Err(error);
        }
    };
    let (stop_streams, stopping) = watch::channel(false);
    let ctx = Arc::new(Context {
        layout: started.layout,
        engine_id: started.engine_id,
        host: HostFacts::read(Path::new("/")),
        images: started.images,
        image_users: started.containers.clone(),
        volumes: started.volumes,
        containers: started.containers,
        networks: networks.clone(),
        events: EventBus::new(),
        stopping,
        init_path: config.init_path.clone(),
    });
    api::watch_running(&ctx);
    tracing::info!(
        socket = %config.socket.display(),
        root = %config.root.display(),
        pid = std::process::id(),
        "stack daemon listening"
    );
    api::serve(listener, ctx, stop_streams, shutdown).await;
    networks.shutdown().await;
    release_cgroup_parent(&crate::cgroup_parent(&config.root));
    drop(socket);
    tracing::info!("stack daemon stopped");
    Ok(())
}

/// Removes this root's parent cgroup (`/stack`, or `/stack-<tag>` for
/// another root) in every hierarchy where no container is left below it,
/// once the daemon no longer starts containers. Containers that still run
/// keep it; a later daemon on the root removes it at its own stop.
fn release_cgroup_parent(parent: &Path) {
    match CgroupMounts::from_proc() {
        Ok(mounts) => mounts.remove_empty_parent(parent),
        Err(error) => tracing::warn!(
            %error,
            parent = %parent.display(),
            "cannot read the cgroup mounts to release the containers' parent cgroup"
        ),
    }
}

/// Opens the networks, telling them which containers still run (their
/// endpoints are kept) and which exist (the others' are torn down).
async fn open_networks(
    started: &Started,
    config: &DaemonConfig,
) -> Result<Arc<Networks>, DaemonError> {
    let mut running = Vec::new();
    let mut all = Vec::new();
    for entry in started.containers.list() {
        let snapshot = entry.snapshot();
        all.push(entry.record.id.clone());
        if snapshot.run.is_some_and(|r| r.status == RunStatus::Running) {
            running.push((
                entry.record.id.clone(),
                entry.name(),
                entry.record.config.hostname.clone().unwrap_or_default(),
            ));
        }
    }
    let mut options = NetworkOptions::for_root(&config.root);
    options.resolv_conf = config.resolv_conf.clone();
    if let Some(nft) = &config.nft {
        options.tools.nft = nft.clone();
    }
    Networks::open(started.layout.clone(), options, &running, &all)
        .await
        .map_err(|e| DaemonError::Networks(e.to_string()))
}

/// What startup opened, before the socket exists.
struct Started {
    layout: Layout,
    engine_id: String,
    images: ImageStore,
    volumes: VolumeStore,
    containers: Arc<Containers>,
}

/// Creates the directories, takes the root's lock, and opens the stores.
fn open_state(
    layout: Layout,
    monitor_exe: Option<PathBuf>,
) -> Result<(Started, RootLock), DaemonError> {
    for dir in [layout.root(), layout.run_dir()] {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io_err("create", dir))?;
    }
    let lock = RootLock::acquire(layout.root(), &layout.lock_file())?;
    let engine_id = engine_id(&layout)?;
    let images = ImageStore::open(layout.images()).map_err(DaemonError::Images)?;
    let containers = Arc::new(
        Containers::open(layout.clone(), monitor_exe)
            .map_err(io_err("load", &layout.containers()))?,
    );
    let volumes = VolumeStore::open(layout.clone(), containers.clone())
        .map_err(|e| DaemonError::Volumes(Box::new(e)))?;
    let started = Started {
        layout,
        engine_id,
        images,
        volumes,
        containers,
    };
    Ok((started, lock))
}

/// The engine's identity file.
#[derive(Serialize, Deserialize)]
struct Identity {
    #[serde(rename = "ID")]
    id: String,
}

/// The engine's stable id, made (UUID-shaped, random) on first start.
fn engine_id(layout: &Layout) -> Result<String, DaemonError> {
    let path = layout.engine_id();
    if let Some(identity) = state::read_json::<Identity>(&path).map_err(io_err("read", &path))? {
        return Ok(identity.id);
    }
    let mut bytes = [0u8; 16];
    let urandom = Path::new("/dev/urandom");
    std::fs::File::open(urandom)
        .and_then(|mut f| io::Read::read_exact(&mut f, &mut bytes))
        .map_err(io_err("read", urandom))?;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let id = format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    );
    state::write_json_atomic(&path, &Identity { id: id.clone() })
        .map_err(io_err("write", &path))?;
    Ok(id)
}

/// Removes the socket when dropped, unless something else has replaced it.
struct SocketFile {
    path: PathBuf,
    dev: u64,
    ino: u64,
}

impl Drop for SocketFile {
    fn drop(&mut self) {
        let ours = std::fs::symlink_metadata(&self.path)
            .is_ok_and(|m| m.dev() == self.dev && m.ino() == self.ino);
        if ours {
            if let Err(e) = std::fs::remove_file(&self.path) {
                tracing::warn!(socket = %self.path.display(), error = %e, "cannot remove the API socket");
            }
        }
    }
}

/// Binds the API socket with mode 0600. It is bound under a temporary name
/// and renamed into place, so that it never exists with a looser mode and
/// its appearance means the daemon is ready.
fn bind_socket(path: &Path) -> Result<(UnixListener, SocketFile), DaemonError> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if !meta.file_type().is_socket() => {
            return Err(DaemonError::NotASocket {
                path: path.to_path_buf(),
            });
        }
        Ok(_) => {
            if std::os::unix::net::UnixStream::connect(path).is_ok() {
                return Err(DaemonError::SocketInUse {
                    socket: path.to_path_buf(),
                });
            }
            // Left by a daemon that died; the lock says it was not ours to keep.
            tracing::info!(socket = %path.display(), "removing a stale socket");
            std::fs::remove_file(path).map_err(io_err("remove", path))?;
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("inspect", path)(e)),
    }
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(parent)
        .map_err(io_err("create", parent))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let staging = parent.join(format!(".{file_name}.{}", std::process::id()));
    match std::fs::remove_file(&staging) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io_err("remove", &staging)(e)),
    }
    let listener = UnixListener::bind(&staging).map_err(io_err("bind", &staging))?;
    let placed = std::fs::set_permissions(&staging, std::fs::Permissions::from_mode(0o600))
        .map_err(io_err("chmod", &staging))
        .and_then(|()| std::fs::rename(&staging, path).map_err(io_err("rename into place", path)))
        .and_then(|()| std::fs::symlink_metadata(path).map_err(io_err("inspect", path)));
    match placed {
        Ok(meta) => Ok((
            listener,
            SocketFile {
                path: path.to_path_buf(),
                dev: meta.dev(),
                ino: meta.ino(),
            },
        )),
        Err(e) => {
            let _ = std::fs::remove_file(&staging);
            Err(e)
        }
    }
}
