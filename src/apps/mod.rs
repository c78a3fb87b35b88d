//! The seeds' systems as stacks: `define(env) -> Result<App>` per app.

pub mod lunora;
pub mod podcast;
pub mod streamcanvas;

use crate::config::Environment;
use crate::constructs::ConstructError;
use crate::template::{App, StackError, TemplateError};

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
    #[error(
        "app `{0}` has no stacks defined yet\nhelp: castform builds `lunora` and `streamcanvas` today; see the open issues for the others"
    )]
    NotYetDefined(String),
}

/// The stacks of the environment's app.
pub fn define(env: &Environment) -> Result<App, AppError> {
    match env.app.as_str() {
        "lunora" => lunora::define(env),
        "streamcanvas" => streamcanvas::define(env),
        "podcast" => podcast::define(env),
        other => Err(AppError::NotYetDefined(other.to_string())),
    }
}
