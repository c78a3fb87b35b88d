//! One module per operation; the command layer fills an options struct and calls one of them.

pub mod adopt;
pub mod bootstrap;
pub mod changeset;
pub mod check;
pub mod checklist;
pub mod cost;
pub mod deploy;
pub mod destroy;
pub mod diff;
pub mod error;
pub mod gc;
pub mod graph;
pub mod history;
pub mod media;
pub mod status;
pub mod synth;
