//! `castform synth`: environments → validated apps → templates and a manifest on disk, written
//! all at once or not at all.

use crate::config::{self, AnyApp, Environment, Registry};
use crate::template::{App, to_yaml};
use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Json,
    Yaml,
}

impl Format {
    pub fn extension(self) -> &'static str {
        match self {
            Self::Json => "json",
            Self::Yaml => "yaml",
        }
    }
}

/// Which environments an operation covers.
#[derive(Debug, Clone)]
pub enum Selection {
    One {
        app: &'static dyn AnyApp,
        env: String,
    },
    /// Every environment of one app.
    AllOf {
        app: &'static dyn AnyApp,
    },
    /// Every environment of every registered app that has environment files.
    Everything(Registry),
}

pub struct SynthOptions {
    pub root: PathBuf,
    pub selection: Selection,
    pub out: PathBuf,
    pub format: Format,
}

/// One synthesized environment.
pub struct Synthesized {
    pub env: Environment,
    pub app: App,
}

/// Every (app, environment) pair the selection names.
pub fn targets(root: &Path, selection: &Selection) -> Vec<(&'static dyn AnyApp, String)> {
    match selection {
        Selection::One { app, env } => vec![(*app, env.clone())],
        Selection::AllOf { app } => {
            config::list_environments(root, app.app_name()).into_iter().map(|e| (*app, e)).collect()
        }
        Selection::Everything(apps) => apps
            .apps()
            .iter()
            .flat_map(|a| config::list_environments(root, a.app_name()).into_iter().map(move |e| (*a, e)))
            .collect(),
    }
}

/// Loads and defines every selected environment; the first error stops everything.
pub fn build(root: &Path, selection: &Selection) -> Result<Vec<Synthesized>> {
    let targets = targets(root, selection);
    if targets.is_empty() {
        return crate::config::bad_input(format!(
            "no environment files found under {}/environments/\nhelp: run castform from the project root, or pass --root",
            root.display()
        ));
    }
    let mut out = vec![];
    for (app, env) in targets {
        let env = config::load_with(root, app, &env)?;
        let defined = crate::ops::adopt::define(&env)
            .with_context(|| format!("{}: the {} app cannot be defined", env.file, env.app))?;
        out.push(Synthesized { env, app: defined });
    }
    Ok(out)
}

/// The files of one synthesized environment: (path relative to the out dir, bytes).
pub fn render_files(s: &Synthesized, format: Format) -> Vec<(PathBuf, String)> {
    let dir = PathBuf::from(&s.app.app).join(&s.app.environment);
    let mut files: Vec<(PathBuf, String)> = s
        .app
        .stacks
        .iter()
        .map(|st| {
            let body = match format {
                Format::Json => st.template.to_json(),
                Format::Yaml => to_yaml(&st.template.to_value()),
            };
            (dir.join(format!("{}.template.{}", st.name, format.extension())), body)
        })
        .collect();
    let manifest = serde_json::to_string_pretty(&s.app.manifest(format.extension())).unwrap_or_default() + "\n";
    files.push((dir.join("manifest.json"), manifest));
    files
}

/// Synthesizes and writes; returns the directories written. Nothing is written when any
/// environment fails.
pub fn run(opts: &SynthOptions) -> Result<Vec<(Synthesized, PathBuf)>> {
    let built = build(&opts.root, &opts.selection)?;
    let mut written = vec![];
    for s in built {
        let files = render_files(&s, opts.format);
        let dir = opts.out.join(&s.app.app).join(&s.app.environment);
        write_dir_atomically(&opts.out, &dir, &files)?;
        written.push((s, dir));
    }
    Ok(written)
}

/// Writes files into a staging directory beside `dir`, then swaps it into place.
fn write_dir_atomically(out: &Path, dir: &Path, files: &[(PathBuf, String)]) -> Result<()> {
    let parent = dir.parent().context("output directory has no parent")?;
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let staging = parent.join(format!(".{}.staging", dir.file_name().unwrap_or_default().to_string_lossy()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
    for (rel, body) in files {
        let name = rel.file_name().context("file without a name")?;
        std::fs::write(staging.join(name), body)
            .with_context(|| format!("cannot write {}", staging.join(name).display()))?;
    }
    let old = parent.join(format!(".{}.old", dir.file_name().unwrap_or_default().to_string_lossy()));
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    std::fs::rename(&staging, dir).with_context(|| format!("cannot move the new templates into {}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    let _ = out;
    Ok(())
}
