//! `castform unlock ENV --force`: a lock left by a run that cannot release it, released.

use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::state::{StateStore, lock};
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(about = "Break a stale deploy lock", after_help = "Example:\n  castform unlock prod --force")]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    /// Required: breaking a lock another deploy holds can let two deploys collide.
    #[arg(long)]
    pub force: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, _) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    if !args.force {
        return crate::config::bad_input(format!(
            "unlock breaks the lock whoever holds it\nhelp: make sure no deploy of {} is running, then pass --force",
            env.name
        ));
    }
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let state = StateStore::new(&env);
        match lock::force_release(&cloud, &state).await? {
            Some(h) => ui::say(&format!(
                "broke the lock of deployment {} ({} on {}, since {})",
                h.deployment, h.owner, h.host, h.started
            )),
            None => ui::say(&format!("{} was not locked", state.prefix)),
        }
        Ok(0)
    })
}
