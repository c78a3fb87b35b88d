//! Lambda functions with what they need to be operated: a role, a log group with retention, an
//! errors alarm, a published version behind a `live` alias; and public Function URLs with both
//! invoke permissions.

use super::ConstructError;
use super::iam::{Role, Statement};
use crate::cfn::LAMBDA_RESERVED_ENV;
use crate::cfn::{cloudwatch, lambda, logs};
use crate::template::{
    Accepted, Attributes, DeletionPolicy, Expr, Handle, OutputRole, Stack, UpdateReplacePolicy, sha256_hex,
};
use indexmap::IndexMap;
use std::path::PathBuf;
use std::str::FromStr;

/// Where a function's code comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Code {
    /// A folder relative to the project root, zipped deterministically and stored under its
    /// sha256 in castform's state bucket.
    Asset { root: PathBuf, path: PathBuf },
    /// A folder plus files rendered at synth time (name, bytes): how per-environment values
    /// reach a Lambda@Edge function, which takes no environment variables (rule L03).
    Rendered { root: PathBuf, path: PathBuf, generated: Vec<(String, Vec<u8>)> },
}

/// The CloudFront event a Lambda@Edge function runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeEvent {
    ViewerRequest,
    ViewerResponse,
    OriginRequest,
    OriginResponse,
}

impl EdgeEvent {
    /// CloudFront's name of the event: `viewer-request`, ...
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ViewerRequest => "viewer-request",
            Self::ViewerResponse => "viewer-response",
            Self::OriginRequest => "origin-request",
            Self::OriginResponse => "origin-response",
        }
    }

    pub fn is_viewer(self) -> bool {
        matches!(self, Self::ViewerRequest | Self::ViewerResponse)
    }
}

/// How a function is called, which decides where a failed call goes
/// (<https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html>: a
/// dead-letter queue receives only asynchronous invocations).
#[derive(Debug, Clone, PartialEq)]
pub enum Invocation {
    /// The caller waits for the answer and sees any failure: a Function URL, API Gateway, an
    /// authorizer, CloudFront, or an event source mapping with its own on-failure queue. The text
    /// names the caller, for the reason written beside the function.
    Synchronous(String),
    /// Lambda queues the event and retries it (a schedule, an S3 or SNS event); what still fails
    /// goes to this SQS queue (its ARN), which the function's role may send to.
    Asynchronous { dead_letters: Expr<String> },
}

/// Settings of a [`Function`]. Every default is the safe choice.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionProps {
    /// The function's name; `None` lets CloudFormation generate one. A name keeps the alias and
    /// URL pointing at a stable literal, so a code change updates them in place. Changing it
    /// replaces the function.
    pub name: Option<String>,
    pub description: String,
    /// Lambda runtime; default the newest Node.js runtime Lambda supports (`nodejs24.x`).
    pub runtime: String,
    /// `file.export`; default `index.handler`.
    pub handler: String,
    /// Default 256 MB: the AWS SDK v3 needs it (rule L12).
    pub memory_mb: u32,
    /// Default 30 s.
    pub timeout_s: u32,
    /// Environment variables; Lambda's reserved keys are refused (rule L14).
    pub environment: IndexMap<String, Expr<String>>,
    /// Log retention in days; default 30.
    pub log_retention_days: u32,
    /// Publish a version per change behind a `live` alias (rule L19); default on.
    pub publish: bool,
    /// The statements of the execution role besides logging.
    pub statements: Vec<Statement>,
    /// Errors that trip the alarm within 5 minutes; default 5, as seed 003 sets it (rule L20).
    pub errors_threshold: u32,
    /// A Lambda@Edge function for this CloudFront event: defined in us-east-1, no environment
    /// variables, within the event's memory and timeout limits, a role `edgelambda` may assume,
    /// and a numbered version (no alias: CloudFront takes only versions). Rules L03, L04.
    pub edge: Option<EdgeEvent>,
    /// Who calls it; default synchronously by "its caller". An asynchronous function gets its
    /// dead-letter queue.
    pub invocation: Invocation,
}

impl Default for FunctionProps {
    fn default() -> Self {
        Self {
            name: None,
            description: String::new(),
            runtime: DEFAULT_NODE_RUNTIME.to_string(),
            handler: "index.handler".into(),
            memory_mb: 256,
            timeout_s: 30,
            environment: IndexMap::new(),
            log_retention_days: 30,
            publish: true,
            statements: vec![],
            errors_threshold: 5,
            edge: None,
            invocation: Invocation::Synchronous("its caller".into()),
        }
    }
}

/// A Lambda function with its role, log group, errors alarm and `live` alias.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub id: String,
    pub handle: Handle,
    pub role: Role,
    /// The `live` alias when published.
    pub alias: Option<Handle>,
    /// The physical name, when the props gave one.
    pub name: Option<String>,
    /// The published version, for Lambda@Edge (`Ref` is its ARN).
    pub version: Option<Handle>,
}

fn name_of(handle: &Handle, props: &FunctionProps) -> Expr<String> {
    match &props.name {
        Some(n) => Expr::from(n.as_str()),
        None => handle.reference(),
    }
}

/// The newest Node.js runtime Lambda supports (checked 2026-11-22 against the Lambda runtimes
/// page: nodejs24.x, deprecation not before 2028): the default of every function.
pub const DEFAULT_NODE_RUNTIME: &str = "nodejs24.x";

const LOG_RETENTIONS: &[u32] =
    &[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653];

impl FunctionProps {
    /// Checks the settings against Lambda's limits (and Lambda@Edge's, for an edge function in
    /// `stack`) before anything is added; gives the runtime it read.
    fn validate(&self, stack: &Stack, what: &str) -> Result<lambda::function::Runtime, ConstructError> {
        let runtime = lambda::function::Runtime::from_str(&self.runtime).map_err(|_| {
            ConstructError::invalid(
                what,
                &format!("has runtime {:?}, which Lambda does not know", self.runtime),
                "use a runtime such as nodejs24.x",
            )
        })?;
        if !(128..=10240).contains(&self.memory_mb) {
            return Err(ConstructError::invalid(
                what,
                &format!("has memory {} MB, expected 128..=10240", self.memory_mb),
                "set memory_mb",
            ));
        }
        if !(1..=900).contains(&self.timeout_s) {
            return Err(ConstructError::invalid(
                what,
                &format!("has timeout {} s, expected 1..=900", self.timeout_s),
                "set timeout_s",
            ));
        }
        for key in self.environment.keys() {
            if LAMBDA_RESERVED_ENV.contains(&key.as_str()) {
                return Err(ConstructError::invalid(
                    what,
                    &format!("sets the reserved environment variable {key}"),
                    "remove it: Lambda sets it itself (rule L14); read the region from AWS_REGION at run time",
                ));
            }
        }
        if let Some(event) = self.edge {
            edge_limits(stack, what, event, self)?;
        }
        if !LOG_RETENTIONS.contains(&self.log_retention_days) {
            return Err(ConstructError::invalid(
                what,
                &format!("has log retention {} days, which CloudWatch Logs does not offer", self.log_retention_days),
                "use 1, 3, 5, 7, 14, 30, 60, 90, 180, 365 ...",
            ));
        }
        Ok(runtime)
    }
}

impl Function {
    pub fn new(stack: &mut Stack, id: &str, code: Code, props: FunctionProps) -> Result<Self, ConstructError> {
        let what = format!("function `{id}`");
        let runtime = props.validate(stack, &what)?;
        let log_group = add_log_group(stack, id, &props)?;
        let role = add_role(stack, id, &props, &log_group)?;
        let (bucket, key) = match &code {
            Code::Asset { root, path } => stack.asset(root, path)?,
            Code::Rendered { root, path, generated } => stack.asset_with(root, path, generated)?,
        };
        package_limits(stack, &what, &key, props.edge)?;
        let code = lambda::function::Code { s3_bucket: Some(bucket), s3_key: Some(key), ..Default::default() };
        let handle = add_function(stack, id, &props, lambda_function(&props, runtime, code, &role, &log_group))?;
        accept_defaults(stack, &handle, &log_group, &props)?;
        add_errors_alarm(stack, id, &handle, props.errors_threshold)?;
        let version = if props.publish { Some(add_version(stack, id, &handle)?) } else { None };
        let alias = add_outputs(stack, id, &props, &handle, &log_group, version.as_ref())?;
        Ok(Self { id: id.to_string(), handle, role, alias, name: props.name.clone(), version })
    }

    /// The function's name: the literal one when it has one, `Ref` otherwise.
    pub fn name(&self) -> Expr<String> {
        match &self.name {
            Some(n) => Expr::from(n.as_str()),
            None => self.handle.reference(),
        }
    }

    /// What invokers should target: the `live` alias when published, the function otherwise.
    pub fn invoke_target(&self) -> Expr<String> {
        match &self.alias {
            Some(a) => a.reference(),
            None => self.handle.get_att(lambda::Function::ATTR_ARN),
        }
    }
}

/// The group every function logs to, named by CloudFormation. A Lambda@Edge function's replicas
/// write to a group of the same name in each region that runs them (a custom log group keeps its
/// name in every region: CloudFront Developer Guide, "Edge function logs"); a generated name
/// means a re-created stack never meets a group left by the old one (media review P2).
/// `edge_log_group` makes the other regions' copies.
fn add_log_group(stack: &mut Stack, id: &str, props: &FunctionProps) -> Result<Handle, ConstructError> {
    Ok(stack.template.add_with(
        &format!("{id}Logs"),
        &logs::LogGroup { retention_in_days: Some(i64::from(props.log_retention_days).into()), ..Default::default() },
        Attributes {
            deletion_policy: Some(if stack.retain_data { DeletionPolicy::Retain } else { DeletionPolicy::Delete }),
            update_replace_policy: Some(if stack.retain_data {
                UpdateReplacePolicy::Retain
            } else {
                UpdateReplacePolicy::Delete
            }),
            ..Attributes::default()
        },
    )?)
}

/// The execution role: writing its logs, the props' statements, sending to its dead-letter queue
/// when it is called asynchronously; `edgelambda` may assume it too for an edge function.
fn add_role(stack: &mut Stack, id: &str, props: &FunctionProps, log_group: &Handle) -> Result<Role, ConstructError> {
    let mut statements = vec![match &props.edge {
        // replicas log in every region CloudFront runs them in, to the group of this name
        Some(_) => Statement::allow(
            &["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            vec![Expr::sub(format!("arn:${{AWS::Partition}}:logs:*:${{AWS::AccountId}}:log-group:${{{id}Logs}}:*"))],
        ),
        None => Statement::allow(
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![log_group.get_att(logs::LogGroup::ATTR_ARN)],
        ),
    }];
    statements.extend(props.statements.clone());
    if let Invocation::Asynchronous { dead_letters } = &props.invocation {
        statements.push(Statement::allow(&["sqs:SendMessage"], vec![dead_letters.clone()]));
    }
    match props.edge {
        Some(_) => Role::for_services(
            stack,
            &format!("{id}Role"),
            &["lambda.amazonaws.com", "edgelambda.amazonaws.com"],
            statements,
        ),
        None => Role::new(stack, &format!("{id}Role"), "lambda.amazonaws.com", statements),
    }
}

/// The `AWS::Lambda::Function` of the props, logging as JSON to its group.
fn lambda_function(
    props: &FunctionProps,
    runtime: lambda::function::Runtime,
    code: lambda::function::Code,
    role: &Role,
    log_group: &Handle,
) -> lambda::Function {
    let environment = (!props.environment.is_empty())
        .then(|| lambda::function::Environment { variables: Some(props.environment.clone()) });
    let dead_letter_config = match &props.invocation {
        Invocation::Asynchronous { dead_letters } => {
            Some(lambda::function::DeadLetterConfig { target_arn: Some(dead_letters.clone()) })
        }
        Invocation::Synchronous(_) => None,
    };
    lambda::Function {
        function_name: props.name.as_deref().map(Expr::from),
        description: (!props.description.is_empty()).then(|| props.description.clone().into()),
        runtime: Some(runtime.into()),
        handler: Some(props.handler.clone().into()),
        memory_size: Some(i64::from(props.memory_mb).into()),
        timeout: Some(i64::from(props.timeout_s).into()),
        environment,
        dead_letter_config,
        logging_config: Some(lambda::function::LoggingConfig {
            log_group: Some(log_group.reference()),
            log_format: Some(lambda::function::LogFormat::Json.into()),
            ..Default::default()
        }),
        ..lambda::Function::new(code, role.arn())
    }
}

fn add_function(
    stack: &mut Stack,
    id: &str,
    props: &FunctionProps,
    function: lambda::Function,
) -> Result<Handle, ConstructError> {
    Ok(match props.edge {
        // marks it for the edge rules where the distribution lives in another stack
        // Retained: CloudFront deletes a replicated function's replicas only hours after the
        // distribution lets go of it, and Lambda refuses to delete it before (media review
        // P4; https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-edge-delete-replicas.html).
        // Its generated name lets a new stack create a new one beside it.
        Some(event) => stack.template.add_with(
            id,
            &function,
            Attributes {
                metadata: Some(serde_json::json!({"castform": {"edge": event.as_str()}})),
                deletion_policy: Some(DeletionPolicy::Retain),
                update_replace_policy: Some(UpdateReplacePolicy::Retain),
                ..Attributes::default()
            },
        )?,
        None => stack.template.add(id, &function)?,
    })
}

/// An alarm when the function errs more than `threshold` times in 5 minutes (rule L20).
fn add_errors_alarm(stack: &mut Stack, id: &str, function: &Handle, threshold: u32) -> Result<(), ConstructError> {
    stack.template.add(
        &format!("{id}Errors"),
        &cloudwatch::Alarm {
            alarm_description: Some(format!("{id}: more than {threshold} errors in 5 minutes").into()),
            namespace: Some("AWS/Lambda".into()),
            metric_name: Some("Errors".into()),
            dimensions: Some(vec![cloudwatch::alarm::Dimension::new("FunctionName", function.reference())]),
            statistic: Some(cloudwatch::alarm::Statistic::Sum.into()),
            period: Some(300.into()),
            evaluation_periods: Some(1.into()),
            threshold: Some(f64::from(threshold).into()),
            comparison_operator: Some(cloudwatch::alarm::ComparisonOperator::GreaterThanThreshold.into()),
            treat_missing_data: Some(cloudwatch::alarm::TreatMissingData::NotBreaching.into()),
            ..Default::default()
        },
    )?;
    Ok(())
}

/// A new version whenever the function's configuration or code changes, named by a hash of its
/// properties; old versions are retained so a rollback can point the alias back at them.
fn add_version(stack: &mut Stack, id: &str, function: &Handle) -> Result<Handle, ConstructError> {
    let body = serde_json::to_string(&stack.template.resource(id).map(|r| r.properties.clone())).unwrap_or_default();
    let hash = &sha256_hex(body.as_bytes())[..10];
    Ok(stack.template.add_with(
        &format!("{id}Version{hash}"),
        &lambda::Version {
            description: Some(format!("configuration {hash}").into()),
            ..lambda::Version::new(function.reference())
        },
        Attributes {
            deletion_policy: Some(DeletionPolicy::Retain),
            update_replace_policy: Some(UpdateReplacePolicy::Retain),
            ..Attributes::default()
        },
    )?)
}

/// The `live` alias of a published function that is not an edge function, and the outputs: the
/// version (and log group) CloudFront needs for an edge function, the alias and the version it
/// points at otherwise, then the name and ARN. Gives the alias.
fn add_outputs(
    stack: &mut Stack,
    id: &str,
    props: &FunctionProps,
    function: &Handle,
    log_group: &Handle,
    version: Option<&Handle>,
) -> Result<Option<Handle>, ConstructError> {
    let mut live_version = None;
    let alias = match (version, props.edge) {
        // CloudFront takes a numbered version, never an alias
        (Some(version), Some(_)) => {
            stack.output(
                &format!("{id}VersionArn"),
                version.reference(),
                &format!("ARN of {id}'s numbered version, for CloudFront"),
            )?;
            stack.output(
                &format!("{id}LogGroupName"),
                log_group.reference(),
                &format!("the log group {id}'s replicas write to, in every region"),
            )?;
            None
        }
        (Some(version), None) => {
            let alias = stack.template.add(
                &format!("{id}Live"),
                &lambda::Alias::new(name_of(function, props), version.get_att(lambda::Version::ATTR_VERSION), "live"),
            )?;
            stack.output(&format!("{id}AliasArn"), alias.reference(), &format!("ARN of {id}'s live alias"))?;
            // recorded with each deployment: a rollback or a restore moves the alias back to
            // it first, so users get the old code in one call (time to restore service)
            let live = stack.output(
                &format!("{id}LiveVersion"),
                version.get_att(lambda::Version::ATTR_VERSION),
                &format!("the version {id}'s live alias points at"),
            )?;
            live_version = Some(live);
            Some(alias)
        }
        (None, _) => None,
    };
    let name_output = stack.output(&format!("{id}Name"), function.reference(), &format!("name of function {id}"))?;
    if let Some(live) = live_version {
        stack.declare(&live, OutputRole::LiveVersion { name: name_output.output })?;
    }
    stack.output(
        &format!("{id}Arn"),
        function.get_att(lambda::Function::ATTR_ARN),
        &format!("ARN of function {id}"),
    )?;
    Ok(alias)
}

/// Why a function's log group has no customer managed key (checkov's CKV_AWS_158).
const LOG_GROUP_ENCRYPTION: &str = "CloudWatch Logs encrypts every log group at rest (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/encrypt-log-data-kms.html); a customer managed key would add KMS charges and a key policy the logs service must be granted, for logs that hold no secret";

/// A Lambda@Edge function's log group in another region (`name`: its `{id}LogGroupName`
/// output), with the retention the function's own has, made before the distribution can run
/// the function there (media review P3): without it the replicas' logs there never expire.
/// Deleted with its stack, whatever the environment retains: its name is unique to the edge
/// stack's creation, so a re-created stack gets a new one instead of meeting this.
pub fn edge_log_group(
    stack: &mut Stack,
    id: &str,
    name: Expr<String>,
    retention_days: u32,
) -> Result<Handle, ConstructError> {
    let handle = stack.template.add_with(
        id,
        &logs::LogGroup {
            log_group_name: Some(name),
            retention_in_days: Some(i64::from(retention_days).into()),
            ..Default::default()
        },
        Attributes {
            deletion_policy: Some(DeletionPolicy::Delete),
            update_replace_policy: Some(UpdateReplacePolicy::Delete),
            ..Attributes::default()
        },
    )?;
    stack.template.accept(
        &handle.id,
        Accepted::Rule("L05"),
        "a regional copy of an edge function's log group, named after the edge stack's own; retaining it would block the next create of this stack with the same name",
    )?;
    stack.template.accept(&handle.id, Accepted::Checkov("CKV_AWS_158"), LOG_GROUP_ENCRYPTION)?;
    stack.output(&format!("{id}Arn"), handle.get_att(logs::LogGroup::ATTR_ARN), "ARN of the edge log group here")?;
    Ok(handle)
}

/// The checkov findings every function of castform's has on purpose, each with its reason.
fn accept_defaults(
    stack: &mut Stack,
    function: &Handle,
    logs: &Handle,
    props: &FunctionProps,
) -> Result<(), ConstructError> {
    let t = &mut stack.template;
    t.accept(&logs.id, Accepted::Checkov("CKV_AWS_158"), LOG_GROUP_ENCRYPTION)?;
    t.accept(
        &function.id,
        Accepted::Checkov("CKV_AWS_117"),
        "calls AWS APIs over HTTPS and nothing inside a VPC; in one it would need a NAT gateway or an endpoint per service (https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html)",
    )?;
    t.accept(
        &function.id,
        Accepted::Checkov("CKV_AWS_115"),
        "no reserved concurrency: a reservation is taken from every other function of the account, and Lambda refuses one that leaves less than 100 unreserved (https://docs.aws.amazon.com/lambda/latest/dg/configuration-concurrency.html)",
    )?;
    if !props.environment.is_empty() {
        t.accept(
            &function.id,
            Accepted::Checkov("CKV_AWS_173"),
            "Lambda encrypts environment variables at rest with an AWS managed key (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars-encryption.html); these hold names and ARNs, never a secret (castform rule L15)",
        )?;
    }
    if let Invocation::Synchronous(caller) = &props.invocation {
        t.accept(
            &function.id,
            Accepted::Checkov("CKV_AWS_116"),
            &format!(
                "invoked synchronously by {caller}: the caller sees every failure, and a dead-letter queue receives only asynchronous invocations (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html)"
            ),
        )?;
    }
    Ok(())
}

/// Lambda@Edge's rules (L03, L04), checked when the function is defined: us-east-1, a name (its
/// log group is named after it), no environment variables, a published version, and the
/// event's limits from the CloudFront quotas page (viewer: 128 MB, 5 s; origin: 30 s).
/// A package over Lambda's size limits is refused at synth, with the numbers: 250 MB unzipped for
/// any function (<https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html>), and
/// for Lambda@Edge 1 MB compressed on viewer events, 50 MB on origin events
/// (<https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/cloudfront-limits.html#limits-lambda-at-edge>).
fn package_limits(
    stack: &Stack,
    what: &str,
    key: &Expr<String>,
    edge: Option<EdgeEvent>,
) -> Result<(), ConstructError> {
    const MB: usize = 1024 * 1024;
    let Some(asset) = stack.assets.iter().find(|a| key.as_literal().is_some_and(|k| k == &a.key)) else {
        return Ok(());
    };
    let fail = |problem: String, help: &str| Err(ConstructError::invalid(what, &problem, help));
    if asset.unzipped > 250 * MB {
        return fail(
            format!(
                "has a package of {:.1} MB unzipped ({}); Lambda allows 250 MB",
                asset.unzipped as f64 / MB as f64,
                asset.source.display()
            ),
            "leave out what the function does not load (dev dependencies, the AWS SDK the runtime includes), or use a container image",
        );
    }
    let limit = match edge {
        Some(e) if e.is_viewer() => Some((MB, "viewer")),
        Some(_) => Some((50 * MB, "origin")),
        None => None,
    };
    if let Some((limit, kind)) = limit
        && asset.size > limit
    {
        return fail(
            format!(
                "is a Lambda@Edge function for {kind} events with a {:.2} MB package ({}); CloudFront allows {} MB compressed",
                asset.size as f64 / MB as f64,
                asset.source.display(),
                limit / MB
            ),
            "bundle only what the handler loads, or move the work to an origin event",
        );
    }
    Ok(())
}

fn edge_limits(stack: &Stack, what: &str, event: EdgeEvent, props: &FunctionProps) -> Result<(), ConstructError> {
    let fail = |problem: String, help: &str| Err(ConstructError::invalid(what, &problem, help));
    if stack.region != "us-east-1" {
        return fail(
            format!("is a Lambda@Edge function in a stack in {}", stack.region),
            "define it in a stack in us-east-1 and pass its version ARN to the distribution's stack (rule L03)",
        );
    }
    if !props.environment.is_empty() {
        return fail(
            "is a Lambda@Edge function with environment variables, which CloudFront refuses".into(),
            "bake the values into its code with Code::Rendered from a template (rule L03)",
        );
    }
    if !props.publish {
        return fail("is a Lambda@Edge function without a published version".into(), "set publish (rule L03)");
    }
    if props.name.is_some() {
        return fail(
            "is a Lambda@Edge function with a fixed name".into(),
            "leave name unset: the function is retained when its stack goes (CloudFront keeps replicas for hours), and a fixed name would block the stack's next create",
        );
    }
    if event.is_viewer() && props.memory_mb > 128 {
        return fail(
            format!(
                "is a {} function with {} MB; viewer triggers allow at most 128 MB",
                event.as_str(),
                props.memory_mb
            ),
            "set memory_mb to 128, or move the work to an origin trigger (rule L04)",
        );
    }
    let max_timeout = if event.is_viewer() { 5 } else { 30 };
    if props.timeout_s > max_timeout {
        return fail(
            format!(
                "is a {} function with a {} s timeout; the limit is {max_timeout} s",
                event.as_str(),
                props.timeout_s
            ),
            "lower timeout_s (rule L04)",
        );
    }
    Ok(())
}

/// Who may call a Function URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UrlAuth {
    /// Anyone on the internet: adds both resource-based permissions AWS requires (rule L01).
    Public,
    /// Callers signing with IAM credentials.
    Iam,
}

/// Settings of a [`FunctionUrl`].
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionUrlProps {
    pub auth: UrlAuth,
    /// Origins CORS allows; empty means no browser origin. `*` is refused (rule L21).
    pub allow_origins: Vec<Expr<String>>,
    pub allow_methods: Vec<lambda::url::AllowMethods>,
}

impl Default for FunctionUrlProps {
    fn default() -> Self {
        use lambda::url::AllowMethods as M;
        Self { auth: UrlAuth::Public, allow_origins: vec![], allow_methods: vec![M::Get, M::Post, M::Put, M::Delete] }
    }
}

/// A Function URL on a function's `live` alias.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionUrl {
    pub handle: Handle,
}

impl FunctionUrl {
    pub fn new(stack: &mut Stack, function: &Function, props: FunctionUrlProps) -> Result<Self, ConstructError> {
        let id = format!("{}Url", function.id);
        for o in &props.allow_origins {
            if o.as_literal().and_then(|v| v.as_str()).is_some_and(|s| s.contains('*')) {
                return Err(ConstructError::invalid(
                    &format!("function URL `{id}`"),
                    "allows the origin `*`",
                    "list the site origins instead (rule L21)",
                ));
            }
        }
        let auth = match props.auth {
            UrlAuth::Public => lambda::url::AuthType::None,
            UrlAuth::Iam => lambda::url::AuthType::AwsIam,
        };
        let cors = (!props.allow_origins.is_empty()).then(|| lambda::url::Cors {
            allow_origins: Some(props.allow_origins.clone()),
            allow_methods: Some(props.allow_methods.iter().map(|m| (*m).into()).collect()),
            allow_headers: Some(vec!["content-type".into(), "authorization".into()]),
            max_age: Some(300.into()),
            ..Default::default()
        });
        let (target, qualifier) = match &function.alias {
            Some(_) => (function.name(), Some("live".into())),
            None => (function.handle.get_att(lambda::Function::ATTR_ARN), None),
        };
        let mut attrs = Attributes::default();
        if let Some(alias) = &function.alias {
            attrs.depends_on.push(alias.id.to_string());
        }
        let url = lambda::Url { cors, qualifier, ..lambda::Url::new(auth, target) };
        let handle = stack.template.add_with(&id, &url, attrs)?;
        if props.auth == UrlAuth::Public {
            // Since October 2025 a public URL needs both statements (Lambda Developer Guide,
            // "Control access to Lambda function URLs").
            let target = function.invoke_target();
            stack.template.add_with(
                &format!("{id}InvokeUrl"),
                &lambda::Permission {
                    function_url_auth_type: Some(lambda::permission::FunctionUrlAuthType::None.into()),
                    ..lambda::Permission::new("lambda:InvokeFunctionUrl", target.clone(), "*")
                },
                Attributes::default(),
            )?;
            stack.template.add_with(
                &format!("{id}InvokeFunction"),
                &lambda::Permission {
                    invoked_via_function_url: Some(true.into()),
                    ..lambda::Permission::new("lambda:InvokeFunction", target, "*")
                },
                Attributes::default(),
            )?;
        }
        let url = stack.output(
            &id,
            handle.get_att(lambda::Url::ATTR_FUNCTION_URL),
            &format!("URL of function {}", function.id),
        )?;
        stack.declare(&url, OutputRole::Url)?;
        Ok(Self { handle })
    }
}
