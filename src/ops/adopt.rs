//! Adoption: existing resources taken into an environment's stacks (`adopt:` in the environment
//! file), checked against the live resource before anything is written, imported through
//! `IMPORT` change sets, retained forever; and `castform adopt ENV --discover`, which finds them.
//!
//! What AWS can import: the types whose registry schema has a read handler, the types Cloud
//! Control serves ("Resource type support",
//! https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import-supported-resources.html;
//! `AWS::MediaLive::Channel` has none, so it cannot be imported). Each imported resource needs a
//! `DeletionPolicy`, its identifier in the template, and an import changes nothing else
//! (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/import-resources-automatically.html).
//! castform adopts the importable types it can compare with the live resource before importing:
//! DynamoDB tables today (the data seed 001 says must be preserved).

use crate::aws::{Cloud, ResourceToImport, TableInfo};
use crate::config::Environment;
use crate::template::{Adopted, App, DeletionPolicy, UpdateReplacePolicy};
use serde_json::Value;

/// The types castform compares with the live resource, and so adopts.
const ADOPTS: &[&str] = &["AWS::DynamoDB::Table"];

/// Defines the environment's app and applies its `adopt:` section.
pub fn define(env: &Environment) -> anyhow::Result<App> {
    let mut app = crate::apps::define(env)?;
    apply(env, &mut app)?;
    Ok(app)
}

/// AWS can import the type (its registry schema has a read handler).
pub fn importable(type_name: &str, region: &str) -> bool {
    crate::rules::registry::schema(type_name, region)
        .and_then(|s| s.get("handlers"))
        .and_then(|h| h.get("read"))
        .is_some()
}

/// The property a template names the resource by: a single primary identifier that is not
/// read-only (`TableName`), as import needs it in the template.
fn name_property(type_name: &str, region: &str) -> Option<String> {
    let schema = crate::rules::registry::schema(type_name, region)?;
    let ids = schema.get("primaryIdentifier")?.as_array()?;
    let [only] = ids.as_slice() else { return None };
    let pointer = only.as_str()?;
    let read_only =
        schema.get("readOnlyProperties").and_then(Value::as_array).is_some_and(|r| r.iter().any(|p| p == only));
    (!read_only).then(|| pointer.strip_prefix("/properties/").map(str::to_string)).flatten()
}

/// Every resource of the app castform could adopt: `stack.LogicalId (Type)`.
fn adoptable(app: &App) -> Vec<String> {
    app.stacks
        .iter()
        .flat_map(|s| {
            s.template
                .resources
                .iter()
                .filter(|(_, r)| ADOPTS.contains(&r.type_name.as_str()))
                .map(move |(id, r)| format!("{}.{} ({})", s.name, id.as_str(), r.type_name))
        })
        .collect()
}

/// Points each adopted construct at its existing resource: the template names it by the
/// identifier, with `Retain` for both policies (an adopted resource outlives every stack).
pub fn apply(env: &Environment, app: &mut App) -> anyhow::Result<()> {
    let can = adoptable(app);
    let listing = if can.is_empty() { "none".to_string() } else { can.join(", ") };
    for a in &env.adopt {
        let key = format!("adopt.{}.{}", a.stack, a.logical_id);
        let refuse = |what: String, help: String| {
            crate::config::bad_input::<()>(format!("{}: {key} {what}\nhelp: {help}", a.at)).unwrap_err()
        };
        let Some(stack) = app.stacks.iter_mut().find(|s| s.name == a.stack) else {
            let names: Vec<&str> = app.stacks.iter().map(|s| s.name.as_str()).collect();
            return Err(refuse(
                format!("names no stack of {} (its stacks: {})", app.app, names.join(", ")),
                format!("what can be adopted: {listing}"),
            ));
        };
        let region = stack.region.clone();
        let Some((id, resource)) = stack.template.resources.iter_mut().find(|(id, _)| id.as_str() == a.logical_id)
        else {
            return Err(refuse(
                format!("names no resource of stack {}", a.stack),
                format!("what can be adopted: {listing}"),
            ));
        };
        let type_name = resource.type_name.clone();
        if !importable(&type_name, &region) {
            return Err(refuse(
                format!(
                    "is a {type_name}, which CloudFormation cannot import (no read handler in its registry schema)"
                ),
                "leave it out of adopt: and keep the existing one running outside castform, or let castform create a new one in a maintenance window (README, \"Adopting an existing account\")".into(),
            ));
        }
        let property = match name_property(&type_name, &region) {
            Some(p) if ADOPTS.contains(&type_name.as_str()) => p,
            _ => {
                return Err(refuse(
                    format!("is a {type_name}: CloudFormation can import it, castform does not adopt it yet"),
                    format!("castform adopts {} today; what can be adopted: {listing}", ADOPTS.join(", ")),
                ));
            }
        };
        resource.properties[&property] = Value::String(a.identifier.clone());
        resource.attributes.deletion_policy = Some(DeletionPolicy::Retain);
        resource.attributes.update_replace_policy = Some(UpdateReplacePolicy::Retain);
        // said in the template itself, for the rules (L05) and for whoever reads it
        let mut metadata = resource.attributes.metadata.take().unwrap_or_else(|| serde_json::json!({}));
        metadata["castform"]["adopted"] = Value::String(a.identifier.clone());
        resource.attributes.metadata = Some(metadata);
        app.adopted.push(Adopted {
            stack: a.stack.clone(),
            logical_id: id.as_str().to_string(),
            resource_type: type_name,
            property,
            identifier: a.identifier.clone(),
            at: a.at.clone(),
        });
    }
    Ok(())
}

/// What differs between the construct's table and the live one, in words; empty when the
/// construct describes it (keys and their types, billing mode, stream, index names).
pub fn table_differences(template: &Value, live: &TableInfo) -> Vec<String> {
    let mut out = vec![];
    let types: std::collections::BTreeMap<&str, &str> = template["AttributeDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d["AttributeName"].as_str()?, d["AttributeType"].as_str()?)))
        .collect();
    let keys: Vec<(String, String, String)> = template["KeySchema"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|k| {
            let name = k["AttributeName"].as_str()?;
            Some((
                name.to_string(),
                k["KeyType"].as_str()?.to_string(),
                types.get(name).copied().unwrap_or("").to_string(),
            ))
        })
        .collect();
    let show = |k: &[(String, String, String)]| {
        k.iter().map(|(n, t, ty)| format!("{n} {t} {ty}")).collect::<Vec<_>>().join(", ")
    };
    if keys != live.keys {
        out.push(format!("key schema: the construct has [{}], the table has [{}]", show(&keys), show(&live.keys)));
    }
    let billing = template["BillingMode"].as_str().unwrap_or("PROVISIONED");
    if billing != live.billing_mode {
        out.push(format!("billing mode: the construct has {billing}, the table has {}", live.billing_mode));
    }
    let stream = template["StreamSpecification"]["StreamViewType"].as_str().map(str::to_string);
    if stream != live.stream {
        out.push(format!(
            "stream: the construct has {}, the table has {}",
            stream.as_deref().unwrap_or("none"),
            live.stream.as_deref().unwrap_or("none")
        ));
    }
    let mut indexes: Vec<String> = template["GlobalSecondaryIndexes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|g| g["IndexName"].as_str().map(str::to_string))
        .collect();
    indexes.sort();
    let mut live_indexes = live.indexes.clone();
    live_indexes.sort();
    if indexes != live_indexes {
        out.push(format!(
            "global secondary indexes: the construct has [{}], the table has [{}]",
            indexes.join(", "),
            live_indexes.join(", ")
        ));
    }
    out
}

/// Whether a JSON value refers to a resource (Ref, GetAtt, Sub) other than the pseudo parameters.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("Ref")
                && !r.starts_with("AWS::")
            {
                out.push(r.clone());
            }
            if let Some(Value::Array(a)) = m.get("Fn::GetAtt")
                && let Some(Value::String(r)) = a.first()
            {
                out.push(r.clone());
            }
            for v in m.values() {
                references(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// An adopted resource that still has to be imported, with what was read of it.
#[derive(Debug, Clone)]
pub struct Pending {
    pub adopted: Adopted,
    pub region: String,
    pub stack_name: String,
    /// the resource as the synthesized template writes it (type, properties, policies)
    pub resource: Value,
    pub live: TableInfo,
}

/// Reads every adopted resource (read-only calls) and refuses, naming the `adopt:` line, what
/// an import would fail or change: a resource that does not exist, one that differs from its
/// construct, one whose construct refers to resources the import could not hold. Those already
/// in their stack are left out.
pub async fn verify<C: Cloud>(cloud: &C, app: &App) -> Result<Vec<Pending>, String> {
    let mut pending = vec![];
    for a in &app.adopted {
        let stack =
            app.stacks.iter().find(|s| s.name == a.stack).ok_or_else(|| format!("{}: no stack {}", a.at, a.stack))?;
        let rc = cloud.for_region(&stack.region);
        let key = format!("adopt.{}.{}", a.stack, a.logical_id);
        if rc.describe_stack(&stack.stack_name).await.map_err(|e| e.to_string())?.is_some() {
            let have = rc.list_stack_resources(&stack.stack_name).await.map_err(|e| e.to_string())?;
            if let Some(r) = have.iter().find(|r| r.logical_id == a.logical_id) {
                if r.physical_id != a.identifier {
                    return Err(format!(
                        "{}: {key} is {}, but stack {} already holds {} as {}\nhelp: an adopted resource cannot be swapped; remove the line or point it at {}",
                        a.at, a.identifier, stack.stack_name, a.logical_id, r.physical_id, r.physical_id
                    ));
                }
                continue;
            }
        }
        let live = rc.describe_table(&a.identifier).await.map_err(|e| e.to_string())?.ok_or_else(|| {
            format!(
                "{}: {key} is {}, but there is no DynamoDB table of that name in {}\nhelp: castform adopt <env> --discover lists the tables that could be it",
                a.at, a.identifier, stack.region
            )
        })?;
        let template = stack.template.to_value();
        let resource = template["Resources"][&a.logical_id].clone();
        let differences = table_differences(&resource["Properties"], &live);
        if !differences.is_empty() {
            return Err(format!(
                "{}: {key}: the table {} is not what the construct describes, and CloudFormation would change or replace it:\n  {}\nhelp: make the construct match the table (or the table the construct) before adopting it",
                a.at,
                a.identifier,
                differences.join("\n  ")
            ));
        }
        let mut refs = vec![];
        references(&resource, &mut refs);
        if let Some(r) = refs.first() {
            return Err(format!(
                "{}: {key}: its construct refers to {r}, which an import cannot hold (an import adds only the resources it imports)\nhelp: adopt it without that reference, then add it in a later deploy",
                a.at
            ));
        }
        pending.push(Pending {
            adopted: a.clone(),
            region: stack.region.clone(),
            stack_name: stack.stack_name.clone(),
            resource,
            live,
        });
    }
    Ok(pending)
}

/// The template of an import into `stack_name`: what the stack holds now (its deployed template,
/// unchanged) plus the adopted resources; a new stack holds only them.
pub fn import_template(deployed: Option<&str>, description: &str, resources: &[&Pending]) -> Result<String, String> {
    let mut t: Value = match deployed {
        Some(body) => serde_json::from_str(body).map_err(|e| format!("the deployed template is not JSON: {e}"))?,
        None => {
            serde_json::json!({"AWSTemplateFormatVersion": "2010-09-09", "Description": description, "Resources": {}})
        }
    };
    for p in resources {
        t["Resources"][&p.adopted.logical_id] = p.resource.clone();
    }
    Ok(serde_json::to_string(&t).unwrap_or_default())
}

/// The import request of one stack.
pub fn import_request(
    stack_name: &str,
    body: String,
    resources: &[&Pending],
    create: bool,
) -> crate::aws::ChangeSetRequest {
    crate::aws::ChangeSetRequest {
        stack: stack_name.to_string(),
        name: format!("castform-import-{}", crate::ops::deploy::new_id()),
        template_body: body,
        parameters: Default::default(),
        tags: Default::default(),
        create,
        imports: resources
            .iter()
            .map(|p| ResourceToImport {
                logical_id: p.adopted.logical_id.clone(),
                resource_type: p.adopted.resource_type.clone(),
                identifier: (p.adopted.property.clone(), p.adopted.identifier.clone()),
            })
            .collect(),
    }
}

/// One candidate of `--discover`: an existing table that could be a construct.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Candidate {
    pub key: String,
    pub construct_name: String,
    pub table: String,
    pub differences: Vec<String>,
    pub adopted: bool,
}

/// For each table construct of the app, the existing tables that could be it (by name: the
/// construct's own name, or the name without the environment's prefix, inside the table's
/// name), best first, with what differs. Read-only.
pub async fn discover<C: Cloud>(cloud: &C, env: &Environment, app: &App) -> Result<Vec<Candidate>, String> {
    let mut out = vec![];
    let mut tables_of: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for s in &app.stacks {
        let template = s.template.to_value();
        for (id, r) in &s.template.resources {
            if r.type_name != "AWS::DynamoDB::Table" {
                continue;
            }
            if !tables_of.contains_key(&s.region) {
                let names = cloud.for_region(&s.region).list_tables().await.map_err(|e| e.to_string())?;
                tables_of.insert(s.region.clone(), names);
            }
            let props = &template["Resources"][id.as_str()]["Properties"];
            let name = props["TableName"].as_str().unwrap_or_default().to_string();
            let stem = name.strip_prefix(&format!("{}-", env.prefix)).unwrap_or(&name).to_string();
            let mut matches: Vec<&String> = tables_of[&s.region].iter().filter(|t| t.contains(&stem)).collect();
            // the closest name first: the fewest characters beside the stem
            matches.sort_by_key(|t| t.len());
            for t in matches {
                let live = cloud.for_region(&s.region).describe_table(t).await.map_err(|e| e.to_string())?;
                let Some(live) = live else { continue };
                let key = format!("{}.{}", s.name, id.as_str());
                out.push(Candidate {
                    adopted: app
                        .adopted
                        .iter()
                        .any(|a| format!("{}.{}", a.stack, a.logical_id) == key && &a.identifier == t),
                    key,
                    construct_name: name.clone(),
                    table: t.clone(),
                    differences: table_differences(props, &live),
                });
            }
        }
    }
    Ok(out)
}

/// Imports one stack's adopted resources: an `IMPORT` change set of the deployed template plus
/// them, executed, waited for until `IMPORT_COMPLETE`. Errors name the stack and AWS's reason.
pub async fn import_stack<C: Cloud>(
    cloud: &C,
    stack_name: &str,
    description: &str,
    pending: &[&Pending],
) -> Result<(), String> {
    use std::time::{Duration, Instant};
    let existing = cloud.describe_stack(stack_name).await.map_err(|e| e.to_string())?;
    let create = existing.as_ref().is_none_or(|s| s.status == "REVIEW_IN_PROGRESS");
    let deployed = if create { None } else { Some(cloud.get_template(stack_name).await.map_err(|e| e.to_string())?) };
    let body = import_template(deployed.as_deref(), description, pending)?;
    let req = import_request(stack_name, body, pending, create);
    let id = cloud.create_change_set(&req).await.map_err(|e| format!("{stack_name}: the import change set: {e}"))?;
    let started = Instant::now();
    let mut delay = Duration::from_millis(200);
    loop {
        let cs = cloud.describe_change_set(stack_name, &id).await.map_err(|e| e.to_string())?;
        if cs.status == "CREATE_COMPLETE" {
            break;
        }
        if cs.status == "FAILED" {
            let _ = cloud.delete_change_set(stack_name, &id).await;
            return Err(format!("{stack_name}: the import change set failed: {}", cs.reason.unwrap_or_default()));
        }
        if started.elapsed() > Duration::from_secs(600) {
            return Err(format!("{stack_name}: the import change set did not finish computing within 10 minutes"));
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
    cloud.execute_change_set(stack_name, &id).await.map_err(|e| format!("{stack_name}: {e}"))?;
    let started = Instant::now();
    loop {
        tokio::time::sleep(delay).await;
        let status =
            cloud.describe_stack(stack_name).await.map_err(|e| e.to_string())?.map(|s| s.status).unwrap_or_default();
        match status.as_str() {
            "IMPORT_COMPLETE" => return Ok(()),
            s if s.ends_with("_COMPLETE") && s.contains("ROLLBACK") || s.ends_with("_FAILED") => {
                return Err(format!("{stack_name}: the import ended {s}"));
            }
            _ if started.elapsed() > Duration::from_secs(3600) => {
                return Err(format!("{stack_name}: the import did not finish within an hour"));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(keys: &[(&str, &str, &str)], billing: &str) -> TableInfo {
        TableInfo {
            name: "lunora-presets".into(),
            arn: "arn:aws:dynamodb:us-west-2:372241484305:table/lunora-presets".into(),
            keys: keys.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect(),
            billing_mode: billing.into(),
            indexes: vec![],
            stream: None,
            status: "ACTIVE".into(),
        }
    }

    fn construct() -> Value {
        json!({"TableName": "lunora-presets", "BillingMode": "PAY_PER_REQUEST",
               "AttributeDefinitions": [{"AttributeName": "presetId", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "presetId", "KeyType": "HASH"}],
               "SSESpecification": {"SSEEnabled": true}})
    }

    #[test]
    fn a_table_that_matches_its_construct_has_no_differences_and_each_kind_of_mismatch_is_named() {
        assert!(table_differences(&construct(), &live(&[("presetId", "HASH", "S")], "PAY_PER_REQUEST")).is_empty());
        let d = table_differences(&construct(), &live(&[("presetId", "HASH", "N")], "PROVISIONED"));
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("key schema: the construct has [presetId HASH S], the table has [presetId HASH N]"));
        assert!(d[1].contains("billing mode: the construct has PAY_PER_REQUEST, the table has PROVISIONED"));
        let mut with_stream = construct();
        with_stream["StreamSpecification"] = json!({"StreamViewType": "NEW_AND_OLD_IMAGES"});
        with_stream["GlobalSecondaryIndexes"] = json!([{"IndexName": "ExpiryIndex"}]);
        let d = table_differences(&with_stream, &live(&[("presetId", "HASH", "S")], "PAY_PER_REQUEST"));
        assert_eq!(
            d,
            vec![
                "stream: the construct has NEW_AND_OLD_IMAGES, the table has none".to_string(),
                "global secondary indexes: the construct has [ExpiryIndex], the table has []".to_string(),
            ]
        );
    }

    #[test]
    fn an_import_template_is_the_deployed_one_plus_the_adopted_resources_and_nothing_else() {
        let pending = Pending {
            adopted: Adopted {
                stack: "data".into(),
                logical_id: "Presets".into(),
                resource_type: "AWS::DynamoDB::Table".into(),
                property: "TableName".into(),
                identifier: "lunora-presets".into(),
                at: "environments/lunora/prod.yaml:40:3".into(),
            },
            region: "us-west-2".into(),
            stack_name: "lunora-player-prod-data".into(),
            resource: json!({"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": construct()}),
            live: live(&[("presetId", "HASH", "S")], "PAY_PER_REQUEST"),
        };
        let deployed = json!({"Resources": {"Sources": {"Type": "AWS::DynamoDB::Table"}}, "Outputs": {"SourcesName": {"Value": {"Ref": "Sources"}}}});
        let body: Value =
            serde_json::from_str(&import_template(Some(&deployed.to_string()), "d", &[&pending]).unwrap()).unwrap();
        assert_eq!(body["Outputs"], deployed["Outputs"], "outputs unchanged");
        assert_eq!(body["Resources"]["Sources"], deployed["Resources"]["Sources"]);
        assert_eq!(body["Resources"]["Presets"]["DeletionPolicy"], "Retain");
        let fresh: Value = serde_json::from_str(&import_template(None, "d", &[&pending]).unwrap()).unwrap();
        assert_eq!(fresh["Resources"].as_object().unwrap().len(), 1);
        assert!(fresh.get("Outputs").is_none(), "a new stack made by import has no outputs yet");
        let req = import_request("lunora-player-prod-data", String::new(), &[&pending], true);
        assert_eq!(req.imports[0].identifier, ("TableName".to_string(), "lunora-presets".to_string()));
        let mut refs = vec![];
        references(
            &json!({"A": {"Fn::GetAtt": ["Key", "Arn"]}, "B": {"Ref": "AWS::Region"}, "C": [{"Ref": "Topic"}]}),
            &mut refs,
        );
        assert_eq!(refs, ["Key", "Topic"], "pseudo parameters are not resources");
    }

    #[test]
    fn importability_comes_from_the_registry_read_handler() {
        assert!(importable("AWS::DynamoDB::Table", "us-west-2"));
        assert!(importable("AWS::MediaConnect::Flow", "us-west-2"));
        assert!(!importable("AWS::MediaLive::Channel", "us-west-2"));
        assert_eq!(name_property("AWS::DynamoDB::Table", "us-west-2").as_deref(), Some("TableName"));
        assert_eq!(name_property("AWS::MediaConnect::Flow", "us-west-2"), None, "FlowArn is read-only");
    }
}
