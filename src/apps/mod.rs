//! The seeds' systems, each one type implementing [`Definition`](crate::config::Definition) with castform's public API
//! only, as a team's own app would: [`Lunora`], [`StreamCanvas`], [`Podcast`].

pub mod lunora;
pub mod podcast;
pub mod streamcanvas;

pub use lunora::Lunora;
pub use podcast::Podcast;
pub use streamcanvas::StreamCanvas;

use crate::config::{AnyApp, Bounded, Environment, Invalid, Origin, Registry};
use crate::constructs::ConstructError;
use crate::template::{StackError, TemplateError};
use serde::Deserialize;
use std::path::PathBuf;

/// A function's environment variables and the statements of its role's policy, as an app grants
/// them.
pub(crate) type Access = (indexmap::IndexMap<String, crate::template::Expr<String>>, Vec<crate::constructs::Statement>);

/// The seed apps, Lunora first (the default of `--app`), as `main.rs` registers them.
pub const SEEDS: &[&dyn AnyApp] = &[&Lunora, &StreamCanvas, &Podcast];

/// A registry of the seed apps (for tests and tools that load their environments).
pub fn seeds() -> Registry {
    Registry::new(SEEDS)
}

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Construct(#[from] ConstructError),
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error("{0}\nhelp: restore the template from the repository, or fix the variable it names")]
    Render(#[from] crate::render::RenderError),
}

/// The `api:` section of an app with one function of its own code.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSection {
    /// Lambda runtime of the function; absent: the Function construct's default, the newest
    /// Node.js runtime.
    #[serde(default)]
    pub runtime: Option<String>,
    #[serde(default)]
    pub memory_mb: Option<Bounded<128, 10240>>,
    #[serde(default)]
    pub timeout_s: Option<Bounded<1, 900>>,
    /// Folder of the function's code, relative to the project root.
    #[serde(default)]
    pub code: Option<String>,
    /// Origins the function's CORS allows besides the site's own.
    #[serde(default)]
    pub cors_origins: Vec<Origin>,
}

/// The `api:` section with its defaults applied.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiSettings {
    pub runtime: Option<String>,
    pub memory_mb: u32,
    pub timeout_s: u32,
    pub code: PathBuf,
    pub cors_origins: Vec<String>,
}

impl ApiSection {
    /// The settings, `default_code` standing for an absent `code`; the runtime is a Node.js one
    /// and the folder exists.
    pub fn settings(&self, env: &Environment, default_code: &str) -> Result<ApiSettings, Invalid> {
        let node_version =
            |r: &str| r.strip_prefix("nodejs").and_then(|r| r.strip_suffix(".x")).and_then(|n| n.parse::<u32>().ok());
        if let Some(r) = self.runtime.as_deref().filter(|r| node_version(r).is_none()) {
            return Err(Invalid::new(
                "api.runtime",
                format!("is {r:?}, expected a Node.js runtime such as nodejs24.x"),
                "the API's code is Node.js; remove the key to use the newest supported runtime",
            ));
        }
        let code = PathBuf::from(self.code.clone().unwrap_or_else(|| default_code.to_string()));
        if let Err(why) = crate::template::folder_inside(&env.root, &code) {
            return Err(Invalid::new(
                "api.code",
                format!("is {:?}: {why}", code.display().to_string()),
                "the function's code is packaged from the project: keep its folder under the project root",
            ));
        }
        if !env.root.join(&code).is_dir() {
            return Err(Invalid::new(
                "api.code",
                format!("is {:?}, a folder that does not exist", code.display().to_string()),
                "point it at the folder holding the API's index.js, relative to the project root",
            ));
        }
        Ok(ApiSettings {
            runtime: self.runtime.clone(),
            memory_mb: self.memory_mb.map_or(256, |m| m.0),
            timeout_s: self.timeout_s.map_or(30, |t| t.0),
            code,
            cors_origins: self.cors_origins.iter().map(|o| o.0.clone()).collect(),
        })
    }
}

#[cfg(test)]
mod tests;
