//! The deploy lock (P06): an S3 object written with `If-None-Match: *`. A lock names the process
//! that holds it by more than its host name (the kernel's boot id, the PID namespace, the PID and
//! its start time), so a run tells a killed process of this machine from a live one in another
//! container that shares the host name (review S3-03); a run that recovers a killed one claims its
//! lock first, so two runs never recover it at once (S3-29).

use super::StateStore;
use crate::aws::{Cloud, CloudError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    pub deployment: String,
    pub owner: String,
    pub host: String,
    pub started: String,
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
}

impl LockInfo {
    /// The lock of a run of this process.
    pub fn of_this_process(deployment: &str, owner: &str, host: &str, started: &str, command: &str) -> Self {
        let me = super::who::Process::this();
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
        }
    }

    /// Held by a process that no longer runs on this very machine and PID namespace: a run that
    /// was killed. Never for a lock that does not say which machine and namespace it came from
    /// (an older castform's, or a host named `unknown`): that one is broken by `castform unlock`.
    pub fn is_orphaned(&self, this_host: &str) -> bool {
        let me = super::who::Process::this();
        self.host == this_host
            && self.host != "unknown"
            && self.pid != 0
            && !self.boot_id.is_empty()
            && self.boot_id == me.boot_id
            && !self.pid_ns.is_empty()
            && self.pid_ns == me.pid_ns
            && super::who::Process::start_of(self.pid) != Some(self.pid_start)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LockError {
    #[error("{env} is being deployed by {} on {} since {} (deployment {})\nhelp: wait for it to finish; if it was killed, break the lock with `castform unlock {env_name} --force`", .holder.owner, .holder.host, .holder.started, .holder.deployment)]
    Held { env: String, env_name: String, holder: LockInfo },
    #[error(transparent)]
    Cloud(#[from] CloudError),
}

/// Takes the lock, or says who holds it.
pub async fn acquire<C: Cloud>(
    cloud: &C,
    state: &StateStore,
    env_name: &str,
    info: &LockInfo,
) -> Result<(), LockError> {
    let body = serde_json::to_vec_pretty(info).unwrap_or_default();
    match cloud.put_object(&state.bucket, &state.lock_key(), body, "application/json", true).await {
        Ok(()) => Ok(()),
        Err(CloudError::PreconditionFailed { .. }) => {
            let holder = current(cloud, state).await?.unwrap_or(LockInfo {
                deployment: "unknown".into(),
                owner: "unknown".into(),
                host: "unknown".into(),
                started: "unknown".into(),
                ..Default::default()
            });
            // the SDK retried a conditional PUT whose first answer was lost: the lock is ours
            if holder == *info {
                return Ok(());
            }
            Err(LockError::Held { env: state.prefix.clone(), env_name: env_name.to_string(), holder })
        }
        Err(e) => Err(e.into()),
    }
}

/// Claims the right to recover `orphan`'s environment: an object named after the orphaned run,
/// written only if absent, so of two runs that find the same orphan one recovers and the other
/// is told who does. A claim left by a recoverer that was killed too is taken over.
pub async fn claim<C: Cloud>(
    cloud: &C,
    state: &StateStore,
    env_name: &str,
    orphan: &LockInfo,
    me: &LockInfo,
) -> Result<(), LockError> {
    let key = state.claim_key(&orphan.deployment);
    let body = serde_json::to_vec_pretty(me).unwrap_or_default();
    for _ in 0..2 {
        match cloud.put_object(&state.bucket, &key, body.clone(), "application/json", true).await {
            Ok(()) => return Ok(()),
            Err(CloudError::PreconditionFailed { .. }) => {
                let claimer: Option<LockInfo> =
                    cloud.get_object(&state.bucket, &key).await?.and_then(|b| serde_json::from_slice(&b).ok());
                match claimer {
                    Some(c) if c == *me => return Ok(()),
                    Some(c) if !c.is_orphaned(&me.host) => {
                        return Err(LockError::Held {
                            env: state.prefix.clone(),
                            env_name: env_name.to_string(),
                            holder: c,
                        });
                    }
                    // its recoverer was killed too (or the claim is unreadable): take it over
                    _ => cloud.delete_object(&state.bucket, &key).await?,
                }
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(LockError::Held { env: state.prefix.clone(), env_name: env_name.to_string(), holder: orphan.clone() })
}

/// Removes a claim once the orphan's environment is recovered and the lock is this run's.
pub async fn unclaim<C: Cloud>(cloud: &C, state: &StateStore, orphan: &LockInfo) -> Result<(), CloudError> {
    cloud.delete_object(&state.bucket, &state.claim_key(&orphan.deployment)).await
}

/// The lock's holder, if any.
pub async fn current<C: Cloud>(cloud: &C, state: &StateStore) -> Result<Option<LockInfo>, CloudError> {
    Ok(cloud.get_object(&state.bucket, &state.lock_key()).await?.and_then(|b| serde_json::from_slice(&b).ok()))
}

/// Releases the lock if this deployment holds it.
pub async fn release<C: Cloud>(cloud: &C, state: &StateStore, deployment: &str) -> Result<(), CloudError> {
    if current(cloud, state).await?.is_some_and(|l| l.deployment == deployment) {
        cloud.delete_object(&state.bucket, &state.lock_key()).await?;
    }
    Ok(())
}

/// Breaks the lock whoever holds it; returns who did.
pub async fn force_release<C: Cloud>(cloud: &C, state: &StateStore) -> Result<Option<LockInfo>, CloudError> {
    let holder = current(cloud, state).await?;
    cloud.delete_object(&state.bucket, &state.lock_key()).await?;
    Ok(holder)
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

    /// Review S3-29: of two runs that find the same killed run's lock, one claims its recovery and
    /// the other is told who does; a claim whose recoverer was killed too is taken over.
    #[tokio::test]
    async fn one_run_claims_a_killed_runs_lock_and_a_second_is_refused() {
        let cloud = FakeCloud::new("000000000000", "us-west-2");
        let state = state();
        cloud.create_state_bucket(&state.bucket).await.unwrap();
        let run = |id: &str| LockInfo::of_this_process(id, "ci", "runner", "2026-12-06T00:00:00Z", "deploy");
        let orphan = LockInfo { pid: 999_999_999, ..run("killed") };
        claim(&cloud, &state, "test", &orphan, &run("first")).await.expect("the first claims it");
        match claim(&cloud, &state, "test", &orphan, &run("second")).await {
            Err(LockError::Held { holder, .. }) => assert_eq!(holder.deployment, "first"),
            other => panic!("held by the first, not {other:?}"),
        }
        // the first recoverer killed too: its claim is taken over
        let dead_claim = serde_json::to_vec(&LockInfo { pid: 999_999_998, ..run("first") }).unwrap();
        cloud
            .put_object(&state.bucket, &state.claim_key("killed"), dead_claim, "application/json", false)
            .await
            .unwrap();
        claim(&cloud, &state, "test", &orphan, &run("third")).await.expect("taken over");
        unclaim(&cloud, &state, &orphan).await.unwrap();
        assert!(cloud.get_object(&state.bucket, &state.claim_key("killed")).await.unwrap().is_none());
    }
}
