//! The deploy lock (P06): an S3 object written with `If-None-Match: *`.

use super::StateStore;
use crate::aws::{Cloud, CloudError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LockInfo {
    pub deployment: String,
    pub owner: String,
    pub host: String,
    pub started: String,
    pub command: String,
    /// The process holding it, for telling a killed deploy from a running one on this host.
    #[serde(default)]
    pub pid: u32,
}

impl LockInfo {
    /// Held by a process of this host that no longer runs: a deploy that was killed.
    pub fn is_orphaned(&self, this_host: &str) -> bool {
        self.host == this_host
            && self.pid != 0
            && !std::path::Path::new(&format!("/proc/{}", self.pid)).exists()
            && std::path::Path::new("/proc/self").exists()
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
                command: String::new(),
                pid: 0,
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

    /// The SDK may send a conditional PUT again after losing its first answer: the lock it finds
    /// is its own, so acquiring it succeeds; anyone else's is held.
    #[tokio::test]
    async fn acquiring_a_lock_twice_is_ours_and_another_run_finds_it_held() {
        let cloud = FakeCloud::new("000000000000", "us-west-2");
        let state = StateStore {
            bucket: "castform-000000000000-us-west-2".into(),
            account: "000000000000".into(),
            region: "us-west-2".into(),
            prefix: "orders/test".into(),
            local: std::env::temp_dir(),
        };
        cloud.create_state_bucket(&state.bucket).await.unwrap();
        let info = |deployment: &str| LockInfo {
            deployment: deployment.into(),
            owner: "ci".into(),
            host: "runner".into(),
            started: "2026-12-06T00:00:00Z".into(),
            command: "deploy".into(),
            pid: 1,
        };
        acquire(&cloud, &state, "test", &info("a")).await.unwrap();
        acquire(&cloud, &state, "test", &info("a")).await.expect("its own lock, put again");
        match acquire(&cloud, &state, "test", &info("b")).await {
            Err(LockError::Held { holder, .. }) => assert_eq!(holder.deployment, "a"),
            other => panic!("held, not {other:?}"),
        }
    }
}
