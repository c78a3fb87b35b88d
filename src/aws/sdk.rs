//! [`Cloud`] over the AWS SDK for Rust: clients built once from the standard chain (profiles,
//! SSO, environment, `AWS_ENDPOINT_URL`), with the region and profile of the environment file.

use super::http::HttpClient;
use super::*;
use aws_config::{BehaviorVersion, Region};
use aws_sdk_cloudformation::types as cfn;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types as s3t;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

/// Clients for one region.
/// Timeouts for every SDK call: connecting, one attempt (large asset uploads included), and the
/// whole call with the SDK's retries.
const SDK_CONNECT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);
const SDK_ATTEMPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);
const SDK_OPERATION_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
/// `empty_bucket` deletes up to 1,000 versions a round: a bucket still not empty after this many
/// rounds has a writer.
const EMPTY_BUCKET_MAX_ROUNDS: usize = 1_000;

/// The account that must own a castform state bucket, read from its name
/// (`castform-<account>-<region>`): every call on it says so (`ExpectedBucketOwner`), so a
/// bucket of that predictable name in another account is refused rather than written to or
/// read from (code review). `None` for other buckets (a site's, named by its stack).
fn owner_of(bucket: &str) -> Option<String> {
    let account = bucket.strip_prefix("castform-")?.split('-').next()?;
    (account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())).then(|| account.to_string())
}

#[derive(Clone)]
pub struct AwsCloud {
    region: String,
    conf: aws_config::SdkConfig,
    custom_endpoint: bool,
    cfn: aws_sdk_cloudformation::Client,
    s3: aws_sdk_s3::Client,
    lambda: aws_sdk_lambda::Client,
    sts: aws_sdk_sts::Client,
    cloudfront: aws_sdk_cloudfront::Client,
    medialive: aws_sdk_medialive::Client,
    mediaconnect: aws_sdk_mediaconnect::Client,
    dynamodb: aws_sdk_dynamodb::Client,
    cloudcontrol: aws_sdk_cloudcontrol::Client,
    http: HttpClient,
}

/// Turns an SDK error into ours, keeping AWS's code and message.
fn err<E, R>(operation: &str, e: aws_sdk_s3::error::SdkError<E, R>) -> CloudError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    use aws_sdk_s3::error::SdkError;
    match &e {
        SdkError::ServiceError(se) => {
            let inner = se.err();
            let code = inner.code().unwrap_or("Unknown").to_string();
            if code == "PreconditionFailed" {
                return CloudError::PreconditionFailed { operation: operation.into() };
            }
            let message = inner.message().map(str::to_string).unwrap_or_else(|| DisplayErrorContext(inner).to_string());
            CloudError::Service { operation: operation.into(), code, message }
        }
        _ => {
            let text = chain(&e);
            let message = if text.contains("no credentials") || text.contains("credentials provider") {
                format!(
                    "no usable AWS credentials ({text}); set AWS_PROFILE, run `aws sso login`, or export AWS_ACCESS_KEY_ID"
                )
            } else if text.contains("Connection refused") || text.contains("dns error") {
                format!("cannot reach AWS ({text}); check the network, or AWS_ENDPOINT_URL if you set one")
            } else {
                text
            };
            CloudError::Transport { operation: operation.into(), message }
        }
    }
}

/// An error and its sources, by their Display only (no debug dumps).
fn chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !parts.iter().any(|p| p.contains(&t)) {
            parts.push(t);
        }
        cur = c.source();
    }
    parts.join(": ")
}

impl AwsCloud {
    /// Clients for `region`, with the named profile if given.
    pub async fn new(region: &str, profile: Option<&str>) -> Self {
        Self::with_endpoint(region, profile, None).await
    }

    /// Clients for `region` talking to `endpoint` instead of AWS's (what `AWS_ENDPOINT_URL`
    /// does for the whole process).
    pub async fn with_endpoint(region: &str, profile: Option<&str>, endpoint: Option<&str>) -> Self {
        Self::build(region, profile, endpoint, None).await
    }

    /// Clients for an endpoint with static credentials (an S3-compatible store, an emulator).
    pub async fn with_static_credentials(region: &str, endpoint: &str, access_key: &str, secret: &str) -> Self {
        Self::build(region, None, Some(endpoint), Some((access_key, secret))).await
    }

    async fn build(region: &str, profile: Option<&str>, endpoint: Option<&str>, keys: Option<(&str, &str)>) -> Self {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        // no call hangs a deploy: the SDK's only default is a connect timeout (code review); an
        // attempt that stalls is retried, and a call gives up after SDK_OPERATION_TIMEOUT
        let timeouts = aws_config::timeout::TimeoutConfig::builder()
            .connect_timeout(SDK_CONNECT_TIMEOUT)
            .operation_attempt_timeout(SDK_ATTEMPT_TIMEOUT)
            .operation_timeout(SDK_OPERATION_TIMEOUT)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(timeouts)
            .region(Region::new(region.to_string()));
        // a profile from the environment file, unless the user chose one for this shell
        if let Some(p) = profile.filter(|_| std::env::var_os("AWS_PROFILE").is_none()) {
            loader = loader.profile_name(p);
        }
        if let Some(e) = endpoint {
            loader = loader.endpoint_url(e);
        }
        if let Some((key, secret)) = keys {
            loader =
                loader.credentials_provider(aws_sdk_sts::config::Credentials::new(key, secret, None, None, "static"));
        }
        let conf = loader.load().await;
        // path-style addressing when an endpoint is configured (virtual hosts need DNS for it)
        let custom_endpoint = endpoint.is_some()
            || std::env::var_os("AWS_ENDPOINT_URL").is_some()
            || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        Self::clients(region, conf, custom_endpoint, HttpClient::default())
    }

    fn clients(region: &str, conf: aws_config::SdkConfig, custom_endpoint: bool, http: HttpClient) -> Self {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf).force_path_style(custom_endpoint).build(),
        );
        Self {
            region: region.to_string(),
            cfn: aws_sdk_cloudformation::Client::new(&conf),
            s3,
            lambda: aws_sdk_lambda::Client::new(&conf),
            sts: aws_sdk_sts::Client::new(&conf),
            cloudfront: aws_sdk_cloudfront::Client::new(&conf),
            medialive: aws_sdk_medialive::Client::new(&conf),
            mediaconnect: aws_sdk_mediaconnect::Client::new(&conf),
            dynamodb: aws_sdk_dynamodb::Client::new(&conf),
            cloudcontrol: aws_sdk_cloudcontrol::Client::new(&conf),
            http,
            conf,
            custom_endpoint,
        }
    }
}

fn time(t: Option<&aws_smithy_types::DateTime>) -> String {
    t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok()).unwrap_or_default()
}

impl Cloud for AwsCloud {
    fn region(&self) -> &str {
        &self.region
    }

    fn for_region(&self, region: &str) -> Self {
        if region == self.region {
            return self.clone();
        }
        let conf = self.conf.to_builder().region(Region::new(region.to_string())).build();
        Self::clients(region, conf, self.custom_endpoint, self.http.clone())
    }

    async fn caller_identity(&self) -> CloudResult<Identity> {
        let out = self.sts.get_caller_identity().send().await.map_err(|e| err("STS GetCallerIdentity", e))?;
        Ok(Identity { account: out.account().unwrap_or_default().into(), arn: out.arn().unwrap_or_default().into() })
    }

    async fn bucket_exists(&self, bucket: &str) -> CloudResult<bool> {
        match self.s3.head_bucket().bucket(bucket).set_expected_bucket_owner(owner_of(bucket)).send().await {
            Ok(_) => Ok(true),
            Err(e) => {
                let status = e.raw_response().map(|r| r.status().as_u16());
                if status == Some(404) { Ok(false) } else { Err(err("S3 HeadBucket", e)) }
            }
        }
    }

    async fn create_state_bucket(&self, bucket: &str) -> CloudResult<()> {
        if !self.bucket_exists(bucket).await? {
            let mut req = self.s3.create_bucket().bucket(bucket);
            if self.region != "us-east-1" {
                req = req.create_bucket_configuration(
                    s3t::CreateBucketConfiguration::builder()
                        .location_constraint(s3t::BucketLocationConstraint::from(self.region.as_str()))
                        .build(),
                );
            }
            req.send().await.map_err(|e| err("S3 CreateBucket", e))?;
        }
        self.s3
            .put_public_access_block()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_of(bucket))
            .public_access_block_configuration(
                s3t::PublicAccessBlockConfiguration::builder()
                    .block_public_acls(true)
                    .block_public_policy(true)
                    .ignore_public_acls(true)
                    .restrict_public_buckets(true)
                    .build(),
            )
            .send()
            .await
            .map_err(|e| err("S3 PutPublicAccessBlock", e))?;
        let by_default = s3t::ServerSideEncryptionByDefault::builder()
            .sse_algorithm(s3t::ServerSideEncryption::Aes256)
            .build()
            .map_err(|e| CloudError::Transport {
                operation: "S3 PutBucketEncryption".into(),
                message: e.to_string(),
            })?;
        let sse = s3t::ServerSideEncryptionConfiguration::builder()
            .rules(s3t::ServerSideEncryptionRule::builder().apply_server_side_encryption_by_default(by_default).build())
            .build()
            .map_err(|e| CloudError::Transport {
                operation: "S3 PutBucketEncryption".into(),
                message: e.to_string(),
            })?;
        self.s3
            .put_bucket_encryption()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_of(bucket))
            .server_side_encryption_configuration(sse)
            .send()
            .await
            .map_err(|e| err("S3 PutBucketEncryption", e))?;
        self.s3
            .put_bucket_versioning()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_of(bucket))
            .versioning_configuration(
                s3t::VersioningConfiguration::builder().status(s3t::BucketVersioningStatus::Enabled).build(),
            )
            .send()
            .await
            .map_err(|e| err("S3 PutBucketVersioning", e))?;
        Ok(())
    }

    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        if_absent: bool,
    ) -> CloudResult<()> {
        let mut req = self
            .s3
            .put_object()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_of(bucket))
            .key(key)
            .body(ByteStream::from(body))
            .content_type(content_type);
        if if_absent {
            req = req.if_none_match("*");
        }
        req.send().await.map_err(|e| err(&format!("S3 PutObject s3://{bucket}/{key}"), e))?;
        Ok(())
    }

    async fn get_object(&self, bucket: &str, key: &str) -> CloudResult<Option<Vec<u8>>> {
        match self.s3.get_object().bucket(bucket).set_expected_bucket_owner(owner_of(bucket)).key(key).send().await {
            Ok(out) => {
                let bytes = out.body.collect().await.map_err(|e| CloudError::Transport {
                    operation: format!("S3 GetObject s3://{bucket}/{key}"),
                    message: e.to_string(),
                })?;
                Ok(Some(bytes.into_bytes().to_vec()))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(err(&format!("S3 GetObject s3://{bucket}/{key}"), e)),
        }
    }

    async fn object_exists(&self, bucket: &str, key: &str) -> CloudResult<bool> {
        match self.s3.head_object().bucket(bucket).set_expected_bucket_owner(owner_of(bucket)).key(key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
            Err(e) => Err(err(&format!("S3 HeadObject s3://{bucket}/{key}"), e)),
        }
    }

    async fn delete_object(&self, bucket: &str, key: &str) -> CloudResult<()> {
        self.s3
            .delete_object()
            .bucket(bucket)
            .set_expected_bucket_owner(owner_of(bucket))
            .key(key)
            .send()
            .await
            .map_err(|e| err(&format!("S3 DeleteObject s3://{bucket}/{key}"), e))?;
        Ok(())
    }

    async fn delete_object_versions(&self, bucket: &str, key: &str) -> CloudResult<usize> {
        let mut versions: Vec<Option<String>> = vec![];
        let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
        loop {
            let out = self
                .s3
                .list_object_versions()
                .bucket(bucket)
                .set_expected_bucket_owner(owner_of(bucket))
                .prefix(key)
                .set_key_marker(key_marker.clone())
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
                .map_err(|e| err(&format!("S3 ListObjectVersions s3://{bucket}/{key}"), e))?;
            versions.extend(
                out.versions().iter().filter(|v| v.key() == Some(key)).map(|v| v.version_id().map(str::to_string)),
            );
            versions.extend(
                out.delete_markers()
                    .iter()
                    .filter(|m| m.key() == Some(key))
                    .map(|m| m.version_id().map(str::to_string)),
            );
            if !out.is_truncated().unwrap_or(false) {
                break;
            }
            key_marker = out.next_key_marker().map(str::to_string);
            version_marker = out.next_version_id_marker().map(str::to_string);
        }
        for v in &versions {
            self.s3
                .delete_object()
                .bucket(bucket)
                .set_expected_bucket_owner(owner_of(bucket))
                .key(key)
                .set_version_id(v.clone())
                .send()
                .await
                .map_err(|e| err(&format!("S3 DeleteObject s3://{bucket}/{key} (a version)"), e))?;
        }
        Ok(versions.len())
    }

    async fn list_objects(&self, bucket: &str, prefix: &str) -> CloudResult<Vec<String>> {
        let mut keys = vec![];
        let mut token: Option<String> = None;
        loop {
            let out = self
                .s3
                .list_objects_v2()
                .bucket(bucket)
                .set_expected_bucket_owner(owner_of(bucket))
                .prefix(prefix)
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|e| err(&format!("S3 ListObjectsV2 s3://{bucket}/{prefix}"), e))?;
            keys.extend(out.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            match out.next_continuation_token() {
                Some(t) if out.is_truncated().unwrap_or(false) => token = Some(t.to_string()),
                _ => break,
            }
        }
        keys.sort();
        Ok(keys)
    }

    async fn describe_stack(&self, stack: &str) -> CloudResult<Option<StackInfo>> {
        let out = match self.cfn.describe_stacks().stack_name(stack).send().await {
            Ok(o) => o,
            Err(e) => {
                let e = err("CloudFormation DescribeStacks", e);
                if let CloudError::Service { message, .. } = &e
                    && message.contains("does not exist")
                {
                    return Ok(None);
                }
                return Err(e);
            }
        };
        let Some(s) = out.stacks().first() else { return Ok(None) };
        let status = s.stack_status().map(|x| x.as_str().to_string()).unwrap_or_default();
        if status == "DELETE_COMPLETE" {
            return Ok(None);
        }
        Ok(Some(StackInfo {
            name: s.stack_name().unwrap_or_default().into(),
            id: s.stack_id().unwrap_or_default().into(),
            status,
            reason: s.stack_status_reason().map(str::to_string),
            parameters: s
                .parameters()
                .iter()
                .map(|p| (p.parameter_key().unwrap_or_default().into(), p.parameter_value().unwrap_or_default().into()))
                .collect(),
            outputs: s
                .outputs()
                .iter()
                .map(|o| (o.output_key().unwrap_or_default().into(), o.output_value().unwrap_or_default().into()))
                .collect(),
            tags: s
                .tags()
                .iter()
                .map(|t| (t.key().unwrap_or_default().into(), t.value().unwrap_or_default().into()))
                .collect(),
            last_updated: Some(time(s.last_updated_time().or(s.creation_time()))),
        }))
    }

    async fn get_template(&self, stack: &str) -> CloudResult<String> {
        let out = self
            .cfn
            .get_template()
            .stack_name(stack)
            .template_stage(cfn::TemplateStage::Original)
            .send()
            .await
            .map_err(|e| err("CloudFormation GetTemplate", e))?;
        Ok(out.template_body().unwrap_or_default().to_string())
    }

    async fn list_stack_resources(&self, stack: &str) -> CloudResult<Vec<StackResource>> {
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let page = self
                .cfn
                .list_stack_resources()
                .stack_name(stack)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| err("CloudFormation ListStackResources", e))?;
            for r in page.stack_resource_summaries() {
                out.push(StackResource {
                    logical_id: r.logical_resource_id().unwrap_or_default().into(),
                    physical_id: r.physical_resource_id().unwrap_or_default().into(),
                    resource_type: r.resource_type().unwrap_or_default().into(),
                });
            }
            match page.next_token() {
                Some(t) => token = Some(t.to_string()),
                None => break,
            }
        }
        Ok(out)
    }

    async fn create_change_set(&self, req: &ChangeSetRequest) -> CloudResult<String> {
        let params: Vec<cfn::Parameter> = req
            .parameters
            .iter()
            .map(|(k, v)| cfn::Parameter::builder().parameter_key(k).parameter_value(v).build())
            .collect();
        let tags: Vec<cfn::Tag> = req.tags.iter().map(|(k, v)| cfn::Tag::builder().key(k).value(v).build()).collect();
        let out = self
            .cfn
            .create_change_set()
            .stack_name(&req.stack)
            .change_set_name(&req.name)
            .template_body(&req.template_body)
            .set_parameters(Some(params))
            .set_tags(Some(tags))
            .capabilities(cfn::Capability::CapabilityIam)
            .set_role_arn(req.role_arn.clone())
            .change_set_type(if !req.imports.is_empty() {
                cfn::ChangeSetType::Import
            } else if req.create {
                cfn::ChangeSetType::Create
            } else {
                cfn::ChangeSetType::Update
            })
            .set_resources_to_import((!req.imports.is_empty()).then(|| {
                req.imports
                    .iter()
                    .map(|r| {
                        cfn::ResourceToImport::builder()
                            .resource_type(&r.resource_type)
                            .logical_resource_id(&r.logical_id)
                            .resource_identifier(&r.identifier.0, &r.identifier.1)
                            .build()
                    })
                    .collect()
            }))
            .send()
            .await
            .map_err(|e| err("CloudFormation CreateChangeSet", e))?;
        Ok(out.id().unwrap_or_default().to_string())
    }

    async fn describe_change_set(&self, stack: &str, id: &str) -> CloudResult<ChangeSetInfo> {
        // every page: a replacement on a later page must reach the data-loss guard (code review)
        let mut changes = vec![];
        let mut token: Option<String> = None;
        let out = loop {
            let out = self
                .cfn
                .describe_change_set()
                .stack_name(stack)
                .change_set_name(id)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| err("CloudFormation DescribeChangeSet", e))?;
            changes.extend(out.changes().iter().filter_map(|c| c.resource_change()).map(|rc| ResourceChange {
                action: rc.action().map(|a| a.as_str().to_string()).unwrap_or_default(),
                logical_id: rc.logical_resource_id().unwrap_or_default().into(),
                resource_type: rc.resource_type().unwrap_or_default().into(),
                replacement: rc.replacement().map(|r| r.as_str().to_string()),
            }));
            match out.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break out,
            }
        };
        Ok(ChangeSetInfo {
            id: out.change_set_id().unwrap_or(id).to_string(),
            status: out.status().map(|s| s.as_str().to_string()).unwrap_or_default(),
            reason: out.status_reason().map(str::to_string),
            execution_status: out.execution_status().map(|s| s.as_str().to_string()),
            changes,
        })
    }

    async fn execute_change_set(&self, stack: &str, id: &str) -> CloudResult<()> {
        self.cfn
            .execute_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| err("CloudFormation ExecuteChangeSet", e))?;
        Ok(())
    }

    async fn delete_change_set(&self, stack: &str, id: &str) -> CloudResult<()> {
        self.cfn
            .delete_change_set()
            .stack_name(stack)
            .change_set_name(id)
            .send()
            .await
            .map_err(|e| err("CloudFormation DeleteChangeSet", e))?;
        Ok(())
    }

    async fn stack_events(&self, stack: &str) -> CloudResult<Vec<StackEvent>> {
        let out = self
            .cfn
            .describe_stack_events()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| err("CloudFormation DescribeStackEvents", e))?;
        Ok(out
            .stack_events()
            .iter()
            .map(|e| StackEvent {
                id: e.event_id().unwrap_or_default().into(),
                timestamp: time(e.timestamp()),
                logical_id: e.logical_resource_id().unwrap_or_default().into(),
                resource_type: e.resource_type().unwrap_or_default().into(),
                status: e.resource_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
                reason: e.resource_status_reason().map(str::to_string),
                physical_id: e.physical_resource_id().map(str::to_string),
            })
            .collect())
    }

    async fn delete_stack(&self, stack: &str) -> CloudResult<()> {
        self.cfn.delete_stack().stack_name(stack).send().await.map_err(|e| err("CloudFormation DeleteStack", e))?;
        Ok(())
    }

    async fn continue_update_rollback(&self, stack: &str, skip: &[String]) -> CloudResult<()> {
        self.cfn
            .continue_update_rollback()
            .stack_name(stack)
            .set_resources_to_skip(if skip.is_empty() { None } else { Some(skip.to_vec()) })
            .send()
            .await
            .map_err(|e| err("CloudFormation ContinueUpdateRollback", e))?;
        Ok(())
    }

    async fn detect_drift(&self, stack: &str) -> CloudResult<String> {
        let id = self
            .cfn
            .detect_stack_drift()
            .stack_name(stack)
            .send()
            .await
            .map_err(|e| err("CloudFormation DetectStackDrift", e))?
            .stack_drift_detection_id()
            .unwrap_or_default()
            .to_string();
        for _ in 0..60 {
            let out = self
                .cfn
                .describe_stack_drift_detection_status()
                .stack_drift_detection_id(&id)
                .send()
                .await
                .map_err(|e| err("CloudFormation DescribeStackDriftDetectionStatus", e))?;
            let status = out.detection_status().map(|s| s.as_str().to_string()).unwrap_or_default();
            if status != "DETECTION_IN_PROGRESS" {
                return Ok(out.stack_drift_status().map(|s| s.as_str().to_string()).unwrap_or(status));
            }
            tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        }
        Ok("DETECTION_IN_PROGRESS".into())
    }

    async fn empty_bucket(&self, bucket: &str) -> CloudResult<usize> {
        let mut deleted = 0;
        let mut rounds = 0;
        loop {
            let out = self
                .s3
                .list_object_versions()
                .bucket(bucket)
                .set_expected_bucket_owner(owner_of(bucket))
                .send()
                .await
                .map_err(|e| err(&format!("S3 ListObjectVersions {bucket}"), e))?;
            let mut ids: Vec<s3t::ObjectIdentifier> = vec![];
            for v in out.versions() {
                if let Some(k) = v.key() {
                    ids.push(
                        s3t::ObjectIdentifier::builder()
                            .key(k)
                            .set_version_id(v.version_id().map(str::to_string))
                            .build()
                            .map_err(|e| CloudError::Transport {
                                operation: "S3 DeleteObjects".into(),
                                message: e.to_string(),
                            })?,
                    );
                }
            }
            for m in out.delete_markers() {
                if let Some(k) = m.key() {
                    ids.push(
                        s3t::ObjectIdentifier::builder()
                            .key(k)
                            .set_version_id(m.version_id().map(str::to_string))
                            .build()
                            .map_err(|e| CloudError::Transport {
                                operation: "S3 DeleteObjects".into(),
                                message: e.to_string(),
                            })?,
                    );
                }
            }
            if ids.is_empty() {
                return Ok(deleted);
            }
            deleted += ids.len();
            let del =
                s3t::Delete::builder().set_objects(Some(ids)).quiet(true).build().map_err(|e| {
                    CloudError::Transport { operation: "S3 DeleteObjects".into(), message: e.to_string() }
                })?;
            let out = self
                .s3
                .delete_objects()
                .bucket(bucket)
                .set_expected_bucket_owner(owner_of(bucket))
                .delete(del)
                .send()
                .await
                .map_err(|e| err(&format!("S3 DeleteObjects {bucket}"), e))?;
            // a version S3 will not delete (object lock, access denied) would make this loop
            // forever (code review): stop and say which
            if let Some(e) = out.errors().first() {
                return Err(CloudError::Transport {
                    operation: format!("S3 DeleteObjects {bucket}"),
                    message: format!(
                        "{} of {} versions could not be deleted; first: {} ({}): {}",
                        out.errors().len(),
                        deleted,
                        e.key().unwrap_or("?"),
                        e.code().unwrap_or("?"),
                        e.message().unwrap_or("")
                    ),
                });
            }
            rounds += 1;
            if rounds >= EMPTY_BUCKET_MAX_ROUNDS {
                return Err(CloudError::Transport {
                    operation: format!("S3 DeleteObjects {bucket}"),
                    message: format!(
                        "still not empty after {rounds} rounds ({deleted} versions deleted): something keeps writing to it"
                    ),
                });
            }
        }
    }

    async fn update_alias(&self, function: &str, alias: &str, version: &str) -> CloudResult<()> {
        self.lambda
            .update_alias()
            .function_name(function)
            .name(alias)
            .function_version(version)
            .send()
            .await
            .map_err(|e| err(&format!("Lambda UpdateAlias {function}:{alias} -> {version}"), e))?;
        Ok(())
    }

    async fn change_set_failures(&self, stack: &str, change_set: &str) -> CloudResult<Vec<ValidationFailure>> {
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let page = self
                .cfn
                .describe_events()
                .stack_name(stack)
                .change_set_name(change_set)
                .filters(cfn::EventFilter::builder().failed_events(true).build())
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| err("CloudFormation DescribeEvents", e))?;
            for e in page.operation_events() {
                let reason = e.validation_status_reason().or(e.resource_status_reason()).unwrap_or_default();
                if reason.is_empty() {
                    continue;
                }
                out.push(ValidationFailure {
                    logical_id: e.logical_resource_id().unwrap_or_default().into(),
                    resource_type: e.resource_type().unwrap_or_default().into(),
                    validation: e.validation_name().unwrap_or("validation").into(),
                    reason: reason.into(),
                    path: e.validation_path().map(str::to_string),
                });
            }
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => break,
            }
        }
        Ok(out)
    }

    async fn get_function(&self, name: &str) -> CloudResult<FunctionInfo> {
        let out =
            self.lambda.get_function().function_name(name).send().await.map_err(|e| err("Lambda GetFunction", e))?;
        let c = out.configuration();
        let env: serde_json::Map<String, serde_json::Value> = c
            .and_then(|c| c.environment())
            .and_then(|e| e.variables())
            .map(|v| v.iter().map(|(k, v)| (k.clone(), serde_json::json!(v))).collect())
            .unwrap_or_default();
        let configuration = serde_json::json!({
            "FunctionName": c.and_then(|c| c.function_name()),
            "Runtime": c.and_then(|c| c.runtime()).map(|r| r.as_str()),
            "Handler": c.and_then(|c| c.handler()),
            "MemorySize": c.and_then(|c| c.memory_size()),
            "Timeout": c.and_then(|c| c.timeout()),
            "Role": c.and_then(|c| c.role()),
            "Version": c.and_then(|c| c.version()),
            "CodeSha256": c.and_then(|c| c.code_sha256()),
            "Environment": env,
            "LoggingConfig": {"LogGroup": c.and_then(|c| c.logging_config()).and_then(|l| l.log_group())},
        });
        Ok(FunctionInfo {
            name: name.to_string(),
            code_location: out.code().and_then(|c| c.location()).unwrap_or_default().to_string(),
            code_sha256: c.and_then(|c| c.code_sha256()).unwrap_or_default().to_string(),
            configuration,
        })
    }

    async fn invalidate(&self, distribution_id: &str, paths: &[&str]) -> CloudResult<()> {
        use aws_sdk_cloudfront::types::{InvalidationBatch, Paths};
        let build_err = |e: aws_sdk_cloudfront::error::BuildError| CloudError::Transport {
            operation: "CloudFront CreateInvalidation".into(),
            message: e.to_string(),
        };
        let p = Paths::builder()
            .quantity(paths.len() as i32)
            .set_items(Some(paths.iter().map(|s| s.to_string()).collect()))
            .build()
            .map_err(build_err)?;
        let reference = format!(
            "castform-{}",
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0)
        );
        let batch = InvalidationBatch::builder().paths(p).caller_reference(reference).build().map_err(build_err)?;
        let created = self
            .cloudfront
            .create_invalidation()
            .distribution_id(distribution_id)
            .invalidation_batch(batch)
            .send()
            .await
            .map_err(|e| err("CloudFront CreateInvalidation", e))?;
        // Edges serve the old objects until the invalidation is Completed ("When the invalidation
        // batch is finished, the status is Completed", GetInvalidation in the CloudFront API
        // reference), so verification through the CDN must wait for it. The AWS CLI's
        // invalidation-completed waiter gives up after 10 minutes; so does this.
        let Some(id) = created.invalidation().map(|i| i.id().to_string()) else { return Ok(()) };
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(600);
        let mut wait = std::time::Duration::from_millis(250);
        loop {
            let got = self
                .cloudfront
                .get_invalidation()
                .distribution_id(distribution_id)
                .id(&id)
                .send()
                .await
                .map_err(|e| err("CloudFront GetInvalidation", e))?;
            if got.invalidation().map(|i| i.status()) == Some("Completed") {
                return Ok(());
            }
            if std::time::Instant::now() > deadline {
                return Err(CloudError::Transport {
                    operation: "CloudFront GetInvalidation".into(),
                    message: format!("invalidation {id} of {distribution_id} not Completed after 10 minutes"),
                });
            }
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(std::time::Duration::from_secs(10));
        }
    }

    async fn describe_channel(&self, id: &str) -> CloudResult<Option<ChannelState>> {
        match self.medialive.describe_channel().channel_id(id).send().await {
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

    async fn start_channel(&self, id: &str) -> CloudResult<()> {
        self.medialive.start_channel().channel_id(id).send().await.map_err(|e| err("MediaLive StartChannel", e))?;
        Ok(())
    }

    async fn stop_channel(&self, id: &str) -> CloudResult<()> {
        self.medialive.stop_channel().channel_id(id).send().await.map_err(|e| err("MediaLive StopChannel", e))?;
        Ok(())
    }

    async fn describe_flow(&self, arn: &str) -> CloudResult<Option<FlowState>> {
        match self.mediaconnect.describe_flow().flow_arn(arn).send().await {
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

    async fn describe_table(&self, name: &str) -> CloudResult<Option<TableInfo>> {
        let out = match self.dynamodb.describe_table().table_name(name).send().await {
            Ok(out) => out,
            Err(e) => {
                return match err("DynamoDB DescribeTable", e) {
                    CloudError::Service { code, .. } if code == "ResourceNotFoundException" => Ok(None),
                    other => Err(other),
                };
            }
        };
        let Some(t) = out.table() else { return Ok(None) };
        let types: std::collections::HashMap<&str, &str> =
            t.attribute_definitions().iter().map(|a| (a.attribute_name(), a.attribute_type().as_str())).collect();
        Ok(Some(TableInfo {
            name: t.table_name().unwrap_or(name).to_string(),
            arn: t.table_arn().unwrap_or_default().to_string(),
            keys: t
                .key_schema()
                .iter()
                .map(|k| {
                    let attr = k.attribute_name();
                    (
                        attr.to_string(),
                        k.key_type().as_str().to_string(),
                        types.get(attr).copied().unwrap_or("").to_string(),
                    )
                })
                .collect(),
            billing_mode: t
                .billing_mode_summary()
                .and_then(|b| b.billing_mode())
                .map_or("PROVISIONED".into(), |b| b.as_str().to_string()),
            indexes: t.global_secondary_indexes().iter().filter_map(|g| g.index_name().map(str::to_string)).collect(),
            stream: t
                .stream_specification()
                .filter(|s| s.stream_enabled())
                .and_then(|s| s.stream_view_type())
                .map(|v| v.as_str().to_string()),
            status: t.table_status().map(|s| s.as_str().to_string()).unwrap_or_default(),
        }))
    }

    async fn list_tables(&self) -> CloudResult<Vec<String>> {
        let mut names = vec![];
        let mut start: Option<String> = None;
        loop {
            let out = self
                .dynamodb
                .list_tables()
                .set_exclusive_start_table_name(start.clone())
                .send()
                .await
                .map_err(|e| err("DynamoDB ListTables", e))?;
            names.extend(out.table_names().iter().cloned());
            match out.last_evaluated_table_name() {
                Some(last) => start = Some(last.to_string()),
                None => return Ok(names),
            }
        }
    }

    async fn get_resource(&self, type_name: &str, identifier: &str) -> CloudResult<Option<serde_json::Value>> {
        let out = match self.cloudcontrol.get_resource().type_name(type_name).identifier(identifier).send().await {
            Ok(out) => out,
            Err(e) => {
                return match err("Cloud Control GetResource", e) {
                    CloudError::Service { code, .. } if code == "ResourceNotFoundException" => Ok(None),
                    other => Err(other),
                };
            }
        };
        let properties = out.resource_description().and_then(|d| d.properties()).unwrap_or("{}");
        serde_json::from_str(properties).map(Some).map_err(|e| CloudError::Service {
            operation: "Cloud Control GetResource".into(),
            code: "InvalidResponse".into(),
            message: format!("the properties of {type_name} {identifier} are not JSON: {e}"),
        })
    }

    async fn list_resources(&self, type_name: &str) -> CloudResult<Vec<String>> {
        let mut out = vec![];
        let mut token: Option<String> = None;
        loop {
            let page = self
                .cloudcontrol
                .list_resources()
                .type_name(type_name)
                .set_next_token(token.take())
                .send()
                .await
                .map_err(|e| err("Cloud Control ListResources", e))?;
            out.extend(page.resource_descriptions().iter().filter_map(|d| d.identifier().map(str::to_string)));
            match page.next_token() {
                Some(t) if !t.is_empty() => token = Some(t.to_string()),
                _ => return Ok(out),
            }
        }
    }

    async fn count_items(&self, table: &str) -> CloudResult<u64> {
        let mut total = 0u64;
        let mut start = None;
        loop {
            let out = self
                .dynamodb
                .scan()
                .table_name(table)
                .select(aws_sdk_dynamodb::types::Select::Count)
                .set_exclusive_start_key(start)
                .send()
                .await
                .map_err(|e| err("DynamoDB Scan", e))?;
            total += u64::try_from(out.count()).unwrap_or(0);
            match out.last_evaluated_key() {
                Some(k) if !k.is_empty() => start = Some(k.clone()),
                _ => return Ok(total),
            }
        }
    }

    async fn start_flow(&self, arn: &str) -> CloudResult<()> {
        self.mediaconnect.start_flow().flow_arn(arn).send().await.map_err(|e| err("MediaConnect StartFlow", e))?;
        Ok(())
    }

    async fn stop_flow(&self, arn: &str) -> CloudResult<()> {
        self.mediaconnect.stop_flow().flow_arn(arn).send().await.map_err(|e| err("MediaConnect StopFlow", e))?;
        Ok(())
    }

    async fn http_get(&self, url: &str) -> CloudResult<(u16, Vec<u8>)> {
        self.http.get(url).await
    }

    async fn http_get_signed(&self, url: &str, service: &str, region: &str) -> CloudResult<(u16, Vec<u8>)> {
        use aws_credential_types::provider::ProvideCredentials;
        use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
        let op = "SigV4 signing";
        let fail = |message: String| CloudError::Transport { operation: op.into(), message };
        let provider = self.conf.credentials_provider().ok_or_else(|| fail("no credentials were found".into()))?;
        let identity = provider.provide_credentials().await.map_err(|e| fail(e.to_string()))?.into();
        let params = aws_sigv4::sign::v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(std::time::SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| fail(e.to_string()))?
            .into();
        let signable = SignableRequest::new("GET", url, std::iter::empty(), SignableBody::Bytes(&[]))
            .map_err(|e| fail(e.to_string()))?;
        let (instructions, _) = sign(signable, &params).map_err(|e| fail(e.to_string()))?.into_parts();
        let headers: Vec<(String, String)> =
            instructions.headers().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.http.get_with(url, &headers).await
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_state_buckets_owner_comes_from_its_name() {
        assert_eq!(super::owner_of("castform-372241484305-us-west-2").as_deref(), Some("372241484305"));
        assert_eq!(super::owner_of("orders-prod-web-sitebucket"), None);
        assert_eq!(super::owner_of("castform-assets-us-west-2"), None);
    }
}
