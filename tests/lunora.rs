//! Lunora's API on the emulator doing seed 002's job: destinations added, started, changed,
//! stopped and removed through the Function URL, each a MediaLive channel fed from the flow, with
//! what MediaLive, MediaConnect, Parameter Store and DynamoDB report checked after every step.
//!
//! The requests are Function URL requests (payload format 2.0,
//! https://docs.aws.amazon.com/lambda/latest/dg/urls-invocation.html#urls-payloads): the emulator
//! turns each HTTP request into that event, as Lambda does.

mod common;

use common::{Emulator, ok, project_copy, wait_for};
use serde_json::{Value, json};

#[test]
fn the_api_adds_starts_changes_stops_and_removes_destinations_as_medialive_channels_keeping_keys_secret() {
    let emu = Emulator::start();
    let dir = project_copy();
    let root = dir.path();
    ok(&emu.castform(&["bootstrap", "local"], root));
    ok(&emu.castform(&["deploy", "local"], root));
    let outputs: Value = serde_json::from_str(&ok(&emu.castform(&["outputs", "local", "--json"], root))).unwrap();
    let url = outputs["api"]["ApiUrl"].as_str().unwrap().to_string();
    let flow_arn = outputs["media"]["IngestArn"].as_str().unwrap().to_string();
    let table = outputs["data"]["DynamicDestinationsName"].as_str().unwrap().to_string();
    let call = |method: &str, path: &str, body: Option<Value>| -> (u16, Value) {
        let text = body.map(|b| b.to_string());
        let (status, out) = emu.call_url(method, &url, path, text.as_deref());
        (status, serde_json::from_str(&out).unwrap_or_else(|_| panic!("{method} {path}: {status} {out}")))
    };
    let aws = |args: &[&str]| emu.aws("us-west-2", args).unwrap();
    let channel = |id: &str| aws(&["medialive", "describe-channel", "--channel-id", id]);
    let channels_now = || aws(&["medialive", "list-channels"])["Channels"].as_array().unwrap().len();

    // the flow as MediaConnect reports it
    let (status, flow) = call("GET", "/api/mediaconnect/flow/status", None);
    assert_eq!(status, 200, "{flow}");
    assert_eq!(flow["flowArn"], flow_arn.as_str());
    assert_eq!(flow["status"], "STANDBY");
    assert_eq!(flow["source"]["ingestIp"], "127.0.0.1");

    // bad requests are refused with what to fix, and make nothing
    let before = channels_now();
    let (status, e) = call("POST", "/api/destinations", Some(json!({"name": "x", "platform": "myspace"})));
    assert_eq!(status, 400, "{e}");
    let error = e["error"].as_str().unwrap();
    assert!(error.contains("platform must be one of youtube, twitch, linkedin, custom"), "{error}");
    assert!(error.contains("streamKey is required"), "{error}");
    let (status, e) = call(
        "POST",
        "/api/destinations",
        Some(json!({"name": "x", "platform": "custom", "streamKey": "k", "rtmpUrl": "http://example/x"})),
    );
    assert_eq!(status, 400, "{e}");
    assert!(e["error"].as_str().unwrap().contains("rtmpUrl must be rtmp://"), "{e}");
    assert_eq!(channels_now(), before, "a refused request makes no channel");

    // two destinations of different platforms, each its own channel
    let youtube_key = "yt-key-4f9c-2e71-secret";
    let (status, yt) = call(
        "POST",
        "/api/destinations",
        Some(
            json!({"name": "YouTube Main Event", "platform": "youtube", "streamKey": youtube_key, "preset": "1080p30"}),
        ),
    );
    assert_eq!(status, 201, "{yt}");
    assert!(!yt.to_string().contains(youtube_key), "the key is never returned: {yt}");
    assert!(yt.get("streamKeyParameter").is_none(), "{yt}");
    let yt_id = yt["destinationId"].as_str().unwrap().to_string();
    assert_eq!(yt["rtmpUrl"], "rtmp://a.rtmp.youtube.com/live2", "the platform's default ingest");
    let yt_channel = yt["mediaLiveChannelId"].as_str().unwrap().to_string();
    let described = channel(&yt_channel);
    assert_eq!(described["ChannelClass"], "SINGLE_PIPELINE");
    assert_eq!(described["Tags"]["castform:environment"], "local", "{described}");
    assert_eq!(described["Tags"]["castform:app"], "lunora");
    assert_eq!(described["Destinations"][0]["Settings"][0]["Url"], "rtmp://a.rtmp.youtube.com/live2");
    assert_eq!(described["Destinations"][0]["Settings"][0]["StreamName"], youtube_key, "MediaLive sends with the key");
    assert_eq!(described["EncoderSettings"]["VideoDescriptions"][0]["Height"], 1080);
    let input_id = described["InputAttachments"][0]["InputId"].as_str().unwrap().to_string();
    assert_eq!(yt["mediaLiveInputId"], input_id.as_str());
    let input = aws(&["medialive", "describe-input", "--input-id", &input_id]);
    assert_eq!(input["Type"], "MEDIACONNECT");
    assert_eq!(input["MediaConnectFlows"][0]["FlowArn"], flow_arn.as_str(), "fed from the environment's flow");
    // the key is a SecureString parameter, and in no table item
    let parameter = format!("/lunora-player-local/stream-keys/{yt_id}");
    let p = aws(&["ssm", "get-parameter", "--name", &parameter, "--with-decryption"]);
    assert_eq!(p["Parameter"]["Type"], "SecureString");
    assert_eq!(p["Parameter"]["Value"], youtube_key);

    let twitch_key = "live_77120_twitch-secret";
    let (status, tw) = call(
        "POST",
        "/api/destinations",
        Some(json!({"name": "Twitch", "platform": "twitch", "streamKey": twitch_key})),
    );
    assert_eq!(status, 201, "{tw}");
    let tw_id = tw["destinationId"].as_str().unwrap().to_string();
    let tw_channel = tw["mediaLiveChannelId"].as_str().unwrap().to_string();
    assert_ne!(tw_channel, yt_channel);
    assert_eq!(tw["preset"], "720p30", "the default preset");
    let items = aws(&["dynamodb", "scan", "--table-name", &table]);
    assert_eq!(items["Count"], 2, "{items}");
    let raw = items.to_string();
    assert!(!raw.contains(youtube_key) && !raw.contains(twitch_key), "no key in the table: {raw}");
    let (status, listed) = call("GET", "/api/destinations", None);
    assert_eq!(status, 200);
    assert_eq!(listed["count"], 2);
    assert!(listed["destinations"].as_array().unwrap().iter().all(|d| d["status"] == "idle"), "{listed}");
    assert!(!listed.to_string().contains(youtube_key) && !listed.to_string().contains(twitch_key));

    // start one: the flow comes on, that channel runs, the other stays idle
    let (status, started) = call("POST", &format!("/api/destinations/{yt_id}/start"), None);
    assert_eq!(status, 202, "{started}");
    assert_eq!(started["flowStarted"], true);
    wait_for("the flow to be active", || {
        aws(&["mediaconnect", "describe-flow", "--flow-arn", &flow_arn])["Flow"]["Status"] == "ACTIVE"
    });
    wait_for("the channel to run", || channel(&yt_channel)["State"] == "RUNNING");
    assert_eq!(call("GET", &format!("/api/destinations/{yt_id}"), None).1["status"], "running");
    assert_eq!(channel(&tw_channel)["State"], "IDLE", "granular control: the other destination is untouched");
    // a running destination is neither changed nor deleted: it is stopped first, by its own request
    let (status, e) = call("PUT", &format!("/api/destinations/{yt_id}"), Some(json!({"preset": "720p30"})));
    assert_eq!(status, 409, "{e}");
    assert!(e["error"].as_str().unwrap().contains("stop it before changing"), "{e}");
    let (status, e) = call("DELETE", &format!("/api/destinations/{yt_id}"), None);
    assert_eq!(status, 409, "{e}");
    assert_eq!(channel(&yt_channel)["State"], "RUNNING", "still on air");

    // an idle destination's settings change, its new key too
    let new_key = "live_77120_rotated";
    let (status, changed) =
        call("PUT", &format!("/api/destinations/{tw_id}"), Some(json!({"preset": "1080p60", "streamKey": new_key})));
    assert_eq!(status, 200, "{changed}");
    assert!(!changed.to_string().contains(new_key));
    let described = channel(&tw_channel);
    assert_eq!(
        described["EncoderSettings"]["VideoDescriptions"][0]["CodecSettings"]["H264Settings"]["FramerateNumerator"],
        60
    );
    assert_eq!(described["Destinations"][0]["Settings"][0]["StreamName"], new_key);
    let p = aws(&[
        "ssm",
        "get-parameter",
        "--name",
        &format!("/lunora-player-local/stream-keys/{tw_id}"),
        "--with-decryption",
    ]);
    assert_eq!(p["Parameter"]["Value"], new_key);

    // stop, then remove: the channel, its input, its key and its row all go; the flow stays on
    let (status, stopped) = call("POST", &format!("/api/destinations/{yt_id}/stop"), None);
    assert_eq!(status, 202, "{stopped}");
    wait_for("the channel to stop", || channel(&yt_channel)["State"] == "IDLE");
    assert_eq!(aws(&["mediaconnect", "describe-flow", "--flow-arn", &flow_arn])["Flow"]["Status"], "ACTIVE");
    let (status, removed) = call("DELETE", &format!("/api/destinations/{yt_id}"), None);
    assert_eq!(status, 200, "{removed}");
    assert_eq!(channel(&yt_channel)["State"], "DELETED");
    let input = emu.aws("us-west-2", &["medialive", "describe-input", "--input-id", &input_id]);
    assert!(input.as_ref().map_or(true, |i| i["State"] == "DELETED"), "the input is gone: {input:?}");
    let gone = emu.aws("us-west-2", &["ssm", "get-parameter", "--name", &parameter]).unwrap_err();
    assert!(gone.contains("ParameterNotFound"), "{gone}");
    let (_, listed) = call("GET", "/api/destinations", None);
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["destinations"][0]["destinationId"], tw_id.as_str());
    let (status, e) = call("GET", &format!("/api/destinations/{yt_id}"), None);
    assert_eq!(status, 404, "{e}");

    // the rest goes, the flow is stopped by whoever started it, and destroy leaves nothing
    assert_eq!(call("DELETE", &format!("/api/destinations/{tw_id}"), None).0, 200);
    aws(&["mediaconnect", "stop-flow", "--flow-arn", &flow_arn]);
    wait_for("the flow to stop", || {
        aws(&["mediaconnect", "describe-flow", "--flow-arn", &flow_arn])["Flow"]["Status"] == "STANDBY"
    });
    ok(&emu.castform(&["destroy", "local", "--yes"], root));
    let left = aws(&["medialive", "list-channels"]);
    assert!(left["Channels"].as_array().unwrap().iter().all(|c| c["State"] == "DELETED"), "{left}");
}
