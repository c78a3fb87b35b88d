//! `castform gc ENV`: the backups, snapshots and assets of deployments past the retention, removed.

use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Remove the backups, snapshots and assets of deployments older than the environment's retention",
    after_help = "Examples:\n  castform gc prod --dry-run     what would go\n  castform gc prod"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    #[arg(long)]
    pub dry_run: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, _) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let r = crate::ops::gc::run(&cloud, &env, args.dry_run).await?;
        let verb = if args.dry_run { "would remove" } else { "removed" };
        ui::say(&format!(
            "kept the last {} deployments (retention {}); {verb} {} older ones ({} objects) and {} unused assets",
            r.kept.len(),
            env.retention,
            r.removed_deployments.len(),
            r.removed_objects,
            r.removed_assets.len()
        ));
        for a in &r.removed_assets {
            ui::say(&format!("  {verb} {a}"));
        }
        if let Some(why) = &r.assets_kept_because {
            ui::say(&format!("  kept every asset: {why}; run gc again once it has finished"));
        }
        Ok(0)
    })
}
