//! The pymalloc geometry a header claims (arena and pool sizes, pool overhead), checked
//! against what any CPython can have and against the arenas and pools the file lists, so
//! that no analysis divides by zero or draws billions of pools from a forged header.

use std::path::Path;

use super::Snapshot;
use crate::{Error, Result};

/// Smallest and largest pool any CPython build has used (4 KiB up to 3.9, 16 KiB after),
/// with room for builds configured otherwise.
const POOL_SIZES: std::ops::RangeInclusive<u64> = 1 << 10..=1 << 20;
/// Largest arena (256 KiB up to 3.9, 1 MiB after; with room).
const MAX_ARENA_SIZE: u64 = 64 << 20;
/// Most pools one arena can hold (64 in every CPython so far).
const MAX_POOLS_PER_ARENA: u64 = 1 << 12;

/// Refuse a header whose pool geometry no CPython has, or arenas and pools that do not fit it.
pub(crate) fn check_geometry(path: &Path, snap: &Snapshot) -> Result<()> {
    let bad = |what: String| Err(Error::line(path, 1, what));
    let a = &snap.header.allocator;
    if let Some(pool) = a.pool_size {
        if !pool.is_power_of_two() || !POOL_SIZES.contains(&pool) {
            return bad(format!(
                "allocator pool_size {pool} is not a power of two from 1 KiB to 1 MiB"
            ));
        }
        if let Some(o) = a.pool_overhead.filter(|&o| o >= pool / 2) {
            return bad(format!(
                "allocator pool_overhead {o} is not less than half the pool ({pool} bytes)"
            ));
        }
    }
    if let Some(arena) = a.arena_size {
        if !arena.is_power_of_two() || arena > MAX_ARENA_SIZE {
            return bad(format!(
                "allocator arena_size {arena} is not a power of two of at most 64 MiB"
            ));
        }
        let pool = a.pool_size.unwrap_or(arena);
        if arena < pool || arena / pool > MAX_POOLS_PER_ARENA {
            return bad(format!(
                "allocator arena_size {arena} does not hold between 1 and {MAX_POOLS_PER_ARENA} pools of {pool} bytes"
            ));
        }
    }
    if let Some(d) = a.debug_shift.filter(|&d| d > 64) {
        return bad(format!("allocator debug_shift {d} is more than 64 bytes"));
    }
    if snap.arenas.is_empty() {
        return Ok(());
    }
    // Without the geometry (some captures leave it out), `frag` says it cannot place them.
    let (Some(arena), Some(pool)) = (a.arena_size, a.pool_size) else {
        return Ok(());
    };
    for ar in &snap.arenas {
        let pools = &snap.pools[ar.pools.start as usize..ar.pools.end as usize];
        if pools.len() as u64 > arena / pool {
            return Err(Error::file(
                path,
                format!(
                    "arena 0x{:x} lists {} pools, more than {} fit in it",
                    ar.addr,
                    pools.len(),
                    arena / pool
                ),
            ));
        }
        let end = ar.addr.checked_add(arena);
        if let Some(p) = pools.iter().find(|p| {
            p.addr % pool != 0
                || p.addr < ar.addr
                || end.is_none_or(|e| p.addr.saturating_add(pool) > e)
        }) {
            return Err(Error::file(
                path,
                format!(
                    "pool 0x{:x} is not a {pool}-byte aligned pool inside arena 0x{:x} of {arena} bytes",
                    p.addr, ar.addr
                ),
            ));
        }
    }
    Ok(())
}
