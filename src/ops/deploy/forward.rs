//! A deploy: the app as synthesized, through the pipeline. Its own steps: the live-media plan
//! before the lock (P08), the adopted resources read before the backup, the assets, then imports,
//! stacks, files, verification and the deployment's snapshot.

use super::*;

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
    let mut steps = Forward { opts: opts.clone(), live: Default::default(), pending: vec![] };
    execute(&run, &mut steps).await
}

/// A deploy's own steps, and what they read.
struct Forward {
    opts: DeployOptions,
    /// P08: what the change does to a pipeline on air.
    live: crate::ops::media::LivePlan,
    /// The adopted resources still to be imported.
    pending: Vec<crate::ops::adopt::Pending>,
}

impl Steps for Forward {
    const KIND: &'static str = "deploy";

    fn options(&self) -> DeployOptions {
        self.opts.clone()
    }

    /// P08: what the change does to a pipeline on air, read before anything is written.
    async fn plan<C: Cloud>(&mut self, run: &Run<'_, C>, _pre: &Preflight) -> Result<(), DeployError> {
        let (cloud, env, app, _, _, progress) = run.parts();
        let plan = crate::ops::media::plan(cloud, app)
            .await
            .map_err(|e| DeployError::Refused(format!("P08 live media: reading the pipeline's state: {e:#}")))?;
        let plan = crate::ops::media::decide(plan, env, self.opts.restart_live, self.opts.allow_replace)
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
        self.live = plan;
        Ok(())
    }

    /// The adopted resources, read and compared before anything is written.
    async fn read<C: Cloud>(&mut self, run: &Run<'_, C>) -> Result<(), DeployError> {
        let (cloud, _, app, _, journal, progress) = run.parts();
        // a name an earlier restore's leftover holds: refused here, not AlreadyExists mid-deploy
        super::adopted::in_the_way(run).await?;
        if app.adopted.is_empty() {
            return Ok(());
        }
        let _s = step(journal, "adopt");
        self.pending = crate::ops::adopt::verify(cloud, app)
            .await
            .map_err(|e| DeployError::Refused(format!("{e}\nnothing in the environment was changed")))?;
        progress.step("adopt", &format!("{} adopted, {} to import", app.adopted.len(), self.pending.len()));
        Ok(())
    }

    fn fill(&self, record: &mut Record, pre: &Preflight) {
        record.commit = pre.commit.clone();
        record.dirty = pre.dirty;
    }

    async fn prepare<C: Cloud>(&self, run: &Run<'_, C>, record: &mut Record) -> Result<(), DeployError> {
        record.assets = super::assets::upload(run).await?;
        // an adopted function's own code, which its import names: kept as long as this record is
        let adopted = lock_journal(run.journal).backup.iter().flat_map(|b| b.adopted.clone()).collect::<Vec<_>>();
        for key in adopted.into_iter().filter_map(|a| a.function.map(|f| f.key)) {
            if !record.assets.contains(&key) {
                record.assets.push(key);
            }
        }
        Ok(())
    }

    async fn change<C: Cloud>(&self, run: &Run<'_, C>, backup: &Backup, record: &mut Record) -> Result<(), String> {
        let live = &self.live;
        let previous: Outputs = backup.stacks.iter().map(|s| (s.name.clone(), s.outputs.clone())).collect();
        let pending = with_backed_up_code(&self.pending, backup)?;
        import_adopted(run, &pending).await?;
        off_air(run, live).await?;
        apply_all(run, &self.opts, &previous, record).await?;
        on_air(run, live, record).await
    }

    async fn finish<C: Cloud>(&self, run: &Run<'_, C>, backup: &Backup, record: &mut Record, ok: bool) {
        // a failed run's restore waits for nothing: the counts after it are read only on success
        // (review S3-15)
        record.adopted = adopted_counts(run, backup, &self.pending, ok).await;
    }
}

/// The pending imports with each function's `Code` naming the zip it runs, as the backup stored
/// it in the assets bucket: a CloudFormation rollback of the update after the import puts that
/// back, never a placeholder (review S3-02). A function the backup has no code of is refused
/// before the import.
fn with_backed_up_code(
    pending: &[crate::ops::adopt::Pending],
    backup: &Backup,
) -> Result<Vec<crate::ops::adopt::Pending>, String> {
    let mut out = pending.to_vec();
    for p in out.iter_mut().filter(|p| p.adopted.resource_type == "AWS::Lambda::Function") {
        let resource = format!("{}.{}", p.adopted.stack, p.adopted.logical_id);
        let f = backup.adopted.iter().find(|b| b.resource == resource).and_then(|b| b.function.as_ref()).ok_or_else(
            || {
                format!(
                    "{}: the backup holds no code of function {}, so it is not imported",
                    p.adopted.at, p.adopted.identifier
                )
            },
        )?;
        crate::ops::adopt::name_code(p, &f.bucket, &f.key);
    }
    Ok(out)
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

/// Each adopted table's approximate items before the run (from the backup) and, after a run that
/// succeeded, after it: DescribeTable's `ItemCount`, which DynamoDB refreshes about every six
/// hours (DynamoDB API Reference, TableDescription,
/// <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableDescription.html>), so
/// a figure, never a Scan of a table that may hold 100 GB (review S3-15).
async fn adopted_counts<C: Cloud>(
    run: &Run<'_, C>,
    backup: &Backup,
    pending: &[crate::ops::adopt::Pending],
    ok: bool,
) -> Vec<ledger::AdoptedRecord> {
    let (cloud, _env, app, _state, _journal, progress) = run.parts();
    let mut out = vec![];
    for b in &backup.adopted {
        let a = app.adopted.iter().find(|a| format!("{}.{}", a.stack, a.logical_id) == b.resource);
        let region = a
            .and_then(|a| app.stacks.iter().find(|s| s.name == a.stack))
            .map_or(cloud.region().to_string(), |s| s.region.clone());
        let after = match b.table {
            Some(_) if ok => {
                cloud.for_region(&region).describe_table(&b.identifier).await.ok().flatten().and_then(|t| t.item_count)
            }
            _ => None,
        };
        if let (Some(before), Some(after)) = (b.items, after) {
            progress.info(&format!(
                "{} ({}): about {before} items before, about {after} after (DynamoDB's ItemCount, refreshed about every six hours; castform writes none of its items)",
                b.resource, b.identifier
            ));
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
            limits: crate::ops::changeset::Limits::of(env, &s.region),
        }))
    })
    .await?;
    let (rendered, site) = {
        let _s = step(journal, "propagate");
        progress.step("propagate", "files rendered from the new outputs, written as one unit");
        let rendered = propagate::render_all(app, &env.root, &outputs, previous, &id).map_err(|e| e.to_string())?;
        let site = propagate::site_files(app, &env.root, &outputs).map_err(|e| e.to_string())?;
        write_files(run, &outputs, &[&rendered, &site], record).await?;
        for f in &rendered {
            progress.info(&format!("s3://{}/{} ({} bytes)", f.bucket, f.key, f.body.len()));
        }
        progress.info(&format!("{} site files", site.len()));
        (rendered, site)
    };
    verify_all(run, &outputs, &rendered, record).await?;
    // what `castform rollback --to <id>` puts back: the templates, the rendered files and the
    // site's own files (review S3-14: a bad frontend release is rolled back too)
    let bodies: Vec<(String, String)> = app.stacks.iter().map(|s| (s.name.clone(), s.template.to_json())).collect();
    let files: Vec<propagate::Rendered> = rendered.into_iter().chain(site).collect();
    snapshot(cloud, state, &id, &bodies, &files)
        .await
        .map_err(|e| format!("storing the deployment's snapshot: {e}"))?;
    Ok(())
}
