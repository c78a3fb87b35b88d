//! StreamCanvas (seed 003) on the emulator: what the emulator supports (tables, functions, roles,
//! alarms, the config bucket) is deployed and checked; what it skips (Cognito, API Gateway v2) is
//! named here, not trusted; the frontend env file comes from the real outputs; rollback works.

mod common;

use castform::aws::{AwsCloud, Cloud};
use common::{Emulator, project_copy};
use serde_json::Value;

/// Types the emulator (LocalStack community) reports created without creating them.
const SKIPPED_BY_THE_EMULATOR: &[&str] = &[
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Stage",
];

fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn streamcanvas_deploys_what_the_emulator_supports_writes_its_env_file_and_rolls_back() {
    let emu = Emulator::start();
    let dir = project_copy();
    // the environment is in us-east-1, as the seed deploys it
    let with_region = |args: &[&str]| {
        let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_castform"));
        c.args(args).args(["--app", "streamcanvas", "--root"]).arg(dir.path()).env("NO_COLOR", "1");
        for (k, v) in emu.env() {
            c.env(k, if k == "AWS_REGION" { "us-east-1".to_string() } else { v });
        }
        c.output().unwrap()
    };
    ok(&with_region(&["bootstrap", "local"]));
    let out = with_region(&["deploy", "local"]);
    ok(&out);
    let progress = String::from_utf8_lossy(&out.stderr);
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let c = rt.block_on(AwsCloud::with_static_credentials("us-east-1", &emu.endpoint(), "test", "test"));
    // supported resources are real; skipped ones are detected and named, never trusted
    let mut skipped = vec![];
    for stack in ["auth", "data", "realtime", "functions"] {
        let resources = rt.block_on(c.list_stack_resources(&format!("streamcanvas-local-{stack}"))).unwrap();
        skipped.extend(common::assert_real_or_named(&resources, SKIPPED_BY_THE_EMULATOR, &progress, stack));
    }
    assert!(skipped.len() >= 8, "{skipped:?}");
    let functions = rt.block_on(c.list_stack_resources("streamcanvas-local-functions")).unwrap();
    let names: Vec<&str> = functions
        .iter()
        .filter(|r| r.resource_type == "AWS::Lambda::Function")
        .map(|r| r.physical_id.as_str())
        .collect();
    assert_eq!(names.len(), 2);
    let handler = rt.block_on(c.get_function("streamcanvas-local-ws-handler")).unwrap();
    assert_eq!(handler.configuration["Timeout"], 30);
    let executor = rt.block_on(c.get_function("streamcanvas-local-code-executor")).unwrap();
    assert_eq!(
        (executor.configuration["Timeout"].as_i64(), executor.configuration["MemorySize"].as_i64()),
        (Some(10), Some(512))
    );
    assert!(
        handler.configuration["Environment"].get("AWS_REGION").is_none(),
        "no reserved variable (seed 003's mistake)"
    );
    assert_eq!(handler.configuration["Environment"]["CONNECTIONS_TABLE"], "streamcanvas-local-websocket-connections");
    // the frontend env file, from the real outputs, without credentials
    let outputs: Value = serde_json::from_str(&ok(&with_region(&["outputs", "local", "--json"]))).unwrap();
    let bucket = outputs["data"]["FrontendConfigName"].as_str().unwrap();
    let env_file = String::from_utf8(rt.block_on(c.get_object(bucket, ".env.production")).unwrap().unwrap()).unwrap();
    assert!(env_file.contains("NEXT_PUBLIC_AWS_REGION=us-east-1"), "{env_file}");
    assert!(env_file.contains("DYNAMODB_SESSIONS_TABLE=streamcanvas-local-stream-sessions"), "{env_file}");
    assert!(
        env_file
            .contains(&format!("NEXT_PUBLIC_COGNITO_USER_POOL_ID={}", outputs["auth"]["UsersId"].as_str().unwrap()))
    );
    assert!(!env_file.contains("AWS_ACCESS_KEY_ID") && !env_file.contains("AWS_SECRET_ACCESS_KEY"), "{env_file}");

    // a second deployment with new handler code, then back
    let first = env_file.clone();
    let index = dir.path().join("assets/streamcanvas-ws-handler/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, code.replace("service: 'streamcanvas-ws-handler'", "service: 'streamcanvas-ws-handler-2'"))
        .unwrap();
    ok(&with_region(&["deploy", "local"]));
    let second_sha = rt.block_on(c.get_function("streamcanvas-local-ws-handler")).unwrap().code_sha256;
    assert_ne!(second_sha, handler.code_sha256);
    let out = ok(&with_region(&["rollback", "local"]));
    assert!(out.contains("rolled local back to"), "{out}");
    assert_eq!(
        rt.block_on(c.get_function("streamcanvas-local-ws-handler")).unwrap().code_sha256,
        handler.code_sha256,
        "the first code is back"
    );
    let env_file = String::from_utf8(rt.block_on(c.get_object(bucket, ".env.production")).unwrap().unwrap()).unwrap();
    assert_eq!(env_file, first, "and the first deployment's env file");
}
