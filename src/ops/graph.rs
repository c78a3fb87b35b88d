//! `castform graph ENV`: the architecture as the seeds draw it, generated from the synthesized
//! app: one box per stack, its main resources, the references between them (across stacks
//! through the parameters castform fills from outputs), and the media data path from the SRT
//! encoder to the player.

use crate::template::App;
use serde_json::Value;
use std::collections::BTreeSet;

/// Resource types shown, with the label they get.
const SHOWN: &[(&str, &str)] = &[
    ("AWS::DynamoDB::Table", "DynamoDB table"),
    ("AWS::Lambda::Function", "Lambda"),
    ("AWS::Lambda::Url", "Function URL"),
    ("AWS::S3::Bucket", "S3 bucket"),
    ("AWS::CloudFront::Distribution", "CloudFront"),
    ("AWS::CloudFront::Function", "CloudFront Function"),
    ("AWS::CloudFront::KeyValueStore", "KeyValueStore"),
    ("AWS::MediaConnect::Flow", "MediaConnect flow"),
    ("AWS::MediaLive::Input", "MediaLive input"),
    ("AWS::MediaLive::Channel", "MediaLive channel"),
    ("AWS::MediaPackage::Channel", "MediaPackage channel"),
    ("AWS::MediaPackage::OriginEndpoint", "HLS endpoint"),
    ("AWS::SecretsManager::Secret", "secret"),
    ("AWS::SQS::Queue", "SQS queue"),
    ("AWS::Scheduler::Schedule", "schedule"),
    ("AWS::Cognito::UserPool", "user pool"),
    ("AWS::ApiGatewayV2::Api", "API Gateway"),
];

/// Pairs where data flows from the referencing resource to the referenced one (a channel
/// pushes into its MediaPackage channel, a function reads and writes its tables).
const FLOWS_TO_REFERENCED: &[(&str, &str)] =
    &[("AWS::MediaLive::Channel", "AWS::MediaPackage::Channel"), ("AWS::Lambda::Function", "AWS::DynamoDB::Table")];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Node {
    pub id: String,
    pub stack: String,
    pub label: String,
    pub kind: String,
}

#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub stacks: Vec<String>,
    pub nodes: Vec<Node>,
    pub edges: BTreeSet<(String, String)>,
}

fn label(ty: &str) -> Option<&'static str> {
    SHOWN.iter().find(|(t, _)| *t == ty).map(|(_, l)| *l)
}

fn refs(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            if let Some(Value::String(id)) = m.get("Ref") {
                out.push(id.clone());
            }
            if let Some(Value::Array(a)) = m.get("Fn::GetAtt")
                && let Some(id) = a.first().and_then(Value::as_str)
            {
                out.push(id.to_string());
            }
            if let Some(text) = m.get("Fn::Sub").and_then(|s| s.as_str().or_else(|| s.get(0).and_then(Value::as_str))) {
                for p in crate::template::sub_placeholders(text).unwrap_or_default() {
                    out.push(p.split('.').next().unwrap_or(p).to_string());
                }
            }
            m.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Builds the graph of an app.
pub fn build(app: &App) -> Graph {
    let mut g = Graph { stacks: app.stacks.iter().map(|s| s.name.clone()).collect(), ..Graph::default() };
    let node_id = |stack: &str, id: &str| format!("{stack}_{id}");
    for s in &app.stacks {
        let t = s.template.to_value();
        for (id, r) in t["Resources"].as_object().into_iter().flatten() {
            let ty = r["Type"].as_str().unwrap_or_default();
            if let Some(l) = label(ty) {
                g.nodes.push(Node {
                    id: node_id(&s.name, id),
                    stack: s.name.clone(),
                    label: format!("{id}<br/>{l}"),
                    kind: ty.into(),
                });
            }
        }
    }
    let shown = |stack: &str, id: &str, g: &Graph| g.nodes.iter().any(|n| n.id == node_id(stack, id));
    for s in &app.stacks {
        let t = s.template.to_value();
        let resources = t["Resources"].as_object().cloned().unwrap_or_default();
        for (id, r) in &resources {
            let ty = r["Type"].as_str().unwrap_or_default();
            if !shown(&s.name, id, &g) {
                continue;
            }
            let mut targets = vec![];
            refs(&r["Properties"], &mut targets);
            // resources named by a literal physical name (a named function behind its URL)
            crate::rules::each_string_pub(&r["Properties"], &mut |s| {
                for (other, o) in &resources {
                    let named = ["FunctionName", "TableName"].iter().any(|k| o["Properties"][k].as_str() == Some(s));
                    if named && other != id && o["Type"] != r["Type"] {
                        targets.push(other.clone());
                    }
                }
            });
            // a function's role grants: follow the role to what it may touch
            if ty == "AWS::Lambda::Function" {
                for role in targets.clone() {
                    if resources.get(&role).is_some_and(|x| x["Type"] == "AWS::IAM::Role") {
                        refs(&resources[&role]["Properties"]["Policies"], &mut targets);
                    }
                }
            }
            for target in targets {
                // within the stack
                if let Some(tr) = resources.get(&target) {
                    let tty = tr["Type"].as_str().unwrap_or_default();
                    if !shown(&s.name, &target, &g) || target == *id {
                        continue;
                    }
                    let (from, to) = if FLOWS_TO_REFERENCED.contains(&(ty, tty)) {
                        (id.clone(), target.clone())
                    } else {
                        (target.clone(), id.clone())
                    };
                    g.edges.insert((node_id(&s.name, &from), node_id(&s.name, &to)));
                    continue;
                }
                // across stacks: a parameter castform fills from another stack's output
                if let Some(import) = s.imports.iter().find(|i| i.parameter == target) {
                    let Some(up) = app.stack(&import.stack) else { continue };
                    let up_t = up.template.to_value();
                    let mut producers = vec![];
                    refs(&up_t["Outputs"][&import.output]["Value"], &mut producers);
                    for p in producers {
                        let pty = up_t["Resources"][&p]["Type"].as_str().unwrap_or_default();
                        if shown(&up.name, &p, &g) {
                            let (from, to) = if FLOWS_TO_REFERENCED.contains(&(ty, pty)) {
                                (node_id(&s.name, id), node_id(&up.name, &p))
                            } else {
                                (node_id(&up.name, &p), node_id(&s.name, id))
                            };
                            g.edges.insert((from, to));
                        }
                    }
                }
            }
        }
    }
    // the people at both ends
    let has =
        |kind: &str, g: &Graph| g.nodes.iter().filter(|n| n.kind == kind).map(|n| n.id.clone()).collect::<Vec<_>>();
    for flow in has("AWS::MediaConnect::Flow", &g) {
        g.edges.insert(("encoder".into(), flow));
    }
    for d in has("AWS::CloudFront::Distribution", &g) {
        g.edges.insert((d, "viewer".into()));
    }
    for u in has("AWS::Lambda::Url", &g) {
        g.edges.insert((u, "viewer".into()));
    }
    g
}

fn mermaid_id(id: &str) -> String {
    id.replace(['-', '.'], "_")
}

pub fn mermaid(app: &App, g: &Graph) -> String {
    let mut out = format!(
        "%% {}/{}: generated by castform graph from the synthesized stacks\nflowchart LR\n",
        app.app, app.environment
    );
    if g.edges.iter().any(|(f, _)| f == "encoder") {
        out.push_str("    encoder([\"Encoder<br/>SRT caller\"])\n");
    }
    out.push_str("    viewer([\"Viewer<br/>browser, player\"])\n");
    for s in &g.stacks {
        out.push_str(&format!("    subgraph {s} [\"stack {s}\"]\n"));
        for n in g.nodes.iter().filter(|n| &n.stack == s) {
            out.push_str(&format!("        {}[\"{}\"]\n", mermaid_id(&n.id), n.label));
        }
        out.push_str("    end\n");
    }
    for (f, t) in &g.edges {
        out.push_str(&format!("    {} --> {}\n", mermaid_id(f), mermaid_id(t)));
    }
    out
}

pub fn dot(app: &App, g: &Graph) -> String {
    let mut out = format!(
        "// {}/{}: generated by castform graph from the synthesized stacks\ndigraph castform {{\n    rankdir=LR;\n    node [shape=box, style=rounded, fontname=\"Helvetica\"];\n",
        app.app, app.environment
    );
    if g.edges.iter().any(|(f, _)| f == "encoder") {
        out.push_str("    encoder [label=\"Encoder\\nSRT caller\", shape=oval];\n");
    }
    out.push_str("    viewer [label=\"Viewer\\nbrowser, player\", shape=oval];\n");
    for s in &g.stacks {
        out.push_str(&format!("    subgraph \"cluster_{s}\" {{\n        label=\"stack {s}\";\n"));
        for n in g.nodes.iter().filter(|n| &n.stack == s) {
            out.push_str(&format!("        \"{}\" [label=\"{}\"];\n", n.id, n.label.replace("<br/>", "\\n")));
        }
        out.push_str("    }\n");
    }
    for (f, t) in &g.edges {
        out.push_str(&format!("    \"{f}\" -> \"{t}\";\n"));
    }
    out.push_str("}\n");
    out
}

/// Whether `to` can be reached from `from`.
pub fn reaches(g: &Graph, from: &str, to: &str) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![from.to_string()];
    while let Some(n) = stack.pop() {
        if n == to {
            return true;
        }
        if seen.insert(n.clone()) {
            stack.extend(g.edges.iter().filter(|(f, _)| *f == n).map(|(_, t)| t.clone()));
        }
    }
    false
}
