//! `castform media status|start|stop ENV`: the live pipeline as its services report it, and
//! taking it on or off air (recorded in the deployment ledger).

use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::ops::media::{self, MediaStatus};
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "The live pipeline: its state, or start / stop it (flow, then channel; channel, then flow)",
    after_help = "Examples:\n  castform media status prod        flow, channel, playback URLs and what an hour on air costs\n  castform media start local        start the flow, then the channel, and wait until both run\n  castform media stop staging --json"
)]
pub struct Args {
    /// status, start or stop
    #[arg(value_parser = ["status", "start", "stop"])]
    pub action: String,
    #[command(flatten)]
    pub target: super::Target,
    /// Stop without typing the environment's name (environments marked `confirm`).
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

fn show(s: &MediaStatus) {
    let c = ui::colour_stdout();
    match &s.flow {
        Some(f) => ui::say(&format!(
            "flow     {:<9} {}  ingest {}:{}",
            f.status,
            f.name,
            f.ingest_ip,
            f.ingest_port.map(|p| p.to_string()).unwrap_or_default()
        )),
        None => ui::say(&format!("flow     {}", s.pipeline.flow_arn.as_deref().unwrap_or("none deployed"))),
    }
    match &s.channel {
        Some(ch) => ui::say(&format!("channel  {:<9} {} ({}, {})", ch.state, ch.name, ch.id, ch.class)),
        None => ui::say(&format!("channel  {}", s.pipeline.channel_id.as_deref().unwrap_or("none deployed"))),
    }
    let answer = |code: Option<u16>| code.map(|c| format!("HTTP {c}")).unwrap_or_else(|| "no answer".into());
    if let Some(u) = &s.pipeline.hls_url {
        ui::say(&format!("origin   {}  {u}", answer(s.endpoint_answers)));
    }
    if let Some(u) = &s.pipeline.cdn_hls_url {
        ui::say(&format!("viewers  {}  {u}", answer(s.cdn_answers)));
    }
    let air = if s.on_air { ui::green(c, "ON AIR") } else { ui::yellow(c, "off air") };
    ui::say(&format!("{air}: ${:.4}/hour while on air (flow + channel, data/prices.json)", s.cost_per_hour));
}

/// The environment's name typed at the terminal before a stop takes it off air.
async fn confirm_stop(env: &crate::config::Environment) -> anyhow::Result<()> {
    use crate::ops::error::DeployError;
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() {
        return Err(DeployError::Refused(format!(
            "`media stop` takes {} off air, and {} asks for confirmation; this run is not interactive\nhelp: pass --yes to stop it",
            env.name, env.file
        ))
        .into());
    }
    let line = ui::ask(&format!("type the environment's name ({}) to take it off air: ", env.name)).await;
    if line.trim() != env.name {
        return Err(
            DeployError::Refused(format!(
                "confirmation did not match `{}`; nothing was stopped\nhelp: type the environment's name exactly, or pass --yes",
                env.name
            ))
            .into()
        );
    }
    Ok(())
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let status = match args.action.as_str() {
            "status" => media::status(&cloud, &app).await?,
            action => {
                let start = action == "start";
                // taking a production stream off air is asked for like a deploy (review S3-32)
                if !start && env.confirm && !args.yes {
                    confirm_stop(&env).await?;
                }
                if !args.json {
                    ui::say(&format!(
                        "{} {}/{}: {}",
                        if start { "starting" } else { "stopping" },
                        env.app,
                        env.name,
                        if start { "flow, then channel" } else { "channel, then flow" }
                    ));
                }
                let (record, status) = media::operate(&cloud, &env, &app, start).await?;
                if !args.json {
                    for c in &record.checks {
                        ui::say(&format!("  {}", c.detail));
                    }
                    ui::say(&format!("recorded as {} (`castform history {}`)", record.id, env.name));
                }
                status
            }
        };
        if args.json {
            ui::say(&serde_json::to_string_pretty(&status)?);
        } else {
            show(&status);
        }
        Ok(0)
    })
}
