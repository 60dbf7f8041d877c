//! Layer blobs: decompression and safe unpacking into a directory that
//! overlayfs can use as a lower layer.

pub(crate) mod entry;
mod fs;
mod zstd;

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;

use oci_spec::image::MediaType;

use self::entry::{plan_entry, Meta, RawEntry, RawKind};
use self::fs::{ApplyError, LayerWriter};
use super::digest::{HashingReader, Sha256};
use super::error::ImageError;

/// How a layer blob is compressed, told by its first bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compression {
    None,
    Gzip,
    Zstd,
}

impl Compression {
    /// Detects the compression from the magic number at the start.
    pub(crate) fn detect(prefix: &[u8]) -> Compression {
        if prefix.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if prefix.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }

    /// The OCI media type of a layer with this compression.
    pub(crate) fn media_type(self) -> MediaType {
        match self {
            Compression::None => MediaType::ImageLayer,
            Compression::Gzip => MediaType::ImageLayerGzip,
            Compression::Zstd => MediaType::ImageLayerZstd,
        }
    }
}

/// Wraps `reader` in the decompressor its first bytes call for.
pub(crate) fn decompress<'a>(reader: impl Read + 'a) -> io::Result<Box<dyn Read + 'a>> {
    let mut reader = BufReader::new(reader);
    let compression = Compression::detect(reader.fill_buf()?);
    Ok(match compression {
        Compression::None => Box::new(reader),
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(reader)),
        Compression::Zstd => Box::new(zstd::ZstdFrames::new(reader)),
    })
}

/// The diff id (digest of the uncompressed tar) of a layer blob.
pub(crate) fn diff_id(blob: impl Read) -> io::Result<Sha256> {
    Ok(HashingReader::new(decompress(blob)?).finish()?.0)
}

/// What unpacking a layer produced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unpacked {
    pub(crate) diff_id: Sha256,
    /// Bytes of regular file content.
    pub(crate) size: u64,
}

/// Unpacks the (possibly compressed) layer tar `blob` into `target`, an
/// existing empty directory. On error the caller removes `target`: what was
/// written so far is not a layer.
pub(crate) fn unpack(blob: impl Read, what: &str, target: &Path) -> Result<Unpacked, ImageError> {
    let archive_err = |source| ImageError::Archive {
        what: what.to_string(),
        source,
    };
    let mut writer = LayerWriter::new(target).map_err(ImageError::io("open", target))?;
    let mut archive = tar::Archive::new(HashingReader::new(decompress(blob).map_err(archive_err)?));
    for item in archive.entries().map_err(archive_err)? {
        let mut tar_entry = item.map_err(archive_err)?;
        let raw = raw_entry(&mut tar_entry).map_err(archive_err)?;
        let shown = String::from_utf8_lossy(&raw.path).into_owned();
        let plan = plan_entry(&raw).map_err(|reason| ImageError::UnsafeEntry {
            entry: shown.clone(),
            reason,
        })?;
        writer
            .apply(&plan, &mut tar_entry)
            .map_err(|e| entry_error(&shown, e))?;
    }
    let size = writer.finish().map_err(|e| entry_error(".", e))?;
    // The tar may end before the stream does (padding blocks); the diff id
    // covers the whole stream.
    let (diff_id, _) = archive.into_inner().finish().map_err(archive_err)?;
    Ok(Unpacked { diff_id, size })
}

fn entry_error(entry: &str, error: ApplyError) -> ImageError {
    match error {
        ApplyError::Refused(reason) => ImageError::UnsafeEntry {
            entry: entry.to_string(),
            reason,
        },
        ApplyError::Io(op, source) => ImageError::Entry {
            entry: entry.to_string(),
            op,
            source,
        },
    }
}

/// Reads the fields unpacking needs, PAX records taking precedence over the
/// header (long uids, xattrs).
fn raw_entry<R: Read>(entry: &mut tar::Entry<'_, R>) -> io::Result<RawEntry> {
    let header = entry.header();
    let kind = match header.entry_type() {
        tar::EntryType::Regular | tar::EntryType::Continuous => RawKind::File,
        tar::EntryType::Directory => RawKind::Dir,
        tar::EntryType::Symlink => RawKind::Symlink,
        tar::EntryType::Link => RawKind::HardLink,
        tar::EntryType::Char => RawKind::Char,
        tar::EntryType::Block => RawKind::Block,
        tar::EntryType::Fifo => RawKind::Fifo,
        tar::EntryType::XGlobalHeader => RawKind::Ignored,
        other => RawKind::Other(format!("{other:?}")),
    };
    // Only device entries have meaningful numbers; other headers may leave
    // the fields blank, which would not parse.
    let device = match kind {
        RawKind::Char | RawKind::Block => match (header.device_major()?, header.device_minor()?) {
            (Some(major), Some(minor)) => Some((major, minor)),
            _ => None,
        },
        _ => None,
    };
    let out_of_range =
        |what| io::Error::new(io::ErrorKind::InvalidData, format!("{what} out of range"));
    let mut meta = Meta {
        mode: header.mode()? & 0o7777,
        uid: u32::try_from(header.uid()?).map_err(|_| out_of_range("uid"))?,
        gid: u32::try_from(header.gid()?).map_err(|_| out_of_range("gid"))?,
        mtime: i64::try_from(header.mtime()?).map_err(|_| out_of_range("mtime"))?,
        xattrs: Vec::new(),
    };
    if let Some(extensions) = entry.pax_extensions()? {
        for extension in extensions {
            let extension = extension?;
            let Ok(key) = extension.key() else { continue };
            let value = extension.value_bytes();
            let number = || {
                std::str::from_utf8(value)
                    .ok()
                    .and_then(|v| v.split('.').next()?.parse::<i64>().ok())
            };
            match key {
                "uid" => {
                    meta.uid = number()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| out_of_range("uid"))?
                }
                "gid" => {
                    meta.gid = number()
                        .and_then(|n| u32::try_from(n).ok())
                        .ok_or_else(|| out_of_range("gid"))?
                }
                "mtime" => meta.mtime = number().ok_or_else(|| out_of_range("mtime"))?,
                _ => {
                    if let Some(name) = key.strip_prefix("SCHILY.xattr.") {
                        meta.xattrs.push((name.to_string(), value.to_vec()));
                    }
                }
            }
        }
    }
    Ok(RawEntry {
        path: entry.path_bytes().into_owned(),
        kind,
        link: entry.link_name_bytes().map(|l| l.into_owned()),
        meta,
        device,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn detects_compression_by_magic() {
        assert_eq!(Compression::detect(&[0x1f, 0x8b, 8]), Compression::Gzip);
        assert_eq!(
            Compression::detect(&[0x28, 0xb5, 0x2f, 0xfd, 0]),
            Compression::Zstd
        );
        assert_eq!(Compression::detect(b"etc/"), Compression::None);
        assert_eq!(Compression::detect(b""), Compression::None);
    }

    #[test]
    fn diff_id_is_the_digest_of_the_uncompressed_stream() {
        let plain = b"not really a tar, but the digest does not care".repeat(10);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&plain).unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(diff_id(&plain[..]).unwrap(), Sha256::of(&plain));
        assert_eq!(diff_id(&gz[..]).unwrap(), Sha256::of(&plain));
    }
}
