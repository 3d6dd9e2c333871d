//! `frag A B`: how footprint, fragmentation and pinning changed between two snapshots.

use super::Frag;
use serde::Serialize;
use std::collections::HashMap;

/// `frag A B`: how footprint, fragmentation and pinning changed.
#[derive(Debug, Clone, Serialize)]
pub struct FragChange {
    pub a: Frag,
    pub b: Frag,
    /// Groups in either snapshot, by the change in attributed bytes (largest first).
    pub groups: Vec<GroupChange>,
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupChange {
    pub key: String,
    pub attributed_a: u64,
    pub attributed_b: u64,
    pub blocks_a: u64,
    pub blocks_b: u64,
}

/// Compare two results computed with an unlimited finding list; keeps `limit` of each.
pub fn frag_change(mut a: Frag, mut b: Frag, limit: usize) -> FragChange {
    let mut by_key: HashMap<&str, GroupChange> = HashMap::new();
    for (f, first) in [(&a, true), (&b, false)] {
        for g in &f.findings {
            let e = by_key.entry(&g.key).or_insert_with(|| GroupChange {
                key: g.key.clone(),
                attributed_a: 0,
                attributed_b: 0,
                blocks_a: 0,
                blocks_b: 0,
            });
            if first {
                e.attributed_a = g.attributed_bytes;
                e.blocks_a = g.blocks;
            } else {
                e.attributed_b = g.attributed_bytes;
                e.blocks_b = g.blocks;
            }
        }
    }
    let mut groups: Vec<GroupChange> = by_key.into_values().collect();
    groups.sort_by(|x, y| {
        let dx = (x.attributed_b as i64 - x.attributed_a as i64).unsigned_abs();
        let dy = (y.attributed_b as i64 - y.attributed_a as i64).unsigned_abs();
        dy.cmp(&dx).then(x.key.cmp(&y.key))
    });
    groups.truncate(limit);
    for f in [&mut a, &mut b] {
        f.more_findings += f.findings.len().saturating_sub(limit);
        f.findings.truncate(limit);
    }
    FragChange { a, b, groups }
}
