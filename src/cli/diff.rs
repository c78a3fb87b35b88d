//! `castform diff ENV`: what a deploy would change, resource by resource.

use crate::config::Registry;
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Compare the synthesized templates with the deployed ones (exit 1 when they differ)",
    after_help = "Examples:\n  castform diff local\n  castform diff prod --json\n\nExit codes, as diff(1)'s: 0 no difference, 1 a difference, 2 could not tell (AWS could not be read, or bad input)."
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    #[arg(long)]
    pub json: bool,
}

fn show(v: &Option<serde_json::Value>) -> String {
    match v {
        None => "(none)".into(),
        Some(serde_json::Value::String(s)) => format!("{s:?}"),
        Some(other) => other.to_string(),
    }
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    super::block_on(async {
        let cloud = crate::aws::AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let state = crate::state::StateStore::new(&env);
        // an error is "could not tell" (2), never "they differ" (1): a pipeline gating on 1
        // must not read an unreachable AWS as a change (issue 36)
        let diffs = crate::ops::diff::diff(&cloud, &app, &state).await.map_err(|e| {
            e.context(super::Undecided(format!(
                "cannot tell whether {}/{} differs from what is deployed",
                env.app, env.name
            )))
        })?;
        let differs = diffs.iter().any(|d| !d.is_empty());
        if args.json {
            ui::say(&serde_json::to_string_pretty(&serde_json::json!({"differs": differs, "stacks": diffs}))?);
            return Ok(u8::from(differs));
        }
        let drawn: Vec<ui::draw::DiffStack> = diffs
            .iter()
            .map(|d| ui::draw::DiffStack {
                title: if d.is_empty() {
                    format!("stack {}", d.stack)
                } else {
                    format!("stack {} ({}){}", d.stack, d.stack_name, if d.deployed { "" } else { ": not deployed" })
                },
                unchanged: d.is_empty(),
                entries: d
                    .resources
                    .iter()
                    .map(|r| {
                        let mut repl =
                            r.replacement.as_ref().map(|x| format!(" [Replacement: {x}]")).unwrap_or_default();
                        if let Some(live) = r.live {
                            repl.push_str(&format!(" [live: {}]", live.label()));
                        }
                        if r.action == "import" {
                            repl.push_str(" [import: the existing resource, kept]");
                        }
                        let mut details: Vec<String> = r
                            .changes
                            .iter()
                            .map(|c| format!("{}: {} -> {}", c.path, show(&c.old), show(&c.new)))
                            .collect();
                        details.extend(r.statements.iter().map(|(sign, s)| format!("{sign} statement {s}")));
                        ui::draw::DiffEntry {
                            sign: match r.action.as_str() {
                                "add" => '+',
                                "import" => '>',
                                "remove" => '-',
                                _ => '~',
                            },
                            head: format!("{} ({}){repl}", r.logical_id, r.resource_type),
                            danger: r.data_loss.then(|| {
                                format!(
                                    "DATA LOSS: this stateful resource would be {}",
                                    if r.action == "remove" { "deleted" } else { "replaced" }
                                )
                            }),
                            details,
                        }
                    })
                    .collect(),
                trailing: d
                    .parameters
                    .iter()
                    .map(|p| format!("parameter {}: {} -> {}", p.path, show(&p.old), show(&p.new)))
                    .collect(),
                note: d.change_set_note.clone(),
            })
            .collect();
        ui::draw::diff(&drawn);
        Ok(u8::from(differs))
    })
}
