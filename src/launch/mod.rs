//! Taking snapshots: `pymem run` starts a program with the agent armed, `pymem attach`
//! snapshots one that is already running, `pymem core` the heap in a core file.
//!
//! `target` owns what pymem reads about another process from `/proc` (is it there, may we
//! trace it, which CPython, is it stopped); `gdb` owns the one injector that runs code in a
//! target, and the probe that decides, before any target is touched, whether it works on this
//! machine; `attach` puts them together; `read` reads a live process from outside and
//! `postmortem` a core file, both through the capture in `pymem::capture`.

mod attach;
mod cache;
mod gdb;
mod postmortem;
mod read;
mod remote_exec;
mod run;
mod target;

pub use attach::{attach, AttachSpec, Method};
pub use postmortem::{core_file, CoreSpec};
pub use run::{parse_signal, run, RunSpec};

/// A Python string literal (JSON's escapes are valid Python).
fn py_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}
