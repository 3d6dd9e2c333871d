//! `summary`: what is in the heap, grouped by type or by module.

use super::facts::{facts, SnapshotFacts};
use crate::snapshot::Snapshot;
use serde::Serialize;

/// How objects are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Type,
    Module,
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
}

pub fn summary(snap: &Snapshot, by: GroupBy, limit: usize) -> Summary {
    let ntypes = snap.types.len();
    let mut count = vec![0u64; ntypes];
    let mut bytes = vec![0u64; ntypes];
    for (&t, s) in snap.objects.type_id.iter().zip(snap.objects.sizes()) {
        count[t as usize] += 1;
        bytes[t as usize] += s;
    }
    for b in &snap.buffers {
        bytes[snap.objects.type_id[b.owner.index()] as usize] += b.size;
    }
    let mut groups: std::collections::HashMap<&str, (u64, u64)> = Default::default();
    for (i, t) in snap.types.iter().enumerate() {
        if count[i] == 0 {
            continue;
        }
        let key = match by {
            GroupBy::Type => t.name.as_str(),
            GroupBy::Module => t.module.as_str(),
        };
        let e = groups.entry(key).or_default();
        e.0 += count[i];
        e.1 += bytes[i];
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
    }
}
