//! T07 and T08: what CloudFormation refuses about a template as a whole. T07: resources that
//! wait for each other (through `DependsOn`, `Ref`, `Fn::GetAtt` and `Fn::Sub`) can never be
//! created: "Circular dependency between resources"
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/troubleshooting.html#troubleshooting-errors-dependency-error>).
//! T08: the template's quotas ("CloudFormation quotas",
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html>):
//! 500 resources, 200 parameters, 200 outputs, 200 mappings, a body of 1 MB.

use super::util::{as_list, referenced_ids};
use super::{Hit, Target};
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// T07: no resource depends, directly or through others, on itself.
pub fn t07(t: &Target) -> Vec<Hit> {
    let Some(resources) = t.template["Resources"].as_object() else { return vec![] };
    let deps: BTreeMap<&str, BTreeSet<String>> = resources
        .iter()
        .map(|(id, r)| {
            let mut d: BTreeSet<String> =
                as_list(&r["DependsOn"]).into_iter().filter_map(Value::as_str).map(str::to_string).collect();
            d.extend(referenced_ids(r.get("Properties").unwrap_or(&Value::Null)));
            d.retain(|x| resources.contains_key(x));
            (id.as_str(), d)
        })
        .collect();
    let mut hits = vec![];
    let mut reported: BTreeSet<&str> = BTreeSet::new();
    for cycle in cycles(&deps) {
        if cycle.iter().any(|id| reported.contains(id)) {
            continue;
        }
        reported.extend(cycle.iter().copied());
        let path: Vec<&str> = cycle.iter().copied().chain(cycle.first().copied()).collect();
        hits.push(Hit::new(
            cycle[0],
            format!("circular dependency: {} (through DependsOn, Ref, Fn::GetAtt or Fn::Sub)", path.join(" -> ")),
            "break the circle: drop a DependsOn, or pass the value another way (a parameter, a name built with Fn::Sub from the stack's name)",
        ));
    }
    hits
}

/// Each circle of the graph once, found by a depth-first walk without recursion (a template of
/// 500 resources in a chain must not exhaust the stack), in the order of the resources' ids.
fn cycles<'a>(deps: &'a BTreeMap<&'a str, BTreeSet<String>>) -> Vec<Vec<&'a str>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        Open,
        Done,
    }
    let mut mark: BTreeMap<&str, Mark> = deps.keys().map(|k| (*k, Mark::New)).collect();
    let mut found = vec![];
    for start in deps.keys() {
        if mark[start] != Mark::New {
            continue;
        }
        // the path from `start`, each with the dependencies it has left to visit
        let mut path: Vec<(&str, Vec<&str>)> = vec![(start, deps[start].iter().map(|d| d.as_str()).rev().collect())];
        mark.insert(start, Mark::Open);
        while let Some((node, todo)) = path.last_mut() {
            let node = *node;
            match todo.pop() {
                Some(next) => match mark[next] {
                    Mark::New => {
                        mark.insert(next, Mark::Open);
                        let (key, _) = deps.get_key_value(next).expect("a resource");
                        path.push((key, deps[next].iter().map(|d| d.as_str()).rev().collect()));
                    }
                    Mark::Open => {
                        let at = path.iter().position(|(n, _)| *n == next).unwrap_or(0);
                        found.push(path[at..].iter().map(|(n, _)| *n).collect());
                    }
                    Mark::Done => {}
                },
                None => {
                    mark.insert(node, Mark::Done);
                    path.pop();
                }
            }
        }
    }
    found
}

/// CloudFormation's quotas for one template.
const QUOTAS: &[(&str, usize)] = &[("Resources", 500), ("Parameters", 200), ("Outputs", 200), ("Mappings", 200)];

/// The largest template body CloudFormation reads (from S3; 51,200 bytes inline, which castform
/// stays under by going through the state bucket).
const MAX_BODY: usize = 1024 * 1024;

/// T08: the template fits CloudFormation's quotas.
pub fn t08(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (section, max) in QUOTAS {
        let n = t.template[*section].as_object().map_or(0, |m| m.len());
        if n > *max {
            hits.push(Hit::new(
                section,
                format!("{section} has {n} entries; CloudFormation takes at most {max} in a template"),
                "split the template into stacks (castform: more stacks in the app)",
            ));
        }
    }
    let size = serde_json::to_string(t.template).map_or(0, |s| s.len());
    if size > MAX_BODY {
        hits.push(Hit::new(
            "Resources",
            format!("the template is {size} bytes as JSON; CloudFormation takes at most 1 MB"),
            "split the template into stacks, or move large values (inline code, policies) out of it",
        ));
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(t: &Value) -> Target<'_> {
        Target { stack: "t".into(), template: t, region: None, env: None, today: 0, required_tags: vec![], code: None }
    }

    #[test]
    fn a_circle_through_dependson_and_references_is_found_once() {
        let t = serde_json::json!({"Resources": {
            "A": {"Type": "AWS::SQS::Queue", "DependsOn": "B"},
            "B": {"Type": "AWS::SQS::Queue", "Properties": {"X": {"Fn::GetAtt": ["C", "Arn"]}}},
            "C": {"Type": "AWS::SQS::Queue", "Properties": {"Y": {"Fn::Sub": "${A}-x"}}},
            "D": {"Type": "AWS::SQS::Queue", "DependsOn": ["A", "D"]},
            "E": {"Type": "AWS::SQS::Queue", "DependsOn": ["A"]}
        }});
        let hits = t07(&target(&t));
        let messages: Vec<&str> = hits.iter().map(|h| h.message.as_str()).collect();
        assert_eq!(hits.len(), 2, "{messages:?}");
        assert!(messages[0].starts_with("circular dependency: A -> B -> C -> A"), "{messages:?}");
        assert!(messages[1].starts_with("circular dependency: D -> D"), "{messages:?}");
    }

    #[test]
    fn a_long_chain_is_no_circle_and_no_stack_overflow() {
        let resources: serde_json::Map<String, Value> = (0..20_000)
            .map(|i| {
                (format!("R{i}"), serde_json::json!({"Type": "AWS::SQS::Queue", "DependsOn": format!("R{}", i + 1)}))
            })
            .collect();
        let t = serde_json::json!({ "Resources": resources });
        assert!(t07(&target(&t)).is_empty());
        let hits = t08(&target(&t));
        assert!(hits[0].message.contains("Resources has 20000 entries; CloudFormation takes at most 500"), "{hits:?}");
    }
}
