//! What a deploy does with `adopt:`: each adopted resource read (a table directly, any other
//! type through Cloud Control) and compared with its construct before anything is written, then
//! imported through an `IMPORT` change set.

use super::*;

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
/// writeOnlyProperties): a placeholder that says so, which a deploy replaces with the function's
/// own code before it imports ([`name_code`]: a CloudFormation rollback to the import's template
/// must never put the placeholder into the function, review S3-02); what `adopt --discover` and
/// `diff` show keeps it. Either way the change set after the import sends the construct's code.
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
    // a function's variables may hold secrets: an import needs none of them (the deploy's update
    // that follows sets the construct's), and a template is readable by anyone with GetTemplate
    // and is copied into every backup (review S3-16)
    if type_name == "AWS::Lambda::Function"
        && let Some(p) = props.as_object_mut()
    {
        p.remove("Environment");
    }
    if type_name == "AWS::Lambda::Function" && props.get("Code").is_none() {
        props["Code"] = serde_json::json!({"ZipFile": "// adopted by castform: the code that ran before is not known to the template"});
    }
    props
}

/// Names the zip an adopted function runs (stored by the deploy's backup in the assets bucket) as
/// its `Code` in the import: the import changes nothing, and a CloudFormation rollback of the
/// update after it puts that code back, not the placeholder (review S3-02).
pub fn name_code(p: &mut Pending, bucket: &str, key: &str) {
    p.resource["Properties"]["Code"] = serde_json::json!({"S3Bucket": bucket, "S3Key": key});
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
pub fn same(a: Option<&Value>, b: Option<&Value>) -> bool {
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
/// The import request of one stack. Into a stack that exists, its parameters and tags are passed
/// as they are: a template whose parameters have no default cannot be changed without their
/// values, and an import changes nothing else (review S3-24).
pub fn import_request(
    stack_name: &str,
    body: String,
    resources: &[&Pending],
    existing: Option<&crate::aws::StackInfo>,
) -> crate::aws::ChangeSetRequest {
    let create = existing.is_none_or(|s| s.status == "REVIEW_IN_PROGRESS");
    let (parameters, tags) = match existing.filter(|_| !create) {
        Some(s) => (s.parameters.clone(), s.tags.clone()),
        None => Default::default(),
    };
    crate::aws::ChangeSetRequest {
        stack: stack_name.to_string(),
        name: format!("castform-import-{}", crate::state::clock::new_id()),
        template_body: body,
        template_url: None,
        parameters,
        tags,
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
    let req = crate::aws::ChangeSetRequest { role_arn, ..import_request(stack_name, body, pending, existing.as_ref()) };
    match crate::ops::changeset::run_change_set(cloud, &req).await? {
        s if s == "IMPORT_COMPLETE" => Ok(()),
        s => Err(format!("{stack_name}: the import ended {s}")),
    }
}
