//! The `castform` binary: runs the command line and maps errors to exit codes.

use std::process::ExitCode;

fn main() -> ExitCode {
    match castform::cli::run() {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            let debug = std::env::args().any(|a| a == "--debug");
            let message = if debug { format!("{e:?}") } else { castform::cli::render_error(&e) };
            castform::ui::error(&message);
            let code = castform::cli::exit_code(&e);
            // `--json` ends with one JSON document on failure too, for the tool reading stdout
            if std::env::args().any(|a| a == "--json") {
                castform::ui::out_line(
                    &serde_json::json!({"event": "error", "error": castform::cli::render_error(&e), "exit_code": code})
                        .to_string(),
                );
            }
            ExitCode::from(code)
        }
    }
}
