//! `castform check [ENV] [--app APP] [--all] [--json]` and `castform check --template FILE...`

use crate::config::Registry;
use crate::ops::check::{CheckOptions, Report, Source, run as check};
use crate::rules::{RULES, Severity};
use crate::ui;
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
#[command(
    about = "Check templates: their structure (T01-T06), every resource against CloudFormation's registry schemas, and the lessons L01-L27 (L24-L26 read the functions' code)",
    after_help = "Examples:\n  castform check prod                       the default app's prod stacks\n  castform check --all                      every environment of every app\n  castform check --template stack.yaml      any CloudFormation template, JSON or YAML\n  castform check --rules                    list the rules\n\nExit codes: 0 no error, 2 an error was found, 1 castform itself failed.\nSuppress a rule for one resource with a reason in its Metadata:\n  Metadata: {castform: {suppress: [{rule: L13, reason: \"...\"}]}}"
)]
pub struct Args {
    /// Environment name (environments/<app>/<ENV>.yaml).
    pub env: Option<String>,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    /// Every environment (of --app, or of every app).
    #[arg(long)]
    pub all: bool,
    /// Check these template files instead of castform's own stacks.
    #[arg(long = "template", num_args = 1.., value_name = "FILE")]
    pub templates: Vec<PathBuf>,
    /// The region the --template files deploy to: which resource types exist there
    /// (default us-east-1).
    #[arg(long)]
    pub region: Option<String>,
    /// Tag keys every taggable resource of the --template files must carry (rule L22), e.g.
    /// --tags CostCenter,Owner.
    #[arg(long, value_delimiter = ',', value_name = "KEY")]
    pub tags: Vec<String>,
    /// One JSON document on stdout.
    #[arg(long)]
    pub json: bool,
    /// List the rules and exit.
    #[arg(long)]
    pub rules: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    if args.rules {
        use crate::ui::draw::Column;
        let columns = [
            Column { heading: "rule", right: false },
            Column { heading: "severity", right: false },
            Column { heading: "from", right: false },
            Column { heading: "lesson", right: false },
        ];
        let rows: Vec<Vec<String>> = RULES
            .iter()
            .map(|r| vec![r.id.to_string(), r.severity.as_str().to_string(), r.seed.to_string(), r.title.to_string()])
            .collect();
        ui::draw::table(&columns, &rows);
        return Ok(0);
    }
    let source = if args.templates.is_empty() {
        Source::Apps(super::selection(apps, args.app, args.env, args.all)?)
    } else {
        if args.env.is_some() || args.all {
            return crate::config::bad_input(
                "--template checks files; give no environment or --all with it\nhelp: castform check --template stack.yaml",
            );
        }
        Source::Files(args.templates)
    };
    if let Some(r) = &args.region
        && !crate::rules::registry::known_region(r)
    {
        return crate::config::bad_input(format!(
            "--region {r}: CloudFormation's registry has no such region\nhelp: give a region such as us-east-1 or eu-west-1"
        ));
    }
    let report = check(&CheckOptions {
        root: root.to_path_buf(),
        source,
        region: args.region,
        tags: args.tags,
        today: crate::rules::today(),
    })?;
    if args.json {
        ui::say(&serde_json::to_string_pretty(&report)?);
    } else {
        print_human(&report);
    }
    Ok(if report.has_errors() { 2 } else { 0 })
}

fn print_human(report: &Report) {
    let on = ui::colour_stdout();
    let mut stack = "";
    for f in &report.findings {
        if f.stack != stack {
            stack = &f.stack;
            ui::say(&ui::bold(on, stack));
        }
        let sev = match (f.severity, &f.suppressed) {
            (_, Some(_)) => ui::dim(on, "suppressed"),
            (Severity::Error, _) => ui::red(on, "error"),
            (Severity::Warning, _) => ui::yellow(on, "warning"),
        };
        let at = f.line.map(|l| format!("{}:{l}: ", f.stack)).unwrap_or_default();
        ui::say(&format!(
            "  {sev} {} {} ({}): {at}{} — fix: {}",
            f.rule, f.logical_id, f.resource_type, f.message, f.fix
        ));
        if let Some(reason) = &f.suppressed {
            ui::say(&format!("      {}", ui::dim(on, &format!("reason: {reason}"))));
        }
    }
    if !report.types_without_schema.is_empty() {
        ui::say(&format!(
            "no registry schema for {} (custom or third-party types: L17 skipped them)",
            report.types_without_schema.join(", ")
        ));
    }
    let s = &report.summary;
    let line = format!(
        "checked {} templates{}, {} resources against {} rules: {} errors, {} warnings, {} suppressed",
        report.templates,
        if report.unreadable > 0 { format!(" ({} unreadable)", report.unreadable) } else { String::new() },
        report.resources,
        report.rules.len(),
        s.errors,
        s.warnings,
        s.suppressed
    );
    ui::say(&if s.errors > 0 { ui::red(on, &line) } else { ui::green(on, &line) });
}
