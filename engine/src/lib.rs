//! `stack-engine`: the container engine behind the `stack daemon`.
//!
//! Layout:
//! - [`image`]: the content-addressed image store (blobs, unpacked layers,
//!   image configs, tags) with `import` and `load`.
//! - `state`: atomic JSON files for everything the engine persists.

pub mod image;
mod state;
