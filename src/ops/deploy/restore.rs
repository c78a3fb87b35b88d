//! Restore: a failed, interrupted or killed run put back to its verified backup, in reverse
//! order and service first (the `live` aliases before the stacks), then recorded (D03).

use super::*;

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
    record.error = Some(crate::ui::redact::redact(&failure));
    record.finished = now();
    let outcome = restore(run, backup, &id, &touched, files_written && !written.is_empty(), &written).await;
    record.leftovers = lock_journal(journal).leftovers.clone();
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
    // a file or an invalidation that fails does not stop the stacks' restore: every error is
    // collected and said at the end (review S3-19)
    let mut errors: Vec<String> = vec![];
    if files_written {
        restore_files(run, backup, journal_written, &mut restored, &mut errors).await;
    }
    let force = lock_journal(run.journal).force;
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
                limits: stacks::Limits::of(env, &s.region),
            };
            stacks::apply(
                cloud,
                &desired,
                // a stuck rollback's resources are skipped where data is retained only if the
                // run was given --force (second review: the restore bypassed S3-23's guard)
                Guard { retain_data: env.retain_data, allow_replace: true, force },
                // a name of this attempt's own: an earlier attempt's leftover change set never blocks it
                &format!("castform-restore-{id}-{}", crate::state::clock::new_id()),
                progress,
                &|| {},
            )
            .await
            .map_err(|e| e.to_string())?;
            restored.push(format!("stack {} (template and parameters of the backup)", s.stack_name));
            left_in_place(run, s, Some(&desired.body), &mut restored).await;
        } else {
            // this run made the stack and every bucket in it, and may have written the site
            // into one: S3 deletes only an empty bucket, so CloudFormation's delete would end
            // DELETE_FAILED (BucketNotEmpty) with the environment half there
            let regional = cloud.for_region(&s.region);
            // a stack this run only meant to make (its change set never created, or already
            // gone) has nothing to delete (SIM-02)
            if regional.describe_stack(&s.stack_name).await.map_err(|e| e.to_string())?.is_none() {
                continue;
            }
            // a table this run made that holds items by now (written while a killed run's stack
            // stood) is data: its stack is kept, and said, rather than deleted with it (found by
            // the simulation's nothing-lost property)
            let holding = tables_with_data(&regional, &s.stack_name).await?;
            if !holding.is_empty() {
                errors.push(format!(
                    "stack {} kept, though it did not exist before: its {} {} items written since (delete the stack by hand once they are not needed, or deploy again)",
                    s.stack_name,
                    if holding.len() == 1 { "table holds" } else { "tables hold" },
                    holding.join(", ")
                ));
                continue;
            }
            if let Ok(resources) = regional.list_stack_resources(&s.stack_name).await {
                crate::ops::destroy::empty_buckets(&regional, app, &s.stack_name, &resources, progress).await?;
            }
            stacks::delete(cloud, &s.name, &s.stack_name, &s.region, env.stack_timeout, progress)
                .await
                .map_err(|e| e.to_string())?;
            restored.push(format!("stack {} (deleted: it did not exist before)", s.stack_name));
            left_in_place(run, s, None, &mut restored).await;
        }
    }
    // the adopted resources this run imported, which the restored stacks no longer hold: put back
    // from the backup, or said not to be (review S3-02)
    adopted::put_back(run, backup, touched, &mut restored, &mut errors).await;
    if !errors.is_empty() {
        return Err(format!(
            "{}; the stacks were restored: {}",
            errors.join("; "),
            restored.iter().filter(|r| r.starts_with("stack ")).cloned().collect::<Vec<_>>().join(", ")
        ));
    }
    Ok(restored)
}

/// What this run created in a stack that stays although the restore took it out (its
/// `DeletionPolicy` keeps it): said, and kept for the record (review S3-20).
async fn left_in_place<C: Cloud>(
    run: &Run<'_, C>,
    s: &crate::template::Stack,
    before: Option<&str>,
    restored: &mut Vec<String>,
) {
    for l in adopted::left_behind(run, s, before).await {
        restored.push(format!(
            "left in place (its DeletionPolicy keeps it): {} {} ({}); the next deploy offers to adopt it",
            l.resource_type, l.name, l.resource
        ));
        let mut j = lock_journal(run.journal);
        if !j.leftovers.contains(&l) {
            j.leftovers.push(l);
        }
    }
}

/// The files a run wrote, put back from the backup (or deleted, where they did not exist before),
/// then every distribution serving them invalidated; what fails goes into `errors`.
async fn restore_files<C: Cloud>(
    run: &Run<'_, C>,
    backup: &Backup,
    written: &[(String, String)],
    restored: &mut Vec<String>,
    errors: &mut Vec<String>,
) {
    let (cloud, _, app, state, _, _) = run.parts();
    for f in
        backup.files.iter().filter(|f| written.is_empty() || written.iter().any(|(b, k)| *b == f.bucket && *k == f.key))
    {
        match &f.item {
            Some(item) => {
                let put = match backup::read_item(cloud, state, backup, item).await {
                    // a PUT whose answer is lost is read back: our bytes there are restored
                    Ok(body) => backup::put_confirmed(cloud, &f.bucket, &f.key, body, &f.content_type)
                        .await
                        .map_err(|e| e.to_string()),
                    Err(e) => Err(e),
                };
                match put {
                    Ok(()) => restored.push(format!("s3://{}/{}", f.bucket, f.key)),
                    Err(e) => errors.push(format!("s3://{}/{} not restored: {e}", f.bucket, f.key)),
                }
            }
            // a file this run added goes, and a delete that fails is said (second review)
            None => match cloud.delete_object(&f.bucket, &f.key).await {
                Ok(()) => restored.push(format!("s3://{}/{} (deleted: it did not exist before)", f.bucket, f.key)),
                Err(e) => errors.push(format!("s3://{}/{} (new in this run) not deleted: {e}", f.bucket, f.key)),
            },
        }
    }
    // viewers get the restored files, not the failed run's from the cache
    let outputs: propagate::Outputs = backup.stacks.iter().map(|s| (s.name.clone(), s.outputs.clone())).collect();
    for d in propagate::distributions(app, &outputs) {
        match cloud.invalidate(&d, &["/*"]).await {
            Ok(()) => restored.push(format!("distribution {d} (cache invalidated)")),
            Err(e) => errors.push(format!("invalidating {d} after the restore: {e}")),
        }
    }
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
        // what runs now: the run may have started a new channel that replaced the stopped one
        let _ = crate::ops::media::stop_pipeline(cloud, &pipeline_now(run, p).await, false).await;
    }
    let err = fail_and_restore(run, backup, record, failure).await;
    if let Some(p) = &stopped {
        back_on_air(run, p).await;
    }
    err
}

/// The tables of a stack that its deletion would delete (not `Retain` in its deployed template)
/// and that hold at least one item.
async fn tables_with_data<C: Cloud>(cloud: &C, stack_name: &str) -> Result<Vec<String>, String> {
    let resources = cloud.list_stack_resources(stack_name).await.map_err(|e| e.to_string())?;
    let deployed: serde_json::Value =
        cloud.get_template(stack_name).await.ok().and_then(|body| serde_json::from_str(&body).ok()).unwrap_or_default();
    let mut out = vec![];
    for r in resources.iter().filter(|r| r.resource_type == "AWS::DynamoDB::Table" && !r.physical_id.is_empty()) {
        let retained = deployed["Resources"][r.logical_id.as_str()]["DeletionPolicy"] == "Retain";
        if !retained && cloud.holds_items(&r.physical_id).await.map_err(|e| e.to_string())? {
            out.push(r.physical_id.clone());
        }
    }
    Ok(out)
}
