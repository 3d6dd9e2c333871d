//! An index is untrusted input: before any analysis sees what one holds, every count is
//! checked against the others, every id against the object count, every order the
//! analyses rely on (addresses ascending, sparse columns sorted by id, a dominator before
//! what it dominates, every shortest-path chain ending at a root) is confirmed. A checksum
//! that matches proves only that nothing changed by accident; these checks make a file
//! written by hand as safe to open as one written by pymem.

use crate::graph::paths::{IS_ROOT, UNSEEN};
use crate::graph::Searched;
use crate::snapshot::{ObjId, Snapshot, OVERFLOW};
use rayon::prelude::*;

type Checked = Result<(), String>;

fn ensure(ok: bool, what: impl FnOnce() -> String) -> Checked {
    if ok {
        Ok(())
    } else {
        Err(what())
    }
}

/// Ids strictly ascending and below `n`.
fn sorted_ids<'a>(ids: impl Iterator<Item = &'a ObjId>, n: usize, what: &str) -> Checked {
    let mut last: Option<u32> = None;
    for id in ids {
        ensure((id.0 as usize) < n, || format!("{what}: object {} of {n}", id.0))?;
        ensure(last.is_none_or(|l| l < id.0), || format!("{what} out of order"))?;
        last = Some(id.0);
    }
    Ok(())
}

/// A loaded snapshot's columns agree with each other.
pub fn snapshot(s: &Snapshot) -> Checked {
    let o = &s.objects;
    let n = o.addr.len();
    ensure(n < (u32::MAX - 2) as usize, || format!("{n} objects"))?;
    for (name, len) in [
        ("types", o.type_id.len()),
        ("sizes", o.size.len()),
        ("reference counts", o.refcnt.len()),
        ("lengths", o.len.len()),
    ] {
        ensure(len == n, || format!("{len} {name} for {n} objects"))?;
    }
    ensure(o.addr.par_windows(2).all(|w| w[0] < w[1]), || {
        "addresses out of order".into()
    })?;
    let types = s.types.len();
    ensure(o.type_id.par_iter().all(|&t| (t as usize) < types), || {
        "an object's type is not in the table of types".into()
    })?;
    let edges = o.ref_targets.len();
    ensure(o.ref_start.len() == n + 1, || "reference offsets: wrong count".into())?;
    ensure(o.ref_start.first() == Some(&0), || "reference offsets start past 0".into())?;
    ensure(o.ref_start.last() == Some(&(edges as u32)), || {
        "reference offsets end elsewhere than the references".into()
    })?;
    ensure(o.ref_start.par_windows(2).all(|w| w[0] <= w[1]), || {
        "reference offsets out of order".into()
    })?;
    ensure(o.ref_targets.par_iter().all(|t| (t.0 as usize) < n), || {
        "a reference to an object not in the snapshot".into()
    })?;
    let mut last = None;
    for &(e, l) in &o.edge_labels {
        ensure((e as usize) < edges && (l as usize) < s.labels.len(), || {
            format!("edge label ({e}, {l}) out of range")
        })?;
        ensure(last.is_none_or(|x| x < e), || "edge labels out of order".into())?;
        last = Some(e);
    }
    sorted_ids(o.hashes.iter().map(|h| &h.0), n, "content hashes")?;
    sorted_ids(o.names.iter().map(|h| &h.0), n, "names")?;
    sorted_ids(o.values.iter().map(|h| &h.0), n, "values")?;
    sorted_ids(o.caches.iter().map(|h| &h.0), n, "caches")?;
    sorted_ids(o.traceback.iter().map(|h| &h.0), n, "tracebacks")?;
    ensure(
        o.traceback
            .iter()
            .all(|&(_, t)| (t as usize) < s.tracebacks.len()),
        || "an allocation traceback not in the table".into(),
    )?;
    sorted_ids(o.big_sizes.iter().map(|h| &h.0), n, "large sizes")?;
    let overflowing = o.size.par_iter().filter(|&&x| x == OVERFLOW).count();
    ensure(
        overflowing == o.big_sizes.len()
            && o.big_sizes.iter().all(|(id, _)| o.size[id.index()] == OVERFLOW),
        || "large sizes do not match the objects that have them".into(),
    )?;
    ensure(s.buffers.iter().all(|b| b.owner.index() < n), || {
        "an owned buffer of an object not in the snapshot".into()
    })?;
    ensure(s.roots.iter().all(|r| r.obj.index() < n), || {
        "a root not in the snapshot".into()
    })?;
    ensure(
        s.arenas
            .iter()
            .all(|a| a.pools.start <= a.pools.end && a.pools.end as usize <= s.pools.len()),
        || "an arena's pools are not in the table of pools".into(),
    )?;
    Ok(())
}

/// What the graph searches found fits the snapshot's graph: the numbering is a bijection,
/// dominators precede what they dominate, and path steps follow real edges back to roots.
pub fn searched(g: &Searched, s: &Snapshot) -> Checked {
    let o = &s.objects;
    let n = o.addr.len();
    let nodes = n + 1;
    for (name, len, want) in [
        ("preorder", g.order.len(), nodes),
        ("numbers", g.num.len(), nodes),
        ("dominators", g.idom.len(), nodes),
        ("path parents", g.path_parent.len(), n),
        ("path edges", g.path_via.len(), n),
    ] {
        ensure(len == want, || format!("{len} {name} for {n} objects"))?;
    }
    ensure(g.order.first() == Some(&(n as u32)), || {
        "the preorder does not start at the virtual root".into()
    })?;
    ensure(
        g.order
            .par_iter()
            .enumerate()
            .all(|(i, &v)| (v as usize) < nodes && g.num[v as usize] as usize == i),
        || "the preorder and its numbers disagree".into(),
    )?;
    ensure(g.reachable_below as usize <= nodes, || "reachable count".into())?;
    ensure(g.real_roots as usize <= g.root_succ.len(), || "root count".into())?;
    ensure(g.root_succ.iter().all(|&r| (r as usize) < n), || {
        "a root not in the snapshot".into()
    })?;
    ensure(g.idom[n] as usize == n, || "the virtual root's dominator".into())?;
    ensure(
        g.idom[..n]
            .par_iter()
            .enumerate()
            .all(|(v, &d)| (d as usize) < nodes && g.num[d as usize] < g.num[v]),
        || "a dominator that does not precede what it dominates".into(),
    )?;
    let (parent, via) = (&g.path_parent, &g.path_via);
    ensure(
        (0..n).into_par_iter().all(|v| match parent[v] {
            UNSEEN | IS_ROOT => true,
            p if (p as usize) < n => {
                let e = via[v] as usize;
                let range = o.ref_start[p as usize] as usize..o.ref_start[p as usize + 1] as usize;
                range.contains(&e) && o.ref_targets[e].index() == v && parent[p as usize] != UNSEEN
            }
            _ => false,
        }),
        || "a path step that follows no reference".into(),
    )?;
    ensure(chains_end(parent), || "a cycle of path steps".into())
}

/// Every chain of parents ends at a root (no cycle), in one pass: each node is walked once.
fn chains_end(parent: &[u32]) -> bool {
    const NEW: u8 = 0;
    const WALKING: u8 = 1;
    const DONE: u8 = 2;
    let mut state = vec![NEW; parent.len()];
    let mut walk = Vec::new();
    for start in 0..parent.len() {
        let mut v = start;
        while state[v] == NEW {
            state[v] = WALKING;
            walk.push(v);
            match parent[v] {
                UNSEEN | IS_ROOT => break,
                p => v = p as usize,
            }
        }
        if state[v] == WALKING && !matches!(parent[v], UNSEEN | IS_ROOT) {
            return false;
        }
        for w in walk.drain(..) {
            state[w] = DONE;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::chains_end;
    use crate::graph::paths::IS_ROOT;

    #[test]
    fn cycles_of_path_steps_are_found() {
        assert!(chains_end(&[IS_ROOT, 0, 1, 1]));
        assert!(!chains_end(&[IS_ROOT, 2, 1]));
        assert!(!chains_end(&[0]));
    }
}
