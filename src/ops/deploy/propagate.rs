//! Output propagation (D02): every file an output feeds is rendered from the new outputs and
//! checked (no placeholder, no old URL) before any is written; then the configuration files,
//! then the site, then the CDN invalidation (D01).

use super::{Run, lock_journal};
use crate::aws::Cloud;
use crate::render::render_file;
use crate::rules::{credentials_in, placeholder_in};
use crate::state::ledger::Record;
use crate::template::{App, FileValue, OutputRef, OutputRole};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub type Outputs = BTreeMap<String, BTreeMap<String, String>>;

/// A file ready to write.
#[derive(Debug, Clone, PartialEq)]
pub struct Rendered {
    pub bucket: String,
    pub key: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PropagateError(pub String);

/// Files under `root/source`, as (key relative to the folder, path), sorted.
pub fn upload_files(root: &Path, source: &str) -> std::io::Result<Vec<(String, PathBuf)>> {
    // regular files only, as the asset zipper reads a folder: a symbolic link in the site folder
    // (to ~/.aws/credentials, a .env) is never published (review S3-36)
    crate::template::folder_files(&root.join(source))
}

pub fn content_type(key: &str) -> &'static str {
    match key.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "application/javascript",
        "css" => "text/css",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "m3u8" => "application/vnd.apple.mpegurl",
        _ => "application/octet-stream",
    }
}

fn output<'a>(outputs: &'a Outputs, stack: &str, name: &str) -> Option<&'a String> {
    outputs.get(stack).and_then(|o| o.get(name))
}

fn required<'a>(
    outputs: &'a Outputs,
    o: &crate::template::OutputRef,
    name: &str,
    key: &str,
) -> Result<&'a String, PropagateError> {
    output(outputs, &o.stack, &o.output).filter(|v| !v.is_empty()).ok_or_else(|| {
        PropagateError(format!(
            "{key}: `{name}` comes from output {} of stack {}, which is missing or empty",
            o.output, o.stack
        ))
    })
}

/// Renders every file the app writes from `outputs`; checks each before anything is written.
/// `previous` holds the outputs before this deploy: a changed URL must not survive in a file.
pub fn render_all(
    app: &App,
    root: &Path,
    outputs: &Outputs,
    previous: &Outputs,
    deployment: &str,
) -> Result<Vec<Rendered>, PropagateError> {
    let mut rendered = vec![];
    for f in &app.files {
        let bucket = output(outputs, &f.bucket.stack, &f.bucket.output).ok_or_else(|| {
            PropagateError(format!(
                "{}: stack {} has no output {} to write it into",
                f.key, f.bucket.stack, f.bucket.output
            ))
        })?;
        let mut values = Map::new();
        let mut old_values = vec![];
        for (name, v) in &f.values {
            let value = match v {
                FileValue::Literal(l) => l.clone(),
                FileValue::DeploymentId => deployment.to_string(),
                FileValue::Output(o) => {
                    let now = required(outputs, o, name, &f.key)?;
                    if let Some(old) =
                        output(previous, &o.stack, &o.output).filter(|old| !old.is_empty() && *old != now)
                    {
                        old_values.push((name.clone(), old.clone()));
                    }
                    now.clone()
                }
                FileValue::Rebased { base, path_of } => {
                    let origin = required(outputs, base, name, &f.key)?;
                    let url = required(outputs, path_of, name, &f.key)?;
                    let path = url.split("://").nth(1).and_then(|r| r.find('/').map(|i| r[i..].to_string()));
                    format!("{}{}", origin.trim_end_matches('/'), path.unwrap_or_default())
                }
            };
            values.insert(name.clone(), Value::String(value));
        }
        let text = render_file(root, &f.template, &Value::Object(values)).map_err(|e| PropagateError(e.to_string()))?;
        if let Some(c) = credentials_in(&text) {
            return Err(PropagateError(format!(
                "{} would carry AWS credentials ({c}) after rendering {}; a frontend file never holds them (rule L15)",
                f.key, f.template
            )));
        }
        if let Some(p) = placeholder_in(&text) {
            return Err(PropagateError(format!(
                "{} still holds the placeholder {p:?} after rendering {}",
                f.key, f.template
            )));
        }
        for (name, old) in old_values {
            if text.contains(&old) {
                return Err(PropagateError(format!("{} still holds the old {name} {old}", f.key)));
            }
        }
        rendered.push(Rendered {
            bucket: bucket.clone(),
            key: f.key.clone(),
            content_type: f.content_type.clone(),
            body: text.into_bytes(),
        });
    }
    Ok(rendered)
}

/// The site's files, read from disk.
pub fn site_files(app: &App, root: &Path, outputs: &Outputs) -> Result<Vec<Rendered>, PropagateError> {
    let mut out = vec![];
    for u in &app.uploads {
        let bucket = output(outputs, &u.bucket.stack, &u.bucket.output).ok_or_else(|| {
            PropagateError(format!(
                "upload of {}: stack {} has no output {}",
                u.source, u.bucket.stack, u.bucket.output
            ))
        })?;
        let files =
            upload_files(root, &u.source).map_err(|e| PropagateError(format!("cannot read {}: {e}", u.source)))?;
        for (key, path) in files {
            let body =
                std::fs::read(&path).map_err(|e| PropagateError(format!("cannot read {}: {e}", path.display())))?;
            out.push(Rendered { bucket: bucket.clone(), content_type: content_type(&key).into(), key, body });
        }
    }
    Ok(out)
}

/// S3's answers to a PutObject it did not carry out ("Error responses",
/// <https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html>): client errors about the
/// request itself, as opposed to a 5xx, a timeout or a lost answer after which it may have landed.
const REFUSED: &[&str] =
    &["AccessDenied", "NoSuchBucket", "InvalidBucketName", "InvalidArgument", "EntityTooLarge", "InvalidRequest"];

/// Writes the files in order; returns the keys written.
pub async fn write<C: Cloud>(
    cloud: &C,
    files: &[Rendered],
    journal: &std::sync::Mutex<super::Journal>,
) -> Result<Vec<String>, PropagateError> {
    let mut written = vec![];
    for f in files {
        // recorded before the PUT: one whose answer is lost (a timeout, a 500, Ctrl-C) may have
        // landed all the same, and putting back an unchanged file is harmless (review S3-09)
        super::lock_journal(journal).written.push((f.bucket.clone(), f.key.clone()));
        if let Err(e) = cloud.put_object(&f.bucket, &f.key, f.body.clone(), &f.content_type, false).await {
            // S3 refused it: this attempt did not land, but an earlier attempt of the SDK's retries
            // may have (a 500 after S3 committed, then AccessDenied as credentials expired): only
            // if the bucket does not hold our bytes is there nothing of it to put back (second
            // review)
            if e.code().is_some_and(|c| REFUSED.contains(&c))
                && !matches!(cloud.get_object(&f.bucket, &f.key).await, Ok(Some(b)) if b == f.body)
            {
                super::lock_journal(journal).written.pop();
            }
            return Err(PropagateError(format!("writing {}: {e}", f.key)));
        }
        written.push(format!("s3://{}/{}", f.bucket, f.key));
    }
    Ok(written)
}

/// The values of the app's outputs that hold `role`s the predicate accepts, in stack order
/// (outputs a deployment did not record are left out).
pub fn values_with(app: &App, outputs: &Outputs, accept: impl Fn(&OutputRole) -> bool) -> Vec<(OutputRef, String)> {
    app.outputs_with(accept)
        .into_iter()
        .filter_map(|(o, _)| outputs.get(&o.stack).and_then(|s| s.get(&o.output)).cloned().map(|v| (o, v)))
        .collect()
}

/// The ids of the distributions the app declares ([`OutputRole::Distribution`]).
pub fn distributions(app: &App, outputs: &Outputs) -> Vec<String> {
    values_with(app, outputs, |r| *r == OutputRole::Distribution).into_iter().map(|(_, v)| v).collect()
}

/// The writing half of the propagate step of every run: each group of files in order
/// (configuration first, then the frontend: D01), then an invalidation of every distribution
/// serving them.
pub(crate) async fn write_files<C: Cloud>(
    run: &Run<'_, C>,
    outputs: &Outputs,
    groups: &[&[Rendered]],
    record: &mut Record,
) -> Result<(), String> {
    let (cloud, _, _, _, journal, progress) = run.parts();
    lock_journal(journal).files_written = true;
    let mut written = vec![];
    for files in groups {
        written.extend(write(cloud, files, journal).await.map_err(|e| e.to_string())?);
    }
    if groups.iter().any(|g| !g.is_empty()) {
        for d in distributions(run.app, outputs) {
            cloud.invalidate(&d, &["/*"]).await.map_err(|e| format!("invalidating {d}: {e}"))?;
            progress.info(&format!("CloudFront {d}: invalidated /* (Completed)"));
        }
    }
    record.files = written;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{OutputRef, RenderedFile};

    /// Review S3-36: a symbolic link in the site folder (to credentials, a .env) is never
    /// published; the files beside it are.
    #[cfg(unix)]
    #[test]
    fn site_uploads_skip_symbolic_links() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("site/js")).unwrap();
        std::fs::write(dir.path().join("site/index.html"), "<html>").unwrap();
        std::fs::write(dir.path().join("site/js/app.js"), "1").unwrap();
        std::fs::write(dir.path().join("secret"), "aws_secret_access_key=x").unwrap();
        std::os::unix::fs::symlink(dir.path().join("secret"), dir.path().join("site/credentials")).unwrap();
        let keys: Vec<String> = upload_files(dir.path(), "site").unwrap().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, ["index.html", "js/app.js"]);
    }

    /// Seed 003 wrote AWS keys into the frontend's env file; castform refuses such a file.
    #[test]
    fn seed_003_aws_keys_in_the_frontend_env_file_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("templates")).unwrap();
        std::fs::write(
            dir.path().join("templates/env.hbs"),
            "NEXT_PUBLIC_COGNITO_USER_POOL_ID={{pool}}\nAWS_ACCESS_KEY_ID={{key}}\nAWS_SECRET_ACCESS_KEY={{secret}}\n",
        )
        .unwrap();
        let mut app = App::new("frontend", "local", vec![]).unwrap();
        app.files = vec![RenderedFile {
            template: "templates/env.hbs".into(),
            bucket: OutputRef { stack: "web".into(), output: "SiteBucketName".into() },
            key: ".env.production".into(),
            content_type: "text/plain".into(),
            values: vec![
                ("pool".into(), FileValue::Literal("us-east-1_abc".into())),
                ("key".into(), FileValue::Literal("AKIAIOSFODNN7EXAMPL1".into())),
                ("secret".into(), FileValue::Literal("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY".into())),
            ],
        }];
        let outputs: Outputs =
            [("web".to_string(), [("SiteBucketName".to_string(), "b".to_string())].into_iter().collect())]
                .into_iter()
                .collect();
        let e = render_all(&app, dir.path(), &outputs, &Outputs::new(), "d").unwrap_err();
        assert!(e.to_string().contains(".env.production would carry AWS credentials"), "{e}");
        assert!(e.to_string().contains("rule L15"));
        assert_eq!(credentials_in("AWS_SECRET_ACCESS_KEY=x"), Some("AWS_SECRET_ACCESS_KEY".into()));
        assert_eq!(credentials_in("AWS_SECRET_ACCESS_KEY="), None, "an empty assignment holds nothing");
        assert_eq!(credentials_in("NEXT_PUBLIC_AWS_REGION=us-east-1"), None);
    }
}
