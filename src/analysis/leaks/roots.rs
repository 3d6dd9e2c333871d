//! How a leak root is named: the node that counts its entries, the container shown for a
//! namespace or an `lru_cache`'s internal dict, whether one object dominates another, and
//! the kind and description of a root.

use super::{Group, LeakRoot, TypeCount, LRU_WRAPPER};
use crate::analysis::caches::container_kind;
use crate::analysis::defined::defined_near;
use crate::analysis::identity::counterpart;
use crate::analysis::method_cache::instances_kept;
use crate::analysis::python_path::{hex, path_to};
use crate::analysis::retention::Retention;
use crate::snapshot::{ObjId, Snapshot};
use fixedbitset::FixedBitSet;
use std::collections::{BTreeMap, HashSet};

fn type_name(snap: &Snapshot, v: u32) -> &str {
    &snap.type_of(ObjId(v)).name
}

/// The node whose length counts a group's entries: the displayed root `d`, except an
/// `lru_cache` wrapper shown for its internal dict `h` in a snapshot whose wrappers record no
/// length (the dict's is the cache's).
pub(super) fn entries_node(snap: &Snapshot, d: u32, h: u32) -> u32 {
    let n = snap.objects.count();
    if d != h
        && (d as usize) < n
        && type_name(snap, d) == LRU_WRAPPER
        && snap.objects.len_of(ObjId(d)).is_none()
    {
        h
    } else {
        d
    }
}

/// The last pre-existing object before `v` on the shortest path from a root to `v`.
pub(super) fn last_old_on_path(r: &Retention, v: u32, old: &impl Fn(u32) -> bool) -> Option<u32> {
    let steps = r.paths.path(v);
    steps.iter().rev().skip(1).map(|s| s.node).find(|&x| old(x))
}

/// Merge groups held by elements of one plain container into that container: when two or
/// more group holders share the same nearest pre-existing dominator that is a plain
/// container, or that container is itself a holder.
pub(super) fn lift_into_containers(
    groups: &mut BTreeMap<u32, Group>,
    near_old: &[u32],
    root: u32,
    is_plain: &impl Fn(u32) -> bool,
) {
    for _ in 0..32 {
        let mut by_parent: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
        for &h in groups.keys() {
            if h == root {
                continue;
            }
            let p = near_old[h as usize];
            if p != root && is_plain(p) {
                by_parent.entry(p).or_default().push(h);
            }
        }
        let mut changed = false;
        for (p, hs) in by_parent {
            if hs.len() >= 2 || groups.contains_key(&p) {
                for h in hs {
                    if let Some(g) = groups.remove(&h) {
                        groups.entry(p).or_default().absorb(g);
                        changed = true;
                    }
                }
            }
        }
        if !changed {
            break;
        }
    }
}

/// The root to show for holder `h` (largest candidate `best`), and the node whose retained
/// size measures the group's growth.
pub(super) fn display_root(
    r: &Retention,
    h: u32,
    best: u32,
    old: &impl Fn(u32) -> bool,
    is_plain: &impl Fn(u32) -> bool,
    namespace: &FixedBitSet,
) -> (u32, u32) {
    let snap = r.snap;
    let n = r.graph.objects() as u32;
    if h >= n {
        return (h, h);
    }
    let steps = r.paths.path(best);
    let pos = steps.iter().position(|s| s.node == h);
    let mut d = h;
    // A namespace or an instance: the container on the way to the accumulated objects.
    if !is_plain(h) {
        if let Some(p) = pos {
            if let Some(x) = steps[p..steps.len().saturating_sub(1)]
                .iter()
                .rev()
                .map(|s| s.node)
                .find(|&x| old(x))
            {
                d = x;
            }
        }
    }
    let mut measure = h;
    // An lru_cache's dict is shown as the wrapper; an object's __dict__ as the object.
    if let Some(i) = steps.iter().position(|s| s.node == d) {
        if i > 0 {
            let parent = steps[i - 1].node;
            let promote = (type_name(snap, d) == "dict" && type_name(snap, parent) == LRU_WRAPPER)
                || namespace.contains(d as usize) && r.idom(ObjId(d)) == Some(ObjId(parent));
            if promote {
                d = parent;
            }
        }
    }
    if dominates(r, d, h) {
        measure = d;
    }
    (d, measure)
}

/// Whether `a` dominates `b`. A climb longer than there are nodes goes round a cycle that
/// only a damaged dominator tree has, and finds nothing.
fn dominates(r: &Retention, a: u32, mut b: u32) -> bool {
    let root = r.graph.root();
    for _ in 0..=root {
        if b == a {
            return true;
        }
        if b == root {
            return false;
        }
        b = r.doms.idom(b);
    }
    false
}

fn kind_of(snap: &Snapshot, v: u32, classes: &HashSet<u64>) -> String {
    let t = snap.type_of(ObjId(v));
    if let Some(k) = container_kind(&t.name) {
        return k.to_string();
    }
    let k = match t.name.as_str() {
        "type" => "class",
        _ if classes.contains(&snap.objects.addr[v as usize]) => "class",
        // A builtin type's name has no module: `int`, `bytearray`.
        name if !name.contains('.') => name,
        _ => "instance",
    };
    k.to_string()
}

pub(super) fn describe(
    r: &Retention,
    snaps: &[&Snapshot],
    earlier_retained: &[Vec<u64>],
    classes: &HashSet<u64>,
    d: u32,
    g: &Group,
) -> LeakRoot {
    let last = r.snap;
    let rounds = (snaps.len() - 1) as i64;
    let mut entries = Vec::new();
    let mut retained = Vec::new();
    for (i, s) in snaps.iter().enumerate() {
        if i + 1 == snaps.len() {
            entries.push(last.objects.len_of(ObjId(g.entries_of)));
            retained.push(Some(r.retained[g.measure as usize]));
        } else {
            entries.push(
                counterpart(last, ObjId(g.entries_of), s).and_then(|id| s.objects.len_of(id)),
            );
            retained.push(
                counterpart(last, ObjId(g.measure), s).map(|id| earlier_retained[i][id.index()]),
            );
        }
    }
    let bound = [d, g.entries_of]
        .iter()
        .filter(|&&v| (v as usize) < last.objects.count())
        .find_map(|&v| last.objects.cache_info(ObjId(v)).and_then(|i| i.bound));
    // Below its bound and growing, it fills up and stops there: retained per entry now,
    // times the bound, is what it will hold then.
    let at_bound_bytes = match (bound, entries.last(), retained.last()) {
        (Some(b), Some(Some(n)), Some(Some(bytes))) if *n > 0 && b > 0 => {
            Some((*bytes as f64 / *n as f64 * b as f64) as u64)
        }
        _ => None,
    };
    let entries_per_round = match (entries.first(), entries.last()) {
        (Some(Some(a)), Some(Some(b))) => Some((*b as f64 - *a as f64) / rounds as f64),
        _ => None,
    };
    let mut types: Vec<TypeCount> = g
        .types
        .iter()
        .map(|(&t, &(count, bytes))| TypeCount {
            type_name: last.types[t as usize].name.clone(),
            count,
            bytes,
        })
        .collect();
    types.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.type_name.cmp(&b.type_name)));
    types.truncate(5);
    let valid = (d as usize) < last.objects.count();
    LeakRoot {
        addr: if valid {
            hex(last.objects.addr[d as usize])
        } else {
            "-".into()
        },
        type_name: if valid {
            type_name(last, d).to_string()
        } else {
            "-".into()
        },
        kind: if valid {
            kind_of(last, d, classes)
        } else {
            "-".into()
        },
        path: valid.then(|| path_to(r, ObjId(d))).flatten(),
        new_objects: g.count,
        new_bytes: g.bytes,
        entries,
        retained,
        // Judged afterwards, net of the leak roots nested under it (growth::judge).
        growth_bytes: 0,
        growth_per_round: 0,
        nested_growth_bytes: 0,
        entries_per_round,
        grew_every_round: false,
        first_seen: 0,
        same_path: 0,
        same_path_growth_bytes: 0,
        leak: false,
        bound,
        at_bound_bytes,
        types,
        sample: path_to(r, ObjId(g.best.1)),
        allocated_at: Vec::new(),
        root_allocated_at: None,
        defined_at: valid.then(|| defined_near(r, ObjId(d))).flatten(),
        keeps_instances_of: (valid && type_name(last, d) == "functools._lru_cache_wrapper")
            .then(|| instances_kept(last, ObjId(d)))
            .flatten(),
    }
}
