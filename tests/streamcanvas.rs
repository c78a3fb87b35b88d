//! StreamCanvas (seed 003) on the emulator: every resource is real, the Cognito pool and the
//! WebSocket API included, and described by their services' APIs; the frontend env file comes from
//! the real outputs; rollback works; destroy leaves nothing.

mod common;

use castform::aws::{AwsCloud, Cloud};
use common::{Emulator, project_copy};
use serde_json::Value;

fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    stdout
}

#[test]
fn streamcanvas_deploys_every_resource_writes_its_env_file_rolls_back_and_is_destroyed() {
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
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let c = rt.block_on(AwsCloud::with_static_credentials("us-east-1", &emu.endpoint(), "test", "test"));
    // every resource is real
    let mut real = 0;
    for stack in ["auth", "data", "realtime", "functions"] {
        let resources = rt.block_on(c.list_stack_resources(&format!("streamcanvas-local-{stack}"))).unwrap();
        real += common::assert_all_real(&resources, stack);
    }
    println!("streamcanvas local: {real} resources, 0 without a real physical id");
    // Cognito and API Gateway describe them as synthesized
    let outputs: Value = serde_json::from_str(&ok(&with_region(&["outputs", "local", "--json"]))).unwrap();
    let pool_id = outputs["auth"]["UsersId"].as_str().unwrap();
    let pool = emu.aws("us-east-1", &["cognito-idp", "describe-user-pool", "--user-pool-id", pool_id]).unwrap();
    assert_eq!(pool["UserPool"]["Name"], "streamcanvas-local-users");
    assert_eq!(pool["UserPool"]["Policies"]["PasswordPolicy"]["MinimumLength"], 8);
    let client = emu
        .aws(
            "us-east-1",
            &[
                "cognito-idp",
                "describe-user-pool-client",
                "--user-pool-id",
                pool_id,
                "--client-id",
                outputs["auth"]["UsersClientId"].as_str().unwrap(),
            ],
        )
        .unwrap();
    assert_eq!(client["UserPoolClient"]["ClientName"], "StreamCanvasApp");
    assert!(client["UserPoolClient"].get("ClientSecret").is_none(), "a public client has no secret");
    let api_id = outputs["realtime"]["SocketId"].as_str().unwrap();
    let api = emu.aws("us-east-1", &["apigatewayv2", "get-api", "--api-id", api_id]).unwrap();
    assert_eq!(api["ProtocolType"], "WEBSOCKET");
    assert!(outputs["realtime"]["SocketUrl"].as_str().unwrap().starts_with(&format!("wss://{api_id}.execute-api.")));
    let routes = emu.aws("us-east-1", &["apigatewayv2", "get-routes", "--api-id", api_id]).unwrap();
    let mut keys: Vec<&str> =
        routes["Items"].as_array().unwrap().iter().map(|r| r["RouteKey"].as_str().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, ["$connect", "$disconnect", "publishState", "signal"]);
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

    // destroy leaves nothing of the environment in Cognito or API Gateway
    let gone = ok(&with_region(&["destroy", "local", "--yes"]));
    assert!(gone.contains("destroyed streamcanvas/local"), "{gone}");
    let pools = emu.aws("us-east-1", &["cognito-idp", "list-user-pools", "--max-results", "10"]).unwrap();
    assert_eq!(pools["UserPools"].as_array().unwrap().len(), 0, "{pools}");
    let apis = emu.aws("us-east-1", &["apigatewayv2", "get-apis"]).unwrap();
    assert_eq!(apis["Items"].as_array().map_or(0, |a| a.len()), 0, "{apis}");
}
