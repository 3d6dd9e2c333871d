//! An index is untrusted input: before any analysis sees what one holds, every count is
//! checked against the others, every id against the object count, every order the
//! analyses rely on (addresses ascending, sparse columns sorted by id, a dominator before
//! what it dominates, every shortest-path chain ending at a root) is confirmed. A checksum
//! that matches proves only that nothing changed by accident; these checks make a file
//! written by hand as safe to open as one written by pymem.

use crate::graph::paths::{IS_ROOT, UNSEEN};
use crate::graph::Searched;
use crate::snapshot::{ObjId, Snapshot, FORMAT_NAME, FORMAT_VERSION, OVERFLOW};
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
        ensure((id.0 as usize) < n, || {
            format!("{what}: object {} of {n}", id.0)
        })?;
        ensure(last.is_none_or(|l| l < id.0), || {
            format!("{what} out of order")
        })?;
        last = Some(id.0);
    }
    Ok(())
}

/// A loaded snapshot's columns agree with each other, and hold nothing the loader would
/// have refused (sizes beyond any heap, a format it does not read).
pub fn snapshot(s: &Snapshot) -> Checked {
    let o = &s.objects;
    let n = o.addr.len();
    let h = &s.header;
    ensure(
        h.format == FORMAT_NAME && (1..=FORMAT_VERSION).contains(&h.version),
        || format!("a snapshot of format {:?} version {}", h.format, h.version),
    )?;
    ensure(
        s.end.as_ref().is_some_and(|e| e.objects == n as u64),
        || "its end record does not count its objects".into(),
    )?;
    ensure(s.pools.iter().all(|p| p.size_class <= 63), || {
        "a pool of a size class pymalloc does not have".into()
    })?;
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
    ensure(o.ref_start.len() == n + 1, || {
        "reference offsets: wrong count".into()
    })?;
    ensure(o.ref_start.first() == Some(&0), || {
        "reference offsets start past 0".into()
    })?;
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
        ensure(
            (e as usize) < edges && (l as usize) < s.labels.len(),
            || format!("edge label ({e}, {l}) out of range"),
        )?;
        ensure(last.is_none_or(|x| x < e), || {
            "edge labels out of order".into()
        })?;
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
            && o.big_sizes
                .iter()
                .all(|(id, _)| o.size[id.index()] == OVERFLOW),
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
    crate::snapshot::check_totals(&s.path, s).map_err(|e| match e {
        crate::Error::File { message, .. } | crate::Error::Line { message, .. } => message,
        other => other.to_string(),
    })
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
    ensure(g.reachable_below as usize <= nodes, || {
        "reachable count".into()
    })?;
    ensure(g.real_roots as usize <= g.root_succ.len(), || {
        "root count".into()
    })?;
    ensure(g.root_succ.iter().all(|&r| (r as usize) < n), || {
        "a root not in the snapshot".into()
    })?;
    ensure(g.idom[n] as usize == n, || {
        "the virtual root's dominator".into()
    })?;
    let (parent, via, depth) = (&g.path_parent, &g.path_via, &g.path_depth);
    ensure(depth.len() == n, || "path depths: wrong count".into())?;
    // One pass, in parallel: each object's dominator precedes it in preorder (so climbing
    // dominators ends at the virtual root) and each path step is one deeper than its parent
    // (so following parents ends at a root) and names a reference that exists.
    ensure(
        (0..n).into_par_iter().all(|v| {
            let d = g.idom[v] as usize;
            let dominated = d < nodes && g.num[d] < g.num[v];
            let step = match parent[v] {
                UNSEEN => depth[v] == UNSEEN,
                IS_ROOT => depth[v] == 0,
                p if (p as usize) < n => {
                    let (p, e) = (p as usize, via[v]);
                    let above = depth[p];
                    above != UNSEEN
                        && above.checked_add(1) == Some(depth[v])
                        && (o.ref_start[p]..o.ref_start[p + 1]).contains(&e)
                }
                _ => false,
            };
            dominated && step
        }),
        || "dominators or shortest paths that do not fit the graph".into(),
    )?;
    ensure(
        g.shared.iter().all(|b| {
            (2..=4).contains(&b.holders.len())
                && b.holders.iter().all(|&h| (h as usize) < n)
                && (b.largest as usize) < n
        }),
        || "a jointly held block of objects not in the snapshot".into(),
    )
}
