//! One module per operation; the command layer fills an options struct and calls one of them.

pub mod check;
pub mod checklist;
pub mod synth;
