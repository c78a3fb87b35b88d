//! Lunora Player (seeds 000, 001, 002): the tables, the SRT → MediaConnect → MediaLive →
//! MediaPackage pipeline, the multi-destination API behind a Function URL, and the site.
//!
//! ```text
//! data ──────────────────────────────┐
//! media (SrtFlow, HlsChannel) ──▶ web (Site + HLS origin) ──▶ api (Function + URL, CORS = site)
//!   └────────────────────────────────────────────────────────▶ api (flow ARN, MediaLive role)
//! ```

use super::{ApiSection, ApiSettings, AppError};
use crate::config::{Bounded, Cidr, Definition, Environment, EvaluationWindow, Invalid};
use crate::constructs::table::read_write;
use crate::constructs::{
    ApiOrigin, Bucket, Code, ExtraOrigin, Function, FunctionProps, FunctionUrl, FunctionUrlProps, HlsChannel,
    HlsChannelProps, Invocation, KeyType, RateLimit, RateLimitProps, Rung, Site, SiteProps, SrtFlow, SrtFlowProps,
    Statement, Table, TableProps, UrlAuth, UserPool, UserPoolProps,
};
use crate::template::{App, Expr, FileValue, OutputRef, RenderedFile, Stack, Upload};
use indexmap::IndexMap;
use serde::Deserialize;
use std::path::PathBuf;

/// The five tables of seeds 000-002, with the keys the seeds give.
const TABLES: &[(&str, &str, &str, &str)] = &[
    // (logical id, name suffix, partition key, env var)
    ("Destinations", "destinations", "destinationId", "DESTINATIONS_TABLE"),
    ("Presets", "presets", "presetId", "PRESETS_TABLE"),
    ("StreamingSessions", "streaming-sessions", "sessionId", "SESSIONS_TABLE"),
    ("Sources", "sources", "source_id", "SOURCES_TABLE"),
    ("DynamicDestinations", "dynamic-destinations", "destinationId", "DYNAMIC_DESTINATIONS_TABLE"),
];

/// Lunora Player: `castform::run(&[&Lunora, ...])`.
pub struct Lunora;

/// Lunora's keys of an environment file: `api`, `media`, `web`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub api: ApiSection,
    #[serde(default)]
    pub media: Option<MediaSection>,
    #[serde(default)]
    pub web: Option<WebSection>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MediaSection {
    #[serde(default = "yes")]
    pub enabled: bool,
    #[serde(default)]
    pub srt_port: Option<Bounded<1024, 65535>>,
    #[serde(default)]
    pub ingest_cidr: Option<Cidr>,
    #[serde(default)]
    pub ladder: Option<Vec<RawRendition>>,
    #[serde(default)]
    pub channel_class: Option<ChannelClass>,
    /// The contribution's maximum bitrate in Mb/s: 10, 20 or 50 (MediaLive bills the tier).
    #[serde(default)]
    pub input_max_mbps: Option<u32>,
    /// The flow source's name (create-only: an adopted flow keeps the one it has).
    #[serde(default)]
    pub source_name: Option<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRendition {
    pub name: String,
    pub width: Bounded<64, 4096>,
    pub height: Bounded<64, 2160>,
    pub bitrate_kbps: Bounded<100, 20000>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ChannelClass {
    #[serde(rename = "SINGLE_PIPELINE")]
    SinglePipeline,
    #[serde(rename = "STANDARD")]
    Standard,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSection {
    #[serde(default = "yes")]
    pub cdn: bool,
    #[serde(default)]
    pub site: Option<String>,
    #[serde(default)]
    pub domain: Option<String>,
    #[serde(default)]
    pub certificate_arn: Option<String>,
    /// An AWS WAF rate-based rule on the API's path of the distribution.
    #[serde(default)]
    pub rate_limit: Option<RawRateLimit>,
}

/// `web.rate_limit`: at most `requests` from one IP address in `window_s` seconds under `/api/*`.
/// AWS WAF takes a limit of 10 to 2,000,000,000 and a window of 60, 120, 300 or 600 seconds
/// (AWS::WAFv2::WebACL's registry schema, RateLimit and EvaluationWindowSec).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRateLimit {
    pub requests: Bounded<10, 2_000_000_000>,
    #[serde(default)]
    pub window_s: Option<EvaluationWindow>,
}

fn yes() -> bool {
    true
}

#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bitrate_kbps: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MediaSettings {
    pub enabled: bool,
    pub srt_port: u32,
    pub ingest_cidr: String,
    pub ladder: Vec<Rendition>,
    pub channel_class: ChannelClass,
    /// The input's maximum-bitrate tier in Mb/s (10, 20 or 50); default 10.
    pub input_max_mbps: u32,
    /// The flow source's name; default `srt-ingest`.
    pub source_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebSettings {
    /// A CloudFront distribution in front of the site bucket.
    pub cdn: bool,
    /// Folder of the site, relative to the project root.
    pub site: PathBuf,
    pub domain: Option<String>,
    pub certificate_arn: Option<String>,
    /// An AWS WAF web ACL on the distribution limiting each IP address's requests to the API.
    pub rate_limit: Option<RateLimitSettings>,
}

/// At most `requests` from one IP address in `window_s` seconds on the API's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimitSettings {
    pub requests: u32,
    pub window_s: u32,
}

/// Lunora's configuration with its defaults applied and checked.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    pub api: ApiSettings,
    pub media: MediaSettings,
    pub web: WebSettings,
}

/// The Lunora ladder the seeds describe: 1080p, 720p and 480p H.264.
pub fn default_ladder() -> Vec<Rendition> {
    [("1080p", 1920, 1080, 5000), ("720p", 1280, 720, 3000), ("480p", 854, 480, 1200)]
        .into_iter()
        .map(|(n, w, h, b)| Rendition { name: n.into(), width: w, height: h, bitrate_kbps: b })
        .collect()
}

impl Config {
    /// The settings a deploy uses: defaults applied, the combinations checked.
    pub fn settings(&self, env: &Environment) -> Result<Settings, Invalid> {
        let api = self.api.settings(env, "assets/lunora-api")?;
        let media = MediaSettings::of(self.media.as_ref())?;
        let web = WebSettings::of(env, self.web.as_ref())?;
        Ok(Settings { api, media, web })
    }
}

impl MediaSettings {
    /// The `media:` section with its defaults; a listener open to any address and an input tier
    /// MediaLive does not have are refused.
    fn of(media: Option<&MediaSection>) -> Result<Self, Invalid> {
        let enabled = media.is_none_or(|m| m.enabled);
        let ingest_cidr = media.and_then(|m| m.ingest_cidr.clone()).map(|c| c.0);
        if enabled && ingest_cidr.is_none() {
            return Err(Invalid::new(
                "media",
                "has no `ingest_cidr`, and the SRT listener must only accept the encoder's address",
                "add media.ingest_cidr (e.g. the encoder's public IP with /32), or set media.enabled: false",
            ));
        }
        // MediaLive's input tiers, billed by the declared maximum (media review L15):
        // https://docs.aws.amazon.com/medialive/latest/ug/pricing.html
        let input_max_mbps = media.and_then(|m| m.input_max_mbps).unwrap_or(10);
        if ![10, 20, 50].contains(&input_max_mbps) {
            return Err(Invalid::new(
                "media.input_max_mbps",
                format!("is {input_max_mbps}, not one of MediaLive's input tiers"),
                "use 10, 20 or 50 (Mb/s): the smallest above what the encoder sends",
            ));
        }
        Ok(Self {
            enabled,
            srt_port: media.and_then(|m| m.srt_port).map_or(9998, |p| p.0),
            ingest_cidr: ingest_cidr.unwrap_or_default(),
            source_name: media.and_then(|m| m.source_name.clone()).unwrap_or_else(|| "srt-ingest".into()),
            ladder: media
                .and_then(|m| m.ladder.as_ref())
                .map(|l| {
                    l.iter()
                        .map(|r| Rendition {
                            name: r.name.clone(),
                            width: r.width.0,
                            height: r.height.0,
                            bitrate_kbps: r.bitrate_kbps.0,
                        })
                        .collect()
                })
                .unwrap_or_else(default_ladder),
            channel_class: media.and_then(|m| m.channel_class).unwrap_or(ChannelClass::SinglePipeline),
            input_max_mbps,
        })
    }
}

impl WebSettings {
    /// The `web:` section with its defaults; a rate limit needs the distribution, the site's
    /// folder must exist, and a custom domain comes with its certificate from us-east-1.
    fn of(env: &Environment, web: Option<&WebSection>) -> Result<Self, Invalid> {
        if web.is_some_and(|w| w.rate_limit.is_some() && !w.cdn) {
            return Err(Invalid::new(
                "web.rate_limit",
                "is set, but web.cdn is false: the limit is a web ACL on the distribution",
                "set web.cdn: true, or remove web.rate_limit",
            ));
        }
        let site = PathBuf::from(web.and_then(|w| w.site.clone()).unwrap_or_else(|| "assets/lunora-site".into()));
        if !env.root.join(&site).is_dir() {
            return Err(Invalid::new(
                "web.site",
                format!("is {:?}, a folder that does not exist", site.display().to_string()),
                "point it at the folder holding the site's index.html, relative to the project root",
            ));
        }
        let domain = web.and_then(|w| w.domain.clone());
        let certificate_arn = web.and_then(|w| w.certificate_arn.clone());
        if domain.is_some() != certificate_arn.is_some() {
            return Err(Invalid::new(
                "web",
                "needs both `domain` and `certificate_arn`, or neither",
                "a custom domain needs its ACM certificate in us-east-1",
            ));
        }
        if let Some(arn) = &certificate_arn
            && !arn.starts_with("arn:aws:acm:us-east-1:")
        {
            return Err(Invalid::new(
                "web.certificate_arn",
                format!("is {arn:?}, expected an ACM certificate ARN in us-east-1"),
                "CloudFront only uses certificates from us-east-1",
            ));
        }
        Ok(Self {
            cdn: web.is_none_or(|w| w.cdn),
            site,
            domain,
            certificate_arn,
            rate_limit: web
                .and_then(|w| w.rate_limit.as_ref())
                .map(|r| RateLimitSettings { requests: r.requests.0, window_s: r.window_s.map_or(300, |w| w.0) }),
        })
    }
}

impl Definition for Lunora {
    type Config = Config;

    fn name(&self) -> &'static str {
        "lunora"
    }

    fn validate(&self, env: &Environment, config: &Config) -> Result<(), Invalid> {
        config.settings(env).map(|_| ())
    }

    fn define(&self, env: &Environment, config: &Config) -> anyhow::Result<App> {
        Ok(define(env, &config.settings(env)?)?)
    }
}

/// Lunora's stacks for one environment.
pub fn define(env: &Environment, settings: &Settings) -> Result<App, AppError> {
    let Settings { api: api_settings, media: media_settings, web: web_settings } = settings;
    let mut stacks = vec![data(env)?];
    stacks.extend(if media_settings.enabled { Some(media(env, media_settings)?) } else { None });
    stacks.push(api(env, api_settings, media_settings.enabled)?);
    let waf = waf(env, web_settings)?;
    let with_waf = waf.is_some();
    stacks.extend(waf);
    let (web, site_bucket, site_url) = web(env, web_settings, media_settings.enabled, with_waf)?;
    stacks.push(web);
    // the API's media permissions go by these tags (media review L8), so every resource carries
    // them in its template rather than relying on CloudFormation's stack-tag propagation
    let mut tags = env.tags.clone();
    tags.insert(SCOPE_APP_TAG.into(), "lunora".into());
    tags.insert(SCOPE_ENV_TAG.into(), env.name.clone());
    for s in &mut stacks {
        crate::constructs::tag(s, &tags);
    }
    let mut app = App::new("lunora", &env.name, stacks)?;
    let api_url = OutputRef::new("api", "ApiUrl");
    app.uploads.push(Upload { source: web_settings.site.display().to_string(), bucket: site_bucket.clone() });
    app.files.push(config_js(env, media_settings.enabled, site_bucket, site_url.clone()));
    // the URL itself, signed (AuthType AWS_IAM), and through the distribution as the site calls it
    app.health_checks.push((api_url, "/health".into()));
    if let Some(site) = &site_url {
        app.health_checks.push((site.clone(), "/api/health".into()));
    }
    app.check_wiring()?;
    Ok(app)
}

/// One of Lunora's stacks in the environment's region.
fn new_stack(env: &Environment, name: &str, description: &str) -> Stack {
    env.stack(name, &format!("Lunora Player {name}: {description} (castform)"))
}

/// data: the five tables.
fn data(env: &Environment) -> Result<Stack, AppError> {
    let mut data = new_stack(env, "data", "DynamoDB tables");
    for (id, suffix, key, _) in TABLES {
        Table::new(
            &mut data,
            id,
            TableProps {
                name: suffix.to_string(),
                partition_key: (key.to_string(), KeyType::String),
                ..Default::default()
            },
        )?;
    }
    Ok(data)
}

/// media: the SRT ingest flow into the HLS channel.
fn media(env: &Environment, settings: &MediaSettings) -> Result<Stack, AppError> {
    let mut media = new_stack(env, "media", "SRT ingest, MediaLive HLS channel, MediaPackage");
    let flow = SrtFlow::new(
        &mut media,
        "Ingest",
        SrtFlowProps {
            port: settings.srt_port,
            whitelist_cidr: settings.ingest_cidr.clone(),
            min_latency_ms: 2000,
            source_name: settings.source_name.clone(),
        },
    )?;
    HlsChannel::new(
        &mut media,
        "Live",
        &flow,
        HlsChannelProps {
            ladder: settings
                .ladder
                .iter()
                .map(|r| Rung { name: r.name.clone(), width: r.width, height: r.height, bitrate_kbps: r.bitrate_kbps })
                .collect(),
            single_pipeline: settings.channel_class == ChannelClass::SinglePipeline,
            segment_seconds: 6,
            input_max_mbps: settings.input_max_mbps,
        },
    )?;
    Ok(media)
}

/// api: the multi-destination API behind its Function URL, and the operators' user pool.
fn api(env: &Environment, settings: &ApiSettings, media: bool) -> Result<Stack, AppError> {
    let mut api = new_stack(env, "api", "the multi-destination API");
    let (mut environment, statements) = api_access(&mut api, env, media)?;
    // the dashboard's operators (media review L7): writes through the distribution need one of
    // their access tokens; only an administrator creates them
    let operators = UserPool::new(
        &mut api,
        "Operators",
        UserPoolProps {
            name: "operators".into(),
            min_password_length: 12,
            client_name: "LunoraDashboard".into(),
            admin_only: true,
        },
    )?;
    environment.insert("OPERATORS_POOL_ID".into(), operators.pool.reference());
    environment.insert("OPERATORS_CLIENT_ID".into(), operators.client.reference());
    let api_name = api.physical_name("api");
    let function = Function::new(
        &mut api,
        "Api",
        Code::Asset { root: env.root.clone(), path: settings.code.clone() },
        FunctionProps {
            name: Some(api_name),
            description: "Lunora Player multi-destination API".into(),
            runtime: settings.runtime.clone().unwrap_or_else(|| crate::constructs::DEFAULT_NODE_RUNTIME.into()),
            handler: "index.handler".into(),
            memory_mb: settings.memory_mb,
            timeout_s: settings.timeout_s,
            environment,
            statements,
            invocation: Invocation::Synchronous("its Function URL (through the distribution, or signed)".into()),
            ..FunctionProps::default()
        },
    )?;
    // AuthType AWS_IAM (media review L7): the site reaches the API through its own distribution
    // (same origin, so no CORS), and operators' tooling signs its calls to the URL itself
    let origins: Vec<Expr<String>> = settings.cors_origins.iter().map(|o| Expr::from(o.as_str())).collect();
    FunctionUrl::new(
        &mut api,
        &function,
        FunctionUrlProps { auth: UrlAuth::Iam, allow_origins: origins, ..FunctionUrlProps::default() },
    )?;
    Ok(api)
}

/// The API's environment and permissions: every table, and with media the flow, the channel and
/// input it was deployed with, MediaLive's role to pass, and the stream keys.
fn api_access(api: &mut Stack, env: &Environment, media: bool) -> Result<super::Access, AppError> {
    let mut environment: IndexMap<String, Expr<String>> = IndexMap::new();
    let mut statements = vec![];
    for (id, _, _, var) in TABLES {
        environment.insert(var.to_string(), api.import(&OutputRef::new("data", &format!("{id}Name")))?);
        statements.push(read_write(api.import(&OutputRef::new("data", &format!("{id}Arn")))?));
    }
    environment.insert("CASTFORM_ENVIRONMENT".into(), env.name.as_str().into());
    if !media {
        return Ok((environment, statements));
    }
    let media_out = |output: &str| OutputRef::new("media", output);
    let flow_arn = api.import(&media_out("IngestArn"))?;
    let role_arn = api.import(&media_out("LiveMediaLiveRoleArn"))?;
    environment.insert("MEDIACONNECT_FLOW_ARN".into(), flow_arn.clone());
    environment.insert("MEDIALIVE_ROLE_ARN".into(), role_arn.clone());
    environment.insert("MEDIALIVE_CHANNEL_ID".into(), api.import(&media_out("LiveChannelId"))?);
    environment.insert("MEDIALIVE_INPUT_ID".into(), api.import(&media_out("LiveInputId"))?);
    // names of what the API makes per destination: channels, inputs, /<prefix>/stream-keys/<id>
    environment.insert("RESOURCE_PREFIX".into(), env.prefix.as_str().into());
    statements.extend(media_api_statements(&env.name, flow_arn));
    statements.push(
        Statement::allow(&["iam:PassRole"], vec![role_arn])
            .with_condition(serde_json::json!({"StringEquals": {"iam:PassedToService": "medialive.amazonaws.com"}})),
    );
    statements.push(Statement::allow(
        &["ssm:GetParameter", "ssm:PutParameter", "ssm:DeleteParameter"],
        vec![Expr::sub(format!(
            "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}/stream-keys/*",
            env.prefix
        ))],
    ));
    Ok((environment, statements))
}

/// waf: the API's rate limit, a web ACL CloudFront takes only from us-east-1 (seed 002 asks for
/// rate limiting; media review L7); none without a distribution or a limit.
fn waf(env: &Environment, web: &WebSettings) -> Result<Option<Stack>, AppError> {
    let (true, Some(limit)) = (web.cdn, web.rate_limit) else { return Ok(None) };
    let mut waf = Stack::new(
        &env.prefix,
        "waf",
        "us-east-1",
        env.retain_data,
        "Lunora Player waf: the API's rate limit on the distribution (castform)",
    );
    RateLimit::new(
        &mut waf,
        "ApiRateLimit",
        RateLimitProps { requests: limit.requests, window_s: limit.window_s, path_prefix: "/api/".into() },
    )?;
    Ok(Some(waf))
}

/// web: the site behind its distribution, with the HLS stream and the API as its origins; or,
/// without a CDN, the bucket its files go to. Gives the stack, the bucket's output and the site's
/// URL (with a distribution).
fn web(
    env: &Environment,
    settings: &WebSettings,
    media: bool,
    waf: bool,
) -> Result<(Stack, OutputRef, Option<OutputRef>), AppError> {
    let mut web = new_stack(env, "web", "the site");
    let bucket = OutputRef::new("web", "SiteBucketName");
    if !settings.cdn {
        Bucket::new(&mut web, "SiteBucket")?
            .deploy_files_only(&mut web, "the site's files for an environment without a CDN")?;
        return Ok((web, bucket, None));
    }
    let extra_origin = if media {
        let hls = web.import(&OutputRef::new("media", "LiveHlsUrl"))?;
        Some(ExtraOrigin {
            id: "hls".into(),
            domain: Expr::select(2, Expr::split("/", hls)),
            path_pattern: "/out/*".into(),
            cache_policy_id: crate::constructs::site::CACHING_MEDIAPACKAGE.into(),
        })
    } else {
        None
    };
    let api_origin = Some(ApiOrigin {
        url: web.import(&OutputRef::new("api", "ApiUrl"))?,
        invoke_target: web.import(&OutputRef::new("api", "ApiAliasArn"))?,
        path_pattern: "/api/*".into(),
    });
    let domain = settings.domain.clone().zip(settings.certificate_arn.clone());
    let web_acl = if waf { Some(web.import(&OutputRef::new("waf", "ApiRateLimitArn"))?) } else { None };
    Site::new(&mut web, "Site", SiteProps { extra_origin, api_origin, domain, web_acl, ..SiteProps::default() })?;
    Ok((web, bucket, Some(OutputRef::new("web", "SiteUrl"))))
}

/// The site's `config.js`: where the API and the stream are, for this environment and deployment.
fn config_js(env: &Environment, media: bool, site_bucket: OutputRef, site_url: Option<OutputRef>) -> RenderedFile {
    let media_out = |output: &str| OutputRef::new("media", output);
    let api_url = OutputRef::new("api", "ApiUrl");
    RenderedFile {
        template: "templates/lunora/config.js.hbs".into(),
        bucket: site_bucket,
        key: "config.js".into(),
        content_type: "application/javascript".into(),
        values: vec![
            ("app".into(), FileValue::Literal("lunora".into())),
            ("environment".into(), FileValue::Literal(env.name.clone())),
            ("region".into(), FileValue::Literal(env.region.clone())),
            // behind the distribution the API is the site's own origin; without one, its URL
            ("api_url".into(), FileValue::Output(site_url.clone().unwrap_or(api_url))),
            (
                "hls_url".into(),
                // viewers play through the distribution's /out/* behaviour, not MediaPackage's own
                // address (media review L9: caching, and the origin's request limits)
                match (media, &site_url) {
                    (true, Some(site)) => FileValue::Rebased { base: site.clone(), path_of: media_out("LiveHlsUrl") },
                    (true, None) => FileValue::Output(media_out("LiveHlsUrl")),
                    (false, _) => FileValue::Literal(String::new()),
                },
            ),
            ("site_url".into(), site_url.map(FileValue::Output).unwrap_or(FileValue::Literal(String::new()))),
            ("operators_client_id".into(), FileValue::Output(OutputRef::new("api", "OperatorsClientId"))),
            ("deployment_id".into(), FileValue::DeploymentId),
        ],
    }
}

/// The tags that scope the API's MediaLive permissions to its own environment; the same keys
/// castform puts on every stack.
const SCOPE_APP_TAG: &str = "castform:app";
const SCOPE_ENV_TAG: &str = "castform:environment";

/// What seed 002's on-demand destinations need, and no more (media review L5, L6, L8): the API
/// starts and stops the environment's flow, and creates, runs and deletes MediaLive channels and
/// `MEDIACONNECT` inputs (MediaLive adds its own output to the flow, so no flow-output actions).
/// Channels and inputs are reached only through this environment's tags, so environments that
/// share an account cannot touch each other's (ABAC with `aws:ResourceTag` / `aws:RequestTag`,
/// which MediaLive's channel and input resources support, and `Create*` needs the tags on the
/// request); a deny keeps the API from re-tagging another environment's channel into its own.
/// <https://docs.aws.amazon.com/service-authorization/latest/reference/list_awselementalmedialive.html>
/// <https://docs.aws.amazon.com/medialive/latest/ug/setup-emx-flows.html>
fn media_api_statements(env_name: &str, flow_arn: Expr<String>) -> Vec<Statement> {
    let medialive = |kind: &str| {
        Expr::sub(format!("arn:${{AWS::Partition}}:medialive:${{AWS::Region}}:${{AWS::AccountId}}:{kind}:*"))
    };
    let tagged = |key: &str| {
        serde_json::json!({"StringEquals": {
            format!("aws:{key}/{SCOPE_APP_TAG}"): "lunora",
            format!("aws:{key}/{SCOPE_ENV_TAG}"): env_name,
        }})
    };
    vec![
        Statement::allow(
            &["mediaconnect:DescribeFlow", "mediaconnect:StartFlow", "mediaconnect:StopFlow"],
            vec![flow_arn],
        ),
        // list calls take no resource ARN (Service Authorization Reference, MediaLive)
        Statement::any_resource(&["medialive:ListChannels", "medialive:ListInputs"]),
        Statement::allow(
            &["medialive:CreateChannel", "medialive:CreateInput", "medialive:CreateTags"],
            vec![medialive("channel"), medialive("input")],
        )
        .with_condition(tagged("RequestTag")),
        Statement::allow(
            &[
                "medialive:DescribeChannel",
                "medialive:StartChannel",
                "medialive:StopChannel",
                "medialive:UpdateChannel",
                "medialive:DeleteChannel",
                "medialive:DescribeInput",
                "medialive:DeleteInput",
            ],
            vec![medialive("channel"), medialive("input")],
        )
        .with_condition(tagged("ResourceTag")),
        // (DeleteTags is never allowed. A channel made outside castform, with no castform tags,
        // could still be claimed by tagging it: tag such channels, or keep them in another account.)
        Statement::deny(&["medialive:CreateTags"], vec![medialive("channel"), medialive("input")]).with_condition(
            serde_json::json!({
                "StringNotEquals": {format!("aws:ResourceTag/{SCOPE_ENV_TAG}"): env_name},
                "Null": {format!("aws:ResourceTag/{SCOPE_ENV_TAG}"): "false"},
            }),
        ),
    ]
}
