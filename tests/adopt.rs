//! Adopting existing resources (issue 13): IMPORT change sets on the emulator as CloudFormation
//! applies them, and castform's `adopt:` section taking seed-like tables into a deployed
//! environment with their data, never deleting them.

mod common;

use common::{Emulator, ok, project_copy};
use serde_json::{Value, json};

fn wait_for(what: &str, mut f: impl FnMut() -> bool) {
    let started = std::time::Instant::now();
    while !f() {
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// A table made the way seed 001's CLI commands made them, with items.
fn seed_table(emu: &Emulator, name: &str, key: &str, items: usize) {
    emu.aws(
        "us-west-2",
        &[
            "dynamodb",
            "create-table",
            "--table-name",
            name,
            "--attribute-definitions",
            &format!("AttributeName={key},AttributeType=S"),
            "--key-schema",
            &format!("AttributeName={key},KeyType=HASH"),
            "--billing-mode",
            "PAY_PER_REQUEST",
        ],
    )
    .unwrap();
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

#[allow(dead_code)]
fn unused(_: &Emulator) {
    let _ = project_copy;
    let _ = ok;
}
