//! pymem's one integration-test binary (samply/inferno style): every module drives the real
//! `pymem` binary or the library against real captures and known-answer fixtures.
//!
//! Two tiers. `fast::` needs only this build (see fast/mod.rs); with `cargo test --lib` it is
//! what a contributor runs while changing analyses. Every other module captures real
//! processes on each supported CPython (3.8-3.15, found under pyenv's versions folder or in
//! `PYMEM_TEST_PYTHONS`), and some need gdb, ptrace rights, Chromium or packages from PyPI
//! installed by `.ci/run` into `target/pydeps/`. `cargo test` runs both, as CI does.

#![allow(clippy::unwrap_used)] // test and benchmark code: a failed unwrap is a failed run

mod common;
mod fast;

/// `advise` against the savings a program measured itself (slots, interning, caches).
mod advise;
/// The agent's per-version facts equal the Rust side's, on every CPython.
mod agent_facts;
/// `caches` on real growing caches (dicts, lru_cache, logging registries).
mod caches;
/// Targets that die, corrupt themselves or fork while pymem reads them.
mod capture_faults;
/// Code objects' contents, held by their fields, on every CPython.
mod code_objects;
/// The committed shell completions match the CLI (and the shell parses them).
mod completions;
/// Bad input from real captures: one line naming the file, exit 2.
mod errors;
/// Memory that objects own outside their block (array, deque, numpy, pandas).
mod external;
/// `pymem run`, signals and `install()` in the field.
mod field;
/// Issue 30's Flask scenario, end to end, from outside.
mod flask_scenario;
/// `frag` on real fragmented heaps.
mod frag;
/// Mutated core files and hostile targets for the capture.
mod fuzz_capture;
/// Names that carry escapes and markup, from a real heap, never reach a terminal live.
mod hostile;
/// The layout tables equal what probe/generate.sh makes from the installed CPythons.
mod layouts;
/// `leaks`, `gate` and `diff` on real leaking programs.
mod leaks;
/// Where cached functions are defined; the lru_cache on a method (B019).
mod method_cache;
/// A real mypy heap (mypyc-compiled).
mod mypy_build;
/// Native leaks (pydantic-core 2.14.5) outside the Python heap.
mod native;
/// `pymem attach` (read from outside) equals the agent inside.
mod outside;
/// `pymem core` equals the live read.
mod postmortem;
/// The pytest plugin fails a leaking test with the leak root.
mod pytest_plugin;
/// Captures checked against ground truth computed inside the process.
mod real_capture;
/// Real third-party heaps (lxml, requests, SQLAlchemy, Django, pydantic, numpy).
mod real_heaps;
/// `pymem report` in a real browser (chromium through the DevTools protocol).
mod report_html;
/// Captures under stress: threads mutating, very long chains, deep nesting.
mod robust;
/// The RSS account and the C-heap finding.
mod rss;
/// `pymem run` of commands on PATH, under their shebang's interpreter.
mod run_command;
/// The agent's safety rules, each proven (no user code, no collections, no imports).
mod safety;
/// Allocation tracebacks (tracemalloc) grouped by site.
mod tracebacks;
/// `pymem watch` snapshots a growing process at its threshold.
mod watch;
/// The wheel installed with pip, pipx and uv on every CPython.
mod wheel;
