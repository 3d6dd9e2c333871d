//! The fast tier: modules that need nothing but this build and the repository's own files
//! (shipped fixtures, hand-written snapshots, generated heaps) — no CPython, gdb, ptrace,
//! network or browser. `cargo test --lib && cargo test --test it fast::` runs them alone.

/// One input, one answer: every command's bytes on repeated runs and with 1 or 2 threads.
mod determinism;
/// Mutated snapshots never panic the loader (property test).
mod fuzz_loader;
/// The graph engine (dominators, shortest paths) against brute force and petgraph.
mod graph_engine;
/// Known-answer graphs (fixtures/graphs/) through the CLI, and graph commands on the
/// shipped captures.
mod graph_fixtures;
/// Forged headers and oversized lines refused in one line, in bounded memory.
mod hostile_inputs;
/// The persistent index answers as the JSON does; built, re-opened, stamped.
mod index;
/// Corrupt and forged indexes are refused or rebuilt, never misread.
mod index_faults;
/// Standard input, pipes, gzip (and gzip bombs), cut files.
mod inputs;
/// The leak-root algorithm on hand-written snapshots with known answers.
mod leak_fixtures;
/// The README's tour, run and compared with its printed output.
mod readme;
/// `summary` of the shipped captures, as reviewed insta snapshots.
mod summary_fixtures;
