use std::process::ExitCode;

fn main() -> ExitCode {
    stack::cli::main()
}
