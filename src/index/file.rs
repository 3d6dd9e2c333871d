//! The index file's container: a fixed head, a table of sections, and the sections at
//! 64-byte-aligned offsets, each with its own checksum. It knows nothing of what the
//! sections mean; `encode` and `decode` do.
//!
//! Head (64 bytes, little-endian): magic `PYMEMIDX`, format version (u32), section count
//! (u32), build key (u64: which pymem and index format wrote it), the snapshot's identity
//! (size u64, modification time: seconds i64 and nanoseconds u32, 4 bytes zero, a hash of
//! its first and last 64 KiB u64), and a checksum (u64) of the head's first 56 bytes and the
//! table. Table: one 32-byte row per section: kind (u32), value width in bytes (u32), offset
//! (u64), length in bytes (u64), checksum (u64: XXH3-64 of the XXH3-64s of the section's 1 MiB blocks, little-endian).

use crate::error::{Error, Result};
use crate::le::{u32_at, u64_at};
use std::borrow::Cow;
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use xxhash_rust::xxh3::xxh3_64;

pub const MAGIC: &[u8; 8] = b"PYMEMIDX";
/// The layout version; any change to what a section holds changes it (2: garbage no
/// longer shares the dominance of live objects; 3: retained sizes and `top`'s ranking kept; 4: totals; 5: pools and edge labels as columns; 6: retained bytes by type and module;
/// 7: where code objects were defined).
pub const FORMAT: u32 = 7;
const HEAD: usize = 64;
const ROW: usize = 32;
const ALIGN: usize = 64;
/// More sections than any version writes: a bigger count is corruption.
const MAX_SECTIONS: u32 = 64;

/// Bytes per block of a section's checksum.
const SUM_BLOCK: usize = 1 << 20;

/// A section's checksum: XXH3-64 of the XXH3-64s of its 1 MiB blocks, so that it is
/// computed on every core.
pub fn section_sum(bytes: &[u8]) -> u64 {
    use rayon::prelude::*;
    let sums: Vec<u64> = bytes.par_chunks(SUM_BLOCK).map(xxh3_64).collect();
    xxh3_64(bytemuck::cast_slice(&sums))
}

/// Which pymem wrote an index: an index by another version is rebuilt, never misread.
pub fn build_key() -> u64 {
    xxh3_64(format!("pymem {} index {FORMAT}", env!("CARGO_PKG_VERSION")).as_bytes())
}

/// What ties an index to one snapshot file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Identity {
    pub size: u64,
    pub mtime_s: i64,
    pub mtime_ns: u32,
    /// XXH3 of the file's first and last 64 KiB (its header and end records).
    pub ends_hash: u64,
}

/// One section: what it is, how wide its values are, where its bytes are.
#[derive(Debug, Clone, Copy)]
pub struct Section {
    pub kind: u32,
    pub width: u32,
    pub offset: u64,
    pub len: u64,
    pub checksum: u64,
}

/// An index file being written: sections are appended, the head and table written last.
#[derive(Default)]
pub struct Writer<'a> {
    sections: Vec<(u32, u32, Cow<'a, [u8]>)>,
}

impl<'a> Writer<'a> {
    pub fn new() -> Self {
        Self::default()
    }

    /// A section of fixed-width values.
    pub fn column<T: bytemuck::Pod>(&mut self, kind: u32, values: &'a [T]) {
        let bytes: &[u8] = bytemuck::cast_slice(values);
        self.sections
            .push((kind, std::mem::size_of::<T>() as u32, Cow::Borrowed(bytes)));
    }

    /// A section of fixed-width values made for the index.
    pub fn owned_column<T: bytemuck::Pod>(&mut self, kind: u32, values: Vec<T>) {
        let bytes: Vec<u8> = bytemuck::cast_slice(&values).to_vec();
        self.sections
            .push((kind, std::mem::size_of::<T>() as u32, Cow::Owned(bytes)));
    }

    /// A section of bytes (JSON).
    pub fn bytes(&mut self, kind: u32, bytes: Vec<u8>) {
        self.sections.push((kind, 1, Cow::Owned(bytes)));
    }

    /// A section of values `width` bytes wide, as bytes (for tools that copy sections).
    pub fn raw(&mut self, kind: u32, width: u32, bytes: Vec<u8>) {
        self.sections.push((kind, width, Cow::Owned(bytes)));
    }

    /// Write the whole file to `out`.
    pub fn write_to(&self, identity: &Identity, out: &mut impl Write) -> std::io::Result<()> {
        let table_end = HEAD + ROW * self.sections.len();
        let mut offset = table_end.next_multiple_of(ALIGN);
        let mut table = Vec::with_capacity(ROW * self.sections.len());
        for (kind, width, bytes) in &self.sections {
            table.extend_from_slice(&kind.to_le_bytes());
            table.extend_from_slice(&width.to_le_bytes());
            table.extend_from_slice(&(offset as u64).to_le_bytes());
            table.extend_from_slice(&(bytes.len() as u64).to_le_bytes());
            table.extend_from_slice(&section_sum(bytes).to_le_bytes());
            offset = (offset + bytes.len()).next_multiple_of(ALIGN);
        }
        let mut head = Vec::with_capacity(HEAD);
        head.extend_from_slice(MAGIC);
        head.extend_from_slice(&FORMAT.to_le_bytes());
        head.extend_from_slice(&(self.sections.len() as u32).to_le_bytes());
        head.extend_from_slice(&build_key().to_le_bytes());
        head.extend_from_slice(&identity.size.to_le_bytes());
        head.extend_from_slice(&identity.mtime_s.to_le_bytes());
        head.extend_from_slice(&identity.mtime_ns.to_le_bytes());
        head.extend_from_slice(&0u32.to_le_bytes());
        head.extend_from_slice(&identity.ends_hash.to_le_bytes());
        let sum = xxh3_64(&[&head[..], &table[..]].concat());
        head.extend_from_slice(&sum.to_le_bytes());
        out.write_all(&head)?;
        out.write_all(&table)?;
        let mut at = table_end;
        for (_, _, bytes) in &self.sections {
            let pad = at.next_multiple_of(ALIGN) - at;
            out.write_all(&[0u8; ALIGN][..pad])?;
            out.write_all(bytes)?;
            at += pad + bytes.len();
        }
        Ok(())
    }
}

/// An opened index file: mapped, its head and table checked against its length.
pub struct IndexFile {
    pub map: Arc<memmap2::Mmap>,
    pub identity: Identity,
    pub sections: Vec<Section>,
    /// This state of the file passed every check before (`verified`): its sections' bytes
    /// are not hashed again, nor their values checked one by one.
    pub trusted: bool,
    /// The file's state, to remember once it has passed every check.
    pub stamp: Option<super::verified::Stamp>,
}

/// Why an index cannot be used.
#[derive(Debug)]
pub enum Unusable {
    /// Written by another pymem or index format: rebuild without a word.
    OtherVersion,
    /// Damaged: rebuild, saying why.
    Bad(String),
}

/// Whether `bytes` begin like an index file.
pub fn looks_like_index(bytes: &[u8]) -> bool {
    bytes.starts_with(MAGIC)
}

impl IndexFile {
    /// Map `path` (a regular file) and check its head and table.
    pub fn open(path: &Path) -> Result<std::result::Result<IndexFile, Unusable>> {
        let file = open_regular(path)?;
        // SAFETY: the map is read-only and private to this process. A file truncated by
        // another process while mapped raises SIGBUS on the lost pages, which the handler
        // installed by `shrink::watch` turns into a one-line error naming the file.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        crate::snapshot::watch_mapped(path);
        let meta = file.metadata().map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        Ok(Self::parse(Arc::new(map)).map(|mut f| {
            let stamp = super::verified::Stamp::of(&meta, u64_at(&f.map, 56));
            f.trusted = stamp.checked_before();
            f.stamp = Some(stamp);
            f
        }))
    }

    /// Remember that this file, as it is, passed every check (see `verified`).
    pub fn passed_every_check(&self) {
        if let (false, Some(stamp)) = (self.trusted, self.stamp) {
            stamp.remember();
        }
    }

    fn parse(map: Arc<memmap2::Mmap>) -> std::result::Result<IndexFile, Unusable> {
        let b: &[u8] = &map;
        if b.len() < HEAD || !b.starts_with(MAGIC) {
            return Err(Unusable::Bad("not a pymem index (no head)".into()));
        }
        if u32_at(b, 8) != FORMAT || u64_at(b, 16) != build_key() {
            return Err(Unusable::OtherVersion);
        }
        let count = u32_at(b, 12);
        if count > MAX_SECTIONS {
            return Err(Unusable::Bad(format!("{count} sections")));
        }
        let table_end = HEAD + ROW * count as usize;
        if b.len() < table_end {
            return Err(Unusable::Bad("truncated in its table of sections".into()));
        }
        let sum = xxh3_64(&[&b[..56], &b[HEAD..table_end]].concat());
        if sum != u64_at(b, 56) {
            return Err(Unusable::Bad("its head or table fails its checksum".into()));
        }
        let identity = Identity {
            size: u64_at(b, 24),
            mtime_s: u64_at(b, 32) as i64,
            mtime_ns: u32_at(b, 40),
            ends_hash: u64_at(b, 48),
        };
        let mut sections = Vec::with_capacity(count as usize);
        for i in 0..count as usize {
            let row = HEAD + ROW * i;
            let s = Section {
                kind: u32_at(b, row),
                width: u32_at(b, row + 4),
                offset: u64_at(b, row + 8),
                len: u64_at(b, row + 16),
                checksum: u64_at(b, row + 24),
            };
            let fits = s
                .offset
                .checked_add(s.len)
                .is_some_and(|e| e <= b.len() as u64);
            if !fits || s.offset % ALIGN as u64 != 0 || s.width == 0 || s.len % s.width as u64 != 0
            {
                return Err(Unusable::Bad(format!(
                    "section {} lies outside the file or is misaligned",
                    s.kind
                )));
            }
            sections.push(s);
        }
        Ok(IndexFile {
            map,
            identity,
            sections,
            trusted: false,
            stamp: None,
        })
    }

    /// The section of `kind`, if present.
    pub fn section(&self, kind: u32) -> Option<Section> {
        self.sections.iter().find(|s| s.kind == kind).copied()
    }

    /// A section's bytes, after its checksum is verified (unless this state of the file
    /// passed every check before).
    pub fn checked_bytes(&self, s: &Section) -> std::result::Result<&[u8], String> {
        let bytes = &self.map[s.offset as usize..(s.offset + s.len) as usize];
        if !self.trusted && section_sum(bytes) != s.checksum {
            return Err(format!("section {} fails its checksum", s.kind));
        }
        Ok(bytes)
    }
}

/// Open a file an index names or is: a regular file only, opened without blocking (a FIFO
/// or device named by a hostile path never hangs pymem nor is read).
pub fn open_regular(path: &Path) -> Result<std::fs::File> {
    crate::regular_file::open_regular(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::InvalidInput => Error::file(path, e.to_string()),
        _ => Error::Io {
            path: path.to_path_buf(),
            source: e,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn written(w: &Writer) -> Arc<memmap2::Mmap> {
        let mut file = tempfile::tempfile().unwrap();
        w.write_to(&Identity::default(), &mut file).unwrap();
        // SAFETY: a private temporary file nobody else holds.
        Arc::new(unsafe { memmap2::Mmap::map(&file) }.unwrap())
    }

    #[test]
    fn sections_round_trip_aligned_and_checked() {
        let mut w = Writer::new();
        w.column::<u64>(7, &[1, 2, 3]);
        w.bytes(9, b"{}".to_vec());
        let f = IndexFile::parse(written(&w)).ok().unwrap();
        let s = f.section(7).unwrap();
        assert_eq!((s.width, s.len, s.offset % 64), (8, 24, 0));
        assert_eq!(f.checked_bytes(&f.section(9).unwrap()).unwrap(), b"{}");
    }

    #[test]
    fn a_changed_byte_anywhere_is_caught() {
        let mut w = Writer::new();
        w.column::<u32>(1, &[5; 100]);
        let map = written(&w);
        for at in 0..map.len() {
            let mut copy = map.to_vec();
            copy[at] ^= 0x40;
            let mut file = tempfile::tempfile().unwrap();
            std::io::Write::write_all(&mut file, &copy).unwrap();
            // SAFETY: a private temporary file nobody else holds.
            let m = Arc::new(unsafe { memmap2::Mmap::map(&file) }.unwrap());
            let caught = match IndexFile::parse(m) {
                Err(_) => true,
                Ok(f) => f.sections.iter().any(|s| f.checked_bytes(s).is_err()),
            };
            // Padding between the table and the first section is the only slack.
            let padding = (HEAD + ROW..2 * ALIGN).contains(&at);
            assert!(caught || padding, "flip at {at} not caught");
        }
    }
}
