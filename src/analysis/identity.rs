//! Object identity across snapshots of one process.
//!
//! CPython has no object ids beyond addresses, so an object in a later snapshot is taken to
//! be the same as one in an earlier snapshot when it sits at the same address with the same
//! type (same name and same type object), and, for objects whose length and content cannot
//! change (str, bytes, tuple), the same length and content hash. An object freed and replaced
//! by a new one of the same type at the same address between the two captures is therefore
//! seen as unchanged; allocation tracebacks, where recorded, are the only way to tell.

use crate::error::{Error, Result};
use crate::snapshot::{ObjId, Snapshot, OVERFLOW};
use std::collections::HashMap;

/// Marks an object with no counterpart.
pub const NO_MATCH: u32 = u32::MAX;

/// For every object of `later`, the id of the same object in `earlier`, or [`NO_MATCH`].
/// Both snapshots list objects in address order, so one merge pass does it.
pub fn match_objects(earlier: &Snapshot, later: &Snapshot) -> Vec<u32> {
    let type_map = map_types(earlier, later);
    let immutable: Vec<bool> = later
        .types
        .iter()
        .map(|t| matches!(t.name.as_str(), "str" | "bytes" | "tuple"))
        .collect();
    let (ea, la) = (&earlier.objects, &later.objects);
    let mut out = vec![NO_MATCH; la.count()];
    let mut i = 0usize;
    for (j, &addr) in la.addr.iter().enumerate() {
        while i < ea.addr.len() && ea.addr[i] < addr {
            i += 1;
        }
        if i == ea.addr.len() {
            break;
        }
        if ea.addr[i] != addr {
            continue;
        }
        let lt = la.type_id[j];
        if type_map[lt as usize] != ea.type_id[i] {
            continue;
        }
        if immutable[lt as usize] && !same_content(earlier, ObjId(i as u32), later, ObjId(j as u32))
        {
            continue;
        }
        out[j] = i as u32;
    }
    out
}

/// Later type id → earlier type id with the same name and type object ([`NO_MATCH`] if none).
fn map_types(earlier: &Snapshot, later: &Snapshot) -> Vec<u32> {
    let index: HashMap<(u64, &str), u32> = earlier
        .types
        .iter()
        .enumerate()
        .map(|(i, t)| ((t.addr, t.name.as_str()), i as u32))
        .collect();
    later
        .types
        .iter()
        .map(|t| {
            index
                .get(&(t.addr, t.name.as_str()))
                .copied()
                .unwrap_or(NO_MATCH)
        })
        .collect()
}

fn same_content(a: &Snapshot, ia: ObjId, b: &Snapshot, ib: ObjId) -> bool {
    let (la, lb) = (a.objects.len[ia.index()], b.objects.len[ib.index()]);
    if la != OVERFLOW && lb != OVERFLOW && la != lb {
        return false;
    }
    match (a.objects.hash(ia), b.objects.hash(ib)) {
        (Some(x), Some(y)) => x == y,
        _ => true,
    }
}

/// The object of `to` at the address of `id` in `from`, when it has the same type name: the
/// cheap lookup for a few objects already known to pre-exist (no content check).
pub fn counterpart(from: &Snapshot, id: ObjId, to: &Snapshot) -> Option<ObjId> {
    let found = to.objects.find(from.objects.addr[id.index()])?;
    (to.type_of(found).name == from.type_of(id).name).then_some(found)
}

/// Whether identities can be compared at all: both snapshots come from one process (same
/// pid where recorded). Returns why not, otherwise `None`.
pub fn incomparable(earlier: &Snapshot, later: &Snapshot) -> Option<String> {
    match (earlier.header.pid, later.header.pid) {
        (Some(a), Some(b)) if a != b => Some(format!(
            "the snapshots come from different processes (pid {a} and {b}): addresses say nothing about identity"
        )),
        _ => None,
    }
}

/// Objects of `earlier` that `matches` (from [`match_objects`]) never points at: gone.
pub fn gone_mask(earlier: &Snapshot, matches: &[u32]) -> Vec<bool> {
    let mut gone = vec![true; earlier.objects.count()];
    for &m in matches {
        if m != NO_MATCH {
            gone[m as usize] = false;
        }
    }
    gone
}

/// Snapshots must come from one process and be given oldest first.
pub fn check_order(snaps: &[&Snapshot]) -> Result<()> {
    if !(2..=3).contains(&snaps.len()) {
        return Err(Error::Usage(
            "give two snapshots (A B) or three (A B C)".into(),
        ));
    }
    for w in snaps.windows(2) {
        if let Some(why) = incomparable(w[0], w[1]) {
            return Err(Error::file(&w[1].path, why));
        }
        if let (Some(t0), Some(t1)) = (w[0].header.time, w[1].header.time) {
            if t1 < t0 {
                return Err(Error::file(
                    &w[1].path,
                    format!(
                        "taken before {} — give the snapshots oldest first",
                        w[0].path.display()
                    ),
                ));
            }
        }
    }
    Ok(())
}
