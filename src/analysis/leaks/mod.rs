//! `leaks`: the containers that grow, named by their paths.
//!
//! Candidates are the objects of the last snapshot that are new since the first (absent from
//! it by identity) and, with three snapshots, already present in the middle one (memlab's
//! rule: allocated during the target round and still alive at the end). Each candidate is
//! charged to its *leak root*: the nearest pre-existing object that dominates it — the
//! container that grows. Two refinements make the root the one a programmer would fix:
//! - roots that are elements of one plain container (the lists of a `defaultdict(list)`)
//!   are merged into that container, so one growing registry is one finding;
//! - a root that is only a namespace (an instance, module or class `__dict__`) is replaced by
//!   the pre-existing container on the shortest path to the largest candidate under it, and
//!   an `lru_cache` wrapper's internal dict is reported as the wrapper.
//!
//! Growth is then measured on each root in every snapshot: entries and retained bytes.

use super::growth::{judge, nested_retained, sustained_entries};
use super::identity::{check_order, match_objects, NO_MATCH};
use super::native::{native_growth, NativeGrowth};
use super::noise::Suppressions;
use super::overview::{facts, SnapshotFacts};
use super::python_path::PyPath;
use super::retention::{retained_sizes, Retention};
use super::sites::{Frames, Sites};
use crate::error::Result;
use crate::snapshot::Snapshot;
use fixedbitset::FixedBitSet;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

mod roots;

use roots::{describe, display_root, entries_node, last_old_on_path, lift_into_containers};

#[derive(Debug, Clone, Serialize)]
pub struct TypeCount {
    #[serde(rename = "type")]
    pub type_name: String,
    pub count: u64,
    pub bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SiteCount {
    pub site: String,
    pub count: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct LeakRoot {
    pub addr: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// dict, list, set, deque, lru_cache, module, class, instance, ...
    pub kind: String,
    pub path: Option<PyPath>,
    /// Candidates charged to this root: count and own bytes (blocks plus owned buffers).
    pub new_objects: u64,
    pub new_bytes: u64,
    /// Entries of the container in each snapshot, where known.
    pub entries: Vec<Option<u64>>,
    /// Bytes the root retains in each snapshot.
    pub retained: Vec<Option<u64>>,
    /// Retained bytes, last snapshot minus first, net of `nested_growth_bytes`.
    pub growth_bytes: i64,
    pub growth_per_round: i64,
    /// Growth of the leak roots this root holds (each reported on its own, so counted once).
    pub nested_growth_bytes: i64,
    pub entries_per_round: Option<f64>,
    /// Retained bytes or entries rose between every pair of consecutive snapshots.
    pub grew_every_round: bool,
    /// The first snapshot (0 = the first given) the root is in. A root that was not in the
    /// first has no trend to judge: it never grew in every round and is never a leak.
    pub first_seen: usize,
    /// Other roots with this very path, folded into this row (not listed on their own).
    pub same_path: u64,
    /// Their growth, first snapshot to last (not in `growth_bytes`).
    pub same_path_growth_bytes: i64,
    /// Counted as a leak: grew in every round, by at least the minimum growth per round.
    pub leak: bool,
    /// The container's bound (a deque's maxlen, an lru_cache's maxsize), when it has one:
    /// growth stops there, so it is never counted as a leak.
    pub bound: Option<u64>,
    /// What it will retain at its bound, at its present bytes per entry.
    pub at_bound_bytes: Option<u64>,
    /// The types that accumulate, by bytes (at most five).
    pub types: Vec<TypeCount>,
    /// A path to the largest accumulated object.
    pub sample: Option<PyPath>,
    /// Where the accumulated objects were allocated (most common sites first), when the
    /// snapshots recorded allocation tracebacks.
    pub allocated_at: Vec<SiteCount>,
    /// Where the root itself was allocated, when recorded.
    pub root_allocated_at: Option<String>,
    /// Where the root's code is defined (`file:line`): an `lru_cache`'s function, a
    /// function's default or closure.
    pub defined_at: Option<String>,
    /// The class whose every instance this `lru_cache` on its method keeps alive (B019).
    pub keeps_instances_of: Option<String>,
}

/// A bounded container that grew in every round: it will stop at its bound.
#[derive(Debug, Clone, Serialize)]
pub struct BoundedGrowth {
    pub root: String,
    pub entries: Option<u64>,
    pub bound: u64,
    pub growth_bytes: i64,
    pub at_bound_bytes: Option<u64>,
}

/// A root counted as a leak: its path (or address) and how much it grew.
#[derive(Debug, Clone, Serialize)]
pub struct CountedLeak {
    pub root: String,
    pub growth_bytes: i64,
    pub growth_per_round: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SuppressedGroup {
    pub pattern: String,
    pub origin: String,
    pub roots: u64,
    pub new_objects: u64,
    pub new_bytes: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Leaks {
    pub snapshots: Vec<SnapshotFacts>,
    /// Which objects are candidates, in words.
    pub rule: String,
    pub candidates: u64,
    pub candidate_bytes: u64,
    /// Candidates no root reaches (garbage awaiting collection): not leaks.
    pub garbage_objects: u64,
    pub garbage_bytes: u64,
    /// Leak roots by new bytes, largest first (at most `limit`).
    pub roots: Vec<LeakRoot>,
    /// Unsuppressed roots beyond the limit.
    pub more_roots: u64,
    pub suppressed: Vec<SuppressedGroup>,
    /// Every root counted as a leak, suppressed ones excepted, largest growth first:
    /// the gate judges these.
    pub counted: Vec<CountedLeak>,
    /// Bounded containers that grew in every round (not counted: they stop at their bound).
    pub bounded: Vec<BoundedGrowth>,
    /// Growth per round below which a root that grew in every round is not counted.
    pub min_growth: u64,
    /// Memory outside Python objects in each snapshot, and whether it leaks (`None` when a
    /// snapshot has no RSS account).
    pub native: Option<NativeGrowth>,
}

pub struct LeakOptions {
    pub limit: usize,
    /// Bytes per round a root must grow by to count as a leak.
    pub min_growth: u64,
    pub suppressions: Suppressions,
    /// Growth outside Python objects, in all, beyond which it is a native leak.
    pub max_native_growth: u64,
    /// Which traceback frames name an allocation site.
    pub frames: Frames,
}

/// Candidates charged to one root while grouping. Groups live in `BTreeMap`s keyed by their
/// holder's id, so that merging visits them in one order on every run (issue 26: a merged
/// group's bound was read from whichever member a `HashMap` yielded first).
#[derive(Default)]
struct Group {
    count: u64,
    bytes: u64,
    types: BTreeMap<u32, (u64, u64)>,
    /// (retained, id) of the largest candidate.
    best: (u64, u32),
    /// The node whose retained size measures growth.
    measure: u32,
    /// The node whose length counts entries.
    entries_of: u32,
    /// Candidates per allocation site.
    sites: BTreeMap<u32, u64>,
}

impl Group {
    fn absorb(&mut self, other: Group) {
        self.count += other.count;
        self.bytes += other.bytes;
        for (t, (c, b)) in other.types {
            let e = self.types.entry(t).or_default();
            e.0 += c;
            e.1 += b;
        }
        self.best = self.best.max(other.best);
        for (site, n) in other.sites {
            *self.sites.entry(site).or_default() += n;
        }
    }
}

const PLAIN_CONTAINERS: &[&str] = &[
    "dict",
    "list",
    "set",
    "frozenset",
    "tuple",
    "collections.deque",
    "collections.OrderedDict",
    "collections.defaultdict",
];

const LRU_WRAPPER: &str = "functools._lru_cache_wrapper";

pub fn leaks(snaps: &[&Snapshot], opts: &LeakOptions) -> Result<Leaks> {
    check_order(snaps)?;
    let first = snaps[0];
    let last = *snaps.last().expect("two or more snapshots");
    let earlier = &snaps[..snaps.len() - 1];
    let (r, earlier_retained) = rayon::join(
        || Retention::compute(last),
        || {
            earlier
                .iter()
                .map(|s| retained_sizes(s))
                .collect::<Vec<_>>()
        },
    );
    let n = last.objects.count();
    let in_first = match_objects(first, last);
    let in_target = (snaps.len() == 3).then(|| match_objects(snaps[1], last));
    let root = r.graph.root();

    let Ancestry { old, near_old, top } = ancestry(&r, &in_first);
    let old = |v: u32| old.contains(v as usize);
    let is_candidate =
        |v: u32| !old(v) && in_target.as_ref().is_none_or(|m| m[v as usize] != NO_MATCH);

    let mut out = Leaks {
        snapshots: snaps.iter().map(|s| facts(s)).collect(),
        rule: if snaps.len() == 3 {
            "objects new in B (absent from A) and still alive in C".into()
        } else {
            "objects new in B (absent from A)".into()
        },
        candidates: 0,
        candidate_bytes: 0,
        garbage_objects: 0,
        garbage_bytes: 0,
        roots: Vec::new(),
        more_roots: 0,
        suppressed: Vec::new(),
        counted: Vec::new(),
        bounded: Vec::new(),
        min_growth: opts.min_growth,
        native: None,
    };
    out.native = native_growth(snaps, &out.snapshots, opts.max_native_growth);

    let sites = last.has_tracebacks().then(|| Sites::new(last, opts.frames));
    let mut groups = charge(
        &r,
        &near_old,
        &top,
        &old,
        &is_candidate,
        sites.as_ref(),
        &mut out,
    );

    let namespace = last.namespace_dicts();
    let plain: Vec<bool> = last
        .types
        .iter()
        .map(|t| PLAIN_CONTAINERS.contains(&t.name.as_str()))
        .collect();
    let is_plain = |v: u32| {
        (v as usize) < n
            && plain[last.objects.type_id[v as usize] as usize]
            && !namespace.contains(v as usize)
    };
    lift_into_containers(&mut groups, &near_old, root, &is_plain);

    let named = name_roots(&r, groups, &old, &is_plain, &namespace);

    let classes: HashSet<u64> = last.types.iter().map(|t| t.addr).collect();
    // Describe every root, then judge its growth net of the leak roots nested under it (a
    // module's namespace that holds a growing registry did not grow itself).
    let mut rows: Vec<(LeakRoot, Group)> = named
        .into_iter()
        .map(|(d, g)| {
            let mut row = describe(&r, snaps, &earlier_retained, &classes, d, &g);
            if let Some(s) = &sites {
                allocation_sites(s, d, &g, &mut row);
            }
            (row, g)
        })
        .collect();
    let measures: Vec<u32> = rows.iter().map(|(_, g)| g.measure).collect();
    let series: Vec<&[Option<u64>]> = rows
        .iter()
        .map(|(row, _)| row.retained.as_slice())
        .collect();
    let nested = nested_retained(&r, &measures, &series);
    for ((row, _), inner) in rows.iter_mut().zip(&nested) {
        judge(row, inner, snaps.len(), opts.min_growth);
    }
    // Most important first: counted leaks, then roots that grew in every round, then by the
    // bytes charged to them; ties by address (a total order: roots are distinct objects).
    rows.sort_by(|(a, ga), (b, gb)| {
        b.leak
            .cmp(&a.leak)
            .then(b.grew_every_round.cmp(&a.grew_every_round))
            .then(gb.bytes.cmp(&ga.bytes))
            .then(b.growth_bytes.cmp(&a.growth_bytes))
            .then(a.addr.cmp(&b.addr))
    });
    sift(rows, opts, &mut out);
    Ok(out)
}

/// Which objects of the last snapshot were there before, and where each sits among them.
struct Ancestry {
    /// Pre-existing: present in the first snapshot and dominated by pre-existing objects only.
    old: FixedBitSet,
    /// The nearest pre-existing strict dominator of each object (the virtual root if none).
    near_old: Vec<u32>,
    /// The top of each object's dominator subtree (a child of the virtual root).
    top: Vec<u32>,
}

/// Pre-existing objects: present in the first snapshot (`in_first`), and dominated by
/// pre-existing objects only. The second condition catches addresses reused by new objects
/// (a new Cart's list at the address of a list freed since A), which identity alone cannot.
/// All three columns are filled in preorder: a dominator comes before what it dominates.
fn ancestry(r: &Retention, in_first: &[u32]) -> Ancestry {
    let n = r.graph.objects();
    let root = r.graph.root();
    let mut old = FixedBitSet::with_capacity(n + 1);
    old.insert(n);
    // Nearest pre-existing strict dominator, and the top of each dominator subtree.
    let mut near_old = vec![root; n + 1];
    let mut top = vec![root; n + 1];
    for &v in r.graph.preorder().iter().skip(1) {
        let d = r.doms.idom(v);
        if old.contains(d as usize) && in_first[v as usize] != NO_MATCH {
            old.insert(v as usize);
        }
        if d == root {
            top[v as usize] = v;
        } else {
            top[v as usize] = top[d as usize];
            near_old[v as usize] = if old.contains(d as usize) {
                d
            } else {
                near_old[d as usize]
            };
        }
    }
    Ancestry { old, near_old, top }
}

/// Charge every candidate to a holder: its nearest pre-existing dominator, or for one held by
/// several roots, the last pre-existing object on the shortest path to its subtree's top.
/// Counts the candidates (and the garbage among them) into `out`.
fn charge(
    r: &Retention,
    near_old: &[u32],
    top: &[u32],
    old: &impl Fn(u32) -> bool,
    is_candidate: &impl Fn(u32) -> bool,
    sites: Option<&Sites>,
    out: &mut Leaks,
) -> BTreeMap<u32, Group> {
    let last = r.snap;
    let n = last.objects.count();
    let root = r.graph.root();
    let mut fallback: HashMap<u32, u32> = HashMap::new();
    let mut groups: BTreeMap<u32, Group> = BTreeMap::new();
    for v in 0..n as u32 {
        if !is_candidate(v) {
            continue;
        }
        let own = r.own[v as usize];
        out.candidates += 1;
        out.candidate_bytes += own;
        if !r.graph.is_reachable(v) {
            out.garbage_objects += 1;
            out.garbage_bytes += own;
            continue;
        }
        let mut h = near_old[v as usize];
        if h == root {
            // Held by several roots and nothing old dominates it: the last pre-existing
            // object on the shortest path to its subtree's top, else that top itself.
            let t = top[v as usize];
            h = *fallback
                .entry(t)
                .or_insert_with(|| last_old_on_path(r, t, old).unwrap_or(t));
        }
        let g = groups.entry(h).or_default();
        g.count += 1;
        g.bytes += own;
        let e = g.types.entry(last.objects.type_id[v as usize]).or_default();
        e.0 += 1;
        e.1 += own;
        g.best = g.best.max((r.retained[v as usize], v));
        if let Some(s) = sites {
            *g.sites.entry(s.of[v as usize]).or_default() += 1;
        }
    }

    groups
}

/// Name each group's root the way a programmer would fix it, and merge groups that end up
/// with the same root. Holders are visited in id order; a merged group measures its growth on
/// the displayed root when any member does (that root dominates it), else on its first
/// member's node, and counts the entries of the displayed root unless it records none.
fn name_roots(
    r: &Retention,
    groups: BTreeMap<u32, Group>,
    old: &impl Fn(u32) -> bool,
    is_plain: &impl Fn(u32) -> bool,
    namespace: &FixedBitSet,
) -> BTreeMap<u32, Group> {
    let last = r.snap;
    let mut named: BTreeMap<u32, Group> = BTreeMap::new();
    for (h, mut g) in groups {
        let (d, measure) = display_root(r, h, g.best.1, old, is_plain, namespace);
        g.measure = measure;
        g.entries_of = entries_node(last, d, h);
        match named.get_mut(&d) {
            Some(x) => {
                if g.measure == d {
                    x.measure = d;
                }
                x.absorb(g);
            }
            None => {
                named.insert(d, g);
            }
        }
    }

    named
}

fn counted(root: &LeakRoot) -> CountedLeak {
    CountedLeak {
        root: root
            .path
            .as_ref()
            .map_or_else(|| root.addr.clone(), |p| p.expr.clone()),
        growth_bytes: root.growth_bytes,
        growth_per_round: root.growth_per_round,
    }
}

/// Sort the judged roots into `out`: suppressed ones by pattern, counted leaks, growth up to
/// a bound, and the roots shown (the first `opts.limit`).
fn sift(rows: Vec<(LeakRoot, Group)>, opts: &LeakOptions, out: &mut Leaks) {
    let mut suppressed: Vec<SuppressedGroup> = Vec::new();
    let mut same_path: BTreeMap<String, usize> = BTreeMap::new();
    for (root_row, g) in rows {
        let mut subjects: Vec<&str> = Vec::new();
        if let Some(p) = &root_row.path {
            subjects.push(&p.expr);
            if let Some(f) = &p.root.frame {
                subjects.push(f);
            }
        }
        if opts.suppressions.is_capture_own(&subjects) {
            continue;
        }
        // Built-in patterns name interpreter state that settles as a program warms up, not a
        // container gaining 100+ entries every round; the user's own patterns always apply.
        let sustained = sustained_entries(&root_row);
        let matched = opts
            .suppressions
            .find_where(&subjects, |pat| !pat.is_builtin() || !sustained)
            .map(|i| &opts.suppressions.patterns[i]);
        if let Some(pat) = matched {
            match suppressed.iter_mut().find(|s| s.pattern == pat.text) {
                Some(s) => {
                    s.roots += 1;
                    s.new_objects += g.count;
                    s.new_bytes += g.bytes;
                }
                None => suppressed.push(SuppressedGroup {
                    pattern: pat.text.clone(),
                    origin: pat.origin.clone(),
                    roots: 1,
                    new_objects: g.count,
                    new_bytes: g.bytes,
                }),
            }
            continue;
        }
        if let (true, Some(bound)) = (root_row.grew_every_round, root_row.bound) {
            out.bounded.push(BoundedGrowth {
                root: root_row
                    .path
                    .as_ref()
                    .map_or_else(|| root_row.addr.clone(), |p| p.expr.clone()),
                entries: root_row.entries.last().copied().flatten(),
                bound,
                growth_bytes: root_row.growth_bytes,
                at_bound_bytes: root_row.at_bound_bytes,
            });
        }
        // Roots written with one path (objects reached through one unlabelled edge, such
        // as the results an lru_cache keeps) are one line with a count, one counted leak.
        let expr = root_row.path.as_ref().map(|p| p.expr.clone());
        if let Some(first) = expr.as_ref().and_then(|e| same_path.get(e)) {
            if root_row.leak {
                match out
                    .counted
                    .iter_mut()
                    .find(|c| Some(&c.root) == expr.as_ref())
                {
                    Some(c) => {
                        c.growth_bytes += root_row.growth_bytes;
                        c.growth_per_round += root_row.growth_per_round;
                    }
                    None => out.counted.push(counted(&root_row)),
                }
            }
            if let Some(shown) = out.roots.get_mut(*first) {
                shown.same_path += 1;
                shown.same_path_growth_bytes += root_row.growth_bytes;
            }
            continue;
        }
        if root_row.leak {
            out.counted.push(counted(&root_row));
        }
        if out.roots.len() < opts.limit {
            if let Some(e) = expr {
                same_path.insert(e, out.roots.len());
            }
            out.roots.push(root_row);
        } else {
            out.more_roots += 1;
        }
    }
    // Ties: the pattern's text (suppressed), the root's name (counted).
    suppressed.sort_by(|a, b| {
        b.new_bytes
            .cmp(&a.new_bytes)
            .then(a.pattern.cmp(&b.pattern))
    });
    out.suppressed = suppressed;
    out.counted.sort_by(|a, b| {
        b.growth_bytes
            .cmp(&a.growth_bytes)
            .then(a.root.cmp(&b.root))
    });
}

/// The three most common allocation sites of a group's objects, and the root's own.
fn allocation_sites(s: &Sites, d: u32, g: &Group, row: &mut LeakRoot) {
    let mut counts: Vec<(u32, u64)> = g.sites.iter().map(|(k, v)| (*k, *v)).collect();
    // Traced sites first, then by count, then by site id.
    counts.sort_by_key(|&(site, n)| (site == 0, std::cmp::Reverse(n), site));
    row.allocated_at = counts
        .into_iter()
        .take(3)
        .map(|(site, count)| SiteCount {
            site: s.names[site as usize].clone(),
            count,
        })
        .collect();
    if (d as usize) < s.of.len() && s.of[d as usize] != 0 {
        row.root_allocated_at = Some(s.name(d as usize).to_string());
    }
}
