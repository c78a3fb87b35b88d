//! `castform status ENV`: what is deployed, and in what state.

use crate::aws::Cloud;
use crate::config::Environment;
use crate::state::StateStore;
use crate::state::ledger::{self};
use crate::state::lock;
use crate::template::App;
use serde::Serialize;

#[derive(Debug, Serialize)]
pub struct StackStatus {
    pub stack: String,
    pub stack_name: String,
    pub status: String,
    pub last_updated: Option<String>,
    /// `IN_SYNC`, `DRIFTED`, or why drift is unknown.
    pub drift: String,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub stacks: Vec<StackStatus>,
    pub lock: Option<lock::LockInfo>,
    pub last_deployment: Option<(String, String, String)>,
}

pub async fn status<C: Cloud>(cloud: &C, env: &Environment, app: &App) -> anyhow::Result<Status> {
    let state = StateStore::new(env);
    let mut stacks = vec![];
    for s in &app.stacks {
        let cloud = &cloud.for_region(&s.region);
        let info = cloud.describe_stack(&s.stack_name).await?;
        let (status, last_updated, drift) = match info {
            None => ("NOT_DEPLOYED".to_string(), None, "-".to_string()),
            Some(i) => {
                let drift = match cloud.detect_drift(&s.stack_name).await {
                    Ok(d) => d,
                    Err(e) => format!("unknown: the service cannot tell ({})", e.code().unwrap_or("no answer")),
                };
                (i.status, i.last_updated, drift)
            }
        };
        stacks.push(StackStatus {
            stack: s.name.clone(),
            stack_name: s.stack_name.clone(),
            status,
            last_updated,
            drift,
        });
    }
    let (lock, last) = if cloud.bucket_exists(&state.bucket).await? {
        let lock = lock::current(cloud, &state).await?;
        let last = ledger::list(cloud, &state).await?.into_iter().last().map(|r| (r.id, r.kind, r.result));
        (lock, last)
    } else {
        (None, None)
    };
    Ok(Status { stacks, lock, last_deployment: last })
}
