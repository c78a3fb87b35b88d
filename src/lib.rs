//! castform: typed Rust definitions of a media-streaming platform's AWS stacks, rendered to
//! CloudFormation per environment and checked against the lessons of its incidents.

pub mod apps;
pub mod aws;
pub mod cfn;
pub mod cli;
pub mod config;
pub mod constructs;
pub mod ops;
pub mod render;
pub mod rules;
pub mod template;
pub mod ui;
