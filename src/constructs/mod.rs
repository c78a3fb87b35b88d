//! L2: building blocks in the user's words, with safe defaults, each adding what its
//! resources need to work (permissions, log groups, alarms, policies, outputs).

pub mod bucket;
pub mod edge;
pub mod events;
pub mod function;
pub mod iam;
pub mod media;
pub mod realtime;
pub mod site;
pub mod table;
pub mod waf;

#[cfg(test)]
mod tests;

pub use bucket::Bucket;
pub use edge::{KeyValueStore, ViewerFunction};
pub use events::{DeadLetterQueue, ScheduleSpec, Schedules, StartingPosition, StreamConsumer, StreamConsumerProps};
pub use function::{
    Code, DEFAULT_NODE_RUNTIME, EdgeEvent, Function, FunctionProps, FunctionUrl, FunctionUrlProps, Invocation, UrlAuth,
    edge_log_group,
};
pub use iam::{Role, Statement};
pub use media::{HlsChannel, HlsChannelProps, Rung, SrtFlow, SrtFlowProps};
pub use realtime::{UserPool, UserPoolProps, WebSocketApi, WebSocketApiProps};
pub use site::{ApiOrigin, EdgeAssociation, ExtraOrigin, FunctionBehavior, Site, SiteProps, distribution_alarms};
pub use table::{Gsi, KeyType, Table, TableProps};
pub use waf::{RateLimit, RateLimitProps};

use crate::template::{Stack, StackError, TemplateError};
use indexmap::IndexMap;

/// Tags every resource of `stack` with `tags`, except the types whose registry schema makes
/// `Tags` create-only: there a tag change replaces the resource (a MediaPackage v1 channel, whose
/// replacement means new playback URLs for every viewer), so the environment's tags, which
/// change with the environment file, are not worth it.
pub fn tag(stack: &mut Stack, tags: &IndexMap<String, String>) {
    stack.apply_tags(tags, &|t| {
        if tags_replace(t) { crate::template::TagShape::None } else { crate::cfn::tag_shape(t) }
    });
}

/// Whether a change of `Tags` replaces a resource of this type (its schema's createOnlyProperties).
pub fn tags_replace(type_name: &str) -> bool {
    crate::cfn::schema_text(type_name)
        .and_then(|text| serde_json::from_str::<serde_json::Value>(text).ok())
        .is_some_and(|s| {
            s["createOnlyProperties"].as_array().is_some_and(|a| a.iter().any(|p| p == "/properties/Tags"))
        })
}

/// Why a construct refused its settings.
#[derive(Debug, thiserror::Error)]
pub enum ConstructError {
    #[error(transparent)]
    Template(#[from] TemplateError),
    #[error(transparent)]
    Stack(#[from] StackError),
    #[error("{what} {problem}\nhelp: {help}")]
    Invalid { what: String, problem: String, help: String },
}

impl ConstructError {
    pub fn invalid(what: &str, problem: &str, help: &str) -> Self {
        Self::Invalid { what: what.to_string(), problem: problem.to_string(), help: help.to_string() }
    }
}
