//! Who is running castform, on which host, from which commit: the owner of a lock and of a
//! ledger record.

use std::path::Path;
use std::process::Command;

/// `(user, host)`: the user from the environment (or `id -un`), the host from `/etc/hostname`
/// (or `$HOSTNAME`); `unknown` where neither says.
pub fn who() -> (String, String) {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .or_else(|| {
            Command::new("id")
                .arg("-un")
                .output()
                .ok()
                .filter(|o| o.status.success())
                .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .map(|h| h.trim().to_string())
        .ok()
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "unknown".into());
    (user, host)
}

/// The git commit of `root` and whether the tree has changes (tracked or untracked).
pub fn git_state(root: &Path) -> (String, bool) {
    let run = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    match run(&["rev-parse", "HEAD"]) {
        Some(commit) => {
            let dirty = run(&["status", "--porcelain"]).is_none_or(|s| !s.is_empty());
            (commit, dirty)
        }
        None => ("unknown".into(), true),
    }
}

/// A process as the lock names it: what tells it apart from every other process that may share
/// its host name. Empty where the system does not say (no `/proc`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Process {
    pub boot_id: String,
    pub pid_ns: String,
    pub start: Option<u64>,
}

impl Process {
    pub fn this() -> Self {
        Process {
            boot_id: std::fs::read_to_string("/proc/sys/kernel/random/boot_id")
                .map(|s| s.trim().to_string())
                .unwrap_or_default(),
            pid_ns: std::fs::read_link("/proc/self/ns/pid").map(|p| p.display().to_string()).unwrap_or_default(),
            start: Self::start_of(std::process::id()),
        }
    }

    /// When process `pid` of this namespace started (field 22 of `/proc/<pid>/stat`, clock ticks
    /// since boot), or `None` where there is no such process.
    pub fn start_of(pid: u32) -> Option<u64> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        // the command name (field 2) is in parentheses and may hold spaces: count after it
        stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
    }
}
