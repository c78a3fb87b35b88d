//! `castform deploy ENV [--app APP] [--yes] [--json] [--allow-dirty] [--allow-replace]`

use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::ops::deploy::{DeployOptions, Journal, deploy, until_interrupted};
use crate::state::clock::new_id;
use crate::ui;
use crate::ui::progress::{Mode, Progress};
use std::path::Path;
use std::sync::Mutex;

#[derive(clap::Args)]
#[command(
    about = "Deploy an environment: preflight, lock, backup, assets, change sets, propagate, verify, record",
    after_help = "Examples:\n  castform deploy local\n  castform deploy prod --yes           non-interactive (prod asks for its name otherwise)\n  castform deploy dev --json           one JSON event per line, the record at the end\n\nExit codes: 0 deployed (or nothing to change), 1 error, 2 refused before any write,\n3 failed and restored to the backup."
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    /// Do not ask for the environment's name (environments marked `confirm`).
    #[arg(long)]
    pub yes: bool,
    /// Deploy from a working tree with uncommitted changes where the environment refuses them.
    #[arg(long)]
    pub allow_dirty: bool,
    /// Let a change set replace or delete stateful resources, or replace an ingest or playback
    /// endpoint, where data is retained.
    #[arg(long)]
    pub allow_replace: bool,
    /// A change MediaLive makes only while the channel is idle: stop the channel on air, deploy,
    /// start it again and check the stream (a minute or two without output). Without it such a
    /// deploy is refused before anything is written.
    #[arg(long)]
    pub restart_live: bool,
    /// Delete and recreate a stack left in ROLLBACK_COMPLETE by a failed create, even where
    /// the environment retains data.
    #[arg(long)]
    pub force: bool,
    /// JSON lines on stdout.
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    let opts = DeployOptions {
        yes: args.yes,
        allow_dirty: args.allow_dirty,
        allow_replace: args.allow_replace,
        restart_live: args.restart_live,
        force: args.force,
        ..DeployOptions::default()
    };
    let progress = Progress::new(Mode::detect(args.json));
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        let work = deploy(&cloud, &env, &app, &opts, &progress, &journal);
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

/// The end of a successful deploy or rollback: URLs, id, backup, checks.
pub(super) fn print_record(
    progress: &Progress,
    env: &crate::config::Environment,
    record: &crate::state::ledger::Record,
) -> anyhow::Result<()> {
    if progress.mode() == Mode::Json {
        ui::say(&serde_json::to_string(&serde_json::json!({"event": "record", "record": record}))?);
        return Ok(());
    }
    let on = ui::colour_stdout();
    let changed = record.stacks.values().filter(|s| s.changed).count();
    let what = match &record.restored_to {
        Some(to) => format!("rolled {} back to {to} ({} of {} stacks changed)", env.name, changed, record.stacks.len()),
        None => {
            format!("deployed {} to {} ({} of {} stacks changed)", record.id, env.name, changed, record.stacks.len())
        }
    };
    ui::say(&ui::green(on, &what));
    for (k, v) in &record.urls {
        ui::say(&format!("  {k:<22} {v}"));
    }
    if let Some(b) = &record.backup {
        ui::say(&format!(
            "  backup                 {} ({} items; `castform rollback {}` goes back)",
            b.location, b.items, env.name
        ));
    }
    for c in &record.checks {
        ui::say(&format!("  check                  {} {}", if c.ok { "ok" } else { "FAILED" }, c.name));
    }
    if let (Some(service), Some(total)) = (record.service_restored_ms, record.total_ms) {
        ui::say(&format!(
            "  time to restore        {:.1} s until the old code answered (live aliases back), {:.1} s in all",
            service as f64 / 1000.0,
            total as f64 / 1000.0
        ));
    }
    Ok(())
}
