//! `castform cost ENV`: a monthly estimate of an environment.

use crate::config::Registry;
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Estimate the monthly cost per stack and resource from the price table in data/prices.json",
    after_help = "Examples:\n  castform cost prod --hours 100     100 hours of per-destination channels\n  castform cost dev --json"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    /// Hours the per-destination MediaLive channels run in a month.
    #[arg(long)]
    pub hours: Option<f64>,
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
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
