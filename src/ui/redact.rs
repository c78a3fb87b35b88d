//! Secrets kept out of every line castform prints and every error it records: one function,
//! [`redact`], that every printing path (`say`, `err_line`, `out_line`, progress) and the ledger's
//! error text go through. It removes what can carry a credential whatever its source (an AWS
//! error echoing a request, a presigned URL, a token) and every value registered as secret.

use regex::{Captures, Regex};
use std::sync::{LazyLock, Mutex};

/// What a removed secret is replaced with.
pub const REDACTED: &str = "REDACTED";

/// Values known to be secret in this process (credentials from the environment, function
/// environment variables with secret names), each replaced wherever it appears.
static KNOWN: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// A known value shorter than this is not registered: it would redact ordinary words.
const MIN_SECRET_LEN: usize = 8;

/// The query parameters of a presigned S3 URL (SigV4: `X-Amz-Credential`, `X-Amz-Signature`,
/// `X-Amz-Security-Token`, <https://docs.aws.amazon.com/AmazonS3/latest/API/sigv4-query-string-auth.html>;
/// SigV2: `AWSAccessKeyId`, `Signature`) and of a CloudFront signed URL (`Key-Pair-Id`, `Policy`),
/// GetFunction's `Code.Location` among them.
static QUERY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?i)\b(X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|AWSAccessKeyId|Signature|Key-Pair-Id|Policy)=([^&\s'"<>:,;()]+)"#,
    )
    .expect("a valid pattern")
});

/// AWS access key ids (long-term `AKIA`, temporary `ASIA`).
static ACCESS_KEY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b").expect("a valid pattern"));

/// The words that make a name secret.
const SECRET_WORDS: &str = "password|passphrase|passwd|secret|token|api[_-]?key|private[_-]?key|credential";

/// A JSON member whose name says it is secret and whose value is a scalar
/// (`"DbPassword": "..."`; an object such as `"GenerateSecretString": {...}` is kept).
static NAMED_JSON: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(
        r#"(?i)"([A-Za-z0-9_.\-]*(?:{SECRET_WORDS})[A-Za-z0-9_.\-]*)"(\s*:\s*)("[^"]*"|[A-Za-z0-9_.+/=\-]+)"#
    ))
    .expect("a valid pattern")
});

/// `key=value` whose key says it is secret (`SRT_PASSPHRASE=...`, `token=...`).
static NAMED_PAIR: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r#"(?i)\b([A-Za-z0-9_.\-]*(?:{SECRET_WORDS})[A-Za-z0-9_.\-]*)=([^\s,&;}}"'<>]+)"#))
        .expect("a valid pattern")
});

/// `Authorization: Bearer ...`, `Bearer ...`.
static BEARER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)\bBearer\s+[A-Za-z0-9\-._~+/]+=*").expect("a valid pattern"));

/// Whether a name marked secret only names or points at the secret (`SecretArn`, `TokenName`).
fn names_the_secret(name: &str) -> bool {
    let n = name.to_ascii_lowercase();
    ["arn", "id", "name", "type", "ref", "length", "expiration", "ttl", "url"].iter().any(|s| n.ends_with(s))
}

/// Registers a value as secret: from now on it is replaced wherever it appears.
pub fn register(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut known = KNOWN.lock().unwrap_or_else(|p| p.into_inner());
    if !known.iter().any(|k| k == value) {
        known.push(value.to_string());
        // the longest first, so a secret containing another is replaced whole
        known.sort_by_key(|k| std::cmp::Reverse(k.len()));
    }
}

/// Whether an environment variable's name says its value is secret.
pub fn secret_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    ["SECRET", "TOKEN", "PASSWORD", "PASSPHRASE", "PASSWD", "API_KEY", "APIKEY", "PRIVATE_KEY", "CREDENTIAL"]
        .iter()
        .any(|w| n.contains(w))
}

/// Registers the secret values of this process's environment: the AWS SDK's credentials and any
/// variable whose name says it is secret.
pub fn register_environment() {
    // `vars_os`: `vars` panics on a variable that is not UTF-8 (issue 36); such a value cannot
    // appear in a message castform prints, which are UTF-8, so it needs no redacting
    for (name, value) in std::env::vars_os() {
        let (Some(name), Some(value)) = (name.to_str(), value.to_str()) else { continue };
        if secret_name(name) || name == "AWS_SECRET_ACCESS_KEY" || name == "AWS_SESSION_TOKEN" {
            register(value);
        }
    }
}

/// `text` without anything that can carry a secret.
pub fn redact(text: &str) -> String {
    let mut out = text.to_string();
    {
        let known = KNOWN.lock().unwrap_or_else(|p| p.into_inner());
        for k in known.iter() {
            if out.contains(k.as_str()) {
                out = out.replace(k.as_str(), REDACTED);
            }
        }
    }
    // cheap checks first: most lines carry none of these
    if out.contains('=') {
        out = QUERY.replace_all(&out, |c: &Captures| format!("{}={REDACTED}", &c[1])).into_owned();
    }
    if out.contains("AKIA") || out.contains("ASIA") {
        out = ACCESS_KEY.replace_all(&out, REDACTED).into_owned();
    }
    let keep = |name: &str, value: &str| names_the_secret(name) || value.trim_matches('"') == REDACTED;
    if out.contains(':') {
        out = NAMED_JSON
            .replace_all(&out, |c: &Captures| {
                if keep(&c[1], &c[3]) {
                    return c[0].to_string();
                }
                let value = if c[3].starts_with('"') { format!("\"{REDACTED}\"") } else { REDACTED.to_string() };
                format!("\"{}\"{}{value}", &c[1], &c[2])
            })
            .into_owned();
    }
    if out.contains('=') {
        out = NAMED_PAIR
            .replace_all(
                &out,
                |c: &Captures| {
                    if keep(&c[1], &c[2]) { c[0].to_string() } else { format!("{}={REDACTED}", &c[1]) }
                },
            )
            .into_owned();
    }
    if out.to_ascii_lowercase().contains("bearer") {
        out = BEARER.replace_all(&out, format!("Bearer {REDACTED}").as_str()).into_owned();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_presigned_urls_credentials_are_removed_and_the_rest_kept() {
        let url = "https://awslambda-us-west-2-tasks.s3.us-west-2.amazonaws.com/snapshots/1/api-abc?versionId=3&X-Amz-Security-Token=IQoJb3JpZ2luX2VjEJ&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Date=20260101T000000Z&X-Amz-SignedHeaders=host&X-Amz-Expires=600&X-Amz-Credential=ASIAXAMPLEXAMPLE1234%2F20260101%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Signature=0123456789abcdef";
        let out = redact(&format!("GET {url}: 403"));
        for gone in ["IQoJb3JpZ2luX2VjEJ", "ASIAXAMPLEXAMPLE1234", "0123456789abcdef"] {
            assert!(!out.contains(gone), "{out}");
        }
        assert!(
            out.contains("https://awslambda-us-west-2-tasks.s3.us-west-2.amazonaws.com/snapshots/1/api-abc?"),
            "{out}"
        );
        assert!(out.contains("X-Amz-Signature=REDACTED") && out.ends_with(": 403"), "{out}");
        // CloudFront's signed URLs and SigV2
        let out = redact("https://d1.cloudfront.net/a.m3u8?Expires=1&Signature=abc~def&Key-Pair-Id=K2JCJMDEHXQW5F");
        assert!(!out.contains("abc~def") && !out.contains("K2JCJMDEHXQW5F"), "{out}");
    }

    #[test]
    fn secret_named_values_keys_and_tokens_are_removed_names_and_arns_kept() {
        let out = redact(
            r#"Parameter validation failed: {"DbPassword": "hunter2-long", "SecretArn": "arn:aws:secretsmanager:us-west-2:1:secret:x"}"#,
        );
        assert!(!out.contains("hunter2-long"), "{out}");
        assert!(out.contains(r#""DbPassword": "REDACTED""#), "{out}");
        assert!(out.contains("arn:aws:secretsmanager:us-west-2:1:secret:x"), "an ARN names the secret: {out}");
        let out = redact(
            "SRT_PASSPHRASE=correct-horse-battery token=abc.def key AKIAIOSFODNN7EXAMPLE, Bearer eyJhbGciOi.x.y",
        );
        for gone in ["correct-horse-battery", "abc.def", "AKIAIOSFODNN7EXAMPLE", "eyJhbGciOi"] {
            assert!(!out.contains(gone), "{gone}: {out}");
        }
        for kept in [
            "stack api: ended UPDATE_ROLLBACK_COMPLETE",
            "IngestPassphrase (AWS::SecretsManager::Secret): the SRT passphrase: generated",
            r#""GenerateSecretString": {"PasswordLength": 32}"#,
        ] {
            assert_eq!(redact(kept), kept);
        }
    }

    #[test]
    fn a_registered_value_is_removed_wherever_it_appears() {
        register("s3cr3t-value-of-a-function-variable");
        register("short");
        let out = redact("AccessDenied: the request s3cr3t-value-of-a-function-variable was refused; short");
        assert_eq!(out, "AccessDenied: the request REDACTED was refused; short");
        assert!(secret_name("SRT_PASSPHRASE") && secret_name("GITHUB_TOKEN") && !secret_name("TABLE_NAME"));
    }
}
