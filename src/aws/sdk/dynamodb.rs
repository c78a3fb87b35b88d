//! DynamoDB: tables as DescribeTable answers them, the account's tables, and their item counts.

use super::err;
use crate::aws::*;
use aws_sdk_dynamodb::Client;

pub(super) async fn describe_table(dynamodb: &Client, name: &str) -> CloudResult<Option<TableInfo>> {
    let out = match dynamodb.describe_table().table_name(name).send().await {
        Ok(out) => out,
        Err(e) => {
            return match err("DynamoDB DescribeTable", e) {
                CloudError::Service { code, .. } if code == "ResourceNotFoundException" => Ok(None),
                other => Err(other),
            };
        }
    };
    let Some(t) = out.table() else { return Ok(None) };
    let types: std::collections::HashMap<&str, &str> =
        t.attribute_definitions().iter().map(|a| (a.attribute_name(), a.attribute_type().as_str())).collect();
    Ok(Some(TableInfo {
        name: t.table_name().unwrap_or(name).to_string(),
        arn: t.table_arn().unwrap_or_default().to_string(),
        keys: t
            .key_schema()
            .iter()
            .map(|k| {
                let attr = k.attribute_name();
                (
                    attr.to_string(),
                    k.key_type().as_str().to_string(),
                    types.get(attr).copied().unwrap_or("").to_string(),
                )
            })
            .collect(),
        billing_mode: t
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .map_or("PROVISIONED".into(), |b| b.as_str().to_string()),
        indexes: t.global_secondary_indexes().iter().filter_map(|g| g.index_name().map(str::to_string)).collect(),
        stream: t
            .stream_specification()
            .filter(|s| s.stream_enabled())
            .and_then(|s| s.stream_view_type())
            .map(|v| v.as_str().to_string()),
        status: t.table_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
    }))
}

pub(super) async fn list_tables(dynamodb: &Client) -> CloudResult<Vec<String>> {
    dynamodb
        .list_tables()
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| err("DynamoDB ListTables", e))
}

/// A COUNT scan, page after page (each page counts up to 1 MB of the table).
pub(super) async fn count_items(dynamodb: &Client, table: &str) -> CloudResult<u64> {
    let mut pages =
        dynamodb.scan().table_name(table).select(aws_sdk_dynamodb::types::Select::Count).into_paginator().send();
    let mut total = 0u64;
    while let Some(page) = pages.try_next().await.map_err(|e| err("DynamoDB Scan", e))? {
        total += u64::try_from(page.count()).unwrap_or(0);
    }
    Ok(total)
}
