//! Where code is defined, without tracemalloc: the file and first line of a function, a
//! method, a class, or the function an `lru_cache` (or `property`, `classmethod`...) wraps,
//! read from the code objects' `co_filename` and `co_firstlineno` in the snapshot.

use super::retention::Retention;
use crate::snapshot::{ObjId, Snapshot};

/// Hops from a wrapper to the code object: lru_cache -> function -> code is two; a bound
/// method of an lru_cache'd function three.
const MAX_HOPS: usize = 4;

/// Types whose first function referent is the function they wrap.
const WRAPPERS: &[&str] = &[
    "functools._lru_cache_wrapper",
    "method",
    "classmethod",
    "staticmethod",
    "property",
    "functools.partial",
    "functools.cached_property",
];

/// `file:line` where the code of `id` is defined: a code object's own, a function's code's,
/// a wrapper's function's; for a class, its first method's (the class statement is a few
/// lines above). None for other objects and for code the snapshot has no place for.
pub fn defined_at(snap: &Snapshot, id: ObjId) -> Option<String> {
    if let Some(place) = code_place(snap, id) {
        return Some(place);
    }
    // Py_TPFLAGS_TYPE_SUBCLASS on its type: the object is a class.
    if snap.type_of(id).flags & (1 << 31) != 0 {
        return first_method(snap, id);
    }
    None
}

/// The place of `id`'s code, or of the object holding it on its path from a root (an
/// `lru_cache`'s internal dict: the wrapper's function), one or two steps up.
pub fn defined_near(r: &Retention, id: ObjId) -> Option<String> {
    let steps = r.paths.path(id.0);
    steps
        .iter()
        .rev()
        .take(3)
        .find_map(|s| code_place(r.snap, ObjId(s.node)))
}

/// Follow `.__code__`, or a wrapper's function, to a code object's place.
fn code_place(snap: &Snapshot, mut id: ObjId) -> Option<String> {
    for _ in 0..MAX_HOPS {
        if let Some(place) = snap.objects.defined_at(id) {
            return Some(place.to_string());
        }
        id = next_hop(snap, id)?;
    }
    None
}

fn next_hop(snap: &Snapshot, id: ObjId) -> Option<ObjId> {
    let o = &snap.objects;
    let t = snap.type_of(id).name.as_str();
    let range = o.edge_range(id);
    let targets = &o.ref_targets[range.clone()];
    if t == "function" {
        return range.zip(targets.iter()).find_map(|(e, &to)| {
            let label = o.edge_label(e)?;
            (&*snap.labels[label as usize] == ".__code__").then_some(to)
        });
    }
    if WRAPPERS.contains(&t) {
        return targets
            .iter()
            .copied()
            .find(|&to| snap.type_of(to).name == "function");
    }
    None
}

/// A class's place: the smallest first line among the functions of its `__dict__`.
fn first_method(snap: &Snapshot, class: ObjId) -> Option<String> {
    let o = &snap.objects;
    let range = o.edge_range(class);
    let dict = range
        .zip(o.ref_targets[o.edge_range(class)].iter())
        .find_map(|(e, &to)| {
            let label = o.edge_label(e)?;
            (&*snap.labels[label as usize] == ".__dict__").then_some(to)
        })?;
    o.refs(dict)
        .iter()
        .filter_map(|&m| code_place(snap, m))
        .filter_map(|p| {
            let (_, line) = p.rsplit_once(':')?;
            Some((line.parse::<u32>().ok()?, p))
        })
        .min()
        .map(|(_, p)| p)
}
