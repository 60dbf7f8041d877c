//! The typed, normalized project: what `docker compose config` prints.
//!
//! Every short syntax is already in its long form here (ports, volumes,
//! `depends_on`, environment lists), relative paths are absolute, and the
//! defaults Compose fills in are filled in (the `default` network, resource
//! names `<project>_<key>`). Serializing a [`Project`] gives the same keys and
//! shape as `docker compose config --format json`.

#![warn(missing_docs)]

mod build;
mod mount;
mod service;
mod values;

pub use build::Build;
pub use mount::{BindOptions, ImageOptions, Mount, TmpfsOptions, VolumeOptions};
pub use service::{
    DependsOn, Deploy, DeployRestartPolicy, Device, EnvFile, Environment, FileRef, Healthcheck,
    Logging, Port, Resource, Resources, Service, ServiceNetwork, StringMap, Ulimit,
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
    /// The project name (prefix of every engine object it owns).
    pub name: String,
    /// Services by name, in file order.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub services: IndexMap<String, Service>,
    /// Top-level networks by key, with the implicit `default` one when used.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub networks: IndexMap<String, Network>,
    /// Top-level named volumes by key.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub volumes: IndexMap<String, Volume>,
    /// Top-level secrets by key.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub secrets: IndexMap<String, FileObject>,
    /// Top-level configs by key.
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
    /// The driver, when not the engine default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Options passed to the driver.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: StringMap,
    /// Address management: subnets, gateways, ranges.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ipam: Option<Ipam>,
    /// Managed outside the project: never created nor removed.
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    /// No outbound connectivity.
    #[serde(skip_serializing_if = "is_false")]
    pub internal: bool,
    /// Standalone containers may attach (Swarm overlay networks).
    #[serde(skip_serializing_if = "is_false")]
    pub attachable: bool,
    /// Labels set on the engine object.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    /// IPv4 addressing on or off (default on).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv4: Option<bool>,
    /// IPv6 addressing on or off (default off).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enable_ipv6: Option<bool>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `ipam:` of a network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Ipam {
    /// The IPAM driver, when not the default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Address pools.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub config: Vec<IpamPool>,
    /// Driver-specific options.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub options: StringMap,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// One address pool of a network.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct IpamPool {
    /// The subnet in CIDR form, e.g. `172.28.0.0/16`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<String>,
    /// The gateway address inside the subnet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<String>,
    /// The range containers get addresses from, in CIDR form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip_range: Option<String>,
    /// Addresses the IPAM driver must not hand out, by host name.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub aux_addresses: StringMap,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// A top-level named volume.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Volume {
    /// The engine-side name: `<project>_<key>` unless set, or the key when external.
    pub name: String,
    /// The driver, when not the engine default.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Options passed to the driver.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: StringMap,
    /// Managed outside the project: never created nor removed by it.
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    /// Labels set on the engine object.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    /// `x-*` fields, kept as written.
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
    /// Managed outside the project: never created nor removed by it.
    #[serde(skip_serializing_if = "is_false")]
    pub external: bool,
    /// Labels of the secret or config object.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    /// The secret driver (Swarm), kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub driver: Option<String>,
    /// Options passed to the driver.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub driver_opts: StringMap,
    /// The templating driver (Swarm), kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_driver: Option<String>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}
