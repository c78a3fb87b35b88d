//! `castform gc ENV`: keep the backups, snapshots and assets of the last N successful
//! deployments (`retention` in the environment file, default 10; deploys and rollbacks, so the
//! live one is always kept) and of every run after the oldest of them, and remove older ones,
//! every version of them (the state bucket is versioned); never an asset that a kept deployment,
//! or any deployment of another environment in the same state bucket, uses, or that a template
//! deployed now names (in any region), and none at all while another environment's run holds its
//! lock. The deployment a bare rollback goes to is kept, however old (unless the retention is 1). A record or a deployed
//! template it cannot read stops it before it removes anything. It holds the environment's lock,
//! so it never races a deploy of it.

use crate::aws::Cloud;
use crate::config::Environment;
use crate::state::StateStore;
use crate::state::ledger;
use anyhow::Result;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Debug, Default, PartialEq)]
pub struct GcReport {
    pub kept: Vec<String>,
    pub removed_deployments: Vec<String>,
    pub removed_objects: usize,
    pub removed_assets: Vec<String>,
    /// Why no asset was removed this time, when another environment's run holds its lock.
    pub assets_kept_because: Option<String>,
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
        let info =
            crate::state::lock::LockInfo::of_this_process(&lock_id, &owner, &host, &crate::state::clock::now(), "gc");
        // a held lock is a refusal before any write, like a deploy's (exit 2)
        crate::state::lock::acquire(cloud, &state, &env.name, &info).await.map_err(|e| {
            crate::ops::error::DeployError::Refused(e.to_string().replacen('\n', "; nothing was removed\n", 1))
        })?;
    }
    let result = collect(cloud, env, &state, dry_run).await;
    if !dry_run {
        crate::state::lock::release(cloud, &state, &lock_id).await?;
    }
    result
}

/// Which runs are kept: from the N-th newest release on (a successful deploy or rollback; failed
/// and refused runs, media start and stop, destroys do not count toward retention, so they can
/// never push out the deployment that is live).
fn keep_from(records: &[ledger::Record], retention: usize) -> usize {
    let successful: Vec<usize> = records.iter().enumerate().filter(|(_, r)| r.is_release()).map(|(i, _)| i).collect();
    match successful.len().checked_sub(retention.max(1)) {
        Some(skip) => successful[skip],
        None => 0,
    }
}

/// The assets (`S3Key`s of an assets bucket's `assets/`) the templates deployed now name, for
/// every stack any record of this environment names or the app has, each in its own region (an
/// edge function's stack lives in us-east-1). A template gc cannot read stops it: it may name an
/// asset still in use (fail closed).
async fn deployed_assets<C: Cloud>(
    cloud: &C,
    regions: &BTreeMap<String, String>,
    records: &[ledger::Record],
) -> Result<BTreeSet<String>> {
    let mut stacks: BTreeMap<String, String> =
        records.iter().flat_map(|r| r.stacks.values().map(|s| (s.stack_name.clone(), r.region.clone()))).collect();
    stacks.extend(regions.iter().map(|(k, v)| (k.clone(), v.clone())));
    let mut out = BTreeSet::new();
    for (stack, region) in stacks {
        let rc = cloud.for_region(&region);
        if rc.describe_stack(&stack).await?.is_none() {
            continue;
        }
        let template: serde_json::Value = serde_json::from_str(&rc.get_template(&stack).await?).map_err(|e| {
            anyhow::anyhow!(
                "the deployed template of {stack} ({region}) cannot be read ({e}); nothing was removed\nhelp: look at the stack in the console; gc keeps everything until it can tell what that stack uses"
            )
        })?;
        s3_keys(&template, &mut out);
    }
    Ok(out)
}

fn s3_keys(v: &serde_json::Value, out: &mut BTreeSet<String>) {
    match v {
        serde_json::Value::Object(m) => {
            for (k, v) in m {
                match (k.as_str(), v) {
                    ("S3Key", serde_json::Value::String(key)) if key.starts_with("assets/") => {
                        out.insert(key.clone());
                    }
                    _ => s3_keys(v, out),
                }
            }
        }
        serde_json::Value::Array(a) => a.iter().for_each(|v| s3_keys(v, out)),
        _ => {}
    }
}

async fn collect<C: Cloud>(cloud: &C, env: &Environment, state: &StateStore, dry_run: bool) -> Result<GcReport> {
    // every record of this environment, read strictly: deciding on a partial list could delete
    // what a record it cannot read still needs (second code review)
    let records = match ledger::list_strict(cloud, state).await {
        Ok(records) => records,
        Err(e @ ledger::LedgerError::Unreadable { .. }) => {
            return crate::config::bad_input(format!("gc of {} removed nothing: {e}", env.name));
        }
        Err(e) => return Err(e.into()),
    };
    // the app's stacks and the assets buckets of its regions (review S3-34: an edge function's
    // code sits in us-east-1's bucket)
    let app = env.define()?;
    let regions: BTreeMap<String, String> =
        app.stacks.iter().map(|s| (s.stack_name.clone(), s.region.clone())).collect();
    let buckets = state.buckets(&app);
    let (old, kept) = records.split_at(keep_from(&records, env.retention as usize));
    // a kept rollback's state is the deployment it went back to: that one is kept too (found by
    // the simulation, SIM-01), so `rollback --to` it still works; and so is the one a bare
    // rollback goes to, however old (redeploys of one release do not push it out)
    let mut targets: BTreeSet<&str> = kept.iter().filter_map(|r| r.restored_to.as_deref()).collect();
    // (a retention of 1 asks for the live release alone, and gets it)
    if env.retention > 1
        && let Ok(t) = crate::state::lineage::bare_target(&records)
    {
        targets.insert(t.id.as_str());
    }
    let (kept_too, old): (Vec<&ledger::Record>, Vec<&ledger::Record>) =
        old.iter().partition(|r| targets.contains(r.id.as_str()));
    let kept: Vec<&ledger::Record> = kept_too.into_iter().chain(kept.iter()).collect();
    let mut report = GcReport { kept: kept.iter().map(|r| r.id.clone()).collect(), ..GcReport::default() };
    // assets still needed: those of kept deployments here, and of every deployment elsewhere
    let mut needed: BTreeSet<String> = kept.iter().flat_map(|r| r.assets.clone()).collect();
    // and every asset a stack deployed now runs, whatever the ledger says (its template's S3Key)
    needed.extend(deployed_assets(cloud, &regions, &records).await?);
    // every other environment's records, read strictly: one this castform cannot read may name
    // assets it still needs, so gc stops rather than guess (review S3-27)
    for key in cloud.list_objects(&state.bucket, "").await? {
        if key.contains("/ledger/")
            && !key.starts_with(&format!("{}/", state.prefix))
            && let Some(body) = cloud.get_object(&state.bucket, &key).await?
        {
            let r = serde_json::from_slice::<ledger::Record>(&body).map_err(|e| {
                anyhow::anyhow!(
                    "s3://{}/{key} is not a record this castform reads ({e}); nothing was removed\nhelp: run gc with the castform that wrote it",
                    state.bucket
                )
            })?;
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
    // another environment's run in flight may be about to use an asset it found already uploaded
    // and has not recorded yet (review S3-27): no asset is removed while one holds its lock
    let own_lock = state.lock_key();
    let running: Vec<String> = cloud
        .list_objects(&state.bucket, "")
        .await?
        .into_iter()
        .filter(|k| k.ends_with("/lock.json") && *k != own_lock)
        .collect();
    if !running.is_empty() && !report.removed_assets.is_empty() {
        report.assets_kept_because = Some(format!(
            "another environment's run holds its lock ({}); its deployment may use them",
            running.join(", ")
        ));
        report.removed_assets.clear();
    }
    if !dry_run {
        for a in &report.removed_assets {
            for (region, bucket) in &buckets {
                cloud.for_region(region).delete_object_versions(bucket, a).await?;
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str, kind: &str, result: &str) -> ledger::Record {
        ledger::Record { id: id.into(), kind: kind.into(), result: result.into(), ..Default::default() }
    }

    /// Review S3-01: a week of daily `media start`/`stop` after the last deploy (and a destroy)
    /// fills no retention: the live deployment is kept, with every release before it up to N.
    #[test]
    fn media_operations_and_destroys_never_push_the_live_deployment_out_of_retention() {
        let mut records = vec![record("d1", "deploy", "succeeded"), record("d2", "deploy", "succeeded")];
        for day in 0..7 {
            records.push(record(&format!("s{day}"), "media-start", "succeeded"));
            records.push(record(&format!("t{day}"), "media-stop", "succeeded"));
        }
        records.push(record("x", "destroy", "failed"));
        assert_eq!(records[keep_from(&records, 1)].id, "d2", "retention 1 keeps the live deploy");
        assert_eq!(keep_from(&records, 2), 0, "retention 2 keeps both releases");
        records.push(record("r1", "rollback", "succeeded"));
        assert_eq!(records[keep_from(&records, 1)].id, "r1", "a rollback is a release");
    }

    #[test]
    fn the_assets_a_deployed_template_names_are_found_wherever_they_sit() {
        let t = serde_json::json!({"Resources": {
            "Fn": {"Properties": {"Code": {"S3Bucket": {"Ref": "AssetsBucket"}, "S3Key": "assets/aa.zip"}}},
            "Layer": {"Properties": {"Content": [{"S3Key": "assets/bb.zip"}, {"S3Key": {"Ref": "X"}}]}},
            "Other": {"Properties": {"S3Key": "not-an-asset.zip"}}
        }});
        let mut out = BTreeSet::new();
        s3_keys(&t, &mut out);
        assert_eq!(out.into_iter().collect::<Vec<_>>(), ["assets/aa.zip", "assets/bb.zip"]);
    }
}
