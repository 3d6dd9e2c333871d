//! What the interactive report draws, as plain data: a bounded slice of the dominator tree
//! (every object retaining at least a share of the heap, at most a number of nodes, the
//! rest folded into one node per parent), the shortest paths to its objects as one shared
//! tree (so a deep chain costs one entry per object, not one path per object), each
//! object's biggest referents and referrers, and the table of types.
//!
//! Order is a function of the snapshot alone: nodes by retained bytes, largest first, ties
//! by address; neighbours likewise.

use super::overview::{facts, SnapshotFacts};
use super::python_path::{edge_text, hex, key_name, root_info_of};
use super::retention::Retention;
use super::rss::{rss_breakdown, RssBreakdown};
use super::summary::{summary, GroupBy};
use super::top::{retained_by_group, TopBy};
use crate::graph::shortest_paths::{IS_ROOT, UNSEEN};
use crate::snapshot::{ObjId, RootKind};
use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// How much of the heap the page embeds.
#[derive(Debug, Clone, Copy)]
pub struct ExploreOptions {
    /// Objects retaining less than this share of the heap are folded into their parent's
    /// "smaller objects" node.
    pub min_share: f64,
    /// At most this many objects in the tree (the largest first).
    pub max_nodes: usize,
    /// Referents and referrers listed per object, the biggest first.
    pub neighbours: usize,
    /// Rows of the types table, by retained bytes.
    pub max_types: usize,
}

impl Default for ExploreOptions {
    fn default() -> Self {
        ExploreOptions {
            min_share: 0.0001,
            max_nodes: 50_000,
            neighbours: 8,
            max_types: 5_000,
        }
    }
}

/// Every object the page mentions, as columns (`type` indexes `type_names`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ObjectColumns {
    pub addr: Vec<String>,
    #[serde(rename = "type")]
    pub type_idx: Vec<u32>,
    pub own: Vec<u64>,
    pub retained: Vec<u64>,
    /// Where its code is defined (`file:line`, see `defined`), an index into `texts`; 0 (the
    /// empty text) for none.
    pub defined: Vec<u32>,
    /// Where tracemalloc saw it allocated (the first frame of the program's own code), an
    /// index into `texts`; 0 for none.
    pub allocated: Vec<u32>,
}

/// The dominator tree's slice, parents before children. `obj` is -1 for a folded node,
/// which stands for `count` objects retaining `bytes` in all.
#[derive(Debug, Clone, Default, Serialize)]
pub struct TreeColumns {
    pub parent: Vec<i64>,
    pub obj: Vec<i64>,
    /// Retained bytes (of the object, or of all a folded node stands for).
    pub bytes: Vec<u64>,
    /// Objects a folded node stands for (0 for an object).
    pub count: Vec<u64>,
    /// Per node: its entry in `paths`, -1 when it has none (unreachable, or past the bound).
    pub path: Vec<i64>,
}

/// The shortest paths to the tree's objects, as one tree: an object's path expression is
/// `frag` of each entry from its root down, plus `.__dict__` when the last entry is a
/// `__dict__` (whose own `frag` is empty: its child writes `.name` for `['name']`).
#[derive(Debug, Clone, Default, Serialize)]
pub struct PathColumns {
    pub obj: Vec<u32>,
    pub parent: Vec<i64>,
    /// Indexes into `texts`.
    pub frag: Vec<u32>,
    /// 1 for a `__dict__`, else 0.
    pub dict: Vec<u8>,
    /// For roots: how the root is held (`module`, `local`, `external`, ...), else empty
    /// (an index into `texts`).
    pub root_kind: Vec<u32>,
}

/// One neighbour of an object: the other object (an index into `objects`) and the edge
/// (an index into `texts`).
#[derive(Debug, Clone, Serialize)]
pub struct Neighbour(pub u32, pub u32);

#[derive(Debug, Clone, Serialize)]
pub struct TypeRow {
    pub name: String,
    pub module: String,
    pub count: u64,
    /// Bytes of the instances' blocks plus the buffers they own.
    pub own: u64,
    /// Bytes the instances retain, each counted once.
    pub retained: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Explore {
    pub snapshot: SnapshotFacts,
    pub memory: Option<RssBreakdown>,
    /// Whether the snapshot holds string contents (captured with `--values`).
    pub values: bool,
    pub total_bytes: u64,
    pub unreachable_objects: u64,
    pub unreachable_bytes: u64,
    /// The smallest retained size embedded as an object of its own.
    pub min_retained: u64,
    /// Whether `max_nodes` stopped the tree before `min_share` did.
    pub node_limited: bool,
    pub type_names: Vec<String>,
    /// Path fragments, edges and root kinds, each once (most repeat: `[0]`, `.__dict__`).
    pub texts: Vec<String>,
    pub objects: ObjectColumns,
    pub tree: TreeColumns,
    pub paths: PathColumns,
    /// Per tree node (empty lists for folded nodes).
    pub referents: Vec<Vec<Neighbour>>,
    pub referrers: Vec<Vec<Neighbour>>,
    /// Distinct referents and referrers in all, per tree node.
    pub referents_total: Vec<u64>,
    pub referrers_total: Vec<u64>,
    pub types: Vec<TypeRow>,
    /// Rows of the types table before `max_types`.
    pub types_total: u64,
}

/// The objects the page mentions, each once, numbered as they are first met.
struct Mentioned<'r, 's> {
    r: &'r Retention<'s>,
    index: HashMap<u32, u32>,
    types: HashMap<u32, u32>,
    type_names: Vec<String>,
    cols: ObjectColumns,
    text_index: HashMap<String, u32>,
    texts: Vec<String>,
    /// Allocation traceback id -> its site's text.
    sites: HashMap<u32, u32>,
}

impl<'r, 's> Mentioned<'r, 's> {
    fn text(&mut self, t: String) -> u32 {
        if let Some(&i) = self.text_index.get(&t) {
            return i;
        }
        let i = self.texts.len() as u32;
        self.texts.push(t.clone());
        self.text_index.insert(t, i);
        i
    }

    fn of(&mut self, v: u32) -> u32 {
        if let Some(&i) = self.index.get(&v) {
            return i;
        }
        let snap = self.r.snap;
        let t = snap.objects.type_id[v as usize];
        let next = self.type_names.len() as u32;
        let ti = *self.types.entry(t).or_insert(next);
        if ti == next {
            self.type_names.push(snap.types[t as usize].name.clone());
        }
        let i = self.cols.addr.len() as u32;
        self.cols.addr.push(hex(snap.objects.addr[v as usize]));
        self.cols.type_idx.push(ti);
        self.cols.own.push(self.r.own[v as usize]);
        self.cols.retained.push(self.r.retained[v as usize]);
        let defined = super::defined::defined_at(snap, ObjId(v)).map_or(0, |d| self.text(d));
        self.cols.defined.push(defined);
        let allocated = match snap.objects.traceback_of(ObjId(v)) {
            Some(t) => match self.sites.get(&t) {
                Some(&s) => s,
                None => {
                    let site = snap
                        .tracebacks
                        .get(t as usize)
                        .map_or(String::new(), |tb| tb.site_as(super::sites::Frames::User));
                    let s = self.text(site);
                    self.sites.insert(t, s);
                    s
                }
            },
            None => 0,
        };
        self.cols.allocated.push(allocated);
        self.index.insert(v, i);
        i
    }
}

pub fn explore(r: &Retention, opts: &ExploreOptions) -> Explore {
    let snap = r.snap;
    let total = r.total();
    let min_retained = ((total as f64 * opts.min_share).ceil() as u64).max(1);
    let (nodes, node_limited) = select(r, min_retained, opts.max_nodes);
    let mut seen = Mentioned {
        r,
        index: HashMap::default(),
        types: HashMap::default(),
        type_names: Vec::new(),
        cols: ObjectColumns::default(),
        text_index: HashMap::default(),
        texts: Vec::new(),
        sites: HashMap::default(),
    };
    seen.text(String::new());
    let mut tree = TreeColumns::default();
    for n in &nodes {
        tree.parent.push(n.parent);
        tree.obj.push(seen.of(n.obj) as i64);
        tree.bytes.push(r.retained[n.obj as usize]);
        tree.count.push(0);
    }
    fold_smaller(r, &nodes, &mut tree);
    let objs: Vec<u32> = nodes.iter().map(|n| n.obj).collect();
    let (paths, path_of) = path_tree(r, &objs, &mut seen, opts.max_nodes.saturating_mul(4));
    tree.path = path_of;
    tree.path.resize(tree.parent.len(), -1);
    let (referents, referents_total) = referents(r, &objs, opts.neighbours, &mut seen);
    let (referrers, referrers_total) = referrers(r, &objs, opts.neighbours, &mut seen);
    let (types, types_total) = type_rows(r, opts.max_types);
    let (unreachable_objects, unreachable_bytes) = r.unreachable();
    Explore {
        snapshot: facts(snap),
        memory: rss_breakdown(snap),
        values: snap.header.values,
        total_bytes: total,
        unreachable_objects,
        unreachable_bytes,
        min_retained,
        node_limited,
        type_names: seen.type_names,
        texts: seen.texts,
        objects: seen.cols,
        tree,
        paths,
        referents,
        referrers,
        referents_total,
        referrers_total,
        types,
        types_total,
    }
}

struct Node {
    obj: u32,
    parent: i64,
}

/// The dominator tree from the top, largest retained first (ties by address), while an
/// object retains at least `min_retained`, up to `max_nodes`: a best-first walk, so a
/// parent always comes before its children and the slice is connected. Only objects
/// retaining that much can be in it, and their dominators retain more: those are grouped
/// by dominator, and no children lists of the whole tree are built.
fn select(r: &Retention, min_retained: u64, max_nodes: usize) -> (Vec<Node>, bool) {
    let idom = r.doms.idoms();
    let retained = &r.retained;
    let mut big: Vec<(u32, u32)> = (0..r.graph.objects() as u32)
        .into_par_iter()
        .filter(|&v| retained[v as usize] >= min_retained)
        .map(|v| (idom[v as usize], v))
        .collect();
    big.par_sort_unstable();
    let addr = &r.snap.objects.addr;
    let mut heap: BinaryHeap<(u64, Reverse<u64>, u32, i64)> = BinaryHeap::new();
    let push_children = |heap: &mut BinaryHeap<_>, v: u32, at: i64| {
        let from = big.partition_point(|&(d, _)| d < v);
        for &(_, w) in big[from..].iter().take_while(|&&(d, _)| d == v) {
            heap.push((retained[w as usize], Reverse(addr[w as usize]), w, at));
        }
    };
    push_children(&mut heap, r.graph.root(), -1);
    let mut out = Vec::new();
    while let Some((_, _, v, parent)) = heap.pop() {
        if out.len() >= max_nodes {
            return (out, true);
        }
        out.push(Node { obj: v, parent });
        push_children(&mut heap, v, out.len() as i64 - 1);
    }
    (out, false)
}

/// One folded node per parent (the virtual root included) for the children left out.
fn fold_smaller(r: &Retention, nodes: &[Node], tree: &mut TreeColumns) {
    let root = r.graph.root();
    // Per parent (index into `nodes`, the last for the virtual root): all its children,
    // the children kept, their bytes.
    let at: HashMap<u32, usize> = nodes.iter().enumerate().map(|(i, n)| (n.obj, i)).collect();
    let mut is_parent = fixedbitset::FixedBitSet::with_capacity(r.graph.objects() + 1);
    for n in nodes {
        is_parent.insert(n.obj as usize);
    }
    let mut kids = vec![0u64; nodes.len() + 1];
    for (v, &d) in r.doms.idoms().iter().enumerate() {
        if v as u32 == root {
            continue;
        }
        if d == root {
            kids[nodes.len()] += 1;
        } else if is_parent.contains(d as usize) {
            kids[at[&d]] += 1;
        }
    }
    let mut kept = vec![(0u64, 0u64); nodes.len() + 1];
    for n in nodes {
        let p = if n.parent < 0 {
            nodes.len()
        } else {
            n.parent as usize
        };
        kept[p].0 += 1;
        kept[p].1 += r.retained[n.obj as usize];
    }
    let mut fold = |parent: i64, below: u64, kids: u64, (count, bytes): (u64, u64)| {
        if kids > count {
            tree.parent.push(parent);
            tree.obj.push(-1);
            tree.bytes.push(below.saturating_sub(bytes));
            tree.count.push(kids - count);
        }
    };
    fold(-1, r.total(), kids[nodes.len()], kept[nodes.len()]);
    for (i, n) in nodes.iter().enumerate() {
        let below = r.retained[n.obj as usize].saturating_sub(r.own[n.obj as usize]);
        fold(i as i64, below, kids[i], kept[i]);
    }
}

/// The shortest-path tree restricted to the ancestors of `objs`, at most `budget` entries
/// (paths are added largest object first; once one does not fit, no more are). Returns the
/// tree and, per object of `objs`, its entry (or -1).
fn path_tree(
    r: &Retention,
    objs: &[u32],
    seen: &mut Mentioned,
    budget: usize,
) -> (PathColumns, Vec<i64>) {
    let snap = r.snap;
    let (parent, via, depth) = r.paths.tree();
    let mut named: HashMap<u32, usize> = HashMap::default();
    for (i, root) in snap.roots.iter().enumerate() {
        if root.kind != RootKind::External {
            named.entry(root.obj.0).or_insert(i);
        }
    }
    let classes: HashMap<u64, usize> = snap
        .types
        .iter()
        .enumerate()
        .map(|(i, t)| (t.addr, i))
        .rev()
        .collect();
    let mut cols = PathColumns::default();
    let mut entry: HashMap<u32, u32> = HashMap::default();
    let mut out = Vec::with_capacity(objs.len());
    let mut full = false;
    for &v in objs {
        if full {
            out.push(-1);
            continue;
        }
        // Up from `v` to an entry already made or a root, checking each step is one
        // shallower than the last (a tree read from an index may be corrupt).
        let mut chain: Vec<u32> = Vec::new();
        let mut x = v;
        let top = loop {
            if let Some(&e) = entry.get(&x) {
                break Some(e as i64);
            }
            if chain.len() >= budget - cols.obj.len() {
                full = true;
                break None;
            }
            let p = parent[x as usize];
            chain.push(x);
            if p == IS_ROOT && depth[x as usize] == 0 {
                break Some(-1);
            }
            let sound = p != UNSEEN
                && p != IS_ROOT
                && (p as usize) < parent.len()
                && depth[p as usize].checked_add(1) == Some(depth[x as usize]);
            if !sound {
                break None;
            }
            x = p;
        };
        let Some(mut above) = top else {
            out.push(-1);
            continue;
        };
        for &w in chain.iter().rev() {
            let i = cols.obj.len() as u32;
            let obj = seen.of(w);
            let (frag, dict, kind) = if above < 0 {
                let id = ObjId(w);
                let class = classes.get(&snap.objects.addr[w as usize]);
                let info = root_info_of(
                    snap,
                    r,
                    id,
                    named.get(&w).map(|&k| &snap.roots[k]),
                    class.map(|&k| &snap.types[k]),
                );
                (info.name, false, info.kind)
            } else {
                let text = edge_text(snap, ObjId(parent[w as usize]), via[w as usize]);
                if cols.dict[above as usize] == 1 {
                    let frag = match key_name(&text) {
                        Some(name) => format!(".{name}"),
                        None => format!(".__dict__{text}"),
                    };
                    (frag, false, String::new())
                } else if text == ".__dict__" {
                    (String::new(), true, String::new())
                } else {
                    (text, false, String::new())
                }
            };
            cols.obj.push(obj);
            cols.parent.push(above);
            cols.frag.push(seen.text(frag));
            cols.dict.push(dict as u8);
            cols.root_kind.push(seen.text(kind));
            entry.insert(w, i);
            above = i as i64;
        }
        out.push(above);
    }
    (cols, out)
}

impl PathColumns {
    /// The path expression of entry `i`, as `pymem path` writes it (the page does the same
    /// in script).
    pub fn expr(&self, i: usize, texts: &[String]) -> String {
        let mut parts = Vec::new();
        let mut x = i as i64;
        while x >= 0 {
            parts.push(texts[self.frag[x as usize] as usize].as_str());
            x = self.parent[x as usize];
        }
        let mut s: String = parts.into_iter().rev().collect();
        if self.dict[i] == 1 {
            s.push_str(".__dict__");
        }
        s
    }
}

/// A candidate neighbour: its retained bytes, address, and (object, edge).
type Candidate = (u64, u64, (u32, u32));

/// Keep the `k` biggest of `(retained, addr, item)`, largest first, ties by address.
fn biggest<T>(mut v: Vec<(u64, u64, T)>, k: usize) -> Vec<T> {
    v.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    v.truncate(k);
    v.into_iter().map(|x| x.2).collect()
}

/// Each object's biggest distinct referents, with the first edge to each.
fn referents(
    r: &Retention,
    objs: &[u32],
    k: usize,
    seen: &mut Mentioned,
) -> (Vec<Vec<Neighbour>>, Vec<u64>) {
    let snap = r.snap;
    let o = &snap.objects;
    let mut lists = Vec::with_capacity(objs.len());
    let mut totals = Vec::with_capacity(objs.len());
    for &v in objs {
        let mut firsts: HashMap<u32, u32> = HashMap::default();
        for e in o.edge_range(ObjId(v)) {
            firsts.entry(o.ref_targets[e].0).or_insert(e as u32);
        }
        totals.push(firsts.len() as u64);
        let cands = firsts
            .into_iter()
            .map(|(t, e)| (r.retained[t as usize], o.addr[t as usize], (t, e)))
            .collect();
        let list = biggest(cands, k)
            .into_iter()
            .map(|(t, e)| {
                let edge = seen.text(edge_text(snap, ObjId(v), e));
                Neighbour(seen.of(t), edge)
            })
            .collect();
        lists.push(list);
    }
    (lists, totals)
}

/// Each object's biggest distinct referrers, with the first edge from each: one pass over
/// every edge, keeping at most `k` per object as it goes.
fn referrers(
    r: &Retention,
    objs: &[u32],
    k: usize,
    seen: &mut Mentioned,
) -> (Vec<Vec<Neighbour>>, Vec<u64>) {
    let snap = r.snap;
    let o = &snap.objects;
    let slot: HashMap<u32, usize> = objs.iter().enumerate().map(|(i, &v)| (v, i)).collect();
    // Most edges lead elsewhere: a bit per object answers them before the map is asked.
    let mut listed = fixedbitset::FixedBitSet::with_capacity(o.count());
    for &v in objs {
        listed.insert(v as usize);
    }
    let mut best: Vec<Vec<Candidate>> = vec![Vec::new(); objs.len()];
    let mut total = vec![0u64; objs.len()];
    let mut last = vec![u32::MAX; objs.len()];
    for s in 0..o.count() as u32 {
        for e in o.edge_range(ObjId(s)) {
            let t = o.ref_targets[e].0;
            if !listed.contains(t as usize) {
                continue;
            }
            let Some(&i) = slot.get(&t) else {
                continue;
            };
            if last[i] == s {
                continue; // parallel edges: one referrer
            }
            last[i] = s;
            total[i] += 1;
            let key = (r.retained[s as usize], o.addr[s as usize]);
            let list = &mut best[i];
            if list.len() < k {
                list.push((key.0, key.1, (s, e as u32)));
            } else if let Some(w) = (0..list.len()).min_by(|&a, &b| {
                (list[a].0, Reverse(list[a].1)).cmp(&(list[b].0, Reverse(list[b].1)))
            }) {
                if (key.0, Reverse(key.1)) > (list[w].0, Reverse(list[w].1)) {
                    list[w] = (key.0, key.1, (s, e as u32));
                }
            }
        }
    }
    let lists = best
        .into_iter()
        .map(|b| {
            biggest(b, k)
                .into_iter()
                .map(|(s, e)| {
                    let edge = seen.text(edge_text(snap, ObjId(s), e));
                    Neighbour(seen.of(s), edge)
                })
                .collect()
        })
        .collect();
    (lists, total)
}

/// Types by retained bytes (then name): count, own and retained bytes.
fn type_rows(r: &Retention, limit: usize) -> (Vec<TypeRow>, u64) {
    let snap = r.snap;
    let own: HashMap<String, (u64, u64)> =
        summary(snap, GroupBy::Type, Default::default(), usize::MAX, false)
            .rows
            .into_iter()
            .map(|row| (row.key, (row.count, row.bytes)))
            .collect();
    let mut module: HashMap<&str, &str> = HashMap::default();
    for t in &snap.types {
        module.entry(t.name.as_str()).or_insert(t.module.as_str());
    }
    let mut rows: Vec<TypeRow> = retained_by_group(r, TopBy::Type)
        .into_iter()
        .filter(|g| g.count > 0)
        .map(|g| {
            let (count, bytes) = own.get(&g.key).copied().unwrap_or((g.count, 0));
            TypeRow {
                module: module.get(g.key.as_str()).unwrap_or(&"").to_string(),
                name: g.key,
                count,
                own: bytes,
                retained: g.retained,
            }
        })
        .collect();
    rows.sort_by(|a, b| b.retained.cmp(&a.retained).then(a.name.cmp(&b.name)));
    let total = rows.len() as u64;
    rows.truncate(limit);
    (rows, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn biggest_keeps_the_largest_and_breaks_ties_by_address() {
        let v = vec![(5, 9, 'a'), (7, 3, 'b'), (5, 2, 'c'), (1, 1, 'd')];
        assert_eq!(biggest(v, 3), vec!['b', 'c', 'a']);
    }
}
