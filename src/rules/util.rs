//! Reading templates: references, strings, intrinsics.

use crate::template::sub_placeholders;
use regex::Regex;
use serde_json::Value;
use std::sync::OnceLock;

/// A built-in pattern, compiled once.
pub fn cached_regex(cell: &'static OnceLock<Regex>, pattern: &str) -> &'static Regex {
    cell.get_or_init(|| Regex::new(pattern).expect("valid built-in pattern"))
}

/// Is `v` an intrinsic function CloudFormation resolves (`Ref`, `Condition`, a known `Fn::*`)?
/// An unknown `Fn::X` (a pre-processor's, such as `Fn::Rain::Embed`) is not: CloudFormation
/// would see the object as it is.
pub fn is_intrinsic(v: &Value) -> bool {
    v.as_object().is_some_and(|m| {
        m.len() == 1
            && m.keys().all(|k| {
                k == "Ref"
                    || k == "Condition"
                    || k.starts_with("Fn::ForEach::")
                    || k.strip_prefix("Fn::").is_some_and(|f| super::template_file::FUNCTIONS.contains(&f))
            })
    })
}

/// The logical ids (and parameters) `v` refers to through `Ref`, `Fn::GetAtt` and `Fn::Sub`.
pub fn referenced_ids(v: &Value) -> Vec<String> {
    let mut out = vec![];
    collect_refs(v, &mut out);
    out
}

fn collect_refs(v: &Value, out: &mut Vec<String>) {
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
            if let Some(Value::String(s)) = m.get("Fn::GetAtt") {
                out.push(s.split('.').next().unwrap_or_default().to_string());
            }
            let sub_text = match m.get("Fn::Sub") {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Array(a)) => a.first().and_then(Value::as_str),
                _ => None,
            };
            if let Some(text) = sub_text {
                for p in sub_placeholders(text).unwrap_or_default() {
                    out.push(p.split('.').next().unwrap_or(p).to_string());
                }
            }
            for inner in m.values() {
                collect_refs(inner, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, out)),
        _ => {}
    }
}

/// Does `v` refer to `id`?
pub fn refers_to(v: &Value, id: &str) -> bool {
    referenced_ids(v).iter().any(|r| r == id)
}

/// Calls `f(path, text)` for every string leaf under `v`, keys excluded.
pub fn each_string(v: &Value, path: &str, f: &mut dyn FnMut(&str, &str)) {
    match v {
        Value::String(s) => f(path, s),
        Value::Array(a) => {
            for (i, x) in a.iter().enumerate() {
                each_string(x, &format!("{path}[{i}]"), f);
            }
        }
        Value::Object(m) => {
            for (k, x) in m {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                each_string(x, &p, f);
            }
        }
        _ => {}
    }
}

/// A value as a list: arrays as themselves, anything else as one element.
pub fn as_list(v: &Value) -> Vec<&Value> {
    match v {
        Value::Array(a) => a.iter().collect(),
        Value::Null => vec![],
        other => vec![other],
    }
}

/// Every IAM policy statement in the template: (logical id, statement).
pub fn policy_statements(t: &super::Target) -> Vec<(String, Value)> {
    let mut out = vec![];
    for (id, ty, p) in t.resources() {
        let docs: Vec<&Value> = match ty {
            "AWS::IAM::Role" | "AWS::IAM::User" | "AWS::IAM::Group" => {
                p["Policies"].as_array().into_iter().flatten().map(|x| &x["PolicyDocument"]).collect()
            }
            "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" => vec![&p["PolicyDocument"]],
            _ => vec![],
        };
        for d in docs {
            for s in as_list(&d["Statement"]) {
                out.push((id.to_string(), s.clone()));
            }
        }
    }
    out
}

/// Calls `f` with `v` and every value under it.
pub fn each_node<'a>(v: &'a Value, f: &mut dyn FnMut(&'a Value)) {
    f(v);
    match v {
        Value::Array(a) => a.iter().for_each(|x| each_node(x, f)),
        Value::Object(m) => m.values().for_each(|x| each_node(x, f)),
        _ => {}
    }
}
