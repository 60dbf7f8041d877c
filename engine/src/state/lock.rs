//! The lock that keeps two daemons off one state root.
//!
//! An advisory `flock` on `<root>/daemon.lock`: the kernel drops it when the
//! holder dies, so a crashed daemon never leaves a stale lock behind, and the
//! file (which is never removed, so that every daemon locks the same inode)
//! records the holder's pid for the error message.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{flock, FlockOperation};

/// Why the root could not be locked.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds the lock.
    #[error(
        "state root {} is in use by another stack daemon{} (lock file {}); stop that daemon or choose another --root",
        root.display(),
        pid.map(|p| format!(" (pid {p})")).unwrap_or_default(),
        lock.display()
    )]
    Held {
        /// The state root.
        root: PathBuf,
        /// The lock file.
        lock: PathBuf,
        /// The holder's pid, when it could be read.
        pid: Option<u32>,
    },
    /// The lock file could not be opened, locked or written.
    #[error("cannot {op} the lock file {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The lock file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
}

/// Holds the root's lock until dropped.
#[derive(Debug)]
pub(crate) struct RootLock {
    _file: File,
}

impl RootLock {
    /// Takes the lock at `lock` (for the state root `root`) without waiting,
    /// and writes this process's pid into it.
    pub(crate) fn acquire(root: &Path, lock: &Path) -> Result<RootLock, LockError> {
        let io_err = |op| {
            let path = lock.to_path_buf();
            move |source| LockError::Io { op, path, source }
        };
        // Not truncated on open: the holder's pid must survive our attempt.
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(lock)
            .map_err(io_err("open"))?;
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => {}
            Err(rustix::io::Errno::WOULDBLOCK) => {
                let mut text = String::new();
                let pid = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| text.trim().parse().ok());
                return Err(LockError::Held {
                    root: root.to_path_buf(),
                    lock: lock.to_path_buf(),
                    pid,
                });
            }
            Err(e) => return Err(io_err("lock")(e.into())),
        }
        file.set_len(0).map_err(io_err("truncate"))?;
        file.rewind().map_err(io_err("rewind"))?;
        writeln!(file, "{}", std::process::id()).map_err(io_err("write"))?;
        file.sync_all().map_err(io_err("sync"))?;
        Ok(RootLock { _file: file })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_fails_naming_the_holder_and_frees_on_drop() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("daemon.lock");
        let held = RootLock::acquire(dir.path(), &path).unwrap();
        let err = RootLock::acquire(dir.path(), &path).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, LockError::Held { pid: Some(p), .. } if p == std::process::id()));
        assert!(
            message.contains(&format!("pid {}", std::process::id())),
            "{message}"
        );
        assert!(message.contains("--root"), "{message}");
        drop(held);
        RootLock::acquire(dir.path(), &path).unwrap();
    }
}
