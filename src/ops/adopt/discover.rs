//! `castform adopt ENV --discover`: the existing resources that could be the app's constructs.

use super::*;
use std::collections::BTreeMap;

/// One candidate of `--discover`: an existing resource that could be a construct.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub key: String,
    pub resource_type: String,
    pub construct_name: String,
    pub identifier: String,
    /// what stops adopting it (a table that differs; a create-only property, a dropped alias)
    pub differences: Vec<String>,
    /// what the deploy after the import would change (any type but a table)
    pub changes: Vec<String>,
    pub adopted: bool,
}

/// For each construct of an adoptable type, the existing resources that could be it, best
/// first, with what differs. Tables by name (the construct's own, or without the environment's
/// prefix, inside the table's); other types by name (the last part of a flow's ARN), a
/// distribution's comment, or by the app's family (the prefix's first word: `orders`) in any of
/// them, or by a tag the environment also sets (`Project: orders`); every distribution,
/// which often has none of these. Read-only.
pub async fn discover<C: Cloud>(cloud: &C, env: &Environment, app: &App) -> Result<Vec<Candidate>, String> {
    let mut out = vec![];
    let mut tables_of: BTreeMap<String, Vec<String>> = Default::default();
    let mut listed: BTreeMap<(String, String), Vec<(String, Value)>> = Default::default();
    for s in &app.stacks {
        let template = s.template.to_value();
        let rc = cloud.for_region(&s.region);
        for (id, r) in &s.template.resources {
            if !ADOPTS.contains(&r.type_name.as_str()) {
                continue;
            }
            let slot = Slot {
                key: format!("{}.{}", s.name, id.as_str()),
                type_name: &r.type_name,
                region: &s.region,
                props: &template["Resources"][id.as_str()]["Properties"],
            };
            if r.type_name == "AWS::DynamoDB::Table" {
                if !tables_of.contains_key(&s.region) {
                    let names = rc.list_tables().await.map_err(|e| e.to_string())?;
                    tables_of.insert(s.region.clone(), names);
                }
                out.extend(table_candidates(&rc, env, app, &slot, &tables_of[&s.region]).await?);
                continue;
            }
            let listing = (s.region.clone(), r.type_name.clone());
            if !listed.contains_key(&listing) {
                let mut read = vec![];
                for identifier in rc.list_resources(&r.type_name).await.map_err(|e| e.to_string())? {
                    if let Some(live) = rc.get_resource(&r.type_name, &identifier).await.map_err(|e| e.to_string())? {
                        read.push((identifier, live));
                    }
                }
                listed.insert(listing.clone(), read);
            }
            out.extend(resource_candidates(env, app, &slot, &listed[&listing]));
        }
    }
    Ok(out)
}

/// One construct of an adoptable type, as the template writes it.
struct Slot<'a> {
    /// `stack.LogicalId`
    key: String,
    type_name: &'a str,
    region: &'a str,
    props: &'a Value,
}

impl Slot<'_> {
    /// Whether `adopt:` already takes `identifier` in as this construct.
    fn adopted(&self, app: &App, identifier: &str) -> bool {
        app.adopted.iter().any(|a| format!("{}.{}", a.stack, a.logical_id) == self.key && a.identifier == identifier)
    }
}

/// The tables whose names hold the construct's (without the environment's prefix), the closest
/// name first, each compared strictly.
async fn table_candidates<C: Cloud>(
    rc: &C,
    env: &Environment,
    app: &App,
    slot: &Slot<'_>,
    tables: &[String],
) -> Result<Vec<Candidate>, String> {
    let name = slot.props["TableName"].as_str().unwrap_or_default().to_string();
    let stem = name.strip_prefix(&format!("{}-", env.prefix)).unwrap_or(&name).to_string();
    let mut matches: Vec<&String> = tables.iter().filter(|t| t.contains(&stem)).collect();
    // the closest name first: the fewest characters beside the stem
    matches.sort_by_key(|t| t.len());
    let mut out = vec![];
    for t in matches {
        let Some(live) = rc.describe_table(t).await.map_err(|e| e.to_string())? else { continue };
        out.push(Candidate {
            adopted: slot.adopted(app, t),
            key: slot.key.clone(),
            resource_type: slot.type_name.to_string(),
            construct_name: name.clone(),
            identifier: t.clone(),
            differences: table_differences(slot.props, &live),
            changes: vec![],
        });
    }
    Ok(out)
}

/// The listed resources of a type that could be the construct: by name, by the app's family, by
/// a tag the environment also sets; every distribution. Those that differ least first.
fn resource_candidates(env: &Environment, app: &App, slot: &Slot<'_>, listed: &[(String, Value)]) -> Vec<Candidate> {
    let family = env.prefix.split('-').next().unwrap_or(&env.prefix).to_string();
    let shared_tag = |live: &Value| {
        live["Tags"].as_array().is_some_and(|tags| {
            tags.iter().any(|t| {
                let (k, v) = (t["Key"].as_str().unwrap_or_default(), t["Value"].as_str().unwrap_or_default());
                !k.starts_with("castform:") && env.tags.get(k).is_some_and(|mine| mine == v)
            })
        })
    };
    let props = slot.props;
    let name = ["FunctionName", "BucketName", "Name"]
        .iter()
        .find_map(|k| props[*k].as_str())
        .or_else(|| props.pointer("/DistributionConfig/Comment").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    let stem = name.strip_prefix(&format!("{}-", env.prefix)).unwrap_or(&name).to_string();
    let schema = crate::rules::registry::schema(slot.type_name, slot.region);
    let mut found = vec![];
    for (identifier, live) in listed {
        let label = match slot.type_name {
            "AWS::MediaConnect::Flow" => identifier.rsplit(':').next().unwrap_or(identifier).to_string(),
            "AWS::CloudFront::Distribution" => {
                live.pointer("/DistributionConfig/Comment").and_then(Value::as_str).unwrap_or_default().to_string()
            }
            _ => identifier.clone(),
        };
        let named = (!stem.is_empty() && label.contains(&stem)) || label.contains(&family);
        // a distribution often has no name at all: every one is a candidate (accounts hold few)
        if !named && !shared_tag(live) && slot.type_name != "AWS::CloudFront::Distribution" {
            continue;
        }
        // compared as adoption would write it: named after the candidate
        let mut wanted = props.clone();
        if let Ok(Some((property, value))) = naming(slot.type_name, identifier) {
            wanted[property] = Value::String(value);
        }
        let (differences, changes) = differences(slot.type_name, schema, &wanted, live);
        found.push(Candidate {
            adopted: slot.adopted(app, identifier),
            key: slot.key.clone(),
            resource_type: slot.type_name.to_string(),
            construct_name: name.clone(),
            identifier: identifier.clone(),
            differences,
            changes,
        });
    }
    found.sort_by_key(|c| (!c.differences.is_empty(), c.identifier.len()));
    found
}
