//! What `/proc` says of a process's state: its tracer, the scheduler state of each thread,
//! and whether it still has its memory. Read by the stop, the copy of its memory and the
//! commands that capture from it, so that all three agree on what "gone" means.

/// The pid of the process tracing `pid`, if any (`TracerPid` in its status).
pub fn tracer_of(pid: u32) -> Option<u32> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("TracerPid:"))
        .and_then(|v| v.trim().parse().ok())
        .filter(|&t| t != 0)
}

/// The scheduler state letter of every thread of `pid` (`R`, `S`, `T` stopped, `t` traced...).
pub fn thread_states(pid: u32) -> Vec<char> {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return Vec::new();
    };
    tasks
        .flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("stat")).ok())
        .filter_map(|stat| {
            // The state follows the command name, which is in parentheses and may hold any byte.
            let after = &stat[stat.rfind(')')? + 1..];
            after.trim_start().chars().next()
        })
        .collect()
}

/// Whether `pid` still has its memory: some thread of it is neither a zombie nor dead (a
/// process killed while stopped stays a zombie until its tracer lets go; a leader that
/// ended by itself leaves its other threads running in the same memory).
pub fn alive(pid: u32) -> bool {
    thread_states(pid).iter().any(|&s| s != 'Z' && s != 'X')
}
