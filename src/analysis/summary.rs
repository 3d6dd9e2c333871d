//! `summary`: what is in the heap, grouped by type or by module.

use super::overview::{facts, SnapshotFacts};
use super::rss::{rss_breakdown, RssBreakdown};
use super::sites::{Frames, Sites};
use crate::snapshot::{EdgeLabel, Snapshot};
use serde::Serialize;

/// How objects are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Type,
    Module,
    /// Allocation site (innermost traceback frame), for snapshots with tracebacks.
    Traceback,
}

#[derive(Debug, Clone, Serialize)]
pub struct SummaryRow {
    pub key: String,
    pub count: u64,
    /// Bytes of the objects' blocks plus the buffers they own.
    pub bytes: u64,
    /// Share of all object bytes, 0..=1.
    pub share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub snapshot: SnapshotFacts,
    pub by: GroupBy,
    /// Rows by bytes, largest first (at most `limit`).
    pub rows: Vec<SummaryRow>,
    /// Groups in total, before the limit.
    pub groups: usize,
    pub total_count: u64,
    pub total_bytes: u64,
    /// With folding: instance `__dict__`s counted in their owners' rows (count, bytes).
    pub folded_dicts: Option<(u64, u64)>,
    /// What the resident memory was made of, when the capture measured it.
    pub memory: Option<RssBreakdown>,
}

/// Instance `__dict__`s: dicts reached through a `.__dict__` edge from an object that is
/// not a module or a class, and referenced by nothing else. Returns (dict, owner) pairs.
fn instance_dicts(snap: &Snapshot) -> Vec<(usize, usize)> {
    let objs = &snap.objects;
    let Some(label) = snap.labels.iter().position(|l| &**l == ".__dict__") else {
        return Vec::new();
    };
    let mut indeg = vec![0u32; objs.count()];
    for t in &objs.ref_targets {
        indeg[t.index()] = indeg[t.index()].saturating_add(1);
    }
    let owner_of = |e: u32| objs.ref_start.partition_point(|&s| s <= e) - 1;
    objs.edge_labels
        .iter()
        .filter(|l| l.label as usize == label)
        .filter_map(|&EdgeLabel { edge: e, .. }| {
            let dict = objs.ref_targets[e as usize].index();
            let owner = owner_of(e);
            let owner_type = snap.types[objs.type_id[owner] as usize].name.as_str();
            let dict_type = snap.types[objs.type_id[dict] as usize].name.as_str();
            (dict_type == "dict"
                && indeg[dict] == 1
                && owner_type != "module"
                && !is_class(snap, owner))
            .then_some((dict, owner))
        })
        .collect()
}

fn is_class(snap: &Snapshot, id: usize) -> bool {
    // Classes are the objects some type record points at.
    let addr = snap.objects.addr[id];
    snap.types.iter().any(|t| t.addr == addr)
}

pub fn summary(snap: &Snapshot, by: GroupBy, frames: Frames, limit: usize, fold: bool) -> Summary {
    let totals = snap.totals();
    let mut count = totals.type_counts.clone();
    let mut bytes = totals.type_bytes.clone();
    let mut folded_dicts = None;
    if fold {
        let owned = snap.owned_bytes();
        let (mut n, mut b) = (0u64, 0u64);
        for (dict, owner) in instance_dicts(snap) {
            let (dt, ot) = (
                snap.objects.type_id[dict] as usize,
                snap.objects.type_id[owner] as usize,
            );
            count[dt] = count[dt].saturating_sub(1);
            bytes[dt] = bytes[dt].saturating_sub(owned[dict]);
            bytes[ot] += owned[dict];
            n += 1;
            b += owned[dict];
        }
        folded_dicts = Some((n, b));
    }
    let mut groups: std::collections::HashMap<&str, (u64, u64)> = Default::default();
    let sites = (by == GroupBy::Traceback).then(|| Sites::new(snap, frames));
    if let Some(sites) = &sites {
        for (i, b) in snap.owned_bytes().into_iter().enumerate() {
            let e = groups.entry(sites.name(i)).or_default();
            e.0 += 1;
            e.1 += b;
        }
    } else {
        for (i, t) in snap.types.iter().enumerate() {
            if count[i] == 0 {
                continue;
            }
            let key = match by {
                GroupBy::Module => t.module.as_str(),
                _ => t.name.as_str(),
            };
            let e = groups.entry(key).or_default();
            e.0 += count[i];
            e.1 += bytes[i];
        }
    }
    let total_bytes: u64 = bytes.iter().sum();
    let total_count: u64 = count.iter().sum();
    let mut rows: Vec<SummaryRow> = groups
        .into_iter()
        .map(|(k, (c, b))| SummaryRow {
            key: k.to_string(),
            count: c,
            bytes: b,
            share: if total_bytes > 0 {
                b as f64 / total_bytes as f64
            } else {
                0.0
            },
        })
        .collect();
    rows.sort_by(|a, b| {
        b.bytes
            .cmp(&a.bytes)
            .then(b.count.cmp(&a.count))
            .then(a.key.cmp(&b.key))
    });
    let ngroups = rows.len();
    rows.truncate(limit);
    Summary {
        snapshot: facts(snap),
        by,
        rows,
        groups: ngroups,
        total_count,
        total_bytes,
        folded_dicts,
        memory: rss_breakdown(snap),
    }
}
