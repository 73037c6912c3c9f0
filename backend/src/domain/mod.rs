//! Domain types: plain values with their rules as pure functions — statuses and their legal
//! transitions, target selectors. No I/O: this module imports nothing else of AutoDB, and
//! every layer may use it (the store reads and writes these types in its rows).

pub mod job;
pub mod selector;
pub mod status;

pub use job::{after_script, AfterScript, OnError};
pub use selector::{SelectorError, TargetSelector};
pub use status::{Outcome, Status, Transitions};
