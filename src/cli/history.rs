//! `castform history ENV`: the deployments of an environment, with their URLs, results and backups.

use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::ops::history;
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "List an environment's deployments with their URLs, results and backups",
    after_help = "Examples:\n  castform history prod\n  castform history local --json"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, _) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let records = history::history(&cloud, &env).await?;
        if args.json {
            ui::say(&serde_json::to_string_pretty(&records)?);
            return Ok(0);
        }
        if records.is_empty() {
            ui::say(&format!("no deployments of {}/{} yet", env.app, env.name));
            return Ok(0);
        }
        for r in &records {
            let commit: String = r.commit.chars().take(10).collect();
            let to = r.restored_to.as_ref().map(|t| format!(" → back to {t}")).unwrap_or_default();
            ui::say(&format!(
                "{}  {:<8} {:<11} {}  commit {}{}  by {}{}",
                r.id,
                r.kind,
                r.result,
                r.finished,
                commit,
                if r.dirty { "+dirty" } else { "" },
                r.who,
                to
            ));
            for (k, v) in &r.urls {
                ui::say(&format!("    {k:<20} {v}"));
            }
            if let Some(b) = &r.backup {
                ui::say(&format!("    {:<20} {} ({} items)", "backup", b.location, b.items));
            }
            if r.kind.starts_with("media-") {
                for c in &r.checks {
                    ui::say(&format!("    {:<20} {}", "media", c.detail));
                }
            }
            if let Some(e) = &r.error {
                ui::say(&format!("    {:<20} {}", "error", e.lines().next().unwrap_or_default()));
            }
        }
        Ok(0)
    })
}
