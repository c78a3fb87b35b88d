//! `castform status ENV`: what is deployed, and in what state.

use crate::config::Registry;
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Show each stack's status, last update and drift, the lock holder and the last deployment",
    after_help = "Example:\n  castform status prod"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    #[arg(long)]
    pub json: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    super::block_on(async {
        let cloud = crate::aws::AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let s = crate::ops::status::status(&cloud, &env, &app).await?;
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
            Some(l) => {
                ui::say(&format!(
                    "  lock     held by {} on {} since {} ({} {})",
                    l.owner,
                    l.host,
                    l.started,
                    l.kind(),
                    l.deployment
                ));
                if let Some(r) = &l.restoring {
                    ui::say(&format!(
                        "           restoring {} to the backup of {}; if that run was stopped, `castform unlock {} --restore` resumes it",
                        env.name, r.run.deployment, env.name
                    ));
                }
            }
            None => ui::say("  lock     free"),
        }
        match &s.last_deployment {
            Some((id, kind, result)) => ui::say(&format!("  last     {kind} {id}: {result}")),
            None => ui::say("  last     no deployment recorded"),
        }
        Ok(0)
    })
}
