//! Persisted engine state: small JSON files written atomically.
//!
//! Every record the engine keeps on disk is written to a temporary file in
//! the same directory and renamed over the target, so a crash of any
//! process leaves either the old file or the new one, never a torn mix.
//! Records of what the user created (containers, networks, volumes,
//! images) go through [`write_json_atomic`], which also syncs the file and
//! its directory so they survive a host crash. Records that only describe
//! running processes (a run's state, its network namespace, its restart
//! bookkeeping) go through [`write_json_replace`], which does not: a host
//! crash ends those processes anyway, and the two syncs each cost a
//! journal commit on the start and exit paths of every container.

mod layout;
mod lock;
pub(crate) mod time;
mod trash;

pub(crate) use layout::Layout;
pub use lock::LockError;
pub(crate) use lock::RootLock;
pub(crate) use trash::Trash;

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Serialize;

/// Writes `bytes` to `path` through a temporary file and a rename, `sync`
/// saying whether the file and the directory are synced as well.
fn replace(path: &Path, bytes: &[u8], sync: bool) -> io::Result<()> {
    let dir = parent(path)?;
    let tmp = stage(path, bytes, sync)?;
    let result = fs::rename(&tmp, path).and_then(|()| sync_dir(dir, sync));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn parent(path: &Path) -> io::Result<&Path> {
    path.parent()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no parent"))
}

/// Writes `bytes` to a temporary file beside `path` (synced when `sync`
/// says so) and returns the temporary file's path.
fn stage(path: &Path, bytes: &[u8], sync: bool) -> io::Result<PathBuf> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
    // The pid and a counter keep concurrent writers in one process apart; the
    // leading dot keeps half-written files out of directory listings.
    let tmp = parent(path)?.join(format!(
        ".{}.tmp-{}-{}",
        name.to_string_lossy(),
        std::process::id(),
        next_counter()
    ));
    let written = File::create(&tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        if sync {
            file.sync_all()?;
        }
        Ok(())
    });
    match written {
        Ok(()) => Ok(tmp),
        Err(error) => {
            let _ = fs::remove_file(&tmp);
            Err(error)
        }
    }
}

/// A record to write with [`write_all_atomic`]: its path and its bytes.
pub(crate) struct Record {
    path: PathBuf,
    bytes: Vec<u8>,
}

impl Record {
    /// `value` as pretty JSON, to be written to `path`.
    pub(crate) fn json<T: Serialize>(path: PathBuf, value: &T) -> io::Result<Record> {
        Ok(Record {
            path,
            bytes: json_bytes(value)?,
        })
    }
}

fn sync_dir(dir: &Path, sync: bool) -> io::Result<()> {
    if sync {
        File::open(dir)?.sync_all()?;
    }
    Ok(())
}

/// Writes several records of what the user created, all in directory
/// `dir`, as [`write_json_atomic`] writes one, but with the directory
/// synced once for all of them: each file is synced before its rename, the
/// directory after the last. On an error, the temporary files are removed
/// and the records already renamed stay (the caller removes the directory).
pub(crate) fn write_all_atomic(dir: &Path, records: &[Record]) -> io::Result<()> {
    if let Some(stray) = records.iter().find(|r| r.path.parent() != Some(dir)) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not in {}", stray.path.display(), dir.display()),
        ));
    }
    let mut staged = Vec::with_capacity(records.len());
    let result = records
        .iter()
        .try_for_each(|record| stage(&record.path, &record.bytes, true).map(|tmp| staged.push(tmp)))
        .and_then(|()| {
            staged
                .iter()
                .zip(records)
                .try_for_each(|(tmp, record)| fs::rename(tmp, &record.path))
        })
        .and_then(|()| sync_dir(dir, true));
    if result.is_err() {
        for tmp in &staged {
            let _ = fs::remove_file(tmp);
        }
    }
    result
}

/// Serializes `value` as pretty JSON and replaces `path` with it, syncing the
/// file and its directory: for records of what the user created.
pub(crate) fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    replace(path, &json_bytes(value)?, true)
}

/// Serializes `value` as pretty JSON and replaces `path` with it, atomically
/// but without syncing: for records of running processes (see the module's
/// documentation).
pub(crate) fn write_json_replace<T: Serialize>(path: &Path, value: &T) -> io::Result<()> {
    replace(path, &json_bytes(value)?, false)
}

fn json_bytes<T: Serialize>(value: &T) -> io::Result<Vec<u8>> {
    let mut bytes = serde_json::to_vec_pretty(value).map_err(io::Error::other)?;
    bytes.push(b'\n');
    Ok(bytes)
}

/// Reads a JSON file written by [`write_json_atomic`] or
/// [`write_json_replace`]; `Ok(None)` if absent.
pub(crate) fn read_json<T: DeserializeOwned>(path: &Path) -> io::Result<Option<T>> {
    match fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

fn next_counter() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn json_round_trip_replaces_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.json");
        assert_eq!(read_json::<BTreeMap<String, u32>>(&path).unwrap(), None);
        let mut value = BTreeMap::from([("a".to_string(), 1)]);
        write_json_atomic(&path, &value).unwrap();
        value.insert("b".into(), 2);
        write_json_replace(&path, &value).unwrap();
        assert_eq!(read_json(&path).unwrap(), Some(value));
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec!["state.json"]);
    }

    #[test]
    fn several_records_are_written_together_and_strays_refused() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.json");
        let b = dir.path().join("b.json");
        let records = [
            Record::json(a.clone(), &1u32).unwrap(),
            Record::json(b.clone(), &"two").unwrap(),
        ];
        write_all_atomic(dir.path(), &records).unwrap();
        assert_eq!(read_json::<u32>(&a).unwrap(), Some(1));
        assert_eq!(read_json::<String>(&b).unwrap(), Some("two".to_owned()));
        let mut names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, vec!["a.json", "b.json"]);

        let elsewhere = tempfile::tempdir().unwrap();
        let stray = [Record::json(elsewhere.path().join("c.json"), &3u32).unwrap()];
        let err = write_all_atomic(dir.path(), &stray).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
        assert_eq!(fs::read_dir(elsewhere.path()).unwrap().count(), 0);
    }

    #[test]
    fn corrupt_json_is_invalid_data() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        fs::write(&path, b"{not json").unwrap();
        let err = read_json::<BTreeMap<String, u32>>(&path).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
    }
}
