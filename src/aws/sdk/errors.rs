//! SDK errors in the user's words: AWS's code and message where it sent them; otherwise what
//! came back (a bare status, a page that is not AWS's, a redirect), what the SDK could not do (an
//! endpoint that is not a URL, no answer in time) and what to check, never a Debug dump (issue 36).

use crate::aws::CloudError;
use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Turns an SDK error into ours, keeping AWS's code and message.
pub(super) fn err<E>(operation: &str, e: SdkError<E, HttpResponse>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &e {
        SdkError::ServiceError(se) => {
            let inner = se.err();
            match inner.code() {
                // 412, or 409 to the loser of two concurrent conditional requests on one S3 key
                // (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html)
                Some("PreconditionFailed" | "ConditionalRequestConflict") => {
                    CloudError::PreconditionFailed { operation: operation.into() }
                }
                Some(code) => CloudError::Service {
                    operation: operation.into(),
                    code: code.to_string(),
                    message: inner
                        .message()
                        .map(str::to_string)
                        .unwrap_or_else(|| format!("HTTP {}", se.raw().status().as_u16())),
                },
                None => unrecognised(operation, se.raw()),
            }
        }
        SdkError::ResponseError(re) => unrecognised(operation, re.raw()),
        SdkError::TimeoutError(_) => CloudError::Transport {
            operation: operation.into(),
            message: format!(
                "no answer in time ({}); the call was given up\nhelp: check the network and AWS_ENDPOINT_URL, then run the command again",
                crate::aws::limits::described()
            ),
        },
        _ => transport(operation, &chain(&e)),
    }
}

/// A failure before any answer: no credentials, no connection, an endpoint that is not a URL.
fn transport(operation: &str, text: &str) -> CloudError {
    let message = if text.contains("failed to apply endpoint") || text.contains("endpoint is not a valid URI") {
        let var = ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3"]
            .into_iter()
            .find(|v| std::env::var_os(v).is_some())
            .unwrap_or("the endpoint URL");
        format!(
            "{var} is not a valid URL\nhelp: set it to a URL such as http://127.0.0.1:4566, or unset it to talk to AWS"
        )
    } else if text.contains("timed out") && (text.contains("identity") || text.contains("credentials")) {
        format!(
            "the AWS credentials were not ready within {} s: a credential_process helper, an SSO login or the instance metadata service did not answer\nhelp: run the profile's credential helper by hand (or `aws sso login`), then run the command again",
            crate::aws::limits::credentials().as_secs_f32()
        )
    } else if text.contains("certificate") {
        let bundle = match crate::aws::http::ca_bundle() {
            Err(why) => format!("{why}, so it was not used"),
            Ok(Some(_)) => "AWS_CA_BUNDLE's authorities were trusted too".into(),
            Ok(None) => "set AWS_CA_BUNDLE to the PEM file of the authority a proxy or private endpoint uses".into(),
        };
        format!("the endpoint's TLS certificate is not trusted ({text})\nhelp: {bundle}")
    } else if text.contains("no credentials") || text.contains("credentials provider") {
        format!("no usable AWS credentials ({text}); set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID")
    } else if text.contains("Connection refused") || text.contains("dns error") {
        format!("cannot reach AWS ({text}); check the network, or AWS_ENDPOINT_URL if you set one")
    } else {
        text.to_string()
    };
    CloudError::Transport { operation: operation.into(), message }
}

/// An answer with no AWS error code in it: a bare status (S3 answers a HEAD request's errors
/// without a body: "HeadBucket", <https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadBucket.html>),
/// a redirect, or a page from something that is not AWS (a proxy, a captive portal).
fn unrecognised(operation: &str, raw: &HttpResponse) -> CloudError {
    let status = raw.status().as_u16();
    let header = |name: &str| raw.headers().get(name).map(str::to_string);
    let body = raw.body().bytes().unwrap_or_default();
    let text = String::from_utf8_lossy(&body[..body.len().min(2048)]).to_string();
    let html = header("content-type").is_some_and(|c| c.contains("html"))
        || text.trim_start().get(..5).is_some_and(|s| s.eq_ignore_ascii_case("<html") || s.starts_with("<!"));
    let (code, message) = if html {
        return CloudError::Transport {
            operation: operation.into(),
            message: format!(
                "the answer is not AWS's: HTTP {status}, an HTML page ({})\nhelp: something between castform and AWS answered (a proxy, a captive portal, AWS_ENDPOINT_URL): check HTTPS_PROXY and AWS_ENDPOINT_URL",
                excerpt(&text)
            ),
        };
    } else if (300..400).contains(&status) {
        let region = header("x-amz-bucket-region").map(|r| format!("; the bucket is in {r}")).unwrap_or_default();
        let to = header("location").map(|l| format!(" to {l}")).unwrap_or_default();
        (
            if status == 301 { "PermanentRedirect" } else { "Redirect" }.into(),
            format!(
                "AWS redirected the call (HTTP {status}{to}){region}\nhelp: castform does not follow redirects; check the environment's region and AWS_ENDPOINT_URL"
            ),
        )
    } else {
        let (code, what, help) = match status {
            403 => (
                "AccessDenied",
                "access denied",
                "the credentials may lack the permission, or the resource belongs to another account: check `aws sts get-caller-identity` against the environment's account",
            ),
            404 => ("NotFound", "not found", "check the name, the account and the region"),
            400 => ("BadRequest", "refused as a bad request", "check the region and the credentials' account"),
            s if s >= 500 => ("InternalError", "failed on AWS's side", "run the command again in a while"),
            _ => ("Unknown", "refused", "run again with --debug for the whole answer"),
        };
        let body = if text.trim().is_empty() { "no body".to_string() } else { excerpt(&text) };
        (code.into(), format!("{what} (HTTP {status}, no AWS error code; {body})\nhelp: {help}"))
    };
    CloudError::Service { operation: operation.into(), code, message }
}

/// The first words of a body, on one line (what castform prints is redacted by `ui`).
fn excerpt(text: &str) -> String {
    let plain: String = {
        // the text between tags, so a page reads as its words
        let mut out = String::new();
        let mut in_tag = false;
        for c in text.chars() {
            match c {
                '<' => in_tag = true,
                '>' => {
                    in_tag = false;
                    out.push(' ');
                }
                c if !in_tag => out.push(c),
                _ => {}
            }
        }
        out.split_whitespace().collect::<Vec<_>>().join(" ")
    };
    let short: String = plain.chars().take(100).collect();
    let short = if short.is_empty() { "no text".to_string() } else { short };
    format!("\"{short}{}\"", if plain.chars().count() > 100 { "…" } else { "" })
}

/// An error and its sources, by their Display only (no debug dumps).
pub(super) fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = c.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 36: what the SDK says of a failure before any answer, in words with a fix.
    #[test]
    fn failures_before_an_answer_say_what_to_do() {
        let tls = transport(
            "S3 HeadBucket",
            "dispatch failure: TLS handshake failed: invalid peer certificate: UnknownIssuer",
        );
        let text = tls.to_string();
        assert!(text.starts_with("S3 HeadBucket: the endpoint's TLS certificate is not trusted"), "{text}");
        assert!(text.contains("\nhelp: "), "{text}");
        let url = transport(
            "STS GetCallerIdentity",
            "failed to apply endpoint `ht!tp://x` to request `Request { body: SdkBody {..} }`",
        );
        let text = url.to_string();
        assert!(text.contains("is not a valid URL\nhelp: set it to a URL"), "{text}");
        assert!(!text.contains("SdkBody"), "{text}");
        let creds = transport("S3 HeadBucket", "identity resolver timed out after 90s");
        assert!(creds.to_string().contains("the AWS credentials were not ready within"), "{creds}");
    }
}
