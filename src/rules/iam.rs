//! Permission lessons: least privilege (L13) and scheduler roles (L09).

use super::util::{as_list, policy_statements, referenced_ids, refers_to};
use super::{Hit, Target};
use serde_json::Value;

/// Actions AWS offers no resource-level permission for: `Resource: "*"` is the only choice.
const NO_RESOURCE_LEVEL: &[&str] = &[
    "cloudwatch:putmetricdata",
    "ec2:describe",
    "logs:describeloggroups",
    "mediaconnect:listflows",
    "mediaconnect:listentitlements",
    "medialive:listchannels",
    "medialive:listinputs",
    "medialive:listinputsecuritygroups",
    "medialive:createinputsecuritygroup",
    "mediapackage:listchannels",
    "mediaconvert:describeendpoints",
    "s3:listallmybuckets",
    "sts:getcalleridentity",
    "xray:puttracesegments",
    "xray:puttelemetryrecords",
    "kms:listkeys",
    "kms:listaliases",
];

/// Managed policies too broad for a workload role.
const BROAD_MANAGED: &[&str] = &[
    "AdministratorAccess",
    "PowerUserAccess",
    "AmazonDynamoDBFullAccess",
    "AmazonS3FullAccess",
    "AWSLambda_FullAccess",
    "AmazonAPIGatewayInvokeFullAccess",
    "IAMFullAccess",
];

fn actions(s: &Value) -> Vec<String> {
    as_list(&s["Action"]).iter().filter_map(|a| a.as_str().map(str::to_string)).collect()
}

/// L13: no `*` actions, no `*` resources where resource-level permissions exist, no broad
/// managed policies, `iam:PassRole` and `execute-api:ManageConnections` scoped.
pub fn l13(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, s) in policy_statements(t) {
        if s["Effect"] != "Allow" {
            continue;
        }
        let acts = actions(&s);
        for a in &acts {
            if a == "*" || a.ends_with(":*") {
                hits.push(Hit::new(&id, format!("allows `{a}`"), "name the actions the workload calls"));
            }
        }
        let star = as_list(&s["Resource"]).iter().any(|r| r.as_str() == Some("*"));
        if star {
            let scoped: Vec<&String> = acts
                .iter()
                .filter(|a| !NO_RESOURCE_LEVEL.iter().any(|n| a.to_ascii_lowercase().starts_with(n)))
                .collect();
            if !scoped.is_empty() {
                let names: Vec<&str> = scoped.iter().map(|s| s.as_str()).collect();
                let special = if names.iter().any(|a| a.eq_ignore_ascii_case("iam:PassRole")) {
                    " (iam:PassRole on * lets the workload hand any role to a service)"
                } else if names.iter().any(|a| a.eq_ignore_ascii_case("execute-api:ManageConnections")) {
                    " (seed 003: ManageConnections on * reaches every WebSocket API in the account)"
                } else {
                    ""
                };
                hits.push(Hit::new(
                    &id,
                    format!("allows {} on Resource \"*\"{special}", names.join(", ")),
                    "scope the statement to the resource ARNs (flow, tables, API connections, the passed role)",
                ));
            }
        }
    }
    for (id, ty, p) in t.resources() {
        if ty != "AWS::IAM::Role" {
            continue;
        }
        for arn in as_list(&p["ManagedPolicyArns"]) {
            let text = serde_json::to_string(arn).unwrap_or_default();
            if let Some(name) = BROAD_MANAGED.iter().find(|n| text.contains(&format!("policy/{n}"))) {
                hits.push(Hit::new(
                    id,
                    format!("attaches the managed policy {name}"),
                    "replace it with statements scoped to the resources the role uses (seed 003)",
                ));
            }
        }
    }
    hits
}

/// L09: a schedule that targets a function has a role allowed `lambda:InvokeFunction` on
/// exactly that function.
pub fn l09(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, s) in t.of_type("AWS::Scheduler::Schedule") {
        let target = &s["Target"];
        // a function of this template, or one passed in as a parameter from another stack
        let is_param = |r: &str| t.template["Parameters"].get(r).is_some();
        let fns: Vec<String> = referenced_ids(&target["Arn"])
            .into_iter()
            .filter(|r| t.type_of(r).is_some_and(|ty| ty.starts_with("AWS::Lambda::")) || is_param(r))
            .collect();
        let Some(function) = fns.first() else { continue };
        let roles: Vec<String> =
            referenced_ids(&target["RoleArn"]).into_iter().filter(|r| t.type_of(r) == Some("AWS::IAM::Role")).collect();
        let ok = roles.iter().any(|role| {
            policy_statements(t).iter().any(|(rid, st)| {
                rid == role
                    && st["Effect"] == "Allow"
                    && actions(st).iter().any(|a| a == "lambda:InvokeFunction")
                    && as_list(&st["Resource"]).iter().any(|r| refers_to(r, function))
                    && !as_list(&st["Resource"]).iter().any(|r| r.as_str() == Some("*"))
            })
        });
        if !ok {
            hits.push(Hit::new(
                id,
                format!("targets function {function} without a role allowed lambda:InvokeFunction on exactly it (seed 004 round 2)"),
                "give the schedule a role (Target.RoleArn) whose policy allows lambda:InvokeFunction on that function's ARN",
            ));
        }
    }
    hits
}
