//! `castform destroy ENV`: an environment taken down completely.

use crate::config::Registry;
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Delete an environment: empty its buckets, delete its stacks in reverse order (refused where data is retained)",
    after_help = "Examples:\n  castform destroy dev            asks for the environment's name\n  castform destroy local --yes"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    let progress = crate::ui::progress::Progress::new(crate::ui::progress::Mode::detect(args.json));
    super::block_on(async {
        let cloud = crate::aws::AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let record = crate::ops::destroy::destroy(&cloud, &env, &app, args.yes, &progress).await?;
        ui::say(&format!(
            "destroyed {}/{}: {}",
            app.app,
            env.name,
            if record.restored.is_empty() { "nothing was deployed".to_string() } else { record.restored.join(", ") }
        ));
        if !app.adopted.is_empty() {
            let kept: Vec<String> =
                app.adopted.iter().map(|a| format!("{} ({})", a.identifier, a.resource_type)).collect();
            ui::say(&format!("left in place (adopted, never deleted by castform): {}", kept.join(", ")));
        }
        Ok(0)
    })
}
