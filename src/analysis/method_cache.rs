//! An `lru_cache` on a method (flake8-bugbear's B019): `self` is part of every key, so the
//! cache keeps each instance it was called on alive, up to `maxsize` of them, or all of them
//! without a bound. Bounding it does not help much; caching on the class's data or
//! `functools.cached_property` does.

use crate::snapshot::{ObjId, Snapshot};

/// What to do about it, in one line (shared by `caches`, `leaks` and `advise`).
pub const ADVICE: &str = "every call keeps its instance alive (flake8-bugbear B019): cache on the \
class's data, not on self, or use functools.cached_property";

/// Keys looked at: enough to tell a method cache from a function cache called with
/// instances now and then, without walking a cache of millions.
const SAMPLE: usize = 64;

/// The class (`module.Qualname`) whose instances the `lru_cache` wrapper `wrapper` keeps
/// alive: its function is a method of that class and most keys start with an instance of it.
pub fn instances_kept(snap: &Snapshot, wrapper: ObjId) -> Option<String> {
    let o = &snap.objects;
    let refs = o.refs(wrapper);
    let function = refs
        .iter()
        .copied()
        .find(|&t| snap.type_of(t).name == "function")?;
    let (class, _method) = o.name(function)?.rsplit_once('.')?;
    if class.ends_with("<locals>") {
        return None; // a nested function, not a method
    }
    // The cache's dict: the wrapper's first plain dict that is not its `__dict__`.
    let namespace = wrapper_namespace(snap, wrapper);
    let cache = refs
        .iter()
        .copied()
        .find(|&t| Some(t) != namespace && snap.type_of(t).name == "dict")?;
    let keys: Vec<ObjId> = o
        .edge_range(cache)
        .filter(|&e| label(snap, e) == Some("<key>"))
        .map(|e| o.ref_targets[e])
        .take(SAMPLE)
        .collect();
    let mut kept: Option<&str> = None;
    let mut matching = 0usize;
    for &key in &keys {
        let Some(first) = first_argument(snap, key) else {
            continue;
        };
        let t = snap.type_of(first);
        let qualname = t
            .name
            .strip_prefix(t.module.as_str())
            .and_then(|q| q.strip_prefix('.'))
            .unwrap_or(&t.name);
        if qualname == class {
            matching += 1;
            kept = Some(&t.name);
        }
    }
    (matching > 0 && matching * 2 >= keys.len()).then(|| kept.unwrap_or_default().to_string())
}

fn label(snap: &Snapshot, e: usize) -> Option<&str> {
    snap.objects
        .edge_label(e)
        .map(|l| &*snap.labels[l as usize])
}

fn wrapper_namespace(snap: &Snapshot, wrapper: ObjId) -> Option<ObjId> {
    let o = &snap.objects;
    o.edge_range(wrapper)
        .find(|&e| label(snap, e) == Some(".__dict__"))
        .map(|e| o.ref_targets[e])
}

/// A key's first argument: the first item of the args tuple (C `lru_cache`) or of the
/// `_HashedSeq` list (the pure-Python one), skipping the instance's reference to its type.
fn first_argument(snap: &Snapshot, key: ObjId) -> Option<ObjId> {
    let t = snap.type_of(key);
    if !matches!(t.name.as_str(), "tuple" | "functools._HashedSeq" | "list") {
        return None;
    }
    let type_addr = t.addr;
    snap.objects
        .refs(key)
        .iter()
        .copied()
        .find(|&r| snap.objects.addr[r.index()] != type_addr)
}
