//! The content-addressed image store: see [`ImageStore`].
//!
//! - `digest`, `reference`, `changes`, `records`: pure values and decisions
//!   (sha256 digests, image references, `--change` instructions, the tag
//!   index and lookups).
//! - `layer`: safe unpacking of layer tars into overlayfs lower directories.
//! - `blobs`, `commit`, `store`: the on-disk store and its transactions.
//! - `import`, `load`: the sources (rootfs tar or directory, `docker save`
//!   archives, OCI image layouts).
//!
//! Safety model of unpacking: a layer tar is hostile input. Entry names
//! are split into normal components (`..` and absolute paths refused),
//! and every parent is then opened from the layer directory's fd one
//! component at a time with `O_NOFOLLOW | O_DIRECTORY`, so a symlink in a
//! parent — whatever it points at — refuses the entry instead of being
//! followed. Nodes are created with `*at` calls relative to that parent
//! fd, hard links only to entries already in the layer. Blobs are checked
//! against their digests, layers against their diff ids, and a failed
//! import or load is rolled back before it returns.

mod blobs;
mod changes;
mod commit;
mod digest;
mod error;
mod import;
mod layer;
mod load;
mod records;
mod reference;
mod store;

pub use changes::ChangeError;
pub use error::ImageError;
pub use import::ImportSource;
pub use layer::entry::EntryError;
pub use load::LoadedImage;
pub use reference::ReferenceError;
pub use store::{ImageDetails, ImageId, ImageStore, ImageSummary, LayerInfo, PruneReport, Removed};

#[cfg(test)]
mod tests;
