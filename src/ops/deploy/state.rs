//! Where castform keeps its state: the bootstrap bucket of the account and region (assets,
//! backups, ledger, lock) and its local mirror under `.castform/`.

use crate::config::Environment;
use std::path::PathBuf;

/// The state of one app environment.
#[derive(Debug, Clone, PartialEq)]
pub struct StateStore {
    /// The state bucket of the environment's region: backups, ledger, lock, its assets.
    pub bucket: String,
    pub account: String,
    pub region: String,
    /// `<app>/<env>`
    pub prefix: String,
    /// `.castform/` under the project root.
    pub local: PathBuf,
}

/// `castform-<account>-<region>`: one bucket per account and region, shared by the apps.
pub fn bucket_name(account: &str, region: &str) -> String {
    format!("castform-{account}-{region}")
}

impl StateStore {
    pub fn new(env: &Environment) -> Self {
        Self {
            bucket: bucket_name(&env.account, &env.region),
            account: env.account.clone(),
            region: env.region.clone(),
            prefix: format!("{}/{}", env.app, env.name),
            local: env.root.join(".castform"),
        }
    }
    /// Where the assets of a stack in `region` live: Lambda reads code only from a bucket in
    /// the function's region, so an app with an edge stack has a state bucket in us-east-1 too.
    pub fn assets_bucket(&self, region: &str) -> String {
        bucket_name(&self.account, region)
    }

    /// Every state bucket an app needs: the environment's region first, then its stacks' others.
    pub fn buckets(&self, app: &crate::template::App) -> Vec<(String, String)> {
        let mut out = vec![(self.region.clone(), self.bucket.clone())];
        for s in &app.stacks {
            if !out.iter().any(|(r, _)| *r == s.region) {
                out.push((s.region.clone(), self.assets_bucket(&s.region)));
            }
        }
        out
    }

    pub fn lock_key(&self) -> String {
        format!("{}/lock.json", self.prefix)
    }
    pub fn ledger_prefix(&self) -> String {
        format!("{}/ledger/", self.prefix)
    }
    pub fn ledger_key(&self, id: &str) -> String {
        format!("{}{id}.json", self.ledger_prefix())
    }
    pub fn backup_prefix(&self, id: &str) -> String {
        format!("{}/backups/{id}/", self.prefix)
    }
    /// A deployment's templates and rendered files, for rollback.
    pub fn snapshot_key(&self, id: &str, rel: &str) -> String {
        format!("{}/deployments/{id}/{rel}", self.prefix)
    }
    pub fn local_backup(&self, id: &str) -> PathBuf {
        self.local.join("backups").join(&self.prefix).join(id)
    }
    pub fn local_ledger(&self) -> PathBuf {
        self.local.join("ledger").join(&self.prefix)
    }
}
