//! The `castform` binary: runs the command line and maps errors to exit codes.

use std::process::ExitCode;

fn main() -> ExitCode {
    match castform::cli::run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let debug = std::env::args().any(|a| a == "--debug");
            let message = if debug { format!("{e:?}") } else { castform::cli::render_error(&e) };
            castform::ui::error(&message);
            ExitCode::from(castform::cli::exit_code(&e))
        }
    }
}
