//! `stack-engine`: the container engine behind the `stack daemon`.

pub mod runtime;
