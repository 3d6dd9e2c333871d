//! Analyses: one module per question. Each returns plain `Serialize` data and never prints.

pub mod facts;
pub mod summary;
