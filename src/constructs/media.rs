//! The media pipeline: an SRT ingest through a MediaConnect flow, and a MediaLive HLS channel
//! into MediaPackage.

use super::ConstructError;
use super::iam::{Role, Statement};
use crate::cfn::medialive::channel as ch;
use crate::cfn::{mediaconnect, medialive, mediapackage, secretsmanager};
use crate::template::{Accepted, Attributes, Expr, Handle, OutputRole, Stack};

/// Settings of an [`SrtFlow`].
#[derive(Debug, Clone, PartialEq)]
pub struct SrtFlowProps {
    /// The listener port; the seeds use 9998. Changing it updates the flow in place.
    pub port: u32,
    /// The only address range the listener accepts (rule L16 forbids `0.0.0.0/0` where data
    /// is retained).
    pub whitelist_cidr: String,
    /// SRT latency in milliseconds; default 2000.
    pub min_latency_ms: u32,
    /// The source's name (create-only in the flow's schema: a change replaces the flow).
    pub source_name: String,
}

/// A MediaConnect flow with an encrypted SRT listener source. The passphrase is generated into
/// Secrets Manager and read by MediaConnect through a role: `srt-password`, no `Algorithm`.
#[derive(Debug, Clone, PartialEq)]
pub struct SrtFlow {
    pub handle: Handle,
    pub secret: Handle,
}

impl SrtFlow {
    pub fn new(stack: &mut Stack, id: &str, props: SrtFlowProps) -> Result<Self, ConstructError> {
        let what = format!("SRT flow `{id}`");
        if !(1024..=65535).contains(&props.port) {
            return Err(ConstructError::invalid(
                &what,
                &format!("listens on port {}, expected 1024..=65535", props.port),
                "use the encoder's SRT port, e.g. 9998",
            ));
        }
        if stack.retain_data && props.whitelist_cidr == "0.0.0.0/0" {
            return Err(ConstructError::invalid(
                &what,
                "accepts SRT from 0.0.0.0/0",
                "set media.ingest_cidr to the encoder's address (rule L16)",
            ));
        }
        let secret = stack.template.add_with(
            &format!("{id}Passphrase"),
            &secretsmanager::Secret {
                description: Some("SRT passphrase of the ingest flow (castform; never in a template)".into()),
                generate_secret_string: Some(secretsmanager::secret::GenerateSecretString {
                    password_length: Some(32.into()),
                    exclude_punctuation: Some(true.into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            Attributes::stateful(stack.retain_data),
        )?;
        stack.template.accept(
            &secret.id,
            Accepted::Checkov("CKV_AWS_149"),
            "encrypted with Secrets Manager's AWS managed key aws/secretsmanager (https://docs.aws.amazon.com/secretsmanager/latest/userguide/security-encryption.html); only MediaConnect's role for this flow may read it, and a customer managed key would add a key policy MediaConnect must also be granted",
        )?;
        let role = Role::for_account_of(
            stack,
            &format!("{id}SecretRole"),
            "mediaconnect.amazonaws.com",
            vec![Statement::allow(
                &[
                    "secretsmanager:GetSecretValue",
                    "secretsmanager:DescribeSecret",
                    "secretsmanager:GetResourcePolicy",
                    "secretsmanager:ListSecretVersionIds",
                ],
                vec![secret.reference()],
            )],
        )?;
        let source = mediaconnect::flow::Source {
            name: Some(props.source_name.as_str().into()),
            description: Some("SRT listener for the encoder".into()),
            protocol: Some(mediaconnect::flow::Protocol::SrtListener.into()),
            ingest_port: Some(i64::from(props.port).into()),
            whitelist_cidr: Some(props.whitelist_cidr.as_str().into()),
            min_latency: Some(i64::from(props.min_latency_ms).into()),
            decryption: Some(mediaconnect::flow::Encryption {
                key_type: Some(mediaconnect::flow::KeyType::SrtPassword.into()),
                secret_arn: Some(secret.reference()),
                ..mediaconnect::flow::Encryption::new(role.arn())
            }),
            ..Default::default()
        };
        let handle = stack.template.add(id, &mediaconnect::Flow::new(stack.physical_name("srt-ingest"), source))?;
        stack.output(
            &format!("{id}Arn"),
            handle.get_att(mediaconnect::Flow::ATTR_FLOW_ARN),
            "ARN of the MediaConnect flow",
        )?;
        stack.output(
            &format!("{id}IngestIp"),
            handle.get_att(mediaconnect::Flow::ATTR_SOURCE_INGEST_IP),
            "address the encoder sends SRT to",
        )?;
        stack.output(&format!("{id}PassphraseArn"), secret.reference(), "Secrets Manager ARN of the SRT passphrase")?;
        Ok(Self { handle, secret })
    }

    pub fn arn(&self) -> Expr<String> {
        self.handle.get_att(mediaconnect::Flow::ATTR_FLOW_ARN)
    }
}

/// One rung of the H.264 ladder.
#[derive(Debug, Clone, PartialEq)]
pub struct Rung {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bitrate_kbps: u32,
}

/// Settings of an [`HlsChannel`].
#[derive(Debug, Clone, PartialEq)]
pub struct HlsChannelProps {
    pub ladder: Vec<Rung>,
    /// `SINGLE_PIPELINE` by default (half the price of `STANDARD`).
    pub single_pipeline: bool,
    /// HLS segment length in seconds; default 6.
    pub segment_seconds: u32,
    /// The input's maximum-bitrate tier in Mb/s (10, 20 or 50): MediaLive bills inputs by the
    /// declared tier, so the smallest that holds the contribution; default 10.
    pub input_max_mbps: u32,
}

/// The log group MediaLive writes every channel's logs to, account-wide: castform grants it
/// but does not create it, as all channels of the account (and other environments) share it.
/// <https://docs.aws.amazon.com/medialive/latest/ug/working-with-logs.html>
const MEDIALIVE_LOG_GROUP_ARN: &str =
    "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:ElementalMediaLive";

/// MediaLive input from a MediaConnect flow, a MediaLive channel encoding an H.264 ladder with
/// AAC audio, into a MediaPackage channel with an HLS origin endpoint.
#[derive(Debug, Clone, PartialEq)]
pub struct HlsChannel {
    pub channel: Handle,
    pub endpoint: Handle,
    /// The role MediaLive channels run with; the API passes it when it creates
    /// per-destination channels on demand.
    pub medialive_role: Role,
}

impl HlsChannelProps {
    fn validate(&self, what: &str) -> Result<(), ConstructError> {
        if self.ladder.is_empty() {
            return Err(ConstructError::invalid(what, "has an empty ladder", "give at least one rendition"));
        }
        for r in &self.ladder {
            if r.width % 2 != 0 || r.height % 2 != 0 {
                return Err(ConstructError::invalid(
                    what,
                    &format!("rendition {} is {}x{}", r.name, r.width, r.height),
                    "H.264 needs even dimensions",
                ));
            }
        }
        Ok(())
    }
}

impl HlsChannel {
    pub fn new(stack: &mut Stack, id: &str, flow: &SrtFlow, props: HlsChannelProps) -> Result<Self, ConstructError> {
        props.validate(&format!("HLS channel `{id}`"))?;
        let (package, endpoint) = add_packaging(stack, id, props.segment_seconds)?;
        let medialive_role = add_medialive_role(stack, id, &package)?;
        let input = stack.template.add(
            &format!("{id}Input"),
            &medialive::Input {
                name: Some(stack.physical_name("flow-input").into()),
                type_: Some(medialive::input::InputType::Mediaconnect.into()),
                media_connect_flows: Some(vec![medialive::input::MediaConnectFlow { flow_arn: Some(flow.arn()) }]),
                role_arn: Some(medialive_role.arn()),
                ..Default::default()
            },
        )?;
        let channel = stack.template.add(
            &format!("{id}Channel"),
            &medialive::Channel {
                name: Some(stack.physical_name("hls-channel").into()),
                channel_class: Some(if props.single_pipeline { "SINGLE_PIPELINE" } else { "STANDARD" }.into()),
                role_arn: Some(medialive_role.arn()),
                input_specification: Some(ch::InputSpecification {
                    codec: Some("AVC".into()),
                    resolution: Some("HD".into()),
                    maximum_bitrate: Some(format!("MAX_{}_MBPS", props.input_max_mbps).into()),
                }),
                input_attachments: Some(vec![ch::InputAttachment {
                    input_id: Some(input.reference()),
                    input_attachment_name: Some("srt-flow".into()),
                    ..Default::default()
                }]),
                destinations: Some(vec![ch::OutputDestination {
                    id: Some("mediapackage".into()),
                    media_package_settings: Some(vec![ch::MediaPackageOutputDestinationSettings {
                        channel_id: Some(package.reference()),
                        ..Default::default()
                    }]),
                    ..Default::default()
                }]),
                encoder_settings: Some(encoder_settings(&props.ladder)),
                ..Default::default()
            },
        )?;
        stack.output(&format!("{id}ChannelId"), channel.reference(), "MediaLive channel id")?;
        stack.output(
            &format!("{id}ChannelArn"),
            channel.get_att(medialive::Channel::ATTR_ARN),
            "MediaLive channel ARN",
        )?;
        stack.output(&format!("{id}InputId"), input.reference(), "MediaLive input id")?;
        stack.output(&format!("{id}PackageChannelId"), package.reference(), "MediaPackage channel id")?;
        let playlist = stack.output(
            &format!("{id}HlsUrl"),
            endpoint.get_att(mediapackage::OriginEndpoint::ATTR_URL),
            "HLS playback URL at the origin",
        )?;
        stack.declare(&playlist, OutputRole::Playlist)?;
        stack.output(&format!("{id}MediaLiveRoleArn"), medialive_role.arn(), "role MediaLive channels run with")?;
        Ok(Self { channel, endpoint, medialive_role })
    }

    /// The HLS endpoint's URL.
    pub fn hls_url(&self) -> Expr<String> {
        self.endpoint.get_att(mediapackage::OriginEndpoint::ATTR_URL)
    }
}

/// The MediaPackage channel and its HLS origin endpoint.
fn add_packaging(stack: &mut Stack, id: &str, segment_seconds: u32) -> Result<(Handle, Handle), ConstructError> {
    let package = stack.template.add(
        &format!("{id}Package"),
        &mediapackage::Channel {
            description: Some("castform HLS packaging".into()),
            ..mediapackage::Channel::new(stack.physical_name("hls"))
        },
    )?;
    let endpoint = stack.template.add(
        &format!("{id}Endpoint"),
        &mediapackage::OriginEndpoint {
            description: Some("HLS for the player".into()),
            hls_package: Some(mediapackage::origin_endpoint::HlsPackage {
                segment_duration_seconds: Some(i64::from(segment_seconds).into()),
                playlist_window_seconds: Some(60.into()),
                ..Default::default()
            }),
            manifest_name: Some("index".into()),
            origination: Some(mediapackage::origin_endpoint::Origination::Allow.into()),
            ..mediapackage::OriginEndpoint::new(package.reference(), stack.physical_name("hls-endpoint"))
        },
    )?;
    Ok((package, endpoint))
}

/// The role MediaLive channels run with: the flow's output, the package channel, the stream keys
/// and MediaLive's own log group.
fn add_medialive_role(stack: &mut Stack, id: &str, package: &Handle) -> Result<Role, ConstructError> {
    Role::new(
        stack,
        &format!("{id}MediaLiveRole"),
        "medialive.amazonaws.com",
        vec![
            // MediaLive adds and removes its own output on the flow. These Managed* actions
            // are not in the Service Authorization Reference, so whether they take a flow ARN
            // is undocumented; AWS's trusted-entity table grants them on all resources, as
            // here (media review L6: a flow-ARN scope may fail the input's CREATE in prod).
            // https://docs.aws.amazon.com/medialive/latest/ug/trusted-entity-requirements.html
            Statement::any_resource(&[
                "mediaconnect:ManagedDescribeFlow",
                "mediaconnect:ManagedAddOutput",
                "mediaconnect:ManagedRemoveOutput",
            ]),
            Statement::allow(&["mediapackage:DescribeChannel"], vec![package.get_att(mediapackage::Channel::ATTR_ARN)]),
            Statement::allow(
                &["ssm:GetParameters", "ssm:GetParameter"],
                vec![Expr::sub(format!(
                    "arn:${{AWS::Partition}}:ssm:${{AWS::Region}}:${{AWS::AccountId}}:parameter/{}/stream-keys/*",
                    stack.prefix
                ))],
            ),
            // MediaLive writes channel logs (the as-run log always) to the log group
            // `ElementalMediaLive`, whatever the role allows (media review L4):
            // https://docs.aws.amazon.com/medialive/latest/ug/working-with-logs.html
            // The actions are those of the trusted-entity table (CloudWatch Logs row).
            Statement::allow(
                &[
                    "logs:CreateLogGroup",
                    "logs:CreateLogStream",
                    "logs:PutLogEvents",
                    "logs:PutRetentionPolicy",
                    "logs:PutMetricFilter",
                    "logs:DescribeLogStreams",
                ],
                vec![Expr::sub(MEDIALIVE_LOG_GROUP_ARN), Expr::sub(format!("{MEDIALIVE_LOG_GROUP_ARN}:*"))],
            ),
            Statement::any_resource(&["logs:DescribeLogGroups"]),
        ],
    )
}

/// AAC audio and an H.264 rendition per rung, each an output to MediaPackage, on the system clock.
fn encoder_settings(ladder: &[Rung]) -> ch::EncoderSettings {
    let audio = ch::AudioDescription {
        name: Some("audio_aac".into()),
        audio_selector_name: Some("default".into()),
        codec_settings: Some(ch::AudioCodecSettings {
            aac_settings: Some(ch::AacSettings {
                bitrate: Some(128_000.0.into()),
                coding_mode: Some("CODING_MODE_2_0".into()),
                sample_rate: Some(48_000.0.into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    let videos: Vec<ch::VideoDescription> = ladder.iter().map(h264).collect();
    let outputs: Vec<ch::Output> = ladder
        .iter()
        .map(|r| ch::Output {
            output_name: Some(r.name.as_str().into()),
            video_description_name: Some(format!("video_{}", r.name).into()),
            audio_description_names: Some(vec!["audio_aac".into()]),
            output_settings: Some(ch::OutputSettings {
                media_package_output_settings: Some(serde_json::json!({})),
                ..Default::default()
            }),
            ..Default::default()
        })
        .collect();
    ch::EncoderSettings {
        audio_descriptions: Some(vec![audio]),
        video_descriptions: Some(videos),
        output_groups: Some(vec![ch::OutputGroup {
            name: Some("mediapackage".into()),
            output_group_settings: Some(ch::OutputGroupSettings {
                media_package_group_settings: Some(ch::MediaPackageGroupSettings {
                    destination: Some(ch::OutputLocationRef { destination_ref_id: Some("mediapackage".into()) }),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            outputs: Some(outputs),
        }]),
        // an SRT contribution carries no timecode; the system clock (UTC) gives MediaPackage a
        // correct program date-time (media review L14; sources EMBEDDED, SYSTEMCLOCK,
        // ZEROBASED: https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-properties-medialive-channel-timecodeconfig.html)
        timecode_config: Some(ch::TimecodeConfig { source: Some("SYSTEMCLOCK".into()), ..Default::default() }),
        ..Default::default()
    }
}

/// A rung of the ladder as H.264 at 30 fps, CBR, a keyframe every 2 s.
fn h264(r: &Rung) -> ch::VideoDescription {
    ch::VideoDescription {
        name: Some(format!("video_{}", r.name).into()),
        width: Some(i64::from(r.width).into()),
        height: Some(i64::from(r.height).into()),
        codec_settings: Some(ch::VideoCodecSettings {
            h264_settings: Some(ch::H264Settings {
                bitrate: Some(i64::from(r.bitrate_kbps * 1000).into()),
                rate_control_mode: Some("CBR".into()),
                framerate_control: Some("SPECIFIED".into()),
                framerate_numerator: Some(30.into()),
                framerate_denominator: Some(1.into()),
                gop_size: Some(2.0.into()),
                gop_size_units: Some("SECONDS".into()),
                profile: Some("HIGH".into()),
                level: Some("H264_LEVEL_AUTO".into()),
                scan_type: Some("PROGRESSIVE".into()),
                par_control: Some("SPECIFIED".into()),
                par_numerator: Some(1.into()),
                par_denominator: Some(1.into()),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}
