//! pymem: a fast, trustworthy offline heap-snapshot analyser for CPython.
//!
//! The library loads snapshots ([`snapshot`]), builds the object graph ([`graph`]), answers
//! questions about it ([`analysis`]) and renders the answers ([`report`]). Only `report`
//! writes text; analyses return data. The capture agent ships inside as [`agent::MODULES`].

pub mod agent;
pub mod analysis;
pub mod capture;
pub mod column;
pub mod error;
pub mod graph;
pub mod index;
pub mod le;
pub mod regular_file;
pub mod remote;
pub mod report;
pub mod snapshot;

pub use error::{Error, Result};
