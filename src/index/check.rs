//! An index is untrusted input: before any analysis sees what one holds, every count is
//! checked against the others, every id against the object count, every order the
//! analyses rely on (addresses ascending, sparse columns sorted by id, a dominator before
//! what it dominates, every shortest-path chain ending at a root) is confirmed. A checksum
//! that matches proves only that nothing changed by accident; these checks make a file
//! written by hand as safe to open as one written by pymem.

use crate::graph::shortest_paths::{IS_ROOT, UNSEEN};
use crate::graph::{Searched, RANKED_KEPT};
use crate::snapshot::{
    EdgeLabel, Loaded, ObjId, Snapshot, Totals, FORMAT_NAME, FORMAT_VERSION, MAX_TOTAL, OVERFLOW,
};
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
fn sorted_ids(ids: impl Iterator<Item = ObjId>, n: usize, what: &str) -> Checked {
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

/// A snapshot read from an index: its columns (those it loaded) agree with each other and
/// with its totals, and hold nothing the loader would have refused (sizes beyond any heap, a
/// format it does not read).
///
/// `trusted`: this state of the file passed every check before; what would read every
/// object's values again is skipped.
pub fn snapshot(s: &Snapshot, trusted: bool) -> Checked {
    let o = &s.objects;
    let t = s.totals.get().ok_or("no totals")?;
    let n = t.objects as usize;
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
    totals(t, s)?;
    if trusted {
        return Ok(());
    }
    if s.loaded != Loaded::TotalsOnly {
        columns(s, n)?;
    }
    if s.loaded == Loaded::Everything {
        references(s, n, t.refs)?;
    }
    sorted_ids(o.hashes.iter().map(|h| h.0), n, "content hashes")?;
    sorted_ids(o.names.iter().map(|h| h.0), n, "names")?;
    sorted_ids(o.values.iter().map(|h| h.0), n, "values")?;
    sorted_ids(o.caches.iter().map(|h| h.0), n, "caches")?;
    sorted_ids(o.traceback.iter().map(|h| h.0), n, "tracebacks")?;
    sorted_ids(o.defined.iter().map(|h| h.0), n, "definitions")?;
    sorted_ids(o.big_sizes.iter().map(|h| h.0), n, "large sizes")?;
    ensure(
        o.traceback
            .iter()
            .all(|&(_, t)| (t as usize) < s.tracebacks.len()),
        || "an allocation traceback not in the table".into(),
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

/// The totals count every object once, per type, and their bytes stay within any heap's, so
/// that no sum of them overflows.
fn totals(t: &Totals, s: &Snapshot) -> Checked {
    let types = s.types.len();
    ensure(
        t.type_counts.len() == types && t.type_bytes.len() == types,
        || "totals of types not in the table of types".into(),
    )?;
    let counted = t
        .type_counts
        .iter()
        .try_fold(0u64, |a, &b| a.checked_add(b));
    ensure(counted == Some(t.objects), || {
        "totals by type that do not count the objects".into()
    })?;
    let bytes = t.type_bytes.iter().try_fold(0u64, |a, &b| a.checked_add(b));
    let parts = t.bytes_in_objects.checked_add(t.bytes_in_buffers);
    ensure(
        bytes.is_some() && bytes == parts && bytes.is_some_and(|b| b <= MAX_TOTAL),
        || "totals of bytes that do not add up, or beyond any heap".into(),
    )
}

/// The per-object columns: one value per object, addresses ascending, types in the table,
/// large sizes where the sizes say so.
fn columns(s: &Snapshot, n: usize) -> Checked {
    let o = &s.objects;
    for (name, len) in [
        ("addresses", o.addr.len()),
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
    let overflowing = o.size.par_iter().filter(|&&x| x == OVERFLOW).count();
    ensure(
        overflowing == o.big_sizes.len()
            && o.big_sizes
                .iter()
                .all(|(id, _)| o.size[id.index()] == OVERFLOW),
        || "large sizes do not match the objects that have them".into(),
    )
}

/// The references: offsets ascending from 0 to their count, every target an object, every
/// label on a reference that exists.
fn references(s: &Snapshot, n: usize, refs: u64) -> Checked {
    let o = &s.objects;
    let edges = o.ref_targets.len();
    ensure(edges as u64 == refs, || {
        format!("{edges} references where the totals count {refs}")
    })?;
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
    for &EdgeLabel { edge: e, label: l } in o.edge_labels.iter() {
        ensure(
            (e as usize) < edges && (l as usize) < s.labels.len(),
            || format!("edge label ({e}, {l}) out of range"),
        )?;
        ensure(last.is_none_or(|x| x < e), || {
            "edge labels out of order".into()
        })?;
        last = Some(e);
    }
    Ok(())
}

/// What the graph searches found fits the snapshot's graph as far as one sequential pass
/// over each column can tell: every id is in range, the preorder is a permutation, the
/// retained sizes cannot overflow a sum. What needs random access (a dominator precedes what
/// it dominates, path steps deepen by one) is checked by the walks that rely on it, step by
/// step, so that opening an index never reads every object's neighbours.
///
/// `trusted`: as for [`snapshot`], only the counts are checked again.
pub fn searched(g: &Searched, s: &Snapshot, trusted: bool) -> Checked {
    let o = &s.objects;
    let n = o.addr.len();
    let nodes = n + 1;
    let edges = o.ref_targets.len();
    for (name, len, want) in [
        ("preorder", g.order.len(), nodes),
        ("numbers", g.num.len(), nodes),
        ("dominators", g.idom.len(), nodes),
        ("path parents", g.path_parent.len(), n),
        ("path edges", g.path_via.len(), n),
        ("path depths", g.path_depth.len(), n),
        ("own sizes", g.own.len(), n),
        ("retained sizes", g.retained.len(), nodes),
    ] {
        ensure(len == want, || format!("{len} {name} for {n} objects"))?;
    }
    ensure(g.order.first() == Some(&(n as u32)), || {
        "the preorder does not start at the virtual root".into()
    })?;
    if trusted {
        return Ok(());
    }
    let mut seen = fixedbitset::FixedBitSet::with_capacity(nodes);
    ensure(
        g.order
            .iter()
            .all(|&v| (v as usize) < nodes && !seen.put(v as usize)),
        || "the preorder is not an order of the objects".into(),
    )?;
    ensure(g.num.par_iter().all(|&x| (x as usize) < nodes), || {
        "a preorder number past the objects".into()
    })?;
    ensure(g.reachable_below as usize <= nodes, || {
        "reachable count".into()
    })?;
    ensure(g.real_roots as usize <= g.root_succ.len(), || {
        "root count".into()
    })?;
    ensure(g.root_succ.iter().all(|&r| (r as usize) < n), || {
        "a root not in the snapshot".into()
    })?;
    ensure(g.idom.par_iter().all(|&d| (d as usize) < nodes), || {
        "a dominator not in the snapshot".into()
    })?;
    ensure(g.idom[n] as usize == n, || {
        "the virtual root's dominator".into()
    })?;
    ensure(
        g.path_parent
            .par_iter()
            .zip(g.path_via.par_iter())
            .all(|(&p, &e)| match p {
                UNSEEN | IS_ROOT => true,
                p => (p as usize) < n && (e as usize) < edges,
            }),
        || "a shortest path through an object or reference not in the snapshot".into(),
    )?;
    let total = g.retained[n];
    let own_sum = g
        .own
        .par_iter()
        .try_fold(|| 0u64, |a, &b| a.checked_add(b))
        .try_reduce(|| 0, |a, b| a.checked_add(b));
    ensure(own_sum == Some(total) && total <= MAX_TOTAL, || {
        "retained sizes that do not add up to the objects' own".into()
    })?;
    ensure(g.retained.par_iter().all(|&r| r <= total), || {
        "a retained size beyond all bytes".into()
    })?;
    ensure(
        g.ranked.len() <= RANKED_KEPT
            && g.ranked_of <= n as u64
            && g.ranked.len() as u64 <= g.ranked_of
            && g.ranked.iter().all(|&v| (v as usize) < n),
        || "a ranking of retainers not in the snapshot".into(),
    )?;
    ensure(
        g.unreachable.0 <= n as u64 && g.unreachable.1 <= total,
        || "more garbage than objects".into(),
    )?;
    let names: std::collections::HashSet<&str> = s.types.iter().map(|t| t.name.as_str()).collect();
    let modules: std::collections::HashSet<&str> =
        s.types.iter().map(|t| t.module.as_str()).collect();
    for (groups, keys) in [(&g.by_type, &names), (&g.by_module, &modules)] {
        let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let counted = groups.iter().try_fold(0u64, |a, x| a.checked_add(x.count));
        ensure(
            counted.is_some_and(|c| c <= n as u64)
                && groups.iter().all(|x| {
                    x.retained <= total && keys.contains(x.key.as_str()) && seen.insert(&x.key)
                }),
            || "retained sizes of types or modules not in the snapshot".into(),
        )?;
    }
    ensure(
        g.shared.iter().all(|b| {
            (2..=4).contains(&b.holders.len())
                && b.holders.iter().all(|&h| (h as usize) < n)
                && (b.largest as usize) < n
                && b.retained <= total
        }),
        || "a jointly held block of objects not in the snapshot".into(),
    )
}
