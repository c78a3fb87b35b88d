//! `castform adopt ENV --discover`: the existing resources that could be the app's constructs.

use crate::config::Registry;
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Find the existing resources an environment could adopt (read-only) and print the adopt: lines",
    after_help = "Examples:\n  castform adopt prod --discover\n  castform adopt prod --discover --json"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    /// Read the account and list candidates (the only mode: nothing is ever written)
    #[arg(long)]
    pub discover: bool,
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    if !args.discover {
        return crate::config::bad_input(
            "adopt needs --discover: it only reads the account\nhelp: castform adopt prod --discover, then paste its adopt: lines into the environment file",
        );
    }
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    super::block_on(async {
        let cloud = crate::aws::AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let found = crate::ops::adopt::discover(&cloud, &env, &app).await.map_err(anyhow::Error::msg)?;
        if args.json {
            ui::say(&serde_json::to_string_pretty(&found).unwrap_or_default());
            return Ok(0);
        }
        if found.is_empty() {
            ui::say(&format!(
                "no existing resource in {} could be a construct of {}/{}",
                env.region, app.app, env.name
            ));
            return Ok(0);
        }
        ui::say(&format!(
            "existing resources that could be {}/{}'s constructs (read-only; nothing was changed):",
            app.app, env.name
        ));
        let mut lines = vec![];
        let mut taken: Vec<&str> = vec![];
        for c in &found {
            let mark = if c.adopted { " (adopted)" } else { "" };
            let table = c.resource_type == "AWS::DynamoDB::Table";
            let verdict = match (table, c.differences.is_empty()) {
                (true, true) => "matches",
                (true, false) => "differs",
                (false, true) => "can be adopted",
                (false, false) => "cannot be adopted",
            };
            ui::say(&format!("  {:<28} {} : {verdict}{mark}", c.key, c.identifier));
            for d in &c.differences {
                ui::say(&format!("      {d}"));
            }
            if c.differences.is_empty() && !c.changes.is_empty() {
                let what: Vec<&str> = c.changes.iter().map(|d| d.split(':').next().unwrap_or(d)).collect();
                ui::say(&format!("      imported as it is, then the deploy changes: {}", what.join(", ")));
            }
            // the best candidate of each construct that matches, once
            if c.differences.is_empty()
                && !taken.contains(&c.key.as_str())
                && !lines.iter().any(|l: &String| l.ends_with(&format!(" {}", c.identifier)))
            {
                taken.push(&c.key);
                lines.push(format!("  {}: {}", c.key, c.identifier));
            }
        }
        if !lines.is_empty() {
            ui::say(&format!("\nadd to {}:\nadopt:\n{}", env.file, lines.join("\n")));
        }
        Ok(0)
    })
}
