//! Taking snapshots: `pymem run` starts a program with the agent armed, `pymem attach`
//! snapshots one that is already running, `pymem core` the heap in a core file, `pymem watch`
//! a process before it runs out of memory.
//!
//! `target` owns what pymem reads about another process from `/proc` (is it there, may we
//! trace it, which CPython, is it stopped); `gdb` owns the one injector that runs code in a
//! target, and the probe that decides, before any target is touched, whether it works on this
//! machine; `attach` puts them together; `read` reads a live process from outside and
//! `postmortem` a core file, both through the capture in `pymem::capture`; `watch` reads a
//! live process when its RSS crosses a threshold. `signals` turns pymem's own Ctrl-C into a
//! flag, so that no target is left stopped.

mod attach;
mod cache;
mod gdb;
mod postmortem;
mod program;
mod read;
mod remote_exec;
mod run;
mod signals;
mod target;
mod watch;

pub use attach::{attach, AttachSpec, Method};
pub use postmortem::{core_file, CoreSpec};
pub use run::{parse_signal, run, RunSpec};
pub use watch::{watch, WatchSpec};

/// A Python string literal (JSON's escapes are valid Python).
fn py_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}
