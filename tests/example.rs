//! `examples/catalog`, a team's own app in its own code (castform as a library), deployed on the
//! local emulator by its own binary through the same command line and engine as the seed apps.

mod common;

use castform::aws::{AwsCloud, Cloud};
use common::{Emulator, copy_dir, ok};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The example's binary, built beside the tests (`cargo test` and `cargo nextest` build the
/// examples; `cargo build --examples` does too).
fn catalog_binary() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile = exe.parent().and_then(Path::parent).unwrap();
    let bin = profile.join("examples").join(format!("catalog{}", std::env::consts::EXE_SUFFIX));
    assert!(bin.is_file(), "{} is missing: run `cargo build --examples`", bin.display());
    bin
}

/// The example's project (environments/, assets/, templates/) in a folder of its own.
fn catalog_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let example = common::repo().join("examples/catalog");
    for sub in ["environments", "assets", "templates"] {
        copy_dir(&example.join(sub), &dir.path().join(sub));
    }
    dir
}

#[test]
fn the_example_app_synthesizes_passes_check_and_deploys_on_the_emulator() {
    let bin = catalog_binary();
    let dir = catalog_project();
    let root = dir.path();
    let emu = Emulator::start();
    let run = |args: &[&str]| emu.binary_command(&bin, args, root).output().unwrap();

    // synth and check, every environment of the one app the binary registers
    let synth = ok(&run(&["synth", "--all"]));
    assert!(synth.contains("catalog/local: 3 stacks") && synth.contains("catalog/prod: 3 stacks"), "{synth}");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("out/catalog/local/manifest.json")).unwrap()).unwrap();
    let web = manifest["stacks"].as_array().unwrap().iter().find(|s| s["name"] == "web").unwrap();
    assert_eq!(web["roles"]["SiteUrl"], "site_url", "the Site construct declared its URL: {web}");
    assert_eq!(web["roles"]["SiteDistributionId"], "distribution");
    let check = ok(&run(&["check", "--all"]));
    assert!(check.contains("0 errors"), "{check}");
    // the command line is the binary's own: its usage line names it
    let usage = run(&["synth", "--bogus"]);
    assert_eq!(usage.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&usage.stderr).contains("Usage: catalog synth"), "{usage:?}");
    // the seed apps are not this binary's
    let other = run(&["synth", "--app", "lunora", "local"]);
    assert_eq!(other.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&other.stderr).contains("use one of: catalog"));

    // the whole deploy: the engine learns the health URLs, the upload, the rendered file and
    // the distribution to invalidate from the app, as for the seed apps
    ok(&run(&["bootstrap", "local"]));
    let out = run(&["deploy", "local"]);
    let deployed = ok(&out);
    assert!(deployed.contains("deployed "), "{deployed}");
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("invalidated /*"), "the Site's distribution, from its role: {progress}");
    let outputs: Value = serde_json::from_str(&ok(&run(&["outputs", "local", "--json"]))).unwrap();
    let site = outputs["web"]["SiteUrl"].as_str().unwrap().to_string();
    let url = outputs["api"]["ApiUrl"].as_str().unwrap().to_string();
    // what the services themselves say: CloudFront completed an invalidation of the
    // distribution the Site declared, and Lambda serves the URL with IAM auth only
    let distribution = outputs["web"]["SiteDistributionId"].as_str().unwrap().to_string();
    let invalidations =
        emu.aws("us-east-1", &["cloudfront", "list-invalidations", "--distribution-id", &distribution]).unwrap();
    let items = invalidations["InvalidationList"]["Items"].as_array().cloned().unwrap_or_default();
    assert!(items.iter().any(|i| i["Status"] == "Completed"), "{invalidations}");
    let function = outputs["api"]["ApiName"].as_str().unwrap().to_string();
    let config = emu
        .aws("us-west-2", &["lambda", "get-function-url-config", "--function-name", &function, "--qualifier", "live"]);
    assert_eq!(config.unwrap()["AuthType"], "AWS_IAM");
    let history: Value = serde_json::from_str(&ok(&run(&["history", "local", "--json"]))).unwrap();
    let checks = history[0]["checks"].as_array().unwrap();
    assert!(checks.iter().any(|c| c["ok"] == true && c["name"].as_str().unwrap().contains("config.js")), "{checks:?}");
    assert!(history[0]["urls"]["web.SiteUrl"].is_string(), "{}", history[0]["urls"]);

    // the function reads its table through the wiring, through the distribution and signed
    let (status, body) = emu.get_url(&site, "/api/items");
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["count"], 0);
    assert_eq!(emu.call_url_unsigned("GET", &url, "/api/items", None).0, 403, "the URL takes only signed calls");
    let (status, body) = emu.call_url("PUT", &url, "/api/items/a1", Some(r#"{"title":"first"}"#));
    assert_eq!(status, 200, "{body}");
    let (status, body) = emu.get_url(&site, "/api/items");
    assert_eq!(status, 200, "{body}");
    let items: Value = serde_json::from_str(&body).unwrap();
    assert_eq!((items["count"].clone(), items["items"][0]["title"].clone()), (1.into(), "first".into()));
    // the item is in the table, as DynamoDB itself reports it
    let table = emu.aws("us-west-2", &["dynamodb", "scan", "--table-name", "catalog-local-items"]).unwrap();
    assert_eq!(table["Count"], 1, "{table}");
    assert_eq!(table["Items"][0]["itemId"]["S"], "a1");
    assert_eq!(table["Items"][0]["title"]["S"], "first");
    // the site and its rendered configuration, through the distribution
    let (status, _, page) = emu.fetch(&format!("{site}/index.html"));
    assert_eq!(status, 200);
    assert!(page.contains("<h1>Catalog</h1>"), "{page}");
    let (status, _, config) = emu.fetch(&format!("{site}/config.js"));
    assert_eq!(status, 200);
    assert!(config.contains(&format!("apiUrl: \"{site}\"")), "{config}");

    // and gone again: destroy finds the stacks from the app too
    ok(&run(&["destroy", "local", "--yes"]));
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let cloud = rt.block_on(AwsCloud::with_static_credentials("us-west-2", &emu.endpoint(), "test", "test"));
    for stack in ["catalog-local-data", "catalog-local-api", "catalog-local-web"] {
        assert!(rt.block_on(cloud.describe_stack(stack)).unwrap().is_none(), "{stack} is left");
    }
}
