//! `pymem attach PID` (`--method read`, the default): a snapshot read from outside. The target
//! is stopped (every thread), its memory copied, and it is resumed; the copy is decoded
//! afterwards. Nothing is ever written into the target and no code runs in it.

#![allow(clippy::disallowed_macros)] // part of the binary: it writes

use super::target;
use pymem::capture::{self, CaptureError, Options, ProcessInfo};
use pymem::remote::image::Image;
use pymem::remote::maps;
use pymem::remote::memory::{LiveProcess, Memory};
use pymem::remote::process::LivePython as Target;
use pymem::remote::runtime::Runtime;
use pymem::remote::stop::{StopError, Stopped};
use pymem::{Error, Result};
use std::path::Path;
use std::time::{Duration, Instant};

/// How many times a capture is retried when the collector was running at that instant.
const RETRIES: u32 = 5;
/// How long every thread gets to stop.
const STOP_TIMEOUT: Duration = Duration::from_secs(5);

/// Find the interpreter of `pid` and check that pymem can read this version and build. A
/// process that has exited, or exits meanwhile (its maps and memory vanish, which would read
/// as "not permitted" or "not CPython"), is named as such.
pub fn inspect(pid: u32) -> Result<Target> {
    target::require_exists(pid)?;
    let gone = || {
        Error::Target(format!(
            "process {pid} has exited (or is a zombie its parent has not reaped): there is no memory left to read"
        ))
    };
    if !target::alive(pid) {
        return Err(gone());
    }
    inspect_running(pid).map_err(|e| if target::alive(pid) { e } else { gone() })
}

fn inspect_running(pid: u32) -> Result<Target> {
    let found = target::find_python(pid)?;
    check_supported(&format!("process {pid}"), &found.runtime)?;
    Ok(found)
}

/// Refuse what pymem was not tested on: other versions, free-threaded builds, 3.14.0-3.14.4,
/// and (3.13+, where the target says) a build whose structure sizes differ from the table's.
/// `who` names the target in the message ("process 42", "core file ./core").
pub fn check_supported(who: &str, rt: &Runtime) -> Result<()> {
    let v = rt.version;
    // Where only the minor version is known yet, say no more than that (not "3.7.0").
    let named = match rt.exact {
        true => v.to_string(),
        false => format!("{}.{}", v.major, v.minor),
    };
    let refuse = |why: String| Err(Error::Target(format!("{who} runs CPython {named}: {why}")));
    let outside = || {
        let supported = capture::facts::supported_range();
        refuse(format!("pymem reads CPython {supported} from outside"))
    };
    let Some(layout) = rt.layout else {
        return outside();
    };
    let Some(facts) = capture::facts::of(v.minor) else {
        return outside();
    };
    if rt.free_threaded() == Some(true) {
        return refuse("a free-threaded build, which pymem does not read yet".into());
    }
    if v.micro < facts.first_micro {
        let (minor, first) = (v.minor, facts.first_micro);
        return refuse(format!(
            "3.{minor}.0-3.{minor}.{} have the incremental collector; pymem reads 3.{minor}.{first} and later",
            first - 1
        ));
    }
    // The target's own table of sizes must match the one pymem was generated from.
    for key in [
        "interpreter_state.size",
        "thread_state.size",
        "runtime_state.interpreters_head",
        "interpreter_state.threads_head",
    ] {
        let table = layout.get(&format!("_Py_DebugOffsets.{key}"));
        if table.is_none() {
            continue;
        }
        let ours = match key {
            "interpreter_state.size" => layout.get("sizeof.PyInterpreterState"),
            "thread_state.size" => layout.get("sizeof.PyThreadState"),
            "runtime_state.interpreters_head" => layout.get("_PyRuntimeState.interpreters_head"),
            _ => layout.get("PyInterpreterState.threads_head"),
        };
        if let (Some(theirs), Some(ours)) = (rt.debug(key), ours) {
            if theirs != ours {
                return refuse(format!(
                    "its {key} is {theirs} where the tested {} has {ours}: a build pymem was not tested on",
                    layout.python
                ));
            }
        }
    }
    Ok(())
}

/// Is the collector running right now (read from the live, stopped process)?
fn collecting(mem: &LiveProcess, t: &Target) -> bool {
    let Some(layout) = t.runtime.layout else {
        return false;
    };
    let Ok(off) = capture::offsets::Offsets::resolve(layout) else {
        return false;
    };
    let rt = t.runtime.addr;
    let Ok(mut interp) = mem.read_u64(rt + off.runtime_interpreters) else {
        return false;
    };
    // The main interpreter.
    for _ in 0..64 {
        if interp == 0 || mem.read_u64(interp + off.interp_id).ok() == Some(0) {
            break;
        }
        interp = mem.read_u64(interp + off.interp_next).unwrap_or(0);
    }
    let gc = match (off.interp_gc, off.runtime_gc) {
        (Some(g), _) if interp != 0 => interp + g,
        (None, Some(g)) => rt + g,
        _ => return false,
    };
    mem.read_u32(gc + off.gc_collecting).unwrap_or(0) != 0
}

/// What a stop-and-copy took.
pub struct Copied {
    pub image: Image,
    pub stopped: Duration,
    pub threads: usize,
}

/// Stop the target, copy its memory, resume it; retried while the collector runs.
pub fn stop_and_copy(t: &Target) -> Result<Copied> {
    let pid = t.pid;
    let mem = LiveProcess::open(pid);
    for attempt in 0..=RETRIES {
        let stopped = Stopped::stop(pid, STOP_TIMEOUT).map_err(|e| match e {
            StopError::NotPermitted => target::not_permitted(pid),
            StopError::AlreadyTraced(tr) => Error::Target(format!(
                "process {pid} is already traced by process {tr} (a debugger?): detach it first"
            )),
            StopError::Gone => Error::Target(format!("process {pid} exited")),
            StopError::Timeout(tid) => Error::Target(format!(
                "thread {tid} of process {pid} did not stop within {} s (uninterruptible sleep?); the process was resumed",
                STOP_TIMEOUT.as_secs()
            )),
            StopError::Other(s) => Error::Target(format!("cannot stop process {pid}: {s}")),
        })?;
        if collecting(&mem, t) {
            stopped.resume();
            if attempt == RETRIES {
                return Err(Error::Target(format!(
                    "process {pid} was collecting garbage each of {} times it was stopped; it was resumed, try again",
                    RETRIES + 1
                )));
            }
            std::thread::sleep(Duration::from_millis(20 << attempt));
            continue;
        }
        // The maps again, under the stop: the process may have mapped memory meanwhile.
        let maps = maps::of_process(pid).unwrap_or_else(|_| t.maps.clone());
        let image = Image::copy(&mem, &maps);
        let took = stopped.stopped_for();
        let threads = stopped.thread_count();
        stopped.resume();
        let image = image.map_err(|e| Error::Target(format!("reading process {pid}: {e}")))?;
        if !target::alive(pid) {
            return Err(Error::Target(format!(
                "process {pid} exited during the read"
            )));
        }
        return Ok(Copied {
            image,
            stopped: took,
            threads,
        });
    }
    unreachable!("the loop returns")
}

fn pythonmalloc_of(pid: u32) -> Option<String> {
    let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    env.split(|&b| b == 0)
        .find_map(|kv| kv.strip_prefix(b"PYTHONMALLOC="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// The resident set size of `pid`, in bytes; `None` once it is gone.
pub fn rss_of(pid: u32) -> Option<u64> {
    let statm = std::fs::read_to_string(format!("/proc/{pid}/statm")).ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    let page = nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .unwrap_or(4096) as u64;
    Some(pages * page)
}

/// What one read of a live process wrote.
pub struct Taken {
    pub objects: u64,
    pub version: String,
    pub stopped: Duration,
    pub threads: usize,
    pub copied_bytes: u64,
    pub rss: Option<u64>,
}

impl Taken {
    /// The line pymem prints once a snapshot is written.
    pub fn describe(&self, pid: u32, out: &Path, took: Duration) -> String {
        format!(
            "wrote {} ({} objects, CPython {}, pid {pid}; stopped {:.1} ms for {} and {:.1} MiB, {:.2} s in all)",
            out.display(),
            self.objects,
            self.version,
            self.stopped.as_secs_f64() * 1000.0,
            pymem::report::fmt::plural(self.threads as u64, "thread"),
            self.copied_bytes as f64 / (1 << 20) as f64,
            took.as_secs_f64()
        )
    }
}

/// Stop, copy, resume and decode the process `t` into the snapshot `out`.
pub fn snapshot(t: &Target, out: &Path, values: bool, deadline: Option<Instant>) -> Result<Taken> {
    let pid = t.pid;
    let rss = rss_of(pid);
    let memory = pymem::remote::procmem::of_process(pid);
    let copied = stop_and_copy(t)?;
    let info = ProcessInfo {
        pid,
        rss,
        pythonmalloc: pythonmalloc_of(pid),
        method: capture::Method::Read,
        stopped_ms: Some(copied.stopped.as_secs_f64() * 1000.0),
        missing: if copied.image.unreadable_pages > 0 {
            vec![format!(
                "memory: {} pages listed in the maps could not be read",
                copied.image.unreadable_pages
            )]
        } else {
            Vec::new()
        },
        memory,
    };
    let stats = capture::capture(
        &copied.image,
        &t.binary,
        &t.runtime,
        &info,
        &Options { values, deadline },
        out,
    )
    .map_err(|e| match e {
        // Killed while it was read: its memory went away under the copy, and what was
        // copied is no heap. (A dying process may still look alive for a moment.)
        _ if died_meanwhile(pid) => Error::Target(format!("process {pid} exited during the read")),
        CaptureError::Collecting => Error::Target(format!(
            "process {pid} was collecting garbage when it was stopped; try again"
        )),
        CaptureError::Incomplete(s) | CaptureError::Failed(s) => {
            Error::Target(format!("reading process {pid}: {s}"))
        }
    })?;
    Ok(Taken {
        objects: stats.objects,
        version: stats.version,
        stopped: copied.stopped,
        threads: copied.threads,
        copied_bytes: copied.image.len(),
        rss,
    })
}

/// Whether `pid` has exited (or is exiting) since it was read: checked again after a moment,
/// since a process killed mid-read tears its memory down before it turns into a zombie.
fn died_meanwhile(pid: u32) -> bool {
    !target::alive(pid) || {
        std::thread::sleep(Duration::from_millis(100));
        !target::alive(pid)
    }
}

/// `pymem attach PID --method read`.
pub fn attach(pid: u32, out: &Path, values: bool, timeout: Duration) -> Result<i32> {
    let started = Instant::now();
    let t = inspect(pid)?;
    let taken = snapshot(&t, out, values, Some(started + timeout))?;
    note!("{}", taken.describe(pid, out, started.elapsed()));
    crate::app::index_new_snapshot(out);
    Ok(0)
}
