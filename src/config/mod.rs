//! Environment files (`environments/<app>/<env>.yaml`): parsed strictly, validated, and turned
//! into an [`Environment`] the apps build from. Every error names file, line, column and key.

mod raw;

pub use raw::{ChannelClass, parse_cidr};

use indexmap::IndexMap;
use raw::{HELP, RawEnvironment};
use std::fmt;
use std::path::{Path, PathBuf};

/// The apps castform knows; `lunora` is the default.
pub const APPS: &[&str] = &["lunora", "streamcanvas", "podcast"];
pub const DEFAULT_APP: &str = "lunora";

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

#[derive(Debug, Clone, PartialEq)]
pub struct Rendition {
    pub name: String,
    pub width: u32,
    pub height: u32,
    pub bitrate_kbps: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ApiSettings {
    /// Lambda runtime of the API function; `None` takes the Function construct's default, the
    /// newest Node.js runtime.
    pub runtime: Option<String>,
    pub memory_mb: u32,
    pub timeout_s: u32,
    /// Folder of the API's code, relative to the project root.
    pub code: PathBuf,
    /// Origins the Function URL's CORS allows besides the site's own.
    pub cors_origins: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct MediaSettings {
    pub enabled: bool,
    pub srt_port: u32,
    pub ingest_cidr: String,
    pub ladder: Vec<Rendition>,
    pub channel_class: ChannelClass,
    /// The input's maximum-bitrate tier in Mb/s (10, 20 or 50); default 10.
    pub input_max_mbps: u32,
    /// The flow source's name; default `srt-ingest`.
    pub source_name: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebSettings {
    /// A CloudFront distribution in front of the site bucket.
    pub cdn: bool,
    /// Folder of the site, relative to the project root.
    pub site: PathBuf,
    pub domain: Option<String>,
    pub certificate_arn: Option<String>,
    /// An AWS WAF web ACL on the distribution limiting each IP address's requests to the API.
    pub rate_limit: Option<RateLimit>,
}

/// At most `requests` from one IP address in `window_s` seconds on the API's path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    pub requests: u32,
    pub window_s: u32,
}

/// The podcast app's schedules and storage (seed 004).
#[derive(Debug, Clone, PartialEq)]
pub struct PodcastSettings {
    pub cleanup_schedule: String,
    pub transcode_schedule: String,
    pub flexible_window_minutes: u32,
    pub tiering_after_days: u32,
    /// Regions besides us-east-1 where the edge function's log group is created with its
    /// retention (media review P3); default [`EDGE_LOG_REGIONS`].
    pub edge_log_regions: Vec<String>,
}

/// The regions of CloudFront's regional edge caches besides us-east-1, where Lambda@Edge runs
/// and logs ("Lambda@Edge automatically sends function logs to CloudWatch Logs, creating log
/// streams in the AWS Regions where the functions are invoked":
/// <https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/edge-functions-logs.html>;
/// the region list as Gruntwork's lambda-edge-log-group module keeps it, 2022). A region
/// CloudFront adds later is one line in `podcast.edge_log_regions`.
pub const EDGE_LOG_REGIONS: &[&str] = &[
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "ap-south-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "eu-central-1",
    "eu-west-1",
    "eu-west-2",
    "sa-east-1",
];

impl Default for PodcastSettings {
    fn default() -> Self {
        Self {
            cleanup_schedule: "cron(0 3 * * ? *)".into(),
            transcode_schedule: "rate(1 hour)".into(),
            flexible_window_minutes: 15,
            tiering_after_days: 0,
            edge_log_regions: EDGE_LOG_REGIONS.iter().map(|r| r.to_string()).collect(),
        }
    }
}

/// A validated environment.
#[derive(Debug, Clone, PartialEq)]
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
    pub api: ApiSettings,
    pub media: MediaSettings,
    pub web: WebSettings,
    pub podcast: PodcastSettings,
    /// Existing resources this environment takes into its stacks instead of creating them.
    pub adopt: Vec<Adoption>,
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

/// The Lunora ladder the seeds describe: 1080p, 720p and 480p H.264.
pub fn default_ladder() -> Vec<Rendition> {
    [("1080p", 1920, 1080, 5000), ("720p", 1280, 720, 3000), ("480p", 854, 480, 1200)]
        .into_iter()
        .map(|(n, w, h, b)| Rendition { name: n.into(), width: w, height: h, bitrate_kbps: b })
        .collect()
}

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

/// Reads and validates `environments/<app>/<env>.yaml`.
pub fn load(root: &Path, app: &str, env: &str) -> Result<Environment, ConfigError> {
    let rel = format!("environments/{app}/{env}.yaml");
    if !APPS.contains(&app) {
        return Err(ConfigError {
            file: rel,
            line: 0,
            column: 0,
            key: String::new(),
            message: format!("app `{app}` is unknown"),
            help: format!("use one of: {}", APPS.join(", ")),
        });
    }
    let path = env_path(root, app, env);
    let text = std::fs::read_to_string(&path).map_err(|e| {
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
    parse(&text, &rel, root, app, env)
}

/// Parses and validates the text of an environment file; `file` is only used in messages.
pub fn parse(text: &str, file: &str, root: &Path, app: &str, env: &str) -> Result<Environment, ConfigError> {
    let raw: RawEnvironment = serde_yaml::from_str(text).map_err(|e| yaml_error(&e, text, file))?;
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
    for (k, v) in &raw.tags {
        if k.is_empty() || k.len() > 128 || v.len() > 256 || k.starts_with("aws:") {
            return Err(at(
                &format!("tags.{k}"),
                "is not a valid tag (key 1 to 128 characters, not starting with aws:, value up to 256)".into(),
                "shorten or rename the tag",
            ));
        }
    }
    let api = raw.api.unwrap_or(raw::RawApi {
        runtime: None,
        memory_mb: None,
        timeout_s: None,
        code: None,
        cors_origins: vec![],
    });
    let runtime = api.runtime;
    let node_version =
        |r: &str| r.strip_prefix("nodejs").and_then(|r| r.strip_suffix(".x")).and_then(|n| n.parse::<u32>().ok());
    if let Some(r) = runtime.as_deref().filter(|r| node_version(r).is_none()) {
        return Err(at(
            "api.runtime",
            format!("is {r:?}, expected a Node.js runtime such as nodejs24.x"),
            "the API's code is Node.js; remove the key to use the newest supported runtime",
        ));
    }
    // the apps' own code folders; only Lunora has a media pipeline and a site by default
    let lunora = app == "lunora";
    let default_code = match app {
        "streamcanvas" => "assets/streamcanvas-ws-handler".to_string(),
        _ => format!("assets/{app}-api"),
    };
    // the podcast app's functions have their own folders; it has no API function
    let uses_api = app != "podcast" || api.code.is_some();
    let code = PathBuf::from(api.code.unwrap_or(default_code));
    if uses_api && !root.join(&code).is_dir() {
        return Err(at(
            "api.code",
            format!("is {:?}, a folder that does not exist", code.display().to_string()),
            "point it at the folder holding the API's index.js, relative to the project root",
        ));
    }
    let media = raw.media;
    let media_enabled = media.as_ref().map_or(lunora, |m| m.enabled);
    let ingest_cidr = media.as_ref().and_then(|m| m.ingest_cidr.clone()).map(|c| c.0);
    if media_enabled && ingest_cidr.is_none() {
        return Err(at(
            "media",
            "has no `ingest_cidr`, and the SRT listener must only accept the encoder's address".into(),
            "add media.ingest_cidr (e.g. the encoder's public IP with /32), or set media.enabled: false",
        ));
    }
    // MediaLive's input tiers, billed by the declared maximum (media review L15):
    // https://docs.aws.amazon.com/medialive/latest/ug/pricing.html
    let input_max_mbps = media.as_ref().and_then(|m| m.input_max_mbps).unwrap_or(10);
    if ![10, 20, 50].contains(&input_max_mbps) {
        return Err(at(
            "media.input_max_mbps",
            format!("is {input_max_mbps}, not one of MediaLive's input tiers"),
            "use 10, 20 or 50 (Mb/s): the smallest above what the encoder sends",
        ));
    }
    let web = raw.web;
    if web.as_ref().is_some_and(|w| w.rate_limit.is_some() && !w.cdn) {
        return Err(at(
            "web.rate_limit",
            "is set, but web.cdn is false: the limit is a web ACL on the distribution".into(),
            "set web.cdn: true, or remove web.rate_limit",
        ));
    }
    let has_site = web.is_some() || lunora;
    let site = PathBuf::from(web.as_ref().and_then(|w| w.site.clone()).unwrap_or_else(|| format!("assets/{app}-site")));
    if has_site && !root.join(&site).is_dir() {
        return Err(at(
            "web.site",
            format!("is {:?}, a folder that does not exist", site.display().to_string()),
            "point it at the folder holding the site's index.html, relative to the project root",
        ));
    }
    let domain = web.as_ref().and_then(|w| w.domain.clone());
    let certificate_arn = web.as_ref().and_then(|w| w.certificate_arn.clone());
    if domain.is_some() != certificate_arn.is_some() {
        return Err(at(
            "web",
            "needs both `domain` and `certificate_arn`, or neither".into(),
            "a custom domain needs its ACM certificate in us-east-1",
        ));
    }
    if let Some(arn) = &certificate_arn
        && !arn.starts_with("arn:aws:acm:us-east-1:")
    {
        return Err(at(
            "web.certificate_arn",
            format!("is {arn:?}, expected an ACM certificate ARN in us-east-1"),
            "CloudFront only uses certificates from us-east-1",
        ));
    }
    Ok(Environment {
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
        api: ApiSettings {
            runtime,
            memory_mb: api.memory_mb.map_or(256, |m| m.0),
            timeout_s: api.timeout_s.map_or(30, |t| t.0),
            code,
            cors_origins: api.cors_origins.into_iter().map(|o| o.0).collect(),
        },
        media: MediaSettings {
            enabled: media_enabled,
            srt_port: media.as_ref().and_then(|m| m.srt_port).map_or(9998, |p| p.0),
            ingest_cidr: ingest_cidr.unwrap_or_default(),
            source_name: media.as_ref().and_then(|m| m.source_name.clone()).unwrap_or_else(|| "srt-ingest".into()),
            ladder: media
                .as_ref()
                .and_then(|m| m.ladder.as_ref())
                .map(|l| {
                    l.iter()
                        .map(|r| Rendition {
                            name: r.name.clone(),
                            width: r.width.0,
                            height: r.height.0,
                            bitrate_kbps: r.bitrate_kbps.0,
                        })
                        .collect()
                })
                .unwrap_or_else(default_ladder),
            channel_class: media.as_ref().and_then(|m| m.channel_class).unwrap_or(ChannelClass::SinglePipeline),
            input_max_mbps,
        },
        web: WebSettings {
            cdn: has_site && web.as_ref().is_none_or(|w| w.cdn),
            site,
            domain,
            certificate_arn,
            rate_limit: web
                .as_ref()
                .and_then(|w| w.rate_limit.as_ref())
                .map(|r| RateLimit { requests: r.requests.0, window_s: r.window_s.map_or(300, |w| w.0) }),
        },
        podcast: podcast_settings(app, raw.podcast).map_err(|(k, m, h)| at(&k, m, &h))?,
        adopt: adoptions(text, file, &raw.adopt)?,
    })
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
                "name the stack and the construct's logical id, e.g. `data.Destinations: lunora-destinations`",
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

/// The `podcast` section: only the podcast app takes it.
fn podcast_settings(app: &str, raw: Option<raw::RawPodcast>) -> Result<PodcastSettings, (String, String, String)> {
    let d = PodcastSettings::default();
    let Some(p) = raw else { return Ok(d) };
    if app != "podcast" {
        return Err(("podcast".into(), format!("is a section of the podcast app, not of {app}"), "remove it".into()));
    }
    let edge_log_regions = match p.edge_log_regions {
        None => d.edge_log_regions.clone(),
        Some(list) => {
            let mut seen: Vec<String> = vec![];
            for r in list {
                if r.0 == "us-east-1" || seen.contains(&r.0) {
                    return Err((
                        "podcast.edge_log_regions".into(),
                        format!(
                            "lists {} {}",
                            r.0,
                            if r.0 == "us-east-1" { "(the edge stack's own region)" } else { "twice" }
                        ),
                        "list each other region once: the edge stack already holds us-east-1's log group".into(),
                    ));
                }
                seen.push(r.0);
            }
            seen
        }
    };
    Ok(PodcastSettings {
        edge_log_regions,
        cleanup_schedule: p.cleanup_schedule.map_or(d.cleanup_schedule, |e| e.0),
        transcode_schedule: p.transcode_schedule.map_or(d.transcode_schedule, |e| e.0),
        flexible_window_minutes: p.flexible_window_minutes.map_or(d.flexible_window_minutes, |m| m.0),
        tiering_after_days: p.tiering_after_days.map_or(d.tiering_after_days, |m| m.0),
    })
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
        (
            join(&path, name),
            "is missing".to_string(),
            "add it; see environments/lunora/prod.yaml for a complete file".to_string(),
        )
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
            "fix the value's type; see environments/lunora/prod.yaml for an example".into()
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
