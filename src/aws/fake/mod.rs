//! `FakeCloud`: an in-process fake of the [`Cloud`] interface for fault-injection tests. It
//! models CloudFormation's documented lifecycle, which no local emulator reproduces: operations
//! that advance one state per poll, per-resource events, an update that fails and is rolled back
//! by CloudFormation itself (`UPDATE_ROLLBACK_COMPLETE`, the previous template and parameters
//! back), a create that fails (`ROLLBACK_COMPLETE`), a rollback that fails
//! (`UPDATE_ROLLBACK_FAILED`, cleared by `ContinueUpdateRollback`); plus S3 with conditional
//! writes, Function URLs that answer with the code they run, and injectable faults. A fake, named
//! as one: compiled only for tests and for a team's own tests that ask for it (the `fake-cloud`
//! feature), never into a `castform` binary.

mod changesets;
mod cloud;
mod tables;
mod template;

use super::*;
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use template::event;

/// Faults to inject.
#[derive(Debug, Default, Clone)]
pub struct Faults {
    /// Stacks whose next executed change set fails (CloudFormation rolls them back).
    pub fail_stacks: HashSet<String>,
    /// Stacks whose rollback after a failure fails too (`UPDATE_ROLLBACK_FAILED`).
    pub rollback_fails: HashSet<String>,
    /// Function URLs answer with this status instead of 200.
    pub health_status: Option<u16>,
    /// Deletes from these buckets are refused (AccessDenied).
    pub deny_deletes: HashSet<String>,
    /// Writes into these buckets are refused (AccessDenied).
    pub deny_writes: HashSet<String>,
    /// PUTs of objects whose `bucket/key` starts with this text land and lose their answer.
    pub lost_puts: Option<String>,
    /// PUTs of objects whose `bucket/key` starts with this text land, and the SDK's retry of them is refused
    /// (AccessDenied): the error says nothing landed, though the first attempt did. Once.
    pub landed_then_refused: Option<String>,
    /// Reads of objects whose key contains this text return altered bytes.
    pub corrupt_reads: Option<String>,
    /// Stacks whose next change set fails pre-deployment validation on these resources
    /// (logical id, validation, reason, path), as CloudFormation's early validation reports it.
    pub validation: HashMap<String, Vec<(String, String, String, String)>>,
    /// Stacks whose next executed change set never settles: the operation stays in its first
    /// `*_IN_PROGRESS` status until CancelUpdateStack (an update) or DeleteStack (a create).
    pub hang_stacks: HashSet<String>,
    /// Stacks whose DescribeStacks answers, for [`STALE_POLLS`] polls after ExecuteChangeSet, what
    /// it answered before (status, outputs, LastUpdatedTime), with no new event: CloudFormation
    /// only "starts updating the stack" once ExecuteChangeSet returns
    /// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ExecuteChangeSet.html>),
    /// and its reads are eventually consistent.
    pub stale_reads: HashSet<String>,
    /// One call, counted from the fake's creation ([`FakeCloud::calls`]), that fails: the
    /// service's error after the SDK's retries gave up (an API error, throttling on every
    /// attempt), or, with `lands`, a write that took effect and whose answer was lost.
    pub fail_call: Option<CallFault>,
    /// A conditional write to a key containing this text lands, and then its answer never
    /// comes (the connection hangs until the process is stopped).
    pub hang_after_landing: Option<String>,
}

/// The n-th call of a [`FakeCloud`] fails.
#[derive(Debug, Clone, PartialEq)]
pub struct CallFault {
    /// The call's number, from 1 (see [`FakeCloud::calls`]).
    pub at: usize,
    /// The error code AWS answers with (`InternalError`, `Throttling`, `AccessDenied` ...).
    pub code: String,
    /// The write lands before the error: the answer was lost (a timeout or a 500 after the
    /// service committed). A conditional PUT that lands then finds its own object on the SDK's
    /// retry and answers 412. A read with `lands` just fails.
    pub lands: bool,
}

/// How many DescribeStacks polls a [`Faults::stale_reads`] stack answers as before its execution.
pub const STALE_POLLS: u32 = 3;

/// TemplateBody's largest size: "Template body size in a request: 51,200 bytes"; larger ones are
/// read from S3 through TemplateURL, up to 1 MB
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html>).
pub const TEMPLATE_BODY_LIMIT: usize = 51_200;

/// Template, parameters and tags a running operation applies when it completes.
type Target = (String, BTreeMap<String, String>, BTreeMap<String, String>);

#[derive(Debug, Clone)]
struct FakeStack {
    id: String,
    /// The region it was created in: other regions do not see it.
    region: String,
    status: String,
    template: String,
    params: BTreeMap<String, String>,
    tags: BTreeMap<String, String>,
    outputs: BTreeMap<String, String>,
    events: Vec<StackEvent>,
    /// Statuses still to pass through, one per poll, then what to apply at the end.
    pending: VecDeque<String>,
    apply_at_end: Option<Target>,
    updated: u32,
    /// Polls still to answer as before the latest execution ([`Faults::stale_reads`]).
    stale: u32,
}

#[derive(Debug, Clone)]
struct FakeChangeSet {
    req: ChangeSetRequest,
    status: String,
    reason: Option<String>,
    changes: Vec<ResourceChange>,
    polls: u32,
}

#[derive(Debug, Default)]
struct World {
    buckets: HashSet<String>,
    objects: HashMap<(String, String), Vec<u8>>,
    stacks: BTreeMap<String, FakeStack>,
    change_sets: HashMap<String, FakeChangeSet>,
    next: u64,
    continued: Vec<(String, Vec<String>)>,
    /// MediaLive channels (id -> state, class) and MediaConnect flows (arn -> status), as a
    /// test sets them; starts and stops move them at once.
    channels: BTreeMap<String, (String, String)>,
    flows: BTreeMap<String, String>,
    /// DynamoDB tables, in stacks or not (see `tables.rs`), with their items (`item_count`)
    tables: tables::Tables,
    /// Lambda functions outside any stack (adoption tests, and what a stack retained): code and
    /// configuration (GetFunction's shape, variables' values included)
    functions: BTreeMap<String, (Vec<u8>, Value)>,
    /// Each call's operation, in order (`DynamoDB Scan`, `Lambda UpdateFunctionCode` ...).
    ops: Vec<String>,
    /// Media parts a test left STARTING or STOPPING: reads left before they settle.
    moving: HashMap<String, u32>,
    /// Resources outside any stack as Cloud Control reads them: (type, identifier) -> properties
    resources: BTreeMap<(String, String), serde_json::Value>,
    /// Change sets executed so far (a test can stop the engine right after one).
    executed: usize,
    /// The state bucket is versioned: a plain delete leaves the object's old bytes behind as a
    /// noncurrent version (counted per key), until its versions are deleted.
    noncurrent: HashMap<(String, String), usize>,
    /// Invalidations made, as "<distribution> <paths>".
    invalidations: Vec<String>,
    /// Objects written to buckets other than castform's state bucket (a site's files).
    file_puts: usize,
    /// Failed validations of change sets, by change set id.
    validation_events: HashMap<String, Vec<(String, String, String, String)>>,
    /// Alias moves made outside CloudFormation, as "<function>:<alias> -> <version> after <n>
    /// change sets" (how many had been executed when it moved).
    aliases: Vec<String>,
    /// Calls made so far (a frozen call is not counted: it never reaches the service).
    calls: usize,
    /// Stacks CancelUpdateStack was called on, in order.
    cancelled: Vec<String>,
    /// The TemplateURL of each change set created from S3.
    template_urls: Vec<String>,
    /// Writes that change what an environment runs, outside castform's state bucket: change
    /// sets executed, stacks deleted, rollbacks continued, aliases moved, invalidations, media
    /// started or stopped (site files are counted in `file_puts`).
    env_writes: usize,
}

/// A condition under which every further call hangs, as in a process that was killed.
pub type Freeze = Box<dyn Fn() -> bool + Send + Sync>;

pub struct FakeCloud {
    region: String,
    account: String,
    /// Shared by the handles [`Cloud::for_region`] returns: one account, many regions.
    world: Arc<Mutex<World>>,
    pub faults: Arc<Mutex<Faults>>,
    freeze: Arc<Mutex<Option<Freeze>>>,
}

/// AWS's words for an injected error.
fn injected(code: &str) -> &'static str {
    match code {
        "Throttling" | "ThrottlingException" | "SlowDown" => "Rate exceeded",
        "AccessDenied" | "AccessDeniedException" => "Access Denied",
        _ => "We encountered an internal error. Please try again.",
    }
}

/// A channel or flow a test set STARTING or STOPPING settles after three reads, into `to.0`
/// (started) or `to.1` (stopped), as MediaLive and MediaConnect move through those states.
fn moving(left: &mut HashMap<String, u32>, id: &str, state: Option<&mut String>, to: (&str, &str)) {
    let Some(state) = state else { return };
    let settled = match state.as_str() {
        "STARTING" => to.0,
        "STOPPING" => to.1,
        _ => return,
    };
    let n = left.entry(id.to_string()).or_insert(3);
    *n -= 1;
    if *n == 0 {
        left.remove(id);
        *state = settled.to_string();
    }
}

/// An object's ETag, from its bytes as S3's is for a single-part upload (the fake's digest is not
/// MD5: only equality matters).
fn etag_of(body: &[u8]) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    body.hash(&mut h);
    format!("\"{:016x}{:016x}\"", h.finish(), body.len())
}

fn svc(op: &str, code: &str, message: impl Into<String>) -> CloudError {
    CloudError::Service { operation: op.into(), code: code.into(), message: message.into() }
}

impl FakeCloud {
    pub fn new(account: &str, region: &str) -> Self {
        Self {
            region: region.into(),
            account: account.into(),
            world: Arc::new(Mutex::new(World::default())),
            faults: Arc::new(Mutex::new(Faults::default())),
            freeze: Arc::new(Mutex::new(None)),
        }
    }

    /// How many change sets have been executed.
    pub fn executed(&self) -> usize {
        self.world().executed
    }

    /// A MediaLive channel in `state` (the fake does not create media resources with stacks).
    pub fn set_channel(&self, id: &str, state: &str) {
        self.world().channels.insert(id.into(), (state.into(), "SINGLE_PIPELINE".into()));
    }

    /// A MediaConnect flow in `status`.
    pub fn set_flow(&self, arn: &str, status: &str) {
        self.world().flows.insert(arn.into(), status.into());
    }

    /// A resource outside any stack, as Cloud Control would read it.
    pub fn put_resource(&self, type_name: &str, identifier: &str, properties: serde_json::Value) {
        self.world().resources.insert((type_name.into(), identifier.into()), properties);
    }

    /// A DynamoDB table outside any stack (its `item_count` is what DescribeTable answers).
    pub fn put_table(&self, table: TableInfo) {
        self.world().tables.insert(table.name.clone(), table);
    }

    /// A Lambda function outside any stack: its code (a zip) and configuration in GetFunction's
    /// shape (`Runtime`, `Role`, `Environment` as a map of names to values ...).
    pub fn put_function(&self, name: &str, code: Vec<u8>, configuration: Value) {
        self.world().functions.insert(name.into(), (code, configuration));
    }

    /// How many calls of an operation (`DynamoDB Scan`) have been made.
    pub fn calls_of(&self, op: &str) -> usize {
        self.world().ops.iter().filter(|o| *o == op).count()
    }

    /// From the moment `when` holds, every call hangs (a killed process makes no more calls).
    pub fn freeze_when(&self, when: Option<Freeze>) {
        *self.freeze.lock().unwrap_or_else(|p| p.into_inner()) = when;
    }

    fn world(&self) -> std::sync::MutexGuard<'_, World> {
        self.world.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn faults(&self) -> Faults {
        self.faults.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }

    /// Every call yields once, like a network round trip, so a test can stop the engine between
    /// any two calls. Throttling that the SDK's retries absorb is invisible to the engine
    /// (tests/faults.rs throttles that client itself); what reaches the engine is the error after
    /// the retries gave up, [`Faults::fail_call`]. `Ok(true)`: the call is to land and then lose
    /// its answer.
    async fn call(&self, op: &str) -> CloudResult<bool> {
        tokio::task::yield_now().await;
        let frozen = self.freeze.lock().unwrap_or_else(|p| p.into_inner()).as_ref().is_some_and(|f| f());
        if frozen {
            std::future::pending::<()>().await;
        }
        let n = {
            let mut w = self.world();
            w.calls += 1;
            w.ops.push(op.to_string());
            w.calls
        };
        match self.faults().fail_call {
            Some(f) if f.at == n && f.lands => Ok(true),
            Some(f) if f.at == n => Err(svc(op, &f.code, injected(&f.code))),
            _ => Ok(false),
        }
    }

    /// A call that only reads: a lost answer is an error like any other.
    async fn read(&self, op: &str) -> CloudResult<()> {
        if self.call(op).await? { Err(svc(op, "InternalError", injected("InternalError"))) } else { Ok(()) }
    }

    /// A write's answer: `out`, unless it landed and its answer was lost.
    fn answer<T>(&self, op: &str, lost: bool, out: CloudResult<T>) -> CloudResult<T> {
        let environment = !op.starts_with("S3 ")
            && !["CloudFormation CreateChangeSet", "CloudFormation DeleteChangeSet"].contains(&op);
        if out.is_ok() && environment {
            self.world().env_writes += 1;
        }
        match out {
            Ok(_) if lost => Err(svc(
                op,
                "InternalError",
                "We encountered an internal error. Please try again. (the request landed; its answer was lost)",
            )),
            out => out,
        }
    }

    /// How many calls have been made (a test can freeze the engine after the n-th, or fail it).
    pub fn calls(&self) -> usize {
        self.world().calls
    }

    /// How many writes have changed what an environment runs: change sets executed, stacks
    /// deleted, aliases moved, media started or stopped, site files written.
    pub fn writes(&self) -> usize {
        let w = self.world();
        w.env_writes + w.file_puts
    }

    /// The stacks CancelUpdateStack was called on.
    pub fn cancelled(&self) -> Vec<String> {
        self.world().cancelled.clone()
    }

    /// The TemplateURL of each change set made from a template in S3.
    pub fn template_urls(&self) -> Vec<String> {
        self.world().template_urls.clone()
    }

    /// `(stack, skipped resources)` of each ContinueUpdateRollback.
    pub fn continued(&self) -> Vec<(String, Vec<String>)> {
        self.world().continued.clone()
    }

    /// The region a stack lives in.
    pub fn stack_region(&self, stack: &str) -> Option<String> {
        self.world().stacks.get(stack).map(|s| s.region.clone())
    }

    /// The deployed template and parameters of a stack, as the fake holds them.
    pub fn stack_state(&self, stack: &str) -> Option<(String, String, BTreeMap<String, String>)> {
        self.world().stacks.get(stack).map(|s| (s.status.clone(), s.template.clone(), s.params.clone()))
    }

    /// Puts a stack into a given state (a stuck stack left by an earlier run).
    pub fn force_status(&self, stack: &str, status: &str, then: &[&str]) {
        if let Some(s) = self.world().stacks.get_mut(stack) {
            s.status = status.to_string();
            s.pending = then.iter().map(|x| x.to_string()).collect();
            if status == "UPDATE_ROLLBACK_FAILED" {
                s.events.insert(
                    0,
                    event(
                        stack,
                        "Api",
                        "AWS::Lambda::Function",
                        "UPDATE_FAILED",
                        Some("Resource handler returned message: internal failure"),
                        Some("fn"),
                    ),
                );
            }
        }
    }

    /// Keys of `bucket` under `prefix` that still hold bytes: current objects and noncurrent
    /// versions a plain delete left behind.
    pub fn stored_keys(&self, bucket: &str, prefix: &str) -> Vec<String> {
        let w = self.world();
        let mut keys: Vec<String> = w
            .objects
            .keys()
            .chain(w.noncurrent.keys())
            .filter(|(b, k)| b == bucket && k.starts_with(prefix))
            .map(|(_, k)| k.clone())
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }

    /// How many objects have been written to buckets other than the state bucket (the site's
    /// files): a test can freeze the engine after the n-th.
    pub fn file_puts(&self) -> usize {
        self.world().file_puts
    }

    /// The alias moves made so far, as `<function>:<alias> -> <version>`.
    pub fn alias_moves(&self) -> Vec<String> {
        self.world().aliases.clone()
    }

    /// The invalidations made so far, as `<distribution> <paths>`.
    pub fn invalidations(&self) -> Vec<String> {
        self.world().invalidations.clone()
    }

    /// A table outside any stack, as its template `properties` describe it, holding `items`.
    pub fn put_table_like(&self, name: &str, properties: &serde_json::Value, items: u64) {
        let info = TableInfo { item_count: Some(items), ..tables::info(name, properties, &self.region, &self.account) };
        self.world().tables.insert(name.into(), info);
    }

    /// Writes `n` more items into a table, as the application does; false when it does not exist.
    pub fn add_items(&self, table: &str, n: u64) -> bool {
        self.world().tables.get_mut(table).map(|t| t.item_count = Some(t.item_count.unwrap_or(0) + n)).is_some()
    }

    /// Every table and its item count.
    pub fn tables(&self) -> BTreeMap<String, u64> {
        self.world().tables.iter().map(|(k, t)| (k.clone(), t.item_count.unwrap_or(0))).collect()
    }

    /// Replaces a stack's deployed template text (a template this castform cannot read).
    pub fn set_template(&self, stack: &str, body: &str) {
        if let Some(s) = self.world().stacks.get_mut(stack) {
            s.template = body.into();
        }
    }

    /// A channel's state as the fake holds it, without a call (a test's freeze condition).
    pub fn channel_state(&self, id: &str) -> Option<String> {
        self.world().channels.get(id).map(|(s, _)| s.clone())
    }

    /// An object's bytes as stored (no fault applied).
    pub fn object(&self, bucket: &str, key: &str) -> Option<Vec<u8>> {
        self.world().objects.get(&(bucket.to_string(), key.to_string())).cloned()
    }
}

impl World {
    /// Keeps what a stack's template no longer holds but its DeletionPolicy retains.
    fn retain(&mut self, stack: &str, old: &str, new: Option<&str>, params: &BTreeMap<String, String>) {
        let left = template::retained(stack, old, new, params);
        for (name, (bucket, key), conf) in left.functions {
            let code = self.objects.get(&(bucket, key)).cloned().unwrap_or_default();
            self.functions.insert(name, (code, conf));
        }
        for t in left.tables {
            self.tables.entry(t.name.clone()).or_insert(t);
        }
    }
}
