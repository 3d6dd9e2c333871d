//! Stopping every thread of a live process for a consistent read, and resuming it.
//!
//! Threads are stopped with `PTRACE_SEIZE` + `PTRACE_INTERRUPT` (a tracer stop, invisible to
//! the process's parent, unlike SIGSTOP), and resumed by detaching; a signal that arrived
//! while a thread was stopped is delivered on detach. [`Stopped`] resumes on drop, so every
//! path out — an error, a panic, the caller's return — resumes the process; if pymem itself
//! dies, the kernel detaches its tracees and they run on.

use super::proc_status::tracer_of;
use nix::sys::ptrace;
use nix::sys::signal::Signal;
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
use nix::unistd::Pid;
use std::time::{Duration, Instant};

/// Why the process could not be stopped.
#[derive(Debug)]
pub enum StopError {
    /// ptrace is not permitted (scope, capabilities, another user).
    NotPermitted,
    /// Another tracer (a debugger) holds the process.
    AlreadyTraced(u32),
    /// The process is gone (or exited while being stopped).
    Gone,
    /// A thread did not stop within the time allowed (uninterruptible sleep).
    Timeout(u32),
    Other(String),
}

/// Every thread of a process, stopped until this is dropped.
pub struct Stopped {
    pid: u32,
    /// (thread id, a signal to deliver on resume)
    threads: Vec<(i32, Option<Signal>)>,
    since: Instant,
}

fn tids(pid: u32) -> Vec<i32> {
    std::fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse().ok())
        .collect()
}

impl Stopped {
    /// Stop every thread of `pid`; each must stop within `timeout`.
    pub fn stop(pid: u32, timeout: Duration) -> Result<Stopped, StopError> {
        if let Some(t) = tracer_of(pid) {
            return Err(StopError::AlreadyTraced(t));
        }
        let mut stopped = Stopped {
            pid,
            threads: Vec::new(),
            since: Instant::now(),
        };
        let deadline = Instant::now() + timeout;
        // Threads can be created while others are being stopped: list again until no new one.
        loop {
            let new: Vec<i32> = tids(pid)
                .into_iter()
                .filter(|t| !stopped.threads.iter().any(|(s, _)| s == t))
                .collect();
            if new.is_empty() {
                break;
            }
            for tid in new {
                let p = Pid::from_raw(tid);
                match ptrace::seize(p, ptrace::Options::empty()) {
                    Ok(()) => {}
                    Err(nix::Error::ESRCH) => continue, // the thread ended meanwhile
                    Err(nix::Error::EPERM) => {
                        return Err(match tracer_of(pid) {
                            Some(t) => StopError::AlreadyTraced(t),
                            None => StopError::NotPermitted,
                        })
                    }
                    Err(e) => return Err(StopError::Other(format!("PTRACE_SEIZE {tid}: {e}"))),
                }
                stopped.threads.push((tid, None));
                if let Err(e) = ptrace::interrupt(p) {
                    if e != nix::Error::ESRCH {
                        return Err(StopError::Other(format!("PTRACE_INTERRUPT {tid}: {e}")));
                    }
                }
                let signal = wait_stop(tid, deadline)?;
                if let Some(last) = stopped.threads.last_mut() {
                    last.1 = signal;
                }
            }
        }
        if stopped.threads.is_empty() {
            return Err(StopError::Gone);
        }
        stopped.since = Instant::now();
        Ok(stopped)
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// How long the process has been fully stopped.
    pub fn stopped_for(&self) -> Duration {
        self.since.elapsed()
    }

    pub fn thread_count(&self) -> usize {
        self.threads.len()
    }

    /// Resume every thread (also done on drop).
    pub fn resume(mut self) {
        self.detach_all();
    }

    fn detach_all(&mut self) {
        for (tid, signal) in self.threads.drain(..) {
            let _ = ptrace::detach(Pid::from_raw(tid), signal);
        }
    }
}

impl Drop for Stopped {
    fn drop(&mut self) {
        self.detach_all();
    }
}

/// Wait until thread `tid` is in a ptrace stop; a signal it was about to receive is kept,
/// to be delivered when it is resumed.
fn wait_stop(tid: i32, deadline: Instant) -> Result<Option<Signal>, StopError> {
    let p = Pid::from_raw(tid);
    loop {
        match waitpid(p, Some(WaitPidFlag::__WALL | WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::StillAlive) => {
                if Instant::now() >= deadline {
                    return Err(StopError::Timeout(tid as u32));
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            Ok(WaitStatus::PtraceEvent(..)) => return Ok(None),
            // A signal-delivery stop: the thread is stopped, and the signal must not be lost.
            Ok(WaitStatus::Stopped(_, sig)) => return Ok((sig != Signal::SIGTRAP).then_some(sig)),
            Ok(WaitStatus::Exited(..)) | Ok(WaitStatus::Signaled(..)) => return Ok(None),
            Ok(_) => return Ok(None),
            Err(nix::Error::ECHILD) | Err(nix::Error::ESRCH) => return Ok(None),
            Err(e) => return Err(StopError::Other(format!("waiting for thread {tid}: {e}"))),
        }
    }
}
