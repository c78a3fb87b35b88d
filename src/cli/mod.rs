//! The command line: one file per command; each fills an options struct and calls one `ops`
//! function. Exit codes: 0 success, 1 error, 2 checks failed or bad input and nothing was
//! touched, 3 deploy failed and the environment was restored.

mod adopt;
mod bootstrap;
mod check;
mod checklist;
mod cost;
mod deploy;
mod destroy;
mod diff;
mod gc;
mod graph;
mod history;
mod media;
mod outputs;
mod rollback;
mod status;
mod synth;
mod unlock;

use crate::config::Registry;
use clap::{Parser, Subcommand};
use std::path::PathBuf;

#[derive(Parser)]
#[command(
    name = "castform",
    version,
    about = "Typed AWS stacks for a media-streaming platform, rendered to CloudFormation and checked against its incidents",
    after_help = "Examples:\n  castform deploy local               the whole deploy, against the local emulator (see README)\n  castform synth prod                 templates of the default app's stacks for prod, into out/\n  castform check --all                the lessons as checks, over every environment\n  castform synth --all                every environment of every app\n  castform synth dev --format yaml    YAML instead of JSON"
)]
pub struct Cli {
    /// Project root holding environments/, templates/ and assets/ (default: the current
    /// directory, or the one the binary was built for).
    #[arg(long, global = true)]
    pub root: Option<PathBuf>,
    /// On an error, print its whole chain of causes (what failed, inside what).
    #[arg(long, global = true)]
    pub debug: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    Synth(synth::Args),
    Check(check::Args),
    Checklist(checklist::Args),
    Bootstrap(bootstrap::Args),
    Deploy(deploy::Args),
    Gc(gc::Args),
    Graph(graph::Args),
    Media(media::Args),
    Cost(cost::Args),
    Diff(diff::Args),
    Status(status::Args),
    Destroy(destroy::Args),
    Adopt(adopt::Args),
    History(history::Args),
    Rollback(rollback::Args),
    Outputs(outputs::Args),
    Unlock(unlock::Args),
    Completions(CompletionsArgs),
}

/// The environment a command works on, and its app: every command that takes one says it alike.
#[derive(clap::Args)]
pub struct Target {
    /// The environment, by its file's name under environments/<app>/ (`prod` for prod.yaml).
    pub env: String,
    /// The app, by its registered name (default: the first registered).
    #[arg(long)]
    pub app: Option<String>,
}

/// `castform completions SHELL`: the shell's completion script, from clap's own generator.
#[derive(clap::Args)]
#[command(
    about = "Print a completion script for a shell",
    after_help = "Examples:\n  castform completions bash > ~/.local/share/bash-completion/completions/castform\n  castform completions zsh > \"${fpath[1]}/_castform\""
)]
pub struct CompletionsArgs {
    pub shell: clap_complete::Shell,
}

/// Runs the command line over the registered apps, `--root` defaulting to `root`, and returns the
/// exit code; an error is printed the way castform prints errors (its whole chain with
/// `--debug`, and a last JSON document with `--json`).
pub fn run(root: &std::path::Path, apps: Registry) -> u8 {
    // the credentials and secrets in this process's environment never reach a message
    crate::ui::redact::register_environment();
    let mut output = Output::default();
    let code = match parse_and_run(root, apps, &mut output) {
        Ok(code) => code,
        Err(e) => report(&e, output),
    };
    // output that could not be written (a full disk) is a failure, never a success
    match crate::ui::output_failed() {
        Some(why) if code == 0 => {
            crate::ui::error(&format!(
                "the output could not be written: {why}\nhelp: free space where the output goes, or send it elsewhere"
            ));
            1
        }
        _ => code,
    }
}

/// How a run reports: `--debug` and `--json` as clap parsed them.
#[derive(Clone, Copy, Default)]
struct Output {
    debug: bool,
    json: bool,
}

impl Output {
    /// The flags of the matched command and its subcommands (`media start … --json`).
    fn of(matches: &clap::ArgMatches) -> Self {
        let flag = |m: &clap::ArgMatches, id: &str| m.try_get_one::<bool>(id).ok().flatten().copied().unwrap_or(false);
        let mut out = Output { debug: flag(matches, "debug"), json: false };
        let mut m = matches;
        while let Some((_, sub)) = m.subcommand() {
            out.debug |= flag(sub, "debug");
            out.json |= flag(sub, "json");
            m = sub;
        }
        out
    }
}

/// Prints an error as castform does and returns its exit code.
fn report(e: &anyhow::Error, output: Output) -> u8 {
    let message = if output.debug { format!("{e:?}") } else { render_error(e) };
    crate::ui::error(&message);
    let code = exit_code(e);
    // `--json` ends with one JSON document on failure too, for the tool reading stdout
    if output.json {
        crate::ui::out_line(
            &serde_json::json!({"event": "error", "error": render_error(e), "exit_code": code}).to_string(),
        );
    }
    code
}

fn parse_and_run(root: &std::path::Path, apps: Registry, output: &mut Output) -> anyhow::Result<u8> {
    use clap::{CommandFactory, FromArgMatches};
    // usage and completions name the binary that runs (a team's own, or castform)
    // once per process: clap names a command with a static string
    let bin: &'static str = Box::leak(binary_name().into_boxed_str());
    let command = || Cli::command().name(bin).bin_name(bin);
    // a command line clap refuses still says how to report: its best-effort parse
    if let Ok(m) = command().ignore_errors(true).try_get_matches() {
        *output = Output::of(&m);
    }
    check_registry(apps)?;
    let cli = match command().try_get_matches().and_then(|m| {
        *output = Output::of(&m);
        Cli::from_arg_matches(&m)
    }) {
        Ok(cli) => cli,
        // help and version are answers, not errors
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return Ok(0);
        }
        // a usage error is bad input like any other (exit 2, and JSON with --json)
        Err(e) => {
            let rendered = e.render().to_string();
            let mut lines = rendered.lines().map(str::trim).filter(|l| !l.is_empty());
            let first = lines.next().unwrap_or_default().trim_start_matches("error: ").to_string();
            let rest: Vec<&str> = lines.map(|l| l.trim_start_matches("tip: ")).collect();
            return crate::config::bad_input(if rest.is_empty() {
                first
            } else {
                format!("{first}\nhelp: {}", rest.join("; "))
            });
        }
    };
    let root = cli.root.clone().unwrap_or_else(|| root.to_path_buf());
    match cli.command {
        Command::Synth(args) => synth::run(&root, apps, args),
        Command::Check(args) => check::run(&root, apps, args),
        Command::Checklist(args) => checklist::run(&root, apps, args),
        Command::Bootstrap(args) => bootstrap::run(&root, apps, args),
        Command::Deploy(args) => deploy::run(&root, apps, args),
        Command::Gc(args) => gc::run(&root, apps, args),
        Command::Graph(args) => graph::run(&root, apps, args),
        Command::Media(args) => media::run(&root, apps, args),
        Command::Cost(args) => cost::run(&root, apps, args),
        Command::Diff(args) => diff::run(&root, apps, args),
        Command::Status(args) => status::run(&root, apps, args),
        Command::Destroy(args) => destroy::run(&root, apps, args),
        Command::Adopt(args) => adopt::run(&root, apps, args),
        Command::History(args) => history::run(&root, apps, args),
        Command::Rollback(args) => rollback::run(&root, apps, args),
        Command::Outputs(args) => outputs::run(&root, apps, args),
        Command::Unlock(args) => unlock::run(&root, apps, args),
        Command::Completions(args) => {
            let mut cmd = Cli::command().name(bin);
            // into a buffer, then printed as everything is: a closed pipe ends the run quietly
            let mut script = vec![];
            clap_complete::generate(args.shell, &mut cmd, bin, &mut script);
            crate::ui::say(String::from_utf8_lossy(&script).trim_end());
            Ok(0)
        }
    }
}

/// A command that answers a question by its exit code (`diff`: 0 the same, 1 different) could
/// not answer it: exit 2, as diff(1) does, so the error is never read as an answer.
#[derive(Debug)]
pub(crate) struct Undecided(pub String);

impl std::fmt::Display for Undecided {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The exit code for an error: 2 for bad input or a refused deploy (nothing touched) or a
/// question left undecided, 3 for a deploy that failed and was restored, 1 otherwise.
pub fn exit_code(e: &anyhow::Error) -> u8 {
    use crate::ops::deploy::DeployError;
    if e.downcast_ref::<Undecided>().is_some() {
        return 2;
    }
    for c in e.chain() {
        if c.downcast_ref::<crate::config::ConfigError>().is_some()
            || c.downcast_ref::<crate::config::BadInput>().is_some()
        {
            return 2;
        }
        match c.downcast_ref::<DeployError>() {
            Some(DeployError::Refused(_)) => return 2,
            Some(DeployError::Restored { .. }) => return 3,
            Some(DeployError::Unrestored { .. } | DeployError::Unrecorded { .. }) => return 1,
            None => {}
        }
    }
    1
}

/// The one tokio runtime of the process (two workers: the SDK is I/O bound).
pub(crate) fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?)
}

/// Runs a command's work on the shared runtime, then shuts it down without waiting for a
/// blocking read still pending (a prompt left unanswered by Ctrl-C): the run ends at once.
pub(crate) fn block_on<T>(work: impl std::future::Future<Output = anyhow::Result<T>>) -> anyhow::Result<T> {
    let rt = runtime()?;
    let out = rt.block_on(work);
    rt.shutdown_background();
    out
}

/// The running binary's file name (`castform`, or a team's own), for usage lines and completions.
fn binary_name() -> String {
    std::env::args_os()
        .next()
        .and_then(|a| std::path::Path::new(&a).file_stem().map(|s| s.to_string_lossy().to_string()))
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "castform".into())
}

/// The registry is usable: at least one app, each name once and usable as a folder name.
fn check_registry(apps: Registry) -> anyhow::Result<()> {
    let names = apps.names();
    if names.is_empty() {
        anyhow::bail!("no app is registered\nhelp: pass your apps to castform::run, e.g. castform::run(&[&MyApp])");
    }
    for (i, n) in names.iter().enumerate() {
        let usable = !n.is_empty() && n.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !usable || names[..i].contains(n) {
            anyhow::bail!(
                "app name {n:?} is {}\nhelp: give each Definition a distinct name of lowercase letters, digits and hyphens",
                if usable { "registered twice" } else { "not a folder name" }
            );
        }
    }
    Ok(())
}

/// The app `--app` names, or the registry's first.
pub(crate) fn app_or_default(apps: Registry, app: Option<&str>) -> String {
    app.map(str::to_string).or_else(|| apps.default_app().map(str::to_string)).unwrap_or_default()
}

/// The registered app of that name, or bad input listing the registered ones.
pub(crate) fn registered(apps: Registry, name: &str) -> anyhow::Result<&'static dyn crate::config::AnyApp> {
    match apps.get(name) {
        Some(a) => Ok(a),
        None => {
            crate::config::bad_input(format!("app `{name}` is unknown\nhelp: use one of: {}", apps.names().join(", ")))
        }
    }
}

/// Loads an environment and defines its app.
pub(crate) fn load_app(
    root: &std::path::Path,
    apps: Registry,
    app: Option<&str>,
    env: &str,
) -> anyhow::Result<(crate::config::Environment, crate::template::App)> {
    let env = crate::config::load(root, apps, &app_or_default(apps, app), env)?;
    let defined = crate::ops::adopt::define(&env)?;
    Ok((env, defined))
}

/// `--app`, `ENV` and `--all` into a selection.
pub(crate) fn selection(
    apps: Registry,
    app: Option<String>,
    env: Option<String>,
    all: bool,
) -> anyhow::Result<crate::ops::synth::Selection> {
    use crate::ops::synth::Selection;
    Ok(match (env, all, app) {
        (Some(_), true, _) => {
            return crate::config::bad_input(
                "give an environment or --all, not both\nhelp: castform synth prod, or castform synth --all",
            );
        }
        (Some(env), false, app) => {
            Selection::One { app: registered(apps, &app_or_default(apps, app.as_deref()))?, env }
        }
        (None, true, Some(app)) => Selection::AllOf { app: registered(apps, &app)? },
        (None, true, None) => Selection::Everything(apps),
        (None, false, _) => {
            return crate::config::bad_input(
                "name an environment, e.g. `prod`, or pass --all\nhelp: environments are the files under environments/<app>/",
            );
        }
    })
}

/// The error and its causes, outermost first, each once; `help:` lines kept at the end.
pub fn render_error(e: &anyhow::Error) -> String {
    let mut lines: Vec<String> = vec![];
    let mut help: Vec<String> = vec![];
    for cause in e.chain() {
        for l in cause.to_string().lines() {
            if l.starts_with("help: ") {
                if !help.contains(&l.to_string()) {
                    help.push(l.to_string());
                }
            } else if !lines.iter().any(|x| x.contains(l)) {
                lines.push(l.to_string());
            }
        }
    }
    let mut out = lines.join("\n  caused by: ");
    for h in help {
        out.push('\n');
        out.push_str(&h);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{AnyApp, Definition, Environment};

    struct Named(&'static str);

    impl Definition for Named {
        type Config = ();
        fn name(&self) -> &'static str {
            self.0
        }
        fn define(&self, env: &Environment, _: &()) -> anyhow::Result<crate::template::App> {
            Ok(crate::template::App::new(self.0, &env.name, vec![])?)
        }
    }

    /// A registry the command line cannot use is refused with what to change.
    #[test]
    fn a_registry_needs_distinct_folder_names() {
        static NONE: &[&dyn AnyApp] = &[];
        static TWICE: &[&dyn AnyApp] = &[&Named("shop"), &Named("shop")];
        static UPPER: &[&dyn AnyApp] = &[&Named("Shop")];
        static GOOD: &[&dyn AnyApp] = &[&Named("shop"), &Named("shop-2")];
        let err = |apps| check_registry(Registry::new(apps)).unwrap_err().to_string();
        assert!(err(NONE).contains("no app is registered"), "{}", err(NONE));
        assert!(err(TWICE).starts_with("app name \"shop\" is registered twice"), "{}", err(TWICE));
        assert!(err(UPPER).contains("is not a folder name"), "{}", err(UPPER));
        assert!(check_registry(Registry::new(GOOD)).is_ok());
        assert_eq!(Registry::new(GOOD).default_app(), Some("shop"));
        assert_eq!(app_or_default(Registry::new(GOOD), None), "shop");
        assert!(registered(Registry::new(GOOD), "shoe").unwrap_err().to_string().contains("use one of: shop, shop-2"));
        // an app with no keys of its own: `type Config = ()` reads a file of common keys only
        let text = "app: shop\nname: test\naccount: \"372241484305\"\nregion: eu-west-1\nprefix: shop-test\n";
        let env = crate::config::parse(
            text,
            "environments/shop/test.yaml",
            std::path::Path::new("."),
            &Named("shop"),
            "test",
        )
        .unwrap();
        assert_eq!(env.define().unwrap().app, "shop");
        let extra = format!("{text}memory: 3\n");
        let e = crate::config::parse(
            &extra,
            "environments/shop/test.yaml",
            std::path::Path::new("."),
            &Named("shop"),
            "test",
        )
        .unwrap_err();
        assert_eq!((e.key.as_str(), e.line), ("memory", 6), "{e}");
    }
}
