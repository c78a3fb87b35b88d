//! StreamCanvas (seed 003): the deployment guide's forty hand-typed CLI commands as four stacks.
//!
//! ```text
//! auth (user pool + client)      data (three tables, frontend config bucket)
//! realtime (WebSocket API → the handler, by name) ──▶ functions (handler, executor, alarms)
//! ```
//! The API points at the handler by its physical name, so it deploys before the functions,
//! which take the API's connections ARN for `execute-api:ManageConnections` on this API only.

use super::{ApiSection, ApiSettings, AppError};
use crate::cfn::lambda;
use crate::config::{Definition, Environment, Invalid};
use crate::constructs::table::read_write;
use crate::constructs::{
    Bucket, Code, Function, FunctionProps, Gsi, Invocation, KeyType, Statement, Table, TableProps, UserPool,
    UserPoolProps, WebSocketApi, WebSocketApiProps,
};
use crate::template::{App, Expr, FileValue, OutputRef, RenderedFile, Stack};
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::PathBuf;

/// StreamCanvas: `castform::run(&[&StreamCanvas, ...])`.
pub struct StreamCanvas;

/// StreamCanvas's keys of an environment file: `api` (the WebSocket handler's code and sizes;
/// its CORS origins are the frontend's).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub api: ApiSection,
}

impl Definition for StreamCanvas {
    type Config = Config;

    fn name(&self) -> &'static str {
        "streamcanvas"
    }

    fn validate(&self, env: &Environment, config: &Config) -> Result<(), Invalid> {
        config.api.settings(env, HANDLER_CODE).map(|_| ())
    }

    fn define(&self, env: &Environment, config: &Config) -> anyhow::Result<App> {
        Ok(define(env, &config.api.settings(env, HANDLER_CODE)?)?)
    }
}

/// The WebSocket handler's code when `api.code` is not given.
const HANDLER_CODE: &str = "assets/streamcanvas-ws-handler";

/// StreamCanvas's stacks for one environment.
pub fn define(env: &Environment, api: &ApiSettings) -> Result<App, AppError> {
    let handler_name = format!("{}-ws-handler", env.prefix);
    let authorizer_name = format!("{}-connect-authorizer", env.prefix);
    let mut stacks = vec![
        auth(env)?,
        data(env)?,
        realtime(env, &handler_name, &authorizer_name)?,
        functions(env, api, handler_name, authorizer_name)?,
    ];
    for s in &mut stacks {
        crate::constructs::tag(s, &env.tags);
    }
    let mut app = App::new("streamcanvas", &env.name, stacks)?;
    app.files.push(env_production(env, api));
    app.check_wiring()?;
    Ok(app)
}

/// One of StreamCanvas's stacks in the environment's region.
fn new_stack(env: &Environment, name: &str, description: &str) -> Stack {
    env.stack(name, &format!("StreamCanvas {name}: {description} (castform)"))
}

/// auth: the users' pool and the app's client.
fn auth(env: &Environment) -> Result<Stack, AppError> {
    let mut auth = new_stack(env, "auth", "Cognito user pool and app client");
    UserPool::new(
        &mut auth,
        "Users",
        UserPoolProps {
            name: "users".into(),
            min_password_length: 8,
            client_name: "StreamCanvasApp".into(),
            admin_only: false,
        },
    )?;
    Ok(auth)
}

/// data: the sessions, their states and the open connections, and the bucket of the frontend's
/// configuration.
fn data(env: &Environment) -> Result<Stack, AppError> {
    let mut data = new_stack(env, "data", "sessions, states, connections, frontend configuration");
    Table::new(
        &mut data,
        "StreamSessions",
        TableProps {
            name: "stream-sessions".into(),
            partition_key: ("sessionId".into(), KeyType::String),
            indexes: vec![Gsi {
                name: "HostIdIndex".into(),
                partition_key: ("hostId".into(), KeyType::String),
                sort_key: None,
            }],
            ..Default::default()
        },
    )?;
    Table::new(
        &mut data,
        "SessionStates",
        TableProps {
            name: "session-states".into(),
            partition_key: ("sessionId".into(), KeyType::String),
            sort_key: Some(("timestamp".into(), KeyType::Number)),
            ..Default::default()
        },
    )?;
    Table::new(
        &mut data,
        "WebSocketConnections",
        TableProps {
            name: "websocket-connections".into(),
            partition_key: ("connectionId".into(), KeyType::String),
            ..Default::default()
        },
    )?;
    Bucket::new(&mut data, "FrontendConfig")?
        .deploy_files_only(&mut data, "the frontend's rendered .env.production")?;
    Ok(data)
}

/// realtime: the WebSocket API, pointing at the handler and the authorizer by their names.
fn realtime(env: &Environment, handler_name: &str, authorizer_name: &str) -> Result<Stack, AppError> {
    let mut realtime = new_stack(env, "realtime", "WebSocket API");
    WebSocketApi::new(
        &mut realtime,
        "Socket",
        WebSocketApiProps {
            name: "ws".into(),
            route_selection: "$request.body.action".into(),
            routes: vec!["$connect".into(), "$disconnect".into(), "signal".into(), "publishState".into()],
            stage: env.name.clone(),
            handler_name: format!("{handler_name}:live"),
            authorizer_name: Some(format!("{authorizer_name}:live")),
            // every message of every client counts: signalling and state updates of a few
            // hundred live sessions, well under the account's 10,000 per second
            throttle: (200, 100),
        },
    )?;
    Ok(realtime)
}

/// functions: the WebSocket handler and the `$connect` authorizer, each invoked by this API
/// only, and the code executor.
fn functions(
    env: &Environment,
    api: &ApiSettings,
    handler_name: String,
    authorizer_name: String,
) -> Result<Stack, AppError> {
    let mut functions = new_stack(env, "functions", "WebSocket handler and code executor");
    let (environment, statements) = handler_access(&mut functions)?;
    let code = |dir: &str| Code::Asset { root: env.root.clone(), path: PathBuf::from(dir) };
    let handler = Function::new(
        &mut functions,
        "WebSocketHandler",
        code(&api.code.display().to_string()),
        FunctionProps {
            name: Some(handler_name),
            description: "StreamCanvas WebSocket handler".into(),
            runtime: api.runtime.clone().unwrap_or_else(|| crate::constructs::DEFAULT_NODE_RUNTIME.into()),
            memory_mb: api.memory_mb,
            timeout_s: api.timeout_s,
            environment,
            statements,
            invocation: Invocation::Synchronous("the WebSocket API's routes".into()),
            ..FunctionProps::default()
        },
    )?;
    // API Gateway may invoke the handler's live alias, from this API only
    invoke_from_api(&mut functions, "WebSocketHandlerInvokeFromApi", &handler)?;
    // $connect's authorizer (media review S1): a caller connects only with an access token of this
    // user pool's app client; it needs no AWS permission (Cognito's GetUser is authorized by the
    // token itself), so its role only writes its logs
    let mut authorizer_env: IndexMap<String, Expr<String>> = IndexMap::new();
    authorizer_env.insert("USER_POOL_ID".into(), functions.import(&OutputRef::new("auth", "UsersId"))?);
    authorizer_env.insert("USER_POOL_CLIENT_ID".into(), functions.import(&OutputRef::new("auth", "UsersClientId"))?);
    let authorizer = Function::new(
        &mut functions,
        "ConnectAuthorizer",
        code("assets/streamcanvas-authorizer"),
        FunctionProps {
            name: Some(authorizer_name),
            description: "StreamCanvas $connect authorizer (Cognito access tokens)".into(),
            runtime: api.runtime.clone().unwrap_or_else(|| crate::constructs::DEFAULT_NODE_RUNTIME.into()),
            memory_mb: 256,
            timeout_s: 10,
            environment: authorizer_env,
            invocation: Invocation::Synchronous("the WebSocket API's $connect authorizer".into()),
            ..FunctionProps::default()
        },
    )?;
    invoke_from_api(&mut functions, "ConnectAuthorizerInvokeFromApi", &authorizer)?;
    Function::new(
        &mut functions,
        "CodeExecutor",
        code("assets/streamcanvas-code-executor"),
        FunctionProps {
            name: Some(format!("{}-code-executor", env.prefix)),
            description: "StreamCanvas code executor".into(),
            memory_mb: 512,
            timeout_s: 10,
            invocation: Invocation::Synchronous(
                "a caller holding lambda:InvokeFunction, which waits for the result".into(),
            ),
            ..FunctionProps::default()
        },
    )?;
    Ok(functions)
}

/// The handler's environment and permissions: the three tables, and the API's connections.
fn handler_access(functions: &mut Stack) -> Result<super::Access, AppError> {
    let mut environment: IndexMap<String, Expr<String>> = IndexMap::new();
    let mut statements = vec![];
    for (id, var) in [
        ("WebSocketConnections", "CONNECTIONS_TABLE"),
        ("StreamSessions", "SESSIONS_TABLE"),
        ("SessionStates", "STATES_TABLE"),
    ] {
        environment.insert(var.into(), functions.import(&OutputRef::new("data", &format!("{id}Name")))?);
        statements.push(read_write(functions.import(&OutputRef::new("data", &format!("{id}Arn")))?));
    }
    environment.insert(
        "WEBSOCKET_MANAGEMENT_ENDPOINT".into(),
        functions.import(&OutputRef::new("realtime", "SocketManagementEndpoint"))?,
    );
    statements.push(Statement::allow(
        &["execute-api:ManageConnections"],
        vec![functions.import(&OutputRef::new("realtime", "SocketConnectionsArn"))?],
    ));
    Ok((environment, statements))
}

/// Lets API Gateway invoke `function`'s live alias, from the realtime stack's API only.
fn invoke_from_api(functions: &mut Stack, id: &str, function: &Function) -> Result<(), AppError> {
    let execute_arn = functions.import(&OutputRef::new("realtime", "SocketExecuteArn"))?;
    functions.template.add(
        id,
        &lambda::Permission {
            source_arn: Some(execute_arn),
            ..lambda::Permission::new("lambda:InvokeFunction", function.invoke_target(), "apigateway.amazonaws.com")
        },
    )?;
    Ok(())
}

/// The frontend's `.env.production`: the pool, the API's URLs and the tables, for this
/// deployment.
fn env_production(env: &Environment, api: &ApiSettings) -> RenderedFile {
    let out = OutputRef::new;
    let values = vec![
        ("app".to_string(), FileValue::Literal("streamcanvas".into())),
        ("environment".to_string(), FileValue::Literal(env.name.clone())),
        ("region".to_string(), FileValue::Literal(env.region.clone())),
        ("user_pool_id".to_string(), FileValue::Output(out("auth", "UsersId"))),
        ("client_id".to_string(), FileValue::Output(out("auth", "UsersClientId"))),
        ("ws_url".to_string(), FileValue::Output(out("realtime", "SocketUrl"))),
        ("http_url".to_string(), FileValue::Output(out("realtime", "SocketManagementEndpoint"))),
        ("app_url".to_string(), FileValue::Literal(api.cors_origins.first().cloned().unwrap_or_default())),
        ("sessions_table".to_string(), FileValue::Output(out("data", "StreamSessionsName"))),
        ("states_table".to_string(), FileValue::Output(out("data", "SessionStatesName"))),
        ("deployment_id".to_string(), FileValue::DeploymentId),
    ];
    RenderedFile {
        template: "templates/streamcanvas/env.production.hbs".into(),
        bucket: out("data", "FrontendConfigName"),
        key: ".env.production".into(),
        content_type: "text/plain".into(),
        values,
    }
}
