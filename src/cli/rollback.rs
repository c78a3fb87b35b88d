//! `castform rollback ENV [--to ID] [--yes] [--json] [--restart-live] [--allow-replace]`

use super::deploy::print_record;
use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::ops::deploy::rollback::rollback;
use crate::ops::deploy::until_interrupted;
use crate::ops::deploy::{DeployOptions, Journal};
use crate::state::clock::new_id;
use crate::ui::progress::{Mode, Progress};
use std::path::Path;
use std::sync::Mutex;

#[derive(clap::Args)]
#[command(
    about = "Restore a recorded deployment: its templates, parameters, code and files, then verify and record",
    after_help = "Examples:\n  castform rollback local                        back to the deployment before the current one\n  castform rollback prod --to 20261122T061530Z-3f2a --yes\n\nExit codes: 0 rolled back, 1 error, 2 refused before any write, 3 failed and restored."
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    /// The deployment id to go back to (see `castform history`).
    #[arg(long)]
    pub to: Option<String>,
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
    /// Stop a channel on air for a change MediaLive makes only while idle, then start it again.
    #[arg(long)]
    pub restart_live: bool,
    /// Allow replacing an ingest or playback endpoint in an environment that retains data.
    #[arg(long)]
    pub allow_replace: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    // a rollback restores recorded templates, so the working tree does not matter
    let opts = DeployOptions {
        yes: args.yes,
        allow_dirty: true,
        restart_live: args.restart_live,
        allow_replace: args.allow_replace,
        ..DeployOptions::default()
    };
    let progress = Progress::new(Mode::detect(args.json));
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        let work = rollback(&cloud, &env, &app, args.to.as_deref(), &opts, &progress, &journal);
        let result = until_interrupted(&cloud, &env, &app, &progress, &journal, work).await;
        match result {
            Ok(record) => {
                print_record(&progress, &env, &record)?;
                Ok(0)
            }
            Err(e) => Err(anyhow::Error::new(e)),
        }
    })
}
