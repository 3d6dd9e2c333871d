//! Address → dense id lookup over the sorted address column, without a hash table.
//!
//! Addresses cluster in a few regions (the brk heap, mmap'd arenas), so a two-level table
//! (high 32 bits → 4 KiB windows → start offsets) narrows each lookup to the objects of one
//! 4 KiB window (at most 256), then a binary search inside that small, cache-friendly range
//! finishes it. Memory: 4 MiB per distinct 4 GiB region in use, independent of the object
//! count (heaps use a handful of regions).

use super::model::ObjId;

const WINDOW_BITS: u32 = 12;
const WINDOWS: usize = 1 << (32 - WINDOW_BITS);

pub struct AddrIndex<'a> {
    addrs: &'a [u64],
    /// (high 32 bits, start offsets of each window, with one sentinel)
    regions: Vec<(u32, Vec<u32>)>,
}

impl<'a> AddrIndex<'a> {
    /// `addrs` must be sorted ascending.
    pub fn new(addrs: &'a [u64]) -> Self {
        let mut regions: Vec<(u32, Vec<u32>)> = Vec::new();
        let mut i = 0usize;
        while i < addrs.len() {
            let high = (addrs[i] >> 32) as u32;
            let end = i + addrs[i..].partition_point(|&a| (a >> 32) as u32 == high);
            // starts[w] = first object at or after window w.
            let mut starts = vec![0u32; WINDOWS + 1];
            let mut w = 0usize;
            for (j, &a) in addrs.iter().enumerate().take(end).skip(i) {
                let aw = ((a & 0xFFFF_FFFF) >> WINDOW_BITS) as usize;
                while w <= aw {
                    starts[w] = j as u32;
                    w += 1;
                }
            }
            for slot in &mut starts[w..] {
                *slot = end as u32;
            }
            regions.push((high, starts));
            i = end;
        }
        AddrIndex { addrs, regions }
    }

    pub fn get(&self, addr: u64) -> Option<ObjId> {
        let high = (addr >> 32) as u32;
        let starts = &self.regions.iter().find(|(h, _)| *h == high)?.1;
        let w = ((addr & 0xFFFF_FFFF) >> WINDOW_BITS) as usize;
        let (lo, hi) = (starts[w] as usize, starts[w + 1] as usize);
        if lo == hi {
            return None;
        }
        // Objects of one window usually share a pool and a size class, so they are evenly
        // spaced: guess the position by interpolation, then step towards the address.
        let window = &self.addrs[lo..hi];
        let offset = addr & ((1 << WINDOW_BITS) - 1);
        let mut k = ((offset as usize * window.len()) >> WINDOW_BITS).min(window.len() - 1);
        for _ in 0..8 {
            match window[k].cmp(&addr) {
                std::cmp::Ordering::Equal => return Some(ObjId((lo + k) as u32)),
                std::cmp::Ordering::Less if k + 1 < window.len() && window[k + 1] <= addr => k += 1,
                std::cmp::Ordering::Greater if k > 0 && window[k - 1] >= addr => k -= 1,
                _ => return None,
            }
        }
        window
            .binary_search(&addr)
            .ok()
            .map(|k| ObjId((lo + k) as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_every_address_and_nothing_else() {
        let mut addrs: Vec<u64> = (0..5000u64)
            .map(|i| 0x5555_0000_0000 + i * 48)
            .chain((0..5000u64).map(|i| 0x7f00_1234_0000 + i * 4096 + 16))
            .collect();
        addrs.sort_unstable();
        let idx = AddrIndex::new(&addrs);
        for (i, &a) in addrs.iter().enumerate() {
            assert_eq!(idx.get(a), Some(ObjId(i as u32)));
            assert_eq!(idx.get(a + 8), None);
        }
        assert_eq!(idx.get(0), None);
        assert_eq!(idx.get(u64::MAX), None);
    }
}
