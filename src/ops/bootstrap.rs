//! `castform bootstrap ENV`: the state bucket of the environment's account and region
//! (private, encrypted, versioned) that holds assets, backups, the ledger and the lock; plus
//! one in each other region the app's stacks live in (an edge stack in us-east-1),
//! for their assets: Lambda reads code only from a bucket in its own region. And the
//! environment's deploy role: a CloudFormation service role (stack `<prefix>-castform-bootstrap`)
//! that every change set of the environment runs with (`RoleARN`), allowed what the handlers of
//! the app's resource types need and nothing else, so whoever deploys needs only CloudFormation,
//! the state bucket and `iam:PassRole` on that role (`--print-policy`).
//! "AWS CloudFormation service role",
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-iam-servicerole.html>

use crate::aws::Cloud;
use crate::config::Environment;
use crate::state::StateStore;
use crate::template::App;
use anyhow::{Result, bail};

/// Creates every state bucket the app needs; returns `(region, bucket)` of each.
pub async fn run<C: Cloud>(cloud: &C, env: &Environment, app: &App) -> Result<Vec<(String, String)>> {
    let identity = cloud.caller_identity().await?;
    if identity.account != env.account {
        // refused before any write: exit 2
        return crate::config::bad_input(format!(
            "the credentials are for account {} ({}), but {} is account {}\nhelp: switch to the profile for account {}",
            identity.account, identity.arn, env.file, env.account, env.account
        ));
    }
    // the deploy role is known (and within IAM's size) before anything is created
    template(env, app)?;
    let state = StateStore::new(env);
    let buckets = state.buckets(app);
    for (region, bucket) in &buckets {
        cloud.for_region(region).create_state_bucket(bucket).await?;
    }
    Ok(buckets)
}

/// The stack that holds the environment's deploy role.
pub fn stack_name(env: &Environment) -> String {
    format!("{}-castform-bootstrap", env.prefix)
}

/// The deploy role's name (IAM is global: one role for every region of the environment).
pub fn role_name(env: &Environment) -> String {
    format!("{}-cfn-exec", env.prefix)
}

/// What CloudFormation needs for a type that has no handlers in the registry (MediaLive's
/// channel, a legacy type), from the Service Authorization Reference's MediaLive actions
/// (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselementalmedialive.html>).
const LEGACY_TYPES: &[(&str, &[&str])] = &[(
    "AWS::MediaLive::Channel",
    &[
        "medialive:CreateChannel",
        "medialive:DescribeChannel",
        "medialive:UpdateChannel",
        "medialive:DeleteChannel",
        "medialive:CreateTags",
        "medialive:DeleteTags",
        "medialive:ListTagsForResource",
        "iam:PassRole",
    ],
)];

/// Every action the deploy role needs: the permissions the registry schema's create, read,
/// update and delete handlers list for each resource type the app's stacks use (what
/// CloudFormation calls with the role), sorted. Errors name a type castform cannot vouch for.
pub fn execution_actions(app: &App) -> Result<Vec<String>> {
    let mut out = std::collections::BTreeSet::new();
    for s in &app.stacks {
        for r in s.template.resources.values() {
            if let Some((_, actions)) = LEGACY_TYPES.iter().find(|(t, _)| *t == r.type_name) {
                out.extend(actions.iter().map(|a| a.to_string()));
                continue;
            }
            let schema = crate::rules::registry::schema(&r.type_name, &s.region).ok_or_else(|| {
                anyhow::anyhow!("{} has no registry schema, so its deploy role cannot be derived", r.type_name)
            })?;
            let Some(handlers) = schema.get("handlers") else {
                bail!(
                    "{} lists no handler permissions in its registry schema; castform cannot derive what its deploy role needs",
                    r.type_name
                )
            };
            for h in ["create", "read", "update", "delete"] {
                for p in handlers[h]["permissions"].as_array().into_iter().flatten() {
                    if let Some(p) = p.as_str() {
                        out.insert(p.to_string());
                    }
                }
            }
        }
    }
    Ok(out.into_iter().collect())
}

/// The bootstrap stack's template: the deploy role, trusted by CloudFormation only.
pub fn template(env: &Environment, app: &App) -> Result<String> {
    let actions = execution_actions(app)?;
    // an inline policy counts against the role's 10,240 characters
    // (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)
    let size: usize = actions.iter().map(|a| a.len() + 3).sum();
    if size > 10_000 {
        return crate::config::bad_input(format!(
            "the deploy role of {}/{} would need {size} characters of actions, over IAM's 10,240 per role\nhelp: split the app's stacks into two apps, or use fewer resource types",
            app.app, env.name
        ));
    }
    let t = serde_json::json!({
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": format!("castform bootstrap of {}/{}: the role CloudFormation deploys its stacks with", app.app, env.name),
        "Resources": {"ExecutionRole": {"Type": "AWS::IAM::Role", "Properties": {
            "RoleName": role_name(env),
            "Description": "castform: CloudFormation's service role for this environment's stacks",
            "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Effect": "Allow", "Principal": {"Service": "cloudformation.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
            "Policies": [{"PolicyName": "resource-type-handlers", "PolicyDocument": {"Version": "2012-10-17", "Statement": [{
                "Sid": "WhatTheHandlersOfTheAppsTypesCall", "Effect": "Allow", "Action": actions, "Resource": "*"}]}}],
            "Tags": [{"Key": "castform:app", "Value": app.app}, {"Key": "castform:environment", "Value": env.name}]
        }}},
        "Outputs": {"ExecutionRoleArn": {"Value": {"Fn::GetAtt": ["ExecutionRole", "Arn"]}}}
    });
    Ok(serde_json::to_string_pretty(&t)?)
}

/// What the person or CI job that deploys needs once the deploy role exists: the environment's
/// stacks and change sets, the state buckets, passing the deploy role to CloudFormation, and the
/// calls castform makes itself (backups of functions, alias moves, invalidations, the live
/// pipeline's state, adopted resources' reads, health checks).
pub fn deployer_policy(env: &Environment, app: &App) -> serde_json::Value {
    let state = StateStore::new(env);
    let buckets: Vec<String> = state.buckets(app).into_iter().map(|(_, b)| b).collect();
    let stacks = |region: &str| format!("arn:aws:cloudformation:{region}:{}:stack/{}-*/*", env.account, env.prefix);
    let mut regions: Vec<String> = app.stacks.iter().map(|s| s.region.clone()).collect();
    regions.sort();
    regions.dedup();
    serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Sid": "TheEnvironmentsStacks", "Effect": "Allow", "Action": [
            "cloudformation:CreateChangeSet", "cloudformation:DescribeChangeSet", "cloudformation:ExecuteChangeSet",
            "cloudformation:DeleteChangeSet", "cloudformation:DescribeStacks", "cloudformation:DescribeStackEvents",
            "cloudformation:ListStackResources", "cloudformation:GetTemplate", "cloudformation:DeleteStack",
            "cloudformation:ContinueUpdateRollback", "cloudformation:DetectStackDrift",
            "cloudformation:DescribeStackDriftDetectionStatus"],
         "Resource": regions.iter().map(|r| stacks(r)).collect::<Vec<_>>()},
        {"Sid": "NotTheBootstrapStack", "Effect": "Deny", "Action": "cloudformation:*",
         "Resource": format!("arn:aws:cloudformation:{}:{}:stack/{}/*", env.region, env.account, stack_name(env))},
        {"Sid": "PassTheDeployRole", "Effect": "Allow", "Action": "iam:PassRole",
         "Resource": format!("arn:aws:iam::{}:role/{}", env.account, role_name(env)),
         "Condition": {"StringEquals": {"iam:PassedToService": "cloudformation.amazonaws.com"}}},
        {"Sid": "TheStateBuckets", "Effect": "Allow", "Action": [
            "s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion", "s3:ListBucket",
            "s3:ListBucketVersions", "s3:GetBucketVersioning"],
         "Resource": buckets.iter().flat_map(|b| [format!("arn:aws:s3:::{b}"), format!("arn:aws:s3:::{b}/*")]).collect::<Vec<_>>()},
        {"Sid": "WhatCastformCallsItself", "Effect": "Allow", "Action": [
            "sts:GetCallerIdentity", "lambda:GetFunction", "lambda:UpdateAlias", "lambda:InvokeFunctionUrl",
            "lambda:InvokeFunction", "cloudfront:CreateInvalidation", "cloudfront:GetInvalidation",
            "medialive:DescribeChannel", "medialive:StartChannel", "medialive:StopChannel",
            "mediaconnect:DescribeFlow", "mediaconnect:StartFlow", "mediaconnect:StopFlow",
            "dynamodb:DescribeTable", "dynamodb:ListTables", "dynamodb:Scan", "cloudcontrol:GetResource",
            "cloudcontrol:ListResources", "s3:ListAllMyBuckets"],
         "Resource": "*",
         "Condition": {"StringEquals": {"aws:ResourceAccount": env.account}}}
    ]})
}

/// Creates or updates the bootstrap stack; returns the deploy role's ARN.
pub async fn deploy_role<C: Cloud>(cloud: &C, env: &Environment, app: &App) -> Result<String> {
    let body = template(env, app)?;
    let name = stack_name(env);
    let existing = cloud.describe_stack(&name).await?;
    if let Some(s) = existing.as_ref().filter(|s| s.status.ends_with("_COMPLETE") && !s.status.contains("ROLLBACK"))
        && cloud.get_template(&name).await? == body
        && let Some(arn) = s.outputs.get("ExecutionRoleArn")
    {
        return Ok(arn.clone());
    }
    let create = existing.as_ref().is_none_or(|s| s.status == "REVIEW_IN_PROGRESS" || s.status == "DELETE_COMPLETE");
    let req = crate::aws::ChangeSetRequest {
        stack: name.clone(),
        name: format!("castform-bootstrap-{}", crate::state::clock::new_id()),
        template_body: body,
        template_url: None,
        parameters: Default::default(),
        tags: [("castform:app".to_string(), app.app.clone()), ("castform:environment".to_string(), env.name.clone())]
            .into_iter()
            .collect(),
        create,
        imports: vec![],
        // the bootstrap stack itself runs with the caller's credentials: the role is what it makes
        role_arn: None,
    };
    crate::ops::changeset::run_change_set(cloud, &req).await.map_err(anyhow::Error::msg)?;
    let s = cloud.describe_stack(&name).await?.ok_or_else(|| anyhow::anyhow!("stack {name} is gone"))?;
    s.outputs
        .get("ExecutionRoleArn")
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("stack {name} has no ExecutionRoleArn output"))
}
