//! `castform synth [ENV] [--app APP] [--all] [--out DIR] [--format json|yaml]`

use crate::config::Registry;
use crate::ops::synth::{Format, SynthOptions, run as synth};
use crate::ui;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
#[command(
    about = "Write the CloudFormation templates and manifest of an environment",
    after_help = "Examples:\n  castform synth prod\n  castform synth --app APP --all --out build/\n  castform synth staging --format yaml"
)]
pub struct Args {
    /// Environment name (a file environments/<app>/<ENV>.yaml).
    pub env: Option<String>,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    /// Every environment (of --app, or of every app).
    #[arg(long)]
    pub all: bool,
    /// Output directory; templates go to <OUT>/<app>/<env>/.
    #[arg(long, default_value = "out")]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "json")]
    pub format: FormatArg,
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum FormatArg {
    Json,
    Yaml,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let selection = super::selection(apps, args.app, args.env, args.all)?;
    let format = match args.format {
        FormatArg::Json => Format::Json,
        FormatArg::Yaml => Format::Yaml,
    };
    let out = if args.out.is_absolute() { args.out } else { root.join(args.out) };
    let written = synth(&SynthOptions { root: root.to_path_buf(), selection, out, format })?;
    for (s, dir) in written {
        let resources: usize = s.app.stacks.iter().map(|st| st.template.resources.len()).sum();
        ui::say(&format!(
            "{}/{}: {} stacks, {} resources -> {}",
            s.app.app,
            s.app.environment,
            s.app.stacks.len(),
            resources,
            dir.display()
        ));
    }
    Ok(0)
}
