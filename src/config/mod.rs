//! Environment files (`environments/<app>/<env>.yaml`): parsed strictly, validated, and turned
//! into an [`Environment`] the apps build from. The common keys are castform's; the rest of the
//! file is the app's own, typed by its [`Definition`]. Every error names file, line, column and key.

mod app;
mod raw;

pub use app::{AnyApp, COMMON_KEYS, Definition, Invalid, Registry, Settings};
pub use raw::{Bounded, Cidr, EvaluationWindow, Origin, Region, ScheduleExpression, invalid_value, parse_cidr};

use indexmap::IndexMap;
use raw::{HELP, RawEnvironment};
use std::fmt;
use std::path::{Path, PathBuf};

/// Input a command cannot take (a flag out of range, a file that cannot be read, a combination
/// of arguments): refused before anything is done, exit 2, with the message saying what to fix.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BadInput(pub String);

/// `Err(BadInput(message))` as an `anyhow::Error`, for `?` and `return`.
pub fn bad_input<T>(message: impl Into<String>) -> anyhow::Result<T> {
    Err(BadInput(message.into()).into())
}

/// A configuration error: where, which key, what was found and expected, and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub key: String,
    pub message: String,
    pub help: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        } else {
            write!(f, "{}: ", self.file)?;
        }
        if self.key.is_empty() {
            write!(f, "{}", self.message)?;
        } else {
            write!(f, "`{}` {}", self.key, self.message)?;
        }
        if !self.help.is_empty() {
            write!(f, "\nhelp: {}", self.help)?;
        }
        Ok(())
    }
}

/// A validated environment.
#[derive(Debug, Clone)]
pub struct Environment {
    pub app: String,
    pub name: String,
    /// The file it came from, relative to the project root.
    pub file: String,
    /// The project root all relative paths are resolved from.
    pub root: PathBuf,
    pub account: String,
    pub region: String,
    pub profile: Option<String>,
    pub prefix: String,
    pub retain_data: bool,
    pub confirm: bool,
    pub tags: IndexMap<String, String>,
    /// How many deployments' backups and assets are kept.
    pub retention: u32,
    /// Existing resources this environment takes into its stacks instead of creating them.
    pub adopt: Vec<Adoption>,
    /// How long one stack operation may run before castform cancels it (`stack_timeout`).
    pub stack_timeout: std::time::Duration,
    /// The app's own keys, parsed into its configuration type.
    pub settings: Settings,
}

impl Environment {
    /// The app's stacks for this environment (its `Definition::define`).
    pub fn define(&self) -> anyhow::Result<crate::template::App> {
        self.settings.definition().define_any(self)
    }

    /// The app's configuration as its type `C` (`None` for another app's type).
    pub fn config<C: 'static>(&self) -> Option<&C> {
        self.settings.get::<C>()
    }

    /// The app's configuration to change, as its type `C` (tests, tools).
    pub fn config_mut<C: Clone + Send + Sync + 'static>(&mut self) -> Option<&mut C> {
        self.settings.get_mut::<C>()
    }

    /// A stack of this environment: named `<prefix>-<name>`, in its region, keeping data where
    /// the environment does (`retain_data`).
    pub fn stack(&self, name: &str, description: &str) -> crate::template::Stack {
        crate::template::Stack::new(&self.prefix, name, &self.region, self.retain_data, description)
    }
}

/// One `adopt:` line: the construct `<stack>.<logical_id>` is the existing resource `identifier`.
#[derive(Debug, Clone, PartialEq)]
pub struct Adoption {
    pub stack: String,
    pub logical_id: String,
    pub identifier: String,
    /// where the line is, for messages: `file:line:column`
    pub at: String,
}

/// `stack_timeout` when the file has none: the hour castform always waited.
pub const DEFAULT_STACK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3600);

/// `environments/<app>/<env>.yaml` under `root`.
pub fn env_path(root: &Path, app: &str, env: &str) -> PathBuf {
    root.join("environments").join(app).join(format!("{env}.yaml"))
}

/// The environment names of an app, sorted.
pub fn list_environments(root: &Path, app: &str) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(root.join("environments").join(app))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.strip_suffix(".yaml").map(str::to_string))
        .collect();
    out.sort();
    out
}

/// Reads and validates `environments/<app>/<env>.yaml` of an app the registry knows.
pub fn load(root: &Path, apps: Registry, app: &str, env: &str) -> Result<Environment, ConfigError> {
    check_name(app, env)?;
    match apps.get(app) {
        Some(definition) => load_with(root, definition, env),
        None => Err(ConfigError {
            file: format!("environments/{app}/{env}.yaml"),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("app `{app}` is unknown"),
            help: format!("use one of: {}", apps.names().join(", ")),
        }),
    }
}

/// The longest environment name: it is a file name, a folder under `out/` and `.castform/`, and
/// part of the state bucket's keys.
pub const MAX_NAME_LEN: usize = 64;

/// Whether `name` can name an environment: 1 to [`MAX_NAME_LEN`] ASCII letters, digits, `-` and
/// `_`, starting with a letter or digit. An environment's name becomes a path
/// (`environments/<app>/<env>.yaml`, `out/<app>/<env>/`, `.castform/backups/<app>/<env>/`), so
/// `..`, `/` and the like would reach folders castform does not own (issue 36).
pub fn is_name(name: &str) -> bool {
    name.len() <= MAX_NAME_LEN
        && name.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The environment name a command was given, refused unless [`is_name`] holds: before any file
/// is read or written.
pub fn check_name(app: &str, env: &str) -> Result<(), ConfigError> {
    if is_name(env) {
        return Ok(());
    }
    Err(ConfigError {
        file: format!("environments/{app}/"),
        line: 0,
        column: 0,
        key: String::new(),
        message: format!(
            "{:?} is not an environment name: expected 1 to {MAX_NAME_LEN} letters, digits, `-` and `_`, starting with a letter or digit",
            env
        ),
        help: format!("name an environment by its file under environments/{app}/, e.g. `prod` for prod.yaml"),
    })
}

/// The most `tags:` an environment may have: CloudFormation takes at most 50 tags on a stack
/// ("CreateStack", Tags: "Maximum number of 50 items",
/// <https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStack.html>) and
/// propagates them to its resources, and castform adds two of its own (`castform:app`,
/// `castform:environment`).
pub const MAX_TAGS: usize = 48;

/// The largest environment file castform reads: the shipped ones are under 4 KiB.
pub const MAX_FILE_BYTES: u64 = 1 << 20;

/// A file castform reads as input, refused unless it is a regular file (not a FIFO, a device
/// such as `/dev/zero`, or a folder) of at most `limit` bytes: a read never blocks or grows
/// without end (issue 36).
pub fn read_input(path: &Path, limit: u64) -> std::io::Result<String> {
    use std::io::{Error, ErrorKind, Read};
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(Error::new(ErrorKind::InvalidInput, "it is not a regular file (a folder, a FIFO or a device)"));
    }
    let mut text = String::new();
    std::fs::File::open(path)?.take(limit + 1).read_to_string(&mut text)?;
    if text.len() as u64 > limit {
        return Err(Error::new(ErrorKind::InvalidInput, format!("it is larger than {limit} bytes")));
    }
    Ok(text)
}

/// Reads and validates `environments/<app>/<env>.yaml` of one app.
pub fn load_with(root: &Path, definition: &'static dyn AnyApp, env: &str) -> Result<Environment, ConfigError> {
    let app = definition.app_name();
    check_name(app, env)?;
    let rel = format!("environments/{app}/{env}.yaml");
    let path = env_path(root, app, env);
    let text = read_input(&path, MAX_FILE_BYTES).map_err(|e| {
        let known = list_environments(root, app);
        ConfigError {
            file: rel.clone(),
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("cannot read the environment file: {e}"),
            help: if known.is_empty() {
                format!("create {rel}, or run castform from the project root")
            } else {
                format!("environments of {app}: {}", known.join(", "))
            },
        }
    })?;
    parse(&text, &rel, root, definition, env)
}

/// The text of a block-style YAML mapping split in two with every line kept in place: the
/// common keys' lines, and the app's (the other part's lines blank), so each part is parsed on
/// its own with the line and column of the whole file in its errors.
fn split_common(text: &str) -> (String, String) {
    let mut common = String::new();
    let mut own = String::new();
    // lines before the first key (comments, `---`) go to both; a key's block runs to the next
    // line that starts in column one
    let mut in_common: Option<bool> = None;
    for line in text.lines() {
        let starts_key = !line.starts_with([' ', '\t', '#', '-']) && !line.trim().is_empty();
        if starts_key {
            let key = line.split(':').next().unwrap_or_default().trim().trim_matches(|c| c == '"' || c == '\'');
            in_common = Some(COMMON_KEYS.contains(&key));
        }
        let (to_common, to_own) = match in_common {
            None => (true, true),
            Some(c) => (c, !c),
        };
        common.push_str(if to_common { line } else { "" });
        common.push('\n');
        own.push_str(if to_own { line } else { "" });
        own.push('\n');
    }
    (common, own)
}

/// Parses and validates the text of an environment file; `file` is only used in messages.
pub fn parse(
    text: &str,
    file: &str,
    root: &Path,
    definition: &'static dyn AnyApp,
    env: &str,
) -> Result<Environment, ConfigError> {
    let app = definition.app_name();
    let (common_text, own_text) = split_common(text);
    // the app's part first: a misspelt common key is unknown there, and that says more than
    // the common key it leaves missing
    let own_config = definition.parse_config(&own_text).map_err(|e| {
        let mut err = yaml_error(&e, text, file);
        // a key the app does not know may be a misspelt common one
        if !err.key.contains('.') && err.message == "is not a known key" {
            let common: Vec<String> = COMMON_KEYS.iter().map(|k| format!("`{k}`")).collect();
            err.help = format!(
                "remove it, or use one of: {}, {}",
                common.join(", "),
                err.help.replace("remove it, or use one of: ", "")
            );
        }
        err
    });
    let raw: RawEnvironment = match serde_yaml::from_str(&common_text) {
        Ok(raw) => raw,
        Err(e) => {
            let err = yaml_error(&e, text, file);
            return Err(match &own_config {
                Err(unknown) if err.message == "is missing" && unknown.message == "is not a known key" => {
                    unknown.clone()
                }
                _ => err,
            });
        }
    };
    let at = |key: &str, message: String, help: &str| {
        let (line, column) = locate(text, key);
        ConfigError { file: file.into(), line, column, key: key.into(), message, help: help.into() }
    };
    if raw.app != app {
        return Err(at(
            "app",
            format!("is {:?}, but the file is in environments/{app}/", raw.app),
            "move the file or correct the key",
        ));
    }
    if raw.name != env {
        return Err(at(
            "name",
            format!("is {:?}, but the file is {env}.yaml", raw.name),
            "the name must match the file name",
        ));
    }
    check_tags(&raw.tags, &at)?;
    let (config, ignored) = own_config?;
    // a key the app's type would skip (it does not deny unknown fields) is refused all the same
    if let Some(key) = ignored.first() {
        return Err(at(
            key,
            format!("is not a key the {app} app reads"),
            "remove it, or correct its spelling (see the other files beside this one)",
        ));
    }
    let environment = Environment {
        app: raw.app,
        name: raw.name,
        file: file.to_string(),
        root: root.to_path_buf(),
        account: raw.account.0,
        region: raw.region.0,
        profile: raw.profile,
        prefix: raw.prefix.0,
        retain_data: raw.retain_data,
        confirm: raw.confirm,
        tags: raw.tags,
        retention: raw.retention.map_or(10, |r| r.0),
        adopt: adoptions(text, file, &raw.adopt)?,
        stack_timeout: raw.stack_timeout.map_or(DEFAULT_STACK_TIMEOUT, |t| t.0),
        settings: Settings::new(definition, config),
    };
    definition.validate_any(&environment).map_err(|e| at(&e.key, e.message, &e.help))?;
    Ok(environment)
}

/// `tags:` as AWS takes them: at most [`MAX_TAGS`], each key 1 to 128 characters not starting
/// with `aws:`, each value up to 256.
fn check_tags(
    tags: &IndexMap<String, String>,
    at: &dyn Fn(&str, String, &str) -> ConfigError,
) -> Result<(), ConfigError> {
    if tags.len() > MAX_TAGS {
        return Err(at(
            "tags",
            format!(
                "has {} tags; AWS takes at most 50 on a stack and on a resource, and castform adds 2 (castform:app, castform:environment)",
                tags.len()
            ),
            &format!("keep at most {MAX_TAGS} tags"),
        ));
    }
    for (k, v) in tags {
        if k.is_empty() || k.len() > 128 || v.len() > 256 || k.starts_with("aws:") {
            return Err(at(
                &format!("tags.{k}"),
                "is not a valid tag (key 1 to 128 characters, not starting with aws:, value up to 256)".into(),
                "shorten or rename the tag",
            ));
        }
    }
    Ok(())
}

/// The `adopt:` section: each key `<stack>.<LogicalId>`, each identifier non-empty. Whether the
/// stack, the resource and its type can be adopted is known once the app is defined (ops::adopt).
fn adoptions(text: &str, file: &str, raw: &IndexMap<String, String>) -> Result<Vec<Adoption>, ConfigError> {
    let mut out = vec![];
    for (key, identifier) in raw {
        let (line, column) = locate_adopt(text, key);
        let err = |message: String, help: &str| ConfigError {
            file: file.into(),
            line,
            column,
            key: format!("adopt.{key}"),
            message,
            help: help.into(),
        };
        let Some((stack, logical_id)) = key.split_once('.') else {
            return Err(err(
                "is not `<stack>.<LogicalId>`".into(),
                "name the stack and the construct's logical id, e.g. `data.Orders: orders-prod`",
            ));
        };
        let valid = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid(stack) || !valid(logical_id) || logical_id.contains('-') {
            return Err(err(
                "is not `<stack>.<LogicalId>`".into(),
                "a stack name and an alphanumeric logical id, e.g. `data.Destinations`",
            ));
        }
        if identifier.trim().is_empty() {
            return Err(err("has no identifier".into(), "give the existing resource's name or ARN"));
        }
        out.push(Adoption {
            stack: stack.into(),
            logical_id: logical_id.into(),
            identifier: identifier.trim().into(),
            at: format!("{file}:{line}:{column}"),
        });
    }
    Ok(out)
}

/// Line and column of `key:` inside the `adopt:` section (keys there contain a dot).
fn locate_adopt(text: &str, key: &str) -> (usize, usize) {
    let mut inside = false;
    for (i, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if line.starts_with("adopt:") {
            inside = true;
            continue;
        }
        if inside && !line.starts_with(' ') && !t.is_empty() && !t.starts_with('#') {
            break;
        }
        let k = t.split(':').next().unwrap_or_default().trim().trim_matches(|c| c == '"' || c == '\'');
        if inside && k == key {
            return (i + 1, line.len() - t.len() + 1);
        }
    }
    locate(text, "adopt")
}

/// Turns a serde_yaml error into ours, naming the full key.
fn yaml_error(e: &serde_yaml::Error, text: &str, file: &str) -> ConfigError {
    let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    let full = e.to_string();
    let full = match full.rfind(" at line ") {
        Some(i) => full[..i].to_string(),
        None => full,
    };
    // "path.to: message" or "message"
    let (path, message) = match full.split_once(": ") {
        Some((p, m)) if !p.contains(' ') && !p.is_empty() => (p.to_string(), m.to_string()),
        _ => (String::new(), full.clone()),
    };
    let (message, help) = match message.split_once(HELP) {
        Some((m, h)) => (m.to_string(), h.to_string()),
        None => (message, String::new()),
    };
    let join = |a: &str, b: &str| {
        if a.is_empty() || a == "." { b.to_string() } else { format!("{a}.{b}") }
    };
    let (key, message, help) = if let Some(rest) = message.strip_prefix("unknown field `") {
        let name = rest.split('`').next().unwrap_or_default();
        let expected = rest.split_once(", expected ").map(|(_, e)| e.to_string()).unwrap_or_default();
        (
            join(&path, name),
            "is not a known key".to_string(),
            format!("remove it, or use one of: {}", expected.replace("one of ", "")),
        )
    } else if let Some(rest) = message.strip_prefix("missing field `") {
        let name = rest.split('`').next().unwrap_or_default();
        (join(&path, name), "is missing".to_string(), format!("add it; the other files beside {file} show it"))
    } else if !help.is_empty() {
        // a value type refused itself: serde_yaml points at the enclosing map, so find the key
        // whose value is the one the message quotes
        let found = message.strip_prefix("is ").and_then(|m| m.split(", expected").next()).unwrap_or_default();
        let found = found.trim_matches('"');
        match key_with_value(text, line, column, found) {
            Some((k, l, c)) => {
                return ConfigError { file: file.into(), line: l, column: c, key: join(&path, &k), message, help };
            }
            None => (path.clone(), message, help),
        }
    } else {
        let key_here = key_at(text, line, column);
        let key = match key_here {
            Some(k) if !path.ends_with(&k) => join(&path, &k),
            _ => path.clone(),
        };
        let help = if help.is_empty() {
            format!("fix the value's type; the other files beside {file} show one")
        } else {
            help
        };
        (key, message, help)
    };
    ConfigError { file: file.into(), line, column, key, message, help }
}

/// The key written at `line:column` (1-based), if a `key:` starts there.
fn key_at(text: &str, line: usize, column: usize) -> Option<String> {
    let l = text.lines().nth(line.checked_sub(1)?)?;
    let rest = l.get(column.checked_sub(1)?..)?;
    let rest = rest.strip_prefix("- ").unwrap_or(rest);
    let (k, _) = rest.split_once(':')?;
    let k = k.trim();
    (!k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')).then(|| k.to_string())
}

/// The first `key: value` at or after `line` with indentation `column - 1` whose value is
/// `value`, as (key, line, column).
fn key_with_value(text: &str, line: usize, column: usize, value: &str) -> Option<(String, usize, usize)> {
    let indent = column.checked_sub(1)?;
    for (i, l) in text.lines().enumerate().skip(line.checked_sub(1)?) {
        let this = l.len() - l.trim_start().len();
        if !l.trim().is_empty() && this < indent {
            break;
        }
        if this != indent {
            continue;
        }
        if let Some((k, v)) = l.trim_start().split_once(':') {
            let v = v.split(" #").next().unwrap_or_default().trim().trim_matches(|c| c == '"' || c == '\'');
            if v == value {
                return Some((k.trim().to_string(), i + 1, indent + 1));
            }
        }
    }
    None
}

/// Line and column (1-based) of a dotted key in block-style YAML, or (1, 1) when absent.
fn locate(text: &str, dotted: &str) -> (usize, usize) {
    let parts: Vec<&str> = dotted.split('.').collect();
    let mut depth = 0;
    let mut min_indent = 0;
    let mut found = (1, 1);
    for (i, line) in text.lines().enumerate() {
        let indent = line.len() - line.trim_start().len();
        let t = line.trim_start();
        if t.starts_with('#') || t.is_empty() {
            continue;
        }
        if depth > 0 && indent < min_indent {
            break;
        }
        if let Some(k) = t.split(':').next()
            && k.trim() == parts[depth]
            && indent >= min_indent
        {
            found = (i + 1, indent + 1);
            depth += 1;
            min_indent = indent + 1;
            if depth == parts.len() {
                return found;
            }
        }
    }
    found
}

#[cfg(test)]
mod tests;
