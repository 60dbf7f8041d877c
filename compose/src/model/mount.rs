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
    #[serde(rename = "type")]
    pub kind: VolumeType,
    /// Absolute host path (bind), volume key (volume), absent for anonymous volumes and tmpfs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    pub target: String,
    #[serde(skip_serializing_if = "is_false")]
    pub read_only: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub consistency: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bind: Option<BindOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub volume: Option<VolumeOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tmpfs: Option<TmpfsOptions>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub image: Option<ImageOptions>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `bind:` options of a mount.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BindOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub propagation: Option<Propagation>,
    /// Create the host directory when missing (Compose's default).
    pub create_host_path: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub selinux: Option<SeLinux>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recursive: Option<String>,
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
    #[serde(skip_serializing_if = "IndexMap::is_empty")]
    pub labels: StringMap,
    #[serde(skip_serializing_if = "is_false")]
    pub nocopy: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `tmpfs:` options of a mount.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TmpfsOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<Bytes>,
    /// File mode bits, e.g. `0o1777`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mode: Option<u32>,
    #[serde(flatten)]
    pub extensions: Extensions,
}

/// `image:` options of a mount.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ImageOptions {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subpath: Option<String>,
    #[serde(flatten)]
    pub extensions: Extensions,
}
