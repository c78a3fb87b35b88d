//! A run stopped while it held the lock (killed, or cut off in its own restore): its lock taken
//! over, so one recoverer restores it, and its environment put back to its verified backup, by
//! the next run of its host or by `castform unlock ENV --restore` from any host (review S3-21).

use super::*;
use crate::state::Liveness;
use crate::state::lock::{LockInfo, Restoring};

/// Takes the lock `holder` left (ETag `etag`) over for this run (`me`), conditional on that very
/// version (`If-Match`): of two runs that try, one wins and the other is refused with the winner.
/// The lock then says which restore this run makes, so if it is killed too, whoever comes next
/// resumes that restore rather than looking for a backup of this run. Returns the new ETag.
pub(super) async fn take_over<C: Cloud>(
    run: &Run<'_, C>,
    me: &LockInfo,
    holder: &LockInfo,
    etag: &str,
) -> Result<String, DeployError> {
    let target = Restoring::of_holder(holder);
    let claim = LockInfo { restoring: Some(Box::new(target.clone())), ..me.clone() };
    let etag = lock::replace(run.cloud, &run.state, &run.env.name, etag, &claim)
        .await
        .map_err(|e| DeployError::Refused(e.to_string()))?;
    let mut j = lock_journal(run.journal);
    j.locked = true;
    j.lock = Some(claim);
    j.lock_etag = Some(etag.clone());
    j.recovering = Some(target);
    Ok(etag)
}

/// A restore of a stopped run that failed: its lock goes back to that run (`If-Match` on the
/// claim), with the restore still to make, so the next run of its host resumes it as it would
/// have, and `castform unlock ENV --restore` from anywhere; this run no longer holds it.
pub(super) async fn hand_back<C: Cloud>(run: &Run<'_, C>) {
    let (target, etag) = {
        let mut j = lock_journal(run.journal);
        j.locked = false;
        (j.recovering.take(), j.lock_etag.take())
    };
    let (Some(target), Some(etag)) = (target, etag) else { return };
    let back = LockInfo { restoring: Some(Box::new(target.clone())), ..target.run };
    if let Err(e) = lock::replace(run.cloud, &run.state, &run.env.name, &etag, &back).await {
        run.progress.warn(&format!("the lock could not be handed back to {}: {e}", back.deployment));
    }
}

/// Puts the environment of a run that was stopped while it held the lock back to the backup it
/// took (what `target` says it may have changed; the restore is idempotent, so what the run never
/// reached is left as it is), and records it as the kind of run it was. A run that recorded its
/// success is left as it is; a destroy, gc or media operation has no backup and is not undone;
/// a run killed before its backup was complete had written nothing. The lock is the caller's.
pub(super) async fn recover<C: Cloud>(run: &Run<'_, C>, target: &Restoring) -> Result<Record, DeployError> {
    let (cloud, env, app, state, _, progress) = run.parts();
    let killed = &target.run;
    let id = &killed.deployment;
    progress.warn(&format!(
        "{} {id} (pid {} on {}, since {}) was stopped while it held the lock",
        killed.kind(),
        killed.pid,
        killed.host,
        killed.started
    ));
    let backup_at = format!("s3://{}/{}", state.bucket, state.backup_prefix(id));
    let failed = |e: String| DeployError::Unrestored {
        id: id.clone(),
        env: env.name.clone(),
        failure: "stopped while it held the lock".into(),
        restore_error: format!(
            "{e}\nthe lock goes back to it, with the restore to make: `castform unlock {} --restore` resumes it from any host",
            env.name
        ),
        backup: backup_at.clone(),
    };
    let existing = match cloud.get_object(&state.bucket, &state.ledger_key(id)).await {
        Ok(Some(body)) => serde_json::from_slice::<Record>(&body).ok(),
        _ => None,
    };
    if let Some(done) = existing.clone().filter(|r| r.result == "succeeded") {
        progress.info("it had recorded its success: nothing to restore");
        return Ok(done);
    }
    let mut record = existing.unwrap_or_else(|| {
        Record::new(
            id,
            "",
            &app.app,
            &env.name,
            &env.region,
            &killed.started,
            (&killed.owner, &killed.host),
            &env.account,
        )
    });
    // the kind the killed run was, as its lock names it (review S3-38)
    record.kind = killed.kind().to_string();
    record.finished = now();
    if matches!(killed.kind(), "deploy" | "rollback") {
        match backup::of_killed_run(cloud, state, id).await.map_err(|e| failed(e.to_string()))? {
            Some(b) => {
                let stacks: Vec<String> = if target.stacks.is_empty() {
                    app.stacks.iter().map(|s| s.name.clone()).collect()
                } else {
                    target.stacks.clone()
                };
                let restored =
                    restore_on_air(run, &b, id, &stacks, target.files, &target.written).await.map_err(failed)?;
                progress.info(&format!(
                    "restored from its backup: {}",
                    if restored.is_empty() { "nothing had changed".to_string() } else { restored.join(", ") }
                ));
                record.result = "rolled-back".into();
                record.error = Some("interrupted: the process was stopped; restored from its backup".into());
                record.backup = Some(BackupRef {
                    location: backup_at.clone(),
                    local: String::new(),
                    items: b.items.len(),
                    verified: true,
                });
                record.restored = restored;
            }
            None => {
                progress.info("it had no complete backup yet, so it had written nothing");
                record.result = "interrupted".into();
                record.error =
                    Some("the process was killed before its backup was complete; it had written nothing".into());
            }
        }
    } else {
        // nothing to put back: a destroy, gc or media operation is not undone
        let advice = format!(
            "the process was killed; a {} is not undone: run `castform {} {}` again to finish it",
            killed.kind(),
            killed.kind().replace('-', " "),
            env.name
        );
        progress.info(&advice);
        record.result = "interrupted".into();
        record.error = Some(advice);
    }
    ledger::write(cloud, state, &record).await.map_err(|e| failed(e.to_string()))?;
    Ok(record)
}

/// `castform unlock ENV --restore`: the run holding the lock was stopped (a CI job cancelled or
/// killed, on this host or another): its lock is taken over (one recoverer wins), its environment
/// put back to its verified backup, resuming a restore that was cut off, recorded, and the lock
/// released. Refused where the holder runs on this very host; an environment that asks for
/// confirmation asks for its name (or `yes`).
pub async fn resume<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    yes: bool,
    progress: &Progress,
    journal: &Mutex<Journal>,
) -> Result<Record, DeployError> {
    lock_journal(journal).kind = "restore";
    let run = Run::new(cloud, env, app, progress, journal);
    let opts = DeployOptions { skip_checks: true, allow_dirty: true, yes: true, ..DeployOptions::default() };
    let pre = preflight::run(cloud, env, app, &run.state, &opts, progress).await?;
    if let Some(role) = &pre.execution_role {
        let _ = run.execution_role.set(role.clone());
    }
    let Some((holder, etag)) =
        lock::current_tagged(cloud, &run.state).await.map_err(|e| DeployError::Refused(e.to_string()))?
    else {
        return Err(DeployError::Refused(format!(
            "{} is not locked: no run was stopped while it held the lock, so there is nothing to resume\nhelp: `castform history {}` lists the runs; `castform rollback {}` goes back to an earlier deployment",
            env.name, env.name, env.name
        )));
    };
    match holder.liveness_here(&pre.host) {
        Some(Liveness::Running) => {
            return Err(DeployError::Refused(format!(
                "deployment {} holds the lock of {} and its process (pid {}) runs on this host; nothing was restored\nhelp: wait for it to finish, or stop it: Ctrl-C restores what it changed",
                holder.deployment, env.name, holder.pid
            )));
        }
        Some(Liveness::Unknown(why)) => progress.warn(&format!(
            "whether its process (pid {}) still runs cannot be told ({why}); going on, as asked",
            holder.pid
        )),
        _ => {}
    }
    let target = Restoring::of_holder(&holder);
    progress.warn(&format!(
        "the lock of {} is held by {} {} ({} on {}, since {}){}: its environment is put back to the backup of {}",
        env.name,
        holder.kind(),
        holder.deployment,
        holder.owner,
        holder.host,
        holder.started,
        if holder.restoring.is_some() { ", which was restoring it" } else { "" },
        target.run.deployment
    ));
    if env.confirm && !yes {
        confirm(env, &target.run.deployment).await?;
    }
    let me = LockInfo::of_this_process(&run.id(), &pre.who, &pre.host, &now(), "unlock --restore");
    take_over(&run, &me, &holder, &etag).await?;
    match recover(&run, &target).await {
        Ok(record) => {
            lock_journal(journal).recovering = None;
            unlock(&run).await;
            Ok(record)
        }
        Err(e) => {
            hand_back(&run).await;
            Err(e)
        }
    }
}

/// The environment's name, typed at the terminal, before a restore of an environment that asks.
async fn confirm(env: &Environment, deployment: &str) -> Result<(), DeployError> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(DeployError::Refused(format!(
            "{} asks for confirmation and this run is not interactive; nothing was restored\nhelp: pass --yes to restore {} to the backup of {deployment}",
            env.file, env.name
        )));
    }
    let line = crate::ui::ask(&format!(
        "type the environment's name ({}) to restore it to the backup of {deployment}: ",
        env.name
    ))
    .await;
    if line.trim() != env.name {
        return Err(DeployError::Refused(format!("confirmation did not match `{}`; nothing was restored", env.name)));
    }
    Ok(())
}

/// `castform unlock ENV --force`: the lock broken whoever holds it (only the version read: one
/// taken meanwhile is refused), and the holder's `in-progress` record, if any, says its
/// environment was not restored. Returns who held it.
pub async fn break_lock<C: Cloud>(cloud: &C, env: &Environment) -> Result<Option<LockInfo>, crate::aws::CloudError> {
    let state = StateStore::new(env);
    let Some(holder) = lock::force_release(cloud, &state).await? else { return Ok(None) };
    if let Ok(Some(body)) = cloud.get_object(&state.bucket, &state.ledger_key(&holder.deployment)).await
        && let Ok(mut record) = serde_json::from_slice::<Record>(&body)
        && record.in_progress()
    {
        record.result = "interrupted".into();
        record.finished = now();
        record.error = Some(format!(
            "its lock was broken by `castform unlock {} --force`; its environment was not restored",
            env.name
        ));
        ledger::write(cloud, &state, &record).await?;
    }
    Ok(Some(holder))
}

/// The restore of a killed run, around its pipeline: a `--restart-live` run took the pipeline off
/// air (it says so in its backup folder before stopping it); stopped for the restore (which may
/// edit the channel) and started again after it, as the run itself would have (SIM-03: the
/// recovery left the channel off).
async fn restore_on_air<C: Cloud>(
    run: &Run<'_, C>,
    backup: &Backup,
    id: &str,
    stacks: &[String],
    files: bool,
    written: &[(String, String)],
) -> Result<Vec<String>, String> {
    let (cloud, _, _, state, _, _) = run.parts();
    let stopped: Option<crate::ops::media::Pipeline> =
        match cloud.get_object(&state.bucket, &state.off_air_key(id)).await {
            Ok(Some(body)) => serde_json::from_slice(&body).ok(),
            Ok(None) => None,
            Err(e) => return Err(format!("reading whether it took the pipeline off air: {e}")),
        };
    if let Some(p) = &stopped {
        let _ = crate::ops::media::stop_pipeline(cloud, &pipeline_now(run, p).await, false).await;
    }
    let restored = restore(run, backup, id, stacks, files, written).await;
    if let Some(p) = &stopped {
        back_on_air(run, p).await;
    }
    restored
}
