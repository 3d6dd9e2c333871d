//! Analyses: one module per question. Each returns plain `Serialize` data and never prints.

pub mod facts;
pub mod inspect;
pub mod paths;
pub mod pypath;
pub mod retention;
pub mod summary;
pub mod top;
