//! The bounded soak: deploys of `local` on the emulator killed with SIGKILL at random moments,
//! each followed by a deploy that recovers the killed run (restored from its backup, recorded)
//! and deploys its own version. After every round the environment is byte for byte a recorded
//! deployment: the API answers that deployment's code, `diff` finds nothing, and `config.js` is
//! the deployment's stored copy. `CASTFORM_SOAK_KILLS` sets the number of kills (default 3 in
//! the test suite; benches/README.md has the figures of a run with 30). The media stack and the CDN are
//! left out to keep each deploy short: what is soaked is the engine's recovery.

mod common;

use castform::aws::{AwsCloud, Cloud};
use common::{Emulator, ok, project_copy};
use serde_json::Value;
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift), seeded from the clock and printed, so a failing
/// round can be replayed with `CASTFORM_SOAK_SEED`.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn deploys_killed_at_random_moments_are_recovered_every_time() {
    let kills: usize = std::env::var("CASTFORM_SOAK_KILLS").ok().and_then(|v| v.parse().ok()).unwrap_or(3);
    let seed: u64 = std::env::var("CASTFORM_SOAK_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64 | 1
    });
    eprintln!("soak: {kills} kills, CASTFORM_SOAK_SEED={seed}");
    let mut rng = Rng(seed);
    let emu = Emulator::start();
    let dir = project_copy();
    let file = dir.path().join("environments/lunora/local.yaml");
    let yaml = std::fs::read_to_string(&file).unwrap();
    // no pipeline and no distribution (so no web ACL either): the kills land in a short deploy
    let yaml = yaml.replace("media:\n  enabled: true", "media:\n  enabled: false").replace("cdn: true", "cdn: false");
    let yaml: String =
        yaml.lines().filter(|l| !l.trim_start().starts_with("rate_limit:")).map(|l| format!("{l}\n")).collect();
    std::fs::write(&file, yaml).unwrap();
    ok(&emu.castform(&["bootstrap", "local"], dir.path()));
    let first = Instant::now();
    ok(&emu.castform(&["deploy", "local"], dir.path()));
    // kills land anywhere within a deploy's length: the first one's (it creates everything)
    let span = first.elapsed().as_millis().max(1_000) as u64;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let c = rt.block_on(AwsCloud::with_static_credentials("us-west-2", &emu.endpoint(), "test", "test"));
    let index = dir.path().join("assets/lunora-api/index.mjs");
    let code = std::fs::read_to_string(&index).unwrap();
    let started = Instant::now();
    let (mut restored, mut before_backup, mut finished) = (0, 0, 0);
    for round in 1..=kills {
        let version = format!("{}", round + 1);
        std::fs::write(&index, code.replace("const VERSION = '1';", &format!("const VERSION = '{version}';"))).unwrap();
        let delay = Duration::from_millis(rng.next() % span);
        let mut child = emu
            .castform_command(&["deploy", "local"], dir.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL: no handler runs
        if child.wait().is_ok_and(|s| s.success()) {
            finished += 1; // it was done before the kill
        }
        // the next run recovers the killed one, then deploys this version
        let out = emu.castform(&["deploy", "local"], dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        ok(&out);
        if stderr.contains("restored from its backup") {
            restored += 1;
        } else if stderr.contains("no verified backup yet") {
            before_backup += 1;
        }
        // the environment is the deployment just recorded, byte for byte
        let history: Value =
            serde_json::from_str(&ok(&emu.castform(&["history", "local", "--json"], dir.path()))).unwrap();
        let last = history.as_array().unwrap().last().unwrap();
        assert_eq!(last["result"], "succeeded", "round {round} (seed {seed}, kill after {delay:?}): {last}");
        let url = last["urls"]["api.ApiUrl"].as_str().unwrap();
        let (status, body) = emu.get_url(url, "/health");
        assert_eq!(status, 200, "round {round}");
        assert_eq!(
            serde_json::from_str::<Value>(&body).unwrap()["version"],
            version.as_str(),
            "round {round} (seed {seed})"
        );
        let diff = emu.castform(&["diff", "local"], dir.path());
        assert_eq!(
            diff.status.code(),
            Some(0),
            "round {round} (seed {seed}): {}",
            String::from_utf8_lossy(&diff.stdout)
        );
        let id = last["id"].as_str().unwrap();
        let bucket = last["stacks"]["web"]["outputs"]["SiteBucketName"].as_str().unwrap();
        let stored = rt
            .block_on(c.get_object(
                "castform-000000000000-us-west-2",
                &format!("lunora/local/deployments/{id}/files/{bucket}/config.js"),
            ))
            .unwrap()
            .expect("the deployment's config.js is stored");
        let served = rt.block_on(c.get_object(bucket, "config.js")).unwrap().unwrap();
        assert_eq!(served, stored, "round {round} (seed {seed}): config.js is the recorded one");
    }
    eprintln!(
        "soak: {kills} kills in {:?}; {restored} restored from their backup by the next run, {before_backup} killed before their backup, {finished} finished before the kill, {} killed before taking the lock; every round ended at a recorded deployment",
        started.elapsed(),
        kills - restored - before_backup - finished
    );
}
