//! `castform checklist ENV`: seed 000's prevention checklist, each item verified, failed or
//! manual, with what verified it. Offline: synth-time items from the rules, the rest from the
//! environment file and the synthesized app; live items are left to the deploy.

use crate::config::AnyApp;
use crate::ops::check::{check_all, synthesized};
use crate::ops::synth::{Selection, Synthesized, build};
use crate::rules::{Finding, Severity};
use crate::template::FileValue;
use anyhow::Result;
use serde::Serialize;
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum State {
    Verified,
    Failed,
    Manual,
}

#[derive(Debug, Serialize)]
pub struct Item {
    pub phase: &'static str,
    pub text: &'static str,
    pub state: State,
    /// The checks behind the state, or what a person has to do.
    pub by: String,
}

/// Verified when none of the rules has an unsuppressed finding (errors, and warnings too when
/// `warnings` is set: those rules only warn, but the item is not done while they do).
fn rule_state(findings: &[Finding], ids: &[&str], warnings: bool) -> (State, String) {
    let failed: Vec<String> = findings
        .iter()
        .filter(|f| ids.contains(&f.rule) && (warnings || f.severity == Severity::Error) && f.suppressed.is_none())
        .map(|f| format!("{} {} in {}", f.rule, f.logical_id, f.stack))
        .collect();
    if failed.is_empty() {
        (State::Verified, format!("rules {} pass", ids.join(", ")))
    } else {
        (State::Failed, failed.join("; "))
    }
}

pub fn run(root: &Path, definition: &'static dyn AnyApp, env: &str, today: i64) -> Result<Vec<Item>> {
    let app = definition.app_name();
    let selection = Selection::One { app: definition, env: env.to_string() };
    let built = build(root, &selection)?;
    let s = &built[0];
    let report = check_all(&synthesized(root, &selection)?, today);
    let f = &report.findings;
    let others: Vec<String> = crate::config::list_environments(root, app)
        .into_iter()
        .filter(|e| e != env)
        .filter(|e| crate::config::load_with(root, definition, e).is_ok_and(|x| !x.retain_data))
        .collect();
    let mut items = vec![];
    let mut push = |phase, text, (state, by): (State, String)| items.push(Item { phase, text, state, by });
    before_deploying(&mut push, s, app, &others);
    during_the_deploy(&mut push, s, f);
    after_the_deploy(&mut push, s, f);
    Ok(items)
}

/// What a step of the checklist says: the phase, the seed's words, and its state with why.
type Push<'a> = dyn FnMut(&'static str, &'static str, (State, String)) + 'a;

/// The seed's "Before starting deployment".
fn before_deploying(push: &mut Push<'_>, s: &Synthesized, app: &str, others: &[String]) {
    push(
        "before",
        "Create complete backup of current working state",
        (State::Manual, "P05: castform deploy takes and verifies the backup before its first write (live)".into()),
    );
    push(
        "before",
        "Document current production URLs and configurations",
        (
            State::Manual,
            "V02: the deployment record holds the outputs; offline, castform outputs cannot be read".into(),
        ),
    );
    push(
        "before",
        "Test all changes in development environment first",
        if others.is_empty() {
            (State::Failed, format!("no environment of {app} without retain_data to test in"))
        } else {
            (
                State::Manual,
                format!("deploy to {} first; castform cannot tell offline whether it was done", others.join(", ")),
            )
        },
    );
    push(
        "before",
        "Verify AWS credentials and permissions",
        (
            State::Manual,
            format!(
                "P01: {} names account {} and region {}; castform deploy compares them with the credentials' identity before any write",
                s.env.file, s.env.account, s.env.region
            ),
        ),
    );
}

/// The seed's "During deployment".
fn during_the_deploy(push: &mut Push<'_>, s: &Synthesized, f: &[Finding]) {
    let order: Vec<&str> = s.app.stacks.iter().map(|x| x.name.as_str()).collect();
    push(
        "during",
        "Deploy infrastructure changes first",
        (
            State::Verified,
            format!("D01: stacks in dependency order ({}), then files, then cache invalidation", order.join(" → ")),
        ),
    );
    let literal_urls: Vec<String> = s
        .app
        .files
        .iter()
        .flat_map(|file| file.values.iter().map(move |(k, v)| (file.key.clone(), k.clone(), v.clone())))
        .filter(|(_, k, v)| k.ends_with("_url") && matches!(v, FileValue::Literal(l) if !l.is_empty()))
        .map(|(file, k, _)| format!("{file}: {k}"))
        .collect();
    push(
        "during",
        "Update configuration files with new URLs",
        if literal_urls.is_empty() {
            (
                State::Verified,
                format!(
                    "D02: {} rendered from stack outputs as one unit; L23 finds no placeholder",
                    s.app.files.iter().map(|x| x.key.clone()).collect::<Vec<_>>().join(", ")
                ),
            )
        } else {
            (State::Failed, format!("URLs written as literals: {}", literal_urls.join(", ")))
        },
    );
    push(
        "during",
        "Test each component individually",
        match (s.app.health_checks.is_empty(), rule_state(f, &["L24", "L25", "L26"], false)) {
            (true, _) => (State::Failed, "no health check is defined".into()),
            (false, (State::Failed, why)) => (State::Failed, format!("a function's code fails: {why}")),
            (false, _) => (
                State::Verified,
                format!(
                    "V01: health checks defined: {}; every function's code passes L24, L25, L26",
                    s.app
                        .health_checks
                        .iter()
                        .map(|(o, p)| format!("{}.{}{p}", o.stack, o.output))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ),
        },
    );
    push("during", "Verify API connectivity before frontend deployment", rule_state(f, &["L01", "L21"], false));
}

/// The seed's "After deployment".
fn after_the_deploy(push: &mut Push<'_>, s: &Synthesized, f: &[Finding]) {
    push(
        "after",
        "Test complete end-to-end functionality",
        (State::Manual, "V01 checks health and the served config; a person still walks the player end to end".into()),
    );
    push("after", "Document new production URLs", rule_state(f, &["L06"], true));
    push("after", "Update monitoring and alerting", rule_state(f, &["L20"], true));
    push(
        "after",
        "Create rollback plan for next deployment",
        match rule_state(f, &["L19", "L05", "L18"], true) {
            (State::Verified, by) => {
                (State::Verified, format!("{by}; backups of the last {} deployments are kept (V03)", s.env.retention))
            }
            other => other,
        },
    );
}
