//! The podcast CDN (seed 004): the edge stack in us-east-1 and the rest in the environment's
//! region, wired by the engine's output → parameter resolution across regions. On the emulator
//! every resource is real, the CloudFront ones included (distribution, origin access control,
//! response headers policy, CloudFront Function, KeyValueStore), and described by CloudFront's API.

mod common;

use castform::aws::{AwsCloud, Cloud};
use common::{Emulator, project_copy, repo};
use serde_json::{Value, json};
use std::io::Read;
use std::sync::Mutex;

/// local's stacks in dependency order: the edge function's log group is copied to one region
/// besides us-east-1 there (`podcast.edge_log_regions`); dev and prod copy it to all twelve.
const STACKS: [&str; 7] = ["data", "edge", "edge-logs-eu-west-1", "cdn", "processing", "schedules", "alarms"];

/// The region a podcast stack of local is in.
fn region_of(name: &str) -> &str {
    match name {
        "edge" | "alarms" => "us-east-1",
        n => n.strip_prefix("edge-logs-").unwrap_or("us-west-2"),
    }
}

fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    stdout
}

fn castform(args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_castform"))
        .args(args)
        .arg("--root")
        .arg(repo())
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[test]
fn synth_puts_the_edge_stack_in_us_east_1_and_passes_its_version_to_the_cdn_stack() {
    let out = tempfile::tempdir().unwrap();
    ok(&castform(&["synth", "--app", "podcast", "--all", "--out", out.path().to_str().unwrap()]));
    for env in ["local", "dev", "prod"] {
        let dir = out.path().join("podcast").join(env);
        let manifest: Value = serde_json::from_slice(&std::fs::read(dir.join("manifest.json")).unwrap()).unwrap();
        let stacks = manifest["stacks"].as_array().unwrap();
        let names: Vec<&str> = stacks.iter().map(|s| s["name"].as_str().unwrap()).collect();
        let regional: Vec<String> = match env {
            "local" => vec!["edge-logs-eu-west-1".into()],
            _ => castform::apps::podcast::EDGE_LOG_REGIONS.iter().map(|r| format!("edge-logs-{r}")).collect(),
        };
        let mut expected: Vec<String> = vec!["data".into(), "edge".into()];
        expected.extend(regional.iter().cloned());
        expected.extend(["cdn", "processing", "schedules", "alarms"].map(String::from));
        assert_eq!(names, expected, "{env}: deployed in dependency order");
        for s in stacks {
            assert_eq!(s["region"], region_of(s["name"].as_str().unwrap()), "{env}/{}", s["name"]);
        }
        // the distribution runs the edge function only after every region's log group exists
        let deps = &stacks.iter().find(|s| s["name"] == "cdn").unwrap()["depends_on"];
        for r in &regional {
            assert!(deps.as_array().unwrap().iter().any(|d| d == r.as_str()), "{env}: cdn after {r}: {deps}");
        }
        let cdn = stacks.iter().find(|s| s["name"] == "cdn").unwrap();
        assert_eq!(
            cdn["parameters"]["EdgeSubscriberCheckVersionArn"],
            serde_json::json!({"from": "output", "stack": "edge", "output": "SubscriberCheckVersionArn"})
        );
        let template = |name: &str| -> Value {
            serde_json::from_slice(&std::fs::read(dir.join(format!("{name}.template.json"))).unwrap()).unwrap()
        };
        let cdn_t = template("cdn");
        let behavior = &cdn_t["Resources"]["MediaDistribution"]["Properties"]["DistributionConfig"];
        assert_eq!(
            behavior["DefaultCacheBehavior"]["LambdaFunctionAssociations"][0],
            serde_json::json!({"EventType": "viewer-request", "LambdaFunctionARN": {"Ref": "EdgeSubscriberCheckVersionArn"}})
        );
        // the KeyValueStore reaches the distribution through a CloudFront Function (L11)
        assert_eq!(behavior["CacheBehaviors"][0]["PathPattern"], "/feeds/*");
        assert_eq!(
            behavior["CacheBehaviors"][0]["FunctionAssociations"][0]["FunctionARN"],
            serde_json::json!({"Fn::GetAtt": ["FeedAccess", "FunctionARN"]})
        );
        assert_eq!(cdn_t["Resources"]["FeedAccess"]["Properties"]["FunctionConfig"]["Runtime"], "cloudfront-js-2.0");
        let edge_t = template("edge");
        let f = &edge_t["Resources"]["SubscriberCheck"]["Properties"];
        assert_eq!((f["MemorySize"].as_i64(), f["Timeout"].as_i64()), (Some(128), Some(5)), "viewer limits (L04)");
        assert!(f.get("Environment").is_none(), "no environment variables at the edge (L03)");
        // P2: a log group CloudFormation names, which the replicas use in every region; P4: the
        // function outlives its stack (CloudFront keeps replicas for hours), under a generated name
        assert!(f.get("FunctionName").is_none(), "{env}: a generated name");
        assert_eq!(edge_t["Resources"]["SubscriberCheck"]["DeletionPolicy"], "Retain");
        assert_eq!(f["LoggingConfig"]["LogGroup"], json!({"Ref": "SubscriberCheckLogs"}));
        assert!(edge_t["Resources"]["SubscriberCheckLogs"]["Properties"].get("LogGroupName").is_none());
        let copy = template(&regional[0]);
        let group = &copy["Resources"]["SubscriberCheckLogs"];
        assert_eq!(group["Properties"]["LogGroupName"], json!({"Ref": "EdgeSubscriberCheckLogGroupName"}));
        assert_eq!(group["Properties"]["RetentionInDays"], 30);
        let alarms = template("alarms");
        let rate = &alarms["Resources"]["Media4xxRate"]["Properties"];
        assert_eq!(rate["Namespace"], "AWS/CloudFront");
        assert_eq!(rate["Dimensions"][1], json!({"Name": "Region", "Value": "Global"}));
        let trust = &edge_t["Resources"]["SubscriberCheckRole"]["Properties"]["AssumeRolePolicyDocument"];
        assert_eq!(
            trust["Statement"][0]["Principal"]["Service"],
            serde_json::json!(["lambda.amazonaws.com", "edgelambda.amazonaws.com"])
        );
        let data_t = template("data");
        let table = &data_t["Resources"]["Subscribers"]["Properties"];
        assert_eq!(table["StreamSpecification"]["StreamViewType"], "NEW_AND_OLD_IMAGES");
        assert_eq!(table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
        assert_eq!(table["GlobalSecondaryIndexes"][0]["IndexName"], "ExpiryIndex");
        let processing = template("processing");
        let esm = &processing["Resources"]["StreamProcessorStream"]["Properties"];
        assert_eq!(
            (
                esm["StartingPosition"].as_str(),
                esm["BatchSize"].as_i64(),
                esm["MaximumBatchingWindowInSeconds"].as_i64(),
                esm["MaximumRetryAttempts"].as_i64()
            ),
            (Some("LATEST"), Some(10), Some(5), Some(3))
        );
        assert_eq!(
            esm["DestinationConfig"]["OnFailure"]["Destination"],
            serde_json::json!({"Fn::GetAtt": ["FailedEvents", "Arn"]})
        );
        for id in ["StreamProcessor", "SubscriberCleanup", "AutoTranscoding"] {
            assert_eq!(
                processing["Resources"][id]["Properties"]["MemorySize"], 256,
                "{id}: the SDK v3 needs 256 MB (L12)"
            );
        }
        let schedules = template("schedules");
        let role =
            &schedules["Resources"]["MaintenanceRole"]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"][0];
        assert_eq!(role["Action"], serde_json::json!(["lambda:InvokeFunction"]));
        assert_eq!(
            role["Resource"],
            serde_json::json!([{"Ref": "ProcessingSubscriberCleanupAliasArn"}, {"Ref": "ProcessingAutoTranscodingAliasArn"}]),
            "exactly the two functions the schedules invoke (L09)"
        );
        assert_eq!(schedules["Resources"]["CleanupSchedule"]["Properties"]["FlexibleTimeWindow"]["Mode"], "FLEXIBLE");
        // a literal region appears nowhere but in the edge code's rendered config (L07)
        for name in &names {
            // the description names the stack, which for a log group copy names its region
            let mut t = template(name);
            t.as_object_mut().unwrap().remove("Description");
            let text = t.to_string();
            assert!(!text.contains("us-west-2") && !text.contains("us-east-1"), "{env}/{name} holds a literal region");
        }
    }
    let out = castform(&["check", "--app", "podcast", "--all"]);
    let text = ok(&out);
    assert!(text.contains("0 errors, 0 warnings"), "{text}");
}

#[test]
fn the_edge_code_carries_each_environments_table_and_region() {
    let code_of = |env: &str| {
        let e = castform::config::load(&repo(), castform::apps::seeds(), "podcast", env).unwrap();
        let app = e.define().unwrap();
        let edge = app.stack("edge").unwrap();
        assert_eq!(edge.assets.len(), 1);
        let (bytes, asset) = castform::template::zip_asset(&repo(), &edge.assets[0]).unwrap();
        assert_eq!(asset, edge.assets[0], "the deploy rebuilds the same zip");
        let mut zip = zip::ZipArchive::new(std::io::Cursor::new(bytes)).unwrap();
        let mut config = String::new();
        zip.by_name("config.mjs").unwrap().read_to_string(&mut config).unwrap();
        (asset.sha256, config)
    };
    let (dev_sha, dev) = code_of("dev");
    let (prod_sha, prod) = code_of("prod");
    assert!(
        dev.contains("tableName: \"podcast-dev-subscribers\"") && dev.contains("tableRegion: \"us-west-2\""),
        "{dev}"
    );
    assert!(prod.contains("tableName: \"podcast-prod-subscribers\""), "{prod}");
    assert_ne!(dev_sha, prod_sha, "each environment's edge code is its own asset, hence its own version");
}

#[test]
fn podcast_deploys_across_two_regions_of_the_emulator_and_destroy_leaves_no_bucket() {
    let emu = Emulator::start();
    let dir = project_copy();
    let run = |args: &[&str]| {
        let mut a = args.to_vec();
        a.extend(["--app", "podcast"]);
        emu.castform(&a, dir.path())
    };
    let boot = ok(&run(&["bootstrap", "local"]));
    assert!(
        boot.contains("castform-000000000000-us-west-2") && boot.contains("castform-000000000000-us-east-1"),
        "{boot}"
    );
    let out = run(&["deploy", "local"]);
    let stdout = ok(&out);
    assert!(stdout.contains("(7 of 7 stacks changed)"), "{stdout}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let west = rt.block_on(AwsCloud::with_static_credentials("us-west-2", &emu.endpoint(), "test", "test"));
    let east = west.for_region("us-east-1");
    // each stack in its region, and only there
    let mut real = 0;
    for name in STACKS {
        let stack = format!("podcast-local-{name}");
        let home = west.for_region(region_of(name));
        let other = if region_of(name) == "us-west-2" { &east } else { &west };
        let info = rt.block_on(home.describe_stack(&stack)).unwrap().unwrap_or_else(|| panic!("{stack} is deployed"));
        assert_eq!(info.status, "CREATE_COMPLETE");
        assert!(rt.block_on(other.describe_stack(&stack)).unwrap().is_none(), "{stack} is not in {}", other.region());
        let resources = rt.block_on(home.list_stack_resources(&stack)).unwrap();
        real += common::assert_all_real(&resources, &stack);
    }
    println!("podcast local: {real} resources, 0 without a real physical id");
    // CloudFront itself describes them: the function published (LIVE) with the store associated,
    // the store READY, the distribution Deployed with the function on /feeds/*
    let outputs: Value = serde_json::from_str(&ok(&run(&["outputs", "local", "--json"]))).unwrap();
    let f = emu
        .aws(
            "us-east-1",
            &["cloudfront", "describe-function", "--name", "podcast-local-feed-access", "--stage", "LIVE"],
        )
        .unwrap();
    let store_arn = outputs["cdn"]["SubscriberStoreArn"].as_str().unwrap();
    assert_eq!(
        f["FunctionSummary"]["FunctionConfig"]["KeyValueStoreAssociations"]["Items"][0]["KeyValueStoreARN"],
        store_arn
    );
    assert_eq!(f["FunctionSummary"]["Status"], "DEPLOYED", "associated with the distribution");
    let kvs = emu
        .aws("us-east-1", &["cloudfront", "describe-key-value-store", "--name", "podcast-local-subscribers"])
        .unwrap();
    assert_eq!(kvs["KeyValueStore"]["Status"], "READY");
    let dist_id = outputs["cdn"]["MediaDistributionId"].as_str().unwrap();
    let d = emu.aws("us-east-1", &["cloudfront", "get-distribution", "--id", dist_id]).unwrap();
    assert_eq!(d["Distribution"]["Status"], "Deployed");
    let behavior = &d["Distribution"]["DistributionConfig"]["CacheBehaviors"]["Items"][0];
    assert_eq!(behavior["PathPattern"], "/feeds/*");
    assert_eq!(
        behavior["FunctionAssociations"]["Items"][0]["FunctionARN"],
        f["FunctionSummary"]["FunctionMetadata"]["FunctionARN"]
    );
    // the edge version crossed regions as a parameter of the cdn stack
    let edge = rt.block_on(east.describe_stack("podcast-local-edge")).unwrap().unwrap();
    let cdn = rt.block_on(west.describe_stack("podcast-local-cdn")).unwrap().unwrap();
    let version = &edge.outputs["SubscriberCheckVersionArn"];
    assert!(version.contains(":us-east-1:") && version.ends_with(":1"), "a numbered version in us-east-1: {version}");
    assert_eq!(&cdn.parameters["EdgeSubscriberCheckVersionArn"], version);
    // the edge function: in us-east-1, viewer limits, no variables, the table baked into its code
    let edge_fn = edge.outputs["SubscriberCheckName"].clone();
    let f = rt.block_on(east.get_function(&edge_fn)).unwrap();
    assert_eq!((f.configuration["MemorySize"].as_i64(), f.configuration["Timeout"].as_i64()), (Some(128), Some(5)));
    assert!(f.configuration["Environment"]["Variables"].as_object().is_none_or(|v| v.is_empty()));
    assert!(rt.block_on(west.get_function(&edge_fn)).is_err(), "not in us-west-2");
    // its log group, named by CloudFormation, holds its logs in us-east-1 and exists with the
    // same name and retention in the other region its replicas would log in (P2, P3)
    let group = edge.outputs["SubscriberCheckLogGroupName"].clone();
    assert_eq!(f.configuration["LoggingConfig"]["LogGroup"], group.as_str());
    for region in ["us-east-1", "eu-west-1"] {
        let groups = emu.aws(region, &["logs", "describe-log-groups", "--log-group-name-prefix", &group]).unwrap();
        assert_eq!(groups["logGroups"][0]["logGroupName"], group.as_str(), "{region}: {groups}");
        assert_eq!(groups["logGroups"][0]["retentionInDays"], 30, "{region}");
    }
    // the error-rate alarms watch the distribution where CloudFront publishes its metrics
    let alarms = emu
        .aws("us-east-1", &["cloudwatch", "describe-alarms", "--alarm-name-prefix", "podcast-local-alarms"])
        .unwrap();
    let watched: Vec<&str> =
        alarms["MetricAlarms"].as_array().unwrap().iter().map(|a| a["MetricName"].as_str().unwrap()).collect();
    assert_eq!(watched, ["4xxErrorRate", "5xxErrorRate"], "{alarms}");
    assert_eq!(alarms["MetricAlarms"][0]["Dimensions"][0]["Value"], dist_id);
    // it runs exactly the zip castform built with local's rendered config (Lambda's CodeSha256 is
    // the base64 of the zip's sha256)
    let e = castform::config::load(dir.path(), castform::apps::seeds(), "podcast", "local").unwrap();
    let app = e.define().unwrap();
    let asset = &app.stack("edge").unwrap().assets[0];
    let sha: Vec<u8> =
        (0..asset.sha256.len()).step_by(2).map(|i| u8::from_str_radix(&asset.sha256[i..i + 2], 16).unwrap()).collect();
    assert_eq!(f.code_sha256, aws_smithy_types::base64::encode(&sha));
    assert!(
        asset
            .generated
            .iter()
            .any(|(n, b)| n == "config.mjs" && String::from_utf8_lossy(b).contains("podcast-local-subscribers"))
    );
    // the processing functions in the environment's region, 256 MB, region from AWS_REGION
    let p = rt.block_on(west.get_function("podcast-local-stream-processor")).unwrap();
    assert_eq!(p.configuration["MemorySize"], 256);
    assert!(p.configuration["Environment"]["Variables"].get("AWS_REGION").is_none());
    // the functions do their job on the emulator, calling DynamoDB through the SDK v3 the host
    // provides as Lambda's runtime does (issue 14)
    let table = outputs["data"]["SubscribersName"].as_str().unwrap().to_string();
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let subscriber = |id: &str, status: &str, expires: u64| {
        let item = format!(
            r#"{{"subscriberId": {{"S": "{id}"}}, "status": {{"S": "{status}"}}, "expiresAt": {{"N": "{expires}"}}}}"#
        );
        emu.aws("us-west-2", &["dynamodb", "put-item", "--table-name", &table, "--item", &item]).unwrap();
    };
    subscriber("listener-1", "active", now + 86_400);
    subscriber("lapsed-1", "active", now - 60);
    let status_of = |id: &str| {
        let key = format!(r#"{{"subscriberId": {{"S": "{id}"}}}}"#);
        let got = emu.aws("us-west-2", &["dynamodb", "get-item", "--table-name", &table, "--key", &key]).unwrap();
        got["Item"]["status"]["S"].as_str().unwrap_or_default().to_string()
    };
    let invoke = |region: &str, function: &str, payload: &str| -> Value {
        emu.invoke(region, function, &serde_json::from_str(payload).unwrap())
    };
    // the stream processor, given DynamoDB's stream records
    // (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html), puts an active subscriber into
    // the KeyValueStore and takes an expired one out, through the SDK v3 signing with SigV4A
    let store = outputs["cdn"]["SubscriberStoreArn"].as_str().unwrap().to_string();
    let record = |name: &str, id: &str, status: &str, seq: &str| {
        json!({"eventID": seq, "eventName": name, "eventVersion": "1.1", "eventSource": "aws:dynamodb", "awsRegion": "us-west-2",
               "dynamodb": {"Keys": {"subscriberId": {"S": id}},
                            "NewImage": {"subscriberId": {"S": id}, "status": {"S": status}, "tier": {"S": "premium"}, "expiresAt": {"N": (now + 86_400).to_string()}},
                            "SequenceNumber": seq, "SizeBytes": 120, "StreamViewType": "NEW_AND_OLD_IMAGES"}})
    };
    let batch = json!({"Records": [record("INSERT", "listener-2", "active", "111"), record("MODIFY", "listener-3", "expired", "222")]});
    let synced = invoke("us-west-2", "podcast-local-stream-processor", &batch.to_string());
    assert_eq!(synced["batchItemFailures"], json!([]), "{synced}");
    // read back as a Lambda reads it: boto3 signing with SigV4A (tests/fixtures/kvs_client.py)
    let read_key = |key: &str| -> String {
        let out = std::process::Command::new(common::repo().join(".venv-emulator/bin/python"))
            .arg(common::repo().join("tests/fixtures/kvs_client.py"))
            .args([emu.port.to_string(), store.clone(), "get".into(), key.to_string()])
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_CONFIG_FILE", "/nonexistent")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout).trim().to_string();
        assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
        text
    };
    let value: Value = serde_json::from_str(&read_key("listener-2")).unwrap();
    assert_eq!((value["status"].as_str(), value["tier"].as_str()), (Some("active"), Some("premium")));
    assert_eq!(read_key("listener-3"), "missing", "an expired subscriber is not in the store");
    // and through the real path: an item written to the table reaches the store by way of the
    // table's stream and the event source mapping castform made
    let item = json!({"subscriberId": {"S": "listener-9"}, "status": {"S": "active"}, "tier": {"S": "basic"},
                      "expiresAt": {"N": (now + 86_400).to_string()}});
    emu.aws("us-west-2", &["dynamodb", "put-item", "--table-name", &table, "--item", &item.to_string()]).unwrap();
    common::wait_for("the stream to deliver listener-9", || read_key("listener-9") != "missing");
    let value: Value = serde_json::from_str(&read_key("listener-9")).unwrap();
    assert_eq!(value["tier"], "basic", "{value}");
    // the feed-access CloudFront Function reads that store on /feeds/* viewer requests through
    // the distribution: the subscriber gets the feed, no id is a 401 and a stranger a 403
    let media_bucket = outputs["cdn"]["MediaBucketName"].as_str().unwrap();
    rt.block_on(west.put_object(
        media_bucket,
        "feeds/main.xml",
        b"<rss>episodes</rss>".to_vec(),
        "application/rss+xml",
        false,
    ))
    .unwrap();
    let media_url = outputs["cdn"]["MediaUrl"].as_str().unwrap();
    let (status, head, body) = emu.fetch(&format!("{media_url}/feeds/main.xml?sid=listener-9"));
    assert_eq!((status, body.as_str()), (200, "<rss>episodes</rss>"), "{head}");
    let (status, head, _) = emu.fetch(&format!("{media_url}/feeds/main.xml"));
    assert_eq!(status, 401, "{head}");
    let (status, head, _) = emu.fetch(&format!("{media_url}/feeds/main.xml?sid=nobody"));
    assert_eq!(status, 403, "{head}");
    assert!(head.to_lowercase().contains("cache-control: no-store"), "{head}");
    // the cleanup finds the lapsed subscriber through ExpiryIndex and expires only it
    let done = invoke(
        "us-west-2",
        "podcast-local-subscriber-cleanup",
        r#"{"source": "castform-schedule", "task": "cleanup"}"#,
    );
    assert_eq!(done["expired"], 1, "{done}");
    assert_eq!((status_of("lapsed-1").as_str(), status_of("listener-1").as_str()), ("expired", "active"));
    // the edge check, given CloudFront's viewer-request event
    // (https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/lambda-event-structure.html):
    // the request goes on for a subscriber, a 403 answers a stranger and the lapsed one
    let viewer_request = |sid: &str| {
        json!({"Records": [{"cf": {
            "config": {"distributionDomainName": "d111111abcdef8.cloudfront.net", "distributionId": "EDFDVBD6EXAMPLE", "eventType": "viewer-request", "requestId": "4TyzHTaYWb1GX1qTfsHhEqV6HUDd_BzoBZnwfnvQc_1oF26ClkoUSEQ=="},
            "request": {"clientIp": "203.0.113.178", "method": "GET", "uri": "/episodes/1.mp3", "querystring": format!("sid={sid}"),
                        "headers": {"host": [{"key": "Host", "value": "d111111abcdef8.cloudfront.net"}]}}
        }}]})
        .to_string()
    };
    let pass = invoke("us-east-1", &edge_fn, &viewer_request("listener-1"));
    assert_eq!(pass["uri"], "/episodes/1.mp3", "the request itself goes on: {pass}");
    for stranger in ["nobody", "lapsed-1"] {
        let refused = invoke("us-east-1", &edge_fn, &viewer_request(stranger));
        assert_eq!(refused["status"], "403", "{stranger}: {refused}");
    }
    // the transcoder submits each upload without a rendition to MediaConvert, as the role castform
    // made for it; the emulator's job completes with the rendition where MediaConvert writes it
    // (destination + extension), and the next run submits nothing
    let media = outputs["cdn"]["MediaBucketName"].as_str().unwrap().to_string();
    rt.block_on(west.put_object(&media, "uploads/show-12.wav", b"RIFF.12.WAVE".to_vec(), "audio/wav", false)).unwrap();
    let submitted = invoke("us-west-2", "podcast-local-auto-transcoding", r#"{"source": "castform-schedule"}"#);
    assert_eq!(submitted["submitted"], 1, "{submitted}");
    let jobs = emu.aws("us-west-2", &["mediaconvert", "list-jobs"]).unwrap();
    let job = &jobs["Jobs"][0];
    assert_eq!(job["Role"], outputs["processing"]["MediaConvertRoleArn"], "{job}");
    assert_eq!(job["Settings"]["Inputs"][0]["FileInput"], format!("s3://{media}/uploads/show-12.wav"));
    assert_eq!(job["UserMetadata"]["upload"], "uploads/show-12.wav");
    let job_id = job["Id"].as_str().unwrap().to_string();
    let mut status = String::new();
    for _ in 0..5 {
        status = emu.aws("us-west-2", &["mediaconvert", "get-job", "--id", &job_id]).unwrap()["Job"]["Status"]
            .as_str()
            .unwrap()
            .to_string();
        if status == "COMPLETE" {
            break;
        }
    }
    assert_eq!(status, "COMPLETE");
    assert!(rt.block_on(west.get_object(&media, "episodes/show-12.m4a")).unwrap().is_some(), "the rendition is there");
    let again = invoke("us-west-2", "podcast-local-auto-transcoding", r#"{"source": "castform-schedule"}"#);
    assert_eq!(again["submitted"], 0, "an episode with a rendition is not submitted again: {again}");

    // unchanged: no change set at all
    let again = ok(&run(&["deploy", "local"]));
    assert!(again.contains("(0 of 7 stacks changed)"), "{again}");

    // destroy empties the media bucket first (seed 004's autoDeleteObjects) and leaves no bucket
    let outputs: Value = serde_json::from_str(&ok(&run(&["outputs", "local", "--json"]))).unwrap();
    let media = outputs["cdn"]["MediaBucketName"].as_str().unwrap().to_string();
    rt.block_on(west.put_object(&media, "uploads/episode-1.wav", b"RIFF....WAVE".to_vec(), "audio/wav", false))
        .unwrap();
    rt.block_on(west.put_object(&media, "uploads/episode-1.wav", b"RIFF..2.WAVE".to_vec(), "audio/wav", false))
        .unwrap();
    let out = run(&["destroy", "local", "--yes"]);
    let gone = ok(&out);
    assert!(gone.contains("destroyed podcast/local"), "{gone}");
    let said = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!rt.block_on(west.bucket_exists(&media)).unwrap(), "the media bucket is gone, versions and all");
    for name in STACKS {
        let cloud = west.for_region(region_of(name));
        assert!(
            rt.block_on(cloud.describe_stack(&format!("podcast-local-{name}"))).unwrap().is_none(),
            "{name} is gone"
        );
    }
    // the edge function stays (CloudFront frees its replicas hours later, P4), and destroy says
    // so with the command to delete it then; the log group copies went with their stacks
    assert!(rt.block_on(east.get_function(&edge_fn)).is_ok(), "the edge function is retained");
    assert!(said.contains(&format!("left in place: {edge_fn}")) && said.contains("delete-function"), "{said}");
    let groups = emu.aws("eu-west-1", &["logs", "describe-log-groups", "--log-group-name-prefix", &group]).unwrap();
    assert_eq!(groups["logGroups"].as_array().map_or(0, |g| g.len()), 0, "{groups}");
    // and the environment deploys again beside it: nothing it left blocks a new create
    let again = ok(&run(&["deploy", "local"]));
    assert!(again.contains("(7 of 7 stacks changed)"), "{again}");
    let edge = rt.block_on(east.describe_stack("podcast-local-edge")).unwrap().unwrap();
    assert_ne!(edge.outputs["SubscriberCheckName"], edge_fn, "a new function beside the retained one");
    ok(&run(&["destroy", "local", "--yes"]));
    // and nothing of it is left in CloudFront
    let left = emu.aws("us-east-1", &["cloudfront", "list-distributions"]).unwrap();
    assert_eq!(left["DistributionList"]["Items"].as_array().map_or(0, |a| a.len()), 0, "{left}");
    let left = emu.aws("us-east-1", &["cloudfront", "list-functions"]).unwrap();
    assert_eq!(left["FunctionList"]["Items"].as_array().map_or(0, |a| a.len()), 0, "{left}");
    let left = emu.aws("us-east-1", &["cloudfront", "list-key-value-stores"]).unwrap();
    assert_eq!(left["KeyValueStoreList"]["Items"].as_array().map_or(0, |a| a.len()), 0, "{left}");
    // prod keeps its data: refused before anything is touched
    let out = run(&["destroy", "prod", "--yes"]);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("retains data"));
}

/// The same two-region engine against `FakeCloud`, which models CloudFormation's failure
/// lifecycle: a missing us-east-1 state bucket is refused before any write, and a failure in
/// the last stack restores every stack, the edge stack in us-east-1 included, byte for byte.
#[test]
fn a_failed_podcast_deploy_is_restored_in_both_regions() {
    use castform::aws::fake::FakeCloud;
    use castform::ops::deploy::{DeployError, DeployOptions, Journal, deploy};
    use castform::state::clock::new_id;
    use castform::ui::progress::{Mode, Progress};
    let rt = || tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap();
    let dir = project_copy();
    let env = castform::config::load(dir.path(), castform::apps::seeds(), "podcast", "dev").unwrap();
    let v1 = env.define().unwrap();
    let cloud = FakeCloud::new("418295730164", "us-west-2");
    let run = |app: &castform::template::App| {
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        rt().block_on(deploy(&cloud, &env, app, &DeployOptions::default(), &Progress::new(Mode::Plain), &journal))
    };
    rt().block_on(cloud.create_state_bucket("castform-418295730164-us-west-2")).unwrap();
    match run(&v1) {
        Err(DeployError::Refused(m)) => {
            assert!(m.contains("castform-418295730164-us-east-1") && m.contains("castform bootstrap dev"), "{m}")
        }
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert!(cloud.stack_state("podcast-dev-data").is_none(), "nothing deployed");
    rt().block_on(cloud.for_region("us-east-1").create_state_bucket("castform-418295730164-us-east-1")).unwrap();
    let good = run(&v1).expect("v1 deploys");
    assert_eq!(cloud.stack_region("podcast-dev-edge").as_deref(), Some("us-east-1"));
    for name in ["data", "cdn", "processing", "schedules"] {
        assert_eq!(cloud.stack_region(&format!("podcast-dev-{name}")).as_deref(), Some("us-west-2"), "{name}");
    }
    let edge_asset = &v1.stack("edge").unwrap().assets[0];
    assert!(
        cloud.object("castform-418295730164-us-east-1", &edge_asset.key).is_some(),
        "edge code next to the function"
    );
    assert!(cloud.object("castform-418295730164-us-west-2", &edge_asset.key).is_none());
    assert_eq!(
        good.stacks["cdn"].parameters["EdgeSubscriberCheckVersionArn"],
        good.stacks["edge"].outputs["SubscriberCheckVersionArn"]
    );
    let before: Vec<_> = v1.stacks.iter().map(|s| cloud.stack_state(&s.stack_name).unwrap()).collect();
    // v2 changes every stack; the last one fails
    let mut env2 = env.clone();
    env2.tags.insert("Release".into(), "2".into());
    let v2 = env2.define().unwrap();
    cloud.faults.lock().unwrap().fail_stacks.insert("podcast-dev-schedules".into());
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let err = rt()
        .block_on(deploy(&cloud, &env2, &v2, &DeployOptions::default(), &Progress::new(Mode::Plain), &journal))
        .unwrap_err();
    assert!(matches!(err, DeployError::Restored { .. }), "{err}");
    let after: Vec<_> = v1.stacks.iter().map(|s| cloud.stack_state(&s.stack_name).unwrap()).collect();
    for ((b, a), s) in before.iter().zip(&after).zip(&v1.stacks) {
        assert_eq!((&a.1, &a.2), (&b.1, &b.2), "{}: template and parameters back", s.name);
        assert!(a.0.ends_with("_COMPLETE"), "{}: {}", s.name, a.0);
    }
    assert_eq!(cloud.stack_region("podcast-dev-edge").as_deref(), Some("us-east-1"));
}
