//! The one place AWS is called: the [`Cloud`] interface the deploy engine drives, its
//! implementation over the AWS SDK for Rust ([`AwsCloud`], retrying and timing out as [`limits`]
//! says), and the conversion of SDK errors into messages that carry AWS's own words.

#[cfg(any(test, feature = "fake-cloud"))]
pub mod fake;
mod http;
pub mod limits;
mod sdk;

pub use http::{HttpClient, resolve_overrides};
pub use sdk::AwsCloud;

use std::collections::BTreeMap;

/// Why a call failed, in the user's terms.
#[derive(Debug, thiserror::Error)]
pub enum CloudError {
    /// AWS answered with an error: `Operation: Code: message`.
    #[error("{operation}: {code}: {message}")]
    Service { operation: String, code: String, message: String },
    /// AWS could not be reached or no credentials were found.
    #[error("{operation}: {message}")]
    Transport { operation: String, message: String },
    /// A conditional request lost (S3 answers 412 Precondition Failed, or 409
    /// ConditionalRequestConflict to a concurrent one): the object exists (`If-None-Match: *`),
    /// or it is not the version named (`If-Match: <ETag>`).
    #[error("{operation}: the object is not as the request's condition expects (another writer changed it)")]
    PreconditionFailed { operation: String },
}

impl CloudError {
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Service { code, .. } => Some(code),
            _ => None,
        }
    }
}

pub type CloudResult<T> = Result<T, CloudError>;

/// The condition of a conditional write of an S3 object: S3 applies it atomically, so of two
/// writers only one wins
/// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IfObject<'a> {
    /// `If-None-Match: *`: only where no object has the key (else 412).
    Absent,
    /// `If-Match: <ETag>`: only over exactly this version (412 where another one is current,
    /// 404 NoSuchKey where none is).
    Matches(&'a str),
}

/// The credentials in use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub account: String,
    pub arn: String,
}

/// A deployed stack.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StackInfo {
    pub name: String,
    pub id: String,
    pub status: String,
    pub reason: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub outputs: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    pub last_updated: Option<String>,
}

/// A change set to create.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSetRequest {
    pub stack: String,
    pub name: String,
    pub template_body: String,
    /// Where the same template was uploaded, when it is too large to send as `TemplateBody`
    /// (51,200 bytes): CloudFormation then reads it from there (`TemplateURL`) instead.
    pub template_url: Option<String>,
    pub parameters: BTreeMap<String, String>,
    pub tags: BTreeMap<String, String>,
    /// `CREATE` for a new stack, `UPDATE` otherwise.
    pub create: bool,
    /// Existing resources to take into the stack: with any, the change set is an `IMPORT`.
    pub imports: Vec<ResourceToImport>,
    /// The service role CloudFormation executes it with (the environment's deploy role).
    pub role_arn: Option<String>,
}

/// One resource of an `IMPORT` change set: where it goes and which existing resource it is.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceToImport {
    pub logical_id: String,
    pub resource_type: String,
    /// the type's primary identifier: property name and value (`TableName`, `orders-prod-items`)
    pub identifier: (String, String),
}

/// A DynamoDB table as DescribeTable answers it: what a construct must match to adopt it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TableInfo {
    pub name: String,
    pub arn: String,
    /// (attribute, HASH or RANGE, S/N/B)
    pub keys: Vec<(String, String, String)>,
    /// PAY_PER_REQUEST or PROVISIONED
    pub billing_mode: String,
    pub indexes: Vec<String>,
    /// the stream's view type, when a stream is on
    pub stream: Option<String>,
    pub status: String,
    /// DescribeTable's `ItemCount`: "DynamoDB updates this value approximately every six hours.
    /// Recent changes might not be reflected in this value" (DynamoDB API Reference,
    /// TableDescription, <https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TableDescription.html>).
    /// An approximation that costs no read capacity, never a Scan of the table (review S3-15).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub item_count: Option<u64>,
}

/// A MediaLive channel as MediaLive describes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ChannelState {
    pub id: String,
    pub name: String,
    /// `CREATING`, `IDLE`, `STARTING`, `RUNNING`, `STOPPING`, `UPDATING`, `DELETING`, `DELETED` ...
    pub state: String,
    /// `SINGLE_PIPELINE` or `STANDARD`: what an hour on air costs depends on it.
    pub class: String,
}

/// A MediaConnect flow as MediaConnect describes it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct FlowState {
    pub arn: String,
    pub name: String,
    /// `STANDBY`, `STARTING`, `ACTIVE`, `STOPPING`, `UPDATING`, `DELETING`, `ERROR`.
    pub status: String,
    /// Where the encoder sends: the source's ingest address and port.
    pub ingest_ip: String,
    pub ingest_port: Option<i32>,
}

/// One resource change of a change set.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceChange {
    /// `Add`, `Modify`, `Remove`, ...
    pub action: String,
    pub logical_id: String,
    pub resource_type: String,
    /// `True`, `False`, `Conditional` for modifications.
    pub replacement: Option<String>,
}

/// One resource a change set's pre-deployment validation failed on (CloudFormation's early
/// validation, read with DescribeEvents).
#[derive(Debug, Clone, PartialEq)]
pub struct ValidationFailure {
    pub logical_id: String,
    pub resource_type: String,
    /// The check: property syntax, a name already in use, a bucket not empty, a quota ...
    pub validation: String,
    pub reason: String,
    /// Where in the resource, e.g. `/Properties/BucketName`.
    pub path: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChangeSetInfo {
    pub id: String,
    /// `CREATE_PENDING`, `CREATE_IN_PROGRESS`, `CREATE_COMPLETE`, `FAILED` ...
    pub status: String,
    pub reason: Option<String>,
    pub execution_status: Option<String>,
    pub changes: Vec<ResourceChange>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackEvent {
    pub id: String,
    pub timestamp: String,
    pub logical_id: String,
    pub resource_type: String,
    pub status: String,
    pub reason: Option<String>,
    pub physical_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct StackResource {
    pub logical_id: String,
    pub physical_id: String,
    pub resource_type: String,
}

/// A Lambda function as deployed: where its code can be downloaded, and its configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FunctionInfo {
    pub name: String,
    pub code_location: String,
    pub code_sha256: String,
    pub configuration: serde_json::Value,
}

/// What the deploy engine needs from AWS. The SDK implements it; fault-injection tests use a
/// fake that models CloudFormation's lifecycle.
#[allow(async_fn_in_trait)]
pub trait Cloud {
    /// The region the client talks to.
    fn region(&self) -> &str;
    /// The same account and credentials in another region (Lambda@Edge lives in us-east-1
    /// whatever the environment's region); cheap, so callers make one per stack.
    fn for_region(&self, region: &str) -> Self
    where
        Self: Sized;
    async fn caller_identity(&self) -> CloudResult<Identity>;

    async fn bucket_exists(&self, bucket: &str) -> CloudResult<bool>;
    /// A private, encrypted, versioned bucket; succeeds when it exists already and is ours.
    async fn create_state_bucket(&self, bucket: &str) -> CloudResult<()>;
    /// `if_absent` writes with `If-None-Match: *` and fails with `PreconditionFailed` when the
    /// object exists.
    async fn put_object(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        if_absent: bool,
    ) -> CloudResult<()>;
    async fn get_object(&self, bucket: &str, key: &str) -> CloudResult<Option<Vec<u8>>>;
    /// A conditional PutObject; returns the new object's ETag.
    async fn put_object_if(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
        condition: IfObject<'_>,
    ) -> CloudResult<String>;
    /// The object and its ETag, for a conditional write or delete of exactly what was read.
    async fn get_object_tagged(&self, bucket: &str, key: &str) -> CloudResult<Option<(Vec<u8>, String)>>;
    /// DeleteObject with `If-Match: <ETag>`: deletes only that version (412 where another one
    /// is current, 404 NoSuchKey where none is); S3 supports it on general purpose buckets
    /// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-deletes.html>).
    async fn delete_object_if(&self, bucket: &str, key: &str, etag: &str) -> CloudResult<()>;
    async fn object_exists(&self, bucket: &str, key: &str) -> CloudResult<bool>;
    async fn delete_object(&self, bucket: &str, key: &str) -> CloudResult<()>;
    /// Deletes every version and delete marker of exactly `key`: in a versioned bucket a plain
    /// DeleteObject only adds a delete marker and frees nothing
    /// (<https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html>).
    /// Returns how many versions were removed.
    async fn delete_object_versions(&self, bucket: &str, key: &str) -> CloudResult<usize>;
    async fn list_objects(&self, bucket: &str, prefix: &str) -> CloudResult<Vec<String>>;

    async fn describe_stack(&self, stack: &str) -> CloudResult<Option<StackInfo>>;
    async fn get_template(&self, stack: &str) -> CloudResult<String>;
    async fn list_stack_resources(&self, stack: &str) -> CloudResult<Vec<StackResource>>;
    async fn create_change_set(&self, req: &ChangeSetRequest) -> CloudResult<String>;
    async fn describe_change_set(&self, stack: &str, id: &str) -> CloudResult<ChangeSetInfo>;
    async fn execute_change_set(&self, stack: &str, id: &str) -> CloudResult<()>;
    async fn delete_change_set(&self, stack: &str, id: &str) -> CloudResult<()>;
    /// Newest first, as CloudFormation returns them: every event of the stack's latest operation
    /// (however many pages), back to and including the event that ended the operation before.
    async fn stack_events(&self, stack: &str) -> CloudResult<Vec<StackEvent>>;
    /// The stack's newest event alone, for a progress line while an operation runs: one page,
    /// however long the operation's history.
    async fn newest_stack_event(&self, stack: &str) -> CloudResult<Option<StackEvent>> {
        Ok(self.stack_events(stack).await?.into_iter().next())
    }
    async fn delete_stack(&self, stack: &str) -> CloudResult<()>;
    /// `CancelUpdateStack`: an update in `UPDATE_IN_PROGRESS` is stopped and rolled back
    /// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CancelUpdateStack.html>).
    async fn cancel_update_stack(&self, stack: &str) -> CloudResult<()>;
    /// `ContinueUpdateRollback`, skipping the named resources.
    async fn continue_update_rollback(&self, stack: &str, skip: &[String]) -> CloudResult<()>;

    /// Detects drift and returns the stack's drift status (`IN_SYNC`, `DRIFTED` ...).
    async fn detect_drift(&self, stack: &str) -> CloudResult<String>;
    /// Deletes every object version and delete marker in a bucket; returns how many.
    async fn empty_bucket(&self, bucket: &str) -> CloudResult<usize>;

    async fn get_function(&self, name: &str) -> CloudResult<FunctionInfo>;
    /// Puts a function's code back from `bucket`/`key` (Lambda UpdateFunctionCode, with the
    /// architectures it ran on), then waits until Lambda reports `LastUpdateStatus: Successful`:
    /// until then another update of it fails with ResourceConflictException ("Lambda function
    /// states", <https://docs.aws.amazon.com/lambda/latest/dg/functions-states.html>).
    async fn update_function_code(
        &self,
        name: &str,
        bucket: &str,
        key: &str,
        architectures: &[String],
    ) -> CloudResult<()>;
    /// Puts a function's configuration back (Lambda UpdateFunctionConfiguration): the keys of
    /// `configuration` that [`FunctionInfo::configuration`] names (`Role`, `Handler`, `Runtime`,
    /// `MemorySize`, `Timeout`, `Description`, `Environment` as a map of names to values, and
    /// `LoggingConfig.LogGroup`); a key left out is left as it is. Waits as
    /// [`Cloud::update_function_code`] does.
    async fn update_function_configuration(&self, name: &str, configuration: &serde_json::Value) -> CloudResult<()>;
    /// The resources a failed change set's pre-deployment validation named, with AWS's reasons
    /// (DescribeEvents, failed events of the change set's operation):
    /// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/validate-stack-deployments.html>
    async fn change_set_failures(&self, stack: &str, change_set: &str) -> CloudResult<Vec<ValidationFailure>>;
    /// Points a function's alias at a published version (Lambda UpdateAlias): the one call that
    /// puts old code back in front of users, before the stacks catch up.
    async fn update_alias(&self, function: &str, alias: &str, version: &str) -> CloudResult<()>;
    /// Invalidates the paths and waits until the invalidation is Completed (edges serve the old
    /// objects until then).
    async fn invalidate(&self, distribution_id: &str, paths: &[&str]) -> CloudResult<()>;

    /// The channel, or `None` when MediaLive does not know it (or it is DELETED).
    async fn describe_channel(&self, id: &str) -> CloudResult<Option<ChannelState>>;
    async fn start_channel(&self, id: &str) -> CloudResult<()>;
    async fn stop_channel(&self, id: &str) -> CloudResult<()>;
    /// The flow, or `None` when MediaConnect does not know it.
    async fn describe_flow(&self, arn: &str) -> CloudResult<Option<FlowState>>;
    /// A DynamoDB table, or None when there is none of that name.
    async fn describe_table(&self, name: &str) -> CloudResult<Option<TableInfo>>;
    /// The table names of the account in this region.
    async fn list_tables(&self) -> CloudResult<Vec<String>>;
    /// Whether a table holds at least one item, exactly: one Scan of at most one item (`Limit: 1`,
    /// `Select: COUNT`), not DescribeTable's ItemCount, which AWS updates about every six hours
    /// (<https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_Scan.html>). A table
    /// that does not exist holds none.
    async fn holds_items(&self, table: &str) -> CloudResult<bool>;
    /// Any resource's current properties in CloudFormation's shape, as its type's read handler
    /// answers (Cloud Control GetResource: the same handler an IMPORT reads with,
    /// <https://docs.aws.amazon.com/cloudcontrolapi/latest/userguide/resource-operations-read.html>),
    /// or None when there is none with that identifier.
    async fn get_resource(&self, type_name: &str, identifier: &str) -> CloudResult<Option<serde_json::Value>>;
    /// The identifiers of every resource of a type in this region (Cloud Control ListResources,
    /// <https://docs.aws.amazon.com/cloudcontrolapi/latest/userguide/resource-operations-list.html>).
    async fn list_resources(&self, type_name: &str) -> CloudResult<Vec<String>>;
    async fn start_flow(&self, arn: &str) -> CloudResult<()>;
    async fn stop_flow(&self, arn: &str) -> CloudResult<()>;

    /// `GET url`: status and body.
    async fn http_get(&self, url: &str) -> CloudResult<(u16, Vec<u8>)>;
    /// `GET url` signed with SigV4 for `service` in `region` with the credentials in use (a Function
    /// URL with AuthType AWS_IAM, <https://docs.aws.amazon.com/lambda/latest/dg/urls-auth.html>).
    async fn http_get_signed(&self, url: &str, service: &str, region: &str) -> CloudResult<(u16, Vec<u8>)>;
}
