//! `blobs/sha256/<hex>`: content-addressed files, written once, verified
//! on the way in, never modified.

use std::fs::{self, File};
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use super::digest::{HashingWriter, Sha256};
use super::error::ImageError;

/// The blob directory of a store.
pub(crate) struct BlobStore {
    dir: PathBuf,
    tmp: PathBuf,
}

/// A blob just put in the store.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PutBlob {
    pub(crate) digest: Sha256,
    pub(crate) size: u64,
    /// False when an identical blob was already there.
    pub(crate) created: bool,
}

impl BlobStore {
    /// `dir` holds the blobs; `tmp` (same filesystem) the ones being written.
    pub(crate) fn new(dir: PathBuf, tmp: PathBuf) -> BlobStore {
        BlobStore { dir, tmp }
    }

    pub(crate) fn path(&self, digest: &Sha256) -> PathBuf {
        self.dir.join(digest.hex())
    }

    pub(crate) fn open(&self, digest: &Sha256) -> Result<File, ImageError> {
        let path = self.path(digest);
        File::open(&path).map_err(ImageError::io("open blob", path))
    }

    pub(crate) fn read(&self, digest: &Sha256) -> Result<Vec<u8>, ImageError> {
        let path = self.path(digest);
        fs::read(&path).map_err(ImageError::io("read blob", path))
    }

    /// Size of a stored blob.
    pub(crate) fn size(&self, digest: &Sha256) -> u64 {
        fs::metadata(self.path(digest)).map_or(0, |m| m.len())
    }

    /// Copies `reader` into the store. With `expected`, the content must
    /// have that digest or nothing is kept.
    pub(crate) fn put(
        &self,
        reader: &mut dyn Read,
        expected: Option<&Sha256>,
        what: &str,
    ) -> Result<PutBlob, ImageError> {
        let tmp = tempfile::Builder::new()
            .prefix("blob-")
            .tempfile_in(&self.tmp)
            .map_err(ImageError::io("create temporary blob in", &self.tmp))?;
        let mut writer = HashingWriter::new(io::BufWriter::new(tmp));
        io::copy(reader, &mut writer).map_err(|source| ImageError::Archive {
            what: what.to_string(),
            source,
        })?;
        let (buffered, digest, size) = writer.finish();
        let tmp = buffered
            .into_inner()
            .map_err(|e| ImageError::io("write temporary blob", &self.tmp)(e.into_error()))?;
        if let Some(expected) = expected {
            if *expected != digest {
                return Err(ImageError::DigestMismatch {
                    what: what.to_string(),
                    expected: expected.to_string(),
                    actual: digest.to_string(),
                });
            }
        }
        let target = self.path(&digest);
        if target.is_file() {
            return Ok(PutBlob {
                digest,
                size,
                created: false,
            });
        }
        tmp.as_file()
            .sync_all()
            .map_err(ImageError::io("sync", tmp.path()))?;
        tmp.persist(&target)
            .map_err(|e| ImageError::io("store blob", &target)(e.error))?;
        Ok(PutBlob {
            digest,
            size,
            created: true,
        })
    }

    /// Removes a blob; a missing one is not an error.
    pub(crate) fn remove(&self, digest: &Sha256) -> Result<(), ImageError> {
        remove_file_if_exists(&self.path(digest))
    }

    /// Every stored blob.
    pub(crate) fn list(&self) -> Result<Vec<Sha256>, ImageError> {
        let entries = fs::read_dir(&self.dir).map_err(ImageError::io("list", &self.dir))?;
        let mut digests = Vec::new();
        for entry in entries {
            let entry = entry.map_err(ImageError::io("list", &self.dir))?;
            if let Some(digest) = entry.file_name().to_str().and_then(Sha256::from_hex) {
                digests.push(digest);
            }
        }
        Ok(digests)
    }
}

pub(crate) fn remove_file_if_exists(path: &Path) -> Result<(), ImageError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(ImageError::io("remove", path)(e)),
        _ => Ok(()),
    }
}
