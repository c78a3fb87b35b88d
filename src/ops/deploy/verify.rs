//! Verification (V01): each API's health route answers 200 (with retries and backoff; a 403 is a
//! failed deploy at once, seed 000 issue 2), and the site serves the rendered config naming the
//! current URLs.

use super::propagate::{Outputs, Rendered};
use super::{Run, step};
use crate::aws::Cloud;
use crate::state::ledger::CheckResult;
use crate::state::ledger::Record;
use crate::template::App;
use crate::ui::progress::Progress;
use std::time::Duration;

/// Waits between attempts of a health check.
pub const BACKOFF_MS: &[u64] = &[0, 500, 1000, 2000, 4000, 8000];

pub async fn health<C: Cloud>(cloud: &C, app: &App, outputs: &Outputs, progress: &Progress) -> Vec<CheckResult> {
    let mut results = vec![];
    for (o, path) in &app.health_checks {
        let Some(base) = outputs.get(&o.stack).and_then(|x| x.get(&o.output)) else {
            results.push(CheckResult {
                name: format!("health {path}"),
                ok: false,
                detail: format!("output {} of stack {} is missing", o.output, o.stack),
            });
            continue;
        };
        let url = format!("{}{}", base.trim_end_matches('/'), path);
        let signed = signing_of(app, o);
        let mut last = String::new();
        let mut ok = false;
        for (attempt, wait) in BACKOFF_MS.iter().enumerate() {
            tokio::time::sleep(Duration::from_millis(*wait)).await;
            let answer = match &signed {
                Some(region) => cloud.http_get_signed(&url, "lambda", region).await,
                None => cloud.http_get(&url).await,
            };
            match answer {
                Ok((200, body)) => {
                    ok = true;
                    // the status and a digest, not the body: it is the function's to say what
                    // it returns, and the ledger and CI logs are not the place (code review)
                    last = format!(
                        "200 after {} attempt(s), body sha256 {} ({} bytes)",
                        attempt + 1,
                        &crate::template::sha256_hex(&body)[..16],
                        body.len()
                    );
                    break;
                }
                Ok((403, _)) if signed.is_some() => {
                    last = "403 Forbidden to a signed request: the credentials in use may not invoke the Function URL (lambda:InvokeFunctionUrl), or the signature was refused".into();
                    break;
                }
                Ok((403, _)) => {
                    last = "403 Forbidden: the Function URL's resource-based permissions are missing (seed 000 issue 2, rule L01)".into();
                    break;
                }
                Ok((status, body)) => {
                    last = format!(
                        "HTTP {status}, body sha256 {} ({} bytes)",
                        &crate::template::sha256_hex(&body)[..16],
                        body.len()
                    )
                }
                Err(e) => last = e.to_string(),
            }
        }
        progress.info(&format!("health {url}: {}", if ok { "ok" } else { "FAILED" }));
        results.push(CheckResult { name: format!("health {url}"), ok, detail: last });
    }
    results
}

/// The region to sign a health check in, when its URL is a Function URL with AuthType AWS_IAM
/// (the output is the `FunctionUrl` of an `AWS::Lambda::Url` that says so): such a URL answers
/// only SigV4-signed requests (<https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html>).
pub fn signing_of(app: &App, o: &crate::template::OutputRef) -> Option<String> {
    let stack = app.stacks.iter().find(|s| s.name == o.stack)?;
    let template = stack.template.to_value();
    let value = &template["Outputs"][&o.output]["Value"]["Fn::GetAtt"];
    let logical = value.get(0)?.as_str()?;
    let resource = &template["Resources"][logical];
    (resource["Type"] == "AWS::Lambda::Url" && resource["Properties"]["AuthType"] == "AWS_IAM")
        .then(|| stack.region.clone())
}

/// The site serves exactly the rendered files: through its URL when it has one, else from its
/// bucket.
pub async fn served_files<C: Cloud>(
    cloud: &C,
    files: &[Rendered],
    site_url: Option<&str>,
    must_name: &[String],
) -> Vec<CheckResult> {
    let mut results = vec![];
    for f in files {
        let mut why = String::new();
        let (source, got) = match site_url {
            Some(url) => {
                // through the CDN: a transient error or 5xx from an edge is retried like a health
                // check; a 200 with other bytes is a stale copy and fails at once
                let u = format!("{}/{}", url.trim_end_matches('/'), f.key);
                let mut got = None;
                for wait in BACKOFF_MS {
                    tokio::time::sleep(Duration::from_millis(*wait)).await;
                    match cloud.http_get(&u).await {
                        Ok((200, body)) => {
                            got = Some(body);
                            break;
                        }
                        Ok((status, body)) => {
                            why = format!(
                                ": HTTP {status} {}",
                                String::from_utf8_lossy(&body).chars().take(120).collect::<String>()
                            )
                        }
                        Err(e) => why = format!(": {e}"),
                    }
                }
                (u, got)
            }
            None => (format!("s3://{}/{}", f.bucket, f.key), cloud.get_object(&f.bucket, &f.key).await.ok().flatten()),
        };
        let (ok, detail) = match got {
            None => (false, format!("{source} is not served{why}")),
            Some(body) if body != f.body => (false, format!("{source} differs from what this deploy rendered")),
            Some(body) => {
                let text = String::from_utf8_lossy(&body);
                match must_name.iter().find(|u| !text.contains(u.as_str())) {
                    Some(missing) => (false, format!("{source} does not name {missing}")),
                    None => (
                        true,
                        format!(
                            "{source} serves the rendered file ({} bytes) naming {}",
                            body.len(),
                            must_name.join(", ")
                        ),
                    ),
                }
            }
        };
        results.push(CheckResult { name: format!("served {}", f.key), ok, detail });
    }
    results
}

/// The stream after a deploy that took it off air and back (V04): the flow ACTIVE, the channel
/// RUNNING, and the HLS playlist answering through the distribution's `/out/*` path (or at the
/// origin where there is no distribution), with a few retries while the channel warms up.
pub async fn stream<C: Cloud>(cloud: &C, p: &crate::ops::media::Pipeline) -> Vec<CheckResult> {
    let mut out = vec![];
    if let Some(arn) = &p.flow_arn {
        let status =
            cloud.describe_flow(arn).await.ok().flatten().map(|f| f.status).unwrap_or_else(|| "missing".into());
        out.push(CheckResult { name: "flow".into(), ok: status == "ACTIVE", detail: format!("{arn} is {status}") });
    }
    if let Some(id) = &p.channel_id {
        let state =
            cloud.describe_channel(id).await.ok().flatten().map(|c| c.state).unwrap_or_else(|| "missing".into());
        out.push(CheckResult { name: "channel".into(), ok: state == "RUNNING", detail: format!("{id} is {state}") });
    }
    if let Some(url) = p.cdn_hls_url.as_ref().or(p.hls_url.as_ref()) {
        let mut last = String::new();
        let mut ok = false;
        for wait in BACKOFF_MS.iter().chain([15_000u64, 30_000].iter()) {
            tokio::time::sleep(Duration::from_millis(*wait)).await;
            match cloud.http_get(url).await {
                Ok((200, body)) if body.starts_with(b"#EXTM3U") => {
                    ok = true;
                    last = "200, an HLS playlist".into();
                    break;
                }
                Ok((status, _)) => last = format!("HTTP {status}"),
                Err(e) => last = e.to_string(),
            }
        }
        out.push(CheckResult { name: "stream".into(), ok, detail: format!("{url}: {last}") });
    }
    out
}

/// The verify step of every run: the health routes, and the served files (through the site's
/// URL where it has one); the checks go into the record, a failed one fails the run.
pub(crate) async fn verify_all<C: Cloud>(
    run: &Run<'_, C>,
    outputs: &Outputs,
    files: &[Rendered],
    record: &mut Record,
) -> Result<(), String> {
    let (cloud, _, app, _, journal, progress) = run.parts();
    let _s = step(journal, "verify");
    progress.step("verify", "health routes and served files");
    let mut checks = health(cloud, app, outputs, progress).await;
    // the files are checked through the site served from their bucket's stack, where there is one
    let files_stack = app.files.first().map(|f| f.bucket.stack.clone());
    let site_url = super::propagate::values_with(app, outputs, |r| *r == crate::template::OutputRole::SiteUrl)
        .into_iter()
        .find(|(o, _)| Some(&o.stack) == files_stack.as_ref())
        .map(|(_, v)| v);
    // the health-checked URLs a rendered file is written from (a site's config naming its API)
    let rendered_from: Vec<&crate::template::OutputRef> = app
        .files
        .iter()
        .flat_map(|f| f.values.iter())
        .filter_map(|(_, v)| match v {
            crate::template::FileValue::Output(o) => Some(o),
            _ => None,
        })
        .collect();
    let must_name: Vec<String> = app
        .health_checks
        .iter()
        .filter(|(o, _)| rendered_from.contains(&o))
        .filter_map(|(o, _)| outputs.get(&o.stack).and_then(|x| x.get(&o.output)).cloned())
        .collect();
    checks.extend(served_files(cloud, files, site_url.as_deref(), &must_name).await);
    for c in &checks {
        progress.info(&format!("{} {}: {}", if c.ok { "ok" } else { "FAILED" }, c.name, c.detail));
    }
    record.checks = checks.clone();
    match checks.iter().find(|c| !c.ok) {
        Some(bad) => Err(format!("verification failed: {}: {}", bad.name, bad.detail)),
        None => Ok(()),
    }
}
