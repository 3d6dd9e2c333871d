//! Address → dense id lookup over the sorted address column, without a hash table.
//!
//! Addresses cluster in a few regions (the brk heap, mmap'd arenas), so a two-level table
//! (high 32 bits → 64 KiB windows → start offsets) narrows each lookup to the objects of one
//! 64 KiB window, then a binary search inside that small, cache-friendly range finishes it.
//! Memory: 256 KiB per distinct 4 GiB region, independent of the object count.

use super::model::ObjId;

const WINDOW_BITS: u32 = 16;
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
            let mut starts = vec![0u32; WINDOWS + 1];
            let mut j = i;
            for (w, slot) in starts.iter_mut().enumerate().take(WINDOWS) {
                *slot = j as u32;
                while j < end && (((addrs[j] & 0xFFFF_FFFF) >> WINDOW_BITS) as usize) <= w {
                    j += 1;
                }
            }
            starts[WINDOWS] = end as u32;
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
        self.addrs[lo..hi]
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
