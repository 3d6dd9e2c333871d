//! Native growth: memory outside Python objects that grows between snapshots of one process
//! (a C extension's or a C library's leak: the Python object count stays flat while the C
//! heap grows). Measured from each snapshot's RSS account: the bytes the C allocator has in
//! use that no Python object or owned buffer of the snapshot accounts for, plus the other
//! anonymous memory (mappings that are neither pymalloc's arenas, nor the C heap, nor
//! stacks). pymem cannot say which C code allocated these bytes — no snapshot records C
//! call stacks — but it says how much, in which part, in which rounds, and which extension
//! types' instance counts moved alongside.

use super::frameworks::library_module;
use super::overview::SnapshotFacts;
use super::rss::{python_outside_pymalloc, rss_breakdown};
use crate::capture::facts::flags::HEAPTYPE;
use crate::snapshot::Snapshot;
use serde::Serialize;
use std::collections::BTreeMap;

/// Allowed growth outside Python objects, first snapshot to last, before it counts as a
/// native leak: above what a C library's caches and glibc's bookkeeping move by between
/// rounds of a steady program, below what a leak of a few kilobytes per request makes in a
/// few thousand requests.
pub const DEFAULT_MAX_NATIVE_GROWTH: u64 = 4 << 20;

/// One part of the memory outside Python objects, in each snapshot.
#[derive(Debug, Clone, Serialize)]
pub struct NativePart {
    /// `c_heap_unaccounted` or `other_anonymous`.
    pub part: &'static str,
    pub bytes: Vec<Option<u64>>,
    /// Last minus first, where both are known.
    pub growth_bytes: Option<i64>,
}

/// An extension (C-defined) type whose instance count changed between the first snapshot
/// and the last.
#[derive(Debug, Clone, Serialize)]
pub struct ExtensionType {
    #[serde(rename = "type")]
    pub type_name: String,
    pub module: String,
    pub count_first: u64,
    pub count_last: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct NativeGrowth {
    /// The parts, in each snapshot.
    pub parts: Vec<NativePart>,
    /// The parts added up, in each snapshot (`None` where a part is unknown).
    pub total: Vec<Option<u64>>,
    /// RSS at each capture.
    pub rss: Vec<Option<u64>>,
    /// Bytes of Python objects and their buffers in each snapshot.
    pub python_bytes: Vec<u64>,
    pub growth_bytes: i64,
    pub growth_per_round: i64,
    /// The total rose between every pair of consecutive snapshots.
    pub grew_every_round: bool,
    /// Grew in every round and by more than `max_growth` in all: a native leak.
    pub leak: bool,
    pub max_growth: u64,
    /// Extension types whose instance counts changed, most changed first (at most ten).
    pub extension_types: Vec<ExtensionType>,
    /// Whether the C allocator's own figures were read in every snapshot; without them the
    /// C heap part is its mappings' resident size, which also holds its free memory.
    pub c_allocator_measured: bool,
}

/// Native growth across `snaps` (oldest first), or `None` when a snapshot has no RSS account
/// (captured before pymem recorded one, or on a platform without /proc).
pub fn native_growth(
    snaps: &[&Snapshot],
    facts: &[SnapshotFacts],
    max_growth: u64,
) -> Option<NativeGrowth> {
    let mut c_heap = Vec::new();
    let mut anon = Vec::new();
    let mut rss = Vec::new();
    let mut python_bytes = Vec::new();
    let mut measured = true;
    for (s, f) in snaps.iter().zip(facts) {
        let b = rss_breakdown(s)?;
        let part = |name: &str| b.parts.iter().find(|p| p.part == name).map(|p| p.bytes);
        let unaccounted = match &b.c_heap {
            Some(c) => Some(c.other),
            None => {
                measured = false;
                part("c_heap").map(|h| h.saturating_sub(python_outside_pymalloc(s)))
            }
        };
        c_heap.push(unaccounted);
        anon.push(part("other_anonymous"));
        rss.push(Some(b.rss));
        python_bytes.push(f.bytes_in_objects.saturating_add(f.bytes_in_buffers));
    }
    let growth = |xs: &[Option<u64>]| match (xs.first(), xs.last()) {
        (Some(Some(a)), Some(Some(b))) => Some(*b as i64 - *a as i64),
        _ => None,
    };
    let total: Vec<Option<u64>> = c_heap
        .iter()
        .zip(&anon)
        .map(|(c, a)| Some(c.unwrap_or(0).saturating_add(a.unwrap_or(0))).filter(|_| c.is_some()))
        .collect();
    let rounds = (snaps.len().max(2) - 1) as i64;
    let growth_bytes = growth(&total).unwrap_or(0);
    let grew_every_round =
        total.iter().all(Option::is_some) && total.windows(2).all(|w| w[1] > w[0]);
    let parts = vec![
        NativePart {
            part: "c_heap_unaccounted",
            growth_bytes: growth(&c_heap),
            bytes: c_heap,
        },
        NativePart {
            part: "other_anonymous",
            growth_bytes: growth(&anon),
            bytes: anon,
        },
    ];
    Some(NativeGrowth {
        parts,
        total,
        rss,
        python_bytes,
        growth_bytes,
        growth_per_round: growth_bytes / rounds,
        grew_every_round,
        leak: grew_every_round && growth_bytes > max_growth as i64,
        max_growth,
        extension_types: extension_types(snaps[0], snaps[snaps.len() - 1]),
        c_allocator_measured: measured,
    })
}

/// Types defined by C code outside the standard library (an extension module's), whose
/// instance counts differ between `first` and `last`. Types are matched by module and name.
fn extension_types(first: &Snapshot, last: &Snapshot) -> Vec<ExtensionType> {
    let counts = |s: &Snapshot| {
        let mut per_type = vec![0u64; s.types.len()];
        for &t in &s.objects.type_id {
            per_type[t as usize] += 1;
        }
        let mut out: BTreeMap<(String, String), u64> = BTreeMap::new();
        for (t, n) in s.types.iter().zip(per_type) {
            let from_c = t.python_class == Some(false)
                || (t.python_class.is_none() && t.flags & HEAPTYPE == 0);
            if from_c && t.module != "builtins" && !library_module(&t.module) {
                *out.entry((t.module.clone(), t.name.clone())).or_default() += n;
            }
        }
        out
    };
    let (a, b) = (counts(first), counts(last));
    let mut keys: Vec<&(String, String)> = a.keys().chain(b.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out: Vec<ExtensionType> = keys
        .into_iter()
        .filter_map(|k| {
            let (x, y) = (
                a.get(k).copied().unwrap_or(0),
                b.get(k).copied().unwrap_or(0),
            );
            (x != y).then(|| ExtensionType {
                type_name: k.1.clone(),
                module: k.0.clone(),
                count_first: x,
                count_last: y,
            })
        })
        .collect();
    // Most changed first; ties by module, then name.
    out.sort_by(|p, q| {
        let d = |e: &ExtensionType| e.count_last.abs_diff(e.count_first);
        d(q).cmp(&d(p))
            .then(p.module.cmp(&q.module))
            .then(p.type_name.cmp(&q.type_name))
    });
    out.truncate(10);
    out
}
