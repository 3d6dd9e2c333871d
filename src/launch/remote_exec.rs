//! CPython 3.14+'s own remote execution (PEP 768), requested from outside: pymem writes a
//! script path into the target's thread states, raises their pending-call flag and trips
//! their eval breaker; the interpreter runs the script at its next safe point, in the first
//! thread to get there. Memory is written, never registers, and nothing is stopped, so this
//! works where a debugger cannot call functions.
//!
//! pymem writes the request itself (rather than running `sys.remote_exec` from a matching
//! interpreter): it needs no Python of the target's exact version on pymem's side, which a
//! container or a service's private build rarely offers, and it uses the same reading of
//! `_PyRuntime` and `_Py_DebugOffsets` as pymem's other ways into a process.

use crate::launch::target;
use pymem::remote::memory::{LiveProcess, Memory};
use pymem::remote::process::LivePython;
use pymem::remote::runtime::Runtime;
use pymem::{Error, Result};
use std::path::Path;

/// The most threads a request is written into (a corrupt list must not loop forever).
const MAX_THREADS: usize = 100_000;

/// A request ready to be sent to every thread of the main interpreter.
pub struct Request {
    mem: LiveProcess,
    /// (thread state address, where its request support struct is)
    threads: Vec<u64>,
    support: u64,
    pending: u64,
    path: u64,
    path_size: u64,
    eval_breaker: u64,
    stop_bit: u64,
    pid: u32,
}

fn need(rt: &Runtime, key: &str) -> Result<u64> {
    rt.debug(key).ok_or_else(|| {
        Error::Target(format!(
            "the target's debug offsets lack {key}: remote execution is not available for CPython {}",
            rt.version
        ))
    })
}

impl Request {
    /// Read what a request needs; refuses (before writing anything) when the target's
    /// interpreter has remote debugging disabled, is free-threaded, or cannot be read.
    pub fn prepare(pid: u32) -> Result<Request> {
        let LivePython {
            runtime: rt, mem, ..
        } = target::find_python(pid)?;
        if rt.free_threaded() == Some(true) {
            return Err(Error::Target(format!(
                "process {pid} runs a free-threaded CPython {}, which pymem does not support yet",
                rt.version
            )));
        }
        let layout = rt.layout.ok_or_else(|| {
            Error::Target(format!(
                "process {pid} runs CPython {}, which pymem has no layout for",
                rt.version
            ))
        })?;
        let stop_bit = layout
            .get("const._PY_EVAL_PLEASE_STOP_BIT")
            .ok_or_else(|| {
                Error::Target(format!(
                    "CPython {} has no remote execution (3.14+ only)",
                    rt.version
                ))
            })?;
        let read = |addr: u64, what: &str| {
            mem.read_u64(addr)
                .map_err(|e| Error::Target(format!("process {pid}: cannot read {what} ({e})")))
        };
        // The main interpreter (id 0): the head of the list is the newest one.
        let mut interp = read(
            rt.addr + need(&rt, "runtime_state.interpreters_head")?,
            "the interpreter list",
        )?;
        let id_off = need(&rt, "interpreter_state.id")?;
        let next_off = need(&rt, "interpreter_state.next")?;
        let mut seen = 0;
        while interp != 0 && read(interp + id_off, "an interpreter id")? != 0 {
            interp = read(interp + next_off, "the interpreter list")?;
            seen += 1;
            if seen > 1000 {
                return Err(Error::Target(format!(
                    "process {pid}: the interpreter list does not end"
                )));
            }
        }
        if interp == 0 {
            return Err(Error::Target(format!(
                "process {pid} has no main interpreter (it is starting up or shutting down)"
            )));
        }
        let enabled = mem
            .read_i32(interp + need(&rt, "debugger_support.remote_debugging_enabled")?)
            .map_err(|e| Error::Target(format!("process {pid}: {e}")))?;
        if enabled != 1 {
            return Err(Error::Target(format!(
                "remote debugging is disabled in process {pid} (PYTHON_DISABLE_REMOTE_DEBUG, -X disable-remote-debug, or a CPython built --without-remote-debug): it was not touched; instead: arm the program itself (pymem_agent.install(signal=signal.SIGUSR2), then kill -USR2 {pid}) or start it under pymem run --signal USR2"
            )));
        }
        let mut threads = Vec::new();
        let mut t = read(
            interp + need(&rt, "interpreter_state.threads_head")?,
            "the thread list",
        )?;
        let tnext = need(&rt, "thread_state.next")?;
        while t != 0 && threads.len() < MAX_THREADS {
            if threads.contains(&t) {
                break;
            }
            threads.push(t);
            t = read(t + tnext, "the thread list")?;
        }
        if threads.is_empty() {
            return Err(Error::Target(format!(
                "process {pid} has no Python thread to run the capture"
            )));
        }
        Ok(Request {
            support: need(&rt, "debugger_support.remote_debugger_support")?,
            pending: need(&rt, "debugger_support.debugger_pending_call")?,
            path: need(&rt, "debugger_support.debugger_script_path")?,
            path_size: need(&rt, "debugger_support.debugger_script_path_size")?,
            eval_breaker: need(&rt, "debugger_support.eval_breaker")?,
            stop_bit,
            threads,
            mem,
            pid,
        })
    }

    /// Ask every thread to run `script`: its path, then the pending flag, then the eval
    /// breaker's stop bit (the order the interpreter reads them in reverse).
    pub fn send(&self, script: &Path) -> Result<()> {
        let mut path = script.display().to_string().into_bytes();
        if path.len() as u64 >= self.path_size {
            return Err(Error::Target(format!(
                "the script path {} is longer than the interpreter accepts ({} bytes)",
                script.display(),
                self.path_size - 1
            )));
        }
        path.push(0);
        let denied = |e: std::io::Error| {
            if e.raw_os_error() == Some(nix::libc::EPERM) {
                Error::Target(format!(
                    "not permitted to write to process {}: {}",
                    self.pid,
                    target::PTRACE_HINT
                ))
            } else {
                Error::Target(format!("cannot write to process {}: {e}", self.pid))
            }
        };
        // The stop bit lives in the eval breaker's low byte: only that byte is rewritten, so
        // that a concurrent change to its other bits (instrumentation version) is not undone.
        let bit = self.stop_bit as u8;
        for &t in &self.threads {
            let support = t + self.support;
            self.mem.write(support + self.path, &path).map_err(denied)?;
            self.mem
                .write(support + self.pending, &1i32.to_le_bytes())
                .map_err(denied)?;
            let mut low = [0u8; 1];
            if self.mem.read(t + self.eval_breaker, &mut low).is_ok() {
                self.mem
                    .write(t + self.eval_breaker, &[low[0] | bit])
                    .map_err(denied)?;
            }
        }
        Ok(())
    }

    /// Withdraw the request from every thread that has not taken it up yet.
    pub fn withdraw(&self) {
        for &t in &self.threads {
            let _ = self
                .mem
                .write(t + self.support + self.pending, &0i32.to_le_bytes());
        }
    }
}
