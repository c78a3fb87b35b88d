//! How a command that writes an environment ends when it does not succeed (deploy, rollback,
//! destroy): refused with nothing touched, restored, or neither, each with its exit code.

/// The outcome of a run that did not succeed, in the user's terms.
#[derive(Debug, thiserror::Error)]
pub enum DeployError {
    /// Refused before anything in the environment was written: exit 2. Its message always ends
    /// with a `help:` line ([`with_help`]).
    #[error("{}", with_help(.0))]
    Refused(String),
    /// Failed and restored to the backup: exit 3.
    #[error("deployment {id} failed: {failure}\nrestored from the backup: {}\nhelp: fix the cause and deploy again; `castform history {env}` has the record", restored.join(", "))]
    Restored { id: String, env: String, failure: String, restored: Vec<String> },
    /// Failed, and the restore failed too: exit 1, with what to do.
    #[error(
        "deployment {id} failed: {failure}\nthe restore failed too: {restore_error}\nhelp: the backup is {backup}; run `castform rollback {env}` once the cause is fixed"
    )]
    Unrestored { id: String, env: String, failure: String, restore_error: String, backup: String },
    /// Succeeded, but its record could not be written to the ledger: exit 1, the environment is
    /// at the new version.
    #[error(
        "the {kind} {id} succeeded, but its record could not be written: {error}\nthe environment is at the new version; `castform history {env}` will not list this run\nhelp: check access to the state bucket, then `castform status {env}`"
    )]
    Unrecorded { id: String, kind: String, env: String, error: String },
}

/// A refusal's message with a `help:` line: its own, or, where it has none (an AWS error met in
/// preflight, a backup that could not be stored), what is true of every refusal and what to do.
pub fn with_help(message: &str) -> String {
    if message.lines().any(|l| l.starts_with("help: ")) {
        message.to_string()
    } else {
        format!(
            "{message}\nhelp: nothing in the environment was changed; fix what this names and run the command again"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_refusal_says_what_to_do() {
        let own = DeployError::Refused("locked\nhelp: wait".into()).to_string();
        assert_eq!(own, "locked\nhelp: wait");
        let bare = DeployError::Refused("S3 HeadBucket: AccessDenied: Access Denied".into()).to_string();
        assert!(
            bare.starts_with(
                "S3 HeadBucket: AccessDenied: Access Denied\nhelp: nothing in the environment was changed"
            ),
            "{bare}"
        );
    }
}
