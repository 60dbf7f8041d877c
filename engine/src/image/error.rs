//! The image store's error type: every variant names the object (entry,
//! path, reference) and, where the user can act, says what to do.

use std::io;
use std::path::PathBuf;

use super::changes::ChangeError;
use super::layer::entry::EntryError;
use super::reference::ReferenceError;

/// An error from the image store.
#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    /// A filesystem operation on the store or a source failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done (`create`, `read`, `rename`, ...).
        op: &'static str,
        /// The file or directory it was done to.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A layer entry was refused because unpacking it would be unsafe or it
    /// cannot be represented; nothing of the layer is kept.
    #[error("layer entry {entry:?} refused: {reason} (nothing of the image was kept)")]
    UnsafeEntry {
        /// The entry's path as written in the tar.
        entry: String,
        /// Why it was refused.
        #[source]
        reason: EntryError,
    },
    /// Creating a layer entry failed.
    #[error("layer entry {entry:?}: {op}: {source}")]
    Entry {
        /// The entry's path as written in the tar.
        entry: String,
        /// The failed operation.
        op: &'static str,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The layer or archive stream itself is unreadable (bad tar, gzip, zstd).
    #[error("{what}: unreadable archive: {source}")]
    Archive {
        /// Which stream (a layer digest or a file name).
        what: String,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// A source archive or layout is malformed; the message says what.
    #[error("{what}: {message}")]
    Invalid {
        /// The file or document in question.
        what: String,
        /// What is wrong with it.
        message: String,
    },
    /// Content does not match the digest it is addressed by.
    #[error("{what}: digest mismatch: expected {expected}, got {actual}")]
    DigestMismatch {
        /// The blob or layer in question.
        what: String,
        /// The digest it was announced with.
        expected: String,
        /// The digest of the bytes read.
        actual: String,
    },
    /// An image reference does not parse.
    #[error("invalid reference {reference:?}: {reason}")]
    InvalidReference {
        /// The reference as given.
        reference: String,
        /// Why it does not parse.
        #[source]
        reason: ReferenceError,
    },
    /// A `--change` instruction does not parse.
    #[error("invalid change {change:?}: {reason}")]
    InvalidChange {
        /// The instruction as given.
        change: String,
        /// Why it does not parse.
        #[source]
        reason: ChangeError,
    },
    /// No image matches the reference.
    #[error("no such image: {0} (see `stack image ls`)")]
    NotFound(String),
    /// An id prefix matches several images.
    #[error("{reference:?} matches {count} images; give more of the id")]
    Ambiguous {
        /// The prefix as given.
        reference: String,
        /// How many images it matches.
        count: usize,
    },
    /// The image is used by a container and removal was not forced.
    #[error(
        "image {image} is in use by a container; remove the container first or force the removal"
    )]
    InUse {
        /// The image id.
        image: String,
    },
    /// Removing by id an image with several tags needs force.
    #[error("image {image} is referenced by several tags ({tags}); remove the tags one by one or force the removal")]
    MultipleTags {
        /// The image id.
        image: String,
        /// Its tags, comma-separated.
        tags: String,
    },
}

impl ImageError {
    /// Wraps an I/O error with the operation and the path it concerned.
    pub(crate) fn io(
        op: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(io::Error) -> ImageError {
        let path = path.into();
        move |source| ImageError::Io { op, path, source }
    }

    pub(crate) fn invalid(what: impl Into<String>, message: impl Into<String>) -> ImageError {
        ImageError::Invalid {
            what: what.into(),
            message: message.into(),
        }
    }
}
