//! `Retrying<C>`: any [`Cloud`] with throttling retried (`Throttling`, `TooManyRequests`,
//! `SlowDown`, ...) with exponential backoff, on top of the SDK's own attempts, so a busy
//! account slows a deploy down instead of failing it halfway.

use super::*;
use std::future::Future;
use std::time::Duration;

const THROTTLING: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "SlowDown",
    "RequestThrottled",
];

pub struct Retrying<C> {
    pub inner: C,
    pub attempts: u32,
    pub base: Duration,
}

impl<C> Retrying<C> {
    pub fn new(inner: C) -> Self {
        Self { inner, attempts: 8, base: Duration::from_millis(200) }
    }
}

async fn retry<T, F, Fut>(attempts: u32, base: Duration, mut f: F) -> CloudResult<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = CloudResult<T>>,
{
    let mut n = 0;
    loop {
        match f().await {
            Err(e) if e.code().is_some_and(|c| THROTTLING.contains(&c)) && n + 1 < attempts => {
                tokio::time::sleep(base * 2u32.pow(n.min(6))).await;
                n += 1;
            }
            other => return other,
        }
    }
}

macro_rules! retried {
    ($self:ident, $call:expr) => {
        retry($self.attempts, $self.base, || $call).await
    };
}

impl<C: Cloud> Cloud for Retrying<C> {
    fn region(&self) -> &str {
        self.inner.region()
    }
    fn for_region(&self, region: &str) -> Self {
        Self { inner: self.inner.for_region(region), attempts: self.attempts, base: self.base }
    }
    async fn caller_identity(&self) -> CloudResult<Identity> {
        retried!(self, self.inner.caller_identity())
    }
    async fn bucket_exists(&self, bucket: &str) -> CloudResult<bool> {
        retried!(self, self.inner.bucket_exists(bucket))
    }
    async fn create_state_bucket(&self, bucket: &str) -> CloudResult<()> {
        retried!(self, self.inner.create_state_bucket(bucket))
    }
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        if_absent: bool,
    ) -> CloudResult<()> {
        retried!(self, self.inner.put_object(bucket, key, body.clone(), content_type, if_absent))
    }
    async fn get_object(&self, bucket: &str, key: &str) -> CloudResult<Option<Vec<u8>>> {
        retried!(self, self.inner.get_object(bucket, key))
    }
    async fn object_exists(&self, bucket: &str, key: &str) -> CloudResult<bool> {
        retried!(self, self.inner.object_exists(bucket, key))
    }
    async fn delete_object(&self, bucket: &str, key: &str) -> CloudResult<()> {
        retried!(self, self.inner.delete_object(bucket, key))
    }
    async fn delete_object_versions(&self, bucket: &str, key: &str) -> CloudResult<usize> {
        retried!(self, self.inner.delete_object_versions(bucket, key))
    }
    async fn list_objects(&self, bucket: &str, prefix: &str) -> CloudResult<Vec<String>> {
        retried!(self, self.inner.list_objects(bucket, prefix))
    }
    async fn describe_stack(&self, stack: &str) -> CloudResult<Option<StackInfo>> {
        retried!(self, self.inner.describe_stack(stack))
    }
    async fn get_template(&self, stack: &str) -> CloudResult<String> {
        retried!(self, self.inner.get_template(stack))
    }
    async fn list_stack_resources(&self, stack: &str) -> CloudResult<Vec<StackResource>> {
        retried!(self, self.inner.list_stack_resources(stack))
    }
    async fn create_change_set(&self, req: &ChangeSetRequest) -> CloudResult<String> {
        retried!(self, self.inner.create_change_set(req))
    }
    async fn describe_change_set(&self, stack: &str, id: &str) -> CloudResult<ChangeSetInfo> {
        retried!(self, self.inner.describe_change_set(stack, id))
    }
    async fn execute_change_set(&self, stack: &str, id: &str) -> CloudResult<()> {
        retried!(self, self.inner.execute_change_set(stack, id))
    }
    async fn delete_change_set(&self, stack: &str, id: &str) -> CloudResult<()> {
        retried!(self, self.inner.delete_change_set(stack, id))
    }
    async fn stack_events(&self, stack: &str) -> CloudResult<Vec<StackEvent>> {
        retried!(self, self.inner.stack_events(stack))
    }
    async fn delete_stack(&self, stack: &str) -> CloudResult<()> {
        retried!(self, self.inner.delete_stack(stack))
    }
    async fn continue_update_rollback(&self, stack: &str, skip: &[String]) -> CloudResult<()> {
        retried!(self, self.inner.continue_update_rollback(stack, skip))
    }
    async fn detect_drift(&self, stack: &str) -> CloudResult<String> {
        retried!(self, self.inner.detect_drift(stack))
    }
    async fn empty_bucket(&self, bucket: &str) -> CloudResult<usize> {
        retried!(self, self.inner.empty_bucket(bucket))
    }
    async fn update_alias(&self, function: &str, alias: &str, version: &str) -> CloudResult<()> {
        retried!(self, self.inner.update_alias(function, alias, version))
    }
    async fn change_set_failures(&self, stack: &str, change_set: &str) -> CloudResult<Vec<ValidationFailure>> {
        retried!(self, self.inner.change_set_failures(stack, change_set))
    }
    async fn get_function(&self, name: &str) -> CloudResult<FunctionInfo> {
        retried!(self, self.inner.get_function(name))
    }
    async fn describe_channel(&self, id: &str) -> CloudResult<Option<ChannelState>> {
        retried!(self, self.inner.describe_channel(id))
    }
    async fn start_channel(&self, id: &str) -> CloudResult<()> {
        retried!(self, self.inner.start_channel(id))
    }
    async fn stop_channel(&self, id: &str) -> CloudResult<()> {
        retried!(self, self.inner.stop_channel(id))
    }
    async fn describe_flow(&self, arn: &str) -> CloudResult<Option<FlowState>> {
        retried!(self, self.inner.describe_flow(arn))
    }
    async fn start_flow(&self, arn: &str) -> CloudResult<()> {
        retried!(self, self.inner.start_flow(arn))
    }
    async fn describe_table(&self, name: &str) -> CloudResult<Option<TableInfo>> {
        retried!(self, self.inner.describe_table(name))
    }
    async fn list_tables(&self) -> CloudResult<Vec<String>> {
        retried!(self, self.inner.list_tables())
    }
    async fn get_resource(&self, type_name: &str, identifier: &str) -> CloudResult<Option<serde_json::Value>> {
        retried!(self, self.inner.get_resource(type_name, identifier))
    }
    async fn list_resources(&self, type_name: &str) -> CloudResult<Vec<String>> {
        retried!(self, self.inner.list_resources(type_name))
    }
    async fn count_items(&self, table: &str) -> CloudResult<u64> {
        retried!(self, self.inner.count_items(table))
    }
    async fn stop_flow(&self, arn: &str) -> CloudResult<()> {
        retried!(self, self.inner.stop_flow(arn))
    }
    async fn invalidate(&self, distribution_id: &str, paths: &[&str]) -> CloudResult<()> {
        retried!(self, self.inner.invalidate(distribution_id, paths))
    }
    async fn http_get_signed(&self, url: &str, service: &str, region: &str) -> CloudResult<(u16, Vec<u8>)> {
        retried!(self, self.inner.http_get_signed(url, service, region))
    }
    async fn http_get(&self, url: &str) -> CloudResult<(u16, Vec<u8>)> {
        retried!(self, self.inner.http_get(url))
    }
}
