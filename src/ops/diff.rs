//! `castform diff ENV`: the synthesized templates against the deployed ones, per stack:
//! resources added, removed and changed with the property paths and values, parameter changes,
//! IAM statements as statements, CloudFormation's replacement answers from a change set where one
//! can be made (it is deleted, never executed), and stateful resources that would be replaced or
//! deleted first.

use crate::aws::{ChangeSetRequest, Cloud};
use crate::rules::STATEFUL_TYPES;
use crate::template::{ASSETS_BUCKET_PARAMETER, App};
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;
use std::time::Duration;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PropertyChange {
    pub path: String,
    pub old: Option<Value>,
    pub new: Option<Value>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ResourceDiff {
    pub logical_id: String,
    pub resource_type: String,
    /// `add`, `remove`, `modify`.
    pub action: String,
    pub changes: Vec<PropertyChange>,
    /// IAM statements removed (`-`) and added (`+`).
    pub statements: Vec<(String, Value)>,
    /// CloudFormation's answer: `True`, `False`, `Conditional`.
    pub replacement: Option<String>,
    /// Data would be lost: a stateful resource removed or replaced.
    pub data_loss: bool,
    /// For a media resource: what the change does to a pipeline on air (`castform media`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub live: Option<LiveClass>,
}

/// Whether a change replaces the resource, judged from the template alone: removed, or a
/// create-only property of its registry schema changed.
pub fn replaces(r: &ResourceDiff) -> bool {
    if r.action == "remove" || matches!(r.replacement.as_deref(), Some("True") | Some("Conditional")) {
        return true;
    }
    let create_only = crate::rules::schema::create_only_properties(&r.resource_type);
    r.changes.iter().any(|c| {
        create_only.iter().any(|p| {
            let p = format!("Properties.{p}");
            c.path == p || c.path.starts_with(&format!("{p}.")) || c.path.starts_with(&format!("{p}["))
        })
    })
}

/// Sets each media resource's live class from its change.
pub fn classify_live(resources: &mut [ResourceDiff]) {
    for r in resources.iter_mut() {
        if r.action != "add" {
            r.live = classify(&r.resource_type, replaces(r)).map(|c| c.0);
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct StackDiff {
    pub stack: String,
    pub stack_name: String,
    pub deployed: bool,
    pub resources: Vec<ResourceDiff>,
    pub parameters: Vec<PropertyChange>,
    /// Why no change set could be read, when none could.
    pub change_set_note: Option<String>,
}

impl StackDiff {
    pub fn is_empty(&self) -> bool {
        self.deployed && self.resources.is_empty() && self.parameters.is_empty()
    }
}

fn paths(old: Option<&Value>, new: Option<&Value>, path: &str, out: &mut Vec<PropertyChange>) {
    match (old, new) {
        (Some(Value::Object(a)), Some(Value::Object(b))) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for k in keys {
                paths(a.get(k), b.get(k), &format!("{path}.{k}"), out);
            }
        }
        (Some(Value::Array(a)), Some(Value::Array(b))) if a.len() == b.len() => {
            for (i, (x, y)) in a.iter().zip(b).enumerate() {
                paths(Some(x), Some(y), &format!("{path}[{i}]"), out);
            }
        }
        (a, b) if a != b => out.push(PropertyChange { path: path.to_string(), old: a.cloned(), new: b.cloned() }),
        _ => {}
    }
}

fn statements(props: &Value, ty: &str) -> Vec<Value> {
    let docs: Vec<&Value> = match ty {
        "AWS::IAM::Role" => props["Policies"].as_array().into_iter().flatten().map(|p| &p["PolicyDocument"]).collect(),
        "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::S3::BucketPolicy" => vec![&props["PolicyDocument"]],
        _ => vec![],
    };
    docs.into_iter().flat_map(|d| d["Statement"].as_array().cloned().unwrap_or_default()).collect()
}

/// Compares two templates.
pub fn compare(old: &Value, new: &Value) -> Vec<ResourceDiff> {
    let empty = serde_json::Map::new();
    let (o, n) = (old["Resources"].as_object().unwrap_or(&empty), new["Resources"].as_object().unwrap_or(&empty));
    let mut out = vec![];
    for (id, r) in n {
        let ty = r["Type"].as_str().unwrap_or_default().to_string();
        match o.get(id) {
            None => out.push(ResourceDiff {
                logical_id: id.clone(),
                resource_type: ty,
                action: "add".into(),
                changes: vec![],
                statements: vec![],
                replacement: None,
                data_loss: false,
                live: None,
            }),
            Some(prev) if prev != r => {
                let mut changes = vec![];
                let is_policy =
                    !statements(&r["Properties"], &ty).is_empty() || !statements(&prev["Properties"], &ty).is_empty();
                let mut stmts = vec![];
                if is_policy {
                    let (a, b) = (statements(&prev["Properties"], &ty), statements(&r["Properties"], &ty));
                    stmts.extend(a.iter().filter(|s| !b.contains(s)).map(|s| ("-".to_string(), s.clone())));
                    stmts.extend(b.iter().filter(|s| !a.contains(s)).map(|s| ("+".to_string(), s.clone())));
                    let strip = |v: &Value| {
                        let mut v = v.clone();
                        if let Some(p) = v["Properties"].as_object_mut() {
                            p.remove("Policies");
                            p.remove("PolicyDocument");
                        }
                        v
                    };
                    paths(Some(&strip(prev)), Some(&strip(r)), "", &mut changes);
                } else {
                    paths(Some(prev), Some(r), "", &mut changes);
                }
                for c in &mut changes {
                    c.path = c.path.trim_start_matches('.').to_string();
                }
                out.push(ResourceDiff {
                    logical_id: id.clone(),
                    resource_type: ty,
                    action: "modify".into(),
                    changes,
                    statements: stmts,
                    replacement: None,
                    data_loss: false,
                    live: None,
                });
            }
            _ => {}
        }
    }
    for (id, r) in o {
        if !n.contains_key(id) {
            let ty = r["Type"].as_str().unwrap_or_default().to_string();
            let retained = r["DeletionPolicy"] == "Retain";
            let data_loss = STATEFUL_TYPES.contains(&ty.as_str()) && !retained;
            out.push(ResourceDiff {
                logical_id: id.clone(),
                resource_type: ty,
                action: "remove".into(),
                changes: vec![],
                statements: vec![],
                replacement: None,
                data_loss,
                live: None,
            });
        }
    }
    out
}

/// The diff of every stack of the app against what is deployed.
pub async fn diff<C: Cloud>(cloud: &C, app: &App, state: &crate::state::StateStore) -> anyhow::Result<Vec<StackDiff>> {
    let mut out = vec![];
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for s in &app.stacks {
        let cloud = &cloud.for_region(&s.region);
        let info = cloud.describe_stack(&s.stack_name).await?;
        let new = s.template.to_value();
        let Some(info) = info else {
            out.push(StackDiff {
                stack: s.name.clone(),
                stack_name: s.stack_name.clone(),
                deployed: false,
                resources: imported(app, s, compare(&Value::Null, &new)),
                parameters: vec![],
                change_set_note: Some("not deployed: every resource is new".into()),
            });
            continue;
        };
        outputs.insert(s.name.clone(), info.outputs.clone());
        let body = cloud.get_template(&s.stack_name).await?;
        let old: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let mut resources = imported(app, s, compare(&old, &new));
        let desired = desired_parameters(s, &outputs, state);
        let parameters = parameter_changes(&info.parameters, &desired);
        let note = if !resources.is_empty() || !parameters.is_empty() {
            replacements(cloud, s, &info, desired, &mut resources).await
        } else {
            None
        };
        for r in &mut resources {
            if r.action == "modify"
                && STATEFUL_TYPES.contains(&r.resource_type.as_str())
                && matches!(r.replacement.as_deref(), Some("True") | Some("Conditional"))
            {
                r.data_loss = true;
            }
        }
        classify_live(&mut resources);
        resources.sort_by_key(|r| (!r.data_loss, r.action != "remove", r.logical_id.clone()));
        out.push(StackDiff {
            stack: s.name.clone(),
            stack_name: s.stack_name.clone(),
            deployed: true,
            resources,
            parameters,
            change_set_note: note,
        });
    }
    Ok(out)
}

/// An adopted resource not yet in its stack is imported, not created.
fn imported(app: &App, s: &crate::template::Stack, mut resources: Vec<ResourceDiff>) -> Vec<ResourceDiff> {
    for r in &mut resources {
        if r.action == "add" && app.adopted.iter().any(|a| a.stack == s.name && a.logical_id == r.logical_id) {
            r.action = "import".into();
        }
    }
    resources
}

/// The parameters a deploy would pass now: the upstream stacks' deployed outputs, the state bucket.
fn desired_parameters(
    s: &crate::template::Stack,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
    state: &crate::state::StateStore,
) -> BTreeMap<String, String> {
    let mut desired = BTreeMap::new();
    for i in &s.imports {
        if let Some(v) = outputs.get(&i.stack).and_then(|o| o.get(&i.output)) {
            desired.insert(i.parameter.clone(), v.clone());
        }
    }
    if !s.assets.is_empty() {
        desired.insert(ASSETS_BUCKET_PARAMETER.to_string(), state.assets_bucket(&s.region));
    }
    desired
}

/// Each parameter whose value would change, by name.
fn parameter_changes(deployed: &BTreeMap<String, String>, desired: &BTreeMap<String, String>) -> Vec<PropertyChange> {
    let mut names: Vec<&String> = desired.keys().chain(deployed.keys()).collect();
    names.sort();
    names.dedup();
    names
        .into_iter()
        .filter(|k| deployed.get(*k) != desired.get(*k))
        .map(|k| PropertyChange {
            path: k.clone(),
            old: deployed.get(k).map(|x| Value::String(x.clone())),
            new: desired.get(k).map(|x| Value::String(x.clone())),
        })
        .collect()
}

/// Asks CloudFormation what it would replace, through a change set deleted unexecuted, and marks
/// the resources; returns a note where no answer came.
async fn replacements<C: Cloud>(
    cloud: &C,
    s: &crate::template::Stack,
    info: &crate::aws::StackInfo,
    desired: BTreeMap<String, String>,
    resources: &mut [ResourceDiff],
) -> Option<String> {
    let req = ChangeSetRequest {
        stack: s.stack_name.clone(),
        name: format!("castform-diff-{}", crate::state::clock::new_id().replace(['.', 'Z'], "")),
        template_body: s.template.to_json(),
        template_url: None,
        parameters: desired,
        tags: info.tags.clone(),
        create: false,
        imports: vec![],
        // computed, never executed: the caller's credentials suffice
        role_arn: None,
    };
    let id = match cloud.create_change_set(&req).await {
        Ok(id) => id,
        Err(e) => return Some(format!("no change set could be made: {e}")),
    };
    let mut note = None;
    let mut answer = None;
    for _ in 0..120 {
        match cloud.describe_change_set(&s.stack_name, &id).await {
            Ok(cs) if cs.status == "CREATE_COMPLETE" || cs.status == "FAILED" => {
                answer = Some(cs);
                break;
            }
            Ok(_) => tokio::time::sleep(Duration::from_millis(300)).await,
            Err(e) => {
                note = Some(e.to_string());
                break;
            }
        }
    }
    let _ = cloud.delete_change_set(&s.stack_name, &id).await;
    for c in answer.map(|cs| cs.changes).unwrap_or_default() {
        if let Some(r) = resources.iter_mut().find(|r| r.logical_id == c.logical_id) {
            r.replacement = c.replacement.clone();
        }
    }
    note
}

/// What a change to a media resource does to a pipeline on air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum LiveClass {
    /// Applied while the stream runs.
    SafeWhileLive,
    /// The channel must be stopped: a minute or two without output.
    NeedsChannelStopped,
    /// A new ingest address for the encoder, or new playback URLs for viewers.
    ReplacesEndpoint,
}

impl LiveClass {
    pub fn label(self) -> &'static str {
        match self {
            LiveClass::SafeWhileLive => "safe while live",
            LiveClass::NeedsChannelStopped => "needs the channel stopped",
            LiveClass::ReplacesEndpoint => "replaces an endpoint",
        }
    }
}

pub const MEDIA_TYPES: &[&str] = &[
    "AWS::MediaConnect::Flow",
    "AWS::MediaLive::Input",
    "AWS::MediaLive::Channel",
    "AWS::MediaPackage::Channel",
    "AWS::MediaPackage::OriginEndpoint",
    "AWS::CloudFront::Distribution",
];

/// The class of one resource change, with the reason in the user's terms. `replaced` is true
/// when the resource is removed or replaced (CloudFormation's answer, or a create-only property
/// changed). `None` for resources that are not part of the media path.
pub fn classify(resource_type: &str, replaced: bool) -> Option<(LiveClass, &'static str)> {
    use LiveClass::*;
    Some(match (resource_type, replaced) {
        ("AWS::MediaLive::Channel", false) => (NeedsChannelStopped, "MediaLive edits a channel only while it is idle"),
        ("AWS::MediaLive::Channel", true) => {
            (NeedsChannelStopped, "the old channel is deleted, and MediaLive deletes a channel only while it is idle")
        }
        // The input is attached to the channel; a new or changed input changes the channel's
        // attachment (an edit of the channel). Treated as needing the channel idle.
        ("AWS::MediaLive::Input", _) => {
            (NeedsChannelStopped, "the channel's input attachment changes, an edit of the channel")
        }
        ("AWS::MediaConnect::Flow", false) => (SafeWhileLive, "MediaConnect updates a flow's source while it runs"),
        ("AWS::MediaConnect::Flow", true) => {
            (ReplacesEndpoint, "a new flow has a new ingest address: the encoder must be pointed at it")
        }
        ("AWS::MediaPackage::Channel", false) => (SafeWhileLive, "only the description changes"),
        ("AWS::MediaPackage::Channel", true) => {
            (ReplacesEndpoint, "a new packaging channel has new endpoints: new playback URLs")
        }
        ("AWS::MediaPackage::OriginEndpoint", false) => {
            (SafeWhileLive, "MediaPackage updates an endpoint in place; its URL stays")
        }
        ("AWS::MediaPackage::OriginEndpoint", true) => {
            (ReplacesEndpoint, "a new origin endpoint has a new playback URL")
        }
        ("AWS::CloudFront::Distribution", false) => (SafeWhileLive, "CloudFront deploys the change while serving"),
        ("AWS::CloudFront::Distribution", true) => {
            (ReplacesEndpoint, "a new distribution has a new domain: viewers' URLs change")
        }
        _ => return None,
    })
}
