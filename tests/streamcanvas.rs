//! StreamCanvas (seed 003) on the emulator: every resource is real, the Cognito pool and the
//! WebSocket API included, and described by their services' APIs; the frontend env file comes from
//! the real outputs; rollback works; destroy leaves nothing.

mod common;

use castform::aws::{AwsCloud, Cloud};
use common::{Emulator, project_copy};
use serde_json::{Value, json};

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
    // every route is throttled at the stage (media review S2; the emulator keeps the setting,
    // API Gateway enforces it)
    let stage =
        emu.aws("us-east-1", &["apigatewayv2", "get-stage", "--api-id", api_id, "--stage-name", "local"]).unwrap();
    assert_eq!(stage["DefaultRouteSettings"]["ThrottlingBurstLimit"], 200, "{stage}");
    assert_eq!(stage["DefaultRouteSettings"]["ThrottlingRateLimit"], 100.0, "{stage}");
    let routes = emu.aws("us-east-1", &["apigatewayv2", "get-routes", "--api-id", api_id]).unwrap();
    let mut keys: Vec<&str> =
        routes["Items"].as_array().unwrap().iter().map(|r| r["RouteKey"].as_str().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, ["$connect", "$disconnect", "publishState", "signal"]);
    // only $connect is authorized, by a REQUEST authorizer reading ?token=
    let connect_route = routes["Items"].as_array().unwrap().iter().find(|r| r["RouteKey"] == "$connect").unwrap();
    assert_eq!(connect_route["AuthorizationType"], "CUSTOM", "{connect_route}");
    let authorizer = emu
        .aws(
            "us-east-1",
            &[
                "apigatewayv2",
                "get-authorizer",
                "--api-id",
                api_id,
                "--authorizer-id",
                connect_route["AuthorizerId"].as_str().unwrap(),
            ],
        )
        .unwrap();
    assert_eq!(authorizer["AuthorizerType"], "REQUEST");
    assert_eq!(authorizer["IdentitySource"], json!(["route.request.querystring.token"]));
    let functions = rt.block_on(c.list_stack_resources("streamcanvas-local-functions")).unwrap();
    let names: Vec<&str> = functions
        .iter()
        .filter(|r| r.resource_type == "AWS::Lambda::Function")
        .map(|r| r.physical_id.as_str())
        .collect();
    assert_eq!(names.len(), 3, "handler, code executor, $connect authorizer: {names:?}");
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

    // the handler does its job, given API Gateway's WebSocket proxy events
    // (https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-mapping-template-reference.html):
    // the socket itself is not emulated, so the emulator's client hook opens each connection as a
    // browser would, and answers what it received through @connections
    let event = |route: &str, kind: &str, conn: &str, extra: Value| {
        let mut e = json!({"requestContext": {"routeKey": route, "eventType": kind, "connectionId": conn,
            "apiId": api_id, "stage": "local", "requestTimeEpoch": 1_764_547_200_000_i64, "connectedAt": 1_764_547_200_000_i64},
            "isBase64Encoded": false});
        e.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
        e
    };
    let hook = |method: &str, conn: &str| {
        let (status, body) = emu.send(method, &format!("/_castform/websocket/{api_id}/{conn}"), None, None).unwrap();
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<Value>(&body).unwrap()
    };
    let received = |conn: &str| -> Vec<Value> {
        hook("GET", conn)["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| serde_json::from_str(m.as_str().unwrap()).unwrap())
            .collect()
    };
    let handler_fn = "streamcanvas-local-ws-handler";
    let connections_table = outputs["data"]["WebSocketConnectionsName"].as_str().unwrap().to_string();
    let states_table = outputs["data"]["SessionStatesName"].as_str().unwrap().to_string();
    // media review S1: $connect is authorized by the user pool. A user of the pool signs in
    // (USER_PASSWORD_AUTH, which the app client allows) and connects with its access token; the
    // emulator's hook runs the handshake as API Gateway does (authorizer, then $connect)
    let pool = outputs["auth"]["UsersId"].as_str().unwrap().to_string();
    let client_id = outputs["auth"]["UsersClientId"].as_str().unwrap().to_string();
    let user = "host@example.com";
    let password = "Str0ng!Passw0rd";
    let signed_in = emu.sign_in("us-east-1", &pool, &client_id, user, password);
    let access = signed_in["AccessToken"].as_str().unwrap().to_string();
    let id_token = signed_in["IdToken"].as_str().unwrap().to_string();
    let connect = |conn: &str, query: &str| {
        emu.send("PUT", &format!("/_castform/websocket/{api_id}/{conn}{query}"), None, None).unwrap()
    };
    // refused before the handler runs: no token (401), a forged one, and an ID token (403)
    assert_eq!(connect("intruder0001=", "?sessionId=s-1").0, 401);
    assert_eq!(connect("intruder0001=", "?sessionId=s-1&token=not.a.token").0, 403);
    assert_eq!(connect("intruder0001=", &format!("?sessionId=s-1&token={id_token}")).0, 403);
    let rows = emu.aws("us-east-1", &["dynamodb", "scan", "--table-name", &connections_table]).unwrap();
    assert_eq!(rows["Count"], 0, "no refused connection reached $connect: {rows}");
    for (conn, session) in [("hostConn0001=", "s-1"), ("viewerConn01=", "s-1"), ("otherConn001=", "s-2")] {
        let (status, body) = connect(conn, &format!("?sessionId={session}&token={access}"));
        assert_eq!(status, 200, "{body}");
    }
    let rows = emu.aws("us-east-1", &["dynamodb", "scan", "--table-name", &connections_table]).unwrap();
    assert_eq!(rows["Count"], 3, "$connect records each connection: {rows}");
    // signal: to one peer of the same session, not across sessions
    let signal = |to: &str| {
        event(
            "signal",
            "MESSAGE",
            "hostConn0001=",
            json!({"body": json!({"action": "signal", "to": to, "data": {"sdp": "offer-1"}}).to_string()}),
        )
    };
    let r = emu.invoke("us-east-1", handler_fn, &signal("viewerConn01="));
    assert_eq!(r["statusCode"], 200, "{r}");
    assert_eq!(
        received("viewerConn01="),
        vec![json!({"type": "signal", "from": "hostConn0001=", "data": {"sdp": "offer-1"}})]
    );
    let r = emu.invoke("us-east-1", handler_fn, &signal("otherConn001="));
    assert_eq!(r["statusCode"], 404, "{r}");
    assert!(received("otherConn001=").is_empty());
    // publishState: kept, and sent to the rest of the session only
    let publish = || {
        event(
            "publishState",
            "MESSAGE",
            "hostConn0001=",
            json!({"body": json!({"action": "publishState", "state": {"slide": 3}}).to_string()}),
        )
    };
    let r = emu.invoke("us-east-1", handler_fn, &publish());
    assert_eq!(serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap(), json!({"delivered": 1, "gone": 0}));
    assert_eq!(received("viewerConn01=")[1]["state"], json!({"slide": 3}));
    assert!(received("otherConn001=").is_empty(), "another session hears nothing");
    assert!(received("hostConn0001=").is_empty(), "nor the sender");
    let states = emu.aws("us-east-1", &["dynamodb", "scan", "--table-name", &states_table]).unwrap();
    assert_eq!(states["Items"][0]["sessionId"]["S"], "s-1", "{states}");
    // a viewer that went away without $disconnect: @connections answers 410 and its row goes
    hook("DELETE", "viewerConn01=");
    let r = emu.invoke("us-east-1", handler_fn, &publish());
    assert_eq!(serde_json::from_str::<Value>(r["body"].as_str().unwrap()).unwrap(), json!({"delivered": 0, "gone": 1}));
    // $disconnect removes the connection
    emu.invoke("us-east-1", handler_fn, &event("$disconnect", "DISCONNECT", "hostConn0001=", json!({})));
    let rows = emu.aws("us-east-1", &["dynamodb", "scan", "--table-name", &connections_table]).unwrap();
    let left: Vec<&str> =
        rows["Items"].as_array().unwrap().iter().map(|i| i["connectionId"]["S"].as_str().unwrap()).collect();
    assert_eq!(left, ["otherConn001="], "{rows}");
    // the code executor runs a snippet, without the function's environment, and stops a loop
    let executor_fn = "streamcanvas-local-code-executor";
    let r = emu.invoke(
        "us-east-1",
        executor_fn,
        &json!({"code": "console.log('hi'); [1, 2, 3].map((n) => n * 2).join(',')"}),
    );
    assert_eq!(r, json!({"ok": true, "result": "2,4,6", "logs": ["hi"]}));
    let r = emu.invoke("us-east-1", executor_fn, &json!({"code": "process.env.AWS_SECRET_ACCESS_KEY"}));
    assert_eq!(r["ok"], false);
    assert!(r["error"].as_str().unwrap().contains("process is not defined"), "{r}");
    let r = emu.invoke("us-east-1", executor_fn, &json!({"code": "while (true) {}"}));
    assert!(r["error"].as_str().unwrap().contains("timed out"), "{r}");

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
