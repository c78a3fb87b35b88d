//! Cloud Control: any resource's properties in CloudFormation's shape, and the resources of a type.

use super::err;
use crate::aws::*;
use aws_sdk_cloudcontrol::Client;

pub(super) async fn get_resource(
    cloudcontrol: &Client,
    type_name: &str,
    identifier: &str,
) -> CloudResult<Option<serde_json::Value>> {
    let out = match cloudcontrol.get_resource().type_name(type_name).identifier(identifier).send().await {
        Ok(out) => out,
        Err(e) => {
            return match err("Cloud Control GetResource", e) {
                CloudError::Service { code, .. } if code == "ResourceNotFoundException" => Ok(None),
                other => Err(other),
            };
        }
    };
    let properties = out.resource_description().and_then(|d| d.properties()).unwrap_or("{}");
    serde_json::from_str(properties).map(Some).map_err(|e| CloudError::Service {
        operation: "Cloud Control GetResource".into(),
        code: "InvalidResponse".into(),
        message: format!("the properties of {type_name} {identifier} are not JSON: {e}"),
    })
}

pub(super) async fn list_resources(cloudcontrol: &Client, type_name: &str) -> CloudResult<Vec<String>> {
    let resources = cloudcontrol
        .list_resources()
        .type_name(type_name)
        .into_paginator()
        .items()
        .send()
        .try_collect()
        .await
        .map_err(|e| err("Cloud Control ListResources", e))?;
    Ok(resources.iter().filter_map(|d| d.identifier().map(str::to_string)).collect())
}
