//! `castform status ENV` and `castform destroy ENV`: what is deployed and in what state, and
//! taking an environment down completely.

use crate::aws::Cloud;
use crate::config::Environment;
use crate::ops::changeset as stacks;
use crate::ops::deploy::DeployError;
use crate::state::StateStore;
use crate::state::clock::{new_id, now};
use crate::state::ledger::{self, Record};
use crate::state::lock;
use crate::template::App;
use crate::ui::progress::Progress;
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::IsTerminal;

#[derive(Debug, Serialize)]
pub struct StackStatus {
    pub stack: String,
    pub stack_name: String,
    pub status: String,
    pub last_updated: Option<String>,
    /// `IN_SYNC`, `DRIFTED`, or why drift is unknown.
    pub drift: String,
}

#[derive(Debug, Serialize)]
pub struct Status {
    pub stacks: Vec<StackStatus>,
    pub lock: Option<lock::LockInfo>,
    pub last_deployment: Option<(String, String, String)>,
}

pub async fn status<C: Cloud>(cloud: &C, env: &Environment, app: &App) -> anyhow::Result<Status> {
    let state = StateStore::new(env);
    let mut stacks = vec![];
    for s in &app.stacks {
        let cloud = &cloud.for_region(&s.region);
        let info = cloud.describe_stack(&s.stack_name).await?;
        let (status, last_updated, drift) = match info {
            None => ("NOT_DEPLOYED".to_string(), None, "-".to_string()),
            Some(i) => {
                let drift = match cloud.detect_drift(&s.stack_name).await {
                    Ok(d) => d,
                    Err(e) => format!("unknown: the service cannot tell ({})", e.code().unwrap_or("no answer")),
                };
                (i.status, i.last_updated, drift)
            }
        };
        stacks.push(StackStatus {
            stack: s.name.clone(),
            stack_name: s.stack_name.clone(),
            status,
            last_updated,
            drift,
        });
    }
    let (lock, last) = if cloud.bucket_exists(&state.bucket).await? {
        let lock = lock::current(cloud, &state).await?;
        let last = ledger::list(cloud, &state).await?.into_iter().last().map(|r| (r.id, r.kind, r.result));
        (lock, last)
    } else {
        (None, None)
    };
    Ok(Status { stacks, lock, last_deployment: last })
}

/// What destroy says of a resource its template retains. A Lambda@Edge function cannot be
/// deleted until CloudFront has removed its replicas, hours after the distribution let go of it
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-delete-replicas.html>).
fn retained_note(r: &crate::aws::StackResource, res: &crate::template::Resource, region: &str) -> String {
    if r.resource_type == "AWS::Lambda::Function"
        && res.attributes.metadata.as_ref().is_some_and(|m| m["castform"]["edge"].is_string())
    {
        format!(
            "left in place: {} (Lambda@Edge function, DeletionPolicy: Retain): CloudFront removes its replicas hours after the distribution is gone; delete it then with `aws lambda delete-function --region {region} --function-name {}`",
            r.physical_id, r.physical_id
        )
    } else {
        format!("left in place: {} ({}, DeletionPolicy: Retain)", r.physical_id, r.resource_type)
    }
}

/// Empties the buckets castform's stacks created and deletes the stacks in reverse dependency
/// order; refused where the environment retains data.
pub async fn destroy<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    yes: bool,
    progress: &Progress,
) -> Result<Record, DeployError> {
    if env.retain_data {
        return Err(DeployError::Refused(format!(
            "{} retains data (retain_data: true in {}); castform does not destroy it\nhelp: delete its stacks by hand if that is really meant",
            env.name, env.file
        )));
    }
    let state = StateStore::new(env);
    let identity = cloud.caller_identity().await.map_err(|e| DeployError::Refused(e.to_string()))?;
    if identity.account != env.account {
        return Err(DeployError::Refused(format!(
            "the credentials are for account {}, but {} is account {}\nhelp: switch to the profile for account {}",
            identity.account, env.file, env.account, env.account
        )));
    }
    // a pipeline on air is never stopped unasked; MediaLive deletes a channel only while idle
    // and MediaConnect a flow only when stopped, so a destroy would also fail half-way
    // (https://docs.aws.amazon.com/medialive/latest/ug/multiplex-create-delete-edit-summary.html)
    let running =
        crate::ops::media::running_parts(cloud, app).await.map_err(|e| DeployError::Refused(format!("{e:#}")))?;
    if !running.is_empty() {
        return Err(DeployError::Refused(format!(
            "{} is on air: {}; nothing was destroyed\nhelp: take it off air first with `castform media stop {} --app {}`",
            env.name,
            running.join(", "),
            env.name,
            app.app
        )));
    }
    progress.step(
        "destroy",
        &format!("app {} · environment {} · account {} · region {}", app.app, env.name, env.account, env.region),
    );
    if !yes {
        if !std::io::stdin().is_terminal() {
            return Err(DeployError::Refused(format!(
                "destroying {} needs its name typed, or --yes in a non-interactive run",
                env.name
            )));
        }
        let line = crate::ui::ask(&format!("type the environment's name ({}) to destroy it: ", env.name)).await;
        if line.trim() != env.name {
            return Err(DeployError::Refused(format!(
                "confirmation did not match `{}`; nothing was destroyed",
                env.name
            )));
        }
    }
    let id = new_id();
    let (who, host) = crate::state::who();
    let started = now();
    let has_state = cloud.bucket_exists(&state.bucket).await.map_err(|e| DeployError::Refused(e.to_string()))?;
    if has_state {
        let info = lock::LockInfo {
            deployment: id.clone(),
            owner: who.clone(),
            host: host.clone(),
            started: started.clone(),
            command: "destroy".into(),
            pid: std::process::id(),
        };
        lock::acquire(cloud, &state, &env.name, &info).await.map_err(|e| DeployError::Refused(e.to_string()))?;
    }
    let mut removed = vec![];
    let result: Result<(), String> = async {
        for s in app.stacks.iter().rev() {
            let cloud = &cloud.for_region(&s.region);
            if cloud.describe_stack(&s.stack_name).await.map_err(|e| e.to_string())?.is_none() {
                continue;
            }
            let resources = cloud.list_stack_resources(&s.stack_name).await.map_err(|e| e.to_string())?;
            // what the template retains outlives the stack: said, with what to do about it
            let retained: Vec<String> = resources
                .iter()
                .filter(|r| !r.physical_id.is_empty() && r.resource_type != "AWS::Lambda::Version")
                .filter(|r| !app.adopted.iter().any(|a| a.identifier == r.physical_id))
                .filter_map(|r| {
                    let res = s.template.resource(&r.logical_id)?;
                    (res.attributes.deletion_policy == Some(crate::template::DeletionPolicy::Retain))
                        .then(|| retained_note(r, res, &s.region))
                })
                .collect();
            // autoDeleteObjects, done by the tool: empty every bucket of the stack first
            crate::ops::changeset::empty_buckets(cloud, app, &resources, progress).await?;
            stacks::delete(cloud, &s.name, &s.stack_name, &s.region, progress).await.map_err(|e| e.to_string())?;
            removed.push(s.stack_name.clone());
            for note in &retained {
                progress.info(note);
            }
            // CloudFormation keeps what has DeletionPolicy Retain; castform never deletes what it adopted
            for a in app.adopted.iter().filter(|a| a.stack == s.name) {
                progress.info(&format!(
                    "left in place: {} ({}), adopted by {} (DeletionPolicy: Retain)",
                    a.identifier, a.resource_type, a.at
                ));
            }
        }
        Ok(())
    }
    .await;
    let record = Record {
        id: id.clone(),
        app: app.app.clone(),
        environment: env.name.clone(),
        kind: "destroy".into(),
        started,
        finished: now(),
        commit: crate::state::git_state(&env.root).0,
        dirty: false,
        who,
        host,
        account: env.account.clone(),
        region: env.region.clone(),
        result: if result.is_ok() { "succeeded".into() } else { "failed".into() },
        error: result.as_ref().err().cloned(),
        stacks: BTreeMap::new(),
        assets: vec![],
        urls: BTreeMap::new(),
        files: vec![],
        backup: None,
        checks: vec![],
        steps: vec![],
        restored_to: None,
        restored: removed.iter().map(|s| format!("stack {s} deleted")).collect(),
        service_restored_ms: None,
        total_ms: None,
        adopted: vec![],
    };
    if has_state {
        let _ = ledger::write(cloud, &state, &record).await;
        let _ = lock::release(cloud, &state, &id).await;
    }
    match result {
        Ok(()) => Ok(record),
        Err(e) => Err(DeployError::Unrestored {
            id,
            env: env.name.clone(),
            failure: e,
            restore_error: "a destroy is not undone; the stacks named above are gone, the others remain".into(),
            backup: "none".into(),
        }),
    }
}
