//! `castform graph ENV`, `castform cost ENV`, `castform status ENV`, `castform diff ENV`,
//! `castform destroy ENV`: what a team looks at before and after a deploy.

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
    after_help = "Examples:\n  castform graph prod                       Mermaid, for a README\n  castform graph prod --format dot | dot -Tsvg > lunora.svg"
)]
pub struct GraphArgs {
    pub env: String,
    #[arg(long)]
    pub app: Option<String>,
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: GraphFormat,
}

pub fn graph(root: &Path, args: GraphArgs) -> anyhow::Result<u8> {
    let (_, app) = super::load_app(root, args.app.as_deref(), &args.env)?;
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

#[derive(clap::Args)]
#[command(
    about = "Estimate the monthly cost per stack and resource from the price table in data/prices.json",
    after_help = "Examples:\n  castform cost prod --hours 100     100 hours of per-destination channels\n  castform cost dev --json"
)]
pub struct CostArgs {
    pub env: String,
    #[arg(long)]
    pub app: Option<String>,
    /// Hours the per-destination MediaLive channels run in a month.
    #[arg(long)]
    pub hours: Option<f64>,
    #[arg(long)]
    pub json: bool,
}

pub fn cost(root: &Path, args: CostArgs) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, args.app.as_deref(), &args.env)?;
    if args.hours.is_some_and(|h| !(0.0..=744.0).contains(&h)) {
        anyhow::bail!("--hours must be between 0 and 744 (a month)\nhelp: e.g. castform cost {} --hours 100", env.name);
    }
    let e = crate::ops::cost::estimate(&app, args.hours);
    if args.json {
        ui::say(&serde_json::to_string_pretty(&e)?);
        return Ok(0);
    }
    ui::say(&format!(
        "{}/{} in {}, {} per month (prices as of {}, data/prices.json)",
        app.app, env.name, e.region, e.currency, e.prices_checked
    ));
    ui::say(&format!("{:<8} {:<28} {:<44} {:>14} {:>10}", "stack", "resource", "what", "quantity", "monthly"));
    for l in &e.lines {
        ui::say(&format!(
            "{:<8} {:<28} {:<44} {:>14} {:>10.2}",
            l.stack,
            l.resource,
            l.what,
            format_quantity(l.quantity),
            l.monthly
        ));
    }
    let mut by_stack: Vec<(String, f64)> = vec![];
    for l in &e.lines {
        match by_stack.iter_mut().find(|(s, _)| *s == l.stack) {
            Some((_, v)) => *v += l.monthly,
            None => by_stack.push((l.stack.clone(), l.monthly)),
        }
    }
    for (s, v) in by_stack {
        ui::say(&format!("{:<8} {:>99.2}", s, v));
    }
    ui::say(&format!("{:<8} {:>99.2}", "total", e.total));
    Ok(0)
}

fn format_quantity(q: f64) -> String {
    if q >= 10_000.0 {
        format!("{:.0}", q)
    } else if q.fract() == 0.0 {
        format!("{q:.0}")
    } else {
        format!("{q:.1}")
    }
}
