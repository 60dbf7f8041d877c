//! `stack-compose`: reads Compose files the way Docker Compose does.
//!
//! Layout, in pipeline order:
//! - `source`: which files (lookup, `COMPOSE_FILE`, overrides), project name and directory;
//! - `yaml`: YAML text → spanned [`tree::Node`] (anchors, aliases, `<<` resolved);
//! - [`env`]: `.env` files and the [`env::Environment`] interpolation reads;
//! - `interpolate`: `${VAR}` and friends on the tree's values;
//! - `merge`, `extends`, `include`: several trees → one, by Compose's rules;
//! - `convert` → [`model`]: the tree becomes the typed, normalized project;
//! - `profiles`, `validate`: which services are active; semantic checks;
//! - [`graph`], `hash`: dependency order and per-service config hashes;
//! - [`flags`]: the short port and volume syntax of command-line flags;
//! - [`error`]: [`error::LoadError`] with file:line:column, key path and hint.

mod convert;
pub mod env;
pub mod error;
mod extends;
pub mod flags;
pub mod graph;
pub mod hash;
mod include;
mod interpolate;
mod load;
mod merge;
pub mod model;
mod profiles;
mod source;
pub mod tree;
mod validate;
mod yaml;

pub use load::{load, LoadOptions, Loaded};
