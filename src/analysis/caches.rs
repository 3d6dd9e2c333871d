//! `caches`: containers that act as caches — dicts, lists, sets, deques, OrderedDicts,
//! defaultdicts and `lru_cache` wrappers held by module globals, class attributes,
//! attributes of long-lived objects, function defaults, closures and standard-library
//! registries — with their bound, what they hold, and (given several snapshots of one
//! process) how they grow.
//!
//! A container qualifies when a module or the interpreter reaches it (not only a running
//! frame), it is not some object's `__dict__`, it holds at least `min_entries` entries, and
//! no other qualifying container lies on its path (the outermost cache is the finding; what
//! it holds shows in its sample path and types).

use super::defined::defined_near;
use super::identity::{counterpart, incomparable};
use super::method_cache::instances_kept;
use super::overview::{facts, SnapshotFacts};
use super::python_path::{hex, path_to, PyPath};
use super::retention::Retention;
use crate::error::{Error, Result};
use crate::snapshot::{ObjId, Snapshot};
use fixedbitset::FixedBitSet;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// No bound, and more entries in every later snapshot.
    Growing,
    /// No bound, and big (10,000+ entries or 1 MiB+ retained).
    Large,
    /// No bound (one snapshot, or entries that rose and fell).
    Unbounded,
    /// No bound, and the same entries in every snapshot.
    Steady,
    /// An lru_cache maxsize or a deque maxlen.
    Bounded,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeShare {
    #[serde(rename = "type")]
    pub type_name: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cache {
    pub addr: String,
    /// dict, list, set, deque, OrderedDict, defaultdict, lru_cache
    pub kind: String,
    pub path: Option<PyPath>,
    /// Entries in each snapshot (`None` where the container is absent).
    pub entries: Vec<Option<u64>>,
    pub retained: u64,
    /// maxsize / maxlen.
    pub bound: Option<u64>,
    pub hits: Option<u64>,
    pub misses: Option<u64>,
    /// Most common key types (dicts) and value or element types.
    pub key_types: Vec<TypeShare>,
    pub value_types: Vec<TypeShare>,
    pub verdict: Verdict,
    /// Where the cached function is defined (`file:line`), for an `lru_cache`.
    pub defined_at: Option<String>,
    /// The class whose every instance this `lru_cache` on its method keeps alive (B019).
    pub keeps_instances_of: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Caches {
    pub snapshots: Vec<SnapshotFacts>,
    pub min_entries: u64,
    /// Growing first, then by retained bytes (at most `limit`).
    pub caches: Vec<Cache>,
    pub more: usize,
}

/// `caches`' defaults (the CLI's, and the HTML report's): smallest container listed, rows.
pub const DEFAULT_MIN_ENTRIES: u64 = 100;
pub const DEFAULT_LIMIT: usize = 20;

const LARGE_ENTRIES: u64 = 10_000;
const LARGE_BYTES: u64 = 1 << 20;

/// The kind of a container that can act as a cache, by its type's name.
pub fn container_kind(name: &str) -> Option<&'static str> {
    Some(match name {
        "dict" => "dict",
        "list" => "list",
        "set" => "set",
        "collections.deque" => "deque",
        "collections.OrderedDict" => "OrderedDict",
        "collections.defaultdict" => "defaultdict",
        "functools._lru_cache_wrapper" => "lru_cache",
        _ => return None,
    })
}

pub fn caches(snaps: &[&Snapshot], min_entries: u64, limit: usize) -> Result<Caches> {
    for w in snaps.windows(2) {
        if let Some(why) = incomparable(w[0], w[1]) {
            return Err(Error::file(&w[1].path, why));
        }
    }
    let r = Retention::compute(snaps.last().expect("one or more snapshots"));
    Ok(caches_in(&r, snaps, min_entries, limit))
}

/// The caches of `r`'s snapshot (the last of `snaps`, one process, oldest first).
pub fn caches_in(r: &Retention, snaps: &[&Snapshot], min_entries: u64, limit: usize) -> Caches {
    let last = r.snap;
    let objs = &last.objects;
    let n = objs.count();
    let kinds: Vec<Option<&'static str>> =
        last.types.iter().map(|t| container_kind(&t.name)).collect();
    let namespace = last.namespace_dicts();
    // An lru_cache's own dict is reported through the wrapper.
    let mut lru_dicts = FixedBitSet::with_capacity(n);
    for v in 0..n {
        if kinds[objs.type_id[v] as usize] == Some("lru_cache") {
            for &t in objs.refs(ObjId(v as u32)) {
                if last.type_of(t).name == "dict" && !namespace.contains(t.index()) {
                    lru_dicts.insert(t.index());
                }
            }
        }
    }
    let mut qualifies = FixedBitSet::with_capacity(n);
    for v in 0..n {
        let id = ObjId(v as u32);
        if kinds[objs.type_id[v] as usize].is_none()
            || namespace.contains(v)
            || lru_dicts.contains(v)
            || objs.len_of(id).unwrap_or(0) < min_entries
            || !r.graph.is_reachable(v as u32)
        {
            continue;
        }
        qualifies.insert(v);
    }
    let mut found: Vec<Cache> = Vec::new();
    for v in qualifies.ones() {
        let steps = r.paths.path(v as u32);
        let Some(first) = steps.first() else { continue };
        // Held by a module or the interpreter, and not inside another cache.
        let root_kind = last
            .roots
            .iter()
            .find(|x| x.obj.0 == first.node)
            .map(|x| x.kind);
        use crate::snapshot::RootKind::{External, Frame, Local};
        if matches!(root_kind, Some(Frame) | Some(Local)) {
            continue;
        }
        if steps[..steps.len() - 1]
            .iter()
            .any(|s| qualifies.contains(s.node as usize))
        {
            continue;
        }
        let cache = describe(r, snaps, ObjId(v as u32), &kinds, &namespace);
        // Held only from C (a module's own dict, an extension's table): a finding only
        // when it grows.
        let from_c = root_kind == Some(External) && steps.len() == 1;
        if from_c && cache.verdict != Verdict::Growing {
            continue;
        }
        found.push(cache);
    }
    found.sort_by(|a, b| {
        let growing = |c: &Cache| c.verdict != Verdict::Growing;
        growing(a)
            .cmp(&growing(b))
            .then(b.retained.cmp(&a.retained))
            .then(a.addr.cmp(&b.addr))
    });
    let more = found.len().saturating_sub(limit);
    found.truncate(limit);
    Caches {
        snapshots: snaps.iter().map(|s| facts(s)).collect(),
        min_entries,
        caches: found,
        more,
    }
}

/// The three most common types among `ids`.
fn top_types(snap: &Snapshot, ids: impl Iterator<Item = ObjId>) -> Vec<TypeShare> {
    let mut counts: HashMap<u32, u64> = HashMap::new();
    for id in ids {
        *counts.entry(snap.objects.type_id[id.index()]).or_default() += 1;
    }
    let mut v: Vec<(u32, u64)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v.into_iter()
        .take(3)
        .map(|(t, count)| TypeShare {
            type_name: snap.types[t as usize].name.clone(),
            count,
        })
        .collect()
}

/// Keys and values of a dict (by its edge labels), or elements of a sequence or set.
fn contents(snap: &Snapshot, id: ObjId) -> (Vec<ObjId>, Vec<ObjId>) {
    let objs = &snap.objects;
    let is_dict = matches!(
        snap.type_of(id).name.as_str(),
        "dict" | "collections.OrderedDict" | "collections.defaultdict"
    );
    let (mut keys, mut values) = (Vec::new(), Vec::new());
    for e in objs.edge_range(id) {
        let t = objs.ref_targets[e];
        if snap.type_of(id).addr == objs.addr[t.index()] {
            continue; // .__class__
        }
        let label = objs.edge_label(e).map(|l| &*snap.labels[l as usize]);
        match (is_dict, label) {
            (true, Some("<key>")) => keys.push(t),
            (true, Some(l)) if l.starts_with('[') => values.push(t),
            (true, _) => {}
            (false, _) => values.push(t),
        }
    }
    (keys, values)
}

fn describe(
    r: &Retention,
    snaps: &[&Snapshot],
    id: ObjId,
    kinds: &[Option<&str>],
    namespace: &FixedBitSet,
) -> Cache {
    let last = r.snap;
    let objs = &last.objects;
    let kind = kinds[objs.type_id[id.index()] as usize].unwrap_or("-");
    // An lru_cache's entries are its dict's.
    let holder = if kind == "lru_cache" {
        objs.refs(id)
            .iter()
            .copied()
            .find(|t| last.type_of(*t).name == "dict" && !namespace.contains(t.index()))
            .unwrap_or(id)
    } else {
        id
    };
    let (keys, values) = contents(last, holder);
    let info = objs.cache_info(id).unwrap_or_default();
    let addr = objs.addr[id.index()];
    let entries: Vec<Option<u64>> = snaps
        .iter()
        .map(|s| counterpart(last, id, s).and_then(|sid| s.objects.len_of(sid)))
        .collect();
    let retained = r.retained(id);
    let growing = entries.len() >= 2
        && entries.iter().all(Option::is_some)
        && entries.windows(2).all(|w| w[1] > w[0]);
    let verdict = if info.bound.is_some() {
        Verdict::Bounded
    } else if growing {
        Verdict::Growing
    } else if entries.last().copied().flatten().unwrap_or(0) >= LARGE_ENTRIES
        || retained >= LARGE_BYTES
    {
        Verdict::Large
    } else if entries.len() >= 2 && entries.windows(2).all(|w| w[0] == w[1]) {
        Verdict::Steady
    } else {
        Verdict::Unbounded
    };
    Cache {
        addr: hex(addr),
        kind: kind.to_string(),
        path: path_to(r, id),
        entries,
        retained,
        bound: info.bound,
        hits: info.hits,
        misses: info.misses,
        key_types: top_types(last, keys.into_iter()),
        value_types: top_types(last, values.into_iter()),
        verdict,
        defined_at: defined_near(r, id),
        keeps_instances_of: (kind == "lru_cache")
            .then(|| instances_kept(last, id))
            .flatten(),
    }
}
