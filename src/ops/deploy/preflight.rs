//! Preflight (P01-P04): know the account, region and code before anything is written; every
//! refusal here leaves the environment untouched.

use super::{DeployError, DeployOptions};
use crate::aws::{Cloud, Identity};
use crate::config::Environment;
use crate::ops::check::{Checked, check_all};
use crate::rules::{EnvFacts, Severity};
use crate::template::App;
use crate::ui::progress::Progress;
use std::io::IsTerminal;

#[derive(Debug, Clone, PartialEq)]
pub struct Preflight {
    pub identity: Identity,
    pub commit: String,
    pub dirty: bool,
    pub who: String,
    pub host: String,
    /// The environment's deploy role (`castform bootstrap` made it), every change set's RoleARN.
    pub execution_role: Option<String>,
}

/// Every check of a run before anything is written, in order; each refusal names what to do.
pub async fn run<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    state: &crate::state::StateStore,
    opts: &DeployOptions,
    progress: &Progress,
) -> Result<Preflight, DeployError> {
    let (commit, dirty) = crate::state::git_state(&env.root);
    let short = commit.chars().take(12).collect::<String>();
    progress.step(
        "preflight",
        &format!(
            "app {} · environment {} · account {} · region {} · commit {}{}",
            app.app,
            env.name,
            env.account,
            env.region,
            short,
            if dirty { " (dirty)" } else { "" }
        ),
    );
    region_is_the_environments(env)?;
    checks_pass(env, app, opts, progress)?;
    let identity = account_is_the_environments(cloud, env, progress).await?;
    // P02: a dirty tree is refused where the environment asks for confirmation
    if dirty && env.confirm && !opts.allow_dirty {
        return Err(DeployError::Refused(format!(
            "the working tree has uncommitted changes, and {} deploys only committed code\nhelp: commit them, or pass --allow-dirty to deploy them anyway",
            env.name
        )));
    }
    state_buckets_exist(cloud, env, app, state).await?;
    let execution_role = deploy_role(cloud, env, progress).await?;
    // the plan names what is taken in rather than created
    if !app.adopted.is_empty() {
        adopted_plan(cloud, app, progress).await?;
    }
    // P01: confirmation
    if env.confirm && !opts.yes {
        confirm(env).await?;
    }
    let (who, host) = crate::state::who();
    Ok(Preflight { identity, commit, dirty, who, host, execution_role })
}

/// P01: the region the SDK would use is the environment file's.
fn region_is_the_environments(env: &Environment) -> Result<(), DeployError> {
    for var in ["AWS_REGION", "AWS_DEFAULT_REGION"] {
        if let Ok(r) = std::env::var(var)
            && !r.is_empty()
            && r != env.region
        {
            return Err(DeployError::Refused(format!(
                "{var} is {r}, but {} deploys to {}\nhelp: unset {var}, or deploy the environment meant for {r}",
                env.file, env.region
            )));
        }
    }
    Ok(())
}

/// P03: every synth-time error check passes (a rollback restores recorded templates instead).
fn checks_pass(env: &Environment, app: &App, opts: &DeployOptions, progress: &Progress) -> Result<(), DeployError> {
    let facts = EnvFacts {
        name: env.name.clone(),
        retain_data: env.retain_data,
        confirm: env.confirm,
        tag_keys: env.tags.keys().cloned().collect(),
        prefix: env.prefix.clone(),
    };
    let checked: Vec<Checked> =
        app.stacks.iter().map(|s| crate::ops::check::stack_checked(&env.root, app, s, &facts)).collect();
    let report = if opts.skip_checks {
        check_all(&[], crate::rules::today())
    } else {
        check_all(&checked, crate::rules::today())
    };
    let errors: Vec<String> = report
        .findings
        .iter()
        .filter(|f| f.severity == Severity::Error && f.suppressed.is_none())
        .map(|f| format!("  {} {} ({}) in {}: {}", f.rule, f.logical_id, f.resource_type, f.stack, f.message))
        .collect();
    if !errors.is_empty() {
        return Err(DeployError::Refused(format!(
            "{} check errors block the deploy:\n{}\nhelp: run `castform check {}` for the fixes",
            errors.len(),
            errors.join("\n"),
            env.name
        )));
    }
    progress.info(&format!(
        "checks: {} rules over {} templates, 0 errors, {} warnings",
        report.rules.len(),
        report.templates,
        report.summary.warnings
    ));
    Ok(())
}

/// P01: the credentials are the environment's account.
async fn account_is_the_environments<C: Cloud>(
    cloud: &C,
    env: &Environment,
    progress: &Progress,
) -> Result<Identity, DeployError> {
    let identity = cloud
        .caller_identity()
        .await
        .map_err(|e| DeployError::Refused(format!("{e}\nhelp: check your credentials for {}", env.file)))?;
    if identity.account != env.account {
        return Err(DeployError::Refused(format!(
            "the credentials are for account {} ({}), but {} is account {}\nhelp: switch to the profile for {} (e.g. AWS_PROFILE={}), or deploy the environment of account {}",
            identity.account,
            identity.arn,
            env.file,
            env.account,
            env.account,
            env.profile.clone().unwrap_or_else(|| "<profile>".into()),
            identity.account
        )));
    }
    progress.info(&format!("credentials: {} in account {} (matches {})", identity.arn, identity.account, env.file));
    Ok(identity)
}

/// P04: the bootstrap buckets, one per region the app's stacks live in.
async fn state_buckets_exist<C: Cloud>(
    cloud: &C,
    env: &Environment,
    app: &App,
    state: &crate::state::StateStore,
) -> Result<(), DeployError> {
    for (region, bucket) in state.buckets(app) {
        let exists =
            cloud.for_region(&region).bucket_exists(&bucket).await.map_err(|e| DeployError::Refused(e.to_string()))?;
        if !exists {
            return Err(DeployError::Refused(format!(
                "the state bucket {bucket} does not exist in account {} ({region})\nhelp: run `castform bootstrap {}` first",
                env.account, env.name
            )));
        }
    }
    Ok(())
}

/// The deploy role every change set runs with (bootstrap's stack), when it exists; required
/// where the environment asks for confirmation.
async fn deploy_role<C: Cloud>(
    cloud: &C,
    env: &Environment,
    progress: &Progress,
) -> Result<Option<String>, DeployError> {
    let execution_role = match cloud.describe_stack(&crate::ops::bootstrap::stack_name(env)).await {
        Ok(Some(s)) if s.status.ends_with("_COMPLETE") && !s.status.contains("ROLLBACK") => {
            s.outputs.get("ExecutionRoleArn").cloned()
        }
        Ok(_) => None,
        Err(e) => return Err(DeployError::Refused(e.to_string())),
    };
    match &execution_role {
        Some(role) => progress.info(&format!("deploy role: {role} (every change set's RoleARN)")),
        // production (an environment that asks for its name) deploys only through its role
        None if env.confirm => {
            return Err(DeployError::Refused(format!(
                "{} has no deploy role (stack {} is missing), and an environment that asks for confirmation deploys only with it\nhelp: run `castform bootstrap {}` first",
                env.name,
                crate::ops::bootstrap::stack_name(env),
                env.name
            )));
        }
        None => progress.info(&format!(
            "deploy role: none yet, so CloudFormation acts with your own credentials; `castform bootstrap {}` creates one",
            env.name
        )),
    }
    Ok(execution_role)
}

/// What is adopted, read now (read-only) so the plan confirmed after says what the deploy does
/// to each.
async fn adopted_plan<C: Cloud>(cloud: &C, app: &App, progress: &Progress) -> Result<(), DeployError> {
    let names: Vec<String> =
        app.adopted.iter().map(|a| format!("import {}.{} = {}", a.stack, a.logical_id, a.identifier)).collect();
    progress.info(&format!("adopted (imported where not yet in their stacks, never deleted): {}", names.join(", ")));
    // read now (read-only) so the plan confirmed below says what the deploy does to them
    let pending = crate::ops::adopt::verify(cloud, app)
        .await
        .map_err(|e| DeployError::Refused(format!("{e}\nnothing in the environment was changed")))?;
    for p in pending.iter().filter(|p| !p.changes.is_empty()) {
        progress.info(&format!(
            "{}.{} ({}) is imported as it is; then this deploy changes:\n    {}",
            p.adopted.stack,
            p.adopted.logical_id,
            p.adopted.identifier,
            p.changes.join("\n    ")
        ));
    }
    Ok(())
}

/// The environment's name, typed at the terminal.
async fn confirm(env: &Environment) -> Result<(), DeployError> {
    if !std::io::stdin().is_terminal() {
        return Err(DeployError::Refused(format!(
            "{} asks for confirmation and this run is not interactive\nhelp: pass --yes to deploy {} to account {}",
            env.file, env.name, env.account
        )));
    }
    let line =
        crate::ui::ask(&format!("type the environment's name ({}) to deploy to account {}: ", env.name, env.account))
            .await;
    if line.trim() != env.name {
        return Err(DeployError::Refused(format!(
            "confirmation did not match `{}`; nothing was deployed\nhelp: type the environment's name exactly, or pass --yes",
            env.name
        )));
    }
    Ok(())
}
