//! The hidden file a capture writes before renaming it into place (`.NAME.PID.partial`),
//! removed when the capture fails, and the ones that captures killed with `kill -9` left
//! behind, removed by the next capture into the same folder.

use std::path::{Path, PathBuf};
use std::time::Duration;

/// A partial snapshot file, removed when dropped unless disarmed.
pub struct PartialFile(pub Option<PathBuf>);

impl PartialFile {
    /// `.NAME.PID.partial` beside `path`, after removing stale ones from dead captures.
    pub fn beside(path: &Path) -> PathBuf {
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        remove_stale(dir);
        path.with_file_name(format!(
            ".{}.{}.partial",
            path.file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("snapshot"),
            std::process::id()
        ))
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        if let Some(p) = self.0.take() {
            let _ = std::fs::remove_file(p);
        }
    }
}

/// A partial file untouched for this long, whose writer is not running, is stale (a live
/// capture appends to its file all the time).
const STALE_AFTER: Duration = Duration::from_secs(60);

/// Remove partial files in `dir` left by captures that died: ours (`.NAME.PID.partial`) and
/// the agent's (`.NAME.PID.TID.partial`). Only regular files of this user, untouched for a
/// minute, whose every reading of the name gives a pid that no longer runs.
fn remove_stale(dir: &Path) {
    use std::os::unix::fs::MetadataExt;
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let me = nix::unistd::geteuid().as_raw();
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(name) = name.to_str() else { continue };
        let pids = writer_pids(name);
        if pids.is_empty() || pids.iter().any(|&p| running(p)) {
            continue;
        }
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age >= STALE_AFTER);
        if meta.file_type().is_file() && meta.uid() == me && old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The pids a partial file's name can mean: `.NAME.PID.partial` and, where two numbers end
/// the name, `.NAME.PID.TID.partial` too. Empty for any other name.
fn writer_pids(name: &str) -> Vec<u32> {
    let Some(stem) = name
        .strip_prefix('.')
        .and_then(|n| n.strip_suffix(".partial"))
    else {
        return Vec::new();
    };
    let parts: Vec<&str> = stem.rsplitn(3, '.').collect();
    let num = |s: &str| s.parse::<u32>().ok().filter(|&p| p > 0);
    let mut pids = Vec::new();
    if parts.len() < 2 {
        return pids;
    }
    pids.extend(num(parts[0]));
    // The agent's: a thread id (any 64-bit number) after the pid.
    if parts.len() == 3 && parts[0].parse::<u64>().is_ok() {
        pids.extend(num(parts[1]));
    }
    pids
}

fn running(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[cfg(test)]
mod tests {
    use super::writer_pids;

    #[test]
    fn names_of_partial_files() {
        assert_eq!(writer_pids(".heap.jsonl.123.partial"), [123]);
        assert_eq!(writer_pids(".heap.jsonl.123.456.partial"), [456, 123]);
        assert_eq!(writer_pids(".heap.jsonl.123.139912345678.partial"), [123]);
        assert!(writer_pids("heap.jsonl.123.partial").is_empty());
        assert!(writer_pids(".heap.jsonl.partial").is_empty());
        assert!(writer_pids(".heap.jsonl.x.partial").is_empty());
    }
}
