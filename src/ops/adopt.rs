//! Adoption: existing resources taken into an environment's stacks (`adopt:` in the environment
//! file), checked against the live resource before anything is written, imported through
//! `IMPORT` change sets, retained forever; and `castform adopt ENV --discover`, which finds them.
//!
//! What AWS can import: the types whose registry schema has a read handler, the types Cloud
//! Control serves ("Resource type support",
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import-supported-resources.html>;
//! `AWS::MediaLive::Channel` has none, so it cannot be imported). Each imported resource needs a
//! `DeletionPolicy`, its identifier in the template, and an import changes nothing else
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/import-resources-automatically.html>).
//! castform adopts the importable types it reads and compares before importing: DynamoDB tables
//! (the data seed 001 says must be preserved), S3 buckets, MediaConnect flows (the encoder's
//! ingest address), Lambda functions and CloudFront distributions (the URL users bookmarked).
//!
//! A table is compared strictly (keys, billing, stream, indexes: its data depends on them) and
//! imported as its construct writes it. Any other type is read through Cloud Control (its read
//! handler, in CloudFormation's shape) and imported *as it is*: the import template holds the live
//! properties, so the import changes nothing and needs none of the stack's other resources; the
//! deploy's ordinary change set that follows then makes it what the construct says, and the
//! adopt step lists each property it will change. Where that change set would replace the
//! resource (a create-only property of its registry schema differs) or drop what users reach it
//! by (a distribution's aliases), castform refuses before any write.

use crate::aws::{Cloud, ResourceToImport, TableInfo};
use crate::config::Environment;
use crate::template::{Adopted, App, DeletionPolicy, UpdateReplacePolicy};
use serde_json::Value;

/// The types castform adopts.
const ADOPTS: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::MediaConnect::Flow",
    "AWS::Lambda::Function",
    "AWS::CloudFront::Distribution",
];

/// The property a template names an adopted resource by, and its value for `identifier`: the
/// identifier itself for tables, buckets and functions; a flow's name is the last part of its
/// ARN (`arn:aws:mediaconnect:<region>:<account>:flow:<id>:<name>`, "MediaConnect ARNs",
/// <https://docs.aws.amazon.com/mediaconnect/latest/ug/arns.html>); a distribution has none.
fn naming(type_name: &str, identifier: &str) -> Result<Option<(&'static str, String)>, String> {
    Ok(match type_name {
        "AWS::DynamoDB::Table" => Some(("TableName", identifier.to_string())),
        "AWS::S3::Bucket" => Some(("BucketName", identifier.to_string())),
        "AWS::Lambda::Function" => Some(("FunctionName", identifier.to_string())),
        "AWS::MediaConnect::Flow" => {
            let parts: Vec<&str> = identifier.split(':').collect();
            match parts.as_slice() {
                ["arn", _, "mediaconnect", _, _, "flow", id, name] if !id.is_empty() && !name.is_empty() => {
                    Some(("Name", (*name).to_string()))
                }
                _ => {
                    return Err(format!(
                        "is {identifier:?}, not a flow ARN (arn:aws:mediaconnect:<region>:<account>:flow:<id>:<name>, as `aws mediaconnect list-flows` shows it)"
                    ));
                }
            }
        }
        "AWS::CloudFront::Distribution" => {
            // an Id (E2QWRUHAPOMQZL), not the domain's first label (d35au6zpsr51nc)
            if identifier.is_empty() || !identifier.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
                return Err(format!(
                    "is {identifier:?}, not a distribution Id (upper-case letters and digits, e.g. E2QWRUHAPOMQZL; `aws cloudfront list-distributions` gives the Id of each domain name)"
                ));
            }
            None
        }
        _ => None,
    })
}

/// Defines the environment's app and applies its `adopt:` section.
pub fn define(env: &Environment) -> anyhow::Result<App> {
    let mut app = env.define()?;
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
    // (the construct's own name, the adopted one): every other mention follows the rename
    let mut renamed: Vec<(String, String)> = vec![];
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
        let property = match primary_identifier(&type_name, &region) {
            Some(p) if ADOPTS.contains(&type_name.as_str()) => p,
            _ => {
                return Err(refuse(
                    format!("is a {type_name}: CloudFormation can import it, castform does not adopt it yet"),
                    format!("castform adopts {} today; what can be adopted: {listing}", ADOPTS.join(", ")),
                ));
            }
        };
        let named =
            naming(&type_name, &a.identifier).map_err(|e| refuse(e, format!("what can be adopted: {listing}")))?;
        if let Some((name_property, name)) = &named {
            let before = resource.properties.get(*name_property).and_then(Value::as_str).map(str::to_string);
            resource.properties[*name_property] = Value::String(name.clone());
            if let Some(before) = before.filter(|b| b != name) {
                renamed.push((before, name.clone()));
            }
        }
        retain(resource, "adopted", &a.identifier);
        app.adopted.push(Adopted {
            stack: a.stack.clone(),
            logical_id: id.as_str().to_string(),
            resource_type: type_name,
            property,
            identifier: a.identifier.clone(),
            at: a.at.clone(),
        });
    }
    keep_what_adopted_distributions_use(app);
    let adopted: Vec<(String, String)> = app.adopted.iter().map(|a| (a.stack.clone(), a.logical_id.clone())).collect();
    for stack in &mut app.stacks {
        for (id, resource) in stack.template.resources.iter_mut() {
            if adopted.iter().any(|(s, l)| *s == stack.name && l == id.as_str()) {
                continue;
            }
            for (before, after) in &renamed {
                rename(&mut resource.properties, before, after);
            }
        }
    }
    Ok(())
}

/// `Retain` for both policies, and why, said in the template itself (`Metadata.castform.<why>`)
/// for the rules (L05) and for whoever reads it.
fn retain(resource: &mut crate::template::Resource, why: &str, identifier: &str) {
    resource.attributes.deletion_policy = Some(DeletionPolicy::Retain);
    resource.attributes.update_replace_policy = Some(UpdateReplacePolicy::Retain);
    let mut metadata = resource.attributes.metadata.take().unwrap_or_else(|| serde_json::json!({}));
    metadata["castform"][why] = Value::String(identifier.to_string());
    resource.attributes.metadata = Some(metadata);
}

/// CloudFront refuses to delete what a distribution still uses: an origin access control
/// (`OriginAccessControlInUse`), a response headers or cache policy (`...PolicyInUse`), a
/// function (`FunctionInUse`), and a KeyValueStore associated with such a function
/// (CloudFront API Reference, the errors of DeleteOriginAccessControl, DeleteResponseHeadersPolicy,
/// DeleteCachePolicy, DeleteFunction, DeleteKeyValueStore:
/// <https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteOriginAccessControl.html> and
/// its neighbours). An adopted distribution outlives its
/// stack, so whatever of the stack it uses must too, or `destroy` would end DELETE_FAILED.
const USED_BY_A_DISTRIBUTION: &[&str] = &[
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::OriginRequestPolicy",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::KeyValueStore",
];

/// Retains, beside each adopted distribution, the resources of its stack it uses (directly, or
/// through a function it runs), marking each with the distribution it is kept for.
fn keep_what_adopted_distributions_use(app: &mut App) {
    let distributions: Vec<(String, String, String)> = app
        .adopted
        .iter()
        .filter(|a| a.resource_type == "AWS::CloudFront::Distribution")
        .map(|a| (a.stack.clone(), a.logical_id.clone(), a.identifier.clone()))
        .collect();
    for (stack_name, logical_id, identifier) in distributions {
        let Some(stack) = app.stacks.iter_mut().find(|s| s.name == stack_name) else { continue };
        let mut pending = vec![logical_id];
        let mut seen: Vec<String> = vec![];
        while let Some(id) = pending.pop() {
            let Some(resource) = stack.template.resources.iter().find(|(l, _)| l.as_str() == id).map(|(_, r)| r) else {
                continue;
            };
            let mut found = vec![];
            references(&resource.properties, &mut found);
            for r in found {
                if seen.contains(&r) {
                    continue;
                }
                seen.push(r.clone());
                let Some((_, used)) = stack.template.resources.iter_mut().find(|(l, _)| l.as_str() == r) else {
                    continue;
                };
                if !USED_BY_A_DISTRIBUTION.contains(&used.type_name.as_str()) {
                    continue;
                }
                retain(used, "kept_for", &identifier);
                pending.push(r);
            }
        }
    }
}

/// The type's single primary identifier property (`FlowArn`, `Id`), what an import names it by.
fn primary_identifier(type_name: &str, region: &str) -> Option<String> {
    let schema = crate::rules::registry::schema(type_name, region)?;
    let [only] = schema.get("primaryIdentifier")?.as_array()?.as_slice() else { return None };
    only.as_str()?.strip_prefix("/properties/").map(str::to_string)
}

/// Replaces a construct's old physical name where another resource writes it out (an alias's
/// `FunctionName`, a URL's `TargetFunctionArn`, an ARN in a policy): whole strings, or the name
/// between separators (`/`, `:`, `*`), never inside a longer name.
fn rename(value: &mut Value, before: &str, after: &str) {
    match value {
        Value::String(s) => {
            if !s.contains(before) {
                return;
            }
            let mut out = String::new();
            let mut rest = s.as_str();
            while let Some(i) = rest.find(before) {
                let end = i + before.len();
                let left = rest[..i].chars().next_back();
                let right = rest[end..].chars().next();
                let bounded = |c: Option<char>| c.is_none_or(|c| matches!(c, '/' | ':' | '*' | '"'));
                out.push_str(&rest[..i]);
                out.push_str(if bounded(left) && bounded(right) { after } else { before });
                rest = &rest[end..];
            }
            out.push_str(rest);
            *s = out;
        }
        Value::Array(a) => a.iter_mut().for_each(|v| rename(v, before, after)),
        Value::Object(m) => m.values_mut().for_each(|v| rename(v, before, after)),
        _ => {}
    }
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
    /// the resource as the import writes it: a table as its construct does, any other type with
    /// its live properties (policies and metadata from the construct)
    pub resource: Value,
    /// a table's description
    pub live: Option<TableInfo>,
    /// what the deploy's change set after the import will change, in words
    pub changes: Vec<String>,
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
        if a.resource_type != "AWS::DynamoDB::Table" {
            pending.push(read_and_compare(&rc, stack, a).await?);
            continue;
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
            live: Some(live),
            changes: vec![],
        });
    }
    Ok(pending)
}

/// Any type but a table: read through Cloud Control, refused where the change set after the
/// import would replace it or drop what users reach it by; otherwise imported as it is.
async fn read_and_compare<C: Cloud>(rc: &C, stack: &crate::template::Stack, a: &Adopted) -> Result<Pending, String> {
    let key = format!("adopt.{}.{}", a.stack, a.logical_id);
    let live = rc.get_resource(&a.resource_type, &a.identifier).await.map_err(|e| e.to_string())?.ok_or_else(|| {
        format!(
            "{}: {key} is {}, but there is no {} with that identifier in {}\nhelp: castform adopt <env> --discover lists the ones that could be it",
            a.at, a.identifier, a.resource_type, stack.region
        )
    })?;
    let template = stack.template.to_value();
    let construct = &template["Resources"][&a.logical_id];
    let schema = crate::rules::registry::schema(&a.resource_type, &stack.region);
    let (replaced, changes) = differences(&a.resource_type, schema, &construct["Properties"], &live);
    if !replaced.is_empty() {
        return Err(format!(
            "{}: {key}: {} {} is not what the construct describes, and the deploy would replace it or cut off its users:\n  {}\nhelp: make the construct match the resource before adopting it",
            a.at,
            a.resource_type,
            a.identifier,
            replaced.join("\n  ")
        ));
    }
    let mut resource = construct.clone();
    resource["Properties"] = importable_properties(&a.resource_type, schema, &live, &construct["Properties"]);
    Ok(Pending {
        adopted: a.clone(),
        region: stack.region.clone(),
        stack_name: stack.stack_name.clone(),
        resource,
        live: None,
        changes,
    })
}

/// The pointers (`/properties/Source/SourceArn`) a schema lists under `key`.
fn pointers<'a>(schema: Option<&'a Value>, key: &str) -> Vec<&'a str> {
    schema
        .and_then(|s| s.get(key))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

/// The live properties an import template can hold: read-only ones removed (an import template,
/// like any, writes only what can be set), required write-only ones that a read never answers
/// filled in. A function's `Code` is the one among the adopted types ("Resource type schema",
/// writeOnlyProperties): a placeholder that says so, which also makes the change set after the
/// import send the construct's code.
///
/// A create-only property the construct leaves out is left out too (a `PackageType` the
/// construct does not write): the change set after the import compares template with template,
/// and would otherwise read its absence as a change that replaces the resource.
pub fn importable_properties(type_name: &str, schema: Option<&Value>, live: &Value, construct: &Value) -> Value {
    let mut props = live.clone();
    for p in pointers(schema, "readOnlyProperties") {
        remove_pointer(&mut props, p.strip_prefix("/properties").unwrap_or(p));
    }
    for p in pointers(schema, "createOnlyProperties") {
        let path = p.strip_prefix("/properties").unwrap_or(p);
        if construct.pointer(path).is_none() {
            remove_pointer(&mut props, path);
        }
    }
    if type_name == "AWS::Lambda::Function" && props.get("Code").is_none() {
        props["Code"] = serde_json::json!({"ZipFile": "// adopted by castform: the code that ran before is not known to the template"});
    }
    props
}

fn remove_pointer(value: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else { return };
    if let Some(Value::Object(m)) = if parent.is_empty() { Some(value) } else { value.pointer_mut(parent) } {
        m.remove(last);
    }
}

/// Absent, null, empty and false are the same setting.
fn unset(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => true,
        Some(Value::String(s)) => s.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        Some(Value::Object(m)) => m.is_empty(),
        _ => false,
    }
}

/// Numbers and their strings, and unordered tags, compare equal.
fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
    if unset(a) && unset(b) {
        return true;
    }
    match (a, b) {
        (Some(Value::Number(n)), Some(Value::String(s))) | (Some(Value::String(s)), Some(Value::Number(n))) => {
            n.to_string() == *s
        }
        (Some(Value::Object(x)), Some(Value::Object(y))) => x.keys().chain(y.keys()).all(|k| same(x.get(k), y.get(k))),
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| same(Some(p), Some(q)))
        }
        (a, b) => a == b,
    }
}

fn short(v: Option<&Value>) -> String {
    let s = v.map_or("(none)".to_string(), Value::to_string);
    if s.chars().count() > 60 { format!("{}…", s.chars().take(59).collect::<String>()) } else { s }
}

/// What differs between a construct's properties and the live resource's, in two lists: what
/// would replace the resource or cut off its users (refused), and what the change set after the
/// import will update (said). A create-only property (the registry schema's
/// createOnlyProperties: "a change requires replacement") that differs is the first kind, and so
/// is a distribution alias the construct drops (the domain would stop answering). Properties
/// the construct sets from other resources are updates ("set from ...").
pub fn differences(
    type_name: &str,
    schema: Option<&Value>,
    construct: &Value,
    live: &Value,
) -> (Vec<String>, Vec<String>) {
    let (mut replaced, mut changes) = (vec![], vec![]);
    let read_only = pointers(schema, "readOnlyProperties");
    let write_only = pointers(schema, "writeOnlyProperties");
    let create_only = pointers(schema, "createOnlyProperties");
    for p in &create_only {
        let path = p.strip_prefix("/properties").unwrap_or(p);
        let (want, have) = (construct.pointer(path), live.pointer(path));
        let mut refs = vec![];
        if let Some(w) = want {
            references(w, &mut refs);
        }
        // one the construct leaves out is left out of the import too: the service's value stays
        if want.is_some() && refs.is_empty() && !same(want, have) {
            replaced.push(format!(
                "{}: live {}, construct {} (create-only: a change replaces it)",
                &path[1..].replace('/', "."),
                short(have),
                short(want)
            ));
        }
    }
    if type_name == "AWS::CloudFront::Distribution" {
        let names = |v: &Value| -> Vec<String> {
            v.pointer("/DistributionConfig/Aliases")
                .and_then(Value::as_array)
                .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
                .unwrap_or_default()
        };
        let kept = names(construct);
        for alias in names(live).into_iter().filter(|a| !kept.contains(a)) {
            replaced.push(format!("DistributionConfig.Aliases: the distribution answers for {alias}, which the construct drops (the domain would stop working)"));
        }
    }
    let mut keys: Vec<&String> = construct.as_object().map(|m| m.keys().collect()).unwrap_or_default();
    for k in live.as_object().map(|m| m.keys().collect::<Vec<_>>()).unwrap_or_default() {
        if !keys.contains(&k) {
            keys.push(k);
        }
    }
    keys.sort();
    for k in keys {
        let pointer = format!("/properties/{k}");
        let nested = format!("{pointer}/");
        if read_only.contains(&pointer.as_str()) || write_only.iter().any(|p| *p == pointer || p.starts_with(&nested)) {
            // never answered by a read, so never compared (a function's Code: said below)
            continue;
        }
        let (want, have) = (construct.get(k.as_str()), live.get(k.as_str()));
        let mut refs = vec![];
        if let Some(w) = want {
            references(w, &mut refs);
        }
        if !refs.is_empty() {
            refs.dedup();
            changes.push(format!("{k}: set from {}", refs.join(", ")));
        } else if want.is_none() && create_only.contains(&pointer.as_str()) {
            // left out of the import too (importable_properties): nothing changes
            continue;
        } else if want.is_none() && !unset(have) {
            // left out by the construct: the update takes it back to the service's default
            changes.push(format!("{k}: {} -> (the service's default)", short(have)));
        } else if !same(want, have) {
            changes.push(format!("{k}: {} -> {}", short(have), short(want)));
        }
    }
    if write_only.iter().any(|p| p.starts_with("/properties/Code/")) && construct.get("Code").is_some() {
        changes.push("Code: the construct's package replaces the running code".into());
    }
    (replaced, changes)
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
        role_arn: None,
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
    let mut tables_of: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    let mut listed: std::collections::BTreeMap<(String, String), Vec<(String, Value)>> = Default::default();
    let family = env.prefix.split('-').next().unwrap_or(&env.prefix).to_string();
    let shared_tag = |live: &Value| {
        live["Tags"].as_array().is_some_and(|tags| {
            tags.iter().any(|t| {
                let (k, v) = (t["Key"].as_str().unwrap_or_default(), t["Value"].as_str().unwrap_or_default());
                !k.starts_with("castform:") && env.tags.get(k).is_some_and(|mine| mine == v)
            })
        })
    };
    for s in &app.stacks {
        let template = s.template.to_value();
        let rc = cloud.for_region(&s.region);
        for (id, r) in &s.template.resources {
            if !ADOPTS.contains(&r.type_name.as_str()) {
                continue;
            }
            let key = format!("{}.{}", s.name, id.as_str());
            let adopted = |identifier: &str| {
                app.adopted.iter().any(|a| format!("{}.{}", a.stack, a.logical_id) == key && a.identifier == identifier)
            };
            let props = &template["Resources"][id.as_str()]["Properties"];
            if r.type_name == "AWS::DynamoDB::Table" {
                if !tables_of.contains_key(&s.region) {
                    let names = rc.list_tables().await.map_err(|e| e.to_string())?;
                    tables_of.insert(s.region.clone(), names);
                }
                let name = props["TableName"].as_str().unwrap_or_default().to_string();
                let stem = name.strip_prefix(&format!("{}-", env.prefix)).unwrap_or(&name).to_string();
                let mut matches: Vec<&String> = tables_of[&s.region].iter().filter(|t| t.contains(&stem)).collect();
                // the closest name first: the fewest characters beside the stem
                matches.sort_by_key(|t| t.len());
                for t in matches {
                    let Some(live) = rc.describe_table(t).await.map_err(|e| e.to_string())? else { continue };
                    out.push(Candidate {
                        adopted: adopted(t),
                        key: key.clone(),
                        resource_type: r.type_name.clone(),
                        construct_name: name.clone(),
                        identifier: t.clone(),
                        differences: table_differences(props, &live),
                        changes: vec![],
                    });
                }
                continue;
            }
            let slot = (s.region.clone(), r.type_name.clone());
            if !listed.contains_key(&slot) {
                let mut read = vec![];
                for identifier in rc.list_resources(&r.type_name).await.map_err(|e| e.to_string())? {
                    if let Some(live) = rc.get_resource(&r.type_name, &identifier).await.map_err(|e| e.to_string())? {
                        read.push((identifier, live));
                    }
                }
                listed.insert(slot.clone(), read);
            }
            let name = ["FunctionName", "BucketName", "Name"]
                .iter()
                .find_map(|k| props[*k].as_str())
                .or_else(|| props.pointer("/DistributionConfig/Comment").and_then(Value::as_str))
                .unwrap_or_default()
                .to_string();
            let stem = name.strip_prefix(&format!("{}-", env.prefix)).unwrap_or(&name).to_string();
            let schema = crate::rules::registry::schema(&r.type_name, &s.region);
            let mut found = vec![];
            for (identifier, live) in &listed[&slot] {
                let label = match r.type_name.as_str() {
                    "AWS::MediaConnect::Flow" => identifier.rsplit(':').next().unwrap_or(identifier).to_string(),
                    "AWS::CloudFront::Distribution" => live
                        .pointer("/DistributionConfig/Comment")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    _ => identifier.clone(),
                };
                let named = (!stem.is_empty() && label.contains(&stem)) || label.contains(&family);
                // a distribution often has no name at all: every one is a candidate (accounts hold few)
                if !named && !shared_tag(live) && r.type_name != "AWS::CloudFront::Distribution" {
                    continue;
                }
                // compared as adoption would write it: named after the candidate
                let mut wanted = props.clone();
                if let Ok(Some((property, value))) = naming(&r.type_name, identifier) {
                    wanted[property] = Value::String(value);
                }
                let (differences, changes) = differences(&r.type_name, schema, &wanted, live);
                found.push(Candidate {
                    adopted: adopted(identifier),
                    key: key.clone(),
                    resource_type: r.type_name.clone(),
                    construct_name: name.clone(),
                    identifier: identifier.clone(),
                    differences,
                    changes,
                });
            }
            found.sort_by_key(|c| (!c.differences.is_empty(), c.identifier.len()));
            out.extend(found);
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
    role_arn: Option<String>,
) -> Result<(), String> {
    let existing = cloud.describe_stack(stack_name).await.map_err(|e| e.to_string())?;
    let create = existing.as_ref().is_none_or(|s| s.status == "REVIEW_IN_PROGRESS");
    let deployed = if create { None } else { Some(cloud.get_template(stack_name).await.map_err(|e| e.to_string())?) };
    let body = import_template(deployed.as_deref(), description, pending)?;
    let req = crate::aws::ChangeSetRequest { role_arn, ..import_request(stack_name, body, pending, create) };
    match crate::ops::deploy::stacks::run_change_set(cloud, &req).await? {
        s if s == "IMPORT_COMPLETE" => Ok(()),
        s => Err(format!("{stack_name}: the import ended {s}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(keys: &[(&str, &str, &str)], billing: &str) -> TableInfo {
        TableInfo {
            name: "orders-items".into(),
            arn: "arn:aws:dynamodb:us-west-2:372241484305:table/orders-items".into(),
            keys: keys.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect(),
            billing_mode: billing.into(),
            indexes: vec![],
            stream: None,
            status: "ACTIVE".into(),
        }
    }

    fn construct() -> Value {
        json!({"TableName": "orders-items", "BillingMode": "PAY_PER_REQUEST",
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
                identifier: "orders-items".into(),
                at: "environments/orders/prod.yaml:40:3".into(),
            },
            region: "us-west-2".into(),
            stack_name: "orders-prod-data".into(),
            resource: json!({"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": construct()}),
            live: Some(live(&[("presetId", "HASH", "S")], "PAY_PER_REQUEST")),
            changes: vec![],
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
        let req = import_request("orders-prod-data", String::new(), &[&pending], true);
        assert_eq!(req.imports[0].identifier, ("TableName".to_string(), "orders-items".to_string()));
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
        assert_eq!(primary_identifier("AWS::DynamoDB::Table", "us-west-2").as_deref(), Some("TableName"));
        assert_eq!(primary_identifier("AWS::MediaConnect::Flow", "us-west-2").as_deref(), Some("FlowArn"));
        assert_eq!(primary_identifier("AWS::CloudFront::Distribution", "us-west-2").as_deref(), Some("Id"));
    }

    #[test]
    fn each_type_is_named_by_its_identifier_and_a_wrong_form_is_refused() {
        let arn = "arn:aws:mediaconnect:us-west-2:372241484305:flow:1-AbCd:orders-prod-srt-router";
        assert_eq!(naming("AWS::MediaConnect::Flow", arn).unwrap(), Some(("Name", "orders-prod-srt-router".into())));
        assert!(naming("AWS::MediaConnect::Flow", "orders-prod-srt-router").unwrap_err().contains("not a flow ARN"));
        assert_eq!(naming("AWS::Lambda::Function", "f").unwrap(), Some(("FunctionName", "f".into())));
        assert_eq!(naming("AWS::CloudFront::Distribution", "E2QWRUHAPOMQZL").unwrap(), None);
        let e = naming("AWS::CloudFront::Distribution", "d35au6zpsr51nc").unwrap_err();
        assert!(e.contains("not a distribution Id"), "{e}");
    }

    #[test]
    fn a_rename_follows_the_name_where_it_is_written_out_and_nowhere_else() {
        let mut v = json!({"FunctionName": "app-api", "Arn": "arn:aws:lambda:r:1:function:app-api:*",
                           "Group": "/aws/lambda/app-api", "Other": "app-api-logs", "Kept": "my-app-api"});
        rename(&mut v, "app-api", "old-api");
        assert_eq!(
            v,
            json!({"FunctionName": "old-api", "Arn": "arn:aws:lambda:r:1:function:old-api:*",
                             "Group": "/aws/lambda/old-api", "Other": "app-api-logs", "Kept": "my-app-api"})
        );
    }

    #[test]
    fn a_create_only_difference_or_a_dropped_alias_is_refused_and_updates_are_listed() {
        let flow = crate::rules::registry::schema("AWS::MediaConnect::Flow", "us-west-2");
        let construct = json!({"Name": "f", "Source": {"Name": "srt-ingest", "IngestPort": 9998,
                               "Decryption": {"RoleArn": {"Fn::GetAtt": ["IngestSecretRole", "Arn"]}}}});
        let live =
            json!({"Name": "f", "FlowArn": "arn", "Source": {"Name": "main", "IngestPort": "9998", "SourceArn": "s"}});
        let (replaced, changes) = differences("AWS::MediaConnect::Flow", flow, &construct, &live);
        assert_eq!(replaced.len(), 1, "{replaced:?}");
        assert!(replaced[0].starts_with("Source.Name: live \"main\", construct \"srt-ingest\""), "{replaced:?}");
        assert_eq!(changes, ["Source: set from IngestSecretRole"]);
        let live = json!({"Name": "f", "Source": {"Name": "srt-ingest", "IngestPort": 9998}});
        let (replaced, _) = differences("AWS::MediaConnect::Flow", flow, &construct, &live);
        assert!(replaced.is_empty(), "{replaced:?}");

        let dist = crate::rules::registry::schema("AWS::CloudFront::Distribution", "us-west-2");
        let construct = json!({"DistributionConfig": {"Enabled": true, "Aliases": ["a.example.com"]}});
        let live = json!({"Id": "E1", "DomainName": "d1.cloudfront.net",
                          "DistributionConfig": {"Enabled": true, "Aliases": ["a.example.com", "b.example.com"]}});
        let (replaced, _) = differences("AWS::CloudFront::Distribution", dist, &construct, &live);
        assert_eq!(replaced.len(), 1);
        assert!(replaced[0].contains("b.example.com"), "{replaced:?}");

        let function = crate::rules::registry::schema("AWS::Lambda::Function", "us-west-2");
        let construct = json!({"FunctionName": "f", "Runtime": "nodejs24.x", "MemorySize": 256,
                               "Code": {"S3Bucket": "b", "S3Key": "k"}});
        let live = json!({"FunctionName": "f", "Runtime": "nodejs18.x", "MemorySize": 256, "Arn": "arn", "Description": "old"});
        let (replaced, changes) = differences("AWS::Lambda::Function", function, &construct, &live);
        assert!(replaced.is_empty(), "{replaced:?}");
        assert_eq!(
            changes,
            [
                "Description: \"old\" -> (the service's default)",
                "Runtime: \"nodejs18.x\" -> \"nodejs24.x\"",
                "Code: the construct's package replaces the running code",
            ]
        );
        // what the import holds: live, without read-only properties, with Code said to be unknown
        let live = json!({"FunctionName": "f", "PackageType": "Zip", "Arn": "arn"});
        let (replaced, _) = differences("AWS::Lambda::Function", function, &construct, &live);
        assert!(replaced.is_empty(), "a create-only property the construct leaves out is not compared: {replaced:?}");
        let held = importable_properties("AWS::Lambda::Function", function, &live, &construct);
        assert!(held.get("Arn").is_none() && held.get("PackageType").is_none(), "{held}");
        assert!(held["Code"]["ZipFile"].as_str().unwrap().contains("not known"));
        let held = importable_properties(
            "AWS::MediaConnect::Flow",
            flow,
            &json!({"FlowArn": "a", "Source": {"Name": "s", "SourceArn": "x"}}),
            &json!({"Source": {"Name": "s"}}),
        );
        assert_eq!(held, json!({"Source": {"Name": "s"}}));
    }
}
