//! Store-level tests on real tempdirs. Ownership, device nodes and the
//! `trusted.` xattrs need root; those tests skip cleanly without it.

mod extract;
mod load;
mod overlay;
mod store;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use super::{ImageStore, ImportSource};

/// Returns false (and says so) when not running as root.
fn root_or_skip() -> bool {
    let root = rustix::process::geteuid().is_root();
    if !root {
        eprintln!("skipped: needs root");
    }
    root
}

/// One entry of a test tarball; names and link targets are written into
/// the header as raw bytes, so hostile ones (`../x`, `/abs`) go in as is.
#[derive(Clone)]
enum E<'a> {
    Dir(&'a str),
    File(&'a str, &'a [u8]),
    /// A file with mode, uid, gid and mtime.
    FileMeta(&'a str, &'a [u8], u32, u64, u64, u64),
    /// A file with PAX xattrs.
    FileXattr(&'a str, &'a [u8], &'a [(&'a str, &'a [u8])]),
    Symlink(&'a str, &'a str),
    HardLink(&'a str, &'a str),
    Char(&'a str, u32, u32),
    Fifo(&'a str),
}

fn header(name: &str, kind: EntryType, size: u64, mode: u32) -> Header {
    let mut header = Header::new_gnu();
    header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
    header.set_entry_type(kind);
    header.set_size(size);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(1_600_000_000);
    header
}

fn link_header(name: &str, kind: EntryType, target: &str) -> Header {
    let mut header = header(name, kind, 0, 0o777);
    header.as_old_mut().linkname[..target.len()].copy_from_slice(target.as_bytes());
    header
}

fn pax_record(key: &str, value: &[u8]) -> Vec<u8> {
    // The length prefix counts itself, so find the fixed point.
    let body = key.len() + value.len() + 3;
    let mut len = body + 1;
    while len != body + len.to_string().len() {
        len = body + len.to_string().len();
    }
    let mut record = format!("{len} {key}=").into_bytes();
    record.extend_from_slice(value);
    record.push(b'\n');
    record
}

/// Builds an uncompressed tar of `entries`.
fn tar_of(entries: &[E<'_>]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for entry in entries {
        let (mut header, data): (Header, &[u8]) = match entry {
            E::Dir(name) => (header(name, EntryType::Directory, 0, 0o755), b""),
            E::File(name, data) => (
                header(name, EntryType::Regular, data.len() as u64, 0o644),
                data,
            ),
            E::FileMeta(name, data, mode, uid, gid, mtime) => {
                let mut h = header(name, EntryType::Regular, data.len() as u64, *mode);
                h.set_uid(*uid);
                h.set_gid(*gid);
                h.set_mtime(*mtime);
                (h, data)
            }
            E::FileXattr(name, data, xattrs) => {
                let mut records = Vec::new();
                for (key, value) in xattrs.iter() {
                    records.extend(pax_record(&format!("SCHILY.xattr.{key}"), value));
                }
                let mut pax = header("PaxHeader", EntryType::XHeader, records.len() as u64, 0o644);
                pax.set_cksum();
                builder.append(&pax, &records[..]).unwrap();
                (
                    header(name, EntryType::Regular, data.len() as u64, 0o644),
                    data,
                )
            }
            E::Symlink(name, target) => (link_header(name, EntryType::Symlink, target), b""),
            E::HardLink(name, target) => (link_header(name, EntryType::Link, target), b""),
            E::Char(name, major, minor) => {
                let mut h = header(name, EntryType::Char, 0, 0o666);
                h.set_device_major(*major).unwrap();
                h.set_device_minor(*minor).unwrap();
                (h, b"")
            }
            E::Fifo(name) => (header(name, EntryType::Fifo, 0, 0o600), b""),
        };
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    builder.into_inner().unwrap()
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A tempdir with the store at `root/store`, so that anything written
/// beside it (an escape) shows up in [`Fixture::outside`].
struct Fixture {
    dir: tempfile::TempDir,
    store: ImageStore,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("victim")).unwrap();
        fs::write(dir.path().join("victim/passwd"), b"untouched").unwrap();
        let store = ImageStore::open(dir.path().join("store")).unwrap();
        Fixture { dir, store }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn import_tar(
        &self,
        tar: &[u8],
        name: Option<&str>,
    ) -> Result<super::ImageId, super::ImageError> {
        self.store
            .import(ImportSource::Tar(&mut &tar[..]), name, &[])
    }

    /// Every path under the tempdir but outside the store.
    fn outside(&self) -> BTreeSet<PathBuf> {
        let mut found = BTreeSet::new();
        walk(self.path(), &mut found);
        found.retain(|p| !p.starts_with(self.path().join("store")));
        found
    }

    /// Asserts the store holds no image, layer, blob or temporary file.
    fn assert_empty(&self) {
        assert!(self.store.list().unwrap().is_empty());
        for dir in ["layers", "images", "blobs/sha256", "tmp"] {
            let path = self.path().join("store").join(dir);
            let left: Vec<_> = fs::read_dir(&path)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert!(left.is_empty(), "{dir} not empty: {left:?}");
        }
        self.assert_untouched();
    }

    /// Asserts the file beside the store that hostile layers aim at is
    /// unchanged.
    fn assert_untouched(&self) {
        let victim = fs::read(self.path().join("victim/passwd")).unwrap();
        assert_eq!(victim, b"untouched");
    }
}

fn walk(dir: &Path, found: &mut BTreeSet<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        found.insert(entry.path());
        if entry.file_type().unwrap().is_dir() {
            walk(&entry.path(), found);
        }
    }
}
