//! Where `frag`'s blocks lie: the pool geometry of a snapshot, every object's and owned
//! buffer's pool, each arena's live bytes and whether it is pinned, the size-class table,
//! the reconciliation of pool headers with the blocks found, and the arena map.

use super::{share, ArenaUse, Reconciliation, SizeClass};
use crate::analysis::overview::SnapshotFacts;
use crate::error::{Error, Result};
use crate::snapshot::Snapshot;
use std::collections::HashMap;

/// Pool geometry of one snapshot.
pub(super) struct Geometry {
    pub(super) arena_size: u64,
    pub(super) pool_size: u64,
    pub(super) overhead: u64,
    pub(super) debug_shift: u64,
}

impl Geometry {
    pub(super) fn of(snap: &Snapshot) -> Result<Self> {
        let a = &snap.header.allocator;
        if !snap.has_pools() || a.arena_size.is_none() || a.pool_size.is_none() {
            let why = snap
                .header
                .missing
                .iter()
                .find(|m| m.starts_with("pools"))
                .cloned()
                .unwrap_or_else(|| format!("allocator {}", a.name));
            return Err(Error::file(
                &snap.path,
                format!("no pymalloc arenas in this snapshot ({why}): frag needs them"),
            ));
        }
        Ok(Geometry {
            arena_size: a.arena_size.unwrap_or(0),
            pool_size: a.pool_size.unwrap_or(0),
            overhead: a.pool_overhead.unwrap_or(48),
            debug_shift: a.debug_shift.unwrap_or(0),
        })
    }

    pub(super) fn capacity(&self, block: u64) -> u64 {
        (self.pool_size - self.overhead) / block.max(1)
    }
}

pub(super) fn block_size(class: u8) -> u64 {
    (class as u64 + 1) * 16
}

/// Placement of blocks into pools: sorted pool addresses and each pool's arena.
pub(super) struct Pools<'s> {
    pub(super) snap: &'s Snapshot,
    pub(super) geo: &'s Geometry,
    pub(super) sorted: Vec<(u64, u32)>,
    pub(super) arena_of: Vec<u32>,
}

impl<'s> Pools<'s> {
    pub(super) fn new(snap: &'s Snapshot, geo: &'s Geometry) -> Self {
        let mut sorted: Vec<(u64, u32)> = snap
            .pools
            .iter()
            .enumerate()
            .map(|(i, p)| (p.addr, i as u32))
            .collect();
        sorted.sort_unstable();
        let mut arena_of = vec![0u32; snap.pools.len()];
        for (ai, a) in snap.arenas.iter().enumerate() {
            for p in a.pools.clone() {
                arena_of[p as usize] = ai as u32;
            }
        }
        Pools {
            snap,
            geo,
            sorted,
            arena_of,
        }
    }

    /// The used pool holding the block that starts at `block`, if any.
    pub(super) fn pool_of(&self, block: u64) -> Option<u32> {
        let base = block & !(self.geo.pool_size - 1);
        let i = self.sorted.binary_search_by_key(&base, |p| p.0).ok()?;
        let pi = self.sorted[i].1;
        let p = &self.snap.pools[pi as usize];
        let off = block.checked_sub(base + self.geo.overhead)?;
        (p.used_blocks > 0
            && off % block_size(p.size_class) == 0
            && block < base + self.geo.pool_size)
            .then_some(pi)
    }
}

/// Free lists printed at capture, by the pymalloc block size of their objects:
/// (their names, objects on them).
pub(super) fn free_lists_by_size(snap: &Snapshot) -> HashMap<u64, (String, u64)> {
    let mut out: HashMap<u64, (String, u64)> = HashMap::new();
    let Some(ms) = &snap.header.mallocstats else {
        return out;
    };
    for (name, &n) in &ms.free_lists {
        let Some(&each) = ms.free_list_bytes.get(name) else {
            continue;
        };
        if n == 0 {
            continue;
        }
        // Floats and dict keys carry no GC header; the other free-listed types do.
        let pre = if name.starts_with("PyFloat") || name.starts_with("PyDictKeys") {
            0
        } else {
            16
        };
        let size = (each + pre).div_ceil(16) * 16;
        let e = out.entry(size).or_default();
        if !e.0.is_empty() {
            e.0.push_str(", ");
        }
        e.0.push_str(name);
        e.1 += n;
    }
    out
}

/// Where every block lies: each object's and owned buffer's pool, and per arena the live bytes
/// and whether it is pinned (used below `threshold`).
pub(super) struct Placement {
    pub(super) object_pool: Vec<Option<u32>>,
    pub(super) buffer_pool: Vec<Option<u32>>,
    /// Blocks found in each pool.
    pub(super) found_in_pool: Vec<u32>,
    /// Pools whose header counts fewer blocks than were found in them.
    pub(super) stale_pools: u64,
    pub(super) arena_live: Vec<u64>,
    pub(super) pinned: Vec<bool>,
    /// Per arena, unused bytes per live byte: what each live byte there holds idle.
    pub(super) unused_ratio: Vec<f64>,
}

/// Place every object's block and every owned buffer in its pool, then weigh the arenas.
pub(super) fn place(snap: &Snapshot, pools: &Pools, geo: &Geometry, threshold: f64) -> Placement {
    let objs = &snap.objects;
    let mut found_in_pool = vec![0u32; snap.pools.len()];
    let object_pool: Vec<Option<u32>> = (0..objs.count())
        .map(|i| {
            let block = objs.addr[i].wrapping_sub(snap.types[objs.type_id[i] as usize].pre);
            pools.pool_of(block)
        })
        .collect();
    let buffer_pool: Vec<Option<u32>> = snap
        .buffers
        .iter()
        .map(|b| pools.pool_of(b.addr.wrapping_sub(geo.debug_shift)))
        .collect();
    for p in object_pool.iter().chain(&buffer_pool).flatten() {
        found_in_pool[*p as usize] += 1;
    }
    // A pool header read before blocks were allocated in it (by another thread, during the
    // capture) counts fewer than were found: the larger figure is the truth.
    let stale_pools = snap
        .pools
        .iter()
        .zip(&found_in_pool)
        .filter(|(p, f)| **f > p.used_blocks)
        .count() as u64;
    let live_blocks = |p: usize| (snap.pools[p].used_blocks).max(found_in_pool[p]) as u64;
    let arena_live: Vec<u64> = snap
        .arenas
        .iter()
        .map(|a| {
            a.pools
                .clone()
                .map(|p| live_blocks(p as usize) * block_size(snap.pools[p as usize].size_class))
                .sum()
        })
        .collect();
    let pinned: Vec<bool> = arena_live
        .iter()
        .map(|&l| (l as f64) < threshold * geo.arena_size as f64)
        .collect();
    let unused_ratio: Vec<f64> = arena_live
        .iter()
        .map(|&l| {
            if l == 0 {
                0.0
            } else {
                geo.arena_size.saturating_sub(l) as f64 / l as f64
            }
        })
        .collect();

    Placement {
        object_pool,
        buffer_pool,
        found_in_pool,
        stale_pools,
        arena_live,
        pinned,
        unused_ratio,
    }
}

pub(super) fn size_classes(snap: &Snapshot, geo: &Geometry) -> Vec<SizeClass> {
    let mut rows: Vec<SizeClass> = Vec::new();
    for p in snap.pools.iter().filter(|p| p.used_blocks > 0) {
        let c = p.size_class as u32;
        let i = match rows.iter().position(|r| r.class == c) {
            Some(i) => i,
            None => {
                rows.push(SizeClass {
                    class: c,
                    block_size: block_size(p.size_class),
                    pools: 0,
                    blocks_in_use: 0,
                    free_blocks: 0,
                    mallocstats: None,
                });
                rows.len() - 1
            }
        };
        let r = &mut rows[i];
        r.pools += 1;
        r.blocks_in_use += p.used_blocks as u64;
        r.free_blocks += geo
            .capacity(r.block_size)
            .saturating_sub(p.used_blocks as u64);
    }
    if let Some(ms) = &snap.header.mallocstats {
        for row in &ms.classes {
            let [class, size, npools, used, avail] = *row;
            match rows.iter_mut().find(|r| r.class as u64 == class) {
                Some(r) => r.mallocstats = Some([npools, used, avail]),
                None => rows.push(SizeClass {
                    class: class as u32,
                    block_size: size,
                    pools: 0,
                    blocks_in_use: 0,
                    free_blocks: 0,
                    mallocstats: Some([npools, used, avail]),
                }),
            }
        }
    }
    rows.sort_by_key(|r| r.class);
    rows
}

/// The arena table against what `sys._debugmallocstats()` printed at capture; the size
/// classes already carry both sides.
pub(super) fn reconcile(
    snap: &Snapshot,
    facts: &SnapshotFacts,
    classes: &[SizeClass],
    stale_pools: u64,
) -> Reconciliation {
    let a = facts.arenas.as_ref();
    Reconciliation {
        arenas: snap.arenas.len() as u64,
        mallocstats_arenas: a.and_then(|a| a.mallocstats_arenas),
        blocks_in_use: a.map_or(0, |a| a.blocks_in_use),
        mallocstats_blocks_in_use: a.and_then(|a| a.mallocstats_blocks),
        mismatched_classes: classes
            .iter()
            .filter(|c| {
                c.mallocstats
                    .is_some_and(|[pools, used, _]| pools != c.pools || used != c.blocks_in_use)
            })
            .map(|c| c.class)
            .collect(),
        stale_pools,
        free_lists: snap
            .header
            .mallocstats
            .as_ref()
            .map(|m| m.free_lists.iter().map(|(k, v)| (k.clone(), *v)).collect())
            .unwrap_or_default(),
    }
}

pub(super) fn arena_map(
    snap: &Snapshot,
    geo: &Geometry,
    live: &[u64],
    pinned: &[bool],
) -> Vec<ArenaUse> {
    let slots = (geo.arena_size / geo.pool_size.max(1)) as usize;
    let mut out: Vec<ArenaUse> = snap
        .arenas
        .iter()
        .enumerate()
        .map(|(ai, a)| {
            let mut cells = vec![-1.0f32; slots];
            // Pools start at the first pool-aligned address in the arena.
            let first = (a.addr + geo.pool_size - 1) & !(geo.pool_size - 1);
            for p in a.pools.clone() {
                let p = &snap.pools[p as usize];
                let slot = ((p.addr - first) / geo.pool_size) as usize;
                if slot < slots && p.used_blocks > 0 {
                    let cap = geo.capacity(block_size(p.size_class)).max(1);
                    cells[slot] = (p.used_blocks as f32 / cap as f32).min(1.0);
                }
            }
            ArenaUse {
                addr: a.addr,
                index: a.index,
                live_bytes: live[ai],
                utilisation: share(live[ai], geo.arena_size),
                pinned: pinned[ai],
                pools: cells,
            }
        })
        .collect();
    out.sort_by_key(|a| a.addr);
    out
}
