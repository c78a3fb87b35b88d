//! The whole cloud on the local emulator: every resource type of every app has a resource
//! provider (nothing falls back to LocalStack's "unknown" placeholder), Lunora Player's `local`
//! deploys encoder ingest to player with every resource real and described by its own service,
//! a running MediaLive channel refuses a CloudFormation update as on AWS, the CDN serves a cached
//! file until an invalidation completes, and `destroy local` leaves nothing behind.

mod common;

use castform::aws::{AwsCloud, Cloud};
use common::{Emulator, project_copy, repo, wait_for};
use serde_json::Value;
use std::collections::BTreeSet;

fn ok(out: &std::process::Output) -> String {
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(out.status.success(), "exit {:?}\n{stdout}\n{}", out.status.code(), String::from_utf8_lossy(&out.stderr));
    stdout
}

/// The CloudFormation resource types the emulator has a provider for: LocalStack's own community
/// providers and castform's add-on, as the installed entry points list them (plux matches the
/// names without regard to case; LocalStack's are lower case).
fn emulator_types() -> BTreeSet<String> {
    let out = std::process::Command::new(repo().join(".venv-emulator/bin/python"))
        .args([
            "-c",
            "from importlib.metadata import entry_points\n\
             print('\\n'.join(e.name for e in entry_points(group='localstack.cloudformation.resource_providers')))",
        ])
        .output()
        .expect("the emulator's python runs (scripts/setup-emulator)");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(str::to_lowercase).collect()
}

#[test]
fn every_resource_type_of_every_app_and_environment_has_an_emulator_provider() {
    let supported = emulator_types();
    assert!(supported.contains("aws::s3::bucket"), "LocalStack's own providers are listed: {supported:?}");
    let mut seen = BTreeSet::new();
    for (app, envs) in [
        ("lunora", &["local", "dev", "staging", "prod"][..]),
        ("streamcanvas", &["local", "dev", "prod"][..]),
        ("podcast", &["local", "dev", "prod"][..]),
    ] {
        for env in envs {
            let e = castform::config::load(&repo(), castform::apps::seeds(), app, env).unwrap();
            let defined = e.define().unwrap();
            for stack in &defined.stacks {
                let template: Value = serde_json::from_str(&stack.template.to_json()).unwrap();
                for (id, r) in template["Resources"].as_object().unwrap() {
                    let t = r["Type"].as_str().unwrap();
                    assert!(
                        supported.contains(&t.to_lowercase()),
                        "{app}/{env} {}: {id} is {t}, which the emulator would skip (add a provider in emulator/)",
                        stack.name
                    );
                    seen.insert(t.to_string());
                }
            }
        }
    }
    // the list is not vacuous: the media pipeline, the CDN, Cognito and API Gateway v2 are in it
    for t in
        ["AWS::MediaLive::Channel", "AWS::CloudFront::Distribution", "AWS::Cognito::UserPool", "AWS::ApiGatewayV2::Api"]
    {
        assert!(seen.contains(t), "{t} is used by some app");
    }
    println!("{} resource types across the three apps, each with an emulator provider", seen.len());
}

#[test]
fn local_environments_have_every_resource_type_their_prod_has() {
    for app in ["lunora", "streamcanvas", "podcast"] {
        let types = |env: &str| -> BTreeSet<String> {
            let e = castform::config::load(&repo(), castform::apps::seeds(), app, env).unwrap();
            e.define()
                .unwrap()
                .stacks
                .iter()
                .flat_map(|s| {
                    let t: Value = serde_json::from_str(&s.template.to_json()).unwrap();
                    t["Resources"]
                        .as_object()
                        .unwrap()
                        .values()
                        .map(|r| r["Type"].as_str().unwrap().to_string())
                        .collect::<Vec<_>>()
                })
                .collect()
        };
        let missing: Vec<String> = types("prod").difference(&types("local")).cloned().collect();
        assert!(missing.is_empty(), "{app}: local lacks {missing:?}");
    }
}

/// Changes local's bitrate ladder to one 720p rung at 2.5 Mb/s (a change of the channel's
/// encoder settings); returns the file and its old text.
fn one_rung_ladder(root: &std::path::Path) -> (std::path::PathBuf, String) {
    let env_file = root.join("environments/lunora/local.yaml");
    let yaml = std::fs::read_to_string(&env_file).unwrap();
    std::fs::write(
        &env_file,
        yaml.replace(
            "  channel_class: SINGLE_PIPELINE\n",
            "  channel_class: SINGLE_PIPELINE\n  ladder:\n    - { name: 720p, width: 1280, height: 720, bitrate_kbps: 2500 }\n",
        ),
    )
    .unwrap();
    (env_file, yaml)
}

#[test]
fn lunora_local_deploys_the_whole_pipeline_guards_a_live_channel_caches_until_invalidated_and_destroys_clean() {
    let emu = Emulator::start();
    let dir = project_copy();
    let root = dir.path();
    ok(&emu.castform(&["bootstrap", "local"], root));
    let first = ok(&emu.castform(&["deploy", "local"], root));
    assert!(first.contains("(5 of 5 stacks changed)"), "{first}");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let c = rt.block_on(AwsCloud::with_static_credentials("us-west-2", &emu.endpoint(), "test", "test"));

    // every resource of every stack has a real physical id
    let mut real = 0;
    for stack in ["data", "media", "web", "api"] {
        let resources = rt.block_on(c.list_stack_resources(&format!("lunora-player-local-{stack}"))).unwrap();
        real += common::assert_all_real(&resources, stack);
    }
    println!("lunora local: {real} resources, 0 without a real physical id");
    let outputs: Value = serde_json::from_str(&ok(&emu.castform(&["outputs", "local", "--json"], root))).unwrap();
    let media = &outputs["media"];

    // the services describe them: the SRT flow on loopback, in standby, accepting only the encoder
    let flow_arn = media["IngestArn"].as_str().unwrap();
    let flow = &emu.aws("us-west-2", &["mediaconnect", "describe-flow", "--flow-arn", flow_arn]).unwrap()["Flow"];
    assert_eq!(flow["Status"], "STANDBY");
    assert_eq!(flow["Source"]["IngestIp"], "127.0.0.1");
    assert_eq!(flow["Source"]["WhitelistCidr"], "127.0.0.1/32");
    // the channel: a seven-digit id, idle, sending to the MediaPackage channel
    let channel_id = media["LiveChannelId"].as_str().unwrap().to_string();
    assert!(channel_id.len() == 7 && channel_id.chars().all(|c| c.is_ascii_digit()), "{channel_id}");
    let channel = emu.aws("us-west-2", &["medialive", "describe-channel", "--channel-id", &channel_id]).unwrap();
    assert_eq!(channel["State"], "IDLE");
    assert!(channel["Arn"].as_str().unwrap().starts_with("arn:aws:medialive:us-west-2:000000000000:channel:"));
    assert_eq!(channel["Destinations"][0]["MediaPackageSettings"][0]["ChannelId"], "lunora-player-local-hls");
    // the playback URL answers once the channel is on air, not before
    let hls = media["LiveHlsUrl"].as_str().unwrap().to_string();
    assert_eq!(emu.fetch(&hls).0, 404, "no stream while the channel is idle");
    // the distribution: deployed, its origin access control kept, serving config.js over HTTPS
    let dist_id = outputs["web"]["SiteDistributionId"].as_str().unwrap().to_string();
    let dist = emu.aws("us-east-1", &["cloudfront", "get-distribution", "--id", &dist_id]).unwrap();
    assert_eq!(dist["Distribution"]["Status"], "Deployed");
    let origins = &dist["Distribution"]["DistributionConfig"]["Origins"]["Items"];
    assert!(origins[0]["OriginAccessControlId"].as_str().is_some_and(|s| !s.is_empty()), "{origins}");
    let site = outputs["web"]["SiteUrl"].as_str().unwrap().to_string();
    let (status, head, body) = emu.fetch(&format!("{site}/config.js"));
    assert_eq!(status, 200, "{head}{body}");
    // the API is the site's own origin (/api/* through an origin access control of type lambda)
    assert!(body.contains(&format!("apiUrl: \"{site}\"")), "{body}");
    let api = origins.as_array().unwrap().iter().find(|o| o["Id"] == "api").expect("an api origin");
    assert!(api["OriginAccessControlId"].as_str().is_some_and(|s| !s.is_empty()), "{api}");
    // viewers play the stream through the distribution, not at MediaPackage's address (review L9)
    let hls_path = &hls[hls.find("/out/").unwrap()..];
    assert!(body.contains(&format!("hlsUrl: \"{site}{hls_path}\"")), "{body}");
    assert!(
        head.to_lowercase().contains("strict-transport-security: max-age=63072000"),
        "the security headers policy: {head}"
    );
    // an unchanged redeploy makes no change set
    let again = ok(&emu.castform(&["deploy", "local"], root));
    assert!(again.contains("(0 of 5 stacks changed)"), "{again}");

    // on air: the flow, then the channel
    emu.aws("us-west-2", &["mediaconnect", "start-flow", "--flow-arn", flow_arn]).unwrap();
    emu.aws("us-west-2", &["medialive", "start-channel", "--channel-id", &channel_id]).unwrap();
    wait_for("the channel to run", || {
        emu.aws("us-west-2", &["medialive", "describe-channel", "--channel-id", &channel_id]).unwrap()["State"]
            == "RUNNING"
    });
    let (status, _, playlist) = emu.fetch(&hls);
    assert_eq!(status, 200);
    assert!(playlist.starts_with("#EXTM3U"), "{playlist}");
    // a change to the running channel (a new bitrate ladder): castform refuses it before writing
    // anything (P08), and CloudFormation itself fails it as on AWS, the channel staying on air
    let before = emu.aws("us-west-2", &["medialive", "describe-channel", "--channel-id", &channel_id]).unwrap();
    let (env_file, yaml) = one_rung_ladder(root);
    let out = emu.castform(&["deploy", "local"], root);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stderr));
    ok(&emu.castform(&["synth", "local"], root));
    let template = root.join("out/lunora/local/media.template.json");
    // through a change set, as castform and `aws cloudformation deploy` update stacks
    let stack_name = "lunora-player-local-media";
    emu.aws(
        "us-west-2",
        &[
            "cloudformation",
            "create-change-set",
            "--stack-name",
            stack_name,
            "--change-set-name",
            "live-edit",
            "--capabilities",
            "CAPABILITY_IAM",
            "--template-body",
            &format!("file://{}", template.display()),
        ],
    )
    .unwrap();
    wait_for("the change set", || {
        let cs = emu
            .aws(
                "us-west-2",
                &[
                    "cloudformation",
                    "describe-change-set",
                    "--stack-name",
                    stack_name,
                    "--change-set-name",
                    "live-edit",
                ],
            )
            .unwrap();
        cs["Status"] == "CREATE_COMPLETE"
    });
    emu.aws(
        "us-west-2",
        &["cloudformation", "execute-change-set", "--stack-name", stack_name, "--change-set-name", "live-edit"],
    )
    .unwrap();
    wait_for("the update to be rolled back, as on AWS", || {
        let s = emu.aws("us-west-2", &["cloudformation", "describe-stacks", "--stack-name", stack_name]).unwrap();
        s["Stacks"][0]["StackStatus"] == "UPDATE_ROLLBACK_COMPLETE"
    });
    let events = emu
        .aws("us-west-2", &["cloudformation", "describe-stack-events", "--stack-name", "lunora-player-local-media"])
        .unwrap();
    let reason = events["StackEvents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["LogicalResourceId"] == "LiveChannel" && e["ResourceStatus"] == "UPDATE_FAILED")
        .map(|e| e["ResourceStatusReason"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    assert!(reason.contains("ConflictException") && reason.contains("RUNNING"), "{reason}");
    let after = emu.aws("us-west-2", &["medialive", "describe-channel", "--channel-id", &channel_id]).unwrap();
    assert_eq!(after["State"], "RUNNING", "still on air");
    assert_eq!(after["EncoderSettings"], before["EncoderSettings"], "with its old encoder settings");
    // the stack is back on its old template: castform sees nothing to do
    std::fs::write(&env_file, &yaml).unwrap();
    let again = ok(&emu.castform(&["deploy", "local"], root));
    assert!(again.contains("(0 of 5 stacks changed)"), "{again}");

    // the CDN serves its cached copy until an invalidation completes (AWS: edges keep objects
    // for their TTL; an invalidation removes them once its status is Completed)
    let bucket = outputs["web"]["SiteBucketName"].as_str().unwrap();
    let (_, head, cached) = emu.fetch(&format!("{site}/config.js"));
    assert!(head.contains("Hit from cloudfront"), "{head}");
    rt.block_on(c.put_object(bucket, "config.js", b"window.STALE_TEST = 1;".to_vec(), "application/javascript", false))
        .unwrap();
    let (_, _, body) = emu.fetch(&format!("{site}/config.js"));
    assert_eq!(body, cached, "the edge still has the old file");
    let inv = emu
        .aws(
            "us-east-1",
            &["cloudfront", "create-invalidation", "--distribution-id", &dist_id, "--paths", "/config.js"],
        )
        .unwrap();
    let inv_id = inv["Invalidation"]["Id"].as_str().unwrap().to_string();
    assert_eq!(inv["Invalidation"]["Status"], "InProgress");
    let (_, _, body) = emu.fetch(&format!("{site}/config.js"));
    assert_eq!(body, cached, "still old while the invalidation is in progress");
    wait_for("the invalidation to complete", || {
        emu.aws("us-east-1", &["cloudfront", "get-invalidation", "--distribution-id", &dist_id, "--id", &inv_id])
            .unwrap()["Invalidation"]["Status"]
            == "Completed"
    });
    let (_, head, body) = emu.fetch(&format!("{site}/config.js"));
    assert_eq!(body, "window.STALE_TEST = 1;", "{head}");
    assert!(head.contains("Miss from cloudfront"), "{head}");

    // a channel on air cannot be deleted either: off air first (the user's decision, not ours)
    emu.aws("us-west-2", &["medialive", "stop-channel", "--channel-id", &channel_id]).unwrap();
    emu.aws("us-west-2", &["mediaconnect", "stop-flow", "--flow-arn", flow_arn]).unwrap();
    wait_for("the channel to stop", || {
        emu.aws("us-west-2", &["medialive", "describe-channel", "--channel-id", &channel_id]).unwrap()["State"]
            == "IDLE"
    });
    let gone = ok(&emu.castform(&["destroy", "local", "--yes"], root));
    assert!(gone.contains("destroyed lunora/local"), "{gone}");
    // nothing of the environment is left in any service
    let flows = emu.aws("us-west-2", &["mediaconnect", "list-flows"]).unwrap();
    assert_eq!(flows["Flows"].as_array().unwrap().len(), 0, "{flows}");
    let channels = emu.aws("us-west-2", &["medialive", "list-channels"]).unwrap();
    assert!(channels["Channels"].as_array().unwrap().iter().all(|c| c["State"] == "DELETED"), "{channels}");
    let inputs = emu.aws("us-west-2", &["medialive", "list-inputs"]).unwrap();
    assert!(inputs["Inputs"].as_array().unwrap().iter().all(|i| i["State"] == "DELETED"), "{inputs}");
    let packages = emu.aws("us-west-2", &["mediapackage", "list-channels"]).unwrap();
    assert_eq!(packages["Channels"].as_array().unwrap().len(), 0, "{packages}");
    let endpoints = emu.aws("us-west-2", &["mediapackage", "list-origin-endpoints"]).unwrap();
    assert_eq!(endpoints["OriginEndpoints"].as_array().unwrap().len(), 0, "{endpoints}");
    let dists = emu.aws("us-east-1", &["cloudfront", "list-distributions"]).unwrap();
    assert_eq!(dists["DistributionList"]["Items"].as_array().map_or(0, |a| a.len()), 0, "{dists}");
    let oacs = emu.aws("us-east-1", &["cloudfront", "list-origin-access-controls"]).unwrap();
    assert_eq!(oacs["OriginAccessControlList"]["Items"].as_array().map_or(0, |a| a.len()), 0, "{oacs}");
    let policies = emu.aws("us-east-1", &["cloudfront", "list-response-headers-policies"]).unwrap();
    assert_eq!(policies["ResponseHeadersPolicyList"]["Items"].as_array().map_or(0, |a| a.len()), 0, "{policies}");
    assert_eq!(emu.fetch(&format!("{site}/config.js")).0, 404, "the domain no longer serves");
}

/// The state rules the add-on enforces, through the services' own APIs (the AWS CLI), each as
/// AWS documents it (the pages are cited in emulator/castform_emulator/<service>.py).
#[test]
fn the_services_refuse_what_aws_refuses_and_answer_unknown_ids_with_404s() {
    let emu = Emulator::start();
    let err = |region: &str, args: &[&str]| emu.aws(region, args).expect_err(&format!("{args:?} is refused"));
    // MediaLive: unknown ids are NotFoundException; a RUNNING channel cannot be updated or deleted
    assert!(
        err("us-west-2", &["medialive", "describe-channel", "--channel-id", "1234567"]).contains("NotFoundException")
    );
    let ch = emu
        .aws("us-west-2", &["medialive", "create-channel", "--name", "rules", "--channel-class", "SINGLE_PIPELINE"])
        .unwrap();
    let id = ch["Channel"]["Id"].as_str().unwrap().to_string();
    assert!(ch["Channel"]["Arn"].as_str().unwrap().ends_with(&format!(":channel:{id}")));
    wait_for("idle", || {
        emu.aws("us-west-2", &["medialive", "describe-channel", "--channel-id", &id]).unwrap()["State"] == "IDLE"
    });
    emu.aws("us-west-2", &["medialive", "start-channel", "--channel-id", &id]).unwrap();
    for args in [
        &["medialive", "update-channel", "--channel-id", &id, "--name", "renamed"][..],
        &["medialive", "delete-channel", "--channel-id", &id][..],
    ] {
        assert!(err("us-west-2", args).contains("ConflictException"), "{args:?}");
    }
    assert!(err("us-west-2", &["medialive", "start-channel", "--channel-id", &id]).contains("ConflictException"));
    emu.aws("us-west-2", &["medialive", "stop-channel", "--channel-id", &id]).unwrap();
    wait_for("idle again", || {
        emu.aws("us-west-2", &["medialive", "describe-channel", "--channel-id", &id]).unwrap()["State"] == "IDLE"
    });
    emu.aws("us-west-2", &["medialive", "update-channel", "--channel-id", &id, "--name", "renamed"]).unwrap();
    emu.aws("us-west-2", &["medialive", "delete-channel", "--channel-id", &id]).unwrap();

    // CloudFormation: a change set's RoleARN must be a role CloudFormation can assume (AWS: "Role
    // ... is invalid or cannot be assumed"); a stack keeps the one it was given
    let template = r#"{"Resources": {"Q": {"Type": "AWS::SQS::Queue"}}}"#;
    let change_set = |role: &str, name: &str| {
        emu.aws(
            "us-west-2",
            &[
                "cloudformation",
                "create-change-set",
                "--stack-name",
                "roles",
                "--change-set-name",
                name,
                "--change-set-type",
                "CREATE",
                "--template-body",
                template,
                "--role-arn",
                role,
            ],
        )
    };
    let e = change_set("arn:aws:iam::000000000000:role/no-such-role", "a").unwrap_err();
    assert!(e.contains("is invalid or cannot be assumed"), "{e}");
    let trust = |service: &str| {
        serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})
        .to_string()
    };
    for (name, service) in [("for-lambda", "lambda.amazonaws.com"), ("for-cfn", "cloudformation.amazonaws.com")] {
        emu.aws(
            "us-east-1",
            &["iam", "create-role", "--role-name", name, "--assume-role-policy-document", &trust(service)],
        )
        .unwrap();
    }
    let e = change_set("arn:aws:iam::000000000000:role/for-lambda", "b").unwrap_err();
    assert!(e.contains("is invalid or cannot be assumed"), "a role CloudFormation is not trusted by: {e}");
    change_set("arn:aws:iam::000000000000:role/for-cfn", "c").unwrap();
    let d = emu.aws("us-west-2", &["cloudformation", "describe-stacks", "--stack-name", "roles"]).unwrap();
    assert_eq!(d["Stacks"][0]["RoleARN"], "arn:aws:iam::000000000000:role/for-cfn");

    // MediaConnect: an ACTIVE flow must be stopped before it is deleted
    let source = r#"{"Name":"s","Protocol":"srt-listener","IngestPort":9998,"WhitelistCidr":"127.0.0.1/32"}"#;
    let flow = emu.aws("us-west-2", &["mediaconnect", "create-flow", "--name", "rules", "--source", source]).unwrap();
    let arn = flow["Flow"]["FlowArn"].as_str().unwrap().to_string();
    emu.aws("us-west-2", &["mediaconnect", "start-flow", "--flow-arn", &arn]).unwrap();
    wait_for("active", || {
        emu.aws("us-west-2", &["mediaconnect", "describe-flow", "--flow-arn", &arn]).unwrap()["Flow"]["Status"]
            == "ACTIVE"
    });
    assert!(err("us-west-2", &["mediaconnect", "delete-flow", "--flow-arn", &arn]).contains("BadRequestException"));
    emu.aws("us-west-2", &["mediaconnect", "stop-flow", "--flow-arn", &arn]).unwrap();
    wait_for("standby", || {
        emu.aws("us-west-2", &["mediaconnect", "describe-flow", "--flow-arn", &arn]).unwrap()["Flow"]["Status"]
            == "STANDBY"
    });
    emu.aws("us-west-2", &["mediaconnect", "delete-flow", "--flow-arn", &arn]).unwrap();
    assert!(err("us-west-2", &["mediaconnect", "describe-flow", "--flow-arn", &arn]).contains("NotFoundException"));

    // CloudFront: an enabled distribution cannot be deleted; a stale ETag is refused
    assert!(
        err("us-east-1", &["cloudfront", "get-distribution", "--id", "E000000000000"]).contains("NoSuchDistribution")
    );
    let d = emu
        .aws(
            "us-east-1",
            &["cloudfront", "create-distribution", "--origin-domain-name", "site.s3.localhost.localstack.cloud"],
        )
        .unwrap();
    let dist = d["Distribution"]["Id"].as_str().unwrap().to_string();
    assert!(d["Distribution"]["DomainName"].as_str().unwrap().contains(".cloudfront.localhost.localstack.cloud:"));
    let etag = d["ETag"].as_str().unwrap().to_string();
    assert!(
        err("us-east-1", &["cloudfront", "delete-distribution", "--id", &dist, "--if-match", &etag])
            .contains("DistributionNotDisabled")
    );
    assert!(
        err("us-east-1", &["cloudfront", "delete-distribution", "--id", &dist, "--if-match", "STALE"])
            .contains("PreconditionFailed")
    );

    // the KeyValueStore data API, signed with SigV4A as AWS's SDKs sign it: ETags guard each write
    let store = emu.aws("us-east-1", &["cloudfront", "create-key-value-store", "--name", "rules"]).unwrap();
    let store_arn = store["KeyValueStore"]["ARN"].as_str().unwrap().to_string();
    let out = std::process::Command::new(repo().join(".venv-emulator/bin/python"))
        .arg(repo().join("tests/fixtures/kvs_client.py"))
        .args([emu.port.to_string(), store_arn])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}\n{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(text.lines().collect::<Vec<_>>(), ["put 1 new-etag", "stale refused", "get {\"status\":\"active\"}"]);

    // replacement is the registry schema's: a KeyValueStore's Name is create-only, its Comment not
    let kvs = |name: &str, comment: &str| {
        format!(
            r#"{{"Resources":{{"Store":{{"Type":"AWS::CloudFront::KeyValueStore","Properties":{{"Name":"{name}","Comment":"{comment}"}}}}}}}}"#
        )
    };
    emu.aws(
        "us-east-1",
        &["cloudformation", "create-stack", "--stack-name", "replace", "--template-body", &kvs("first", "a")],
    )
    .unwrap();
    wait_for("the stack", || {
        emu.aws("us-east-1", &["cloudformation", "describe-stacks", "--stack-name", "replace"]).unwrap()["Stacks"][0]["StackStatus"]
            == "CREATE_COMPLETE"
    });
    let replacement = |body: String, name: &str| {
        emu.aws(
            "us-east-1",
            &[
                "cloudformation",
                "create-change-set",
                "--stack-name",
                "replace",
                "--change-set-name",
                name,
                "--template-body",
                &body,
            ],
        )
        .unwrap();
        let mut answer = Value::Null;
        wait_for("the change set", || {
            answer = emu
                .aws(
                    "us-east-1",
                    &["cloudformation", "describe-change-set", "--stack-name", "replace", "--change-set-name", name],
                )
                .unwrap();
            answer["Status"] == "CREATE_COMPLETE"
        });
        answer["Changes"][0]["ResourceChange"]["Replacement"].as_str().unwrap_or_default().to_string()
    };
    assert_eq!(replacement(kvs("second", "a"), "rename"), "True", "Name is create-only");
    assert_eq!(replacement(kvs("first", "b"), "comment"), "False", "Comment updates in place");

    // Cognito: a pool with deletion protection cannot be deleted
    let pool = emu
        .aws(
            "us-east-1",
            &["cognito-idp", "create-user-pool", "--pool-name", "rules", "--deletion-protection", "ACTIVE"],
        )
        .unwrap();
    let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_string();
    assert!(
        err("us-east-1", &["cognito-idp", "delete-user-pool", "--user-pool-id", &pool_id])
            .contains("InvalidParameterException")
    );
    emu.aws(
        "us-east-1",
        &["cognito-idp", "update-user-pool", "--user-pool-id", &pool_id, "--deletion-protection", "INACTIVE"],
    )
    .unwrap();
    emu.aws("us-east-1", &["cognito-idp", "delete-user-pool", "--user-pool-id", &pool_id]).unwrap();

    // MediaConvert: a job needs a role; a job whose input cannot be opened ends in ERROR 1010
    let settings = r#"{"Inputs": [{"FileInput": "s3://no-such-bucket/in.wav"}], "OutputGroups": [{"Name": "g", "OutputGroupSettings": {"Type": "FILE_GROUP_SETTINGS", "FileGroupSettings": {"Destination": "s3://no-such-bucket/out"}}, "Outputs": [{"Extension": "m4a"}]}]}"#;
    assert!(
        err("us-west-2", &["mediaconvert", "create-job", "--role", "not-a-role", "--settings", settings])
            .contains("BadRequestException")
    );
    let job = emu
        .aws(
            "us-west-2",
            &["mediaconvert", "create-job", "--role", "arn:aws:iam::000000000000:role/mc", "--settings", settings],
        )
        .unwrap();
    let job_id = job["Job"]["Id"].as_str().unwrap().to_string();
    assert_eq!(job["Job"]["Status"], "SUBMITTED");
    assert!(job["Job"]["Queue"].as_str().unwrap().ends_with(":queues/Default"));
    let mut last = Value::Null;
    wait_for("the job to end", || {
        last = emu.aws("us-west-2", &["mediaconvert", "get-job", "--id", &job_id]).unwrap()["Job"].clone();
        last["Status"] == "ERROR"
    });
    assert_eq!(last["ErrorCode"], 1010, "{last}");
    assert!(err("us-west-2", &["mediaconvert", "get-job", "--id", "1-nothing"]).contains("NotFoundException"));
}

/// Issue 12's sequence on the emulator: `castform media start local`; a change of a rung of the
/// ladder is refused while the channel is on air (exit 2, the channel keeps its settings);
/// `--restart-live` deploys it and the channel runs again with the new bitrate; `media stop`.
#[test]
fn a_live_channel_change_is_refused_then_deployed_with_restart_live_and_the_stream_is_back() {
    let emu = Emulator::start();
    let dir = project_copy();
    let root = dir.path();
    ok(&emu.castform(&["bootstrap", "local"], root));
    ok(&emu.castform(&["deploy", "local"], root));
    let started = ok(&emu.castform(&["media", "start", "local"], root));
    assert!(started.contains("RUNNING") && started.contains("ON AIR"), "{started}");
    let status: Value =
        serde_json::from_str(&ok(&emu.castform(&["media", "status", "local", "--json"], root))).unwrap();
    assert_eq!(status["on_air"], true);
    assert_eq!(status["flow"]["status"], "ACTIVE");
    assert_eq!(status["cdn_answers"], 200, "the playlist answers through the distribution: {status}");
    let channel_id = status["channel"]["id"].as_str().unwrap().to_string();
    let bitrates = || {
        let ch = emu.aws("us-west-2", &["medialive", "describe-channel", "--channel-id", &channel_id]).unwrap();
        let b: Vec<i64> = ch["EncoderSettings"]["VideoDescriptions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["CodecSettings"]["H264Settings"]["Bitrate"].as_i64().unwrap())
            .collect();
        (ch["State"].as_str().unwrap().to_string(), b)
    };
    let before = bitrates();
    assert_eq!(before.0, "RUNNING");

    one_rung_ladder(root);
    // diff names the class of the change
    let diff = String::from_utf8_lossy(&emu.castform(&["diff", "local"], root).stdout).to_string();
    assert!(
        diff.contains("LiveChannel (AWS::MediaLive::Channel)") && diff.contains("[live: needs the channel stopped]"),
        "{diff}"
    );
    // refused before anything is written
    let out = emu.castform(&["deploy", "local"], root);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(&format!("channel {channel_id}"))
            && stderr.contains("is RUNNING")
            && stderr.contains("--restart-live"),
        "{stderr}"
    );
    assert!(!stderr.contains("==> backup"), "refused before the backup: {stderr}");
    assert_eq!(bitrates(), before, "the channel keeps its settings, on air");
    // with --restart-live: off air, deployed, on air again with the new ladder, stream checked
    let out = ok(&emu.castform(&["deploy", "local", "--restart-live"], root));
    assert!(out.contains("ok stream"), "{out}");
    let after = bitrates();
    assert_eq!(after, ("RUNNING".to_string(), vec![2_500_000]), "on air with the new bitrate");
    // history shows the start and the deploy
    let history = ok(&emu.castform(&["history", "local"], root));
    assert!(history.contains("media-start succeeded"), "{history}");
    let stopped = ok(&emu.castform(&["media", "stop", "local"], root));
    assert!(stopped.contains("off air"), "{stopped}");
    let (state, _) = bitrates();
    assert_eq!(state, "IDLE");
}

/// S3's conditional requests through castform's own SDK client, as the state lock uses them
/// (review S3-26): a lock is taken only where none is (`If-None-Match: *`), taken over only as
/// the version read (`If-Match` on PutObject), and deleted only as the version held (`If-Match`
/// on DeleteObject, which localstack-core refuses as NotImplemented and the add-on answers as S3
/// does: https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html).
#[test]
fn the_state_lock_is_taken_over_and_released_only_as_the_version_read() {
    use castform::state::lock::{self, LockError, LockInfo};
    let emu = Emulator::start();
    let rt = tokio::runtime::Runtime::new().unwrap();
    let c = rt.block_on(AwsCloud::with_static_credentials("us-west-2", &emu.endpoint(), "test", "test"));
    let dir = tempfile::tempdir().unwrap();
    let state = castform::state::StateStore {
        bucket: "castform-000000000000-us-west-2".into(),
        account: "000000000000".into(),
        region: "us-west-2".into(),
        prefix: "app/env".into(),
        local: dir.path().to_path_buf(),
    };
    rt.block_on(c.create_state_bucket(&state.bucket)).unwrap();
    let run = |id: &str| LockInfo::of_this_process(id, "ci", "runner", "2026-12-06T00:00:00Z", "deploy");
    let a = rt.block_on(lock::acquire(&c, &state, "env", &run("a"))).unwrap();
    let Err(LockError::Held { holder, etag, .. }) = rt.block_on(lock::acquire(&c, &state, "env", &run("b"))) else {
        panic!("held by a")
    };
    assert_eq!((holder.deployment.as_str(), etag.as_str()), ("a", a.as_str()), "the ETag read is the one written");
    let taken = rt.block_on(lock::replace(&c, &state, "env", &a, &run("c"))).expect("taken over as the version read");
    match rt.block_on(lock::replace(&c, &state, "env", &a, &run("d"))) {
        Err(LockError::Held { holder, .. }) => assert_eq!(holder.deployment, "c"),
        other => panic!("the second takeover loses, not {other:?}"),
    }
    let stale = rt.block_on(c.delete_object_if(&state.bucket, &state.lock_key(), &a)).unwrap_err();
    assert!(lock::lost(&stale), "412: {stale}");
    rt.block_on(lock::release_held(&c, &state, &a)).unwrap();
    assert_eq!(rt.block_on(lock::current(&c, &state)).unwrap().unwrap().deployment, "c", "c's lock stays");
    rt.block_on(lock::release_held(&c, &state, &taken)).unwrap();
    assert!(rt.block_on(lock::current(&c, &state)).unwrap().is_none(), "released");
    let gone = rt.block_on(c.delete_object_if(&state.bucket, &state.lock_key(), &taken)).unwrap_err();
    assert_eq!(gone.code(), Some("NoSuchKey"), "{gone}");
}
