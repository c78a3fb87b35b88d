//! `castform check` over AWS's 288 sample templates (vendored with their license in
//! `tests/samples/`) beside what cfn-lint 1.58.0 reports on them (recorded in the same folder).

use serde_json::Value;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

/// cfn-lint errors castform does not claim to find, each with the reason.
const NOT_OURS: &[(&str, &str)] = &[
    // cfn-lint compares a GetAtt's attribute with the format the destination property wants
    // (an ELB's SourceSecurityGroup.GroupName where a security group name goes): a heuristic of
    // its own over attribute formats, not a schema or structure error
    ("E1040", "GetAtt destination format"),
];

#[test]
fn every_sample_is_read_and_every_cfn_lint_error_is_ours_too() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/samples");
    let list = std::fs::read_to_string(root.join("templates.txt")).unwrap();
    let files: Vec<&str> = list.lines().filter(|l| !l.is_empty()).collect();
    assert_eq!(files.len(), 288);
    let out = Command::new(env!("CARGO_BIN_EXE_castform"))
        .current_dir(root.join("aws-cloudformation-templates"))
        .args(["check", "--json", "--region", "us-east-1", "--template"])
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["templates"].as_u64(), Some(288));
    assert_eq!(report["unreadable"].as_u64(), Some(0), "every sample is read");
    // where castform reports an error of the template's own (structure T01-T06, schema L17)
    let ours: BTreeSet<(String, String)> = report["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["severity"] == "error")
        .filter(|f| f["rule"].as_str().is_some_and(|r| r.starts_with('T') || r == "L17"))
        .map(|f| (f["stack"].as_str().unwrap().to_string(), f["logical_id"].as_str().unwrap().to_string()))
        .collect();
    let expected: Value =
        serde_json::from_str(&std::fs::read_to_string(root.join("cfn-lint-1.58.0-errors.json")).unwrap()).unwrap();
    let errors = expected["errors"].as_array().unwrap();
    assert!(errors.len() > 150, "the recorded cfn-lint errors are there");
    let mut missed = vec![];
    for e in errors {
        let rule = e["rule"].as_str().unwrap();
        if NOT_OURS.iter().any(|(r, _)| *r == rule) {
            continue;
        }
        let key = (e["file"].as_str().unwrap().to_string(), e["logical_id"].as_str().unwrap().to_string());
        if !ours.contains(&key) {
            missed.push(format!("{rule} {}:{} {}", key.0, key.1, e["message"]));
        }
    }
    assert!(missed.is_empty(), "cfn-lint errors castform misses:\n{}", missed.join("\n"));
    // the cases the issue names, by their own words
    let message =
        |file: &str, rule: &str, text: &str| {
            report["findings"].as_array().unwrap().iter().any(|f| {
                f["stack"] == file && f["rule"] == rule && f["message"].as_str().is_some_and(|m| m.contains(text))
            })
        };
    assert!(message("ECS/ECS_Schedule_Example.yaml", "L17", "192.168.1.0/0"));
    assert!(message("IoT/iotanalytics.yaml", "L17", "shut down on 2025-12-15"));
    assert!(message(
        "Solutions/DirectoryServiceSettings/templates/DIRECTORY_SETTINGS.cfn.yaml",
        "L17",
        "KmsMasterKeyId"
    ));
}
