//! `pymem attach PID`: a snapshot of a CPython process that is already running, which goes on
//! running.
//!
//! The agent is injected and runs inside the target, at a safe point between bytecodes:
//! on 3.14+ through the interpreter's own remote execution (PEP 768, [`super::remote_exec`]),
//! on 3.8–3.13 through gdb queueing a pending call ([`super::gdb`]). Each step can refuse
//! before the next touches anything: the process exists and runs a supported CPython; no
//! other tracer holds it; the injector works here (gdb can call functions on this machine;
//! remote debugging is enabled in the target). The target then writes the snapshot and a
//! status file, which pymem waits for. Every way out — success, refusal, timeout, an
//! injector's error, Ctrl-C or SIGTERM of pymem — leaves the target running and cancels a
//! capture not yet begun.

#![allow(clippy::disallowed_macros)] // part of the binary: it writes

use super::gdb::{self, Ended, Gdb, Refusal};
use super::remote_exec;
use super::signals::StopOnSignals;
use super::{py_str, target};
use pymem::{Error, Result};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// How `pymem attach` takes the snapshot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// Read the process's memory from outside (no code runs in it).
    Read,
    /// Run the agent inside it.
    Inject,
}

/// What `pymem attach` was asked for.
pub struct AttachSpec {
    pub pid: u32,
    pub method: Method,
    pub out: Option<PathBuf>,
    pub values: bool,
    pub timeout: Duration,
    /// The gdb to inject with (default: `gdb` on PATH).
    pub gdb: Option<PathBuf>,
}

/// What to do instead when pymem cannot inject into a running process.
const ALTERNATIVES: &str = "arm the program itself (pymem_agent.install(signal=signal.SIGUSR2), then kill -USR2 PID) or start it under pymem run --signal USR2";

/// How the agent gets into the target.
enum Injector {
    Gdb(Gdb),
    RemoteExec(remote_exec::Request),
}

pub fn attach(spec: AttachSpec) -> Result<i32> {
    let pid = spec.pid;
    target::require_exists(pid)?;
    if spec.method == Method::Read {
        let out = absolute(
            spec.out
                .unwrap_or_else(|| PathBuf::from(format!("pymem-{pid}-attach.jsonl"))),
        )?;
        return super::read::attach(pid, &out, spec.values, spec.timeout);
    }
    let (major, minor) = target::python_minor(pid)?.ok_or_else(|| {
        Error::Target(format!(
            "process {pid} is not a CPython process (no python3.X executable or libpython mapped)"
        ))
    })?;
    if major != 3 || !pymem::capture::facts::SUPPORTED_MINORS.contains(&minor) {
        let supported = pymem::capture::facts::supported_range();
        return Err(Error::Target(format!(
            "process {pid} runs CPython {major}.{minor}: pymem attach supports {supported}"
        )));
    }
    if let Some(tracer) = target::tracer_of(pid) {
        return Err(Error::Target(format!(
            "process {pid} is already traced by process {tracer} (a debugger?): detach it first; process {pid} was not touched"
        )));
    }
    let injector = if minor >= 14 {
        Injector::RemoteExec(remote_exec::Request::prepare(pid)?)
    } else {
        Injector::Gdb(usable_gdb(spec.gdb.as_deref(), pid)?)
    };
    let out = absolute(
        spec.out
            .unwrap_or_else(|| PathBuf::from(format!("pymem-{pid}-attach.jsonl"))),
    )?;
    let stop = StopOnSignals::install()?;
    let deadline = Instant::now() + spec.timeout;
    let work = Workdir::prepare(&out, spec.values)?;
    let result = match &injector {
        Injector::Gdb(gdb) => queue_with_gdb(gdb, pid, &work, deadline, &stop.flag, spec.timeout),
        Injector::RemoteExec(request) => request.send(&work.queued),
    }
    .and_then(|()| wait_for_capture(pid, &work, deadline, &stop.flag, spec.timeout));
    // Nothing may run the capture after this: a request not yet taken up is withdrawn,
    // and the claim is taken so that one already taken up does nothing.
    if let Injector::RemoteExec(request) = &injector {
        request.withdraw();
    }
    work.claim();
    target::resume_if_stopped(pid);
    let objects = result?;
    note!(
        "wrote {} ({objects} objects, CPython {major}.{minor}, pid {pid})",
        out.display()
    );
    crate::app::index_new_snapshot(&out);
    Ok(0)
}

/// gdb, once it is known to be able to call functions in a process on this machine.
fn usable_gdb(explicit: Option<&Path>, pid: u32) -> Result<Gdb> {
    let gdb = Gdb::find(explicit)?;
    match gdb.check_calls() {
        Ok(()) => Ok(gdb),
        Err(Refusal::CannotCall(why)) => Err(Error::Target(format!(
            "gdb cannot call functions in a process on this machine ({why}), so pymem does not inject into process {pid}, which was not touched; instead: {}",
            ALTERNATIVES.replace("PID", &pid.to_string())
        ))),
        Err(Refusal::NotPermitted) => Err(Error::Target(format!(
            "not permitted to trace process {pid}: {}",
            target::PTRACE_HINT
        ))),
    }
}

fn absolute(path: PathBuf) -> Result<PathBuf> {
    if path.is_absolute() {
        return Ok(path);
    }
    Ok(std::env::current_dir()
        .map_err(|e| Error::System(format!("no current directory: {e}")))?
        .join(path))
}

/// Queue the capture with gdb as a pending call.
fn queue_with_gdb(
    gdb: &Gdb,
    pid: u32,
    work: &Workdir,
    deadline: Instant,
    stop: &AtomicBool,
    timeout: Duration,
) -> Result<()> {
    let queue = work.dir.path().join("queue.gdb");
    std::fs::write(&queue, work.gdb_commands()).map_err(|e| Error::Io {
        path: queue.clone(),
        source: e,
    })?;
    let queue_arg = queue.display().to_string();
    let ended = gdb.run(pid, &["-x", &queue_arg, "-ex", "detach"], deadline, stop)?;
    let text = match ended {
        Ended::Finished(text) => text,
        Ended::GaveUp {
            interrupted,
            output,
        } => {
            return Err(Error::Target(format!(
                "{} while gdb was queueing the capture in process {pid}; the process was left running{}",
                gave_up_reason(interrupted, timeout),
                gdb::said(&output)
            )))
        }
    };
    if text.contains("ptrace: Operation not permitted") {
        return Err(Error::Target(format!(
            "not permitted to trace process {pid}: {}",
            target::PTRACE_HINT
        )));
    }
    if text.contains("No symbol \"Py_AddPendingCall\"")
        || text.contains("No symbol \"PyRun_SimpleString\"")
    {
        return Err(Error::Target(format!(
            "process {pid} does not export the CPython C API symbols gdb needs (Py_AddPendingCall, PyRun_SimpleString): not a CPython process, or a stripped static build; it was left running"
        )));
    }
    if !text
        .lines()
        .any(|l| l.starts_with('$') && l.trim_end().ends_with(" = 0"))
    {
        return Err(Error::Target(format!(
            "gdb could not queue the capture in process {pid}; the process was left running{}",
            gdb::said(&text)
        )));
    }
    Ok(())
}

/// Wait for the target to run the queued capture and report on it; the number of objects.
fn wait_for_capture(
    pid: u32,
    work: &Workdir,
    deadline: Instant,
    stop: &AtomicBool,
    timeout: Duration,
) -> Result<String> {
    loop {
        let status = std::fs::read_to_string(&work.status).unwrap_or_default();
        if let Some(n) = status.strip_prefix("ok ") {
            return Ok(n.trim().to_string());
        }
        if let Some(why) = status.strip_prefix("error ") {
            return Err(Error::Target(format!(
                "the capture inside process {pid} failed: {}",
                why.trim()
            )));
        }
        if !target::alive(pid) {
            return Err(Error::Target(format!(
                "process {pid} exited before the capture finished"
            )));
        }
        let interrupted = stop.load(Ordering::SeqCst);
        if interrupted || Instant::now() >= deadline {
            let what = gave_up_reason(interrupted, timeout);
            return Err(Error::Target(if !work.claim() {
                format!(
                    "{what}: process {pid} is still writing its snapshot and will finish it ({}); it was left running",
                    work.out.display()
                )
            } else {
                format!(
                    "{what} waiting for process {pid} to run the capture; the queued capture was cancelled and the process left running (queued code runs only between bytecodes: a process whose threads are all blocked in C or on a lock never gets there)"
                )
            }));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn gave_up_reason(interrupted: bool, timeout: Duration) -> String {
    if interrupted {
        "interrupted".to_string()
    } else {
        format!("timed out after {} s", timeout.as_secs())
    }
}

/// The directory the target reads the agent from and writes its status into.
///
/// The capture runs at most once: whoever first creates the claim file — the target about
/// to capture, or pymem giving up — decides. Dropping this removes the directory, after a
/// moment in which a request the target had just taken up finds the claim and does nothing.
struct Workdir {
    dir: tempfile::TempDir,
    status: PathBuf,
    script: PathBuf,
    /// The one-statement text the injector queues (also as a file, for remote execution).
    queued: PathBuf,
    claim: PathBuf,
    agent: PathBuf,
    out: PathBuf,
}

impl Workdir {
    fn prepare(out: &Path, values: bool) -> Result<Workdir> {
        let dir = tempfile::Builder::new()
            .prefix("pymem-attach-")
            .tempdir()
            .map_err(|e| Error::System(format!("cannot make a temporary directory: {e}")))?;
        // The target may run as another user: it must read the agent and write its status.
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o777));
        let agent = pymem::agent::write_single_file(dir.path())?;
        let status = dir.path().join("status");
        let script = dir.path().join("attach.py");
        let queued = dir.path().join("queued.py");
        let claim = dir.path().join("claim");
        // The agent is loaded as a module object of its own, never entered in sys.modules,
        // and the target's sys.path is not changed: after the capture, nothing of pymem is
        // left in the process but garbage for its collector.
        let text = format!(
            "import os\n\
             import sys\n\
             try:\n    os.close(os.open({claim}, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))\n    claimed = True\n\
             except OSError:\n    claimed = False\n\
             if claimed:\n\
             \x20   with open({status}, 'w') as f:\n        f.write('started')\n\
             \x20   agent = type(sys)('pymem_agent')\n\
             \x20   agent.__file__ = {agent}\n\
             \x20   with open({agent}) as f:\n        source = f.read()\n\
             \x20   exec(compile(source, {agent}, 'exec'), agent.__dict__)\n\
             \x20   agent._attach({out}, {values}, {status})\n",
            claim = py_str(&claim.display().to_string()),
            agent = py_str(&agent.display().to_string()),
            status = py_str(&status.display().to_string()),
            out = py_str(&out.display().to_string()),
            values = if values { "True" } else { "False" },
        );
        std::fs::write(&script, text).map_err(|e| Error::Io {
            path: script.clone(),
            source: e,
        })?;
        let work = Workdir {
            dir,
            status,
            script,
            queued,
            claim,
            agent,
            out: out.to_path_buf(),
        };
        std::fs::write(&work.queued, work.queued_text()).map_err(|e| Error::Io {
            path: work.queued.clone(),
            source: e,
        })?;
        Ok(work)
    }

    /// The statement the target runs: it binds no name in `__main__` (where queued code
    /// runs) and can never raise (an exception escaping queued code would surface in the
    /// target). Compiled under the agent's file name: the agent leaves frames of its own file
    /// out of the roots, and so leaves out this script's.
    fn queued_text(&self) -> String {
        let script = py_str(&self.script.display().to_string());
        let agent = py_str(&self.agent.display().to_string());
        format!(
            "try:\n    exec(compile((lambda f: (f.read(), f.close())[0])(open({script})), {agent}, 'exec'), {{'__name__': '__pymem_attach__'}})\nexcept BaseException:\n    pass\n"
        )
    }

    /// gdb commands that queue the statement as a pending call.
    fn gdb_commands(&self) -> String {
        format!(
            "set confirm off\nset pagination off\ncall (int)Py_AddPendingCall((int (*)(void *))PyRun_SimpleString, (void *){})\n",
            c_string(&self.queued_text())
        )
    }

    /// Take the claim for pymem; false when the target took it first (its capture began).
    fn claim(&self) -> bool {
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&self.claim)
            .is_ok()
    }
}

impl Drop for Workdir {
    fn drop(&mut self) {
        // A request taken up in the instant before it was withdrawn still opens the files.
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A C string literal for gdb's expression parser.
fn c_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_string_escapes_what_gdb_would_misread() {
        assert_eq!(c_string("a\"b\\c\nd"), "\"a\\\"b\\\\c\\nd\"");
    }
}
