//! Tables as CloudFormation makes and removes them: every `AWS::DynamoDB::Table` of a stack's
//! template exists as a table with its items, outside the template's text, so that a test can
//! see what a stack operation did to the data.
//!
//! - A table removed from a template, or whose stack is deleted, is deleted with its items
//!   unless its `DeletionPolicy` is `Retain`; a replaced table's old instance is deleted unless
//!   its `UpdateReplacePolicy` is `Retain`
//!   (<https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-deletionpolicy.html>:
//!   "This capability also applies to stack update operations that lead to resources being
//!   deleted from stacks ... doesn't apply to resources whose physical instance is replaced";
//!   <https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-attribute-updatereplacepolicy.html>).
//! - A table the operation would create under a name an existing table has fails the operation:
//!   "Resource of type 'AWS::DynamoDB::Table' with identifier '...' already exists." That is
//!   what a retained table left by a removed stack does to the next create, unless the table is
//!   imported.

use crate::aws::{ResourceToImport, TableInfo};
use serde_json::Value;
use std::collections::BTreeMap;

/// Every table by name; `item_count` is its items (DescribeTable's `ItemCount`).
pub(super) type Tables = BTreeMap<String, TableInfo>;

/// The tables a template declares: logical id -> (table name, resource).
fn declared(stack: &str, template: Option<&str>) -> BTreeMap<String, (String, Value)> {
    let t: Value = template.and_then(|t| serde_json::from_str(t).ok()).unwrap_or(Value::Null);
    t["Resources"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, r)| r["Type"] == "AWS::DynamoDB::Table")
        .map(|(id, r)| (id.clone(), (super::template::physical(stack, id, r), r.clone())))
        .collect()
}

fn retained(resource: &Value, policy: &str) -> bool {
    matches!(resource[policy].as_str(), Some("Retain" | "RetainExceptOnCreate"))
}

/// CloudFormation replaces a table whose name or key schema changes.
fn replaced(old: &(String, Value), new: &(String, Value)) -> bool {
    old.0 != new.0 || old.1["Properties"]["KeySchema"] != new.1["Properties"]["KeySchema"]
}

/// A table's description from its template properties, as DescribeTable would answer once the
/// table is created.
pub(super) fn info(name: &str, props: &Value, region: &str, account: &str) -> TableInfo {
    let types: BTreeMap<&str, &str> = props["AttributeDefinitions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d["AttributeName"].as_str()?, d["AttributeType"].as_str()?)))
        .collect();
    TableInfo {
        name: name.into(),
        arn: format!("arn:aws:dynamodb:{region}:{account}:table/{name}"),
        keys: props["KeySchema"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|k| {
                let n = k["AttributeName"].as_str()?;
                Some((n.into(), k["KeyType"].as_str()?.into(), types.get(n).copied().unwrap_or("").into()))
            })
            .collect(),
        billing_mode: props["BillingMode"].as_str().unwrap_or("PROVISIONED").into(),
        indexes: props["GlobalSecondaryIndexes"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|g| g["IndexName"].as_str().map(str::to_string))
            .collect(),
        stream: props["StreamSpecification"]["StreamViewType"].as_str().map(str::to_string),
        status: "ACTIVE".into(),
        item_count: Some(0),
    }
}

/// The first table an operation from `old` to `new` would create whose name an existing table
/// already has (an imported one excepted): `(logical id, name)`.
pub(super) fn taken(
    tables: &Tables,
    stack: &str,
    old: Option<&str>,
    new: &str,
    imports: &[ResourceToImport],
) -> Option<(String, String)> {
    let before = declared(stack, old);
    declared(stack, Some(new)).into_iter().find_map(|(id, t)| {
        let creates = before.get(&id).is_none_or(|b| replaced(b, &t));
        let imported = imports.iter().any(|i| i.logical_id == id);
        (creates && !imported && tables.contains_key(&t.0)).then_some((id, t.0))
    })
}

/// What an operation that took a stack from `old` to `new` (`None`: the stack was deleted) did
/// to its tables: removed and replaced ones deleted unless retained, new ones created empty.
pub(super) fn apply(
    tables: &mut Tables,
    stack: &str,
    old: Option<&str>,
    new: Option<&str>,
    region: &str,
    account: &str,
) {
    let (before, after) = (declared(stack, old), declared(stack, new));
    for (id, b) in &before {
        let gone = match after.get(id) {
            None => !retained(&b.1, "DeletionPolicy"),
            Some(a) if replaced(b, a) => !retained(&b.1, "UpdateReplacePolicy"),
            Some(_) => false,
        };
        if gone {
            tables.remove(&b.0);
        }
    }
    for (name, r) in after.values() {
        tables.entry(name.clone()).or_insert_with(|| info(name, &r["Properties"], region, account));
    }
}
