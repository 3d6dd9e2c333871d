//! What was captured: the facts every report opens with.

use crate::snapshot::{RootKind, Snapshot};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize)]
pub struct SnapshotFacts {
    pub path: String,
    pub python: String,
    pub allocator: String,
    pub debug_hooks: bool,
    pub pid: Option<u64>,
    pub argv: Vec<String>,
    /// Unix time of the capture.
    pub time: Option<f64>,
    pub rss: Option<u64>,
    pub complete: bool,
    /// Bytes of an incomplete last line left out (`--partial`).
    pub dropped_tail_bytes: u64,
    /// Reference counts that changed during the capture (recorded as 0).
    pub rc_changed: u64,
    /// Reference counts that were negative in the process's memory (recorded as 0).
    pub negative_refcounts: u64,
    /// Objects whose referents were cut short (corrupt memory), by type name.
    pub cut: Vec<(String, u64)>,
    pub objects: u64,
    pub types: u64,
    pub refs: u64,
    pub dangling_refs: u64,
    /// Bytes of the objects' own blocks.
    pub bytes_in_objects: u64,
    /// Bytes of separate buffers owned by objects (list items, dict tables, ...).
    pub bytes_in_buffers: u64,
    pub roots: BTreeMap<String, u64>,
    pub arenas: Option<ArenaFacts>,
    pub missing: Vec<String>,
    /// How it was captured: `agent` (inside the process), `read` (from outside), `core`.
    pub method: String,
    /// Read from outside: milliseconds the process was stopped.
    pub stopped_ms: Option<f64>,
    /// Read from outside: objects whose references were found by scanning, in all, and of
    /// how many types.
    pub scanned_objects: u64,
    pub scanned_types: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ArenaFacts {
    pub arenas: u64,
    pub arena_size: u64,
    pub pool_size: u64,
    /// Bytes the arenas hold from the OS.
    pub bytes_held: u64,
    /// Bytes in allocated blocks (sum of used blocks × block size over all pools).
    pub bytes_in_use: u64,
    pub blocks_in_use: u64,
    /// "arenas allocated current" of `sys._debugmallocstats()` at capture, when recorded.
    pub mallocstats_arenas: Option<u64>,
    pub mallocstats_blocks: Option<u64>,
}

pub fn facts(snap: &Snapshot) -> SnapshotFacts {
    let h = &snap.header;
    let totals = snap.totals();
    let mut roots: BTreeMap<String, u64> = BTreeMap::new();
    for r in &snap.roots {
        let k = match r.kind {
            RootKind::Module => "module",
            RootKind::Frame => "frame",
            RootKind::Local => "local",
            RootKind::Interpreter => "interpreter",
            RootKind::External => "external",
            RootKind::Other => "other",
        };
        *roots.entry(k.to_string()).or_default() += 1;
    }
    let arenas = if snap.has_pools() {
        let (mut blocks, mut bytes) = (0u64, 0u64);
        for p in &snap.pools {
            blocks += p.used_blocks as u64;
            bytes += p.used_blocks as u64 * (p.size_class as u64 + 1) * 16;
        }
        let arena_size = h.allocator.arena_size.unwrap_or(0);
        let ms = h.mallocstats.as_ref();
        Some(ArenaFacts {
            arenas: snap.arenas.len() as u64,
            arena_size,
            pool_size: h.allocator.pool_size.unwrap_or(0),
            bytes_held: snap.arenas.len() as u64 * arena_size,
            bytes_in_use: bytes,
            blocks_in_use: blocks,
            mallocstats_arenas: ms
                .and_then(|m| m.counters.get("arenas_allocated_current").copied()),
            mallocstats_blocks: ms.filter(|m| m.pymalloc).map(|m| m.blocks_in_use),
        })
    } else {
        None
    };
    SnapshotFacts {
        path: snap.path.display().to_string(),
        python: format!("{} {}", h.python.implementation, h.python.version)
            .trim()
            .to_string(),
        allocator: h.allocator.name.clone(),
        debug_hooks: h.allocator.debug_hooks,
        pid: h.pid,
        argv: h.argv.clone(),
        time: h.time,
        rss: h.rss,
        complete: snap.end.is_some(),
        dropped_tail_bytes: snap.dropped_tail,
        rc_changed: snap.end.as_ref().map_or(0, |e| e.rc_changed),
        negative_refcounts: snap.end.as_ref().map_or(0, |e| e.negative_refcounts),
        cut: snap.end.as_ref().map_or_else(Vec::new, |e| e.cut.clone()),
        objects: totals.objects,
        types: snap.types.len() as u64,
        refs: totals.refs,
        dangling_refs: snap.dangling_refs,
        bytes_in_objects: totals.bytes_in_objects,
        bytes_in_buffers: totals.bytes_in_buffers,
        roots,
        arenas,
        missing: h.missing.clone(),
        method: h
            .capture
            .as_ref()
            .map_or("agent".to_string(), |c| c.method.clone()),
        stopped_ms: h.capture.as_ref().and_then(|c| c.stopped_ms),
        scanned_objects: snap
            .end
            .as_ref()
            .map_or(0, |e| e.scanned.iter().map(|(_, n)| n).sum()),
        scanned_types: snap.end.as_ref().map_or(0, |e| e.scanned.len() as u64),
    }
}
