//! Adopted and retained resources around a failed run. An adopted resource the run imported is
//! put back from the backup once the stacks are restored (a function's code and configuration), or
//! named with what to do by hand; never said to be restored when it is not (review S3-02). A
//! resource the run created that its `DeletionPolicy` keeps outlives the restore: the restore names
//! it, the ledger keeps it, and the next deploy refuses, before any write, to create one whose
//! name it holds, offering its adoption (review S3-20).

use super::*;
use crate::state::ledger::Leftover;
use serde_json::Value;

/// What a function's configuration holds that a restore puts back (besides its variables).
const SETTINGS: &[&str] = &["Role", "Handler", "Runtime", "MemorySize", "Timeout", "Description"];

/// Every adopted resource this run imported into a stack it touched, put back from the backup, or
/// said (into `errors`) to be not; after the stacks, which release it (`Retain`).
pub(super) async fn put_back<C: Cloud>(
    run: &Run<'_, C>,
    backup: &Backup,
    touched: &[String],
    restored: &mut Vec<String>,
    errors: &mut Vec<String>,
) {
    let (cloud, _, app, state, _, progress) = run.parts();
    for b in backup.adopted.iter().filter(|b| b.outside && b.table.is_none()) {
        let stack = b.resource.split('.').next().unwrap_or_default();
        if !touched.iter().any(|t| t == stack) {
            continue;
        }
        let region = app.stacks.iter().find(|s| s.name == stack).map_or(cloud.region(), |s| s.region.as_str());
        let rc = cloud.for_region(region);
        let said = match &b.function {
            Some(f) => function_back(&rc, state, backup, b, f).await,
            None => compare(&rc, region, b, &state.local_backup(&backup.deployment)).await,
        };
        match said {
            Ok(line) => restored.push(line),
            Err(e) => {
                progress.warn(&e);
                errors.push(e);
            }
        }
    }
}

/// An adopted function put back: the zip it ran (from the assets bucket, where the backup stored
/// it), its settings, and each variable whose live value still has the digest the backup took
/// (only the run holding the backup's key can tell; a backup keeps no values), then read back.
async fn function_back<R: Cloud>(
    rc: &R,
    state: &StateStore,
    backup: &Backup,
    b: &backup::AdoptedBackup,
    f: &backup::AdoptedFunction,
) -> Result<String, String> {
    let name = &b.identifier;
    let what = format!("function {name} (adopted {})", b.resource);
    let failed = |e: String| format!("{what} was not put back: {e}");
    let conf: Value =
        serde_json::from_slice(&backup::read_item(rc, state, backup, &f.backup.configuration).await.map_err(failed)?)
            .map_err(|e| failed(e.to_string()))?;
    let architectures: Vec<String> = conf["Architectures"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    rc.update_function_code(name, &f.bucket, &f.key, &architectures).await.map_err(|e| failed(e.to_string()))?;
    let mut put = serde_json::json!({});
    for k in SETTINGS {
        if let Some(v) = conf.get(*k).filter(|v| !v.is_null()) {
            put[*k] = v.clone();
        }
    }
    if let Some(g) = conf.pointer("/LoggingConfig/LogGroup").filter(|v| !v.is_null()) {
        put["LoggingConfig"] = serde_json::json!({"LogGroup": g});
    }
    let before: Vec<(String, String)> = conf["Environment"]
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let live = rc.get_function(name).await.map_err(|e| failed(e.to_string()))?;
    let mut lost = vec![];
    if !backup.digest_key.is_empty() {
        let mut vars = serde_json::Map::new();
        for (k, digest) in &before {
            match live.configuration["Environment"].get(k) {
                Some(v) if backup::digest(&backup.digest_key, &backup::value_text(v)) == *digest => {
                    vars.insert(k.clone(), v.clone());
                }
                _ => lost.push(k.clone()),
            }
        }
        put["Environment"] = Value::Object(vars);
    }
    rc.update_function_configuration(name, &put).await.map_err(|e| failed(e.to_string()))?;
    // what Lambda reports now, against the backup
    let now = rc.get_function(name).await.map_err(|e| failed(e.to_string()))?;
    let mut differs: Vec<String> = SETTINGS
        .iter()
        .filter(|k| !put[**k].is_null() && now.configuration[**k] != put[**k])
        .map(|k| k.to_string())
        .collect();
    if now.code_sha256 != f.backup.code_sha256 {
        differs.insert(0, format!("code (sha256 {}, the backup's {})", now.code_sha256, f.backup.code_sha256));
    }
    if !differs.is_empty() {
        return Err(failed(format!("Lambda reports {} unlike the backup", differs.join(", "))));
    }
    let names: Vec<&str> = before.iter().map(|(k, _)| k.as_str()).collect();
    if !lost.is_empty() {
        return Err(format!(
            "{what}: its code and configuration before the run were put back, but not its environment variables {}: this run changed them, and a backup keeps no values\nhelp: set them again with `aws lambda update-function-configuration --function-name {name} --environment 'Variables={{...}}'`, listing every variable ({}), as it replaces them all",
            lost.join(", "),
            names.join(", ")
        ));
    }
    if backup.digest_key.is_empty() && !names.is_empty() {
        return Ok(format!(
            "{what}: its code and configuration before the run; its environment variables ({}) were left as they are, unchecked (only the run that took the backup can compare them): check them by hand",
            names.join(", ")
        ));
    }
    Ok(format!("{what}: its code and configuration before the run"))
}

/// Any other adopted type: castform does not write it back by itself. Read through Cloud Control
/// and compared with the backup: as before (the run's update never reached it), or named with the
/// properties that differ and the file to put them back from by hand.
async fn compare<R: Cloud>(
    rc: &R,
    region: &str,
    b: &backup::AdoptedBackup,
    local: &std::path::Path,
) -> Result<String, String> {
    let what = format!("{} {} (adopted {})", b.resource_type, b.identifier, b.resource);
    let now = rc.get_resource(&b.resource_type, &b.identifier).await.map_err(|e| format!("{what}: {e}"))?;
    let schema = crate::rules::registry::schema(&b.resource_type, region);
    let read_only: Vec<&str> = schema
        .and_then(|s| s.get("readOnlyProperties"))
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let (before, now) = (b.description.clone().unwrap_or(Value::Null), now.unwrap_or(Value::Null));
    let mut keys: Vec<&String> = before.as_object().into_iter().chain(now.as_object()).flat_map(|m| m.keys()).collect();
    keys.sort();
    keys.dedup();
    let differs: Vec<&str> = keys
        .into_iter()
        .filter(|k| !read_only.contains(&format!("/properties/{k}").as_str()))
        .filter(|k| !crate::ops::adopt::same(before.get(k.as_str()), now.get(k.as_str())))
        .map(String::as_str)
        .collect();
    if differs.is_empty() {
        return Ok(format!("{what}: as before the run"));
    }
    let file = b.description_item.as_ref().map_or(local.join("backup.json"), |i| local.join(i));
    Err(format!(
        "{what} was not put back: it keeps what this run made it ({} differ); castform puts back only an adopted function by itself\nhelp: its properties before the run are in {} (CloudFormation's shape, as Cloud Control reads it); set those again by hand, e.g. with `aws cloudcontrol update-resource --type-name {} --identifier {} --patch-document ...`",
        differs.join(", "),
        file.display(),
        b.resource_type,
        b.identifier
    ))
}

/// The name a resource of the template has, for the types that are named by it and whose name a
/// leftover would hold: a table's `TableName`, a bucket's `BucketName`, when written out.
fn fixed_name(resource: &Value) -> Option<(&str, String)> {
    let key = match resource["Type"].as_str()? {
        "AWS::DynamoDB::Table" => "TableName",
        "AWS::S3::Bucket" => "BucketName",
        _ => return None,
    };
    Some((resource["Type"].as_str()?, resource["Properties"][key].as_str()?.to_string()))
}

/// Whether the named resource exists.
async fn exists<R: Cloud>(rc: &R, type_name: &str, name: &str) -> Result<bool, String> {
    match type_name {
        "AWS::DynamoDB::Table" => rc.describe_table(name).await.map(|t| t.is_some()).map_err(|e| e.to_string()),
        _ => rc.bucket_exists(name).await.map_err(|e| e.to_string()),
    }
}

/// The resources of the app's stack that a `DeletionPolicy` keeps, with fixed names, not adopted:
/// `(logical id, type, name)`.
fn retained_named(app: &App, s: &crate::template::Stack) -> Vec<(String, String, String)> {
    let t = s.template.to_value();
    t["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["DeletionPolicy"].as_str().is_some_and(|p| p.starts_with("Retain")))
        .filter(|(id, _)| !app.adopted.iter().any(|a| a.stack == s.name && a.logical_id == **id))
        .filter_map(|(id, r)| fixed_name(r).map(|(ty, name)| (id.clone(), ty.to_string(), name)))
        .collect()
}

/// After a stack's restore: what this run created in it that is kept although the stack no longer
/// holds it (not in the backup's template; `before` is that template, none for a new stack).
pub(super) async fn left_behind<C: Cloud>(
    run: &Run<'_, C>,
    s: &crate::template::Stack,
    before: Option<&str>,
) -> Vec<Leftover> {
    let (cloud, _, app, _, _, _) = run.parts();
    let rc = cloud.for_region(&s.region);
    let before: Value = before.and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
    let mut out = vec![];
    for (id, ty, name) in retained_named(app, s) {
        if before["Resources"].get(&id).is_some() {
            continue;
        }
        if exists(&rc, &ty, &name).await.unwrap_or(true) {
            out.push(Leftover { resource: format!("{}.{id}", s.name), resource_type: ty, name });
        }
    }
    out
}

/// Before any write of a deploy: a resource the app would create whose name a resource outside
/// its stack already holds (most often what an earlier restore left, as the ledger says) is
/// refused with its adoption offered, or its deletion by hand where nothing in it is needed.
/// castform deletes nothing here: it cannot know the resource holds nothing anyone needs.
pub(super) async fn in_the_way<C: Cloud>(run: &Run<'_, C>) -> Result<(), DeployError> {
    let (cloud, env, app, state, _, _) = run.parts();
    let refuse = |e: String| DeployError::Refused(format!("reading what a deploy would create: {e}"));
    let mut found = vec![];
    for s in &app.stacks {
        let candidates = retained_named(app, s);
        if candidates.is_empty() {
            continue;
        }
        let rc = cloud.for_region(&s.region);
        let deployed = rc.describe_stack(&s.stack_name).await.map_err(|e| refuse(e.to_string()))?.is_some();
        let held: Vec<String> = if deployed {
            rc.list_stack_resources(&s.stack_name)
                .await
                .map_err(|e| refuse(e.to_string()))?
                .into_iter()
                .map(|r| r.logical_id)
                .collect()
        } else {
            vec![]
        };
        for (id, ty, name) in candidates.into_iter().filter(|(id, _, _)| !held.contains(id)) {
            if exists(&rc, &ty, &name).await.map_err(refuse)? {
                found.push((format!("{}.{id}", s.name), ty, name, s.stack_name.clone()));
            }
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    let records = ledger::list(cloud, state).await.unwrap_or_default();
    let mut lines = vec![];
    for (resource, ty, name, stack_name) in &found {
        let by = records.iter().rev().find(|r| r.leftovers.iter().any(|l| l.name == *name && l.resource_type == *ty));
        let origin = by.map_or(String::new(), |r| format!(", left in place by the restore of deployment {}", r.id));
        lines.push(format!("{resource} ({ty} {name}) already exists outside stack {stack_name}{origin}"));
    }
    let adopt: Vec<String> = found.iter().map(|(r, _, n, _)| format!("    {r}: {n}")).collect();
    let delete: Vec<String> = found
        .iter()
        .map(|(_, ty, n, _)| match ty.as_str() {
            "AWS::DynamoDB::Table" => format!(
                "    aws dynamodb update-table --table-name {n} --no-deletion-protection-enabled && aws dynamodb delete-table --table-name {n}"
            ),
            _ => format!("    aws s3 rb s3://{n} --force"),
        })
        .collect();
    Err(DeployError::Refused(format!(
        "{}\nthe deploy would create them, and CloudFormation would fail (AlreadyExists); nothing in the environment was changed\nhelp: take them in as they are, with their data, by adding to {}:\n  adopt:\n{}\nhelp: or, only where nothing in them is needed, delete them by hand:\n{}",
        lines.join("\n"),
        env.file,
        adopt.join("\n"),
        delete.join("\n")
    )))
}
