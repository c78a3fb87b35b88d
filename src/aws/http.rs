//! Plain HTTPS for health checks, served files and code downloads, with optional host-name
//! overrides (`CASTFORM_RESOLVE=suffix=ip,...`, like curl's `--resolve`) for networks without
//! DNS for a name, and extra trusted certificate authorities from `AWS_CA_BUNDLE` (the variable
//! the AWS CLI and SDKs read for the same purpose: a proxy's or a private endpoint's CA). How long
//! a GET may take is [`super::limits`]'s to say: a download from a presigned URL gets longer than a
//! check.

use super::limits::{self, HttpLimits};
use super::{CloudError, CloudResult};
use std::net::{IpAddr, SocketAddr};

/// `CASTFORM_RESOLVE`: `suffix=ip` pairs separated by commas; a host equal to or ending in
/// `.suffix` resolves to `ip`.
pub fn resolve_overrides() -> Vec<(String, IpAddr)> {
    std::env::var("CASTFORM_RESOLVE")
        .unwrap_or_default()
        .split(',')
        .filter_map(|pair| {
            let (suffix, ip) = pair.split_once('=')?;
            Some((suffix.trim().to_string(), ip.trim().parse().ok()?))
        })
        .collect()
}

/// The largest `AWS_CA_BUNDLE` read: a system's whole bundle is about 200 KiB.
const MAX_CA_BUNDLE: u64 = 4 << 20;

/// `AWS_CA_BUNDLE`'s PEM text, if set: a regular file of at most 4 MiB whose every certificate
/// parses as a trust anchor (the SDK's HTTP client panics on one that does not), at least one.
/// The error names the variable and what is wrong with the file.
pub fn ca_bundle() -> Result<Option<Vec<u8>>, String> {
    use rustls_pki_types::CertificateDer;
    use rustls_pki_types::pem::PemObject;
    use std::io::Read;
    let Some(path) = std::env::var_os("AWS_CA_BUNDLE").filter(|p| !p.is_empty()) else { return Ok(None) };
    let shown = std::path::Path::new(&path).display().to_string();
    let fail = |why: String| format!("AWS_CA_BUNDLE={shown}: {why}");
    let meta = std::fs::metadata(&path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    if !meta.is_file() {
        return Err(fail("is not a regular file".into()));
    }
    let mut pem = vec![];
    std::fs::File::open(&path)
        .and_then(|f| f.take(MAX_CA_BUNDLE + 1).read_to_end(&mut pem))
        .map_err(|e| fail(format!("cannot read it: {e}")))?;
    if pem.len() as u64 > MAX_CA_BUNDLE {
        return Err(fail(format!("is larger than {MAX_CA_BUNDLE} bytes")));
    }
    let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(&pem)
        .collect::<Result<_, _>>()
        .map_err(|e| fail(format!("not a PEM certificate bundle: {e:?}")))?;
    if certs.is_empty() {
        return Err(fail("holds no PEM certificate (-----BEGIN CERTIFICATE-----)".into()));
    }
    for (i, c) in certs.iter().enumerate() {
        webpki::anchor_from_trusted_cert(c)
            .map_err(|e| fail(format!("certificate {} of {} cannot be trusted: {e}", i + 1, certs.len())))?;
    }
    Ok(Some(pem))
}

/// `AWS_CA_BUNDLE`: a PEM file of certificate authorities trusted besides the system's. An
/// unreadable or malformed file is an error on the first request, naming the variable.
pub fn extra_roots() -> Result<Vec<reqwest::Certificate>, String> {
    let Some(pem) = ca_bundle()? else { return Ok(vec![]) };
    reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| format!("AWS_CA_BUNDLE: not a PEM certificate bundle: {e}"))
}

#[derive(Debug, Clone)]
pub struct HttpClient {
    overrides: Vec<(String, IpAddr)>,
    roots: Result<Vec<reqwest::Certificate>, String>,
}

impl Default for HttpClient {
    fn default() -> Self {
        Self { overrides: resolve_overrides(), roots: extra_roots() }
    }
}

/// A presigned URL (S3 handing out an object, as Lambda's `Code.Location` does) is a download;
/// any other GET is a check (a health route, a served file).
fn limits_for(url: &reqwest::Url) -> HttpLimits {
    if url.query_pairs().any(|(k, _)| k == "X-Amz-Signature") { limits::DOWNLOAD } else { limits::CHECK }
}

impl HttpClient {
    fn client_for(&self, url: &reqwest::Url) -> Result<reqwest::Client, String> {
        let limits = limits_for(url);
        let mut b = reqwest::Client::builder()
            .connect_timeout(limits.connect)
            .timeout(limits.total)
            .redirect(reqwest::redirect::Policy::limited(3));
        if let Some(stall) = limits.stall {
            b = b.read_timeout(stall);
        }
        for root in self.roots.clone()? {
            b = b.add_root_certificate(root);
        }
        if let Some(host) = url.host_str() {
            for (suffix, ip) in &self.overrides {
                if host == suffix || host.ends_with(&format!(".{suffix}")) {
                    let port = url.port_or_known_default().unwrap_or(443);
                    b = b.resolve(host, SocketAddr::new(*ip, port));
                }
            }
        }
        b.build().map_err(|e| e.to_string())
    }

    pub async fn get(&self, url: &str) -> CloudResult<(u16, Vec<u8>)> {
        self.get_with(url, &[]).await
    }

    /// `GET url` with extra headers (a SigV4 signature).
    pub async fn get_with(&self, url: &str, headers: &[(String, String)]) -> CloudResult<(u16, Vec<u8>)> {
        let op = format!("GET {}", redact(url));
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| CloudError::Transport { operation: op.clone(), message: e.to_string() })?;
        let client =
            self.client_for(&parsed).map_err(|message| CloudError::Transport { operation: op.clone(), message })?;
        let mut req = client.get(parsed);
        for (k, v) in headers {
            req = req.header(k.as_str(), v.as_str());
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CloudError::Transport { operation: op.clone(), message: error_chain(&e.without_url()) })?;
        let status = resp.status().as_u16();
        let body = resp
            .bytes()
            .await
            .map_err(|e| CloudError::Transport { operation: op, message: error_chain(&e.without_url()) })?;
        Ok((status, body.to_vec()))
    }
}

/// A URL as it may be shown: without its query, which for a presigned URL (Lambda's code
/// location) carries a signature and a session token (code review).
pub fn redact(url: &str) -> String {
    match url.split_once('?') {
        Some((base, _)) => format!("{base}?…"),
        None => url.to_string(),
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s.push_str(": ");
        s.push_str(&c.to_string());
        cur = c.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_presigned_urls_signature_and_token_never_reach_an_error() {
        let url = "https://127.0.0.1:9/code.zip?X-Amz-Security-Token=SECRETTOKEN&X-Amz-Signature=abc123";
        let e = HttpClient::default().get(url).await.unwrap_err().to_string();
        assert!(e.contains("https://127.0.0.1:9/code.zip"), "{e}");
        assert!(!e.contains("SECRETTOKEN") && !e.contains("abc123"), "{e}");
        assert_eq!(redact("https://h/p"), "https://h/p");
    }

    #[test]
    fn a_presigned_url_is_a_download_and_anything_else_a_check() {
        let url = |u: &str| reqwest::Url::parse(u).unwrap();
        let code = "https://awslambda-us-west-2-tasks.s3.us-west-2.amazonaws.com/snapshots/1/fn?versionId=v\
                    &X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=k&X-Amz-Signature=abc";
        assert_eq!(limits_for(&url(code)), limits::DOWNLOAD);
        assert_eq!(limits_for(&url("https://abc.lambda-url.us-west-2.on.aws/health")), limits::CHECK);
        assert_eq!(limits_for(&url("https://d1.cloudfront.net/config.js?v=2")), limits::CHECK);
        assert!(limits::DOWNLOAD.total > limits::CHECK.total && limits::DOWNLOAD.stall.is_some());
    }
}
