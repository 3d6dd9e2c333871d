//! Finding CPython in a live process: its mappings, the ELF file that holds the interpreter
//! (the executable or a libpython, opened through the process's own root so that a
//! container's files are the ones read) and `_PyRuntime` read from its memory. The one entry
//! for every way pymem reads a live process (`attach`, `watch`, remote execution); a core
//! file finds the same things in its notes (`launch/postmortem.rs`).

use super::binary::{self, PythonBinary};
use super::maps::{self, Mapping};
use super::memory::{LiveProcess, Memory};
use super::runtime::Runtime;
use std::path::PathBuf;

/// The interpreter of a live process, found before anything is stopped.
pub struct LivePython {
    pub pid: u32,
    pub maps: Vec<Mapping>,
    pub binary: PythonBinary,
    pub runtime: Runtime,
    /// The process's memory, read (and for remote execution written) in place.
    pub mem: LiveProcess,
}

/// Why a process's interpreter was not found.
#[derive(Debug)]
pub enum NotFound {
    /// Its mappings or its memory may not be read by this user.
    NotPermitted,
    /// Its mappings could not be read for another reason (it exited meanwhile, say).
    Mappings(std::io::Error),
    /// No mapped file holds an interpreter with `_PyRuntime`.
    NotCPython,
    /// `_PyRuntime` was found but could not be read as one.
    Runtime(String),
}

impl LivePython {
    /// Find the interpreter of `pid`: nothing is stopped, nothing is written.
    pub fn find(pid: u32) -> Result<LivePython, NotFound> {
        let maps = maps::of_process(pid).map_err(|e| match e.kind() {
            std::io::ErrorKind::PermissionDenied => NotFound::NotPermitted,
            _ => NotFound::Mappings(e),
        })?;
        let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
            .ok()
            .map(|p| p.display().to_string());
        let open = |p: &str| {
            let inside = PathBuf::from(format!("/proc/{pid}/root{p}"));
            if inside.exists() {
                inside
            } else {
                p.into()
            }
        };
        let binary =
            binary::locate(&maps, exe.as_deref(), &open).map_err(|_| NotFound::NotCPython)?;
        let runtime_at = *binary
            .symbols
            .get("_PyRuntime")
            .ok_or(NotFound::NotCPython)?;
        let mem = LiveProcess::open(pid);
        if mem.read_u64(runtime_at).is_err() {
            return Err(NotFound::NotPermitted);
        }
        let runtime = Runtime::locate(&mem, &binary).map_err(NotFound::Runtime)?;
        Ok(LivePython {
            pid,
            maps,
            binary,
            runtime,
            mem,
        })
    }
}
