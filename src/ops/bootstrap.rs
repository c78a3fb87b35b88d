//! `castform bootstrap ENV`: the state bucket of the environment's account and region
//! (private, encrypted, versioned) that holds assets, backups, the ledger and the lock.

use crate::aws::Cloud;
use crate::config::Environment;
use crate::ops::deploy::state::StateStore;
use anyhow::{Result, bail};

pub async fn run<C: Cloud>(cloud: &C, env: &Environment) -> Result<String> {
    let identity = cloud.caller_identity().await?;
    if identity.account != env.account {
        bail!(
            "the credentials are for account {} ({}), but {} is account {}\nhelp: switch to the profile for account {}",
            identity.account,
            identity.arn,
            env.file,
            env.account,
            env.account
        );
    }
    let state = StateStore::new(env);
    cloud.create_state_bucket(&state.bucket).await?;
    Ok(state.bucket)
}
