//! An environment's state in its bucket: the bucket layout and its local mirror (`store`), the
//! lock (one writer), the ledger (what each run did), the clock (timestamps and deployment ids)
//! and who is running. Every command reads and writes an environment through this module.

pub mod clock;
pub mod ledger;
pub mod lineage;
pub mod lock;
mod store;
mod who;

pub use store::{StateStore, bucket_name, local_path, write_private};
pub use who::{Liveness, git_state, who};
