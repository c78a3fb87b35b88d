//! Hostile input (issue 36): what a careless or hostile user types, a file holds or a server on
//! 127.0.0.1 answers. Each case asserts the exit code, the message, that nothing panicked or hung,
//! and that nothing outside castform's own folders (`out/`, `.castform/`) changed.

mod common;

use common::{copy_dir, repo};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A temp dir holding a copy of the project's inputs under `proj/`, so a case can put the user's
/// own files beside it and prove they were left alone.
fn sandbox() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let proj = dir.path().join("proj");
    for sub in ["environments", "assets", "templates"] {
        copy_dir(&repo().join(sub), &proj.join(sub));
    }
    (dir, proj)
}

/// Every file under `dir` with its bytes, castform's own folders (`out/`, `.castform/`) left out.
fn files_outside_castform(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let name = e.file_name();
            if name == "out" || name == ".castform" {
                continue;
            }
            let ft = e.file_type().unwrap();
            if ft.is_dir() {
                stack.push(e.path());
            } else if ft.is_file() {
                out.insert(e.path().strip_prefix(dir).unwrap().to_path_buf(), std::fs::read(e.path()).unwrap());
            } else {
                out.insert(e.path().strip_prefix(dir).unwrap().to_path_buf(), b"<special>".to_vec());
            }
        }
    }
    out
}

/// Nothing outside castform's folders changed under `dir` since `before`; the paths that did.
fn assert_untouched(dir: &Path, before: &BTreeMap<PathBuf, Vec<u8>>) {
    let after = files_outside_castform(dir);
    let changed: Vec<&PathBuf> =
        before.keys().chain(after.keys()).filter(|k| before.get(*k) != after.get(*k)).collect();
    assert!(changed.is_empty(), "files outside out/ and .castform/ changed: {changed:?}");
}

/// The binary with `args`, its environment cleared of AWS settings but for `envs`, killed after
/// `limit` (a hang is a failure, not a stuck suite).
fn run_with<S: AsRef<OsStr>>(args: &[S], root: &Path, envs: &[(&str, &OsStr)], limit: Duration) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_castform"));
    cmd.args(args).arg("--root").arg(root).env("NO_COLOR", "1");
    for (k, _) in std::env::vars_os() {
        if k.to_string_lossy().starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", root).env("AWS_EC2_METADATA_DISABLED", "true");
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(limit) {
        Ok(out) => out.unwrap(),
        Err(_) => {
            let _ = Command::new("kill").arg("-9").arg(pid.to_string()).status();
            panic!("castform {:?} did not end within {limit:?}", args.iter().map(|a| a.as_ref()).collect::<Vec<_>>())
        }
    }
}

fn run(args: &[&str], root: &Path) -> Output {
    run_with(args, root, &[], Duration::from_secs(60))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).to_string()
}

/// The exit code, and no panic in either stream.
fn code(out: &Output) -> i32 {
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out));
    assert!(!all.contains("panicked at"), "castform panicked:\n{all}");
    out.status.code().unwrap_or(-1)
}

fn set_key(file: &Path, key: &str, value: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    let at = lines.iter().position(|l| l.starts_with(&format!("{key}:"))).unwrap();
    lines[at] = format!("{key}: {value}");
    std::fs::write(file, lines.join("\n") + "\n").unwrap();
}

/// Issue 36: `castform synth ../../precious` with a matching file replaced a folder outside
/// `out/` with templates and exited 0; `deploy` took such names too.
#[test]
fn an_environment_name_that_is_a_path_is_refused_before_anything_is_read_or_written() {
    let (dir, proj) = sandbox();
    std::fs::create_dir_all(proj.join("precious")).unwrap();
    std::fs::write(proj.join("precious/thesis.txt"), "years of work").unwrap();
    // the file the name leads to: environments/lunora/../../precious.yaml
    std::fs::copy(proj.join("environments/lunora/dev.yaml"), proj.join("precious.yaml")).unwrap();
    set_key(&proj.join("precious.yaml"), "name", "\"../../precious\"");
    let before = files_outside_castform(dir.path());
    for cmd in ["synth", "deploy", "diff", "status", "check", "unlock", "gc", "rollback"] {
        let mut args = vec![cmd, "../../precious"];
        if cmd == "unlock" {
            args.push("--force");
        }
        let out = run(&args, &proj);
        assert_eq!(code(&out), 2, "{cmd}: {}", stderr(&out));
        assert!(stderr(&out).contains("\"../../precious\" is not an environment name"), "{cmd}: {}", stderr(&out));
        assert!(stderr(&out).contains("help: name an environment by its file"), "{cmd}: {}", stderr(&out));
    }
    for bad in ["/etc/passwd", "a/b", ".", "..", "-rf", "x.y", ""] {
        let out = run(&["synth", bad], &proj);
        assert_eq!(code(&out), 2, "{bad:?}: {}", stderr(&out));
    }
    assert_untouched(dir.path(), &before);
    assert!(!proj.join("out").exists(), "nothing was written");
}

/// Issue 36: synth replaced `<out>/<app>/<env>/` whatever it held, so `--out ~` took a user's
/// folder of that name with it.
#[test]
fn synth_never_replaces_a_folder_it_did_not_write() {
    let (dir, proj) = sandbox();
    let home = dir.path().join("home");
    std::fs::create_dir_all(home.join("lunora/dev/drafts")).unwrap();
    std::fs::write(home.join("lunora/dev/notes.txt"), "mine").unwrap();
    let before = files_outside_castform(dir.path());
    let out = run(&["synth", "dev", "--out", home.to_str().unwrap()], &proj);
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    let err = stderr(&out);
    assert!(
        err.contains("lunora/dev holds `") && err.contains("which synth did not write; nothing was replaced"),
        "{err}"
    );
    assert!(err.contains("help: choose another --out"), "{err}");
    assert_untouched(dir.path(), &before);
    // a folder synth wrote is replaced as before
    let ok = run(&["synth", "dev"], &proj);
    assert_eq!(code(&ok), 0, "{}", stderr(&ok));
    let again = run(&["synth", "dev"], &proj);
    assert_eq!(code(&again), 0, "{}", stderr(&again));
    assert!(proj.join("out/lunora/dev/manifest.json").is_file());
}

/// Issue 36: `api.code: /etc` was zipped into the Lambda package.
#[test]
fn an_asset_folder_outside_the_project_is_refused() {
    let (dir, proj) = sandbox();
    std::os::unix::fs::symlink("/etc", proj.join("assets/etc-link")).unwrap();
    let before = files_outside_castform(dir.path());
    for code_dir in ["/etc", "../../../../etc", "assets/etc-link"] {
        let file = proj.join("environments/lunora/dev.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        std::fs::write(&file, text.replace("api:\n", &format!("api:\n  code: {code_dir}\n"))).unwrap();
        let out = run(&["synth", "dev"], &proj);
        std::fs::write(&file, text).unwrap();
        assert_eq!(code(&out), 2, "{code_dir}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(err.contains("environments/lunora/dev.yaml:") && err.contains("`api.code` is"), "{code_dir}: {err}");
        assert!(err.contains("keep its folder under the project root"), "{code_dir}: {err}");
    }
    assert_untouched(dir.path(), &before);
    assert!(!proj.join("out/lunora/dev").exists());
}

/// Issue 36: a variable of the environment that is not UTF-8 panicked every command.
#[test]
fn a_variable_that_is_not_utf8_is_no_panic() {
    use std::os::unix::ffi::OsStrExt;
    let (_dir, proj) = sandbox();
    let bad = OsStr::from_bytes(b"\xff\xfe");
    let out = run_with(&["synth", "dev"], &proj, &[("CASTFORM_HOSTILE", bad)], Duration::from_secs(60));
    assert_eq!(code(&out), 0, "{}", stderr(&out));
    let arg = OsStr::from_bytes(b"de\xffv");
    let out = run_with(&[OsStr::new("synth"), arg], &proj, &[], Duration::from_secs(60));
    assert_eq!(code(&out), 2, "{}", stderr(&out));
    assert!(stderr(&out).contains("invalid UTF-8"), "{}", stderr(&out));
}

/// Issue 36: concurrent synth runs into one folder shared one staging folder and lost an
/// environment while each reported success.
#[test]
fn concurrent_synth_runs_into_one_folder_lose_nothing() {
    let (_dir, proj) = sandbox();
    let children: Vec<_> = (0..6)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_castform"))
                .args(["synth", "--all", "--root"])
                .arg(&proj)
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert_eq!(code(&out), 0, "{}", stderr(&out));
    }
    for app in ["lunora", "streamcanvas", "podcast"] {
        for e in std::fs::read_dir(proj.join("environments").join(app)).unwrap() {
            let name = e.unwrap().file_name().to_string_lossy().trim_end_matches(".yaml").to_string();
            let dir = proj.join("out").join(app).join(&name);
            assert!(dir.join("manifest.json").is_file(), "{app}/{name} lost");
        }
    }
    let leftovers: Vec<_> = std::fs::read_dir(proj.join("out/lunora"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().to_string())
        .filter(|n| n.starts_with('.') && n != ".synth.lock")
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// Issue 36: an environment file or template that is `/dev/zero` or a FIFO was read without end
/// (past 20 GB) or blocked forever.
#[test]
fn files_that_never_end_are_refused_not_read() {
    let (dir, proj) = sandbox();
    let envs = proj.join("environments/lunora");
    std::os::unix::fs::symlink("/dev/zero", envs.join("zero.yaml")).unwrap();
    assert!(Command::new("mkfifo").arg(envs.join("fifo.yaml")).status().unwrap().success());
    let mut big = std::fs::read_to_string(envs.join("dev.yaml")).unwrap();
    big.push_str(&format!("# {}\n", "x".repeat(2 << 20)));
    std::fs::write(envs.join("big.yaml"), big).unwrap();
    let before = files_outside_castform(dir.path());
    for env in ["zero", "fifo", "big"] {
        let out = run_with(&["synth", env], &proj, &[], Duration::from_secs(30));
        assert_eq!(code(&out), 2, "{env}: {}", stderr(&out));
        assert!(stderr(&out).contains("cannot read the environment file: it is"), "{env}: {}", stderr(&out));
    }
    for t in ["/dev/zero", envs.join("fifo.yaml").to_str().unwrap()] {
        let out = run_with(&["check", "--template", t], &proj, &[], Duration::from_secs(30));
        assert_eq!(code(&out), 2, "{t}: {}", stderr(&out));
        let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
        assert!(all.contains("it is not a regular file"), "{t}: {all}");
    }
    assert_untouched(dir.path(), &before);
}

/// How a local server on 127.0.0.1 answers every request.
#[derive(Clone, Copy)]
enum Answer {
    /// `403` with no body, as S3 answers a HEAD request it refuses.
    Deny,
    /// `200` with an HTML page: a captive portal or a proxy's login.
    Html,
    /// `307` to itself, for ever.
    Redirect,
    /// Accepts and reads the request, never answers.
    Stall,
    /// Sends a status line and headers, then one byte a second.
    Drip,
}

/// A server on a free port of 127.0.0.1; it lives as long as the test process.
fn serve(answer: Answer) -> String {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut c) = conn else { continue };
            std::thread::spawn(move || {
                let mut req = vec![];
                let mut buf = [0u8; 8192];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match c.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let reply = match answer {
                    Answer::Deny => "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_string(),
                    Answer::Html => {
                        let body = "<html><head><title>Hotel Wi-Fi</title></head><body>Please log in</body></html>";
                        format!(
                            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                            body.len()
                        )
                    }
                    Answer::Redirect => format!(
                        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://127.0.0.1:{port}/\r\nContent-Length: 0\r\n\r\n"
                    ),
                    Answer::Stall => {
                        std::thread::sleep(Duration::from_secs(3600));
                        return;
                    }
                    Answer::Drip => {
                        let _ = c
                            .write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 100000\r\n\r\n<");
                        for _ in 0..3600 {
                            std::thread::sleep(Duration::from_secs(1));
                            if c.write_all(b" ").is_err() {
                                return;
                            }
                        }
                        return;
                    }
                };
                let _ = c.write_all(reply.as_bytes());
                std::thread::sleep(Duration::from_millis(100));
            });
        }
    });
    format!("http://127.0.0.1:{port}")
}

/// Static credentials and an endpoint: the AWS settings of a case.
fn aws_env(endpoint: &str) -> Vec<(&'static str, std::ffi::OsString)> {
    vec![
        ("AWS_ACCESS_KEY_ID", "AKIAHOSTILETEST00000".into()),
        ("AWS_SECRET_ACCESS_KEY", "hostile-test-secret-key-not-real".into()),
        ("AWS_ENDPOINT_URL", endpoint.into()),
    ]
}

fn run_aws(args: &[&str], root: &Path, env: &[(&'static str, std::ffi::OsString)]) -> Output {
    let env: Vec<(&str, &OsStr)> = env.iter().map(|(k, v)| (*k, v.as_os_str())).collect();
    run_with(args, root, &env, Duration::from_secs(120))
}

/// The lines of an error that an SDK Debug dump would leave.
fn assert_no_dump(err: &str) {
    for dump in ["Unhandled", "ErrorMetadata", "StartEl", "Request {", "SdkBody", "unhandled error", "Some("] {
        assert!(!err.contains(dump), "a Debug dump ({dump}) reached the user:\n{err}");
    }
}

/// Issue 36: a bare 403 on HeadBucket, an HTML page, a redirect loop and a malformed
/// `AWS_ENDPOINT_URL` printed the SDK's Debug text with no status, bucket or fix.
#[test]
fn answers_that_are_not_aws_errors_are_said_in_words() {
    let (dir, proj) = sandbox();
    let before = files_outside_castform(dir.path());
    let deny = serve(Answer::Deny);
    let out = run_aws(&["history", "local"], &proj, &aws_env(&deny));
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert_no_dump(&err);
    assert!(
        err.contains("S3 HeadBucket s3://castform-000000000000-us-west-2: AccessDenied: access denied (HTTP 403, no AWS error code; no body)"),
        "{err}"
    );
    assert!(err.contains("help: the credentials may lack the permission"), "{err}");

    let out = run_aws(&["status", "local"], &proj, &aws_env(&serve(Answer::Html)));
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert_no_dump(&err);
    assert!(err.contains("CloudFormation DescribeStacks: the answer is not AWS's: HTTP 200, an HTML page (\"Hotel Wi-Fi Please log in\")"), "{err}");
    assert!(err.contains("help: something between castform and AWS answered"), "{err}");

    let redirect = serve(Answer::Redirect);
    let out = run_aws(&["status", "local"], &proj, &aws_env(&redirect));
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert_no_dump(&err);
    assert!(err.contains(&format!("AWS redirected the call (HTTP 307 to {redirect}/)")), "{err}");
    assert!(err.contains("help: castform does not follow redirects"), "{err}");

    for bad in ["ht!tp://[::1", "http://", "not a url at all"] {
        let out = run_aws(&["status", "local"], &proj, &aws_env(bad));
        let err = stderr(&out);
        assert_eq!(code(&out), 1, "{bad}: {err}");
        assert_no_dump(&err);
        assert!(err.contains("AWS_ENDPOINT_URL is not a valid URL"), "{bad}: {err}");
        assert!(err.contains("help: set it to a URL such as http://127.0.0.1:4566"), "{bad}: {err}");
    }
    assert_untouched(dir.path(), &before);
}

/// Issue 36: `retry_mode = legacy` in `~/.aws/config` (boto3's default), `AWS_RETRY_MODE` and
/// `AWS_MAX_ATTEMPTS=0` panicked every AWS command inside aws-config.
#[test]
fn the_users_retry_settings_are_no_panic() {
    let (_dir, proj) = sandbox();
    let deny = serve(Answer::Deny);
    std::fs::create_dir_all(proj.join(".aws")).unwrap();
    std::fs::write(
        proj.join(".aws/config"),
        "[default]\nretry_mode = legacy\nmax_attempts = 0\n[profile lunora-media]\nretry_mode = legacy\n",
    )
    .unwrap();
    let cases: [&[(&str, &str)]; 5] = [
        &[],
        &[("AWS_RETRY_MODE", "legacy")],
        &[("AWS_RETRY_MODE", "nonsense")],
        &[("AWS_MAX_ATTEMPTS", "0")],
        &[("AWS_MAX_ATTEMPTS", "-3"), ("AWS_RETRY_MODE", "adaptive")],
    ];
    for extra in cases {
        let mut env = aws_env(&deny);
        env.extend(extra.iter().map(|(k, v)| (*k, std::ffi::OsString::from(v))));
        let out = run_aws(&["history", "local"], &proj, &env);
        let err = stderr(&out);
        assert_eq!(code(&out), 1, "{extra:?}: {err}");
        assert!(err.contains("AccessDenied: access denied (HTTP 403"), "{extra:?}: {err}");
    }
}

/// Issue 36: an endpoint that accepts and never answers, one that drips its answer a byte a
/// second, and a credential helper that never returns kept `status` and `deploy` waiting for
/// ever. `CASTFORM_AWS_TIMEOUT` caps every bound (the defaults are minutes, as AWS calls need);
/// the run must end on its own, near the cap, naming the operation.
#[test]
fn a_server_or_credential_helper_that_stalls_is_given_up() {
    let (dir, proj) = sandbox();
    let before = files_outside_castform(dir.path());
    for (answer, name) in [(Answer::Stall, "stall"), (Answer::Drip, "drip")] {
        let mut env = aws_env(&serve(answer));
        env.push(("CASTFORM_AWS_TIMEOUT", "3".into()));
        // deploy's preflight refuses (exit 2: nothing was touched); status fails (exit 1)
        for (args, exit) in [(&["status", "local"][..], 1), (&["deploy", "local", "--yes"][..], 2)] {
            let started = Instant::now();
            let out = run_aws(args, &proj, &env);
            let err = stderr(&out);
            assert_eq!(code(&out), exit, "{name} {args:?}: {err}");
            assert!(started.elapsed() < Duration::from_secs(30), "{name} {args:?}: {:?}", started.elapsed());
            assert!(err.contains("no answer in time (connecting is given 3 s"), "{name} {args:?}: {err}");
            assert!(err.contains("the call with its retries 3 s); the call was given up"), "{name} {args:?}: {err}");
            assert!(err.contains("help: check the network and AWS_ENDPOINT_URL"), "{name} {args:?}: {err}");
            assert_no_dump(&err);
        }
    }
    // a credential helper that never returns: it writes its pid, so the test ends it
    let pid_file = dir.path().join("helper.pid");
    std::fs::create_dir_all(proj.join(".aws")).unwrap();
    std::fs::write(
        proj.join(".aws/config"),
        format!("[profile stuck]\ncredential_process = sh -c 'echo $$ > {}; exec sleep 3600'\n", pid_file.display()),
    )
    .unwrap();
    let mut env = aws_env(&serve(Answer::Deny));
    env.retain(|(k, _)| !k.starts_with("AWS_ACCESS") && !k.starts_with("AWS_SECRET"));
    env.push(("AWS_PROFILE", "stuck".into()));
    env.push(("CASTFORM_AWS_TIMEOUT", "4".into()));
    let started = Instant::now();
    let out = run_aws(&["history", "local"], &proj, &env);
    if let Ok(pid) = std::fs::read_to_string(&pid_file) {
        let _ = Command::new("kill").arg(pid.trim()).status();
        std::fs::remove_file(&pid_file).unwrap();
    }
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    assert!(started.elapsed() < Duration::from_secs(30), "{:?}", started.elapsed());
    assert!(
        err.contains(
            "S3 HeadBucket s3://castform-000000000000-us-west-2: the AWS credentials were not ready within 3 s"
        ),
        "{err}"
    );
    assert!(err.contains("help: run the profile's credential helper by hand"), "{err}");
    std::fs::remove_dir_all(proj.join(".aws")).unwrap();
    assert_untouched(dir.path(), &before);
}

/// `sh -c` over a pipeline, returning castform's own exit status (`PIPESTATUS[0]`).
fn pipeline(castform_args: &str, tail: &str, root: &Path) -> (i32, String) {
    let script = format!(
        "NO_COLOR=1 '{}' {castform_args} --root '{}' {tail}; exit ${{PIPESTATUS[0]}}",
        env!("CARGO_BIN_EXE_castform"),
        root.display()
    );
    let out = Command::new("bash").arg("-c").arg(script).output().unwrap();
    (code(&out), stderr(&out))
}

/// Issue 36: `diff` exited 1 (its "they differ") when AWS could not be read; output lost to a
/// full disk exited 0; a failed check read through `| head -1` exited 0.
#[test]
fn exit_codes_never_lie() {
    let (dir, proj) = sandbox();
    let before = files_outside_castform(dir.path());
    // diff: 2, "could not tell", with the reason and in --json too
    let env = aws_env(&serve(Answer::Deny));
    let out = run_aws(&["diff", "local"], &proj, &env);
    let err = stderr(&out);
    assert_eq!(code(&out), 2, "{err}");
    assert!(err.contains("cannot tell whether lunora/local differs from what is deployed"), "{err}");
    assert!(err.contains("access denied (HTTP 403"), "{err}");
    let out = run_aws(&["diff", "local", "--json"], &proj, &env);
    assert_eq!(code(&out), 2);
    let last = String::from_utf8_lossy(&out.stdout).lines().last().unwrap_or_default().to_string();
    let doc: serde_json::Value = serde_json::from_str(&last).unwrap();
    assert_eq!(doc["exit_code"], 2, "{last}");
    // a full disk: stdout to /dev/full
    for args in ["synth dev", "check dev", "graph dev", "completions bash"] {
        let (exit, err) = pipeline(args, "> /dev/full", &proj);
        assert_eq!(exit, 1, "{args}: {err}");
        assert!(err.contains("error: the output could not be written: No space left on device"), "{args}: {err}");
        assert!(err.contains("help: free space where the output goes"), "{args}: {err}");
    }
    // a reader that goes away ends the output, not the exit code
    let failing = repo().join("tests/fixtures/rules/L01-fail.yaml");
    let (exit, err) = pipeline(&format!("check --template '{}'", failing.display()), "| head -1 > /dev/null", &proj);
    assert_eq!(exit, 2, "{err}");
    let (exit, err) = pipeline("synth --all", "| head -c 1 > /dev/null", &proj);
    assert_eq!(exit, 0, "{err}");
    assert_untouched(dir.path(), &before);
}

/// `tags:` of `n` entries in place of the file's own.
fn with_tags(file: &Path, n: usize) {
    let text = std::fs::read_to_string(file).unwrap();
    let mut out = String::new();
    let mut in_tags = false;
    for line in text.lines() {
        if in_tags && line.starts_with("  ") {
            continue;
        }
        in_tags = line == "tags:";
        out.push_str(line);
        out.push('\n');
        if in_tags {
            (0..n).for_each(|i| out.push_str(&format!("  Tag{i}: value-{i}\n")));
        }
    }
    std::fs::write(file, out).unwrap();
}

/// Issue 36: 10,000 tags took 40 s (quadratic) and more than AWS's 50 were accepted.
#[test]
fn tags_beyond_awss_limit_are_refused_at_once() {
    let (dir, proj) = sandbox();
    let file = proj.join("environments/lunora/dev.yaml");
    let original = std::fs::read_to_string(&file).unwrap();
    for (n, expected) in [(48, 0), (49, 2), (10_000, 2)] {
        std::fs::write(&file, &original).unwrap();
        with_tags(&file, n);
        let started = Instant::now();
        let out = run(&["synth", "dev"], &proj);
        let err = stderr(&out);
        assert_eq!(code(&out), expected, "{n} tags: {err}");
        assert!(started.elapsed() < Duration::from_secs(20), "{n} tags: {:?}", started.elapsed());
        if expected == 2 {
            assert!(
                err.contains(&format!("environments/lunora/dev.yaml:11:1: `tags` has {n} tags; AWS takes at most 50")),
                "{err}"
            );
            assert!(err.contains("help: keep at most 48 tags"), "{err}");
        } else {
            let data = std::fs::read_to_string(proj.join("out/lunora/dev/data.template.json")).unwrap();
            assert!(data.contains("\"Tag47\""), "every tag is on the resources");
        }
    }
    std::fs::write(&file, &original).unwrap();
    drop(dir);
}

/// Issue 36: `check` accepted a duplicate logical id in JSON (the first resource vanished) and a
/// `DependsOn` cycle CloudFormation refuses.
#[test]
fn check_refuses_a_duplicate_logical_id_and_a_circle() {
    let (dir, proj) = sandbox();
    let dup = dir.path().join("dup.json");
    std::fs::write(
        &dup,
        "{\n  \"Resources\": {\n    \"Queue\": {\"Type\": \"AWS::SQS::Queue\"},\n    \"Queue\": {\"Type\": \"AWS::SNS::Topic\"}\n  }\n}\n",
    )
    .unwrap();
    let circle = dir.path().join("circle.json");
    std::fs::write(
        &circle,
        r#"{"Resources": {"A": {"Type": "AWS::SQS::Queue", "DependsOn": "B"}, "B": {"Type": "AWS::SQS::Queue", "DependsOn": ["A"]}}}"#,
    )
    .unwrap();
    let before = files_outside_castform(dir.path());
    let out = run(&["check", "--template", dup.to_str().unwrap()], &proj);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(code(&out), 2, "{all}");
    assert!(all.contains("T06") && all.contains("dup.json:4:"), "{all}");
    assert!(all.contains("the key `Queue` is given twice in one object"), "{all}");
    let out = run(&["check", "--template", circle.to_str().unwrap()], &proj);
    let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(&out));
    assert_eq!(code(&out), 2, "{all}");
    assert!(all.contains("error T07 A (AWS::SQS::Queue)") && all.contains("circular dependency: A -> B -> A"), "{all}");
    assert!(all.contains("fix: break the circle"), "{all}");
    assert_untouched(dir.path(), &before);
}

/// A TLS server on 127.0.0.1 whose certificate is signed by `tests/fixtures/tls/ca.pem` (a test
/// authority made for these tests, valid until 2126); it answers every request with a bare 403.
fn serve_tls_deny() -> String {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    use std::io::{Read, Write};
    let dir = repo().join("tests/fixtures/tls");
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(dir.join("server.pem")).unwrap().map(Result::unwrap).collect();
    let key = PrivateKeyDer::from_pem_file(dir.join("server.key")).unwrap();
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let config = std::sync::Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(tcp) = conn else { continue };
            let config = config.clone();
            std::thread::spawn(move || {
                let Ok(session) = rustls::ServerConnection::new(config) else { return };
                let mut tls = rustls::StreamOwned::new(session, tcp);
                let mut req = vec![];
                let mut buf = [0u8; 8192];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match tls.read(&mut buf) {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = tls.write_all(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
                let _ = tls.flush();
                std::thread::sleep(Duration::from_millis(100));
            });
        }
    });
    format!("https://127.0.0.1:{port}")
}

/// Issue 36: `AWS_CA_BUNDLE` was ignored by the SDK's clients, so an endpoint behind a private
/// authority (a proxy, the emulator) could not be reached; a bundle that is no PEM, or whose
/// certificate does not parse, must not panic the SDK's HTTP client either.
#[test]
fn aws_ca_bundle_is_trusted_by_the_sdk_clients() {
    let (dir, proj) = sandbox();
    let mut env = aws_env(&serve_tls_deny());
    env.push(("AWS_CA_BUNDLE", repo().join("tests/fixtures/tls/ca.pem").into()));
    let out = run_aws(&["history", "local"], &proj, &env);
    let err = stderr(&out);
    assert_eq!(code(&out), 1, "{err}");
    // the TLS handshake went through: the server's own answer is what is reported
    assert!(
        err.contains("S3 HeadBucket s3://castform-000000000000-us-west-2: AccessDenied: access denied (HTTP 403"),
        "{err}"
    );
    // bundles that cannot be used, over plain HTTP: the run goes on without them, no panic
    let garbage = dir.path().join("garbage.pem");
    std::fs::write(&garbage, "-----BEGIN CERTIFICATE-----\naGVsbG8gd29ybGQ=\n-----END CERTIFICATE-----\n").unwrap();
    let broken = dir.path().join("broken.pem");
    std::fs::write(&broken, "-----BEGIN CERTIFICATE-----\n!!!!\n").unwrap();
    let before = files_outside_castform(dir.path());
    let deny = serve(Answer::Deny);
    for bundle in [garbage.as_os_str(), broken.as_os_str(), OsStr::new("/dev/zero"), OsStr::new("/nonexistent")] {
        let mut env = aws_env(&deny);
        env.push(("AWS_CA_BUNDLE", bundle.into()));
        let out = run_aws(&["history", "local"], &proj, &env);
        let err = stderr(&out);
        assert_eq!(code(&out), 1, "{bundle:?}: {err}");
        assert!(err.contains("AccessDenied: access denied (HTTP 403"), "{bundle:?}: {err}");
    }
    assert_untouched(dir.path(), &before);
}
