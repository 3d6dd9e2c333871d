//! `pymem run` and `pymem attach`: snapshots of a program pymem starts, and of a process
//! that is already running.
//!
//! `run` starts the program under the user's Python with the agent armed (at exit, on a
//! signal, periodically) and otherwise out of the way: stdin, stdout and stderr are the
//! program's, termination signals sent to pymem are passed on, and pymem exits with the
//! program's exit code. `attach` asks gdb to run the agent inside the target with the GIL
//! held (`PyGILState_Ensure`, `PyRun_SimpleString`, `PyGILState_Release`), then detaches.

#![allow(clippy::disallowed_macros)] // part of the binary: it writes

use pymem::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What `pymem run` arms in the program.
pub struct RunSpec {
    pub out_dir: PathBuf,
    pub at_exit: bool,
    pub signal: Option<i32>,
    pub every: Option<Duration>,
    pub tracemalloc: u32,
    pub values: bool,
    pub python: String,
    pub program: Vec<String>,
}

/// A signal given by name (`USR2`, `SIGUSR2`) or number.
pub fn parse_signal(text: &str) -> std::result::Result<i32, String> {
    if let Ok(n) = text.parse::<i32>() {
        return nix::sys::signal::Signal::try_from(n)
            .map(|s| s as i32)
            .map_err(|_| format!("{n} is not a signal number"));
    }
    let name = text.to_ascii_uppercase();
    let name = if name.starts_with("SIG") {
        name
    } else {
        format!("SIG{name}")
    };
    name.parse::<nix::sys::signal::Signal>()
        .map(|s| s as i32)
        .map_err(|_| format!("{text:?} is not a signal (e.g. USR2, SIGHUP, 12)"))
}

/// A Python string literal (JSON's escapes are valid Python).
fn py_str(s: &str) -> String {
    serde_json::Value::String(s.to_string()).to_string()
}

pub fn run(spec: RunSpec) -> Result<i32> {
    if spec.program.is_empty() {
        return Err(Error::Usage(
            "give the program: pymem run -- script.py [args] (or -m module [args])".into(),
        ));
    }
    std::fs::create_dir_all(&spec.out_dir).map_err(|e| Error::Io {
        path: spec.out_dir.clone(),
        source: e,
    })?;
    let out_dir = std::fs::canonicalize(&spec.out_dir).map_err(|e| Error::Io {
        path: spec.out_dir.clone(),
        source: e,
    })?;
    let agent_dir = tempfile::Builder::new()
        .prefix("pymem-agent-")
        .tempdir()
        .map_err(|e| Error::Usage(format!("cannot make a temporary directory: {e}")))?;
    pymem::agent::write_to(agent_dir.path())?;
    let at_exit = spec.at_exit || (spec.signal.is_none() && spec.every.is_none());
    let config = serde_json::json!({
        "directory": out_dir.display().to_string(),
        "at_exit": at_exit,
        "signal": spec.signal,
        "every": spec.every.map(|d| d.as_secs_f64()),
        "tracemalloc": spec.tracemalloc,
        "values": spec.values,
    });
    let bootstrap = format!(
        "import sys; sys.path.insert(0, {}); import pymem_agent; del sys.path[0]; pymem_agent._run_main({})",
        py_str(&agent_dir.path().display().to_string()),
        py_str(&config.to_string())
    );
    // The terminal's Ctrl-C and Ctrl-\ reach the program directly (same process group):
    // pymem ignores them. Signals sent to pymem by pid are passed on.
    let mut signals = signal_hook::iterator::Signals::new([
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGQUIT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGUSR1,
        signal_hook::consts::SIGUSR2,
    ])
    .map_err(|e| Error::Usage(format!("cannot handle signals: {e}")))?;
    let mut child = Command::new(&spec.python)
        .arg("-c")
        .arg(&bootstrap)
        .args(&spec.program)
        .spawn()
        .map_err(|e| Error::Usage(format!("cannot start {}: {e}", spec.python)))?;
    let pid = nix::unistd::Pid::from_raw(child.id() as i32);
    let handle = signals.handle();
    let forwarder = std::thread::spawn(move || {
        for sig in signals.forever() {
            if sig == signal_hook::consts::SIGINT || sig == signal_hook::consts::SIGQUIT {
                continue;
            }
            if let Ok(s) = nix::sys::signal::Signal::try_from(sig) {
                let _ = nix::sys::signal::kill(pid, s);
            }
        }
    });
    let status = child
        .wait()
        .map_err(|e| Error::Usage(format!("waiting for the program: {e}")))?;
    handle.close();
    let _ = forwarder.join();
    let taken = snapshots_of(&out_dir, child.id());
    if taken.is_empty() {
        eprintln!("pymem: no snapshot was taken");
    } else {
        eprintln!(
            "pymem: {} snapshot(s) of pid {} in {}",
            taken.len(),
            child.id(),
            out_dir.display()
        );
    }
    use std::os::unix::process::ExitStatusExt;
    Ok(match (status.code(), status.signal()) {
        (Some(code), _) => code,
        (None, Some(sig)) => 128 + sig,
        _ => 1,
    })
}

/// Snapshots the agent wrote for `pid` (pymem-PID-NNN-REASON.jsonl), in order.
fn snapshots_of(dir: &Path, pid: u32) -> Vec<PathBuf> {
    let prefix = format!("pymem-{pid}-");
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".jsonl"))
        })
        .collect();
    out.sort();
    out
}

/// How to allow tracing another process, for the error message.
const PTRACE_HINT: &str = "run pymem as its user with /proc/sys/kernel/yama/ptrace_scope set to 0, or as root (CAP_SYS_PTRACE; in a container: --cap-add=SYS_PTRACE)";

/// The CPython minor version of a running process, from its executable or mapped libpython.
fn python_minor(pid: u32) -> Result<Option<(u32, u32)>> {
    let maps = match std::fs::read_to_string(format!("/proc/{pid}/maps")) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
            return Err(Error::Usage(format!(
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

pub fn attach(pid: u32, out: Option<PathBuf>, values: bool, timeout: Duration) -> Result<i32> {
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return Err(Error::Usage(format!("no such process: {pid}")));
    }
    let (major, minor) = python_minor(pid)?.ok_or_else(|| {
        Error::Usage(format!(
            "process {pid} is not a CPython process (no python3.X executable or libpython mapped)"
        ))
    })?;
    if !(8..=13).contains(&minor) {
        let hint = if minor >= 14 {
            " (3.14+ offers sys.remote_exec, which pymem does not use yet)"
        } else {
            ""
        };
        return Err(Error::Usage(format!(
            "process {pid} runs CPython {major}.{minor}: pymem attach supports 3.8-3.13{hint}"
        )));
    }
    let gdb = which("gdb").ok_or_else(|| {
        Error::Usage("gdb is needed to attach: install it (Debian: apt-get install gdb)".into())
    })?;
    let out = out.unwrap_or_else(|| PathBuf::from(format!("pymem-{pid}-attach.jsonl")));
    let out = if out.is_absolute() {
        out
    } else {
        std::env::current_dir()
            .map_err(|e| Error::Usage(format!("no current directory: {e}")))?
            .join(out)
    };
    // The target reads the agent and writes its status: a directory it can read and write.
    let work = tempfile::Builder::new()
        .prefix("pymem-attach-")
        .tempdir()
        .map_err(|e| Error::Usage(format!("cannot make a temporary directory: {e}")))?;
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(work.path(), std::fs::Permissions::from_mode(0o777));
    pymem::agent::write_to(work.path())?;
    let status_file = work.path().join("status");
    let script = work.path().join("attach.py");
    std::fs::write(
        &script,
        format!(
            "import sys\nsys.path.insert(0, {})\nimport pymem_agent\ndel sys.path[0]\npymem_agent._attach({}, {}, {})\n",
            py_str(&work.path().display().to_string()),
            py_str(&out.display().to_string()),
            if values { "True" } else { "False" },
            py_str(&status_file.display().to_string()),
        ),
    )
    .map_err(|e| Error::Io {
        path: script.clone(),
        source: e,
    })?;
    let run = format!(
        "call (int)PyRun_SimpleString(\"exec(open('{}').read())\")",
        script.display()
    );
    let mut child = Command::new(gdb)
        .args(["-p", &pid.to_string(), "--batch", "-nx", "-q"])
        .args(["-ex", "set confirm off"])
        .args(["-ex", "call (int)PyGILState_Ensure()"])
        .args(["-ex", &run])
        .args(["-ex", "call (void)PyGILState_Release($1)"])
        .args(["-ex", "detach"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Error::Usage(format!("cannot start gdb: {e}")))?;
    let started = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if started.elapsed() > timeout => {
                // Killing the tracer detaches it; a SIGCONT makes sure the target is not
                // left in the stop gdb's attach put it in.
                let _ = child.kill();
                let _ = child.wait();
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid as i32),
                    nix::sys::signal::Signal::SIGCONT,
                );
                return Err(Error::Usage(format!(
                    "timed out after {} s attaching to {pid} (the process was left running; a busy or blocked main thread can delay the call)",
                    timeout.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(Error::Usage(format!("waiting for gdb: {e}"))),
        }
    }
    let mut text = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut text);
    }
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut text);
    }
    if text.contains("ptrace: Operation not permitted") {
        return Err(Error::Usage(format!(
            "not permitted to trace process {pid}: {PTRACE_HINT}"
        )));
    }
    if text.contains("No symbol \"PyGILState_Ensure\"") {
        return Err(Error::Usage(format!(
            "process {pid} does not export the CPython C API symbols gdb needs (PyGILState_Ensure): not a CPython process, or a stripped static build"
        )));
    }
    match std::fs::read_to_string(&status_file) {
        Ok(s) if s.starts_with("ok ") => {
            eprintln!(
                "pymem: wrote {} ({} objects, CPython {major}.{minor}, pid {pid})",
                out.display(),
                s[3..].trim()
            );
            Ok(0)
        }
        Ok(s) => Err(Error::Usage(format!(
            "the capture inside process {pid} failed: {}",
            s.trim_start_matches("error ").trim()
        ))),
        Err(_) => Err(Error::Usage(format!(
            "the agent did not run in process {pid} (gdb said: {})",
            text.lines()
                .rfind(|l| !l.trim().is_empty() && !l.contains("auto-load"))
                .unwrap_or("nothing")
        ))),
    }
}

/// An executable on PATH.
fn which(name: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(name))
            .find(|p| p.is_file())
    })
}
