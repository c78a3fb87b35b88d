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
    // every folder that would be replaced is castform's, before the first is written
    for s in &built {
        let dir = opts.out.join(&s.app.app).join(&s.app.environment);
        if let Some(entry) = foreign_entry(&dir)? {
            return refuse_foreign(&dir, &entry);
        }
    }
    let mut written = vec![];
    for s in built {
        let files = render_files(&s, opts.format);
        let dir = opts.out.join(&s.app.app).join(&s.app.environment);
        write_dir_atomically(&dir, &files)?;
        written.push((s, dir));
    }
    Ok(written)
}

/// Whether a file name is one synth writes into an environment's folder.
fn written_by_synth(name: &str) -> bool {
    name == "manifest.json" || name.ends_with(".template.json") || name.ends_with(".template.yaml")
}

/// The first entry of an existing `dir` synth did not write (a file of another name, a folder,
/// a link): such a folder is not castform's to replace (issue 36: `--out` or a name pointing at
/// a user's folder replaced it with templates).
fn foreign_entry(dir: &Path) -> Result<Option<String>> {
    let meta = match std::fs::symlink_metadata(dir) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    if !meta.is_dir() {
        return Ok(Some(String::new()));
    }
    for entry in std::fs::read_dir(dir).with_context(|| format!("cannot read {}", dir.display()))? {
        let entry = entry.with_context(|| format!("cannot read {}", dir.display()))?;
        let name = entry.file_name().to_string_lossy().to_string();
        if !entry.file_type().is_ok_and(|t| t.is_file()) || !written_by_synth(&name) {
            return Ok(Some(name));
        }
    }
    Ok(None)
}

fn refuse_foreign<T>(dir: &Path, entry: &str) -> Result<T> {
    let what = if entry.is_empty() { "is not a folder".to_string() } else { format!("holds `{entry}`") };
    crate::config::bad_input(format!(
        "{} {what}, which synth did not write; nothing was replaced\nhelp: choose another --out, or move it away",
        dir.display()
    ))
}

/// Writes files into a staging directory beside `dir`, then swaps it into place. Only a folder
/// synth wrote is replaced; runs into one output folder take turns (a lock file beside the
/// environments' folders), each with its own staging folder, so none loses another's templates.
fn write_dir_atomically(dir: &Path, files: &[(PathBuf, String)]) -> Result<()> {
    let parent = dir.parent().context("output directory has no parent")?;
    let name = dir.file_name().unwrap_or_default().to_string_lossy().to_string();
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let lock_path = parent.join(".synth.lock");
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&lock_path)
        .with_context(|| format!("cannot create {}", lock_path.display()))?;
    lock.lock().with_context(|| format!("cannot lock {}", lock_path.display()))?;
    if let Some(entry) = foreign_entry(dir)? {
        return refuse_foreign(dir, &entry);
    }
    let staging = parent.join(format!(".{name}.staging-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(&staging).with_context(|| format!("cannot create {}", staging.display()))?;
    let written = (|| -> Result<()> {
        for (rel, body) in files {
            let file = rel.file_name().context("file without a name")?;
            write_synced(&staging.join(file), body.as_bytes())
                .with_context(|| format!("cannot write {}", staging.join(file).display()))?;
        }
        Ok(())
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_dir_all(&staging);
        return Err(e);
    }
    let old = parent.join(format!(".{name}.old-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&old);
    if dir.exists() {
        std::fs::rename(dir, &old).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    std::fs::rename(&staging, dir).with_context(|| format!("cannot move the new templates into {}", dir.display()))?;
    let _ = std::fs::remove_dir_all(&old);
    Ok(())
}

/// Writes a file, every byte or an error: a full disk fails the run, never a truncated
/// template behind a success.
fn write_synced(path: &Path, body: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let mut f = std::fs::File::create(path)?;
    f.write_all(body)?;
    f.flush()
}
