//! `castform gc ENV`: keep the backups, snapshots and assets of the last N successful
//! deployments (`retention` in the environment file, default 10; deploys and rollbacks, so the
//! live one is always kept) and of every run after the oldest of them, and remove older ones,
//! every version of them (the state bucket is versioned); never an asset that a kept deployment,
//! or any deployment of another environment in the same state bucket, uses. It holds the
//! environment's lock, so it never races a deploy.

use crate::aws::Cloud;
use crate::config::Environment;
use crate::state::StateStore;
use crate::state::ledger;
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
        return crate::config::bad_input(format!(
            "the state bucket {} does not exist\nhelp: run `castform bootstrap {}` first",
            state.bucket, env.name
        ));
    }
    let lock_id = crate::state::clock::new_id();
    if !dry_run {
        let (owner, host) = crate::state::who();
        let info = crate::state::lock::LockInfo {
            deployment: lock_id.clone(),
            owner,
            host,
            started: crate::state::clock::now(),
            command: "gc".into(),
            pid: std::process::id(),
        };
        crate::state::lock::acquire(cloud, &state, &env.name, &info).await?;
    }
    let result = collect(cloud, env, &state, dry_run).await;
    if !dry_run {
        crate::state::lock::release(cloud, &state, &lock_id).await?;
    }
    result
}

/// Which runs are kept: from the N-th newest successful one on (failed and refused runs do not
/// count toward retention, so they can never push out the deployment that is live).
fn keep_from(records: &[ledger::Record], retention: usize) -> usize {
    let successful: Vec<usize> =
        records.iter().enumerate().filter(|(_, r)| r.result == "succeeded").map(|(i, _)| i).collect();
    match successful.len().checked_sub(retention.max(1)) {
        Some(skip) => successful[skip],
        None => 0,
    }
}

async fn collect<C: Cloud>(cloud: &C, env: &Environment, state: &StateStore, dry_run: bool) -> Result<GcReport> {
    let records = ledger::list(cloud, state).await?;
    let (old, kept) = records.split_at(keep_from(&records, env.retention as usize));
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
                cloud.delete_object_versions(&state.bucket, key).await?;
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
            cloud.delete_object_versions(&state.bucket, a).await?;
        }
    }
    Ok(report)
}
