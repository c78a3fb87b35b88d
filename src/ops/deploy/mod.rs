//! The deploy engine: preflight ▶ lock ▶ adopted resources read ▶ backup ▶ assets ▶ imports
//! (`IMPORT` change sets of the adopted resources, ops::adopt) ▶ stacks (change sets, in dependency
//! order, independent ones together) ▶ propagate ▶ verify ▶ record ▶ unlock. A failure after
//! the first write restores every stack this deployment touched and every file it wrote from the
//! verified backup, in reverse order (D03), then records and unlocks.

pub mod backup;
pub mod preflight;
pub mod propagate;
pub mod rollback;
pub mod verify;

use crate::aws::Cloud;
use crate::config::Environment;
use crate::ops::changeset::{self as stacks, Desired, Guard};
use crate::state::clock::now;
use crate::state::ledger::{self, BackupRef, Record, StackRecord, StepTime};
use crate::state::{StateStore, lock};
use crate::template::{ASSETS_BUCKET_PARAMETER, App, OutputRole, sha256_hex, zip_asset};
use crate::ui::progress::Progress;
use backup::Backup;
use propagate::{Outputs, Rendered};
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

#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Refused before anything in the environment was written: exit 2.
    #[error("{0}")]
    Refused(String),
    /// Failed and restored to the backup: exit 3.
    #[error("deployment {id} failed: {failure}\nrestored from the backup: {}\nhelp: fix the cause and deploy again; `castform history {env}` has the record", restored.join(", "))]
    Restored { id: String, env: String, failure: String, restored: Vec<String> },
    /// Failed, and the restore failed too: exit 1, with what to do.
    #[error(
        "deployment {id} failed: {failure}\nthe restore failed too: {restore_error}\nhelp: the backup is {backup}; run `castform rollback {env}` once the cause is fixed"
    )]
    Unrestored { id: String, env: String, failure: String, restore_error: String, backup: String },
}

/// What a deployment has done so far; kept outside the deploy future so that an interrupted
/// deployment can still be restored and recorded.
#[derive(Debug, Default)]
pub struct Journal {
    pub id: String,
    pub locked: bool,
    pub backup: Option<Backup>,
    /// Stacks this deployment executed a change set on, in order.
    pub touched: Vec<String>,
    pub files_written: bool,
    /// `(bucket, key)` of each file this run wrote: a restore puts back exactly these.
    pub written: Vec<(String, String)>,
    pub record: Option<Record>,
    pub step_times: Vec<StepTime>,
    /// The live pipeline this run took off air (`--restart-live`): a failure starts it again.
    pub stopped_live: Option<crate::ops::media::Pipeline>,
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

/// The parameters a stack takes: other stacks' outputs, and the state bucket.
fn parameters(
    stack: &crate::template::Stack,
    outputs: &Outputs,
    state: &StateStore,
) -> Result<BTreeMap<String, String>, String> {
    let mut p = BTreeMap::new();
    for i in &stack.imports {
        let v = outputs.get(&i.stack).and_then(|o| o.get(&i.output)).ok_or_else(|| {
            format!("stack {} needs output {} of stack {}, which it does not have", stack.name, i.output, i.stack)
        })?;
        p.insert(i.parameter.clone(), v.clone());
    }
    if !stack.assets.is_empty() {
        p.insert(ASSETS_BUCKET_PARAMETER.to_string(), state.assets_bucket(&stack.region));
    }
    Ok(p)
}

pub(crate) fn stack_tags(env: &Environment) -> BTreeMap<String, String> {
    let mut t: BTreeMap<String, String> = env.tags.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    t.insert("castform:app".into(), env.app.clone());
    t.insert("castform:environment".into(), env.name.clone());
    t
}

/// Groups stacks into waves: each wave depends only on earlier waves.
fn waves(app: &App) -> Vec<Vec<usize>> {
    let mut level: Vec<usize> = vec![0; app.stacks.len()];
    for (i, s) in app.stacks.iter().enumerate() {
        for dep in app.dependencies(&s.name) {
            if let Some(j) = app.stacks.iter().position(|x| x.name == dep) {
                level[i] = level[i].max(level[j] + 1);
            }
        }
    }
    let max = level.iter().copied().max().unwrap_or(0);
    (0..=max).map(|l| (0..app.stacks.len()).filter(|i| level[*i] == l).collect()).collect()
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
}

impl<'a, C: Cloud> Run<'a, C> {
    pub fn new(
        cloud: &'a C,
        env: &'a Environment,
        app: &'a App,
        progress: &'a Progress,
        journal: &'a Mutex<Journal>,
    ) -> Self {
        Self { cloud, env, app, state: StateStore::new(env), journal, progress, execution_role: Default::default() }
    }

    /// The parts, for a step's body.
    #[allow(clippy::type_complexity)]
    pub fn parts(&self) -> (&'a C, &'a Environment, &'a App, &StateStore, &'a Mutex<Journal>, &'a Progress) {
        (self.cloud, self.env, self.app, &self.state, self.journal, self.progress)
    }
}

/// Runs a deployment. `journal` records progress for an interrupted run.
pub async fn deploy<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    opts: &DeployOptions,
    progress: &Progress,
    journal: &Mutex<Journal>,
) -> Result<Record, DeployError> {
    let run = Run::new(cloud, env, app, progress, journal);
    let state = &run.state;
    let started = now();
    let id = lock_journal(journal).id.clone();
    let (pre, live) = {
        let _s = step(journal, "preflight");
        let pre = preflight::run(cloud, env, app, state, opts, progress).await?;
        if let Some(role) = &pre.execution_role {
            let _ = run.execution_role.set(role.clone());
        }
        // P08: what the change does to a pipeline on air, read before anything is written
        let plan = crate::ops::media::plan(cloud, app)
            .await
            .map_err(|e| DeployError::Refused(format!("P08 live media: reading the pipeline's state: {e:#}")))?;
        let plan = crate::ops::media::decide(plan, env, opts.restart_live, opts.allow_replace)
            .map_err(DeployError::Refused)?;
        for c in &plan.changes {
            progress.info(&format!(
                "live: {}.{} ({}): {}, {}",
                c.stack,
                c.logical_id,
                c.resource_type,
                c.class.label(),
                c.why
            ));
        }
        (pre, plan)
    };
    {
        let _s = step(journal, "lock");
        progress.step("lock", &format!("s3://{}/{}", state.bucket, state.lock_key()));
        let info = lock::LockInfo {
            deployment: id.clone(),
            owner: pre.who.clone(),
            host: pre.host.clone(),
            started: started.clone(),
            command: "deploy".into(),
            pid: std::process::id(),
        };
        match lock::acquire(cloud, state, &env.name, &info).await {
            Ok(()) => {}
            Err(lock::LockError::Held { holder, .. }) if holder.is_orphaned(&pre.host) => {
                recover(&run, &holder).await?;
                lock::acquire(cloud, state, &env.name, &info).await.map_err(|e| DeployError::Refused(e.to_string()))?;
            }
            Err(e) => return Err(DeployError::Refused(e.to_string())),
        }
        lock_journal(journal).locked = true;
    }
    let result = deploy_locked(&run, opts, &pre, &started, &live).await;
    let _ = lock::release(cloud, state, &id).await;
    lock_journal(journal).locked = false;
    result
}

async fn deploy_locked<C: Cloud>(
    run: &Run<'_, C>,
    opts: &DeployOptions,
    pre: &preflight::Preflight,
    started: &str,
    live: &crate::ops::media::LivePlan,
) -> Result<Record, DeployError> {
    let (cloud, env, app, state, journal, progress) = run.parts();
    let id = lock_journal(journal).id.clone();
    // adopted resources are read and compared before anything is written
    let pending = if app.adopted.is_empty() {
        vec![]
    } else {
        let _s = step(journal, "adopt");
        let pending = crate::ops::adopt::verify(cloud, app)
            .await
            .map_err(|e| DeployError::Refused(format!("{e}\nnothing in the environment was changed")))?;
        progress.step("adopt", &format!("{} adopted, {} to import", app.adopted.len(), pending.len()));
        pending
    };
    let backup = {
        let _s = step(journal, "backup");
        progress.step("backup", &format!("s3://{}/{}", state.bucket, state.backup_prefix(&id)));
        let b = backup::take(cloud, app, state, &id, &env.root).await?;
        let existed = b.stacks.iter().filter(|s| s.existed).count();
        progress.info(&format!(
            "{} items ({} stacks deployed, {} functions, {} files), read back and checked by sha256; local copy {}",
            b.items.len(),
            existed,
            b.functions.len(),
            b.files.iter().filter(|f| f.item.is_some()).count(),
            state.local_backup(&id).strip_prefix(&env.root).unwrap_or(&state.local_backup(&id)).display()
        ));
        lock_journal(journal).backup = Some(b.clone());
        b
    };
    let mut record = Record::new(
        &id,
        "deploy",
        &app.app,
        &env.name,
        &env.region,
        started,
        (&pre.who, &pre.host),
        &pre.identity.account,
    );
    record.commit = pre.commit.clone();
    record.dirty = pre.dirty;
    record.backup = Some(backup_ref(env, state, &id, &backup));
    // assets
    {
        let _s = step(journal, "assets");
        progress.step("assets", "content-addressed in the state bucket");
        let mut seen: Vec<(String, String)> = vec![];
        for s in &app.stacks {
            // Lambda takes code only from a bucket in the function's own region
            let bucket = state.assets_bucket(&s.region);
            let regional = cloud.for_region(&s.region);
            for a in &s.assets {
                if seen.contains(&(bucket.clone(), a.key.clone())) {
                    continue;
                }
                seen.push((bucket.clone(), a.key.clone()));
                if regional
                    .object_exists(&bucket, &a.key)
                    .await
                    .map_err(|e| DeployError::Refused(format!("assets: {e}")))?
                {
                    progress.info(&format!("{} unchanged ({} bytes, {})", a.key, a.size, a.source.display()));
                    continue;
                }
                let (bytes, built) = zip_asset(&env.root, a).map_err(|e| {
                    DeployError::Refused(format!(
                        "assets: {e}\nhelp: restore the folder or point the environment file at the code"
                    ))
                })?;
                if built.sha256 != a.sha256 {
                    return Err(DeployError::Refused(format!(
                        "assets: {} changed while deploying (sha256 {} became {}); nothing was deployed",
                        a.source.display(),
                        a.sha256,
                        built.sha256
                    )));
                }
                regional
                    .put_object(&bucket, &a.key, bytes, "application/zip", false)
                    .await
                    .map_err(|e| DeployError::Refused(format!("assets: {e}")))?;
                progress.info(&format!("{} uploaded to {bucket} ({} bytes, {})", a.key, a.size, a.source.display()));
            }
        }
        let mut keys: Vec<String> = seen.into_iter().map(|(_, k)| k).collect();
        keys.dedup();
        record.assets = keys;
    }
    let previous: Outputs = backup.stacks.iter().map(|s| (s.name.clone(), s.outputs.clone())).collect();
    let outcome = async {
        import_adopted(run, &pending).await?;
        off_air(run, live).await?;
        apply_all(run, opts, &previous, &mut record).await?;
        on_air(run, live, &mut record).await
    }
    .await;
    let failure = outcome.err();
    record.finished = now();
    record.steps = lock_journal(journal).step_times.clone();
    record.adopted = adopted_counts(run, &backup, &pending).await;
    match failure {
        None => {
            record.result = "succeeded".into();
            ledger::write(cloud, state, &record).await.map_err(|e| DeployError::Unrestored {
                id: id.clone(),
                env: env.name.clone(),
                failure: format!("the deployment succeeded but its record could not be written: {e}"),
                restore_error: "not attempted: the environment is at the new version".into(),
                backup: format!("s3://{}/{}", state.bucket, state.backup_prefix(&id)),
            })?;
            lock_journal(journal).record = Some(record.clone());
            Ok(record)
        }
        Some(failure) => {
            let touched = lock_journal(journal).touched.clone();
            if touched.is_empty() && !lock_journal(journal).files_written {
                record.result = "refused".into();
                record.error = Some(failure.clone());
                let _ = ledger::write(cloud, state, &record).await;
                return Err(DeployError::Refused(format!("{failure}\nnothing in the environment was changed")));
            }
            Err(fail_and_restore_on_air(run, &backup, record, failure).await)
        }
    }
}

/// Imports the adopted resources not yet in their stacks, stack by stack in the app's order,
/// before anything else is deployed (an import changes nothing else).
async fn import_adopted<C: Cloud>(run: &Run<'_, C>, pending: &[crate::ops::adopt::Pending]) -> Result<(), String> {
    let (cloud, _env, app, _state, journal, progress) = run.parts();
    for s in &app.stacks {
        let here: Vec<&crate::ops::adopt::Pending> = pending.iter().filter(|p| p.adopted.stack == s.name).collect();
        if here.is_empty() {
            continue;
        }
        let _s = step(journal, "import");
        touch(journal, &s.name);
        let names: Vec<String> =
            here.iter().map(|p| format!("{} as {}", p.adopted.identifier, p.adopted.logical_id)).collect();
        progress.step("import", &format!("{}: {}", s.stack_name, names.join(", ")));
        let description = s.template.description.clone().unwrap_or_default();
        let role = run.execution_role.get().cloned();
        crate::ops::adopt::import_stack(&cloud.for_region(&s.region), &s.stack_name, &description, &here, role).await?;
        progress.info(&format!("{}: IMPORT_COMPLETE, nothing else changed", s.stack_name));
    }
    Ok(())
}

/// Each adopted table's items before the run (from the backup) and after it.
async fn adopted_counts<C: Cloud>(
    run: &Run<'_, C>,
    backup: &Backup,
    pending: &[crate::ops::adopt::Pending],
) -> Vec<ledger::AdoptedRecord> {
    let (cloud, _env, app, _state, _journal, progress) = run.parts();
    let mut out = vec![];
    for b in &backup.adopted {
        let a = app.adopted.iter().find(|a| format!("{}.{}", a.stack, a.logical_id) == b.resource);
        let region = a
            .and_then(|a| app.stacks.iter().find(|s| s.name == a.stack))
            .map_or(cloud.region().to_string(), |s| s.region.clone());
        let after = match b.table {
            Some(_) => cloud.for_region(&region).count_items(&b.identifier).await.ok(),
            None => None,
        };
        if let (Some(before), Some(after)) = (b.items, after) {
            progress.info(&format!("{} ({}): {before} items before, {after} after", b.resource, b.identifier));
            if after < before {
                // castform deletes no item; fewer means writers outside this run (the apps' own
                // code, a TTL) removed some while it ran: said, not judged
                progress.info(&format!(
                    "note: {} has {} fewer items than before the run; castform wrote none of its items",
                    b.identifier,
                    before - after
                ));
            }
        }
        out.push(ledger::AdoptedRecord {
            resource: b.resource.clone(),
            identifier: b.identifier.clone(),
            imported: pending.iter().any(|p| format!("{}.{}", p.adopted.stack, p.adopted.logical_id) == b.resource),
            items_before: b.items,
            items_after: after,
        });
    }
    out
}

/// Where to find a run's backup, for its record.
pub(crate) fn backup_ref(env: &Environment, state: &StateStore, id: &str, backup: &Backup) -> BackupRef {
    let local = state.local_backup(id);
    BackupRef {
        location: format!("s3://{}/{}", state.bucket, state.backup_prefix(id)),
        local: local.strip_prefix(&env.root).unwrap_or(&local).display().to_string(),
        items: backup.items.len(),
        verified: true,
    }
}

/// A run failed after writing: restore what it touched from its backup, record the outcome,
/// and say what happened.
pub(crate) async fn fail_and_restore<C: Cloud>(
    run: &Run<'_, C>,
    backup: &Backup,
    mut record: Record,
    failure: String,
) -> DeployError {
    let (cloud, env, _, state, journal, _) = run.parts();
    let (touched, files_written, written) = {
        let j = lock_journal(journal);
        (j.touched.clone(), j.files_written, j.written.clone())
    };
    let id = record.id.clone();
    record.error = Some(failure.clone());
    record.finished = now();
    let outcome = restore(run, backup, &id, &touched, files_written && !written.is_empty(), &written).await;
    match outcome {
        Ok(restored) => {
            record.result = "rolled-back".into();
            record.restored = restored.clone();
            let _ = ledger::write(cloud, state, &record).await;
            DeployError::Restored { id, env: env.name.clone(), failure, restored }
        }
        Err(e) => {
            let _ = ledger::write(cloud, state, &record).await;
            DeployError::Unrestored {
                id: id.clone(),
                env: env.name.clone(),
                failure,
                restore_error: e,
                backup: format!("s3://{}/{}", state.bucket, state.backup_prefix(&id)),
            }
        }
    }
}

/// What a run applies to a stack, given the outputs of the stacks before it (`None`: leave it).
pub(crate) type DesiredOf<'a> =
    dyn Fn(&crate::template::Stack, &Outputs) -> Result<Option<Desired>, String> + Sync + 'a;

/// The stacks step of every run: each stack's template and parameters from `desired_of` (given
/// the outputs of the stacks before it; `None` leaves a stack as it is), in dependency waves with
/// independent stacks together, each through a change set; recorded, and the outputs returned.
pub(crate) async fn apply_stacks<C: Cloud>(
    run: &Run<'_, C>,
    headline: &str,
    guard: Guard,
    record: &mut Record,
    desired_of: &DesiredOf<'_>,
) -> Result<Outputs, String> {
    let (cloud, _, app, _, journal, progress) = run.parts();
    let id = record.id.clone();
    let mut outputs: Outputs = BTreeMap::new();
    let _s = step(journal, "stacks");
    progress.step("stacks", headline);
    for wave in waves(app) {
        let mut desired = vec![];
        for i in &wave {
            let s = &app.stacks[*i];
            match desired_of(s, &outputs)? {
                Some(d) => desired.push(d),
                None => progress.warn(&format!("stack {} is not part of this run; left as it is", s.name)),
            }
        }
        let change_set = format!("castform-{id}");
        let results = futures::future::join_all(desired.iter().map(|d| {
            let cs = change_set.clone();
            async move {
                let mark = || touch(journal, &d.name);
                let r = stacks::apply(cloud, d, guard, &cs, progress, &mark).await;
                if r.as_ref().map(|a| a.changed).unwrap_or_else(|f| !f.untouched) {
                    touch(journal, &d.name);
                }
                (d, r)
            }
        }))
        .await;
        let mut failures = vec![];
        for (d, r) in results {
            match r {
                Ok(applied) => {
                    record.stacks.insert(
                        d.name.clone(),
                        StackRecord {
                            stack_name: d.stack_name.clone(),
                            template_sha256: sha256_hex(d.body.as_bytes()),
                            parameters: d.parameters.clone(),
                            outputs: applied.outputs.clone(),
                            status: applied.status.clone(),
                            changed: applied.changed,
                            change_set: applied.change_set.clone(),
                        },
                    );
                    outputs.insert(d.name.clone(), applied.outputs);
                }
                Err(f) => failures.push(f.to_string()),
            }
        }
        if !failures.is_empty() {
            return Err(failures.join("; "));
        }
    }
    for (o, v) in propagate::values_with(app, &outputs, OutputRole::is_url) {
        record.urls.insert(format!("{}.{}", o.stack, o.output), v);
    }
    Ok(outputs)
}

/// The writing half of the propagate step of every run: each group of files in order
/// (configuration first, then the frontend: D01), then an invalidation of every distribution
/// serving them.
pub(crate) async fn write_files<C: Cloud>(
    run: &Run<'_, C>,
    outputs: &Outputs,
    groups: &[&[Rendered]],
    record: &mut Record,
) -> Result<(), String> {
    let (cloud, _, _, _, journal, progress) = run.parts();
    lock_journal(journal).files_written = true;
    let mut written = vec![];
    for files in groups {
        written.extend(propagate::write(cloud, files, journal).await.map_err(|e| e.to_string())?);
    }
    if groups.iter().any(|g| !g.is_empty()) {
        for d in propagate::distributions(run.parts().2, outputs) {
            cloud.invalidate(&d, &["/*"]).await.map_err(|e| format!("invalidating {d}: {e}"))?;
            progress.info(&format!("CloudFront {d}: invalidated /* (Completed)"));
        }
    }
    record.files = written;
    Ok(())
}

/// The verify step of every run: the health routes, and the served files (through the site's
/// URL where it has one); the checks go into the record, a failed one fails the run.
pub(crate) async fn verify_all<C: Cloud>(
    run: &Run<'_, C>,
    outputs: &Outputs,
    files: &[Rendered],
    record: &mut Record,
) -> Result<(), String> {
    let (cloud, _, app, _, journal, progress) = run.parts();
    let _s = step(journal, "verify");
    progress.step("verify", "health routes and served files");
    let mut checks = verify::health(cloud, app, outputs, progress).await;
    // the files are checked through the site served from their bucket's stack, where there is one
    let files_stack = app.files.first().map(|f| f.bucket.stack.clone());
    let site_url = propagate::values_with(app, outputs, |r| *r == OutputRole::SiteUrl)
        .into_iter()
        .find(|(o, _)| Some(&o.stack) == files_stack.as_ref())
        .map(|(_, v)| v);
    // the health-checked URLs a rendered file is written from (a site's config naming its API)
    let rendered_from: Vec<&crate::template::OutputRef> = app
        .files
        .iter()
        .flat_map(|f| f.values.iter())
        .filter_map(|(_, v)| match v {
            crate::template::FileValue::Output(o) => Some(o),
            _ => None,
        })
        .collect();
    let must_name: Vec<String> = app
        .health_checks
        .iter()
        .filter(|(o, _)| rendered_from.contains(&o))
        .filter_map(|(o, _)| outputs.get(&o.stack).and_then(|x| x.get(&o.output)).cloned())
        .collect();
    checks.extend(verify::served_files(cloud, files, site_url.as_deref(), &must_name).await);
    for c in &checks {
        progress.info(&format!("{} {}: {}", if c.ok { "ok" } else { "FAILED" }, c.name, c.detail));
    }
    record.checks = checks.clone();
    match checks.iter().find(|c| !c.ok) {
        Some(bad) => Err(format!("verification failed: {}: {}", bad.name, bad.detail)),
        None => Ok(()),
    }
}

/// A deploy's stacks, files and verification: the app's templates with parameters from the
/// upstream outputs, files rendered from the new outputs; a failure is returned as text for the
/// record.
async fn apply_all<C: Cloud>(
    run: &Run<'_, C>,
    opts: &DeployOptions,
    previous: &Outputs,
    record: &mut Record,
) -> Result<(), String> {
    let (cloud, env, app, state, journal, progress) = run.parts();
    let id = record.id.clone();
    let guard = Guard { retain_data: env.retain_data, allow_replace: opts.allow_replace, force: opts.force };
    let tags = stack_tags(env);
    let headline = format!("{} stacks in dependency order", app.stacks.len());
    let role = run.execution_role.get().cloned();
    let outputs = apply_stacks(run, &headline, guard, record, &|s, upstream| {
        Ok(Some(Desired {
            name: s.name.clone(),
            stack_name: s.stack_name.clone(),
            region: s.region.clone(),
            body: s.template.to_json(),
            parameters: parameters(s, upstream, state)?,
            tags: tags.clone(),
            role_arn: role.clone(),
        }))
    })
    .await?;
    let rendered = {
        let _s = step(journal, "propagate");
        progress.step("propagate", "files rendered from the new outputs, written as one unit");
        let rendered = propagate::render_all(app, &env.root, &outputs, previous, &id).map_err(|e| e.to_string())?;
        let site = propagate::site_files(app, &env.root, &outputs).map_err(|e| e.to_string())?;
        write_files(run, &outputs, &[&rendered, &site], record).await?;
        for f in &rendered {
            progress.info(&format!("s3://{}/{} ({} bytes)", f.bucket, f.key, f.body.len()));
        }
        progress.info(&format!("{} site files", site.len()));
        rendered
    };
    verify_all(run, &outputs, &rendered, record).await?;
    // what `castform rollback --to <id>` puts back: the templates and the rendered files
    let bodies: Vec<(String, String)> = app.stacks.iter().map(|s| (s.name.clone(), s.template.to_json())).collect();
    snapshot(cloud, state, &id, &bodies, &rendered)
        .await
        .map_err(|e| format!("storing the deployment's snapshot: {e}"))?;
    Ok(())
}

/// Stores a deployment's templates and rendered files under `<app>/<env>/deployments/<id>/`.
pub async fn snapshot<C: Cloud>(
    cloud: &C,
    state: &StateStore,
    id: &str,
    bodies: &[(String, String)],
    files: &[propagate::Rendered],
) -> Result<(), crate::aws::CloudError> {
    for (name, body) in bodies {
        cloud
            .put_object(
                &state.bucket,
                &state.snapshot_key(id, &format!("stacks/{name}.template.json")),
                body.clone().into_bytes(),
                "application/json",
                false,
            )
            .await?;
    }
    for f in files {
        cloud
            .put_object(
                &state.bucket,
                &state.snapshot_key(id, &format!("files/{}/{}", f.bucket, f.key)),
                f.body.clone(),
                &f.content_type,
                false,
            )
            .await?;
    }
    Ok(())
}

/// A deployment of this host was killed while it held the lock: put the environment back to
/// the backup it took (every stack of the app, every file castform writes; the restore is
/// idempotent, so what the killed run never reached is left as it is), record it, and release
/// its lock. Without a verified backup it had not written anything yet: the lock is released.
async fn recover<C: Cloud>(run: &Run<'_, C>, holder: &lock::LockInfo) -> Result<(), DeployError> {
    let (cloud, env, app, state, _, progress) = run.parts();
    progress.warn(&format!(
        "deployment {} (pid {} on {}, since {}) was interrupted while it held the lock",
        holder.deployment, holder.pid, holder.host, holder.started
    ));
    let failed = |e: String| DeployError::Unrestored {
        id: holder.deployment.clone(),
        env: env.name.clone(),
        failure: "interrupted".into(),
        restore_error: e,
        backup: format!("s3://{}/{}", state.bucket, state.backup_prefix(&holder.deployment)),
    };
    match backup::verify(cloud, state, &holder.deployment).await {
        Ok(b) => {
            let all: Vec<String> = app.stacks.iter().map(|s| s.name.clone()).collect();
            let restored = restore(run, &b, &holder.deployment, &all, true, &[]).await.map_err(failed)?;
            let mut record = Record::new(
                &holder.deployment,
                "deploy",
                &app.app,
                &env.name,
                &env.region,
                &holder.started,
                (&holder.owner, &holder.host),
                &env.account,
            );
            record.finished = now();
            record.result = "rolled-back".into();
            record.error = Some("interrupted: the process was killed; restored by the next run".into());
            record.backup = Some(BackupRef {
                location: format!("s3://{}/{}", state.bucket, state.backup_prefix(&holder.deployment)),
                local: String::new(),
                items: b.items.len(),
                verified: true,
            });
            record.restored = restored.clone();
            if let Ok(Some(body)) = cloud.get_object(&state.bucket, &state.ledger_key(&holder.deployment)).await
                && let Ok(existing) = serde_json::from_slice::<Record>(&body)
            {
                record.commit = existing.commit;
            }
            ledger::write(cloud, state, &record).await.map_err(|e| failed(e.to_string()))?;
            progress.info(&format!(
                "restored from its backup: {}",
                if restored.is_empty() { "nothing had changed".to_string() } else { restored.join(", ") }
            ));
        }
        Err(_) => progress.info("it had no verified backup yet, so it had written nothing"),
    }
    lock::force_release(cloud, state).await.map_err(|e| failed(e.to_string()))?;
    Ok(())
}

/// Restores the stacks this deployment touched and the files it wrote, from the backup.
pub async fn restore<C: Cloud>(
    run: &Run<'_, C>,
    backup: &Backup,
    id: &str,
    touched: &[String],
    files_written: bool,
    journal_written: &[(String, String)],
) -> Result<Vec<String>, String> {
    let (cloud, env, app, state, _, progress) = run.parts();
    progress.step("restore", &format!("back to the backup taken by {id}, in reverse order"));
    let before: BTreeMap<String, BTreeMap<String, String>> =
        backup.stacks.iter().filter(|s| s.existed).map(|s| (s.name.clone(), s.outputs.clone())).collect();
    let mut restored: Vec<String> =
        aliases_first(run, &before, Some(touched)).await.into_iter().map(|m| format!("alias {m}")).collect();
    let only: Vec<(String, String)> = journal_written.to_vec();
    if files_written {
        for f in
            backup.files.iter().filter(|f| only.is_empty() || only.iter().any(|(b, k)| *b == f.bucket && *k == f.key))
        {
            match &f.item {
                Some(item) => {
                    let body = backup::read_item(cloud, state, backup, item).await?;
                    cloud
                        .put_object(&f.bucket, &f.key, body, &f.content_type, false)
                        .await
                        .map_err(|e| e.to_string())?;
                    restored.push(format!("s3://{}/{}", f.bucket, f.key));
                }
                None => {
                    let _ = cloud.delete_object(&f.bucket, &f.key).await;
                }
            }
        }
        // viewers get the restored files, not the failed run's from the cache (code review)
        let outputs: propagate::Outputs = backup.stacks.iter().map(|s| (s.name.clone(), s.outputs.clone())).collect();
        for d in propagate::distributions(app, &outputs) {
            cloud.invalidate(&d, &["/*"]).await.map_err(|e| format!("invalidating {d} after the restore: {e}"))?;
            restored.push(format!("distribution {d} (cache invalidated)"));
        }
    }
    for s in app.stacks.iter().rev() {
        if !touched.contains(&s.name) {
            continue;
        }
        let Some(sb) = backup.stack(&s.name) else { continue };
        if sb.existed {
            let item = sb.template.clone().ok_or_else(|| format!("the backup of stack {} has no template", s.name))?;
            let body = backup::read_item(cloud, state, backup, &item).await?;
            let desired = Desired {
                name: s.name.clone(),
                stack_name: s.stack_name.clone(),
                region: s.region.clone(),
                body: String::from_utf8_lossy(&body).to_string(),
                parameters: sb.parameters.clone(),
                tags: sb.tags.clone(),
                role_arn: run.execution_role.get().cloned(),
            };
            stacks::apply(
                cloud,
                &desired,
                Guard { retain_data: env.retain_data, allow_replace: true, force: true },
                &format!("castform-restore-{id}"),
                progress,
                &|| {},
            )
            .await
            .map_err(|e| e.to_string())?;
            restored.push(format!("stack {} (template and parameters of the backup)", s.stack_name));
        } else {
            // this run made the stack and every bucket in it, and may have written the site
            // into one: S3 deletes only an empty bucket, so CloudFormation's delete would end
            // DELETE_FAILED (BucketNotEmpty) with the environment half there
            let regional = cloud.for_region(&s.region);
            if let Ok(resources) = regional.list_stack_resources(&s.stack_name).await {
                stacks::empty_buckets(&regional, app, &resources, progress).await?;
            }
            stacks::delete(cloud, &s.name, &s.stack_name, &s.region, progress).await.map_err(|e| e.to_string())?;
            restored.push(format!("stack {} (deleted: it did not exist before)", s.stack_name));
        }
    }
    Ok(restored)
}

/// Time to restore service: every function's `live` alias is pointed back at the version the
/// given outputs recorded (`<Fn>LiveVersion` beside `<Fn>Name`), one Lambda call each, before
/// the stacks are restored; the stacks then agree with it again. A move that fails is only
/// reported: the stack restore that follows sets the alias anyway. Returns the moves made.
pub(crate) async fn aliases_first<C: Cloud>(
    run: &Run<'_, C>,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
    only: Option<&[String]>,
) -> Vec<String> {
    let (cloud, _, app, _, _, progress) = run.parts();
    let mut moved = vec![];
    for s in &app.stacks {
        if only.is_some_and(|o| !o.contains(&s.name)) {
            continue;
        }
        let Some(o) = outputs.get(&s.name) else { continue };
        let regional = cloud.for_region(&s.region);
        for (output, role) in &s.roles {
            let OutputRole::LiveVersion { name } = role else { continue };
            let (Some(version), Some(function)) = (o.get(output), o.get(name)) else { continue };
            match regional.update_alias(function, "live", version).await {
                Ok(()) => moved.push(format!("{function}:live -> version {version}")),
                Err(e) => progress.warn(&format!("moving {function}:live back to version {version}: {e}")),
            }
        }
    }
    if !moved.is_empty() {
        progress.info(&format!("service first: {}", moved.join(", ")));
    }
    moved
}

/// `--restart-live` (media review L1): the pipeline goes off air for a change MediaLive makes
/// only while idle; the journal remembers it so a failure or an interruption starts it again.
pub(crate) async fn off_air<C: Cloud>(run: &Run<'_, C>, live: &crate::ops::media::LivePlan) -> Result<(), String> {
    let (cloud, _, _, _, journal, progress) = run.parts();
    if !live.restart {
        return Ok(());
    }
    let _s = step(journal, "off air");
    progress.step("off air", "stopping the pipeline for a change MediaLive makes only while idle");
    lock_journal(journal).stopped_live = Some(live.pipeline.clone());
    for d in crate::ops::media::stop_pipeline(cloud, &live.pipeline, live.stop_flow)
        .await
        .map_err(|e| format!("taking the pipeline off air: {e:#}"))?
    {
        progress.info(&d);
    }
    Ok(())
}

/// After the change: the pipeline [`off_air`] stopped is started again, and the stream checked
/// (flow ACTIVE, channel RUNNING, HLS answering); the checks go into the record.
pub(crate) async fn on_air<C: Cloud>(
    run: &Run<'_, C>,
    live: &crate::ops::media::LivePlan,
    record: &mut Record,
) -> Result<(), String> {
    let (cloud, _, app, _, journal, progress) = run.parts();
    if !live.restart {
        return Ok(());
    }
    let _s = step(journal, "on air");
    progress.step("on air", "starting the pipeline again and checking the stream");
    let pipeline = crate::ops::media::locate(cloud, app).await.map_err(|e| format!("{e:#}"))?;
    for d in crate::ops::media::start_pipeline(cloud, &pipeline).await.map_err(|e| format!("back on air: {e:#}"))? {
        progress.info(&d);
    }
    let checks = verify::stream(cloud, &pipeline).await;
    for c in &checks {
        progress.info(&format!("{} {}: {}", if c.ok { "ok" } else { "FAILED" }, c.name, c.detail));
    }
    record.checks.extend(checks.clone());
    if let Some(bad) = checks.iter().find(|c| !c.ok) {
        return Err(format!("the stream is not back: {}: {}", bad.name, bad.detail));
    }
    Ok(())
}

/// [`fail_and_restore`] for a run that may have taken the pipeline off air: the restore edits
/// the channel too, so it is stopped for it whatever state the failure left, and started again
/// after, so a failed run never leaves the stream off.
pub(crate) async fn fail_and_restore_on_air<C: Cloud>(
    run: &Run<'_, C>,
    backup: &Backup,
    record: Record,
    failure: String,
) -> DeployError {
    let (cloud, _, _, _, journal, _) = run.parts();
    let stopped = lock_journal(journal).stopped_live.clone();
    if let Some(p) = &stopped {
        let _ = crate::ops::media::stop_pipeline(cloud, p, false).await;
    }
    let err = fail_and_restore(run, backup, record, failure).await;
    if let Some(p) = &stopped {
        back_on_air(run, p).await;
    }
    err
}

/// Resolves when the run is asked to stop: Ctrl-C (SIGINT), SIGTERM (a CI job cancelled, a
/// container stopped) or SIGHUP (the terminal went away). A deploy or rollback then restores
/// what it changed before exiting ([`interrupted`]).
pub async fn interruption() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Runs a deploy or a rollback (`work`) until it ends or the process is asked to stop; then
/// what it changed is restored ([`interrupted`]) before the error is returned.
pub async fn until_interrupted<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    progress: &Progress,
    journal: &Mutex<Journal>,
    work: impl std::future::Future<Output = Result<Record, DeployError>>,
) -> Result<Record, DeployError> {
    tokio::select! {
        r = work => r,
        _ = interruption() => Err(interrupted(cloud, env, app, progress, journal).await),
    }
}

/// A failed or interrupted deploy never leaves the stream off: the pipeline this run took off air
/// is started again (or the user is told the command that does it).
async fn back_on_air<C: Cloud>(run: &Run<'_, C>, p: &crate::ops::media::Pipeline) {
    let (cloud, env, _, _, _, progress) = run.parts();
    match crate::ops::media::start_pipeline(cloud, p).await {
        Ok(done) => done.iter().for_each(|d| progress.info(&format!("back on air: {d}"))),
        Err(e) => progress
            .warn(&format!("the pipeline could not be started again: {e:#}; run `castform media start {}`", env.name)),
    }
}

/// After an interruption (Ctrl-C, SIGTERM): restore what the journal says this run may have
/// changed, a stack whose change set was executing included (the restore waits for its operation
/// to settle first), put a pipeline this run took off air back on air, and release the lock.
pub async fn interrupted<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    progress: &Progress,
    journal: &Mutex<Journal>,
) -> DeployError {
    progress.warn("interrupted: restoring what this run changed");
    let (id, backup, touched, files, written, locked, stopped) = {
        let j = lock_journal(journal);
        (
            j.id.clone(),
            j.backup.clone(),
            j.touched.clone(),
            j.files_written,
            j.written.clone(),
            j.locked,
            j.stopped_live.clone(),
        )
    };
    let run = Run::new(cloud, env, app, progress, journal);
    let state = &run.state;
    if let Some(p) = &stopped {
        let _ = crate::ops::media::stop_pipeline(cloud, p, false).await;
    }
    let outcome = match backup {
        Some(b) if !touched.is_empty() || files => match restore(&run, &b, &id, &touched, files, &written).await {
            Ok(restored) => DeployError::Restored {
                id: id.clone(),
                env: env.name.clone(),
                failure: "interrupted (Ctrl-C, SIGTERM or SIGHUP)".into(),
                restored,
            },
            Err(e) => DeployError::Unrestored {
                id: id.clone(),
                env: env.name.clone(),
                failure: "interrupted (Ctrl-C, SIGTERM or SIGHUP)".into(),
                restore_error: e,
                backup: format!("s3://{}/{}", state.bucket, state.backup_prefix(&id)),
            },
        },
        _ => DeployError::Refused(
            "interrupted (Ctrl-C, SIGTERM or SIGHUP) before anything in the environment was changed".into(),
        ),
    };
    if let Some(p) = &stopped {
        back_on_air(&run, p).await;
    }
    if !matches!(outcome, DeployError::Refused(_)) {
        // the ledger says what happened to this run
        let (who, host) = crate::state::who();
        let mut record =
            Record::new(&id, "deploy", &app.app, &env.name, &env.region, &now(), (&who, &host), &env.account);
        record.finished = now();
        record.error = Some("interrupted (Ctrl-C, SIGTERM or SIGHUP)".into());
        if let DeployError::Restored { restored, .. } = &outcome {
            record.result = "rolled-back".into();
            record.restored = restored.clone();
        }
        let _ = ledger::write(cloud, state, &record).await;
    }
    if locked {
        let _ = lock::release(cloud, state, &id).await;
    }
    outcome
}
