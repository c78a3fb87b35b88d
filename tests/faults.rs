//! The fault-injection suite: the deploy engine (the same code `castform deploy` runs) driven
//! against `FakeCloud`, which models CloudFormation's failure lifecycle that the emulator does not
//! (CloudFormation's own rollbacks, UPDATE_ROLLBACK_FAILED, ROLLBACK_COMPLETE); and throttling,
//! answered by a loopback endpoint to the SDK client castform builds, which retries it. Every
//! fault ends with the environment at its last good deployment (templates, parameters, code and
//! config.js compared byte for byte) or refused before any write.

mod common;

use castform::aws::fake::FakeCloud;
use castform::aws::{AwsCloud, Cloud};
use castform::config::Environment;
use castform::ops::deploy::{DeployError, DeployOptions, Journal, deploy};
use castform::state::clock::new_id;
use castform::state::ledger::Record;
use castform::template::App;
use castform::ui::progress::{Mode, Progress};
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BUCKET: &str = "castform-000000000000-us-west-2";

struct World {
    _dir: tempfile::TempDir,
    env: Environment,
    v1: App,
    cloud: FakeCloud,
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap()
}

/// The `local` environment and its v1 app, on a fake with the state bucket. The fake has no CDN
/// data plane (the emulator's is tested in tests/emulator.rs), so here the site is served from its
/// bucket and the media stack is left out: these tests are about CloudFormation's failure paths.
/// Lunora's own keys of an environment, to change in a test.
fn lunora(env: &mut Environment) -> &mut castform::apps::lunora::Config {
    env.config_mut().expect("a Lunora environment")
}

/// `web.cdn: false` (the fake has no CDN data plane), and so no rate limit on a distribution.
fn no_cdn(env: &mut Environment) {
    let web = lunora(env).web.as_mut().expect("local has a web section");
    web.cdn = false;
    web.rate_limit = None;
}

fn world() -> World {
    let dir = common::project_copy();
    let mut env = castform::config::load(dir.path(), castform::apps::seeds(), "lunora", "local").unwrap();
    no_cdn(&mut env);
    lunora(&mut env).media.as_mut().unwrap().enabled = false;
    let v1 = env.define().unwrap();
    let cloud = FakeCloud::new("000000000000", "us-west-2");
    rt().block_on(cloud.create_state_bucket(BUCKET)).unwrap();
    World { _dir: dir, env, v1, cloud }
}

/// v2: the API's code changed, and a new tag on every resource so every stack changes.
fn v2(w: &World) -> App {
    let index = w.env.root.join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, code.replace("const VERSION = '1';", "const VERSION = '2';")).unwrap();
    let mut env2 = w.env.clone();
    env2.tags.insert("Release".into(), "2".into());
    env2.define().unwrap()
}

/// `local` with its media stack (the CDN left out: the fake has no CDN data plane), v1 deployed;
/// the pipeline's channel id and flow ARN as the fake knows them.
struct MediaWorld {
    _dir: tempfile::TempDir,
    env: Environment,
    v1: App,
    cloud: FakeCloud,
    channel: String,
    flow: String,
}

fn media_world() -> MediaWorld {
    let dir = common::project_copy();
    let mut env = castform::config::load(dir.path(), castform::apps::seeds(), "lunora", "local").unwrap();
    no_cdn(&mut env);
    let v1 = env.define().unwrap();
    let cloud = FakeCloud::new("000000000000", "us-west-2");
    rt().block_on(cloud.create_state_bucket(BUCKET)).unwrap();
    run(&cloud, &env, &v1).expect("v1 deploys");
    let resources = rt().block_on(cloud.list_stack_resources("lunora-player-local-media")).unwrap();
    let id_of = |t: &str| resources.iter().find(|r| r.resource_type == t).unwrap().physical_id.clone();
    let (channel, flow) = (id_of("AWS::MediaLive::Channel"), id_of("AWS::MediaConnect::Flow"));
    MediaWorld { _dir: dir, env, v1, cloud, channel, flow }
}

/// A deploy of `next` that stops where Ctrl-C would catch it: every call hangs once `when` holds
/// (the fake freezes), and the run is abandoned there. Returns its journal, for `interrupted`.
fn deploy_until(w: &World, next: &App, progress: &Progress, when: castform::aws::fake::Freeze) -> Mutex<Journal> {
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    w.cloud.freeze_when(Some(when));
    rt().block_on(async {
        let opts = DeployOptions::default();
        tokio::select! {
            r = deploy(&w.cloud, &w.env, next, &opts, progress, &journal) => panic!("finished before Ctrl-C: {:?}", r.map(|r| r.result)),
            _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
        }
    });
    w.cloud.freeze_when(None);
    journal
}

fn run<C: Cloud>(cloud: &C, env: &Environment, app: &App) -> Result<Record, DeployError> {
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    rt().block_on(deploy(cloud, env, app, &DeployOptions::default(), &progress, &journal))
}

/// What an environment is: each stack's status, template and parameters, config.js, and the
/// code the API answers with.
#[derive(Debug, PartialEq)]
struct Snapshot {
    stacks: BTreeMap<String, (String, String, BTreeMap<String, String>)>,
    config: Option<Vec<u8>>,
    code: String,
}

fn snapshot(w: &World, good: &Record) -> Snapshot {
    let mut stacks = BTreeMap::new();
    for s in &w.v1.stacks {
        if let Some(st) = w.cloud.stack_state(&s.stack_name) {
            stacks.insert(s.stack_name.clone(), st);
        }
    }
    let bucket = &good.stacks["web"].outputs["SiteBucketName"];
    let url = &good.urls["api.ApiUrl"];
    let (_, body) = rt().block_on(w.cloud.http_get(&format!("{url}health"))).unwrap();
    let code = serde_json::from_slice::<serde_json::Value>(&body)
        .map(|v| v["code"].as_str().unwrap_or_default().to_string())
        .unwrap_or_default();
    Snapshot { stacks, config: w.cloud.object(bucket, "config.js"), code }
}

/// v1 deployed; returns its record and snapshot.
fn good(w: &World) -> (Record, Snapshot) {
    let r = run(&w.cloud, &w.env, &w.v1).expect("v1 deploys");
    let s = snapshot(w, &r);
    assert_eq!(s.stacks.len(), 3);
    assert!(s.stacks.values().all(|(status, _, _)| status == "CREATE_COMPLETE"));
    assert_eq!(s.code, r.assets[0], "the API runs v1's code");
    (r, s)
}

fn assert_restored(w: &World, good: &Record, before: &Snapshot, err: DeployError) {
    match &err {
        DeployError::Restored { .. } => {}
        other => panic!("expected a restore, got {other}"),
    }
    let after = snapshot(w, good);
    for (name, (_, template, params)) in &before.stacks {
        let (status, t, p) = &after.stacks[name];
        assert_eq!(t, template, "{name}: template back byte for byte");
        assert_eq!(p, params, "{name}: parameters back");
        assert!(status.ends_with("_COMPLETE"), "{name}: {status}");
    }
    assert_eq!(after.config, before.config, "config.js back byte for byte");
    assert_eq!(after.code, before.code, "the API answers with the last good code");
    assert!(w.cloud.object(BUCKET, "lunora/local/lock.json").is_none(), "unlocked");
    let records =
        rt().block_on(castform::state::ledger::list(&w.cloud, &castform::state::StateStore::new(&w.env))).unwrap();
    assert_eq!(records.last().unwrap().result, "rolled-back");
}

fn fail_stack(w: &World, stack: &str) {
    w.cloud.faults.lock().unwrap().fail_stacks.insert(format!("lunora-player-local-{stack}"));
}

#[test]
fn the_first_stack_fails_on_update() {
    let w = world();
    let (r, before) = good(&w);
    fail_stack(&w, "data");
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    assert!(err.to_string().contains("stack data: ended UPDATE_ROLLBACK_COMPLETE"), "{err}");
    assert_restored(&w, &r, &before, err);
}

#[test]
fn the_middle_stack_fails_on_update() {
    let w = world();
    let (r, before) = good(&w);
    fail_stack(&w, "web");
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    assert!(err.to_string().contains("stack web: ended UPDATE_ROLLBACK_COMPLETE"), "{err}");
    assert_restored(&w, &r, &before, err);
}

#[test]
fn the_last_stack_fails_on_update() {
    let w = world();
    let (r, before) = good(&w);
    fail_stack(&w, "api");
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    let text = err.to_string();
    assert!(text.contains("stack api: ended UPDATE_ROLLBACK_COMPLETE"), "{text}");
    assert!(text.contains("injected fault"), "the failed resource's reason is shown: {text}");
    // data and web were updated, then restored through change sets
    assert!(text.contains("stack lunora-player-local-data (template and parameters of the backup)"), "{text}");
    assert_restored(&w, &r, &before, err);
}

#[test]
fn the_health_check_gets_403() {
    let w = world();
    let (r, before) = good(&w);
    w.cloud.faults.lock().unwrap().health_status = Some(403);
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    assert!(err.to_string().contains("403 Forbidden"), "{err}");
    w.cloud.faults.lock().unwrap().health_status = None;
    assert_restored(&w, &r, &before, err);
}

#[test]
fn propagation_cannot_write() {
    let w = world();
    let (r, before) = good(&w);
    let site = r.stacks["web"].outputs["SiteBucketName"].clone();
    w.cloud.faults.lock().unwrap().deny_writes.insert(site);
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    assert!(err.to_string().contains("writing config.js"), "{err}");
    w.cloud.faults.lock().unwrap().deny_writes.clear();
    assert_restored(&w, &r, &before, err);
}

#[test]
fn a_corrupted_backup_is_refused_before_any_write() {
    let w = world();
    let (r, before) = good(&w);
    w.cloud.faults.lock().unwrap().corrupt_reads = Some("/functions/api/Api/code.zip".into());
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    assert!(matches!(err, DeployError::Refused(_)), "{err}");
    assert!(err.to_string().contains("reads back with sha256"), "{err}");
    w.cloud.faults.lock().unwrap().corrupt_reads = None;
    assert_eq!(snapshot(&w, &r), before, "untouched");
    assert!(w.cloud.object(BUCKET, "lunora/local/lock.json").is_none());
}

#[test]
fn a_held_lock_is_refused_before_any_write() {
    let w = world();
    let (r, before) = good(&w);
    let lock =
        br#"{"deployment":"x","owner":"bo","host":"elsewhere","started":"t","command":"deploy","pid":1}"#.to_vec();
    rt().block_on(w.cloud.put_object(BUCKET, "lunora/local/lock.json", lock.clone(), "application/json", true))
        .unwrap();
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    assert!(matches!(err, DeployError::Refused(_)), "{err}");
    assert!(err.to_string().contains("is being deployed by bo on elsewhere"), "{err}");
    assert_eq!(w.cloud.object(BUCKET, "lunora/local/lock.json").unwrap(), lock, "the other deploy keeps its lock");
    assert_eq!(snapshot(&w, &r), before);
}

#[test]
fn a_missing_asset_is_refused_before_any_write() {
    let w = world();
    let (r, before) = good(&w);
    let next = v2(&w);
    std::fs::remove_dir_all(w.env.root.join("assets/lunora-api")).unwrap();
    let err = run(&w.cloud, &w.env, &next).unwrap_err();
    assert!(matches!(err, DeployError::Refused(_)), "{err}");
    assert!(err.to_string().contains("assets: asset folder assets/lunora-api cannot be read"), "{err}");
    assert_eq!(snapshot(&w, &r), before);
    assert!(w.cloud.object(BUCKET, "lunora/local/lock.json").is_none());
}

// Throttling is the SDK's to retry: castform configures it (aws::limits, standard mode, eight
// attempts) and has no retry loop of its own. These tests prove it on the client castform builds,
// through the constructor the emulator tests use, against an AWS endpoint on 127.0.0.1 that throttles
// as AWS does (HTTP 400 with the error code `Throttling`). FakeCloud cannot: it is not the SDK.

/// An AWS endpoint on 127.0.0.1: it answers the n-th request (from 0) with `answer(n, request)`
/// and keeps every request it was sent, one HTTP/1.1 connection after another, as the SDK's client
/// talks (keep-alive).
struct Endpoint {
    url: String,
    requests: Arc<Mutex<Vec<String>>>,
}

type Answer = dyn Fn(usize, &str) -> (u16, String) + Send + Sync;

impl Endpoint {
    fn start(answer: impl Fn(usize, &str) -> (u16, String) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(vec![]));
        let (seen, answer): (_, Arc<Answer>) = (requests.clone(), Arc::new(answer));
        std::thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let (seen, answer) = (seen.clone(), answer.clone());
                std::thread::spawn(move || Self::serve(conn, &seen, &*answer));
            }
        });
        Endpoint { url, requests }
    }

    fn serve(conn: TcpStream, seen: &Mutex<Vec<String>>, answer: &Answer) {
        let mut reader = BufReader::new(conn.try_clone().unwrap());
        let mut conn = conn;
        loop {
            let (mut head, mut length) = (String::new(), 0);
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                if line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap();
                }
                head.push_str(&line);
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            let request = format!("{head}\r\n{}", String::from_utf8_lossy(&body));
            let n = {
                let mut seen = seen.lock().unwrap();
                seen.push(request.clone());
                seen.len() - 1
            };
            let (status, body) = answer(n, &request);
            let reply = format!(
                "HTTP/1.1 {status} X\r\ncontent-type: text/xml\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            if conn.write_all(reply.as_bytes()).is_err() {
                return;
            }
        }
    }

    fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }

    /// castform's client for this endpoint, as the emulator tests build it, with the retries'
    /// first wait 1 ms instead of 1 s (the only difference from what users run).
    fn cloud(&self, rt: &tokio::runtime::Runtime) -> AwsCloud {
        rt.block_on(AwsCloud::with_static_credentials("us-west-2", &self.url, "test", "test"))
            .with_retry_backoff(Duration::from_millis(1))
    }
}

/// A real clock: the SDK's backoff and timeouts run on it, against a real socket.
fn real_time() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap()
}

/// What AWS answers a throttled Query-protocol call (STS, CloudFormation).
fn throttled() -> (u16, String) {
    (
        400,
        "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error>\
         <RequestId>r</RequestId></ErrorResponse>"
            .into(),
    )
}

fn identity() -> (u16, String) {
    (
        200,
        "<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>arn:aws:iam::000000000000:user/ci</Arn>\
         <UserId>AIDA</UserId><Account>000000000000</Account></GetCallerIdentityResult></GetCallerIdentityResponse>"
            .into(),
    )
}

#[test]
fn a_call_throttled_twice_succeeds_on_the_sdks_third_attempt() {
    let aws = Endpoint::start(|n, _| if n < 2 { throttled() } else { identity() });
    let rt = real_time();
    let who = rt.block_on(aws.cloud(&rt).caller_identity()).expect("the third attempt succeeds");
    assert_eq!(who.account, "000000000000");
    let requests = aws.requests();
    assert_eq!(requests.len(), 3, "two throttled attempts and the one that succeeded");
    assert!(requests.iter().all(|r| r.contains("Action=GetCallerIdentity")), "{requests:?}");
}

#[test]
fn a_call_throttled_on_every_attempt_fails_after_eight_with_awss_words() {
    let aws = Endpoint::start(|_, _| throttled());
    let rt = real_time();
    let err = rt.block_on(aws.cloud(&rt).caller_identity()).unwrap_err();
    assert_eq!(aws.requests().len(), castform::aws::limits::MAX_ATTEMPTS as usize);
    assert_eq!(castform::aws::limits::MAX_ATTEMPTS, 8);
    // castform's message, with AWS's code and words: no SDK debug dump
    assert_eq!(err.to_string(), "STS GetCallerIdentity: Throttling: Rate exceeded");
    assert_eq!(err.code(), Some("Throttling"));
}

/// A throttled account slows a run down and does not fail it half-way: 150 calls in a row, each
/// throttled twice, all succeed. (Standard mode's default retry quota, 500 tokens less 5 a retry,
/// would refuse to retry after about fifty of them: castform's clients draw on an unlimited
/// bucket, see aws::limits::retry_partition.)
#[test]
fn a_storm_of_throttled_calls_never_exhausts_the_retries() {
    let aws = Endpoint::start(|n, _| if n % 3 < 2 { throttled() } else { identity() });
    let rt = real_time();
    let cloud = aws.cloud(&rt);
    for call in 0..150 {
        rt.block_on(cloud.caller_identity()).unwrap_or_else(|e| panic!("call {call}: {e}"));
    }
    assert_eq!(aws.requests().len(), 450, "every call took its three attempts");
}

#[test]
fn every_page_of_a_listing_is_retried_on_its_own() {
    // ListStackResources in two pages, each throttled once before it is answered
    let page = |resource: &str, next: &str| {
        (
            200,
            format!(
                "<ListStackResourcesResponse><ListStackResourcesResult><StackResourceSummaries><member>\
                 <LogicalResourceId>{resource}</LogicalResourceId><PhysicalResourceId>{resource}-1</PhysicalResourceId>\
                 <ResourceType>AWS::SQS::Queue</ResourceType><LastUpdatedTimestamp>2026-01-01T00:00:00Z</LastUpdatedTimestamp>\
                 <ResourceStatus>CREATE_COMPLETE</ResourceStatus></member></StackResourceSummaries>{next}\
                 </ListStackResourcesResult></ListStackResourcesResponse>"
            ),
        )
    };
    let aws = Endpoint::start(move |n, _| match n {
        1 => page("First", "<NextToken>page-2</NextToken>"),
        3 => page("Second", ""),
        _ => throttled(),
    });
    let rt = real_time();
    let resources = rt.block_on(aws.cloud(&rt).list_stack_resources("orders")).expect("both pages, each retried");
    let ids: Vec<&str> = resources.iter().map(|r| r.logical_id.as_str()).collect();
    assert_eq!(ids, ["First", "Second"]);
    let requests = aws.requests();
    assert_eq!(requests.len(), 4);
    assert!(!requests[1].contains("NextToken") && requests[2].contains("NextToken=page-2"), "{requests:?}");
    assert!(requests[3].contains("NextToken=page-2"), "the throttled page is asked for again: {requests:?}");
}

#[test]
fn a_stack_left_in_update_rollback_failed_is_continued_with_its_blockers_skipped() {
    let w = world();
    good(&w);
    w.cloud.force_status("lunora-player-local-api", "UPDATE_ROLLBACK_FAILED", &[]);
    let r = run(&w.cloud, &w.env, &v2(&w)).expect("deploys after continuing the rollback");
    assert_eq!(r.result, "succeeded");
    assert_eq!(w.cloud.continued(), vec![("lunora-player-local-api".to_string(), vec!["Api".to_string()])]);
}

/// Review S3-23: where data is retained, a rollback stuck on failed resources is continued past
/// them only with --force; without it the deploy stops at that stack, naming them.
#[test]
fn where_data_is_retained_a_stuck_rollback_skips_resources_only_with_force() {
    let w = world();
    good(&w);
    w.cloud.force_status("lunora-player-local-api", "UPDATE_ROLLBACK_FAILED", &[]);
    let mut env = w.env.clone();
    env.retain_data = true;
    let next = v2(&w);
    let progress = Progress::new(Mode::Plain);
    let deploy_with = |force: bool| {
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        let opts = DeployOptions { skip_checks: true, force, ..DeployOptions::default() };
        rt().block_on(deploy(&w.cloud, &env, &next, &opts, &progress, &journal))
    };
    // the api stack's turn comes after data and web: they are restored, the api stack untouched
    match deploy_with(false) {
        Err(e @ DeployError::Restored { .. }) => {
            let m = e.to_string();
            assert!(m.contains("UPDATE_ROLLBACK_FAILED on Api") && m.contains("--force"), "{m}")
        }
        other => panic!("stopped at the api stack, not {:?}", other.map(|r| r.result)),
    }
    assert!(w.cloud.continued().is_empty(), "nothing skipped");
    assert_eq!(deploy_with(true).expect("continued with --force").result, "succeeded");
    assert_eq!(w.cloud.continued(), vec![("lunora-player-local-api".to_string(), vec!["Api".to_string()])]);
}

/// Review S3-44: a first create whose change set CloudFormation refuses leaves no
/// REVIEW_IN_PROGRESS stack behind for later runs to take for a deployed one.
#[test]
fn a_refused_first_create_leaves_no_stack_behind() {
    let w = world();
    w.cloud.faults.lock().unwrap().validation.insert(
        "lunora-player-local-data".into(),
        vec![("Destinations".into(), "ResourceNameConflict".into(), "exists".into(), "/Properties/TableName".into())],
    );
    let err = run(&w.cloud, &w.env, &w.v1).unwrap_err();
    assert!(err.to_string().contains("ResourceNameConflict"), "{err}");
    for s in &w.v1.stacks {
        assert!(w.cloud.stack_state(&s.stack_name).is_none(), "{} left behind", s.stack_name);
    }
    w.cloud.faults.lock().unwrap().validation.clear();
    assert_eq!(run(&w.cloud, &w.env, &w.v1).expect("the next run creates it").result, "succeeded");
}

/// Review S3-28: a stack whose update is still cleaning up is deleted once it has settled, not
/// refused by CloudFormation ("cannot be deleted while in status ...").
#[test]
fn a_stack_is_deleted_only_once_its_running_operation_ends() {
    let w = world();
    good(&w);
    let cleanup = "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS";
    w.cloud.force_status("lunora-player-local-web", cleanup, &[cleanup, cleanup, "UPDATE_COMPLETE"]);
    let progress = Progress::new(Mode::Plain);
    rt().block_on(castform::ops::changeset::delete(
        &w.cloud,
        "web",
        "lunora-player-local-web",
        "us-west-2",
        w.env.stack_timeout,
        &progress,
    ))
    .expect("deleted after the cleanup ended");
    assert!(w.cloud.stack_state("lunora-player-local-web").is_none());
}

#[test]
fn a_stack_in_progress_is_waited_for() {
    let w = world();
    good(&w);
    w.cloud.force_status("lunora-player-local-data", "UPDATE_IN_PROGRESS", &["UPDATE_IN_PROGRESS", "UPDATE_COMPLETE"]);
    let r = run(&w.cloud, &w.env, &v2(&w)).expect("waits, then deploys");
    assert!(r.stacks["data"].changed);
}

#[test]
fn a_failed_first_create_is_removed_by_the_restore() {
    let w = world();
    fail_stack(&w, "data");
    let err = run(&w.cloud, &w.env, &w.v1).unwrap_err();
    assert!(err.to_string().contains("stack data: ended ROLLBACK_COMPLETE"), "{err}");
    assert!(matches!(err, DeployError::Restored { .. }), "{err}");
    // nothing existed before: every stack this deploy created is gone again
    for s in &w.v1.stacks {
        assert!(w.cloud.stack_state(&s.stack_name).is_none(), "{} left behind", s.stack_name);
    }
    w.cloud.faults.lock().unwrap().fail_stacks.clear();
    assert_eq!(run(&w.cloud, &w.env, &w.v1).unwrap().result, "succeeded");
}

#[test]
fn a_stack_left_in_rollback_complete_is_recreated_or_refused_where_data_is_kept() {
    let w = world();
    good(&w);
    // a create that failed outside castform left the data stack in ROLLBACK_COMPLETE
    w.cloud.force_status("lunora-player-local-data", "ROLLBACK_COMPLETE", &[]);
    let mut keep = w.env.clone();
    keep.retain_data = true;
    lunora(&mut keep).api.cors_origins.clear();
    let app_keep = keep.define().unwrap();
    let err = run(&w.cloud, &keep, &app_keep).unwrap_err();
    assert!(err.to_string().contains("pass --force to delete and create it again"), "{err}");
    assert_eq!(w.cloud.stack_state("lunora-player-local-data").unwrap().0, "ROLLBACK_COMPLETE", "untouched");
    // where data is not kept, it is deleted and created again
    let r = run(&w.cloud, &w.env, &w.v1).expect("recreated");
    assert_eq!(r.result, "succeeded");
    assert_eq!(w.cloud.stack_state("lunora-player-local-data").unwrap().0, "CREATE_COMPLETE");
}

/// Kills the deploy (drops its future) once `steps` steps have finished, then marks its lock as
/// held by a process that no longer runs, as a killed process leaves it.
fn killed_after(w: &World, steps: usize) {
    let next = v2(w);
    let progress = Progress::new(Mode::Plain);
    let journal = std::sync::Arc::new(Mutex::new(Journal { id: new_id(), ..Journal::default() }));
    let watched = journal.clone();
    w.cloud.freeze_when(Some(Box::new(move || watched.lock().unwrap().step_times.len() >= steps)));
    rt().block_on(async {
        let opts = DeployOptions::default();
        tokio::select! {
            r = deploy(&w.cloud, &w.env, &next, &opts, &progress, &journal) => panic!("finished before it was killed: {:?}", r.map(|r| r.result)),
            _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
        }
    });
    w.cloud.freeze_when(None);
    if let Some(lock) = w.cloud.object(BUCKET, "lunora/local/lock.json") {
        let mut v: serde_json::Value = serde_json::from_slice(&lock).unwrap();
        v["pid"] = serde_json::json!(999_999_999u32);
        rt().block_on(w.cloud.put_object(
            BUCKET,
            "lunora/local/lock.json",
            serde_json::to_vec(&v).unwrap(),
            "application/json",
            false,
        ))
        .unwrap();
    }
}

#[test]
fn a_deploy_killed_after_each_step_is_recovered_by_the_next_run() {
    // steps: preflight, lock, backup, assets, stacks, propagate, verify
    for steps in 1..=6 {
        let w = world();
        let (good_record, before) = good(&w);
        killed_after(&w, steps);
        // the environment is at v1 or somewhere between: the next run must notice and put it back
        // before deploying v2
        let r = run(&w.cloud, &w.env, &v2(&w)).unwrap_or_else(|e| panic!("after a kill at step {steps}: {e}"));
        assert_eq!(r.result, "succeeded", "step {steps}");
        let records =
            rt().block_on(castform::state::ledger::list(&w.cloud, &castform::state::StateStore::new(&w.env))).unwrap();
        if steps >= 3 {
            assert!(records.iter().any(|x| x.result == "rolled-back" && x.error.as_deref().is_some_and(|e| e.contains("interrupted"))), "step {steps}: the killed run is recorded");
        }
        // and restoring the last good deployment from the new run's backup is exact: roll back
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        let progress = Progress::new(Mode::Plain);
        rt().block_on(castform::ops::deploy::rollback::rollback(
            &w.cloud,
            &w.env,
            &v2(&w),
            Some(&good_record.id),
            &DeployOptions::default(),
            &progress,
            &journal,
        ))
        .unwrap();
        let after = snapshot(&w, &good_record);
        for (name, (_, template, params)) in &before.stacks {
            assert_eq!(&after.stacks[name].1, template, "step {steps}: {name}");
            assert_eq!(&after.stacks[name].2, params, "step {steps}: {name}");
        }
        assert_eq!(after.config, before.config, "step {steps}");
        assert_eq!(after.code, before.code, "step {steps}");
    }
}

#[test]
fn a_killed_deploy_is_restored_to_its_backup_by_the_next_run() {
    let w = world();
    let (r, before) = good(&w);
    killed_after(&w, 5); // stacks done, propagation under way
    let state = castform::state::StateStore::new(&w.env);
    // the next run with the same version restores first, then deploys it; with v1 it ends at v1
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let again = rt().block_on(deploy(&w.cloud, &w.env, &w.v1, &DeployOptions::default(), &progress, &journal)).unwrap();
    assert_eq!(again.result, "succeeded");
    let after = snapshot(&w, &r);
    for (name, (_, template, params)) in &before.stacks {
        assert_eq!(&after.stacks[name].1, template, "{name}");
        assert_eq!(&after.stacks[name].2, params, "{name}");
    }
    assert_eq!(after.code, before.code);
    let records = rt().block_on(castform::state::ledger::list(&w.cloud, &state)).unwrap();
    let killed = records.iter().find(|x| x.result == "rolled-back").expect("the killed run is recorded");
    assert!(!killed.restored.is_empty(), "{killed:?}");
}

/// A rollback finds the lock of a deploy this host's killed process left, and recovers it first
/// as a deploy would: the killed run restored from its backup and recorded as the deploy it was,
/// then the rollback (a rollback used to be refused by the lock until `castform unlock`).
#[test]
fn a_rollback_recovers_a_killed_deploy_first() {
    let w = world();
    let (good_record, before) = good(&w);
    let v2_record = run(&w.cloud, &w.env, &v2(&w)).expect("v2 deploys");
    killed_after(&w, 5);
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let back = rt()
        .block_on(castform::ops::deploy::rollback::rollback(
            &w.cloud,
            &w.env,
            &v2(&w),
            Some(&good_record.id),
            &DeployOptions::default(),
            &progress,
            &journal,
        ))
        .expect("the killed run recovered, then rolled back");
    assert_eq!((back.kind.as_str(), back.restored_to.as_deref()), ("rollback", Some(good_record.id.as_str())));
    let after = snapshot(&w, &good_record);
    for (name, (_, template, params)) in &before.stacks {
        assert_eq!(&after.stacks[name].1, template, "{name}");
        assert_eq!(&after.stacks[name].2, params, "{name}");
    }
    let records =
        rt().block_on(castform::state::ledger::list(&w.cloud, &castform::state::StateStore::new(&w.env))).unwrap();
    let killed = records.iter().find(|r| r.result == "rolled-back").expect("the killed run is recorded");
    assert_eq!(killed.kind, "deploy", "recorded as the deploy it was");
    assert_ne!(killed.id, v2_record.id);
}

/// Review S3-08: the backup of a killed run whose items were altered in the state bucket is not
/// taken for "no backup" (which released the lock and left the half-applied stacks as the next
/// run's baseline): the recovery restores from the local copy and records it.
#[test]
fn a_killed_runs_backup_altered_in_the_bucket_is_restored_from_the_local_copy() {
    let w = world();
    let (good_record, before) = good(&w);
    killed_after(&w, 5);
    let lock: serde_json::Value =
        serde_json::from_slice(&w.cloud.object(BUCKET, "lunora/local/lock.json").expect("left locked")).unwrap();
    let killed = lock["deployment"].as_str().unwrap().to_string();
    w.cloud.faults.lock().unwrap().corrupt_reads = Some(format!("{killed}/stacks/"));
    let again = run(&w.cloud, &w.env, &w.v1).expect("recovered, then deployed");
    w.cloud.faults.lock().unwrap().corrupt_reads = None;
    assert_eq!(again.result, "succeeded");
    let records =
        rt().block_on(castform::state::ledger::list(&w.cloud, &castform::state::StateStore::new(&w.env))).unwrap();
    let recovered = records.iter().find(|r| r.id == killed).expect("the killed run is recorded");
    assert_eq!(recovered.result, "rolled-back");
    assert!(recovered.restored.iter().any(|x| x.starts_with("stack ")), "{:?}", recovered.restored);
    let after = snapshot(&w, &good_record);
    for (name, (_, template, params)) in &before.stacks {
        assert_eq!(&after.stacks[name].1, template, "{name}");
        assert_eq!(&after.stacks[name].2, params, "{name}");
    }
}

/// Review S3-42: destroy empties only the buckets the deployed template lets CloudFormation delete:
/// one it retains keeps every object, even when today's definition no longer retains it.
#[test]
fn destroy_never_empties_a_bucket_the_deployed_template_retains() {
    let w = world();
    let mut retained = w.v1.clone();
    let web = retained.stacks.iter_mut().find(|s| s.name == "web").unwrap();
    let site_bucket = web.template.resource_mut("SiteBucket").unwrap();
    site_bucket.attributes.deletion_policy = Some(castform::template::DeletionPolicy::Retain);
    // a team's own choice, said as castform asks (L05 would refuse it unexplained)
    site_bucket.attributes.metadata = Some(serde_json::json!({"castform": {"suppress": [
        {"rule": "L05", "reason": "the site's files are kept when a test environment is destroyed"}
    ]}}));
    let r = run(&w.cloud, &w.env, &retained).expect("deploys");
    let bucket = r.stacks["web"].outputs["SiteBucketName"].clone();
    let site = w.cloud.stored_keys(&bucket, "");
    assert!(!site.is_empty(), "the site is in its bucket");
    let progress = Progress::new(Mode::Plain);
    rt().block_on(castform::ops::destroy::destroy(&w.cloud, &w.env, &w.v1, true, &progress)).expect("destroyed");
    assert!(rt().block_on(w.cloud.describe_stack("lunora-player-local-web")).unwrap().is_none(), "the stack is gone");
    assert_eq!(w.cloud.stored_keys(&bucket, ""), site, "the retained bucket keeps every object");
}

/// Review S3-11: `media start` on a channel that cannot start (UPDATE_FAILED) is a failure, said
/// and recorded as one, not "succeeded" with exit 0; a start that works is recorded as such.
#[test]
fn media_start_fails_and_says_so_when_a_part_does_not_start() {
    let MediaWorld { _dir: _keep, env, v1, cloud, channel, flow } = media_world();
    cloud.set_flow(&flow, "STANDBY");
    cloud.set_channel(&channel, "UPDATE_FAILED");
    let err = rt().block_on(castform::ops::media::operate(&cloud, &env, &v1, true)).unwrap_err();
    assert!(format!("{err:#}").contains(&format!("channel {channel} is UPDATE_FAILED, not RUNNING")), "{err:#}");
    let state = castform::state::StateStore::new(&env);
    let records = rt().block_on(castform::state::ledger::list(&cloud, &state)).unwrap();
    let last = records.last().unwrap();
    assert_eq!((last.kind.as_str(), last.result.as_str()), ("media-start", "failed"));
    cloud.set_channel(&channel, "IDLE");
    let (record, _) = rt().block_on(castform::ops::media::operate(&cloud, &env, &v1, true)).expect("starts");
    assert_eq!(record.result, "succeeded");
    assert_eq!(rt().block_on(cloud.describe_channel(&channel)).unwrap().unwrap().state, "RUNNING");
}

/// Review S3-32: `media start` and `stop` hold the environment's lock: refused while a deploy
/// holds it, leaving the pipeline as it was.
#[test]
fn media_operations_wait_their_turn_behind_the_lock() {
    let MediaWorld { _dir: _keep, env, v1, cloud, channel, flow } = media_world();
    cloud.set_flow(&flow, "ACTIVE");
    cloud.set_channel(&channel, "RUNNING");
    let state = castform::state::StateStore::new(&env);
    let deploying =
        castform::state::lock::LockInfo::of_this_process("a-deploy", "ci", "runner", "2026-12-06T00:00:00Z", "deploy");
    rt().block_on(castform::state::lock::acquire(&cloud, &state, &env.name, &deploying)).unwrap();
    let err = rt().block_on(castform::ops::media::operate(&cloud, &env, &v1, false)).unwrap_err();
    assert!(format!("{err:#}").contains("nothing was started or stopped"), "{err:#}");
    assert_eq!(rt().block_on(cloud.describe_channel(&channel)).unwrap().unwrap().state, "RUNNING", "still on air");
    rt().block_on(castform::state::lock::release(&cloud, &state, "a-deploy")).unwrap();
    rt().block_on(castform::ops::media::operate(&cloud, &env, &v1, false)).expect("its turn: stopped");
    assert_eq!(rt().block_on(cloud.describe_channel(&channel)).unwrap().unwrap().state, "IDLE");
    assert!(cloud.object(BUCKET, "lunora/local/lock.json").is_none(), "and the lock released");
}

/// Review S3-14: a rollback puts back the site's own files too, not only its rendered config: a
/// bad frontend release is rolled back.
#[test]
fn a_rollback_puts_back_the_sites_own_files() {
    let w = world();
    let first = run(&w.cloud, &w.env, &w.v1).expect("v1 deploys");
    let bucket = first.stacks["web"].outputs["SiteBucketName"].clone();
    let v1_page = w.cloud.object(&bucket, "index.html").expect("the site's page");
    let page = w.env.root.join("assets/lunora-site/index.html");
    std::fs::write(&page, "<html>a bad release</html>").unwrap();
    let next = v2(&w);
    run(&w.cloud, &w.env, &next).expect("v2 deploys");
    assert_eq!(w.cloud.object(&bucket, "index.html").unwrap(), b"<html>a bad release</html>");
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    rt().block_on(castform::ops::deploy::rollback::rollback(
        &w.cloud,
        &w.env,
        &next,
        Some(&first.id),
        &DeployOptions::default(),
        &progress,
        &journal,
    ))
    .expect("rolled back");
    assert_eq!(w.cloud.object(&bucket, "index.html").unwrap(), v1_page, "the page of v1 again");
}

/// Review S3-19: a file the restore cannot put back does not stop it: every stack is restored all
/// the same, and the run says which file was not.
#[test]
fn a_file_the_restore_cannot_write_does_not_stop_the_stacks_restore() {
    let w = world();
    let (good_record, before) = good(&w);
    let next = v2(&w);
    let puts_before = w.cloud.file_puts();
    let progress = Progress::new(Mode::Plain);
    let watcher = w.cloud.for_region("us-west-2");
    let journal = deploy_until(&w, &next, &progress, Box::new(move || watcher.file_puts() > puts_before));
    let site = good_record.stacks["web"].outputs["SiteBucketName"].clone();
    w.cloud.faults.lock().unwrap().deny_writes.insert(site);
    let err = rt().block_on(castform::ops::deploy::interrupted(&w.cloud, &w.env, &next, &progress, &journal));
    w.cloud.faults.lock().unwrap().deny_writes.clear();
    let DeployError::Unrestored { restore_error, .. } = &err else { panic!("not restored whole: {err}") };
    assert!(restore_error.contains("not restored: ") && restore_error.contains("the stacks were restored"), "{err}");
    let after = snapshot(&w, &good_record);
    for (name, (_, template, params)) in &before.stacks {
        assert_eq!(&after.stacks[name].1, template, "{name}: restored all the same");
        assert_eq!(&after.stacks[name].2, params, "{name}");
    }
}

/// Review S3-27: another environment's ledger record that this castform cannot read may name
/// assets it needs: gc stops, and removes nothing.
#[test]
fn gc_stops_at_a_record_it_cannot_read_and_removes_nothing() {
    let w = world();
    for _ in 0..3 {
        run(&w.cloud, &w.env, &w.v1).expect("deploys");
    }
    let mut env = w.env.clone();
    env.retention = 1;
    rt().block_on(w.cloud.put_object(
        BUCKET,
        "lunora/prod/ledger/x.json",
        b"{\"a newer format\": 1}".to_vec(),
        "application/json",
        false,
    ))
    .unwrap();
    let before = w.cloud.stored_keys(BUCKET, "");
    let err = rt().block_on(castform::ops::gc::run(&w.cloud, &env, false)).unwrap_err();
    assert!(format!("{err:#}").contains("lunora/prod/ledger/x.json is not a record this castform reads"), "{err:#}");
    assert_eq!(w.cloud.stored_keys(BUCKET, ""), before, "nothing removed");
}

#[test]
fn gc_keeps_the_last_n_deployments_and_every_asset_they_use() {
    let mut w = world();
    w.env.retention = 2;
    let first = run(&w.cloud, &w.env, &w.v1).unwrap();
    let index = w.env.root.join("assets/lunora-api/index.mjs");
    let mut ids = vec![first.id.clone()];
    let mut assets = vec![first.assets[0].clone()];
    for v in 2..=4 {
        let code = std::fs::read_to_string(&index).unwrap();
        let start = code.find("const VERSION = '").unwrap();
        let next = format!("{}const VERSION = '{v}';{}", &code[..start], &code[start + "const VERSION = 'X';".len()..]);
        std::fs::write(&index, next).unwrap();
        let app = w.env.define().unwrap();
        let r = run(&w.cloud, &w.env, &app).unwrap();
        ids.push(r.id.clone());
        assets.push(r.assets[0].clone());
    }
    // two failed runs after them: they do not count toward retention, so the live deployment
    // (ids[3]) and the one before it stay (code review: gc counted them and removed the live one)
    w.cloud.faults.lock().unwrap().health_status = Some(403);
    let mut failed = vec![];
    for _ in 0..2 {
        let mut env2 = w.env.clone();
        env2.tags.insert("Release".into(), "broken".into());
        let app = env2.define().unwrap();
        let progress = Progress::new(Mode::Plain);
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        let out = rt().block_on(deploy(&w.cloud, &env2, &app, &DeployOptions::default(), &progress, &journal));
        assert!(matches!(out, Err(DeployError::Restored { .. })), "{out:?}");
        failed.push(journal.lock().unwrap().id.clone());
    }
    w.cloud.faults.lock().unwrap().health_status = None;
    // gc takes the environment's lock: refused while another run holds it
    let state = castform::state::StateStore::new(&w.env);
    let holder = castform::state::lock::LockInfo {
        deployment: "someone-else".into(),
        owner: "ci".into(),
        host: "ci".into(),
        started: "now".into(),
        command: "deploy".into(),
        ..Default::default()
    };
    rt().block_on(castform::state::lock::acquire(&w.cloud, &state, &w.env.name, &holder)).unwrap();
    let busy = rt().block_on(castform::ops::gc::run(&w.cloud, &w.env, false)).unwrap_err();
    assert!(format!("{busy:#}").contains("lock"), "{busy:#}");
    rt().block_on(castform::state::lock::release(&w.cloud, &state, "someone-else")).unwrap();

    let bucket_keys = |prefix: &str| w.cloud.stored_keys(BUCKET, prefix);
    let report = rt().block_on(castform::ops::gc::run(&w.cloud, &w.env, false)).unwrap();
    let mut kept = ids[2..].to_vec();
    kept.extend(failed.clone());
    assert_eq!(report.kept, kept);
    assert_eq!(report.removed_deployments, ids[..2].to_vec());
    assert_eq!(report.removed_assets, assets[..2].to_vec(), "the assets only old deployments used");
    for id in &ids[..2] {
        // every version: the state bucket is versioned, so a plain delete would free nothing
        assert!(bucket_keys(&format!("lunora/local/backups/{id}/")).is_empty());
        assert!(bucket_keys(&format!("lunora/local/deployments/{id}/")).is_empty());
    }
    for a in &assets[..2] {
        assert!(bucket_keys(a).is_empty(), "{a} and its versions removed");
    }
    assert!(
        rt().block_on(w.cloud.list_objects(BUCKET, "lunora/local/lock.json")).unwrap().is_empty(),
        "gc released its lock"
    );
    for (id, asset) in ids[2..].iter().zip(&assets[2..]) {
        assert!(!bucket_keys(&format!("lunora/local/deployments/{id}/")).is_empty(), "{id} kept");
        assert!(w.cloud.object(BUCKET, asset).is_some(), "{asset} kept");
    }
    // a kept deployment can still be rolled back to; a collected one cannot
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let app = w.env.define().unwrap();
    let back = rt()
        .block_on(castform::ops::deploy::rollback::rollback(
            &w.cloud,
            &w.env,
            &app,
            Some(&ids[2]),
            &DeployOptions::default(),
            &progress,
            &journal,
        ))
        .unwrap();
    assert_eq!(back.restored_to.as_deref(), Some(ids[2].as_str()));
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let err = rt()
        .block_on(castform::ops::deploy::rollback::rollback(
            &w.cloud,
            &w.env,
            &app,
            Some(&ids[0]),
            &DeployOptions::default(),
            &progress,
            &journal,
        ))
        .unwrap_err();
    assert!(matches!(err, DeployError::Refused(_)), "{err}");
}

/// `--restart-live` with the pipeline on air, and the media stack failing after the stop: the
/// restore puts the old configuration back and the channel is started again, so a failed deploy
/// never leaves the stream off. Without the flag the change is refused before anything is
/// written. (FakeCloud: the emulator cannot make a stack update fail at that moment on demand.)
/// A `--restart-live` run that took the pipeline off air and was then refused by CloudFormation
/// before any stack changed (every stack's change set fails validation) is not "nothing
/// changed": the pipeline is put back on air, and the run says it restored (exit 3), not refused
/// (expert review: the refusal path left the stream off).
#[test]
fn a_restart_live_run_refused_after_going_off_air_puts_the_pipeline_back_on_air() {
    let MediaWorld { _dir: _keep, env, cloud, channel, flow, .. } = media_world();
    cloud.set_channel(&channel, "RUNNING");
    cloud.set_flow(&flow, "ACTIVE");
    let mut env2 = env.clone();
    env2.tags.insert("Release".into(), "2".into());
    let v2 = env2.define().unwrap();
    for stack in ["data", "media", "api", "web"] {
        cloud.faults.lock().unwrap().validation.insert(
            format!("lunora-player-local-{stack}"),
            vec![("Anything".into(), "PermissionCheck".into(), "not allowed".into(), "/Properties".into())],
        );
    }
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let opts = DeployOptions { restart_live: true, ..DeployOptions::default() };
    let out = rt().block_on(deploy(&cloud, &env2, &v2, &opts, &progress, &journal));
    assert!(matches!(out, Err(DeployError::Restored { .. })), "{out:?}");
    let j = journal.lock().unwrap();
    assert!(j.stopped_live.is_some() && j.touched.is_empty(), "off air, and no stack changed");
    assert_eq!(rt().block_on(cloud.describe_channel(&channel)).unwrap().unwrap().state, "RUNNING", "back on air");
    assert_eq!(rt().block_on(cloud.describe_flow(&flow)).unwrap().unwrap().status, "ACTIVE");
}

#[test]
fn a_failed_restart_live_deploy_puts_the_old_configuration_back_on_air() {
    let MediaWorld { _dir: _keep, env, cloud, channel, flow, .. } = media_world();
    cloud.set_channel(&channel, "RUNNING");
    cloud.set_flow(&flow, "ACTIVE");
    let v1_media = rt().block_on(cloud.get_template("lunora-player-local-media")).unwrap();

    // v2 touches every resource, the channel included (a new tag)
    let mut env2 = env.clone();
    env2.tags.insert("Release".into(), "2".into());
    let v2 = env2.define().unwrap();
    match run(&cloud, &env2, &v2) {
        Err(DeployError::Refused(m)) => {
            assert!(
                m.contains(&format!("channel {channel}")) && m.contains("RUNNING") && m.contains("--restart-live"),
                "{m}"
            )
        }
        other => panic!("refused, not {other:?}"),
    }
    assert!(
        rt().block_on(cloud.list_objects(BUCKET, "lunora/local/backups/"))
            .unwrap()
            .iter()
            .all(|k| !k.contains("Release"))
    );

    cloud.faults.lock().unwrap().fail_stacks.insert("lunora-player-local-media".into());
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let opts = DeployOptions { restart_live: true, ..DeployOptions::default() };
    let out = rt().block_on(deploy(&cloud, &env2, &v2, &opts, &progress, &journal));
    assert!(matches!(out, Err(DeployError::Restored { .. })), "{out:?}");
    assert!(journal.lock().unwrap().stopped_live.is_some(), "the deploy took the pipeline off air");
    let on_air = rt().block_on(cloud.describe_channel(&channel)).unwrap().unwrap();
    assert_eq!(on_air.state, "RUNNING", "back on air after the failure");
    assert_eq!(rt().block_on(cloud.describe_flow(&flow)).unwrap().unwrap().status, "ACTIVE");
    assert_eq!(
        rt().block_on(cloud.get_template("lunora-player-local-media")).unwrap(),
        v1_media,
        "with the old configuration"
    );
}

/// Ctrl-C while a change set executes: the stack being updated counts as touched from the moment
/// its change set is executed, so the interruption restores it too (after its operation
/// settles), records the run and releases the lock (code review: it used to say "nothing was
/// changed" while CloudFormation finished the update).
#[test]
fn an_interruption_while_a_change_set_executes_restores_that_stack() {
    let w = world();
    let (good_record, before) = good(&w);
    let executed_before = w.cloud.executed();
    let next = v2(&w);
    let progress = Progress::new(Mode::Plain);
    let watcher = w.cloud.for_region("us-west-2");
    let journal = deploy_until(&w, &next, &progress, Box::new(move || watcher.executed() > executed_before));
    // the first wave (data and web, independent) had its change sets executing, or about to
    let touched = journal.lock().unwrap().touched.clone();
    assert!(!touched.is_empty() && touched.iter().all(|t| t == "data" || t == "web"), "{touched:?}");
    let err = rt().block_on(castform::ops::deploy::interrupted(&w.cloud, &w.env, &next, &progress, &journal));
    assert_restored(&w, &good_record, &before, err);
}

/// `destroy` of an environment whose pipeline is on air is refused before anything is deleted,
/// naming what runs and the command that takes it off air; once off air it goes ahead. (MediaLive
/// deletes a channel only while idle, so the destroy would otherwise fail half-way with the
/// stream cut.)
#[test]
fn destroy_refuses_a_pipeline_on_air_and_deletes_nothing() {
    let MediaWorld { _dir: _keep, env, v1, cloud, channel, .. } = media_world();
    cloud.set_channel(&channel, "RUNNING");
    let progress = Progress::new(Mode::Plain);
    let err = rt().block_on(castform::ops::destroy::destroy(&cloud, &env, &v1, true, &progress)).unwrap_err();
    let DeployError::Refused(m) = err else { panic!("refused, not {err}") };
    assert!(m.contains(&format!("channel {channel}")) && m.contains("RUNNING"), "{m}");
    assert!(m.contains("castform media stop local --app lunora"), "{m}");
    for s in &v1.stacks {
        assert!(rt().block_on(cloud.describe_stack(&s.stack_name)).unwrap().is_some(), "{} kept", s.stack_name);
    }
    cloud.set_channel(&channel, "IDLE");
    rt().block_on(castform::ops::destroy::destroy(&cloud, &env, &v1, true, &progress)).expect("off air, it goes");
    for s in &v1.stacks {
        assert!(rt().block_on(cloud.describe_stack(&s.stack_name)).unwrap().is_none(), "{} deleted", s.stack_name);
    }
}

/// A rollback that edits a channel on air is held to the same rule as a deploy (P08): refused
/// before any write without `--restart-live`; with it, the pipeline goes off air for the change,
/// comes back on air after, and the recorded templates are back.
#[test]
fn a_rollback_that_edits_a_channel_on_air_needs_restart_live_and_ends_on_air() {
    let MediaWorld { _dir: _keep, env, cloud, channel, flow, .. } = media_world();
    let v1_media = rt().block_on(cloud.get_template("lunora-player-local-media")).unwrap();
    let mut env2 = env.clone();
    env2.tags.insert("Release".into(), "2".into());
    let v2 = env2.define().unwrap();
    run(&cloud, &env2, &v2).expect("v2 deploys while the channel is idle");
    assert_ne!(rt().block_on(cloud.get_template("lunora-player-local-media")).unwrap(), v1_media);
    cloud.set_channel(&channel, "RUNNING");
    cloud.set_flow(&flow, "ACTIVE");

    let progress = Progress::new(Mode::Plain);
    let roll = |restart_live: bool| {
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        let opts = DeployOptions { yes: true, allow_dirty: true, restart_live, ..DeployOptions::default() };
        rt().block_on(castform::ops::deploy::rollback::rollback(&cloud, &env2, &v2, None, &opts, &progress, &journal))
    };
    match roll(false) {
        Err(DeployError::Refused(m)) => {
            assert!(m.contains(&format!("channel {channel}")) && m.contains("--restart-live"), "{m}")
        }
        other => panic!("refused, not {:?}", other.map(|r| r.result)),
    }
    assert_eq!(rt().block_on(cloud.describe_channel(&channel)).unwrap().unwrap().state, "RUNNING", "left on air");
    let record = roll(true).expect("rolled back off air");
    assert_eq!(record.kind, "rollback");
    assert!(record.checks.iter().any(|c| c.ok && c.name.contains("channel")), "{:?}", record.checks);
    assert_eq!(rt().block_on(cloud.get_template("lunora-player-local-media")).unwrap(), v1_media);
    assert_eq!(rt().block_on(cloud.describe_channel(&channel)).unwrap().unwrap().state, "RUNNING", "back on air");
    assert_eq!(rt().block_on(cloud.describe_flow(&flow)).unwrap().unwrap().status, "ACTIVE");
}

/// A restore puts back only what the backup's manifest recorded: an item altered in the state
/// bucket is read from the local copy instead, and an item altered in both is an error naming
/// it, never an empty or wrong template applied (code review: a missing item was restored as an
/// empty file).
#[test]
fn a_restore_checks_every_backup_item_against_its_sha256() {
    let w = world();
    run(&w.cloud, &w.env, &w.v1).expect("v1 deploys");
    let state = castform::state::StateStore::new(&w.env);
    let id = new_id();
    let backup = rt().block_on(castform::ops::deploy::backup::take(&w.cloud, &w.v1, &state, &id, &w.env.root)).unwrap();
    let template_key = backup.stack("api").unwrap().template.clone().unwrap();
    let in_bucket = format!("{}{template_key}", state.backup_prefix(&id));
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: id.clone(), ..Journal::default() });
    let run = castform::ops::deploy::Run::new(&w.cloud, &w.env, &w.v1, &progress, &journal);
    let restore =
        || rt().block_on(castform::ops::deploy::restore(&run, &backup, &id, &["api".to_string()], false, &[]));
    rt().block_on(w.cloud.put_object(BUCKET, &in_bucket, b"{}".to_vec(), "application/json", false)).unwrap();
    let restored = restore().expect("the local copy stands in for the altered one");
    assert!(restored.iter().any(|r| r.contains("lunora-player-local-api")), "{restored:?}");
    std::fs::write(state.local_backup(&id).join(&template_key), b"{}").unwrap();
    let err = restore().unwrap_err();
    assert!(err.contains(&template_key) && err.contains("sha256"), "{err}");

    // restored files are invalidated where a distribution the app declares serves them
    let mut with_cdn = backup.clone();
    let web = with_cdn.stacks.iter_mut().find(|s| s.name == "web").unwrap();
    web.outputs.insert("SiteDistributionId".into(), "E2FAKEDIST".into());
    rt().block_on(castform::ops::deploy::restore(&run, &with_cdn, &id, &[], true, &[])).unwrap();
    assert!(w.cloud.invalidations().is_empty(), "v1 has no distribution: an output is not one by its name");
    let mut env_cdn = w.env.clone();
    lunora(&mut env_cdn).web.as_mut().unwrap().cdn = true;
    let app_cdn = env_cdn.define().unwrap();
    let run = castform::ops::deploy::Run::new(&w.cloud, &env_cdn, &app_cdn, &progress, &journal);
    let restored = rt().block_on(castform::ops::deploy::restore(&run, &with_cdn, &id, &[], true, &[])).unwrap();
    assert!(restored.iter().any(|r| r.starts_with("s3://") && r.ends_with("/config.js")), "{restored:?}");
    assert_eq!(w.cloud.invalidations(), vec!["E2FAKEDIST /*".to_string()]);
}

/// Time to restore service: a rollback points each function's `live` alias back at the version
/// the target deployment recorded before any stack is touched, and records how long that took
/// against the whole run; a failed deploy's restore does the same with the backup's version.
#[test]
fn rollback_and_restore_move_the_live_alias_back_before_the_stacks() {
    let w = world();
    let first = run(&w.cloud, &w.env, &w.v1).expect("v1 deploys");
    let v1_version = first.stacks["api"].outputs["ApiLiveVersion"].clone();
    let next = v2(&w);
    run(&w.cloud, &w.env, &next).expect("v2 deploys");
    assert!(w.cloud.alias_moves().is_empty(), "a deploy moves aliases through CloudFormation only");

    // a failed deploy of v3: the restore moves the alias back to v2's version first
    let v2_version =
        rt().block_on(w.cloud.describe_stack("lunora-player-local-api")).unwrap().unwrap().outputs["ApiLiveVersion"]
            .clone();
    w.cloud.faults.lock().unwrap().health_status = Some(403);
    let mut env3 = w.env.clone();
    env3.tags.insert("Release".into(), "3".into());
    let v3 = env3.define().unwrap();
    assert!(matches!(run(&w.cloud, &env3, &v3), Err(DeployError::Restored { .. })));
    w.cloud.faults.lock().unwrap().health_status = None;
    let moves = w.cloud.alias_moves();
    assert_eq!(moves.len(), 1, "{moves:?}");
    assert!(moves[0].contains(&format!(":live -> {v2_version} after")), "{moves:?}");

    let executed = w.cloud.executed();
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let record = rt()
        .block_on(castform::ops::deploy::rollback::rollback(
            &w.cloud,
            &w.env,
            &next,
            Some(&first.id),
            &DeployOptions::default(),
            &progress,
            &journal,
        ))
        .unwrap();
    let moves = w.cloud.alias_moves();
    assert_eq!(
        moves.last().unwrap(),
        &format!("lunora-player-local-api:live -> {v1_version} after {executed} change sets"),
        "moved before any change set of the rollback ran"
    );
    assert!(w.cloud.executed() > executed, "then the stacks were restored");
    let (service, total) = (record.service_restored_ms.unwrap(), record.total_ms.unwrap());
    assert!(service <= total, "{service} ms of {total} ms");
}

/// The ledger keeps a health check's status and a digest of the body, never the body (code
/// review: the first 160 bytes went into the record and the output).
/// Ctrl-C after a rollback moved a `live` alias: the stacks whose aliases moved are restored, the
/// alias put back first, and the run is recorded as the rollback it was. (Review S3-13's own case,
/// Ctrl-C between two functions' moves, needs an app with two aliased functions or the fake's
/// lost-answer hook; the stacks are now touched before the first move.)
#[test]
fn an_interrupted_rollback_is_restored_aliases_first_and_recorded_as_a_rollback() {
    let w = world();
    let first = run(&w.cloud, &w.env, &w.v1).expect("v1 deploys");
    let next = v2(&w);
    run(&w.cloud, &w.env, &next).expect("v2 deploys");
    let v2_version =
        rt().block_on(w.cloud.describe_stack("lunora-player-local-api")).unwrap().unwrap().outputs["ApiLiveVersion"]
            .clone();
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let watcher = w.cloud.for_region("us-west-2");
    w.cloud.freeze_when(Some(Box::new(move || !watcher.alias_moves().is_empty())));
    rt().block_on(async {
        let opts = DeployOptions::default();
        tokio::select! {
            r = castform::ops::deploy::rollback::rollback(&w.cloud, &w.env, &next, Some(&first.id), &opts, &progress, &journal) => panic!("finished before Ctrl-C: {:?}", r.map(|r| r.result)),
            _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
        }
    });
    w.cloud.freeze_when(None);
    assert_eq!(w.cloud.alias_moves().len(), 1, "the alias moved to v1's version, then Ctrl-C");
    let err = rt().block_on(castform::ops::deploy::interrupted(&w.cloud, &w.env, &next, &progress, &journal));
    assert!(matches!(err, DeployError::Restored { .. }), "{err}");
    let moves = w.cloud.alias_moves();
    assert!(moves.last().unwrap().contains(&format!(":live -> {v2_version} after")), "{moves:?}");
    let state = castform::state::StateStore::new(&w.env);
    let last = rt().block_on(castform::state::ledger::list(&w.cloud, &state)).unwrap().pop().unwrap();
    assert_eq!((last.kind.as_str(), last.result.as_str()), ("rollback", "rolled-back"));
}

#[test]
fn the_record_keeps_a_digest_of_the_health_body_not_the_body() {
    let w = world();
    let record = run(&w.cloud, &w.env, &w.v1).expect("v1 deploys");
    let health = record.checks.iter().find(|c| c.name.starts_with("health")).expect("a health check");
    assert!(health.ok);
    assert!(health.detail.contains("body sha256") && !health.detail.contains("status"), "{}", health.detail);
}

/// Ctrl-C while the site's files are being written, after the first of them: the files step
/// counts as started, so the interruption restores every file and every stack the run changed,
/// and the environment is the last good deployment again, byte for byte.
#[test]
fn an_interruption_after_the_first_file_is_written_restores_the_files_too() {
    let w = world();
    let (good_record, before) = good(&w);
    let next = v2(&w);
    let puts_before = w.cloud.file_puts();
    let progress = Progress::new(Mode::Plain);
    let watcher = w.cloud.for_region("us-west-2");
    // the site's own files are uploaded first; freeze once the next run has written one
    let journal = deploy_until(&w, &next, &progress, Box::new(move || watcher.file_puts() > puts_before));
    assert!(journal.lock().unwrap().files_written, "the run was writing files");
    let err = rt().block_on(castform::ops::deploy::interrupted(&w.cloud, &w.env, &next, &progress, &journal));
    assert_restored(&w, &good_record, &before, err);
}

/// CloudFormation's early validation (AWS, November 2025) fails a change set before anything is
/// deployed; castform names each failing resource with AWS's reason and path, instead of a bare
/// FAILED, and the environment is as it was. (FakeCloud models the events; the emulator has no
/// DescribeEvents, so there only the change set's own reason is shown.)
#[test]
fn a_change_set_failing_early_validation_names_each_resource_and_its_reason() {
    let w = world();
    let (good_record, before) = good(&w);
    let next = v2(&w);
    w.cloud.faults.lock().unwrap().validation.insert(
        "lunora-player-local-web".into(),
        vec![(
            "SiteBucket".into(),
            "ResourceNameConflict".into(),
            "A bucket named lunora-player-local-site already exists in another account".into(),
            "/Properties/BucketName".into(),
        )],
    );
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let err =
        rt().block_on(deploy(&w.cloud, &w.env, &next, &DeployOptions::default(), &progress, &journal)).unwrap_err();
    let text = err.to_string();
    assert!(
        text.contains("SiteBucket (AWS::S3::Bucket) at /Properties/BucketName: ResourceNameConflict: A bucket named"),
        "{text}"
    );
    assert_restored(&w, &good_record, &before, err);
}

// ---- bounded waits, evidence of execution, large templates (h-wait) ----

/// The last record in the environment's ledger.
fn last_record(w: &World) -> Record {
    let records =
        rt().block_on(castform::state::ledger::list(&w.cloud, &castform::state::StateStore::new(&w.env))).unwrap();
    records.last().cloned().expect("a record")
}

/// An update that never settles is cancelled at the environment's `stack_timeout` with
/// CancelUpdateStack ("Cancels an update on the specified stack. If the call completes
/// successfully, the stack rolls back the update",
/// https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CancelUpdateStack.html),
/// and the run restores, says so, exits 3 and records `rolled-back`. The runtime's clock is
/// paused: the 45 minutes pass at once.
#[test]
fn an_update_that_never_settles_is_cancelled_at_the_stack_timeout_and_restored() {
    let mut w = world();
    w.env.stack_timeout = Duration::from_secs(45 * 60);
    let (r, before) = good(&w);
    w.cloud.faults.lock().unwrap().hang_stacks.insert("lunora-player-local-api".into());
    let err = anyhow::Error::new(run(&w.cloud, &w.env, &v2(&w)).unwrap_err());
    let text = err.to_string();
    assert!(
        text.contains(
            "stack api: still UPDATE_IN_PROGRESS after 45m (`stack_timeout` in environments/lunora/local.yaml): cancelled (CancelUpdateStack)"
        ),
        "{text}"
    );
    assert!(text.contains("restored from the backup"), "{text}");
    assert_eq!(castform::cli::exit_code(&err), 3);
    assert_eq!(w.cloud.cancelled(), ["lunora-player-local-api"]);
    assert_restored(&w, &r, &before, err.downcast::<DeployError>().unwrap());
    let record = last_record(&w);
    assert!(record.error.as_deref().unwrap_or_default().contains("cancelled (CancelUpdateStack)"), "{record:?}");
}

/// A create that never settles cannot be cancelled (CancelUpdateStack takes only
/// UPDATE_IN_PROGRESS): it is deleted, and the first deploy is restored to nothing.
#[test]
fn a_create_that_never_settles_is_deleted_at_the_stack_timeout() {
    let mut w = world();
    w.env.stack_timeout = Duration::from_secs(10 * 60);
    w.cloud.faults.lock().unwrap().hang_stacks.insert("lunora-player-local-data".into());
    let err = anyhow::Error::new(run(&w.cloud, &w.env, &w.v1).unwrap_err());
    let text = err.to_string();
    assert!(text.contains("still CREATE_IN_PROGRESS after 10m"), "{text}");
    assert!(text.contains("the stack being created is deleted (DeleteStack)"), "{text}");
    assert_eq!(castform::cli::exit_code(&err), 3, "{text}");
    assert!(w.cloud.cancelled().is_empty(), "no CancelUpdateStack on a create");
    for s in &w.v1.stacks {
        assert!(w.cloud.stack_state(&s.stack_name).is_none(), "{} is gone", s.stack_name);
    }
    assert_eq!(last_record(&w).result, "rolled-back");
}

/// Review S3-31: right after ExecuteChangeSet, DescribeStacks may still answer the status from
/// before (FakeCloud's `stale_reads`). The deploy takes success only with evidence the operation
/// ran, so when it says v2 succeeded, v2's templates are in place and the API runs v2's code.
#[test]
fn success_counts_only_once_the_executed_change_set_shows_it_ran() {
    let w = world();
    good(&w);
    let next = v2(&w);
    w.cloud.faults.lock().unwrap().stale_reads.extend(next.stacks.iter().map(|s| s.stack_name.clone()));
    let r = run(&w.cloud, &w.env, &next).expect("v2 deploys");
    for s in &next.stacks {
        let (status, template, _) = w.cloud.stack_state(&s.stack_name).unwrap();
        assert_eq!(status, "UPDATE_COMPLETE", "{}", s.name);
        assert_eq!(template, s.template.to_json(), "{}: v2's template in place when the run says so", s.name);
    }
    assert_eq!(snapshot(&w, &r).code, r.assets[0], "the API answers with v2's code");
    assert_eq!(last_record(&w).result, "succeeded");
}

/// Review S3-41: a template over TemplateBody's 51,200 bytes (FakeCloud refuses it as
/// CloudFormation does, https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html)
/// is uploaded to the state bucket and the change set reads it through TemplateURL.
#[test]
fn a_template_over_the_body_limit_goes_through_the_state_bucket() {
    let w = world();
    good(&w);
    let mut next = v2(&w);
    let api = next.stacks.iter_mut().find(|s| s.name == "api").unwrap();
    let id = api.template.resources.keys().next().unwrap().clone();
    api.template.resource_mut(id.as_str()).unwrap().attributes.metadata =
        Some(serde_json::json!({"Padding": "x".repeat(60_000)}));
    let body = api.template.to_json();
    assert!(body.len() > castform::aws::fake::TEMPLATE_BODY_LIMIT);
    run(&w.cloud, &w.env, &next).expect("v2 deploys");
    let key = format!("templates/{}.json", castform::template::sha256_hex(body.as_bytes()));
    assert_eq!(w.cloud.object(BUCKET, &key).as_deref(), Some(body.as_bytes()), "the template in the state bucket");
    assert_eq!(w.cloud.template_urls(), [format!("https://{BUCKET}.s3.us-west-2.amazonaws.com/{key}")]);
    let (status, deployed, _) = w.cloud.stack_state("lunora-player-local-api").unwrap();
    assert_eq!((status.as_str(), deployed), ("UPDATE_COMPLETE", body));
}

// ---- secrets kept out of errors and logs (h-wait) ----

/// AWS's documented example secret key, as the caller's credential.
const EXAMPLE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

/// The binary, as a user runs it, against a loopback AWS endpoint with static credentials.
fn castform_against(aws: &Endpoint, args: &[&str], root: &std::path::Path) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_castform"))
        .args(args)
        .arg("--root")
        .arg(root)
        .env("NO_COLOR", "1")
        .env("AWS_ENDPOINT_URL", &aws.url)
        .env("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
        .env("AWS_SECRET_ACCESS_KEY", EXAMPLE_SECRET)
        .env("AWS_CONFIG_FILE", "/dev/null")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .output()
        .expect("castform runs")
}

/// An AWS error that echoes a presigned URL (GetFunction's `Code.Location` form: a session token,
/// a credential and a signature in its query) and the caller's secret key reaches the user with
/// AWS's code and words, and without any of them: on stderr, with `--debug`'s whole chain, and in
/// `--json`'s last document.
#[test]
fn an_aws_error_carrying_a_presigned_url_or_a_secret_is_printed_without_them() {
    let presigned = "https://awslambda-us-west-2-tasks.s3.us-west-2.amazonaws.com/snapshots/000000000000/api-1?versionId=x&X-Amz-Security-Token=FwoGZXIvYXdzEXAMPLESESSIONTOKEN&X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIAEXAMPLEEXAMPLE12%2F20260101%2Fus-west-2%2Fs3%2Faws4_request&X-Amz-Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7";
    let message =
        format!("User is not authorized to read {presigned} signed with {EXAMPLE_SECRET}").replace('&', "&amp;");
    let aws = Endpoint::start(move |_, _| {
        (
            403,
            format!(
                "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>{message}</Message></Error>\
                 <RequestId>r</RequestId></ErrorResponse>"
            ),
        )
    });
    let dir = common::project_copy();
    for args in [&["deploy", "local"][..], &["deploy", "local", "--debug"], &["deploy", "local", "--json"]] {
        let out = castform_against(&aws, args, dir.path());
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let all = format!("{stdout}\n{stderr}");
        assert!(all.contains("AccessDenied") && all.contains("User is not authorized to read"), "{args:?}: {all}");
        assert!(all.contains("X-Amz-Signature=REDACTED"), "{args:?}: {all}");
        for secret in [
            EXAMPLE_SECRET,
            "FwoGZXIvYXdzEXAMPLESESSIONTOKEN",
            "ASIAEXAMPLEEXAMPLE12",
            "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
        ] {
            assert!(!all.contains(secret), "{args:?} shows {secret}: {all}");
        }
        assert_eq!(out.status.code(), Some(2), "{args:?}: refused before any write: {all}");
    }
    assert!(!aws.requests().is_empty(), "the calls reached the endpoint");
}

// ---- every refusal before a write: exit 2, help, nothing written (h-wait) ----

/// A lock held by a deploy on another host.
fn hold_lock(w: &World) {
    let lock =
        br#"{"deployment":"x","owner":"bo","host":"elsewhere","started":"t","command":"deploy","pid":1}"#.to_vec();
    rt().block_on(w.cloud.put_object(BUCKET, "lunora/local/lock.json", lock, "application/json", true)).unwrap();
}

fn refused_by<T: std::fmt::Debug, E: Into<anyhow::Error>>(r: Result<T, E>) -> anyhow::Error {
    r.map(|t| panic!("not refused: {t:?}")).unwrap_err().into()
}

/// Each command's refusals before a write, through the engine each command runs: exit 2, a
/// message naming the cause with a `help:` line, no write to the environment (FakeCloud's count)
/// and the state bucket exactly as it was.
#[test]
fn every_refusal_before_a_write_exits_2_with_help_and_writes_nothing() {
    let progress = Progress::new(Mode::Plain);
    let deploy_with = |w: &World, env: &Environment, opts: DeployOptions| {
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        refused_by(rt().block_on(deploy(&w.cloud, env, &w.v1, &opts, &progress, &journal)))
    };
    let rollback_to = |w: &World, to: Option<&str>| {
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        refused_by(rt().block_on(castform::ops::deploy::rollback::rollback(
            &w.cloud,
            &w.env,
            &w.v1,
            to,
            &DeployOptions::default(),
            &progress,
            &journal,
        )))
    };
    let other_account = |w: &World| Environment { account: "111111111111".into(), ..w.env.clone() };
    type Refuse<'a> = Box<dyn Fn(&World) -> anyhow::Error + 'a>;
    type Case<'a> = (&'a str, &'a str, fn(&World), Refuse<'a>);
    let cases: Vec<Case> = vec![
        (
            "deploy: the lock is held",
            "is being deployed by bo on elsewhere",
            hold_lock,
            Box::new(|w| deploy_with(w, &w.env, DeployOptions::default())),
        ),
        (
            "deploy: credentials of another account",
            "but environments/lunora/local.yaml is account 111111111111",
            |_| {},
            Box::new(|w| deploy_with(w, &other_account(w), DeployOptions::default())),
        ),
        (
            "deploy: not bootstrapped (no state bucket)",
            "castform-000000000000-eu-west-1 does not exist",
            |_| {},
            Box::new(|w| {
                deploy_with(w, &Environment { region: "eu-west-1".into(), ..w.env.clone() }, DeployOptions::default())
            }),
        ),
        (
            "deploy: a confirm environment with uncommitted changes",
            "uncommitted changes",
            |_| {},
            Box::new(|w| deploy_with(w, &Environment { confirm: true, ..w.env.clone() }, DeployOptions::default())),
        ),
        (
            "deploy: confirmation asked of a run that is not interactive",
            "asks for confirmation",
            |_| {},
            Box::new(|w| {
                let opts = DeployOptions { allow_dirty: true, ..DeployOptions::default() };
                deploy_with(w, &Environment { confirm: true, ..w.env.clone() }, opts)
            }),
        ),
        (
            "rollback: --to a deployment not recorded",
            "no deployment 20200101-000000-nope",
            |_| {},
            Box::new(|w| rollback_to(w, Some("20200101-000000-nope"))),
        ),
        (
            "rollback: nothing earlier to go back to",
            "no earlier successful deployment",
            |_| {},
            Box::new(|w| rollback_to(w, None)),
        ),
        (
            "rollback: the lock is held",
            "is being deployed by bo on elsewhere",
            |w| {
                run(&w.cloud, &w.env, &v2(w)).expect("v2 deploys");
                hold_lock(w);
            },
            Box::new(|w| rollback_to(w, None)),
        ),
        (
            "destroy: an environment that retains data",
            "castform does not destroy it",
            |_| {},
            Box::new(|w| {
                let env = Environment { retain_data: true, ..w.env.clone() };
                refused_by(rt().block_on(castform::ops::destroy::destroy(&w.cloud, &env, &w.v1, true, &progress)))
            }),
        ),
        (
            "destroy: confirmation asked of a run that is not interactive",
            "needs its name typed",
            |_| {},
            Box::new(|w| {
                refused_by(rt().block_on(castform::ops::destroy::destroy(&w.cloud, &w.env, &w.v1, false, &progress)))
            }),
        ),
        (
            "gc: the lock is held",
            "nothing was removed",
            hold_lock,
            Box::new(|w| refused_by(rt().block_on(castform::ops::gc::run(&w.cloud, &w.env, false)))),
        ),
        (
            "media start: no pipeline deployed",
            "has no deployed media pipeline",
            |_| {},
            Box::new(|w| refused_by(rt().block_on(castform::ops::media::operate(&w.cloud, &w.env, &w.v1, true)))),
        ),
        (
            "bootstrap: credentials of another account",
            "is account 111111111111",
            |_| {},
            Box::new(|w| refused_by(rt().block_on(castform::ops::bootstrap::run(&w.cloud, &other_account(w), &w.v1)))),
        ),
    ];
    for (name, says, setup, refuse) in &cases {
        let w = world();
        good(&w);
        setup(&w);
        let (writes, keys) = (w.cloud.writes(), w.cloud.stored_keys(BUCKET, ""));
        let bytes: Vec<_> = keys.iter().map(|k| w.cloud.object(BUCKET, k)).collect();
        let err = refuse(&w);
        let text = castform::cli::render_error(&err);
        assert!(text.contains(says), "{name}: {text}");
        assert!(!text.contains("caused by"), "{name}: one message, then its help: {text}");
        assert_eq!(castform::cli::exit_code(&err), 2, "{name}: {text}");
        assert!(text.lines().any(|l| l.starts_with("help: ")), "{name}: no help line: {text}");
        assert_eq!(w.cloud.writes(), writes, "{name}: wrote to the environment: {text}");
        assert_eq!(w.cloud.stored_keys(BUCKET, ""), keys, "{name}: the state bucket changed: {text}");
        let after: Vec<_> = keys.iter().map(|k| w.cloud.object(BUCKET, k)).collect();
        assert!(after == bytes, "{name}: an object of the state bucket changed");
    }
}

/// Three deploys of different code.
fn three_releases(w: &World) -> Vec<Record> {
    let index = w.env.root.join("assets/lunora-api/index.mjs");
    (1..=3)
        .map(|v| {
            let code = std::fs::read_to_string(&index).unwrap();
            let start = code.find("const VERSION = '").unwrap();
            let end = start + code[start..].find(';').unwrap();
            std::fs::write(&index, format!("{}const VERSION = '{v}'{}", &code[..start], &code[end..])).unwrap();
            run(&w.cloud, &w.env, &w.env.define().unwrap()).unwrap()
        })
        .collect()
}

/// Review S3-27 (the in-flight half): another environment's deploy holds its lock and may be about
/// to use an asset it found already uploaded, which no record of it names yet: gc removes old
/// deployments but no asset, and says why; once that run is done, the next gc removes them.
#[test]
fn gc_removes_no_asset_while_another_environments_run_holds_its_lock() {
    let mut w = world();
    let mut runs = three_releases(&w);
    // the third release deployed again: retention 2 keeps the last two runs, both of it; the
    // second, which a bare rollback goes to, is kept too; the first is old
    runs.push(run(&w.cloud, &w.env, &w.env.define().unwrap()).unwrap());
    w.env.retention = 2;
    let old: Vec<String> = runs[0].assets.clone();
    let other = castform::state::lock::LockInfo {
        deployment: "staging-run".into(),
        command: "deploy".into(),
        ..Default::default()
    };
    let mut staging = w.env.clone();
    staging.name = "staging".into();
    let staging_state = castform::state::StateStore::new(&staging);
    rt().block_on(castform::state::lock::acquire(&w.cloud, &staging_state, "staging", &other)).unwrap();
    let report = rt().block_on(castform::ops::gc::run(&w.cloud, &w.env, false)).unwrap();
    assert_eq!(report.removed_deployments, [runs[0].id.clone()]);
    assert!(report.removed_assets.is_empty(), "{report:?}");
    assert!(report.assets_kept_because.as_deref().is_some_and(|w| w.contains("lunora/staging/lock.json")));
    // and the deployment a bare rollback goes to stays, though retention 2 keeps the last two
    assert!(report.kept.contains(&runs[1].id), "{report:?}");
    for a in &old {
        assert!(w.cloud.object(BUCKET, a).is_some(), "{a} kept while staging deploys");
    }
    rt().block_on(castform::state::lock::release(&w.cloud, &staging_state, "staging-run")).unwrap();
    let report = rt().block_on(castform::ops::gc::run(&w.cloud, &w.env, false)).unwrap();
    assert_eq!(report.removed_assets.len(), old.len(), "{report:?}");
    for a in &old {
        assert!(w.cloud.stored_keys(BUCKET, a).is_empty(), "{a} removed once staging is done");
    }
}

/// Second review: a deployed template gc cannot parse may name an asset still in use: gc stops
/// and removes nothing (it used to read it as naming none).
#[test]
fn gc_removes_nothing_when_a_deployed_template_cannot_be_read() {
    let mut w = world();
    three_releases(&w);
    w.env.retention = 1;
    w.cloud.set_template("lunora-player-local-api", "{ not json");
    let before = w.cloud.stored_keys(BUCKET, "");
    let err = rt().block_on(castform::ops::gc::run(&w.cloud, &w.env, false)).unwrap_err();
    assert!(format!("{err:#}").contains("lunora-player-local-api"), "{err:#}");
    assert!(format!("{err:#}").contains("nothing was removed"), "{err:#}");
    assert_eq!(w.cloud.stored_keys(BUCKET, ""), before, "nothing removed");
}

/// Review S3-34: an asset of a removed deployment is removed from every region's assets bucket
/// (the podcast's edge function's code sits in us-east-1), not only the environment's.
#[test]
fn gc_removes_old_assets_from_every_regions_bucket() {
    let dir = common::project_copy();
    let mut env = castform::config::load(dir.path(), castform::apps::seeds(), "podcast", "local").unwrap();
    env.retention = 1;
    let app = env.define().unwrap();
    let state = castform::state::StateStore::new(&env);
    let buckets = state.buckets(&app);
    assert!(buckets.iter().any(|(r, _)| r == "us-east-1"), "the podcast has code in us-east-1: {buckets:?}");
    let cloud = FakeCloud::new(&env.account, &env.region);
    for (region, bucket) in &buckets {
        rt().block_on(cloud.for_region(region).create_state_bucket(bucket)).unwrap();
    }
    let who = ("ci", "ci");
    for (id, asset) in [("d1", "assets/old.zip"), ("d2", "assets/new.zip")] {
        let mut r = Record::new(id, "deploy", &app.app, &env.name, &env.region, "now", who, &env.account);
        r.result = "succeeded".into();
        r.assets = vec![asset.into()];
        rt().block_on(castform::state::ledger::write(&cloud, &state, &r)).unwrap();
        for (region, bucket) in &buckets {
            rt().block_on(cloud.for_region(region).put_object(
                bucket,
                asset,
                b"zip".to_vec(),
                "application/zip",
                false,
            ))
            .unwrap();
        }
    }
    let report = rt().block_on(castform::ops::gc::run(&cloud, &env, false)).unwrap();
    assert_eq!(report.removed_assets, ["assets/old.zip"]);
    for (_, bucket) in &buckets {
        assert!(cloud.object(bucket, "assets/old.zip").is_none(), "removed from {bucket}");
        assert!(cloud.object(bucket, "assets/new.zip").is_some(), "kept in {bucket}");
    }
}

/// Second review: the restore passed `--force` to itself, so where data is retained a failed
/// deploy's restore skipped the resources of a stuck rollback (S3-23's guard) though nobody asked.
/// Without --force it stops at that stack and says what to do; with it, it skips them.
#[test]
fn a_restore_skips_a_stuck_rollbacks_resources_only_when_the_run_was_given_force() {
    for force in [false, true] {
        let w = world();
        good(&w);
        let mut env = w.env.clone();
        env.retain_data = true;
        let next = v2(&w);
        // the web stack's update fails after data's succeeded; then data's restore finds data
        // stuck, as if its own rollback had failed
        fail_stack(&w, "web");
        let progress = Progress::new(Mode::Plain);
        let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
        let opts = DeployOptions { skip_checks: true, force, ..DeployOptions::default() };
        let watcher = w.cloud.for_region("us-west-2");
        w.cloud.freeze_when(None);
        let out = rt().block_on(async {
            let stuck = async {
                // once the web stack has failed, data is found UPDATE_ROLLBACK_FAILED
                loop {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if watcher.stack_state("lunora-player-local-web").is_some_and(|(s, _, _)| s.contains("ROLLBACK_COMPLETE")) {
                        watcher.force_status("lunora-player-local-data", "UPDATE_ROLLBACK_FAILED", &[]);
                        break;
                    }
                }
                std::future::pending::<()>().await;
            };
            tokio::select! { r = deploy(&w.cloud, &env, &next, &opts, &progress, &journal) => r, _ = stuck => unreachable!() }
        });
        if force {
            assert!(matches!(out, Err(DeployError::Restored { .. })), "{out:?}");
            assert_eq!(w.cloud.continued(), vec![("lunora-player-local-data".to_string(), vec!["Api".to_string()])]);
        } else {
            let m = format!("{}", out.unwrap_err());
            assert!(m.contains("UPDATE_ROLLBACK_FAILED") && m.contains("--force"), "{m}");
            assert!(w.cloud.continued().is_empty(), "nothing skipped without --force");
        }
    }
}

/// Review S3-39 (and the simulation's lost-answer fault): a snapshot PUT that landed and lost its
/// answer no longer rolls a good deployment back; a snapshot that truly cannot be stored still
/// does, as a deployment without one could not be rolled back to.
#[test]
fn a_snapshot_write_whose_answer_was_lost_is_confirmed_by_reading_it_back() {
    let w = world();
    good(&w);
    w.cloud.faults.lock().unwrap().lost_puts = Some(format!("{BUCKET}/lunora/local/deployments/"));
    let r = run(&w.cloud, &w.env, &v2(&w)).expect("the snapshot landed: the deploy stands");
    let key = format!("lunora/local/deployments/{}/stacks/api.template.json", r.id);
    assert!(w.cloud.object(BUCKET, &key).is_some(), "{key} stored");
    // read back altered: not confirmed, so the deployment is restored
    {
        let mut f = w.cloud.faults.lock().unwrap();
        f.lost_puts = None;
        f.corrupt_reads = Some("/deployments/".into());
        f.fail_call = None;
    }
    let index = w.env.root.join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    std::fs::write(&index, code.replace("const VERSION = '", "const VERSION = '3")).unwrap();
    w.cloud.faults.lock().unwrap().lost_puts = Some(format!("{BUCKET}/lunora/local/deployments/"));
    let err = run(&w.cloud, &w.env, &w.env.define().unwrap()).unwrap_err();
    assert!(matches!(err, DeployError::Restored { .. }), "{err}");
    assert!(err.to_string().contains("snapshot"), "{err}");
}

/// Second review: a part still moving (a flow STOPPING, a channel STARTING, left by an earlier
/// start or stop) is waited for, then started or stopped from where it settles: `media start`
/// and `media stop` succeed instead of failing on the moment.
#[test]
fn media_start_and_stop_wait_for_a_part_still_moving() {
    let MediaWorld { _dir: _keep, env, v1, cloud, channel, flow } = media_world();
    cloud.set_flow(&flow, "STOPPING");
    cloud.set_channel(&channel, "STARTING");
    let (record, _) = rt().block_on(castform::ops::media::operate(&cloud, &env, &v1, true)).expect("starts");
    assert_eq!(record.result, "succeeded");
    assert_eq!(rt().block_on(cloud.describe_flow(&flow)).unwrap().unwrap().status, "ACTIVE");
    assert_eq!(rt().block_on(cloud.describe_channel(&channel)).unwrap().unwrap().state, "RUNNING");
    cloud.set_channel(&channel, "STARTING");
    let (record, _) = rt().block_on(castform::ops::media::operate(&cloud, &env, &v1, false)).expect("stops");
    assert_eq!(record.result, "succeeded");
    assert_eq!(rt().block_on(cloud.describe_channel(&channel)).unwrap().unwrap().state, "IDLE");
    assert_eq!(rt().block_on(cloud.describe_flow(&flow)).unwrap().unwrap().status, "STANDBY");
}

/// Second review: a site file whose first PUT landed and whose retry was refused (AccessDenied)
/// was dropped from the journal as "never written", so the restore left the new file in place.
/// Now the bucket is read: our bytes there mean it landed, and the restore puts the old one back.
#[test]
fn a_file_that_landed_before_its_retry_was_refused_is_put_back() {
    let w = world();
    let (good, before) = good(&w);
    w.cloud.faults.lock().unwrap().landed_then_refused = Some("lunora-player-local-web-sitebucket/config.js".into());
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    assert_restored(&w, &good, &before, err);
}

/// Second review: a file a failed run added is deleted by the restore, and a delete that fails is
/// said (the run ends "not restored", naming the file), not dropped in silence.
#[test]
fn a_new_file_the_restore_cannot_delete_is_named() {
    for deny in [true, false] {
        let w = world();
        let (good, _) = good(&w);
        let site = good.stacks["web"].outputs["SiteBucketName"].clone();
        std::fs::write(w.env.root.join("assets/lunora-site/new.html"), "<p>new</p>").unwrap();
        {
            let mut f = w.cloud.faults.lock().unwrap();
            f.health_status = Some(403);
            if deny {
                f.deny_deletes.insert(site.clone());
            }
        }
        let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
        let m = err.to_string();
        if deny {
            assert!(matches!(err, DeployError::Unrestored { .. }), "{m}");
            assert!(m.contains(&format!("s3://{site}/new.html (new in this run) not deleted")), "{m}");
        } else {
            assert!(matches!(err, DeployError::Restored { .. }), "{m}");
            assert!(m.contains(&format!("s3://{site}/new.html (deleted: it did not exist before)")), "{m}");
            assert!(w.cloud.object(&site, "new.html").is_none(), "the new file is gone");
        }
    }
}

/// Review S3-09: a site file whose PUT landed and whose answer was lost is put back by the restore
/// (it is journaled before the PUT, not after an answer that never came).
#[test]
fn a_file_whose_answer_was_lost_is_put_back() {
    let w = world();
    let (good, before) = good(&w);
    w.cloud.faults.lock().unwrap().lost_puts = Some("lunora-player-local-web-sitebucket/config.js".into());
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    assert_restored(&w, &good, &before, err);
}

/// The lock as a run on a CI runner that is gone left it: another machine's host name and boot
/// id, so this host cannot tell whether it runs (a restore that was under way is kept).
fn from_a_runner_that_is_gone(w: &World) -> castform::state::lock::LockInfo {
    let key = "lunora/local/lock.json";
    let mut v: serde_json::Value = serde_json::from_slice(&w.cloud.object(BUCKET, key).expect("locked")).unwrap();
    v["host"] = serde_json::json!("ci-runner-9");
    v["boot_id"] = serde_json::json!("another-machine");
    let body = serde_json::to_vec(&v).unwrap();
    rt().block_on(w.cloud.put_object(BUCKET, key, body, "application/json", false)).unwrap();
    serde_json::from_value(v).unwrap()
}

/// Runs `work` until the first change set it executes has executed, then kills it there.
fn killed_once_a_stack_is_restored<T>(w: &World, work: impl std::future::Future<Output = T>) {
    let watcher = w.cloud.for_region("us-west-2");
    let at = w.cloud.executed();
    w.cloud.freeze_when(Some(Box::new(move || watcher.executed() > at)));
    rt().block_on(async {
        tokio::select! {
            _ = work => panic!("finished before it was killed"),
            _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
        }
    });
    w.cloud.freeze_when(None);
}

/// `castform unlock local --restore`, on this host.
fn resume(w: &World, app: &App) -> Result<Record, DeployError> {
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    rt().block_on(castform::ops::deploy::resume(&w.cloud, &w.env, app, false, &progress, &journal))
}

/// The stacks, config.js and code are the last good deployment's again.
fn assert_back_at(w: &World, good: &Record, before: &Snapshot) {
    let after = snapshot(w, good);
    for (name, (_, template, params)) in &before.stacks {
        assert_eq!(&after.stacks[name].1, template, "{name}: template back byte for byte");
        assert_eq!(&after.stacks[name].2, params, "{name}: parameters back");
    }
    assert_eq!(after.config, before.config, "config.js back");
    assert_eq!(after.code, before.code, "the API answers with the last good code");
}

/// Review S3-21: a deploy killed on a CI runner that is gone leaves a trace (an `in-progress`
/// record that `castform history` lists and that is no release), the next deploy is refused
/// and names the way out, and `castform unlock local --restore` from another host puts the
/// environment back to the killed run's backup, records it as the deploy it was, and releases
/// the lock. (Before, the lock could only be broken, which forgot the killed run's backup.)
#[test]
fn a_deploy_killed_on_a_runner_that_is_gone_is_restored_from_another_host() {
    let w = world();
    let (good_record, before) = good(&w);
    killed_after(&w, 5); // stacks done, propagation under way
    let killed = from_a_runner_that_is_gone(&w);
    let records = rt().block_on(castform::ops::history::history(&w.cloud, &w.env)).unwrap();
    let trace = records.iter().find(|r| r.id == killed.deployment).expect("the killed run is in the history");
    assert!(trace.in_progress() && !trace.is_release(), "{trace:?}");
    assert_eq!(trace.kind, "deploy");
    let err = run(&w.cloud, &w.env, &v2(&w)).unwrap_err();
    assert!(matches!(err, DeployError::Refused(_)), "{err}");
    assert!(err.to_string().contains("`castform unlock local --restore`"), "{err}");
    let r = resume(&w, &w.v1).expect("restored from this host");
    assert_eq!(
        (r.id.as_str(), r.kind.as_str(), r.result.as_str()),
        (killed.deployment.as_str(), "deploy", "rolled-back")
    );
    assert!(r.restored.iter().any(|x| x.starts_with("stack ")), "{:?}", r.restored);
    assert_back_at(&w, &good_record, &before);
    assert!(w.cloud.object(BUCKET, "lunora/local/lock.json").is_none(), "released");
    let state = castform::state::StateStore::new(&w.env);
    let records = rt().block_on(castform::state::ledger::list(&w.cloud, &state)).unwrap();
    assert!(!records.iter().any(|r| r.in_progress()), "{records:?}");
    let again = resume(&w, &w.v1).unwrap_err();
    assert!(again.to_string().contains("local is not locked"), "{again}");
    run(&w.cloud, &w.env, &v2(&w)).expect("the next deploy goes ahead");
}

/// Review S3-22: the restore after Ctrl-C says in the lock what it restores before it starts,
/// so when CI kills the process after its grace period, the restore is resumed from any host;
/// a recoverer killed in turn leaves the same restore in the lock it took over, and the third
/// run finishes it.
#[test]
fn a_restore_cut_off_twice_is_finished_from_another_host() {
    let w = world();
    let (good_record, before) = good(&w);
    let next = v2(&w);
    let progress = Progress::new(Mode::Plain);
    let watcher = w.cloud.for_region("us-west-2");
    let at = w.cloud.executed();
    let journal = deploy_until(&w, &next, &progress, Box::new(move || watcher.executed() >= at + 2));
    let (id, touched) = {
        let j = journal.lock().unwrap();
        (j.id.clone(), j.touched.clone())
    };
    // Ctrl-C: the restore starts, and the runner kills the process once a stack is restored
    killed_once_a_stack_is_restored(
        &w,
        castform::ops::deploy::interrupted(&w.cloud, &w.env, &next, &progress, &journal),
    );
    let lock = from_a_runner_that_is_gone(&w);
    let restoring = lock.restoring.as_deref().expect("the lock says which restore is under way");
    assert_eq!((restoring.run.deployment.as_str(), &restoring.stacks), (id.as_str(), &touched));
    // a first recoverer, on another runner, killed too
    let second = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    killed_once_a_stack_is_restored(
        &w,
        castform::ops::deploy::resume(&w.cloud, &w.env, &w.v1, false, &progress, &second),
    );
    let lock = from_a_runner_that_is_gone(&w);
    assert_eq!(lock.command, "unlock --restore");
    assert_eq!(lock.restoring.as_deref().map(|r| r.run.deployment.as_str()), Some(id.as_str()));
    let r = resume(&w, &w.v1).expect("the third run finishes the restore");
    assert_eq!((r.id.as_str(), r.result.as_str()), (id.as_str(), "rolled-back"));
    assert_back_at(&w, &good_record, &before);
    assert!(w.cloud.object(BUCKET, "lunora/local/lock.json").is_none(), "released");
}

/// Review S3-21: Ctrl-C while the lock's PUT is in flight (it landed, its answer had not come):
/// the interruption releases the lock that landed, and the next deploy goes ahead.
#[test]
fn ctrl_c_while_the_lock_is_written_releases_the_lock_that_landed() {
    let w = world();
    good(&w);
    w.cloud.faults.lock().unwrap().hang_after_landing = Some("lock.json".into());
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let next = v2(&w);
    let opts = DeployOptions::default();
    rt().block_on(async {
        tokio::select! {
            r = deploy(&w.cloud, &w.env, &next, &opts, &progress, &journal) => panic!("finished: {:?}", r.map(|r| r.result)),
            _ = tokio::time::sleep(Duration::from_secs(24 * 3600)) => {}
        }
    });
    w.cloud.faults.lock().unwrap().hang_after_landing = None;
    assert!(w.cloud.object(BUCKET, "lunora/local/lock.json").is_some(), "the PUT landed");
    let err = rt().block_on(castform::ops::deploy::interrupted(&w.cloud, &w.env, &next, &progress, &journal));
    assert!(matches!(err, DeployError::Refused(_)), "{err}");
    assert!(w.cloud.object(BUCKET, "lunora/local/lock.json").is_none(), "released");
    run(&w.cloud, &w.env, &next).expect("the next deploy goes ahead");
}

/// Second code review: a record of this environment that this castform cannot read may be the
/// deployment gc would keep or rollback would go back to: both refuse, naming its key, and
/// change nothing.
#[test]
fn gc_and_rollback_refuse_a_history_with_a_record_they_cannot_read() {
    let w = world();
    let (first, _) = good(&w);
    run(&w.cloud, &w.env, &w.v1).expect("deploys");
    run(&w.cloud, &w.env, &w.v1).expect("deploys");
    let before = snapshot(&w, &first);
    let key = "lunora/local/ledger/20261206T000000Z-zzzz.json";
    rt().block_on(w.cloud.put_object(BUCKET, key, b"{\"a newer format\": 1}".to_vec(), "application/json", false))
        .unwrap();
    let stored = w.cloud.stored_keys(BUCKET, "");
    let mut env = w.env.clone();
    env.retention = 1;
    let err = rt().block_on(castform::ops::gc::run(&w.cloud, &env, false)).unwrap_err();
    assert!(
        format!("{err:#}").contains(&format!("gc of local removed nothing: s3://{BUCKET}/{key} is not")),
        "{err:#}"
    );
    assert!(err.downcast_ref::<castform::config::BadInput>().is_some(), "exit 2: {err:#}");
    let progress = Progress::new(Mode::Plain);
    let journal = Mutex::new(Journal { id: new_id(), ..Journal::default() });
    let opts = DeployOptions::default();
    let back = rt().block_on(castform::ops::deploy::rollback::rollback(
        &w.cloud,
        &w.env,
        &w.v1,
        Some(&first.id),
        &opts,
        &progress,
        &journal,
    ));
    match back {
        Err(DeployError::Refused(m)) => assert!(m.contains(key), "{m}"),
        other => panic!("refused, not {:?}", other.map(|r| r.result)),
    }
    assert_eq!(w.cloud.stored_keys(BUCKET, ""), stored, "nothing removed or written");
    assert!(snapshot(&w, &first) == before, "the environment is as it was");
}

/// Review S3-38: a killed destroy is recovered as the destroy it was: recorded as one, and not
/// taken for a deploy that "had written nothing".
#[test]
fn a_killed_destroy_is_recorded_as_a_destroy() {
    let w = world();
    good(&w);
    let (who, host) = castform::state::who();
    let destroy = castform::state::lock::LockInfo {
        pid: 999_999_999,
        ..castform::state::lock::LockInfo::of_this_process("20261206T010000Z-dead", &who, &host, "t", "destroy")
    };
    rt().block_on(w.cloud.put_object(
        BUCKET,
        "lunora/local/lock.json",
        serde_json::to_vec(&destroy).unwrap(),
        "application/json",
        true,
    ))
    .unwrap();
    run(&w.cloud, &w.env, &w.v1).expect("recovered, then deployed");
    let state = castform::state::StateStore::new(&w.env);
    let records = rt().block_on(castform::state::ledger::list(&w.cloud, &state)).unwrap();
    let r = records.iter().find(|r| r.id == destroy.deployment).expect("the killed destroy is recorded");
    assert_eq!((r.kind.as_str(), r.result.as_str()), ("destroy", "interrupted"));
    assert!(r.error.as_deref().unwrap_or_default().contains("a destroy is not undone"), "{r:?}");
}

/// Review S3-38: Ctrl-C while a run restores the environment of a killed one: the restore is
/// finished, not reported as "before anything was changed" with the environment half-restored.
#[test]
fn ctrl_c_during_the_recovery_of_a_killed_run_finishes_it() {
    let w = world();
    let (good_record, before) = good(&w);
    killed_after(&w, 5);
    let watcher = w.cloud.for_region("us-west-2");
    let at = w.cloud.executed();
    let progress = Progress::new(Mode::Plain);
    let journal = deploy_until(&w, &w.v1, &progress, Box::new(move || watcher.executed() > at));
    assert!(journal.lock().unwrap().recovering.is_some(), "stopped in the recovery");
    let err = rt().block_on(castform::ops::deploy::interrupted(&w.cloud, &w.env, &w.v1, &progress, &journal));
    assert!(matches!(&err, DeployError::Refused(m) if m.contains("was put back to the backup of")), "{err}");
    assert_back_at(&w, &good_record, &before);
    assert!(w.cloud.object(BUCKET, "lunora/local/lock.json").is_none(), "released");
}

/// `unlock --restore` never takes over the lock of a run whose process runs on this very host.
#[test]
fn unlock_restore_refuses_a_lock_whose_process_runs_here() {
    let w = world();
    let (good_record, before) = good(&w);
    let (who, host) = castform::state::who();
    let running = castform::state::lock::LockInfo::of_this_process("20261206T020000Z-live", &who, &host, "t", "deploy");
    let body = serde_json::to_vec(&running).unwrap();
    rt().block_on(w.cloud.put_object(BUCKET, "lunora/local/lock.json", body.clone(), "application/json", true))
        .unwrap();
    let err = resume(&w, &w.v1).unwrap_err();
    assert!(matches!(&err, DeployError::Refused(m) if m.contains("runs on this host")), "{err}");
    assert_eq!(w.cloud.object(BUCKET, "lunora/local/lock.json").unwrap(), body, "its lock is left as it is");
    assert!(snapshot(&w, &good_record) == before);
}
