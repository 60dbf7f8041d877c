//! A container's stdout and stderr in Docker's json-file format: one JSON
//! object per line, `{"log":"hi\n","stream":"stdout","time":"...Z"}`, split
//! at newlines and, like Docker, at 16 KiB for very long lines.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::SystemTime;

use serde::{Deserialize, Serialize};

use super::log_file::LogFile;
use crate::container::log_options::LogOptions;
use crate::state::time::rfc3339_nanos;

/// Docker's longest log entry; longer lines are split into several entries.
const MAX_ENTRY: usize = 16 * 1024;

/// Which stream an entry came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    fn name(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

#[derive(Serialize)]
struct Entry<'a> {
    log: &'a str,
    stream: &'static str,
    time: String,
}

/// Appends entries to a log file, keeping each stream's unfinished line.
pub(crate) struct JsonLog<W: Write> {
    out: W,
    partial: [Vec<u8>; 2],
}

impl JsonLog<LogFile> {
    /// Appends to the log file at `path`, creating it, rotating it as
    /// `options` say.
    pub(crate) fn open(path: PathBuf, options: LogOptions) -> io::Result<JsonLog<LogFile>> {
        Ok(JsonLog::new(LogFile::open(path, options)?))
    }
}

impl<W: Write> JsonLog<W> {
    pub(crate) fn new(out: W) -> JsonLog<W> {
        JsonLog {
            out,
            partial: [Vec::new(), Vec::new()],
        }
    }

    /// Takes output read from `stream`; complete lines are written at once.
    pub(crate) fn push(&mut self, stream: Stream, bytes: &[u8]) -> io::Result<()> {
        let index = stream as usize;
        self.partial[index].extend_from_slice(bytes);
        loop {
            let buffer = &self.partial[index];
            let end = match buffer.iter().position(|b| *b == b'\n') {
                Some(newline) if newline < MAX_ENTRY => newline + 1,
                _ if buffer.len() >= MAX_ENTRY => MAX_ENTRY,
                _ => break,
            };
            let line: Vec<u8> = self.partial[index].drain(..end).collect();
            self.write_entry(stream, &line)?;
        }
        Ok(())
    }

    /// Writes what is left of each stream (its last line had no newline).
    pub(crate) fn finish(&mut self) -> io::Result<()> {
        for stream in [Stream::Stdout, Stream::Stderr] {
            let rest = std::mem::take(&mut self.partial[stream as usize]);
            if !rest.is_empty() {
                self.write_entry(stream, &rest)?;
            }
        }
        self.out.flush()
    }

    fn write_entry(&mut self, stream: Stream, bytes: &[u8]) -> io::Result<()> {
        let entry = Entry {
            log: &String::from_utf8_lossy(bytes),
            stream: stream.name(),
            time: rfc3339_nanos(SystemTime::now()),
        };
        let mut line = serde_json::to_vec(&entry).map_err(io::Error::other)?;
        line.push(b'\n');
        self.out.write_all(&line)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entries(log: &JsonLog<Vec<u8>>) -> Vec<(String, String)> {
        String::from_utf8_lossy(&log.out)
            .lines()
            .map(|line| {
                let v: serde_json::Value = serde_json::from_str(line).unwrap();
                assert!(v["time"].as_str().unwrap().ends_with('Z'));
                (
                    v["stream"].as_str().unwrap().to_owned(),
                    v["log"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    #[test]
    fn lines_are_split_per_stream_and_the_rest_is_flushed_at_the_end() {
        let mut log = JsonLog::new(Vec::new());
        log.push(Stream::Stdout, b"hel").unwrap();
        log.push(Stream::Stderr, b"oops\n").unwrap();
        log.push(Stream::Stdout, b"lo\nwor").unwrap();
        log.finish().unwrap();
        assert_eq!(
            entries(&log),
            [
                ("stderr".into(), "oops\n".into()),
                ("stdout".into(), "hello\n".into()),
                ("stdout".into(), "wor".into()),
            ]
        );
    }

    #[test]
    fn long_lines_are_cut_at_16_kib() {
        let mut log = JsonLog::new(Vec::new());
        log.push(Stream::Stdout, &vec![b'x'; MAX_ENTRY + 10])
            .unwrap();
        log.finish().unwrap();
        let lengths: Vec<usize> = entries(&log).iter().map(|(_, l)| l.len()).collect();
        assert_eq!(lengths, [MAX_ENTRY, 10]);
    }
}
