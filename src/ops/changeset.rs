//! One stack through a change set (P07, D01): create it, read it (a replacement or deletion of
//! a stateful resource blocks where data is retained), execute it, wait with progress, read the
//! outputs. When the template and parameters equal what is deployed, no change set at all.

use crate::aws::{ChangeSetRequest, Cloud, CloudError, ResourceChange, StackEvent};
use crate::rules::STATEFUL_TYPES;
use crate::ui::progress::Progress;
use std::collections::BTreeMap;
use std::time::Duration;
// the runtime's clock, not the wall's: tests run it paused and hours pass in an instant
use tokio::time::Instant;

/// How long a change set may take to compute.
pub const CHANGE_SET_TIMEOUT: Duration = Duration::from_secs(600);
/// How long the bootstrap and import stacks' operations may take.
pub const STACK_TIMEOUT: Duration = Duration::from_secs(3600);

/// "Template body size in a request: 51,200 bytes"; a larger template is uploaded to S3 and
/// passed as `TemplateURL` (up to 1 MB)
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html>).
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// What bounds a stack's operations and where its large template goes: the environment's
/// `stack_timeout`, and the state bucket of the stack's region.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// How long one stack operation may run before castform cancels it.
    pub timeout: Duration,
    /// The environment file that sets it, for messages.
    pub file: String,
    /// The state bucket of the stack's region (a template over [`TEMPLATE_BODY_LIMIT`] goes there;
    /// every call on it names its owner, `ExpectedBucketOwner`).
    pub bucket: String,
}

impl Limits {
    pub fn of(env: &crate::config::Environment, region: &str) -> Self {
        Self {
            timeout: env.stack_timeout,
            file: env.file.clone(),
            bucket: crate::state::bucket_name(&env.account, region),
        }
    }
}

/// `45m`, `2h`: a timeout as `stack_timeout` writes it.
pub fn minutes(d: Duration) -> String {
    let m = d.as_secs().div_ceil(60);
    if m.is_multiple_of(60) { format!("{}h", m / 60) } else { format!("{m}m") }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Desired {
    /// Short name (`api`) for messages.
    pub name: String,
    pub stack_name: String,
    /// The region the stack lives in (the edge stack is in us-east-1 whatever the environment's).
    pub region: String,
    pub body: String,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// The environment's deploy role, when `castform bootstrap` made one.
    pub role_arn: Option<String>,
    pub limits: Limits,
}

/// Refuse replacing or deleting stateful resources (P07).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Guard {
    pub retain_data: bool,
    pub allow_replace: bool,
    /// Delete and recreate a stack left in ROLLBACK_COMPLETE even where data is retained.
    pub force: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Applied {
    pub changed: bool,
    pub change_set: Option<String>,
    pub changes: Vec<ResourceChange>,
    pub outputs: BTreeMap<String, String>,
    pub status: String,
    /// Resources the service reported created without creating them (no physical id).
    pub not_created: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("stack {stack}: {message}")]
pub struct StackFailure {
    pub stack: String,
    pub message: String,
    /// `LogicalId (PhysicalId): reason` of each failed resource.
    pub resources: Vec<String>,
    /// The stack was never touched (the change set was refused before execution).
    pub untouched: bool,
}

fn failure(stack: &str, message: impl Into<String>, untouched: bool) -> StackFailure {
    StackFailure { stack: stack.to_string(), message: message.into(), resources: vec![], untouched }
}

fn cloud_failure(stack: &str, e: CloudError, untouched: bool) -> StackFailure {
    failure(stack, e.to_string(), untouched)
}

const SUCCESS: &[&str] = &["CREATE_COMPLETE", "UPDATE_COMPLETE", "IMPORT_COMPLETE"];

fn settled(status: &str) -> bool {
    !status.ends_with("_IN_PROGRESS")
}

/// A stack's description once no operation runs on it: one that an interrupted or killed run
/// started, or another tool's, ends before castform reads the stack's template (during an
/// operation the template and resources are neither the old nor the new ones). A stack in
/// `REVIEW_IN_PROGRESS` (a change set never executed) is settled: nothing runs on it.
pub async fn when_settled<C: Cloud>(cloud: &C, stack: &str) -> Result<Option<crate::aws::StackInfo>, String> {
    let started = Instant::now();
    loop {
        let info = cloud.describe_stack(stack).await.map_err(|e| e.to_string())?;
        match info {
            Some(i) if !settled(&i.status) && i.status != "REVIEW_IN_PROGRESS" => {
                if started.elapsed() > STACK_TIMEOUT {
                    return Err(format!(
                        "{stack} is still {} after an hour\nhelp: look at the stack's events in the console; deploy again once it has ended",
                        i.status
                    ));
                }
                tokio::time::sleep(Duration::from_secs(5)).await;
            }
            other => return Ok(other),
        }
    }
}

fn event_line(e: &StackEvent) -> String {
    let mut s = format!("{} {}", e.logical_id, e.status);
    if let Some(r) = e.reason.as_deref().filter(|r| !r.is_empty()) {
        s.push_str(": ");
        s.push_str(r);
    }
    s
}

/// Brings a stack to the desired template and parameters.
pub async fn apply<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    guard: Guard,
    change_set_name: &str,
    progress: &Progress,
    executing: &(dyn Fn() + Send + Sync),
) -> Result<Applied, StackFailure> {
    let regional = cloud.for_region(&desired.region);
    let cloud = &regional;
    let name = &desired.name;
    progress.stack(name, "checking", "");
    let mut existing = cloud.describe_stack(&desired.stack_name).await.map_err(|e| cloud_failure(name, e, true))?;
    if let Some(info) = existing.clone() {
        existing = Some(settle_stuck(cloud, desired, info, guard, progress).await?);
        existing = existing.filter(|i| i.status != "DELETE_COMPLETE");
    }
    if let Some(info) = &existing
        && SUCCESS.contains(&info.status.as_str())
        && deployed_as_desired(cloud, desired, info).await?
    {
        progress.stack_done(name, "unchanged");
        return Ok(unchanged(info.outputs.clone(), &info.status));
    }
    let create = existing.as_ref().is_none_or(|i| i.status == "REVIEW_IN_PROGRESS");
    let (id, cs) = create_change_set(cloud, desired, change_set_name, create, progress).await?;
    if cs.status == "FAILED" {
        let failed = failed_change_set(cloud, desired, &id, cs.reason.unwrap_or_default(), progress).await;
        if create && failed.is_err() {
            // the stack CloudFormation made for the change set (REVIEW_IN_PROGRESS: "an expected
            // StackId but without any templates or resources", "Stack status codes",
            // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html)
            // goes with it, or later runs would take it for a deployed one (review S3-44)
            let _ = delete(cloud, name, &desired.stack_name, &desired.region, desired.limits.timeout, progress).await;
        }
        return failed;
    }
    // read before executing (P07)
    refuse_data_loss(cloud, desired, &id, &cs.changes, guard).await?;
    for c in &cs.changes {
        progress.info(&format!(
            "{name}: {} {} ({}){}",
            c.action,
            c.logical_id,
            c.resource_type,
            c.replacement.as_deref().map(|r| format!(" replacement: {r}")).unwrap_or_default()
        ));
    }
    let before = Before {
        events: cloud
            .stack_events(&desired.stack_name)
            .await
            .map(|ev| ev.into_iter().map(|e| e.id).collect())
            .unwrap_or_default(),
        last_updated: existing.as_ref().and_then(|i| i.last_updated.clone()),
        change_set: id.clone(),
    };
    let seen_before = &before.events;
    // from here the stack may change: an interruption must restore it, even mid-execution
    executing();
    cloud.execute_change_set(&desired.stack_name, &id).await.map_err(|e| cloud_failure(name, e, true))?;
    let final_status = wait_for_operation(cloud, desired, &before, progress).await?;
    let events: Vec<StackEvent> = cloud
        .stack_events(&desired.stack_name)
        .await
        .map(|ev| ev.into_iter().filter(|e| !seen_before.contains(&e.id)).collect())
        .unwrap_or_default();
    if !SUCCESS.contains(&final_status.as_str()) {
        progress.stack_done(name, &final_status);
        return Err(operation_failure(desired, &final_status, &events));
    }
    let not_created = reported_but_not_created(desired, &events);
    for r in &not_created {
        progress
            .warn(&format!("{name}: {r} was reported created but has no physical id: the service did not create it"));
    }
    let info = cloud.describe_stack(&desired.stack_name).await.map_err(|e| cloud_failure(name, e, false))?;
    progress.stack_done(name, &final_status);
    Ok(Applied {
        changed: true,
        change_set: Some(id),
        changes: cs.changes,
        outputs: info.map(|i| i.outputs).unwrap_or_default(),
        status: final_status,
        not_created,
    })
}

/// A stack left as it is, with its outputs.
fn unchanged(outputs: BTreeMap<String, String>, status: &str) -> Applied {
    Applied {
        changed: false,
        change_set: None,
        changes: vec![],
        outputs,
        status: status.to_string(),
        not_created: vec![],
    }
}

/// Whether the deployed template and parameters are the desired ones already: then no change
/// set is made at all.
async fn deployed_as_desired<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    info: &crate::aws::StackInfo,
) -> Result<bool, StackFailure> {
    let deployed = cloud.get_template(&desired.stack_name).await.map_err(|e| cloud_failure(&desired.name, e, true))?;
    let same_params = desired.parameters.iter().all(|(k, v)| info.parameters.get(k) == Some(v))
        && info.parameters.len() == desired.parameters.len();
    Ok(deployed == desired.body && same_params)
}

/// Creates the change set and waits until CloudFormation has computed it (or failed to).
async fn create_change_set<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    change_set_name: &str,
    create: bool,
    progress: &Progress,
) -> Result<(String, crate::aws::ChangeSetInfo), StackFailure> {
    let name = &desired.name;
    let req = ChangeSetRequest {
        stack: desired.stack_name.clone(),
        name: change_set_name.to_string(),
        template_body: desired.body.clone(),
        template_url: stage_template(cloud, desired).await?,
        parameters: desired.parameters.clone(),
        tags: desired.tags.clone(),
        create,
        imports: vec![],
        role_arn: desired.role_arn.clone(),
    };
    progress.stack(name, "creating change set", "");
    let id = cloud.create_change_set(&req).await.map_err(|e| cloud_failure(name, e, true))?;
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        let cs = cloud.describe_change_set(&desired.stack_name, &id).await.map_err(|e| cloud_failure(name, e, true))?;
        if cs.status == "CREATE_COMPLETE" || cs.status == "FAILED" {
            return Ok((id, cs));
        }
        if started.elapsed() > CHANGE_SET_TIMEOUT {
            return Err(failure(name, "the change set did not finish computing within 10 minutes", true));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

/// A template too large for `TemplateBody` is uploaded to the state bucket of the stack's region,
/// content-addressed, and its URL returned for `TemplateURL` (review S3-41); `None` for the rest.
async fn stage_template<C: Cloud>(cloud: &C, desired: &Desired) -> Result<Option<String>, StackFailure> {
    if desired.body.len() <= TEMPLATE_BODY_LIMIT {
        return Ok(None);
    }
    let bucket = &desired.limits.bucket;
    let key = format!("templates/{}.json", crate::template::sha256_hex(desired.body.as_bytes()));
    cloud
        .put_object(bucket, &key, desired.body.clone().into_bytes(), "application/json", false)
        .await
        .map_err(|e| cloud_failure(&desired.name, e, true))?;
    // S3's virtual-hosted URL, the form CloudFormation reads a TemplateURL in
    Ok(Some(format!("https://{bucket}.s3.{}.amazonaws.com/{key}", desired.region)))
}

/// A change set CloudFormation could not make: "no changes" leaves the stack as it is; anything
/// else fails the stack untouched, with each resource's reason from early validation.
async fn failed_change_set<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    id: &str,
    reason: String,
    progress: &Progress,
) -> Result<Applied, StackFailure> {
    let name = &desired.name;
    if reason.contains("didn't contain changes") || reason.contains("No updates are to be performed") {
        let _ = cloud.delete_change_set(&desired.stack_name, id).await;
        let info = cloud.describe_stack(&desired.stack_name).await.map_err(|e| cloud_failure(name, e, true))?;
        progress.stack_done(name, "unchanged");
        return Ok(unchanged(info.map(|i| i.outputs).unwrap_or_default(), "UPDATE_COMPLETE"));
    }
    // early validation: each resource and AWS's reason, read before the change set is deleted
    // (the emulator has no DescribeEvents: there the summary alone is shown)
    let details = match cloud.change_set_failures(&desired.stack_name, id).await {
        Ok(found) => found
            .iter()
            .map(|f| {
                format!(
                    "\n  {} ({}){}: {}: {}",
                    f.logical_id,
                    f.resource_type,
                    f.path.as_deref().map(|p| format!(" at {p}")).unwrap_or_default(),
                    f.validation,
                    f.reason
                )
            })
            .collect::<String>(),
        Err(_) => String::new(),
    };
    let _ = cloud.delete_change_set(&desired.stack_name, id).await;
    Err(failure(name, format!("the change set failed: {reason}{details}"), true))
}

/// P07: a change set that deletes or replaces a stateful resource where data is retained is
/// deleted unexecuted, unless `--allow-replace`.
async fn refuse_data_loss<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    id: &str,
    changes: &[ResourceChange],
    guard: Guard,
) -> Result<(), StackFailure> {
    let blocked: Vec<String> = changes
        .iter()
        .filter(|c| STATEFUL_TYPES.contains(&c.resource_type.as_str()))
        .filter(|c| c.action == "Remove" || matches!(c.replacement.as_deref(), Some("True") | Some("Conditional")))
        .map(|c| {
            format!(
                "{} ({}): {}",
                c.logical_id,
                c.resource_type,
                if c.action == "Remove" {
                    "deleted".to_string()
                } else {
                    format!("replaced (Replacement: {})", c.replacement.clone().unwrap_or_default())
                }
            )
        })
        .collect();
    if blocked.is_empty() || !guard.retain_data || guard.allow_replace {
        return Ok(());
    }
    let _ = cloud.delete_change_set(&desired.stack_name, id).await;
    Err(StackFailure {
        stack: desired.name.clone(),
        message: format!(
            "the change set would delete or replace data: {}\nhelp: this environment retains data; pass --allow-replace if losing it is intended",
            blocked.join("; ")
        ),
        resources: blocked,
        untouched: true,
    })
}

/// What was true before a change set was executed: the stack's events, its `LastUpdatedTime`,
/// and the change set.
struct Before {
    events: Vec<String>,
    last_updated: Option<String>,
    change_set: String,
}

/// Waits for the executing operation to settle, showing the newest event as it goes; returns the
/// stack's final status. A settled status counts only with evidence that this operation ran (a
/// read just after ExecuteChangeSet may answer the status from before: review S3-31), and a
/// failed one is looked at again before it is believed: it can be a passing phase. An operation
/// still running at the environment's `stack_timeout` is cancelled.
async fn wait_for_operation<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    before: &Before,
    progress: &Progress,
) -> Result<String, StackFailure> {
    let name = &desired.name;
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    let mut settle = 0;
    loop {
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(3));
        let info = cloud.describe_stack(&desired.stack_name).await.map_err(|e| cloud_failure(name, e, false))?;
        let status = info.as_ref().map(|i| i.status.clone()).unwrap_or_else(|| "DELETE_COMPLETE".into());
        // the newest event, where it is this operation's (events come newest first)
        let newest = cloud
            .newest_stack_event(&desired.stack_name)
            .await
            .ok()
            .flatten()
            .filter(|e| !before.events.contains(&e.id));
        progress.stack(name, &status, &newest.as_ref().map(event_line).unwrap_or_default());
        if settled(&status) && ran(cloud, desired, before, info.as_ref(), newest.is_some()).await {
            if SUCCESS.contains(&status.as_str()) || settle >= 3 {
                return Ok(status);
            }
            settle += 1;
            delay = Duration::from_millis(700);
            continue;
        }
        settle = 0;
        if started.elapsed() > desired.limits.timeout {
            return Err(overdue(cloud, desired, &status, progress).await);
        }
    }
}

/// Whether the operation ExecuteChangeSet started shows in what CloudFormation answers: an event
/// the stack did not have before, its `LastUpdatedTime` moved, or the change set's
/// `ExecutionStatus` at an end (`EXECUTE_COMPLETE`, `EXECUTE_FAILED`). ExecuteChangeSet only
/// starts the operation ("After the call successfully completes, CloudFormation starts updating
/// the stack", <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html>).
async fn ran<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    before: &Before,
    info: Option<&crate::aws::StackInfo>,
    new_event: bool,
) -> bool {
    if new_event || info.is_none() {
        return true;
    }
    if info.is_some_and(|i| i.last_updated.is_some() && i.last_updated != before.last_updated) {
        return true;
    }
    cloud
        .describe_change_set(&desired.stack_name, &before.change_set)
        .await
        .is_ok_and(|cs| matches!(cs.execution_status.as_deref(), Some("EXECUTE_COMPLETE" | "EXECUTE_FAILED")))
}

/// An operation past the environment's `stack_timeout`: an update is cancelled (CloudFormation
/// rolls it back), a create is deleted (CloudFormation has no cancel for a create), anything else
/// is left to end; the run then restores as after any failure.
async fn overdue<C: Cloud>(cloud: &C, desired: &Desired, status: &str, progress: &Progress) -> StackFailure {
    let limits = &desired.limits;
    let after = format!("still {status} after {} (`stack_timeout` in {})", minutes(limits.timeout), limits.file);
    let help = format!(
        "help: look at the stack's events in the console; raise `stack_timeout` in {} if its resources need longer",
        limits.file
    );
    let stack = &desired.stack_name;
    let done = match status {
        // "You can cancel only stacks that are in the UPDATE_IN_PROGRESS state"
        // (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CancelUpdateStack.html)
        "UPDATE_IN_PROGRESS" => match cloud.cancel_update_stack(stack).await {
            Ok(()) => "cancelled (CancelUpdateStack): CloudFormation rolls the update back".to_string(),
            Err(e) => format!("CancelUpdateStack failed: {e}"),
        },
        // a create cannot be cancelled, only deleted: the restore of a new stack deletes it anyway
        // ("Once the call completes successfully, stack deletion starts",
        // https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_DeleteStack.html)
        "CREATE_IN_PROGRESS" => match cloud.delete_stack(stack).await {
            Ok(()) => "cancelled: the stack being created is deleted (DeleteStack)".to_string(),
            Err(e) => format!("DeleteStack failed: {e}"),
        },
        s if settled(s) => "no sign that the change set ran; nothing to cancel".to_string(),
        s => format!("CloudFormation cannot cancel {s}; left to end"),
    };
    progress.warn(&format!("{}: {after}: {done}", desired.name));
    failure(&desired.name, format!("{after}: {done}\n{help}"), false)
}

/// An operation that ended in failure: `LogicalId (PhysicalId): reason` of each failed resource.
fn operation_failure(desired: &Desired, final_status: &str, events: &[StackEvent]) -> StackFailure {
    let resources: Vec<String> = events
        .iter()
        .filter(|e| e.status.ends_with("_FAILED") && e.logical_id != desired.stack_name)
        .map(|e| {
            format!(
                "{} ({}): {}",
                e.logical_id,
                e.physical_id.clone().unwrap_or_default(),
                e.reason.clone().unwrap_or_default()
            )
        })
        .collect();
    StackFailure {
        stack: desired.name.clone(),
        message: format!(
            "ended {final_status}{}",
            if resources.is_empty() { String::new() } else { format!(": {}", resources.join("; ")) }
        ),
        resources,
        untouched: false,
    }
}

/// Resources the service reported created without creating them: no physical id, or (LocalStack)
/// "deployed as a fallback".
fn reported_but_not_created(desired: &Desired, events: &[StackEvent]) -> Vec<String> {
    events
        .iter()
        .filter(|e| e.status == "CREATE_COMPLETE" && e.logical_id != desired.stack_name)
        .filter(|e| {
            e.physical_id.as_deref() == Some("unknown")
                || e.reason.as_deref().is_some_and(|r| r.contains("deployed as a fallback"))
        })
        .map(|e| format!("{} ({})", e.logical_id, e.resource_type))
        .collect()
}

/// Continues the rollback of a stack left `UPDATE_ROLLBACK_FAILED`, skipping the resources whose
/// update failed since its last completed operation.
async fn continue_rollback<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    guard: Guard,
    progress: &Progress,
) -> Result<(), StackFailure> {
    let name = &desired.name;
    // only resources still UPDATE_FAILED in the rollback itself may be skipped ("ResourcesToSkip":
    // "resources that are in the UPDATE_FAILED state because a rollback failed",
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ContinueUpdateRollback.html):
    // each resource's newest event since the rollback began, not a forward failure rolled back since
    let events = cloud.stack_events(&desired.stack_name).await.map_err(|e| cloud_failure(name, e, true))?;
    let mut newest: std::collections::BTreeMap<String, String> = Default::default();
    for e in events.iter().take_while(|e| {
        !(e.logical_id == desired.stack_name
            && (e.status == "UPDATE_ROLLBACK_IN_PROGRESS" || e.status.ends_with("_COMPLETE")))
    }) {
        if e.logical_id != desired.stack_name {
            newest.entry(e.logical_id.clone()).or_insert_with(|| e.status.clone());
        }
    }
    let skip: Vec<String> = newest.into_iter().filter(|(_, s)| s == "UPDATE_FAILED").map(|(id, _)| id).collect();
    // skipped resources are left inconsistent with the template, and AWS warns that later
    // updates may then fail for good ("Continue rolling back an update",
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-updating-stacks-continueupdaterollback.html):
    // where data is retained, only when asked (review S3-23)
    if !skip.is_empty() && guard.retain_data && !guard.force {
        return Err(failure(
            name,
            format!(
                "{} is UPDATE_ROLLBACK_FAILED on {}, and this environment retains data\nhelp: fix those resources and run `aws cloudformation continue-update-rollback --stack-name {}`, or pass --force to continue the rollback skipping them",
                desired.stack_name,
                skip.join(", "),
                desired.stack_name
            ),
            true,
        ));
    }
    progress.warn(&format!(
        "{} is UPDATE_ROLLBACK_FAILED: continuing the rollback{}",
        desired.stack_name,
        if skip.is_empty() {
            String::new()
        } else {
            format!(", skipping {} (left as they are; check them)", skip.join(", "))
        }
    ));
    cloud.continue_update_rollback(&desired.stack_name, &skip).await.map_err(|e| cloud_failure(name, e, true))?;
    Ok(())
}

/// Waits for a running operation to end, and clears the states a stack cannot be updated from:
/// `UPDATE_ROLLBACK_FAILED` (continue the rollback, skipping the resources that block it) and
/// `ROLLBACK_COMPLETE` after a failed create (delete it, so it can be created again; refused where
/// data is retained unless forced). Returns the stack as it now is.
async fn settle_stuck<C: Cloud>(
    cloud: &C,
    desired: &Desired,
    mut info: crate::aws::StackInfo,
    guard: Guard,
    progress: &Progress,
) -> Result<crate::aws::StackInfo, StackFailure> {
    let name = &desired.name;
    let started = Instant::now();
    let mut continued = false;
    loop {
        if !settled(&info.status) && info.status != "REVIEW_IN_PROGRESS" {
            progress.stack(name, &info.status, "waiting for the running operation to end");
            if started.elapsed() > desired.limits.timeout {
                // another run's operation, or CloudFormation's own rollback: not ours to cancel
                return Err(failure(
                    name,
                    format!(
                        "{} is still {} after {} (`stack_timeout` in {})\nhelp: look at the stack's events in the console",
                        desired.stack_name,
                        info.status,
                        minutes(desired.limits.timeout),
                        desired.limits.file
                    ),
                    true,
                ));
            }
            tokio::time::sleep(Duration::from_secs(2)).await;
        } else if info.status == "UPDATE_ROLLBACK_FAILED" && !continued {
            continue_rollback(cloud, desired, guard, progress).await?;
            continued = true;
            tokio::time::sleep(Duration::from_millis(500)).await;
        } else if info.status == "UPDATE_ROLLBACK_FAILED" {
            return Err(failure(
                name,
                format!(
                    "{} is still UPDATE_ROLLBACK_FAILED after continuing the rollback\nhelp: fix the resources its events name, then `aws cloudformation continue-update-rollback`",
                    desired.stack_name
                ),
                true,
            ));
        } else if info.status == "ROLLBACK_COMPLETE" || info.status == "ROLLBACK_FAILED" {
            if guard.retain_data && !guard.force {
                return Err(failure(
                    name,
                    format!(
                        "{} is {} after a failed create; it holds no working resources but this environment retains data\nhelp: pass --force to delete and create it again",
                        desired.stack_name, info.status
                    ),
                    true,
                ));
            }
            progress.warn(&format!(
                "{} is {} after a failed create: deleting it to create it again",
                desired.stack_name, info.status
            ));
            delete(cloud, name, &desired.stack_name, &desired.region, desired.limits.timeout, progress).await?;
            info.status = "DELETE_COMPLETE".into();
            return Ok(info);
        } else if info.status == "DELETE_FAILED" {
            return Err(failure(
                name,
                format!(
                    "{} is DELETE_FAILED: {}\nhelp: remove what blocks the deletion (a non-empty bucket, a resource in use), then delete the stack",
                    desired.stack_name,
                    info.reason.clone().unwrap_or_default()
                ),
                true,
            ));
        } else {
            return Ok(info);
        }
        info = match cloud.describe_stack(&desired.stack_name).await.map_err(|e| cloud_failure(name, e, true))? {
            Some(i) => i,
            None => {
                info.status = "DELETE_COMPLETE".into();
                return Ok(info);
            }
        };
    }
}

/// Deletes a stack and waits until it is gone.
pub async fn delete<C: Cloud>(
    cloud: &C,
    name: &str,
    stack_name: &str,
    region: &str,
    timeout: Duration,
    progress: &Progress,
) -> Result<(), StackFailure> {
    let regional = cloud.for_region(region);
    let cloud = &regional;
    // an operation still running (an update's cleanup, a rollback) is waited for first:
    // CloudFormation refuses to delete the stack until it ends ("Stack [..] cannot be deleted
    // while in status UPDATE_COMPLETE_CLEANUP_IN_PROGRESS", aws-amplify/amplify-backend#2366;
    // the in-progress statuses, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html)
    // (review S3-28)
    let started = Instant::now();
    loop {
        match cloud.describe_stack(stack_name).await.map_err(|e| cloud_failure(name, e, false))? {
            None => return Ok(()),
            Some(i) if settled(&i.status) || i.status == "REVIEW_IN_PROGRESS" => break,
            Some(i) => progress.stack(name, &i.status, "waiting for the running operation to end before deleting"),
        }
        if started.elapsed() > timeout {
            return Err(failure(
                name,
                format!("its operation did not end within {} (`stack_timeout`); not deleted", minutes(timeout)),
                false,
            ));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    cloud.delete_stack(stack_name).await.map_err(|e| cloud_failure(name, e, false))?;
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(500)).await;
        match cloud.describe_stack(stack_name).await.map_err(|e| cloud_failure(name, e, false))? {
            None => {
                progress.stack_done(name, "DELETE_COMPLETE");
                return Ok(());
            }
            Some(i) if i.status == "DELETE_FAILED" => {
                return Err(failure(name, format!("DELETE_FAILED: {}", i.reason.unwrap_or_default()), false));
            }
            Some(i) => progress.stack(name, &i.status, ""),
        }
        if started.elapsed() > timeout {
            return Err(failure(name, format!("still deleting after {} (`stack_timeout`)", minutes(timeout)), false));
        }
    }
}

/// Runs one change set to its end (a bootstrap stack, an import): created, waited for until
/// computed, executed, waited for until the stack settles. Errors name the stack and AWS's reason.
pub async fn run_change_set<C: Cloud>(cloud: &C, req: &ChangeSetRequest) -> Result<String, String> {
    let stack = &req.stack;
    let id = cloud.create_change_set(req).await.map_err(|e| format!("{stack}: the change set: {e}"))?;
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        let cs = cloud.describe_change_set(stack, &id).await.map_err(|e| e.to_string())?;
        if cs.status == "CREATE_COMPLETE" {
            break;
        }
        if cs.status == "FAILED" {
            let _ = cloud.delete_change_set(stack, &id).await;
            return Err(format!("{stack}: the change set failed: {}", cs.reason.unwrap_or_default()));
        }
        if started.elapsed() > CHANGE_SET_TIMEOUT {
            return Err(format!("{stack}: the change set did not finish computing within 10 minutes"));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
    cloud.execute_change_set(stack, &id).await.map_err(|e| format!("{stack}: {e}"))?;
    let started = Instant::now();
    loop {
        tokio::time::sleep(delay).await;
        let status =
            cloud.describe_stack(stack).await.map_err(|e| e.to_string())?.map(|s| s.status).unwrap_or_default();
        match status.as_str() {
            s if s.ends_with("_COMPLETE") && s.contains("ROLLBACK") || s.ends_with("_FAILED") => {
                return Err(format!("{stack}: ended {s}"));
            }
            s if s.ends_with("_COMPLETE") => return Ok(status),
            _ if started.elapsed() > STACK_TIMEOUT => {
                return Err(format!("{stack}: did not settle within an hour"));
            }
            _ => {}
        }
    }
}
