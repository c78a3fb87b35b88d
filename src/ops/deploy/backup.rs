//! The backup (P05), taken before the first write and read back by sha256: each existing
//! stack's template as deployed, parameters, outputs and tags; each function's code and
//! configuration; each file castform writes into a bucket; each adopted resource as it is, an
//! adopted function's code and configuration included. Stored in the state bucket and mirrored
//! under `.castform/backups/`.

use super::DeployError;
use crate::aws::Cloud;
use crate::state::StateStore;
use crate::template::{App, sha256_hex};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Item {
    /// Key relative to the backup's prefix.
    pub key: String,
    pub sha256: String,
    pub size: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StackBackup {
    pub name: String,
    pub stack_name: String,
    pub existed: bool,
    pub status: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// The template item, when the stack existed.
    pub template: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FunctionBackup {
    pub stack: String,
    pub logical_id: String,
    pub physical_id: String,
    pub code_sha256: String,
    pub code: String,
    pub configuration: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FileBackup {
    pub bucket: String,
    pub key: String,
    pub content_type: String,
    /// The item, when the object existed.
    pub item: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Backup {
    pub deployment: String,
    pub created: String,
    pub stacks: Vec<StackBackup>,
    pub functions: Vec<FunctionBackup>,
    pub files: Vec<FileBackup>,
    pub items: Vec<Item>,
    /// Each adopted resource as it was before the run: its live description and item count.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adopted: Vec<AdoptedBackup>,
    /// The key of this backup's digests of environment variable values (HMAC-SHA256, random per
    /// backup): held only by the process that took it, never written, so a digest cannot be
    /// matched by hashing guesses, and the same value has another digest in every backup (review
    /// S3-35). The run's own restore compares the live values with it; a backup read back has none.
    #[serde(skip)]
    pub digest_key: Vec<u8>,
}

/// An adopted resource as it was before the run: a table as DescribeTable answered (its
/// approximate `ItemCount` included: never a Scan, review S3-15); any other type as Cloud Control
/// read it; a function not yet in its stack also its code and configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdoptedBackup {
    /// `<stack>.<LogicalId>`
    pub resource: String,
    pub identifier: String,
    /// `AWS::Lambda::Function` ...
    #[serde(default)]
    pub resource_type: String,
    pub table: Option<crate::aws::TableInfo>,
    /// DescribeTable's `ItemCount`, which DynamoDB refreshes about every six hours
    pub items: Option<u64>,
    /// any other type as Cloud Control read it, environment variables' values left out
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<serde_json::Value>,
    /// Not yet in its stack when the backup was taken: this run imports it, and a restore of the
    /// run puts it back from this backup (review S3-02).
    #[serde(default)]
    pub outside: bool,
    /// The item holding `description`, a file to put the resource back from by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description_item: Option<String>,
    /// A function outside its stack: its running code and configuration, and the asset (the same
    /// zip, content-addressed in the assets bucket) its import names as its `Code`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub function: Option<AdoptedFunction>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdoptedFunction {
    pub backup: FunctionBackup,
    pub bucket: String,
    pub key: String,
}

impl Backup {
    pub fn stack(&self, name: &str) -> Option<&StackBackup> {
        self.stacks.iter().find(|s| s.name == name)
    }
    pub fn item(&self, key: &str) -> Option<&Item> {
        self.items.iter().find(|i| i.key == key)
    }
}

/// The files a deploy writes into buckets: (bucket output, key, content type).
pub fn written_files(app: &App, root: &std::path::Path) -> Vec<(crate::template::OutputRef, String, String)> {
    let mut out = vec![];
    for u in &app.uploads {
        for (key, _) in super::propagate::upload_files(root, &u.source).unwrap_or_default() {
            out.push((u.bucket.clone(), key.clone(), super::propagate::content_type(&key).to_string()));
        }
    }
    for f in &app.files {
        out.push((f.bucket.clone(), f.key.clone(), f.content_type.clone()));
    }
    out
}

struct Writer<'a, C: Cloud> {
    cloud: &'a C,
    state: &'a StateStore,
    id: &'a str,
    items: Vec<Item>,
    local: std::path::PathBuf,
    /// the key of the backup's digests
    key: Vec<u8>,
}

impl<C: Cloud> Writer<'_, C> {
    async fn put(&mut self, key: &str, body: Vec<u8>) -> Result<String, DeployError> {
        let full = format!("{}{key}", self.state.backup_prefix(self.id));
        let path = crate::state::local_path(&self.local, key).ok_or_else(|| {
            DeployError::Refused(format!(
                "backup item {key:?} is not a path under the backup folder; nothing was written"
            ))
        })?;
        crate::state::write_private(&path, &body)
            .map_err(|e| DeployError::Refused(format!("cannot write the local backup {}: {e}", path.display())))?;
        self.items.push(Item { key: key.to_string(), sha256: sha256_hex(&body), size: body.len() });
        self.cloud
            .put_object(&self.state.bucket, &full, body, "application/octet-stream", false)
            .await
            .map_err(|e| DeployError::Refused(format!("the backup could not be stored: {e}")))?;
        Ok(key.to_string())
    }
}

/// Takes the backup and verifies it; any failure refuses the deploy before its first write.
pub async fn take<C: Cloud>(
    cloud: &C,
    app: &App,
    state: &StateStore,
    id: &str,
    root: &std::path::Path,
) -> Result<Backup, DeployError> {
    let mut w = Writer { cloud, state, id, items: vec![], local: state.local_backup(id), key: digest_key()? };
    let mut stacks = vec![];
    let mut functions = vec![];
    for s in &app.stacks {
        stacks.push(stack(&mut w, s, &mut functions).await?);
    }
    let outputs: BTreeMap<String, BTreeMap<String, String>> =
        stacks.iter().filter(|s| s.existed).map(|s| (s.name.clone(), s.outputs.clone())).collect();
    let files = files(&mut w, app, root, &outputs).await?;
    let mut adopted = vec![];
    for a in &app.adopted {
        adopted.push(adopted_resource(&mut w, app, a).await?);
    }
    let backup = Backup {
        deployment: id.to_string(),
        created: crate::state::clock::now(),
        stacks,
        functions,
        files,
        items: w.items.clone(),
        adopted,
        digest_key: w.key.clone(),
    };
    let manifest = serde_json::to_vec_pretty(&backup).unwrap_or_default();
    crate::state::write_private(&state.local_backup(id).join("backup.json"), &manifest)
        .map_err(|e| DeployError::Refused(format!("cannot write the local backup: {e}")))?;
    cloud
        .put_object(
            &state.bucket,
            &format!("{}backup.json", state.backup_prefix(id)),
            manifest,
            "application/json",
            false,
        )
        .await
        .map_err(refuse)?;
    verify(cloud, state, id).await?;
    Ok(backup)
}

fn refuse(e: crate::aws::CloudError) -> DeployError {
    DeployError::Refused(format!("backup: {e}"))
}

/// One stack: its template, parameters, outputs and tags, and the code and configuration of
/// each of its functions (into `functions`); a stack not deployed is recorded as such.
async fn stack<C: Cloud>(
    w: &mut Writer<'_, C>,
    s: &crate::template::Stack,
    functions: &mut Vec<FunctionBackup>,
) -> Result<StackBackup, DeployError> {
    let rc = w.cloud.for_region(&s.region);
    // a stack that never ran a change set (REVIEW_IN_PROGRESS: no template, no resources,
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/using-cfn-describing-stacks.html)
    // has nothing to back up or restore; one that an operation still changes (an interrupted
    // run's, which CloudFormation finishes) is read once that has ended (SIM-02)
    let deployed = crate::ops::changeset::when_settled(&rc, &s.stack_name)
        .await
        .map_err(|e| DeployError::Refused(format!("backup: {e}")))?
        .filter(|i| i.status != "REVIEW_IN_PROGRESS");
    let Some(info) = deployed else {
        return Ok(StackBackup {
            name: s.name.clone(),
            stack_name: s.stack_name.clone(),
            existed: false,
            status: None,
            parameters: BTreeMap::new(),
            outputs: BTreeMap::new(),
            tags: BTreeMap::new(),
            template: None,
        });
    };
    let body = rc.get_template(&s.stack_name).await.map_err(refuse)?;
    let template = w.put(&format!("stacks/{}/template.json", s.name), body.into_bytes()).await?;
    for r in rc.list_stack_resources(&s.stack_name).await.map_err(refuse)? {
        if r.resource_type != "AWS::Lambda::Function" || r.physical_id.is_empty() {
            continue;
        }
        functions.push(function(w, &rc, &s.name, &r).await?);
    }
    Ok(StackBackup {
        name: s.name.clone(),
        stack_name: s.stack_name.clone(),
        existed: true,
        status: Some(info.status.clone()),
        parameters: info.parameters.clone(),
        outputs: info.outputs.clone(),
        tags: info.tags.clone(),
        template: Some(template),
    })
}

/// One function's running code (downloaded from Lambda) and its configuration, variables'
/// values left out.
async fn function<C: Cloud, R: Cloud>(
    w: &mut Writer<'_, C>,
    rc: &R,
    stack: &str,
    r: &crate::aws::StackResource,
) -> Result<FunctionBackup, DeployError> {
    Ok(function_with_code(w, rc, stack, r).await?.0)
}

/// [`function`], and the code's bytes.
async fn function_with_code<C: Cloud, R: Cloud>(
    w: &mut Writer<'_, C>,
    rc: &R,
    stack: &str,
    r: &crate::aws::StackResource,
) -> Result<(FunctionBackup, Vec<u8>), DeployError> {
    let f = rc.get_function(&r.physical_id).await.map_err(refuse)?;
    // GetFunction returns variables resolved (a secret among them): none reaches a message or log
    for (name, value) in f.configuration["Environment"].as_object().into_iter().flatten() {
        if crate::ui::redact::secret_name(name) {
            crate::ui::redact::register(value.as_str().unwrap_or_default());
        }
    }
    let (status, code) = rc.http_get(&f.code_location).await.map_err(refuse)?;
    if status != 200 {
        return Err(DeployError::Refused(format!(
            "backup: the code of function {} could not be downloaded (HTTP {status})",
            r.physical_id
        )));
    }
    let code_item = w.put(&format!("functions/{stack}/{}/code.zip", r.logical_id), code.clone()).await?;
    let conf = serde_json::to_vec_pretty(&without_values(&f.configuration, &w.key)).unwrap_or_default();
    let conf_item = w.put(&format!("functions/{stack}/{}/configuration.json", r.logical_id), conf).await?;
    let backup = FunctionBackup {
        stack: stack.to_string(),
        logical_id: r.logical_id.clone(),
        physical_id: r.physical_id.clone(),
        code_sha256: f.code_sha256.clone(),
        code: code_item,
        configuration: conf_item,
    };
    Ok((backup, code))
}

/// Every file a run may write, as it is now (or that it is absent), in the buckets the deployed
/// stacks' outputs name.
async fn files<C: Cloud>(
    w: &mut Writer<'_, C>,
    app: &App,
    root: &std::path::Path,
    outputs: &BTreeMap<String, BTreeMap<String, String>>,
) -> Result<Vec<FileBackup>, DeployError> {
    let mut files = vec![];
    for (bucket_ref, key, content_type) in written_files(app, root) {
        let Some(bucket) = outputs.get(&bucket_ref.stack).and_then(|o| o.get(&bucket_ref.output)).cloned() else {
            continue;
        };
        let item = match w.cloud.get_object(&bucket, &key).await.map_err(refuse)? {
            Some(body) => Some(w.put(&format!("files/{bucket}/{key}"), body).await?),
            None => None,
        };
        files.push(FileBackup { bucket, key, content_type, item });
    }
    Ok(files)
}

/// An adopted resource as it is: a table's description and approximate item count (DescribeTable's
/// `ItemCount`, no Scan: review S3-15); any other type's description through Cloud Control (a
/// function's variables' values never written). A function this run is to import (not yet in its
/// stack) is backed up whole, and its code stored as an asset its import names (review S3-02).
async fn adopted_resource<C: Cloud>(
    w: &mut Writer<'_, C>,
    app: &App,
    a: &crate::template::Adopted,
) -> Result<AdoptedBackup, DeployError> {
    let stack = app.stacks.iter().find(|s| s.name == a.stack);
    let region = stack.map_or(w.cloud.region().to_string(), |s| s.region.clone());
    let rc = w.cloud.for_region(&region);
    let resource = format!("{}.{}", a.stack, a.logical_id);
    let outside = match stack {
        Some(s) => !in_stack(&rc, &s.stack_name, &a.logical_id).await?,
        None => true,
    };
    let mut b = AdoptedBackup {
        resource,
        identifier: a.identifier.clone(),
        resource_type: a.resource_type.clone(),
        table: None,
        items: None,
        description: None,
        outside,
        description_item: None,
        function: None,
    };
    if a.resource_type == "AWS::DynamoDB::Table" {
        b.table = rc.describe_table(&a.identifier).await.map_err(refuse)?;
        b.items = b.table.as_ref().and_then(|t| t.item_count);
        return Ok(b);
    }
    let mut description = rc.get_resource(&a.resource_type, &a.identifier).await.map_err(refuse)?;
    if let Some(Value::Object(vars)) = description.as_mut().and_then(|d| d.pointer_mut("/Environment/Variables")) {
        // a function's variables may hold secrets: names kept, values never written
        vars.values_mut().for_each(|v| *v = Value::String("(not recorded)".into()));
    }
    if let Some(d) = &description {
        let body = serde_json::to_vec_pretty(d).unwrap_or_default();
        b.description_item =
            Some(w.put(&format!("adopted/{}/{}/description.json", a.stack, a.logical_id), body).await?);
    }
    b.description = description;
    if a.resource_type == "AWS::Lambda::Function" && outside {
        let r = crate::aws::StackResource {
            logical_id: a.logical_id.clone(),
            physical_id: a.identifier.clone(),
            resource_type: a.resource_type.clone(),
        };
        let (backup, code) = function_with_code(w, &rc, &a.stack, &r).await?;
        // the import names this zip as the function's Code, so a CloudFormation rollback to the
        // import's template puts back the code that ran, never a placeholder (review S3-02);
        // Lambda takes code only from a bucket in the function's region
        let (bucket, key) = (w.state.assets_bucket(&region), format!("assets/{}.zip", sha256_hex(&code)));
        if !rc.object_exists(&bucket, &key).await.map_err(refuse)? {
            rc.put_object(&bucket, &key, code, "application/zip", false).await.map_err(refuse)?;
        }
        b.function = Some(AdoptedFunction { backup, bucket, key });
    }
    Ok(b)
}

/// Whether the stack holds the logical id now.
async fn in_stack<R: Cloud>(rc: &R, stack_name: &str, logical_id: &str) -> Result<bool, DeployError> {
    let deployed =
        rc.describe_stack(stack_name).await.map_err(refuse)?.is_some_and(|i| i.status != "REVIEW_IN_PROGRESS");
    if !deployed {
        return Ok(false);
    }
    Ok(rc.list_stack_resources(stack_name).await.map_err(refuse)?.iter().any(|r| r.logical_id == logical_id))
}

/// Reads a stored backup back and checks every item's sha256.
pub async fn verify<C: Cloud>(cloud: &C, state: &StateStore, id: &str) -> Result<Backup, DeployError> {
    let prefix = state.backup_prefix(id);
    let refuse = |e: crate::aws::CloudError| DeployError::Refused(format!("backup {id}: {e}"));
    let manifest =
        cloud.get_object(&state.bucket, &format!("{prefix}backup.json")).await.map_err(refuse)?.ok_or_else(|| {
            DeployError::Refused(format!("backup {id} has no backup.json in s3://{}/{prefix}", state.bucket))
        })?;
    let backup: Backup = serde_json::from_slice(&manifest)
        .map_err(|e| DeployError::Refused(format!("backup {id}: backup.json is unreadable: {e}")))?;
    for item in &backup.items {
        let body = cloud
            .get_object(&state.bucket, &format!("{prefix}{}", item.key))
            .await
            .map_err(refuse)?
            .ok_or_else(|| DeployError::Refused(format!("backup {id}: {} is missing", item.key)))?;
        let sha = sha256_hex(&body);
        if sha != item.sha256 {
            return Err(DeployError::Refused(format!(
                "backup {id}: {} reads back with sha256 {sha}, expected {}; the backup is not trustworthy, nothing was changed",
                item.key, item.sha256
            )));
        }
    }
    Ok(backup)
}

/// A killed run's backup, for its recovery: `None` only where its manifest does not exist (the
/// run was killed before its backup was complete, so before it wrote anything); every item read
/// and checked as a restore reads it, from the state bucket or else from the local copy. Any other
/// failure is an error: never taken for "no backup" (review S3-08).
pub async fn of_killed_run<C: Cloud>(cloud: &C, state: &StateStore, id: &str) -> Result<Option<Backup>, String> {
    let key = format!("{}backup.json", state.backup_prefix(id));
    let Some(manifest) =
        cloud.get_object(&state.bucket, &key).await.map_err(|e| format!("reading s3://{}/{key}: {e}", state.bucket))?
    else {
        return Ok(None);
    };
    let backup: Backup =
        serde_json::from_slice(&manifest).map_err(|e| format!("backup {id}: backup.json is unreadable: {e}"))?;
    for item in &backup.items {
        read_item(cloud, state, &backup, &item.key).await?;
    }
    Ok(Some(backup))
}

/// One item of a backup, as its manifest recorded it: read from the state bucket, or from the
/// local copy where the bucket's is gone or altered, and only if its sha256 matches. A missing
/// or altered item is an error, never an empty file put back (code review).
pub async fn read_item<C: Cloud>(cloud: &C, state: &StateStore, backup: &Backup, key: &str) -> Result<Vec<u8>, String> {
    let id = &backup.deployment;
    let expected = backup
        .items
        .iter()
        .find(|i| i.key == key)
        .ok_or_else(|| format!("backup {id} has no item {key} in its manifest"))?;
    let full = format!("{}{key}", state.backup_prefix(id));
    let remote = cloud.get_object(&state.bucket, &full).await.map_err(|e| e.to_string())?;
    if let Some(body) = remote.filter(|b| sha256_hex(b) == expected.sha256) {
        return Ok(body);
    }
    let base = state.local_backup(id);
    let local = crate::state::local_path(&base, key).unwrap_or_else(|| base.join("_"));
    match std::fs::read(&local) {
        Ok(body) if sha256_hex(&body) == expected.sha256 => Ok(body),
        _ => Err(format!(
            "backup item {key} is missing or does not match its recorded sha256, in s3://{}/{full} and in {}",
            state.bucket,
            local.display()
        )),
    }
}

/// A function's configuration as a backup keeps it: environment variable values replaced by
/// their keyed digest ([`digest`]), as GetFunction returns values resolved (a
/// `{{resolve:secretsmanager:...}}` included) and the backup is also written to disk (code
/// review). The templates and parameters a restore uses hold the values' sources; the digests
/// say, to the run that holds the key, whether a value changed.
pub fn without_values(configuration: &serde_json::Value, key: &[u8]) -> serde_json::Value {
    let mut c = configuration.clone();
    if let Some(vars) = c.get_mut("Environment").and_then(|e| e.as_object_mut()) {
        for v in vars.values_mut() {
            *v = serde_json::Value::String(digest(key, &value_text(v)));
        }
    }
    c
}

/// A variable's value as text (Lambda's values are strings).
pub fn value_text(v: &Value) -> String {
    v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string())
}

/// `hmac-sha256:<hex>` of a value under a backup's key: without the key, which is never written,
/// a digest of a short value cannot be found by hashing candidates (review S3-35).
pub fn digest(key: &[u8], value: &str) -> String {
    let tag = ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key), value.as_bytes());
    let hex: String = tag.as_ref().iter().map(|b| format!("{b:02x}")).collect();
    format!("hmac-sha256:{hex}")
}

/// A fresh random key for one backup's digests, from the operating system's generator.
fn digest_key() -> Result<Vec<u8>, DeployError> {
    use ring::rand::SecureRandom;
    let mut key = vec![0u8; 32];
    ring::rand::SystemRandom::new()
        .fill(&mut key)
        .map_err(|_| DeployError::Refused("backup: the system's random generator failed".into()))?;
    Ok(key)
}

/// Stores a deployment's templates and rendered files under `<app>/<env>/deployments/<id>/`.
pub async fn snapshot<C: Cloud>(
    cloud: &C,
    state: &StateStore,
    id: &str,
    bodies: &[(String, String)],
    files: &[super::propagate::Rendered],
) -> Result<(), crate::aws::CloudError> {
    for (name, body) in bodies {
        let key = state.snapshot_key(id, &format!("stacks/{name}.template.json"));
        put_confirmed(cloud, &state.bucket, &key, body.clone().into_bytes(), "application/json").await?;
    }
    for f in files {
        let key = state.snapshot_key(id, &format!("files/{}/{}", f.bucket, f.key));
        put_confirmed(cloud, &state.bucket, &key, f.body.clone(), &f.content_type).await?;
    }
    Ok(())
}

/// A PUT whose error may hide a write that landed (a timeout or a 500 after S3 committed, once the
/// SDK's retries are spent): the object is read back, and the same bytes there are success. A good
/// deployment is then not rolled back for an answer lost on the way (review S3-39, found again by
/// the simulation's lost-answer fault).
pub(crate) async fn put_confirmed<C: Cloud>(
    cloud: &C,
    bucket: &str,
    key: &str,
    body: Vec<u8>,
    content_type: &str,
) -> Result<(), crate::aws::CloudError> {
    match cloud.put_object(bucket, key, body.clone(), content_type, false).await {
        Ok(()) => Ok(()),
        Err(e) => match cloud.get_object(bucket, key).await {
            Ok(Some(stored)) if stored == body => Ok(()),
            _ => Err(e),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_backed_up_configuration_keeps_variable_names_and_keyed_digests_not_values() {
        let conf = serde_json::json!({"MemorySize": 256, "Environment": {"DB_PASSWORD": "hunter2", "TABLE": "t"}});
        let key = digest_key().unwrap();
        let kept = without_values(&conf, &key);
        let text = kept.to_string();
        assert!(!text.contains("hunter2"), "{text}");
        assert_eq!(kept["MemorySize"], 256);
        assert_eq!(kept["Environment"]["TABLE"], digest(&key, "t"), "the run holding the key can compare");
    }

    /// review S3-35: an unsalted sha256 of a PIN is found by hashing the 10,000 candidates; a
    /// digest under a per-backup key that is never written is not, and two backups of the same
    /// value differ.
    #[test]
    fn a_short_value_cannot_be_found_from_its_digest_and_two_backups_digest_it_differently() {
        let conf = serde_json::json!({"Environment": {"PIN": "4821"}});
        let (k1, k2) = (digest_key().unwrap(), digest_key().unwrap());
        let (d1, d2) = (without_values(&conf, &k1), without_values(&conf, &k2));
        let written = d1["Environment"]["PIN"].as_str().unwrap().to_string();
        assert_ne!(written, d2["Environment"]["PIN"].as_str().unwrap(), "the same value, two backups");
        let found = (0..10_000).map(|n| format!("{n:04}")).find(|pin| {
            written == format!("sha256:{}", sha256_hex(pin.as_bytes()))
                || written == sha256_hex(pin.as_bytes())
                || written == digest(&[], pin)
        });
        assert_eq!(found, None, "{written}");
        assert!(
            !serde_json::to_string(&Backup {
                deployment: "d".into(),
                created: "c".into(),
                stacks: vec![],
                functions: vec![],
                files: vec![],
                items: vec![],
                adopted: vec![],
                digest_key: k1.clone(),
            })
            .unwrap()
            .contains("digest_key"),
            "the key is never written"
        );
    }
}
