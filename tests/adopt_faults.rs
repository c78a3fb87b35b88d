//! Adoption against `FakeCloud`, for what the emulator cannot produce: CloudFormation rolling back
//! the update that follows an import (the function then runs whatever the import's template
//! names as its code), a `Retain` resource kept after its stack is deleted, and a count of every
//! call the engine makes (a Scan of an adopted table). What is asserted is what the fake's Lambda,
//! DynamoDB and S3 hold, not castform's output alone.

mod common;

use castform::aws::fake::FakeCloud;
use castform::aws::{Cloud, TableInfo};
use castform::config::Environment;
use castform::ops::deploy::{DeployError, DeployOptions, Journal, deploy};
use castform::state::clock::new_id;
use castform::state::ledger::Record;
use castform::template::App;
use castform::ui::progress::{Mode, Progress};
use serde_json::{Value, json};
use std::sync::Mutex;

const BUCKET: &str = "castform-000000000000-us-west-2";
const FUNCTION: &str = "legacy-multi-destination-api";
const ROLE: &str = "arn:aws:iam::000000000000:role/legacy-api";
const LEGACY_CODE: &[u8] = b"PK\x03\x04 exports.handler = async () => ({statusCode: 200, body: 'legacy'});";

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap()
}

struct World {
    dir: tempfile::TempDir,
    cloud: FakeCloud,
}

impl World {
    fn new() -> Self {
        let cloud = FakeCloud::new("000000000000", "us-west-2");
        rt().block_on(cloud.create_state_bucket(BUCKET)).unwrap();
        Self { dir: common::project_copy(), cloud }
    }

    /// Lunora's `local` with these `adopt:` lines, without the CDN and the media stack (the fake
    /// has neither data plane); `retain` as `retain_data:`.
    fn env(&self, adopt: &str, retain: bool) -> (Environment, App) {
        let file = self.dir.path().join("environments/lunora/local.yaml");
        let base = std::fs::read_to_string(&file).unwrap();
        let base = base.split("\nadopt:\n").next().unwrap().to_string();
        let base = base.replace("retain_data: false", &format!("retain_data: {retain}"));
        // L21: an environment that keeps data allows no localhost origin
        let base = if retain { base.replace("http://localhost:8080", "https://player.lunora.tv") } else { base };
        std::fs::write(&file, if adopt.is_empty() { base } else { format!("{base}\nadopt:\n{adopt}") }).unwrap();
        let mut env = castform::config::load(self.dir.path(), castform::apps::seeds(), "lunora", "local").unwrap();
        let c: &mut castform::apps::lunora::Config = env.config_mut().unwrap();
        let web = c.web.as_mut().unwrap();
        web.cdn = false;
        web.rate_limit = None;
        c.media.as_mut().unwrap().enabled = false;
        let app = castform::ops::adopt::define(&env).unwrap();
        (env, app)
    }

    fn deploy(&self, env: &Environment, app: &App) -> Result<Record, DeployError> {
        let progress = Progress::new(Mode::Plain);
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        rt().block_on(deploy(&self.cloud, env, app, &DeployOptions::default(), &progress, &journal))
    }

    /// The function outside any stack, made the way seed 002 made it, with one secret variable.
    fn legacy_function(&self, vars: Value) {
        let conf = json!({"FunctionName": FUNCTION, "Runtime": "nodejs20.x", "Handler": "index.handler",
            "Role": ROLE, "MemorySize": 128, "Timeout": 3, "Environment": vars});
        self.cloud.put_function(FUNCTION, LEGACY_CODE.to_vec(), conf);
        self.cloud.put_resource(
            "AWS::Lambda::Function",
            FUNCTION,
            json!({"FunctionName": FUNCTION, "Runtime": "nodejs20.x", "Handler": "index.handler", "Role": ROLE,
                   "MemorySize": 128, "Timeout": 3, "Arn": format!("arn:aws:lambda:us-west-2:000000000000:function:{FUNCTION}"),
                   "Environment": {"Variables": vars}}),
        );
    }

    /// A table outside any stack, as the construct of `data.<id>` describes it, with `items`.
    fn table_like(&self, app: &App, id: &str, name: &str, items: u64) {
        let data = app.stacks.iter().find(|s| s.name == "data").unwrap().template.to_value();
        let p = &data["Resources"][id]["Properties"];
        let types: std::collections::BTreeMap<&str, &str> = p["AttributeDefinitions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| (a["AttributeName"].as_str().unwrap(), a["AttributeType"].as_str().unwrap()))
            .collect();
        self.cloud.put_table(TableInfo {
            name: name.into(),
            arn: format!("arn:aws:dynamodb:us-west-2:000000000000:table/{name}"),
            keys: p["KeySchema"]
                .as_array()
                .unwrap()
                .iter()
                .map(|k| {
                    let a = k["AttributeName"].as_str().unwrap();
                    (a.to_string(), k["KeyType"].as_str().unwrap().to_string(), types[a].to_string())
                })
                .collect(),
            billing_mode: "PAY_PER_REQUEST".into(),
            indexes: p["GlobalSecondaryIndexes"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|g| g["IndexName"].as_str().unwrap().to_string())
                .collect(),
            stream: p["StreamSpecification"]["StreamViewType"].as_str().map(str::to_string),
            status: "ACTIVE".into(),
            item_count: Some(items),
        });
    }

    /// What Lambda reports of the function: its code and configuration.
    fn function(&self) -> (Vec<u8>, Value) {
        rt().block_on(async {
            let f = self.cloud.get_function(FUNCTION).await.unwrap();
            let (status, code) = self.cloud.http_get(&f.code_location).await.unwrap();
            assert_eq!(status, 200, "{}", f.code_location);
            (code, f.configuration)
        })
    }

    fn records(&self, env: &Environment) -> Vec<Record> {
        rt().block_on(castform::state::ledger::list(&self.cloud, &castform::state::StateStore::new(env))).unwrap()
    }
}

/// Review S3-02, before any restore: CloudFormation fails the update after the import and rolls
/// the function back to the import's template. The run is stopped right there (a killed
/// process): what the function runs then is what that template names as its code, which must be
/// the code it ran before, never a placeholder.
#[test]
fn a_cloudformation_rollback_to_the_import_template_leaves_the_function_its_own_code() {
    let w = World::new();
    let (env, app) = w.env("  api.Api: legacy-multi-destination-api\n", false);
    w.legacy_function(json!({}));
    w.cloud.faults.lock().unwrap().fail_stacks.insert("lunora-player-local-api".into());
    let probe = w.cloud.for_region("us-west-2");
    w.cloud.freeze_when(Some(Box::new(move || {
        probe.stack_state("lunora-player-local-api").is_some_and(|(status, _, _)| status == "UPDATE_ROLLBACK_COMPLETE")
    })));
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    rt().block_on(async {
        let (progress, opts) = (Progress::new(Mode::Plain), DeployOptions::default());
        tokio::select! {
            r = deploy(&w.cloud, &env, &app, &opts, &progress, &journal) => panic!("not stopped: {:?}", r.map(|r| r.result)),
            _ = tokio::time::sleep(std::time::Duration::from_secs(24 * 3600)) => {}
        }
    });
    w.cloud.freeze_when(None);
    let (status, template, _) = w.cloud.stack_state("lunora-player-local-api").unwrap();
    assert_eq!(status, "UPDATE_ROLLBACK_COMPLETE");
    let template: Value = serde_json::from_str(&template).unwrap();
    let code = &template["Resources"]["Api"]["Properties"]["Code"];
    assert!(code.get("ZipFile").is_none(), "no placeholder: {code}");
    let (running, _) = w.function();
    assert_eq!(running, LEGACY_CODE, "the function runs its own code after CloudFormation's rollback");
}

const ADOPT: &str = "  api.Api: legacy-multi-destination-api\n  data.Presets: lunora-presets\n";

/// Review S3-02 and S3-15. The first deploy imports the function and a table; CloudFormation then
/// fails the API stack's update and rolls it back to the import's template, so the function runs
/// what that template names as its code; castform's restore deletes the stack it made (the
/// function is retained) and puts the function's code and configuration back from its backup.
/// The variable it cannot put back (a backup keeps no values; the import's template has none) is
/// named, with what to do, and the run does not say it restored the function. No table is
/// scanned, before or after.
#[test]
fn an_adopted_functions_own_code_survives_a_rolled_back_update_and_the_restore_says_what_it_could_not_put_back() {
    let w = World::new();
    let (env, app) = w.env(ADOPT, false);
    w.legacy_function(json!({"TOKEN": "s3cr3t"}));
    w.table_like(&app, "Presets", "lunora-presets", 3);
    w.cloud.faults.lock().unwrap().fail_stacks.insert("lunora-player-local-api".into());
    let err = w.deploy(&env, &app).unwrap_err();
    let text = err.to_string();
    let DeployError::Unrestored { restore_error, .. } = &err else { panic!("{text}") };
    assert!(restore_error.contains(&format!("function {FUNCTION} (adopted api.Api)")), "{text}");
    assert!(restore_error.contains("but not its environment variables TOKEN"), "{text}");
    assert!(
        restore_error.contains(&format!("aws lambda update-function-configuration --function-name {FUNCTION}")),
        "{text}"
    );
    assert!(!text.contains("s3cr3t"), "no value in any message: {text}");
    // what Lambda runs: the code that ran before, never a placeholder, with its role and runtime
    let (code, conf) = w.function();
    assert_eq!(code, LEGACY_CODE, "the function runs its own code again");
    assert_eq!((conf["Runtime"].as_str(), conf["Role"].as_str()), (Some("nodejs20.x"), Some(ROLE)), "{conf}");
    assert_eq!(w.cloud.stack_state("lunora-player-local-api"), None, "the stack the run made is gone");
    // the zip the import named is the function's own, content-addressed among the assets
    let key = format!("assets/{}.zip", castform::template::sha256_hex(LEGACY_CODE));
    assert_eq!(w.cloud.object(BUCKET, &key).as_deref(), Some(LEGACY_CODE));
    let last = w.records(&env).pop().unwrap();
    assert!(last.result != "rolled-back" || !last.restored.iter().any(|r| r.contains(FUNCTION)), "{last:?}");
    // review S3-15: a figure from DescribeTable, never a Scan, and none before the restore
    assert_eq!(w.cloud.calls_of("DynamoDB Scan"), 0);
    assert_eq!(last.adopted.iter().find(|a| a.identifier == "lunora-presets").unwrap().items_before, Some(3));
}

/// Review S3-02: the API stack's update succeeds (the function runs castform's code, role and
/// variables), then a later stack fails. The restore deletes the stacks the run made and puts the
/// function back as it was: its code, its role, and no variable castform added.
#[test]
fn the_restore_puts_an_adopted_functions_code_and_configuration_back_after_a_later_stack_fails() {
    let w = World::new();
    let (env, app) = w.env("  api.Api: legacy-multi-destination-api\n", false);
    w.legacy_function(json!({}));
    w.cloud.faults.lock().unwrap().fail_stacks.insert("lunora-player-local-web".into());
    let err = w.deploy(&env, &app).unwrap_err();
    let DeployError::Restored { restored, .. } = &err else { panic!("{err}") };
    assert!(
        restored
            .iter()
            .any(|r| r == &format!("function {FUNCTION} (adopted api.Api): its code and configuration before the run")),
        "{restored:?}"
    );
    let (code, conf) = w.function();
    assert_eq!(code, LEGACY_CODE);
    assert_eq!(conf["Role"], ROLE, "{conf}");
    assert_eq!(conf["Runtime"], "nodejs20.x", "{conf}");
    assert_eq!(conf["Environment"], json!({}), "the variables castform's construct set are gone: {conf}");
    assert_eq!(w.cloud.calls_of("DynamoDB Scan"), 0);
}

/// Review S3-20: where data is retained, tables are `Retain`. A first deploy fails; its restore
/// deletes the data stack it made, and the tables stay, named. The restore says so and the ledger
/// keeps them; the next deploy is refused before any write, naming each and the `adopt:` lines
/// that take them in; with those lines, the deploy imports them and succeeds.
#[test]
fn retained_leftovers_of_a_restore_are_named_and_the_next_deploy_offers_to_adopt_them() {
    let w = World::new();
    let (env, app) = w.env("", true);
    w.cloud.faults.lock().unwrap().fail_stacks.insert("lunora-player-local-api".into());
    let err = w.deploy(&env, &app).unwrap_err();
    let DeployError::Restored { id, restored, .. } = &err else { panic!("{err}") };
    let tables: Vec<(String, String)> =
        app.stacks.iter().find(|s| s.name == "data").unwrap().template.to_value()["Resources"]
            .as_object()
            .unwrap()
            .iter()
            .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table")
            .map(|(id, r)| (id.clone(), r["Properties"]["TableName"].as_str().unwrap().to_string()))
            .collect();
    assert!(!tables.is_empty());
    for (id, name) in &tables {
        assert!(rt().block_on(w.cloud.describe_table(name)).unwrap().is_some(), "{name} is kept by Retain");
        assert!(
            restored.iter().any(|r| r.contains(&format!(
                "left in place (its DeletionPolicy keeps it): AWS::DynamoDB::Table {name} (data.{id})"
            ))),
            "{restored:?}"
        );
    }
    w.cloud.faults.lock().unwrap().fail_stacks.clear();
    let last = w.records(&env).pop().unwrap();
    assert_eq!(last.leftovers.len(), tables.len(), "{last:?}");
    // the next deploy: refused before any write, with the adoption offered
    let writes = w.cloud.writes();
    let err = w.deploy(&env, &app).unwrap_err();
    let DeployError::Refused(text) = &err else { panic!("{err}") };
    assert_eq!(w.cloud.writes(), writes, "nothing written: {text}");
    for (lid, name) in &tables {
        assert!(text.contains(&format!("data.{lid} (AWS::DynamoDB::Table {name}) already exists outside stack lunora-player-local-data, left in place by the restore of deployment {id}")), "{text}");
        assert!(text.contains(&format!("    data.{lid}: {name}\n")), "{text}");
    }
    assert!(text.contains("help: take them in as they are"), "{text}");
    // taking them in: the deploy imports them into the data stack and succeeds
    let lines: String = tables.iter().map(|(lid, name)| format!("  data.{lid}: {name}\n")).collect();
    let (env, app) = w.env(&lines, true);
    let record = w.deploy(&env, &app).expect("the leftovers adopted, the deploy succeeds");
    assert!(record.adopted.iter().all(|a| a.imported), "{:?}", record.adopted);
}
