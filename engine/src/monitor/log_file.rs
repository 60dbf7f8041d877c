//! The json-file log on disk, rotated as Docker's `max-size`/`max-file`
//! ask: once the file holds `max-size` bytes, the next entry goes to a new
//! file and the full one becomes `<log>.1` (`.1` becomes `.2`, and so on;
//! the oldest beyond `max-file` files is dropped). Rotating renames rather
//! than truncates, so a reader holding the old file reads it to its end
//! before it moves on to the new one.

use std::fs::{self, File};
use std::io::{self, Write};
use std::path::PathBuf;

use crate::container::log_options::{rotated_path, LogDriver, LogOptions};

/// How much output a container with the `none` driver keeps: nothing
/// `logs` reads, only what attached clients (`docker run` without `-d`)
/// follow as it comes.
const NONE_DRIVER_BUFFER: u64 = 1024 * 1024;

/// The log file the monitor appends entries to.
pub(crate) struct LogFile {
    path: PathBuf,
    file: File,
    size: u64,
    options: LogOptions,
}

impl LogFile {
    /// Appends to the log at `path` (creating it), rotating as `options` say.
    pub(crate) fn open(path: PathBuf, options: LogOptions) -> io::Result<LogFile> {
        let options = match options.driver {
            LogDriver::JsonFile => options,
            LogDriver::None => LogOptions {
                max_size: Some(NONE_DRIVER_BUFFER),
                max_file: 1,
                ..options
            },
        };
        let file = append(&path)?;
        let size = file.metadata()?.len();
        Ok(LogFile {
            path,
            file,
            size,
            options,
        })
    }

    /// Moves the full file aside (dropping the oldest) and starts a new one.
    fn rotate(&mut self) -> io::Result<()> {
        let keep = self.options.max_file;
        if keep <= 1 {
            fs::remove_file(&self.path)?;
        } else {
            for n in (1..keep - 1).rev() {
                let from = rotated_path(&self.path, n);
                // Fewer files than kept so far: nothing to move yet.
                if let Err(e) = fs::rename(&from, rotated_path(&self.path, n + 1)) {
                    if e.kind() != io::ErrorKind::NotFound {
                        return Err(e);
                    }
                }
            }
            fs::rename(&self.path, rotated_path(&self.path, 1))?;
        }
        self.file = append(&self.path)?;
        self.size = 0;
        Ok(())
    }
}

fn append(path: &std::path::Path) -> io::Result<File> {
    File::options().create(true).append(true).open(path)
}

/// Each `write_all` is one entry: it goes whole into one file, rotated
/// before it when the current one is full.
impl Write for LogFile {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        self.write_all(bytes)?;
        Ok(bytes.len())
    }

    fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        if self.size > 0 && self.options.rotate_at(self.size) {
            self.rotate()?;
        }
        self.file.write_all(bytes)?;
        self.size += bytes.len() as u64;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::container::log_options::rotated_files;

    fn options(max_size: u64, max_file: u32) -> LogOptions {
        LogOptions {
            max_size: Some(max_size),
            max_file,
            ..LogOptions::default()
        }
    }

    fn write_lines(log: &mut LogFile, count: usize) {
        for n in 0..count {
            log.write_all(format!("line {n:03}\n").as_bytes()).unwrap();
        }
    }

    #[test]
    fn full_files_are_rotated_and_the_oldest_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let mut log = LogFile::open(path.clone(), options(20, 3)).unwrap();
        // 9 bytes a line: 3 lines fill a file past 20 bytes.
        write_lines(&mut log, 10);
        log.flush().unwrap();
        let read = |p: &PathBuf| fs::read_to_string(p).unwrap();
        assert_eq!(read(&path), "line 009\n");
        assert_eq!(
            read(&rotated_path(&path, 1)),
            "line 006\nline 007\nline 008\n"
        );
        assert_eq!(
            read(&rotated_path(&path, 2)),
            "line 003\nline 004\nline 005\n"
        );
        assert!(!rotated_path(&path, 3).exists());
        assert_eq!(
            rotated_files(&path),
            [rotated_path(&path, 2), rotated_path(&path, 1)]
        );
    }

    #[test]
    fn one_file_starts_over_and_a_reopened_log_counts_what_it_holds() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        write_lines(&mut LogFile::open(path.clone(), options(20, 1)).unwrap(), 2);
        let mut log = LogFile::open(path.clone(), options(20, 1)).unwrap();
        write_lines(&mut log, 2);
        assert_eq!(fs::read_to_string(&path).unwrap(), "line 001\n");
        assert!(rotated_files(&path).is_empty());
    }

    #[test]
    fn the_none_driver_keeps_one_small_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c-json.log");
        let none = LogOptions {
            driver: LogDriver::None,
            ..LogOptions::default()
        };
        let mut log = LogFile::open(path.clone(), none).unwrap();
        let line = vec![b'x'; 64 * 1024];
        for _ in 0..40 {
            log.write_all(&line).unwrap();
        }
        assert!(fs::metadata(&path).unwrap().len() <= NONE_DRIVER_BUFFER + line.len() as u64);
        assert!(rotated_files(&path).is_empty());
    }
}
