//! The deploy engine: preflight ▶ lock ▶ adopted resources read ▶ backup ▶ assets ▶ imports
//! (`IMPORT` change sets of the adopted resources, ops::adopt) ▶ stacks (change sets, in dependency
//! order, independent ones together) ▶ propagate ▶ verify ▶ record ▶ unlock. A failure after
//! the first write restores every stack this deployment touched and every file it wrote from the
//! verified backup, in reverse order (D03), then records and unlocks.

mod adopted;
mod apply;
mod assets;
pub mod backup;
mod forward;
mod interrupt;
mod live;
pub mod preflight;
pub mod propagate;
mod recover;
mod restore;
pub mod rollback;
pub mod verify;

pub use crate::ops::error::DeployError;
use apply::*;
use backup::snapshot;
pub use forward::deploy;
pub use interrupt::{interrupted, interruption, until_interrupted};
use live::*;
use propagate::write_files;
use recover::*;
pub use recover::{break_lock, resume};
pub use restore::restore;
use restore::*;
use verify::verify_all;

use crate::aws::Cloud;
use crate::config::Environment;
use crate::ops::changeset::{self as stacks, Desired, Guard};
use crate::state::clock::now;
use crate::state::ledger::{self, BackupRef, Record, StackRecord, StepTime};
use crate::state::{StateStore, lock};
use crate::template::{ASSETS_BUCKET_PARAMETER, App, OutputRole, sha256_hex, zip_asset};
use crate::ui::progress::Progress;
use backup::Backup;
use preflight::Preflight;
use propagate::Outputs;
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Debug, Clone, Default)]
pub struct DeployOptions {
    /// Skip the synth-time checks in preflight (rollback restores recorded templates).
    pub skip_checks: bool,
    pub yes: bool,
    pub allow_dirty: bool,
    pub allow_replace: bool,
    /// Delete and recreate stacks left in ROLLBACK_COMPLETE even where data is retained.
    pub force: bool,
    /// Stop a channel on air for a change that needs it idle, then start it again.
    pub restart_live: bool,
}

/// What a deployment has done so far; kept outside the deploy future so that an interrupted
/// deployment can still be restored and recorded.
#[derive(Debug, Default)]
pub struct Journal {
    pub id: String,
    /// The lock may be this run's: set before its PUT is awaited, so a run stopped while the PUT
    /// is in flight still releases a lock that landed (release is idempotent; review S3-21).
    pub locked: bool,
    /// The lock this run holds as written, and its ETag: it is rewritten and released only as
    /// that version (`If-Match`; review S3-26).
    pub lock: Option<lock::LockInfo>,
    pub lock_etag: Option<String>,
    /// The restore of a killed run this run is making, under its lock: an interruption finishes it.
    pub recovering: Option<lock::Restoring>,
    /// The run's `in-progress` record is in the ledger.
    pub recorded: bool,
    /// The killed run whose environment this run restored before its own work.
    pub recovered: Option<String>,
    pub backup: Option<Backup>,
    /// Stacks this deployment executed a change set on, in order.
    pub touched: Vec<String>,
    pub files_written: bool,
    /// `(bucket, key)` of each file this run wrote: a restore puts back exactly these.
    pub written: Vec<(String, String)>,
    /// What kind of run this is (`deploy`, `rollback`), for the record an interruption writes.
    pub kind: &'static str,
    pub step_times: Vec<StepTime>,
    /// The live pipeline this run took off air (`--restart-live`): a failure starts it again.
    pub stopped_live: Option<crate::ops::media::Pipeline>,
    /// What a restore of this run left in place (retained by its `DeletionPolicy`), for the record.
    pub leftovers: Vec<ledger::Leftover>,
    /// `--force`: a restore too may skip resources of a stuck rollback where data is retained
    /// (review S3-23); without it, it stops there and says so.
    pub force: bool,
}

pub(crate) struct Step<'a> {
    journal: &'a Mutex<Journal>,
    name: &'static str,
    start: Instant,
}

impl Drop for Step<'_> {
    fn drop(&mut self) {
        if let Ok(mut j) = self.journal.lock() {
            j.step_times.push(StepTime { step: self.name.to_string(), ms: self.start.elapsed().as_millis() });
        }
    }
}

pub(crate) fn step<'a>(journal: &'a Mutex<Journal>, name: &'static str) -> Step<'a> {
    Step { journal, name, start: Instant::now() }
}

/// Records that a stack may have changed (once).
pub(crate) fn touch(journal: &Mutex<Journal>, stack: &str) {
    let mut j = lock_journal(journal);
    if !j.touched.iter().any(|t| t == stack) {
        j.touched.push(stack.to_string());
    }
}

pub(crate) fn lock_journal(j: &Mutex<Journal>) -> std::sync::MutexGuard<'_, Journal> {
    j.lock().unwrap_or_else(|p| p.into_inner())
}

/// One run of the engine: what every step of a deploy, a rollback, the recovery of a killed run
/// and an interruption's restore works with, in one place instead of as long argument lists.
pub struct Run<'a, C: Cloud> {
    pub cloud: &'a C,
    pub env: &'a Environment,
    pub app: &'a App,
    pub state: StateStore,
    pub journal: &'a Mutex<Journal>,
    pub progress: &'a Progress,
    /// The environment's deploy role, every change set's `RoleARN` (set by preflight).
    pub execution_role: std::sync::OnceLock<String>,
    /// When the run began, for its record's timings.
    pub clock: Instant,
}

impl<'a, C: Cloud> Run<'a, C> {
    pub fn new(
        cloud: &'a C,
        env: &'a Environment,
        app: &'a App,
        progress: &'a Progress,
        journal: &'a Mutex<Journal>,
    ) -> Self {
        Self {
            cloud,
            env,
            app,
            state: StateStore::new(env),
            journal,
            progress,
            execution_role: Default::default(),
            clock: Instant::now(),
        }
    }

    /// The run's deployment id.
    pub fn id(&self) -> String {
        lock_journal(self.journal).id.clone()
    }

    /// The parts, for a step's body.
    #[allow(clippy::type_complexity)]
    pub fn parts(&self) -> (&'a C, &'a Environment, &'a App, &StateStore, &'a Mutex<Journal>, &'a Progress) {
        (self.cloud, self.env, self.app, &self.state, self.journal, self.progress)
    }
}

/// A kind of run through the pipeline, a deploy or a rollback: its own steps, called by
/// [`execute`] in the one order every run keeps.
pub(crate) trait Steps {
    /// The record's kind (`deploy`, `rollback`).
    const KIND: &'static str;
    /// The options preflight runs with.
    fn options(&self) -> DeployOptions;
    /// The command a lock held by this run names.
    fn command(&self) -> String {
        Self::KIND.to_string()
    }
    /// After preflight, before the lock: what the run will do, read-only.
    async fn plan<C: Cloud>(&mut self, run: &Run<'_, C>, pre: &Preflight) -> Result<(), DeployError>;
    /// Under the lock, before the backup: what must be read whole before anything is written.
    async fn read<C: Cloud>(&mut self, run: &Run<'_, C>) -> Result<(), DeployError>;
    /// The record's own fields (the commit it puts in place, what it goes back to).
    fn fill(&self, record: &mut Record, pre: &Preflight);
    /// Written before the change and never restored, because it is content-addressed (assets).
    async fn prepare<C: Cloud>(&self, run: &Run<'_, C>, record: &mut Record) -> Result<(), DeployError>;
    /// The change: stacks, files, verification, live media; a failure is text for the record.
    async fn change<C: Cloud>(&self, run: &Run<'_, C>, backup: &Backup, record: &mut Record) -> Result<(), String>;
    /// After the change, whatever its outcome, before the record is written.
    async fn finish<C: Cloud>(&self, run: &Run<'_, C>, backup: &Backup, record: &mut Record, ok: bool);
}

/// The pipeline of every run that changes an environment: preflight ▶ plan ▶ lock ▶ read ▶
/// backup ▶ prepare ▶ change ▶ record ▶ unlock. A failure before the change is refused with
/// nothing written (a change refused by CloudFormation before any stack changed is recorded as
/// refused); after the change began, everything the run touched is restored from the verified
/// backup, and a pipeline it took off air is put back on air.
pub(crate) async fn execute<C: Cloud, S: Steps>(run: &Run<'_, C>, steps: &mut S) -> Result<Record, DeployError> {
    {
        let mut j = lock_journal(run.journal);
        j.kind = S::KIND;
        j.force = steps.options().force;
    }
    let started = now();
    let pre = {
        let _s = step(run.journal, "preflight");
        let pre = preflight::run(run.cloud, run.env, run.app, &run.state, &steps.options(), run.progress).await?;
        if let Some(role) = &pre.execution_role {
            let _ = run.execution_role.set(role.clone());
        }
        steps.plan(run, &pre).await?;
        pre
    };
    let result = match take_lock(run, &pre, &started, steps.command()).await {
        Ok(()) => locked(run, steps, &pre, &started).await,
        Err(e) => Err(e),
    };
    // a run refused after it restored a killed run's environment says so: the environment changed
    let recovered = lock_journal(run.journal).recovered.clone();
    let result = match (result, recovered) {
        (Err(DeployError::Refused(m)), Some(killed)) => Err(DeployError::Refused(format!(
            "{m}\nbefore that, this run put the environment back to the backup of deployment {killed}, which was stopped while it held the lock (`castform history {}` has its record)",
            run.env.name
        ))),
        (result, _) => result,
    };
    // a run that ended without its own record (refused or failed before the change) says so
    match &result {
        Err(DeployError::Refused(message)) => settle_record(run, "refused", message).await,
        Err(e @ DeployError::Unrestored { .. }) => settle_record(run, "failed", &e.to_string()).await,
        _ => {}
    }
    unlock(run).await;
    result
}

/// The lock step: one writer per environment. A lock left by a run of this host that was killed
/// is taken over (one recoverer wins) and its environment restored from its backup first. Then
/// the run's `in-progress` record is written, so a run killed from here leaves a trace.
async fn take_lock<C: Cloud>(
    run: &Run<'_, C>,
    pre: &Preflight,
    started: &str,
    command: String,
) -> Result<(), DeployError> {
    let (cloud, env, _, state, journal, progress) = run.parts();
    let _s = step(journal, "lock");
    progress.step("lock", &format!("s3://{}/{}", state.bucket, state.lock_key()));
    let info = lock::LockInfo::of_this_process(&run.id(), &pre.who, &pre.host, started, &command);
    let refused = |e: lock::LockError| DeployError::Refused(e.to_string());
    // before the PUT is awaited: a lock that lands while the run is stopped is still released
    lock_journal(journal).locked = true;
    let etag = match lock::acquire(cloud, state, &env.name, &info).await {
        Ok(etag) => etag,
        Err(lock::LockError::Held { holder, etag, .. }) if holder.is_orphaned(&pre.host) => {
            // the killed run's lock until it is taken over: never released by this run
            lock_journal(journal).locked = false;
            let claim = take_over(run, &info, &holder, &etag).await?;
            let recovered = match recover(run, &lock::Restoring::of_holder(&holder)).await {
                Ok(recovered) => recovered,
                Err(e) => {
                    hand_back(run).await;
                    return Err(e);
                }
            };
            {
                // the claim is rewritten from here: a run stopped meanwhile releases by its id
                let mut j = lock_journal(journal);
                j.recovering = None;
                j.lock_etag = None;
            }
            if recovered.result == "rolled-back" {
                lock_journal(journal).recovered = Some(recovered.id.clone());
            }
            // this run's own lock again, in place of the claim
            lock::replace(cloud, state, &env.name, &claim, &info).await.map_err(refused)?
        }
        Err(e) => return Err(refused(e)),
    };
    let kind = {
        let mut j = lock_journal(journal);
        j.lock = Some(info);
        j.lock_etag = Some(etag);
        j.kind
    };
    let mut record = new_record(run, kind, started, pre);
    record.commit = pre.commit.clone();
    record.dirty = pre.dirty;
    record.result = ledger::IN_PROGRESS.into();
    ledger::write(cloud, state, &record).await.map_err(|e| {
        DeployError::Refused(format!(
            "the deployment ledger cannot be written: {e}\nnothing in the environment was changed"
        ))
    })?;
    lock_journal(journal).recorded = true;
    Ok(())
}

/// Releases the lock this run holds: the version it wrote (`If-Match`), or, where the answer to
/// its PUT never came, the lock read if it names this run.
pub(super) async fn unlock<C: Cloud>(run: &Run<'_, C>) {
    let (locked, etag, id) = {
        let j = lock_journal(run.journal);
        (j.locked, j.lock_etag.clone(), j.id.clone())
    };
    if locked {
        let _ = match etag {
            Some(etag) => lock::release_held(run.cloud, &run.state, &etag).await,
            None => lock::release(run.cloud, &run.state, &id).await,
        };
    }
    // only once released: a run stopped during the release releases again
    let mut j = lock_journal(run.journal);
    j.locked = false;
    j.lock = None;
    j.lock_etag = None;
}

/// A run that ends without its own record (refused after it took the lock, interrupted before
/// it changed anything): its `in-progress` record says how it ended.
pub(super) async fn settle_record<C: Cloud>(run: &Run<'_, C>, result: &str, error: &str) {
    if !lock_journal(run.journal).recorded {
        return;
    }
    let key = run.state.ledger_key(&run.id());
    if let Ok(Some(body)) = run.cloud.get_object(&run.state.bucket, &key).await
        && let Ok(mut record) = serde_json::from_slice::<Record>(&body)
        && record.in_progress()
    {
        record.result = result.into();
        record.error = Some(error.into());
        record.finished = now();
        let _ = ledger::write(run.cloud, &run.state, &record).await;
    }
}

async fn locked<C: Cloud, S: Steps>(
    run: &Run<'_, C>,
    steps: &mut S,
    pre: &Preflight,
    started: &str,
) -> Result<Record, DeployError> {
    steps.read(run).await?;
    let backup = take_backup(run).await?;
    let mut record = new_record(run, S::KIND, started, pre);
    record.backup = Some(backup_ref(run.env, &run.state, &run.id(), &backup));
    steps.fill(&mut record, pre);
    steps.prepare(run, &mut record).await?;
    let outcome = steps.change(run, &backup, &mut record).await;
    record.finished = now();
    record.total_ms = Some(run.clock.elapsed().as_millis() as u64);
    record.steps = lock_journal(run.journal).step_times.clone();
    steps.finish(run, &backup, &mut record, outcome.is_ok()).await;
    match outcome {
        Ok(()) => record_success(run, record).await,
        Err(failure) => Err(record_failure(run, &backup, record, failure).await),
    }
}

/// A new record of this run, by whom and where.
fn new_record<C: Cloud>(run: &Run<'_, C>, kind: &str, started: &str, pre: &Preflight) -> Record {
    let env = run.env;
    Record::new(
        &run.id(),
        kind,
        &run.app.app,
        &env.name,
        &env.region,
        started,
        (&pre.who, &pre.host),
        &pre.identity.account,
    )
}

/// The backup step: every stack, function and file the run may change, read back and checked
/// by sha256 before anything is written.
async fn take_backup<C: Cloud>(run: &Run<'_, C>) -> Result<Backup, DeployError> {
    let (cloud, env, app, state, journal, progress) = run.parts();
    let id = run.id();
    let _s = step(journal, "backup");
    progress.step("backup", &format!("s3://{}/{}", state.bucket, state.backup_prefix(&id)));
    let b = backup::take(cloud, app, state, &id, &env.root).await?;
    let existed = b.stacks.iter().filter(|s| s.existed).count();
    let local = state.local_backup(&id);
    progress.info(&format!(
        "{} items ({} stacks deployed, {} functions, {} files), read back and checked by sha256; local copy {}",
        b.items.len(),
        existed,
        b.functions.len(),
        b.files.iter().filter(|f| f.item.is_some()).count(),
        local.strip_prefix(&env.root).unwrap_or(&local).display()
    ));
    lock_journal(journal).backup = Some(b.clone());
    Ok(b)
}

/// The record step of a run that succeeded: written to the ledger, or the run says it could not.
async fn record_success<C: Cloud>(run: &Run<'_, C>, mut record: Record) -> Result<Record, DeployError> {
    let (cloud, env, _, state, _, _) = run.parts();
    record.result = "succeeded".into();
    ledger::write(cloud, state, &record).await.map_err(|e| DeployError::Unrecorded {
        id: record.id.clone(),
        kind: record.kind.clone(),
        env: env.name.clone(),
        error: e.to_string(),
    })?;
    Ok(record)
}

/// The record step of a run that failed: refused where it changed nothing, else restored. A
/// pipeline the run took off air is a change: the restore puts it back on air.
async fn record_failure<C: Cloud>(
    run: &Run<'_, C>,
    backup: &Backup,
    mut record: Record,
    failure: String,
) -> DeployError {
    let untouched = {
        let j = lock_journal(run.journal);
        j.touched.is_empty() && !j.files_written && j.stopped_live.is_none()
    };
    if untouched {
        record.result = "refused".into();
        record.error = Some(crate::ui::redact::redact(&failure));
        let _ = ledger::write(run.cloud, &run.state, &record).await;
        return DeployError::Refused(format!("{failure}\nnothing in the environment was changed"));
    }
    fail_and_restore_on_air(run, backup, record, failure).await
}
