//! pymalloc's arenas and pools, read from the allocator's own table: where every small block
//! lives, its size class, and what the snapshot's `arena` records and `mallocstats` say.
//!
//! The table is found from the interpreter's state (3.12+: `_obmalloc_state`, through the
//! interpreter) or its globals (3.8–3.11: `arenas`, `maxarenas`, full symbol table). Every
//! pool header is validated as the agent validates it (size class, grid, counts, arena index).

use super::heap::Heap;
use crate::le::{u32_at, u64_at};
use rustc_hash::FxHashMap as HashMap;

/// One carved pool: (address, size class, blocks in use, next offset).
pub type PoolRec = (u64, u32, u32, u32);

/// One arena: (address, index, total pools, free pools, pools).
pub struct ArenaRec {
    pub address: u64,
    pub index: u32,
    pub ntotal: u32,
    pub nfree: u32,
    pub pools: Vec<PoolRec>,
}

/// The allocator's state, as read.
#[derive(Default)]
pub struct Pools {
    pub arenas: Vec<ArenaRec>,
    /// Pools with blocks in use: pool address -> (block size, next offset).
    used: HashMap<u64, (u32, u32)>,
    pub pool_size: u64,
    pub arena_size: u64,
    pub overhead: u64,
}

const MAX_ARENAS: u64 = 1 << 24;
const NB_CLASSES: u32 = 32;

impl Pools {
    /// Read the arena table at `arenas_ptr` (`maxarenas` entries).
    pub fn read(heap: &Heap, arenas_ptr: u64, maxarenas: u64) -> Option<Pools> {
        let o = heap.off;
        if arenas_ptr == 0 || maxarenas == 0 || maxarenas > MAX_ARENAS {
            return None;
        }
        let (psize, asize) = (o.pool_size, o.arena_size);
        let mut out = Pools {
            pool_size: psize,
            arena_size: asize,
            overhead: o.pool_header_size,
            ..Pools::default()
        };
        let table = heap.bytes(arenas_ptr, (maxarenas * o.arena_object_size) as usize)?;
        let word = |at: usize| u64_at(table, at);
        let half = |at: usize| u32_at(table, at);
        for i in 0..maxarenas {
            let at = (i * o.arena_object_size) as usize;
            let address = word(at + o.arena_address as usize);
            if address == 0 {
                continue;
            }
            let pool_address = word(at + o.arena_pool_address as usize);
            let nfree = half(at + o.arena_nfreepools as usize);
            let ntotal = half(at + o.arena_ntotalpools as usize);
            if !(address <= pool_address && pool_address <= address + asize && nfree <= ntotal) {
                continue;
            }
            let mut pools = Vec::new();
            let mut p = (address + psize - 1) & !(psize - 1);
            while p < pool_address && p + psize <= address + asize {
                if let Some((count, arenaindex, szidx, nextoffset)) = out.header(heap, p) {
                    if arenaindex as u64 == i {
                        pools.push((p, szidx, count, nextoffset));
                        if count > 0 {
                            out.used.insert(p, ((szidx + 1) * 16, nextoffset));
                        }
                    }
                }
                p += psize;
            }
            out.arenas.push(ArenaRec {
                address,
                index: i as u32,
                ntotal,
                nfree,
                pools,
            });
        }
        Some(out)
    }

    /// A validated pool header: (count, arena index, size class, next offset).
    fn header(&self, heap: &Heap, pool: u64) -> Option<(u32, u32, u32, u32)> {
        let o = heap.off;
        let count = heap.u32(pool.wrapping_add(o.pool_count))?;
        let freeblock = heap.word(pool.wrapping_add(o.pool_freeblock))?;
        let arenaindex = heap.u32(pool.wrapping_add(o.pool_arenaindex))?;
        let szidx = heap.u32(pool.wrapping_add(o.pool_szidx))?;
        let nextoffset = heap.u32(pool.wrapping_add(o.pool_nextoffset))? as u64;
        let maxnext = heap.u32(pool.wrapping_add(o.pool_maxnextoffset))? as u64;
        if szidx >= NB_CLASSES {
            return None;
        }
        let size = (szidx as u64 + 1) * 16;
        let (psize, overhead) = (self.pool_size, self.overhead);
        if maxnext != psize - size
            || nextoffset < overhead + size
            || nextoffset > psize
            || (nextoffset - overhead) % size != 0
        {
            return None;
        }
        if count as u64 > (psize - overhead) / size {
            return None;
        }
        if freeblock != 0
            && !(pool + overhead <= freeblock
                && freeblock < pool + psize
                && (freeblock - pool - overhead) % size == 0)
        {
            return None;
        }
        Some((count, arenaindex, szidx, nextoffset as u32))
    }

    /// The block size when `block` starts a carved block of a pool in use.
    #[inline]
    pub fn block_size(&self, block: u64) -> Option<u64> {
        if self.used.is_empty() {
            return None;
        }
        let pool = block & !(self.pool_size - 1);
        let &(size, next) = self.used.get(&pool)?;
        let off = block - pool;
        (off >= self.overhead && (off - self.overhead) % size as u64 == 0 && off < next as u64)
            .then_some(size as u64)
    }

    /// Whether `addr` lies in any arena.
    pub fn in_arena(&self, addr: u64) -> bool {
        self.arenas
            .iter()
            .any(|a| a.address <= addr && addr < a.address + self.arena_size)
    }

    pub fn pool_count(&self) -> usize {
        self.arenas.iter().map(|a| a.pools.len()).sum()
    }

    /// `sys._debugmallocstats()`-like rows: [class, size, pools, blocks in use, available].
    pub fn class_rows(&self) -> Vec<[u64; 5]> {
        let mut rows = [[0u64; 5]; NB_CLASSES as usize];
        for a in &self.arenas {
            for &(_, szidx, count, _) in &a.pools {
                if count == 0 {
                    continue;
                }
                let size = (szidx as u64 + 1) * 16;
                let capacity = (self.pool_size - self.overhead) / size;
                let r = &mut rows[szidx as usize];
                r[0] = szidx as u64;
                r[1] = size;
                r[2] += 1;
                r[3] += count as u64;
                r[4] += capacity - count as u64;
            }
        }
        rows.into_iter().filter(|r| r[2] > 0).collect()
    }
}
