//! `castform rollback ENV [--to ID]`: put back a recorded deployment as a unit: its templates and
//! parameters (which pin its content-addressed code, still in the state bucket), its rendered
//! files, and with them the `live` alias; then verify and record. The current state is backed up
//! first, and a failed rollback restores it like a failed deploy.

use super::propagate::Rendered;
use super::{DeployError, DeployOptions, Journal, backup, lock_journal, preflight, step};
use crate::aws::Cloud;
use crate::config::Environment;
use crate::ops::changeset::{Desired, Guard};
use crate::state::ledger::{self, Record};
use crate::state::{clock::now, lock};
use crate::template::{App, OutputRole, sha256_hex};
use crate::ui::progress::Progress;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The deployment a rollback goes back to: `to` if given, else the last successful one before
/// the current state (the newest successful deployment or rollback).
pub fn target<'a>(records: &'a [Record], to: Option<&str>) -> Result<&'a Record, DeployError> {
    let good: Vec<&Record> = records.iter().filter(|r| r.result == "succeeded").collect();
    match to {
        Some(id) => {
            let r = records.iter().find(|r| r.id == id).ok_or_else(|| {
                DeployError::Refused(format!("no deployment {id} in the history\nhelp: `castform history` lists them"))
            })?;
            if r.result != "succeeded" || r.kind != "deploy" {
                return Err(DeployError::Refused(format!(
                    "deployment {id} is a {} that {}; only a successful deploy can be rolled back to",
                    r.kind, r.result
                )));
            }
            Ok(r)
        }
        None => {
            let current =
                good.last().ok_or_else(|| DeployError::Refused("no successful deployment is recorded".into()))?;
            // the newest successful deploy whose templates differ from the current state
            good.iter()
                .rev()
                .skip(1)
                .find(|r| r.kind == "deploy" && r.stacks.iter().any(|(n, s)| current.stacks.get(n).is_none_or(|c| c.template_sha256 != s.template_sha256 || c.parameters != s.parameters)))
                .copied()
                .ok_or_else(|| DeployError::Refused("there is no earlier successful deployment that differs from the current one\nhelp: `castform history` lists them".into()))
        }
    }
}

pub async fn rollback<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    to: Option<&str>,
    opts: &DeployOptions,
    progress: &Progress,
    journal: &Mutex<Journal>,
) -> Result<Record, DeployError> {
    let run = super::Run::new(cloud, env, app, progress, journal);
    let state = &run.state;
    let started = now();
    let clock = std::time::Instant::now();
    let id = lock_journal(journal).id.clone();
    let opts = DeployOptions { skip_checks: true, ..opts.clone() };
    let pre = {
        let _s = step(journal, "preflight");
        preflight::run(cloud, env, app, state, &opts, progress).await?
    };
    if let Some(role) = &pre.execution_role {
        let _ = run.execution_role.set(role.clone());
    }
    let records = ledger::list(cloud, state).await.map_err(|e| DeployError::Refused(e.to_string()))?;
    let target = target(&records, to)?.clone();
    progress.info(&format!(
        "rolling back to {} (commit {}, {})",
        target.id,
        target.commit.chars().take(12).collect::<String>(),
        target.finished
    ));
    {
        let _s = step(journal, "lock");
        let info = lock::LockInfo {
            deployment: id.clone(),
            owner: pre.who.clone(),
            host: pre.host.clone(),
            started: started.clone(),
            command: format!("rollback --to {}", target.id),
            pid: std::process::id(),
        };
        lock::acquire(cloud, state, &env.name, &info).await.map_err(|e| DeployError::Refused(e.to_string()))?;
        lock_journal(journal).locked = true;
    }
    let result = rollback_locked(&run, &opts, &target, &pre, &started, clock).await;
    let _ = lock::release(cloud, state, &id).await;
    lock_journal(journal).locked = false;
    result
}

async fn rollback_locked<C: Cloud>(
    run: &super::Run<'_, C>,
    opts: &DeployOptions,
    target: &Record,
    pre: &preflight::Preflight,
    started: &str,
    clock: std::time::Instant,
) -> Result<Record, DeployError> {
    let (cloud, env, app, state, journal, progress) = run.parts();
    let id = lock_journal(journal).id.clone();
    // the target's snapshot must be complete before anything is touched
    let mut bodies: BTreeMap<String, String> = BTreeMap::new();
    for (name, s) in &target.stacks {
        let key = state.snapshot_key(&target.id, &format!("stacks/{name}.template.json"));
        let body =
            cloud.get_object(&state.bucket, &key).await.map_err(|e| DeployError::Refused(e.to_string()))?.ok_or_else(
                || {
                    DeployError::Refused(format!(
                        "deployment {} has no stored template for stack {name} (s3://{}/{key})",
                        target.id, state.bucket
                    ))
                },
            )?;
        if sha256_hex(&body) != s.template_sha256 {
            return Err(DeployError::Refused(format!(
                "the stored template of stack {name} for {} does not match its recorded sha256; nothing was changed",
                target.id
            )));
        }
        bodies.insert(name.clone(), String::from_utf8_lossy(&body).to_string());
    }
    for key in &target.assets {
        if !cloud.object_exists(&state.bucket, key).await.map_err(|e| DeployError::Refused(e.to_string()))? {
            return Err(DeployError::Refused(format!(
                "asset {key} of deployment {} is gone from the state bucket; it cannot be restored",
                target.id
            )));
        }
    }
    let mut files: Vec<Rendered> = vec![];
    for f in &app.files {
        let Some(bucket) = target.stacks.get(&f.bucket.stack).and_then(|s| s.outputs.get(&f.bucket.output)) else {
            continue;
        };
        let key = state.snapshot_key(&target.id, &format!("files/{bucket}/{}", f.key));
        if let Some(body) =
            cloud.get_object(&state.bucket, &key).await.map_err(|e| DeployError::Refused(e.to_string()))?
        {
            files.push(Rendered {
                bucket: bucket.clone(),
                key: f.key.clone(),
                content_type: f.content_type.clone(),
                body,
            });
        }
    }
    // P08 for the recorded templates: a rollback that edits a channel on air is refused, or
    // done off air with --restart-live, like a deploy
    let live = {
        let recorded: BTreeMap<String, serde_json::Value> =
            bodies.iter().filter_map(|(n, b)| serde_json::from_str(b).ok().map(|v| (n.clone(), v))).collect();
        let plan = crate::ops::media::plan_against(cloud, app, &|s| recorded.get(&s.name).cloned())
            .await
            .map_err(|e| DeployError::Refused(format!("P08 live media: reading the pipeline's state: {e:#}")))?;
        crate::ops::media::decide(plan, env, opts.restart_live, opts.allow_replace).map_err(DeployError::Refused)?
    };
    let backup = {
        let _s = step(journal, "backup");
        progress.step("backup", &format!("s3://{}/{}", state.bucket, state.backup_prefix(&id)));
        let b = backup::take(cloud, app, state, &id, &env.root).await?;
        lock_journal(journal).backup = Some(b.clone());
        b
    };
    let mut record = Record::new(
        &id,
        "rollback",
        &app.app,
        &env.name,
        &env.region,
        started,
        (&pre.who, &pre.host),
        &pre.identity.account,
    );
    record.commit = target.commit.clone();
    record.dirty = target.dirty;
    record.assets = target.assets.clone();
    record.backup = Some(super::backup_ref(env, state, &id, &backup));
    record.restored_to = Some(target.id.clone());
    let outcome: Result<(), String> = async {
        super::off_air(run, &live).await?;
        // time to restore service: the old code answers once the aliases are back, before the
        // stacks (and everything else) are
        let recorded: BTreeMap<String, BTreeMap<String, String>> =
            target.stacks.iter().map(|(n, s)| (n.clone(), s.outputs.clone())).collect();
        let moved = super::aliases_first(run, &recorded, None).await;
        if !moved.is_empty() {
            // a failure from here restores these stacks, their aliases first
            // the stacks whose functions' aliases moved
            for s in
                app.stacks.iter().filter(|s| s.roles.iter().any(|(_, r)| matches!(r, OutputRole::LiveVersion { .. })))
            {
                if recorded.contains_key(&s.name) {
                    super::touch(journal, &s.name);
                }
            }
            record.service_restored_ms = Some(clock.elapsed().as_millis() as u64);
        }
        let guard = Guard { retain_data: env.retain_data, allow_replace: opts.allow_replace, force: opts.force };
        let tags = super::stack_tags(env);
        let headline = format!("back to the templates and parameters of {}", target.id);
        let role = run.execution_role.get().cloned();
        let outputs = super::apply_stacks(run, &headline, guard, &mut record, &|s, _| {
            Ok(target.stacks.get(&s.name).zip(bodies.get(&s.name)).map(|(rec, body)| Desired {
                name: s.name.clone(),
                stack_name: s.stack_name.clone(),
                region: s.region.clone(),
                body: body.clone(),
                parameters: rec.parameters.clone(),
                tags: tags.clone(),
                role_arn: role.clone(),
            }))
        })
        .await?;
        {
            let _s = step(journal, "propagate");
            progress.step("propagate", &format!("the files of {}", target.id));
            super::write_files(run, &outputs, &[&files], &mut record).await?;
        }
        super::verify_all(run, &outputs, &files, &mut record).await?;
        super::on_air(run, &live, &mut record).await
    }
    .await;
    record.finished = now();
    record.total_ms = Some(clock.elapsed().as_millis() as u64);
    record.steps = lock_journal(journal).step_times.clone();
    match outcome {
        Ok(()) => {
            record.result = "succeeded".into();
            // the rolled-back state is itself a deployment one can return to
            let bodies: Vec<(String, String)> = bodies.into_iter().collect();
            let _ = super::snapshot(cloud, state, &id, &bodies, &files).await;
            ledger::write(cloud, state, &record)
                .await
                .map_err(|e| DeployError::Refused(format!("rolled back, but the record could not be written: {e}")))?;
            Ok(record)
        }
        Err(failure) => Err(super::fail_and_restore_on_air(run, &backup, record, failure).await),
    }
}
