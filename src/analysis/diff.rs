//! `diff`: what changed between two snapshots — per type or module, counts and bytes before
//! and after, plus the objects that are new or gone by identity (see [`super::identity`]).

use super::identity::{gone_mask, incomparable, match_objects, NO_MATCH};
use super::overview::{facts, SnapshotFacts};
use super::python_path::hex;
use super::sites::{Frames, Sites};
use crate::snapshot::{ObjId, Snapshot};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiffBy {
    Type,
    Module,
    /// Allocation site (innermost traceback frame).
    Traceback,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct DiffRow {
    pub key: String,
    pub count_a: u64,
    pub bytes_a: u64,
    pub count_b: u64,
    pub bytes_b: u64,
    pub count_delta: i64,
    pub bytes_delta: i64,
    /// Objects of B not in A, by identity (`None` when identities are not comparable).
    pub new: Option<u64>,
    pub new_bytes: Option<u64>,
    /// Objects of A not in B.
    pub gone: Option<u64>,
    pub gone_bytes: Option<u64>,
}

/// One object that appeared or disappeared.
#[derive(Debug, Clone, Serialize)]
pub struct ChangedObject {
    pub addr: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// Own bytes plus owned buffers.
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct AllocatorDelta {
    pub arenas_a: u64,
    pub arenas_b: u64,
    pub bytes_held_a: u64,
    pub bytes_held_b: u64,
    pub bytes_in_use_a: u64,
    pub bytes_in_use_b: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Diff {
    pub a: SnapshotFacts,
    pub b: SnapshotFacts,
    pub by: DiffBy,
    /// Rows by absolute byte delta, largest first (at most `limit`).
    pub rows: Vec<DiffRow>,
    /// Groups that changed at all, before the limit.
    pub changed_groups: usize,
    pub totals: DiffRow,
    /// Why new/gone objects are not reported, when they are not.
    pub identity_note: Option<String>,
    /// The largest new objects (at most `limit`).
    pub new_objects: Vec<ChangedObject>,
    /// The largest gone objects (at most `limit`).
    pub gone_objects: Vec<ChangedObject>,
    /// pymalloc arenas in both, when both recorded them.
    pub allocator: Option<AllocatorDelta>,
    pub rss_a: Option<u64>,
    pub rss_b: Option<u64>,
}

/// Group index of every object of one snapshot (keys shared across snapshots).
fn group_of_objects(
    snap: &Snapshot,
    by: DiffBy,
    frames: Frames,
    keys: &mut Vec<String>,
    index: &mut HashMap<String, usize>,
) -> Vec<usize> {
    let mut key = |k: &str| -> usize {
        if let Some(&i) = index.get(k) {
            return i;
        }
        keys.push(k.to_string());
        index.insert(k.to_string(), keys.len() - 1);
        keys.len() - 1
    };
    if by == DiffBy::Traceback {
        let sites = Sites::new(snap, frames);
        let per_site: Vec<usize> = sites.names.iter().map(|n| key(n)).collect();
        return sites.of.iter().map(|&s| per_site[s as usize]).collect();
    }
    let per_type: Vec<usize> = snap
        .types
        .iter()
        .map(|t| match by {
            DiffBy::Module => key(&t.module),
            _ => key(&t.name),
        })
        .collect();
    snap.objects
        .type_id
        .iter()
        .map(|&t| per_type[t as usize])
        .collect()
}

fn largest(snap: &Snapshot, owned: &[u64], mask: &[bool], limit: usize) -> Vec<ChangedObject> {
    let mut ids: Vec<u32> = (0..mask.len() as u32)
        .filter(|&i| mask[i as usize])
        .collect();
    let key = |i: &u32| (std::cmp::Reverse(owned[*i as usize]), *i);
    if ids.len() > limit {
        ids.select_nth_unstable_by_key(limit, key);
        ids.truncate(limit);
    }
    ids.sort_unstable_by_key(key);
    ids.into_iter()
        .map(|i| ChangedObject {
            addr: hex(snap.objects.addr[i as usize]),
            type_name: snap.type_of(ObjId(i)).name.clone(),
            bytes: owned[i as usize],
        })
        .collect()
}

pub fn diff(a: &Snapshot, b: &Snapshot, by: DiffBy, frames: Frames, limit: usize) -> Diff {
    let mut keys: Vec<String> = Vec::new();
    let mut index = HashMap::new();
    let ga = group_of_objects(a, by, frames, &mut keys, &mut index);
    let gb = group_of_objects(b, by, frames, &mut keys, &mut index);
    let identity_note = incomparable(a, b);
    let zero = identity_note.is_none().then_some(0);
    let mut rows: Vec<DiffRow> = keys
        .iter()
        .map(|k| DiffRow {
            key: k.to_string(),
            new: zero,
            new_bytes: zero,
            gone: zero,
            gone_bytes: zero,
            ..Default::default()
        })
        .collect();
    let (own_a, own_b) = (a.owned_bytes(), b.owned_bytes());
    for (g, s) in ga.iter().zip(&own_a) {
        let r = &mut rows[*g];
        r.count_a += 1;
        r.bytes_a += s;
    }
    for (g, s) in gb.iter().zip(&own_b) {
        let r = &mut rows[*g];
        r.count_b += 1;
        r.bytes_b += s;
    }
    let (mut new_mask, mut gone) = (Vec::new(), Vec::new());
    if identity_note.is_none() {
        let matches = match_objects(a, b);
        new_mask = matches.iter().map(|&m| m == NO_MATCH).collect();
        gone = gone_mask(a, &matches);
        for (i, &is_new) in new_mask.iter().enumerate() {
            if is_new {
                let r = &mut rows[gb[i]];
                *r.new.get_or_insert(0) += 1;
                *r.new_bytes.get_or_insert(0) += own_b[i];
            }
        }
        for (i, &is_gone) in gone.iter().enumerate() {
            if is_gone {
                let r = &mut rows[ga[i]];
                *r.gone.get_or_insert(0) += 1;
                *r.gone_bytes.get_or_insert(0) += own_a[i];
            }
        }
    }
    let mut totals = DiffRow {
        key: "total".into(),
        ..Default::default()
    };
    for r in rows.iter_mut() {
        r.count_delta = r.count_b as i64 - r.count_a as i64;
        r.bytes_delta = r.bytes_b as i64 - r.bytes_a as i64;
        totals.count_a += r.count_a;
        totals.bytes_a += r.bytes_a;
        totals.count_b += r.count_b;
        totals.bytes_b += r.bytes_b;
        let add = |t: &mut Option<u64>, v: Option<u64>| {
            if let Some(v) = v {
                *t = Some(t.unwrap_or(0) + v);
            }
        };
        add(&mut totals.new, r.new);
        add(&mut totals.new_bytes, r.new_bytes);
        add(&mut totals.gone, r.gone);
        add(&mut totals.gone_bytes, r.gone_bytes);
    }
    totals.count_delta = totals.count_b as i64 - totals.count_a as i64;
    totals.bytes_delta = totals.bytes_b as i64 - totals.bytes_a as i64;
    rows.retain(|r| {
        r.count_delta != 0
            || r.bytes_delta != 0
            || r.new.unwrap_or(0) != 0
            || r.gone.unwrap_or(0) != 0
    });
    rows.sort_by(|x, y| {
        y.bytes_delta
            .unsigned_abs()
            .cmp(&x.bytes_delta.unsigned_abs())
            .then(y.new_bytes.cmp(&x.new_bytes))
            .then(x.key.cmp(&y.key))
    });
    let changed_groups = rows.len();
    rows.truncate(limit);
    let (fa, fb) = (facts(a), facts(b));
    let allocator = match (&fa.arenas, &fb.arenas) {
        (Some(x), Some(y)) => Some(AllocatorDelta {
            arenas_a: x.arenas,
            arenas_b: y.arenas,
            bytes_held_a: x.bytes_held,
            bytes_held_b: y.bytes_held,
            bytes_in_use_a: x.bytes_in_use,
            bytes_in_use_b: y.bytes_in_use,
        }),
        _ => None,
    };
    Diff {
        rss_a: a.header.rss,
        rss_b: b.header.rss,
        a: fa,
        b: fb,
        by,
        rows,
        changed_groups,
        totals,
        new_objects: largest(b, &own_b, &new_mask, limit),
        gone_objects: largest(a, &own_a, &gone, limit),
        identity_note,
        allocator,
    }
}
