//! Permission lessons: least privilege (L13), scheduler roles (L09) and environments isolated in
//! a shared account (L27).

use super::util::{as_list, each_string, policy_statements, referenced_ids, refers_to};
use super::{Hit, Target};
use serde_json::Value;

/// Every action of AWS's Service Authorization Reference, `*` where it takes no resource type
/// (`Resource: "*"` is the only choice) and `r` where it does (vendored with its source and date
/// in the file's header).
static ACTIONS: &str = include_str!("../../schemas/iam-actions.txt");

fn actions_table() -> &'static std::collections::BTreeMap<&'static str, bool> {
    static MAP: std::sync::OnceLock<std::collections::BTreeMap<&'static str, bool>> = std::sync::OnceLock::new();
    MAP.get_or_init(|| {
        ACTIONS
            .lines()
            .filter(|l| !l.starts_with('#'))
            .filter_map(|l| l.split_once('\t'))
            .map(|(a, kind)| (a, kind == "*"))
            .collect()
    })
}

/// Does `action` (a pattern such as `ec2:Describe*` included) only ever take `Resource: "*"`?
/// A pattern does when every action it matches does.
fn star_only(action: &str) -> bool {
    let a = action.to_ascii_lowercase();
    if NO_RESOURCE_LEVEL.iter().any(|n| a.starts_with(n)) {
        return true;
    }
    let table = actions_table();
    match a.strip_suffix('*') {
        Some(prefix) if !prefix.is_empty() && !prefix.ends_with(':') && !prefix.contains('*') => {
            let mut matched = table.range(prefix..).take_while(|(k, _)| k.starts_with(prefix)).peekable();
            matched.peek().is_some() && matched.all(|(_, star)| *star)
        }
        _ => table.get(a.as_str()).copied().unwrap_or(false),
    }
}

/// Extra actions, outside the Service Authorization Reference's list, that take `Resource: "*"`.
const NO_RESOURCE_LEVEL: &[&str] = &[
    "cloudwatch:putmetricdata",
    "ec2:describe",
    "logs:describeloggroups",
    "mediaconnect:listflows",
    "mediaconnect:listentitlements",
    // MediaLive's own output on a flow: not in the Service Authorization Reference; AWS's
    // trusted-entity table grants them on all resources (media review L6)
    // https://docs.aws.amazon.com/medialive/latest/ug/trusted-entity-requirements.html
    "mediaconnect:managed",
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

/// The log group MediaLive writes every channel's logs to.
/// <https://docs.aws.amazon.com/medialive/latest/ug/working-with-logs.html>
const MEDIALIVE_LOG_GROUP: &str = "ElementalMediaLive";

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
        // one finding per statement, naming everything it allows too widely
        let mut problems = vec![];
        let wild: Vec<&String> = acts.iter().filter(|a| *a == "*" || a.ends_with(":*")).collect();
        if !wild.is_empty() {
            problems.push(format!("allows {}", wild.iter().map(|a| format!("`{a}`")).collect::<Vec<_>>().join(", ")));
        }
        let star = as_list(&s["Resource"]).iter().any(|r| r.as_str() == Some("*"));
        if star {
            let scoped: Vec<&String> = acts.iter().filter(|a| !wild.contains(a) && !star_only(a)).collect();
            if !scoped.is_empty() {
                let names: Vec<&str> = scoped.iter().map(|s| s.as_str()).collect();
                let special = if names.iter().any(|a| a.eq_ignore_ascii_case("iam:PassRole")) {
                    " (iam:PassRole on * lets the workload hand any role to a service)"
                } else if names.iter().any(|a| a.eq_ignore_ascii_case("execute-api:ManageConnections")) {
                    " (ManageConnections on * reaches every WebSocket API in the account)"
                } else {
                    ""
                };
                problems.push(format!("allows {} on Resource \"*\"{special}", names.join(", ")));
            } else if !wild.is_empty() {
                problems.push("on Resource \"*\"".into());
            }
        }
        if !problems.is_empty() {
            hits.push(Hit::new(
                &id,
                problems.join(" "),
                if wild.is_empty() {
                    "scope the statement to the resource ARNs (flow, tables, API connections, the passed role)"
                } else {
                    "name the actions the workload calls, on the resource ARNs it uses"
                },
            ));
        }
    }
    hits.extend(media_scope(t));
    hits.extend(medialive_logs(t));
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
                    "replace it with statements scoped to the resources the role uses",
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
                format!("targets function {function} without a role allowed lambda:InvokeFunction on exactly it"),
                "give the schedule a role (Target.RoleArn) whose policy allows lambda:InvokeFunction on that function's ARN",
            ));
        }
    }
    hits
}

/// Write actions on every MediaLive channel or input, or every MediaConnect flow, of the account
/// (`channel:*`, `input:*`, `flow:*`) with no tag condition: an environment sharing the account
/// can stop or change another's channel (media review L8). MediaLive's channel and input support
/// `aws:ResourceTag` and `aws:RequestTag`:
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselementalmedialive.html>
fn media_scope(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, s) in policy_statements(t) {
        if s["Effect"] != "Allow" {
            continue;
        }
        let writes: Vec<String> = actions(&s)
            .into_iter()
            .filter(|a| {
                let a = a.to_ascii_lowercase();
                (a.starts_with("medialive:") || a.starts_with("mediaconnect:"))
                    && !["describe", "list", "managed"].iter().any(|p| a.split(':').nth(1).unwrap_or("").starts_with(p))
            })
            .collect();
        if writes.is_empty() {
            continue;
        }
        let text = serde_json::to_string(&s["Resource"]).unwrap_or_default();
        let every = [":channel:*", ":input:*", ":flow:*"].iter().any(|w| text.contains(w));
        let tag_scoped = serde_json::to_string(&s["Condition"])
            .is_ok_and(|c| c.contains("aws:ResourceTag/") || c.contains("aws:RequestTag/"));
        if every && !tag_scoped {
            hits.push(Hit::new(
                &id,
                format!("allows {} on every channel, input or flow of the account", writes.join(", ")),
                "add aws:ResourceTag / aws:RequestTag conditions on the environment's tag, or name the ARNs (environments sharing an account otherwise reach each other's channels)",
            ));
        }
    }
    hits
}

/// A role MediaLive assumes that grants CloudWatch Logs actions, but not on the log group
/// MediaLive writes to (`ElementalMediaLive`): the channel's logs, the as-run log included, are
/// lost (media review L4). <https://docs.aws.amazon.com/medialive/latest/ug/working-with-logs.html>
fn medialive_logs(t: &Target) -> Vec<Hit> {
    let group = MEDIALIVE_LOG_GROUP;
    let mut hits = vec![];
    for (id, ty, p) in t.resources() {
        let trusted = serde_json::to_string(&p["AssumeRolePolicyDocument"]).unwrap_or_default();
        if ty != "AWS::IAM::Role" || !trusted.contains("medialive.amazonaws.com") {
            continue;
        }
        let log_statements: Vec<(String, Value)> = policy_statements(t)
            .into_iter()
            .filter(|(rid, s)| {
                rid == id
                    && s["Effect"] == "Allow"
                    && actions(s).iter().any(|a| a.eq_ignore_ascii_case("logs:PutLogEvents"))
            })
            .collect();
        let Some((_, first)) = log_statements.first() else { continue };
        let reaches = log_statements.iter().any(|(_, s)| {
            as_list(&s["Resource"]).iter().any(|r| {
                let text = serde_json::to_string(r).unwrap_or_default();
                text.contains(&format!("log-group:{group}")) || text.contains("log-group:*") || r.as_str() == Some("*")
            })
        });
        if !reaches {
            hits.push(Hit::new(
                id,
                format!(
                    "lets MediaLive write logs only to {} (MediaLive writes to the log group {group})",
                    serde_json::to_string(&first["Resource"]).unwrap_or_default()
                ),
                format!("grant the log actions on log-group:{group} and log-group:{group}:*"),
            ));
        }
    }
    hits
}

/// Resources AWS makes one per account, which every environment shares by design, each with why
/// a statement on it reaches no other environment's data.
const SHARED: &[(&str, &str)] = &[
    // https://docs.aws.amazon.com/medialive/latest/ug/working-with-logs.html
    ("log-group:ElementalMediaLive", "MediaLive writes every channel's logs to this one group"),
    // https://docs.aws.amazon.com/mediaconvert/latest/ug/working-with-queues.html: every account
    // has one on-demand queue named Default; CreateJob there reads and writes only what the job's
    // own role may
    (":queues/Default", "MediaConvert's default queue of the account"),
];

/// The statement is limited by a tag condition naming the environment
/// (`aws:ResourceTag/<key>` or `aws:RequestTag/<key>` equal to its name), as for resources whose
/// ids a service makes at run time ("Controlling access to AWS resources using tags",
/// <https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html>).
fn tag_scoped(s: &Value, env: &str) -> bool {
    s["Condition"].as_object().into_iter().flatten().any(|(_, test)| {
        test.as_object().into_iter().flatten().any(|(key, value)| {
            let key = key.to_ascii_lowercase();
            (key.starts_with("aws:resourcetag/") || key.starts_with("aws:requesttag/"))
                && as_list(value).iter().any(|v| v.as_str() == Some(env))
        })
    })
}

/// L27: every statement of an environment reaches only that environment's resources: a resource
/// of its stacks (a reference), a name or ARN carrying its prefix, or a tag condition on its name;
/// otherwise an environment that shares the account (a staging and a prod in one account, media review L8)
/// can act on the other's. Actions that take no resource (`Resource: "*"` only, the Service
/// Authorization Reference) and the account's shared resources (`SHARED`) are exempt.
pub fn l27(t: &Target) -> Vec<Hit> {
    let Some(env) = &t.env else { return vec![] };
    if env.prefix.is_empty() {
        return vec![];
    }
    let mut hits = vec![];
    for (id, s) in policy_statements(t) {
        if s["Effect"] != "Allow" || tag_scoped(&s, &env.name) {
            continue;
        }
        let acts = actions(&s);
        if !acts.is_empty() && acts.iter().all(|a| star_only(a)) {
            continue;
        }
        let mut loose = vec![];
        for r in as_list(&s["Resource"]) {
            if referenced_ids(r).iter().any(|x| !x.starts_with("AWS::")) {
                continue;
            }
            let mut text = String::new();
            each_string(r, "", &mut |_, piece| text.push_str(piece));
            if text.contains(&env.prefix) || SHARED.iter().any(|(p, _)| text.contains(p)) {
                continue;
            }
            loose.push(format!("`{text}`"));
        }
        if !loose.is_empty() {
            hits.push(Hit::new(
                &id,
                format!(
                    "allows {} on {}, which names nothing of environment {} (a resource of its stacks, its prefix `{}`, or a tag condition on its name): another environment in the same account is reachable too",
                    acts.join(", "),
                    loose.join(", "),
                    env.name,
                    env.prefix
                ),
                "scope the statement to this environment: its resources' ARNs, its prefix in the name, or a Condition on aws:ResourceTag/castform:environment",
            ));
        }
    }
    hits
}
