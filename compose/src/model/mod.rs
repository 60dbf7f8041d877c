//! The typed, normalized project: what `docker compose config` prints.
//!
//! Every short syntax is already in its long form here (ports, volumes,
//! `depends_on`, environment lists), relative paths are absolute, and the
//! defaults Compose fills in are filled in (the `default` network, resource
//! names `<project>_<key>`). Serializing a [`Project`] gives the same keys and
//! shape as `docker compose config --format json`.

mod mount;
mod service;
mod values;

pub use mount::{BindOptions, ImageOptions, Mount, TmpfsOptions, VolumeOptions};
pub use service::{
    Build, DependsOn, Deploy, DeployRestartPolicy, Device, EnvFile, Environment, FileRef,
    Healthcheck, Logging, Port, Resource, Resources, Service, ServiceNetwork, StringMap, Ulimit,
};
pub use values::{
    Bytes, Duration, Extensions, FileMode, NetworkMode, PortMode, Propagation, Protocol,
    PullPolicy, RestartCondition, RestartPolicy, SeLinux, ServiceCondition, VolumeType,
};

use indexmap::IndexMap;
use serde::Serialize;

fn is_false(b: &bool) -> bool {
    !*b
}

/// A whole compose project after loading.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Project {
    pub name: String,
    /// Services by name, in file order.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub services: IndexMap<String, Service>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub networks: IndexMap<String, Network>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub volumes: IndexMap<String, Volume>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub secrets: IndexMap<String, FileObject>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub configs: IndexMap<String, FileObject>,
    /// Top-level `x-*` fields.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A top-level network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Network {
    /// The engine-side name: `<project>_<key>` unless set, or the key when external.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    /// Managed outside the project: never created nor removed.
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    /// No outbound connectivity.
    #[serde(skip_serializing_if = "is_false")]
    pub internal: bool,
    #[serde(skip_serializing_if = "is_false")]
    pub attachable: bool,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `ipam:` of a network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ipam {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub options: StringMap,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// One address pool of a network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IpamPool {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub aux_addresses: StringMap,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A top-level named volume.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Volume {
    /// The engine-side name: `<project>_<key>` unless set, or the key when external.
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: StringMap,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A top-level secret or config: where its content comes from.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FileObject {
    /// `<project>_<key>` unless set, or the key when external.
    pub name: String,
    /// Absolute path of the file holding the content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// Name of the environment variable holding the content.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    /// The content itself (configs only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: StringMap,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_driver: Option<String>,
    #[serde(flatten)]
    pub extensions: Extensions,
}
