//! `castform outputs ENV`: the deployed stacks' outputs.

use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::ops::history;
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Print the deployed stacks' outputs",
    after_help = "Examples:\n  castform outputs local\n  castform outputs prod --json"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let outs = history::outputs(&cloud, &app).await?;
        if args.json {
            ui::say(&serde_json::to_string_pretty(&outs)?);
        } else if outs.is_empty() {
            ui::say(&format!("no stack of {}/{} is deployed\nhelp: castform deploy {}", env.app, env.name, env.name));
        } else {
            for (stack, o) in &outs {
                ui::say(&ui::bold(ui::colour_stdout(), stack));
                for (k, v) in o {
                    ui::say(&format!("  {k:<28} {v}"));
                }
            }
        }
        Ok(0)
    })
}
