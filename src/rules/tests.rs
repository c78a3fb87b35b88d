use super::schema::validate_properties;
use super::*;
use serde_json::json;

#[test]
fn dates_count_days_since_1970() {
    assert_eq!(parse_date("1970-01-01"), Some(0));
    assert_eq!(parse_date("2026-11-22"), Some(20_779));
    assert_eq!(parse_date("2027-04-30").unwrap() - parse_date("2026-11-22").unwrap(), 159);
    assert_eq!(parse_date("2026-13-01"), None);
}

#[test]
fn dates_the_calendar_does_not_have_are_none() {
    assert_eq!(parse_date("2026-01-32"), None);
    assert_eq!(parse_date("2026-00-10"), None);
    assert_eq!(parse_date("2026-04-31"), None);
    // February 30 was once read as March 2; the time crate refuses it, as the calendar does
    assert_eq!(parse_date("2026-02-30"), None);
    assert_eq!(parse_date("2026-02-29"), None);
    assert_eq!(parse_date("2028-02-29").unwrap() + 1, parse_date("2028-03-01").unwrap());
    assert_eq!(parse_date("1969-12-31"), Some(-1));
    assert_eq!(parse_date("2026-11"), None);
    assert_eq!(parse_date("not a date"), None);
}

#[test]
fn today_counts_whole_days_of_the_system_clock() {
    let days = || {
        let secs = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
        (secs / 86_400) as i64
    };
    let (before, t, after) = (days(), today(), days());
    assert!(before <= t && t <= after, "{before} {t} {after}");
}

#[test]
fn schema_names_the_property_path_for_each_kind_of_mistake() {
    let errs = validate_properties(
        "AWS::Lambda::Function",
        &json!({"Code": {"S3Bucket": "b", "S3Key": "k"}, "Role": "arn", "Runtime": "nodejs99.x", "MemorySize": "lots", "Handlr": "x"}),
    )
    .unwrap();
    let all = errs.join("\n");
    assert!(all.contains("Properties.Runtime: \"nodejs99.x\" is not one of"), "{all}");
    assert!(all.contains("Properties.MemorySize: expected integer, found a string"), "{all}");
    assert!(all.contains("Properties.Handlr: Handlr is not a property here"), "{all}");
    let errs = validate_properties("AWS::Lambda::Function", &json!({"Role": "arn"})).unwrap();
    assert!(errs.iter().any(|e| e == "Properties: the required property Code is missing"), "{errs:?}");
}

#[test]
fn schema_skips_intrinsics_and_accepts_cloudformation_coercions() {
    let errs = validate_properties(
        "AWS::Lambda::Function",
        &json!({"Code": {"S3Bucket": {"Ref": "B"}, "S3Key": "k"}, "Role": {"Fn::GetAtt": ["R", "Arn"]}, "MemorySize": "256", "Timeout": {"Ref": "T"}}),
    )
    .unwrap();
    assert!(errs.is_empty(), "{errs:?}");
}

#[test]
fn schema_refuses_read_only_attributes_as_properties() {
    let errs =
        validate_properties("AWS::Lambda::Function", &json!({"Code": {"ZipFile": "x"}, "Role": "r", "Arn": "x"}))
            .unwrap();
    assert!(errs.iter().any(|e| e.contains("Properties.Arn: is read-only")), "{errs:?}");
}

#[test]
fn every_registry_type_has_a_schema_and_unknown_types_none() {
    // issue 17: every type CloudFormation has, not only the ones castform's constructs use
    let errs =
        validate_properties("AWS::EC2::SecurityGroupIngress", &json!({"IpProtocol": "tcp", "CidrIp": "192.168.1.0/0"}))
            .unwrap();
    assert!(errs.iter().any(|e| e.contains("CidrIp") && e.contains("the network would be 0.0.0.0/0")), "{errs:?}");
    assert!(
        validate_properties(
            "AWS::EC2::SecurityGroupIngress",
            &json!({"IpProtocol": "tcp", "CidrIp": "192.168.1.0/24"})
        )
        .unwrap()
        .is_empty()
    );
    assert!(validate_properties("AWS::EC2::Instances", &json!({})).is_none());
}

#[test]
fn the_runtime_rule_warns_within_180_days_and_errors_after() {
    let t = json!({"Resources": {"F": {"Type": "AWS::Lambda::Function", "Properties": {"Runtime": "nodejs22.x"}}}});
    let at = |day: &str| {
        let target = Target {
            stack: "s".into(),
            template: &t,
            region: None,
            env: None,
            today: parse_date(day).unwrap(),
            required_tags: vec![],
            code: None,
        };
        check(&target).into_iter().filter(|f| f.rule == "L02").map(|f| f.severity).collect::<Vec<_>>()
    };
    assert_eq!(at("2026-06-01"), vec![]);
    assert_eq!(at("2026-11-22"), vec![Severity::Warning]);
    assert_eq!(at("2027-04-30"), vec![Severity::Error]);
}

#[test]
fn placeholders_are_found_in_any_string() {
    assert_eq!(hygiene_placeholder("https://PLACEHOLDER.lambda-url.on.aws/"), Some("PLACEHOLDER".into()));
    assert_eq!(hygiene_placeholder("https://api.example.com"), Some("example.com".into()));
    assert_eq!(hygiene_placeholder("<your-api-url>"), Some("<your-api-url>".into()));
    assert_eq!(hygiene_placeholder("https://abc.lambda-url.us-west-2.on.aws/"), None);
}

fn hygiene_placeholder(s: &str) -> Option<String> {
    hygiene::placeholder_in(s)
}

#[test]
fn account_ids_are_found_in_arns_but_not_inside_digests() {
    let t = |s: &str| {
        let tpl =
            json!({"Resources": {"P": {"Type": "AWS::SSM::Parameter", "Properties": {"Type": "String", "Value": s}}}});
        let target = Target {
            stack: "s".into(),
            template: &tpl,
            region: None,
            env: None,
            today: 0,
            required_tags: vec![],
            code: None,
        };
        check(&target).into_iter().any(|f| f.rule == "L07")
    };
    assert!(t("arn:aws:iam::372241484305:role/x"));
    assert!(t("372241484305"));
    assert!(!t("assets/1ad2fdc9692af7e0951428391670b5cb4e0bc86164ea7f56d724e11ebc53876fe.zip"));
    assert!(!t("assets/ab095142839167cd.zip"));
}
