//! `frag`: which live blocks pin which pymalloc arenas.
//!
//! An arena goes back to the OS only when every pool in it is empty, so a few long-lived
//! blocks in an otherwise empty arena keep the whole arena (256 KiB up to 3.9, 1 MiB from
//! 3.10) resident. From the pool headers in the snapshot every arena's live bytes are known;
//! each object's block (its address minus its type's pre-header) and each owned buffer is
//! placed in its pool, and whatever the pool header counts beyond them is a free-listed or
//! unattributed block (free-listed: as many as the free lists printed at capture hold of
//! that block size, charged to pinned arenas first — an assumption, said in the output). Arenas used below a threshold are *pinned*; their held-but-unused
//! bytes are attributed to the groups of blocks inside them in proportion to live bytes, and
//! a group that is alone in an arena would return it outright if freed.

use super::overview::{facts, SnapshotFacts};
use super::python_path::{path_to, PyPath};
use super::retention::Retention;
use super::sites::{Frames, Sites};
use crate::error::Result;
use crate::snapshot::{ObjId, Snapshot};
use serde::Serialize;
use std::collections::HashMap;

mod change;
mod pools;

pub use change::{frag_change, FragChange, GroupChange};
use pools::{
    arena_map, block_size, free_lists_by_size, place, reconcile, size_classes, Geometry, Placement,
    Pools,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FragBy {
    /// Objects by type, buffers by their owner's type, other blocks by size.
    Type,
    /// Objects by the container holding them, buffers by their owner.
    Owner,
    /// Objects by allocation site, buffers by their owner's.
    Traceback,
}

/// One size class over the whole heap, with `sys._debugmallocstats()`'s row beside it.
#[derive(Debug, Clone, Serialize)]
pub struct SizeClass {
    pub class: u32,
    pub block_size: u64,
    pub pools: u64,
    pub blocks_in_use: u64,
    /// Free blocks inside the class's used pools.
    pub free_blocks: u64,
    /// `[pools, blocks in use, avail blocks]` as printed at capture, when recorded.
    pub mallocstats: Option<[u64; 3]>,
}

/// What the allocator printed at capture against what the pool headers say.
#[derive(Debug, Clone, Serialize)]
pub struct Reconciliation {
    pub arenas: u64,
    pub mallocstats_arenas: Option<u64>,
    pub blocks_in_use: u64,
    pub mallocstats_blocks_in_use: Option<u64>,
    /// Size classes whose pools or blocks in use differ (empty when all agree).
    pub mismatched_classes: Vec<u32>,
    /// Pools whose header counts fewer blocks than the objects found in them (blocks
    /// allocated after the allocator was read); their larger figure is used.
    pub stale_pools: u64,
    /// Free-list lengths printed at capture (`PyFloatObjects`: 4, ...): blocks in use that
    /// hold no live object.
    pub free_lists: Vec<(String, u64)>,
}

/// A group of blocks inside pinned arenas.
#[derive(Debug, Clone, Serialize)]
pub struct PinGroup {
    pub key: String,
    pub kind: PinKind,
    pub blocks: u64,
    pub live_bytes: u64,
    /// Pinned arenas holding at least one of these blocks.
    pub arenas: u64,
    /// Held-but-unused bytes of those arenas charged to this group (in proportion to its
    /// share of each arena's live bytes).
    pub attributed_bytes: u64,
    /// Arenas in which these blocks are the only live ones: freeing them returns these.
    pub sole_arenas: u64,
    pub reclaimable_bytes: u64,
    /// Where most of them are held (objects: the container; buffers: the owner).
    pub held_by: Option<PyPath>,
}

/// One arena, for the map.
#[derive(Debug, Clone, Serialize)]
pub struct ArenaUse {
    pub addr: u64,
    pub index: u32,
    pub live_bytes: u64,
    pub utilisation: f64,
    pub pinned: bool,
    /// Per pool slot (in address order): used fraction 0..=1 of a used pool, or -1 for an
    /// empty or not yet carved pool.
    pub pools: Vec<f32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Frag {
    pub snapshot: SnapshotFacts,
    pub by: FragBy,
    pub threshold: f64,
    pub arena_size: u64,
    pub pool_size: u64,
    pub arenas: u64,
    pub held_bytes: u64,
    pub live_bytes: u64,
    /// Held bytes not in live blocks, as a share of held bytes.
    pub fragmentation: f64,
    pub classes: Vec<SizeClass>,
    pub reconciliation: Reconciliation,
    pub pinned_arenas: u64,
    pub pinned_held_bytes: u64,
    pub pinned_live_bytes: u64,
    pub pinned_unused_bytes: u64,
    /// Share of the pinned arenas' unused bytes charged to objects, buffers and free lists
    /// (the rest to unattributed blocks).
    pub attributed_share: f64,
    /// Groups by attributed bytes, largest first (at most `limit`).
    pub findings: Vec<PinGroup>,
    pub more_findings: usize,
    /// The C heap holds much more free memory than it uses (glibc's figures at capture).
    pub c_heap: Option<super::c_heap::CHeapFinding>,
    #[serde(skip)]
    pub map: Vec<ArenaUse>,
}

/// What a group of pinning blocks is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PinKind {
    /// Objects.
    #[default]
    Objects,
    /// Buffers objects own.
    Buffers,
    /// Objects kept for reuse by a type's free list, counted from the free lists printed at
    /// capture.
    FreeListed,
    /// Blocks nothing recorded accounts for (interpreter allocations).
    Unattributed,
}

/// Accumulates one group's blocks.
#[derive(Default)]
struct Acc {
    kind: PinKind,
    blocks: u64,
    live: u64,
    attributed: f64,
    per_arena: HashMap<u32, u64>,
    holders: HashMap<u32, u64>,
}

/// `frag`'s default: arenas used below this percentage are pinned (the CLI's, and the HTML
/// report's).
pub const DEFAULT_THRESHOLD_PCT: f64 = 25.0;

pub struct FragOptions {
    pub by: FragBy,
    /// Which traceback frames name a site, with `FragBy::Traceback`.
    pub frames: Frames,
    /// Arenas used below this share (0..1) are pinned.
    pub threshold: f64,
    pub limit: usize,
}

pub fn frag(snap: &Snapshot, opts: &FragOptions) -> Result<Frag> {
    let geo = Geometry::of(snap)?;
    let pools = Pools::new(snap, &geo);
    let Placement {
        object_pool,
        buffer_pool,
        found_in_pool,
        stale_pools,
        arena_live,
        pinned,
        unused_ratio,
    } = place(snap, &pools, &geo, opts.threshold);

    let pinned_blocks = pinned_blocks(snap, &pools, &pinned, &object_pool, &buffer_pool);

    let needs_paths = !pinned_blocks.is_empty();
    let retention = needs_paths.then(|| Retention::compute(snap));
    let mut groups: HashMap<String, Acc> = HashMap::new();
    // `n` blocks of one pool join group `key`.
    let mut add = |key: String, kind: PinKind, pool: u32, holder: Option<u32>, n: u64| {
        if n == 0 {
            return;
        }
        let p = &snap.pools[pool as usize];
        let arena = pools.arena_of[pool as usize];
        let bytes = block_size(p.size_class) * n;
        let g = groups.entry(key).or_default();
        g.kind = kind;
        g.blocks += n;
        g.live += bytes;
        g.attributed += bytes as f64 * unused_ratio[arena as usize];
        *g.per_arena.entry(arena).or_default() += bytes;
        if let Some(h) = holder {
            *g.holders.entry(h).or_default() += n;
        }
    };
    let holder_of = |obj: u32, is_buffer: bool| -> Option<u32> {
        if is_buffer {
            return Some(obj);
        }
        let r = retention.as_ref()?;
        let steps = r.paths.path(obj);
        (steps.len() >= 2).then(|| steps[steps.len() - 2].node)
    };
    let mut owner_keys: HashMap<u32, String> = HashMap::new();
    let sites = (opts.by == FragBy::Traceback).then(|| Sites::new(snap, opts.frames));
    for &(obj, pool, is_buffer) in &pinned_blocks {
        let holder = holder_of(obj, is_buffer);
        let key = group_key(
            snap,
            opts.by,
            (obj, is_buffer),
            holder,
            retention.as_ref(),
            sites.as_ref(),
            &mut owner_keys,
        );
        add(
            key,
            if is_buffer {
                PinKind::Buffers
            } else {
                PinKind::Objects
            },
            pool,
            holder,
            1,
        );
    }
    unaccounted_blocks(snap, &pinned, &found_in_pool, &mut add);

    let mut findings = findings(groups, &arena_live, geo.arena_size, retention.as_ref());

    let held_bytes = snap.arenas.len() as u64 * geo.arena_size;
    let live_bytes: u64 = arena_live.iter().sum();
    let pinned_arenas = pinned.iter().filter(|p| **p).count() as u64;
    let pinned_live_bytes: u64 = arena_live
        .iter()
        .zip(&pinned)
        .filter(|(_, p)| **p)
        .map(|(l, _)| *l)
        .sum();
    let pinned_held_bytes = pinned_arenas * geo.arena_size;
    let pinned_unused_bytes = pinned_held_bytes - pinned_live_bytes.min(pinned_held_bytes);
    let attributed: u64 = findings
        .iter()
        .filter(|f| f.kind != PinKind::Unattributed)
        .map(|f| f.attributed_bytes)
        .sum();
    let more_findings = findings.len().saturating_sub(opts.limit);
    findings.truncate(opts.limit);
    let snapshot = facts(snap);
    let classes = size_classes(snap, &geo);
    Ok(Frag {
        reconciliation: reconcile(snap, &snapshot, &classes, stale_pools),
        classes,
        snapshot,
        by: opts.by,
        threshold: opts.threshold,
        arena_size: geo.arena_size,
        pool_size: geo.pool_size,
        arenas: snap.arenas.len() as u64,
        held_bytes,
        live_bytes,
        fragmentation: share(held_bytes.saturating_sub(live_bytes), held_bytes),
        pinned_arenas,
        pinned_held_bytes,
        pinned_live_bytes,
        pinned_unused_bytes,
        attributed_share: share(attributed, pinned_unused_bytes),
        findings,
        more_findings,
        c_heap: super::c_heap::finding(snap),
        map: arena_map(snap, &geo, &arena_live, &pinned),
    })
}

/// (object, pool, is_buffer) of every block in a pinned arena: objects first, in id order,
/// then owned buffers.
fn pinned_blocks(
    snap: &Snapshot,
    pools: &Pools,
    pinned: &[bool],
    object_pool: &[Option<u32>],
    buffer_pool: &[Option<u32>],
) -> Vec<(u32, u32, bool)> {
    let in_pinned = |p: &Option<u32>| p.filter(|p| pinned[pools.arena_of[*p as usize] as usize]);
    let mut pinned_blocks: Vec<(u32, u32, bool)> = Vec::new();
    for (i, p) in object_pool.iter().enumerate() {
        if let Some(p) = in_pinned(p) {
            pinned_blocks.push((i as u32, p, false));
        }
    }
    for (b, p) in snap.buffers.iter().zip(buffer_pool) {
        if let Some(p) = in_pinned(p) {
            pinned_blocks.push((b.owner.0, p, true));
        }
    }
    pinned_blocks
}

/// Blocks the pool headers of pinned arenas count but no object or buffer accounts for, each
/// `add`ed to a group: free-listed objects, as many as the free lists printed at capture hold
/// blocks of that size, charged to pinned arenas first (a free list fills as a burst of
/// objects dies, so its blocks sit where the burst was; which blocks exactly is not
/// recorded), and the rest, unattributed.
fn unaccounted_blocks(
    snap: &Snapshot,
    pinned: &[bool],
    found_in_pool: &[u32],
    add: &mut impl FnMut(String, PinKind, u32, Option<u32>, u64),
) {
    let mut on_lists = free_lists_by_size(snap);
    for (ai, a) in snap.arenas.iter().enumerate() {
        if !pinned[ai] {
            continue;
        }
        for p in a.pools.clone() {
            let pool = &snap.pools[p as usize];
            let extra = (pool.used_blocks as u64).saturating_sub(found_in_pool[p as usize] as u64);
            let size = block_size(pool.size_class);
            let mut listed = 0;
            if let Some((names, left)) = on_lists.get_mut(&size) {
                listed = extra.min(*left);
                *left -= listed;
                add(
                    format!("free-listed {names} ({size}-byte blocks)"),
                    PinKind::FreeListed,
                    p,
                    None,
                    listed,
                );
            }
            add(
                format!("unattributed {size}-byte blocks"),
                PinKind::Unattributed,
                p,
                None,
                extra - listed,
            );
        }
    }
}

/// The groups as findings, the most attributed bytes first (ties: live bytes, then the key):
/// how many arenas each pins alone, and what holds most of its blocks.
fn findings(
    groups: HashMap<String, Acc>,
    arena_live: &[u64],
    arena_size: u64,
    retention: Option<&Retention>,
) -> Vec<PinGroup> {
    let mut findings: Vec<PinGroup> = groups
        .into_iter()
        .map(|(key, g)| {
            let sole = g
                .per_arena
                .iter()
                .filter(|(a, b)| arena_live[**a as usize] == **b)
                .count() as u64;
            let top_holder = g
                .holders
                .iter()
                .max_by_key(|(h, n)| (**n, std::cmp::Reverse(**h)))
                .map(|(h, _)| *h);
            PinGroup {
                key,
                kind: g.kind,
                blocks: g.blocks,
                live_bytes: g.live,
                arenas: g.per_arena.len() as u64,
                attributed_bytes: g.attributed.round() as u64,
                sole_arenas: sole,
                reclaimable_bytes: sole * arena_size,
                held_by: match (top_holder, retention) {
                    (Some(h), Some(r)) => path_to(r, ObjId(h)),
                    _ => None,
                },
            }
        })
        .collect();
    findings.sort_by(|a, b| {
        b.attributed_bytes
            .cmp(&a.attributed_bytes)
            .then(b.live_bytes.cmp(&a.live_bytes))
            .then(a.key.cmp(&b.key))
    });
    findings
}

/// The group a pinning block joins, by `by`: its type, its allocation site, or what holds
/// it (its owner's path, computed once per owner into `owner_keys`).
fn group_key(
    snap: &Snapshot,
    by: FragBy,
    (obj, is_buffer): (u32, bool),
    holder: Option<u32>,
    retention: Option<&Retention>,
    sites: Option<&Sites>,
    owner_keys: &mut HashMap<u32, String>,
) -> String {
    let type_name = &snap.type_of(ObjId(obj)).name;
    match (by, is_buffer) {
        (FragBy::Type, false) => type_name.clone(),
        (FragBy::Type, true) => format!("buffer of {type_name}"),
        (FragBy::Traceback, false) => format!(
            "objects allocated at {}",
            sites.map_or("?", |s| s.name(obj as usize))
        ),
        (FragBy::Traceback, true) => format!(
            "buffers of objects allocated at {}",
            sites.map_or("?", |s| s.name(obj as usize))
        ),
        (FragBy::Owner, _) => {
            let what = if is_buffer { "buffers" } else { "objects" };
            match (holder, retention) {
                (Some(h), Some(r)) => {
                    let p = owner_keys.entry(h).or_insert_with(|| {
                        path_to(r, ObjId(h)).map_or_else(
                            || format!("0x{:x}", snap.objects.addr[h as usize]),
                            |p| p.expr,
                        )
                    });
                    format!("{what} held by {p}")
                }
                _ => format!("{what} held by a root"),
            }
        }
    }
}

fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}
