//! The deploy lock (P06): an S3 object written with `If-None-Match: *`. A lock names the process
//! that holds it by more than its host name (the kernel's boot id, the PID namespace, the PID and
//! its start time), so a run tells a killed process of this machine from a live one in another
//! container that shares the host name (review S3-03). Every change to a lock someone else may
//! change too is conditional on the version read (S3 conditional writes and deletes): a run
//! releases only the lock it holds (S3-26), and of the runs that take a killed run's lock over to
//! restore its environment, only one wins (S3-29). A lock says what restore is under way, so a
//! restore cut off is resumed from any host (`castform unlock ENV --restore`, S3-21, S3-22).

use super::StateStore;
use super::who::{Liveness, Process};
use crate::aws::{Cloud, CloudError, IfObject};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    pub deployment: String,
    pub owner: String,
    pub host: String,
    pub started: String,
    /// What the run is (`deploy`, `rollback --to <id>`, `destroy`, `gc`, `media-start` ...): a
    /// killed run is recorded as the kind it was (review S3-38).
    pub command: String,
    /// The process holding it, for telling a killed deploy from a running one on this host.
    #[serde(default)]
    pub pid: u32,
    /// The kernel's boot id of the holder's machine (`/proc/sys/kernel/random/boot_id`).
    #[serde(default)]
    pub boot_id: String,
    /// The holder's PID namespace (`/proc/self/ns/pid`): containers have their own.
    #[serde(default)]
    pub pid_ns: String,
    /// When the holder's process started, in clock ticks since boot: a PID the kernel gave to
    /// another process since is not the holder.
    #[serde(default)]
    pub pid_start: u64,
    /// The restore the holder is making: whose backup, and what it puts back.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restoring: Option<Box<Restoring>>,
}

/// A restore under way, as its lock keeps it: enough to resume it from any host.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Restoring {
    /// The run whose backup is put back, as its own lock named it.
    pub run: LockInfo,
    /// The stacks it may have changed; empty: every stack of the app.
    #[serde(default)]
    pub stacks: Vec<String>,
    /// Whether it may have written files.
    #[serde(default)]
    pub files: bool,
    /// The files it wrote, `(bucket, key)`; empty with `files`: every file the backup holds.
    #[serde(default)]
    pub written: Vec<(String, String)>,
}

impl Restoring {
    /// Everything a killed run may have changed: every stack and file its backup holds.
    pub fn whole(run: &LockInfo) -> Self {
        Restoring { run: LockInfo { restoring: None, ..run.clone() }, stacks: vec![], files: true, written: vec![] }
    }

    /// What the lock `holder` says is to be restored: the restore it was making (a recoverer
    /// killed in turn), else the whole of its own run.
    pub fn of_holder(holder: &LockInfo) -> Self {
        holder.restoring.as_deref().cloned().unwrap_or_else(|| Self::whole(holder))
    }
}

impl LockInfo {
    /// The lock of a run of this process.
    pub fn of_this_process(deployment: &str, owner: &str, host: &str, started: &str, command: &str) -> Self {
        let me = Process::this();
        LockInfo {
            deployment: deployment.into(),
            owner: owner.into(),
            host: host.into(),
            started: started.into(),
            command: command.into(),
            pid: std::process::id(),
            boot_id: me.boot_id,
            pid_ns: me.pid_ns,
            pid_start: me.start.unwrap_or(0),
            restoring: None,
        }
    }

    /// The run's kind, for its record: the first word of its command.
    pub fn kind(&self) -> &str {
        self.command.split_whitespace().next().unwrap_or("deploy")
    }

    /// Held by a process of this very machine and PID namespace (a lock that does not say which
    /// machine and namespace it came from, an older castform's or a host named `unknown`'s, never is).
    pub fn of_this_machine(&self, this_host: &str) -> bool {
        let me = Process::this();
        self.host == this_host
            && self.host != "unknown"
            && self.pid != 0
            && !self.boot_id.is_empty()
            && self.boot_id == me.boot_id
            && !self.pid_ns.is_empty()
            && self.pid_ns == me.pid_ns
    }

    /// Whether its process runs, where it is of this machine (`None` elsewhere: no one here can tell).
    pub fn liveness_here(&self, this_host: &str) -> Option<Liveness> {
        self.of_this_machine(this_host).then(|| Process::liveness(self.pid, self.pid_start))
    }

    /// Held by a process that no longer runs on this very machine and PID namespace: a run that
    /// was killed. Never where `/proc` cannot say (hidepid): that one is unknown, and taken for
    /// running.
    pub fn is_orphaned(&self, this_host: &str) -> bool {
        self.liveness_here(this_host) == Some(Liveness::Gone)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{env} is being {} by {} on {} since {} (deployment {}){}\nhelp: wait for it to finish; if it was killed, `castform unlock {env_name} --restore` puts its environment back to its backup from any host (`--force` only breaks the lock)", doing(.holder), .holder.owner, .holder.host, .holder.started, .holder.deployment, .note)]
    Held {
        env: String,
        env_name: String,
        holder: Box<LockInfo>,
        /// The ETag of the holder's lock, for a takeover conditional on it.
        etag: String,
        /// What else the user should know (a restore under way, a process this host cannot see).
        note: String,
    },
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

fn doing(holder: &LockInfo) -> String {
    match holder.kind() {
        "deploy" => "deployed".into(),
        "rollback" => "rolled back".into(),
        "destroy" => "destroyed".into(),
        "unlock" => "restored (`castform unlock --restore`)".into(),
        other => format!("changed (`{other}`)"),
    }
}

/// The lock's `holder` refused to `me`, with what `me`'s host can say of it.
fn held(state: &StateStore, env_name: &str, holder: LockInfo, etag: String, me: &LockInfo) -> LockError {
    let mut note = String::new();
    if let Some(r) = &holder.restoring {
        note.push_str(&format!(
            "\na restore to the backup of deployment {} (a {} by {} on {}) was begun under this lock; if the run making it was stopped, `castform unlock {env_name} --restore` resumes it",
            r.run.deployment,
            r.run.kind(),
            r.run.owner,
            r.run.host
        ));
    }
    if let Some(Liveness::Unknown(why)) = holder.liveness_here(&me.host) {
        note.push_str(&format!(
            "\nits process (pid {}) is on this host, but whether it still runs cannot be told ({why}): taken for running",
            holder.pid
        ));
    }
    LockError::Held { env: state.prefix.clone(), env_name: env_name.to_string(), holder: Box::new(holder), etag, note }
}

/// A conditional request that lost: the object is another version (412, 409) or gone (404).
pub fn lost(e: &CloudError) -> bool {
    matches!(e, CloudError::PreconditionFailed { .. }) || e.code() == Some("NoSuchKey")
}

/// Takes the lock, or says who holds it; returns the ETag of the lock taken.
pub async fn acquire<C: Cloud>(
    cloud: &C,
    state: &StateStore,
    env_name: &str,
    info: &LockInfo,
) -> Result<String, LockError> {
    let body = serde_json::to_vec_pretty(info).unwrap_or_default();
    match cloud.put_object_if(&state.bucket, &state.lock_key(), body, "application/json", IfObject::Absent).await {
        Ok(etag) => Ok(etag),
        Err(e) if lost(&e) => refused_or_ours(cloud, state, env_name, info).await,
        Err(e) => Err(e.into()),
    }
}

/// After a conditional write of `info` lost: the lock is ours where the SDK retried a write whose
/// first answer was lost (review S3-25), else held by whoever it names.
async fn refused_or_ours<C: Cloud>(
    cloud: &C,
    state: &StateStore,
    env_name: &str,
    info: &LockInfo,
) -> Result<String, LockError> {
    let Some((holder, etag)) = current_tagged(cloud, state).await? else {
        // released in between: whoever wants it next tries again
        let unknown = LockInfo {
            deployment: "unknown".into(),
            owner: "unknown".into(),
            host: "unknown".into(),
            started: "unknown".into(),
            ..Default::default()
        };
        let mut refused = held(state, env_name, unknown, String::new(), info);
        if let LockError::Held { note, .. } = &mut refused {
            note.push_str("\nthe lock was released meanwhile: run the command again");
        }
        return Err(refused);
    };
    if holder == *info {
        return Ok(etag);
    }
    Err(held(state, env_name, holder, etag, info))
}

/// Replaces the lock of ETag `etag` with `info` (`If-Match`): a takeover of a killed run's lock,
/// or this run's own lock rewritten (the restore it makes). Returns the new ETag; refused with
/// the holder where the lock is not that version any more.
pub async fn replace<C: Cloud>(
    cloud: &C,
    state: &StateStore,
    env_name: &str,
    etag: &str,
    info: &LockInfo,
) -> Result<String, LockError> {
    let body = serde_json::to_vec_pretty(info).unwrap_or_default();
    let key = state.lock_key();
    match cloud.put_object_if(&state.bucket, &key, body, "application/json", IfObject::Matches(etag)).await {
        Ok(etag) => Ok(etag),
        Err(e) if lost(&e) => refused_or_ours(cloud, state, env_name, info).await,
        Err(e) => Err(e.into()),
    }
}

/// The lock's holder, if any.
pub async fn current<C: Cloud>(cloud: &C, state: &StateStore) -> Result<Option<LockInfo>, CloudError> {
    Ok(current_tagged(cloud, state).await?.map(|(l, _)| l))
}

/// The lock's holder and the lock's ETag; a lock this castform cannot read names an `unknown`
/// holder.
pub async fn current_tagged<C: Cloud>(cloud: &C, state: &StateStore) -> Result<Option<(LockInfo, String)>, CloudError> {
    Ok(cloud.get_object_tagged(&state.bucket, &state.lock_key()).await?.map(|(body, etag)| {
        let holder = serde_json::from_slice(&body).unwrap_or_else(|_| LockInfo {
            deployment: "unknown".into(),
            owner: "unknown".into(),
            host: "unknown".into(),
            started: "unknown".into(),
            ..Default::default()
        });
        (holder, etag)
    }))
}

/// Releases the lock of ETag `etag`, the one this run holds (`If-Match`): a lock broken and
/// taken by another run since is never deleted (review S3-26). Idempotent.
pub async fn release_held<C: Cloud>(cloud: &C, state: &StateStore, etag: &str) -> Result<(), CloudError> {
    match cloud.delete_object_if(&state.bucket, &state.lock_key(), etag).await {
        Err(e) if lost(&e) => Ok(()),
        other => other,
    }
}

/// Releases the lock if this deployment holds it: the lock read, then deleted only if it is still
/// that version. Idempotent.
pub async fn release<C: Cloud>(cloud: &C, state: &StateStore, deployment: &str) -> Result<(), CloudError> {
    match current_tagged(cloud, state).await? {
        Some((l, etag)) if l.deployment == deployment => release_held(cloud, state, &etag).await,
        _ => Ok(()),
    }
}

/// Breaks the lock whoever holds it; returns who did. Only the lock read is deleted: one taken in
/// between is another run's, and breaking it is refused.
pub async fn force_release<C: Cloud>(cloud: &C, state: &StateStore) -> Result<Option<LockInfo>, CloudError> {
    let Some((holder, etag)) = current_tagged(cloud, state).await? else { return Ok(None) };
    match cloud.delete_object_if(&state.bucket, &state.lock_key(), &etag).await {
        Err(e) if lost(&e) => Err(CloudError::PreconditionFailed {
            operation: format!("breaking the lock of deployment {}: the lock changed meanwhile", holder.deployment),
        }),
        Err(e) => Err(e),
        Ok(()) => Ok(Some(holder)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aws::fake::FakeCloud;

    fn state() -> StateStore {
        StateStore {
            bucket: "castform-000000000000-us-west-2".into(),
            account: "000000000000".into(),
            region: "us-west-2".into(),
            prefix: "orders/test".into(),
            local: std::env::temp_dir(),
        }
    }

    /// The SDK may send a conditional PUT again after losing its first answer: the lock it finds
    /// is its own, so acquiring it succeeds; anyone else's is held.
    #[tokio::test]
    async fn acquiring_a_lock_twice_is_ours_and_another_run_finds_it_held() {
        let cloud = FakeCloud::new("000000000000", "us-west-2");
        let state = state();
        cloud.create_state_bucket(&state.bucket).await.unwrap();
        let info = |deployment: &str| LockInfo {
            deployment: deployment.into(),
            owner: "ci".into(),
            host: "runner".into(),
            started: "2026-12-06T00:00:00Z".into(),
            command: "deploy".into(),
            pid: 1,
            ..Default::default()
        };
        acquire(&cloud, &state, "test", &info("a")).await.unwrap();
        acquire(&cloud, &state, "test", &info("a")).await.expect("its own lock, put again");
        match acquire(&cloud, &state, "test", &info("b")).await {
            Err(LockError::Held { holder, .. }) => assert_eq!(holder.deployment, "a"),
            other => panic!("held, not {other:?}"),
        }
    }

    /// Review S3-03: a dead PID on a host of the same name is a killed run only on this very
    /// machine and PID namespace; a container sharing the host name, an older lock that does not
    /// say, a host named `unknown` and a live process are never taken for killed.
    #[test]
    fn only_a_dead_process_of_this_machine_and_namespace_leaves_an_orphan() {
        let mine = LockInfo::of_this_process("d1", "ci", "runner", "2026-12-06T00:00:00Z", "deploy");
        assert!(!mine.boot_id.is_empty() && !mine.pid_ns.is_empty() && mine.pid_start > 0, "{mine:?}");
        let dead = LockInfo { pid: 999_999_999, ..mine.clone() };
        assert!(dead.is_orphaned("runner"), "killed on this machine");
        assert!(!mine.is_orphaned("runner"), "alive");
        assert!(LockInfo { pid_start: mine.pid_start + 1, ..mine.clone() }.is_orphaned("runner"), "its PID reused");
        assert!(!dead.is_orphaned("other-host"));
        let container = LockInfo { pid_ns: "pid:[4026532999]".into(), ..dead.clone() };
        assert!(!container.is_orphaned("runner"), "another container with the same host name");
        assert!(!LockInfo { boot_id: "another-boot".into(), ..dead.clone() }.is_orphaned("runner"));
        let older = LockInfo { boot_id: String::new(), pid_ns: String::new(), pid_start: 0, ..dead.clone() };
        assert!(!older.is_orphaned("runner"), "a lock that does not say where it came from");
        let unknown = LockInfo { host: "unknown".into(), ..dead.clone() };
        assert!(!unknown.is_orphaned("unknown"));
    }

    /// Review S3-29 and the second review: of two runs that take the same killed run's lock
    /// over (`If-Match` on its ETag), one wins and the other is told who did.
    #[tokio::test]
    async fn of_two_runs_taking_a_killed_runs_lock_over_one_wins() {
        let cloud = FakeCloud::new("000000000000", "us-west-2");
        let state = state();
        cloud.create_state_bucket(&state.bucket).await.unwrap();
        let run = |id: &str| LockInfo::of_this_process(id, "ci", "runner", "2026-12-06T00:00:00Z", "deploy");
        let killed = LockInfo { pid: 999_999_999, ..run("killed") };
        acquire(&cloud, &state, "test", &killed).await.unwrap();
        let Err(LockError::Held { holder, etag, .. }) = acquire(&cloud, &state, "test", &run("first")).await else {
            panic!("held by the killed run")
        };
        assert_eq!(holder.deployment, "killed");
        let claim = |id: &str| LockInfo { restoring: Some(Box::new(Restoring::whole(&holder))), ..run(id) };
        replace(&cloud, &state, "test", &etag, &claim("first")).await.expect("the first takes it over");
        match replace(&cloud, &state, "test", &etag, &claim("second")).await {
            Err(LockError::Held { holder, note, .. }) => {
                assert_eq!(holder.deployment, "first");
                assert!(note.contains("backup of deployment killed"), "{note}");
            }
            other => panic!("held by the first, not {other:?}"),
        }
        let now = current(&cloud, &state).await.unwrap().unwrap();
        assert_eq!(Restoring::of_holder(&now).run.deployment, "killed", "what a killed recoverer's successor resumes");
    }

    /// Review S3-26: a run releases only the lock it holds. Its lock broken and taken by another
    /// run meanwhile is left alone, whether it releases by the ETag it kept or by its id; and
    /// `unlock --force` deletes only the lock it read.
    #[tokio::test]
    async fn release_never_deletes_a_lock_taken_since() {
        let cloud = FakeCloud::new("000000000000", "us-west-2");
        let state = state();
        cloud.create_state_bucket(&state.bucket).await.unwrap();
        let run = |id: &str| LockInfo::of_this_process(id, "ci", "runner", "2026-12-06T00:00:00Z", "deploy");
        let mine = acquire(&cloud, &state, "test", &run("a")).await.unwrap();
        // broken by hand, then taken by b, all between a's read and a's delete
        force_release(&cloud, &state).await.unwrap();
        let theirs = acquire(&cloud, &state, "test", &run("b")).await.unwrap();
        release_held(&cloud, &state, &mine).await.unwrap();
        release(&cloud, &state, "a").await.unwrap();
        assert_eq!(current(&cloud, &state).await.unwrap().unwrap().deployment, "b", "b's lock stays");
        // a conditional delete of a version that is not current is refused by S3 itself
        let stale = cloud.delete_object_if(&state.bucket, &state.lock_key(), &mine).await;
        assert!(matches!(stale, Err(CloudError::PreconditionFailed { .. })), "{stale:?}");
        release_held(&cloud, &state, &theirs).await.unwrap();
        assert!(current(&cloud, &state).await.unwrap().is_none());
    }
}
