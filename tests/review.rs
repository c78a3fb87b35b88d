//! Review before and after: diff, status and destroy against the emulator; graph and cost
//! offline.

mod common;

use castform::aws::{AwsCloud, Cloud};
use common::{Emulator, project_copy, repo};
use serde_json::Value;
use std::process::Command;

fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    stdout
}

fn castform(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_castform"))
        .args(args)
        .arg("--root")
        .arg(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn diff_shows_a_property_change_and_a_stateful_replacement_first() {
    let emu = Emulator::start();
    let dir = project_copy();
    ok(&emu.castform(&["bootstrap", "local"], dir.path()));
    ok(&emu.castform(&["deploy", "local"], dir.path()));
    let out = emu.castform(&["diff", "local"], dir.path());
    assert_eq!(out.status.code(), Some(0), "no difference: {}", String::from_utf8_lossy(&out.stdout));
    // the API's memory changes: exactly that property path, old and new
    let file = dir.path().join("environments/lunora/local.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("  memory_mb: 256", "  memory_mb: 512")).unwrap();
    let out = emu.castform(&["diff", "local"], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout
            .contains("~ Api (AWS::Lambda::Function) [Replacement: False]\n      Properties.MemorySize: 256 -> 512\n"),
        "{stdout}"
    );
    assert!(stdout.contains("stack data no change"), "{stdout}");
    // a table's logical id renamed: the old table would be deleted with its data, shown first
    let env = castform::config::load(dir.path(), castform::apps::seeds(), "lunora", "local").unwrap();
    let mut app = env.define().unwrap();
    let data = app.stacks.iter_mut().find(|s| s.name == "data").unwrap();
    let res = std::mem::take(&mut data.template.resources);
    for (id, r) in res {
        let id = if id.as_str() == "Presets" { castform::template::LogicalId::new("PresetsV2").unwrap() } else { id };
        data.template.resources.insert(id, r);
    }
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let cloud = rt.block_on(AwsCloud::with_static_credentials("us-west-2", &emu.endpoint(), "test", "test"));
    let diffs = rt.block_on(castform::ops::diff::diff(&cloud, &app, &castform::state::StateStore::new(&env))).unwrap();
    let d = diffs.iter().find(|d| d.stack == "data").unwrap();
    let first = &d.resources[0];
    assert_eq!(
        (first.logical_id.as_str(), first.action.as_str(), first.data_loss),
        ("Presets", "remove", true),
        "{:#?}",
        d.resources
    );
    assert!(d.resources.iter().any(|r| r.logical_id == "PresetsV2" && r.action == "add"));
    // the change sets diff made were deleted, nothing was executed
    let deployed = rt.block_on(cloud.get_template("lunora-player-local-data")).unwrap();
    assert!(!deployed.contains("PresetsV2") && deployed.contains("\"Presets\""));
    assert_eq!(
        rt.block_on(cloud.describe_stack("lunora-player-local-data")).unwrap().unwrap().status,
        "CREATE_COMPLETE"
    );
}

#[test]
fn status_then_destroy_leaves_no_stack_and_no_bucket_and_prod_is_refused() {
    let emu = Emulator::start();
    let dir = project_copy();
    ok(&emu.castform(&["bootstrap", "local"], dir.path()));
    ok(&emu.castform(&["deploy", "local"], dir.path()));
    let s: Value = serde_json::from_str(&ok(&emu.castform(&["status", "local", "--json"], dir.path()))).unwrap();
    assert!(s["stacks"].as_array().unwrap().iter().all(|x| x["status"] == "CREATE_COMPLETE"));
    assert!(s["lock"].is_null());
    assert_eq!(s["last_deployment"][2], "succeeded");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let cloud = rt.block_on(AwsCloud::with_static_credentials("us-west-2", &emu.endpoint(), "test", "test"));
    let outputs: Value = serde_json::from_str(&ok(&emu.castform(&["outputs", "local", "--json"], dir.path()))).unwrap();
    let site = outputs["web"]["SiteBucketName"].as_str().unwrap().to_string();
    assert!(rt.block_on(cloud.bucket_exists(&site)).unwrap());
    // not interactive, no --yes: refused
    let out = emu.castform(&["destroy", "local"], dir.path());
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let stdout = ok(&emu.castform(&["destroy", "local", "--yes"], dir.path()));
    assert!(stdout.contains("stack lunora-player-local-web deleted"), "{stdout}");
    for stack in ["data", "web", "api"] {
        assert!(
            rt.block_on(cloud.describe_stack(&format!("lunora-player-local-{stack}"))).unwrap().is_none(),
            "{stack}"
        );
    }
    assert!(!rt.block_on(cloud.bucket_exists(&site)).unwrap(), "the site bucket was emptied and deleted");
    let s: Value = serde_json::from_str(&ok(&emu.castform(&["status", "local", "--json"], dir.path()))).unwrap();
    assert!(s["stacks"].as_array().unwrap().iter().all(|x| x["status"] == "NOT_DEPLOYED"));
    assert_eq!(s["last_deployment"][1], "destroy");
    // prod retains data: refused before anything
    let out = emu.castform(&["destroy", "prod", "--yes"], dir.path());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("prod retains data"), "{stderr}");
}

#[test]
fn graph_prod_draws_every_stack_and_the_media_path_and_renders() {
    let mermaid = ok(&castform(&["graph", "prod"]));
    for stack in ["data", "media", "web", "api"] {
        assert!(mermaid.contains(&format!("subgraph {stack} [\"stack {stack}\"]")), "{mermaid}");
    }
    for edge in [
        "encoder --> media_Ingest",
        "media_Ingest --> media_LiveInput",
        "media_LiveInput --> media_LiveChannel",
        "media_LiveChannel --> media_LivePackage",
        "media_LivePackage --> media_LiveEndpoint",
        "media_LiveEndpoint --> web_SiteDistribution",
        "web_SiteDistribution --> viewer",
        "api_Api --> data_Destinations",
        "api_ApiUrl --> viewer",
    ] {
        assert!(mermaid.contains(edge), "missing {edge}:\n{mermaid}");
    }
    let dot = ok(&castform(&["graph", "prod", "--format", "dot"]));
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lunora.dot");
    std::fs::write(&file, &dot).unwrap();
    let out = Command::new("dot")
        .arg("-Tsvg")
        .arg(&file)
        .output()
        .expect("Graphviz `dot` is installed (.ci/run installs it)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let svg = String::from_utf8_lossy(&out.stdout);
    assert!(svg.contains("<svg") && svg.contains("stack media") && svg.contains("LiveChannel"));
    // without the media stack, no encoder
    let dev = ok(&castform(&["graph", "dev"]));
    assert!(!dev.contains("encoder") && dev.contains("subgraph web"));
}

#[test]
fn cost_prod_for_100_hours_reproduces_the_seeds_unit_figures() {
    let e: Value = serde_json::from_str(&ok(&castform(&["cost", "prod", "--hours", "100", "--json"]))).unwrap();
    let line = |what: &str| {
        e["lines"].as_array().unwrap().iter().find(|l| l["what"].as_str().unwrap().starts_with(what)).unwrap()["monthly"].as_f64().unwrap()
    };
    assert_eq!(line("flow running all month"), 115.20, "seed 002: $115.20 for the flow");
    assert_eq!(line("channels the API starts on demand, 100 hours"), 42.12, "seed 002: $42.12 per 100 hours");
    assert_eq!(line("primary HLS channel running all month"), 303.26, "720 h at the seed's own hourly rate");
    // and the rate limit's web ACL: $5 + one rule at $1 + 5 million requests at $0.60 per million
    assert_eq!(line("web ACL"), 5.0);
    assert_eq!(line("requests inspected"), 3.0);
    assert_eq!(e["total"].as_f64().unwrap(), 513.76);
    let dev: Value = serde_json::from_str(&ok(&castform(&["cost", "dev", "--json"]))).unwrap();
    assert!(dev["total"].as_f64().unwrap() < 50.0, "no media pipeline in dev");
    let out = castform(&["cost", "prod", "--hours", "900"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--hours must be between 0 and 744"));
}
