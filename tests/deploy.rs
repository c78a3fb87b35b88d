//! `castform deploy` end to end against the local AWS emulator (LocalStack on 127.0.0.1, one per
//! test, on a free port), through the same binary and code path a user runs.

mod common;

use castform::aws::{AwsCloud, Cloud};
use common::{Emulator, project_copy, wait_for};
use serde_json::Value;
use std::path::Path;

fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn json(out: &std::process::Output) -> Value {
    serde_json::from_str(&ok(out)).unwrap()
}

fn cloud(emu: &Emulator) -> (tokio::runtime::Runtime, AwsCloud) {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let c = rt.block_on(AwsCloud::with_static_credentials("us-west-2", &emu.endpoint(), "test", "test"));
    (rt, c)
}

fn deployed(emu: &Emulator, root: &Path) -> (Value, Value) {
    ok(&emu.castform(&["bootstrap", "local"], root));
    let out = emu.castform(&["deploy", "local"], root);
    let stdout = ok(&out);
    assert!(stdout.contains("deployed "), "{stdout}");
    let outputs = json(&emu.castform(&["outputs", "local", "--json"], root));
    let history = json(&emu.castform(&["history", "local", "--json"], root));
    (outputs, history)
}

/// Every resource the deploy relies on was really created: the emulator reports types it
/// cannot create with the physical id `unknown`, so look.
fn assert_really_created(rt: &tokio::runtime::Runtime, c: &AwsCloud, stacks: &[&str]) {
    for s in stacks {
        common::assert_all_real(&rt.block_on(c.list_stack_resources(s)).unwrap(), s);
    }
}

#[test]
fn deploy_local_from_scratch_then_again_without_change_sets() {
    let emu = Emulator::start();
    let dir = project_copy();
    let (outputs, history) = deployed(&emu, dir.path());
    let url = outputs["api"]["ApiUrl"].as_str().unwrap().to_string();
    // the deployed Node.js code answers the health route
    let (status, body) = emu.get_url(&url, "/health");
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["status"], "ok");
    assert_eq!(health["environment"], "local");
    // the API reads its table through the wiring
    let (status, body) = emu.get_url(&url, "/api/destinations");
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["count"], 0);
    // media review L7: the URL (AuthType AWS_IAM) refuses an anonymous caller and a wrong
    // signature, as Lambda does
    let (status, _) = emu.call_url_unsigned("GET", &url, "/api/destinations", None);
    assert_eq!(status, 403);
    let host = url.trim_start_matches("http://").trim_end_matches('/');
    let forged = [(
        "Authorization".to_string(),
        format!(
            "AWS4-HMAC-SHA256 Credential=test/20261201/us-west-2/lambda/aws4_request, SignedHeaders=host, Signature={}",
            "0".repeat(64)
        ),
    )];
    assert_eq!(emu.send_with("GET", "/health", Some(host), None, &forged).unwrap().0, 403);
    // the site reaches it through its own distribution (same origin: no CORS), reads only;
    // CloudFront signs with the origin access control, as the function's permissions allow
    let site = outputs["web"]["SiteUrl"].as_str().unwrap().to_string();
    let (status, body) = emu.get_url(&site, "/api/destinations");
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["count"], 0);
    // a write through the distribution needs an operator's sign-in (the operators' user pool,
    // which only an administrator fills); one signed with IAM credentials at the URL does not
    let body = "{}";
    let hash = castform::template::sha256_hex(body.as_bytes());
    let through_site = |token: Option<&str>| {
        let mut headers = vec![
            ("x-amz-content-sha256".to_string(), hash.clone()),
            ("X-Forwarded-Proto".to_string(), "https".to_string()),
        ];
        if let Some(t) = token {
            headers.push(("x-operator-token".to_string(), t.to_string()));
        }
        let host = site.trim_start_matches("https://").to_string();
        emu.send_with("POST", "/api/destinations", Some(&host), Some(body), &headers).unwrap()
    };
    let (status, answer) = through_site(None);
    assert_eq!(status, 401, "{answer}");
    assert_eq!(through_site(Some("not.a.token")).0, 403);
    let pool = outputs["api"]["OperatorsId"].as_str().unwrap().to_string();
    let client_id = outputs["api"]["OperatorsClientId"].as_str().unwrap().to_string();
    let (operator, password) = ("operator@example.com", "Long3nough!Passw0rd");
    let signed_in = emu.sign_in("us-west-2", &pool, &client_id, operator, password);
    let token = signed_in["AccessToken"].as_str().unwrap().to_string();
    // past the gate: the destination's own validation answers (no name, no platform)
    let (status, answer) = through_site(Some(&token));
    assert_eq!(status, 400, "{answer}");
    let (status, answer) = emu.call_url("POST", &url, "/api/destinations", Some(body));
    assert_eq!(status, 400, "an IAM-signed write at the URL needs no operator token: {answer}");
    // the dashboard's own sign-in (assets/lunora-site/app.js, run by node as the page runs it):
    // an administrator creates the operator with a temporary password, the first sign-in must
    // choose a new one, then a write through the distribution is accepted, and a bad one is
    // answered by the API's validation
    let (operator, temporary) = ("dashboard@example.com", "Temp0rary!Passw0rd");
    emu.aws(
        "us-west-2",
        &[
            "cognito-idp",
            "admin-create-user",
            "--user-pool-id",
            &pool,
            "--username",
            operator,
            "--temporary-password",
            temporary,
            "--message-action",
            "SUPPRESS",
        ],
    )
    .unwrap();
    let port = emu.endpoint().rsplit(':').next().unwrap().to_string();
    let page = std::process::Command::new("node")
        .arg(common::repo().join("tests/fixtures/site/dashboard-sign-in.mjs"))
        .env("EMU_PORT", &port)
        .env("SITE_URL", &site)
        .env("APP_JS", dir.path().join("assets/lunora-site/app.js"))
        .env("EMAIL", operator)
        .env("PASSWORD", temporary)
        .env("NEW_PASSWORD", "N3w!Operator-Passw0rd")
        .output()
        .unwrap();
    assert!(page.status.success(), "{}", String::from_utf8_lossy(&page.stderr));
    let r: Value = serde_json::from_slice(&page.stdout).unwrap();
    assert_eq!(r["operatorsClientId"], client_id.as_str(), "config.js names the operators' app client");
    assert_eq!(r["unsignedWrite"], "sign in first");
    assert!(r["firstSignIn"].as_str().unwrap().contains("choose a new password"), "{r}");
    assert_eq!(r["signedIn"], true, "{r}");
    assert_eq!(r["added"]["status"], 201, "{r}");
    assert_eq!(r["invalid"]["status"], 400, "{r}");
    assert_eq!(r["addedChunked"]["status"], 201, "a chunked upload reaches the API whole: {r}");
    assert_eq!(r["listed"]["count"], 2, "{r}");
    // config.js in the site bucket names the site itself as the API's address
    let (rt, c) = cloud(&emu);
    let bucket = outputs["web"]["SiteBucketName"].as_str().unwrap();
    let config = String::from_utf8(rt.block_on(c.get_object(bucket, "config.js")).unwrap().unwrap()).unwrap();
    assert!(config.contains(&format!("apiUrl: \"{site}\"")), "{config}");
    assert!(rt.block_on(c.get_object(bucket, "index.html")).unwrap().is_some());
    assert_really_created(
        &rt,
        &c,
        &[
            "lunora-player-local-data",
            "lunora-player-local-media",
            "lunora-player-local-web",
            "lunora-player-local-api",
        ],
    );
    // every stack was deployed by CloudFormation with the environment's deploy role (bootstrap's)
    for s in ["data", "media", "web", "api"] {
        let d = emu
            .aws(
                "us-west-2",
                &["cloudformation", "describe-stacks", "--stack-name", &format!("lunora-player-local-{s}")],
            )
            .unwrap();
        assert_eq!(d["Stacks"][0]["RoleARN"], "arn:aws:iam::000000000000:role/lunora-player-local-cfn-exec", "{s}");
    }
    // the role is CloudFormation's alone, allowed what the handlers of the app's types call
    let role = emu.aws("us-east-1", &["iam", "get-role", "--role-name", "lunora-player-local-cfn-exec"]).unwrap();
    let trust = role["Role"]["AssumeRolePolicyDocument"].to_string();
    assert!(trust.contains("cloudformation.amazonaws.com"), "{trust}");
    let policy = emu
        .aws(
            "us-east-1",
            &[
                "iam",
                "get-role-policy",
                "--role-name",
                "lunora-player-local-cfn-exec",
                "--policy-name",
                "resource-type-handlers",
            ],
        )
        .unwrap();
    let actions = policy["PolicyDocument"]["Statement"][0]["Action"].to_string();
    for a in ["mediaconnect:CreateFlow", "lambda:CreateFunction", "dynamodb:CreateTable", "medialive:CreateChannel"] {
        assert!(actions.contains(a), "{a} in {actions}");
    }
    // Lunora has no queue, schedule or HTTP API: their services' actions are not there
    assert!(
        !actions.contains("sqs:")
            && !actions.contains("scheduler:")
            && !actions.contains("apigateway:")
            && !actions.contains("\"*\""),
        "only the app's types: {actions}"
    );
    let first = &history.as_array().unwrap()[0];
    assert_eq!(first["result"], "succeeded");
    assert!(first["stacks"].as_object().unwrap().values().all(|s| s["changed"] == true));

    // again, nothing changed: no change set, outputs still read, still verified
    let out = emu.castform(&["deploy", "local"], dir.path());
    let stdout = ok(&out);
    assert!(stdout.contains("(0 of 5 stacks changed)"), "{stdout}");
    let history = json(&emu.castform(&["history", "local", "--json"], dir.path()));
    let records = history.as_array().unwrap();
    assert_eq!(records.len(), 2);
    let second = &records[1];
    assert!(
        second["stacks"].as_object().unwrap().values().all(|s| s["changed"] == false && s.get("change_set").is_none())
    );
    assert_eq!(second["urls"]["api.ApiUrl"], url);
    assert!(second["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true));
    assert!(
        second["backup"]["location"]
            .as_str()
            .unwrap()
            .starts_with("s3://castform-000000000000-us-west-2/lunora/local/backups/")
    );
    // history lists both, with their URLs and backups
    let text = ok(&emu.castform(&["history", "local"], dir.path()));
    assert_eq!(text.matches("deploy   succeeded").count(), 2, "{text}");
    assert_eq!(text.matches(&url).count(), 2, "{text}");
    assert_eq!(text.matches("backup ").count(), 2, "{text}");

    // seed 002's rate limiting: the web ACL in front of the distribution (its own stack in
    // us-east-1, as CloudFront requires) answers 429 once one address has sent local's
    // web.rate_limit of 100 requests to /api/ within 60 s; the deploys' health checks and this
    // test's calls count too, so the block comes a few requests early
    let waf = emu
        .aws("us-east-1", &["cloudformation", "describe-stacks", "--stack-name", "lunora-player-local-waf"])
        .unwrap();
    assert_eq!(waf["Stacks"][0]["RoleARN"], "arn:aws:iam::000000000000:role/lunora-player-local-cfn-exec");
    // what WAF and CloudFront themselves say: the web ACL with local's limit, on the distribution
    let acls = emu.aws("us-east-1", &["wafv2", "list-web-acls", "--scope", "CLOUDFRONT"]).unwrap();
    let acl = &acls["WebACLs"][0];
    let full = emu
        .aws(
            "us-east-1",
            &[
                "wafv2",
                "get-web-acl",
                "--scope",
                "CLOUDFRONT",
                "--name",
                acl["Name"].as_str().unwrap(),
                "--id",
                acl["Id"].as_str().unwrap(),
            ],
        )
        .unwrap();
    let rate = &full["WebACL"]["Rules"][0]["Statement"]["RateBasedStatement"];
    assert_eq!((rate["Limit"].as_i64(), rate["EvaluationWindowSec"].as_i64()), (Some(100), Some(60)), "{full}");
    let dist_id = outputs["web"]["SiteDistributionId"].as_str().unwrap();
    let dist = emu.aws("us-east-1", &["cloudfront", "get-distribution-config", "--id", dist_id]).unwrap();
    assert_eq!(dist["DistributionConfig"]["WebACLId"], acl["ARN"]);
    let mut answered = vec![];
    for _ in 0..110 {
        let (status, _) = emu.get_url(&site, "/api/health");
        answered.push(status);
        if status == 429 {
            break;
        }
    }
    let blocked = answered.iter().position(|s| *s == 429).unwrap_or_else(|| panic!("never limited: {answered:?}"));
    assert!(answered[..blocked].iter().all(|s| *s == 200), "{answered:?}");
    assert!((85..=100).contains(&blocked), "blocked after {blocked} of this loop's requests");
    // the limit is the API's: the site itself still loads
    let (status, _) = emu.get_url(&site, "/config.js");
    assert_eq!(status, 200);
}

#[test]
fn a_code_change_uploads_a_new_asset_and_moves_the_alias() {
    let emu = Emulator::start();
    let dir = project_copy();
    let (outputs, history) = deployed(&emu, dir.path());
    let url = outputs["api"]["ApiUrl"].as_str().unwrap().to_string();
    let first_asset = history[0]["assets"][0].as_str().unwrap().to_string();
    let index = dir.path().join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, code.replace("const VERSION = '1';", "const VERSION = '2';")).unwrap();
    let out = emu.castform(&["deploy", "local"], dir.path());
    ok(&out);
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains(".zip uploaded"), "{progress}");
    assert!(progress.contains("Modify ApiLive (AWS::Lambda::Alias) replacement: False"), "{progress}");
    let history = json(&emu.castform(&["history", "local", "--json"], dir.path()));
    let second = &history[1];
    let second_asset = second["assets"][0].as_str().unwrap();
    assert_ne!(first_asset, second_asset, "a new content address");
    assert_eq!(second["stacks"]["api"]["changed"], true);
    assert_eq!(second["stacks"]["data"]["changed"], false);
    let (status, body) = emu.get_url(&url, "/health");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["version"], "2");
    // the alias points at the new published version: the one the new template defines
    let synth = castform_synth(&emu, dir.path());
    let api: Value = serde_json::from_str(&std::fs::read_to_string(synth.join("api.template.json")).unwrap()).unwrap();
    let new_version =
        api["Resources"].as_object().unwrap().keys().find(|k| k.starts_with("ApiVersion")).unwrap().clone();
    assert_eq!(api["Resources"]["ApiLive"]["Properties"]["FunctionVersion"]["Fn::GetAtt"][0], new_version.as_str());
    let (rt, c) = cloud(&emu);
    let versions: Vec<String> = rt
        .block_on(c.list_stack_resources("lunora-player-local-api"))
        .unwrap()
        .into_iter()
        .filter(|r| r.resource_type == "AWS::Lambda::Version")
        .map(|r| r.logical_id)
        .collect();
    assert!(versions.contains(&new_version), "{versions:?}");

    // the function hosts (Node.js processes the emulator started for the invocations above) end
    // with the emulator, however it ends: none is left behind by a test
    let hosts = String::from_utf8(
        std::process::Command::new("pgrep").args(["-P", &emu.pid().to_string(), "node"]).output().unwrap().stdout,
    )
    .unwrap();
    let hosts: Vec<String> = hosts.split_whitespace().map(str::to_string).collect();
    assert!(!hosts.is_empty(), "the invocations ran in function hosts");

    // gc with a retention of 1 frees the first deployment's backup, snapshot and code in the
    // versioned state bucket: no version of them is left (S3 keeps a plain delete's old bytes)
    let file = dir.path().join("environments/lunora/local.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, format!("{yaml}\nretention: 1\n")).unwrap();
    let out = emu.castform(&["gc", "local"], dir.path());
    ok(&out);
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed 1 older ones"), "{out:?}");
    let first_id = history[0]["id"].as_str().unwrap();
    let bucket = "castform-000000000000-us-west-2";
    let listed = emu.aws("us-west-2", &["s3api", "list-object-versions", "--bucket", bucket]).unwrap();
    let keys: Vec<&str> = ["Versions", "DeleteMarkers"]
        .iter()
        .flat_map(|k| listed[*k].as_array().into_iter().flatten())
        .filter_map(|v| v["Key"].as_str())
        .collect();
    assert!(keys.iter().any(|k| k.contains(second_asset)), "the kept deployment's code stays: {keys:?}");
    // (its ledger record stays: `history` still lists it, and a rollback to it is refused)
    let left: Vec<&&str> =
        keys.iter().filter(|k| (k.contains(first_id) && !k.contains("/ledger/")) || **k == first_asset).collect();
    assert!(left.is_empty(), "versions of the collected deployment left: {left:?}");
    // killed outright (SIGKILL, as a test runner that gives up would), the emulator cannot stop
    // its hosts; they notice and end within a few seconds
    let _ = std::process::Command::new("kill").args(["-KILL", &emu.pid().to_string()]).status();
    drop(emu);
    let started = std::time::Instant::now();
    let alive = || hosts.iter().filter(|p| std::path::Path::new(&format!("/proc/{p}")).exists()).count();
    while alive() > 0 && started.elapsed() < std::time::Duration::from_secs(15) {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(alive(), 0, "function hosts outlived their emulator: {hosts:?}");
}

#[test]
fn a_second_deploy_while_the_lock_is_held_is_refused() {
    let emu = Emulator::start();
    let dir = project_copy();
    ok(&emu.castform(&["bootstrap", "local"], dir.path()));
    let (rt, c) = cloud(&emu);
    let lock = r#"{"deployment":"20261122T000000Z-beef","owner":"ana","host":"build-7","started":"2026-11-22T00:00:00Z","command":"deploy"}"#;
    rt.block_on(c.put_object(
        "castform-000000000000-us-west-2",
        "lunora/local/lock.json",
        lock.as_bytes().to_vec(),
        "application/json",
        true,
    ))
    .unwrap();
    let out = emu.castform(&["deploy", "local"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "is being deployed by ana on build-7 since 2026-11-22T00:00:00Z (deployment 20261122T000000Z-beef)"
        ),
        "{stderr}"
    );
    assert!(stderr.contains("castform unlock local --restore"), "{stderr}");
    assert!(rt.block_on(c.describe_stack("lunora-player-local-data")).unwrap().is_none(), "nothing deployed");
    // the lock is still the other deploy's
    let held = rt.block_on(c.get_object("castform-000000000000-us-west-2", "lunora/local/lock.json")).unwrap().unwrap();
    assert_eq!(held, lock.as_bytes());
    let out = emu.castform(&["unlock", "local"], dir.path());
    assert_eq!(out.status.code(), Some(2), "unlock needs --restore or --force");
    let stdout = ok(&emu.castform(&["unlock", "local", "--force"], dir.path()));
    assert!(stdout.contains("broke the lock of deployment 20261122T000000Z-beef (ana on build-7"), "{stdout}");
    // the same lock, left by a run on a runner that is gone: recovered from this host (review
    // S3-21), taking the lock over and releasing it with S3's conditional requests
    rt.block_on(c.put_object(
        "castform-000000000000-us-west-2",
        "lunora/local/lock.json",
        lock.as_bytes().to_vec(),
        "application/json",
        true,
    ))
    .unwrap();
    let stdout = ok(&emu.castform(&["unlock", "local", "--restore"], dir.path()));
    assert!(stdout.contains("deploy 20261122T000000Z-beef (interrupted)"), "{stdout}");
    assert!(stdout.contains("the lock of local is released"), "{stdout}");
    let history = ok(&emu.castform(&["history", "local", "--json"], dir.path()));
    assert!(history.contains("killed before its backup was complete"), "{history}");
    ok(&emu.castform(&["deploy", "local"], dir.path()));
}

#[test]
fn the_wrong_account_is_refused_before_any_write() {
    let emu = Emulator::start();
    let dir = project_copy();
    ok(&emu.castform(&["bootstrap", "local"], dir.path()));
    let file = dir.path().join("environments/lunora/local.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("account: \"000000000000\"", "account: \"372241484305\"")).unwrap();
    let out = emu.castform(&["deploy", "local"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("the credentials are for account 000000000000"), "{stderr}");
    assert!(stderr.contains("environments/lunora/local.yaml is account 372241484305"), "{stderr}");
    let (rt, c) = cloud(&emu);
    assert!(rt.block_on(c.describe_stack("lunora-player-local-data")).unwrap().is_none());
    assert!(
        rt.block_on(c.list_objects("castform-000000000000-us-west-2", "lunora/")).unwrap().is_empty(),
        "no lock, no backup, no record"
    );
}

#[test]
fn a_region_mismatch_a_check_error_and_a_missing_bootstrap_are_refused() {
    let emu = Emulator::start();
    let dir = project_copy();
    // no bootstrap yet
    let out = emu.castform(&["deploy", "local"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("run `castform bootstrap local` first"), "{stderr}");
    ok(&emu.castform(&["bootstrap", "local"], dir.path()));
    // a check error (nodejs18.x, rule L02)
    let file = dir.path().join("environments/lunora/local.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("api:\n  memory_mb: 256", "api:\n  runtime: nodejs18.x\n  memory_mb: 256"))
        .unwrap();
    let out = emu.castform(&["deploy", "local"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("L02 Api (AWS::Lambda::Function)"), "{stderr}");
    std::fs::write(&file, &text).unwrap();
    // AWS_REGION says another region
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_castform"));
    cmd.args(["deploy", "local", "--root"]).arg(dir.path());
    for (k, v) in emu.env() {
        cmd.env(k, v);
    }
    let out = cmd.env("AWS_REGION", "eu-west-1").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("AWS_REGION is eu-west-1, but environments/lunora/local.yaml deploys to us-west-2"),
        "{stderr}"
    );
    // an environment that asks for confirmation (production) deploys only with its deploy role
    emu.aws("us-west-2", &["cloudformation", "delete-stack", "--stack-name", "lunora-player-local-castform-bootstrap"])
        .unwrap();
    wait_for("the bootstrap stack to go", || {
        emu.aws(
            "us-west-2",
            &["cloudformation", "describe-stacks", "--stack-name", "lunora-player-local-castform-bootstrap"],
        )
        .map(|s| s["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE")
        .unwrap_or(true)
    });
    std::fs::write(&file, text.replace("confirm: false", "confirm: true")).unwrap();
    let out = emu.castform(&["deploy", "local", "--yes", "--allow-dirty"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("has no deploy role") && stderr.contains("castform bootstrap local"), "{stderr}");
    let (rt, c) = cloud(&emu);
    assert!(rt.block_on(c.describe_stack("lunora-player-local-data")).unwrap().is_none());
}

#[test]
fn the_backup_of_a_deployed_environment_holds_byte_identical_code_and_templates() {
    let emu = Emulator::start();
    let dir = project_copy();
    deployed(&emu, dir.path());
    ok(&emu.castform(&["deploy", "local"], dir.path()));
    let history = json(&emu.castform(&["history", "local", "--json"], dir.path()));
    let id = history[1]["id"].as_str().unwrap();
    let local = dir.path().join(".castform/backups/lunora/local").join(id);
    let (rt, c) = cloud(&emu);
    for stack in ["data", "web", "api"] {
        let backed = std::fs::read_to_string(local.join(format!("stacks/{stack}/template.json"))).unwrap();
        let deployed = rt.block_on(c.get_template(&format!("lunora-player-local-{stack}"))).unwrap();
        assert_eq!(backed, deployed, "{stack}");
        // and it is the template castform synthesized
        let synth =
            std::fs::read_to_string(castform_synth(&emu, dir.path()).join(format!("{stack}.template.json"))).unwrap();
        assert_eq!(backed, synth);
    }
    let code = std::fs::read(local.join("functions/api/Api/code.zip")).unwrap();
    let (built, _) = castform::template::zip_folder(dir.path(), Path::new("assets/lunora-api")).unwrap();
    assert_eq!(code, built, "the deployed code, byte for byte");
    // the copy in the state bucket matches the local one
    let remote = rt
        .block_on(c.get_object(
            "castform-000000000000-us-west-2",
            &format!("lunora/local/backups/{id}/functions/api/Api/code.zip"),
        ))
        .unwrap()
        .unwrap();
    assert_eq!(remote, code);
    let backup: Value = serde_json::from_slice(&std::fs::read(local.join("backup.json")).unwrap()).unwrap();
    assert_eq!(
        backup["files"].as_array().unwrap().iter().filter(|f| f["item"].is_string()).count(),
        6,
        "config.js and five site files"
    );
}

fn castform_synth(emu: &Emulator, root: &Path) -> std::path::PathBuf {
    ok(&emu.castform(&["synth", "local", "--out", "synth-check"], root));
    root.join("synth-check/lunora/local")
}

fn set_version(root: &Path, version: &str, extra: &str) {
    let index = root.join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    let start = code.find("const VERSION = '").unwrap();
    let end = code[start..].find(";\n").unwrap() + start + 2;
    let replaced = format!("{}const VERSION = '{version}';\n{extra}{}", &code[..start], &code[end..]);
    std::fs::write(&index, replaced).unwrap();
}

fn health_version(emu: &Emulator, url: &str) -> (u16, String) {
    let (status, body) = emu.get_url(url, "/health");
    let v = serde_json::from_str::<Value>(&body)
        .ok()
        .and_then(|v| v["version"].as_str().map(str::to_string))
        .unwrap_or_default();
    (status, v)
}

#[test]
fn rollback_returns_the_api_and_config_js_to_the_first_deployment() {
    let emu = Emulator::start();
    let dir = project_copy();
    let (outputs, _) = deployed(&emu, dir.path());
    let url = outputs["api"]["ApiUrl"].as_str().unwrap().to_string();
    let bucket = outputs["web"]["SiteBucketName"].as_str().unwrap().to_string();
    let (rt, c) = cloud(&emu);
    let first_config = rt.block_on(c.get_object(&bucket, "config.js")).unwrap().unwrap();
    set_version(dir.path(), "2", "");
    ok(&emu.castform(&["deploy", "local"], dir.path()));
    assert_eq!(health_version(&emu, &url), (200, "2".to_string()));
    let second_config = rt.block_on(c.get_object(&bucket, "config.js")).unwrap().unwrap();
    assert_ne!(first_config, second_config, "each deployment writes its id into config.js");

    // the old code answers as soon as the alias is back, before the rollback has finished
    let started = std::time::Instant::now();
    let rolling = emu
        .castform_command(&["rollback", "local"], dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let old_code_after = loop {
        if health_version(&emu, &url) == (200, "1".to_string()) {
            break started.elapsed();
        }
        assert!(started.elapsed() < std::time::Duration::from_secs(120), "the old code never answered");
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let out = rolling.wait_with_output().unwrap();
    let whole = started.elapsed();
    let stdout = ok(&out);
    eprintln!("time to restore service: old code after {old_code_after:?}, rollback done after {whole:?}");
    assert!(old_code_after < whole, "the old code answered before the rollback ended");
    assert!(stdout.contains("time to restore") && stdout.contains("until the old code answered"), "{stdout}");
    let history = json(&emu.castform(&["history", "local", "--json"], dir.path()));
    let first_id = history[0]["id"].as_str().unwrap();
    assert!(stdout.contains(&format!("rolled local back to {first_id}")), "{stdout}");
    assert_eq!(health_version(&emu, &url), (200, "1".to_string()), "the first deployment's code answers");
    let config = rt.block_on(c.get_object(&bucket, "config.js")).unwrap().unwrap();
    assert_eq!(config, first_config, "config.js is the first deployment's, byte for byte");
    let last = &history[2];
    assert_eq!(
        (last["kind"].as_str(), last["result"].as_str(), last["restored_to"].as_str()),
        (Some("rollback"), Some("succeeded"), Some(first_id))
    );
    let text = ok(&emu.castform(&["history", "local"], dir.path()));
    assert!(text.contains(&format!("→ back to {first_id}")), "{text}");
    // an unknown target is refused
    let out = emu.castform(&["rollback", "local", "--to", "nope"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no deployment nope in the history"));
}

#[test]
fn a_deploy_whose_api_fails_its_health_check_is_restored_to_the_old_code() {
    let emu = Emulator::start();
    let dir = project_copy();
    let (outputs, _) = deployed(&emu, dir.path());
    let url = outputs["api"]["ApiUrl"].as_str().unwrap().to_string();
    let bucket = outputs["web"]["SiteBucketName"].as_str().unwrap().to_string();
    let (rt, c) = cloud(&emu);
    let before = rt.block_on(c.get_object(&bucket, "config.js")).unwrap().unwrap();
    let template_before = rt.block_on(c.get_template("lunora-player-local-api")).unwrap();
    // version 2 throws when it loads: the stack update succeeds, the health route does not
    set_version(dir.path(), "2", "throw new Error('version 2 is broken');\n");
    let out = emu.castform(&["deploy", "local"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("verification failed: health"), "{stderr}");
    assert!(stderr.contains("restored from the backup: "), "{stderr}");
    assert!(stderr.contains("stack lunora-player-local-api (template and parameters of the backup)"), "{stderr}");
    assert_eq!(health_version(&emu, &url), (200, "1".to_string()), "the old code answers again");
    assert_eq!(rt.block_on(c.get_template("lunora-player-local-api")).unwrap(), template_before);
    assert_eq!(rt.block_on(c.get_object(&bucket, "config.js")).unwrap().unwrap(), before);
    let history = json(&emu.castform(&["history", "local", "--json"], dir.path()));
    assert_eq!(history[1]["result"], "rolled-back");
    assert!(history[1]["error"].as_str().unwrap().contains("verification failed"));
    // the lock was released
    assert!(rt.block_on(c.get_object("castform-000000000000-us-west-2", "lunora/local/lock.json")).unwrap().is_none());

    // the same broken code as a first deploy: the restore deletes every stack the run made, and
    // the site bucket it had filled is emptied first, as S3 deletes only an empty bucket (the
    // emulator refuses a full one, as AWS does: without that, the web stack ends DELETE_FAILED)
    ok(&emu.castform(&["destroy", "local", "--yes"], dir.path()));
    let out = emu.castform(&["deploy", "local"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("stack lunora-player-local-web (deleted: it did not exist before)"), "{stderr}");
    assert!(stderr.contains("emptied s3://"), "{stderr}");
    for stack in ["data", "api", "web", "waf"] {
        let region = if stack == "waf" { "us-east-1" } else { "us-west-2" };
        let gone = rt.block_on(c.for_region(region).describe_stack(&format!("lunora-player-local-{stack}"))).unwrap();
        assert!(gone.is_none(), "{stack}: {gone:?}");
    }
    let history = json(&emu.castform(&["history", "local", "--json"], dir.path()));
    assert_eq!(history.as_array().unwrap().last().unwrap()["result"], "rolled-back");
}

#[test]
fn a_confirm_environment_asks_refuses_a_dirty_tree_and_json_is_one_event_per_line() {
    let emu = Emulator::start();
    let dir = project_copy();
    ok(&emu.castform(&["bootstrap", "local"], dir.path()));
    let file = dir.path().join("environments/lunora/local.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("confirm: false", "confirm: true")).unwrap();
    // the tree is not committed code (this copy is not even a git repository)
    let out = emu.castform(&["deploy", "local", "--yes"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("uncommitted changes") && stderr.contains("--allow-dirty"), "{stderr}");
    // not interactive, no --yes
    let out = emu.castform(&["deploy", "local", "--allow-dirty"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("asks for confirmation and this run is not interactive") && stderr.contains("--yes"),
        "{stderr}"
    );
    // at the prompt, on a terminal (script(1) gives it one), Ctrl-C ends the run at once:
    // refused, nothing written, no waiting for Enter
    {
        use std::io::{Read, Write};
        let bin = env!("CARGO_BIN_EXE_castform");
        // `exec`: script(1) runs the line with $SHELL, and a shell that stays as castform's parent
        // (dash, CI's /bin/sh) dies of the same Ctrl-C itself, so script would report 130 for it
        let line = format!("exec {bin} deploy local --allow-dirty --root {}", dir.path().display());
        let cmd = emu.castform_command(&[], dir.path());
        let mut child = std::process::Command::new("script")
            .args(["-qefc", &line, "/dev/null"])
            .envs(cmd.get_envs().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))))
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
            .env("SHELL", "/bin/sh")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let mut seen = Vec::new();
        let mut buf = [0u8; 512];
        while !String::from_utf8_lossy(&seen).contains("type the environment's name") {
            let n = stdout.read(&mut buf).unwrap();
            assert!(n > 0, "no prompt: {}", String::from_utf8_lossy(&seen));
            seen.extend_from_slice(&buf[..n]);
        }
        let asked = std::time::Instant::now();
        child.stdin.as_mut().unwrap().write_all(b"\x03").unwrap();
        let status = child.wait().unwrap();
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(20),
            "Ctrl-C at the prompt took {:?}",
            asked.elapsed()
        );
        assert_eq!(status.code(), Some(2), "{}", String::from_utf8_lossy(&seen));
    }
    let (rt, c) = cloud(&emu);
    assert!(rt.block_on(c.describe_stack("lunora-player-local-data")).unwrap().is_none(), "nothing deployed");
    // told so: deploys, one JSON object per line, the record last
    let out = emu.castform(&["deploy", "local", "--yes", "--allow-dirty", "--json"], dir.path());
    let stdout = ok(&out);
    let events: Vec<Value> =
        stdout.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert!(events.iter().any(|e| e["event"] == "step" && e["step"] == "backup"));
    assert!(events.iter().any(|e| e["event"] == "stack" && e["stack"] == "api" && e["state"] == "CREATE_COMPLETE"));
    let last = events.last().unwrap();
    assert_eq!(last["event"], "record");
    assert_eq!(last["record"]["result"], "succeeded");
    assert_eq!(last["record"]["dirty"], true);
}

/// SIGTERM (a cancelled CI job, a stopped container) while the stacks are being updated, with
/// stderr closed as by a terminal that went away: the run restores what it changed (no panic on
/// the closed pipe), records it, releases the lock and exits 3 (or 2 if nothing was changed
/// yet); the old code answers and the next deploy goes through.
#[test]
fn sigterm_during_the_stacks_restores_and_releases_the_lock() {
    use std::io::{BufRead, BufReader};
    let emu = Emulator::start();
    let dir = project_copy();
    let (outputs, _) = deployed(&emu, dir.path());
    let url = outputs["api"]["ApiUrl"].as_str().unwrap().to_string();
    let index = dir.path().join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, code.replace("const VERSION = '1';", "const VERSION = '2';")).unwrap();
    let mut child = emu
        .castform_command(&["deploy", "local"], dir.path())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut seen = String::new();
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("==> stacks") {
            let killed = std::process::Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
            assert!(killed.success());
            break;
        }
    }
    let out = child.wait_with_output().unwrap();
    let code = out.status.code();
    assert!(matches!(code, Some(3) | Some(2)), "exit {code:?} after SIGTERM:\n{seen}");
    let history = json(&emu.castform(&["history", "local", "--json"], dir.path()));
    let last = history.as_array().unwrap().last().unwrap().clone();
    if code == Some(3) {
        assert_eq!(last["result"], "rolled-back", "{last}");
        assert!(last["error"].as_str().unwrap().contains("SIGTERM"), "{last}");
    }
    let (status, body) = emu.get_url(&url, "/health");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["version"], "1", "the old code answers");
    let out = emu.castform(&["deploy", "local"], dir.path());
    ok(&out); // the lock was released
    let (_, body) = emu.get_url(&url, "/health");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["version"], "2");
}

/// Review S3-22: a second SIGTERM (a CI runner's cancellation sends SIGINT, then SIGTERM) while
/// the interrupted run restores is answered, and the restore goes on: exit 3, the old code
/// answers, the lock released.
#[test]
fn a_second_sigterm_during_the_restore_is_answered_and_the_restore_goes_on() {
    use std::io::{BufRead, BufReader};
    let emu = Emulator::start();
    let dir = project_copy();
    let (outputs, _) = deployed(&emu, dir.path());
    let url = outputs["api"]["ApiUrl"].as_str().unwrap().to_string();
    let index = dir.path().join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, code.replace("const VERSION = '1';", "const VERSION = '2';")).unwrap();
    let mut child = emu
        .castform_command(&["deploy", "local"], dir.path())
        .stderr(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let term = |pid: u32| {
        assert!(std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap().success());
    };
    let mut seen = String::new();
    let (mut first, mut second) = (false, false);
    for line in BufReader::new(child.stderr.take().unwrap()).lines() {
        let line = line.unwrap();
        seen.push_str(&line);
        seen.push('\n');
        if !first && line.contains("UPDATE_IN_PROGRESS") {
            first = true;
            term(child.id());
        } else if first && !second && line.contains("interrupted: restoring") {
            second = true;
            term(child.id());
        }
    }
    let status = child.wait().unwrap();
    assert!(second, "the run restored after the first SIGTERM:\n{seen}");
    assert_eq!(status.code(), Some(3), "{seen}");
    assert!(
        seen.contains("the restore goes on") && seen.contains("`castform unlock local --restore` resumes it"),
        "{seen}"
    );
    let (status, body) = emu.get_url(&url, "/health");
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["version"], "1", "the old code answers");
    ok(&emu.castform(&["deploy", "local"], dir.path())); // the lock was released
}

/// Issue 14: a function with an npm dependency is installed, bundled, deployed and runs on the
/// emulator. Our API gains the fixture's package.json, lock file and (tarball) dependency, and
/// its health answer says what the dependency returns.
#[test]
fn a_function_with_an_npm_dependency_is_bundled_deployed_and_runs() {
    let emu = Emulator::start();
    let dir = project_copy();
    let api = dir.path().join("assets/lunora-api");
    let fixture = common::repo().join("tests/fixtures/functions/with-dep");
    for f in ["package.json", "package-lock.json", "greet-1.0.0.tgz"] {
        std::fs::copy(fixture.join(f), api.join(f)).unwrap();
    }
    let index = api.join("index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    let code = code
        .replace(
            "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
            "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';\nimport { greet } from 'greet';",
        )
        .replace("service: 'lunora-api',", "service: 'lunora-api',\n        greeting: greet('lunora'),");
    assert!(code.contains("greet('lunora')"), "the API's code changed shape: update this test");
    std::fs::write(&index, code).unwrap();
    let (outputs, _) = deployed(&emu, dir.path());
    let url = outputs["api"]["ApiUrl"].as_str().unwrap().to_string();
    let (status, body) = emu.get_url(&url, "/health");
    assert_eq!(status, 200, "{body}");
    let health: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(health["greeting"], "hello lunora, from an npm dependency");
    // the bundle reads its tables like the unbundled code did
    let (status, body) = emu.get_url(&url, "/api/destinations");
    assert_eq!(status, 200, "{body}");
}
