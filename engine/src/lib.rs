//! `stack-engine`: the container engine behind the `stack daemon`.
//!
//! Layout:
//! - [`daemon`]: the daemon as a library call ([`daemon::run`]): lock, socket,
//!   graceful stop.
//! - `api`: the Docker Engine API subset over HTTP/1.1 on the Unix socket.
//! - [`image`]: the content-addressed image store (blobs, unpacked layers,
//!   image configs, tags) with `import` and `load`.
//! - [`runtime`]: containers on youki's libcontainer with Docker's defaults
//!   (spec, seccomp profile, cgroups, create/start/wait/kill/exec).
//! - `container`: container records, launch descriptions and run states.
//! - [`monitor`]: the per-container monitor process (`stack-monitor`, which
//!   becomes the small `stack-watch` once its container runs).
//! - `volume`: named volumes under the state root.
//! - [`network`]: IPAM, interface names, bridges and veths, firewall rules.
//! - `events`: the Docker-shaped event bus behind `/events`.
//! - `state`: the state root's layout, its lock, atomic JSON files.

/// The daemon's default state root; its firewall objects keep the plain
/// names (`ip stack`, `STACK-FORWARD`), other roots get their own.
pub const DEFAULT_ROOT: &str = "/var/lib/stack";

/// A short tag naming a state root other than [`DEFAULT_ROOT`]: its
/// firewall table and chains and its cgroup parent carry it, so that
/// daemons on several roots (tests, benchmarks) never touch each other's.
/// `None` for the default root, whose objects keep the plain names.
pub fn root_tag(root: &std::path::Path) -> Option<String> {
    use sha2::{Digest, Sha256};
    (root != std::path::Path::new(DEFAULT_ROOT)).then(|| {
        Sha256::digest(root.to_string_lossy().as_bytes())
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect()
    })
}

/// The cgroup (in every hierarchy) under which the containers of the
/// state root `root` get theirs: `/stack` for the default root,
/// `/stack-<tag>` for another ([`root_tag`]). Each daemon removes its own
/// when it stops, once no container is left in it.
pub fn cgroup_parent(root: &std::path::Path) -> std::path::PathBuf {
    match root_tag(root) {
        None => std::path::PathBuf::from("/stack"),
        Some(tag) => std::path::PathBuf::from(format!("/stack-{tag}")),
    }
}

/// The newest Engine API version this engine serves, as (major, minor): a
/// client of the same build can use it without asking `/version` first.
pub const API_VERSION: (u32, u32) = (api::API_VERSION.major, api::API_VERSION.minor);

mod api;
mod container;
pub mod daemon;
mod events;
pub mod image;
pub mod monitor;
pub mod network;
pub mod runtime;
mod state;
mod volume;
