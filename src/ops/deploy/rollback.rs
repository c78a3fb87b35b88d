//! `castform rollback ENV [--to ID]`: put back a recorded deployment as a unit: its templates and
//! parameters (which pin its content-addressed code, still in the state bucket), its rendered
//! files, and with them the `live` alias; then verify and record. The current state is backed up
//! first, and a failed rollback restores it like a failed deploy.

use super::backup::Backup;
use super::preflight::Preflight;
use super::propagate::Rendered;
use super::{DeployError, DeployOptions, Journal, Run, Steps, execute, step};
use crate::aws::Cloud;
use crate::config::Environment;
use crate::ops::changeset::{Desired, Guard};
use crate::state::ledger::{self, Record};
use crate::template::{App, OutputRole, sha256_hex};
use crate::ui::progress::Progress;
use std::collections::BTreeMap;
use std::sync::Mutex;

/// The deployment a rollback goes back to: `to` if given (a successful deploy), else the one a
/// bare rollback goes back to ([`crate::state::lineage::bare_target`]).
pub fn target<'a>(records: &'a [Record], to: Option<&str>) -> Result<&'a Record, DeployError> {
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
        None => crate::state::lineage::bare_target(records).map_err(DeployError::Refused),
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
    // rollback restores recorded templates: the synth-time checks are not theirs
    let opts = DeployOptions { skip_checks: true, ..opts.clone() };
    let mut steps = Back { opts, to: to.map(str::to_string), ..Default::default() };
    execute(&run, &mut steps).await
}

/// A rollback's own steps, and what they read.
#[derive(Default)]
struct Back {
    opts: DeployOptions,
    to: Option<String>,
    /// The deployment it goes back to.
    target: Record,
    /// Its stored templates, by stack, checked against their recorded sha256.
    bodies: BTreeMap<String, String>,
    /// Its rendered files.
    files: Vec<Rendered>,
    /// Its site's own files, where its snapshot has them (deployments since they are kept).
    site: Vec<Rendered>,
    /// P08 for the recorded templates.
    live: crate::ops::media::LivePlan,
}

impl Steps for Back {
    const KIND: &'static str = "rollback";

    fn options(&self) -> DeployOptions {
        self.opts.clone()
    }

    fn command(&self) -> String {
        format!("rollback --to {}", self.target.id)
    }

    /// The deployment to go back to, from the ledger.
    async fn plan<C: Cloud>(&mut self, run: &Run<'_, C>, _pre: &Preflight) -> Result<(), DeployError> {
        // read strictly: the deployment to go back to is never chosen from a partial history
        let records = ledger::list_strict(run.cloud, &run.state)
            .await
            .map_err(|e| DeployError::Refused(format!("nothing was rolled back: {e}")))?;
        self.target = target(&records, self.to.as_deref())?.clone();
        run.progress.info(&format!(
            "rolling back to {} (commit {}, {})",
            self.target.id,
            self.target.commit.chars().take(12).collect::<String>(),
            self.target.finished
        ));
        Ok(())
    }

    /// The target's snapshot, complete before anything is touched, and P08 for its templates:
    /// a rollback that edits a channel on air is refused, or done off air with --restart-live,
    /// like a deploy.
    async fn read<C: Cloud>(&mut self, run: &Run<'_, C>) -> Result<(), DeployError> {
        let (cloud, env, app, state, _, _) = run.parts();
        self.bodies = stored_templates(run, &self.target).await?;
        for key in &self.target.assets {
            if !cloud.object_exists(&state.bucket, key).await.map_err(|e| DeployError::Refused(e.to_string()))? {
                return Err(DeployError::Refused(format!(
                    "asset {key} of deployment {} is gone from the state bucket; it cannot be restored",
                    self.target.id
                )));
            }
        }
        self.files = stored_files(run, &self.target).await?;
        self.site = stored_site(run, &self.target, &self.files).await?;
        let recorded: BTreeMap<String, serde_json::Value> =
            self.bodies.iter().filter_map(|(n, b)| serde_json::from_str(b).ok().map(|v| (n.clone(), v))).collect();
        let plan = crate::ops::media::plan_against(cloud, app, &|s| recorded.get(&s.name).cloned())
            .await
            .map_err(|e| DeployError::Refused(format!("P08 live media: reading the pipeline's state: {e:#}")))?;
        self.live = crate::ops::media::decide(plan, env, self.opts.restart_live, self.opts.allow_replace)
            .map_err(DeployError::Refused)?;
        Ok(())
    }

    fn fill(&self, record: &mut Record, _pre: &Preflight) {
        record.commit = self.target.commit.clone();
        record.dirty = self.target.dirty;
        record.assets = self.target.assets.clone();
        record.restored_to = Some(self.target.id.clone());
    }

    /// A rollback's code is in the state bucket already.
    async fn prepare<C: Cloud>(&self, _run: &Run<'_, C>, _record: &mut Record) -> Result<(), DeployError> {
        Ok(())
    }

    async fn change<C: Cloud>(&self, run: &Run<'_, C>, _backup: &Backup, record: &mut Record) -> Result<(), String> {
        let (_, env, app, _, journal, progress) = run.parts();
        let target = &self.target;
        super::off_air(run, &self.live).await?;
        // time to restore service: the old code answers once the aliases are back, before the
        // stacks (and everything else) are
        let recorded: BTreeMap<String, BTreeMap<String, String>> =
            target.stacks.iter().map(|(n, s)| (n.clone(), s.outputs.clone())).collect();
        // the stacks whose aliases move count as changed before the first move: a failure or
        // Ctrl-C from here restores them, aliases first (review S3-13)
        for s in app.stacks.iter().filter(|s| s.roles.iter().any(|(_, r)| matches!(r, OutputRole::LiveVersion { .. })))
        {
            if recorded.contains_key(&s.name) {
                super::touch(journal, &s.name);
            }
        }
        let moved = super::aliases_first(run, &recorded, None).await;
        if !moved.is_empty() {
            record.service_restored_ms = Some(run.clock.elapsed().as_millis() as u64);
        }
        let guard =
            Guard { retain_data: env.retain_data, allow_replace: self.opts.allow_replace, force: self.opts.force };
        let tags = super::stack_tags(env);
        let headline = format!("back to the templates and parameters of {}", target.id);
        let role = run.execution_role.get().cloned();
        let outputs = super::apply_stacks(run, &headline, guard, record, &|s, _| {
            Ok(target.stacks.get(&s.name).zip(self.bodies.get(&s.name)).map(|(rec, body)| Desired {
                name: s.name.clone(),
                stack_name: s.stack_name.clone(),
                region: s.region.clone(),
                body: body.clone(),
                parameters: rec.parameters.clone(),
                tags: tags.clone(),
                role_arn: role.clone(),
                limits: crate::ops::changeset::Limits::of(env, &s.region),
            }))
        })
        .await?;
        {
            let _s = step(journal, "propagate");
            progress.step("propagate", &format!("the files of {}", target.id));
            super::write_files(run, &outputs, &[&self.files, &self.site], record).await?;
            progress.info(&format!("{} rendered files, {} site files", self.files.len(), self.site.len()));
        }
        super::verify_all(run, &outputs, &self.files, record).await?;
        super::on_air(run, &self.live, record).await
    }

    /// The rolled-back state is itself a deployment one can return to.
    async fn finish<C: Cloud>(&self, run: &Run<'_, C>, _backup: &Backup, _record: &mut Record, ok: bool) {
        if ok {
            let bodies: Vec<(String, String)> = self.bodies.clone().into_iter().collect();
            let files: Vec<Rendered> = self.files.iter().chain(&self.site).cloned().collect();
            let _ = super::snapshot(run.cloud, &run.state, &run.id(), &bodies, &files).await;
        }
    }
}

/// The templates of a recorded deployment, each checked against its recorded sha256.
async fn stored_templates<C: Cloud>(
    run: &Run<'_, C>,
    target: &Record,
) -> Result<BTreeMap<String, String>, DeployError> {
    let (cloud, _, _, state, _, _) = run.parts();
    let mut bodies = BTreeMap::new();
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
    Ok(bodies)
}

/// The site's own files a recorded deployment stored (every file of its snapshot that is not a
/// rendered one), with their content types.
async fn stored_site<C: Cloud>(
    run: &Run<'_, C>,
    target: &Record,
    rendered: &[Rendered],
) -> Result<Vec<Rendered>, DeployError> {
    let (cloud, _, _, state, _, _) = run.parts();
    let prefix = state.snapshot_key(&target.id, "files/");
    let mut site = vec![];
    for full in cloud.list_objects(&state.bucket, &prefix).await.map_err(|e| DeployError::Refused(e.to_string()))? {
        let Some((bucket, key)) = full.strip_prefix(&prefix).and_then(|rest| rest.split_once('/')) else { continue };
        if rendered.iter().any(|f| f.bucket == bucket && f.key == key) {
            continue;
        }
        let body =
            cloud.get_object(&state.bucket, &full).await.map_err(|e| DeployError::Refused(e.to_string()))?.ok_or_else(
                || DeployError::Refused(format!("deployment {}: s3://{}/{full} is gone", target.id, state.bucket)),
            )?;
        site.push(Rendered {
            bucket: bucket.to_string(),
            key: key.to_string(),
            content_type: super::propagate::content_type(key).into(),
            body,
        });
    }
    Ok(site)
}

/// The rendered files a recorded deployment stored.
async fn stored_files<C: Cloud>(run: &Run<'_, C>, target: &Record) -> Result<Vec<Rendered>, DeployError> {
    let (cloud, _, app, state, _, _) = run.parts();
    let mut files = vec![];
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
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::ledger::StackRecord;

    fn release(id: &str, kind: &str, sha: &str, to: Option<&str>) -> Record {
        let stack = StackRecord {
            stack_name: "orders-api".into(),
            template_sha256: sha.into(),
            parameters: Default::default(),
            outputs: Default::default(),
            status: "UPDATE_COMPLETE".into(),
            changed: true,
            change_set: None,
        };
        Record {
            id: id.into(),
            kind: kind.into(),
            result: "succeeded".into(),
            stacks: [("api".to_string(), stack)].into(),
            restored_to: to.map(str::to_string),
            ..Default::default()
        }
    }

    fn media(id: &str) -> Record {
        Record { id: id.into(), kind: "media-start".into(), result: "succeeded".into(), ..Default::default() }
    }

    /// A bare rollback after a destroy would rebuild the environment from an older release
    /// (second review): refused, naming the destroy and `--to`; a named deployment still works.
    #[test]
    fn a_bare_rollback_after_a_destroy_is_refused_but_rollback_to_is_not() {
        let destroy =
            Record { id: "x1".into(), kind: "destroy".into(), result: "succeeded".into(), ..Default::default() };
        let records = [release("d1", "deploy", "a", None), release("d2", "deploy", "b", None), destroy];
        let err = target(&records, None).unwrap_err().to_string();
        assert!(err.contains("destroyed (x1)") && err.contains("--to"), "{err}");
        assert_eq!(target(&records, Some("d1")).unwrap().id, "d1");
        // a deploy after the destroy is the current release again
        let mut records = records.to_vec();
        records.push(release("d3", "deploy", "c", None));
        assert_eq!(target(&records, None).unwrap().id, "d2");
    }

    /// Review S3-05: a media start after the live deploy is not the current release; a bare
    /// rollback goes to the deploy before the live one, not to the live one again.
    #[test]
    fn a_bare_rollback_after_a_media_start_goes_to_the_release_before_the_live_one() {
        let records = [release("d1", "deploy", "a", None), release("d2", "deploy", "b", None), media("m1")];
        assert_eq!(target(&records, None).unwrap().id, "d1");
    }

    /// Review S3-06: after rolling back from d3 to d2, a second bare rollback goes to d1, never
    /// forward to d3.
    #[test]
    fn a_second_rollback_goes_further_back_not_forward_to_the_release_rolled_back() {
        let records = [
            release("d1", "deploy", "a", None),
            release("d2", "deploy", "b", None),
            release("d3", "deploy", "c", None),
            release("r1", "rollback", "b", Some("d2")),
        ];
        assert_eq!(target(&records, None).unwrap().id, "d1");
        // with nothing older that differs, it says so
        let records = [
            release("d2", "deploy", "b", None),
            release("d3", "deploy", "c", None),
            release("r1", "rollback", "b", Some("d2")),
        ];
        let err = target(&records, None).unwrap_err().to_string();
        assert!(err.contains("no earlier successful deployment"), "{err}");
    }

    /// After d1, d2 (rolled back to d1) and d3, a bare rollback goes to what ran before d3: d1,
    /// never d2, which had been rolled back (found by the simulation's long run).
    #[test]
    fn a_rollback_after_a_deploy_that_followed_a_rollback_goes_to_what_ran_before_it() {
        let records = [
            release("d1", "deploy", "a", None),
            release("d2", "deploy", "c", None),
            release("r1", "rollback", "a", Some("d1")),
            release("d3", "deploy", "b", None),
        ];
        assert_eq!(target(&records, None).unwrap().id, "d1");
    }

    #[test]
    fn a_media_record_is_not_a_deployment_to_roll_back_to() {
        let records = [release("d1", "deploy", "a", None), media("m1")];
        let err = target(&records, Some("m1")).unwrap_err().to_string();
        assert!(err.contains("is a media-start that succeeded; only a successful deploy"), "{err}");
    }
}
