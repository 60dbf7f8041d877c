//! The only client of the engine API: bollard over a Unix socket.

use crate::daemon_launcher::{self, Target};
use anyhow::{Context, Result};
use bollard::{ClientVersion, Docker, API_DEFAULT_VERSION};
use std::path::Path;

/// Seconds a single API request may take.
const REQUEST_TIMEOUT: u64 = 120;

fn client(socket: &Path) -> Result<Docker, bollard::errors::Error> {
    client_at(socket, API_DEFAULT_VERSION)
}

fn client_at(socket: &Path, version: &ClientVersion) -> Result<Docker, bollard::errors::Error> {
    Docker::connect_with_unix(&socket.to_string_lossy(), REQUEST_TIMEOUT, version)
}

/// The API version of the embedded engine, which is this build's own.
fn embedded_version() -> ClientVersion {
    let (major, minor) = stack_engine::API_VERSION;
    ClientVersion {
        major_version: major as usize,
        minor_version: minor as usize,
    }
}

/// Whether an engine answers `/_ping` on `socket`.
async fn answers(socket: &Path) -> bool {
    match client(socket) {
        Ok(c) => c.ping().await.is_ok(),
        Err(_) => false,
    }
}

/// A client for `target`: the embedded daemon (started first when it does
/// not answer) speaks this build's API version, which saves a `/version`
/// round trip on every command; an external engine's version is negotiated.
pub async fn connect(target: &Target) -> Result<Docker> {
    let socket = target.socket();
    let answering = answers(socket).await;
    match target {
        Target::Embedded { root, run_dir, .. } => {
            if !answering {
                daemon_launcher::start_daemon(root, run_dir, || answers(socket)).await?;
            }
            return client_at(socket, &embedded_version())
                .with_context(|| format!("connecting to {}", socket.display()));
        }
        Target::External { .. } if !answering => {
            anyhow::bail!(
                "no engine answers on {} (set by STACK_HOST or DOCKER_HOST)",
                socket.display()
            )
        }
        Target::External { .. } => {}
    }
    client(socket)
        .with_context(|| format!("connecting to {}", socket.display()))?
        .negotiate_version()
        .await
        .with_context(|| format!("negotiating the API version with {}", socket.display()))
}
