//! Data lessons: retain or delete by environment (L05), stream consumers (L10), PITR (L18).

use super::util::referenced_ids;
use super::{Hit, Severity, Target};

/// Types that hold data, or keys without which data cannot be read: deleting one loses it. The
/// list of cfn-lint 1.58.0 (`cfnlint/data/AdditionalSpecs/StatefulResources.json`, MIT-0), plus
/// CloudFront's KeyValueStore (review S3-43): its key-value pairs are data (the podcast's
/// subscriber access), and a replaced store starts empty
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/kvs-with-functions.html>).
pub const STATEFUL: &[&str] = &[
    "AWS::Backup::BackupVault",
    "AWS::CloudFront::KeyValueStore",
    "AWS::CloudFormation::Stack",
    "AWS::Cognito::UserPool",
    "AWS::DocDB::DBCluster",
    "AWS::DocDB::DBInstance",
    "AWS::DynamoDB::GlobalTable",
    "AWS::DynamoDB::Table",
    "AWS::EC2::Volume",
    "AWS::EFS::FileSystem",
    "AWS::EMR::Cluster",
    "AWS::ElastiCache::CacheCluster",
    "AWS::ElastiCache::ReplicationGroup",
    "AWS::Elasticsearch::Domain",
    "AWS::FSx::FileSystem",
    "AWS::KMS::Key",
    "AWS::Kinesis::Stream",
    "AWS::Logs::LogGroup",
    "AWS::Neptune::DBCluster",
    "AWS::Neptune::DBInstance",
    "AWS::OpenSearchService::Domain",
    "AWS::Organizations::Account",
    "AWS::QLDB::Ledger",
    "AWS::RDS::DBCluster",
    "AWS::RDS::DBInstance",
    "AWS::Redshift::Cluster",
    "AWS::S3::Bucket",
    "AWS::SDB::Domain",
    "AWS::SQS::Queue",
    "AWS::SecretsManager::Secret",
];

/// L05: stateful resources are `Retain` where the environment keeps data, `Delete` elsewhere
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html>:
/// without a policy CloudFormation deletes the resource with its stack).
pub fn l05(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, ty, _) in t.resources() {
        if !STATEFUL.contains(&ty) {
            continue;
        }
        let r = t.resource(id).unwrap();
        let policy = r["DeletionPolicy"].as_str();
        let replace = r["UpdateReplacePolicy"].as_str();
        match t.retain_data() {
            Some(true) => {
                if policy != Some("Retain") || replace != Some("Retain") {
                    hits.push(Hit::new(
                        id,
                        format!("holds data in an environment that keeps data, but DeletionPolicy is {} and UpdateReplacePolicy {}", policy.unwrap_or("unset (Delete)"), replace.unwrap_or("unset (Delete)")),
                        "set both to Retain (castform's constructs do where retain_data is true)",
                    ));
                }
            }
            Some(false) => {
                // an adopted resource existed before the stack and must outlive it
                // (castform writes `Metadata: {castform: {adopted: <identifier>}}` on it)
                let adopted = r["Metadata"]["castform"]["adopted"].is_string();
                if policy == Some("Retain") && !adopted {
                    hits.push(Hit::new(id, "is retained in an environment that does not keep data: it will be orphaned when the stack is deleted", "set DeletionPolicy: Delete"));
                }
            }
            None => {
                if policy.is_none() {
                    hits.push(
                        Hit::new(
                            id,
                            "holds data but states no DeletionPolicy",
                            "state Retain (production) or Delete (disposable environments) explicitly",
                        )
                        .with_severity(Severity::Warning),
                    );
                }
            }
        }
    }
    hits
}

/// L10: a DynamoDB stream consumer is an event source mapping with a starting position, batch
/// size, batching window, bounded retries and an on-failure destination.
pub fn l10(t: &Target) -> Vec<Hit> {
    let mut hits = vec![];
    for (id, m) in t.of_type("AWS::Lambda::EventSourceMapping") {
        let src = &m["EventSourceArn"];
        let from_table = referenced_ids(src).iter().any(|r| t.type_of(r) == Some("AWS::DynamoDB::Table"))
            || serde_json::to_string(src).unwrap_or_default().contains("StreamArn")
            || src.as_str().is_some_and(|s| s.contains(":dynamodb:") && s.contains("/stream/"));
        if !from_table {
            continue;
        }
        let mut missing = vec![];
        for key in ["StartingPosition", "BatchSize", "MaximumBatchingWindowInSeconds", "MaximumRetryAttempts"] {
            if m.get(key).is_none() {
                missing.push(key.to_string());
            }
        }
        if m["MaximumRetryAttempts"].as_i64() == Some(-1) {
            missing.push("bounded MaximumRetryAttempts (-1 retries forever)".into());
        }
        if m["DestinationConfig"]["OnFailure"]["Destination"].is_null() {
            missing.push("DestinationConfig.OnFailure.Destination".into());
        }
        if !missing.is_empty() {
            hits.push(Hit::new(
                id,
                format!("a DynamoDB stream consumer lacks {}", missing.join(", ")),
                "set a starting position, batch size, batching window, bounded retries and an on-failure SQS destination",
            ));
        }
    }
    hits
}

/// L18: tables keep point-in-time recovery where the environment keeps data.
pub fn l18(t: &Target) -> Vec<Hit> {
    if t.retain_data() != Some(true) {
        return vec![];
    }
    t.of_type("AWS::DynamoDB::Table")
        .filter(|(_, p)| {
            let on = &p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"];
            !(on == true || on == "true")
        })
        .map(|(id, _)| {
            Hit::new(
                id,
                "has no point-in-time recovery in an environment that keeps data",
                "set PointInTimeRecoverySpecification.PointInTimeRecoveryEnabled: true",
            )
        })
        .collect()
}
