//! `castform unlock ENV --restore | --force`: a lock left by a run that was stopped (a CI job
//! cancelled or killed) resumed from any host, its environment put back to its backup; or broken.

use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::ops::deploy::{DeployError, Journal, break_lock, resume, until_interrupted};
use crate::state::clock::new_id;
use crate::ui;
use crate::ui::progress::{Mode, Progress};
use std::path::Path;
use std::sync::Mutex;

#[derive(clap::Args)]
#[command(
    about = "Recover from a run stopped while it held the lock: restore its environment, or break the lock",
    after_help = "Examples:\n  castform unlock prod --restore     put prod back to the backup of the run that holds its lock\n  castform unlock dev --force        break the lock, restoring nothing\n\nExit codes: 0 restored or broken, 1 error, 2 refused before any write."
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    /// Take the lock over (only one run can) and put the environment back to the verified backup
    /// of the run that held it, resuming a restore that was cut off; works from any host.
    #[arg(long, conflicts_with = "force")]
    pub restore: bool,
    /// Break the lock whoever holds it, restoring nothing: what the run half-applied stays.
    #[arg(long)]
    pub force: bool,
    /// With --restore: do not ask for the environment's name where it asks for confirmation.
    #[arg(long)]
    pub yes: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    if !args.force && !args.restore {
        return crate::config::bad_input(format!(
            "unlock needs --restore or --force\nhelp: `castform unlock {} --restore` puts the environment back to the backup of the run holding the lock; --force only breaks the lock (make sure no run of {} is running)",
            env.name, env.name
        ));
    }
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        if args.restore {
            let progress = Progress::new(Mode::detect(false));
            let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
            let work = resume(&cloud, &env, &app, args.yes, &progress, &journal);
            let record = until_interrupted(&cloud, &env, &app, &progress, &journal, work).await?;
            ui::say(&format!(
                "{} {} ({}): {}",
                record.kind,
                record.id,
                record.result,
                if record.restored.is_empty() {
                    record.error.clone().unwrap_or_default()
                } else {
                    format!("restored {}", record.restored.join(", "))
                }
            ));
            ui::say(&format!("the lock of {} is released", env.name));
            return Ok(0);
        }
        match break_lock(&cloud, &env).await.map_err(|e| anyhow::Error::new(DeployError::Refused(e.to_string())))? {
            Some(h) => ui::say(&format!(
                "broke the lock of deployment {} ({} on {}, since {}; a {}); its environment was not restored",
                h.deployment,
                h.owner,
                h.host,
                h.started,
                h.kind()
            )),
            None => ui::say(&format!("{} was not locked", env.name)),
        }
        Ok(0)
    })
}
