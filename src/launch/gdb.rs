//! The gdb injector: the one way pymem runs code inside a CPython 3.8–3.13 process that was
//! not started with the agent, and the probe that says whether it can work on this machine.
//!
//! gdb makes one function call in the target: `Py_AddPendingCall(PyRun_SimpleString, text)`.
//! That only queues the text; the interpreter runs it in its main thread at its next safe
//! point between bytecodes, with the GIL held, as it runs signal handlers. No Python code
//! ever runs from the arbitrary instruction where gdb stopped the target, and gdb detaches
//! right after the call, so the target runs the capture itself, unstopped.
//!
//! Calling a function needs gdb to save and restore every register of the stopped thread.
//! Some gdb builds cannot on some processors (Debian's gdb 13 with Intel AMX state: "Couldn't
//! write extended state status"), and a call that fails half way leaves the target broken.
//! So before any target is touched, [`Gdb::check_calls`] makes the same kind of call in a
//! throwaway child of pymem's own, and remembers the verdict for this machine and gdb.

use super::cache::{self, Verdict};
use super::target;
use pymem::{Error, Result};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// The cache file of probe verdicts.
const PROBE_KIND: &str = "gdb-call-probe";
/// How long the probe may take before it counts as a failure.
const PROBE_TIMEOUT: Duration = Duration::from_secs(30);
/// How long gdb gets to stop cleanly (unwinding an unfinished call, detaching) when pymem
/// gives up on it, before it is killed.
const GRACE: Duration = Duration::from_secs(10);

/// A gdb executable and its version line.
pub struct Gdb {
    path: PathBuf,
    version: String,
}

/// Why gdb cannot be used to inject into a process.
pub enum Refusal {
    /// gdb cannot call functions in a process on this machine (the probe failed).
    CannotCall(String),
    /// ptrace is not permitted (for the probe's child, so also for the target).
    NotPermitted,
}

/// How one gdb run ended.
pub enum Ended {
    /// gdb exited by itself; everything it printed.
    Finished(String),
    /// The deadline passed, or pymem was asked to stop; gdb was stopped.
    GaveUp { interrupted: bool, output: String },
}

impl Gdb {
    /// The gdb to use: `explicit`, else `gdb` on PATH.
    pub fn find(explicit: Option<&Path>) -> Result<Gdb> {
        let path = match explicit {
            Some(p) => p.to_path_buf(),
            None => which("gdb").ok_or_else(|| {
                Error::System(
                    "gdb is needed to inject the agent: install it (Debian: apt-get install gdb)"
                        .into(),
                )
            })?,
        };
        let out = Command::new(&path)
            .args(["--version"])
            .stdin(Stdio::null())
            .output()
            .map_err(|e| Error::System(format!("cannot run {}: {e}", path.display())))?;
        let version = String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .unwrap_or("")
            .trim()
            .to_string();
        if !out.status.success() || version.is_empty() {
            return Err(Error::System(format!(
                "{} --version failed: not a working gdb",
                path.display()
            )));
        }
        Ok(Gdb { path, version })
    }

    /// What a probe verdict holds for: this gdb (path, version, file size and time), this
    /// kernel and this processor (model and feature flags decide what registers exist).
    fn machine_key(&self) -> String {
        let meta = std::fs::metadata(&self.path).ok();
        let (len, mtime) = meta
            .map(|m| {
                let t = m
                    .modified()
                    .ok()
                    .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
                    .map_or(0, |d| d.as_secs());
                (m.len(), t)
            })
            .unwrap_or((0, 0));
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
        let cpuinfo = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let first = |field: &str| {
            cpuinfo
                .lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string())
                .unwrap_or_default()
        };
        format!(
            "gdb={} ({}, {len} B, mtime {mtime}); kernel={}; cpu={}; flags={}",
            self.path.display(),
            self.version,
            kernel.trim(),
            first("model name"),
            first("flags")
        )
    }

    /// Whether gdb can call a function in a process here: the cached verdict, else a probe
    /// on a throwaway sleeping child (about half a second, once per machine and gdb).
    pub fn check_calls(&self) -> std::result::Result<(), Refusal> {
        let key = self.machine_key();
        if let Some(v) = cache::lookup(PROBE_KIND, &key) {
            return if v.ok {
                Ok(())
            } else {
                Err(Refusal::CannotCall(v.reason))
            };
        }
        let verdict = self.probe();
        let (ok, reason) = match &verdict {
            Ok(()) => (true, String::new()),
            Err(Refusal::CannotCall(r)) => (false, r.clone()),
            // Not a property of gdb on this machine: not remembered.
            Err(Refusal::NotPermitted) => return verdict,
        };
        let time = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        cache::store(
            PROBE_KIND,
            Verdict {
                key,
                ok,
                reason,
                time,
            },
        );
        verdict
    }

    /// Call `getpid()` in a throwaway `sleep` child through gdb, then check that the answer
    /// came back and the child was left running.
    fn probe(&self) -> std::result::Result<(), Refusal> {
        let child = Command::new("sleep")
            .arg("60")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn();
        let child = match child {
            Ok(c) => KillOnDrop(c),
            Err(e) => {
                return Err(Refusal::CannotCall(format!(
                    "the probe could not start a throwaway process (sleep: {e})"
                )))
            }
        };
        let pid = child.0.id();
        // Wait until it sleeps, as a real target would be found.
        let start = Instant::now();
        while !target::thread_states(pid).contains(&'S') && start.elapsed() < Duration::from_secs(2)
        {
            std::thread::sleep(Duration::from_millis(5));
        }
        let never = AtomicBool::new(false);
        let ended = self.run(
            pid,
            &[
                "-ex",
                "set confirm off",
                "-ex",
                "call (int)getpid()",
                "-ex",
                "detach",
            ],
            Instant::now() + PROBE_TIMEOUT,
            &never,
        );
        let output = match ended {
            Ok(Ended::Finished(text)) => text,
            Ok(Ended::GaveUp { output, .. }) => {
                return Err(Refusal::CannotCall(format!(
                    "gdb did not finish a function call in a throwaway process within {} s{}",
                    PROBE_TIMEOUT.as_secs(),
                    said(&output)
                )))
            }
            Err(e) => return Err(Refusal::CannotCall(e.to_string())),
        };
        if output.contains("ptrace: Operation not permitted") {
            return Err(Refusal::NotPermitted);
        }
        let answered = output
            .lines()
            .any(|l| l.starts_with('$') && l.trim_end().ends_with(&format!(" = {pid}")));
        let states = target::thread_states(pid);
        let left_running = !states.is_empty() && !states.iter().any(|s| matches!(s, 'T' | 't'));
        match (answered, left_running) {
            (true, true) => Ok(()),
            (true, false) => Err(Refusal::CannotCall(
                "gdb's call in a throwaway process worked but left it stopped".into(),
            )),
            (false, _) => Err(Refusal::CannotCall(format!(
                "gdb could not call a function in a throwaway process{}",
                said(&output)
            ))),
        }
    }

    /// Run gdb attached to `pid` with `args` (its `-ex`/`-x` commands), in batch mode and its
    /// own process group (a Ctrl-C at the terminal reaches pymem, not gdb). Past `deadline`,
    /// or once `stop` is set, gdb is interrupted: with `unwindonsignal` on, an unfinished call
    /// is unwound and the thread's registers restored, then gdb detaches as it quits. It is
    /// killed only if it does not end within a grace period. Any thread left in a stop is
    /// resumed.
    pub fn run(
        &self,
        pid: u32,
        args: &[&str],
        deadline: Instant,
        stop: &AtomicBool,
    ) -> Result<Ended> {
        let log = tempfile::tempfile()
            .map_err(|e| Error::System(format!("cannot make a temporary file: {e}")))?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::System(format!("cannot make a temporary file: {e}")))?;
        let mut log_read = log
            .try_clone()
            .map_err(|e| Error::System(format!("cannot make a temporary file: {e}")))?;
        let child = Command::new(&self.path)
            .args(["-p", &pid.to_string(), "--batch", "-nx", "-q"])
            .args(["-ex", "set unwindonsignal on"])
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err))
            .process_group(0)
            .spawn()
            .map_err(|e| Error::System(format!("cannot start {}: {e}", self.path.display())))?;
        let mut child = KillOnDrop(child);
        let gave_up = loop {
            match child.0.try_wait() {
                Ok(Some(_)) => break None,
                Ok(None) if stop.load(Ordering::SeqCst) => break Some(true),
                Ok(None) if Instant::now() >= deadline => break Some(false),
                Ok(None) => std::thread::sleep(Duration::from_millis(10)),
                Err(e) => return Err(Error::System(format!("waiting for gdb: {e}"))),
            }
        };
        if gave_up.is_some() {
            let gdb_pid = nix::unistd::Pid::from_raw(child.0.id() as i32);
            let _ = nix::sys::signal::kill(gdb_pid, nix::sys::signal::Signal::SIGINT);
            let start = Instant::now();
            while matches!(child.0.try_wait(), Ok(None)) && start.elapsed() < GRACE {
                std::thread::sleep(Duration::from_millis(10));
            }
            // KillOnDrop ends it if it is still there; the kernel then detaches it.
        }
        drop(child);
        target::resume_if_stopped(pid);
        use std::io::Seek;
        let _ = log_read.seek(std::io::SeekFrom::Start(0));
        let mut raw = Vec::new();
        let _ = log_read.read_to_end(&mut raw);
        let output = String::from_utf8_lossy(&raw).into_owned();
        Ok(match gave_up {
            None => Ended::Finished(output),
            Some(interrupted) => Ended::GaveUp {
                interrupted,
                output,
            },
        })
    }
}

/// gdb's own error lines in its output (its banner, thread notices and frame lines left
/// out), in order.
pub fn error_lines(output: &str) -> Vec<String> {
    const SIGNS: &[&str] = &[
        "rror",
        "Couldn't",
        "Cannot",
        "cannot",
        "ptrace:",
        "not permitted",
        "No symbol",
        "signaled",
        "abandoned",
        "Unable",
        "unable",
        "failed",
        "Killed",
    ];
    output
        .lines()
        .map(str::trim)
        .filter(|l| {
            !l.is_empty()
                && !l.contains("auto-load")
                && !l.starts_with("warning: Unable to find libthread_db")
        })
        .filter(|l| SIGNS.iter().any(|s| l.contains(s)))
        .map(str::to_string)
        .collect()
}

/// ` (gdb said: ...)` with every error line of gdb's output, or nothing.
pub fn said(output: &str) -> String {
    let lines = error_lines(output);
    if lines.is_empty() {
        String::new()
    } else {
        format!(" (gdb said: {})", lines.join(" | "))
    }
}

/// A child process that is killed and reaped when this goes out of scope, on every path.
struct KillOnDrop(Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_keep_gdbs_errors_and_drop_its_chatter() {
        let out = "Using host libthread_db library \"/lib/x86_64-linux-gnu/libthread_db.so.1\".\n\
0x00007f in __GI___clock_nanosleep () at ../sysdeps/unix/sysv/linux/clock_nanosleep.c:71\n\
warning: File \"/x/python3.12-gdb.py\" auto-loading has been declined\n\
Couldn't write extended state status: Bad address.\n\
add.gdb:3: Error in sourced command file:\n\
The program being debugged was signaled while in a function called from GDB.\n\
[Inferior 1 (process 42) detached]\n";
        assert_eq!(
            error_lines(out),
            vec![
                "Couldn't write extended state status: Bad address.",
                "add.gdb:3: Error in sourced command file:",
                "The program being debugged was signaled while in a function called from GDB.",
            ]
        );
        assert_eq!(said("[Inferior 1 (process 42) detached]\n"), "");
    }
}
