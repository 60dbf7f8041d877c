//! Adding images: blobs and layers go in first under a transaction that
//! removes them again if anything fails; records and tags are written last.

use std::collections::BTreeSet;
use std::fs;
use std::io::Read;

use oci_spec::image::{Descriptor, ImageConfiguration, ImageManifestBuilder, MediaType};

use super::blobs::PutBlob;
use super::digest::Sha256;
use super::error::ImageError;
use super::layer;
use super::records::{ImageRecord, LayerRecord, LayerRef};
use super::reference::Reference;
use super::store::{ImageId, ImageStore};
use crate::state::write_json_atomic;

/// What one `load` or `import` created so far; dropped uncommitted, it
/// removes all of it, so a failure leaves no partial image behind.
pub(crate) struct Txn<'a> {
    store: &'a ImageStore,
    blobs: Vec<Sha256>,
    layers: Vec<Sha256>,
    records: Vec<Sha256>,
    /// (blob, diff id) pairs already checked in this transaction.
    verified: BTreeSet<(Sha256, Sha256)>,
    committed: bool,
}

/// A layer blob in the store, as a manifest lists it.
#[derive(Clone, Debug)]
pub(crate) struct LayerBlob {
    pub(crate) digest: Sha256,
    pub(crate) size: u64,
    pub(crate) media_type: MediaType,
}

/// An image whose blobs and layers are in place, waiting for its record.
pub(crate) struct Staged {
    pub(crate) record: ImageRecord,
    pub(crate) tags: Vec<Reference>,
}

impl<'a> Txn<'a> {
    /// Starts a transaction; the caller holds the store's writer lock.
    pub(crate) fn new(store: &'a ImageStore) -> Txn<'a> {
        Txn {
            store,
            blobs: Vec::new(),
            layers: Vec::new(),
            records: Vec::new(),
            verified: BTreeSet::new(),
            committed: false,
        }
    }

    /// Puts a blob, remembering it for rollback if it is new.
    pub(crate) fn put_blob(
        &mut self,
        reader: &mut dyn Read,
        expected: Option<&Sha256>,
        what: &str,
    ) -> Result<PutBlob, ImageError> {
        let put = self.store.blobs.put(reader, expected, what)?;
        if put.created {
            self.blobs.push(put.digest.clone());
        }
        Ok(put)
    }

    /// Puts a layer blob and tells its compression from its first bytes.
    pub(crate) fn put_layer_blob(
        &mut self,
        reader: &mut dyn Read,
        expected: Option<&Sha256>,
        what: &str,
    ) -> Result<LayerBlob, ImageError> {
        let put = self.put_blob(reader, expected, what)?;
        let mut prefix = [0u8; 4];
        let mut file = self.store.blobs.open(&put.digest)?;
        let n = file
            .read(&mut prefix)
            .map_err(ImageError::io("read", self.store.blobs.path(&put.digest)))?;
        Ok(LayerBlob {
            digest: put.digest,
            size: put.size,
            media_type: layer::Compression::detect(&prefix[..n]).media_type(),
        })
    }

    /// Makes sure the layer in `blob` is unpacked and returns its diff id.
    /// With `expected`, the blob's content must have that diff id. An
    /// existing unpacked layer is reused after checking the blob really
    /// has its diff id, so a lying config cannot borrow another layer.
    pub(crate) fn ensure_layer(
        &mut self,
        blob: &Sha256,
        expected: Option<&Sha256>,
        what: &str,
    ) -> Result<Sha256, ImageError> {
        if let Some(expected) = expected {
            if self.verified.contains(&(blob.clone(), expected.clone())) {
                return Ok(expected.clone());
            }
            if self.store.layer_dir(expected).join("layer.json").is_file() {
                let diff_id = layer::diff_id(self.store.blobs.open(blob)?).map_err(|source| {
                    ImageError::Archive {
                        what: what.to_string(),
                        source,
                    }
                })?;
                check_diff_id(expected, &diff_id, what)?;
                self.verified.insert((blob.clone(), diff_id.clone()));
                return Ok(diff_id);
            }
        }
        let staging = tempfile::Builder::new()
            .prefix("layer-")
            .tempdir_in(self.store.tmp_dir())
            .map_err(ImageError::io(
                "create staging directory in",
                self.store.tmp_dir(),
            ))?;
        let content = staging.path().join("diff");
        fs::create_dir(&content).map_err(ImageError::io("create", &content))?;
        let unpacked = layer::unpack(self.store.blobs.open(blob)?, what, &content)?;
        if let Some(expected) = expected {
            check_diff_id(expected, &unpacked.diff_id, what)?;
        }
        let diff_id = unpacked.diff_id;
        self.verified.insert((blob.clone(), diff_id.clone()));
        let target = self.store.layer_dir(&diff_id);
        if target.exists() {
            // Same content already unpacked (an import of a known rootfs).
            return Ok(diff_id);
        }
        let record = LayerRecord {
            diff_id: diff_id.clone(),
            size: unpacked.size,
        };
        let record_path = staging.path().join("layer.json");
        write_json_atomic(&record_path, &record).map_err(ImageError::io("write", &record_path))?;
        let staged = staging.keep();
        if let Err(e) = fs::rename(&staged, &target) {
            let _ = fs::remove_dir_all(&staged);
            return Err(ImageError::io("move layer into place", &target)(e));
        }
        self.layers.push(diff_id.clone());
        Ok(diff_id)
    }

    /// Checks the config against the layers, unpacks them, and stores the
    /// config and manifest (one is made up when the source has none).
    pub(crate) fn stage(
        &mut self,
        config: &[u8],
        layers: &[LayerBlob],
        manifest: Option<&[u8]>,
        tags: Vec<Reference>,
        what: &str,
    ) -> Result<Staged, ImageError> {
        let parsed: ImageConfiguration = serde_json::from_slice(config)
            .map_err(|e| ImageError::invalid(what, format!("image config: {e}")))?;
        let diff_ids = parsed
            .rootfs()
            .diff_ids()
            .iter()
            .map(|d| {
                Sha256::parse(d)
                    .ok_or_else(|| ImageError::invalid(what, format!("unsupported diff id {d:?}")))
            })
            .collect::<Result<Vec<_>, _>>()?;
        if diff_ids.len() != layers.len() {
            let message = format!(
                "the config lists {} layers but there are {}",
                diff_ids.len(),
                layers.len()
            );
            return Err(ImageError::invalid(what, message));
        }
        let mut refs = Vec::new();
        for (i, (layer, diff_id)) in layers.iter().zip(&diff_ids).enumerate() {
            let what = format!("{what}: layer {} ({})", i + 1, layer.digest);
            self.ensure_layer(&layer.digest, Some(diff_id), &what)?;
            refs.push(LayerRef {
                diff_id: diff_id.clone(),
                blob: layer.digest.clone(),
            });
        }
        let config_blob = self.put_blob(&mut &config[..], None, what)?;
        let manifest = match manifest {
            Some(bytes) => bytes.to_vec(),
            None => make_manifest(&config_blob, layers, what)?,
        };
        let manifest_blob = self.put_blob(&mut &manifest[..], None, what)?;
        Ok(Staged {
            record: ImageRecord {
                id: config_blob.digest,
                manifest: manifest_blob.digest,
                layers: refs,
            },
            tags,
        })
    }

    /// Writes the records and tags of staged images and keeps everything.
    pub(crate) fn commit(
        mut self,
        staged: Vec<Staged>,
    ) -> Result<Vec<(ImageId, Vec<Reference>)>, ImageError> {
        let mut catalog = self.store.catalog();
        let mut loaded = Vec::new();
        for image in staged {
            let id = image.record.id.clone();
            if !catalog.images.contains_key(&id) {
                let path = self.store.record_path(&id);
                write_json_atomic(&path, &image.record).map_err(ImageError::io("write", &path))?;
                self.records.push(id.clone());
                catalog.images.insert(id.clone(), image.record);
            }
            for tag in &image.tags {
                catalog.repos.set(tag, &id);
            }
            loaded.push((ImageId(id), image.tags));
        }
        self.store.save_repos(&catalog.repos)?;
        self.store.set_catalog(catalog);
        self.committed = true;
        Ok(loaded)
    }
}

impl Drop for Txn<'_> {
    fn drop(&mut self) {
        if self.committed {
            return;
        }
        for id in &self.records {
            let _ = fs::remove_file(self.store.record_path(id));
        }
        for diff_id in &self.layers {
            let dir = self.store.layer_dir(diff_id);
            if let Err(e) = fs::remove_dir_all(&dir) {
                tracing::warn!(path = %dir.display(), error = %e, "cannot remove layer of a failed load");
            }
        }
        for digest in &self.blobs {
            if let Err(e) = self.store.blobs.remove(digest) {
                tracing::warn!(%digest, error = %e, "cannot remove blob of a failed load");
            }
        }
    }
}

fn check_diff_id(expected: &Sha256, actual: &Sha256, what: &str) -> Result<(), ImageError> {
    if expected == actual {
        return Ok(());
    }
    Err(ImageError::DigestMismatch {
        what: what.to_string(),
        expected: expected.to_string(),
        actual: actual.to_string(),
    })
}

fn make_manifest(
    config: &PutBlob,
    layers: &[LayerBlob],
    what: &str,
) -> Result<Vec<u8>, ImageError> {
    let manifest = ImageManifestBuilder::default()
        .schema_version(2u32)
        .media_type(MediaType::ImageManifest)
        .config(Descriptor::new(
            MediaType::ImageConfig,
            config.size,
            config.digest.to_oci(),
        ))
        .layers(
            layers
                .iter()
                .map(|l| Descriptor::new(l.media_type.clone(), l.size, l.digest.to_oci()))
                .collect::<Vec<_>>(),
        )
        .build()
        .map_err(|e| ImageError::invalid(what, format!("manifest: {e}")))?;
    serde_json::to_vec(&manifest).map_err(|e| ImageError::invalid(what, format!("manifest: {e}")))
}
