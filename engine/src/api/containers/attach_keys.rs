//! The key sequence that detaches an attached client (`detachKeys` of
//! attach, `DetachKeys` of exec create), in Docker's format: keys separated
//! by commas, each one character or `ctrl-<c>` (`c` a letter or one of
//! `@ [ \ ] ^ _`). The default is Docker's, `ctrl-p,ctrl-q`.
//!
//! As Docker does, the daemon watches what the client sends: the keys of
//! a sequence being typed are held back, given to the container after all
//! when the next key does not continue it, and the whole sequence ends the
//! attach (the container or exec process goes on running).

use super::super::error::ApiError;

/// Docker's default: ctrl-p ctrl-q.
const DEFAULT: [u8; 2] = [0x10, 0x11];

/// A parsed detach sequence.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct DetachKeys(Vec<u8>);

impl Default for DetachKeys {
    fn default() -> DetachKeys {
        DetachKeys(DEFAULT.to_vec())
    }
}

impl DetachKeys {
    /// The sequence `text` names; Docker's default when empty or absent.
    pub(super) fn parse(text: Option<&str>) -> Result<DetachKeys, ApiError> {
        match text.filter(|t| !t.is_empty()) {
            None => Ok(DetachKeys::default()),
            Some(text) => to_bytes(text).map(DetachKeys).map_err(|key| {
                ApiError::bad_request(format!(
                    "Invalid detach keys ({text}) provided: {key:?} is not a key; \
                     use single characters or ctrl-<letter, @, [, \\, ], ^ or _>, \
                     separated by commas (e.g. ctrl-p,ctrl-q)"
                ))
            }),
        }
    }

    /// No sequence: nothing the client sends detaches it (the input of a
    /// container without a TTY, which Docker copies as it comes, so that
    /// piped binary data may hold the keys).
    pub(super) fn none() -> DetachKeys {
        DetachKeys(Vec::new())
    }

    /// A watcher of one client's input.
    pub(super) fn watcher(&self) -> Watcher {
        Watcher {
            keys: self.0.clone(),
            held: Vec::new(),
        }
    }
}

/// The bytes of `text`'s keys, or the first key that is not one.
fn to_bytes(text: &str) -> Result<Vec<u8>, String> {
    text.split(',')
        .map(|key| {
            let control = key.strip_prefix("ctrl-").filter(|rest| !rest.is_empty());
            match (control, key.as_bytes()) {
                (Some(rest), _) => match rest.as_bytes() {
                    [c @ b'a'..=b'z'] => Ok(c - b'a' + 1),
                    [c @ (b'@' | b'[' | b'\\' | b']' | b'^' | b'_')] => Ok(c - b'@'),
                    _ => Err(key.to_owned()),
                },
                (None, [c]) => Ok(*c),
                (None, _) => Err(key.to_owned()),
            }
        })
        .collect()
}

/// What a chunk of the client's input comes to.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Filtered {
    /// What goes to the container now.
    pub(super) forward: Vec<u8>,
    /// The whole sequence was typed: the client detaches (what followed it
    /// in the chunk is dropped).
    pub(super) detached: bool,
}

/// Follows one client's input for the sequence.
#[derive(Debug)]
pub(super) struct Watcher {
    keys: Vec<u8>,
    /// The start of the sequence seen last, not given to the container yet.
    held: Vec<u8>,
}

impl Watcher {
    /// Takes the next chunk the client sent.
    pub(super) fn feed(&mut self, chunk: &[u8]) -> Filtered {
        if self.keys.is_empty() {
            return Filtered {
                forward: chunk.to_vec(),
                detached: false,
            };
        }
        let mut filtered = Filtered::default();
        for &byte in chunk {
            self.held.push(byte);
            // A key that breaks the sequence releases the held keys up to
            // the longest tail that may still start it.
            while !self.keys.starts_with(&self.held) {
                filtered.forward.push(self.held.remove(0));
            }
            if self.held == self.keys {
                self.held.clear();
                filtered.detached = true;
                return filtered;
            }
        }
        filtered
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<u8> {
        DetachKeys::parse(Some(text)).unwrap().0
    }

    #[test]
    fn dockers_format_parses() {
        assert_eq!(DetachKeys::parse(None).unwrap().0, [0x10, 0x11]);
        assert_eq!(DetachKeys::parse(Some("")).unwrap().0, [0x10, 0x11]);
        assert_eq!(keys("ctrl-p,ctrl-q"), [0x10, 0x11]);
        assert_eq!(keys("ctrl-a,x"), [0x01, b'x']);
        assert_eq!(
            keys("ctrl-x,ctrl-@,ctrl-[,ctrl-\\,ctrl-],ctrl-^,ctrl-_"),
            [24, 0, 27, 28, 29, 30, 31]
        );
        assert_eq!(keys("e,x,i,t"), *b"exit");
    }

    #[test]
    fn invalid_keys_are_named() {
        for (text, bad) in [
            ("ctrl-1", "ctrl-1"),
            ("ctrl-p,ab", "ab"),
            ("ctrl-", "ctrl-"),
            ("CTRL-P", "CTRL-P"),
            ("a,", ""),
        ] {
            let error = DetachKeys::parse(Some(text)).unwrap_err();
            assert_eq!(error.status, hyper::StatusCode::BAD_REQUEST);
            let message = error.message;
            assert!(message.contains(&format!("({text})")), "{message}");
            assert!(message.contains(&format!("{bad:?}")), "{message}");
        }
    }

    #[test]
    fn the_sequence_detaches_and_is_not_forwarded() {
        let mut watcher = DetachKeys::parse(None).unwrap().watcher();
        assert_eq!(
            watcher.feed(b"ls\r"),
            Filtered {
                forward: b"ls\r".to_vec(),
                detached: false
            }
        );
        // Typed one key at a time, as a terminal sends them.
        assert_eq!(watcher.feed(&[0x10]), Filtered::default());
        let last = watcher.feed(&[0x11, b'x']);
        assert!(last.detached);
        assert!(last.forward.is_empty());
    }

    #[test]
    fn a_broken_sequence_gives_its_keys_back() {
        let mut watcher = DetachKeys::parse(None).unwrap().watcher();
        assert_eq!(watcher.feed(&[0x10]).forward, b"");
        assert_eq!(watcher.feed(b"a").forward, [0x10, b'a']);
        // ctrl-p twice: the first one goes, the second may still start it.
        let filtered = watcher.feed(&[0x10, 0x10, 0x11]);
        assert_eq!(filtered.forward, [0x10]);
        assert!(filtered.detached);
    }

    #[test]
    fn without_a_sequence_everything_is_forwarded() {
        let mut watcher = DetachKeys::none().watcher();
        let filtered = watcher.feed(&[b'a', 0x10, 0x11, b'b']);
        assert_eq!(filtered.forward, [b'a', 0x10, 0x11, b'b']);
        assert!(!filtered.detached);
    }

    #[test]
    fn repeated_keys_in_a_sequence_are_matched() {
        let mut watcher = DetachKeys::parse(Some("a,a,b")).unwrap().watcher();
        let filtered = watcher.feed(b"xaaab");
        assert_eq!(filtered.forward, b"xa");
        assert!(filtered.detached);
    }
}
