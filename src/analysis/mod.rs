//! Analyses: one module per question. Each returns plain `Serialize` data and never prints.

pub mod advise;
pub mod c_heap;
pub mod caches;
pub mod defined;
pub mod diff;
pub mod explore;
pub mod frag;
pub mod frameworks;
pub mod gate;
pub mod growth;
pub mod identity;
pub mod joint;
pub mod leaks;
pub mod method_cache;
pub mod native;
pub mod noise;
pub mod overview;
pub mod path;
pub mod python_path;
pub mod retention;
pub mod rss;
pub mod show;
pub mod sites;
pub mod summary;
pub mod top;
