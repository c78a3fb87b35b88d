//! `castform gc ENV`: keep the backups, snapshots and assets of the last N deployments
//! (`retention` in the environment file, default 10) and remove older ones; never an asset that
//! a kept deployment, or any deployment of another environment in the same state bucket, uses.

use crate::aws::Cloud;
use crate::config::Environment;
use crate::ops::deploy::ledger;
use crate::ops::deploy::state::StateStore;
use anyhow::Result;
use std::collections::BTreeSet;

#[derive(Debug, Default, PartialEq)]
pub struct GcReport {
    pub kept: Vec<String>,
    pub removed_deployments: Vec<String>,
    pub removed_objects: usize,
    pub removed_assets: Vec<String>,
}

pub async fn run<C: Cloud>(cloud: &C, env: &Environment, dry_run: bool) -> Result<GcReport> {
    let state = StateStore::new(env);
    if !cloud.bucket_exists(&state.bucket).await? {
        anyhow::bail!(
            "the state bucket {} does not exist\nhelp: run `castform bootstrap {}` first",
            state.bucket,
            env.name
        );
    }
    let records = ledger::list(cloud, &state).await?;
    let keep_from = records.len().saturating_sub(env.retention as usize);
    let (old, kept) = records.split_at(keep_from);
    let mut report = GcReport { kept: kept.iter().map(|r| r.id.clone()).collect(), ..GcReport::default() };
    // assets still needed: those of kept deployments here, and of every deployment elsewhere
    let mut needed: BTreeSet<String> = kept.iter().flat_map(|r| r.assets.clone()).collect();
    for key in cloud.list_objects(&state.bucket, "").await? {
        if key.contains("/ledger/")
            && !key.starts_with(&format!("{}/", state.prefix))
            && let Some(body) = cloud.get_object(&state.bucket, &key).await?
            && let Ok(r) = serde_json::from_slice::<ledger::Record>(&body)
        {
            needed.extend(r.assets);
        }
    }
    for r in old {
        let mut objects = cloud.list_objects(&state.bucket, &state.backup_prefix(&r.id)).await?;
        objects.extend(cloud.list_objects(&state.bucket, &format!("{}/deployments/{}/", state.prefix, r.id)).await?);
        if !dry_run {
            for key in &objects {
                cloud.delete_object(&state.bucket, key).await?;
            }
            let local = state.local_backup(&r.id);
            if local.exists() {
                let _ = std::fs::remove_dir_all(local);
            }
        }
        report.removed_objects += objects.len();
        report.removed_deployments.push(r.id.clone());
        for a in &r.assets {
            if !needed.contains(a) && !report.removed_assets.contains(a) {
                report.removed_assets.push(a.clone());
            }
        }
    }
    if !dry_run {
        for a in &report.removed_assets {
            cloud.delete_object(&state.bucket, a).await?;
        }
    }
    Ok(report)
}
