//! Named volumes: one directory per volume under the state root, with the
//! data in `_data` (as Docker lays it out, so paths in inspect output look
//! familiar) and the labels in `volume.json`.
//!
//! Every change goes through a staging name that starts with a dot, then one
//! rename, so a crash never leaves half a volume visible; leftovers of such
//! crashes are removed when the store opens. Removal is refused while a
//! container uses the volume; who uses what is asked of [`VolumeUsers`],
//! which the container module implements.

mod name;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

pub(crate) use name::{InvalidVolumeName, VolumeName};

use crate::state::{self, Layout};

/// The label Docker puts on volumes that were created without a name; prune
/// removes only those unless told `all=true` (API 1.42+).
pub(crate) const ANONYMOUS_LABEL: &str = "com.docker.volume.anonymous";

/// Tells which containers use a volume.
pub(crate) trait VolumeUsers: Send + Sync {
    /// Ids of the containers that mount `name`; empty when none does.
    fn users(&self, name: &VolumeName) -> Vec<String>;
}

/// For tests of stores without containers: nobody uses anything.
#[cfg(test)]
pub(crate) struct NoContainers;

#[cfg(test)]
impl VolumeUsers for NoContainers {
    fn users(&self, _name: &VolumeName) -> Vec<String> {
        Vec::new()
    }
}

/// What `volume.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub(crate) struct VolumeRecord {
    pub(crate) name: VolumeName,
    pub(crate) labels: BTreeMap<String, String>,
    /// RFC 3339, UTC, seconds.
    pub(crate) created_at: String,
}

/// What a prune removed.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct PruneReport {
    pub(crate) deleted: Vec<VolumeName>,
    pub(crate) reclaimed: u64,
}

/// Volume operations that failed, with the volume named.
#[derive(Debug, thiserror::Error)]
pub(crate) enum VolumeError {
    #[error("get {0}: no such volume")]
    NotFound(String),
    #[error("remove {name}: volume is in use - [{}]", users.join(", "))]
    InUse {
        name: VolumeName,
        users: Vec<String>,
    },
    #[error("volume {name} already exists with labels {existing:?}; remove it first or create it with the same labels")]
    LabelConflict {
        name: VolumeName,
        existing: BTreeMap<String, String>,
    },
    #[error(transparent)]
    InvalidName(#[from] InvalidVolumeName),
    #[error("cannot {op} {}: {source}", path.display())]
    Io {
        op: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn io_err(op: &'static str, path: &Path) -> impl FnOnce(io::Error) -> VolumeError {
    let path = path.to_path_buf();
    move |source| VolumeError::Io { op, path, source }
}

/// The volumes of one state root.
pub(crate) struct VolumeStore {
    layout: Layout,
    users: Arc<dyn VolumeUsers>,
    /// Serializes changes, so that "exists?" and "create" cannot interleave.
    writer: Mutex<()>,
}

impl VolumeStore {
    /// Opens the store, creating `volumes/` and removing what a crash left
    /// half-created or half-removed.
    pub(crate) fn open(
        layout: Layout,
        users: Arc<dyn VolumeUsers>,
    ) -> Result<VolumeStore, VolumeError> {
        let dir = layout.volumes();
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o701)
            .create(&dir)
            .map_err(io_err("create", &dir))?;
        for entry in fs::read_dir(&dir).map_err(io_err("read", &dir))? {
            let entry = entry.map_err(io_err("read", &dir))?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                let path = entry.path();
                tracing::info!(path = %path.display(), "removing an unfinished volume operation");
                fs::remove_dir_all(&path).map_err(io_err("remove", &path))?;
            }
        }
        Ok(VolumeStore {
            layout,
            users,
            writer: Mutex::new(()),
        })
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        // The guarded data is (), so a panic elsewhere cannot have corrupted it.
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Where the volume's data is on the host.
    pub(crate) fn mountpoint(&self, name: &VolumeName) -> PathBuf {
        self.layout.volume_data(name)
    }

    /// Creates a volume, or returns the existing one of that name (as Docker
    /// does) when the requested labels are empty or the same. The flag says
    /// whether it was created now.
    pub(crate) fn create(
        &self,
        name: Option<VolumeName>,
        mut labels: BTreeMap<String, String>,
    ) -> Result<(VolumeRecord, bool), VolumeError> {
        let _guard = self.lock();
        let name = match name {
            Some(name) => name,
            None => {
                labels.insert(ANONYMOUS_LABEL.to_string(), String::new());
                VolumeName::random().map_err(io_err("read", Path::new("/dev/urandom")))?
            }
        };
        if let Some(existing) = self.read(&name)? {
            if labels.is_empty() || labels == existing.labels {
                return Ok((existing, false));
            }
            return Err(VolumeError::LabelConflict {
                name,
                existing: existing.labels,
            });
        }
        let record = VolumeRecord {
            name: name.clone(),
            labels,
            created_at: state::time::rfc3339_seconds(SystemTime::now()),
        };
        let staging = self.layout.volumes().join(format!(".new-{name}"));
        let result = (|| {
            fs::DirBuilder::new()
                .mode(0o755)
                .create(&staging)
                .map_err(io_err("create", &staging))?;
            let data = staging.join("_data");
            fs::DirBuilder::new()
                .mode(0o755)
                .create(&data)
                .map_err(io_err("create", &data))?;
            // The umask may have narrowed the mode; containers of any user
            // must be able to reach the data directory, as with Docker.
            fs::set_permissions(&data, fs::Permissions::from_mode(0o755))
                .map_err(io_err("chmod", &data))?;
            let file = staging.join("volume.json");
            state::write_json_atomic(&file, &record).map_err(io_err("write", &file))?;
            let target = self.layout.volume(&name);
            fs::rename(&staging, &target).map_err(io_err("rename", &target))
        })();
        if result.is_err() {
            let _ = fs::remove_dir_all(&staging);
        }
        result.map(|()| (record, true))
    }

    /// The volume called `name`.
    pub(crate) fn get(&self, name: &str) -> Result<VolumeRecord, VolumeError> {
        let parsed =
            VolumeName::parse(name).map_err(|_| VolumeError::NotFound(name.to_string()))?;
        self.read(&parsed)?
            .ok_or_else(|| VolumeError::NotFound(name.to_string()))
    }

    fn read(&self, name: &VolumeName) -> Result<Option<VolumeRecord>, VolumeError> {
        let path = self.layout.volume_record(name);
        state::read_json(&path).map_err(io_err("read", &path))
    }

    /// Every volume, sorted by name.
    pub(crate) fn list(&self) -> Result<Vec<VolumeRecord>, VolumeError> {
        let dir = self.layout.volumes();
        let mut out = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_err("read", &dir))? {
            let entry = entry.map_err(io_err("read", &dir))?;
            let file_name = entry.file_name();
            let Ok(name) = VolumeName::parse(&file_name.to_string_lossy()) else {
                continue; // staging entries and foreign files
            };
            match self.read(&name)? {
                Some(record) => out.push(record),
                None => {
                    tracing::warn!(volume = %name, "volume directory without volume.json; ignored")
                }
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// The containers that use `name`.
    pub(crate) fn users(&self, name: &VolumeName) -> Vec<String> {
        self.users.users(name)
    }

    /// Removes a volume and its data; refused while a container uses it.
    pub(crate) fn remove(&self, name: &str) -> Result<VolumeRecord, VolumeError> {
        let _guard = self.lock();
        let record = self.get(name)?;
        self.remove_locked(&record).map(|_| record)
    }

    /// Removes every unused volume `select` picks; returns what went and how
    /// many bytes that freed.
    pub(crate) fn prune(
        &self,
        select: impl Fn(&VolumeRecord) -> bool,
    ) -> Result<PruneReport, VolumeError> {
        let _guard = self.lock();
        let mut report = PruneReport::default();
        for record in self.list()? {
            if !select(&record) || !self.users(&record.name).is_empty() {
                continue;
            }
            report.reclaimed += self.remove_locked(&record)?;
            report.deleted.push(record.name);
        }
        Ok(report)
    }

    /// Removes one volume (the caller holds the writer lock); returns the
    /// size of its data.
    fn remove_locked(&self, record: &VolumeRecord) -> Result<u64, VolumeError> {
        let users = self.users(&record.name);
        if !users.is_empty() {
            return Err(VolumeError::InUse {
                name: record.name.clone(),
                users,
            });
        }
        let size = disk_usage(&self.layout.volume_data(&record.name));
        // One rename takes the volume out of view; deleting the data can then
        // fail or crash halfway without leaving a broken volume listed.
        let path = self.layout.volume(&record.name);
        let doomed = self.layout.volumes().join(format!(".rm-{}", record.name));
        fs::rename(&path, &doomed).map_err(io_err("rename", &path))?;
        fs::remove_dir_all(&doomed).map_err(io_err("remove", &doomed))?;
        Ok(size)
    }
}

/// Bytes in regular files below `dir`, never following symlinks.
fn disk_usage(dir: &Path) -> u64 {
    let mut total = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            match entry.metadata() {
                Ok(meta) if meta.is_dir() => stack.push(entry.path()),
                Ok(meta) if meta.is_file() => total += meta.len(),
                _ => {}
            }
        }
    }
    total
}

#[cfg(test)]
mod tests;
