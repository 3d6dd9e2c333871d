//! pymem's small per-machine cache: verdicts that are costly to establish and stay true for
//! one machine and tool version (whether gdb can call into a process here). One JSON file per
//! kind of verdict under `$PYMEM_CACHE_DIR`, else `$XDG_CACHE_HOME/pymem`, else
//! `~/.cache/pymem`. A cache that cannot be read or written is simply not used.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// One remembered verdict: `key` says what it was established for.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Verdict {
    pub key: String,
    pub ok: bool,
    pub reason: String,
    /// Unix seconds when it was established.
    pub time: u64,
}

fn dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PYMEM_CACHE_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d).join("pymem"));
    }
    std::env::var_os("HOME")
        .filter(|d| !d.is_empty())
        .map(|h| PathBuf::from(h).join(".cache/pymem"))
}

fn file(kind: &str) -> Option<PathBuf> {
    dir().map(|d| d.join(format!("{kind}.json")))
}

fn read_all(kind: &str) -> Vec<Verdict> {
    file(kind)
        .and_then(|f| std::fs::read(f).ok())
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// The verdict remembered for `key`, if any.
pub fn lookup(kind: &str, key: &str) -> Option<Verdict> {
    read_all(kind).into_iter().find(|v| v.key == key)
}

/// Remember `verdict` (replacing one with the same key); failures are ignored.
pub fn store(kind: &str, verdict: Verdict) {
    let Some(path) = file(kind) else { return };
    let mut all = read_all(kind);
    all.retain(|v| v.key != verdict.key);
    all.push(verdict);
    let Some(parent) = path.parent() else { return };
    if std::fs::create_dir_all(parent).is_err() {
        return;
    }
    // Written beside and renamed, so a concurrent reader never sees half a file.
    let tmp = path.with_extension(format!("json.{}", std::process::id()));
    if let Ok(text) = serde_json::to_vec_pretty(&all) {
        if std::fs::write(&tmp, text).is_ok() && std::fs::rename(&tmp, &path).is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}
