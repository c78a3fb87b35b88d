//! MediaLive channels and MediaConnect flows: their state, started and stopped.

use super::err;
use crate::aws::*;

pub(super) async fn describe_channel(
    medialive: &aws_sdk_medialive::Client,
    id: &str,
) -> CloudResult<Option<ChannelState>> {
    match medialive.describe_channel().channel_id(id).send().await {
        Ok(c) => {
            let state = c.state().map(|s| s.as_str().to_string()).unwrap_or_default();
            Ok((state != "DELETED").then(|| ChannelState {
                id: c.id().unwrap_or(id).to_string(),
                name: c.name().unwrap_or_default().to_string(),
                state,
                class: c.channel_class().map(|c| c.as_str().to_string()).unwrap_or_default(),
            }))
        }
        Err(e) => match err("MediaLive DescribeChannel", e) {
            CloudError::Service { code, .. } if code == "NotFoundException" => Ok(None),
            other => Err(other),
        },
    }
}

pub(super) async fn start_channel(medialive: &aws_sdk_medialive::Client, id: &str) -> CloudResult<()> {
    medialive.start_channel().channel_id(id).send().await.map_err(|e| err("MediaLive StartChannel", e))?;
    Ok(())
}

pub(super) async fn stop_channel(medialive: &aws_sdk_medialive::Client, id: &str) -> CloudResult<()> {
    medialive.stop_channel().channel_id(id).send().await.map_err(|e| err("MediaLive StopChannel", e))?;
    Ok(())
}

pub(super) async fn describe_flow(
    mediaconnect: &aws_sdk_mediaconnect::Client,
    arn: &str,
) -> CloudResult<Option<FlowState>> {
    match mediaconnect.describe_flow().flow_arn(arn).send().await {
        Ok(out) => Ok(out.flow().map(|f| {
            let source = f.source();
            FlowState {
                arn: f.flow_arn().unwrap_or(arn).to_string(),
                name: f.name().unwrap_or_default().to_string(),
                status: f.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                ingest_ip: source.and_then(|s| s.ingest_ip()).unwrap_or_default().to_string(),
                ingest_port: source.and_then(|s| s.ingest_port()),
            }
        })),
        Err(e) => match err("MediaConnect DescribeFlow", e) {
            CloudError::Service { code, .. } if code == "NotFoundException" => Ok(None),
            other => Err(other),
        },
    }
}

pub(super) async fn start_flow(mediaconnect: &aws_sdk_mediaconnect::Client, arn: &str) -> CloudResult<()> {
    mediaconnect.start_flow().flow_arn(arn).send().await.map_err(|e| err("MediaConnect StartFlow", e))?;
    Ok(())
}

pub(super) async fn stop_flow(mediaconnect: &aws_sdk_mediaconnect::Client, arn: &str) -> CloudResult<()> {
    mediaconnect.stop_flow().flow_arn(arn).send().await.map_err(|e| err("MediaConnect StopFlow", e))?;
    Ok(())
}
