//! The content-addressed image store: see [`ImageStore`].
//!
//! - `digest`, `reference`, `changes`, `records`: pure values and decisions
//!   (sha256 digests, image references, `--change` instructions, the tag
//!   index and lookups).
//! - `layer`: safe unpacking of layer tars into overlayfs lower directories.
//! - `blobs`, `commit`, `store`: the on-disk store and its transactions.
//! - `import`, `load`: the sources (rootfs tar or directory, `docker save`
//!   archives, OCI image layouts).

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
