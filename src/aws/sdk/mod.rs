//! [`Cloud`] over the AWS SDK for Rust: clients built once from the standard chain (profiles,
//! SSO, environment, `AWS_ENDPOINT_URL`), with the region and profile of the environment file.
//! Each service's calls live in its own file; the `Cloud` impl here says which answers what.

mod cloudcontrol;
mod cloudformation;
mod cloudfront;
mod dynamodb;
mod errors;
mod identity;
mod lambda;
mod media;
mod s3;

use super::http::HttpClient;
use super::*;
use aws_config::{BehaviorVersion, Region};
use errors::{chain, err};

/// Clients for one region, retrying and timing out as [`limits`] says.
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
        use aws_smithy_http_client::tls;
        // AWS_CA_BUNDLE, which the AWS CLI and the other SDKs read and the Rust SDK does not
        // (issue 36): its authorities are trusted besides the system's. A bundle that cannot be
        // used is left out, and a certificate error then says why (errors::transport).
        let mut trust = tls::TrustStore::default();
        if let Ok(Some(pem)) = super::http::ca_bundle() {
            trust = trust.with_pem_certificate(pem);
        }
        let mut builder = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(tls::rustls_provider::CryptoMode::Ring));
        if let Ok(context) = tls::TlsContext::builder().with_trust_store(trust).build() {
            builder = builder.tls_context(context);
        }
        let http = builder.build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .retry_config(limits::retries())
            .timeout_config(limits::api_timeouts())
            // the credentials bounded too: a credential_process that never returns (issue 36)
            .identity_cache(aws_config::identity::IdentityCache::lazy().load_timeout(limits::credentials()).build())
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

    /// The same clients with the retries' first wait `initial` (and each later one twice the one
    /// before, capped at the SDK's 20 s, with jitter) instead of the SDK's 1 s: tests shorten it
    /// so a call throttled to the last attempt fails in milliseconds. The attempts, the errors
    /// retried and everything else stay what users run.
    #[doc(hidden)]
    pub fn with_retry_backoff(&self, initial: std::time::Duration) -> Self {
        let retries = limits::retries().with_initial_backoff(initial);
        let conf = self.conf.to_builder().retry_config(retries).build();
        Self::clients(&self.region, conf, self.custom_endpoint, self.http.clone())
    }

    fn clients(region: &str, conf: aws_config::SdkConfig, custom_endpoint: bool, http: HttpClient) -> Self {
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(custom_endpoint)
                .timeout_config(limits::object_timeouts())
                .retry_partition(limits::retry_partition())
                .build(),
        );
        // every client with castform's retry partition (limits::retry_partition)
        macro_rules! client {
            ($sdk:ident) => {
                $sdk::Client::from_conf(
                    $sdk::config::Builder::from(&conf).retry_partition(limits::retry_partition()).build(),
                )
            };
        }
        Self {
            region: region.to_string(),
            cfn: client!(aws_sdk_cloudformation),
            s3,
            lambda: client!(aws_sdk_lambda),
            sts: client!(aws_sdk_sts),
            cloudfront: client!(aws_sdk_cloudfront),
            medialive: client!(aws_sdk_medialive),
            mediaconnect: client!(aws_sdk_mediaconnect),
            dynamodb: client!(aws_sdk_dynamodb),
            cloudcontrol: client!(aws_sdk_cloudcontrol),
            http,
            conf,
            custom_endpoint,
        }
    }
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
        identity::caller_identity(&self.sts).await
    }

    async fn bucket_exists(&self, bucket: &str) -> CloudResult<bool> {
        s3::bucket_exists(&self.s3, bucket).await
    }
    async fn create_state_bucket(&self, bucket: &str) -> CloudResult<()> {
        s3::create_state_bucket(&self.s3, &self.region, bucket).await
    }
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        if_absent: bool,
    ) -> CloudResult<()> {
        s3::put_object(&self.s3, bucket, key, body, content_type, if_absent).await
    }
    async fn get_object(&self, bucket: &str, key: &str) -> CloudResult<Option<Vec<u8>>> {
        s3::get_object(&self.s3, bucket, key).await
    }
    async fn put_object_if(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        condition: IfObject<'_>,
    ) -> CloudResult<String> {
        s3::put_object_if(&self.s3, bucket, key, body, content_type, condition).await
    }
    async fn get_object_tagged(&self, bucket: &str, key: &str) -> CloudResult<Option<(Vec<u8>, String)>> {
        s3::get_object_tagged(&self.s3, bucket, key).await
    }
    async fn delete_object_if(&self, bucket: &str, key: &str, etag: &str) -> CloudResult<()> {
        s3::delete_object_if(&self.s3, bucket, key, etag).await
    }
    async fn object_exists(&self, bucket: &str, key: &str) -> CloudResult<bool> {
        s3::object_exists(&self.s3, bucket, key).await
    }
    async fn delete_object(&self, bucket: &str, key: &str) -> CloudResult<()> {
        s3::delete_object(&self.s3, bucket, key).await
    }
    async fn delete_object_versions(&self, bucket: &str, key: &str) -> CloudResult<usize> {
        s3::delete_object_versions(&self.s3, bucket, key).await
    }
    async fn list_objects(&self, bucket: &str, prefix: &str) -> CloudResult<Vec<String>> {
        s3::list_objects(&self.s3, bucket, prefix).await
    }
    async fn empty_bucket(&self, bucket: &str) -> CloudResult<usize> {
        s3::empty_bucket(&self.s3, bucket).await
    }

    async fn describe_stack(&self, stack: &str) -> CloudResult<Option<StackInfo>> {
        cloudformation::describe_stack(&self.cfn, stack).await
    }
    async fn get_template(&self, stack: &str) -> CloudResult<String> {
        cloudformation::get_template(&self.cfn, stack).await
    }
    async fn list_stack_resources(&self, stack: &str) -> CloudResult<Vec<StackResource>> {
        cloudformation::list_stack_resources(&self.cfn, stack).await
    }
    async fn create_change_set(&self, req: &ChangeSetRequest) -> CloudResult<String> {
        cloudformation::create_change_set(&self.cfn, req).await
    }
    async fn describe_change_set(&self, stack: &str, id: &str) -> CloudResult<ChangeSetInfo> {
        cloudformation::describe_change_set(&self.cfn, stack, id).await
    }
    async fn execute_change_set(&self, stack: &str, id: &str) -> CloudResult<()> {
        cloudformation::execute_change_set(&self.cfn, stack, id).await
    }
    async fn delete_change_set(&self, stack: &str, id: &str) -> CloudResult<()> {
        cloudformation::delete_change_set(&self.cfn, stack, id).await
    }
    async fn stack_events(&self, stack: &str) -> CloudResult<Vec<StackEvent>> {
        cloudformation::stack_events(&self.cfn, stack).await
    }
    async fn newest_stack_event(&self, stack: &str) -> CloudResult<Option<StackEvent>> {
        cloudformation::newest_stack_event(&self.cfn, stack).await
    }
    async fn delete_stack(&self, stack: &str) -> CloudResult<()> {
        cloudformation::delete_stack(&self.cfn, stack).await
    }
    async fn cancel_update_stack(&self, stack: &str) -> CloudResult<()> {
        cloudformation::cancel_update_stack(&self.cfn, stack).await
    }
    async fn continue_update_rollback(&self, stack: &str, skip: &[String]) -> CloudResult<()> {
        cloudformation::continue_update_rollback(&self.cfn, stack, skip).await
    }
    async fn detect_drift(&self, stack: &str) -> CloudResult<String> {
        cloudformation::detect_drift(&self.cfn, stack).await
    }
    async fn change_set_failures(&self, stack: &str, change_set: &str) -> CloudResult<Vec<ValidationFailure>> {
        cloudformation::change_set_failures(&self.cfn, stack, change_set).await
    }

    async fn get_function(&self, name: &str) -> CloudResult<FunctionInfo> {
        lambda::get_function(&self.lambda, name).await
    }
    async fn update_function_code(
        &self,
        name: &str,
        bucket: &str,
        key: &str,
        architectures: &[String],
    ) -> CloudResult<()> {
        lambda::update_function_code(&self.lambda, name, bucket, key, architectures).await
    }
    async fn update_function_configuration(&self, name: &str, configuration: &serde_json::Value) -> CloudResult<()> {
        lambda::update_function_configuration(&self.lambda, name, configuration).await
    }
    async fn update_alias(&self, function: &str, alias: &str, version: &str) -> CloudResult<()> {
        lambda::update_alias(&self.lambda, function, alias, version).await
    }
    async fn invalidate(&self, distribution_id: &str, paths: &[&str]) -> CloudResult<()> {
        cloudfront::invalidate(&self.cloudfront, distribution_id, paths).await
    }

    async fn describe_channel(&self, id: &str) -> CloudResult<Option<ChannelState>> {
        media::describe_channel(&self.medialive, id).await
    }
    async fn start_channel(&self, id: &str) -> CloudResult<()> {
        media::start_channel(&self.medialive, id).await
    }
    async fn stop_channel(&self, id: &str) -> CloudResult<()> {
        media::stop_channel(&self.medialive, id).await
    }
    async fn describe_flow(&self, arn: &str) -> CloudResult<Option<FlowState>> {
        media::describe_flow(&self.mediaconnect, arn).await
    }
    async fn start_flow(&self, arn: &str) -> CloudResult<()> {
        media::start_flow(&self.mediaconnect, arn).await
    }
    async fn stop_flow(&self, arn: &str) -> CloudResult<()> {
        media::stop_flow(&self.mediaconnect, arn).await
    }

    async fn describe_table(&self, name: &str) -> CloudResult<Option<TableInfo>> {
        dynamodb::describe_table(&self.dynamodb, name).await
    }
    async fn list_tables(&self) -> CloudResult<Vec<String>> {
        dynamodb::list_tables(&self.dynamodb).await
    }
    async fn holds_items(&self, table: &str) -> CloudResult<bool> {
        dynamodb::holds_items(&self.dynamodb, table).await
    }
    async fn get_resource(&self, type_name: &str, identifier: &str) -> CloudResult<Option<serde_json::Value>> {
        cloudcontrol::get_resource(&self.cloudcontrol, type_name, identifier).await
    }
    async fn list_resources(&self, type_name: &str) -> CloudResult<Vec<String>> {
        cloudcontrol::list_resources(&self.cloudcontrol, type_name).await
    }

    async fn http_get(&self, url: &str) -> CloudResult<(u16, Vec<u8>)> {
        self.http.get(url).await
    }
    async fn http_get_signed(&self, url: &str, service: &str, region: &str) -> CloudResult<(u16, Vec<u8>)> {
        let headers = identity::signed_get(&self.conf, url, service, region).await?;
        self.http.get_with(url, &headers).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 36: every client, each service's, is bounded: connect, first byte, attempt and the
    /// whole call (S3's longer, for its uploads), and the credentials through the identity cache.
    #[tokio::test]
    async fn every_client_is_bounded() {
        let cloud = AwsCloud::with_static_credentials("eu-west-1", "http://127.0.0.1:9", "AKIAEXAMPLE", "x").await;
        let api = limits::api_timeouts();
        let configs = [
            ("cloudformation", cloud.cfn.config().timeout_config().cloned()),
            ("lambda", cloud.lambda.config().timeout_config().cloned()),
            ("sts", cloud.sts.config().timeout_config().cloned()),
            ("cloudfront", cloud.cloudfront.config().timeout_config().cloned()),
            ("medialive", cloud.medialive.config().timeout_config().cloned()),
            ("mediaconnect", cloud.mediaconnect.config().timeout_config().cloned()),
            ("dynamodb", cloud.dynamodb.config().timeout_config().cloned()),
            ("cloudcontrol", cloud.cloudcontrol.config().timeout_config().cloned()),
        ];
        for (name, t) in configs {
            assert_eq!(t.as_ref(), Some(&api), "{name}");
        }
        let s3 = cloud.s3.config().timeout_config().cloned().unwrap();
        assert_eq!(s3, limits::object_timeouts());
        for t in [api.clone(), s3] {
            assert!(t.connect_timeout().is_some() && t.read_timeout().is_some());
            assert!(t.operation_attempt_timeout().is_some() && t.operation_timeout().is_some());
        }
        assert!(cloud.conf.identity_cache().is_some());
        let other = cloud.for_region("us-east-1");
        assert_eq!(other.cfn.config().timeout_config(), Some(&api));
    }
}
