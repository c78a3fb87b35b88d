//! What an app is to castform: one type implementing [`Definition`] (its name, its typed keys of
//! an environment file, and its stacks), registered with the binary (`castform::run`). The
//! engine knows an app only through this trait and the [`App`] it defines.

use super::Environment;
use crate::template::App;
use serde::de::DeserializeOwned;
use std::any::Any;
use std::fmt;
use std::sync::Arc;

/// An app: a team's system as CloudFormation stacks, one environment at a time.
///
/// ```no_run
/// use castform::config::{Definition, Environment};
/// use castform::template::App;
///
/// struct Catalog;
///
/// #[derive(Debug, Clone, Default, serde::Deserialize)]
/// #[serde(deny_unknown_fields)]
/// struct Config {
///     #[serde(default)]
///     memory_mb: Option<u32>,
/// }
///
/// impl Definition for Catalog {
///     type Config = Config;
///     fn name(&self) -> &'static str {
///         "catalog"
///     }
///     fn define(&self, env: &Environment, config: &Config) -> anyhow::Result<App> {
///         Ok(App::new(self.name(), &env.name, vec![])?)
///     }
/// }
///
/// fn main() -> std::process::ExitCode {
///     castform::run(&[&Catalog])
/// }
/// ```
pub trait Definition: Send + Sync + 'static {
    /// The app's own keys of an environment file, beside the common ones ([`COMMON_KEYS`]):
    /// deserialized from the file with serde, so errors carry its line and column. Mark it
    /// `#[serde(deny_unknown_fields)]` so a misspelt key is refused, not ignored.
    type Config: DeserializeOwned + Clone + fmt::Debug + Send + Sync + 'static;

    /// The app's name: its folder under `environments/`, the value of `--app` and of the
    /// files' `app:` key. Lowercase letters, digits and hyphens.
    fn name(&self) -> &'static str;

    /// Checks what serde cannot (a folder exists, two keys agree), after the file is parsed;
    /// the error's key is located in the file for the message.
    fn validate(&self, env: &Environment, config: &Self::Config) -> Result<(), Invalid> {
        let _ = (env, config);
        Ok(())
    }

    /// The app's stacks for one environment.
    fn define(&self, env: &Environment, config: &Self::Config) -> anyhow::Result<App>;
}

/// The keys every environment file has, whatever its app; the rest of the file is the app's.
pub const COMMON_KEYS: &[&str] = &[
    "app",
    "name",
    "account",
    "region",
    "profile",
    "prefix",
    "retain_data",
    "confirm",
    "tags",
    "retention",
    "adopt",
    "stack_timeout",
];

/// A value of an app's configuration that cannot be used: the dotted key, what is wrong, and
/// what to do. The loader adds the file, line and column.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("`{key}` {message}\nhelp: {help}")]
pub struct Invalid {
    pub key: String,
    pub message: String,
    pub help: String,
}

impl Invalid {
    pub fn new(key: &str, message: impl Into<String>, help: impl Into<String>) -> Self {
        Self { key: key.into(), message: message.into(), help: help.into() }
    }
}

/// A [`Definition`] behind a pointer: what the registry holds. Implemented for every
/// `Definition`; not meant to be implemented by hand.
pub trait AnyApp: Send + Sync {
    /// The app's name ([`Definition::name`]; named apart so that both traits can be in scope).
    fn app_name(&self) -> &'static str;
    /// Deserializes the app's part of an environment file, with the keys its type ignored.
    #[doc(hidden)]
    fn parse_config(&self, text: &str) -> Result<(Arc<dyn Any + Send + Sync>, Vec<String>), serde_yaml::Error>;
    #[doc(hidden)]
    fn validate_any(&self, env: &Environment) -> Result<(), Invalid>;
    #[doc(hidden)]
    fn define_any(&self, env: &Environment) -> anyhow::Result<App>;
    #[doc(hidden)]
    fn debug_config(&self, config: &(dyn Any + Send + Sync)) -> String;
}

impl<D: Definition> AnyApp for D {
    fn app_name(&self) -> &'static str {
        Definition::name(self)
    }

    fn parse_config(&self, text: &str) -> Result<(Arc<dyn Any + Send + Sync>, Vec<String>), serde_yaml::Error> {
        // a file with none of the app's keys is an empty mapping, not an empty document
        let empty = |l: &str| l.trim().is_empty() || l.trim_start().starts_with('#') || l.trim_end() == "---";
        if text.lines().all(empty) {
            // an app with no keys of its own may say so with `type Config = ()`
            let config =
                serde_yaml::from_str::<D::Config>("{}").or_else(|e| serde_yaml::from_str("null").map_err(|_| e))?;
            return Ok((Arc::new(config), vec![]));
        }
        let mut ignored = vec![];
        let config: D::Config = serde_ignored::deserialize(serde_yaml::Deserializer::from_str(text), |path| {
            ignored.push(path.to_string().replace(".?", ""))
        })?;
        Ok((Arc::new(config), ignored))
    }

    fn validate_any(&self, env: &Environment) -> Result<(), Invalid> {
        self.validate(env, config_of::<D>(env)?)
    }

    fn define_any(&self, env: &Environment) -> anyhow::Result<App> {
        let app = self.define(env, config_of::<D>(env)?)?;
        if app.app != Definition::name(self) {
            anyhow::bail!(
                "app `{}` defined an App named `{}`\nhelp: pass the Definition's name to App::new",
                Definition::name(self),
                app.app
            );
        }
        Ok(app)
    }

    fn debug_config(&self, config: &(dyn Any + Send + Sync)) -> String {
        match config.downcast_ref::<D::Config>() {
            Some(c) => format!("{c:?}"),
            None => "(another app's configuration)".into(),
        }
    }
}

/// The environment's configuration as `D`'s type.
fn config_of<D: Definition>(env: &Environment) -> Result<&D::Config, Invalid> {
    env.settings.get::<D::Config>().ok_or_else(|| {
        Invalid::new(
            "app",
            format!("is {:?}, but the configuration was read for another app", env.app),
            "load the environment through the registry that defines it",
        )
    })
}

/// The app an environment belongs to, and its part of the file, parsed.
#[derive(Clone)]
pub struct Settings {
    definition: &'static dyn AnyApp,
    value: Arc<dyn Any + Send + Sync>,
}

impl Settings {
    pub(crate) fn new(definition: &'static dyn AnyApp, value: Arc<dyn Any + Send + Sync>) -> Self {
        Self { definition, value }
    }

    pub fn definition(&self) -> &'static dyn AnyApp {
        self.definition
    }

    /// The configuration, when it is of type `C`.
    pub fn get<C: 'static>(&self) -> Option<&C> {
        self.value.downcast_ref::<C>()
    }

    /// The configuration to change (tests, tools): copied first when shared.
    pub fn get_mut<C: Clone + Send + Sync + 'static>(&mut self) -> Option<&mut C> {
        if Arc::get_mut(&mut self.value).is_none() {
            let copy = self.value.downcast_ref::<C>()?.clone();
            self.value = Arc::new(copy);
        }
        Arc::get_mut(&mut self.value)?.downcast_mut::<C>()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.definition.app_name(), self.definition.debug_config(self.value.as_ref()))
    }
}

/// The apps a binary knows, the first being the default of `--app`.
#[derive(Clone, Copy)]
pub struct Registry(&'static [&'static dyn AnyApp]);

impl Registry {
    pub fn new(apps: &'static [&'static dyn AnyApp]) -> Self {
        Self(apps)
    }

    pub fn get(&self, name: &str) -> Option<&'static dyn AnyApp> {
        self.0.iter().find(|a| a.app_name() == name).copied()
    }

    pub fn names(&self) -> Vec<&'static str> {
        self.0.iter().map(|a| a.app_name()).collect()
    }

    pub fn apps(&self) -> &'static [&'static dyn AnyApp] {
        self.0
    }

    /// The app `--app` names when it is not given: the first registered.
    pub fn default_app(&self) -> Option<&'static str> {
        self.0.first().map(|a| a.app_name())
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.names()).finish()
    }
}

impl fmt::Debug for dyn AnyApp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.app_name())
    }
}
