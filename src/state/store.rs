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

    /// Every state bucket an app needs: the environment's region first, then the other regions
    /// whose stacks have code (a stack without assets, such as an edge log group's copy, needs
    /// no bucket in its region).
    pub fn buckets(&self, app: &crate::template::App) -> Vec<(String, String)> {
        let mut out = vec![(self.region.clone(), self.bucket.clone())];
        for s in app.stacks.iter().filter(|s| !s.assets.is_empty()) {
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
    /// The pipeline a run took off air (`--restart-live`), written before it stops it: whoever
    /// restores that run, the run itself or the recovery of a killed one, starts it again.
    pub fn off_air_key(&self, id: &str) -> String {
        format!("{}off-air.json", self.backup_prefix(id))
    }
    /// A deployment's templates and rendered files, for rollback.
    pub fn snapshot_key(&self, id: &str, rel: &str) -> String {
        format!("{}/deployments/{id}/{rel}", self.prefix)
    }
    /// A deployment's local backup folder. The id is read back from the bucket (the ledger, a
    /// lock, `--to`), so it is used as one plain folder name whatever it holds: `../..` cannot
    /// lead a restore's read or gc's delete outside `.castform/` (issue 36).
    pub fn local_backup(&self, id: &str) -> PathBuf {
        let plain: String =
            id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { c } else { '_' }).collect();
        self.local.join("backups").join(&self.prefix).join(if plain.is_empty() { "_" } else { &plain })
    }
    pub fn local_ledger(&self) -> PathBuf {
        self.local.join("ledger").join(&self.prefix)
    }
}

/// `base/rel` for a relative path of plain names (no `..`, no root, no prefix): `None` for one
/// that would lead out of `base`, such as a backup item key read from the bucket.
pub fn local_path(base: &std::path::Path, rel: &str) -> Option<PathBuf> {
    use std::path::Component;
    let rel = std::path::Path::new(rel);
    let plain = rel.components().all(|c| matches!(c, Component::Normal(_)));
    (plain && !rel.as_os_str().is_empty()).then(|| base.join(rel))
}

/// Writes a file of castform's local state (`.castform/`: backups, the ledger's mirror) readable
/// by the user only (0600, folders 0700 on Unix): a backup holds templates, code and
/// configuration that are not everyone's to read on a shared machine (code review).
pub fn write_private(path: &std::path::Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(parent)?;
    }
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)?.write_all(body)
}

#[cfg(all(test, unix))]
mod tests {
    #[test]
    fn local_state_is_readable_by_the_user_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".castform/backups/x/backup.json");
        super::write_private(&path, b"{}").unwrap();
        assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        assert_eq!(std::fs::metadata(path.parent().unwrap()).unwrap().permissions().mode() & 0o777, 0o700);
        assert_eq!(std::fs::read(&path).unwrap(), b"{}");
    }

    /// Issue 36: ids and item keys read from the bucket never lead a local path out of
    /// `.castform/` (gc deletes `local_backup(id)` of every old record).
    #[test]
    fn ids_and_keys_from_the_bucket_stay_under_castform() {
        use std::path::Path;
        let state = super::StateStore {
            bucket: "b".into(),
            account: "1".into(),
            region: "r".into(),
            prefix: "lunora/prod".into(),
            local: "/p/.castform".into(),
        };
        let base = Path::new("/p/.castform/backups/lunora/prod");
        assert_eq!(state.local_backup("20261122T061530123Z-3f2a"), base.join("20261122T061530123Z-3f2a"));
        for id in ["../../../../home", "/etc", "..", "", "a/b"] {
            let p = state.local_backup(id);
            assert_eq!(p.parent(), Some(base), "{id:?} -> {}", p.display());
            assert!(!p.ends_with(".."), "{id:?}");
        }
        assert_eq!(super::local_path(base, "stacks/data/template.json"), Some(base.join("stacks/data/template.json")));
        for key in ["../x", "/etc/passwd", "a/../../b", "./a", ""] {
            assert_eq!(super::local_path(base, key), None, "{key:?}");
        }
    }
}
