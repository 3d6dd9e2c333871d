//! `pymem run`: snapshots of a program pymem starts.
//!
//! The program runs under the user's Python with the agent armed (at exit, on a signal,
//! periodically) and otherwise out of the way: stdin, stdout and stderr are the program's,
//! termination signals sent to pymem are passed on, and pymem exits with the program's exit
//! code.

#![allow(clippy::disallowed_macros)] // part of the binary: it writes

use super::py_str;
use pymem::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// What `pymem run` arms in the program.
pub struct RunSpec {
    pub out_dir: PathBuf,
    pub at_exit: bool,
    pub signal: Option<i32>,
    pub every: Option<Duration>,
    pub tracemalloc: u32,
    pub values: bool,
    /// Children the program forks take snapshots too.
    pub follow_forks: bool,
    /// `--python`, when given (see `program::resolve` for the default).
    pub python: Option<String>,
    pub program: Vec<String>,
}

/// A signal given by name (`USR2`, `SIGUSR2`) or number.
pub fn parse_signal(text: &str) -> std::result::Result<i32, String> {
    if let Ok(n) = text.parse::<i32>() {
        let sig = nix::sys::signal::Signal::try_from(n)
            .map_err(|_| format!("{n} is not a signal number"))?;
        return catchable(sig);
    }
    let name = text.to_ascii_uppercase();
    let name = if name.starts_with("SIG") {
        name
    } else {
        format!("SIG{name}")
    };
    let sig = name
        .parse::<nix::sys::signal::Signal>()
        .map_err(|_| format!("{text:?} is not a signal (e.g. USR2, SIGHUP, 12)"))?;
    catchable(sig)
}

/// Signals a program can take a snapshot on: not KILL or STOP (no handler can catch them)
/// and not the ones the kernel sends for faults.
fn catchable(sig: nix::sys::signal::Signal) -> std::result::Result<i32, String> {
    use nix::sys::signal::Signal::*;
    match sig {
        SIGKILL | SIGSTOP => Err(format!("{sig} cannot be caught: use USR1, USR2 or HUP")),
        SIGSEGV | SIGBUS | SIGFPE | SIGILL => Err(format!(
            "{sig} is the kernel's signal for a fault: use USR1, USR2 or HUP"
        )),
        s => Ok(s as i32),
    }
}

/// A program that cannot start is one line and status 2, before anything runs (and no
/// snapshot is taken of a program that never ran).
fn check_program(python: &str, program: &[String]) -> Result<()> {
    match program {
        [m, rest @ ..] if m == "-m" => {
            let Some(module) = rest.first() else {
                return Err(Error::Usage("-m needs a module name".into()));
            };
            // Only the top-level name: finding it imports nothing.
            let top = module.split('.').next().unwrap_or(module);
            let probe = Command::new(python)
                .args([
                    "-c",
                    "import importlib.util, sys; sys.exit(0 if importlib.util.find_spec(sys.argv[1]) else 3)",
                    top,
                ])
                .status()
                .map_err(|e| Error::System(format!("cannot start {python}: {e}")))?;
            if probe.code() == Some(3) {
                return Err(Error::Usage(format!(
                    "cannot run -m {module}: {python} has no module named {top}"
                )));
            }
        }
        [script, ..] => {
            let p = Path::new(script);
            if !p.is_file() {
                return Err(Error::Usage(format!(
                    "cannot run {script}: {}",
                    if p.exists() {
                        "not a file"
                    } else {
                        "no such file"
                    }
                )));
            }
        }
        [] => {}
    }
    Ok(())
}

pub fn run(spec: RunSpec) -> Result<i32> {
    let resolved = super::program::resolve(spec.python.as_deref(), &spec.program)?;
    let (python, program) = (resolved.python, resolved.program);
    check_program(&python, &program)?;
    if spec.every.is_some_and(|d| d.is_zero()) {
        return Err(Error::Usage("--every must be more than 0 s".into()));
    }
    std::fs::create_dir_all(&spec.out_dir).map_err(|e| Error::Io {
        path: spec.out_dir.clone(),
        source: e,
    })?;
    let out_dir = std::fs::canonicalize(&spec.out_dir).map_err(|e| Error::Io {
        path: spec.out_dir.clone(),
        source: e,
    })?;
    check_writable(&out_dir)?;
    let agent_dir = tempfile::Builder::new()
        .prefix("pymem-agent-")
        .tempdir()
        .map_err(|e| Error::System(format!("cannot make a temporary directory: {e}")))?;
    pymem::agent::write_package(agent_dir.path())?;
    let at_exit = spec.at_exit || (spec.signal.is_none() && spec.every.is_none());
    let config = serde_json::json!({
        "directory": out_dir.display().to_string(),
        "at_exit": at_exit,
        "signal": spec.signal,
        "every": spec.every.map(|d| d.as_secs_f64()),
        "tracemalloc": spec.tracemalloc,
        "values": spec.values,
        "follow_forks": spec.follow_forks,
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
    .map_err(|e| Error::System(format!("cannot handle signals: {e}")))?;
    let mut child = Command::new(&python)
        .arg("-c")
        .arg(&bootstrap)
        .args(&program)
        .spawn()
        .map_err(|e| Error::System(format!("cannot start {python}: {e}")))?;
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
        .map_err(|e| Error::System(format!("waiting for the program: {e}")))?;
    handle.close();
    let _ = forwarder.join();
    let taken = snapshots_of(&out_dir, child.id());
    if taken.is_empty() {
        note!(
            "no snapshot was taken{}",
            if spec.every.is_some() && !spec.at_exit {
                " (the program ended before the first --every; --at-exit takes one as it ends)"
            } else {
                ""
            }
        );
    } else {
        note!(
            "{} of pid {} in {}",
            pymem::report::fmt::plural(taken.len() as u64, "snapshot"),
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

/// Refuse, before the program starts, an output directory no snapshot can be written to
/// (read-only, or a full disk): a probe file of 64 KiB is written there and removed.
fn check_writable(dir: &Path) -> Result<()> {
    use std::io::Write;
    let refuse = |e: std::io::Error| Error::Io {
        path: dir.to_path_buf(),
        source: std::io::Error::new(
            e.kind(),
            format!("no snapshot could be written there ({e}); the program was not started"),
        ),
    };
    let mut probe = tempfile::Builder::new()
        .prefix(".pymem-probe-")
        .tempfile_in(dir)
        .map_err(refuse)?;
    probe
        .write_all(&[0u8; 64 << 10])
        .and_then(|()| probe.as_file().sync_all())
        .map_err(refuse)
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
