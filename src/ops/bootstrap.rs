//! `castform bootstrap ENV`: the state bucket of the environment's account and region
//! (private, encrypted, versioned) that holds assets, backups, the ledger and the lock; plus
//! one in each other region the app's stacks live in (the podcast's edge stack in us-east-1),
//! for their assets: Lambda reads code only from a bucket in its own region.

use crate::aws::Cloud;
use crate::config::Environment;
use crate::ops::deploy::state::StateStore;
use crate::template::App;
use anyhow::{Result, bail};

/// Creates every state bucket the app needs; returns `(region, bucket)` of each.
pub async fn run<C: Cloud>(cloud: &C, env: &Environment, app: &App) -> Result<Vec<(String, String)>> {
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
    let buckets = state.buckets(app);
    for (region, bucket) in &buckets {
        cloud.for_region(region).create_state_bucket(bucket).await?;
    }
    Ok(buckets)
}
