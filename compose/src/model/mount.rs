//! A service's mounts (`volumes:` entries) in their long form.

use super::service::StringMap;
use super::values::{Bytes, Extensions, Propagation, SeLinux, VolumeType};
use indexmap::IndexMap;
use serde::Serialize;

fn is_false(b: &bool) -> bool {
    !*b
}

/// One `volumes:` entry of a service, long form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mount {
    /// What is mounted (serialized as `type`).
    #[serde(rename = "type")]
    pub kind: VolumeType,
    /// Absolute host path (bind), volume key (volume), absent for anonymous volumes and tmpfs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Absolute path inside the container.
    pub target: String,
    /// Mounted read-only.
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    /// Docker Desktop consistency hint (`cached`, `delegated`), no effect on Linux.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
    /// Options of a bind mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
    /// Options of a volume mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeOptions>,
    /// Options of a tmpfs mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsOptions>,
    /// Options of an image mount.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageOptions>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `bind:` options of a mount.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BindOptions {
    /// Mount propagation, when not the default `rprivate`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation: Option<Propagation>,
    /// Create the host directory when missing (Compose's default).
    pub create_host_path: bool,
    /// SELinux relabeling of the host path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selinux: Option<SeLinux>,
    /// Recursive read-only behaviour (`enabled`, `disabled`, `writable`, `readonly`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recursive: Option<String>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

impl Default for BindOptions {
    fn default() -> Self {
        BindOptions {
            propagation: None,
            create_host_path: true,
            selinux: None,
            recursive: None,
            extensions: Extensions::new(),
        }
    }
}

/// `volume:` options of a mount.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VolumeOptions {
    /// Labels for a volume created by this mount.
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    /// Do not copy the image content at the target into a new volume.
    #[serde(skip_serializing_if = "is_false")]
    pub nocopy: bool,
    /// Mount only this path inside the volume.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `tmpfs:` options of a mount.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TmpfsOptions {
    /// Size limit of the tmpfs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<Bytes>,
    /// File mode bits, e.g. `0o1777`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `image:` options of a mount.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImageOptions {
    /// Mount only this path inside the image.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    /// `x-*` fields, kept as written.
    #[serde(flatten)]
    pub extensions: Extensions,
}
