//! The `sgguard` binary: the Lambda when `AWS_LAMBDA_RUNTIME_API` is set, the command line
//! otherwise (the library does the work).

use std::process::ExitCode;

fn main() -> ExitCode {
    if std::env::var_os("AWS_LAMBDA_RUNTIME_API").is_some() {
        let runtime = match tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
        {
            Ok(runtime) => runtime,
            Err(error) => {
                eprintln!("sgguard: error: cannot start the async runtime: {error}");
                return ExitCode::from(2);
            }
        };
        return match runtime.block_on(sgguard::lambda::run()) {
            Ok(()) => ExitCode::SUCCESS,
            Err(error) => {
                eprintln!("sgguard: error: {error}");
                ExitCode::from(2)
            }
        };
    }
    sgguard::cli::main()
}
