//! What pymem learns about a target process from `/proc` before and after touching it: that
//! it exists, that it may be traced, which CPython it runs, and whether any of its threads is
//! left stopped (so that it can be resumed on every path).

pub use pymem::remote::proc_status::{alive, thread_states, tracer_of};
use pymem::remote::process::{LivePython, NotFound};
use pymem::{Error, Result};
use std::path::Path;

/// How to allow tracing another process, for error messages.
pub const PTRACE_HINT: &str = "run pymem as the process's user with /proc/sys/kernel/yama/ptrace_scope set to 0, or as root (CAP_SYS_PTRACE; in a container: --cap-add=SYS_PTRACE)";

/// The process must exist; otherwise a one-line error.
pub fn require_exists(pid: u32) -> Result<()> {
    if pid == 0 || !Path::new(&format!("/proc/{pid}")).exists() {
        return Err(Error::Target(format!("no such process: {pid}")));
    }
    Ok(())
}

/// The one-line error for a process this user may not read.
pub fn not_permitted(pid: u32) -> Error {
    Error::Target(format!(
        "not permitted to read process {pid}: {PTRACE_HINT}"
    ))
}

/// The interpreter of `pid` (nothing is stopped), or a one-line error that says why not.
pub fn find_python(pid: u32) -> Result<LivePython> {
    LivePython::find(pid).map_err(|e| {
        Error::Target(match e {
            NotFound::NotPermitted => return not_permitted(pid),
            NotFound::Mappings(e) => format!("cannot read the mappings of process {pid}: {e}"),
            NotFound::NotCPython => format!(
                "process {pid} is not a CPython process (no interpreter with _PyRuntime is mapped)"
            ),
            NotFound::Runtime(e) => format!("cannot read the interpreter of process {pid}: {e}"),
        })
    })
}

/// The CPython (major, minor) of a running process, from its executable's or a mapped
/// libpython's file name; None when neither names a python3.X.
pub fn python_minor(pid: u32) -> Result<Option<(u32, u32)>> {
    let maps = match std::fs::read_to_string(format!("/proc/{pid}/maps")) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(Error::Target(format!(
                "not permitted to inspect or trace process {pid}: {PTRACE_HINT}"
            )))
        }
        Err(_) => String::new(),
    };
    let exe = std::fs::read_link(format!("/proc/{pid}/exe"))
        .map(|p| p.display().to_string())
        .unwrap_or_default();
    for text in [maps.as_str(), exe.as_str()] {
        for (i, _) in text.match_indices("python3.") {
            let rest = &text[i + "python3.".len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            if let Ok(minor) = digits.parse() {
                return Ok(Some((3, minor)));
            }
        }
    }
    Ok(None)
}

/// Resume the process if any of its threads was left in a job-control stop (`T`): a tracer
/// that died or detached mid-way can leave one. A running process gets no signal at all.
pub fn resume_if_stopped(pid: u32) {
    if thread_states(pid).contains(&'T') {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid as i32),
            nix::sys::signal::Signal::SIGCONT,
        );
    }
}
