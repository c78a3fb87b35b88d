//! `castform check`: the rules of LESSONS.md over the synthesized apps, or over any template
//! files. Nothing here calls AWS.

use crate::ops::synth::{Selection, build};
use crate::rules::code::CodeMap;
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
    /// The region template files deploy to (`--region`); synthesized stacks know theirs.
    pub region: Option<String>,
    /// Tag keys template files' taggable resources must carry (`--tags`).
    pub tags: Vec<String>,
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
    /// Resource types without a registry schema (custom and third-party types: L17 could not
    /// check them).
    pub types_without_schema: Vec<String>,
    /// Files that could not be read as templates (each is also a T06 finding).
    pub unreadable: usize,
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
    /// The file's text, for the line of each finding.
    pub text: Option<String>,
    /// Why the file could not be read, when it could not (`file:line:column: ...`).
    pub unreadable: Option<String>,
    /// Tag keys every taggable resource must carry (`--tags`; environments say it themselves).
    pub required_tags: Vec<String>,
    /// The functions' code by logical id (asset folders, or inline `ZipFile`), for L24-L26.
    pub code: CodeMap,
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
            prefix: s.env.prefix.clone(),
        };
        out.extend(s.app.stacks.iter().map(|st| stack_checked(root, &s.app, st, &facts)));
    }
    Ok(out)
}

/// One synthesized stack, ready to check: its template, region, environment and code.
pub fn stack_checked(
    root: &Path,
    app: &crate::template::App,
    st: &crate::template::Stack,
    facts: &EnvFacts,
) -> Checked {
    let template = st.template.to_value();
    Checked {
        stack: format!("{}/{}/{}", app.app, app.environment, st.name),
        code: code_of(root, st, &template),
        template,
        region: Some(st.region.clone()),
        env: Some(facts.clone()),
        text: None,
        unreadable: None,
        required_tags: vec![],
    }
}

/// The code of a synthesized stack's functions: each function's asset folder (and the files
/// rendered into it), matched to the function by the content address in its `Code.S3Key`.
fn code_of(root: &Path, stack: &crate::template::Stack, template: &serde_json::Value) -> CodeMap {
    let mut out = CodeMap::new();
    for (id, r) in template["Resources"].as_object().into_iter().flatten() {
        let key = r["Properties"]["Code"]["S3Key"].as_str().unwrap_or_default();
        if let Some(asset) = stack.assets.iter().find(|a| !key.is_empty() && key.contains(&a.sha256)) {
            if let Some(files) = crate::template::asset_texts(root, asset) {
                out.insert(id.clone(), files);
            }
        } else if let Some(files) = rules::code::inline(r) {
            out.insert(id.clone(), files);
        }
    }
    out
}

/// The largest template CloudFormation takes (1 MB, from an S3 object: "CloudFormation quotas",
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/cloudformation-limits.html>).
pub const MAX_TEMPLATE_BYTES: u64 = 1024 * 1024;

/// Template files, JSON or YAML. A file that cannot be read is kept with its reason, so the
/// others are still checked and the report still comes (T06).
///
/// A file is read only if it is a regular file of at most [`MAX_TEMPLATE_BYTES`]: a FIFO or
/// `/dev/zero` named as a template is reported unreadable rather than read without end.
pub fn files(paths: &[PathBuf], region: Option<&str>, tags: &[String]) -> Vec<Checked> {
    let mut out = vec![];
    for p in paths {
        let shown = p.display().to_string();
        let mut c = Checked {
            stack: shown.clone(),
            template: serde_json::Value::Null,
            region: region.map(str::to_string),
            env: None,
            text: None,
            unreadable: None,
            required_tags: tags.to_vec(),
            code: CodeMap::new(),
        };
        match crate::config::read_input(p, MAX_TEMPLATE_BYTES) {
            Err(e) if e.kind() == std::io::ErrorKind::InvalidData => {
                c.unreadable = Some(format!("{shown}: is not UTF-8 text"))
            }
            Err(e) => c.unreadable = Some(format!("{shown}: cannot be read: {e}")),
            Ok(text) => {
                match template_file::parse(&text, &shown) {
                    Ok(t) => {
                        c.code = crate::rules::code::inline_code(&t);
                        c.template = t;
                    }
                    Err(e) => c.unreadable = Some(e.to_string()),
                }
                c.text = Some(text);
            }
        }
        out.push(c);
    }
    out
}

/// The line a finding's logical id (or `Section.Name`) is declared on in a template file's text:
/// the first line, after its section's, holding it as a key.
pub fn line_of(text: &str, logical_id: &str) -> Option<usize> {
    let (section, name) = match logical_id.split_once('.') {
        Some((s, n)) if ["Parameters", "Outputs", "Conditions", "Mappings", "Rules"].contains(&s) => (s, n),
        _ if ["Resources", "Transform", "AWSTemplateFormatVersion", "Description"].contains(&logical_id) => {
            ("", logical_id)
        }
        _ => ("Resources", logical_id),
    };
    let is_key = |line: &str, key: &str| {
        let t = line.trim_start().trim_start_matches(['"', '\'']);
        t.strip_prefix(key).is_some_and(|rest| rest.trim_start_matches(['"', '\'']).trim_start().starts_with(':'))
    };
    let start = if section.is_empty() { 0 } else { text.lines().position(|l| is_key(l, section))? };
    text.lines().enumerate().skip(start).find(|(_, l)| is_key(l, name)).map(|(i, _)| i + 1)
}

/// Runs every rule over every template.
pub fn check_all(checked: &[Checked], today: i64) -> Report {
    let mut findings = vec![];
    let mut resources = 0;
    let mut missing: Vec<String> = vec![];
    let mut unreadable = 0;
    for c in checked {
        if let Some(why) = &c.unreadable {
            unreadable += 1;
            findings.push(Finding {
                rule: "T06",
                severity: Severity::Error,
                stack: c.stack.clone(),
                logical_id: "-".into(),
                resource_type: "-".into(),
                message: why.clone(),
                fix: "make it valid JSON or YAML whose top level is a mapping of template sections".into(),
                suppressed: None,
                line: None,
            });
            continue;
        }
        let target = Target {
            stack: c.stack.clone(),
            template: &c.template,
            region: c.region.clone(),
            env: c.env.clone(),
            today,
            required_tags: c.required_tags.clone(),
            code: Some(&c.code),
        };
        resources += target.resources().count();
        for (_, ty, _) in target.resources() {
            if !ty.is_empty() && !schema::has_schema(ty) && !missing.iter().any(|m| m == ty) {
                missing.push(ty.to_string());
            }
        }
        let mut found = rules::check(&target);
        if let Some(text) = &c.text {
            for f in &mut found {
                f.line = line_of(text, &f.logical_id);
            }
        }
        findings.extend(found);
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
        unreadable,
        summary,
        findings,
    }
}

pub fn run(opts: &CheckOptions) -> Result<Report> {
    let checked = match &opts.source {
        Source::Apps(sel) => synthesized(&opts.root, sel)?,
        Source::Files(paths) => files(paths, opts.region.as_deref(), &opts.tags),
    };
    Ok(check_all(&checked, opts.today))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn findings_point_at_the_line_of_their_resource_or_section() {
        let yaml = "Parameters:\n  Bucket:\n    Type: String\nResources:\n  Bucket:\n    Type: AWS::S3::Bucket\nOutputs:\n  Bucket:\n    Value: x\n";
        assert_eq!(line_of(yaml, "Bucket"), Some(5));
        assert_eq!(line_of(yaml, "Parameters.Bucket"), Some(2));
        assert_eq!(line_of(yaml, "Outputs.Bucket"), Some(8));
        let json = "{\n \"Resources\": {\n  \"Q\": {\"Type\": \"AWS::SQS::Queue\"}\n }\n}";
        assert_eq!(line_of(json, "Q"), Some(3));
        assert_eq!(line_of(json, "Nope"), None);
    }
}
