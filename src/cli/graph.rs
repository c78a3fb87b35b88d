//! `castform graph ENV`: the architecture as a diagram.

use crate::config::Registry;
use crate::ops::graph;
use crate::ui;
use std::path::Path;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(clap::Args)]
#[command(
    about = "Draw the architecture from the synthesized stacks (Mermaid or Graphviz DOT)",
    after_help = "Examples:\n  castform graph prod                       Mermaid, for a README\n  castform graph prod --format dot | dot -Tsvg > stacks.svg"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: GraphFormat,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (_, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    let g = graph::build(&app);
    ui::say(
        match args.format {
            GraphFormat::Mermaid => graph::mermaid(&app, &g),
            GraphFormat::Dot => graph::dot(&app, &g),
        }
        .trim_end(),
    );
    Ok(0)
}
