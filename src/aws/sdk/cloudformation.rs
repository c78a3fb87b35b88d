//! CloudFormation: stacks, their change sets, events and drift. Every list and describe goes
//! through the SDK's paginator (`into_paginator`,
//! <https://docs.aws.amazon.com/sdk-for-rust/latest/dg/paginating.html>), so a later page is
//! never silently dropped.

use super::err;
use crate::aws::*;
use aws_sdk_cloudformation::Client;
use aws_sdk_cloudformation::types;

fn time(t: Option<&aws_smithy_types::DateTime>) -> String {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).unwrap_or_default()
}

pub(super) async fn describe_stack(cfn: &Client, stack: &str) -> CloudResult<Option<StackInfo>> {
    // one stack by name: the first item of the answer
    let first = cfn.describe_stacks().stack_name(stack).into_paginator().items().send().try_next().await;
    let s = match first {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(None),
        Err(e) => {
            let e = err("CloudFormation DescribeStacks", e);
            if let CloudError::Service { message, .. } = &e
                && message.contains("does not exist")
            {
                return Ok(None);
            }
            return Err(e);
        }
    };
    let status = s.stack_status().map(|x| x.as_str().to_string()).unwrap_or_default();
    if status == "DELETE_COMPLETE" {
        return Ok(None);
    }
    Ok(Some(StackInfo {
        name: s.stack_name().unwrap_or_default().into(),
        id: s.stack_id().unwrap_or_default().into(),
        status,
        reason: s.stack_status_reason().map(str::to_string),
        parameters: s
            .parameters()
            .iter()
            .map(|p| (p.parameter_key().unwrap_or_default().into(), p.parameter_value().unwrap_or_default().into()))
            .collect(),
        outputs: s
            .outputs()
            .iter()
            .map(|o| (o.output_key().unwrap_or_default().into(), o.output_value().unwrap_or_default().into()))
            .collect(),
        tags: s
            .tags()
            .iter()
            .map(|t| (t.key().unwrap_or_default().into(), t.value().unwrap_or_default().into()))
            .collect(),
        last_updated: Some(time(s.last_updated_time().or(s.creation_time()))),
    }))
}

pub(super) async fn get_template(cfn: &Client, stack: &str) -> CloudResult<String> {
    let out = cfn
        .get_template()
        .stack_name(stack)
        .template_stage(types::TemplateStage::Original)
        .send()
        .await
        .map_err(|e| err("CloudFormation GetTemplate", e))?;
    Ok(out.template_body().unwrap_or_default().to_string())
}

pub(super) async fn list_stack_resources(cfn: &Client, stack: &str) -> CloudResult<Vec<StackResource>> {
    cfn.list_stack_resources()
        .stack_name(stack)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| err("CloudFormation ListStackResources", e))
        .map(|summaries| {
            summaries
                .iter()
                .map(|r| StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().into(),
                    physical_id: r.physical_resource_id().unwrap_or_default().into(),
                    resource_type: r.resource_type().unwrap_or_default().into(),
                })
                .collect()
        })
}

pub(super) async fn create_change_set(cfn: &Client, req: &ChangeSetRequest) -> CloudResult<String> {
    let params: Vec<types::Parameter> = req
        .parameters
        .iter()
        .map(|(k, v)| types::Parameter::builder().parameter_key(k).parameter_value(v).build())
        .collect();
    let tags: Vec<types::Tag> = req.tags.iter().map(|(k, v)| types::Tag::builder().key(k).value(v).build()).collect();
    let out = cfn
        .create_change_set()
        .stack_name(&req.stack)
        .change_set_name(&req.name)
        // one or the other: a template over TemplateBody's 51,200 bytes is read from S3
        // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html)
        .set_template_body(req.template_url.is_none().then(|| req.template_body.clone()))
        .set_template_url(req.template_url.clone())
        .set_parameters(Some(params))
        .set_tags(Some(tags))
        .capabilities(types::Capability::CapabilityIam)
        .set_role_arn(req.role_arn.clone())
        .change_set_type(if !req.imports.is_empty() {
            types::ChangeSetType::Import
        } else if req.create {
            types::ChangeSetType::Create
        } else {
            types::ChangeSetType::Update
        })
        .set_resources_to_import((!req.imports.is_empty()).then(|| {
            req.imports
                .iter()
                .map(|r| {
                    types::ResourceToImport::builder()
                        .resource_type(&r.resource_type)
                        .logical_resource_id(&r.logical_id)
                        .resource_identifier(&r.identifier.0, &r.identifier.1)
                        .build()
                })
                .collect()
        }))
        .send()
        .await
        .map_err(|e| err("CloudFormation CreateChangeSet", e))?;
    Ok(out.id().unwrap_or_default().to_string())
}

pub(super) async fn describe_change_set(cfn: &Client, stack: &str, id: &str) -> CloudResult<ChangeSetInfo> {
    // every page: a replacement on a later page must reach the data-loss guard (code review)
    let pages = cfn
        .describe_change_set()
        .stack_name(stack)
        .change_set_name(id)
        .into_paginator()
        .send()
        .try_collect()
        .await
        .map_err(|e| err("CloudFormation DescribeChangeSet", e))?;
    let changes = pages
        .iter()
        .flat_map(|page| page.changes())
        .filter_map(|c| c.resource_change())
        .map(|rc| ResourceChange {
            action: rc.action().map(|a| a.as_str().to_string()).unwrap_or_default(),
            logical_id: rc.logical_resource_id().unwrap_or_default().into(),
            resource_type: rc.resource_type().unwrap_or_default().into(),
            replacement: rc.replacement().map(|r| r.as_str().to_string()),
        })
        .collect();
    // the change set's status as the last page told it
    let out = pages.last().ok_or_else(|| CloudError::Transport {
        operation: "CloudFormation DescribeChangeSet".into(),
        message: "no page came back".into(),
    })?;
    Ok(ChangeSetInfo {
        id: out.change_set_id().unwrap_or(id).to_string(),
        status: out.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        reason: out.status_reason().map(str::to_string),
        execution_status: out.execution_status().map(|s| s.as_str().to_string()),
        changes,
    })
}

pub(super) async fn execute_change_set(cfn: &Client, stack: &str, id: &str) -> CloudResult<()> {
    cfn.execute_change_set()
        .stack_name(stack)
        .change_set_name(id)
        .send()
        .await
        .map_err(|e| err("CloudFormation ExecuteChangeSet", e))?;
    Ok(())
}

pub(super) async fn delete_change_set(cfn: &Client, stack: &str, id: &str) -> CloudResult<()> {
    cfn.delete_change_set()
        .stack_name(stack)
        .change_set_name(id)
        .send()
        .await
        .map_err(|e| err("CloudFormation DeleteChangeSet", e))?;
    Ok(())
}

/// Newest first, as CloudFormation returns them, page after page back to the end of the operation
/// before the latest: every event of the latest operation however many pages it fills, and no
/// more of a long-lived stack's history than that (see [`LatestOperation`]).
pub(super) async fn stack_events(cfn: &Client, stack: &str) -> CloudResult<Vec<StackEvent>> {
    let mut events = cfn.describe_stack_events().stack_name(stack).into_paginator().items().send();
    let mut latest = LatestOperation::default();
    let mut out = vec![];
    while let Some(e) = events.try_next().await.map_err(|e| err("CloudFormation DescribeStackEvents", e))? {
        let event = stack_event(&e);
        let last = latest.ends_with(stack, &event);
        out.push(event);
        if last {
            break;
        }
    }
    Ok(out)
}

/// The first page's first event: the newest.
pub(super) async fn newest_stack_event(cfn: &Client, stack: &str) -> CloudResult<Option<StackEvent>> {
    let page = cfn
        .describe_stack_events()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| err("CloudFormation DescribeStackEvents", e))?;
    Ok(page.stack_events().first().map(stack_event))
}

fn stack_event(e: &aws_sdk_cloudformation::types::StackEvent) -> StackEvent {
    StackEvent {
        id: e.event_id().unwrap_or_default().into(),
        timestamp: time(e.timestamp()),
        logical_id: e.logical_resource_id().unwrap_or_default().into(),
        resource_type: e.resource_type().unwrap_or_default().into(),
        status: e.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        reason: e.resource_status_reason().map(str::to_string),
        physical_id: e.physical_resource_id().map(str::to_string),
    }
}

/// Reads a stack's events newest first and finds where the latest operation's history ends: at
/// the stack's own `*_COMPLETE` event that comes before (is older than) one of its own
/// `*_IN_PROGRESS` events, which closed the operation before. That event is read too, so two reads
/// on either side of an operation overlap: what the second has and the first had not is exactly
/// the operation's events. The deploy engine's reads need no more: the newest event, the events
/// since a change set was executed, and the resources an `UPDATE_ROLLBACK_FAILED` rollback failed
/// on (back to the stack's last `*_COMPLETE`).
#[derive(Default)]
struct LatestOperation {
    started: bool,
}

impl LatestOperation {
    /// Whether `e` is the last event to read.
    fn ends_with(&mut self, stack: &str, e: &StackEvent) -> bool {
        if e.logical_id != stack {
            return false;
        }
        if self.started && e.status.ends_with("_COMPLETE") {
            return true;
        }
        self.started |= e.status.ends_with("_IN_PROGRESS");
        false
    }
}

pub(super) async fn delete_stack(cfn: &Client, stack: &str) -> CloudResult<()> {
    cfn.delete_stack().stack_name(stack).send().await.map_err(|e| err("CloudFormation DeleteStack", e))?;
    Ok(())
}

pub(super) async fn cancel_update_stack(cfn: &Client, stack: &str) -> CloudResult<()> {
    cfn.cancel_update_stack().stack_name(stack).send().await.map_err(|e| err("CloudFormation CancelUpdateStack", e))?;
    Ok(())
}

pub(super) async fn continue_update_rollback(cfn: &Client, stack: &str, skip: &[String]) -> CloudResult<()> {
    cfn.continue_update_rollback()
        .stack_name(stack)
        .set_resources_to_skip(if skip.is_empty() { None } else { Some(skip.to_vec()) })
        .send()
        .await
        .map_err(|e| err("CloudFormation ContinueUpdateRollback", e))?;
    Ok(())
}

pub(super) async fn detect_drift(cfn: &Client, stack: &str) -> CloudResult<String> {
    let id = cfn
        .detect_stack_drift()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| err("CloudFormation DetectStackDrift", e))?
        .stack_drift_detection_id()
        .unwrap_or_default()
        .to_string();
    for _ in 0..60 {
        let out = cfn
            .describe_stack_drift_detection_status()
            .stack_drift_detection_id(&id)
            .send()
            .await
            .map_err(|e| err("CloudFormation DescribeStackDriftDetectionStatus", e))?;
        let status = out.detection_status().map(|s| s.as_str().to_string()).unwrap_or_default();
        if status != "DETECTION_IN_PROGRESS" {
            return Ok(out.stack_drift_status().map(|s| s.as_str().to_string()).unwrap_or(status));
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
    Ok("DETECTION_IN_PROGRESS".into())
}

pub(super) async fn change_set_failures(
    cfn: &Client,
    stack: &str,
    change_set: &str,
) -> CloudResult<Vec<ValidationFailure>> {
    let events = cfn
        .describe_events()
        .stack_name(stack)
        .change_set_name(change_set)
        .filters(types::EventFilter::builder().failed_events(true).build())
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| err("CloudFormation DescribeEvents", e))?;
    Ok(events
        .iter()
        .filter_map(|e| {
            let reason = e.validation_status_reason().or(e.resource_status_reason()).filter(|r| !r.is_empty())?;
            Some(ValidationFailure {
                logical_id: e.logical_resource_id().unwrap_or_default().into(),
                resource_type: e.resource_type().unwrap_or_default().into(),
                validation: e.validation_name().unwrap_or("validation").into(),
                reason: reason.into(),
                path: e.validation_path().map(str::to_string),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(logical_id: &str, status: &str) -> StackEvent {
        StackEvent {
            id: String::new(),
            timestamp: String::new(),
            logical_id: logical_id.into(),
            resource_type: String::new(),
            status: status.into(),
            reason: None,
            physical_id: None,
        }
    }

    /// How many of `events` (newest first) are read.
    fn read(events: &[StackEvent]) -> usize {
        let mut latest = LatestOperation::default();
        events.iter().position(|e| latest.ends_with("web", e)).map_or(events.len(), |i| i + 1)
    }

    #[test]
    fn a_stacks_events_are_read_back_to_the_end_of_the_operation_before_the_latest() {
        let history = [
            event("web", "UPDATE_COMPLETE"),
            event("web", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"),
            event("Api", "UPDATE_COMPLETE"),
            event("Api", "UPDATE_IN_PROGRESS"),
            event("web", "UPDATE_IN_PROGRESS"),
            event("web", "UPDATE_COMPLETE"),
            event("Api", "UPDATE_COMPLETE"),
            event("web", "UPDATE_IN_PROGRESS"),
            event("web", "CREATE_COMPLETE"),
        ];
        assert_eq!(read(&history), 6, "the latest update and the end of the one before");
        // while an operation runs, and once it failed and its rollback failed too
        assert_eq!(read(&history[3..]), 3);
        let failed = [
            event("web", "UPDATE_ROLLBACK_FAILED"),
            event("Api", "UPDATE_FAILED"),
            event("web", "UPDATE_ROLLBACK_IN_PROGRESS"),
            event("Api", "UPDATE_FAILED"),
            event("web", "UPDATE_IN_PROGRESS"),
            event("web", "CREATE_COMPLETE"),
            event("web", "CREATE_IN_PROGRESS"),
        ];
        assert_eq!(read(&failed), 6);
        // a stack created by the latest operation: everything it has
        assert_eq!(read(&failed[5..]), 2);
    }
}
