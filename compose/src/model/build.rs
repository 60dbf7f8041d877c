//! `build:` of a service, long form.

use super::service::{is_false, serialize_extra_hosts, Environment, FileRef, StringMap, Ulimit};
use super::values::{Bytes, Extensions};
use indexmap::IndexMap;
use serde::Serialize;

/// `build:`; the short form `build: ./dir` is `context: <abs dir>`, `dockerfile: Dockerfile`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Build {
    /// An absolute directory, or a URL (git, http) kept as written.
    pub context: String,
    /// The Dockerfile, relative to the context (default `Dockerfile`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile: Option<String>,
    /// The Dockerfile content itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dockerfile_inline: Option<String>,
    /// Build arguments (`ARG`).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub args: Environment,
    /// SSH agent sockets or keys for the build (`default`, `id=path`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ssh: Vec<String>,
    /// Labels set on the built image.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    /// Cache sources.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_from: Vec<String>,
    /// Cache destinations.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub cache_to: Vec<String>,
    /// Build without cache.
    #[serde(skip_serializing_if = "is_false")]
    pub no_cache: bool,
    /// Stages built without cache.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub no_cache_filter: Vec<String>,
    /// Named contexts: absolute directories, or references kept as written
    /// (`docker-image://`, `service:`, URLs).
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub additional_contexts: StringMap,
    /// Network of the build containers.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network: Option<String>,
    /// The Dockerfile stage to build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// Size of `/dev/shm` during the build.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub shm_size: Option<Bytes>,
    /// Extra `/etc/hosts` entries during the build.
    #[serde(
        skip_serializing_if = "IndexMap::is_empty",
        serialize_with = "serialize_extra_hosts"
    )]
    pub extra_hosts: IndexMap<String, Vec<String>>,
    /// Isolation technology (Windows), kept as written.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub isolation: Option<String>,
    /// Build with extended privileges.
    #[serde(skip_serializing_if = "is_false")]
    pub privileged: bool,
    /// Secrets available to the build.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub secrets: Vec<FileRef>,
    /// Additional tags of the built image.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Resource limits of the build containers.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub ulimits: IndexMap<String, Ulimit>,
    /// Target platforms.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub platforms: Vec<String>,
    /// Always pull the base images.
    #[serde(skip_serializing_if = "is_false")]
    pub pull: bool,
    /// Extra privileges of the build (`network.host`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub entitlements: Vec<String>,
    /// Provenance attestation: `true`, `false` or BuildKit's `mode=max` form.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provenance: Option<String>,
    /// SBOM attestation: `true`, `false` or a generator setting.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sbom: Option<String>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}
