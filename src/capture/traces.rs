//! Allocation tracebacks read from outside: tracemalloc's own table of traces (the address of
//! every traced block -> its size and traceback), read from the copy as the heap is, so a
//! traced process is captured as fast as an untraced one and nothing runs in it.
//!
//! Where the table is: from CPython 3.12 in `_PyRuntime.tracemalloc`; in 3.9–3.11 in static
//! variables of `_tracemalloc.c` that only the interpreter's full symbol table names (pyenv's
//! builds keep it; a stripped build, as Debian's 3.9–3.11, does not). 3.8's hash table keeps
//! its entries in another shape and is not read. The traceback and frame records of 3.9–3.11
//! are declared in `_tracemalloc.c` alone; they are laid out as 3.12's header declares them
//! (the probe's figures, below as constants for the older versions). A frame's file name is a
//! str object up to 3.14 and a C string from 3.15.

use super::builtins::Builtins;
use super::heap::Heap;
use super::strings;
use rustc_hash::FxHashMap as HashMap;

/// 3.9–3.11's records (Modules/_tracemalloc.c): `traceback_t` {hash, nframe: u16,
/// total_nframe: u16, frames[]}, `frame_t` packed {filename, lineno: u32}; `trace_t` {size,
/// traceback} in every version.
const NFRAME: u64 = 8;
const FRAMES: u64 = 12;
const FRAME_SIZE: u64 = 12;
const FRAME_LINENO: u64 = 8;
const TRACE_TRACEBACK: u64 = 8;
/// `_PyTraceMalloc_Config.tracing` (after the `initialized` enum), 3.9–3.11.
const CONFIG_TRACING: u64 = 4;
/// Bytes of a file name read as a C string (3.15+), at most (PATH_MAX).
const MAX_FILENAME: usize = 4096;

/// What was found of tracemalloc in the process.
pub enum Found<'h> {
    /// The process was not tracing: nothing to record.
    NotTracing,
    /// Its traces.
    Traced(Traces<'h>),
    /// It may trace, but the table could not be read: why, in one line (for `missing`).
    Unreadable(String),
}

/// tracemalloc's table of traces in the copy, looked up per object as tracemalloc itself
/// does (hash of the block's address, then the bucket's chain), and the tracebacks met so
/// far: no copy of a table that can hold millions of traces.
pub struct Traces<'h> {
    h: &'h Heap<'h>,
    b: &'h Builtins,
    buckets: &'h [u8],
    /// Entries a chain may have at most (the table's count): a longer one loops.
    max_chain: u64,
    /// tracemalloc's traceback address -> index into `tracebacks`.
    index: HashMap<u64, u32>,
    /// Each distinct traceback's frames (file, line), innermost first, in order of first use.
    pub tracebacks: Vec<Vec<(String, u32)>>,
    files: HashMap<u64, String>,
}

/// tracemalloc's hash of a block address (`_Py_HashPointerRaw`: rotated by 4 bits).
fn hash(block: u64) -> u64 {
    block.rotate_right(4)
}

impl<'h> Traces<'h> {
    /// The traceback (index into `tracebacks`) of the block starting at `block`, if
    /// tracemalloc traced it. None, too, where the memory contradicts itself.
    pub fn of_block(&mut self, block: u64) -> Option<u32> {
        let h = self.h;
        let o = h.off;
        let nbuckets = (self.buckets.len() / 8) as u64;
        let at = ((hash(block) & (nbuckets - 1)) * 8) as usize;
        let mut entry = u64::from_le_bytes(self.buckets[at..at + 8].try_into().ok()?);
        let mut steps = 0u64;
        while entry != 0 && steps <= self.max_chain {
            if h.word(entry + o.hashtable_entry_key?)? == block {
                let trace = h.word(entry + o.hashtable_entry_value?)?;
                return self.traceback(h.word(trace + TRACE_TRACEBACK)?);
            }
            entry = h.word(entry)?; // the chain's next entry (the list link comes first)
            steps += 1;
        }
        None
    }

    fn traceback(&mut self, traceback: u64) -> Option<u32> {
        if let Some(&id) = self.index.get(&traceback) {
            return Some(id);
        }
        let h = self.h;
        let o = h.off;
        let frames_at = o.traceback_frames.unwrap_or(FRAMES);
        let frame_size = o.tm_frame_size.unwrap_or(FRAME_SIZE);
        let filename_at = o.tm_frame_filename.unwrap_or(0);
        let lineno_at = o.tm_frame_lineno.unwrap_or(FRAME_LINENO);
        let n = h
            .mem
            .slice(traceback + o.traceback_nframe.unwrap_or(NFRAME), 2)?;
        let n = u16::from_le_bytes([n[0], n[1]]) as u64;
        let mut frames = Vec::with_capacity(n as usize);
        for k in 0..n {
            let f = traceback + frames_at + k * frame_size;
            let file = h.word(f + filename_at)?;
            let name = match self.files.get(&file) {
                Some(s) => s.clone(),
                None => {
                    let s = match o.tm_filename_is_cstr {
                        Some(_) => h.cstr(file, MAX_FILENAME),
                        None => strings::exact_str(h, self.b, file),
                    }
                    .unwrap_or_else(|| "<unknown>".into());
                    self.files.insert(file, s.clone());
                    s
                }
            };
            frames.push((name, h.u32(f + lineno_at)?));
        }
        let id = self.tracebacks.len() as u32;
        self.tracebacks.push(frames);
        self.index.insert(traceback, id);
        Some(id)
    }
}

/// The table of traces, where this version keeps it: (is it tracing, the table's address).
fn table(
    h: &Heap,
    symbols: &std::collections::HashMap<&str, u64>,
    runtime: u64,
) -> Result<(bool, u64), String> {
    let o = h.off;
    if let (Some(state), Some(tracing), Some(traces)) = (
        o.runtime_tracemalloc,
        o.tracemalloc_tracing,
        o.tracemalloc_traces,
    ) {
        let state = runtime + state;
        let on = h
            .u32(state + tracing)
            .ok_or("tracemalloc's state is unreadable")?;
        let table = h
            .word(state + traces)
            .ok_or("tracemalloc's state is unreadable")?;
        return Ok((on != 0, table));
    }
    if o.hashtable_buckets.is_none() {
        return Err("CPython 3.8's table of traces is not read from outside".into());
    }
    let config = symbols
        .get("_Py_tracemalloc_config")
        .ok_or("the interpreter does not export tracemalloc's configuration")?;
    let on = h
        .u32(config + CONFIG_TRACING)
        .ok_or("tracemalloc's configuration is unreadable")?;
    if on == 0 {
        return Ok((false, 0));
    }
    let var = symbols.get("tracemalloc_traces").ok_or(
        "the interpreter has no full symbol table (a stripped build), which alone locates \
         tracemalloc's table before CPython 3.12",
    )?;
    let table = h.word(*var).ok_or("tracemalloc's table is unreadable")?;
    Ok((true, table))
}

/// tracemalloc's table of traces in the copy, when the process was tracing. A table whose
/// shape contradicts itself (a bucket count that is not a power of two, counts past the
/// copy, an entry hashed otherwise than tracemalloc hashes) is not read.
pub fn read<'h>(
    h: &'h Heap<'h>,
    b: &'h Builtins,
    symbols: &std::collections::HashMap<&str, u64>,
    runtime: u64,
) -> Found<'h> {
    let (on, table) = match table(h, symbols, runtime) {
        Ok(t) => t,
        Err(why) => return Found::Unreadable(why),
    };
    if !on {
        return Found::NotTracing;
    }
    match open_table(h, b, table) {
        Some(t) => Found::Traced(t),
        None => Found::Unreadable("tracemalloc's table of traces is unreadable or damaged".into()),
    }
}

fn open_table<'h>(h: &'h Heap<'h>, b: &'h Builtins, table: u64) -> Option<Traces<'h>> {
    let o = h.off;
    let nentries = h.word(table + o.hashtable_nentries?)?;
    let nbuckets = h.word(table + o.hashtable_nbuckets?)?;
    // An entry takes 32 bytes and a trace 16 in the copy: no more of them than it holds.
    if nentries > h.mem.len() / 48 || !nbuckets.is_power_of_two() || nbuckets > h.mem.len() / 8 {
        return None;
    }
    let buckets = h.bytes(
        h.word(table + o.hashtable_buckets?)?,
        (nbuckets * 8) as usize,
    )?;
    // The first entry found must be where tracemalloc's hash puts it.
    let (key_hash_at, key_at) = (o.hashtable_entry_key_hash?, o.hashtable_entry_key?);
    for (i, head) in buckets.chunks_exact(8).enumerate() {
        let entry = u64::from_le_bytes(head.try_into().ok()?);
        if entry != 0 {
            let key = h.word(entry + key_at)?;
            let stored = h.word(entry + key_hash_at)?;
            if stored != hash(key) || hash(key) & (nbuckets - 1) != i as u64 {
                return None;
            }
            break;
        }
    }
    Some(Traces {
        h,
        b,
        buckets,
        max_chain: nentries,
        index: HashMap::default(),
        tracebacks: Vec::new(),
        files: HashMap::default(),
    })
}
