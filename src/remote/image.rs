//! A copy of a process's memory, taken while it is stopped, read afterwards at leisure.
//!
//! What is copied: the resident (or swapped-out) pages of every writable mapping, where every
//! Python object lives — pymalloc's arenas, the C heap, the interpreter's and extension
//! modules' data — and of the read-only mappings of ELF files (type names and other C strings
//! live there). Pages never touched are not copied: `/proc/PID/pagemap` says which are
//! present. Each run of pages is read with one `process_vm_readv` call, so the copy runs at
//! memory speed and the target can be resumed before any decoding starts.

use super::maps::Mapping;
use super::memory::{LiveProcess, Memory, Unreadable};
use crate::le::u64_at;
use std::fs::File;
use std::os::unix::fs::FileExt;

const PAGE: u64 = 4096;

/// The bytes of one run: copied from a live process, or a range of a mapped file (a core
/// file's segment, or a program file's page that the core left out).
pub enum Bytes {
    Owned(Vec<u8>),
    Mapped {
        file: std::sync::Arc<memmap2::Mmap>,
        offset: usize,
        len: usize,
    },
}

impl Bytes {
    /// A range of a mapped file; None when the range is not inside it.
    pub fn mapped(file: &std::sync::Arc<memmap2::Mmap>, offset: u64, len: u64) -> Option<Bytes> {
        let (offset, len) = (usize::try_from(offset).ok()?, usize::try_from(len).ok()?);
        (offset.checked_add(len)? <= file.len()).then(|| Bytes::Mapped {
            file: std::sync::Arc::clone(file),
            offset,
            len,
        })
    }

    /// `len` zero bytes that take no memory: an anonymous mapping, whose pages read as the
    /// kernel's one shared zero page (a forged core's empty gigabytes cost page tables only).
    pub fn zeros(len: u64) -> Option<Bytes> {
        let len = usize::try_from(len).ok().filter(|&l| l > 0)?;
        let map = memmap2::MmapOptions::new()
            .len(len)
            .map_anon()
            .ok()?
            .make_read_only()
            .ok()?;
        Some(Bytes::Mapped {
            file: std::sync::Arc::new(map),
            offset: 0,
            len,
        })
    }

    #[inline]
    fn as_slice(&self) -> &[u8] {
        match self {
            Bytes::Owned(v) => v,
            Bytes::Mapped { file, offset, len } => &file[*offset..*offset + *len],
        }
    }

    fn len(&self) -> usize {
        match self {
            Bytes::Owned(v) => v.len(),
            Bytes::Mapped { len, .. } => *len,
        }
    }

    /// `other` appended, when that needs no copy of a mapping: owned bytes are extended, and
    /// two ranges of one file that follow each other become one.
    fn try_append(&mut self, other: &Bytes) -> bool {
        match (self, other) {
            (Bytes::Owned(v), Bytes::Owned(w)) => {
                v.extend_from_slice(w);
                true
            }
            (
                Bytes::Mapped { file, offset, len },
                Bytes::Mapped {
                    file: f2,
                    offset: o2,
                    len: l2,
                },
            ) if std::sync::Arc::ptr_eq(file, f2) && *offset + *len == *o2 => {
                *len += *l2;
                true
            }
            _ => false,
        }
    }
}

/// One contiguous run of memory.
struct Region {
    start: u64,
    data: Bytes,
}

/// The copied memory of a process; reads outside it fail.
pub struct Image {
    regions: Vec<Region>,
    /// The region of the last read: reads cluster, so most lookups end here.
    hint: std::sync::atomic::AtomicUsize,
    /// Pages that could not be read although the maps listed them.
    pub unreadable_pages: u64,
}

/// Whether a mapping holds memory worth copying: every writable one, and the read-only ones
/// of loaded programs and libraries (files that also have an executable mapping: type
/// names, method names and other C strings live there), not data files mapped read-only.
pub fn wanted(m: &Mapping, maps: &[Mapping]) -> bool {
    if !m.readable || m.path == "[vvar]" || m.path == "[vsyscall]" || m.path == "[vvar_vclock]" {
        return false;
    }
    if m.writable {
        return true;
    }
    m.path.starts_with('/') && maps.iter().any(|x| x.executable && x.path == m.path)
}

impl Image {
    /// Copy the wanted mappings of a (stopped) process.
    pub fn copy(mem: &LiveProcess, maps: &[Mapping]) -> std::io::Result<Image> {
        let pagemap = File::open(format!("/proc/{}/pagemap", mem.pid())).ok();
        let mut runs: Vec<(u64, u64)> = maps
            .iter()
            .filter(|m| wanted(m, maps))
            .flat_map(|m| present_runs(pagemap.as_ref(), m.start, m.end))
            .collect();
        runs.sort_unstable();
        // Adjacent runs become one, so that an object that straddles two mappings reads whole.
        let mut merged: Vec<(u64, u64)> = Vec::with_capacity(runs.len());
        for (lo, hi) in runs {
            match merged.last_mut() {
                Some(last) if last.1 >= lo => last.1 = last.1.max(hi),
                _ => merged.push((lo, hi)),
            }
        }
        let mut regions = Vec::with_capacity(merged.len());
        let mut unreadable = 0;
        let gone = |_| std::io::Error::other("the process exited during the read");
        let mut page = vec![0u8; PAGE as usize];
        for (lo, hi) in merged {
            let mut at = lo;
            while at < hi {
                // Skip unreadable pages (guard pages...) one small read each, so that a run
                // of them costs no more than its length.
                if mem.read_some(at, &mut page).map_err(gone)? < PAGE as usize {
                    unreadable += 1;
                    at += PAGE;
                    continue;
                }
                let mut data = vec![0u8; (hi - at) as usize];
                let n = mem.read_some(at, &mut data).map_err(gone)? as u64 / PAGE * PAGE;
                if n == 0 {
                    unreadable += 1;
                    at += PAGE;
                    continue;
                }
                data.truncate(n as usize);
                data.shrink_to_fit();
                regions.push(Region {
                    start: at,
                    data: Bytes::Owned(data),
                });
                at += n;
            }
        }
        Ok(Image {
            regions,
            hint: Default::default(),
            unreadable_pages: unreadable,
        })
    }

    /// An image from explicit regions (tests).
    pub fn from_regions(parts: Vec<(u64, Vec<u8>)>) -> Image {
        Image::from_bytes(
            parts
                .into_iter()
                .map(|(start, data)| (start, Bytes::Owned(data)))
                .collect(),
        )
    }

    /// An image from runs of bytes (core files: mapped segments), which must not overlap.
    pub fn from_bytes(mut parts: Vec<(u64, Bytes)>) -> Image {
        parts.sort_by_key(|p| p.0);
        Image {
            regions: merge(
                parts
                    .into_iter()
                    .filter(|(_, data)| data.len() > 0)
                    .map(|(start, data)| Region { start, data })
                    .collect(),
            ),
            hint: Default::default(),
            unreadable_pages: 0,
        }
    }

    /// Bytes copied.
    pub fn len(&self) -> u64 {
        self.regions.iter().map(|r| r.data.len() as u64).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// The copied runs, as (start, end).
    pub fn ranges(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.regions
            .iter()
            .map(|r| (r.start, r.start + r.data.len() as u64))
    }

    /// The bytes at `[addr, addr + len)` when they lie in one copied run.
    #[inline]
    pub fn slice(&self, addr: u64, len: usize) -> Option<&[u8]> {
        use std::sync::atomic::Ordering::Relaxed;
        let h = self.hint.load(Relaxed);
        if let Some(r) = self.regions.get(h) {
            if let Some(off) = addr.checked_sub(r.start) {
                let data = r.data.as_slice();
                if let Some(s) = data.get(off as usize..(off as usize).checked_add(len)?) {
                    return Some(s);
                }
            }
        }
        let i = self
            .regions
            .partition_point(|r| r.start <= addr)
            .checked_sub(1)?;
        let r = self.regions.get(i)?;
        let off = (addr - r.start) as usize;
        let s = r.data.as_slice().get(off..off.checked_add(len)?)?;
        self.hint.store(i, Relaxed);
        Some(s)
    }

    /// Whether `addr` lies in copied memory.
    pub fn contains(&self, addr: u64) -> bool {
        self.slice(addr, 1).is_some()
    }

    /// Where `addr` lies: (run index, offset in the run).
    #[inline]
    pub fn locate(&self, addr: u64) -> Option<(usize, u64)> {
        use std::sync::atomic::Ordering::Relaxed;
        let h = self.hint.load(Relaxed);
        if let Some(r) = self.regions.get(h) {
            if addr >= r.start && addr < r.start + r.data.len() as u64 {
                return Some((h, addr - r.start));
            }
        }
        let i = self
            .regions
            .partition_point(|r| r.start <= addr)
            .checked_sub(1)?;
        let r = &self.regions[i];
        (addr < r.start + r.data.len() as u64).then(|| {
            self.hint.store(i, Relaxed);
            (i, addr - r.start)
        })
    }

    /// Bytes of each run, in order (for per-run side tables).
    pub fn run_lengths(&self) -> impl Iterator<Item = u64> + '_ {
        self.regions.iter().map(|r| r.data.len() as u64)
    }
}

/// A set of 8-byte-aligned addresses inside an image: one bit per word of copied memory.
pub struct AddressSet {
    bits: Vec<Vec<u64>>,
}

impl AddressSet {
    pub fn new(image: &Image) -> AddressSet {
        AddressSet {
            bits: image
                .run_lengths()
                .map(|len| vec![0u64; (len / 8).div_ceil(64) as usize])
                .collect(),
        }
    }

    /// Insert `addr`; true when it was not there. Addresses outside the image (or not
    /// 8-aligned) are never inserted.
    #[inline]
    pub fn insert(&mut self, image: &Image, addr: u64) -> bool {
        if addr % 8 != 0 {
            return false;
        }
        let Some((run, off)) = image.locate(addr) else {
            return false;
        };
        let word = off / 8;
        let (i, bit) = ((word / 64) as usize, 1u64 << (word % 64));
        let w = &mut self.bits[run][i];
        let new = *w & bit == 0;
        *w |= bit;
        new
    }
}

impl Memory for Image {
    fn read(&self, addr: u64, buf: &mut [u8]) -> Result<(), Unreadable> {
        match self.slice(addr, buf.len()) {
            Some(s) => {
                buf.copy_from_slice(s);
                Ok(())
            }
            None => Err(Unreadable {
                addr,
                len: buf.len(),
            }),
        }
    }

    fn read_u64(&self, addr: u64) -> Result<u64, Unreadable> {
        match self.slice(addr, 8) {
            Some(s) => Ok(u64_at(s, 0)),
            None => Err(Unreadable { addr, len: 8 }),
        }
    }
}

/// Adjacent runs become one (sorted input).
fn merge(regions: Vec<Region>) -> Vec<Region> {
    let mut out: Vec<Region> = Vec::with_capacity(regions.len());
    for r in regions {
        if let Some(last) = out.last_mut() {
            if last.start + last.data.len() as u64 == r.start && last.data.try_append(&r.data) {
                continue;
            }
        }
        out.push(r);
    }
    out
}

/// Runs of pages in `[lo, hi)` that are present or swapped out, per the pagemap (bit 63
/// present, bit 62 swapped); the whole range when there is no pagemap.
fn present_runs(pagemap: Option<&File>, lo: u64, hi: u64) -> Vec<(u64, u64)> {
    let Some(pm) = pagemap else {
        return vec![(lo, hi)];
    };
    let pages = ((hi - lo) / PAGE) as usize;
    let mut entries = vec![0u8; pages * 8];
    if pm.read_exact_at(&mut entries, (lo / PAGE) * 8).is_err() {
        return vec![(lo, hi)];
    }
    let mut runs = Vec::new();
    let mut start: Option<u64> = None;
    for (i, e) in entries.chunks_exact(8).enumerate() {
        let v = u64_at(e, 0);
        let here = lo + i as u64 * PAGE;
        let used = v & (3 << 62) != 0;
        match (used, start) {
            (true, None) => start = Some(here),
            (false, Some(s)) => {
                runs.push((s, here));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        runs.push((s, hi));
    }
    runs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_inside_runs_and_across_merged_ones_only() {
        let img = Image::from_regions(vec![
            (0x2000, vec![2; 0x1000]),
            (0x1000, vec![1; 0x1000]),
            (0x9000, vec![9; 0x1000]),
        ]);
        assert_eq!(img.len(), 0x3000);
        let mut b = [0u8; 4];
        img.read(0x1ffe, &mut b).unwrap();
        assert_eq!(b, [1, 1, 2, 2]);
        assert!(img.read(0x2ffe, &mut b).is_err());
        assert!(img.read(0x500, &mut b).is_err());
        assert_eq!(img.read_u64(0x9000).unwrap(), 0x0909_0909_0909_0909);
        assert!(img.contains(0x9fff) && !img.contains(0xa000));
    }

    #[test]
    fn its_own_process_copies_and_holds_a_heap_value() {
        let me = LiveProcess::open(std::process::id());
        let maps = super::super::maps::of_process(std::process::id()).unwrap();
        let boxed = Box::new(0xfeed_beef_u64);
        let img = Image::copy(&me, &maps).unwrap();
        assert_eq!(
            img.read_u64(&*boxed as *const u64 as u64).unwrap(),
            0xfeed_beef
        );
    }
}
