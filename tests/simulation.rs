//! The deterministic simulation of the engine (issue part 1): proptest's state-machine testing
//! generates random sequences of commands, each with a fault at a random point, from a reference
//! model, and drives the real engine functions (the same ones `castform deploy|rollback|gc|
//! destroy|media|unlock` call) over `FakeCloud`. After every step it checks, against what the fake
//! cloud now runs and what its ledger says:
//! - truth: the outcome (exit code), the ledger and the cloud agree: success means the cloud runs
//!   the record, "refused" means nothing changed, "restored" means the last good state is back;
//!   a bare rollback goes to the deployment that was live before the current one;
//! - restorability: the live deployment and every successful deploy or rollback within the
//!   retention still has its snapshot (templates matching their recorded sha256), its backup
//!   and its assets, whatever gc did;
//! - one writer: while another run holds the lock, no command writes the environment or takes
//!   the lock from it (only `unlock --force`, asked for, does);
//! - on air: a channel on air is on air after every command that did not ask to stop it, or
//!   the command failed;
//! - nothing lost: FakeCloud keeps every table with its items (the platform writes to each
//!   between commands) and applies CloudFormation's deletion and replacement policies; no table
//!   castform did not create (the account's `lunora-destinations`, adopted or not) or that a
//!   deployed template retains is ever deleted, and no table loses items, whatever the command
//!   (a destroy, asked for, deletes the tables of an environment that does not retain data).
//!
//! Each case draws whether the environment retains data (prod's settings) and whether it adopts
//! the existing table from its first deploy; `Adopt` adds the `adopt:` line mid-sequence.
//! `CASTFORM_SIM_TRACE=1` prints every step's outcome.
//!
//! CI runs `CASES` seeded cases (a fixed seed: the same sequences every run). The long run,
//! `simulation_long`, takes `CASTFORM_SIM_CASES` and prints cases per second (CONTRIBUTING.md
//! has the command). A failing sequence is shrunk by proptest and kept below as a named
//! regression test.
//!
//! A violation that matches a review finding whose fix is not on this branch yet (`OPEN`) ends
//! its case and is counted, instead of failing the suite; its regression test runs strictly and
//! is ignored until the fix is merged.

mod common;

use castform::aws::Cloud;
use castform::aws::fake::{CallFault, FakeCloud};
use castform::config::Environment;
use castform::ops::deploy::rollback::rollback;
use castform::ops::deploy::{DeployError, DeployOptions, Journal, deploy, interrupted};
use castform::state::clock::new_id;
use castform::state::ledger::{self, Record};
use castform::state::{StateStore, lock};
use castform::template::{App, sha256_hex};
use castform::ui::progress::{Mode, Progress};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest, prop_state_machine};
use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

const BUCKET: &str = "castform-000000000000-us-west-2";
/// The table the account had before castform (seed 001's `lunora-destinations`).
const LEGACY: &str = "lunora-destinations";
/// Small, so that gc removes something within a short sequence.
const RETENTION: u32 = 3;
/// The app's stacks, in the order faults name them.
const STACKS: [&str; 4] = ["data", "media", "api", "web"];
/// Cases a CI run makes (each one up to `MAX_STEPS` commands).
const CASES: u32 = 24;
const MAX_STEPS: usize = 10;
/// Review findings whose fix is not on this branch yet: a violation that matches one ends its
/// case and is counted, and its regression test below is ignored until the fix is merged.
/// `SIM-01` is new: gc keeps a rollback record within the retention but deletes the snapshot of
/// the deploy it went back to, so that state can no longer be rolled back to.
const OPEN: &[&str] = &[];

// ---------------------------------------------------------------------------------------------
// The reference model: what commands make sense next. It cannot see outcomes (proptest generates
// the whole sequence before running it), so it only predicts roughly; the checks compare the
// engine against the cloud, not against the model.

#[derive(Debug, Clone, Copy, PartialEq)]
enum Holder {
    Free,
    /// Another run that is alive holds the lock: on this host name (another container) or not.
    Other {
        same_host: bool,
    },
    /// A run of this host that was killed holds it.
    Orphan,
}

#[derive(Debug, Clone)]
struct Model {
    live: Option<u8>,
    deploys: u8,
    on_air: bool,
    holder: Holder,
    /// The environment retains data (prod's `retain_data: true`): tables are `Retain`, destroy
    /// is refused.
    retain: bool,
    /// The environment file adopts the account's existing `lunora-destinations` table.
    adopted: bool,
}

/// A fault injected into one run (deploy or rollback).
#[derive(Debug, Clone, PartialEq)]
enum Fault {
    None,
    /// The stack's change set fails; CloudFormation rolls it back.
    StackFails(u8),
    /// ... and its rollback fails too (UPDATE_ROLLBACK_FAILED).
    RollbackFails(u8),
    /// The functions answer 403: the health check fails.
    Health,
    /// The stack's change set fails CloudFormation's early validation.
    Validation(u8),
    /// Writes to the site bucket are denied.
    SiteWrites,
    /// The n-th call of the run fails with this code, after the SDK's retries gave up.
    Api {
        at: u16,
        code: &'static str,
    },
    /// The n-th call of the run, if a write, lands and its answer is lost.
    LostAnswer {
        at: u16,
    },
    /// The process is killed before its n-th call (and its lock left as a killed process leaves it).
    Kill {
        at: u16,
    },
    /// Ctrl-C before its n-th call: the run's interruption handler restores.
    CtrlC {
        at: u16,
    },
    /// The process is killed as soon as the channel has left RUNNING (a `--restart-live` run
    /// that took it off air): a regression's fault, not drawn by the strategy.
    KillOffAir,
}

#[derive(Debug, Clone, PartialEq)]
enum Cmd {
    Deploy {
        release: u8,
        restart_live: bool,
        fault: Fault,
    },
    Rollback {
        to: Option<u8>,
        restart_live: bool,
        fault: Fault,
    },
    /// The environment file gains `adopt: {data.Destinations: lunora-destinations}` and the
    /// current release is deployed with it.
    Adopt {
        fault: Fault,
    },
    MediaStart,
    MediaStop,
    Gc,
    Destroy,
    /// `castform unlock --force`.
    Unlock,
    /// gc, destroy or media start/stop under a fault (an API error, a lost answer, a kill;
    /// Ctrl-C kills them, as they install no handler).
    Under {
        fault: Fault,
        cmd: Box<Cmd>,
    },
    /// Another deployer takes the lock and keeps it while it runs.
    OtherHolds {
        same_host: bool,
    },
    /// ... and finishes, releasing it.
    OtherFinishes,
}

fn fault() -> BoxedStrategy<Fault> {
    // a deploy makes about 150 calls, a rollback about 100
    prop_oneof![
        6 => Just(Fault::None),
        1 => (0u8..4).prop_map(Fault::StackFails),
        1 => (0u8..4).prop_map(Fault::RollbackFails),
        1 => Just(Fault::Health),
        1 => (0u8..4).prop_map(Fault::Validation),
        1 => Just(Fault::SiteWrites),
        2 => (1u16..180, prop_oneof![Just("InternalError"), Just("Throttling"), Just("AccessDenied")])
            .prop_map(|(at, code)| Fault::Api { at, code }),
        2 => (1u16..180).prop_map(|at| Fault::LostAnswer { at }),
        2 => (1u16..180).prop_map(|at| Fault::Kill { at }),
        2 => (1u16..180).prop_map(|at| Fault::CtrlC { at }),
    ]
    .boxed()
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = Model;
    type Transition = Cmd;

    fn init_state() -> BoxedStrategy<Model> {
        // release 1 deployed, the pipeline idle (see `Sim::new`); data retained or not, the
        // existing table adopted from the start or not
        (any::<bool>(), any::<bool>())
            .prop_map(|(retain, adopted)| Model {
                live: Some(1),
                deploys: 1,
                on_air: false,
                holder: Holder::Free,
                retain,
                adopted,
            })
            .boxed()
    }

    fn transitions(state: &Model) -> BoxedStrategy<Cmd> {
        let deploy = (1u8..=3, any::<bool>(), fault()).prop_map(|(release, restart_live, fault)| Cmd::Deploy {
            release,
            restart_live,
            fault,
        });
        let back = (prop_oneof![2 => Just(None), 1 => (0u8..8).prop_map(Some)], any::<bool>(), fault())
            .prop_map(|(to, restart_live, fault)| Cmd::Rollback { to, restart_live, fault });
        let lock = match state.holder {
            Holder::Other { .. } => Just(Cmd::OtherFinishes).boxed(),
            _ => any::<bool>().prop_map(|same_host| Cmd::OtherHolds { same_host }).boxed(),
        };
        let adopt =
            if state.adopted { Just(Cmd::Gc).boxed() } else { fault().prop_map(|fault| Cmd::Adopt { fault }).boxed() };
        let under = (
            prop_oneof![Just(Cmd::Gc), Just(Cmd::Destroy), Just(Cmd::MediaStart), Just(Cmd::MediaStop)],
            prop_oneof![
                (1u16..60, prop_oneof![Just("InternalError"), Just("Throttling"), Just("AccessDenied")])
                    .prop_map(|(at, code)| Fault::Api { at, code }),
                (1u16..60).prop_map(|at| Fault::LostAnswer { at }),
                (1u16..60).prop_map(|at| Fault::Kill { at }),
            ],
        )
            .prop_map(|(cmd, fault)| Cmd::Under { fault, cmd: Box::new(cmd) });
        prop_oneof![
            8 => deploy,
            4 => back,
            1 => adopt,
            2 => under,
            2 => Just(Cmd::MediaStart),
            2 => Just(Cmd::MediaStop),
            2 => Just(Cmd::Gc),
            1 => Just(Cmd::Destroy),
            1 => Just(Cmd::Unlock),
            2 => lock,
        ]
        .boxed()
    }

    fn preconditions(state: &Model, cmd: &Cmd) -> bool {
        match cmd {
            Cmd::OtherHolds { .. } => !matches!(state.holder, Holder::Other { .. }),
            Cmd::OtherFinishes => matches!(state.holder, Holder::Other { .. }),
            Cmd::Adopt { .. } => !state.adopted,
            _ => true,
        }
    }

    fn apply(mut m: Model, cmd: &Cmd) -> Model {
        if let Cmd::Under { fault, cmd } = cmd {
            return match fault {
                Fault::Kill { .. } if !matches!(m.holder, Holder::Other { .. }) => {
                    Model { holder: Holder::Orphan, ..m }
                }
                _ => Self::apply(m, cmd),
            };
        }
        let free = !matches!(m.holder, Holder::Other { .. });
        match cmd {
            Cmd::Deploy { release, fault, .. } if free => match fault {
                Fault::None => {
                    m.live = Some(*release);
                    m.deploys += 1;
                    m.holder = Holder::Free;
                }
                Fault::Kill { .. } => m.holder = Holder::Orphan,
                _ => m.holder = Holder::Free,
            },
            Cmd::Adopt { .. } => m.adopted = true,
            Cmd::Rollback { fault: Fault::Kill { .. }, .. } if free => m.holder = Holder::Orphan,
            Cmd::Rollback { .. } if free => m.holder = Holder::Free,
            Cmd::MediaStart if m.live.is_some() => m.on_air = true,
            Cmd::MediaStop => m.on_air = false,
            Cmd::Destroy if free && !m.on_air && m.holder == Holder::Free => m.live = None,
            Cmd::Unlock | Cmd::OtherFinishes => m.holder = Holder::Free,
            Cmd::OtherHolds { same_host } => m.holder = Holder::Other { same_host: *same_host },
            _ => {}
        }
        m
    }
}

// ---------------------------------------------------------------------------------------------
// The system under test: the engine over FakeCloud, and what the checks need to remember.

/// What an environment runs: each stack's template and parameters, config.js, the pipeline.
#[derive(Debug, Clone, PartialEq)]
struct Snap {
    stacks: BTreeMap<String, (String, BTreeMap<String, String>)>,
    config: Option<Vec<u8>>,
    channel: Option<String>,
    flow: Option<String>,
}

/// Totals over a run of the simulation.
#[derive(Debug, Default)]
struct Stats {
    cases: AtomicUsize,
    steps: AtomicUsize,
    faults: AtomicUsize,
    kills: AtomicUsize,
    known: Mutex<BTreeMap<&'static str, usize>>,
}

static STATS: std::sync::LazyLock<Stats> = std::sync::LazyLock::new(Stats::default);

struct Sim {
    _dir: tempfile::TempDir,
    env: Environment,
    cloud: FakeCloud,
    channel: String,
    flow: String,
    site: String,
    /// What the environment must run when nothing is in flight (None: not known, after a lock was
    /// broken over a half-applied run or a restore failed).
    expected: Option<Snap>,
    /// The deployments that were live, oldest first (a bare rollback goes to the one before the
    /// current; a rollback pops what it rolled back): the oracle of S3-05/S3-06.
    lineage: Vec<String>,
    /// Release of each successful deploy, by id; and the ids in order, for `--to`.
    releases: HashMap<String, u8>,
    deploys: Vec<String>,
    /// The environment was destroyed and not deployed since.
    destroyed: bool,
    /// The lock of another run that is alive, as it wrote it.
    other: Option<(Vec<u8>, bool)>,
    /// A run of this process was killed holding the lock.
    orphan: bool,
    /// The environment file has the `adopt:` line (from the start, or since an `Adopt`).
    adopt: bool,
    /// The fault the next gc, destroy or media command runs under (`Cmd::Under`).
    fault: Fault,
    /// Fail on every violation, even one of an `OPEN` finding (regression tests).
    strict: bool,
    /// Ended by a violation of an open finding: the remaining steps are skipped.
    ended: Option<&'static str>,
    step: usize,
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().start_paused(true).build().unwrap()
}

fn progress() -> Progress {
    Progress::new(Mode::Plain)
}

fn journal() -> Mutex<Journal> {
    Mutex::new(Journal { id: new_id(), ..Journal::default() })
}

impl Sim {
    /// `local` of Lunora with its media stack (no CDN: the fake has no CDN data plane), release 1
    /// deployed, the pipeline idle; retention `RETENTION`.
    fn new(strict: bool, retain: bool, adopt: bool) -> Self {
        let dir = common::project_copy();
        let mut env = castform::config::load(dir.path(), castform::apps::seeds(), "lunora", "local").unwrap();
        {
            let web = env
                .config_mut::<castform::apps::lunora::Config>()
                .unwrap()
                .web
                .as_mut()
                .expect("local has a web section");
            web.cdn = false;
            web.rate_limit = None;
        }
        if retain {
            // where data is kept, the API allows no localhost origin (rule L21)
            env.config_mut::<castform::apps::lunora::Config>().unwrap().api.cors_origins.clear();
        }
        env.retention = RETENTION;
        env.retain_data = retain;
        let cloud = FakeCloud::new("000000000000", "us-west-2");
        rt().block_on(cloud.create_state_bucket(BUCKET)).unwrap();
        // the account's table from before castform, full of data (seed 001), shaped as the
        // construct it may be adopted as
        let data = env.define().unwrap();
        let data = data.stacks.iter().find(|s| s.name == "data").unwrap().template.to_value();
        cloud.put_table_like(LEGACY, &data["Resources"]["Destinations"]["Properties"], 500);
        let mut sim = Sim {
            _dir: dir,
            env,
            cloud,
            channel: String::new(),
            flow: String::new(),
            site: String::new(),
            expected: None,
            lineage: vec![],
            releases: HashMap::new(),
            deploys: vec![],
            destroyed: false,
            other: None,
            orphan: false,
            adopt,
            fault: Fault::None,
            strict,
            ended: None,
            step: 0,
        };
        let (env1, app1) = sim.release(1);
        let r = rt()
            .block_on(deploy(&sim.cloud, &env1, &app1, &DeployOptions::default(), &progress(), &journal()))
            .expect("release 1 deploys");
        let resources = rt().block_on(sim.cloud.list_stack_resources("lunora-player-local-media")).unwrap();
        let id_of = |t: &str| resources.iter().find(|r| r.resource_type == t).unwrap().physical_id.clone();
        sim.channel = id_of("AWS::MediaLive::Channel");
        sim.flow = id_of("AWS::MediaConnect::Flow");
        sim.site = r.stacks["web"].outputs["SiteBucketName"].clone();
        sim.media_created();
        sim.succeeded_deploy(&r, 1);
        sim.expected = Some(sim.snap());
        sim
    }

    /// The environment and app of release `n`: the API's code says `VERSION = 'n'` and every
    /// resource carries the tag `Release: n`, so every stack, the channel included, changes.
    fn release(&self, n: u8) -> (Environment, App) {
        let index = self.env.root.join("assets/lunora-api/index.mjs");
        let code = std::fs::read_to_string(&index).unwrap();
        let start = code.find("const VERSION = '").expect("the API has a VERSION");
        let end = start + code[start..].find(";").unwrap();
        std::fs::write(&index, format!("{}const VERSION = '{n}'{}", &code[..start], &code[end..])).unwrap();
        let mut env = self.env.clone();
        env.tags.insert("Release".into(), n.to_string());
        if self.adopt {
            env.adopt = vec![castform::config::Adoption {
                stack: "data".into(),
                logical_id: "Destinations".into(),
                identifier: LEGACY.into(),
                at: "environments/lunora/local.yaml:20:3".into(),
            }];
        }
        let app = castform::ops::adopt::define(&env).unwrap();
        (env, app)
    }

    /// The app as the current code folder has it (what a rollback runs with).
    fn current_app(&self) -> (Environment, App) {
        let n = self.releases.get(self.lineage.last().map(String::as_str).unwrap_or_default()).copied().unwrap_or(1);
        self.release(n)
    }

    /// The fake creates no media resources with a stack: a pipeline the media stack declares
    /// exists idle once the stack does.
    fn media_created(&self) {
        if self.cloud.stack_state("lunora-player-local-media").is_some()
            && rt().block_on(self.cloud.describe_channel(&self.channel)).unwrap().is_none()
        {
            self.cloud.set_channel(&self.channel, "IDLE");
            self.cloud.set_flow(&self.flow, "STANDBY");
        }
    }

    fn snap(&self) -> Snap {
        let stacks = STACKS
            .iter()
            .filter_map(|s| {
                let name = format!("lunora-player-local-{s}");
                // a stack that never ran a change set (REVIEW_IN_PROGRESS, no resources) is not
                // deployed: a restore may delete it, as it deletes any stack the run made
                self.cloud
                    .stack_state(&name)
                    .filter(|(status, _, _)| status != "REVIEW_IN_PROGRESS")
                    .map(|(_, t, p)| (s.to_string(), (t, p)))
            })
            .collect();
        let channel = rt().block_on(self.cloud.describe_channel(&self.channel)).unwrap().map(|c| c.state);
        let flow = rt().block_on(self.cloud.describe_flow(&self.flow)).unwrap().map(|f| f.status);
        Snap { stacks, config: self.cloud.object(&self.site, "config.js"), channel, flow }
    }

    fn state(&self) -> StateStore {
        StateStore::new(&self.env)
    }

    fn records(&self) -> Vec<Record> {
        rt().block_on(ledger::list(&self.cloud, &self.state())).unwrap()
    }

    fn lock_bytes(&self) -> Option<Vec<u8>> {
        self.cloud.object(BUCKET, &self.state().lock_key())
    }

    fn succeeded_deploy(&mut self, r: &Record, release: u8) {
        self.releases.insert(r.id.clone(), release);
        self.deploys.push(r.id.clone());
        self.lineage.push(r.id.clone());
        self.destroyed = false;
    }

    /// A violation: fails the case, unless it matches an open finding (then the case ends).
    fn violated(&mut self, finding: Option<&'static str>, what: String) {
        match finding {
            Some(f) if OPEN.contains(&f) && !self.strict && !strict_about(f) => {
                eprintln!("simulation: known open finding {f} at step {}: {what}", self.step);
                *STATS.known.lock().unwrap().entry(f).or_default() += 1;
                self.ended = Some(f);
            }
            Some(f) => panic!("property violated at step {} ({f}): {what}", self.step),
            None => panic!("property violated at step {}: {what}", self.step),
        }
    }
}

/// `CASTFORM_SIM_STRICT=S3-01,S3-05` (or `all`): fail on these open findings too, so that
/// proptest shrinks a sequence that shows them.
fn strict_about(finding: &str) -> bool {
    std::env::var("CASTFORM_SIM_STRICT").is_ok_and(|v| v == "all" || v.split(',').any(|x| x.trim() == finding))
}

/// How one command ended, in the terms the checks compare.
#[derive(Debug)]
enum Outcome {
    Ok(Box<Record>),
    Err(DeployError),
    /// gc, media, unlock: anyhow errors (exit 1).
    Failed(String),
    /// Killed: no exit code, its lock left behind.
    Killed,
    /// Nothing to run (a `--to` with no deployment to name, the other deployer's steps).
    Skipped,
}

impl std::fmt::Display for Outcome {
    /// Exit code and the first line of the message: what a user sees.
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let first = |m: &str| m.lines().next().unwrap_or_default().chars().take(200).collect::<String>();
        match self {
            Outcome::Ok(r) => write!(f, "exit 0, {} {} {}", r.kind, r.id, r.result),
            Outcome::Err(e @ DeployError::Refused(_)) => write!(f, "exit 2: {}", first(&e.to_string())),
            Outcome::Err(e @ DeployError::Restored { .. }) => write!(f, "exit 3: {}", first(&e.to_string())),
            Outcome::Err(e) => write!(f, "exit 1: {}", first(&e.to_string())),
            Outcome::Failed(m) => write!(f, "exit 1: {}", first(m)),
            Outcome::Killed => write!(f, "killed"),
            Outcome::Skipped => write!(f, "done"),
        }
    }
}

impl Sim {
    fn set_fault(&self, fault: &Fault) {
        let mut f = self.cloud.faults.lock().unwrap();
        let stack = |i: &u8| format!("lunora-player-local-{}", STACKS[*i as usize % 4]);
        let start = self.cloud.calls();
        match fault {
            Fault::StackFails(i) => {
                f.fail_stacks.insert(stack(i));
            }
            Fault::RollbackFails(i) => {
                f.fail_stacks.insert(stack(i));
                f.rollback_fails.insert(stack(i));
            }
            Fault::Health => f.health_status = Some(403),
            Fault::Validation(i) => {
                f.validation.insert(
                    stack(i),
                    vec![("Anything".into(), "PermissionCheck".into(), "not allowed".into(), "/Properties".into())],
                );
            }
            Fault::SiteWrites => {
                f.deny_writes.insert(self.site.clone());
            }
            Fault::Api { at, code } => {
                f.fail_call = Some(CallFault { at: start + *at as usize, code: code.to_string(), lands: false })
            }
            Fault::LostAnswer { at } => {
                f.fail_call = Some(CallFault { at: start + *at as usize, code: "InternalError".into(), lands: true })
            }
            Fault::None | Fault::Kill { .. } | Fault::CtrlC { .. } | Fault::KillOffAir => {}
        }
        if *fault != Fault::None {
            STATS.faults.fetch_add(1, Ordering::Relaxed);
        }
    }

    fn clear_faults(&self) {
        *self.cloud.faults.lock().unwrap() = Default::default();
        self.cloud.freeze_when(None);
    }

    /// Runs a deploy or a rollback under `fault`: to its end, or until it is killed or
    /// interrupted before the fault's call.
    fn run_engine(
        &self,
        env: &Environment,
        app: &App,
        fault: &Fault,
        opts: &DeployOptions,
        rollback_to: Option<Option<&str>>,
    ) -> Outcome {
        self.set_fault(fault);
        let journal = Arc::new(journal());
        let progress = progress();
        let work = async {
            match rollback_to {
                None => deploy(&self.cloud, env, app, opts, &progress, &journal).await,
                Some(to) => rollback(&self.cloud, env, app, to, opts, &progress, &journal).await,
            }
        };
        let stop_at = match fault {
            Fault::Kill { at } | Fault::CtrlC { at } => Some(self.cloud.calls() + *at as usize),
            _ => None,
        };
        if let Some(n) = stop_at {
            let watcher = self.cloud.for_region("us-west-2");
            self.cloud.freeze_when(Some(Box::new(move || watcher.calls() >= n)));
        }
        if *fault == Fault::KillOffAir {
            let (watcher, channel) = (self.cloud.for_region("us-west-2"), self.channel.clone());
            self.cloud
                .freeze_when(Some(Box::new(move || watcher.channel_state(&channel).as_deref() != Some("RUNNING"))));
        }
        let finished = rt().block_on(async {
            tokio::select! {
                r = work => Some(r),
                _ = tokio::time::sleep(Duration::from_secs(7 * 24 * 3600)) => None,
            }
        });
        self.clear_faults();
        let Some(result) = finished else {
            return match fault {
                Fault::CtrlC { .. } => {
                    let err = rt().block_on(interrupted(&self.cloud, env, app, &progress, &journal));
                    Outcome::Err(err)
                }
                _ => {
                    STATS.kills.fetch_add(1, Ordering::Relaxed);
                    self.orphan_lock(&journal.lock().unwrap().id);
                    self.settle();
                    Outcome::Killed
                }
            };
        };
        match result {
            Ok(r) => Outcome::Ok(Box::new(r)),
            Err(e) => Outcome::Err(e),
        }
    }

    /// CloudFormation finishes what a killed process started: every stack's operation runs to
    /// its end (the fake advances one state per DescribeStacks), before the next command.
    fn settle(&self) {
        for s in STACKS {
            let name = format!("lunora-player-local-{s}");
            for _ in 0..10 {
                match rt().block_on(self.cloud.describe_stack(&name)).unwrap() {
                    Some(st) if st.status.ends_with("_IN_PROGRESS") => {}
                    _ => break,
                }
            }
        }
    }

    /// A killed process's lock: this host, a PID that no longer runs (as tests/faults.rs's
    /// `killed_after` leaves it).
    fn orphan_lock(&self, id: &str) {
        let Some(bytes) = self.lock_bytes() else { return };
        let mut v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if v["deployment"] != id {
            return;
        }
        v["pid"] = serde_json::json!(999_999_999u32);
        let body = serde_json::to_vec(&v).unwrap();
        rt().block_on(self.cloud.put_object(BUCKET, &self.state().lock_key(), body, "application/json", false))
            .unwrap();
    }

    /// Runs a gc, destroy or media command under `self.fault`: to its end, or until it is killed
    /// (its lock, if it took one, left as a killed process leaves it).
    fn run_other<T>(&self, work: impl std::future::Future<Output = T>) -> Option<T> {
        let fault = self.fault.clone();
        let lock_before = self.lock_bytes();
        self.set_fault(&fault);
        if let Fault::Kill { at } | Fault::CtrlC { at } = fault {
            let n = self.cloud.calls() + at as usize;
            let watcher = self.cloud.for_region("us-west-2");
            self.cloud.freeze_when(Some(Box::new(move || watcher.calls() >= n)));
        }
        let finished = rt().block_on(async {
            tokio::select! {
                r = work => Some(r),
                _ = tokio::time::sleep(Duration::from_secs(7 * 24 * 3600)) => None,
            }
        });
        self.clear_faults();
        if finished.is_none() {
            STATS.kills.fetch_add(1, Ordering::Relaxed);
            if let Some(bytes) = self.lock_bytes().filter(|b| Some(b) != lock_before.as_ref()) {
                let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
                self.orphan_lock(v["deployment"].as_str().unwrap_or_default());
            }
        }
        finished
    }

    fn exec(&mut self, cmd: &Cmd) -> Outcome {
        match cmd {
            Cmd::Deploy { release, restart_live, fault } => {
                let (env, app) = self.release(*release);
                let opts = DeployOptions { restart_live: *restart_live, ..DeployOptions::default() };
                self.run_engine(&env, &app, fault, &opts, None)
            }
            Cmd::Rollback { to, restart_live, fault } => {
                let to = match to {
                    None => None,
                    Some(_) if self.deploys.is_empty() => return Outcome::Skipped,
                    Some(i) => Some(self.deploys[*i as usize % self.deploys.len()].clone()),
                };
                let (env, app) = self.current_app();
                let opts = DeployOptions { restart_live: *restart_live, yes: true, ..DeployOptions::default() };
                self.run_engine(&env, &app, fault, &opts, Some(to.as_deref()))
            }
            Cmd::Adopt { .. } => unreachable!("`step` runs an adoption as a deploy"),
            Cmd::MediaStart | Cmd::MediaStop => {
                let (env, app) = self.current_app();
                let start = *cmd == Cmd::MediaStart;
                match self.run_other(castform::ops::media::operate(&self.cloud, &env, &app, start)) {
                    None => Outcome::Killed,
                    Some(Ok((r, _))) => Outcome::Ok(Box::new(r)),
                    Some(Err(e)) => Outcome::Failed(format!("{e:#}")),
                }
            }
            Cmd::Gc => match self.run_other(castform::ops::gc::run(&self.cloud, &self.env, false)) {
                None => Outcome::Killed,
                Some(Ok(_)) => Outcome::Skipped,
                Some(Err(e)) => Outcome::Failed(format!("{e:#}")),
            },
            Cmd::Destroy => {
                let (env, app) = self.current_app();
                let progress = progress();
                match self.run_other(castform::ops::destroy::destroy(&self.cloud, &env, &app, true, &progress)) {
                    None => Outcome::Killed,
                    Some(Ok(r)) => Outcome::Ok(Box::new(r)),
                    Some(Err(e)) => Outcome::Err(e),
                }
            }
            Cmd::Under { .. } => unreachable!("`step` runs the command under its fault"),
            Cmd::Unlock => {
                rt().block_on(lock::force_release(&self.cloud, &self.state())).unwrap();
                Outcome::Skipped
            }
            Cmd::OtherHolds { same_host } => {
                let host = if *same_host { castform::state::who().1 } else { "ci-runner-7".into() };
                // a live process in another PID namespace: its PID is not in this /proc
                // (another container shares this kernel's boot id, not its PID namespace)
                let info = lock::LockInfo {
                    pid: 999_999_998,
                    pid_ns: "pid:[4026532999]".into(),
                    ..lock::LockInfo::of_this_process(
                        &format!("other-{}", new_id()),
                        "other",
                        &host,
                        &castform::state::clock::now(),
                        "deploy",
                    )
                };
                rt().block_on(lock::acquire(&self.cloud, &self.state(), &self.env.name, &info))
                    .map(|_| ())
                    .unwrap_or_else(|e| eprintln!("the other deployer could not take the lock: {e}"));
                Outcome::Skipped
            }
            Cmd::OtherFinishes => {
                if let Some(holder) = rt().block_on(lock::current(&self.cloud, &self.state())).unwrap() {
                    rt().block_on(lock::release(&self.cloud, &self.state(), &holder.deployment)).unwrap();
                }
                Outcome::Skipped
            }
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The checks, after every step.

impl Sim {
    /// The bare rollback's oracle: the newest deployment before the current one in the lineage
    /// whose release differs from the current one's.
    fn bare_target(&self) -> Option<String> {
        let current = self.releases.get(self.lineage.last()?)?;
        self.lineage.iter().rev().skip(1).find(|id| self.releases.get(*id) != Some(current)).cloned()
    }

    fn step(&mut self, cmd: &Cmd) {
        self.step += 1;
        STATS.steps.fetch_add(1, Ordering::Relaxed);
        // adopting is deploying the current release with the `adopt:` line; a command under a
        // fault is that command, run with it
        let adopting;
        let cmd = match cmd {
            Cmd::Under { fault, cmd } => {
                self.fault = fault.clone();
                cmd
            }
            Cmd::Adopt { fault } => {
                self.adopt = true;
                let release = self.lineage.last().and_then(|id| self.releases.get(id)).copied().unwrap_or(1);
                adopting = Cmd::Deploy { release, restart_live: false, fault: fault.clone() };
                &adopting
            }
            other => other,
        };
        let tables_before = self.cloud.tables();
        let protected = self.protected_tables();
        let before = self.snap();
        let records_before = self.records();
        let writes_before = self.cloud.writes();
        let lock_before = self.lock_bytes();
        let other = self.other.clone();
        let orphan_before = self.orphan;
        let oracle = if matches!(cmd, Cmd::Rollback { to: None, .. }) && !self.destroyed && self.expected.is_some() {
            Some(self.bare_target())
        } else {
            None
        };
        let outcome = self.exec(cmd);
        self.fault = Fault::None;
        if std::env::var("CASTFORM_SIM_TRACE").is_ok() {
            eprintln!("simulation: step {}: {cmd:?} -> {outcome:?}", self.step);
        }
        // CloudFormation finishes what any run started, whatever became of the run
        self.settle();
        self.media_created();
        let after = self.snap();
        let records = self.records();

        // one writer
        if let Some((bytes, same_host)) = &other
            && !matches!(cmd, Cmd::Unlock | Cmd::OtherFinishes)
        {
            let media = matches!(cmd, Cmd::MediaStart | Cmd::MediaStop);
            let finding = if media {
                Some("S3-32")
            } else if *same_host {
                Some("S3-03")
            } else {
                None
            };
            if self.lock_bytes().as_ref() != Some(bytes) {
                return self.violated(finding, format!("{cmd:?} took the lock of a run that is alive: {outcome}"));
            }
            if self.cloud.writes() != writes_before || after.stacks != before.stacks || after.config != before.config {
                return self.violated(
                    finding,
                    format!("{cmd:?} wrote the environment while another run held its lock: {outcome}"),
                );
            }
        }

        // on air
        let asked_off = matches!(cmd, Cmd::MediaStop | Cmd::Destroy);
        if before.channel.as_deref() == Some("RUNNING") && after.channel.as_deref() != Some("RUNNING") && !asked_off {
            let said = match &outcome {
                Outcome::Err(e) => e.to_string().contains("media start"),
                Outcome::Failed(m) => m.contains("media start"),
                _ => false,
            };
            if !said && !matches!(outcome, Outcome::Killed) {
                return self.violated(
                    None,
                    format!("{cmd:?} left the channel {:?} and did not say so: {outcome}", after.channel),
                );
            }
        }

        // nothing lost
        self.nothing_lost(cmd, &outcome, &tables_before, &protected);
        if self.ended.is_some() {
            return;
        }

        // truth
        self.truth(cmd, &outcome, &before, &after, &records_before, &records, orphan_before, oracle);
        if self.ended.is_some() {
            return;
        }
        // the platform writes to every table between commands
        for t in self.cloud.tables().keys() {
            self.cloud.add_items(t, 1);
        }

        // bookkeeping of the lock holders
        match cmd {
            Cmd::OtherHolds { same_host } => {
                self.other = self.lock_bytes().filter(|b| Some(b) != lock_before.as_ref()).map(|b| (b, *same_host))
            }
            Cmd::OtherFinishes | Cmd::Unlock => self.other = None,
            _ => {}
        }
        if matches!(outcome, Outcome::Killed) {
            self.orphan = self.lock_bytes().is_some() && self.other.is_none();
        } else if self.lock_bytes().is_none() {
            self.orphan = false;
        }

        // restorability
        self.restorable(cmd, &records);
    }

    #[allow(clippy::too_many_arguments)]
    fn truth(
        &mut self,
        cmd: &Cmd,
        outcome: &Outcome,
        before: &Snap,
        after: &Snap,
        records_before: &[Record],
        records: &[Record],
        orphan_before: bool,
        oracle: Option<Option<String>>,
    ) {
        let newest = records.last();
        match (cmd, outcome) {
            (Cmd::Deploy { .. } | Cmd::Rollback { .. }, Outcome::Ok(r)) => {
                if newest.map(|n| (&n.id, n.result.as_str())) != Some((&r.id, "succeeded")) {
                    return self.violated(None, format!("{cmd:?} succeeded, the ledger's newest record is {newest:?}"));
                }
                for (name, s) in &r.stacks {
                    let runs = after.stacks.get(name).map(|(t, p)| (sha256_hex(t.as_bytes()), p));
                    if runs != Some((s.template_sha256.clone(), &s.parameters)) {
                        return self.violated(
                            None,
                            format!(
                                "{cmd:?} succeeded, stack {name} does not run the record's template and parameters"
                            ),
                        );
                    }
                }
                if let Cmd::Rollback { to, .. } = cmd {
                    let target = r.restored_to.clone().unwrap_or_default();
                    let Some(t) = records.iter().find(|x| x.id == target) else {
                        return self.violated(None, format!("rollback to {target}, which the ledger does not have"));
                    };
                    for (name, s) in &t.stacks {
                        if after.stacks.get(name).map(|(tpl, p)| (sha256_hex(tpl.as_bytes()), p))
                            != Some((s.template_sha256.clone(), &s.parameters))
                        {
                            return self.violated(None, format!("rolled back to {target}, stack {name} is not at it"));
                        }
                    }
                    if to.is_none()
                        && let Some(want) = &oracle
                        && want.as_ref() != Some(&target)
                    {
                        let last = records_before.iter().rev().find(|x| x.result == "succeeded");
                        let finding = match last.map(|x| x.kind.as_str()) {
                            Some("media-start" | "media-stop" | "destroy") => Some("S3-05"),
                            Some("rollback") => Some("S3-06"),
                            _ => None,
                        };
                        return self.violated(
                            finding,
                            format!(
                                "a bare rollback went to {target}; the deployment before the current one is {want:?}"
                            ),
                        );
                    }
                    // the lineage: back to the target
                    match self.lineage.iter().rposition(|x| *x == target) {
                        Some(i) => self.lineage.truncate(i + 1),
                        None => self.lineage.push(target.clone()),
                    }
                    self.destroyed = false;
                } else if let Cmd::Deploy { release, .. } = cmd {
                    self.succeeded_deploy(r, *release);
                }
                self.expected = Some(after.clone());
            }
            (Cmd::Deploy { .. } | Cmd::Rollback { .. } | Cmd::Destroy, Outcome::Err(e)) => match e {
                DeployError::Refused(m) => {
                    // a killed run's environment restored by this command before it was refused,
                    // where the model no longer knows the last good state (an earlier restore
                    // failed): its record says it was restored, and that state is the reference
                    let recovered_now = records.iter().any(|r| {
                        r.result == "rolled-back"
                            && records_before.iter().any(|b| b.id == r.id && b.result != "rolled-back")
                    });
                    if orphan_before && self.expected.is_none() && recovered_now {
                        self.expected = Some(after.clone());
                    }
                    let unchanged = after == before || (orphan_before && Some(after) == self.expected.as_ref());
                    if !unchanged {
                        return self.violated(None, format!("{cmd:?} was refused ({m}) but the environment changed"));
                    }
                    if orphan_before && self.lock_bytes().is_none() {
                        // refused after recovering the killed run: that is back at the last good
                        self.orphan = false;
                    }
                    // a bare rollback refused as if there were nothing to go back to
                    if let Cmd::Rollback { to: None, .. } = cmd
                        && let Some(Some(want)) = &oracle
                        && m.contains("no earlier successful deployment")
                    {
                        self.violated(None, format!("a bare rollback was refused ({m}); {want} was before"));
                    }
                }
                DeployError::Restored { .. } => {
                    let reference = if orphan_before { self.expected.clone() } else { Some(before.clone()) };
                    if let Some(want) = reference
                        && *after != want
                    {
                        // S3-44: a CREATE change set that failed leaves its stack in
                        // REVIEW_IN_PROGRESS, with no template, and the restore keeps it
                        let review_only =
                            after.stacks.iter().all(|(n, (t, _))| want.stacks.contains_key(n) || t.is_empty())
                                && want.stacks.iter().all(|(n, x)| after.stacks.get(n) == Some(x))
                                && (&after.config, &after.channel) == (&want.config, &want.channel);
                        return self.violated(
                            review_only.then_some("S3-44"),
                            format!(
                                "{cmd:?} says it restored ({e}) but the environment is not the last good one:\n{}",
                                diff(&want, after)
                            ),
                        );
                    }
                    if newest.map(|n| n.result.as_str()) != Some("rolled-back") {
                        self.violated(None, format!("{cmd:?} restored, the ledger's newest record is {newest:?}"));
                    }
                }
                DeployError::Unrestored { .. } => {
                    // honest (exit 1, says what to do); the environment is not known any more
                    self.expected = None;
                }
                DeployError::Unrecorded { .. } => {
                    // it did succeed: the environment runs the new version without a record
                    self.expected = Some(after.clone());
                }
            },
            (Cmd::Destroy, Outcome::Ok(_)) => {
                if !after.stacks.is_empty() {
                    return self.violated(None, format!("destroy succeeded, stacks remain: {:?}", after.stacks.keys()));
                }
                self.expected = Some(after.clone());
                self.destroyed = true;
            }
            (Cmd::MediaStart | Cmd::MediaStop, Outcome::Ok(r)) => {
                let want = if *cmd == Cmd::MediaStart { "RUNNING" } else { "IDLE" };
                if after.channel.as_deref() != Some(want) {
                    return self.violated(None, format!("{} succeeded, the channel is {:?}", r.kind, after.channel));
                }
                if after.stacks != before.stacks {
                    return self.violated(None, format!("{cmd:?} changed a stack"));
                }
                if let Some(e) = &mut self.expected {
                    e.channel = after.channel.clone();
                    e.flow = after.flow.clone();
                }
            }
            (Cmd::Gc | Cmd::MediaStart | Cmd::MediaStop, Outcome::Failed(_) | Outcome::Skipped)
            | (Cmd::Unlock | Cmd::OtherHolds { .. } | Cmd::OtherFinishes, _) => {
                if after.stacks != before.stacks || after.config != before.config {
                    return self.violated(None, format!("{cmd:?} changed the environment: {outcome}"));
                }
                // a media command that failed may have started or stopped part of the pipeline (a stop
                // whose answer was lost landed): what it is now is what a restore must keep (the
                // long run, seed 11)
                if matches!(cmd, Cmd::MediaStart | Cmd::MediaStop)
                    && let Some(e) = &mut self.expected
                {
                    e.channel = after.channel.clone();
                    e.flow = after.flow.clone();
                }
                if *cmd == Cmd::Unlock && self.orphan && self.expected.as_ref() != Some(after) {
                    // a killed run's lock broken by hand: what it half-applied stays (S3-21)
                    self.expected = None;
                }
            }
            // killed after it recorded its success (before it released its lock): that deployment
            // is live, and the next run's recovery leaves it so (found by the long run, seed 11:
            // the model had not counted it, and took the bare rollback from it for a wrong one)
            (Cmd::Deploy { release, .. }, Outcome::Killed) => {
                let new = records.iter().find(|r| r.is_release() && !records_before.iter().any(|b| b.id == r.id));
                if let Some(r) = new {
                    self.succeeded_deploy(r, *release);
                    self.expected = Some(after.clone());
                }
            }
            (Cmd::Rollback { .. }, Outcome::Killed) => {
                let new = records.iter().find(|r| r.is_release() && !records_before.iter().any(|b| b.id == r.id));
                if let Some(target) = new.and_then(|r| r.restored_to.clone()) {
                    match self.lineage.iter().rposition(|x| *x == target) {
                        Some(i) => self.lineage.truncate(i + 1),
                        None => self.lineage.push(target),
                    }
                    self.destroyed = false;
                    self.expected = Some(after.clone());
                }
            }
            (Cmd::MediaStart | Cmd::MediaStop, Outcome::Killed) => {
                // a media command killed half-way leaves the pipeline as far as it got (the flow
                // started, the channel not yet): what it is now is what a restore must keep
                if let Some(e) = &mut self.expected {
                    e.channel = after.channel.clone();
                    e.flow = after.flow.clone();
                }
            }
            (_, Outcome::Killed | Outcome::Skipped) => {}
            (_, other) => panic!("{cmd:?} ended as {other:?}, which the simulation does not expect"),
        }
    }

    /// The tables nothing may ever delete: the account's own (`LEGACY`, adopted or not: castform
    /// did not create it) and every table a deployed template retains.
    fn protected_tables(&self) -> std::collections::BTreeSet<String> {
        let mut out = std::collections::BTreeSet::from([LEGACY.to_string()]);
        for s in STACKS {
            let Some((_, t, _)) = self.cloud.stack_state(&format!("lunora-player-local-{s}")) else { continue };
            let t: serde_json::Value = serde_json::from_str(&t).unwrap_or_default();
            for r in t["Resources"].as_object().into_iter().flatten().map(|(_, r)| r) {
                if r["Type"] == "AWS::DynamoDB::Table" && r["DeletionPolicy"] == "Retain" {
                    out.extend(r["Properties"]["TableName"].as_str().map(str::to_string));
                }
            }
        }
        out
    }

    /// Nothing lost: no table castform did not create or that is retained is deleted, none that
    /// holds items loses them, whatever the command (a destroy, asked for, deletes the tables an
    /// environment that does not retain data made).
    fn nothing_lost(
        &mut self,
        cmd: &Cmd,
        outcome: &Outcome,
        before: &BTreeMap<String, u64>,
        protected: &std::collections::BTreeSet<String>,
    ) {
        let now = self.cloud.tables();
        for (name, n) in before {
            let asked = *cmd == Cmd::Destroy && !protected.contains(name);
            match now.get(name) {
                None if asked => {}
                None if protected.contains(name) || *n > 0 => {
                    return self.violated(
                        None,
                        format!(
                            "{cmd:?} deleted the table {name} ({n} items{}): {outcome}",
                            if protected.contains(name) { ", retained or not castform's" } else { "" }
                        ),
                    );
                }
                Some(m) if m < n => {
                    return self
                        .violated(None, format!("{cmd:?} emptied the table {name} ({n} -> {m} items): {outcome}"));
                }
                _ => {}
            }
        }
    }

    /// Every successful deploy or rollback within the retention, and the live one, can be rolled
    /// back to: its snapshot's templates match their recorded sha256, its backup and its assets
    /// are in the state bucket.
    fn restorable(&mut self, cmd: &Cmd, records: &[Record]) {
        let state = self.state();
        let runs: Vec<&Record> = records
            .iter()
            .filter(|r| r.result == "succeeded" && (r.kind == "deploy" || r.kind == "rollback"))
            .collect();
        let keep = runs.len().saturating_sub(RETENTION as usize);
        for r in &runs[keep..] {
            let mut missing = vec![];
            // a rollback puts back the deployment it went to: that one's snapshot is what
            // `rollback --to` needs to put this state back again
            let release = match &r.restored_to {
                Some(to) if r.kind == "rollback" => match records.iter().find(|x| &x.id == to) {
                    Some(t) => t,
                    None => {
                        missing.push(format!("the record of {to}"));
                        r
                    }
                },
                _ => r,
            };
            for (name, s) in &release.stacks {
                let key = state.snapshot_key(&release.id, &format!("stacks/{name}.template.json"));
                match self.cloud.object(BUCKET, &key) {
                    Some(b) if sha256_hex(&b) == s.template_sha256 => {}
                    Some(_) => missing.push(format!("{key} (altered)")),
                    None => missing.push(key),
                }
            }
            if self.cloud.stored_keys(BUCKET, &state.backup_prefix(&r.id)).is_empty() {
                missing.push(state.backup_prefix(&r.id));
            }
            for a in &r.assets {
                if self.cloud.object(BUCKET, a).is_none() {
                    missing.push(a.clone());
                }
            }
            if !missing.is_empty() {
                // S3-01: media and destroy records counted as deployments push the live one out
                let newest: Vec<&Record> =
                    records.iter().filter(|x| x.result == "succeeded").rev().take(RETENTION as usize).collect();
                let finding = (*cmd == Cmd::Gc
                    && newest.iter().any(|x| matches!(x.kind.as_str(), "media-start" | "media-stop" | "destroy")))
                .then_some("S3-01")
                .or((*cmd == Cmd::Gc && release.id != r.id).then_some("SIM-01"));
                return self.violated(
                    finding,
                    format!(
                        "{} {} (within the retention of {RETENTION}{}) cannot be restored: {} gone",
                        r.kind,
                        r.id,
                        if release.id == r.id { String::new() } else { format!(", back to {}", release.id) },
                        missing.join(", ")
                    ),
                );
            }
        }
    }
}

fn diff(want: &Snap, got: &Snap) -> String {
    let mut out = vec![];
    for name in want.stacks.keys().chain(got.stacks.keys()) {
        let (w, g) = (want.stacks.get(name), got.stacks.get(name));
        if w != g {
            out.push(format!(
                "stack {name}: expected {:?}, found {:?}",
                w.map(|(t, p)| (sha256_hex(t.as_bytes()), p)),
                g.map(|(t, p)| (sha256_hex(t.as_bytes()), p))
            ));
        }
    }
    if want.config != got.config {
        out.push("config.js differs".into());
    }
    if (&want.channel, &want.flow) != (&got.channel, &got.flow) {
        out.push(format!(
            "pipeline: expected {:?}/{:?}, found {:?}/{:?}",
            want.channel, want.flow, got.channel, got.flow
        ));
    }
    out.dedup();
    out.join("\n")
}

// ---------------------------------------------------------------------------------------------
// Wiring into proptest-state-machine.

struct Engine;

impl StateMachineTest for Engine {
    type SystemUnderTest = Sim;
    type Reference = Reference;

    fn init_test(m: &Model) -> Sim {
        STATS.cases.fetch_add(1, Ordering::Relaxed);
        Sim::new(false, m.retain, m.adopted)
    }

    fn apply(mut sim: Sim, _: &Model, cmd: Cmd) -> Sim {
        if sim.ended.is_none() {
            sim.step(&cmd);
        }
        sim
    }
}

fn config(cases: u32) -> Config {
    Config {
        cases,
        // the same sequences every run; CASTFORM_SIM_SEED picks others
        rng_seed: RngSeed::Fixed(std::env::var("CASTFORM_SIM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(2026)),
        failure_persistence: None,
        max_shrink_iters: 400,
        ..Config::default()
    }
}

fn cases(default: u32) -> u32 {
    std::env::var("CASTFORM_SIM_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(default)
}

prop_state_machine! {
    #![proptest_config(config(cases(CASES)))]
    fn simulation_cases(sequential 1..MAX_STEPS => Engine);
}

prop_state_machine! {
    #![proptest_config(config(cases(500)))]
    fn simulation_long_cases(sequential 1..(2 * MAX_STEPS) => Engine);
}

/// Runs `cases` and says how many cases, steps and faults it ran, how fast, and which open
/// findings it met.
fn timed(cases: fn()) {
    let started = std::time::Instant::now();
    let result = std::panic::catch_unwind(cases);
    let secs = started.elapsed().as_secs_f64();
    let n = STATS.cases.load(Ordering::Relaxed);
    let steps = STATS.steps.load(Ordering::Relaxed);
    eprintln!(
        "simulation: {n} cases (shrinking included), {steps} steps, {} faults injected ({} kills) in {secs:.1} s: {:.1} cases/s, {:.1} steps/s; open findings met: {:?}",
        STATS.faults.load(Ordering::Relaxed),
        STATS.kills.load(Ordering::Relaxed),
        n as f64 / secs,
        steps as f64 / secs,
        STATS.known.lock().unwrap()
    );
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}

/// CI's run: `CASES` seeded sequences of 1 to `MAX_STEPS` commands (`CASTFORM_SIM_CASES` for more).
#[test]
fn simulation() {
    timed(simulation_cases);
}

/// The long run: `CASTFORM_SIM_CASES=N cargo test --test simulation simulation_long -- --ignored
/// --nocapture > /tmp/sim.log` (sequences of up to twice as many commands; 500 cases by default).
#[test]
#[ignore = "the long run, by hand: CASTFORM_SIM_CASES=N cargo test --test simulation simulation_long -- --ignored --nocapture"]
fn simulation_long() {
    timed(simulation_long_cases);
}

/// Runs a fixed sequence strictly (an open finding fails it too).
fn replay(cmds: &[Cmd]) {
    replay_in(false, false, cmds)
}

/// ... in an environment that retains data or not, and adopts `LEGACY` from the start or not.
fn replay_in(retain: bool, adopt: bool, cmds: &[Cmd]) {
    let mut sim = Sim::new(true, retain, adopt);
    for c in cmds {
        sim.step(c);
    }
}

// ---------------------------------------------------------------------------------------------
// Regressions: sequences the simulation found and shrank, replayed strictly. Each starts from
// release 1 deployed with the pipeline idle (`Sim::new`).

/// S3-01: gc counted a `media-start` record toward the retention of 3 and removed the snapshot
/// and backup of the first deploy, still one of the last three deployments.
#[test]
fn gc_after_media_start_keeps_every_deployment_within_the_retention() {
    use Cmd::*;
    replay(&[
        Deploy { release: 2, restart_live: false, fault: Fault::None },
        Deploy { release: 2, restart_live: false, fault: Fault::None },
        MediaStart,
        Gc,
    ]);
}

/// S3-05: a bare rollback right after `media start`, with no earlier deployment to go back to,
/// "rolled back" to the deployment that is live (exit 0) instead of being refused.
#[test]
fn a_bare_rollback_after_media_start_is_not_a_rollback_to_the_live_deployment() {
    use Cmd::*;
    replay(&[MediaStart, Rollback { to: None, restart_live: false, fault: Fault::None }]);
}

/// S3-32: `media start` takes no lock: it starts the channel while another run holds the
/// environment's lock.
#[test]
fn media_start_waits_for_the_lock_another_run_holds() {
    use Cmd::*;
    replay(&[OtherHolds { same_host: false }, MediaStart]);
}

/// SIM-01 (new; shrunk from `Rollback --to D1, Rollback --to D1 (InternalError at call 72),
/// Unlock, Deploy 1 (InternalError at call 78), Gc` and simplified by hand): after D2, D3 and a
/// rollback to D1, gc keeps the three newest releases (D2, D3, the rollback) but deletes D1's
/// snapshot; the rollback's state, D1's templates, can no longer be rolled back to ("no stored
/// template"), though D1's assets are kept.
#[test]
fn gc_keeps_the_deployment_a_kept_rollback_went_back_to() {
    use Cmd::*;
    replay(&[
        Deploy { release: 2, restart_live: false, fault: Fault::None },
        Deploy { release: 3, restart_live: false, fault: Fault::None },
        Rollback { to: Some(0), restart_live: false, fault: Fault::None },
        Gc,
    ]);
}

/// S3-03: another deployer on the same host name (another container: its PID is not in this
/// /proc) holds the lock; the next deploy takes it for a killed run, breaks its lock and deploys
/// while it runs.
#[test]
fn a_deploy_never_breaks_the_lock_of_a_live_run_on_the_same_host_name() {
    use Cmd::*;
    replay(&[OtherHolds { same_host: true }, Deploy { release: 1, restart_live: false, fault: Fault::None }]);
}

/// S3-44: after a destroy, a deploy whose first CREATE change set (the data stack's) fails
/// CloudFormation's early validation says it restored (exit 3), and deletes the stacks it
/// created, but leaves the data stack in REVIEW_IN_PROGRESS, with no template, behind.
#[test]
fn a_failed_first_change_set_leaves_no_stack_behind() {
    use Cmd::*;
    replay(&[Destroy, Deploy { release: 1, restart_live: false, fault: Fault::Validation(0) }]);
}

/// S3-06: after D1, D2 and a bare rollback (back to D1), a second bare rollback goes forward
/// again to D2, the release just rolled back, instead of being refused (nothing before D1).
#[test]
fn a_second_bare_rollback_never_goes_forward_to_the_release_it_rolled_back() {
    use Cmd::*;
    replay(&[
        Deploy { release: 2, restart_live: false, fault: Fault::None },
        Rollback { to: None, restart_live: false, fault: Fault::None },
        Rollback { to: None, restart_live: false, fault: Fault::None },
    ]);
}

/// Found by the long run: after D1 (release 1 again), a rollback to the first deployment and D2, a
/// bare rollback went to D1, which had been rolled back, instead of what ran before D2.
#[test]
fn a_bare_rollback_goes_to_what_ran_before_not_to_a_deploy_rolled_back_earlier() {
    use Cmd::*;
    replay(&[
        Deploy { release: 1, restart_live: false, fault: Fault::None },
        Rollback { to: Some(2), restart_live: false, fault: Fault::None },
        Deploy { release: 2, restart_live: false, fault: Fault::None },
        OtherHolds { same_host: false },
        Unlock,
        Rollback { to: None, restart_live: false, fault: Fault::None },
    ]);
}

/// Found by the long run (SIM-02): after a destroy, a rollback interrupted right after it
/// executed the data stack's first change set ended "not restored" (exit 1): its restore tried to
/// delete the api stack, which it had never made, and failed reading that stack's template. The
/// next deploy then backed up the data stack while CloudFormation was still creating it (an empty
/// template), and its restore put that empty template back. Fixed: the restore skips a stack
/// that does not exist, and the backup reads a stack once its running operation has ended.
#[test]
fn a_review_in_progress_stack_left_by_an_interruption_is_not_a_deployed_one() {
    use Cmd::*;
    replay(&[
        Destroy,
        Rollback { to: Some(0), restart_live: false, fault: Fault::CtrlC { at: 44 } },
        Deploy { release: 2, restart_live: false, fault: Fault::RollbackFails(1) },
    ]);
}

/// Found by the long run (SIM-03): a `--restart-live` deploy killed after it took the channel
/// off air; the next deploy recovered it, restoring its stacks, and left the channel stopped
/// (the journal that knew it had stopped the pipeline died with the process). Fixed: the run
/// records the pipeline in its backup folder before stopping it, and the recovery starts it
/// again. The kill comes as the channel leaves RUNNING (`KillOffAir`, not a call number, which
/// moves as the engine changes), and the next deploy fails its health check, so its restore is
/// compared with the last good state, channel on air.
#[test]
fn the_recovery_of_a_killed_restart_live_run_puts_the_channel_back_on_air() {
    use Cmd::*;
    replay_in(
        false,
        true,
        &[
            MediaStart,
            Deploy { release: 1, restart_live: false, fault: Fault::None },
            Gc,
            Deploy { release: 2, restart_live: true, fault: Fault::KillOffAir },
            Deploy { release: 3, restart_live: false, fault: Fault::Health },
        ],
    );
}

/// Nothing lost (a mutation of adoption that left the table's `DeletionPolicy` as the
/// environment has it, `Delete` here, made the simulation find this at once): an adopted table
/// outlives a destroy with its items, and the next deploy adopts it again.
#[test]
fn an_adopted_table_outlives_a_destroy_and_is_adopted_again() {
    use Cmd::*;
    replay_in(false, true, &[Destroy, Deploy { release: 2, restart_live: false, fault: Fault::None }]);
}

/// Adopting a table for a construct whose own table is already deployed (and holds items) is
/// refused before anything is written ("an adopted resource cannot be swapped"), and neither table
/// loses anything, then or on a rollback.
#[test]
fn adopting_a_table_over_a_deployed_one_loses_neither() {
    use Cmd::*;
    replay_in(
        false,
        false,
        &[Adopt { fault: Fault::None }, Rollback { to: None, restart_live: false, fault: Fault::None }],
    );
}

/// Found by the long run (seed 7) on the lock-takeover fix: a run that took a killed run's lock
/// over and then failed to restore it (an API error) kept the lock in its own name, so, its
/// process alive, every later run was refused. The lock now goes back to the killed run, with the
/// restore to make, and the next run resumes it.
#[test]
fn a_failed_recovery_hands_the_lock_back_to_the_killed_run() {
    use Cmd::*;
    replay(&[
        Deploy { release: 3, restart_live: false, fault: Fault::Kill { at: 86 } },
        Deploy { release: 3, restart_live: false, fault: Fault::Api { at: 79, code: "InternalError" } },
        Deploy { release: 2, restart_live: false, fault: Fault::None },
        MediaStart,
        Deploy { release: 2, restart_live: false, fault: Fault::None },
    ]);
}

/// Found by the long run (seed 7) on the lock-takeover fix: a run that restored a killed run's
/// environment (after an earlier restore of it failed, so the model does not know the last good
/// state) and then could not write its own lock or record is refused, and says it restored the
/// killed run first; the killed run's record says what was restored.
#[test]
fn a_run_that_restored_a_killed_one_and_then_stops_says_what_it_restored() {
    use Cmd::*;
    replay(&[
        Deploy { release: 2, restart_live: false, fault: Fault::Kill { at: 117 } },
        Deploy { release: 1, restart_live: false, fault: Fault::Api { at: 61, code: "InternalError" } },
        Deploy { release: 1, restart_live: false, fault: Fault::Api { at: 98, code: "InternalError" } },
    ]);
    replay(&[
        Deploy { release: 2, restart_live: false, fault: Fault::Kill { at: 117 } },
        Deploy { release: 1, restart_live: false, fault: Fault::Api { at: 61, code: "InternalError" } },
        Deploy { release: 1, restart_live: false, fault: Fault::Api { at: 99, code: "InternalError" } },
    ]);
}

/// Found by the long run (seed 11): a deploy killed after it recorded its success is the live
/// deployment (the next run's recovery leaves it as it is), so a bare rollback goes back from it.
/// The engine was right; the simulation's model had not counted the killed run's success.
#[test]
fn a_deploy_killed_after_recording_its_success_is_the_one_a_bare_rollback_goes_back_from() {
    use Cmd::*;
    replay_in(
        false,
        true,
        &[
            Deploy { release: 2, restart_live: false, fault: Fault::Kill { at: 152 } },
            Rollback { to: None, restart_live: false, fault: Fault::None },
        ],
    );
}

/// Found by the long run with the nothing-lost property (SIM-04, seed 11): after a destroy, a
/// deploy killed once CloudFormation had created the data stack; the platform wrote to its tables;
/// the next deploy's recovery deleted that stack, "it did not exist before", and the items with
/// it. Fixed: a stack a run made whose tables hold items is kept, and said (not restored).
#[test]
fn the_recovery_never_deletes_a_table_written_since_the_killed_run_made_it() {
    use Cmd::*;
    replay(&[
        Destroy,
        Deploy { release: 1, restart_live: false, fault: Fault::Kill { at: 29 } },
        Deploy { release: 1, restart_live: false, fault: Fault::None },
    ]);
}

/// Found by the long run (seed 11): a `media stop` whose answer was lost (exit 1) had stopped the
/// channel all the same; a later failed deploy restored the stacks and left the pipeline as the
/// stop had, which is right. The model had kept the channel "on air".
#[test]
fn a_failed_media_stop_that_landed_is_what_a_later_restore_keeps() {
    use Cmd::*;
    replay(&[
        MediaStart,
        Under { fault: Fault::LostAnswer { at: 12 }, cmd: Box::new(MediaStop) },
        Deploy { release: 2, restart_live: false, fault: Fault::Kill { at: 18 } },
        Deploy { release: 2, restart_live: false, fault: Fault::LostAnswer { at: 81 } },
    ]);
}
