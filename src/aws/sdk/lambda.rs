//! Lambda: a function's code and configuration as deployed, put back from a backup (an adopted
//! function outside any stack), and its aliases.

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
        "Description": c.and_then(|c| c.description()),
        "Architectures": c.map(|c| c.architectures().iter().map(|a| a.as_str().to_string()).collect::<Vec<_>>()),
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

/// How long a restore waits for Lambda to finish one update of a function.
const UPDATED: std::time::Duration = std::time::Duration::from_secs(300);

/// Waits until the function's `LastUpdateStatus` is `Successful` (the SDK's `function_updated_v2`
/// waiter, on GetFunction): "Lambda function states",
/// <https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html>.
async fn updated(lambda: &aws_sdk_lambda::Client, name: &str) -> CloudResult<()> {
    use aws_sdk_lambda::client::Waiters;
    lambda.wait_until_function_updated_v2().function_name(name).wait(UPDATED).await.map(|_| ()).map_err(|e| {
        CloudError::Transport {
            operation: format!("Lambda GetFunction {name} (waiting for LastUpdateStatus Successful)"),
            message: super::chain(&e),
        }
    })
}

pub(super) async fn update_function_code(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    bucket: &str,
    key: &str,
    architectures: &[String],
) -> CloudResult<()> {
    let mut call = lambda.update_function_code().function_name(name).s3_bucket(bucket).s3_key(key);
    for a in architectures {
        call = call.architectures(aws_sdk_lambda::types::Architecture::from(a.as_str()));
    }
    call.send().await.map_err(|e| err(&format!("Lambda UpdateFunctionCode {name}"), e))?;
    updated(lambda, name).await
}

pub(super) async fn update_function_configuration(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    c: &serde_json::Value,
) -> CloudResult<()> {
    let text = |k: &str| c.get(k).and_then(|v| v.as_str());
    let number = |k: &str| c.get(k).and_then(|v| v.as_i64()).and_then(|n| i32::try_from(n).ok());
    let mut call = lambda
        .update_function_configuration()
        .function_name(name)
        .set_role(text("Role").map(str::to_string))
        .set_handler(text("Handler").map(str::to_string))
        .set_runtime(text("Runtime").map(aws_sdk_lambda::types::Runtime::from))
        .set_description(text("Description").map(str::to_string))
        .set_memory_size(number("MemorySize"))
        .set_timeout(number("Timeout"));
    if let Some(vars) = c.get("Environment").and_then(|e| e.as_object()) {
        let vars = vars.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect();
        call = call.environment(aws_sdk_lambda::types::Environment::builder().set_variables(Some(vars)).build());
    }
    if let Some(group) = c.pointer("/LoggingConfig/LogGroup").and_then(|v| v.as_str()) {
        call = call.logging_config(aws_sdk_lambda::types::LoggingConfig::builder().log_group(group).build());
    }
    call.send().await.map_err(|e| err(&format!("Lambda UpdateFunctionConfiguration {name}"), e))?;
    updated(lambda, name).await
}
