//! The podcast CDN (seed 004): a CDK app's two rounds of fixes, each enforced by construction.
//!
//! ```text
//! data (subscribers + stream + expiry index)            [environment's region]
//!   └▶ edge (Lambda@Edge subscriber check, version)      [us-east-1, always]
//!        └▶ cdn (media bucket, KeyValueStore, CloudFront Function, distribution)
//!             └▶ processing (stream → KeyValueStore sync, cleanup, MediaConvert transcoding)
//!                  └▶ schedules (EventBridge Scheduler: cleanup, transcoding)
//! ```
//! Cross-stack values are parameters the engine fills from outputs, across regions too: the
//! edge version's ARN reaches the cdn stack in the environment's region that way. The edge
//! function takes no environment variables; its table name and region are rendered into its
//! code at synth from `templates/podcast/edge-config.mjs.hbs`.

use super::AppError;
use crate::config::Environment;
use crate::config::{Bounded, Definition, Invalid, Region, ScheduleExpression};
use crate::constructs::DEFAULT_NODE_RUNTIME;
use crate::constructs::table::read_write;
use crate::constructs::{
    Code, DeadLetterQueue, EdgeAssociation, EdgeEvent, Function, FunctionBehavior, FunctionProps, Gsi, Invocation,
    KeyType, KeyValueStore, Role, ScheduleSpec, Schedules, Site, SiteProps, Statement, StreamConsumer,
    StreamConsumerProps, Table, TableProps, ViewerFunction,
};
use crate::template::{App, Expr, OutputRef, Stack};
use indexmap::IndexMap;
use serde::Deserialize;
use serde_json::json;
use std::path::PathBuf;

/// Lambda@Edge functions are defined in us-east-1 only (rule L03).
pub const EDGE_REGION: &str = "us-east-1";
/// The template the edge function's per-environment module is rendered from.
pub const EDGE_CONFIG_TEMPLATE: &str = "templates/podcast/edge-config.mjs.hbs";

/// The podcast CDN: `castform::run(&[&Podcast, ...])`.
pub struct Podcast;

/// The podcast's keys of an environment file: its `podcast` section (every key optional).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    #[serde(default)]
    pub podcast: Option<PodcastSection>,
}

/// The `podcast` section as written (seed 004).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PodcastSection {
    /// When the expired-subscriber cleanup runs: an EventBridge Scheduler expression.
    #[serde(default)]
    pub cleanup_schedule: Option<ScheduleExpression>,
    /// When the auto-transcoding sweep runs.
    #[serde(default)]
    pub transcode_schedule: Option<ScheduleExpression>,
    /// How late a schedule may start (EventBridge Scheduler's flexible time window).
    #[serde(default)]
    pub flexible_window_minutes: Option<Bounded<1, 1440>>,
    /// Days before media objects move to S3 Intelligent-Tiering.
    #[serde(default)]
    pub tiering_after_days: Option<Bounded<0, 3650>>,
    /// The regions besides us-east-1 where Lambda@Edge replicas log: each gets the edge log
    /// group, with its retention, before the distribution can run the function there.
    #[serde(default)]
    pub edge_log_regions: Option<Vec<Region>>,
}

/// The podcast app's schedules and storage, defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct PodcastSettings {
    pub cleanup_schedule: String,
    pub transcode_schedule: String,
    pub flexible_window_minutes: u32,
    pub tiering_after_days: u32,
    /// Regions besides us-east-1 where the edge function's log group is created with its
    /// retention (media review P3); default [`EDGE_LOG_REGIONS`].
    pub edge_log_regions: Vec<String>,
}

/// The regions of CloudFront's regional edge caches besides us-east-1, where Lambda@Edge runs
/// and logs ("Lambda@Edge automatically sends function logs to CloudWatch Logs, creating log
/// streams in the AWS Regions where the functions are invoked":
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html>;
/// the region list as Gruntwork's lambda-edge-log-group module keeps it, 2022). A region
/// CloudFront adds later is one line in `podcast.edge_log_regions`.
pub const EDGE_LOG_REGIONS: &[&str] = &[
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "sa-east-1",
];

impl Default for PodcastSettings {
    fn default() -> Self {
        Self {
            cleanup_schedule: "cron(0 3 * * ? *)".into(),
            transcode_schedule: "rate(1 hour)".into(),
            flexible_window_minutes: 15,
            tiering_after_days: 0,
            edge_log_regions: EDGE_LOG_REGIONS.iter().map(|r| r.to_string()).collect(),
        }
    }
}

impl Config {
    /// The settings with their defaults; each edge-log region listed once, us-east-1 not at all.
    pub fn settings(&self) -> Result<PodcastSettings, Invalid> {
        let d = PodcastSettings::default();
        let Some(p) = &self.podcast else { return Ok(d) };
        let edge_log_regions = match &p.edge_log_regions {
            None => d.edge_log_regions.clone(),
            Some(list) => {
                let mut seen: Vec<String> = vec![];
                for r in list {
                    if r.0 == EDGE_REGION || seen.contains(&r.0) {
                        return Err(Invalid::new(
                            "podcast.edge_log_regions",
                            format!(
                                "lists {} {}",
                                r.0,
                                if r.0 == EDGE_REGION { "(the edge stack's own region)" } else { "twice" }
                            ),
                            "list each other region once: the edge stack already holds us-east-1's log group",
                        ));
                    }
                    seen.push(r.0.clone());
                }
                seen
            }
        };
        Ok(PodcastSettings {
            edge_log_regions,
            cleanup_schedule: p.cleanup_schedule.clone().map_or(d.cleanup_schedule, |e| e.0),
            transcode_schedule: p.transcode_schedule.clone().map_or(d.transcode_schedule, |e| e.0),
            flexible_window_minutes: p.flexible_window_minutes.map_or(d.flexible_window_minutes, |m| m.0),
            tiering_after_days: p.tiering_after_days.map_or(d.tiering_after_days, |m| m.0),
        })
    }
}

impl Definition for Podcast {
    type Config = Config;

    fn name(&self) -> &'static str {
        "podcast"
    }

    fn validate(&self, _env: &Environment, config: &Config) -> Result<(), Invalid> {
        config.settings().map(|_| ())
    }

    fn define(&self, env: &Environment, config: &Config) -> anyhow::Result<App> {
        Ok(define(env, &config.settings()?)?)
    }
}

/// The podcast's stacks for one environment.
pub fn define(env: &Environment, settings: &PodcastSettings) -> Result<App, AppError> {
    let data = data(env)?;
    let edge = edge(env, &data.physical_name("subscribers"))?;
    let edge_logs =
        settings.edge_log_regions.iter().map(|region| edge_logs(env, region)).collect::<Result<Vec<_>, _>>()?;
    let cdn = cdn(env, settings, &edge_logs)?;
    let alarms = alarms(env)?;
    let processing = processing(env)?;
    let schedules = schedules(env, settings)?;
    let mut stacks = vec![data, edge];
    stacks.extend(edge_logs);
    stacks.extend([cdn, processing, schedules, alarms]);
    for s in &mut stacks {
        crate::constructs::tag(s, &env.tags);
    }
    let app = App::new("podcast", &env.name, stacks)?;
    app.check_wiring()?;
    Ok(app)
}

/// One of the podcast's stacks, in `region`.
fn new_stack(env: &Environment, name: &str, region: &str, description: &str) -> Stack {
    Stack::new(&env.prefix, name, region, env.retain_data, &format!("Podcast {name}: {description} (castform)"))
}

/// A function's code: a folder of the project.
fn code(env: &Environment, dir: &str) -> Code {
    Code::Asset { root: env.root.clone(), path: PathBuf::from(dir) }
}

fn env_vars(pairs: Vec<(&str, Expr<String>)>) -> IndexMap<String, Expr<String>> {
    pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect()
}

/// data: subscribers, their changes as a stream, an index to find the expired ones.
fn data(env: &Environment) -> Result<Stack, AppError> {
    let mut data = new_stack(env, "data", &env.region, "subscriber table with stream and expiry index");
    Table::new(
        &mut data,
        "Subscribers",
        TableProps {
            name: "subscribers".into(),
            partition_key: ("subscriberId".into(), KeyType::String),
            indexes: vec![Gsi {
                name: "ExpiryIndex".into(),
                partition_key: ("status".into(), KeyType::String),
                sort_key: Some(("expiresAt".into(), KeyType::Number)),
            }],
            stream: Some(crate::cfn::dynamodb::table::StreamViewType::NewAndOldImages),
            ..Default::default()
        },
    )?;
    Ok(data)
}

/// edge: the subscriber check, in us-east-1 whatever the environment's region, with the table's
/// name (`table_name`) and region rendered into its code.
fn edge(env: &Environment, table_name: &str) -> Result<Stack, AppError> {
    let mut edge = new_stack(env, "edge", EDGE_REGION, "Lambda@Edge subscriber check");
    let baked = crate::render::render_file(
        &env.root,
        EDGE_CONFIG_TEMPLATE,
        &json!({
            "app": "podcast",
            "environment": env.name,
            "table_name": table_name,
            "table_region": env.region,
            "expiry_index": "ExpiryIndex",
        }),
    )?;
    let table_arn_at_edge = edge.import(&OutputRef::new("data", "SubscribersArn"))?;
    Function::new(
        &mut edge,
        "SubscriberCheck",
        Code::Rendered {
            root: env.root.clone(),
            path: PathBuf::from("assets/podcast-edge"),
            generated: vec![("config.mjs".into(), baked.into_bytes())],
        },
        FunctionProps {
            // no fixed name: the function outlives its stack (retained, media review P4)
            description: "Podcast subscriber check on viewer requests (Lambda@Edge)".into(),
            runtime: DEFAULT_NODE_RUNTIME.into(),
            // viewer-request limits (rule L04): the seed's 256 MB would be refused
            memory_mb: 128,
            timeout_s: 5,
            edge: Some(EdgeEvent::ViewerRequest),
            statements: vec![Statement::allow(&["dynamodb:GetItem"], vec![table_arn_at_edge])],
            invocation: Invocation::Synchronous("CloudFront on each viewer request".into()),
            ..FunctionProps::default()
        },
    )?;
    Ok(edge)
}

/// edge logs: the subscriber check's log group in another region its replicas run in, with its
/// retention, made before the distribution can run it there (media review P3).
fn edge_logs(env: &Environment, region: &str) -> Result<Stack, AppError> {
    let mut s = new_stack(env, &format!("edge-logs-{region}"), region, "Lambda@Edge log group of this region");
    let name = s.import(&OutputRef::new("edge", "SubscriberCheckLogGroupName"))?;
    crate::constructs::edge_log_group(&mut s, "SubscriberCheckLogs", name, 30)?;
    Ok(s)
}

/// cdn: media bucket, the KeyValueStore and the function reading it, the distribution, which
/// runs the edge function only once every region's log group (`edge_logs`) exists.
fn cdn(env: &Environment, settings: &PodcastSettings, edge_logs: &[Stack]) -> Result<Stack, AppError> {
    let mut cdn = new_stack(env, "cdn", &env.region, "media bucket, KeyValueStore, CloudFront distribution");
    let store = KeyValueStore::new(&mut cdn, "SubscriberStore", "subscribers", "subscriber tiers for feed access")?;
    let feed_code = std::fs::read_to_string(env.root.join("assets/podcast-feed-access/index.js")).map_err(|e| {
        crate::constructs::ConstructError::invalid(
            "CloudFront Function `FeedAccess`",
            &format!("cannot read assets/podcast-feed-access/index.js: {e}"),
            "restore the file from the repository",
        )
    })?;
    let feed_access = ViewerFunction::new(&mut cdn, "FeedAccess", "feed-access", &feed_code, Some(&store))?;
    let version_arn = cdn.import(&OutputRef::new("edge", "SubscriberCheckVersionArn"))?;
    let site = Site::new(
        &mut cdn,
        "Media",
        SiteProps {
            default_root_object: String::new(),
            edge: Some(EdgeAssociation { event: EdgeEvent::ViewerRequest, version_arn }),
            function_behaviors: vec![FunctionBehavior { path_pattern: "/feeds/*".into(), function: feed_access }],
            ..SiteProps::default()
        },
    )?;
    site.bucket.intelligent_tiering(&mut cdn, settings.tiering_after_days)?;
    cdn.after.extend(edge_logs.iter().map(|s| s.name.clone()));
    Ok(cdn)
}

/// alarms: CloudFront's metrics are in us-east-1 whatever region the distribution's stack is in,
/// with Region=Global (CloudFront Developer Guide, "Types of metrics for CloudFront"). The
/// subscriber check answers a failed lookup with 403, so an outage at the edge shows as the 4xx
/// rate, in every region at once (media review P3).
fn alarms(env: &Environment) -> Result<Stack, AppError> {
    let mut alarms =
        new_stack(env, "alarms", EDGE_REGION, "CloudFront error-rate alarms, in the region of CloudFront's metrics");
    let distribution_id = alarms.import(&OutputRef::new("cdn", "MediaDistributionId"))?;
    crate::constructs::distribution_alarms(&mut alarms, "Media", distribution_id)?;
    Ok(alarms)
}

/// processing: the stream into the KeyValueStore, cleanup, transcoding; what fails of them goes
/// to one dead-letter queue.
fn processing(env: &Environment) -> Result<Stack, AppError> {
    let mut processing = new_stack(env, "processing", &env.region, "stream processor, cleanup, auto-transcoding");
    let failed = DeadLetterQueue::new(&mut processing, "FailedEvents")?;
    let data_out = |output: &str| OutputRef::new("data", output);
    let cdn_out = |output: &str| OutputRef::new("cdn", output);
    let table_arn = processing.import(&data_out("SubscribersArn"))?;
    let table = processing.import(&data_out("SubscribersName"))?;
    let stream_arn = processing.import(&data_out("SubscribersStreamArn"))?;
    let store_arn = processing.import(&cdn_out("SubscriberStoreArn"))?;
    // the policy names the store by the ARN built from its id (the form AWS documents): the same
    // ARN on AWS, and still an ARN on the emulator, whose skipped KeyValueStore has no `Arn`
    let store_id = processing.import(&cdn_out("SubscriberStoreId"))?;
    let store_policy_arn = Expr::sub_with(
        "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:key-value-store/${StoreId}",
        vec![("StoreId", store_id)],
    );
    let bucket = processing.import(&cdn_out("MediaBucketName"))?;
    let bucket_arn = processing.import(&cdn_out("MediaBucketArn"))?;
    let processor = Function::new(
        &mut processing,
        "StreamProcessor",
        code(env, "assets/podcast-stream-processor"),
        FunctionProps {
            name: Some(format!("{}-stream-processor", env.prefix)),
            description: "Podcast subscriber changes into the CloudFront KeyValueStore".into(),
            runtime: DEFAULT_NODE_RUNTIME.into(),
            timeout_s: 60,
            environment: env_vars(vec![("KVS_ARN", store_arn)]),
            statements: vec![Statement::allow(
                &[
                    "cloudfront-keyvaluestore:DescribeKeyValueStore",
                    "cloudfront-keyvaluestore:PutKey",
                    "cloudfront-keyvaluestore:DeleteKey",
                ],
                vec![store_policy_arn],
            )],
            invocation: Invocation::Synchronous(
                "its stream's event source mapping (what still fails goes to FailedEvents)".into(),
            ),
            ..FunctionProps::default()
        },
    )?;
    StreamConsumer::new(&mut processing, &processor, stream_arn, &failed, StreamConsumerProps::default())?;
    Function::new(
        &mut processing,
        "SubscriberCleanup",
        code(env, "assets/podcast-cleanup"),
        FunctionProps {
            name: Some(format!("{}-subscriber-cleanup", env.prefix)),
            description: "Podcast expired subscriptions, found through the expiry index".into(),
            runtime: DEFAULT_NODE_RUNTIME.into(),
            timeout_s: 300,
            environment: env_vars(vec![("TABLE_NAME", table), ("EXPIRY_INDEX", "ExpiryIndex".into())]),
            statements: vec![read_write(table_arn)],
            invocation: Invocation::Asynchronous { dead_letters: failed.arn() },
            ..FunctionProps::default()
        },
    )?;
    transcoding(&mut processing, env, &failed, bucket, bucket_arn)?;
    Ok(processing)
}

/// The role MediaConvert assumes to read uploads and write renditions, and the function that
/// submits the uploads to it.
fn transcoding(
    processing: &mut Stack,
    env: &Environment,
    failed: &DeadLetterQueue,
    bucket: Expr<String>,
    bucket_arn: Expr<String>,
) -> Result<(), AppError> {
    let objects = |prefix: &str| Expr::join("", vec![bucket_arn.clone(), format!("/{prefix}").into()]);
    let mediaconvert_role = Role::for_account_of(
        processing,
        "MediaConvertRole",
        "mediaconvert.amazonaws.com",
        vec![
            Statement::allow(&["s3:GetObject"], vec![objects("uploads/*")]),
            Statement::allow(&["s3:PutObject"], vec![objects("episodes/*")]),
        ],
    )?;
    processing.output("MediaConvertRoleArn", mediaconvert_role.arn(), "role MediaConvert jobs run as")?;
    let queue_arn = Expr::sub("arn:${AWS::Partition}:mediaconvert:${AWS::Region}:${AWS::AccountId}:queues/Default");
    Function::new(
        processing,
        "AutoTranscoding",
        code(env, "assets/podcast-transcoder"),
        FunctionProps {
            name: Some(format!("{}-auto-transcoding", env.prefix)),
            description: "Podcast uploads submitted to MediaConvert".into(),
            runtime: DEFAULT_NODE_RUNTIME.into(),
            timeout_s: 120,
            environment: env_vars(vec![
                ("MEDIA_BUCKET", bucket),
                ("MEDIACONVERT_ROLE_ARN", mediaconvert_role.arn()),
                ("MEDIACONVERT_QUEUE_ARN", queue_arn.clone()),
            ]),
            statements: vec![
                Statement::allow(&["s3:ListBucket"], vec![bucket_arn.clone()]),
                Statement::allow(&["s3:GetObject"], vec![objects("uploads/*"), objects("episodes/*")]),
                Statement::allow(&["mediaconvert:CreateJob"], vec![queue_arn]),
                Statement::allow(&["iam:PassRole"], vec![mediaconvert_role.arn()])
                    .with_condition(json!({"StringEquals": {"iam:PassedToService": "mediaconvert.amazonaws.com"}})),
            ],
            invocation: Invocation::Asynchronous { dead_letters: failed.arn() },
            ..FunctionProps::default()
        },
    )?;
    Ok(())
}

/// schedules: cleanup and transcoding, a role that may invoke exactly those two.
fn schedules(env: &Environment, settings: &PodcastSettings) -> Result<Stack, AppError> {
    let mut schedules = new_stack(env, "schedules", &env.region, "EventBridge Scheduler for cleanup and transcoding");
    let cleanup_target = schedules.import(&OutputRef::new("processing", "SubscriberCleanupAliasArn"))?;
    let transcode_target = schedules.import(&OutputRef::new("processing", "AutoTranscodingAliasArn"))?;
    let missed = DeadLetterQueue::new(&mut schedules, "MissedSchedules")?;
    Schedules::new(
        &mut schedules,
        "Maintenance",
        vec![
            ScheduleSpec {
                id: "CleanupSchedule".into(),
                description: "expired subscriptions".into(),
                expression: settings.cleanup_schedule.clone(),
                target: cleanup_target,
                input: json!({"source": "castform-schedule", "task": "cleanup"}).to_string(),
            },
            ScheduleSpec {
                id: "TranscodeSchedule".into(),
                description: "uploads waiting for MediaConvert".into(),
                expression: settings.transcode_schedule.clone(),
                target: transcode_target,
                input: json!({"source": "castform-schedule", "task": "transcode"}).to_string(),
            },
        ],
        settings.flexible_window_minutes,
        &missed,
    )?;
    Ok(schedules)
}
