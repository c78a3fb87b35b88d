//! `castform graph ENV`, `castform cost ENV`, `castform status ENV`, `castform diff ENV`,
//! `castform destroy ENV`: what a team looks at before and after a deploy.

use crate::config::Registry;
use crate::ops::graph;
use crate::ui;
use std::path::Path;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum GraphFormat {
    Mermaid,
    Dot,
}

#[derive(clap::Args)]
#[command(
    about = "Draw the architecture from the synthesized stacks (Mermaid or Graphviz DOT)",
    after_help = "Examples:\n  castform graph prod                       Mermaid, for a README\n  castform graph prod --format dot | dot -Tsvg > stacks.svg"
)]
pub struct GraphArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    #[arg(long, value_enum, default_value = "mermaid")]
    pub format: GraphFormat,
}

pub fn graph(root: &Path, apps: Registry, args: GraphArgs) -> anyhow::Result<u8> {
    let (_, app) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    let g = graph::build(&app);
    ui::say(
        match args.format {
            GraphFormat::Mermaid => graph::mermaid(&app, &g),
            GraphFormat::Dot => graph::dot(&app, &g),
        }
        .trim_end(),
    );
    Ok(0)
}

#[derive(clap::Args)]
#[command(
    about = "Estimate the monthly cost per stack and resource from the price table in data/prices.json",
    after_help = "Examples:\n  castform cost prod --hours 100     100 hours of per-destination channels\n  castform cost dev --json"
)]
pub struct CostArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    /// Hours the per-destination MediaLive channels run in a month.
    #[arg(long)]
    pub hours: Option<f64>,
    #[arg(long)]
    pub json: bool,
}

pub fn cost(root: &Path, apps: Registry, args: CostArgs) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    if args.hours.is_some_and(|h| !(0.0..=744.0).contains(&h)) {
        return crate::config::bad_input(format!(
            "--hours must be between 0 and 744 (a month)\nhelp: e.g. castform cost {} --hours 100",
            env.name
        ));
    }
    let e = crate::ops::cost::estimate(&app, args.hours);
    if args.json {
        ui::say(&serde_json::to_string_pretty(&e)?);
        return Ok(0);
    }
    let elsewhere: Vec<&String> = e.app_regions.iter().filter(|r| **r != e.region).collect();
    let at = if elsewhere.is_empty() {
        String::new()
    } else {
        let list: Vec<&str> = elsewhere.iter().map(|r| r.as_str()).collect();
        format!(
            ", at {}'s prices: data/prices.json has none for {} (prices differ by region)",
            e.region,
            list.join(", ")
        )
    };
    ui::say(&format!(
        "{}/{} in {}, {} per month (prices as of {}, data/prices.json{at})",
        app.app,
        env.name,
        e.app_regions.join(" + "),
        e.currency,
        e.prices_checked
    ));
    use ui::draw::Column;
    let columns = [
        Column { heading: "stack", right: false },
        Column { heading: "resource", right: false },
        Column { heading: "what", right: false },
        Column { heading: "quantity", right: true },
        Column { heading: "monthly", right: true },
    ];
    let mut rows: Vec<Vec<String>> = e
        .lines
        .iter()
        .map(|l| {
            vec![
                l.stack.clone(),
                l.resource.clone(),
                l.what.clone(),
                format_quantity(l.quantity),
                format!("{:.2}", l.monthly),
            ]
        })
        .collect();
    // a subtotal per stack, then the total, in the same columns
    let mut by_stack: Vec<(String, f64)> = vec![];
    for l in &e.lines {
        match by_stack.iter_mut().find(|(s, _)| *s == l.stack) {
            Some((_, v)) => *v += l.monthly,
            None => by_stack.push((l.stack.clone(), l.monthly)),
        }
    }
    for (s, v) in by_stack {
        rows.push(vec![s, "subtotal".into(), String::new(), String::new(), format!("{v:.2}")]);
    }
    rows.push(vec!["total".into(), String::new(), String::new(), String::new(), format!("{:.2}", e.total)]);
    ui::draw::table(&columns, &rows);
    Ok(0)
}

fn format_quantity(q: f64) -> String {
    if q.fract() == 0.0 || q >= 10_000.0 { format!("{q:.0}") } else { format!("{q:.1}") }
}

#[derive(clap::Args)]
#[command(
    about = "Compare the synthesized templates with the deployed ones (exit 1 when they differ)",
    after_help = "Examples:\n  castform diff local\n  castform diff prod --json\n\nExit codes: 0 no difference, 1 a difference (or an error)."
)]
pub struct DiffArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
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

pub fn diff(root: &Path, apps: Registry, args: DiffArgs) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    super::block_on(async {
        let cloud = crate::aws::AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let state = crate::ops::deploy::state::StateStore::new(&env);
        let diffs = crate::ops::diff::diff(&cloud, &app, &state).await?;
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

#[derive(clap::Args)]
#[command(
    about = "Show each stack's status, last update and drift, the lock holder and the last deployment",
    after_help = "Example:\n  castform status prod"
)]
pub struct StatusArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    #[arg(long)]
    pub json: bool,
}

pub fn status(root: &Path, apps: Registry, args: StatusArgs) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    super::block_on(async {
        let cloud = crate::aws::AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let s = crate::ops::review::status(&cloud, &env, &app).await?;
        if args.json {
            ui::say(&serde_json::to_string_pretty(&s)?);
            return Ok(0);
        }
        ui::say(&format!("{}/{} in account {} {}", app.app, env.name, env.account, env.region));
        use ui::draw::Column;
        let columns = [
            Column { heading: "stack", right: false },
            Column { heading: "name", right: false },
            Column { heading: "status", right: false },
            Column { heading: "updated", right: false },
            Column { heading: "drift", right: false },
        ];
        let rows: Vec<Vec<String>> = s
            .stacks
            .iter()
            .map(|st| {
                vec![
                    st.stack.clone(),
                    st.stack_name.clone(),
                    st.status.clone(),
                    st.last_updated.clone().unwrap_or_else(|| "-".into()),
                    st.drift.clone(),
                ]
            })
            .collect();
        ui::draw::table(&columns, &rows);
        match &s.lock {
            Some(l) => ui::say(&format!(
                "  lock     held by {} on {} since {} (deployment {})",
                l.owner, l.host, l.started, l.deployment
            )),
            None => ui::say("  lock     free"),
        }
        match &s.last_deployment {
            Some((id, kind, result)) => ui::say(&format!("  last     {kind} {id}: {result}")),
            None => ui::say("  last     no deployment recorded"),
        }
        Ok(0)
    })
}

#[derive(clap::Args)]
#[command(
    about = "Delete an environment: empty its buckets, delete its stacks in reverse order (refused where data is retained)",
    after_help = "Examples:\n  castform destroy dev            asks for the environment's name\n  castform destroy local --yes"
)]
pub struct DestroyArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn destroy(root: &Path, apps: Registry, args: DestroyArgs) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    let progress = crate::ui::progress::Progress::new(crate::ui::progress::Mode::detect(args.json));
    super::block_on(async {
        let cloud = crate::aws::AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let record = crate::ops::review::destroy(&cloud, &env, &app, args.yes, &progress).await?;
        ui::say(&format!(
            "destroyed {}/{}: {}",
            app.app,
            env.name,
            if record.restored.is_empty() { "nothing was deployed".to_string() } else { record.restored.join(", ") }
        ));
        if !app.adopted.is_empty() {
            let kept: Vec<String> =
                app.adopted.iter().map(|a| format!("{} ({})", a.identifier, a.resource_type)).collect();
            ui::say(&format!("left in place (adopted, never deleted by castform): {}", kept.join(", ")));
        }
        Ok(0)
    })
}
