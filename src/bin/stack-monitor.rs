//! `stack-monitor`: the per-container monitor (and exec helper) that the
//! stack daemon starts, a small executable of its own so that each start
//! maps and relocates only what a monitor runs; see
//! `stack_engine::monitor`.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(stack_engine::monitor::main(std::env::args_os().skip(1)))
}
