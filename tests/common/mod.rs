//! Helpers shared by the integration tests: the castform binary, a copy of the project, and the
//! local AWS emulator (LocalStack on 127.0.0.1, a free port, stopped by its PID on drop).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// castform with `args`, its stdout closed by the reader at once (`castform ... | head -1`).
pub fn into_closed_pipe<S: AsRef<std::ffi::OsStr>>(args: impl IntoIterator<Item = S>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_castform"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    child.wait_with_output().unwrap()
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the project's inputs (environments, assets, templates) in a temp dir.
pub fn project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["environments", "assets", "templates"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// The local AWS emulator, started for one test.
pub struct Emulator {
    child: Child,
    pub port: u16,
    pub log: PathBuf,
    /// the emulator's certificate authority (its TLS endpoints: CDN, MediaPackage, APIs)
    pub ca: PathBuf,
    _dir: tempfile::TempDir,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Emulator {
    pub fn start() -> Self {
        let python = repo().join(".venv-emulator/bin/python");
        assert!(python.is_file(), "the emulator is not installed: run scripts/setup-emulator (CI's .ci/run does)");
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let log = dir.path().join("emulator.log");
        let child = Command::new(&python)
            .arg(repo().join("emulator/run.py"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", dir.path())
            .env("GATEWAY_LISTEN", format!("127.0.0.1:{port}"))
            .env("LOCALSTACK_HOST", format!("localhost.localstack.cloud:{port}"))
            .env("API_ENDPOINT", "http://127.0.0.1:9/v1")
            .env("ANALYTICS_API", "http://127.0.0.1:9/v1")
            .env("SERVICES", "cloudformation,s3,lambda,iam,sts,logs,sqs,ssm,secretsmanager,scheduler,cloudwatch,events,kms,dynamodb,dynamodbstreams,medialive,mediaconnect,mediapackage,mediaconvert,cloudfront,cloudfront-keyvaluestore,cognito-idp,apigatewayv2,cloudcontrol,wafv2")
            .env("PROVIDER_OVERRIDE_DYNAMODB", "moto")
            .env("PROVIDER_OVERRIDE_DYNAMODBSTREAMS", "moto")
            .env("LAMBDA_RUNTIME_EXECUTOR", "hostnode")
            .env("DNS_ADDRESS", "0")
            .env("DISABLE_EVENTS", "1")
            .env("SKIP_SSL_CERT_DOWNLOAD", "1")
            .env("PERSISTENCE", "0")
            .env("EAGER_SERVICE_LOADING", "0")
            .env("LOCALSTACK_CLI", "0")
            .env("FILESYSTEM_ROOT", dir.path().join("ls"))
            .env("CASTFORM_EMULATOR_CA", dir.path().join("ca.pem"))
            .env("TMPDIR", dir.path())
            .stdout(Stdio::from(std::fs::File::create(&log).unwrap()))
            .stderr(Stdio::from(std::fs::File::options().append(true).open(&log).unwrap()))
            .spawn()
            .expect("the emulator starts");
        let ca = dir.path().join("ca.pem");
        let mut emu = Emulator { child, port, log, ca, _dir: dir };
        let started = Instant::now();
        loop {
            if emu.get("/_localstack/health", None).map(|(s, _)| s == 200).unwrap_or(false) {
                return emu;
            }
            if let Ok(Some(status)) = emu.child.try_wait() {
                panic!(
                    "the emulator exited ({status}); log:\n{}",
                    std::fs::read_to_string(&emu.log).unwrap_or_default()
                );
            }
            assert!(started.elapsed() < Duration::from_secs(90), "the emulator did not answer in 90 s");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The environment that points castform (and the AWS SDK) at this emulator.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL", self.endpoint()),
            ("AWS_ACCESS_KEY_ID", "test".into()),
            ("AWS_SECRET_ACCESS_KEY", "test".into()),
            ("AWS_REGION", "us-west-2".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("CASTFORM_RESOLVE", "localhost.localstack.cloud=127.0.0.1".into()),
            ("AWS_CA_BUNDLE", self.ca.display().to_string()),
        ]
    }

    /// The AWS CLI (from the emulator's venv) against this emulator: what a service itself says
    /// about a resource. `Err` carries the CLI's error text.
    pub fn aws(&self, region: &str, args: &[&str]) -> Result<serde_json::Value, String> {
        let out = Command::new(repo().join(".venv-emulator/bin/aws"))
            .args(["--endpoint-url", &self.endpoint(), "--region", region, "--output", "json"])
            .args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .output()
            .unwrap();
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).to_string());
        }
        let text = String::from_utf8_lossy(&out.stdout);
        Ok(if text.trim().is_empty() { serde_json::Value::Null } else { serde_json::from_str(&text).unwrap() })
    }

    /// An HTTPS (or HTTP) GET of a URL under the emulator's loopback names, with curl trusting
    /// the emulator's CA and resolving the host to 127.0.0.1: status, headers, body.
    pub fn fetch(&self, url: &str) -> (u16, String, String) {
        let host = url.split("://").nth(1).unwrap().split('/').next().unwrap();
        let (name, port) = host.split_once(':').unwrap_or((host, "443"));
        let out = Command::new("curl")
            .args(["-s", "-D", "-", "--max-time", "30", "--cacert"])
            .arg(&self.ca)
            .args(["--resolve", &format!("{name}:{port}:127.0.0.1"), url])
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        (status, head.to_string(), body.to_string())
    }

    /// Runs castform with this emulator's environment in `root`.
    pub fn castform(&self, args: &[&str], root: &Path) -> Output {
        self.castform_command(args, root).output().unwrap()
    }

    /// The `castform` command this emulator's tests run, not yet started (to spawn it and
    /// signal it while it works).
    pub fn castform_command(&self, args: &[&str], root: &Path) -> Command {
        self.binary_command(Path::new(env!("CARGO_BIN_EXE_castform")), args, root)
    }

    /// A castform binary of a team's own (an example's), run as [`Emulator::castform_command`]
    /// runs castform's.
    pub fn binary_command(&self, binary: &Path, args: &[&str], root: &Path) -> Command {
        let mut c = Command::new(binary);
        c.args(args).arg("--root").arg(root).env("NO_COLOR", "1");
        // the pinned esbuild scripts/setup-esbuild installed (function folders with a package.json)
        c.env("CASTFORM_ESBUILD", repo().join(".tools/esbuild/node_modules/.bin/esbuild"));
        for k in
            ["AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE"]
        {
            c.env_remove(k);
        }
        c.env("AWS_CONFIG_FILE", "/nonexistent").env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
        for (k, v) in self.env() {
            c.env(k, v);
        }
        c
    }

    /// A raw HTTP GET on the emulator's port, with an optional Host header (function URLs are
    /// routed by host name).
    pub fn get(&self, path: &str, host: Option<&str>) -> std::io::Result<(u16, String)> {
        self.send("GET", path, host, None)
    }

    /// A raw HTTP request on the emulator's port, with an optional JSON body.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        host: Option<&str>,
        json: Option<&str>,
    ) -> std::io::Result<(u16, String)> {
        self.send_with(method, path, host, json, &[])
    }

    /// A raw HTTP request with extra headers.
    pub fn send_with(
        &self,
        method: &str,
        path: &str,
        host: Option<&str>,
        json: Option<&str>,
        headers: &[(String, String)],
    ) -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(60)))?;
        let host = host.map(str::to_string).unwrap_or_else(|| format!("127.0.0.1:{}", self.port));
        let body = json.unwrap_or("");
        let mut content = if json.is_some() { "Content-Type: application/json\r\n".to_string() } else { String::new() };
        for (k, v) in headers {
            content.push_str(&format!("{k}: {v}\r\n"));
        }
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: {host}\r\n{content}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut buf = String::new();
        s.read_to_string(&mut buf)?;
        let status = buf.split_whitespace().nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = buf.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Ok((status, dechunk(&body)))
    }

    /// Invokes a function with the AWS CLI and answers its result; fails the test on a function
    /// error, showing the function's log tail.
    pub fn invoke(&self, region: &str, function: &str, payload: &serde_json::Value) -> serde_json::Value {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("result.json");
        let r = self
            .aws(
                region,
                &[
                    "lambda",
                    "invoke",
                    "--log-type",
                    "Tail",
                    "--function-name",
                    function,
                    "--payload",
                    &payload.to_string(),
                    out.to_str().unwrap(),
                ],
            )
            .unwrap();
        let result = std::fs::read_to_string(&out).unwrap_or_default();
        let log = r["LogResult"]
            .as_str()
            .and_then(|l| aws_smithy_types::base64::decode(l).ok())
            .map(|b| String::from_utf8_lossy(&b).to_string())
            .unwrap_or_default();
        assert!(r.get("FunctionError").is_none(), "{function}: {r} {result}\n{log}");
        serde_json::from_str(&result).unwrap_or_else(|_| panic!("{function} answered {result}\n{log}"))
    }

    /// GET on a Function URL such as `http://<id>.lambda-url.<region>.localhost.localstack.cloud:<port>/`.
    pub fn get_url(&self, url: &str, path: &str) -> (u16, String) {
        self.call_url("GET", url, path, None)
    }

    /// Any method on a Function URL, with an optional JSON body, signed with SigV4 as the
    /// emulator's account (a URL with AuthType AWS_IAM answers nothing else; one with NONE
    /// ignores the signature).
    pub fn call_url(&self, method: &str, url: &str, path: &str, json: Option<&str>) -> (u16, String) {
        let host = host_of(url);
        let region = host.split(".lambda-url.").nth(1).and_then(|r| r.split('.').next()).unwrap_or("us-west-2");
        let mut headers = sign_lambda(method, &format!("http://{host}{path}"), region, json.unwrap_or("").as_bytes());
        headers.extend(https_of(url));
        self.send_with(method, path, Some(&host), json, &headers).unwrap()
    }

    /// A user made by an administrator in a user pool, signed in with its password through the
    /// app client (USER_PASSWORD_AUTH): the AuthenticationResult (AccessToken, IdToken ...).
    pub fn sign_in(&self, region: &str, pool: &str, client_id: &str, user: &str, password: &str) -> serde_json::Value {
        let idp = |args: &[&str]| {
            let mut all = vec!["cognito-idp"];
            all.extend_from_slice(args);
            self.aws(region, &all).unwrap()
        };
        idp(&["admin-create-user", "--user-pool-id", pool, "--username", user, "--message-action", "SUPPRESS"]);
        idp(&[
            "admin-set-user-password",
            "--user-pool-id",
            pool,
            "--username",
            user,
            "--password",
            password,
            "--permanent",
        ]);
        let auth = format!("USERNAME={user},PASSWORD={password}");
        let out = idp(&[
            "initiate-auth",
            "--client-id",
            client_id,
            "--auth-flow",
            "USER_PASSWORD_AUTH",
            "--auth-parameters",
            &auth,
        ]);
        out["AuthenticationResult"].clone()
    }

    /// Any method on a URL, unsigned (what an anonymous caller sends).
    pub fn call_url_unsigned(&self, method: &str, url: &str, path: &str, json: Option<&str>) -> (u16, String) {
        self.send_with(method, path, Some(&host_of(url)), json, &https_of(url)).unwrap()
    }
}

/// An `https://` URL (a distribution's) is reached in plain HTTP on the emulator's port, saying
/// the viewer's scheme as a TLS-terminating proxy would.
fn https_of(url: &str) -> Vec<(String, String)> {
    if url.starts_with("https://") { vec![("X-Forwarded-Proto".into(), "https".into())] } else { vec![] }
}

fn host_of(url: &str) -> String {
    url.trim_start_matches("http://").trim_start_matches("https://").split('/').next().unwrap().to_string()
}

/// SigV4 headers for the `lambda` service with the emulator's credentials (test/test), the
/// payload's hash included, as Lambda requires for a signed body.
fn sign_lambda(method: &str, url: &str, region: &str, body: &[u8]) -> Vec<(String, String)> {
    use aws_sigv4::http_request::{PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings, sign};
    let identity = aws_credential_types::Credentials::new("test", "test", None, None, "tests").into();
    let mut settings = SigningSettings::default();
    settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
    let params = aws_sigv4::sign::v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("lambda")
        .time(std::time::SystemTime::now())
        .settings(settings)
        .build()
        .unwrap()
        .into();
    let content: Vec<(&str, &str)> = if body.is_empty() { vec![] } else { vec![("content-type", "application/json")] };
    let signable = SignableRequest::new(method, url, content.into_iter(), SignableBody::Bytes(body)).unwrap();
    let (instructions, _) = sign(signable, &params).unwrap().into_parts();
    instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect()
}

fn dechunk(body: &str) -> String {
    // bodies from the emulator may be chunked; join the chunks when they are
    let mut out = String::new();
    let mut rest = body;
    loop {
        let Some((size, after)) = rest.split_once("\r\n") else { return body.to_string() };
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { return body.to_string() };
        if n == 0 {
            return out;
        }
        if after.len() < n {
            return body.to_string();
        }
        out.push_str(&after[..n]);
        rest = after[n..].trim_start_matches("\r\n");
    }
}

impl Emulator {
    /// The emulator's process id (its function hosts are its children).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").arg(&pid).status();
        let started = Instant::now();
        while started.elapsed() < Duration::from_secs(15) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Asserts every resource of a deployed stack has a real physical id (the emulator's fallback for
/// a type it cannot create reports the id `unknown`); returns how many resources it checked.
pub fn assert_all_real(resources: &[castform::aws::StackResource], stack: &str) -> usize {
    assert!(!resources.is_empty(), "{stack} has resources");
    let unreal: Vec<String> = resources
        .iter()
        .filter(|r| r.physical_id.is_empty() || r.physical_id == "unknown")
        .map(|r| format!("{} ({})", r.logical_id, r.resource_type))
        .collect();
    assert!(unreal.is_empty(), "{stack}: not really created: {unreal:?}");
    resources.len()
}

/// The command succeeded; its stdout. Otherwise a failure showing its exit code and both streams.
pub fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Polls until `f` holds, for at most a minute (a service's state settling).
#[allow(dead_code)]
pub fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let started = Instant::now();
    while !f() {
        assert!(started.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
