//! CloudFormation: stacks, their change sets, events and drift.

use super::err;
use crate::aws::*;
use aws_sdk_cloudformation::types as cfn;

fn time(t: Option<&aws_smithy_types::DateTime>) -> String {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).unwrap_or_default()
}

pub(super) async fn describe_stack(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> CloudResult<Option<StackInfo>> {
    let out = match cfn.describe_stacks().stack_name(stack).send().await {
        Ok(o) => o,
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
    let Some(s) = out.stacks().first() else { return Ok(None) };
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

pub(super) async fn get_template(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> CloudResult<String> {
    let out = cfn
        .get_template()
        .stack_name(stack)
        .template_stage(cfn::TemplateStage::Original)
        .send()
        .await
        .map_err(|e| err("CloudFormation GetTemplate", e))?;
    Ok(out.template_body().unwrap_or_default().to_string())
}

pub(super) async fn list_stack_resources(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
) -> CloudResult<Vec<StackResource>> {
    let mut out = vec![];
    let mut token: Option<String> = None;
    loop {
        let page = cfn
            .list_stack_resources()
            .stack_name(stack)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| err("CloudFormation ListStackResources", e))?;
        for r in page.stack_resource_summaries() {
            out.push(StackResource {
                logical_id: r.logical_resource_id().unwrap_or_default().into(),
                physical_id: r.physical_resource_id().unwrap_or_default().into(),
                resource_type: r.resource_type().unwrap_or_default().into(),
            });
        }
        match page.next_token() {
            Some(t) => token = Some(t.to_string()),
            None => break,
        }
    }
    Ok(out)
}

pub(super) async fn create_change_set(
    cfn: &aws_sdk_cloudformation::Client,
    req: &ChangeSetRequest,
) -> CloudResult<String> {
    let params: Vec<cfn::Parameter> = req
        .parameters
        .iter()
        .map(|(k, v)| cfn::Parameter::builder().parameter_key(k).parameter_value(v).build())
        .collect();
    let tags: Vec<cfn::Tag> = req.tags.iter().map(|(k, v)| cfn::Tag::builder().key(k).value(v).build()).collect();
    let out = cfn
        .create_change_set()
        .stack_name(&req.stack)
        .change_set_name(&req.name)
        .template_body(&req.template_body)
        .set_parameters(Some(params))
        .set_tags(Some(tags))
        .capabilities(cfn::Capability::CapabilityIam)
        .set_role_arn(req.role_arn.clone())
        .change_set_type(if !req.imports.is_empty() {
            cfn::ChangeSetType::Import
        } else if req.create {
            cfn::ChangeSetType::Create
        } else {
            cfn::ChangeSetType::Update
        })
        .set_resources_to_import((!req.imports.is_empty()).then(|| {
            req.imports
                .iter()
                .map(|r| {
                    cfn::ResourceToImport::builder()
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

pub(super) async fn describe_change_set(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    id: &str,
) -> CloudResult<ChangeSetInfo> {
    // every page: a replacement on a later page must reach the data-loss guard (code review)
    let mut changes = vec![];
    let mut token: Option<String> = None;
    let out = loop {
        let out = cfn
            .describe_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| err("CloudFormation DescribeChangeSet", e))?;
        changes.extend(out.changes().iter().filter_map(|c| c.resource_change()).map(|rc| ResourceChange {
            action: rc.action().map(|a| a.as_str().to_string()).unwrap_or_default(),
            logical_id: rc.logical_resource_id().unwrap_or_default().into(),
            resource_type: rc.resource_type().unwrap_or_default().into(),
            replacement: rc.replacement().map(|r| r.as_str().to_string()),
        }));
        match out.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break out,
        }
    };
    Ok(ChangeSetInfo {
        id: out.change_set_id().unwrap_or(id).to_string(),
        status: out.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        reason: out.status_reason().map(str::to_string),
        execution_status: out.execution_status().map(|s| s.as_str().to_string()),
        changes,
    })
}

pub(super) async fn execute_change_set(cfn: &aws_sdk_cloudformation::Client, stack: &str, id: &str) -> CloudResult<()> {
    cfn.execute_change_set()
        .stack_name(stack)
        .change_set_name(id)
        .send()
        .await
        .map_err(|e| err("CloudFormation ExecuteChangeSet", e))?;
    Ok(())
}

pub(super) async fn delete_change_set(cfn: &aws_sdk_cloudformation::Client, stack: &str, id: &str) -> CloudResult<()> {
    cfn.delete_change_set()
        .stack_name(stack)
        .change_set_name(id)
        .send()
        .await
        .map_err(|e| err("CloudFormation DeleteChangeSet", e))?;
    Ok(())
}

pub(super) async fn stack_events(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> CloudResult<Vec<StackEvent>> {
    let out = cfn
        .describe_stack_events()
        .stack_name(stack)
        .send()
        .await
        .map_err(|e| err("CloudFormation DescribeStackEvents", e))?;
    Ok(out
        .stack_events()
        .iter()
        .map(|e| StackEvent {
            id: e.event_id().unwrap_or_default().into(),
            timestamp: time(e.timestamp()),
            logical_id: e.logical_resource_id().unwrap_or_default().into(),
            resource_type: e.resource_type().unwrap_or_default().into(),
            status: e.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            reason: e.resource_status_reason().map(str::to_string),
            physical_id: e.physical_resource_id().map(str::to_string),
        })
        .collect())
}

pub(super) async fn delete_stack(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> CloudResult<()> {
    cfn.delete_stack().stack_name(stack).send().await.map_err(|e| err("CloudFormation DeleteStack", e))?;
    Ok(())
}

pub(super) async fn continue_update_rollback(
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    skip: &[String],
) -> CloudResult<()> {
    cfn.continue_update_rollback()
        .stack_name(stack)
        .set_resources_to_skip(if skip.is_empty() { None } else { Some(skip.to_vec()) })
        .send()
        .await
        .map_err(|e| err("CloudFormation ContinueUpdateRollback", e))?;
    Ok(())
}

pub(super) async fn detect_drift(cfn: &aws_sdk_cloudformation::Client, stack: &str) -> CloudResult<String> {
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
    cfn: &aws_sdk_cloudformation::Client,
    stack: &str,
    change_set: &str,
) -> CloudResult<Vec<ValidationFailure>> {
    let mut out = vec![];
    let mut token: Option<String> = None;
    loop {
        let page = cfn
            .describe_events()
            .stack_name(stack)
            .change_set_name(change_set)
            .filters(cfn::EventFilter::builder().failed_events(true).build())
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| err("CloudFormation DescribeEvents", e))?;
        for e in page.operation_events() {
            let reason = e.validation_status_reason().or(e.resource_status_reason()).unwrap_or_default();
            if reason.is_empty() {
                continue;
            }
            out.push(ValidationFailure {
                logical_id: e.logical_resource_id().unwrap_or_default().into(),
                resource_type: e.resource_type().unwrap_or_default().into(),
                validation: e.validation_name().unwrap_or("validation").into(),
                reason: reason.into(),
                path: e.validation_path().map(str::to_string),
            });
        }
        match page.next_token() {
            Some(t) if !t.is_empty() => token = Some(t.to_string()),
            _ => break,
        }
    }
    Ok(out)
}
