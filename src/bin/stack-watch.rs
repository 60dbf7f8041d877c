//! `stack-watch`: what each container's monitor becomes once the container
//! runs (it `execve`s this, keeping its pid): the small, long-lived part
//! that copies the logs, hands out stdin and records the exit; see
//! `stack_engine::monitor::watch`.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(stack_engine::monitor::watch::main(
        std::env::args_os().skip(1),
    ))
}
