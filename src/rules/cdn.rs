//! CloudFront lessons: KeyValueStore associations (L11).

use super::util::{as_list, refers_to};
use super::{Hit, Severity, Target};

/// L11: a KeyValueStore is associated through a CloudFront Function that a cache behavior uses;
/// `KeyValueStoreAssociations` on a cache behavior does not exist.
pub fn l11(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    let mut used_functions = vec![];
    for (id, d) in t.of_type("AWS::CloudFront::Distribution") {
        let cfg = &d["DistributionConfig"];
        let mut behaviors = vec![("DefaultCacheBehavior".to_string(), &cfg["DefaultCacheBehavior"])];
        for (i, b) in as_list(&cfg["CacheBehaviors"]).into_iter().enumerate() {
            behaviors.push((format!("CacheBehaviors[{i}]"), b));
        }
        for (path, b) in behaviors {
            if b.get("KeyValueStoreAssociations").is_some() {
                hits.push(Hit::new(
                    id,
                    format!("{path} has KeyValueStoreAssociations, which is not a CloudFront property"),
                    "associate the store in the CloudFront Function's FunctionConfig.KeyValueStoreAssociations and attach that function to the behavior",
                ));
            }
            for fa in as_list(&b["FunctionAssociations"]) {
                used_functions.push(fa["FunctionARN"].clone());
            }
        }
    }
    for (kvs, _) in t.of_type("AWS::CloudFront::KeyValueStore") {
        let fns: Vec<&str> = t
            .of_type("AWS::CloudFront::Function")
            .filter(|(_, f)| {
                as_list(&f["FunctionConfig"]["KeyValueStoreAssociations"])
                    .iter()
                    .any(|a| refers_to(&a["KeyValueStoreARN"], kvs))
            })
            .map(|(id, _)| id)
            .collect();
        if fns.is_empty() {
            hits.push(Hit::new(kvs, "no CloudFront Function is associated with this KeyValueStore", "add it to a CloudFront Function's FunctionConfig.KeyValueStoreAssociations (runtime cloudfront-js-2.0)"));
            continue;
        }
        for f in fns {
            let p = &t.resource(f).unwrap()["Properties"];
            if p["FunctionConfig"]["Runtime"] != "cloudfront-js-2.0" {
                hits.push(Hit::new(
                    f,
                    "reads a KeyValueStore but is not on cloudfront-js-2.0",
                    "set FunctionConfig.Runtime: cloudfront-js-2.0",
                ));
            }
            let attached = used_functions.iter().any(|u| refers_to(u, f));
            if !attached && t.resources().any(|(_, ty, _)| ty == "AWS::CloudFront::Distribution") {
                hits.push(
                    Hit::new(
                        f,
                        "reads a KeyValueStore but no cache behavior uses it",
                        "add it to a cache behavior's FunctionAssociations",
                    )
                    .with_severity(Severity::Warning),
                );
            }
        }
    }
    hits
}
