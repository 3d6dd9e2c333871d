//! An ELF core file — from the kernel (a crash, `kill -ABRT`, `coredumpctl dump`) or from
//! gdb's `gcore` — as the memory of a process that is no longer there.
//!
//! The core is memory-mapped read-only. Its `PT_LOAD` segments are the process's mappings;
//! the dumped bytes of each are used in place (no copy). What the kernel does not dump
//! (with the default `coredump_filter`: the pages of files mapped read-only, where type names
//! and other C strings live) is taken from the files themselves, named by the `NT_FILE` note,
//! after their build-ids are checked against the ones in the core's memory: a file that
//! differs from the one the process ran is never read. `--exe` and `--sysroot` say where the
//! files are when the core was made on another machine or in a container.

use super::image::{Bytes, Image};
use super::maps::Mapping;
use super::memory::Memory;
use crate::le::{u32_at, u64_at};
use object::elf;
use object::read::elf::{FileHeader, NoteIterator, ProgramHeader};
use object::Endianness;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One `PT_LOAD` segment: a mapping of the process, and where its dumped bytes are.
#[derive(Clone, Debug)]
pub struct Segment {
    pub start: u64,
    pub size: u64,
    /// Offset of the dumped bytes in the core, and how many were dumped.
    pub offset: u64,
    pub dumped: u64,
    pub readable: bool,
    pub writable: bool,
    pub executable: bool,
}

/// One entry of the `NT_FILE` note: a file mapped at `[start, end)` from `file_offset`.
#[derive(Clone, Debug)]
pub struct FileMapping {
    pub start: u64,
    pub end: u64,
    pub file_offset: u64,
    pub path: String,
}

/// A parsed core file.
pub struct Core {
    pub path: PathBuf,
    map: Arc<memmap2::Mmap>,
    pub segments: Vec<Segment>,
    pub files: Vec<FileMapping>,
    /// From `NT_PRPSINFO`: the process id and its command line.
    pub pid: Option<u32>,
    pub command: Option<String>,
    /// `NT_PRSTATUS` notes: one per thread.
    pub threads: usize,
    /// `AT_ENTRY` from `NT_AUXV`: the executable's entry point.
    pub entry: Option<u64>,
    /// Bytes the segment table says were dumped but lie past the end of the file.
    pub truncated: u64,
}

/// Where to find the files the process had mapped.
#[derive(Default)]
pub struct FileRoots {
    /// The executable, as the core names it, read from this file instead.
    pub exe: Option<PathBuf>,
    /// Every other path is looked up under this directory.
    pub sysroot: Option<PathBuf>,
}

/// What building the image found.
#[derive(Default, Debug)]
pub struct ImageNotes {
    /// Bytes of mappings that neither the core nor a file holds.
    pub missing_bytes: u64,
    /// Files whose build-id differs from the core's (path, core's id, file's id): none of
    /// their bytes were used.
    pub mismatched: Vec<(String, String, String)>,
    /// Files named by the core that could not be opened (path, why).
    pub unopened: Vec<(String, String)>,
}

const PAGE: u64 = 4096;
const AT_ENTRY: u64 = 9;

/// The notes of a 64-bit ELF file's note segment.
type CoreNotes<'data> = NoteIterator<'data, elf::FileHeader64<Endianness>>;
/// The most NT_FILE entries (and threads) accepted: more is a corrupt note.
const MAX_ENTRIES: u64 = 1 << 20;

fn hex(id: &[u8]) -> String {
    id.iter().map(|b| format!("{b:02x}")).collect()
}

impl Core {
    /// Map and parse `path`; the error is one line saying what is wrong with the file.
    pub fn open(path: &Path) -> Result<Core, String> {
        let file = crate::regular_file::open_regular(path).map_err(|e| e.to_string())?;
        // SAFETY: the core is mapped read-only and only read through this map; a core file
        // truncated by someone else while pymem reads it could fault, the accepted risk of
        // mapping a file (as every reader of large files does).
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| e.to_string())?;
        let map = Arc::new(map);
        let data: &[u8] = &map;
        let header = elf::FileHeader64::<Endianness>::parse(data)
            .map_err(|_| "not a core file (not a 64-bit ELF file)".to_string())?;
        let endian = header
            .endian()
            .map_err(|_| "not a core file (bad ELF header)".to_string())?;
        if header.e_type(endian) != elf::ET_CORE {
            return Err("not a core file (an ELF file of another kind)".into());
        }
        if header.e_machine(endian) != elf::EM_X86_64 || !header.is_little_endian() {
            return Err("a core file of another architecture (pymem reads x86-64)".into());
        }
        let phdrs = header
            .program_headers(endian, data)
            .map_err(|_| "a truncated core file (its program headers are cut)".to_string())?;
        let mut core = Core {
            path: path.to_path_buf(),
            map: Arc::clone(&map),
            segments: Vec::new(),
            files: Vec::new(),
            pid: None,
            command: None,
            threads: 0,
            entry: None,
            truncated: 0,
        };
        let len = data.len() as u64;
        for ph in phdrs {
            let (offset, filesz) = (ph.p_offset(endian), ph.p_filesz(endian));
            match ph.p_type(endian) {
                elf::PT_LOAD => {
                    let flags = ph.p_flags(endian);
                    let end = offset.saturating_add(filesz);
                    let dumped = if end > len {
                        core.truncated += end - len.max(offset);
                        len.saturating_sub(offset)
                    } else {
                        filesz
                    };
                    core.segments.push(Segment {
                        start: ph.p_vaddr(endian),
                        size: ph.p_memsz(endian),
                        offset,
                        dumped: dumped.min(ph.p_memsz(endian)),
                        readable: flags.0 & elf::PF_R.0 != 0,
                        writable: flags.0 & elf::PF_W.0 != 0,
                        executable: flags.0 & elf::PF_X.0 != 0,
                    });
                }
                elf::PT_NOTE => {
                    let Ok(bytes) = ph.data(endian, data) else {
                        return Err("a truncated core file (its notes are cut)".into());
                    };
                    // Linux and gdb align core notes to 4, whatever p_align says.
                    let notes = CoreNotes::new(endian, 4, bytes).map_err(|e| e.to_string())?;
                    core.read_notes(notes, endian)?;
                }
                _ => {}
            }
        }
        if core.segments.is_empty() {
            return Err("a core file with no memory in it".into());
        }
        core.segments.sort_by_key(|s| s.start);
        core.files.sort_by_key(|f| (f.start, f.end));
        // A process's mappings never overlap; a core whose do is forged, and would make
        // every lookup below a search of everything.
        let ends_before_next = |a: (u64, u64), b: (u64, u64)| a.0 <= a.1 && a.1 <= b.0;
        if core.segments.windows(2).any(|w| {
            !ends_before_next(
                (w[0].start, w[0].start.saturating_add(w[0].size)),
                (w[1].start, 0),
            )
        }) {
            return Err("a corrupt core file (its memory segments overlap)".into());
        }
        if core
            .files
            .windows(2)
            .any(|w| !ends_before_next((w[0].start, w[0].end), (w[1].start, 0)))
            || core.files.last().is_some_and(|f| f.end < f.start)
        {
            return Err("a corrupt core file (its NT_FILE mappings overlap)".into());
        }
        Ok(core)
    }

    /// The process notes (Linux and gdb name them "CORE"): threads, the process's pid and
    /// command, its auxiliary vector and its file mappings.
    fn read_notes(&mut self, notes: CoreNotes<'_>, endian: Endianness) -> Result<(), String> {
        for note in notes {
            let note =
                note.map_err(|_| "a corrupt core file (a note runs past its segment)".to_string())?;
            if !note.name().starts_with(b"CORE") {
                continue;
            }
            let desc = note.desc();
            match note.n_type(endian) {
                elf::NT_PRSTATUS => self.threads += 1,
                elf::NT_PRPSINFO => self.prpsinfo(desc),
                elf::NT_AUXV => {
                    for pair in desc.chunks_exact(16) {
                        if u64_at(pair, 0) == AT_ENTRY {
                            self.entry = Some(u64_at(pair, 8));
                        }
                    }
                }
                elf::NT_FILE => self.files = nt_file(desc)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// `struct elf_prpsinfo` (x86-64): state, sname, zomb, nice (4 bytes), pad, flag (8),
    /// uid, gid, pid, ppid, pgrp, sid (4 each, from offset 16), fname[16] at 40, psargs[80] at 56.
    fn prpsinfo(&mut self, desc: &[u8]) {
        if desc.len() >= 136 {
            self.pid = Some(u32_at(desc, 24));
            let args = &desc[56..136];
            let end = args.iter().position(|&b| b == 0).unwrap_or(args.len());
            let text = String::from_utf8_lossy(&args[..end]).trim().to_string();
            self.command = (!text.is_empty()).then_some(text);
        }
    }

    /// The process's mappings, as `/proc/PID/maps` would have listed them: the segments,
    /// and the file mappings that have none (gcore leaves out the ones it did not dump).
    pub fn maps(&self) -> Vec<Mapping> {
        let mut out: Vec<Mapping> = self
            .segments
            .iter()
            .map(|s| {
                let file = self.file_at(s.start);
                Mapping {
                    start: s.start,
                    end: s.start.saturating_add(s.size),
                    readable: s.readable,
                    writable: s.writable,
                    executable: s.executable,
                    offset: file.map_or(0, |f| f.file_offset + (s.start - f.start)),
                    path: file.map_or_else(String::new, |f| f.path.clone()),
                }
            })
            .collect();
        for (lo, hi, f) in self.files_without_segments() {
            out.push(Mapping {
                start: lo,
                end: hi,
                readable: true,
                writable: false,
                executable: false,
                offset: f.file_offset + (lo - f.start),
                path: f.path.clone(),
            });
        }
        out.sort_by_key(|m| m.start);
        out
    }

    /// The parts of file mappings that no segment covers, as (start, end, mapping).
    fn files_without_segments(&self) -> Vec<(u64, u64, &FileMapping)> {
        let mut out = Vec::new();
        for f in &self.files {
            let mut at = f.start;
            // Segments are sorted and apart: from the last one that starts before the file.
            let first = self
                .segments
                .partition_point(|s| s.start < f.start)
                .saturating_sub(1);
            for s in &self.segments[first..] {
                let (lo, hi) = (s.start, s.start.saturating_add(s.size));
                if lo >= f.end {
                    break;
                }
                if hi <= at {
                    continue;
                }
                if lo > at {
                    out.push((at, lo, f));
                }
                at = at.max(hi);
            }
            if at < f.end {
                out.push((at, f.end, f));
            }
        }
        out
    }

    /// Bytes of anonymous writable memory (the C heap, pymalloc's arenas) the core holds.
    pub fn anonymous_dumped(&self) -> u64 {
        self.segments
            .iter()
            .filter(|s| s.writable && self.file_at(s.start).is_none())
            .map(|s| s.dumped)
            .sum()
    }

    fn file_at(&self, addr: u64) -> Option<&FileMapping> {
        // Files are sorted and apart (checked when the core was opened).
        let i = self.files.partition_point(|f| f.start <= addr);
        self.files[..i].last().filter(|f| addr < f.end)
    }

    /// The executable's path, as the process saw it: the mapped file holding the entry point.
    pub fn executable(&self) -> Option<String> {
        let entry = self.entry?;
        self.file_at(entry).map(|f| f.path.clone())
    }

    /// Where pymem reads a file the process had mapped.
    pub fn locate_file(&self, path: &str, roots: &FileRoots) -> PathBuf {
        if let Some(exe) = &roots.exe {
            if self.executable().as_deref() == Some(path) {
                return exe.clone();
            }
        }
        match &roots.sysroot {
            Some(root) => root.join(path.trim_start_matches('/')),
            None => PathBuf::from(path),
        }
    }

    /// The process's memory: the dumped bytes of every segment, and the pages it left out
    /// of the files whose build-id matches the core's.
    pub fn image(&self, roots: &FileRoots) -> (Image, ImageNotes) {
        let mut notes = ImageNotes::default();
        let dumped = Image::from_bytes(
            self.segments
                .iter()
                .filter_map(|s| Some((s.start, Bytes::mapped(&self.map, s.offset, s.dumped)?)))
                .collect(),
        );
        let mut parts: Vec<(u64, Bytes)> = self
            .segments
            .iter()
            .filter_map(|s| Some((s.start, Bytes::mapped(&self.map, s.offset, s.dumped)?)))
            .collect();
        let mut opened: HashMap<String, Option<Arc<memmap2::Mmap>>> = HashMap::new();
        // What the core does not hold: the undumped tails of segments, and file mappings
        // with no segment at all.
        let mut gaps: Vec<(u64, u64, Option<&FileMapping>)> = self
            .segments
            .iter()
            .filter(|s| s.dumped < s.size && s.readable)
            .map(|s| {
                (
                    s.start.saturating_add(s.dumped),
                    s.start.saturating_add(s.size),
                    self.file_at(s.start.saturating_add(s.dumped)),
                )
            })
            .collect();
        gaps.extend(
            self.files_without_segments()
                .into_iter()
                .map(|(lo, hi, f)| (lo, hi, Some(f))),
        );
        for (lo, hi, f) in gaps {
            let Some(f) = f else {
                notes.missing_bytes += hi - lo;
                continue;
            };
            let map = opened
                .entry(f.path.clone())
                .or_insert_with(|| self.open_checked(f, roots, &dumped, &mut notes));
            let Some(map) = map else {
                notes.missing_bytes += hi - lo;
                continue;
            };
            let file_off = f.file_offset.saturating_add(lo - f.start);
            // Pages past the end of the file are the zero pages of .bss: never dumped
            // only when never touched, so zero.
            let in_file = (map.len() as u64).saturating_sub(file_off).min(hi - lo);
            if let Some(b) = Bytes::mapped(map, file_off, in_file) {
                parts.push((lo, b));
            }
            if in_file < hi - lo {
                let zeros = (hi - lo - in_file).min(1 << 30);
                parts.extend(Bytes::zeros(zeros).map(|z| (lo + in_file, z)));
            }
        }
        drop(dumped);
        (Image::from_bytes(parts), notes)
    }

    /// Map a file named by the core, when its build-id is the one in the core's memory.
    fn open_checked(
        &self,
        f: &FileMapping,
        roots: &FileRoots,
        dumped: &Image,
        notes: &mut ImageNotes,
    ) -> Option<Arc<memmap2::Mmap>> {
        let path = self.locate_file(&f.path, roots);
        let file = match crate::regular_file::open_regular(&path) {
            Ok(file) => file,
            Err(e) => {
                notes
                    .unopened
                    .push((path.display().to_string(), e.to_string()));
                return None;
            }
        };
        // SAFETY: mapped read-only and only read; a file changed underneath pymem could
        // fault or give other bytes, which the build-id check below is there to catch.
        let map = unsafe { memmap2::Mmap::map(&file) }.ok()?;
        let on_disk = object::File::parse(&*map).ok().and_then(|o| {
            object::Object::build_id(&o)
                .ok()
                .flatten()
                .map(<[u8]>::to_vec)
        });
        let base = self
            .files
            .iter()
            .filter(|m| m.path == f.path && m.file_offset == 0)
            .map(|m| m.start)
            .min();
        let in_core = base.and_then(|b| build_id_in_memory(dumped, b));
        match (in_core, on_disk) {
            (Some(a), Some(b)) if a != b => {
                notes
                    .mismatched
                    .push((path.display().to_string(), hex(&a), hex(&b)));
                None
            }
            // Not an ELF file (a data file), or no id on either side: used as it is.
            _ => Some(Arc::new(map)),
        }
    }

    /// The build-id (hex) that the file mapped from `path` had in the process, from the
    /// core's memory (None when the core did not keep its first page).
    pub fn build_id_of(&self, image: &Image, path: &str) -> Option<String> {
        let base = self
            .files
            .iter()
            .filter(|m| m.path == path && m.file_offset == 0)
            .map(|m| m.start)
            .min()?;
        build_id_in_memory(image, base).map(|id| hex(&id))
    }
}

/// A build-id as it is usually printed (`file`, `readelf -n`).
pub fn build_id_hex(id: &[u8]) -> String {
    hex(id)
}

/// `NT_FILE`: count, page size, `count` × (start, end, page offset), then `count` paths.
fn nt_file(desc: &[u8]) -> Result<Vec<FileMapping>, String> {
    let corrupt = || "a corrupt core file (its NT_FILE note)".to_string();
    let word = |i: usize| -> Option<u64> {
        Some(u64::from_le_bytes(desc.get(i..i + 8)?.try_into().ok()?))
    };
    let count = word(0).ok_or_else(corrupt)?;
    let page = word(8).ok_or_else(corrupt)?;
    if count > MAX_ENTRIES || page == 0 {
        return Err(corrupt());
    }
    let table_end = 16 + count as usize * 24;
    let mut names = desc
        .get(table_end..)
        .ok_or_else(corrupt)?
        .split(|&b| b == 0);
    let mut out = Vec::with_capacity(count as usize);
    for i in 0..count as usize {
        let at = 16 + i * 24;
        let (start, end, pgoff) = (
            word(at).ok_or_else(corrupt)?,
            word(at + 8).ok_or_else(corrupt)?,
            word(at + 16).ok_or_else(corrupt)?,
        );
        let name = names.next().ok_or_else(corrupt)?;
        out.push(FileMapping {
            start,
            end,
            file_offset: pgoff.saturating_mul(page),
            path: String::from_utf8_lossy(name).into_owned(),
        });
    }
    Ok(out)
}

/// The GNU build-id of the ELF file mapped at `base`, read from the process's memory: its
/// ELF header and program headers (the kernel dumps the first page of every ELF mapping),
/// then its `PT_NOTE` segments.
fn build_id_in_memory(mem: &Image, base: u64) -> Option<Vec<u8>> {
    let head = mem.read_vec(base, 64).ok()?;
    let header = elf::FileHeader64::<Endianness>::parse(&head[..]).ok()?;
    let endian = header.endian().ok()?;
    let (phoff, phentsize, phnum) = (
        header.e_phoff(endian),
        header.e_phentsize(endian) as u64,
        header.e_phnum(endian) as u64,
    );
    if phentsize < 56 || phnum > 256 || phoff > PAGE {
        return None;
    }
    // The ELF header and its program headers, as the file begins.
    let start = mem
        .read_vec(base, (phoff + phentsize * phnum) as usize)
        .ok()?;
    let phdrs = header.program_headers(endian, &start[..]).ok()?;
    let first_load = phdrs
        .iter()
        .filter(|p| p.p_type(endian) == elf::PT_LOAD)
        .map(|p| p.p_vaddr(endian))
        .min()?;
    let bias = base.wrapping_sub(first_load & !(PAGE - 1));
    for p in phdrs.iter().filter(|p| p.p_type(endian) == elf::PT_NOTE) {
        let (vaddr, size) = (p.p_vaddr(endian), p.p_filesz(endian).min(1 << 16));
        let Ok(bytes) = mem.read_vec(bias.wrapping_add(vaddr), size as usize) else {
            continue;
        };
        let Ok(notes) = CoreNotes::new(endian, p.p_align(endian), &bytes) else {
            continue;
        };
        for note in notes.map_while(Result::ok) {
            if note.n_type(endian) == elf::NT_GNU_BUILD_ID && note.name() == b"GNU" {
                return Some(note.desc().to_vec());
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nt_file_entries_and_paths() {
        let mut d = Vec::new();
        for w in [2u64, 4096, 0x1000, 0x3000, 0, 0x5000, 0x6000, 2] {
            d.extend_from_slice(&w.to_le_bytes());
        }
        d.extend_from_slice(b"/usr/bin/python3\0/lib/libc.so.6\0");
        let f = nt_file(&d).unwrap();
        assert_eq!(f.len(), 2);
        assert_eq!((f[1].start, f[1].file_offset), (0x5000, 0x2000));
        assert_eq!(f[1].path, "/lib/libc.so.6");
        assert!(nt_file(&d[..40]).is_err());
        let mut huge = d.clone();
        huge[..8].copy_from_slice(&u64::MAX.to_le_bytes());
        assert!(nt_file(&huge).is_err());
    }

    #[test]
    fn files_that_are_not_cores_are_refused_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let text = dir.path().join("t");
        std::fs::write(&text, b"hello").unwrap();
        assert!(Core::open(&text).err().unwrap().contains("not a core file"));
        let exe = std::env::current_exe().unwrap();
        assert!(Core::open(&exe).err().unwrap().contains("another kind"));
    }
}
