//! The deployment ledger (V02, V03): one record per deployment in the state bucket, mirrored
//! under `.castform/ledger/`.

use super::StateStore;
use crate::aws::{Cloud, CloudError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One check of a run (a health route, a served file, the stream), as the ledger keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckResult {
    pub name: String,
    pub ok: bool,
    pub detail: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackRecord {
    pub stack_name: String,
    pub template_sha256: String,
    pub parameters: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    pub status: String,
    pub changed: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub change_set: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepTime {
    pub step: String,
    pub ms: u128,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub app: String,
    pub environment: String,
    /// `deploy` or `rollback`.
    pub kind: String,
    pub started: String,
    pub finished: String,
    pub commit: String,
    pub dirty: bool,
    pub who: String,
    pub host: String,
    pub account: String,
    pub region: String,
    /// `succeeded`, `failed`, `rolled-back`, `refused`, `interrupted`, or `in-progress` (written
    /// when the run takes the lock, replaced when it ends: one left behind is a run that was
    /// killed, and `castform unlock ENV --restore` puts its environment back).
    pub result: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub stacks: BTreeMap<String, StackRecord>,
    /// Content-addressed asset keys in the state bucket.
    pub assets: Vec<String>,
    /// The URLs people use: `<stack>.<output>` ending in Url.
    pub urls: BTreeMap<String, String>,
    pub files: Vec<String>,
    /// Where the backup taken before this deploy lives; `castform rollback` restores it.
    pub backup: Option<BackupRef>,
    pub checks: Vec<CheckResult>,
    pub steps: Vec<StepTime>,
    /// For a rollback: the deployment it went back to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restored_to: Option<String>,
    /// What a failure restored.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub restored: Vec<String>,
    /// For a rollback: milliseconds from its start until every function's `live` alias pointed at
    /// the old version again (users get the old code), against the whole run's `total_ms`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_restored_ms: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_ms: Option<u64>,
    /// The adopted resources: imported by this run or before, and their item counts around it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<AdoptedRecord>,
    /// What this run created that its restore left in place, kept by its `DeletionPolicy`
    /// (review S3-20): the next deploy offers to adopt it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub leftovers: Vec<Leftover>,
}

/// A resource a restore left in place: created by the run, kept by its `DeletionPolicy` when the
/// restore removed it from its stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Leftover {
    /// `<stack>.<LogicalId>`
    pub resource: String,
    pub resource_type: String,
    pub name: String,
}

/// One adopted table around a run: its items before and after (castform never deletes them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdoptedRecord {
    pub resource: String,
    pub identifier: String,
    /// imported by this run (false: it was already in its stack)
    pub imported: bool,
    pub items_before: Option<u64>,
    pub items_after: Option<u64>,
}

impl Record {
    /// Whether this run put a release in place that is still what the environment runs until the
    /// next one: a successful deploy or rollback. Media operations, destroys, failed and refused
    /// runs are not releases: they never count toward retention nor are rolled back to (review
    /// S3-01, S3-05).
    pub fn is_release(&self) -> bool {
        self.result == "succeeded" && (self.kind == "deploy" || self.kind == "rollback")
    }

    /// A run still under way (or killed): never a release, never rolled back to, listed by
    /// `castform history` (review S3-21).
    pub fn in_progress(&self) -> bool {
        self.result == IN_PROGRESS
    }

    /// A record in progress: `result` stays `failed` until the run says otherwise.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        id: &str,
        kind: &str,
        app: &str,
        environment: &str,
        region: &str,
        started: &str,
        who: (&str, &str),
        account: &str,
    ) -> Self {
        Self {
            id: id.into(),
            app: app.into(),
            environment: environment.into(),
            kind: kind.into(),
            started: started.into(),
            finished: String::new(),
            commit: "unknown".into(),
            dirty: true,
            who: who.0.into(),
            host: who.1.into(),
            account: account.into(),
            region: region.into(),
            result: "failed".into(),
            error: None,
            stacks: BTreeMap::new(),
            assets: vec![],
            urls: BTreeMap::new(),
            files: vec![],
            backup: None,
            checks: vec![],
            steps: vec![],
            restored_to: None,
            restored: vec![],
            service_restored_ms: None,
            total_ms: None,
            adopted: vec![],
            leftovers: vec![],
        }
    }
}

/// The result of a run's record from the moment it takes the lock until it ends.
pub const IN_PROGRESS: &str = "in-progress";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupRef {
    pub location: String,
    pub local: String,
    pub items: usize,
    pub verified: bool,
}

/// Writes the record to the state bucket and the local mirror.
pub async fn write<C: Cloud>(cloud: &C, state: &StateStore, record: &Record) -> Result<(), CloudError> {
    let body = serde_json::to_vec_pretty(record).unwrap_or_default();
    let _ = super::write_private(&state.local_ledger().join(format!("{}.json", record.id)), &body);
    cloud.put_object(&state.bucket, &state.ledger_key(&record.id), body, "application/json", false).await
}

/// One record this castform cannot read, by its key.
#[derive(Debug, thiserror::Error)]
pub enum LedgerError {
    #[error(
        "s3://{bucket}/{key} is not a deployment record this castform can read ({error}), so the history it is part of is incomplete\nhelp: read it with `aws s3 cp s3://{bucket}/{key} -`; run this with the castform that wrote it, or move the object out of the ledger"
    )]
    Unreadable { bucket: String, key: String, error: String },
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

/// Every record this castform can read, oldest first (ids sort by time); for listings, where a
/// record it cannot read is left out.
pub async fn list<C: Cloud>(cloud: &C, state: &StateStore) -> Result<Vec<Record>, CloudError> {
    Ok(read_all(cloud, state).await?.into_iter().filter_map(Result::ok).collect())
}

/// Every record, oldest first, or the first one this castform cannot read: for deciding what to
/// delete or what to go back to, never on a partial list (second code review).
pub async fn list_strict<C: Cloud>(cloud: &C, state: &StateStore) -> Result<Vec<Record>, LedgerError> {
    read_all(cloud, state).await?.into_iter().collect()
}

async fn read_all<C: Cloud>(cloud: &C, state: &StateStore) -> Result<Vec<Result<Record, LedgerError>>, CloudError> {
    let mut out = vec![];
    for key in cloud.list_objects(&state.bucket, &state.ledger_prefix()).await? {
        // a key listed and gone since (deleted by gc) is no record
        let Some(body) = cloud.get_object(&state.bucket, &key).await? else { continue };
        out.push(serde_json::from_slice::<Record>(&body).map_err(|e| LedgerError::Unreadable {
            bucket: state.bucket.clone(),
            key: key.clone(),
            error: e.to_string(),
        }));
    }
    out.sort_by(|a, b| match (a, b) {
        (Ok(a), Ok(b)) => a.id.cmp(&b.id),
        (Err(_), Ok(_)) => std::cmp::Ordering::Less,
        (Ok(_), Err(_)) => std::cmp::Ordering::Greater,
        (Err(_), Err(_)) => std::cmp::Ordering::Equal,
    });
    Ok(out)
}
