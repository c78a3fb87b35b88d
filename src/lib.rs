//! castform: typed Rust definitions of a media-streaming platform's AWS stacks, rendered to
//! CloudFormation per environment and checked against the lessons of its incidents.
//!
//! A team's binary registers its apps and hands over the command line:
//! `castform::run(&[&MyApp])`, each app a type implementing [`Definition`] (see `examples/`).

pub mod apps;
pub mod aws;
pub mod cfn;
pub mod cli;
pub mod config;
pub mod constructs;
pub mod ops;
pub mod render;
pub mod rules;
pub mod state;
pub mod template;
pub mod ui;

pub use config::{Definition, Environment, Invalid};

/// The command line over the registered apps (the first is the default of `--app`): parses the
/// arguments, runs the command, prints an error the way castform does, and returns the exit code
/// (0 success, 1 error, 2 bad input or checks failed with nothing touched, 3 deploy failed and
/// restored).
pub fn run(apps: &'static [&'static dyn config::AnyApp]) -> std::process::ExitCode {
    run_at(std::path::Path::new("."), apps)
}

/// [`run`] with the project root (its `environments/`, `assets/`, `templates/`) at `root`
/// unless `--root` says otherwise: for a binary whose project is not the current directory.
pub fn run_at(root: &std::path::Path, apps: &'static [&'static dyn config::AnyApp]) -> std::process::ExitCode {
    std::process::ExitCode::from(cli::run(root, config::Registry::new(apps)))
}
