//! The L-checks of LESSONS.md: one small function per lesson, run over a synthesized template
//! (or any hand-written one) and the environment's facts. Rules never call AWS.

mod catalog;
mod cdn;
pub mod code;
mod graph;
mod hygiene;
mod iam;
mod intrinsics;
mod lambda;
mod media;
pub mod registry;
pub mod runtimes;
pub mod schema;
mod stateful;
mod structure;
pub mod template_file;
mod util;

#[cfg(test)]
mod tests;

pub use catalog::{RULES, rule};
pub use hygiene::{credentials_in, placeholder_in};

/// Calls `f` with every string leaf under `v`.
pub fn each_string_pub(v: &Value, f: &mut dyn FnMut(&str)) {
    util::each_string(v, "", &mut |_, s| f(s));
}
pub use stateful::STATEFUL as STATEFUL_TYPES;

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// A lesson as a check.
pub struct Rule {
    /// Stable id: `L01` ...; never reused.
    pub id: &'static str,
    pub title: &'static str,
    pub severity: Severity,
    /// The seed (and section) the lesson comes from.
    pub seed: &'static str,
    /// What to change, in general; each finding says what to change in its resource.
    pub advice: &'static str,
    pub check: fn(&Target) -> Vec<Hit>,
    /// Which form of the template the check reads.
    pub sees: Sees,
}

/// The form of a template a rule reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sees {
    /// As written (sections, functions, transforms).
    Written,
    /// With `Fn::ForEach` loops expanded (references).
    Expanded,
    /// Expanded, and once per `Fn::If` branch (true, then false), so a value behind either
    /// branch is checked; a finding both branches give is reported once.
    Branches,
}

/// What a check found in one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit {
    /// Logical id, or a top-level section such as `Parameters.X`.
    pub logical_id: String,
    pub message: String,
    pub fix: String,
    /// A rule may lower its own severity for a hit (e.g. a runtime deprecated within 180 days).
    pub severity: Option<Severity>,
}

impl Hit {
    pub fn new(logical_id: &str, message: impl Into<String>, fix: impl Into<String>) -> Self {
        Self { logical_id: logical_id.to_string(), message: message.into(), fix: fix.into(), severity: None }
    }
    pub fn with_severity(mut self, s: Severity) -> Self {
        self.severity = Some(s);
        self
    }
}

/// One finding, as reported.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub rule: &'static str,
    pub severity: Severity,
    pub stack: String,
    pub logical_id: String,
    pub resource_type: String,
    pub message: String,
    pub fix: String,
    /// The stated reason when the resource's Metadata suppresses this rule.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suppressed: Option<String>,
    /// The line of the template file the finding is about (the resource's, for a resource),
    /// when it is a file.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<usize>,
}

/// What the rules know of the environment a template belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct EnvFacts {
    pub name: String,
    pub retain_data: bool,
    /// The environment asks for its name before a deploy (`confirm: true`): production.
    pub confirm: bool,
    /// Cost-allocation tag keys every taggable resource must carry (L22).
    pub tag_keys: Vec<String>,
    /// The environment's name prefix (`orders-prod`): what its resources' names carry (L27).
    pub prefix: String,
}

/// A template under check.
pub struct Target<'a> {
    /// Stack name (synthesized) or file path (`--template`).
    pub stack: String,
    pub template: &'a Value,
    /// The region it deploys to, when known.
    pub region: Option<String>,
    /// `None` for hand-written templates: environment-dependent rules check what they can.
    pub env: Option<EnvFacts>,
    /// Days since 1970-01-01, for runtime deprecation (L02).
    pub today: i64,
    /// Tag keys every taggable resource must carry when no environment says (`check --tags`, L22).
    pub required_tags: Vec<String>,
    /// The functions' code by logical id, where castform can read it (L24-L26).
    pub code: Option<&'a code::CodeMap>,
}

impl Target<'_> {
    pub fn resources(&self) -> impl Iterator<Item = (&str, &str, &Value)> {
        self.template["Resources"].as_object().into_iter().flatten().map(|(id, r)| {
            (id.as_str(), r["Type"].as_str().unwrap_or_default(), r.get("Properties").unwrap_or(&Value::Null))
        })
    }
    pub fn of_type<'b>(&'b self, t: &'b str) -> impl Iterator<Item = (&'b str, &'b Value)> + 'b {
        self.resources().filter(move |(_, ty, _)| *ty == t).map(|(id, _, p)| (id, p))
    }
    pub fn resource(&self, id: &str) -> Option<&Value> {
        self.template["Resources"].get(id)
    }
    pub fn type_of(&self, id: &str) -> Option<&str> {
        self.resource(id).and_then(|r| r["Type"].as_str())
    }
    pub fn retain_data(&self) -> Option<bool> {
        self.env.as_ref().map(|e| e.retain_data)
    }
}

/// Runs every rule over a target; suppressed findings are kept, marked with their reason.
pub fn check(target: &Target) -> Vec<Finding> {
    let mut out = vec![];
    // copies only where the template has loops or conditions to resolve
    let expanded_owned = intrinsics::has_loops(target.template).then(|| intrinsics::expand_for_each(target.template).0);
    let expanded = expanded_owned.as_ref().unwrap_or(target.template);
    let branched: Vec<Value> = if intrinsics::has_conditions(expanded) {
        vec![intrinsics::branch(expanded, true), intrinsics::branch(expanded, false)]
    } else {
        vec![]
    };
    let branches: Vec<&Value> = if branched.is_empty() { vec![expanded] } else { branched.iter().collect() };
    let resources = &expanded["Resources"];
    for r in RULES {
        let forms: Vec<&Value> = match r.sees {
            Sees::Written => vec![target.template],
            Sees::Expanded => vec![expanded],
            Sees::Branches => branches.clone(),
        };
        let mut seen: Vec<(String, String)> = vec![];
        for form in forms {
            let t = Target {
                stack: target.stack.clone(),
                template: form,
                region: target.region.clone(),
                env: target.env.clone(),
                today: target.today,
                required_tags: target.required_tags.clone(),
                code: target.code,
            };
            for hit in (r.check)(&t) {
                let key = (hit.logical_id.clone(), hit.message.clone());
                if seen.contains(&key) {
                    continue;
                }
                seen.push(key);
                let resource = resources.get(&hit.logical_id);
                let resource_type = resource.and_then(|r| r["Type"].as_str()).unwrap_or("-").to_string();
                let suppressed = resource.and_then(|res| suppression(res, r.id));
                out.push(Finding {
                    rule: r.id,
                    severity: hit.severity.unwrap_or(r.severity),
                    stack: target.stack.clone(),
                    logical_id: hit.logical_id,
                    resource_type,
                    message: hit.message,
                    fix: hit.fix,
                    suppressed,
                    line: None,
                });
            }
        }
    }
    // a suppression without a reason is itself an error; checkov's skips are read from the same
    // Metadata and must say why as ours do: (list, its id key, its reason key, what it is)
    const ACCEPTED: [(&str, &str, &str, &str, &str); 2] = [
        ("castform", "suppress", "rule", "reason", "suppresses"),
        ("checkov", "skip", "id", "comment", "skips checkov's"),
    ];
    for (id, _, _) in target.resources() {
        let res = target.resource(id).unwrap();
        for (tool, list, key, why, verb) in ACCEPTED {
            for s in res["Metadata"][tool][list].as_array().into_iter().flatten() {
                if s[why].as_str().unwrap_or("").trim().is_empty() {
                    out.push(Finding {
                        rule: "L00",
                        severity: Severity::Error,
                        stack: target.stack.clone(),
                        logical_id: id.to_string(),
                        resource_type: res["Type"].as_str().unwrap_or("-").to_string(),
                        message: format!("{verb} {} without a reason", s[key].as_str().unwrap_or("a check")),
                        fix: format!("state why in Metadata.{tool}.{list}[].{why}, or remove it"),
                        suppressed: None,
                        line: None,
                    });
                }
            }
        }
    }
    out.sort_by(|a, b| (&a.stack, &a.logical_id, a.rule).cmp(&(&b.stack, &b.logical_id, b.rule)));
    out
}

/// `Metadata.castform.suppress: [{rule, reason}]` on the resource, for this rule, with a reason.
fn suppression(resource: &Value, rule: &str) -> Option<String> {
    resource["Metadata"]["castform"]["suppress"].as_array()?.iter().find_map(|s| {
        let reason = s["reason"].as_str()?.trim();
        (s["rule"] == rule && !reason.is_empty()).then(|| reason.to_string())
    })
}

/// Today as days since 1970-01-01 (UTC).
pub fn today() -> i64 {
    days_since_1970(time::OffsetDateTime::now_utc().date())
}

/// `YYYY-MM-DD` to days since 1970-01-01; `None` for a date the calendar does not have (month 13,
/// February 30) or a year outside -9999..=9999.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let year: i32 = it.next()?.parse().ok()?;
    let month: u8 = it.next()?.parse().ok()?;
    let day: u8 = it.next()?.parse().ok()?;
    let date = time::Date::from_calendar_date(year, time::Month::try_from(month).ok()?, day).ok()?;
    Some(days_since_1970(date))
}

fn days_since_1970(date: time::Date) -> i64 {
    (date - time::OffsetDateTime::UNIX_EPOCH.date()).whole_days()
}
