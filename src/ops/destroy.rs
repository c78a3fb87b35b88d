//! `castform destroy ENV`: an environment taken down completely: its stacks in reverse order, the
//! buckets they made emptied first; refused for an environment that retains data or a pipeline on air.

use crate::aws::Cloud;
use crate::config::Environment;
use crate::ops::changeset;
use crate::ops::error::DeployError;
use crate::state::StateStore;
use crate::state::clock::{new_id, now};
use crate::state::ledger::{self, Record};
use crate::state::lock;
use crate::template::App;
use crate::ui::progress::Progress;
use std::io::IsTerminal;

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
    refuse_unsafe(cloud, env, app).await?;
    progress.step(
        "destroy",
        &format!("app {} · environment {} · account {} · region {}", app.app, env.name, env.account, env.region),
    );
    if !yes {
        confirm(env).await?;
    }
    let state = StateStore::new(env);
    let id = new_id();
    let (who, host) = crate::state::who();
    let started = now();
    let has_state = cloud.bucket_exists(&state.bucket).await.map_err(|e| DeployError::Refused(e.to_string()))?;
    if has_state {
        let info = lock::LockInfo::of_this_process(&id, &who, &host, &started, "destroy");
        lock::acquire(cloud, &state, &env.name, &info).await.map_err(|e| DeployError::Refused(e.to_string()))?;
    }
    let mut removed = vec![];
    let result = delete_stacks(cloud, env, app, progress, &mut removed).await;
    let mut record =
        Record::new(&id, "destroy", &app.app, &env.name, &env.region, &started, (&who, &host), &env.account);
    record.finished = now();
    record.commit = crate::state::git_state(&env.root).0;
    record.dirty = false;
    record.result = if result.is_ok() { "succeeded".into() } else { "failed".into() };
    record.error = result.as_ref().err().cloned();
    record.restored = removed.iter().map(|s| format!("stack {s} deleted")).collect();
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

/// Refuses an environment that retains data, credentials of another account, and a pipeline on
/// air.
async fn refuse_unsafe<C: Cloud>(cloud: &C, env: &Environment, app: &App) -> Result<(), DeployError> {
    if env.retain_data {
        return Err(DeployError::Refused(format!(
            "{} retains data (retain_data: true in {}); castform does not destroy it\nhelp: delete its stacks by hand if that is really meant",
            env.name, env.file
        )));
    }
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
    Ok(())
}

/// The environment's name, typed at the terminal.
async fn confirm(env: &Environment) -> Result<(), DeployError> {
    if !std::io::stdin().is_terminal() {
        return Err(DeployError::Refused(format!(
            "destroying {} needs its name typed, and this run is not interactive\nhelp: pass --yes to destroy it",
            env.name
        )));
    }
    let line = crate::ui::ask(&format!("type the environment's name ({}) to destroy it: ", env.name)).await;
    if line.trim() != env.name {
        return Err(DeployError::Refused(format!(
            "confirmation did not match `{}`; nothing was destroyed\nhelp: type the environment's name exactly, or pass --yes",
            env.name
        )));
    }
    Ok(())
}

/// Deletes the app's stacks in reverse order, each one's buckets emptied first; says what each
/// leaves in place. `removed` gets the stacks deleted, whatever the outcome.
async fn delete_stacks<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    progress: &Progress,
    removed: &mut Vec<String>,
) -> Result<(), String> {
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
        empty_buckets(cloud, app, &s.stack_name, &resources, progress).await?;
        changeset::delete(cloud, &s.name, &s.stack_name, &s.region, env.stack_timeout, progress)
            .await
            .map_err(|e| e.to_string())?;
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

/// Empties the buckets of a stack about to be deleted (S3 deletes only an empty bucket), every
/// version of every object: only those the *deployed* template lets CloudFormation delete. A bucket
/// the deployed template retains (`DeletionPolicy: Retain`, an adopted one among them) or that
/// today's `adopt:` names outlives the stack with its data, whatever the environment file says now
/// (review S3-42).
pub async fn empty_buckets<C: Cloud>(
    cloud: &C,
    app: &crate::template::App,
    stack_name: &str,
    resources: &[crate::aws::StackResource],
    progress: &Progress,
) -> Result<(), String> {
    // a stack whose create failed may have no template to read: then the app's own says
    let deployed: serde_json::Value = match cloud.get_template(stack_name).await {
        Ok(body) if !body.trim().is_empty() => {
            serde_json::from_str(&body).map_err(|e| format!("the deployed template of {stack_name}: {e}"))?
        }
        Ok(_) => {
            app.stacks.iter().find(|s| s.stack_name == stack_name).map(|s| s.template.to_value()).unwrap_or_default()
        }
        Err(e) => return Err(format!("reading the deployed template of {stack_name}: {e}")),
    };
    for r in resources {
        let declared = &deployed["Resources"][r.logical_id.as_str()];
        let retained =
            declared["DeletionPolicy"] == "Retain" || declared["Metadata"]["castform"]["adopted"].is_string();
        if r.resource_type == "AWS::S3::Bucket"
            && !r.physical_id.is_empty()
            && !retained
            && !app.adopted.iter().any(|a| a.identifier == r.physical_id)
            && cloud.bucket_exists(&r.physical_id).await.unwrap_or(false)
        {
            let n = cloud.empty_bucket(&r.physical_id).await.map_err(|e| e.to_string())?;
            progress.info(&format!("emptied s3://{} ({n} objects and versions)", r.physical_id));
        }
    }
    Ok(())
}
