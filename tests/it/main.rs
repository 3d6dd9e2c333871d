//! pymem's one integration-test binary (samply/inferno style): every module below drives
//! the real `pymem` binary or the library against real captures and known-answer fixtures.

mod advise;
mod caches;
mod code_objects;
mod common;
mod completions;
mod determinism;
mod errors;
mod external;
mod field;
mod frag;
mod fuzz_loader;
mod graph_engine;
mod graph_fixtures;
mod hostile;
mod index;
mod index_faults;
mod inputs;
mod layouts;
mod leak_fixtures;
mod leaks;
mod native;
mod outside;
mod postmortem;
mod pytest_plugin;
mod readme;
mod real_capture;
mod real_heaps;
mod robust;
mod rss;
mod safety;
mod summary_fixtures;
mod tracebacks;
mod watch;
mod wheel;
