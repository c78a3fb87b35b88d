//! `castform bootstrap ENV`, `castform history ENV`, `castform outputs ENV`, `castform unlock ENV --force`

use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::ops::deploy::{lock, state::StateStore};
use crate::ops::{bootstrap, history};
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Create the state bucket (assets, backups, ledger, lock) of an environment's account and region, and its deploy role",
    after_help = "Examples:\n  castform bootstrap local\n  castform bootstrap prod --print-policy > deployer-policy.json"
)]
pub struct BootstrapArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    /// Print the IAM policy whoever deploys needs once the deploy role exists (CloudFormation on
    /// the environment's stacks, its state buckets, iam:PassRole on the role), and change nothing
    #[arg(long)]
    pub print_policy: bool,
}

#[derive(clap::Args)]
#[command(
    about = "List an environment's deployments with their URLs, results and backups",
    after_help = "Examples:\n  castform history prod\n  castform history local --json"
)]
pub struct HistoryArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
#[command(
    about = "Print the deployed stacks' outputs",
    after_help = "Examples:\n  castform outputs local\n  castform outputs prod --json"
)]
pub struct OutputsArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args)]
#[command(
    about = "Remove the backups, snapshots and assets of deployments older than the environment's retention",
    after_help = "Examples:\n  castform gc prod --dry-run     what would go\n  castform gc prod"
)]
pub struct GcArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(clap::Args)]
#[command(about = "Break a stale deploy lock", after_help = "Example:\n  castform unlock prod --force")]
pub struct UnlockArgs {
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
    /// Required: breaking a lock another deploy holds can let two deploys collide.
    #[arg(long)]
    pub force: bool,
}

pub fn bootstrap(root: &Path, apps: Registry, args: BootstrapArgs) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    if args.print_policy {
        ui::say(&serde_json::to_string_pretty(&bootstrap::deployer_policy(&env, &app))?);
        return Ok(0);
    }
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        for (region, bucket) in bootstrap::run(&cloud, &env, &app).await? {
            ui::say(&format!(
                "state bucket {bucket} is ready (private, encrypted, versioned) in account {} {region}",
                env.account
            ));
        }
        let role = bootstrap::deploy_role(&cloud, &env, &app).await?;
        ui::say(&format!(
            "deploy role {role} is ready: CloudFormation runs {}/{}'s change sets with it (stack {}); `castform bootstrap {} --print-policy` prints what a deployer needs",
            app.app,
            env.name,
            bootstrap::stack_name(&env),
            env.name
        ));
        Ok(0)
    })
}

pub fn history(root: &Path, apps: Registry, args: HistoryArgs) -> anyhow::Result<u8> {
    let (env, _) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let records = history::history(&cloud, &env).await?;
        if args.json {
            ui::say(&serde_json::to_string_pretty(&records)?);
            return Ok(0);
        }
        if records.is_empty() {
            ui::say(&format!("no deployments of {}/{} yet", env.app, env.name));
            return Ok(0);
        }
        for r in &records {
            let commit: String = r.commit.chars().take(10).collect();
            let to = r.restored_to.as_ref().map(|t| format!(" → back to {t}")).unwrap_or_default();
            ui::say(&format!(
                "{}  {:<8} {:<11} {}  commit {}{}  by {}{}",
                r.id,
                r.kind,
                r.result,
                r.finished,
                commit,
                if r.dirty { "+dirty" } else { "" },
                r.who,
                to
            ));
            for (k, v) in &r.urls {
                ui::say(&format!("    {k:<20} {v}"));
            }
            if let Some(b) = &r.backup {
                ui::say(&format!("    {:<20} {} ({} items)", "backup", b.location, b.items));
            }
            if r.kind.starts_with("media-") {
                for c in &r.checks {
                    ui::say(&format!("    {:<20} {}", "media", c.detail));
                }
            }
            if let Some(e) = &r.error {
                ui::say(&format!("    {:<20} {}", "error", e.lines().next().unwrap_or_default()));
            }
        }
        Ok(0)
    })
}

pub fn outputs(root: &Path, apps: Registry, args: OutputsArgs) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let outs = history::outputs(&cloud, &app).await?;
        if args.json {
            ui::say(&serde_json::to_string_pretty(&outs)?);
        } else if outs.is_empty() {
            ui::say(&format!("no stack of {}/{} is deployed\nhelp: castform deploy {}", env.app, env.name, env.name));
        } else {
            for (stack, o) in &outs {
                ui::say(&ui::bold(ui::colour_stdout(), stack));
                for (k, v) in o {
                    ui::say(&format!("  {k:<28} {v}"));
                }
            }
        }
        Ok(0)
    })
}

pub fn unlock(root: &Path, apps: Registry, args: UnlockArgs) -> anyhow::Result<u8> {
    let (env, _) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    if !args.force {
        return crate::config::bad_input(format!(
            "unlock breaks the lock whoever holds it\nhelp: make sure no deploy of {} is running, then pass --force",
            env.name
        ));
    }
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let state = StateStore::new(&env);
        match lock::force_release(&cloud, &state).await? {
            Some(h) => ui::say(&format!(
                "broke the lock of deployment {} ({} on {}, since {})",
                h.deployment, h.owner, h.host, h.started
            )),
            None => ui::say(&format!("{} was not locked", state.prefix)),
        }
        Ok(0)
    })
}

pub fn gc(root: &Path, apps: Registry, args: GcArgs) -> anyhow::Result<u8> {
    let (env, _) = super::load_app(root, apps, args.app.as_deref(), &args.env)?;
    super::block_on(async {
        let cloud = AwsCloud::new(&env.region, env.profile.as_deref()).await;
        let r = crate::ops::gc::run(&cloud, &env, args.dry_run).await?;
        let verb = if args.dry_run { "would remove" } else { "removed" };
        ui::say(&format!(
            "kept the last {} deployments (retention {}); {verb} {} older ones ({} objects) and {} unused assets",
            r.kept.len(),
            env.retention,
            r.removed_deployments.len(),
            r.removed_objects,
            r.removed_assets.len()
        ));
        for a in &r.removed_assets {
            ui::say(&format!("  {verb} {a}"));
        }
        Ok(0)
    })
}
