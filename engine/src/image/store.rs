//! [`ImageStore`]: the public face of the image store.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, RwLock};

use oci_spec::image::ImageConfiguration;

use super::blobs::BlobStore;
use super::digest::Sha256;
use super::error::ImageError;
use super::records::{Catalog, Found, ImageRecord, LayerRecord, LookupError, Repositories};
use super::reference::Reference;
use crate::state::{read_json, write_json_atomic};

/// A content-addressed image store under one root directory:
///
/// ```text
/// ROOT/blobs/sha256/<hex>          configs, manifests and layer blobs
/// ROOT/layers/<diff id>/diff/      each layer unpacked once, shared read-only
/// ROOT/layers/<diff id>/layer.json
/// ROOT/images/<id>.json            an image: manifest + ordered layers
/// ROOT/repositories.json           name:tag → image id
/// ROOT/tmp/                        work in progress, emptied on open
/// ```
///
/// Every method is safe to call from several threads; changes (import,
/// load, tag, remove, prune) run one at a time. One process at a time may
/// use a root (the daemon's lock guarantees it).
pub struct ImageStore {
    root: PathBuf,
    pub(crate) blobs: BlobStore,
    /// Held for the whole of a change, so that garbage collection never
    /// sees the layers of a load that is not committed yet.
    writer: Mutex<()>,
    catalog: RwLock<Catalog>,
}

/// An image id: the sha256 digest of its config, as in Docker.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ImageId(pub(crate) Sha256);

impl ImageId {
    /// The 64 hex characters.
    pub fn hex(&self) -> &str {
        self.0.hex()
    }

    /// The 12-character short id that `docker images` prints.
    pub fn short(&self) -> &str {
        &self.0.hex()[..12]
    }
}

impl fmt::Display for ImageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// One line of `image ls`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ImageSummary {
    /// The image id.
    pub id: ImageId,
    /// Tags in Docker's short form (`busybox:latest`), sorted.
    pub repo_tags: Vec<String>,
    /// The config's `created` time (RFC 3339), if any.
    pub created: Option<String>,
    /// Unpacked size of all layers, in bytes of file content.
    pub size: u64,
    /// The config's labels.
    pub labels: BTreeMap<String, String>,
}

/// What `image inspect` shows.
#[derive(Clone, Debug, PartialEq)]
pub struct ImageDetails {
    /// Id, tags, size and labels.
    pub summary: ImageSummary,
    /// Digest of the image's OCI manifest.
    pub manifest_digest: String,
    /// The config, as OCI types.
    pub config: ImageConfiguration,
    /// The config as stored, including Docker extensions the OCI type does
    /// not carry (`Healthcheck`, `Shell`, `OnBuild`).
    pub raw_config: serde_json::Value,
    /// Layers, bottom first.
    pub layers: Vec<LayerInfo>,
}

/// One layer of an image.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerInfo {
    /// Digest of the uncompressed tar (`sha256:…`).
    pub diff_id: String,
    /// Digest of the blob it came from (maybe compressed).
    pub blob_digest: String,
    /// Bytes of regular file content.
    pub size: u64,
    /// The unpacked directory, usable as an overlayfs lower directory.
    pub path: PathBuf,
}

/// One step of a removal, as Docker reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Removed {
    /// A tag was removed (short form).
    Untagged(String),
    /// The image was deleted.
    Deleted(ImageId),
}

/// The result of a prune.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PruneReport {
    /// What was untagged and deleted.
    pub removed: Vec<Removed>,
    /// Bytes freed on disk (blobs and unpacked layers).
    pub space_reclaimed: u64,
}

impl ImageStore {
    /// Opens (creating if needed) the store under `root`, and discards any
    /// work a previous process left unfinished (`root/tmp`, unreferenced
    /// layers and blobs).
    pub fn open(root: impl Into<PathBuf>) -> Result<ImageStore, ImageError> {
        let root = root.into();
        for dir in ["blobs/sha256", "layers", "images", "tmp"] {
            let path = root.join(dir);
            fs::create_dir_all(&path).map_err(ImageError::io("create", &path))?;
        }
        // Layer contents may be private files of an image; only root reads them.
        fs::set_permissions(&root, fs::Permissions::from_mode(0o700))
            .map_err(ImageError::io("chmod", &root))?;
        let tmp = root.join("tmp");
        empty_dir(&tmp)?;
        let blobs = BlobStore::new(root.join("blobs/sha256"), tmp);
        let store = ImageStore {
            catalog: RwLock::new(Catalog::default()),
            writer: Mutex::new(()),
            blobs,
            root,
        };
        let catalog = store.read_catalog()?;
        // A process that died mid-load or mid-remove may have left layers
        // and blobs that no image references; they go now.
        store.collect_garbage(&catalog)?;
        store.set_catalog(catalog);
        Ok(store)
    }

    /// The root directory this store was opened on.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Resolves `busybox`, `busybox:latest`, `docker.io/library/busybox`,
    /// `name@sha256:…`, a full id or a unique id prefix to an image.
    pub fn resolve(&self, reference: &str) -> Result<ImageId, ImageError> {
        Ok(ImageId(self.find(&self.catalog(), reference)?.id().clone()))
    }

    /// All images, sorted by id.
    pub fn list(&self) -> Result<Vec<ImageSummary>, ImageError> {
        let catalog = self.catalog();
        catalog
            .images
            .values()
            .map(|record| Ok(self.details(&catalog, record)?.summary))
            .collect()
    }

    /// Config, digests, layers and size of one image.
    pub fn inspect(&self, reference: &str) -> Result<ImageDetails, ImageError> {
        let catalog = self.catalog();
        let id = self.find(&catalog, reference)?.id().clone();
        let record = catalog
            .images
            .get(&id)
            .ok_or_else(|| ImageError::NotFound(reference.to_string()))?;
        self.details(&catalog, record)
    }

    /// The unpacked layer directories of an image, bottom layer first
    /// (overlayfs's `lowerdir=` lists them top first).
    pub fn layer_dirs(&self, id: &ImageId) -> Result<Vec<PathBuf>, ImageError> {
        let catalog = self.catalog();
        let record = catalog
            .images
            .get(&id.0)
            .ok_or_else(|| ImageError::NotFound(id.to_string()))?;
        Ok(record
            .layers
            .iter()
            .map(|l| self.layer_content(&l.diff_id))
            .collect())
    }

    /// Points `target` (a name with an optional tag) at the image `source`
    /// resolves to.
    pub fn tag(&self, source: &str, target: &str) -> Result<(), ImageError> {
        let _writer = self.lock_writer();
        let mut catalog = self.catalog();
        let id = self.find(&catalog, source)?.id().clone();
        let target = parse_tag(target)?;
        catalog.repos.set(&target, &id);
        self.save_repos(&catalog.repos)?;
        self.set_catalog(catalog);
        Ok(())
    }

    /// Removes a tag, or an image with all its tags, like `docker rmi`.
    ///
    /// A tag of an image that has other tags is just removed. Otherwise the
    /// image is deleted, with the layers and blobs no other image uses —
    /// unless `in_use` says a container uses it: then the removal is
    /// refused, or with `force` the image loses its tags but stays (its
    /// layers are that container's root filesystem) until a prune finds
    /// it unused. Removing by id an image with several tags needs `force`.
    pub fn remove(
        &self,
        reference: &str,
        force: bool,
        in_use: &dyn Fn(&ImageId) -> bool,
    ) -> Result<Vec<Removed>, ImageError> {
        let _writer = self.lock_writer();
        let mut catalog = self.catalog();
        let found = self.find(&catalog, reference)?;
        let id = found.id().clone();
        let tags = catalog.repos.tags_of(&id);
        if let Found::Tag(tag, _) = &found {
            if tags.len() > 1 {
                catalog.repos.remove(tag);
                self.save_repos(&catalog.repos)?;
                self.set_catalog(catalog);
                return Ok(vec![Removed::Untagged(tag.familiar())]);
            }
        } else if tags.len() > 1 && !force {
            let tags: Vec<_> = tags.iter().map(Reference::familiar).collect();
            return Err(ImageError::MultipleTags {
                image: id.to_string(),
                tags: tags.join(", "),
            });
        }
        let image = ImageId(id.clone());
        if in_use(&image) && !force {
            return Err(ImageError::InUse {
                image: id.to_string(),
            });
        }
        let mut removed: Vec<_> = catalog
            .repos
            .remove_image(&id)
            .iter()
            .map(|t| Removed::Untagged(t.familiar()))
            .collect();
        if !in_use(&image) {
            catalog.images.remove(&id);
            removed.push(Removed::Deleted(image));
        }
        self.save_catalog_removals(&catalog)?;
        self.set_catalog(catalog.clone());
        self.collect_garbage(&catalog)?;
        Ok(removed)
    }

    /// Deletes untagged images (all images with `all`) that no container
    /// uses, then every layer and blob no remaining image references.
    pub fn prune(
        &self,
        all: bool,
        in_use: &dyn Fn(&ImageId) -> bool,
    ) -> Result<PruneReport, ImageError> {
        let _writer = self.lock_writer();
        let mut catalog = self.catalog();
        let mut report = PruneReport::default();
        let candidates: Vec<Sha256> = catalog.images.keys().cloned().collect();
        for id in candidates {
            let image = ImageId(id.clone());
            if in_use(&image) || (!all && !catalog.repos.tags_of(&id).is_empty()) {
                continue;
            }
            for tag in catalog.repos.remove_image(&id) {
                report.removed.push(Removed::Untagged(tag.familiar()));
            }
            catalog.images.remove(&id);
            report.removed.push(Removed::Deleted(image));
        }
        self.save_catalog_removals(&catalog)?;
        self.set_catalog(catalog.clone());
        report.space_reclaimed = self.collect_garbage(&catalog)?;
        empty_dir(&self.root.join("tmp"))?;
        Ok(report)
    }

    pub(crate) fn lock_writer(&self) -> MutexGuard<'_, ()> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn catalog(&self) -> Catalog {
        self.catalog
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub(crate) fn set_catalog(&self, catalog: Catalog) {
        *self.catalog.write().unwrap_or_else(|e| e.into_inner()) = catalog;
    }

    pub(crate) fn tmp_dir(&self) -> PathBuf {
        self.root.join("tmp")
    }

    pub(crate) fn layer_dir(&self, diff_id: &Sha256) -> PathBuf {
        self.root.join("layers").join(diff_id.hex())
    }

    pub(crate) fn layer_content(&self, diff_id: &Sha256) -> PathBuf {
        self.layer_dir(diff_id).join("diff")
    }

    pub(crate) fn record_path(&self, id: &Sha256) -> PathBuf {
        self.root.join("images").join(format!("{}.json", id.hex()))
    }

    pub(crate) fn save_repos(&self, repos: &Repositories) -> Result<(), ImageError> {
        let path = self.root.join("repositories.json");
        write_json_atomic(&path, repos).map_err(ImageError::io("write", path))
    }

    pub(crate) fn find(&self, catalog: &Catalog, reference: &str) -> Result<Found, ImageError> {
        catalog.lookup(reference).map_err(|e| match e {
            LookupError::NotFound => ImageError::NotFound(reference.to_string()),
            LookupError::Ambiguous(count) => ImageError::Ambiguous {
                reference: reference.to_string(),
                count,
            },
            LookupError::Invalid(reason) => ImageError::InvalidReference {
                reference: reference.to_string(),
                reason,
            },
        })
    }

    fn details(&self, catalog: &Catalog, record: &ImageRecord) -> Result<ImageDetails, ImageError> {
        let bytes = self.blobs.read(&record.id)?;
        let what = || format!("image config {}", record.id);
        let config: ImageConfiguration = serde_json::from_slice(&bytes)
            .map_err(|e| ImageError::invalid(what(), e.to_string()))?;
        let raw_config = serde_json::from_slice(&bytes)
            .map_err(|e| ImageError::invalid(what(), e.to_string()))?;
        let mut layers = Vec::new();
        for layer in &record.layers {
            let path = self.layer_dir(&layer.diff_id).join("layer.json");
            let info: Option<LayerRecord> =
                read_json(&path).map_err(ImageError::io("read", &path))?;
            layers.push(LayerInfo {
                diff_id: layer.diff_id.to_string(),
                blob_digest: layer.blob.to_string(),
                size: info.map_or(0, |i| i.size),
                path: self.layer_content(&layer.diff_id),
            });
        }
        let labels = config
            .config()
            .as_ref()
            .and_then(|c| c.labels().clone())
            .map(|l| l.into_iter().collect())
            .unwrap_or_default();
        let summary = ImageSummary {
            id: ImageId(record.id.clone()),
            repo_tags: catalog
                .repos
                .tags_of(&record.id)
                .iter()
                .map(Reference::familiar)
                .collect(),
            created: config.created().clone(),
            size: layers.iter().map(|l| l.size).sum(),
            labels,
        };
        Ok(ImageDetails {
            summary,
            manifest_digest: record.manifest.to_string(),
            config,
            raw_config,
            layers,
        })
    }

    fn read_catalog(&self) -> Result<Catalog, ImageError> {
        let mut catalog = Catalog::default();
        let dir = self.root.join("images");
        for entry in fs::read_dir(&dir).map_err(ImageError::io("list", &dir))? {
            let path = entry.map_err(ImageError::io("list", &dir))?.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            if let Some(record) =
                read_json::<ImageRecord>(&path).map_err(ImageError::io("read", &path))?
            {
                catalog.images.insert(record.id.clone(), record);
            }
        }
        let path = self.root.join("repositories.json");
        let repos: Repositories = read_json(&path)
            .map_err(ImageError::io("read", &path))?
            .unwrap_or_default();
        catalog.repos = repos;
        Ok(catalog)
    }

    /// Writes the tag index, then deletes the records of images no longer
    /// in `catalog`: a crash in between leaves an untagged image, not a tag
    /// pointing nowhere.
    fn save_catalog_removals(&self, catalog: &Catalog) -> Result<(), ImageError> {
        self.save_repos(&catalog.repos)?;
        let current = self.catalog();
        for id in current
            .images
            .keys()
            .filter(|id| !catalog.images.contains_key(*id))
        {
            super::blobs::remove_file_if_exists(&self.record_path(id))?;
        }
        Ok(())
    }

    /// Removes every unpacked layer and blob that no image in `catalog`
    /// references (including leftovers of a crash); returns bytes freed.
    fn collect_garbage(&self, catalog: &Catalog) -> Result<u64, ImageError> {
        let mut layers = BTreeSet::new();
        let mut blobs = BTreeSet::new();
        for record in catalog.images.values() {
            blobs.insert(record.id.clone());
            blobs.insert(record.manifest.clone());
            for layer in &record.layers {
                layers.insert(layer.diff_id.clone());
                blobs.insert(layer.blob.clone());
            }
        }
        let mut freed = 0;
        let dir = self.root.join("layers");
        for entry in fs::read_dir(&dir).map_err(ImageError::io("list", &dir))? {
            let entry = entry.map_err(ImageError::io("list", &dir))?;
            let Some(diff_id) = entry.file_name().to_str().and_then(Sha256::from_hex) else {
                continue;
            };
            if layers.contains(&diff_id) {
                continue;
            }
            let path = entry.path();
            let info: Option<LayerRecord> = read_json(&path.join("layer.json")).ok().flatten();
            fs::remove_dir_all(&path).map_err(ImageError::io("remove layer", &path))?;
            freed += info.map_or(0, |i| i.size);
        }
        for digest in self.blobs.list()? {
            if !blobs.contains(&digest) {
                freed += self.blobs.size(&digest);
                self.blobs.remove(&digest)?;
            }
        }
        Ok(freed)
    }
}

/// Parses a reference that names a tag (not a digest).
pub(crate) fn parse_tag(text: &str) -> Result<Reference, ImageError> {
    let reference = Reference::parse(text).map_err(|reason| ImageError::InvalidReference {
        reference: text.to_string(),
        reason,
    })?;
    if reference.digest().is_some() {
        return Err(ImageError::invalid(
            text,
            "a tag cannot contain a digest; use NAME:TAG",
        ));
    }
    Ok(reference)
}

/// Removes everything inside `dir` (not following symlinks).
fn empty_dir(dir: &Path) -> Result<(), ImageError> {
    for entry in fs::read_dir(dir).map_err(ImageError::io("list", dir))? {
        let path = entry.map_err(ImageError::io("list", dir))?.path();
        let result = match fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => fs::remove_dir_all(&path),
            _ => fs::remove_file(&path),
        };
        result.map_err(ImageError::io("remove", &path))?;
    }
    Ok(())
}
