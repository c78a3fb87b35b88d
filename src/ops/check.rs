//! `castform check`: the rules of LESSONS.md over the synthesized apps, or over any template
//! files. Nothing here calls AWS.

use crate::ops::synth::{Selection, build};
use crate::rules::{self, EnvFacts, Finding, Severity, Target, schema, template_file};
use anyhow::Result;
use serde::Serialize;
use std::path::{Path, PathBuf};

pub enum Source {
    Apps(Selection),
    Files(Vec<PathBuf>),
}

pub struct CheckOptions {
    pub root: PathBuf,
    pub source: Source,
    /// Days since 1970-01-01 (runtime deprecation).
    pub today: i64,
}

#[derive(Debug, Serialize)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub suppressed: usize,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub castform_check: u32,
    pub templates: usize,
    pub resources: usize,
    pub rules: Vec<&'static str>,
    /// Resource types without a vendored registry schema (L17 could not check them).
    pub types_without_schema: Vec<String>,
    pub summary: Summary,
    pub findings: Vec<Finding>,
}

impl Report {
    pub fn has_errors(&self) -> bool {
        self.summary.errors > 0
    }
}

/// One template to check, owned.
pub struct Checked {
    pub stack: String,
    pub template: serde_json::Value,
    pub region: Option<String>,
    pub env: Option<EnvFacts>,
}

/// The synthesized stacks of a selection, ready to check.
pub fn synthesized(root: &Path, selection: &Selection) -> Result<Vec<Checked>> {
    let mut out = vec![];
    for s in build(root, selection)? {
        let facts = EnvFacts {
            name: s.env.name.clone(),
            retain_data: s.env.retain_data,
            confirm: s.env.confirm,
            tag_keys: s.env.tags.keys().cloned().collect(),
        };
        for st in &s.app.stacks {
            out.push(Checked {
                stack: format!("{}/{}/{}", s.app.app, s.app.environment, st.name),
                template: st.template.to_value(),
                region: Some(st.region.clone()),
                env: Some(facts.clone()),
            });
        }
    }
    Ok(out)
}

/// Template files, JSON or YAML.
pub fn files(paths: &[PathBuf]) -> Result<Vec<Checked>> {
    let mut out = vec![];
    for p in paths {
        let shown = p.display().to_string();
        let text = match std::fs::read_to_string(p) {
            Ok(t) => t,
            Err(e) => return crate::config::bad_input(format!("cannot read template {shown}: {e}")),
        };
        let template = template_file::parse(&text, &shown)?;
        out.push(Checked { stack: shown, template, region: None, env: None });
    }
    Ok(out)
}

/// Runs every rule over every template.
pub fn check_all(checked: &[Checked], today: i64) -> Report {
    let mut findings = vec![];
    let mut resources = 0;
    let mut missing: Vec<String> = vec![];
    for c in checked {
        let target = Target {
            stack: c.stack.clone(),
            template: &c.template,
            region: c.region.clone(),
            env: c.env.clone(),
            today,
        };
        resources += target.resources().count();
        for (_, ty, _) in target.resources() {
            if !schema::has_schema(ty) && !missing.iter().any(|m| m == ty) {
                missing.push(ty.to_string());
            }
        }
        findings.extend(rules::check(&target));
    }
    missing.sort();
    let active = |f: &&Finding| f.suppressed.is_none();
    let summary = Summary {
        errors: findings.iter().filter(active).filter(|f| f.severity == Severity::Error).count(),
        warnings: findings.iter().filter(active).filter(|f| f.severity == Severity::Warning).count(),
        suppressed: findings.iter().filter(|f| f.suppressed.is_some()).count(),
    };
    Report {
        castform_check: 1,
        templates: checked.len(),
        resources,
        rules: rules::RULES.iter().map(|r| r.id).collect(),
        types_without_schema: missing,
        summary,
        findings,
    }
}

pub fn run(opts: &CheckOptions) -> Result<Report> {
    let checked = match &opts.source {
        Source::Apps(sel) => synthesized(&opts.root, sel)?,
        Source::Files(paths) => files(paths)?,
    };
    Ok(check_all(&checked, opts.today))
}
