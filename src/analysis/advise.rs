//! `advise`: concrete memory advice with the bytes at stake, computed from measured sizes.
//!
//! - `__slots__`: the program's classes with many instances carrying a `__dict__` (or,
//!   3.11+, a values array): their measured bytes per instance against a slotted instance of
//!   the same attributes (object header, GC header and one pointer per attribute, in a 16-byte
//!   block). Never for C types, metaclasses, or classes of the standard library or of a
//!   framework; for framework models (pydantic, SQLAlchemy, Django), what the framework
//!   offers instead (see `frameworks`).
//! - duplicate strings: str objects with the same length and content hash; all but one of
//!   each could be shared (`sys.intern`).
//! - empty containers, and lists whose buffer holds much more capacity than entries.
//! - long lists of ints or floats: what `array.array` would hold them in (8 bytes each).
//! - the largest unbounded caches (10,000+ entries or 1 MiB+ retained; see `caches`).

use super::caches::{caches_in, Verdict};
use super::frameworks::{self, Framework};
use super::method_cache;
use super::overview::{facts, SnapshotFacts};
use super::python_path::path_to;
use super::retention::Retention;
use crate::snapshot::{ObjId, Snapshot};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Serialize)]
pub struct Example {
    /// A path to the object, or a description.
    pub what: String,
    pub count: u64,
    pub saving: u64,
}

/// What a piece of advice is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AdviceKind {
    /// Instances of a class without `__slots__`.
    Slots,
    /// A framework's objects (pydantic, SQLAlchemy, Django) with a known cheaper form.
    Framework,
    DuplicateStrings,
    EmptyContainers,
    OverallocatedLists,
    /// Lists of numbers that an array would hold in less.
    NumberLists,
    /// A large unbounded cache.
    Cache,
    /// An `lru_cache` on a method, which keeps every instance it was called on alive.
    MethodCache,
}

#[derive(Debug, Clone, Serialize)]
pub struct AdviceItem {
    pub kind: AdviceKind,
    pub title: String,
    /// Bytes that following the advice would save (for caches: what they retain).
    pub saving: u64,
    pub examples: Vec<Example>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Advice {
    pub snapshot: SnapshotFacts,
    /// Largest saving first.
    pub items: Vec<AdviceItem>,
}

/// `advise`'s defaults (the CLI's, and the HTML report's).
pub const DEFAULT_MIN_INSTANCES: u64 = 100;
pub const DEFAULT_MIN_LIST: u64 = 1000;

pub struct AdviseOptions {
    /// Classes need this many instances for `__slots__` advice; containers this many to
    /// count as a pattern.
    pub min_instances: u64,
    /// Lists of numbers need this many entries.
    pub min_list: u64,
}

const HEAPTYPE: u64 = 1 << 9;
const MANAGED_DICT: u64 = 1 << 4;
/// `Py_TPFLAGS_TYPE_SUBCLASS`: the instances are classes (a metaclass such as `abc.ABCMeta`).
const TYPE_SUBCLASS: u64 = 1 << 31;

fn round16(n: u64) -> u64 {
    n.div_ceil(16) * 16
}

pub fn advise(snap: &Snapshot, opts: &AdviseOptions) -> Advice {
    advise_in(&Retention::compute(snap), opts)
}

/// [`advise`] for a snapshot whose retention is at hand.
pub fn advise_in(r: &Retention, opts: &AdviseOptions) -> Advice {
    let snap = r.snap;
    let mut items = Vec::new();
    items.extend(slots(r, opts));
    items.extend(duplicate_strings(r));
    items.extend(empty_containers(r, opts));
    items.extend(overallocated_lists(r));
    items.extend(number_lists(r, opts));
    // Large mappings and lru_caches without a bound (a long list is more often data).
    let found = caches_in(r, &[snap], opts.min_instances, usize::MAX);
    for c in found
        .caches
        .iter()
        .filter(|c| c.keeps_instances_of.is_some())
    {
        let (name, place) = cache_name(c);
        items.push(AdviceItem {
            kind: AdviceKind::MethodCache,
            title: format!(
                "lru_cache {name}{place} holds {} entries keyed by {} instances: {}",
                c.entries.last().copied().flatten().unwrap_or(0),
                c.keeps_instances_of.as_deref().unwrap_or_default(),
                method_cache::ADVICE
            ),
            saving: c.retained,
            examples: Vec::new(),
        });
    }
    let large = found
        .caches
        .into_iter()
        .filter(|c| c.kind != "list" && c.verdict == Verdict::Large)
        .filter(|c| c.keeps_instances_of.is_none())
        .take(3);
    for c in large {
        let (name, place) = cache_name(&c);
        items.push(AdviceItem {
            kind: AdviceKind::Cache,
            title: format!(
                "{} {name}{place} retains this much with {} entries and no bound: bound it (functools.lru_cache(maxsize=...), a deque maxlen) or evict",
                c.kind,
                c.entries.last().copied().flatten().unwrap_or(0),
            ),
            saving: c.retained,
            examples: Vec::new(),
        });
    }
    items.retain(|i| i.saving > 0);
    items.sort_by(|a, b| b.saving.cmp(&a.saving).then(a.title.cmp(&b.title)));
    Advice {
        snapshot: facts(snap),
        items,
    }
}

/// A cache as advice names it: its path (else its address), and where its function is
/// defined, when known (` (defined at app.py:22)`).
fn cache_name(c: &super::caches::Cache) -> (String, String) {
    let name = c.path.as_ref().map_or(c.addr.clone(), |p| p.expr.clone());
    let place = c
        .defined_at
        .as_ref()
        .map_or(String::new(), |p| format!(" (defined at {p})"));
    (name, place)
}

fn label(snap: &Snapshot, e: usize) -> Option<&str> {
    snap.objects
        .edge_label(e)
        .map(|l| &*snap.labels[l as usize])
}

fn slots(r: &Retention, opts: &AdviseOptions) -> Vec<AdviceItem> {
    let snap = r.snap;
    let managed = snap
        .header
        .python
        .version
        .split('.')
        .nth(1)
        .and_then(|m| m.parse::<u32>().ok())
        .is_some_and(|m| m >= 11);
    let per = dict_instances_by_class(r, managed);
    let mut framework_items = Vec::new();
    let mut examples: Vec<Example> = per
        .into_iter()
        // Instances with no attribute in their __dict__ are C heap types with a dict slot
        // (`_asyncio.Future`) far more often than empty Python objects: no advice.
        .filter(|(_, a)| a.n >= opts.min_instances && a.attrs > 0)
        .filter_map(|(t, a)| {
            // A slotted instance: GC header, object header, one pointer per attribute.
            let attrs_each = a.attrs.div_ceil(a.n);
            let slotted = round16(16 + 16 + 8 * attrs_each) * a.n;
            let saving = a.bytes.saturating_sub(slotted);
            let class = &snap.types[t as usize];
            // A framework's classes cannot take __slots__: say what it offers instead.
            if let Some(f) = a.framework.or_else(|| frameworks::by_mro(snap, class.addr)) {
                if saving > 0 {
                    framework_items.push(AdviceItem {
                        kind: AdviceKind::Framework,
                        title: format!(
                            "{} instances of {} ({}) hold this much more than slotted objects would, but __slots__ cannot be used: {}",
                            a.n, class.name, f.name, f.instead
                        ),
                        saving,
                        examples: Vec::new(),
                    });
                }
                return None;
            }
            (saving > 0).then(|| Example {
                what: format!(
                    "{} ({} attributes per instance, {} now vs {} slotted per instance)",
                    snap.types[t as usize].name,
                    attrs_each,
                    a.bytes / a.n,
                    slotted / a.n
                ),
                count: a.n,
                saving,
            })
        })
        .collect();
    if examples.is_empty() {
        return framework_items;
    }
    examples.sort_by(|a, b| b.saving.cmp(&a.saving).then(a.what.cmp(&b.what)));
    examples
        .into_iter()
        .map(|e| AdviceItem {
            kind: AdviceKind::Slots,
            title: format!(
                "__slots__ on {} would save this much across {} instances",
                e.what.split(' ').next().unwrap_or(""),
                e.count
            ),
            saving: e.saving,
            examples: vec![e],
        })
        .chain(framework_items)
        .collect()
}

/// Per class: instances that keep a `__dict__`, their measured bytes and attributes.
#[derive(Default)]
struct ClassDicts {
    n: u64,
    bytes: u64,
    attrs: u64,
    with_dict: u64,
    /// A framework told by an attribute its instances carry.
    framework: Option<&'static Framework>,
}

/// The classes a programmer could give `__slots__` (Python classes of their own, not C
/// types, metaclasses, the standard library's or a framework's), by type id, with what their
/// instances that keep a `__dict__` hold. `managed`: the version keeps instance attributes
/// in a managed dict (3.11+), so an instance has one without a `__dict__` edge.
fn dict_instances_by_class(r: &Retention, managed: bool) -> HashMap<u32, ClassDicts> {
    let snap = r.snap;
    let objs = &snap.objects;
    let mut per: HashMap<u32, ClassDicts> = HashMap::new();
    for v in 0..objs.count() {
        let t = &snap.types[objs.type_id[v] as usize];
        // Only what a programmer can change: not C types, not metaclasses (their instances
        // are classes, whose namespace must be a dict).
        // Nor the classes of C code (an extension's heap types, Cython's), of the standard
        // library or of a framework itself.
        if t.flags & HEAPTYPE == 0
            || t.flags & TYPE_SUBCLASS != 0
            || t.module == "builtins"
            || t.name == "type"
            || t.python_class == Some(false)
            || frameworks::library_module(&t.module)
        {
            continue;
        }
        let id = ObjId(v as u32);
        let mut bytes = r.own[v];
        let mut attrs = 0;
        let mut has_dict = managed && t.flags & MANAGED_DICT != 0;
        let mut framework = None;
        for e in objs.edge_range(id) {
            match label(snap, e) {
                Some(".__dict__") => {
                    let d = objs.ref_targets[e];
                    if snap.type_of(d).name == "dict" {
                        bytes += r.own[d.index()];
                        attrs += objs.len_of(d).unwrap_or(0);
                        has_dict = true;
                        framework = framework.or_else(|| {
                            objs.edge_range(d)
                                .find_map(|k| label(snap, k).and_then(frameworks::by_attribute))
                        });
                    }
                }
                Some(".__class__") => {}
                Some(l) if l.starts_with('.') => {
                    attrs += 1;
                    framework = framework.or_else(|| frameworks::by_attribute(l));
                }
                _ => {}
            }
        }
        if !has_dict {
            continue;
        }
        let a = per.entry(objs.type_id[v]).or_default();
        a.n += 1;
        a.bytes += bytes;
        a.attrs += attrs;
        a.with_dict += 1;
        a.framework = a.framework.or(framework);
    }
    per
}

fn duplicate_strings(r: &Retention) -> Vec<AdviceItem> {
    let snap = r.snap;
    let objs = &snap.objects;
    let Some(str_type) = snap.types.iter().position(|t| t.name == "str") else {
        return Vec::new();
    };
    /// Strings of one content: how many, each one's bytes, one of them.
    struct Group {
        n: u64,
        size: u64,
        sample: u32,
        len: u32,
    }
    impl Group {
        fn waste(&self) -> u64 {
            (self.n - 1) * self.size
        }
    }
    let mut groups: HashMap<(i64, u32), Group> = HashMap::new();
    for &(id, h) in &objs.hashes {
        if objs.type_id[id.index()] as usize != str_type {
            continue;
        }
        let len = objs.len[id.index()];
        let g = groups.entry((h, len)).or_insert(Group {
            n: 0,
            size: 0,
            sample: id.0,
            len,
        });
        g.n += 1;
        g.size = r.own[id.index()];
    }
    let mut dups: Vec<Group> = groups.into_values().filter(|g| g.n > 1).collect();
    if dups.is_empty() {
        return Vec::new();
    }
    let total: u64 = dups.iter().map(Group::waste).sum();
    let copies: u64 = dups.iter().map(|g| g.n - 1).sum();
    dups.sort_by(|a, b| b.waste().cmp(&a.waste()).then(a.sample.cmp(&b.sample)));
    let examples = dups
        .iter()
        .take(5)
        .map(|g| {
            let id = ObjId(g.sample);
            let value = objs
                .values
                .binary_search_by_key(&id, |(i, _)| *i)
                .ok()
                .map(|i| format!("{:?}", &*objs.values[i].1));
            let at = path_to(r, id).map(|p| p.expr).unwrap_or_default();
            Example {
                what: format!(
                    "{} (len {}) x{}, e.g. {at}",
                    value.unwrap_or_else(|| "<str>".into()),
                    g.len,
                    g.n
                ),
                count: g.n,
                saving: g.waste(),
            }
        })
        .collect();
    vec![AdviceItem {
        kind: AdviceKind::DuplicateStrings,
        title: format!(
            "{copies} duplicate strings in {} groups of equal content: sharing one copy (sys.intern, or reusing the object) saves this much",
            dups.len()
        ),
        saving: total,
        examples,
    }]
}

fn empty_containers(r: &Retention, opts: &AdviseOptions) -> Vec<AdviceItem> {
    let snap = r.snap;
    let objs = &snap.objects;
    let mut per: HashMap<u32, (u64, u64)> = HashMap::new();
    for v in 0..objs.count() {
        let t = objs.type_id[v];
        if !matches!(
            snap.types[t as usize].name.as_str(),
            "dict" | "list" | "set"
        ) || objs.len_of(ObjId(v as u32)) != Some(0)
        {
            continue;
        }
        let e = per.entry(t).or_default();
        e.0 += 1;
        e.1 += r.own[v];
    }
    let mut examples: Vec<Example> = per
        .into_iter()
        .filter(|(_, (n, _))| *n >= opts.min_instances)
        .map(|(t, (n, bytes))| Example {
            what: format!("empty {}", snap.types[t as usize].name),
            count: n,
            saving: bytes,
        })
        .collect();
    if examples.is_empty() {
        return Vec::new();
    }
    examples.sort_by(|a, b| b.saving.cmp(&a.saving).then(a.what.cmp(&b.what)));
    let total = examples.iter().map(|e| e.saving).sum();
    let n: u64 = examples.iter().map(|e| e.count).sum();
    vec![AdviceItem {
        kind: AdviceKind::EmptyContainers,
        title: format!("{n} empty containers: create them lazily, or share one empty default (None until needed)"),
        saving: total,
        examples,
    }]
}

fn overallocated_lists(r: &Retention) -> Vec<AdviceItem> {
    let snap = r.snap;
    let objs = &snap.objects;
    let mut spare = vec![0u64; objs.count()];
    for b in &snap.buffers {
        if snap.type_of(b.owner).name == "list" {
            let used = 8 * objs.len_of(b.owner).unwrap_or(0);
            spare[b.owner.index()] += b.size.saturating_sub(used);
        }
    }
    // Lists with a third or more of their buffer unused and 1 KiB+ to give back (CPython
    // shrinks a list's buffer only once it is less than half full).
    let mut waste: Vec<(u64, u32)> = spare
        .iter()
        .enumerate()
        .filter(|(i, s)| **s >= 1024 && **s * 2 >= 8 * objs.len_of(ObjId(*i as u32)).unwrap_or(0))
        .map(|(i, s)| (*s, i as u32))
        .collect();
    if waste.is_empty() {
        return Vec::new();
    }
    waste.sort_by(|a, b| b.cmp(a));
    let total = waste.iter().map(|w| w.0).sum();
    let examples = waste
        .iter()
        .take(5)
        .map(|(s, i)| Example {
            what: path_to(r, ObjId(*i)).map_or_else(|| "-".into(), |p| p.expr),
            count: objs.len_of(ObjId(*i)).unwrap_or(0),
            saving: *s,
        })
        .collect();
    vec![AdviceItem {
        kind: AdviceKind::OverallocatedLists,
        title: format!(
            "{} lists keep a third or more of their capacity unused (they shrank): copy them (list(x)) or build them at their final size",
            waste.len()
        ),
        saving: total,
        examples,
    }]
}

fn number_lists(r: &Retention, opts: &AdviseOptions) -> Vec<AdviceItem> {
    let snap = r.snap;
    let objs = &snap.objects;
    let mut out = Vec::new();
    for v in 0..objs.count() {
        let id = ObjId(v as u32);
        if snap.type_of(id).name != "list" || objs.len_of(id).unwrap_or(0) < opts.min_list {
            continue;
        }
        let refs = objs.refs(id);
        let first = match refs.first() {
            Some(f) => snap.type_of(*f).name.as_str(),
            None => continue,
        };
        if !matches!(first, "int" | "float") || refs.iter().any(|x| snap.type_of(*x).name != first)
        {
            continue;
        }
        let n = objs.len_of(id).unwrap_or(0);
        let array = round16(64 + 8 * n);
        let saving = r.retained(id).saturating_sub(array);
        if saving == 0 {
            continue;
        }
        let code = if first == "int" { "q" } else { "d" };
        out.push(AdviceItem {
            kind: AdviceKind::NumberLists,
            title: format!(
                "a list of {n} {first}s: array.array('{code}', ...) would hold it in {array} bytes",
            ),
            saving,
            examples: vec![Example {
                what: path_to(r, id).map_or_else(|| "-".into(), |p| p.expr),
                count: n,
                saving,
            }],
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A snapshot with `n` instances of each of three heap types, each instance with a
    /// `__dict__` of `attrs` entries: a plain class, a metaclass and a class whose instances'
    /// dicts are empty.
    fn snapshot(n: u64) -> Snapshot {
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::from(
            r#"{"k":"header","format":"pymem-snapshot","version":1,"python":{"version":"3.10.13","implementation":"cpython"},"allocator":{"name":"malloc"},"pid":1,"argv":["x.py"],"time":0,"recorded":{"pools":false}}
{"k":"type","id":0,"a":100,"name":"dict","module":"builtins","flags":0,"basicsize":64}
{"k":"type","id":1,"a":200,"name":"app.Point","module":"app","flags":512,"basicsize":32}
{"k":"type","id":2,"a":300,"name":"app.Meta","module":"app","flags":2147484160,"basicsize":900}
{"k":"type","id":3,"a":400,"name":"_ext.Future","module":"_ext","flags":512,"basicsize":144}
"#,
        );
        let mut addr = 1u64 << 20;
        let mut objects = 0;
        for (tid, attrs) in [(1, 3), (2, 3), (3, 0)] {
            for _ in 0..n {
                let (o, d) = (addr, addr + 512);
                addr += 1024;
                text.push_str(&format!(
                    "{{\"k\":\"o\",\"a\":{o},\"t\":{tid},\"s\":48,\"rc\":1,\"r\":[{d}],\"l\":[\".__dict__\"]}}\n\
                     {{\"k\":\"o\",\"a\":{d},\"t\":0,\"s\":232,\"rc\":1,\"r\":[],\"n\":{attrs}}}\n"
                ));
                objects += 2;
            }
        }
        text.push_str(&format!(
            "{{\"k\":\"end\",\"objects\":{objects},\"refs\":{},\"types\":4}}\n",
            objects / 2
        ));
        let p = dir.path().join("s.jsonl");
        std::fs::write(&p, text).unwrap();
        crate::snapshot::load(&p, &Default::default()).unwrap()
    }

    #[test]
    fn slots_are_advised_only_for_classes_a_programmer_can_change() {
        let snap = snapshot(200);
        let r = Retention::compute(&snap);
        let items = slots(
            &r,
            &AdviseOptions {
                min_instances: 100,
                min_list: 1000,
            },
        );
        let names: Vec<&str> = items.iter().map(|i| i.title.as_str()).collect();
        assert_eq!(names.len(), 1, "{names:?}");
        assert!(names[0].contains("app.Point"), "{names:?}");
    }
}
