//! Lambda: a function's code and configuration as deployed, and its aliases.

use super::err;
use crate::aws::*;

pub(super) async fn get_function(lambda: &aws_sdk_lambda::Client, name: &str) -> CloudResult<FunctionInfo> {
    let out = lambda.get_function().function_name(name).send().await.map_err(|e| err("Lambda GetFunction", e))?;
    let c = out.configuration();
    let env: serde_json::Map<String, serde_json::Value> = c
        .and_then(|c| c.environment())
        .and_then(|e| e.variables())
        .map(|v| v.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect())
        .unwrap_or_default();
    let configuration = serde_json::json!({
        "FunctionName": c.and_then(|c| c.function_name()),
        "Runtime": c.and_then(|c| c.runtime()).map(|r| r.as_str()),
        "Handler": c.and_then(|c| c.handler()),
        "MemorySize": c.and_then(|c| c.memory_size()),
        "Timeout": c.and_then(|c| c.timeout()),
        "Role": c.and_then(|c| c.role()),
        "Version": c.and_then(|c| c.version()),
        "CodeSha256": c.and_then(|c| c.code_sha256()),
        "Environment": env,
        "LoggingConfig": {"LogGroup": c.and_then(|c| c.logging_config()).and_then(|l| l.log_group())},
    });
    Ok(FunctionInfo {
        name: name.to_string(),
        code_location: out.code().and_then(|c| c.location()).unwrap_or_default().to_string(),
        code_sha256: c.and_then(|c| c.code_sha256()).unwrap_or_default().to_string(),
        configuration,
    })
}

pub(super) async fn update_alias(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    alias: &str,
    version: &str,
) -> CloudResult<()> {
    lambda
        .update_alias()
        .function_name(function)
        .name(alias)
        .function_version(version)
        .send()
        .await
        .map_err(|e| err(&format!("Lambda UpdateAlias {function}:{alias} -> {version}"), e))?;
    Ok(())
}
