//! Live media: the pipeline as its own services report it (`castform media status|start|stop`),
//! and which changes a pipeline on air can take without going off air.
//!
//! AWS's rules this relies on:
//! - a MediaLive channel can be edited or deleted only while it is idle ("Summary of actions",
//!   <https://docs.aws.amazon.com/medialive/latest/ug/multiplex-create-delete-edit-summary.html>);
//! - a MediaConnect flow's source can be updated "even while the flow is running"
//!   (<https://docs.aws.amazon.com/mediaconnect/latest/ug/source-update.html>), an active flow must
//!   be stopped before it is deleted (DeleteFlow), and a new flow has a new ingest address;
//! - a new MediaPackage origin endpoint or CloudFront distribution has a new URL.

use crate::aws::{ChannelState, Cloud, FlowState};
use crate::config::Environment;
use crate::ops::diff::{LiveClass, MEDIA_TYPES, classify, replaces};
use crate::state::StateStore;
use crate::state::ledger::{self, Record};
use crate::template::{App, OutputRef, OutputRole};
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Where the pipeline of a deployed environment is: its flow, channel and playback URLs.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Pipeline {
    pub flow_arn: Option<String>,
    pub channel_id: Option<String>,
    /// MediaPackage's own HLS URL.
    pub hls_url: Option<String>,
    /// The same playlist through the distribution's `/out/*` behaviour.
    pub cdn_hls_url: Option<String>,
}

/// Reads the pipeline's physical ids from the deployed stacks (none when nothing is deployed):
/// the flow and channel by resource type, the playlist by its role, and its address through the
/// site whose stack takes the playlist as an origin.
pub async fn locate<C: Cloud>(cloud: &C, app: &App) -> Result<Pipeline> {
    let mut p = Pipeline::default();
    let mut outputs: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    for s in &app.stacks {
        let cloud = cloud.for_region(&s.region);
        let Some(info) = cloud.describe_stack(&s.stack_name).await? else { continue };
        for r in cloud.list_stack_resources(&s.stack_name).await? {
            match r.resource_type.as_str() {
                "AWS::MediaConnect::Flow" => p.flow_arn = Some(r.physical_id),
                "AWS::MediaLive::Channel" => p.channel_id = Some(r.physical_id),
                _ => {}
            }
        }
        outputs.insert(s.name.clone(), info.outputs.into_iter().collect());
    }
    let value = |o: &OutputRef| outputs.get(&o.stack).and_then(|x| x.get(&o.output)).cloned();
    let playlist =
        app.outputs_with(|r| *r == OutputRole::Playlist).into_iter().find_map(|(o, _)| Some((value(&o)?, o)));
    if let Some((hls, from)) = playlist {
        let site = app.outputs_with(|r| *r == OutputRole::SiteUrl).into_iter().find_map(|(o, _)| {
            let through = app.stack(&o.stack)?.imports.iter().any(|i| i.stack == from.stack && i.output == from.output);
            through.then(|| value(&o)).flatten()
        });
        if let Some(site) = site
            && let Some(path) = hls.split("://").nth(1).and_then(|rest| rest.find('/').map(|i| &rest[i..]))
        {
            p.cdn_hls_url = Some(format!("{}{path}", site.trim_end_matches('/')));
        }
        p.hls_url = Some(hls);
    }
    Ok(p)
}

#[derive(Debug, Clone, Serialize)]
pub struct MediaStatus {
    pub pipeline: Pipeline,
    pub flow: Option<FlowState>,
    pub channel: Option<ChannelState>,
    /// HTTP status of the HLS playlist at MediaPackage, and through the distribution.
    pub endpoint_answers: Option<u16>,
    pub cdn_answers: Option<u16>,
    pub on_air: bool,
    /// What the pipeline costs per hour while on air (flow + channel), from data/prices.json.
    pub cost_per_hour: f64,
}

fn prices() -> (f64, f64) {
    let t = crate::ops::cost::table();
    let p = |k: &str| t.prices.get(k).map(|p| p.price).unwrap_or(0.0);
    (p("mediaconnect_flow_hour"), p("medialive_channel_hour"))
}

pub async fn status<C: Cloud>(cloud: &C, app: &App) -> Result<MediaStatus> {
    let pipeline = locate(cloud, app).await?;
    if pipeline.flow_arn.is_none() && pipeline.channel_id.is_none() {
        return crate::config::bad_input(format!(
            "{} has no deployed media pipeline (no MediaConnect flow or MediaLive channel in its stacks)\nhelp: deploy an environment with `media.enabled: true` first",
            app.app
        ));
    }
    let flow = match &pipeline.flow_arn {
        Some(arn) => cloud.describe_flow(arn).await?,
        None => None,
    };
    let channel = match &pipeline.channel_id {
        Some(id) => cloud.describe_channel(id).await?,
        None => None,
    };
    let get = async |url: &Option<String>| match url {
        Some(u) => cloud.http_get(u).await.ok().map(|(s, _)| s),
        None => None,
    };
    let endpoint_answers = get(&pipeline.hls_url).await;
    let cdn_answers = get(&pipeline.cdn_hls_url).await;
    let on_air =
        flow.as_ref().is_some_and(|f| f.status == "ACTIVE") && channel.as_ref().is_some_and(|c| c.state == "RUNNING");
    let (flow_hour, channel_hour) = prices();
    let cost_per_hour = flow.as_ref().map_or(0.0, |_| flow_hour) + channel.as_ref().map_or(0.0, |_| channel_hour);
    Ok(MediaStatus { pipeline, flow, channel, endpoint_answers, cdn_answers, on_air, cost_per_hour })
}

/// The parts of a deployed pipeline that are running (a channel starting or running, a flow
/// starting or active), as "channel 1234567 is RUNNING": what `destroy` refuses to take down
/// unasked. Empty when nothing runs or nothing is deployed.
pub async fn running_parts<C: Cloud>(cloud: &C, app: &App) -> Result<Vec<String>> {
    let pipeline = locate(cloud, app).await?;
    let mut out = vec![];
    if let Some(id) = &pipeline.channel_id
        && let Some(c) = cloud.describe_channel(id).await?
        && matches!(c.state.as_str(), "RUNNING" | "STARTING" | "RECOVERING")
    {
        out.push(format!("channel {} ({}) is {}", c.id, c.name, c.state));
    }
    if let Some(arn) = &pipeline.flow_arn
        && let Some(f) = cloud.describe_flow(arn).await?
        && matches!(f.status.as_str(), "ACTIVE" | "STARTING")
    {
        out.push(format!("flow {} is {}", f.name, f.status));
    }
    Ok(out)
}

/// How long a start or stop may take before castform gives up waiting (MediaLive channels take
/// a minute or two to start).
pub const WAIT: Duration = Duration::from_secs(600);

pub async fn wait_channel<C: Cloud>(cloud: &C, id: &str, want: &str) -> Result<()> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let state = cloud.describe_channel(id).await?.map(|c| c.state).unwrap_or_else(|| "DELETED".into());
        if state == want {
            return Ok(());
        }
        if state == "DELETED" || started.elapsed() > WAIT {
            anyhow::bail!("channel {id} is {state}, not {want}, after {} s", started.elapsed().as_secs());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

pub async fn wait_flow<C: Cloud>(cloud: &C, arn: &str, want: &str) -> Result<()> {
    let started = Instant::now();
    let mut delay = Duration::from_millis(250);
    loop {
        let status = cloud.describe_flow(arn).await?.map(|f| f.status).unwrap_or_else(|| "DELETED".into());
        if status == want {
            return Ok(());
        }
        if status == "DELETED" || status == "ERROR" || started.elapsed() > WAIT {
            anyhow::bail!("flow {arn} is {status}, not {want}, after {} s", started.elapsed().as_secs());
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(5));
    }
}

/// A part still moving (a flow STARTING or STOPPING, a channel STARTING or STOPPING: states a
/// start or stop passes through, MediaConnect's StartFlow statuses
/// <https://docs.aws.amazon.com/mediaconnect/latest/api/API_StartFlow.html> and MediaLive's
/// channel states <https://docs.aws.amazon.com/medialive/latest/ug/monitor-activity-types-channel.html>) is
/// waited for until it settles, so that a start or stop acts on where it ends, not on the moment
/// (second review: `media start` failed on a part another start had left STARTING).
async fn settled_flow<C: Cloud>(cloud: &C, arn: &str) -> Result<Option<String>> {
    let status = cloud.describe_flow(arn).await?.map(|f| f.status);
    match status.as_deref() {
        Some("STARTING") => wait_flow(cloud, arn, "ACTIVE").await.map(|_| Some("ACTIVE".into())),
        Some("STOPPING") => wait_flow(cloud, arn, "STANDBY").await.map(|_| Some("STANDBY".into())),
        _ => Ok(status),
    }
}

async fn settled_channel<C: Cloud>(cloud: &C, id: &str) -> Result<Option<String>> {
    let state = cloud.describe_channel(id).await?.map(|c| c.state);
    match state.as_deref() {
        Some("STARTING") => wait_channel(cloud, id, "RUNNING").await.map(|_| Some("RUNNING".into())),
        Some("STOPPING") => wait_channel(cloud, id, "IDLE").await.map(|_| Some("IDLE".into())),
        _ => Ok(state),
    }
}

/// Starts the flow, then the channel (the channel reads from the flow), and waits until both run.
/// What already runs is left as it is; a part starting or stopping is waited for first.
pub async fn start_pipeline<C: Cloud>(cloud: &C, p: &Pipeline) -> Result<Vec<String>> {
    let mut done = vec![];
    if let Some(arn) = &p.flow_arn
        && settled_flow(cloud, arn).await?.as_deref() == Some("STANDBY")
    {
        cloud.start_flow(arn).await.with_context(|| format!("starting flow {arn}"))?;
        wait_flow(cloud, arn, "ACTIVE").await?;
        done.push(format!("flow {arn} ACTIVE"));
    }
    if let Some(id) = &p.channel_id
        && settled_channel(cloud, id).await?.as_deref() == Some("IDLE")
    {
        cloud.start_channel(id).await.with_context(|| format!("starting channel {id}"))?;
        wait_channel(cloud, id, "RUNNING").await?;
        done.push(format!("channel {id} RUNNING"));
    }
    Ok(done)
}

/// Stops the channel, then the flow (the reverse of start), and waits until both are idle.
pub async fn stop_pipeline<C: Cloud>(cloud: &C, p: &Pipeline, flow_too: bool) -> Result<Vec<String>> {
    let mut done = vec![];
    if let Some(id) = &p.channel_id
        && settled_channel(cloud, id).await?.as_deref() == Some("RUNNING")
    {
        cloud.stop_channel(id).await.with_context(|| format!("stopping channel {id}"))?;
        wait_channel(cloud, id, "IDLE").await?;
        done.push(format!("channel {id} IDLE"));
    }
    if flow_too
        && let Some(arn) = &p.flow_arn
        && settled_flow(cloud, arn).await?.as_deref() == Some("ACTIVE")
    {
        cloud.stop_flow(arn).await.with_context(|| format!("stopping flow {arn}"))?;
        wait_flow(cloud, arn, "STANDBY").await?;
        done.push(format!("flow {arn} STANDBY"));
    }
    Ok(done)
}

/// Whether the pipeline is now what `media start` (flow ACTIVE, channel RUNNING) or `media stop`
/// (channel IDLE, flow STANDBY) asked: a part in any other state (a channel STOPPING or
/// UPDATE_FAILED, a flow in ERROR) was not started or stopped, and the operation failed (review
/// S3-11).
pub(crate) async fn ended_as_asked<C: Cloud>(cloud: &C, p: &Pipeline, start: bool) -> Result<()> {
    let (flow_want, channel_want) = if start { ("ACTIVE", "RUNNING") } else { ("STANDBY", "IDLE") };
    let mut wrong = vec![];
    if let Some(arn) = &p.flow_arn {
        let status = cloud.describe_flow(arn).await?.map(|f| f.status).unwrap_or_else(|| "DELETED".into());
        if status != flow_want {
            wrong.push(format!("flow {arn} is {status}, not {flow_want}"));
        }
    }
    if let Some(id) = &p.channel_id {
        let state = cloud.describe_channel(id).await?.map(|c| c.state).unwrap_or_else(|| "DELETED".into());
        if state != channel_want {
            wrong.push(format!("channel {id} is {state}, not {channel_want}"));
        }
    }
    if !wrong.is_empty() {
        anyhow::bail!(
            "{}\nhelp: `castform media status` shows each part; a part in a failed state needs a deploy or the console",
            wrong.join("; ")
        );
    }
    Ok(())
}

/// `castform media start|stop`: the operation, recorded in the deployment ledger.
pub async fn operate<C: Cloud>(cloud: &C, env: &Environment, app: &App, start: bool) -> Result<(Record, MediaStatus)> {
    let state = StateStore::new(env);
    let identity = cloud.caller_identity().await?;
    let (who, host) = crate::state::who();
    let id = crate::state::clock::new_id();
    let kind = if start { "media-start" } else { "media-stop" };
    let mut record = Record::new(
        &id,
        kind,
        &app.app,
        &env.name,
        &env.region,
        &crate::state::clock::now(),
        (&who, &host),
        &identity.account,
    );
    // one writer: a start or stop never runs beside a deploy or another start or stop (S3-32)
    let info = crate::state::lock::LockInfo::of_this_process(&id, &who, &host, &record.started, kind);
    crate::state::lock::acquire(cloud, &state, &env.name, &info).await.map_err(|e| {
        crate::ops::error::DeployError::Refused(e.to_string().replacen('\n', "; nothing was started or stopped\n", 1))
    })?;
    // located under the lock: a deploy that ran before it may have replaced the flow or the
    // channel (second review)
    let pipeline = match locate(cloud, app).await {
        Ok(p) if p.flow_arn.is_some() || p.channel_id.is_some() => p,
        found => {
            let _ = crate::state::lock::release(cloud, &state, &id).await;
            found?;
            return crate::config::bad_input(format!(
                "{}/{} has no deployed media pipeline\nhelp: deploy an environment with `media.enabled: true` first",
                app.app, env.name
            ));
        }
    };
    let outcome: Result<Vec<String>> = async {
        let done =
            if start { start_pipeline(cloud, &pipeline).await? } else { stop_pipeline(cloud, &pipeline, true).await? };
        ended_as_asked(cloud, &pipeline, start).await?;
        Ok(done)
    }
    .await;
    record.finished = crate::state::clock::now();
    match &outcome {
        Ok(done) => {
            record.result = "succeeded".into();
            record.checks = done
                .iter()
                .map(|d| crate::state::ledger::CheckResult { name: kind.into(), ok: true, detail: d.clone() })
                .collect();
        }
        Err(e) => record.error = Some(crate::ui::redact::redact(&format!("{e:#}"))),
    }
    let recorded = ledger::write(cloud, &state, &record).await;
    let _ = crate::state::lock::release(cloud, &state, &id).await;
    recorded.context("recording it in the deployment ledger")?;
    outcome?;
    let now = status(cloud, app).await?;
    Ok((record, now))
}

/// One media resource a deploy would change, with what that does on air.
#[derive(Debug, Clone, Serialize)]
pub struct LiveChange {
    pub stack: String,
    pub logical_id: String,
    pub resource_type: String,
    pub class: LiveClass,
    pub why: String,
}

/// What a deploy would do to the live pipeline, read before anything is written.
#[derive(Debug, Clone, Default, Serialize)]
pub struct LivePlan {
    pub changes: Vec<LiveChange>,
    pub pipeline: Pipeline,
    pub channel: Option<ChannelState>,
    pub flow: Option<FlowState>,
    /// The deploy stops the pipeline, applies the change and starts it again (`--restart-live`).
    pub restart: bool,
    /// The flow is stopped too (it is replaced or deleted).
    pub stop_flow: bool,
}

impl LivePlan {
    pub fn channel_on_air(&self) -> bool {
        self.channel.as_ref().is_some_and(|c| matches!(c.state.as_str(), "RUNNING" | "STARTING"))
    }
}

/// Classifies every media change of the app against the deployed templates, and reads the live
/// state of the pipeline. Stacks not deployed yet have nothing on air.
pub async fn plan<C: Cloud>(cloud: &C, app: &App) -> Result<LivePlan> {
    plan_against(cloud, app, &|s| Some(s.template.to_value())).await
}

/// [`plan`] for other templates than the app's: a rollback's recorded ones. `desired` gives
/// each stack's template, or `None` for a stack the operation leaves alone.
pub async fn plan_against<C: Cloud>(
    cloud: &C,
    app: &App,
    desired: &(dyn Fn(&crate::template::Stack) -> Option<serde_json::Value> + Sync),
) -> Result<LivePlan> {
    let mut out = LivePlan::default();
    for s in &app.stacks {
        let Some(desired) = desired(s) else { continue };
        let has_media = desired["Resources"]
            .as_object()
            .is_some_and(|r| r.values().any(|r| r["Type"].as_str().is_some_and(|t| MEDIA_TYPES.contains(&t))));
        let regional = cloud.for_region(&s.region);
        if !has_media || regional.describe_stack(&s.stack_name).await?.is_none() {
            continue;
        }
        let old: serde_json::Value =
            serde_json::from_str(&regional.get_template(&s.stack_name).await?).unwrap_or(serde_json::Value::Null);
        for r in crate::ops::diff::compare(&old, &desired) {
            if r.action == "add" {
                continue;
            }
            if let Some((class, why)) = classify(&r.resource_type, replaces(&r)) {
                out.changes.push(LiveChange {
                    stack: s.name.clone(),
                    logical_id: r.logical_id.clone(),
                    resource_type: r.resource_type.clone(),
                    class,
                    why: why.to_string(),
                });
            }
        }
    }
    if out.changes.is_empty() {
        return Ok(out);
    }
    out.pipeline = locate(cloud, app).await?;
    if let Some(id) = &out.pipeline.channel_id {
        out.channel = cloud.describe_channel(id).await?;
    }
    if let Some(arn) = &out.pipeline.flow_arn {
        out.flow = cloud.describe_flow(arn).await?;
    }
    Ok(out)
}

/// The deploy's decision (P08): a change that needs a channel on air stopped is refused unless
/// `restart_live`; an endpoint replacement is refused where data is retained unless
/// `allow_replace`. `Err` is the refusal's message, with the flag to use.
pub fn decide(
    mut plan: LivePlan,
    env: &Environment,
    restart_live: bool,
    allow_replace: bool,
) -> Result<LivePlan, String> {
    let needs_stop: Vec<&LiveChange> =
        plan.changes.iter().filter(|c| c.class == LiveClass::NeedsChannelStopped).collect();
    if !needs_stop.is_empty() && plan.channel_on_air() {
        let ch = plan.channel.as_ref().map(|c| format!("{} ({}) is {}", c.id, c.name, c.state)).unwrap_or_default();
        if !restart_live {
            return Err(format!(
                "P08 live media: {} needs the channel stopped, and channel {ch}: {}\nhelp: pass --restart-live to stop it, deploy and start it again (a minute or two without output), or deploy while it is off air (`castform media stop {}`)",
                needs_stop
                    .iter()
                    .map(|c| format!("{}.{} ({})", c.stack, c.logical_id, c.resource_type))
                    .collect::<Vec<_>>()
                    .join(", "),
                needs_stop[0].why,
                env.name
            ));
        }
        plan.restart = true;
        plan.stop_flow = plan
            .changes
            .iter()
            .any(|c| c.resource_type == "AWS::MediaConnect::Flow" && c.class == LiveClass::ReplacesEndpoint);
    }
    let replaced: Vec<&LiveChange> = plan.changes.iter().filter(|c| c.class == LiveClass::ReplacesEndpoint).collect();
    if !replaced.is_empty() && env.retain_data && !allow_replace {
        return Err(format!(
            "P08 live media: would replace an endpoint people use: {}\nhelp: this environment retains data; pass --allow-replace if new ingest or playback addresses are intended",
            replaced
                .iter()
                .map(|c| format!("{}.{} ({}): {}", c.stack, c.logical_id, c.resource_type, c.why))
                .collect::<Vec<_>>()
                .join("; ")
        ));
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_media_change_has_a_class_and_the_rest_has_none() {
        use LiveClass::*;
        let expect = [
            ("AWS::MediaLive::Channel", false, NeedsChannelStopped),
            ("AWS::MediaLive::Channel", true, NeedsChannelStopped),
            ("AWS::MediaLive::Input", false, NeedsChannelStopped),
            ("AWS::MediaLive::Input", true, NeedsChannelStopped),
            ("AWS::MediaConnect::Flow", false, SafeWhileLive),
            ("AWS::MediaConnect::Flow", true, ReplacesEndpoint),
            ("AWS::MediaPackage::Channel", false, SafeWhileLive),
            ("AWS::MediaPackage::Channel", true, ReplacesEndpoint),
            ("AWS::MediaPackage::OriginEndpoint", false, SafeWhileLive),
            ("AWS::MediaPackage::OriginEndpoint", true, ReplacesEndpoint),
            ("AWS::CloudFront::Distribution", false, SafeWhileLive),
            ("AWS::CloudFront::Distribution", true, ReplacesEndpoint),
        ];
        for (t, replaced, class) in expect {
            assert_eq!(classify(t, replaced).map(|c| c.0), Some(class), "{t} replaced={replaced}");
        }
        for t in MEDIA_TYPES {
            assert!(classify(t, false).is_some() && classify(t, true).is_some(), "{t}");
        }
        assert_eq!(classify("AWS::DynamoDB::Table", true), None);
        assert_eq!(classify("AWS::Lambda::Function", false), None);
    }

    /// The class of a change to one property of a media resource, through the same path a diff
    /// and a deploy take (`diff::replaces` reads create-only properties from the registry schema).
    fn class_of_property_change(resource_type: &str, property: &str) -> LiveClass {
        let r = crate::ops::diff::ResourceDiff {
            logical_id: "X".into(),
            resource_type: resource_type.into(),
            action: "modify".into(),
            changes: vec![crate::ops::diff::PropertyChange {
                path: format!("Properties.{property}"),
                old: Some(serde_json::json!("a")),
                new: Some(serde_json::json!("b")),
            }],
            statements: vec![],
            replacement: None,
            data_loss: false,
            live: None,
        };
        classify(resource_type, replaces(&r)).expect("a media type").0
    }

    #[test]
    fn every_property_of_every_media_type_is_classified() {
        use LiveClass::*;
        let mut seen = 0;
        for t in MEDIA_TYPES {
            let create_only = crate::rules::schema::create_only_properties(t);
            let properties = crate::rules::schema::writable_properties(t);
            assert!(!properties.is_empty(), "{t} has a schema with properties");
            for p in properties {
                let replaced = create_only.iter().any(|c| c == &p || c.starts_with(&format!("{p}.")));
                let expected = match (*t, replaced) {
                    // MediaLive edits or deletes a channel only while it is idle; inputs are
                    // treated the same, as the channel's attachment changes with them
                    ("AWS::MediaLive::Channel" | "AWS::MediaLive::Input", _) => NeedsChannelStopped,
                    (_, true) => ReplacesEndpoint,
                    (_, false) => SafeWhileLive,
                };
                // a nested create-only path (Source.Name) replaces only when that leaf changes
                let whole_is_create_only = create_only.iter().any(|c| c == &p);
                if replaced && !whole_is_create_only {
                    continue;
                }
                assert_eq!(class_of_property_change(t, &p), expected, "{t}.{p}");
                seen += 1;
            }
        }
        assert!(seen > 40, "only {seen} properties classified");
        // the ones that matter on air, by name
        assert_eq!(class_of_property_change("AWS::MediaConnect::Flow", "Name"), ReplacesEndpoint);
        assert_eq!(class_of_property_change("AWS::MediaConnect::Flow", "Source"), SafeWhileLive);
        assert_eq!(class_of_property_change("AWS::MediaConnect::Flow", "Source.Name"), ReplacesEndpoint);
        assert_eq!(class_of_property_change("AWS::MediaPackage::OriginEndpoint", "Id"), ReplacesEndpoint);
        assert_eq!(class_of_property_change("AWS::MediaPackage::OriginEndpoint", "HlsPackage"), SafeWhileLive);
        assert_eq!(class_of_property_change("AWS::MediaPackage::Channel", "Id"), ReplacesEndpoint);
        assert_eq!(class_of_property_change("AWS::MediaLive::Channel", "EncoderSettings"), NeedsChannelStopped);
        assert_eq!(class_of_property_change("AWS::MediaLive::Channel", "Tags"), NeedsChannelStopped);
        assert_eq!(class_of_property_change("AWS::CloudFront::Distribution", "DistributionConfig"), SafeWhileLive);
    }
}
