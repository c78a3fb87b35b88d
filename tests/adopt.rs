//! Adopting existing resources (issue 13): IMPORT change sets on the emulator as CloudFormation
//! applies them, and castform's `adopt:` section taking seed-like tables into a deployed
//! environment with their data, never deleting them.

mod common;

use common::{Emulator, ok, project_copy, wait_for};
use serde_json::{Value, json};

/// A table made the way seed 001's CLI commands made them, with items.
fn seed_table(emu: &Emulator, name: &str, key: &str, items: usize) {
    seed_table_billed(emu, name, key, items, &["--billing-mode", "PAY_PER_REQUEST"]);
}

fn seed_table_billed(emu: &Emulator, name: &str, key: &str, items: usize, billing: &[&str]) {
    let mut args = vec![
        "dynamodb".to_string(),
        "create-table".into(),
        "--table-name".into(),
        name.into(),
        "--attribute-definitions".into(),
        format!("AttributeName={key},AttributeType=S"),
        "--key-schema".into(),
        format!("AttributeName={key},KeyType=HASH"),
    ];
    args.extend(billing.iter().map(|s| s.to_string()));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    emu.aws("us-west-2", &args).unwrap();
    for i in 0..items {
        let item = json!({key: {"S": format!("{name}-{i}")}, "label": {"S": format!("item {i}")}});
        emu.aws("us-west-2", &["dynamodb", "put-item", "--table-name", name, "--item", &item.to_string()]).unwrap();
    }
}

fn table_template(name: &str, key: &str, policy: Option<&str>) -> Value {
    let mut r = json!({"Type": "AWS::DynamoDB::Table", "Properties": {
        "TableName": name, "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [{"AttributeName": key, "AttributeType": "S"}],
        "KeySchema": [{"AttributeName": key, "KeyType": "HASH"}]}});
    if let Some(p) = policy {
        r["DeletionPolicy"] = json!(p);
    }
    r
}

#[test]
fn import_change_sets_take_existing_tables_as_cloudformation_does_and_refuse_what_it_refuses() {
    let emu = Emulator::start();
    seed_table(&emu, "seed-presets", "presetId", 3);
    let dir = tempfile::tempdir().unwrap();
    let aws = |args: &[&str]| emu.aws("us-west-2", args);
    let change_set = |name: &str, template: &Value, import: &Value, kind: &str| {
        let t = dir.path().join(format!("{name}.json"));
        std::fs::write(&t, template.to_string()).unwrap();
        let i = dir.path().join(format!("{name}-import.json"));
        std::fs::write(&i, import.to_string()).unwrap();
        aws(&[
            "cloudformation",
            "create-change-set",
            "--stack-name",
            "adopted",
            "--change-set-name",
            name,
            "--change-set-type",
            kind,
            "--template-body",
            &format!("file://{}", t.display()),
            "--resources-to-import",
            &format!("file://{}", i.display()),
        ])
    };
    let import = json!([{"ResourceType": "AWS::DynamoDB::Table", "LogicalResourceId": "Presets",
                         "ResourceIdentifier": {"TableName": "seed-presets"}}]);
    let template =
        |policy: Option<&str>, name: &str| json!({"Resources": {"Presets": table_template(name, "presetId", policy)}});
    // refused as AWS refuses: no DeletionPolicy; an identifier that differs from the template; a
    // table that does not exist; a new resource that is not imported; an output added
    let e = change_set("a", &template(None, "seed-presets"), &import, "IMPORT").unwrap_err();
    assert!(e.contains("missing DeletionPolicy"), "{e}");
    let e = change_set("b", &template(Some("Retain"), "other-name"), &import, "IMPORT").unwrap_err();
    assert!(e.contains("does not match"), "{e}");
    let missing = json!([{"ResourceType": "AWS::DynamoDB::Table", "LogicalResourceId": "Presets",
                          "ResourceIdentifier": {"TableName": "no-such-table"}}]);
    let e = change_set("c", &template(Some("Retain"), "no-such-table"), &missing, "IMPORT").unwrap_err();
    assert!(e.contains("was not found"), "{e}");
    let mut extra = template(Some("Retain"), "seed-presets");
    extra["Resources"]["Queue"] = json!({"Type": "AWS::SQS::Queue"});
    let e = change_set("d", &extra, &import, "IMPORT").unwrap_err();
    assert!(e.contains("cannot add resources that are not imported: [Queue]"), "{e}");
    let mut outputs = template(Some("Retain"), "seed-presets");
    outputs["Outputs"] = json!({"Name": {"Value": {"Ref": "Presets"}}});
    let e = change_set("e", &outputs, &import, "IMPORT").unwrap_err();
    assert!(e.contains("cannot modify or add [Outputs]"), "{e}");
    assert!(aws(&["cloudformation", "describe-stacks", "--stack-name", "adopted"]).is_err(), "no stack was made");

    // a new stack made by import: the table is the stack's, its items untouched
    change_set("ok", &template(Some("Retain"), "seed-presets"), &import, "IMPORT").unwrap();
    let mut described = Value::Null;
    wait_for("the change set", || {
        described =
            aws(&["cloudformation", "describe-change-set", "--stack-name", "adopted", "--change-set-name", "ok"])
                .unwrap();
        described["Status"] == "CREATE_COMPLETE"
    });
    assert_eq!(described["Changes"][0]["ResourceChange"]["Action"], "Import", "{described}");
    aws(&["cloudformation", "execute-change-set", "--stack-name", "adopted", "--change-set-name", "ok"]).unwrap();
    wait_for("IMPORT_COMPLETE", || {
        aws(&["cloudformation", "describe-stacks", "--stack-name", "adopted"]).unwrap()["Stacks"][0]["StackStatus"]
            == "IMPORT_COMPLETE"
    });
    let resources = aws(&["cloudformation", "list-stack-resources", "--stack-name", "adopted"]).unwrap();
    let r = &resources["StackResourceSummaries"][0];
    assert_eq!(
        (r["LogicalResourceId"].as_str(), r["PhysicalResourceId"].as_str()),
        (Some("Presets"), Some("seed-presets"))
    );
    assert_eq!(r["ResourceStatus"], "IMPORT_COMPLETE");
    assert_eq!(aws(&["dynamodb", "scan", "--table-name", "seed-presets", "--select", "COUNT"]).unwrap()["Count"], 3);
    // deleting the stack keeps a retained table and its items (DeletionPolicy: Retain)
    aws(&["cloudformation", "delete-stack", "--stack-name", "adopted"]).unwrap();
    wait_for("the stack to go", || {
        aws(&["cloudformation", "describe-stacks", "--stack-name", "adopted"])
            .map(|s| s["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE")
            .unwrap_or(true)
    });
    assert_eq!(aws(&["dynamodb", "scan", "--table-name", "seed-presets", "--select", "COUNT"]).unwrap()["Count"], 3);
}

/// `castform bootstrap`'s own stack (the deploy role), which exists before any deploy.
fn is_bootstrap(s: &Value) -> bool {
    s["StackName"].as_str().is_some_and(|n| n.ends_with("-castform-bootstrap"))
}

fn count(emu: &Emulator, table: &str) -> u64 {
    emu.aws("us-west-2", &["dynamodb", "scan", "--table-name", table, "--select", "COUNT"]).unwrap()["Count"]
        .as_u64()
        .unwrap()
}

/// Lunora's local environment adopts tables made the way the seeds made them: bad adoptions are
/// refused before anything is written, naming the line; good ones are imported with every item
/// kept, a second deploy changes nothing, and destroy leaves the tables with their items.
#[test]
fn lunora_adopts_seed_tables_keeps_every_item_and_destroy_leaves_them() {
    let emu = Emulator::start();
    let dir = project_copy();
    let root = dir.path();
    // seed 001: "Current Tables: lunora-destinations, lunora-presets, lunora-streaming-sessions"
    // (their billing mode is not in the seeds: on-demand here); lunora-sources exactly as seed
    // 001's create-table made it, with provisioned throughput 5/5
    seed_table(&emu, "lunora-destinations", "destinationId", 4);
    seed_table(&emu, "lunora-presets", "presetId", 3);
    seed_table(&emu, "lunora-streaming-sessions", "sessionId", 2);
    seed_table_billed(
        &emu,
        "lunora-sources",
        "source_id",
        2,
        &["--provisioned-throughput", "ReadCapacityUnits=5,WriteCapacityUnits=5"],
    );
    seed_table(&emu, "lunora-legacy-keyed", "id", 1);
    ok(&emu.castform(&["bootstrap", "local"], root));
    let env_file = root.join("environments/lunora/local.yaml");
    let base = std::fs::read_to_string(&env_file).unwrap();
    let with = |lines: &str| std::fs::write(&env_file, format!("{base}adopt:\n{lines}")).unwrap();
    let refused = |lines: &str, wanted: &[&str]| {
        with(lines);
        let out = emu.castform(&["deploy", "local"], root);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert_eq!(out.status.code(), Some(2), "{lines}: {stderr}");
        for w in wanted {
            assert!(stderr.contains(w), "{lines}: wanted {w:?} in {stderr}");
        }
        let stacks = emu.aws("us-west-2", &["cloudformation", "list-stacks"]).unwrap();
        let live: Vec<&Value> = stacks["StackSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["StackStatus"] != "DELETE_COMPLETE" && !is_bootstrap(s))
            .collect();
        assert!(live.is_empty(), "{lines}: nothing is written: {live:?}");
    };
    // each refusal names the file, line and key
    refused(
        "  data.Sources: lunora-sources\n",
        &[
            "environments/lunora/local.yaml:",
            "adopt.data.Sources",
            "billing mode: the construct has PAY_PER_REQUEST, the table has PROVISIONED",
        ],
    );
    refused("  data.Presets: lunora-no-such-table\n", &["adopt.data.Presets", "no DynamoDB table of that name"]);
    refused("  data.Destinations: lunora-legacy-keyed\n", &["adopt.data.Destinations", "key schema"]);
    refused(
        "  media.LiveChannel: \"1234567\"\n",
        &["adopt.media.LiveChannel", "AWS::MediaLive::Channel, which CloudFormation cannot import"],
    );
    refused(
        "  store.Destinations: lunora-destinations\n",
        &["adopt.store.Destinations", "names no stack of lunora", "data.Destinations (AWS::DynamoDB::Table)"],
    );
    refused("  data.Nothing: lunora-destinations\n", &["adopt.data.Nothing", "names no resource of stack data"]);

    // discovery (read-only) finds them, says what differs, and writes the adopt: lines
    std::fs::write(&env_file, &base).unwrap();
    let found = ok(&emu.castform(&["adopt", "local", "--discover"], root));
    assert!(found.contains("data.Destinations") && found.contains("lunora-destinations : matches"), "{found}");
    assert!(found.contains("lunora-sources : differs"), "{found}");
    assert!(found.contains("billing mode: the construct has PAY_PER_REQUEST, the table has PROVISIONED"), "{found}");
    assert!(found.contains("adopt:\n  data.Destinations: lunora-destinations\n"), "{found}");
    assert!(!found.contains("  data.Sources: lunora-sources"), "a table that differs gets no line: {found}");
    // prod's file names the seeds' own tables; its discovery reads the same (emulated) account
    let prod = ok(&emu.castform(&["adopt", "prod", "--discover"], root));
    assert!(prod.contains("lunora-presets : matches (adopted)"), "{prod}");
    let stacks = emu.aws("us-west-2", &["cloudformation", "list-stacks"]).unwrap();
    assert!(
        stacks["StackSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["StackStatus"] == "DELETE_COMPLETE" || is_bootstrap(s)),
        "discovery writes nothing"
    );

    // the good adoptions
    with(
        "  data.Destinations: lunora-destinations\n  data.Presets: lunora-presets\n  data.StreamingSessions: lunora-streaming-sessions\n",
    );
    // a first deploy that imports them and then fails (the API's code throws as it loads, so the
    // health check fails): the restore takes the environment back, and keeps every adopted table
    let index = root.join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, format!("throw new Error('this version is broken');\n{code}")).unwrap();
    let out = emu.castform(&["deploy", "local"], root);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("lunora-player-local-data: IMPORT_COMPLETE"), "{stderr}");
    assert!(stderr.contains("restored from the backup"), "{stderr}");
    assert_eq!(
        (count(&emu, "lunora-destinations"), count(&emu, "lunora-presets"), count(&emu, "lunora-streaming-sessions")),
        (4, 3, 2)
    );
    let data = emu.aws("us-west-2", &["cloudformation", "describe-stacks", "--stack-name", "lunora-player-local-data"]);
    assert!(
        data.as_ref().map_or(true, |d| d["Stacks"][0]["StackStatus"] == "DELETE_COMPLETE"),
        "the stack the failed run made is gone, its adopted tables kept: {data:?}"
    );
    std::fs::write(&index, code).unwrap();
    // (diff exits 1 when something differs, as diff(1) does)
    let diff = String::from_utf8_lossy(&emu.castform(&["diff", "local"], root).stdout).to_string();
    assert!(diff.contains("> Destinations (AWS::DynamoDB::Table) [import"), "{diff}");
    let out = emu.castform(&["deploy", "local"], root);
    ok(&out);
    // the progress lines are on stderr
    let deployed = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(deployed.contains("import data.Destinations = lunora-destinations"), "the plan says so: {deployed}");
    assert!(
        deployed.contains("lunora-player-local-data: IMPORT_COMPLETE") || deployed.contains("0 to import"),
        "{deployed}"
    );
    // DescribeTable's ItemCount, never a Scan (review S3-15)
    assert!(
        deployed.contains("data.Destinations (lunora-destinations): about 4 items before, about 4 after"),
        "{deployed}"
    );
    let resources = emu
        .aws("us-west-2", &["cloudformation", "list-stack-resources", "--stack-name", "lunora-player-local-data"])
        .unwrap();
    let physical = |id: &str| {
        resources["StackResourceSummaries"].as_array().unwrap().iter().find(|r| r["LogicalResourceId"] == id).unwrap()["PhysicalResourceId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(physical("Destinations"), "lunora-destinations");
    assert_eq!(physical("Presets"), "lunora-presets");
    assert_eq!(physical("StreamingSessions"), "lunora-streaming-sessions");
    assert_eq!(physical("Sources"), "lunora-player-local-sources", "the others are created as before");
    assert_eq!(
        (count(&emu, "lunora-destinations"), count(&emu, "lunora-presets"), count(&emu, "lunora-streaming-sessions")),
        (4, 3, 2)
    );
    let item = emu
        .aws(
            "us-west-2",
            &[
                "dynamodb",
                "get-item",
                "--table-name",
                "lunora-presets",
                "--key",
                r#"{"presetId": {"S": "lunora-presets-2"}}"#,
            ],
        )
        .unwrap();
    assert_eq!(item["Item"]["label"]["S"], "item 2", "items unchanged: {item}");
    // the API reads the adopted tables
    let outputs: Value = serde_json::from_str(&ok(&emu.castform(&["outputs", "local", "--json"], root))).unwrap();
    let (status, body) = emu.get_url(outputs["api"]["ApiUrl"].as_str().unwrap(), "/api/presets");
    assert_eq!(status, 200, "{body}");
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["count"], 3, "{body}");
    // again: nothing to do
    let again = ok(&emu.castform(&["deploy", "local"], root));
    assert!(again.contains("(0 of 5 stacks changed)"), "{again}");
    // destroy: every stack goes, the adopted tables stay with their items
    let out = emu.castform(&["destroy", "local", "--yes"], root);
    let gone = format!("{}{}", ok(&out), String::from_utf8_lossy(&out.stderr));
    assert!(gone.contains("left in place (adopted, never deleted by castform): lunora-destinations"), "{gone}");
    assert!(
        emu.aws("us-west-2", &["dynamodb", "describe-table", "--table-name", "lunora-player-local-sources"]).is_err(),
        "a created table is deleted"
    );
    assert_eq!(
        (count(&emu, "lunora-destinations"), count(&emu, "lunora-presets"), count(&emu, "lunora-streaming-sessions")),
        (4, 3, 2)
    );
}

/// The rest of seed 001/002's production, made the way the seeds made it: the SRT flow the
/// encoder streams to, the old multi-destination API function and the distribution users
/// bookmarked. Adopted into Lunora's `local`, each keeps its identity (ARN, name, domain) while
/// the deploy after the import makes it what the constructs say; `destroy` leaves all three.
#[test]
fn lunora_adopts_the_seeds_flow_api_function_and_distribution() {
    let emu = Emulator::start();
    let dir = project_copy();
    let root = dir.path();
    let aws = |args: &[&str]| emu.aws("us-west-2", args);
    let flow = aws(&[
        "mediaconnect",
        "create-flow",
        "--name",
        "lunora-player-local-srt-router",
        "--source",
        "Name=router-in,Protocol=srt-listener,IngestPort=9998,WhitelistCidr=127.0.0.1/32,Description=legacy",
    ])
    .unwrap()["Flow"]["FlowArn"]
        .as_str()
        .unwrap()
        .to_string();
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    aws(&["iam", "create-role", "--role-name", "legacy-api", "--assume-role-policy-document", &trust.to_string()])
        .unwrap();
    let zip = root.join("legacy.zip");
    {
        let mut w = zip::ZipWriter::new(std::fs::File::create(&zip).unwrap());
        w.start_file("index.js", zip::write::SimpleFileOptions::default()).unwrap();
        std::io::Write::write_all(&mut w, b"exports.handler = async () => ({statusCode: 200, body: 'legacy'});")
            .unwrap();
        w.finish().unwrap();
    }
    let function = "lunora-player-local-multi-destination-api";
    aws(&[
        "lambda",
        "create-function",
        "--function-name",
        function,
        "--runtime",
        "nodejs20.x",
        "--handler",
        "index.handler",
        "--role",
        "arn:aws:iam::000000000000:role/legacy-api",
        "--zip-file",
        &format!("fileb://{}", zip.display()),
    ])
    .unwrap();
    let dist = aws(&[
        "cloudfront",
        "create-distribution",
        "--origin-domain-name",
        "legacy-site.s3.amazonaws.com",
        "--default-root-object",
        "index.html",
    ])
    .unwrap();
    let (dist_id, domain) = (
        dist["Distribution"]["Id"].as_str().unwrap().to_string(),
        dist["Distribution"]["DomainName"].as_str().unwrap().to_string(),
    );
    ok(&emu.castform(&["bootstrap", "local"], root));
    // discovery (read-only) finds each, by name or (the distribution) by type, and says which
    // can be adopted and what the deploy would then change
    let found = ok(&emu.castform(&["adopt", "local", "--discover"], root));
    assert!(found.contains(&format!("{flow} : cannot be adopted")), "{found}");
    assert!(found.contains("Source.Name: live \"router-in\", construct \"srt-ingest\""), "{found}");
    assert!(found.contains(&format!("{function} : can be adopted")), "{found}");
    assert!(found.contains(&format!("{dist_id} : can be adopted")), "{found}");
    let changes = found.lines().find(|l| l.contains("then the deploy changes: Architectures")).unwrap_or_default();
    assert!(
        changes.contains("Role, Runtime") && changes.ends_with("Code") && !changes.contains("PackageType"),
        "{found}"
    );
    assert!(found.contains(&format!("  api.Api: {function}\n")), "{found}");
    assert!(!found.contains(&format!("  media.Ingest: {flow}")), "{found}");
    let env_file = root.join("environments/lunora/local.yaml");
    let base = std::fs::read_to_string(&env_file).unwrap();
    let lines = format!("adopt:\n  media.Ingest: {flow}\n  api.Api: {function}\n  web.SiteDistribution: {dist_id}\n");
    let nothing_written = || {
        let stacks = aws(&["cloudformation", "list-stacks"]).unwrap();
        stacks["StackSummaries"]
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["StackStatus"] == "DELETE_COMPLETE" || is_bootstrap(s))
    };
    // refused before any write: the flow's source has another name, which is create-only (a
    // change would replace the flow and its ingest address)
    std::fs::write(&env_file, format!("{base}{lines}")).unwrap();
    let out = emu.castform(&["deploy", "local"], root);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("adopt.media.Ingest") && stderr.contains("Source.Name: live \"router-in\""), "{stderr}");
    assert!(nothing_written(), "{stderr}");
    // a distribution named by its domain's label rather than its Id
    let label = domain.split('.').next().unwrap();
    std::fs::write(&env_file, format!("{base}adopt:\n  web.SiteDistribution: {label}\n")).unwrap();
    let out = emu.castform(&["deploy", "local"], root);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("not a distribution Id"), "{stderr}");
    assert!(nothing_written());

    // the construct keeps the flow's source name; the plan says what the deploy then changes
    let with_source = base
        .replace("  channel_class: SINGLE_PIPELINE\n", "  channel_class: SINGLE_PIPELINE\n  source_name: router-in\n");
    assert_ne!(with_source, base);
    // review S3-02: a first deploy that imports the function, updates it to castform's code and
    // role, then fails (that code throws as it loads, so the health check fails): the restore
    // deletes the stacks it made, which keep the function (Retain), and puts the function back as
    // Lambda ran it before: its code, runtime and role, as Lambda itself reports them
    let legacy = aws(&["lambda", "get-function-configuration", "--function-name", function]).unwrap();
    std::fs::write(&env_file, format!("{with_source}adopt:\n  api.Api: {function}\n")).unwrap();
    let index = root.join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, format!("throw new Error('this version is broken');\n{code}")).unwrap();
    let out = emu.castform(&["deploy", "local"], root);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains(&format!("function {function} (adopted api.Api): its code and configuration before the run")),
        "{stderr}"
    );
    let back = aws(&["lambda", "get-function-configuration", "--function-name", function]).unwrap();
    assert_eq!(back["CodeSha256"], legacy["CodeSha256"], "the function runs its own code again: {back}");
    assert_eq!((&back["Runtime"], &back["Role"]), (&legacy["Runtime"], &legacy["Role"]), "{back}");
    std::fs::write(&index, code).unwrap();

    std::fs::write(&env_file, format!("{with_source}{lines}")).unwrap();
    let out = emu.castform(&["deploy", "local"], root);
    let deployed = String::from_utf8_lossy(&out.stderr).to_string();
    ok(&out);
    for wanted in [
        "media.Ingest (", // the flow's line
        "Source: set from IngestSecretRole, IngestPassphrase",
        "Runtime: \"nodejs20.x\" -> \"nodejs24.x\"",
        "Code: the construct's package replaces the running code",
        "DistributionConfig: set from",
        "IMPORT_COMPLETE",
    ] {
        assert!(deployed.contains(wanted), "wanted {wanted:?} in {deployed}");
    }
    let physical = |stack: &str, id: &str| {
        let r = aws(&["cloudformation", "list-stack-resources", "--stack-name", stack]).unwrap();
        r["StackResourceSummaries"].as_array().unwrap().iter().find(|r| r["LogicalResourceId"] == id).unwrap()
            ["PhysicalResourceId"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(physical("lunora-player-local-media", "Ingest"), flow);
    assert_eq!(physical("lunora-player-local-api", "Api"), function);
    assert_eq!(physical("lunora-player-local-web", "SiteDistribution"), dist_id);
    // the same distribution, now serving castform's site: its domain is the site's URL
    let outputs: Value = serde_json::from_str(&ok(&emu.castform(&["outputs", "local", "--json"], root))).unwrap();
    assert!(outputs["web"]["SiteUrl"].as_str().unwrap().contains(&domain), "{outputs}");
    let origins = aws(&["cloudfront", "get-distribution-config", "--id", &dist_id]).unwrap();
    let origin = &origins["DistributionConfig"]["Origins"]["Items"];
    assert!(origin.as_array().unwrap().iter().all(|o| o["DomainName"] != "legacy-site.s3.amazonaws.com"), "{origin}");
    // the same function, now running castform's API with its role
    let config = aws(&["lambda", "get-function-configuration", "--function-name", function]).unwrap();
    assert_eq!(config["Runtime"], "nodejs24.x");
    assert!(config["Role"].as_str().unwrap().contains("ApiRole"), "{config}");
    let (status, body) = emu.get_url(outputs["api"]["ApiUrl"].as_str().unwrap(), "/api/presets");
    assert_eq!(status, 200, "{body}");
    assert_ne!(body, "legacy");
    // the same flow (its ARN, so the encoder's address), now with castform's SRT passphrase
    let source = &aws(&["mediaconnect", "describe-flow", "--flow-arn", &flow]).unwrap()["Flow"]["Source"];
    assert_eq!(source["Name"], "router-in");
    assert_eq!(source["Decryption"]["KeyType"], "srt-password", "{source}");
    // again: nothing to do
    let again = ok(&emu.castform(&["deploy", "local"], root));
    assert!(again.contains("(0 of 5 stacks changed)"), "{again}");
    // a new version of the API, then `rollback`: the adopted function goes back to the code
    // before, the flow and distribution stay in their stacks, nothing adopted is deleted
    let index = root.join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, format!("// v2\n{code}")).unwrap();
    ok(&emu.castform(&["deploy", "local"], root));
    let v2 = aws(&["lambda", "get-function-configuration", "--function-name", function]).unwrap()["CodeSha256"].clone();
    ok(&emu.castform(&["rollback", "local", "--yes"], root));
    let back = aws(&["lambda", "get-function-configuration", "--function-name", function]).unwrap();
    assert_ne!(back["CodeSha256"], v2, "the function runs the code before v2: {back}");
    assert_eq!(physical("lunora-player-local-api", "Api"), function);
    assert_eq!(physical("lunora-player-local-media", "Ingest"), flow);
    assert_eq!(physical("lunora-player-local-web", "SiteDistribution"), dist_id);
    // destroy leaves all three
    let out = emu.castform(&["destroy", "local", "--yes"], root);
    let gone = format!("{}{}", ok(&out), String::from_utf8_lossy(&out.stderr));
    assert!(gone.contains("left in place (adopted, never deleted by castform)"), "{gone}");
    assert_eq!(aws(&["mediaconnect", "describe-flow", "--flow-arn", &flow]).unwrap()["Flow"]["Status"], "STANDBY");
    assert_eq!(
        aws(&["lambda", "get-function-configuration", "--function-name", function]).unwrap()["FunctionName"],
        function
    );
    let kept = aws(&["cloudfront", "get-distribution", "--id", &dist_id]).unwrap();
    assert_eq!(kept["Distribution"]["DomainName"], domain);
    // and what the distribution still uses, which CloudFront refuses to delete while it does
    // (OriginAccessControlInUse): kept, and said
    let oacs: Vec<String> = kept["Distribution"]["DistributionConfig"]["Origins"]["Items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|o| o["OriginAccessControlId"].as_str().filter(|id| !id.is_empty()).map(str::to_string))
        .collect();
    assert!(!oacs.is_empty(), "{kept}");
    for id in &oacs {
        assert!(aws(&["cloudfront", "get-origin-access-control", "--id", id]).is_ok(), "{id} kept");
        assert!(gone.contains(&format!("left in place: {id}")), "{id}: {gone}");
    }
}
