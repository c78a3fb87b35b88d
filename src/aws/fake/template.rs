//! What the fake reads from a template: physical ids, resolved outputs, the changes between two
//! templates, and the events a resource's progress writes.

use super::{TEMPLATE_BODY_LIMIT, World, svc};
use crate::aws::{ChangeSetRequest, CloudResult, ResourceChange, StackEvent};
use serde_json::Value;
use std::collections::BTreeMap;

pub(super) fn event(
    stack: &str,
    logical: &str,
    ty: &str,
    status: &str,
    reason: Option<&str>,
    physical: Option<&str>,
) -> StackEvent {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    StackEvent {
        id: format!("{stack}-{n}"),
        timestamp: format!("{n:08}"),
        logical_id: logical.into(),
        resource_type: ty.into(),
        status: status.into(),
        reason: reason.map(str::to_string),
        physical_id: physical.map(str::to_string),
    }
}

/// The physical id of a resource in a template.
pub(super) fn physical(stack: &str, logical: &str, resource: &Value) -> String {
    let p = &resource["Properties"];
    for key in ["FunctionName", "TableName", "BucketName", "Name"] {
        if let Some(s) = p[key].as_str() {
            return s.to_string();
        }
    }
    format!("{}-{}", stack, logical.to_ascii_lowercase())
}

pub(super) fn resolve(v: &Value, stack: &str, t: &Value, params: &BTreeMap<String, String>) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Object(m) if m.contains_key("Ref") => {
            let id = m["Ref"].as_str().unwrap_or_default();
            params.get(id).cloned().unwrap_or_else(|| physical(stack, id, &t["Resources"][id]))
        }
        Value::Object(m) if m.contains_key("Fn::GetAtt") => {
            let a = &m["Fn::GetAtt"];
            let (id, attr) = (a[0].as_str().unwrap_or_default(), a[1].as_str().unwrap_or_default());
            let ty = t["Resources"][id]["Type"].as_str().unwrap_or_default();
            match (ty, attr) {
                ("AWS::Lambda::Url", "FunctionUrl") => {
                    format!("https://{stack}-{}.lambda-url.fake.test/", id.to_ascii_lowercase())
                }
                (_, "Arn") => format!("arn:fake:{stack}:{}", physical(stack, id, &t["Resources"][id])),
                _ => format!("{}.{attr}", physical(stack, id, &t["Resources"][id])),
            }
        }
        Value::Object(m) if m.contains_key("Fn::Join") => {
            let a = &m["Fn::Join"];
            let d = a[0].as_str().unwrap_or_default();
            a[1].as_array().into_iter().flatten().map(|x| resolve(x, stack, t, params)).collect::<Vec<_>>().join(d)
        }
        Value::Object(m) if m.contains_key("Fn::Sub") => m["Fn::Sub"].as_str().unwrap_or_default().to_string(),
        other => other.to_string(),
    }
}

pub(super) fn outputs_of(stack: &str, template: &str, params: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let t: Value = serde_json::from_str(template).unwrap_or(Value::Null);
    t["Outputs"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, o)| (k.clone(), resolve(&o["Value"], stack, &t, params)))
        .collect()
}

pub(super) fn diff(old: Option<&str>, new: &str) -> Vec<ResourceChange> {
    let old: Value = old.and_then(|o| serde_json::from_str(o).ok()).unwrap_or(Value::Null);
    let new: Value = serde_json::from_str(new).unwrap_or(Value::Null);
    let mut out = vec![];
    let empty = serde_json::Map::new();
    let (o, n) = (old["Resources"].as_object().unwrap_or(&empty), new["Resources"].as_object().unwrap_or(&empty));
    for (id, r) in n {
        let ty = r["Type"].as_str().unwrap_or_default().to_string();
        match o.get(id) {
            None => out.push(ResourceChange {
                action: "Add".into(),
                logical_id: id.clone(),
                resource_type: ty,
                replacement: None,
            }),
            Some(prev) if prev != r => {
                let replace = ty == "AWS::DynamoDB::Table"
                    && (prev["Properties"]["KeySchema"] != r["Properties"]["KeySchema"]
                        || prev["Properties"]["TableName"] != r["Properties"]["TableName"]);
                out.push(ResourceChange {
                    action: "Modify".into(),
                    logical_id: id.clone(),
                    resource_type: ty,
                    replacement: Some(if replace { "True" } else { "False" }.into()),
                })
            }
            _ => {}
        }
    }
    for (id, r) in o {
        if !n.contains_key(id) {
            out.push(ResourceChange {
                action: "Remove".into(),
                logical_id: id.clone(),
                resource_type: r["Type"].as_str().unwrap_or_default().into(),
                replacement: None,
            });
        }
    }
    out
}

/// What a stack leaves behind when its template stops holding a resource whose `DeletionPolicy`
/// keeps it ("DeletionPolicy attribute": `Retain` keeps the resource, as it is, when it is removed
/// from the template or its stack is deleted,
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-attribute-deletionpolicy.html>):
/// the functions (name, the S3 object its code came from, its configuration) and the tables it
/// leaves, for the fake to keep outside any stack.
pub(super) struct Left {
    pub functions: Vec<(String, (String, String), Value)>,
    pub tables: Vec<crate::aws::TableInfo>,
}

pub(super) fn retained(stack: &str, old: &str, new: Option<&str>, params: &BTreeMap<String, String>) -> Left {
    let t: Value = serde_json::from_str(old).unwrap_or(Value::Null);
    let kept: Value = new.and_then(|n| serde_json::from_str(n).ok()).unwrap_or(Value::Null);
    let mut left = Left { functions: vec![], tables: vec![] };
    for (id, r) in t["Resources"].as_object().into_iter().flatten() {
        let policy = r["DeletionPolicy"].as_str().unwrap_or_default();
        if !policy.starts_with("Retain") || kept["Resources"].get(id).is_some() {
            continue;
        }
        let p = &r["Properties"];
        let name = physical(stack, id, r);
        match r["Type"].as_str().unwrap_or_default() {
            "AWS::Lambda::Function" => {
                let code = (
                    resolve(&p["Code"]["S3Bucket"], stack, &t, params),
                    resolve(&p["Code"]["S3Key"], stack, &t, params),
                );
                let vars: serde_json::Map<String, Value> = p["Environment"]["Variables"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| (k.clone(), Value::String(resolve(v, stack, &t, params))))
                    .collect();
                let mut conf = serde_json::json!({"FunctionName": name, "Environment": vars});
                for k in ["Runtime", "Handler", "MemorySize", "Timeout", "Description"] {
                    if !p[k].is_null() {
                        conf[k] = p[k].clone();
                    }
                }
                if !p["Role"].is_null() {
                    conf["Role"] = Value::String(resolve(&p["Role"], stack, &t, params));
                }
                left.functions.push((name, code, conf));
            }
            "AWS::DynamoDB::Table" => {
                let types: BTreeMap<&str, &str> = p["AttributeDefinitions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|a| {
                        (
                            a["AttributeName"].as_str().unwrap_or_default(),
                            a["AttributeType"].as_str().unwrap_or_default(),
                        )
                    })
                    .collect();
                left.tables.push(crate::aws::TableInfo {
                    arn: format!("arn:fake:dynamodb:table/{name}"),
                    keys: p["KeySchema"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|k| {
                            let a = k["AttributeName"].as_str().unwrap_or_default();
                            (
                                a.to_string(),
                                k["KeyType"].as_str().unwrap_or_default().to_string(),
                                types.get(a).copied().unwrap_or_default().to_string(),
                            )
                        })
                        .collect(),
                    billing_mode: p["BillingMode"].as_str().unwrap_or("PROVISIONED").to_string(),
                    indexes: p["GlobalSecondaryIndexes"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter_map(|g| g["IndexName"].as_str().map(str::to_string))
                        .collect(),
                    stream: p["StreamSpecification"]["StreamViewType"].as_str().map(str::to_string),
                    status: "ACTIVE".into(),
                    item_count: Some(0),
                    name,
                });
            }
            _ => {}
        }
    }
    left
}

/// The change set's request with the template CloudFormation reads: the body sent, within
/// TemplateBody's limit, or the object its TemplateURL names in the fake's S3.
pub(super) fn with_template(w: &mut World, req: &ChangeSetRequest) -> CloudResult<ChangeSetRequest> {
    let mut req = req.clone();
    match req.template_url.clone() {
        Some(url) => {
            let object = url
                .strip_prefix("https://")
                .and_then(|u| u.split_once('/'))
                .and_then(|(host, key)| Some((host.split_once(".s3.")?.0.to_string(), key.to_string())));
            let body = object.and_then(|o| w.objects.get(&o).cloned()).ok_or_else(|| {
                svc(
                    "CloudFormation CreateChangeSet",
                    "ValidationError",
                    format!("S3 error: Access Denied (TemplateURL {url})"),
                )
            })?;
            req.template_body = String::from_utf8_lossy(&body).into_owned();
            w.template_urls.push(url);
        }
        None if req.template_body.len() > TEMPLATE_BODY_LIMIT => {
            return Err(svc(
                "CloudFormation CreateChangeSet",
                "ValidationError",
                format!(
                    "1 validation error detected: Value at 'templateBody' failed to satisfy constraint: Member must have length less than or equal to {TEMPLATE_BODY_LIMIT}"
                ),
            ));
        }
        None => {}
    }
    Ok(req)
}

/// Whether two templates declare the same outputs. A change of outputs alone is a change: "If only
/// stack Outputs are changed, CloudFormation generates a ChangeSet that is executable but has 0
/// changes" (aws/aws-cdk#2029); only none at all fails with "didn't contain changes".
pub(super) fn same_outputs(old: Option<&str>, new: &str) -> bool {
    let outputs = |t: &str| serde_json::from_str::<Value>(t).map(|v| v["Outputs"].clone()).unwrap_or(Value::Null);
    old.is_some_and(|o| outputs(o) == outputs(new))
}
