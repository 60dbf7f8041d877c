//! A reader's place in a container's json-file log, across rotations. The
//! monitor rotates by renaming the full file to `<log>.1` and starting a
//! new one, so a reader holding the old file reads it to its end, then
//! moves on to the file now at the log's path.

use std::fs::File;
use std::io::{BufRead, BufReader, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use bytes::Bytes;

use super::logs::Selection;
use crate::container::log_options::rotated_files;

/// The log file being read and how far.
pub(super) struct LogCursor {
    path: PathBuf,
    file: Option<File>,
    offset: u64,
}

impl LogCursor {
    /// At the start of the log at `path` (which may not exist yet).
    pub(super) fn open(path: PathBuf) -> LogCursor {
        let file = File::open(&path).ok();
        LogCursor {
            path,
            file,
            offset: 0,
        }
    }

    /// At `offset` in `file`, already open, the current file of the log at `path`.
    pub(super) fn held(path: PathBuf, file: File, offset: u64) -> LogCursor {
        LogCursor {
            path,
            file: Some(file),
            offset,
        }
    }

    /// The selected frames of the rotated files, oldest first, then of the
    /// current file from the cursor on; the last `tail` ones if asked.
    pub(super) fn history(&mut self, selection: &Selection, tail: Option<usize>) -> Vec<Bytes> {
        let held = self.file.as_ref().and_then(identity);
        let mut frames = Vec::new();
        for path in rotated_files(&self.path) {
            let Ok(file) = File::open(&path) else {
                continue;
            };
            // The held file, rotated meanwhile, is read below.
            if held.is_some() && identity(&file) == held {
                continue;
            }
            frames.extend(read_file_from(&file, 0, selection).0);
        }
        frames.extend(self.advance(selection));
        if let Some(tail) = tail {
            let skip = frames.len().saturating_sub(tail);
            frames.drain(..skip);
        }
        frames
    }

    /// The selected frames of the complete lines written since the last
    /// call, following the log into its new file when it was rotated.
    pub(super) fn advance(&mut self, selection: &Selection) -> Vec<Bytes> {
        // Opened before the held file is read to its end: when it is a new
        // file, the monitor had finished the held one before renaming it.
        let newest = File::open(&self.path).ok();
        let mut frames = Vec::new();
        if let Some(file) = &self.file {
            let (read, end) = read_file_from(file, self.offset, selection);
            frames = read;
            self.offset = end;
        }
        if let Some(newest) = newest {
            let current = self.file.as_ref().and_then(identity);
            if current.is_none() || identity(&newest) != current {
                let (read, end) = read_file_from(&newest, 0, selection);
                frames.extend(read);
                self.file = Some(newest);
                self.offset = end;
            }
        }
        frames
    }
}

/// A file's device and inode.
fn identity(file: &File) -> Option<(u64, u64)> {
    file.metadata().ok().map(|m| (m.dev(), m.ino()))
}

/// The selected frames of the complete lines of `file` from `offset` on,
/// and the offset after the last complete line.
fn read_file_from(mut file: &File, offset: u64, selection: &Selection) -> (Vec<Bytes>, u64) {
    if file.seek(SeekFrom::Start(offset)).is_err() {
        return (Vec::new(), offset);
    }
    let mut reader = BufReader::new(file);
    let mut frames = Vec::new();
    let mut end = offset;
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => break,
            // A line still being written is read on the next round.
            Ok(_) if !line.ends_with('\n') => break,
            Ok(n) => {
                end += n as u64;
                frames.extend(selection.frame(line.trim_end()));
            }
        }
    }
    (frames, end)
}

#[cfg(test)]
mod tests {
    use std::fs;

    use super::*;
    use crate::container::log_options::rotated_path;

    fn selection() -> Selection {
        Selection::stdout_only(true)
    }

    fn entry(text: &str) -> String {
        format!(
            "{{\"log\":\"{text}\\n\",\"stream\":\"stdout\",\"time\":\"2024-01-01T00:00:00Z\"}}\n"
        )
    }

    fn texts(frames: Vec<Bytes>) -> String {
        frames
            .iter()
            .map(|f| String::from_utf8_lossy(f).into_owned())
            .collect()
    }

    #[test]
    fn history_reads_the_rotated_files_in_order_and_follows_a_rotation() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        fs::write(rotated_path(&path, 2), entry("a")).unwrap();
        fs::write(rotated_path(&path, 1), entry("b")).unwrap();
        fs::write(&path, entry("c") + &entry("d")).unwrap();
        let mut cursor = LogCursor::open(path.clone());
        assert_eq!(texts(cursor.history(&selection(), None)), "a\nb\nc\nd\n");
        let mut tailed = LogCursor::open(path.clone());
        assert_eq!(texts(tailed.history(&selection(), Some(3))), "b\nc\nd\n");

        // The monitor finishes the file, rotates it and writes a new one.
        fs::write(&path, entry("c") + &entry("d") + &entry("e")).unwrap();
        fs::rename(rotated_path(&path, 1), rotated_path(&path, 2)).unwrap();
        fs::rename(&path, rotated_path(&path, 1)).unwrap();
        fs::write(&path, entry("f")).unwrap();
        assert_eq!(texts(cursor.advance(&selection())), "e\nf\n");
        fs::write(&path, entry("f") + "{\"log\":\"par").unwrap();
        assert_eq!(texts(cursor.advance(&selection())), "");
    }

    #[test]
    fn a_log_created_later_is_read_from_its_start() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut cursor = LogCursor::open(path.clone());
        assert!(cursor.history(&selection(), None).is_empty());
        fs::write(&path, entry("x")).unwrap();
        assert_eq!(texts(cursor.advance(&selection())), "x\n");
    }
}
