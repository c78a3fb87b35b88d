//! A team's own castform binary: its apps, registered with castform's command line. Its project
//! (environments/, assets/, templates/) is this folder.
//!
//! ```sh
//! cargo run --example catalog -- synth --all
//! cargo run --example catalog -- check --all
//! cargo run --example catalog -- deploy local     # against the local emulator, see docs/emulator.md
//! ```

mod app;

fn main() -> std::process::ExitCode {
    let project = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/catalog");
    castform::run_at(&project, &[&app::Catalog])
}
