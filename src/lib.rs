//! `stack`: Compose-style multi-container environments on an embedded engine.
//!
//! Layout:
//! - [`cli`]: the command line (clap); one module per command, each a thin
//!   adapter from arguments to the loader, the orchestrator or the engine.

pub mod cli;
mod daemon_launcher;
mod engine_client;
pub mod orchestrator;
