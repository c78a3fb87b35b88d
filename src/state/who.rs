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
    /// since boot), or `None` where it cannot be read.
    pub fn start_of(pid: u32) -> Option<u64> {
        start_in(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
    }

    /// Whether process `pid` of this machine and PID namespace, started at `started`, still runs.
    pub fn liveness(pid: u32, started: u64) -> Liveness {
        let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
        Self::liveness_with(pid, started, &|p| std::fs::read_to_string(p), &mountinfo)
    }

    /// [`Process::liveness`] over a reader of `/proc` files and the text of
    /// `/proc/self/mountinfo`. A `stat` that cannot be read is not a process that is gone: with
    /// `/proc` mounted `hidepid=1` another user's is unreadable, with `hidepid=2` it is not
    /// there at all (proc(5), "hidepid"), while the process runs.
    pub fn liveness_with(
        pid: u32,
        started: u64,
        read: &dyn Fn(&str) -> std::io::Result<String>,
        mountinfo: &str,
    ) -> Liveness {
        let path = format!("/proc/{pid}/stat");
        match read(&path) {
            Ok(stat) => match start_in(&stat) {
                Some(s) if s == started => Liveness::Running,
                // the kernel gave the PID to another process since
                Some(_) => Liveness::Gone,
                None => Liveness::Unknown(format!("{path} is not in the form proc(5) gives")),
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !hides_pids(mountinfo) => Liveness::Gone,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Liveness::Unknown(format!(
                "{path} is not visible: /proc is mounted with hidepid, which hides other users' processes"
            )),
            Err(e) => Liveness::Unknown(format!("{path} cannot be read ({e})")),
        }
    }
}

/// Whether a process still runs, as far as this machine can tell.
#[derive(Debug, Clone, PartialEq)]
pub enum Liveness {
    Running,
    Gone,
    /// `/proc` does not say (why, in the user's terms): taken for running.
    Unknown(String),
}

/// Field 22 of a `/proc/<pid>/stat` line: the command name (field 2) is in parentheses and may
/// hold spaces, so count after it.
fn start_in(stat: &str) -> Option<u64> {
    stat.rsplit_once(')')?.1.split_whitespace().nth(19)?.parse().ok()
}

/// Whether `/proc` is mounted with `hidepid` other than 0 (`/proc/self/mountinfo`: the mount
/// point is field 5, the super options come after the ` - ` separator).
fn hides_pids(mountinfo: &str) -> bool {
    mountinfo.lines().any(|line| {
        let (mount, options) = line.split_once(" - ").unwrap_or((line, ""));
        mount.split_whitespace().nth(4) == Some("/proc")
            && options
                .split_whitespace()
                .nth(2)
                .unwrap_or_default()
                .split(',')
                .any(|o| o.strip_prefix("hidepid=").is_some_and(|v| !matches!(v, "0" | "off")))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Error, ErrorKind};

    const PLAIN: &str = "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw\n";
    const HIDDEN: &str = "22 1 0:21 / /proc rw,nosuid,nodev,noexec,relatime shared:5 - proc proc rw,hidepid=2\n";

    /// Second code review: a holder whose `/proc/<pid>/stat` cannot be read (hidepid=1), or is
    /// hidden (hidepid=2), is not a dead holder; only a missing one on a plain `/proc`, or a PID
    /// that another process now has, is.
    #[test]
    fn an_unreadable_or_hidden_process_is_not_taken_for_a_dead_one() {
        let stat = "4242 (cast form) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 777 0 0";
        let denied = |_: &str| -> std::io::Result<String> { Err(Error::from(ErrorKind::PermissionDenied)) };
        let missing = |_: &str| -> std::io::Result<String> { Err(Error::from(ErrorKind::NotFound)) };
        let there = |_: &str| -> std::io::Result<String> { Ok(stat.to_string()) };
        assert!(
            matches!(Process::liveness_with(4242, 777, &denied, PLAIN), Liveness::Unknown(m) if m.contains("/proc/4242/stat"))
        );
        assert!(
            matches!(Process::liveness_with(4242, 777, &missing, HIDDEN), Liveness::Unknown(m) if m.contains("hidepid"))
        );
        assert_eq!(Process::liveness_with(4242, 777, &missing, PLAIN), Liveness::Gone);
        assert_eq!(Process::liveness_with(4242, 777, &there, PLAIN), Liveness::Running);
        assert_eq!(Process::liveness_with(4242, 778, &there, PLAIN), Liveness::Gone, "its PID reused");
        assert!(!hides_pids(&PLAIN.replace("rw\n", "rw,hidepid=0\n")));
    }
}
