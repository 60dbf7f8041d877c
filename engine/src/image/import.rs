//! `import`: an image of one layer from a rootfs tarball or a directory,
//! with Docker's `--change` instructions applied to its config.

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, Read, Seek, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use oci_spec::image::{Arch, Config, History, ImageConfiguration, Os, RootFs};

use super::changes::{apply_changes, parse_change, Change};
use super::commit::Txn;
use super::digest::Sha256;
use super::error::ImageError;
use super::store::{parse_tag, ImageId, ImageStore};

/// Where an import reads the root filesystem from.
pub enum ImportSource<'a> {
    /// A tar stream, plain or gzip/zstd compressed.
    Tar(&'a mut dyn Read),
    /// A directory, archived as it is (symlinks kept, never followed).
    Dir(&'a Path),
}

impl ImageStore {
    /// Like `docker import`: makes an image whose only layer is `source`,
    /// tagged `reference` if given, with `changes` (`CMD ["sh"]`,
    /// `ENV A=1`, `WORKDIR /app`, `EXPOSE 80`, `USER`, `LABEL`, `VOLUME`,
    /// `STOPSIGNAL`) applied to its config. Everything is checked before
    /// anything is written; a failure leaves nothing behind.
    pub fn import(
        &self,
        source: ImportSource<'_>,
        reference: Option<&str>,
        changes: &[String],
    ) -> Result<ImageId, ImageError> {
        let tags = reference.map(parse_tag).transpose()?.into_iter().collect();
        let changes = changes
            .iter()
            .map(|c| {
                parse_change(c).map_err(|reason| ImageError::InvalidChange {
                    change: c.clone(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let _writer = self.lock_writer();
        let mut txn = Txn::new(self);
        let (layer, comment) = match source {
            ImportSource::Tar(reader) => (
                txn.put_layer_blob(reader, None, "import")?,
                "Imported from -".to_string(),
            ),
            ImportSource::Dir(dir) => {
                let mut archive = archive_directory(dir, &self.tmp_dir())?;
                (
                    txn.put_layer_blob(&mut archive, None, "import")?,
                    format!("Imported from {}", dir.display()),
                )
            }
        };
        let diff_id = txn.ensure_layer(&layer.digest, None, "import")?;
        let config = import_config(
            &diff_id,
            &changes,
            crate::state::time::rfc3339_nanos(SystemTime::now()),
            &comment,
        );
        let bytes = serde_json::to_vec(&config)
            .map_err(|e| ImageError::invalid("import", e.to_string()))?;
        let staged = txn.stage(&bytes, &[layer], None, tags, "import")?;
        let mut loaded = txn.commit(vec![staged])?;
        Ok(loaded.remove(0).0)
    }
}

/// The config of an imported image: one layer, this host's platform, the
/// changes applied, and a history entry saying where it came from.
pub(crate) fn import_config(
    diff_id: &Sha256,
    changes: &[Change],
    created: String,
    comment: &str,
) -> ImageConfiguration {
    let mut config = Config::default();
    apply_changes(&mut config, changes);
    let mut rootfs = RootFs::default();
    rootfs.set_diff_ids(vec![diff_id.to_string()]);
    let mut history = History::default();
    history.set_created(Some(created.clone()));
    history.set_comment(Some(comment.to_string()));
    let mut image = ImageConfiguration::default();
    image
        .set_created(Some(created))
        .set_architecture(Arch::from(host_arch()))
        .set_os(Os::Linux)
        .set_config(Some(config))
        .set_rootfs(rootfs)
        .set_history(Some(vec![history]));
    image
}

/// This host's architecture in Go's names, which image configs use.
pub(crate) fn host_arch() -> &'static str {
    match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        "x86" => "386",
        "powerpc64" => "ppc64le",
        other => other,
    }
}

/// Archives `dir` into a temporary file (sorted, so the same tree gives
/// the same layer digest), then hands it back rewound.
fn archive_directory(dir: &Path, tmp: &Path) -> Result<fs::File, ImageError> {
    let file =
        tempfile::tempfile_in(tmp).map_err(ImageError::io("create temporary file in", tmp))?;
    let mut builder = tar::Builder::new(BufWriter::new(file));
    builder.follow_symlinks(false);
    append_tree(&mut builder, dir, Path::new(""), &mut HashMap::new())
        .map_err(ImageError::io("archive", dir))?;
    let mut file = builder
        .into_inner()
        .and_then(|w| w.into_inner().map_err(|e| e.into_error()))
        .map_err(ImageError::io("archive", dir))?;
    file.rewind().map_err(ImageError::io("archive", dir))?;
    Ok(file)
}

/// Appends the tree under `dir` as `relative/...`, sorted by name. Files
/// with several links become one file and hard links to it, as `tar`
/// does, so the layer keeps them linked and is not larger than the tree.
fn append_tree<W: Write>(
    builder: &mut tar::Builder<W>,
    dir: &Path,
    relative: &Path,
    linked: &mut HashMap<(u64, u64), PathBuf>,
) -> io::Result<()> {
    let mut entries = fs::read_dir(dir)?.collect::<Result<Vec<_>, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let file_type = entry.file_type()?;
        // Sockets belong to a running process, not to a filesystem image.
        if file_type.is_socket() {
            continue;
        }
        let name = relative.join(entry.file_name());
        let meta = entry.metadata()?;
        if file_type.is_file() && meta.nlink() > 1 {
            if let Some(first) = linked.get(&(meta.dev(), meta.ino())) {
                let mut header = tar::Header::new_gnu();
                header.set_metadata(&meta);
                header.set_entry_type(tar::EntryType::Link);
                header.set_size(0);
                builder.append_link(&mut header, &name, first)?;
                continue;
            }
            linked.insert((meta.dev(), meta.ino()), name.clone());
        }
        builder.append_path_with_name(entry.path(), &name)?;
        if file_type.is_dir() {
            append_tree(builder, &entry.path(), &name, linked)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_config_has_one_layer_and_the_changes() {
        let diff_id = Sha256::of(b"layer");
        let changes = vec![
            parse_change("CMD [\"sh\"]").unwrap(),
            parse_change("ENV A=1").unwrap(),
        ];
        let config = import_config(
            &diff_id,
            &changes,
            "2024-01-01T00:00:00Z".into(),
            "Imported from -",
        );
        assert_eq!(config.rootfs().diff_ids(), &vec![diff_id.to_string()]);
        assert_eq!(config.os(), &Os::Linux);
        assert_eq!(config.architecture(), &Arch::from(host_arch()));
        let inner = config.config().as_ref().unwrap();
        assert_eq!(inner.cmd(), &Some(vec!["sh".to_string()]));
        assert_eq!(inner.env(), &Some(vec!["A=1".to_string()]));
        let history = config.history().as_ref().unwrap();
        assert_eq!(history[0].comment(), &Some("Imported from -".to_string()));
    }
}
