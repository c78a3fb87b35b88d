//! Construct tests: build a stack, assert resources by type and properties.

use super::*;
use crate::constructs::realtime::{UserPool, UserPoolProps, WebSocketApi, WebSocketApiProps};
use crate::template::{Expr, Stack};
use serde_json::{Value, json};
use std::path::PathBuf;

fn stack(retain: bool) -> Stack {
    Stack::new("orders-test", "api", "us-west-2", retain, "test")
}

fn of_type<'a>(s: &'a Stack, t: &str) -> Vec<(&'a str, &'a Value)> {
    s.template.resources.iter().filter(|(_, r)| r.type_name == t).map(|(id, r)| (id.as_str(), &r.properties)).collect()
}

fn api_code() -> Code {
    Code::Asset { root: PathBuf::from(env!("CARGO_MANIFEST_DIR")), path: PathBuf::from("assets/lunora-api") }
}

fn function(s: &mut Stack) -> Function {
    Function::new(s, "Api", api_code(), FunctionProps::default()).unwrap()
}

#[test]
fn a_public_url_defines_both_invoke_permissions() {
    let mut s = stack(false);
    let f = function(&mut s);
    FunctionUrl::new(&mut s, &f, FunctionUrlProps::default()).unwrap();
    let perms = of_type(&s, "AWS::Lambda::Permission");
    assert_eq!(perms.len(), 2);
    let url_perm = perms.iter().find(|(_, p)| p["Action"] == "lambda:InvokeFunctionUrl").expect("InvokeFunctionUrl");
    assert_eq!(url_perm.1["FunctionUrlAuthType"], "NONE");
    assert_eq!(url_perm.1["Principal"], "*");
    let fn_perm = perms.iter().find(|(_, p)| p["Action"] == "lambda:InvokeFunction").expect("InvokeFunction");
    assert_eq!(fn_perm.1["InvokedViaFunctionUrl"], true);
    // both on the alias the URL serves
    assert_eq!(url_perm.1["FunctionName"], json!({"Ref": "ApiLive"}));
    assert_eq!(fn_perm.1["FunctionName"], json!({"Ref": "ApiLive"}));
    let (_, url) = of_type(&s, "AWS::Lambda::Url")[0];
    assert_eq!(url["AuthType"], "NONE");
    assert_eq!(url["Qualifier"], "live");
    assert!(s.template.outputs.keys().any(|k| k.as_str() == "ApiUrl"));
}

#[test]
fn an_iam_url_adds_no_public_permission() {
    let mut s = stack(false);
    let f = function(&mut s);
    FunctionUrl::new(&mut s, &f, FunctionUrlProps { auth: UrlAuth::Iam, ..Default::default() }).unwrap();
    assert!(of_type(&s, "AWS::Lambda::Permission").is_empty());
}

#[test]
fn cors_refuses_the_wildcard_origin() {
    let mut s = stack(false);
    let f = function(&mut s);
    let e = FunctionUrl::new(&mut s, &f, FunctionUrlProps { allow_origins: vec!["*".into()], ..Default::default() })
        .unwrap_err();
    assert!(e.to_string().contains("allows the origin `*`"), "{e}");
}

#[test]
fn a_function_brings_its_log_group_alarm_role_and_live_alias() {
    let mut s = stack(false);
    function(&mut s);
    let (_, f) = of_type(&s, "AWS::Lambda::Function")[0];
    assert_eq!(f["Runtime"], DEFAULT_NODE_RUNTIME);
    assert_eq!(f["MemorySize"], 256);
    assert_eq!(f["LoggingConfig"]["LogGroup"], json!({"Ref": "ApiLogs"}));
    assert_eq!(f["Code"]["S3Bucket"], json!({"Ref": "CastformAssetsBucket"}));
    assert!(f["Code"]["S3Key"].as_str().unwrap().starts_with("assets/"));
    let (_, logs) = of_type(&s, "AWS::Logs::LogGroup")[0];
    assert_eq!(logs["RetentionInDays"], 30);
    let (_, alarm) = of_type(&s, "AWS::CloudWatch::Alarm")[0];
    assert_eq!(
        (alarm["MetricName"].as_str(), alarm["Threshold"].as_f64(), alarm["Period"].as_i64()),
        (Some("Errors"), Some(5.0), Some(300))
    );
    assert_eq!(alarm["ComparisonOperator"], "GreaterThanThreshold");
    let versions = of_type(&s, "AWS::Lambda::Version");
    assert_eq!(versions.len(), 1);
    let version_id = versions[0].0;
    assert_eq!(
        s.template.resource(version_id).unwrap().attributes.deletion_policy,
        Some(crate::template::DeletionPolicy::Retain)
    );
    let (_, alias) = of_type(&s, "AWS::Lambda::Alias")[0];
    assert_eq!(alias["Name"], "live");
    assert_eq!(alias["FunctionVersion"], json!({"Fn::GetAtt": [version_id, "Version"]}));
    assert_eq!(s.assets.len(), 1);
}

#[test]
fn a_code_change_publishes_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fn")).unwrap();
    let version_of = |body: &str| {
        std::fs::write(dir.path().join("fn/index.mjs"), body).unwrap();
        let mut s = stack(false);
        Function::new(
            &mut s,
            "Api",
            Code::Asset { root: dir.path().into(), path: "fn".into() },
            FunctionProps::default(),
        )
        .unwrap();
        of_type(&s, "AWS::Lambda::Version")[0].0.to_string()
    };
    let one = version_of("export const handler = async () => 1;");
    assert_eq!(one, version_of("export const handler = async () => 1;"));
    assert_ne!(one, version_of("export const handler = async () => 2;"));
}

#[test]
fn reserved_environment_variables_are_refused() {
    let mut s = stack(false);
    let mut props = FunctionProps::default();
    props.environment.insert("AWS_REGION".into(), "us-east-1".into());
    let e = Function::new(&mut s, "Api", api_code(), props).unwrap_err();
    assert_eq!(
        e.to_string(),
        "function `Api` sets the reserved environment variable AWS_REGION\nhelp: remove it: Lambda sets it itself (rule L14); read the region from AWS_REGION at run time"
    );
    assert!(s.template.resources.is_empty(), "nothing is added when validation fails");
}

#[test]
fn an_unknown_runtime_is_refused() {
    let mut s = stack(false);
    let e =
        Function::new(&mut s, "Api", api_code(), FunctionProps { runtime: "nodejs99.x".into(), ..Default::default() })
            .unwrap_err();
    assert!(e.to_string().contains("nodejs99.x"));
}

#[test]
fn tables_are_on_demand_with_pitr_and_follow_retain_data() {
    for retain in [true, false] {
        let mut s = stack(retain);
        Table::new(
            &mut s,
            "Sessions",
            TableProps {
                name: "sessions".into(),
                partition_key: ("sessionId".into(), KeyType::String),
                sort_key: Some(("timestamp".into(), KeyType::Number)),
                indexes: vec![Gsi {
                    name: "HostIdIndex".into(),
                    partition_key: ("hostId".into(), KeyType::String),
                    sort_key: None,
                }],
                ..Default::default()
            },
        )
        .unwrap();
        let r = s.template.resource("Sessions").unwrap();
        let p = &r.properties;
        assert_eq!(p["BillingMode"], "PAY_PER_REQUEST");
        assert_eq!(p["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"], true);
        assert!(p.get("PointInTimeRecoveryEnabled").is_none());
        assert_eq!(p["SSESpecification"]["SSEEnabled"], true);
        assert_eq!(p["TableName"], "orders-test-sessions");
        assert!(p["GlobalSecondaryIndexes"][0].get("BillingMode").is_none(), "an index has no BillingMode");
        assert_eq!(p["AttributeDefinitions"].as_array().unwrap().len(), 3);
        let want =
            if retain { crate::template::DeletionPolicy::Retain } else { crate::template::DeletionPolicy::Delete };
        assert_eq!(r.attributes.deletion_policy, Some(want));
    }
}

#[test]
fn a_key_with_two_types_is_refused() {
    let mut s = stack(false);
    let e = Table::new(
        &mut s,
        "T",
        TableProps {
            name: "t".into(),
            partition_key: ("id".into(), KeyType::String),
            indexes: vec![Gsi { name: "I".into(), partition_key: ("id".into(), KeyType::Number), sort_key: None }],
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("with two types"));
}

#[test]
fn buckets_are_private_encrypted_versioned_and_tls_only() {
    let mut s = stack(true);
    Bucket::new(&mut s, "Media").unwrap();
    let p = &s.template.resource("Media").unwrap().properties;
    assert_eq!(p["PublicAccessBlockConfiguration"]["RestrictPublicBuckets"], true);
    assert_eq!(
        p["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]["ServerSideEncryptionByDefault"]["SSEAlgorithm"],
        "AES256"
    );
    assert_eq!(p["VersioningConfiguration"]["Status"], "Enabled");
    let policy = &s.template.resource("MediaPolicy").unwrap().properties;
    let tls = &policy["PolicyDocument"]["Statement"][0];
    assert_eq!(tls["Effect"], "Deny");
    assert_eq!(tls["Condition"]["Bool"]["aws:SecureTransport"], "false");
}

#[test]
fn a_site_reads_its_bucket_through_origin_access_control() {
    let mut s = stack(false);
    let site = Site::new(
        &mut s,
        "Site",
        SiteProps {
            extra_origin: Some(ExtraOrigin {
                id: "hls".into(),
                domain: "example.mediapackage.us-west-2.amazonaws.com".into(),
                path_pattern: "/out/*".into(),
                cache_policy_id: site::CACHING_MEDIAPACKAGE.into(),
            }),
            ..Default::default()
        },
    )
    .unwrap();
    let (_, d) = of_type(&s, "AWS::CloudFront::Distribution")[0];
    let cfg = &d["DistributionConfig"];
    assert_eq!(cfg["DefaultRootObject"], "index.html");
    assert_eq!(cfg["DefaultCacheBehavior"]["ViewerProtocolPolicy"], "redirect-to-https");
    assert_eq!(cfg["Origins"][0]["OriginAccessControlId"], json!({"Fn::GetAtt": ["SiteOriginAccess", "Id"]}));
    assert_eq!(cfg["Origins"][1]["Id"], "hls");
    assert_eq!(cfg["CacheBehaviors"][0]["PathPattern"], "/out/*");
    assert_eq!(of_type(&s, "AWS::CloudFront::OriginAccessControl").len(), 1);
    let (_, headers) = of_type(&s, "AWS::CloudFront::ResponseHeadersPolicy")[0];
    assert_eq!(headers["ResponseHeadersPolicyConfig"]["SecurityHeadersConfig"]["FrameOptions"]["FrameOption"], "DENY");
    let policy = &s.template.resource("SiteBucketPolicy").unwrap().properties;
    let read = &policy["PolicyDocument"]["Statement"][1];
    assert_eq!(read["Principal"]["Service"], "cloudfront.amazonaws.com");
    assert!(
        read["Condition"]["StringEquals"]["AWS:SourceArn"]["Fn::Sub"].as_str().unwrap().contains("${SiteDistribution}")
    );
    s.template.validate().unwrap();
    let _ = site.origin();
}

#[test]
fn the_srt_flow_is_encrypted_with_a_secret_and_no_algorithm() {
    let mut s = stack(true);
    let flow = SrtFlow::new(
        &mut s,
        "Ingest",
        SrtFlowProps {
            port: 9998,
            whitelist_cidr: "203.0.113.10/32".into(),
            min_latency_ms: 2000,
            source_name: "srt-ingest".into(),
        },
    )
    .unwrap();
    let (_, f) = of_type(&s, "AWS::MediaConnect::Flow")[0];
    let src = &f["Source"];
    assert_eq!(src["Protocol"], "srt-listener");
    assert_eq!(src["IngestPort"], 9998);
    assert_eq!(src["WhitelistCidr"], "203.0.113.10/32");
    assert_eq!(src["Decryption"]["KeyType"], "srt-password");
    assert!(src["Decryption"].get("Algorithm").is_none());
    assert_eq!(src["Decryption"]["SecretArn"], json!({"Ref": "IngestPassphrase"}));
    let (_, secret) = of_type(&s, "AWS::SecretsManager::Secret")[0];
    assert!(secret.get("SecretString").is_none(), "the passphrase is generated, never written");
    HlsChannel::new(
        &mut s,
        "Live",
        &flow,
        HlsChannelProps {
            ladder: vec![Rung { name: "720p".into(), width: 1280, height: 720, bitrate_kbps: 3000 }],
            single_pipeline: true,
            segment_seconds: 6,
            input_max_mbps: 10,
        },
    )
    .unwrap();
    let (_, ch) = of_type(&s, "AWS::MediaLive::Channel")[0];
    assert_eq!(ch["ChannelClass"], "SINGLE_PIPELINE");
    // media review L15 and L14: billed by the declared input tier; the system clock's timecode
    assert_eq!(ch["InputSpecification"]["MaximumBitrate"], "MAX_10_MBPS");
    assert_eq!(ch["EncoderSettings"]["TimecodeConfig"]["Source"], "SYSTEMCLOCK");
    // media review L16: MediaConnect assumes the secret's role only for this account's flows
    let secret_role = s.template.to_value()["Resources"]["IngestSecretRole"]["Properties"]["AssumeRolePolicyDocument"]
        ["Statement"][0]["Condition"]
        .clone();
    assert_eq!(secret_role, json!({"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}));
    assert_eq!(ch["EncoderSettings"]["VideoDescriptions"][0]["CodecSettings"]["H264Settings"]["Bitrate"], 3_000_000);
    assert_eq!(ch["Destinations"][0]["MediaPackageSettings"][0]["ChannelId"], json!({"Ref": "LivePackage"}));
    let (_, input) = of_type(&s, "AWS::MediaLive::Input")[0];
    assert_eq!(input["Type"], "MEDIACONNECT");
    assert!(of_type(&s, "AWS::MediaPackage::OriginEndpoint")[0].1.get("HlsPackage").is_some());
    s.template.validate().unwrap();
}

#[test]
fn an_open_srt_listener_is_refused_where_data_is_retained() {
    let mut s = stack(true);
    let e = SrtFlow::new(
        &mut s,
        "Ingest",
        SrtFlowProps {
            port: 9998,
            whitelist_cidr: "0.0.0.0/0".into(),
            min_latency_ms: 2000,
            source_name: "srt-ingest".into(),
        },
    )
    .unwrap_err();
    assert!(e.to_string().contains("0.0.0.0/0"));
    let mut dev = stack(false);
    SrtFlow::new(
        &mut dev,
        "Ingest",
        SrtFlowProps {
            port: 9998,
            whitelist_cidr: "0.0.0.0/0".into(),
            min_latency_ms: 2000,
            source_name: "srt-ingest".into(),
        },
    )
    .unwrap();
}

#[test]
fn grants_scope_table_access_to_the_table_and_its_indexes() {
    let mut s = stack(false);
    let t = Table::new(&mut s, "T", TableProps { name: "t".into(), ..Default::default() }).unwrap();
    let f = function(&mut s);
    t.grant_read_write(&mut s, &f).unwrap();
    let role = &s.template.resource("ApiRole").unwrap().properties;
    let stmts = role["Policies"][0]["PolicyDocument"]["Statement"].as_array().unwrap();
    let last = stmts.last().unwrap();
    assert_eq!(last["Resource"][0], json!({"Fn::GetAtt": ["T", "Arn"]}));
    assert_eq!(last["Resource"][1], json!({"Fn::Join": ["", [{"Fn::GetAtt": ["T", "Arn"]}, "/index/*"]]}));
    assert!(!last["Action"].as_array().unwrap().iter().any(|a| a == "dynamodb:*"));
    let _ = Expr::<String>::reference("T");
}

#[test]
fn a_user_pool_has_the_seeds_password_policy_and_a_client_without_secret() {
    let mut s = stack(true);
    UserPool::new(
        &mut s,
        "Users",
        UserPoolProps {
            name: "users".into(),
            min_password_length: 8,
            client_name: "CanvasApp".into(),
            admin_only: false,
        },
    )
    .unwrap();
    let r = s.template.resource("Users").unwrap();
    let p = &r.properties;
    assert_eq!(p["UsernameAttributes"], json!(["email"]));
    assert_eq!(p["AutoVerifiedAttributes"], json!(["email"]));
    let pw = &p["Policies"]["PasswordPolicy"];
    assert_eq!(
        (pw["MinimumLength"].as_i64(), &pw["RequireSymbols"], &pw["RequireUppercase"]),
        (Some(8), &json!(true), &json!(true))
    );
    assert_eq!(r.attributes.deletion_policy, Some(crate::template::DeletionPolicy::Retain));
    let c = &s.template.resource("UsersClient").unwrap().properties;
    assert_eq!(c["ExplicitAuthFlows"], json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]));
    assert_eq!(c["PreventUserExistenceErrors"], "ENABLED");
    assert_eq!(c["GenerateSecret"], false);
    let tags: indexmap::IndexMap<String, String> =
        [("Project".to_string(), "canvas".to_string())].into_iter().collect();
    crate::constructs::tag(&mut s, &tags);
    assert_eq!(s.template.resource("Users").unwrap().properties["UserPoolTags"], json!({"Project": "canvas"}));
    assert!(
        UserPool::new(
            &mut s,
            "Weak",
            UserPoolProps { name: "w".into(), min_password_length: 4, client_name: "c".into(), admin_only: false }
        )
        .is_err()
    );
}

#[test]
fn a_websocket_api_routes_every_action_to_one_proxy_integration_and_outputs_its_connections_arn() {
    let mut s = stack(false);
    WebSocketApi::new(
        &mut s,
        "Socket",
        WebSocketApiProps {
            name: "ws".into(),
            route_selection: "$request.body.action".into(),
            routes: vec!["$connect".into(), "$disconnect".into(), "signal".into(), "publishState".into()],
            stage: "prod".into(),
            handler_name: "orders-test-ws-handler".into(),
            authorizer_name: None,
            throttle: (100, 50),
        },
    )
    .unwrap();
    let stage = &s.template.resource("SocketStage").unwrap().properties;
    assert_eq!(stage["DefaultRouteSettings"], json!({"ThrottlingBurstLimit": 100, "ThrottlingRateLimit": 50.0}));
    let api = &s.template.resource("Socket").unwrap().properties;
    assert_eq!(
        (api["ProtocolType"].as_str(), api["RouteSelectionExpression"].as_str()),
        (Some("WEBSOCKET"), Some("$request.body.action"))
    );
    let routes: Vec<&str> =
        of_type(&s, "AWS::ApiGatewayV2::Route").iter().map(|(_, p)| p["RouteKey"].as_str().unwrap()).collect();
    assert_eq!(routes, ["$connect", "$disconnect", "signal", "publishState"]);
    assert!(
        of_type(&s, "AWS::ApiGatewayV2::Route")
            .iter()
            .all(|(_, p)| p["Target"] == json!({"Fn::Join": ["/", ["integrations", {"Ref": "SocketIntegration"}]]}))
    );
    let (_, integ) = of_type(&s, "AWS::ApiGatewayV2::Integration")[0];
    assert_eq!(integ["IntegrationType"], "AWS_PROXY");
    assert!(
        integ["IntegrationUri"]["Fn::Sub"].as_str().unwrap().contains(":function:orders-test-ws-handler/invocations")
    );
    let (_, stage) = of_type(&s, "AWS::ApiGatewayV2::Stage")[0];
    assert_eq!((stage["StageName"].as_str(), &stage["AutoDeploy"]), (Some("prod"), &json!(true)));
    let conn = &s.template.outputs.iter().find(|(k, _)| k.as_str() == "SocketConnectionsArn").unwrap().1.value;
    let v = serde_json::to_value(conn).unwrap();
    assert!(v["Fn::Sub"][0].as_str().unwrap().ends_with("${ApiId}/prod/POST/@connections/*"), "{v}");
    s.template.validate().unwrap();
}

/// Lambda@Edge's package limits, checked at synth with the numbers: 1 MB compressed for viewer
/// events, 50 MB for origin events (CloudFront's Lambda@Edge quotas).
#[test]
fn an_edge_package_over_its_event_limit_is_refused_with_the_numbers() {
    use super::function::EdgeEvent;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fn")).unwrap();
    std::fs::write(dir.path().join("fn/index.mjs"), "export const handler = async (e) => e.Records[0].cf.request;")
        .unwrap();
    // 1.5 MB that deflate cannot shrink
    let mut noise = vec![0u8; 1_500_000];
    let mut x: u64 = 0x9E37_79B9_7F4A_7C15;
    for b in noise.iter_mut() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        *b = x as u8;
    }
    std::fs::write(dir.path().join("fn/data.bin"), &noise).unwrap();
    let edge = |event: EdgeEvent| {
        let mut s = Stack::new("feeds-test", "edge", "us-east-1", false, "test");
        let props = FunctionProps {
            publish: true,
            edge: Some(event),
            memory_mb: 128,
            timeout_s: 5,
            ..FunctionProps::default()
        };
        Function::new(&mut s, "Viewer", Code::Asset { root: dir.path().into(), path: "fn".into() }, props)
    };
    let e = edge(EdgeEvent::ViewerRequest).unwrap_err().to_string();
    assert!(e.contains("for viewer events with a 1.4") && e.contains("CloudFront allows 1 MB compressed"), "{e}");
    assert!(edge(EdgeEvent::OriginRequest).is_ok(), "origin events allow 50 MB");
}

#[test]
fn an_asynchronous_function_gets_its_dead_letter_queue_and_a_synchronous_one_says_why_not() {
    let mut s = stack(false);
    let queue = DeadLetterQueue::new(&mut s, "Failed").unwrap();
    let props =
        FunctionProps { invocation: Invocation::Asynchronous { dead_letters: queue.arn() }, ..Default::default() };
    Function::new(&mut s, "Scheduled", api_code(), props).unwrap();
    Function::new(
        &mut s,
        "Served",
        api_code(),
        FunctionProps { invocation: Invocation::Synchronous("its Function URL".into()), ..Default::default() },
    )
    .unwrap();
    let t = s.template.to_value();
    let r = &t["Resources"];
    assert_eq!(r["Scheduled"]["Properties"]["DeadLetterConfig"]["TargetArn"], json!({"Fn::GetAtt": ["Failed", "Arn"]}));
    let policy = serde_json::to_string(&r["ScheduledRole"]).unwrap();
    assert!(policy.contains("sqs:SendMessage"), "{policy}");
    let skips = |id: &str| -> Vec<String> {
        r[id]["Metadata"]["checkov"]["skip"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|s| format!("{} {}", s["id"].as_str().unwrap(), s["comment"].as_str().unwrap()))
            .collect()
    };
    assert!(!skips("Scheduled").iter().any(|s| s.starts_with("CKV_AWS_116")), "{:?}", skips("Scheduled"));
    assert!(r["Served"]["Properties"].get("DeadLetterConfig").is_none());
    let served = skips("Served");
    assert!(
        served.iter().any(|s| s.starts_with("CKV_AWS_116 invoked synchronously by its Function URL")),
        "{served:?}"
    );
    // the queue's SSE is SQS's own, which checkov does not read: said, not hidden
    assert!(serde_json::to_string(&r["Failed"]["Metadata"]).unwrap().contains("SqsManagedSseEnabled"));
}

#[test]
fn a_rate_limit_is_a_cloudfront_web_acl_in_us_east_1_within_wafs_bounds() {
    let mut east = Stack::new("orders-test", "waf", "us-east-1", false, "test");
    let limit =
        RateLimit::new(&mut east, "ApiRateLimit", RateLimitProps { requests: 100, window_s: 60, ..Default::default() })
            .unwrap();
    assert_eq!(limit.arn(), Expr::get_att("ApiRateLimit", "Arn"));
    let (_, acl) = of_type(&east, "AWS::WAFv2::WebACL")[0];
    assert_eq!(acl["Scope"], "CLOUDFRONT");
    assert_eq!(acl["DefaultAction"], json!({"Allow": {}}));
    let rule = &acl["Rules"][0];
    assert_eq!(rule["Statement"]["RateBasedStatement"]["AggregateKeyType"], "IP");
    assert_eq!(rule["Statement"]["RateBasedStatement"]["Limit"], 100);
    assert_eq!(
        rule["Statement"]["RateBasedStatement"]["ScopeDownStatement"]["ByteMatchStatement"]["PositionalConstraint"],
        "STARTS_WITH"
    );
    let mut west = stack(false);
    let e = RateLimit::new(&mut west, "L", RateLimitProps::default()).unwrap_err().to_string();
    assert!(e.contains("in a stack in us-west-2"), "{e}");
    for (requests, window_s) in [(9, 300), (100, 90)] {
        let mut s = Stack::new("orders-test", "waf", "us-east-1", false, "test");
        assert!(RateLimit::new(&mut s, "L", RateLimitProps { requests, window_s, ..Default::default() }).is_err());
    }
}
