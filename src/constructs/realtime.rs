//! Cognito user pools with their app client, and WebSocket APIs on API Gateway v2 with one Lambda
//! proxy integration.

use super::ConstructError;
use crate::cfn::{apigatewayv2, cognito};
use crate::template::{Accepted, Attributes, Expr, Handle, OutputRole, Stack};

/// Settings of a [`UserPool`]: email as the username, auto-verified, a strong password policy.
#[derive(Debug, Clone, PartialEq)]
pub struct UserPoolProps {
    /// Physical name suffix. Changing it replaces the pool (and its users).
    pub name: String,
    /// Default 8 characters with upper, lower, numbers and symbols (seed 003).
    pub min_password_length: u32,
    /// The app client's name.
    pub client_name: String,
    /// Only an administrator creates users (no self sign-up): a pool of operators, not of an
    /// app's public users (`AdminCreateUserConfig.AllowAdminCreateUserOnly`).
    pub admin_only: bool,
}

/// A user pool and one app client without a secret (a browser app).
#[derive(Debug, Clone, PartialEq)]
pub struct UserPool {
    pub pool: Handle,
    pub client: Handle,
}

impl UserPool {
    pub fn new(stack: &mut Stack, id: &str, props: UserPoolProps) -> Result<Self, ConstructError> {
        if !(6..=99).contains(&props.min_password_length) {
            return Err(ConstructError::invalid(
                &format!("user pool `{id}`"),
                &format!("has a minimum password length of {}", props.min_password_length),
                "use 6 to 99 (the seed uses 8)",
            ));
        }
        use cognito::user_pool as up;
        let pool = cognito::UserPool {
            user_pool_name: Some(stack.physical_name(&props.name).into()),
            username_attributes: Some(vec![up::UsernameAttributes::Email.into()]),
            auto_verified_attributes: Some(vec![up::AutoVerifiedAttributes::Email.into()]),
            policies: Some(up::Policies {
                password_policy: Some(up::PasswordPolicy {
                    minimum_length: Some(i64::from(props.min_password_length).into()),
                    require_uppercase: Some(true.into()),
                    require_lowercase: Some(true.into()),
                    require_numbers: Some(true.into()),
                    require_symbols: Some(true.into()),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            deletion_protection: stack.retain_data.then(|| up::DeletionProtection::Active.into()),
            admin_create_user_config: props.admin_only.then(|| up::AdminCreateUserConfig {
                allow_admin_create_user_only: Some(true.into()),
                ..Default::default()
            }),
            ..Default::default()
        };
        let pool = stack.template.add_with(id, &pool, Attributes::stateful(stack.retain_data))?;
        use cognito::user_pool_client as uc;
        let client = stack.template.add(
            &format!("{id}Client"),
            &cognito::UserPoolClient {
                client_name: Some(props.client_name.as_str().into()),
                explicit_auth_flows: Some(vec![
                    uc::ExplicitAuthFlows::AllowUserPasswordAuth.into(),
                    uc::ExplicitAuthFlows::AllowRefreshTokenAuth.into(),
                ]),
                prevent_user_existence_errors: Some(uc::PreventUserExistenceErrors::Enabled.into()),
                generate_secret: Some(false.into()),
                ..cognito::UserPoolClient::new(pool.reference())
            },
        )?;
        stack.output(&format!("{id}Id"), pool.reference(), "Cognito user pool id")?;
        stack.output(&format!("{id}Arn"), pool.get_att(cognito::UserPool::ATTR_ARN), "Cognito user pool ARN")?;
        stack.output(&format!("{id}ClientId"), client.reference(), "Cognito app client id")?;
        Ok(Self { pool, client })
    }
}

/// Settings of a [`WebSocketApi`].
#[derive(Debug, Clone, PartialEq)]
pub struct WebSocketApiProps {
    pub name: String,
    /// Default `$request.body.action`.
    pub route_selection: String,
    /// The routes, all to the one integration.
    pub routes: Vec<String>,
    pub stage: String,
    /// The handler, by its physical name: the integration points at it without a reference, so
    /// the API can be deployed before the function (which needs the API's id for its policy).
    pub handler_name: String,
    /// A Lambda REQUEST authorizer on `$connect`, by its physical name as the handler: the token
    /// comes in the query string (`?token=`), as a browser's WebSocket cannot send headers.
    /// "We recommend that you configure an authorizer for the $connect route"
    /// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-websocket-api-control-access.html>).
    pub authorizer_name: Option<String>,
    /// The stage's throttle for every route: (burst, requests per second). API Gateway answers a
    /// message over it with 429 (media review S2; seed 003 asks for rate limiting). The account's
    /// own limit (10,000 per second) is the only one without it
    /// (<https://docs.aws.amazon.com/apigateway/latest/developerguide/limits.html>).
    pub throttle: (u32, u32),
}

/// A WebSocket API with a Lambda proxy integration, its routes and an auto-deployed stage.
#[derive(Debug, Clone, PartialEq)]
pub struct WebSocketApi {
    pub api: Handle,
}

impl WebSocketApiProps {
    fn validate(&self, what: &str) -> Result<(), ConstructError> {
        if self.routes.is_empty() {
            return Err(ConstructError::invalid(what, "has no routes", "add $connect, $disconnect and the actions"));
        }
        if self.throttle.0 == 0 || self.throttle.1 == 0 {
            return Err(ConstructError::invalid(
                what,
                &format!(
                    "has a throttle of burst {} at {} per second, which refuses every message",
                    self.throttle.0, self.throttle.1
                ),
                "set both above 0",
            ));
        }
        Ok(())
    }
}

impl WebSocketApi {
    pub fn new(stack: &mut Stack, id: &str, props: WebSocketApiProps) -> Result<Self, ConstructError> {
        props.validate(&format!("WebSocket API `{id}`"))?;
        let api = stack.template.add(
            id,
            &apigatewayv2::Api {
                name: Some(stack.physical_name(&props.name).into()),
                protocol_type: Some("WEBSOCKET".into()),
                route_selection_expression: Some(props.route_selection.as_str().into()),
                ..Default::default()
            },
        )?;
        let route_ids = add_routes(stack, id, &api, &props)?;
        let stage = stack.template.add_with(
            &format!("{id}Stage"),
            &apigatewayv2::Stage {
                auto_deploy: Some(true.into()),
                default_route_settings: Some(apigatewayv2::stage::RouteSettings {
                    throttling_burst_limit: Some(i64::from(props.throttle.0).into()),
                    throttling_rate_limit: Some(f64::from(props.throttle.1).into()),
                    ..Default::default()
                }),
                ..apigatewayv2::Stage::new(api.reference(), props.stage.as_str())
            },
            Attributes { depends_on: route_ids, ..Attributes::default() },
        )?;
        stack.template.accept(
            &stage.id,
            Accepted::Checkov("CKV_AWS_95"),
            "a WebSocket stage logs only through the account's API Gateway CloudWatch role, one per region shared by every API of the account (https://docs.aws.amazon.com/apigateway/latest/developerguide/set-up-logging.html); castform does not set an account-wide setting it does not own. The handler logs each $connect and $disconnect in its own log group",
        )?;
        add_outputs(stack, id, &api, &props.stage)?;
        Ok(Self { api })
    }
}

/// The Lambda proxy integration, the `$connect` authorizer when there is one, and a route per
/// name to the integration; gives the routes' logical ids.
fn add_routes(
    stack: &mut Stack,
    id: &str,
    api: &Handle,
    props: &WebSocketApiProps,
) -> Result<Vec<String>, ConstructError> {
    let invocation = |name: &str| {
        Expr::sub(format!(
            "arn:${{AWS::Partition}}:apigateway:${{AWS::Region}}:lambda:path/2015-03-31/functions/arn:${{AWS::Partition}}:lambda:${{AWS::Region}}:${{AWS::AccountId}}:function:{name}/invocations"
        ))
    };
    let uri = invocation(&props.handler_name);
    let authorizer = match &props.authorizer_name {
        Some(name) => Some(stack.template.add(
            &format!("{id}ConnectAuthorizer"),
            &apigatewayv2::Authorizer {
                authorizer_uri: Some(invocation(name)),
                identity_source: Some(vec!["route.request.querystring.token".into()]),
                ..apigatewayv2::Authorizer::new(api.reference(), "REQUEST", stack.physical_name("connect"))
            },
        )?),
        None => None,
    };
    let integration = stack.template.add(
        &format!("{id}Integration"),
        &apigatewayv2::Integration {
            integration_uri: Some(uri),
            ..apigatewayv2::Integration::new(api.reference(), "AWS_PROXY")
        },
    )?;
    let target = Expr::join("/", vec!["integrations".into(), integration.reference()]);
    let mut route_ids = vec![];
    for (i, r) in props.routes.iter().enumerate() {
        let rid = format!("{id}Route{}", route_logical(r, i));
        stack.template.add(
            &rid,
            &apigatewayv2::Route {
                target: Some(target.clone()),
                authorization_type: authorizer.as_ref().filter(|_| r == "$connect").map(|_| "CUSTOM".into()),
                authorizer_id: authorizer.as_ref().filter(|_| r == "$connect").map(|a| a.reference()),
                ..apigatewayv2::Route::new(api.reference(), r.as_str())
            },
        )?;
        route_ids.push(rid);
    }
    Ok(route_ids)
}

/// The API's id, its `wss://` URL, the HTTPS endpoint and ARN of its `@connections` management
/// API, and the ARN API Gateway invokes the handler with.
fn add_outputs(stack: &mut Stack, id: &str, api: &Handle, stage: &str) -> Result<(), ConstructError> {
    stack.output(&format!("{id}Id"), api.reference(), "WebSocket API id")?;
    let url = stack.output(
        &format!("{id}Url"),
        Expr::join("", vec![api.get_att(apigatewayv2::Api::ATTR_API_ENDPOINT), format!("/{stage}").into()]),
        "WebSocket URL (wss://)",
    )?;
    stack.declare(&url, OutputRole::Url)?;
    stack.output(
        &format!("{id}ManagementEndpoint"),
        // the API's own host (wss://<id>.execute-api.<region>.amazonaws.com) over HTTPS, as
        // AWS gives it: https://docs.aws.amazon.com/apigateway/latest/developerguide/apigateway-how-to-call-websocket-api-connections.html
        Expr::sub_with(
            format!("https://${{Host}}/{stage}"),
            vec![("Host", Expr::select(2, Expr::split("/", api.get_att(apigatewayv2::Api::ATTR_API_ENDPOINT))))],
        ),
        "HTTPS endpoint of the @connections management API",
    )?;
    stack.output(
        &format!("{id}ConnectionsArn"),
        Expr::sub_with(
            format!("arn:${{AWS::Partition}}:execute-api:${{AWS::Region}}:${{AWS::AccountId}}:${{ApiId}}/{stage}/POST/@connections/*"),
            vec![("ApiId", api.reference())],
        ),
        "the ARN of this API's connections, for execute-api:ManageConnections",
    )?;
    stack.output(
        &format!("{id}ExecuteArn"),
        Expr::sub_with(
            "arn:${AWS::Partition}:execute-api:${AWS::Region}:${AWS::AccountId}:${ApiId}/*",
            vec![("ApiId", api.reference())],
        ),
        "the ARN API Gateway invokes the handler with",
    )?;
    Ok(())
}

fn route_logical(route: &str, i: usize) -> String {
    let clean: String = route.chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    let mut s = String::new();
    for (j, c) in clean.chars().enumerate() {
        s.push(if j == 0 { c.to_ascii_uppercase() } else { c });
    }
    if s.is_empty() { format!("R{i}") } else { s }
}
