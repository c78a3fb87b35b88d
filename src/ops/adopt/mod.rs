//! Adoption: existing resources taken into an environment's stacks (`adopt:` in the environment
//! file), checked against the live resource before anything is written, imported through
//! `IMPORT` change sets, retained forever; and `castform adopt ENV --discover`, which finds them.
//!
//! What AWS can import: the types whose registry schema has a read handler, the types Cloud
//! Control serves ("Resource type support",
//! <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-import-supported-resources.html>;
//! `AWS::MediaLive::Channel` has none, so it cannot be imported). Each imported resource needs a
//! `DeletionPolicy`, its identifier in the template, and an import changes nothing else
//! (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/import-resources-automatically.html>).
//! castform adopts the importable types it reads and compares before importing: DynamoDB tables
//! (the data seed 001 says must be preserved), S3 buckets, MediaConnect flows (the encoder's
//! ingest address), Lambda functions and CloudFront distributions (the URL users bookmarked).
//!
//! A table is compared strictly (keys, billing, stream, indexes: its data depends on them) and
//! imported as its construct writes it. Any other type is read through Cloud Control (its read
//! handler, in CloudFormation's shape) and imported *as it is*: the import template holds the live
//! properties, so the import changes nothing and needs none of the stack's other resources; the
//! deploy's ordinary change set that follows then makes it what the construct says, and the
//! adopt step lists each property it will change. Where that change set would replace the
//! resource (a create-only property of its registry schema differs) or drop what users reach it
//! by (a distribution's aliases), castform refuses before any write.

mod discover;
mod import;
mod template;

pub use discover::{Candidate, discover};
pub use import::{
    Pending, differences, import_request, import_stack, import_template, importable_properties, name_code, same,
    table_differences, verify,
};
#[cfg(test)]
use template::rename;
pub use template::{apply, define};

use crate::aws::{Cloud, ResourceToImport, TableInfo};
use crate::config::Environment;
use crate::template::{Adopted, App, DeletionPolicy, UpdateReplacePolicy};
use serde_json::Value;

/// The types castform adopts.
const ADOPTS: &[&str] = &[
    "AWS::DynamoDB::Table",
    "AWS::S3::Bucket",
    "AWS::MediaConnect::Flow",
    "AWS::Lambda::Function",
    "AWS::CloudFront::Distribution",
];

/// The property a template names an adopted resource by, and its value for `identifier`: the
/// identifier itself for tables, buckets and functions; a flow's name is the last part of its
/// ARN (`arn:aws:mediaconnect:<region>:<account>:flow:<id>:<name>`, "MediaConnect ARNs",
/// <https://docs.aws.amazon.com/mediaconnect/latest/ug/arns.html>); a distribution has none.
fn naming(type_name: &str, identifier: &str) -> Result<Option<(&'static str, String)>, String> {
    Ok(match type_name {
        "AWS::DynamoDB::Table" => Some(("TableName", identifier.to_string())),
        "AWS::S3::Bucket" => Some(("BucketName", identifier.to_string())),
        "AWS::Lambda::Function" => Some(("FunctionName", identifier.to_string())),
        "AWS::MediaConnect::Flow" => {
            let parts: Vec<&str> = identifier.split(':').collect();
            match parts.as_slice() {
                ["arn", _, "mediaconnect", _, _, "flow", id, name] if !id.is_empty() && !name.is_empty() => {
                    Some(("Name", (*name).to_string()))
                }
                _ => {
                    return Err(format!(
                        "is {identifier:?}, not a flow ARN (arn:aws:mediaconnect:<region>:<account>:flow:<id>:<name>, as `aws mediaconnect list-flows` shows it)"
                    ));
                }
            }
        }
        "AWS::CloudFront::Distribution" => {
            // an Id (E2QWRUHAPOMQZL), not the domain's first label (d35au6zpsr51nc)
            if identifier.is_empty() || !identifier.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit()) {
                return Err(format!(
                    "is {identifier:?}, not a distribution Id (upper-case letters and digits, e.g. E2QWRUHAPOMQZL; `aws cloudfront list-distributions` gives the Id of each domain name)"
                ));
            }
            None
        }
        _ => None,
    })
}

/// AWS can import the type (its registry schema has a read handler).
pub fn importable(type_name: &str, region: &str) -> bool {
    crate::rules::registry::schema(type_name, region)
        .and_then(|s| s.get("handlers"))
        .and_then(|h| h.get("read"))
        .is_some()
}

/// Every resource of the app castform could adopt: `stack.LogicalId (Type)`.
fn adoptable(app: &App) -> Vec<String> {
    app.stacks
        .iter()
        .flat_map(|s| {
            s.template
                .resources
                .iter()
                .filter(|(_, r)| ADOPTS.contains(&r.type_name.as_str()))
                .map(move |(id, r)| format!("{}.{} ({})", s.name, id.as_str(), r.type_name))
        })
        .collect()
}

/// CloudFront refuses to delete what a distribution still uses: an origin access control
/// (`OriginAccessControlInUse`), a response headers or cache policy (`...PolicyInUse`), a
/// function (`FunctionInUse`), and a KeyValueStore associated with such a function
/// (CloudFront API Reference, the errors of DeleteOriginAccessControl, DeleteResponseHeadersPolicy,
/// DeleteCachePolicy, DeleteFunction, DeleteKeyValueStore:
/// <https://docs.aws.amazon.com/cloudfront/latest/APIReference/API_DeleteOriginAccessControl.html> and
/// its neighbours). An adopted distribution outlives its
/// stack, so whatever of the stack it uses must too, or `destroy` would end DELETE_FAILED.
const USED_BY_A_DISTRIBUTION: &[&str] = &[
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::OriginRequestPolicy",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::KeyValueStore",
];

/// The type's single primary identifier property (`FlowArn`, `Id`), what an import names it by.
fn primary_identifier(type_name: &str, region: &str) -> Option<String> {
    let schema = crate::rules::registry::schema(type_name, region)?;
    let [only] = schema.get("primaryIdentifier")?.as_array()?.as_slice() else { return None };
    only.as_str()?.strip_prefix("/properties/").map(str::to_string)
}

/// Whether a JSON value refers to a resource (Ref, GetAtt, Sub) other than the pseudo parameters.
fn references(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(m) => {
            if let Some(Value::String(r)) = m.get("Ref")
                && !r.starts_with("AWS::")
            {
                out.push(r.clone());
            }
            if let Some(Value::Array(a)) = m.get("Fn::GetAtt")
                && let Some(Value::String(r)) = a.first()
            {
                out.push(r.clone());
            }
            for v in m.values() {
                references(v, out);
            }
        }
        Value::Array(a) => a.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn live(keys: &[(&str, &str, &str)], billing: &str) -> TableInfo {
        TableInfo {
            name: "orders-items".into(),
            arn: "arn:aws:dynamodb:us-west-2:372241484305:table/orders-items".into(),
            keys: keys.iter().map(|(a, b, c)| (a.to_string(), b.to_string(), c.to_string())).collect(),
            billing_mode: billing.into(),
            indexes: vec![],
            stream: None,
            status: "ACTIVE".into(),
            item_count: None,
        }
    }

    fn construct() -> Value {
        json!({"TableName": "orders-items", "BillingMode": "PAY_PER_REQUEST",
               "AttributeDefinitions": [{"AttributeName": "presetId", "AttributeType": "S"}],
               "KeySchema": [{"AttributeName": "presetId", "KeyType": "HASH"}],
               "SSESpecification": {"SSEEnabled": true}})
    }

    #[test]
    fn a_table_that_matches_its_construct_has_no_differences_and_each_kind_of_mismatch_is_named() {
        assert!(table_differences(&construct(), &live(&[("presetId", "HASH", "S")], "PAY_PER_REQUEST")).is_empty());
        let d = table_differences(&construct(), &live(&[("presetId", "HASH", "N")], "PROVISIONED"));
        assert_eq!(d.len(), 2, "{d:?}");
        assert!(d[0].contains("key schema: the construct has [presetId HASH S], the table has [presetId HASH N]"));
        assert!(d[1].contains("billing mode: the construct has PAY_PER_REQUEST, the table has PROVISIONED"));
        let mut with_stream = construct();
        with_stream["StreamSpecification"] = json!({"StreamViewType": "NEW_AND_OLD_IMAGES"});
        with_stream["GlobalSecondaryIndexes"] = json!([{"IndexName": "ExpiryIndex"}]);
        let d = table_differences(&with_stream, &live(&[("presetId", "HASH", "S")], "PAY_PER_REQUEST"));
        assert_eq!(
            d,
            vec![
                "stream: the construct has NEW_AND_OLD_IMAGES, the table has none".to_string(),
                "global secondary indexes: the construct has [ExpiryIndex], the table has []".to_string(),
            ]
        );
    }

    #[test]
    fn an_import_template_is_the_deployed_one_plus_the_adopted_resources_and_nothing_else() {
        let pending = Pending {
            adopted: Adopted {
                stack: "data".into(),
                logical_id: "Presets".into(),
                resource_type: "AWS::DynamoDB::Table".into(),
                property: "TableName".into(),
                identifier: "orders-items".into(),
                at: "environments/orders/prod.yaml:40:3".into(),
            },
            region: "us-west-2".into(),
            stack_name: "orders-prod-data".into(),
            resource: json!({"Type": "AWS::DynamoDB::Table", "DeletionPolicy": "Retain", "Properties": construct()}),
            live: Some(live(&[("presetId", "HASH", "S")], "PAY_PER_REQUEST")),
            changes: vec![],
        };
        let deployed = json!({"Resources": {"Sources": {"Type": "AWS::DynamoDB::Table"}}, "Outputs": {"SourcesName": {"Value": {"Ref": "Sources"}}}});
        let body: Value =
            serde_json::from_str(&import_template(Some(&deployed.to_string()), "d", &[&pending]).unwrap()).unwrap();
        assert_eq!(body["Outputs"], deployed["Outputs"], "outputs unchanged");
        assert_eq!(body["Resources"]["Sources"], deployed["Resources"]["Sources"]);
        assert_eq!(body["Resources"]["Presets"]["DeletionPolicy"], "Retain");
        let fresh: Value = serde_json::from_str(&import_template(None, "d", &[&pending]).unwrap()).unwrap();
        assert_eq!(fresh["Resources"].as_object().unwrap().len(), 1);
        assert!(fresh.get("Outputs").is_none(), "a new stack made by import has no outputs yet");
        let req = import_request("orders-prod-data", String::new(), &[&pending], None);
        assert_eq!(req.imports[0].identifier, ("TableName".to_string(), "orders-items".to_string()));
        assert!(req.create && req.parameters.is_empty());
        // into a deployed stack: its parameters and tags as they are (review S3-24)
        let deployed_stack = crate::aws::StackInfo {
            status: "UPDATE_COMPLETE".into(),
            parameters: [("DataSourcesName".to_string(), "orders-prod-sources".to_string())].into(),
            tags: [("castform:app".to_string(), "orders".to_string())].into(),
            ..Default::default()
        };
        let req = import_request("orders-prod-data", String::new(), &[&pending], Some(&deployed_stack));
        assert!(!req.create);
        assert_eq!(req.parameters, deployed_stack.parameters);
        assert_eq!(req.tags, deployed_stack.tags);
        let mut refs = vec![];
        references(
            &json!({"A": {"Fn::GetAtt": ["Key", "Arn"]}, "B": {"Ref": "AWS::Region"}, "C": [{"Ref": "Topic"}]}),
            &mut refs,
        );
        assert_eq!(refs, ["Key", "Topic"], "pseudo parameters are not resources");
    }

    #[test]
    fn importability_comes_from_the_registry_read_handler() {
        assert!(importable("AWS::DynamoDB::Table", "us-west-2"));
        assert!(importable("AWS::MediaConnect::Flow", "us-west-2"));
        assert!(!importable("AWS::MediaLive::Channel", "us-west-2"));
        assert_eq!(primary_identifier("AWS::DynamoDB::Table", "us-west-2").as_deref(), Some("TableName"));
        assert_eq!(primary_identifier("AWS::MediaConnect::Flow", "us-west-2").as_deref(), Some("FlowArn"));
        assert_eq!(primary_identifier("AWS::CloudFront::Distribution", "us-west-2").as_deref(), Some("Id"));
    }

    #[test]
    fn each_type_is_named_by_its_identifier_and_a_wrong_form_is_refused() {
        let arn = "arn:aws:mediaconnect:us-west-2:372241484305:flow:1-AbCd:orders-prod-srt-router";
        assert_eq!(naming("AWS::MediaConnect::Flow", arn).unwrap(), Some(("Name", "orders-prod-srt-router".into())));
        assert!(naming("AWS::MediaConnect::Flow", "orders-prod-srt-router").unwrap_err().contains("not a flow ARN"));
        assert_eq!(naming("AWS::Lambda::Function", "f").unwrap(), Some(("FunctionName", "f".into())));
        assert_eq!(naming("AWS::CloudFront::Distribution", "E2QWRUHAPOMQZL").unwrap(), None);
        let e = naming("AWS::CloudFront::Distribution", "d35au6zpsr51nc").unwrap_err();
        assert!(e.contains("not a distribution Id"), "{e}");
    }

    #[test]
    fn a_rename_follows_the_name_where_it_is_written_out_and_nowhere_else() {
        let mut v = json!({"FunctionName": "app-api", "Arn": "arn:aws:lambda:r:1:function:app-api:*",
                           "Group": "/aws/lambda/app-api", "Other": "app-api-logs", "Kept": "my-app-api"});
        rename(&mut v, "app-api", "old-api");
        assert_eq!(
            v,
            json!({"FunctionName": "old-api", "Arn": "arn:aws:lambda:r:1:function:old-api:*",
                             "Group": "/aws/lambda/old-api", "Other": "app-api-logs", "Kept": "my-app-api"})
        );
    }

    #[test]
    fn a_create_only_difference_or_a_dropped_alias_is_refused_and_updates_are_listed() {
        let flow = crate::rules::registry::schema("AWS::MediaConnect::Flow", "us-west-2");
        let construct = json!({"Name": "f", "Source": {"Name": "srt-ingest", "IngestPort": 9998,
                               "Decryption": {"RoleArn": {"Fn::GetAtt": ["IngestSecretRole", "Arn"]}}}});
        let live =
            json!({"Name": "f", "FlowArn": "arn", "Source": {"Name": "main", "IngestPort": "9998", "SourceArn": "s"}});
        let (replaced, changes) = differences("AWS::MediaConnect::Flow", flow, &construct, &live);
        assert_eq!(replaced.len(), 1, "{replaced:?}");
        assert!(replaced[0].starts_with("Source.Name: live \"main\", construct \"srt-ingest\""), "{replaced:?}");
        assert_eq!(changes, ["Source: set from IngestSecretRole"]);
        let live = json!({"Name": "f", "Source": {"Name": "srt-ingest", "IngestPort": 9998}});
        let (replaced, _) = differences("AWS::MediaConnect::Flow", flow, &construct, &live);
        assert!(replaced.is_empty(), "{replaced:?}");

        let dist = crate::rules::registry::schema("AWS::CloudFront::Distribution", "us-west-2");
        let construct = json!({"DistributionConfig": {"Enabled": true, "Aliases": ["a.example.com"]}});
        let live = json!({"Id": "E1", "DomainName": "d1.cloudfront.net",
                          "DistributionConfig": {"Enabled": true, "Aliases": ["a.example.com", "b.example.com"]}});
        let (replaced, _) = differences("AWS::CloudFront::Distribution", dist, &construct, &live);
        assert_eq!(replaced.len(), 1);
        assert!(replaced[0].contains("b.example.com"), "{replaced:?}");

        let function = crate::rules::registry::schema("AWS::Lambda::Function", "us-west-2");
        let construct = json!({"FunctionName": "f", "Runtime": "nodejs24.x", "MemorySize": 256,
                               "Code": {"S3Bucket": "b", "S3Key": "k"}});
        let live = json!({"FunctionName": "f", "Runtime": "nodejs18.x", "MemorySize": 256, "Arn": "arn", "Description": "old"});
        let (replaced, changes) = differences("AWS::Lambda::Function", function, &construct, &live);
        assert!(replaced.is_empty(), "{replaced:?}");
        assert_eq!(
            changes,
            [
                "Description: \"old\" -> (the service's default)",
                "Runtime: \"nodejs18.x\" -> \"nodejs24.x\"",
                "Code: the construct's package replaces the running code",
            ]
        );
        // what the import holds: live, without read-only properties, with Code said to be unknown
        let live = json!({"FunctionName": "f", "PackageType": "Zip", "Arn": "arn"});
        let (replaced, _) = differences("AWS::Lambda::Function", function, &construct, &live);
        assert!(replaced.is_empty(), "a create-only property the construct leaves out is not compared: {replaced:?}");
        let held = importable_properties("AWS::Lambda::Function", function, &live, &construct);
        assert!(held.get("Arn").is_none() && held.get("PackageType").is_none(), "{held}");
        assert!(held["Code"]["ZipFile"].as_str().unwrap().contains("not known"));
        let held = importable_properties(
            "AWS::MediaConnect::Flow",
            flow,
            &json!({"FlowArn": "a", "Source": {"Name": "s", "SourceArn": "x"}}),
            &json!({"Source": {"Name": "s"}}),
        );
        assert_eq!(held, json!({"Source": {"Name": "s"}}));
    }

    /// Review S3-16: an adopted function's variables (secrets among them) never reach the import
    /// template, which anyone with GetTemplate reads and every backup copies.
    #[test]
    fn an_imported_functions_variables_stay_out_of_the_template() {
        let live = json!({"FunctionName": "f", "Environment": {"Variables": {"DB_PASSWORD": "hunter2"}}});
        let held = importable_properties("AWS::Lambda::Function", None, &live, &json!({}));
        assert!(held.get("Environment").is_none(), "{held}");
        assert!(!held.to_string().contains("hunter2"));
        assert_eq!(held["FunctionName"], "f");
    }
}
