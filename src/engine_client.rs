//! The only client of the engine API: bollard over a Unix socket.

use crate::daemon_launcher::{self, Target};
use anyhow::{Context, Result};
use bollard::{Docker, API_DEFAULT_VERSION};
use std::path::Path;

/// Seconds a single API request may take.
const REQUEST_TIMEOUT: u64 = 120;

fn client(socket: &Path) -> Result<Docker, bollard::errors::Error> {
    Docker::connect_with_unix(
        &socket.to_string_lossy(),
        REQUEST_TIMEOUT,
        API_DEFAULT_VERSION,
    )
}

/// Whether an engine answers `/_ping` on `socket`.
async fn answers(socket: &Path) -> bool {
    match client(socket) {
        Ok(c) => c.ping().await.is_ok(),
        Err(_) => false,
    }
}

/// A client for `target`, with the API version negotiated with the engine;
/// the embedded daemon is started first when it does not answer.
pub async fn connect(target: &Target) -> Result<Docker> {
    let socket = target.socket();
    if !answers(socket).await {
        match target {
            Target::Embedded { root, run_dir, .. } => {
                daemon_launcher::start_daemon(root, run_dir, || answers(socket)).await?
            }
            Target::External { .. } => {
                anyhow::bail!(
                    "no engine answers on {} (set by STACK_HOST or DOCKER_HOST)",
                    socket.display()
                )
            }
        }
    }
    client(socket)
        .with_context(|| format!("connecting to {}", socket.display()))?
        .negotiate_version()
        .await
        .with_context(|| format!("negotiating the API version with {}", socket.display()))
}
