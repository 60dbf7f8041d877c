//! `load`: images from a `docker save` archive or an OCI image layout,
//! given as a tar stream (maybe compressed) or as a directory.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType, OciLayout};
use serde::de::DeserializeOwned;
use serde::Deserialize;

use super::commit::{Staged, Txn};
use super::digest::Sha256;
use super::error::ImageError;
use super::import::host_arch;
use super::layer::{decompress, entry::normalize};
use super::reference::Reference;
use super::store::{parse_tag, ImageId, ImageStore};

/// JSON documents (manifests, configs, indexes) are small; a bigger one is
/// a broken or hostile archive, not something to read into memory.
const MAX_DOCUMENT: u64 = 32 << 20;
/// Symlink hops followed inside an archive before giving up.
const MAX_LINK_HOPS: usize = 16;
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
const CONTAINERD_NAME: &str = "io.containerd.image.name";
const OCI_REF_NAME: &str = "org.opencontainers.image.ref.name";

/// One image a load added.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoadedImage {
    /// The image id.
    pub id: ImageId,
    /// The tags it was given (short form), possibly none.
    pub tags: Vec<String>,
}

impl ImageStore {
    /// Like `docker load`: reads a `docker save` archive or an OCI image
    /// layout as a tar stream (plain, gzip or zstd). Every blob is checked
    /// against its digest and every layer unpacked before any image or tag
    /// is recorded; on failure nothing of the load remains.
    pub fn load(&self, archive: &mut dyn Read) -> Result<Vec<LoadedImage>, ImageError> {
        let _writer = self.lock_writer();
        let source = Source::spool(archive, &self.tmp_dir())?;
        self.load_from(&source)
    }

    /// Loads from a directory holding an OCI image layout or an unpacked
    /// `docker save` archive.
    pub fn load_dir(&self, dir: &Path) -> Result<Vec<LoadedImage>, ImageError> {
        let _writer = self.lock_writer();
        self.load_from(&Source::Dir(dir.to_path_buf()))
    }

    /// [`load_dir`](Self::load_dir) for a directory, [`load`](Self::load)
    /// for a file.
    pub fn load_path(&self, path: &Path) -> Result<Vec<LoadedImage>, ImageError> {
        if path.is_dir() {
            return self.load_dir(path);
        }
        let mut file = File::open(path).map_err(ImageError::io("open", path))?;
        self.load(&mut file)
    }

    fn load_from(&self, source: &Source) -> Result<Vec<LoadedImage>, ImageError> {
        let mut txn = Txn::new(self);
        let staged = if source.exists("manifest.json") {
            stage_docker_save(&mut txn, source)?
        } else if source.exists("index.json") {
            stage_oci_layout(&mut txn, source)?
        } else {
            let message = "neither manifest.json (docker save) nor index.json (OCI layout) found";
            return Err(ImageError::invalid("archive", message));
        };
        if staged.is_empty() {
            return Err(ImageError::invalid("archive", "it contains no image"));
        }
        Ok(txn
            .commit(staged)?
            .into_iter()
            .map(|(id, tags)| LoadedImage {
                id,
                tags: tags.iter().map(Reference::familiar).collect(),
            })
            .collect())
    }
}

/// One entry of a `docker save` manifest.json.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SaveEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    #[serde(default)]
    layers: Vec<String>,
}

fn stage_docker_save(txn: &mut Txn<'_>, source: &Source) -> Result<Vec<Staged>, ImageError> {
    let entries: Vec<SaveEntry> = source.json("manifest.json")?;
    let mut staged = Vec::new();
    for (i, entry) in entries.iter().enumerate() {
        let what = format!("manifest.json image {}", i + 1);
        let config = source.read(&entry.config)?;
        let tags = entry
            .repo_tags
            .iter()
            .flatten()
            .map(|t| parse_tag(t))
            .collect::<Result<Vec<_>, _>>()?;
        let mut layers = Vec::new();
        for name in &entry.layers {
            let mut file = source.open(name)?;
            layers.push(txn.put_layer_blob(&mut file, None, name)?);
        }
        staged.push(txn.stage(&config, &layers, None, tags, &what)?);
    }
    Ok(staged)
}

fn stage_oci_layout(txn: &mut Txn<'_>, source: &Source) -> Result<Vec<Staged>, ImageError> {
    let layout: OciLayout = source.json("oci-layout")?;
    if layout.image_layout_version() != "1.0.0" {
        let message = format!(
            "unsupported imageLayoutVersion {:?}",
            layout.image_layout_version()
        );
        return Err(ImageError::invalid("oci-layout", message));
    }
    let index: ImageIndex = source.json("index.json")?;
    let mut staged = Vec::new();
    for (i, top) in index.manifests().iter().enumerate() {
        let what = format!("index.json manifest {}", i + 1);
        let tags = names_from_annotations(top.annotations().as_ref())?;
        let descriptor = pick_manifest(source, top, &what)?;
        let manifest_bytes = read_blob(source, descriptor.digest(), &what)?;
        let manifest: ImageManifest = parse_json(&manifest_bytes, &what)?;
        let config = read_blob(source, manifest.config().digest(), &what)?;
        let mut layers = Vec::new();
        for layer in manifest.layers() {
            let digest = sha256_of(layer.digest(), &what)?;
            let name = blob_name(&digest);
            let mut file = source.open(&name)?;
            layers.push(txn.put_layer_blob(&mut file, Some(&digest), &name)?);
        }
        staged.push(txn.stage(&config, &layers, Some(&manifest_bytes), tags, &what)?);
    }
    Ok(staged)
}

/// An image manifest as is, or from an index the one for this platform.
fn pick_manifest(
    source: &Source,
    descriptor: &Descriptor,
    what: &str,
) -> Result<Descriptor, ImageError> {
    let media_type = descriptor.media_type();
    if is_manifest(media_type) {
        return Ok(descriptor.clone());
    }
    if !matches!(media_type, MediaType::ImageIndex) && media_type.as_ref() != DOCKER_MANIFEST_LIST {
        return Err(ImageError::invalid(
            what,
            format!("unsupported media type {media_type}"),
        ));
    }
    let index: ImageIndex = parse_json(&read_blob(source, descriptor.digest(), what)?, what)?;
    let arch = host_arch();
    let candidates = index
        .manifests()
        .iter()
        .filter(|m| is_manifest(m.media_type()));
    let mut seen = Vec::new();
    for candidate in candidates {
        match candidate.platform() {
            Some(p) if p.os().to_string() == "linux" && p.architecture().to_string() == arch => {
                return Ok(candidate.clone());
            }
            Some(p) => seen.push(format!("{}/{}", p.os(), p.architecture())),
            None => seen.push("unspecified".to_string()),
        }
    }
    let message = format!(
        "no image for linux/{arch} in the index (it has: {})",
        seen.join(", ")
    );
    Err(ImageError::invalid(what, message))
}

fn is_manifest(media_type: &MediaType) -> bool {
    matches!(media_type, MediaType::ImageManifest) || media_type.as_ref() == DOCKER_MANIFEST
}

/// The tags an OCI layout gives a manifest: containerd's full name, or the
/// OCI ref name when it is a full reference. A bare tag (`latest`) names
/// no repository, so it cannot be a tag here.
pub(crate) fn names_from_annotations(
    annotations: Option<&HashMap<String, String>>,
) -> Result<Vec<Reference>, ImageError> {
    let Some(annotations) = annotations else {
        return Ok(Vec::new());
    };
    if let Some(name) = annotations.get(CONTAINERD_NAME) {
        return Ok(vec![parse_tag(name)?]);
    }
    match annotations.get(OCI_REF_NAME) {
        Some(name) if name.contains(':') || name.contains('/') => Ok(vec![parse_tag(name)?]),
        _ => Ok(Vec::new()),
    }
}

fn sha256_of(digest: &oci_spec::image::Digest, what: &str) -> Result<Sha256, ImageError> {
    Sha256::from_oci(digest).ok_or_else(|| {
        ImageError::invalid(what, format!("unsupported digest {digest} (only sha256)"))
    })
}

fn blob_name(digest: &Sha256) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

/// Reads a small blob of the layout and checks its digest.
fn read_blob(
    source: &Source,
    digest: &oci_spec::image::Digest,
    what: &str,
) -> Result<Vec<u8>, ImageError> {
    let digest = sha256_of(digest, what)?;
    let name = blob_name(&digest);
    let bytes = source.read(&name)?;
    let actual = Sha256::of(&bytes);
    if actual != digest {
        return Err(ImageError::DigestMismatch {
            what: name,
            expected: digest.to_string(),
            actual: actual.to_string(),
        });
    }
    Ok(bytes)
}

fn parse_json<T: DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, ImageError> {
    serde_json::from_slice(bytes).map_err(|e| ImageError::invalid(what, e.to_string()))
}

/// The files of a load: a directory, or a tar spooled into temporary files
/// (a `docker save` tar need not list manifest.json first).
pub(crate) enum Source {
    Dir(PathBuf),
    Spooled {
        files: BTreeMap<String, PathBuf>,
        /// Symlinks and hard links, resolved to archive names.
        links: BTreeMap<String, String>,
        _dir: tempfile::TempDir,
    },
}

impl Source {
    /// Copies each regular file of the tar stream to a temporary file.
    /// Names are only ever map keys, never paths to create.
    pub(crate) fn spool(archive: &mut dyn Read, tmp: &Path) -> Result<Source, ImageError> {
        let spool_err = |source| ImageError::Archive {
            what: "archive".to_string(),
            source,
        };
        let dir = tempfile::Builder::new()
            .prefix("load-")
            .tempdir_in(tmp)
            .map_err(ImageError::io("create temporary directory in", tmp))?;
        let mut files = BTreeMap::new();
        let mut links = BTreeMap::new();
        let mut tar = tar::Archive::new(decompress(archive).map_err(spool_err)?);
        for (n, entry) in tar.entries().map_err(spool_err)?.enumerate() {
            let mut entry = entry.map_err(spool_err)?;
            let Some(name) = clean_name(&entry.path_bytes()) else {
                continue;
            };
            let link = entry
                .link_name_bytes()
                .map(|l| String::from_utf8_lossy(&l).into_owned());
            match (entry.header().entry_type(), link) {
                (tar::EntryType::Regular | tar::EntryType::Continuous, _) => {
                    let path = dir.path().join(n.to_string());
                    let mut file = File::create(&path).map_err(ImageError::io("create", &path))?;
                    io::copy(&mut entry, &mut file).map_err(spool_err)?;
                    files.insert(name, path);
                }
                (tar::EntryType::Symlink, Some(target)) => {
                    let base = name.rsplit_once('/').map_or("", |(dir, _)| dir);
                    if let Some(resolved) = join_lexically(base, &target) {
                        links.insert(name, resolved);
                    }
                }
                (tar::EntryType::Link, Some(target)) => {
                    if let Some(resolved) = join_lexically("", &target) {
                        links.insert(name, resolved);
                    }
                }
                _ => {}
            }
        }
        Ok(Source::Spooled {
            files,
            links,
            _dir: dir,
        })
    }

    fn exists(&self, name: &str) -> bool {
        match self {
            Source::Dir(root) => {
                clean_name(name.as_bytes()).is_some_and(|n| root.join(n).is_file())
            }
            Source::Spooled { .. } => self.spooled_path(name).is_some(),
        }
    }

    fn open(&self, name: &str) -> Result<File, ImageError> {
        let missing = || ImageError::invalid(name, "not found in the archive");
        let path = match self {
            Source::Dir(root) => root.join(clean_name(name.as_bytes()).ok_or_else(missing)?),
            Source::Spooled { .. } => self.spooled_path(name).ok_or_else(missing)?,
        };
        match File::open(&path) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => Err(missing()),
            other => other.map_err(ImageError::io("open", path)),
        }
    }

    fn read(&self, name: &str) -> Result<Vec<u8>, ImageError> {
        let mut bytes = Vec::new();
        let file = self.open(name)?;
        file.take(MAX_DOCUMENT + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| ImageError::Archive {
                what: name.to_string(),
                source,
            })?;
        if bytes.len() as u64 > MAX_DOCUMENT {
            return Err(ImageError::invalid(
                name,
                "larger than 32 MiB; not an image document",
            ));
        }
        Ok(bytes)
    }

    fn json<T: DeserializeOwned>(&self, name: &str) -> Result<T, ImageError> {
        parse_json(&self.read(name)?, name)
    }

    fn spooled_path(&self, name: &str) -> Option<PathBuf> {
        let Source::Spooled { files, links, .. } = self else {
            return None;
        };
        let mut name = clean_name(name.as_bytes())?;
        for _ in 0..MAX_LINK_HOPS {
            if let Some(path) = files.get(&name) {
                return Some(path.clone());
            }
            name = links.get(&name)?.clone();
        }
        None
    }
}

/// An archive member name without `./`, duplicate or trailing slashes;
/// `None` for names that leave the archive (`..`, absolute).
fn clean_name(raw: &[u8]) -> Option<String> {
    let components = normalize(raw).ok()?;
    if components.is_empty() {
        return None;
    }
    let parts: Vec<_> = components.iter().map(|c| c.to_string_lossy()).collect();
    Some(parts.join("/"))
}

/// Resolves a link target against the directory holding the link, inside
/// the archive's namespace: `..` may climb, but not above the top.
fn join_lexically(base: &str, target: &str) -> Option<String> {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        base.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    #[test]
    fn link_targets_resolve_inside_the_archive() {
        assert_eq!(
            join_lexically("abc", "../def/layer.tar").as_deref(),
            Some("def/layer.tar")
        );
        assert_eq!(join_lexically("a/b", "c").as_deref(), Some("a/b/c"));
        assert_eq!(join_lexically("a", "/x/y").as_deref(), Some("x/y"));
        assert_eq!(join_lexically("a", "../../etc/passwd"), None);
        assert_eq!(join_lexically("", "."), None);
    }

    #[test]
    fn member_names_are_cleaned() {
        assert_eq!(
            clean_name(b"./manifest.json").as_deref(),
            Some("manifest.json")
        );
        assert_eq!(
            clean_name(b"blobs//sha256/ab/").as_deref(),
            Some("blobs/sha256/ab")
        );
        assert_eq!(clean_name(b"../x"), None);
        assert_eq!(clean_name(b"/etc/passwd"), None);
        assert_eq!(clean_name(b"./"), None);
    }

    #[test]
    fn annotation_names() {
        let map = |k: &str, v: &str| HashMap::from([(k.to_string(), v.to_string())]);
        let names = |m: &HashMap<String, String>| {
            names_from_annotations(Some(m))
                .unwrap()
                .iter()
                .map(|r| r.to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            names(&map(CONTAINERD_NAME, "docker.io/library/busybox:1")),
            ["docker.io/library/busybox:1"]
        );
        assert_eq!(
            names(&map(OCI_REF_NAME, "busybox:1")),
            ["docker.io/library/busybox:1"]
        );
        assert!(names(&map(OCI_REF_NAME, "latest")).is_empty());
        assert!(names_from_annotations(None).unwrap().is_empty());
        assert!(names_from_annotations(Some(&map(CONTAINERD_NAME, "Bad Name"))).is_err());
    }

    #[test]
    fn directory_sources_refuse_names_outside() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("index.json"), b"{}").unwrap();
        let source = Source::Dir(dir.path().to_path_buf());
        assert!(source.exists("./index.json"));
        assert!(!source.exists("../index.json"));
        assert!(source.open("../../etc/passwd").is_err());
    }
}
