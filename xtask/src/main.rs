//! Developer tasks: vendor AWS's registry schemas into `schemas/` and generate `src/cfn/` from them.
//!
//! ```text
//! cargo run -p xtask -- vendor <cfn-lint's cfnlint/data/schemas dir>   # copy the types castform uses
//! cargo run -p xtask -- gen                                            # regenerate src/cfn/
//! cargo run -p xtask -- registry <cfn-lint's cfnlint/data dir>         # schemas/registry.bin
//! ```

mod generate;
mod registry;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Every CloudFormation resource type the apps use; `vendor` copies exactly these.
pub const TYPES: &[&str] = &[
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Authorizer",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
    "AWS::CloudFront::CachePolicy",
    "AWS::CloudFront::Distribution",
    "AWS::CloudFront::Function",
    "AWS::CloudFront::KeyValueStore",
    "AWS::CloudFront::OriginAccessControl",
    "AWS::CloudFront::ResponseHeadersPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::DynamoDB::Table",
    "AWS::IAM::Policy",
    "AWS::IAM::Role",
    "AWS::Lambda::Alias",
    "AWS::Lambda::EventSourceMapping",
    "AWS::Lambda::Function",
    "AWS::Lambda::Permission",
    "AWS::Lambda::Url",
    "AWS::Lambda::Version",
    "AWS::Logs::LogGroup",
    "AWS::MediaConnect::Flow",
    "AWS::MediaConvert::JobTemplate",
    "AWS::MediaConvert::Queue",
    "AWS::MediaLive::Channel",
    "AWS::MediaLive::Input",
    "AWS::MediaLive::InputSecurityGroup",
    "AWS::MediaPackage::Channel",
    "AWS::MediaPackage::OriginEndpoint",
    "AWS::S3::Bucket",
    "AWS::S3::BucketPolicy",
    "AWS::Scheduler::Schedule",
    "AWS::SecretsManager::Secret",
    "AWS::SQS::Queue",
    "AWS::SSM::Parameter",
    "AWS::WAFv2::WebACL",
];

/// `AWS::Lambda::Function` -> `aws-lambda-function.json`
pub fn schema_file_name(type_name: &str) -> String {
    format!("{}.json", type_name.to_ascii_lowercase().replace("::", "-"))
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the repository root")
        .to_path_buf()
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("vendor") => match args.get(1) {
            Some(dir) => vendor(Path::new(dir)),
            None => Err("usage: xtask vendor <path to cfnlint/data/schemas>".into()),
        },
        Some("gen") => generate::write_all(&repo_root()),
        Some("registry") => match args.get(1) {
            Some(dir) => registry::write(Path::new(dir), &repo_root()),
            None => Err("usage: xtask registry <path to cfnlint/data>".into()),
        },
        _ => Err("usage: xtask vendor <cfnlint/data/schemas> | xtask gen | xtask registry <cfnlint/data>".into()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Copies the registry schema of every type in [`TYPES`] from cfn-lint's data folder, resolving
/// the content-addressed file through the us-east-1 provider map (every type we use is there).
fn vendor(src: &Path) -> Result<(), String> {
    let read = |p: &Path| std::fs::read_to_string(p).map_err(|e| format!("{}: {e}", p.display()));
    let providers: serde_json::Value =
        serde_json::from_str(&read(&src.join("providers/us-east-1.json"))?).map_err(|e| e.to_string())?;
    let version = read(&src.join("version.json"))?;
    let out = repo_root().join("schemas");
    std::fs::create_dir_all(&out).map_err(|e| e.to_string())?;
    for t in TYPES {
        let hash = providers[*t].as_str().ok_or_else(|| format!("{t} is not in providers/us-east-1.json"))?;
        let body = read(&src.join(format!("resources/{hash}.json")))?;
        let value: serde_json::Value = serde_json::from_str(&body).map_err(|e| e.to_string())?;
        let pretty = serde_json::to_string_pretty(&value).map_err(|e| e.to_string())? + "\n";
        std::fs::write(out.join(schema_file_name(t)), pretty).map_err(|e| e.to_string())?;
    }
    std::fs::write(out.join("version.json"), version).map_err(|e| e.to_string())?;
    // every type of every region is in schemas/registry.bin (`xtask registry`)
    println!("vendored {} schemas into schemas/", TYPES.len());
    Ok(())
}
