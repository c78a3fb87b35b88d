//! `castform history ENV` and `castform outputs ENV`: what was deployed, and what is.

use crate::aws::Cloud;
use crate::config::Environment;
use crate::state::StateStore;
use crate::state::ledger::{self, Record};
use crate::template::App;
use anyhow::Result;
use std::collections::BTreeMap;

pub async fn history<C: Cloud>(cloud: &C, env: &Environment) -> Result<Vec<Record>> {
    let state = StateStore::new(env);
    if !cloud.bucket_exists(&state.bucket).await? {
        anyhow::bail!(
            "the state bucket {} does not exist\nhelp: run `castform bootstrap {}` first",
            state.bucket,
            env.name
        );
    }
    Ok(ledger::list(cloud, &state).await?)
}

/// Each deployed stack's outputs: stack name → output → value; stacks not deployed are absent.
pub async fn outputs<C: Cloud>(cloud: &C, app: &App) -> Result<BTreeMap<String, BTreeMap<String, String>>> {
    let mut out = BTreeMap::new();
    for s in &app.stacks {
        if let Some(info) = cloud.for_region(&s.region).describe_stack(&s.stack_name).await? {
            out.insert(s.name.clone(), info.outputs);
        }
    }
    Ok(out)
}
