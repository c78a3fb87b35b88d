//! `castform bootstrap ENV`: the state bucket and the deploy role of an environment's account and region.

use crate::aws::AwsCloud;
use crate::config::Registry;
use crate::ops::bootstrap;
use crate::ui;
use std::path::Path;

#[derive(clap::Args)]
#[command(
    about = "Create the state bucket (assets, backups, ledger, lock) of an environment's account and region, and its deploy role",
    after_help = "Examples:\n  castform bootstrap local\n  castform bootstrap prod --print-policy > deployer-policy.json"
)]
pub struct Args {
    #[command(flatten)]
    pub target: super::Target,
    /// Print the IAM policy whoever deploys needs once the deploy role exists (CloudFormation on
    /// the environment's stacks, its state buckets, iam:PassRole on the role), and change nothing
    #[arg(long)]
    pub print_policy: bool,
}

pub fn run(root: &Path, apps: Registry, args: Args) -> anyhow::Result<u8> {
    let (env, app) = super::load_app(root, apps, args.target.app.as_deref(), &args.target.env)?;
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
