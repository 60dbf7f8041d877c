//! Deleting directory trees off the request path: a tree the engine no
//! longer needs (a removed container's directory with its writable layer)
//! is renamed into `<root>/trash` — one rename, so it is out of view at
//! once and the request can answer — and deleted there by one background
//! thread. A daemon that stops or crashes halfway leaves the rest in the
//! trash, which the next start empties.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Sender};
use std::sync::Mutex;

/// The trash directory and its deleting thread.
#[derive(Debug)]
pub(crate) struct Trash {
    dir: PathBuf,
    worker: Mutex<Sender<PathBuf>>,
}

impl Trash {
    /// Opens (creating) the trash directory `dir`, which must be on the
    /// same file system as what is discarded, and starts deleting what a
    /// previous daemon left in it.
    pub(crate) fn open(dir: PathBuf) -> io::Result<Trash> {
        fs::create_dir_all(&dir)?;
        let (sender, receiver) = channel::<PathBuf>();
        std::thread::Builder::new()
            .name("trash".into())
            .spawn(move || {
                for path in receiver {
                    if let Err(error) = remove(&path) {
                        tracing::warn!(path = %path.display(), %error, "cannot delete a removed directory");
                    }
                }
            })?;
        for leftover in fs::read_dir(&dir)? {
            // The thread only ends when the sender is dropped.
            let _ = sender.send(leftover?.path());
        }
        Ok(Trash {
            dir,
            worker: Mutex::new(sender),
        })
    }

    /// Moves `path` (a directory or file) into the trash, to be deleted in
    /// the background. A path that does not exist counts as discarded.
    pub(crate) fn discard(&self, path: &Path) -> io::Result<()> {
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "path has no file name"))?;
        let target = self.dir.join(format!(
            "{}-{}",
            name.to_string_lossy(),
            super::next_counter()
        ));
        match fs::rename(path, &target) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        }
        let sent = self
            .worker
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .send(target.clone());
        if sent.is_err() {
            // The thread is gone (it cannot panic on an error, so this is
            // unexpected): delete here rather than leave it for a restart.
            remove(&target)?;
        }
        Ok(())
    }
}

fn remove(path: &Path) -> io::Result<()> {
    let result = match fs::symlink_metadata(path) {
        Ok(meta) if meta.is_dir() => fs::remove_dir_all(path),
        Ok(_) => fs::remove_file(path),
        Err(e) => Err(e),
    };
    match result {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, Instant};

    fn settled(dir: &Path) -> Vec<PathBuf> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let left: Vec<PathBuf> = fs::read_dir(dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            if left.is_empty() || Instant::now() > deadline {
                return left;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    #[test]
    fn a_discarded_tree_leaves_view_at_once_and_is_deleted() {
        let root = tempfile::tempdir().unwrap();
        let trash = Trash::open(root.path().join("trash")).unwrap();
        let doomed = root.path().join("containers/abc");
        fs::create_dir_all(doomed.join("upper/deep")).unwrap();
        fs::write(doomed.join("upper/deep/file"), b"x").unwrap();
        trash.discard(&doomed).unwrap();
        assert!(!doomed.exists());
        assert_eq!(settled(&root.path().join("trash")), Vec::<PathBuf>::new());
        trash.discard(&doomed).unwrap();
    }

    #[test]
    fn what_a_previous_daemon_left_is_deleted_on_open() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("trash");
        fs::create_dir_all(dir.join("old-1/sub")).unwrap();
        fs::write(dir.join("old-2"), b"x").unwrap();
        let _trash = Trash::open(dir.clone()).unwrap();
        assert_eq!(settled(&dir), Vec::<PathBuf>::new());
    }
}
