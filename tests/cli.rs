//! The `castform` binary as a user runs it: synth output, errors and exit codes.

mod common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn castform(args: &[&str], root: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_castform"))
        .args(args)
        .arg("--root")
        .arg(root)
        .env("NO_COLOR", "1")
        .output()
        .expect("castform runs")
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A copy of the project's inputs (environments, assets, templates) in a temp dir.
fn project_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["environments", "assets", "templates"] {
        copy_dir(&repo().join(sub), &dir.path().join(sub));
    }
    dir
}

fn copy_dir(from: &Path, to: &Path) {
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

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn resources_of_type(t: &Value, ty: &str) -> Vec<(String, Value)> {
    t["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == ty)
        .map(|(k, r)| (k.clone(), r["Properties"].clone()))
        .collect()
}

#[test]
fn synth_all_writes_every_lunora_template_and_prod_has_the_whole_system() {
    let dir = project_copy();
    let out = castform(&["synth", "--all"], dir.path());
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    for env in ["local", "dev", "staging", "prod"] {
        let d = dir.path().join("out/lunora").join(env);
        assert!(d.join("manifest.json").is_file(), "{env}");
        for stack in ["data", "web", "api"] {
            assert!(d.join(format!("{stack}.template.json")).is_file(), "{env}/{stack}");
        }
    }
    let prod = dir.path().join("out/lunora/prod");
    let media = read_json(&prod.join("media.template.json"));
    let (_, flow) = &resources_of_type(&media, "AWS::MediaConnect::Flow")[0];
    assert_eq!(flow["Source"]["IngestPort"], 9998);
    assert_eq!(flow["Source"]["Decryption"]["KeyType"], "srt-password");
    assert_eq!(resources_of_type(&media, "AWS::SecretsManager::Secret").len(), 1);
    assert_eq!(resources_of_type(&media, "AWS::MediaLive::Channel").len(), 1);
    assert_eq!(resources_of_type(&media, "AWS::MediaPackage::OriginEndpoint").len(), 1);
    let data = read_json(&prod.join("data.template.json"));
    assert_eq!(resources_of_type(&data, "AWS::DynamoDB::Table").len(), 5);
    let api = read_json(&prod.join("api.template.json"));
    let urls = resources_of_type(&api, "AWS::Lambda::Url");
    assert_eq!(urls.len(), 1);
    // media review L7: the URL answers only signed requests, nobody is granted it publicly
    assert_eq!(urls[0].1["AuthType"], "AWS_IAM");
    assert!(resources_of_type(&api, "AWS::Lambda::Permission").is_empty());
    let web = read_json(&prod.join("web.template.json"));
    let oacs = resources_of_type(&web, "AWS::CloudFront::OriginAccessControl");
    let types: Vec<&str> = oacs
        .iter()
        .map(|(_, o)| o["OriginAccessControlConfig"]["OriginAccessControlOriginType"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["s3", "lambda"]);
    assert_eq!(resources_of_type(&web, "AWS::CloudFront::Distribution").len(), 1);
    // CloudFront, for this distribution only, is granted both actions a URL call needs
    let perms = resources_of_type(&web, "AWS::Lambda::Permission");
    let mut actions: Vec<&str> = perms.iter().map(|(_, p)| p["Action"].as_str().unwrap()).collect();
    actions.sort();
    assert_eq!(actions, ["lambda:InvokeFunction", "lambda:InvokeFunctionUrl"]);
    assert!(perms.iter().all(|(_, p)| p["Principal"] == "cloudfront.amazonaws.com" && p.get("SourceArn").is_some()));
    // the manifest wires the api's parameters to the other stacks' outputs
    let manifest = read_json(&prod.join("manifest.json"));
    let api_stack = manifest["stacks"].as_array().unwrap().iter().find(|s| s["name"] == "api").unwrap();
    assert_eq!(api_stack["parameters"]["MediaIngestArn"]["output"], "IngestArn");
    assert_eq!(api_stack["depends_on"], serde_json::json!(["data", "media"]));
    let web_stack = manifest["stacks"].as_array().unwrap().iter().find(|s| s["name"] == "web").unwrap();
    assert_eq!(web_stack["depends_on"], serde_json::json!(["api", "media", "waf"]));
    // the rate limit: a web ACL in us-east-1 (CloudFront takes none from another region), on the
    // distribution, 429 for an address over prod's 600 requests in 5 minutes under /api/
    let waf = read_json(&prod.join("waf.template.json"));
    let acl = &waf["Resources"]["ApiRateLimit"]["Properties"];
    assert_eq!(acl["Scope"], "CLOUDFRONT");
    let rate = &acl["Rules"][0]["Statement"]["RateBasedStatement"];
    assert_eq!((rate["Limit"].as_i64(), rate["EvaluationWindowSec"].as_i64()), (Some(600), Some(300)));
    assert_eq!(rate["ScopeDownStatement"]["ByteMatchStatement"]["SearchString"], "/api/");
    assert_eq!(acl["Rules"][0]["Action"]["Block"]["CustomResponse"]["ResponseCode"], 429);
    let waf_stack = manifest["stacks"].as_array().unwrap().iter().find(|s| s["name"] == "waf").unwrap();
    assert_eq!(waf_stack["region"], "us-east-1");
    let web = read_json(&prod.join("web.template.json"));
    assert_eq!(
        web["Resources"]["SiteDistribution"]["Properties"]["DistributionConfig"]["WebACLId"],
        serde_json::json!({"Ref": "WafApiRateLimitArn"})
    );
    assert_eq!(api_stack["assets"][0]["key"].as_str().unwrap().len(), "assets/.zip".len() + 64);
}

#[test]
fn no_template_holds_an_import_a_literal_region_or_account_or_a_placeholder() {
    let dir = project_copy();
    assert!(castform(&["synth", "--all"], dir.path()).status.success());
    let forbidden = [
        "Fn::ImportValue",
        "us-west-2",
        "us-east-1",
        "372241484305",
        "000000000000",
        "PLACEHOLDER",
        "TODO",
        "example.com",
        "xxxx",
    ];
    let mut checked = 0;
    for env in ["local", "dev", "staging", "prod"] {
        for e in std::fs::read_dir(dir.path().join("out/lunora").join(env)).unwrap() {
            let p = e.unwrap().path();
            if p.to_string_lossy().ends_with(".template.json") {
                let body = std::fs::read_to_string(&p).unwrap();
                for f in forbidden {
                    assert!(!body.contains(f), "{} contains {f}", p.display());
                }
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 18, "lunora: 5 stacks in each of local, staging, prod (waf among them), 3 in dev");
}

#[test]
fn synth_is_deterministic() {
    let dir = project_copy();
    assert!(castform(&["synth", "prod", "--out", "a"], dir.path()).status.success());
    assert!(castform(&["synth", "prod", "--out", "b"], dir.path()).status.success());
    for f in ["api.template.json", "data.template.json", "media.template.json", "web.template.json", "manifest.json"] {
        let a = std::fs::read(dir.path().join("a/lunora/prod").join(f)).unwrap();
        let b = std::fs::read(dir.path().join("b/lunora/prod").join(f)).unwrap();
        assert_eq!(a, b, "{f}");
    }
}

#[test]
fn yaml_output_is_the_same_document() {
    let dir = project_copy();
    assert!(castform(&["synth", "prod", "--out", "j"], dir.path()).status.success());
    assert!(castform(&["synth", "prod", "--out", "y", "--format", "yaml"], dir.path()).status.success());
    let json = read_json(&dir.path().join("j/lunora/prod/api.template.json"));
    let yaml: Value =
        serde_yaml::from_str(&std::fs::read_to_string(dir.path().join("y/lunora/prod/api.template.yaml")).unwrap())
            .unwrap();
    assert_eq!(json, yaml);
}

#[test]
fn a_malformed_environment_names_file_line_key_exits_2_and_writes_nothing() {
    let cases = [
        ("  memory_mb: 256\n", "  memory_mb: 256\n  memroy: 1\n", "`api.memroy` is not a known key"),
        ("  memory_mb: 256\n", "  memory_mb: plenty\n", "`api.memory_mb` invalid type"),
        (
            "ingest_cidr: 203.0.113.10/32",
            "ingest_cidr: 203.0.113.300/32",
            "`media.ingest_cidr` is \"203.0.113.300/32\"",
        ),
        ("account: \"372241484305\"", "account: \"3722\"", "`account` is \"3722\", expected a 12-digit AWS account id"),
    ];
    for (from, to, expected) in cases {
        let dir = project_copy();
        let file = dir.path().join("environments/lunora/prod.yaml");
        let text = std::fs::read_to_string(&file).unwrap();
        assert!(text.contains(from), "{from}");
        std::fs::write(&file, text.replacen(from, to, 1)).unwrap();
        let out = castform(&["synth", "--all"], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("environments/lunora/prod.yaml:"), "{stderr}");
        assert!(stderr.contains(expected), "expected {expected:?} in {stderr}");
        assert!(stderr.contains("help:"), "{stderr}");
        assert!(!dir.path().join("out").exists(), "nothing is written when an environment is bad");
    }
}

#[test]
fn a_missing_environment_or_app_is_a_clear_error() {
    let dir = project_copy();
    let out = castform(&["synth", "qa"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("environments of lunora: dev, local, prod, staging"));
    let out = castform(&["synth"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("name an environment"));
}

/// `unlock` says which of its two ways to take (restore the stopped run's environment, or only
/// break the lock) before it calls AWS; the two are not taken together.
#[test]
fn unlock_asks_for_restore_or_force() {
    let dir = project_copy();
    let out = castform(&["unlock", "local"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`castform unlock local --restore`") && stderr.contains("help:"), "{stderr}");
    let out = castform(&["unlock", "local", "--restore", "--force"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn a_missing_asset_folder_is_refused_before_writing() {
    let dir = project_copy();
    std::fs::remove_dir_all(dir.path().join("assets/lunora-api")).unwrap();
    let out = castform(&["synth", "prod"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("`api.code`") && stderr.contains("does not exist"), "{stderr}");
    assert!(!dir.path().join("out").exists());
}

#[test]
fn help_shows_examples() {
    let out = castform(&["--help"], &repo());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Examples:"));
    let out = castform(&["synth", "--help"], &repo());
    assert!(String::from_utf8_lossy(&out.stdout).contains("castform synth prod"));
}

#[test]
fn checklist_prod_prints_every_item_of_seed_000_with_its_state() {
    let out = castform(&["checklist", "prod", "--json"], &repo());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let items: Value = serde_json::from_slice(&out.stdout).unwrap();
    let texts: Vec<&str> = items.as_array().unwrap().iter().map(|i| i["text"].as_str().unwrap()).collect();
    let seed = std::fs::read_to_string(repo().join("tests/fixtures/seed-000-checklist.txt")).unwrap();
    let expected: Vec<&str> = seed.lines().filter(|l| !l.trim().is_empty()).collect();
    assert_eq!(texts, expected);
    for i in items.as_array().unwrap() {
        assert!(["verified", "failed", "manual"].contains(&i["state"].as_str().unwrap()));
        assert!(!i["by"].as_str().unwrap().is_empty());
    }
    let state = |t: &str| items.as_array().unwrap().iter().find(|i| i["text"] == t).unwrap()["state"].clone();
    assert_eq!(state("Verify API connectivity before frontend deployment"), "verified");
    assert_eq!(state("Create complete backup of current working state"), "manual");
}

#[test]
fn checklist_fails_an_item_it_can_disprove() {
    let dir = project_copy();
    for env in ["local", "dev", "staging"] {
        std::fs::remove_file(dir.path().join(format!("environments/lunora/{env}.yaml"))).unwrap();
    }
    let out = castform(&["checklist", "prod"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("[failed]   Test all changes in development environment first"), "{stdout}");
}

#[test]
fn completions_cover_every_command_and_an_unknown_shell_exits_2() {
    let out = castform(&["completions", "bash"], &repo());
    assert_eq!(out.status.code(), Some(0));
    let script = String::from_utf8_lossy(&out.stdout);
    for word in ["deploy", "rollback", "media", "--restart-live", "--allow-replace", "completions"] {
        assert!(script.contains(word), "{word} missing from the bash completions");
    }
    let out = castform(&["completions", "nosh"], &repo());
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("possible values: bash"));
    assert!(script.contains("_castform()"), "named after the running binary");
    // `castform completions bash | head -1`: the reader goes away, the run ends quietly (the
    // script is printed as everything else is, not by clap_complete, which panics on it)
    let out = common::into_closed_pipe(["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn cost_says_which_regions_prices_it_uses() {
    let out = castform(&["cost", "prod", "--app", "podcast"], &repo());
    let first = String::from_utf8_lossy(&out.stdout).lines().next().unwrap_or_default().to_string();
    // the edge stack and the alarms in us-east-1, the edge log group's copies in the regional
    // edge caches' regions, the rest in us-west-2
    assert!(first.starts_with("podcast/prod in ap-northeast-1 + ") && first.contains(" + us-east-1 + "), "{first}");
    let missing = first.split("at us-west-2's prices: data/prices.json has none for ").nth(1).unwrap_or_default();
    assert!(missing.contains("us-east-1") && missing.contains("eu-west-1"), "{first}");
    let out = castform(&["cost", "prod", "--app", "lunora"], &repo());
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let first = text.lines().next().unwrap_or_default().to_string();
    // the rate limit's web ACL is in us-east-1; WAF's prices are the same in every region
    assert!(first.starts_with("lunora/prod in us-east-1 + us-west-2,"), "{first}");
    for what in ["web ACL", "rules", "requests inspected"] {
        assert!(text.lines().any(|l| l.starts_with("waf") && l.contains(what)), "{what}: {text}");
    }
}

#[test]
fn debug_is_accepted_everywhere_and_prints_the_chain() {
    let dir = project_copy();
    let out = castform(&["synth", "qa", "--debug"], dir.path());
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("unexpected argument"), "{err}");
    assert!(err.contains("qa.yaml"), "{err}");
    let out = castform(&["cost", "prod", "--hours", "900"], dir.path());
    assert_eq!(out.status.code(), Some(2), "a flag out of range is bad input");
}

#[test]
fn json_runs_end_with_one_json_document_on_failure_too() {
    let dir = project_copy();
    for args in [&["cost", "prod", "--hours", "900", "--json"][..], &["check", "qa", "--json"], &["diff", "--json"]] {
        let out = castform(args, dir.path());
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let last = stdout.lines().last().unwrap_or_else(|| panic!("{args:?}: nothing on stdout"));
        let doc: Value = serde_json::from_str(last).unwrap_or_else(|e| panic!("{args:?}: {e}: {last}"));
        assert_eq!(doc["event"], "error", "{args:?}");
        assert_eq!(doc["exit_code"], 2, "{args:?}");
        assert!(!doc["error"].as_str().unwrap().is_empty());
    }
}

/// Review S3-32: `media stop` takes an environment marked `confirm` off air only with its name
/// typed, or `--yes`; a run without a terminal is refused (exit 2) before any call to AWS.
#[test]
fn media_stop_on_a_confirm_environment_asks_or_needs_yes() {
    let out = castform(&["media", "stop", "prod"], &repo());
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("takes prod off air") && err.contains("pass --yes"), "{err}");
}
