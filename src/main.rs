//! The `sgguard` binary: the command line (the library does the work).

fn main() -> std::process::ExitCode {
    sgguard::cli::main()
}
