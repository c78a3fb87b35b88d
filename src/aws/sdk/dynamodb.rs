//! DynamoDB: tables as DescribeTable answers them (their approximate item counts included) and the
//! account's tables. No call here scans a table (review S3-15).

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
        item_count: t.item_count().and_then(|n| u64::try_from(n).ok()),
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

/// One Scan of at most one item, counted: whether the table holds any (see [`crate::aws::Cloud::holds_items`]).
pub(super) async fn holds_items(dynamodb: &Client, table: &str) -> CloudResult<bool> {
    let scan = dynamodb.scan().table_name(table).limit(1).select(aws_sdk_dynamodb::types::Select::Count).send().await;
    match scan {
        Ok(out) => Ok(out.count() > 0),
        Err(e) => match err("DynamoDB Scan", e) {
            CloudError::Service { code, .. } if code == "ResourceNotFoundException" => Ok(false),
            other => Err(other),
        },
    }
}
