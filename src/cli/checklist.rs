//! `castform checklist ENV [--app APP] [--json]`

use crate::config::Registry;
use crate::ops::checklist::{State, run as checklist};
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Seed 000's prevention checklist for an environment, each item verified, failed or manual",
    after_help = "Examples:\n  castform checklist prod\n  castform checklist dev --json"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let app = super::registered(apps, &super::app_or_default(apps, args.target.app.as_deref()))?;
    let items = checklist(root, app, &args.target.env, crate::rules::today())?;
    if args.json {
        ui::say(&serde_json::to_string_pretty(&items)?);
    } else {
        let on = ui::colour_stdout();
        let mut phase = "";
        for i in &items {
            if i.phase != phase {
                phase = i.phase;
                let title = match phase {
                    "before" => "Before starting deployment",
                    "during" => "During deployment",
                    _ => "After deployment",
                };
                ui::say(&ui::bold(on, title));
            }
            let mark = match i.state {
                State::Verified => ui::green(on, "[verified]"),
                State::Failed => ui::red(on, "[failed]  "),
                State::Manual => ui::yellow(on, "[manual]  "),
            };
            ui::say(&format!("  {mark} {}", i.text));
            ui::say(&format!("             {}", ui::dim(on, &i.by)));
        }
        let count = |s: State| items.iter().filter(|i| i.state == s).count();
        ui::say(&format!(
            "{} items: {} verified, {} failed, {} manual",
            items.len(),
            count(State::Verified),
            count(State::Failed),
            count(State::Manual)
        ));
    }
    Ok(if items.iter().any(|i| i.state == State::Failed) { 2 } else { 0 })
}
