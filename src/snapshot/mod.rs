//! The snapshot: the contract between the capture agent and the analyser.
//!
//! # Format `pymem-snapshot`, version 1
//!
//! A snapshot is one file of JSON Lines (optionally gzip-compressed, `.gz`): every line is one
//! JSON object whose `"k"` field names the record kind. The agent streams it to a temporary
//! file and renames it when complete, so a file without an `end` line is truncated.
//!
//! | kind | count | fields |
//! |---|---|---|
//! | `header` | first line, once | `format` = `"pymem-snapshot"`, `version` = 1, `python` {`version`, `implementation`, `hexversion`, `build`, `platform`}, `allocator` {`name`: `pymalloc`\|`malloc`\|`mimalloc`, `debug_hooks`, `pythonmalloc`, and for pymalloc `arena_size`, `pool_size`, `pool_overhead`, `alignment`, `small_threshold`, `size_classes`, `debug_shift`}, `pid`, `argv`, `time` (Unix seconds), `rss` (bytes), `memory` (resident memory at capture, bytes: `rss` of all mappings, `files` file-backed, `stacks` (main and `thread_stacks_found` of `threads` threads), `malloc_heaps` glibc's heaps (`malloc_heap_count`), `anonymous` other anonymous mappings, `kernel` (`[vdso]`...), `pymalloc_arenas` resident pages of the arenas, `c_allocator` {`name`, `version`, `why` nothing was read, and from glibc's `mallinfo2()`: `arena`, `mmapped`, `mmapped_blocks`, `in_use`, `free`, `top_releasable`}), `values` (contents recorded?), `mallocstats` (figures of `sys._debugmallocstats()` at capture: `classes` rows `[class, size, pools, blocks in use, avail blocks]`, `counters`, `free_lists` {name: objects; `PyTupleObjects[5]` for 5-tuples}, `free_list_bytes` {name: bytes each, GC header excluded}, `blocks_in_use`), `recorded` {what was captured}, `missing` [what could not be, and why], `capture` (only in snapshots read from outside the process: `method` = `read` or `core`, `stopped_ms` how long the process was stopped, `interpreter` the file holding the interpreter) |
//! | `arena` | one per pymalloc arena | `a` base address, `index` in the allocator's table, `ntotal`, `nfree` pools, `pools`: `[[address, size class, blocks in use, nextoffset], ...]` for every carved pool |
//! | `type` | before its first instance | `id` (dense, from 0), `a` address, `name` (`module.qualname`, builtins bare), `module`, `qualname`, `flags` (`tp_flags`), `basicsize`, `itemsize`, `pre` (bytes of pre-header before the object), `py` (made by a `class` statement, not by C code: its traversal is `subtype_traverse`) |
//! | `o` | one per object | `a` address, `t` type id, `s` bytes of the object's own block (the pymalloc block size when it sits in a pool, else `sys.getsizeof`), `rc` reference count (the capture's own references removed; immortal objects as `sys.getrefcount` reports them), `r` referent addresses (with multiplicity, in traversal order; for a code object, which the collector does not traverse, its fields: `co_consts`, `co_names`, `co_filename`, `co_name`, `co_qualname`, the line and exception tables, 3.11+'s `co_localsplusnames` and `co_localspluskinds`, ≤3.10's `co_code`, `co_varnames`, `co_freevars`, `co_cellvars`, each labelled by its name), optional: `l` edge labels parallel to `r` (`null` = none), `n` length of a str, bytes, list, tuple, set, frozenset, deque or dict (dict subclasses included: read with the C-level `dict.__len__`), `h` content hash of str/bytes (per-process siphash), `name` of a module/function/class/code object, `v` value (only when captured with values), `b` owned separate buffers `[[address, bytes], ...]` (the buffers of list, set, dict, bytearray, inline values and ctypes instances; address 0: memory a C type's own `__sizeof__` reports beyond the object's block and buffers, such as numpy data, array and deque storage, OrderedDict nodes, whose address is not known), `bound` (a deque's `maxlen`, an `lru_cache`'s `maxsize`; absent when unbounded), `hits` and `misses` (an `lru_cache`'s; its `n` is `currsize`), `tb` allocation traceback id (objects allocated while tracemalloc traced; from outside, read from tracemalloc's table), `at` `[file, line]` of a code object (`co_filename`, `co_firstlineno`: where its function or class body begins) |
//! | `tb` | before its first use, once per distinct traceback | `id` (dense, from 0), `f` frames `[[file, line], ...]` innermost first (present when `recorded.tracebacks`) |
//! | `root` | any number | `a` address, `kind` (`module`, `frame`, `local`, `interpreter`), `name`, `frame` (for `local`: the frame holding the variable) |
//! | `end` | last line, once | `objects`, `refs`, `types`, `arenas`, `pools`, `roots`, `elapsed` seconds, `rc_changed` (objects whose reference count fell below the capture's own references while it ran, because other threads dropped theirs: recorded as 0; a negative `rc` is invalid); read from outside also: `scanned` `[[type name, objects], ...]` (C types whose objects' references were found by scanning their memory), `invalid_references` (words that looked like references to no valid object, left out), `negative_refcounts` (objects whose reference count in memory was negative, a reference-counting bug in the process: recorded as 0), `cut` `[[type name, objects], ...]` (objects whose referents were cut short because their memory contradicts itself: linked blocks that loop, more items than the object holds, an item array another list owns) |
//!
//! Edge labels are Python suffixes that concatenate into a path: `.attr`, `['key']`, `[3]`,
//! `.__dict__`, `<key>` (the edge from a dict to one of its keys). List and tuple edges carry
//! no labels in the file: the agent writes their referents in index order, so the index is
//! the position in `r`.
//!
//! Contents are private by default: strings and bytes are recorded as length and hash only.
//! Dict keys appear in labels only when they are short identifier-like strings (names) or
//! ints, unless the snapshot was taken with values.
//!
//! Objects whose reference count exceeds the references found inside the snapshot are held
//! from outside it (C globals, the interpreter, running frames): the loader derives these
//! "external" roots from `rc`; the agent records module and thread-frame roots explicitly.
//!
//! Every change to this format comes with a fixture in `fixtures/` and a test.

mod addr_index;
mod assemble;
mod chunk;
mod fastpath;
mod geometry;
pub mod input;
pub mod loader;
mod model;
mod records;
mod shrink;

pub(crate) use loader::MAX_TOTAL;
pub use loader::{load, LoadOptions};
pub use model::*;

/// The format name in the header line.
pub const FORMAT_NAME: &str = "pymem-snapshot";
/// The newest format version this build reads.
pub const FORMAT_VERSION: u64 = 1;

/// Refuse sizes and memory figures beyond any heap (2^56 bytes in all), and pool geometry no
/// CPython has, as the loader does:
/// every sum the analyses make is then safe from overflow. For snapshots that did not come
/// through the loader (an index).
pub fn check_totals(path: &std::path::Path, snap: &Snapshot) -> crate::Result<()> {
    loader::check_totals(path, snap)?;
    geometry::check_geometry(path, snap)
}

/// Note that `path` is memory-mapped: a SIGBUS on its lost pages (the file shrank) becomes
/// a one-line error naming it.
pub fn watch_mapped(path: &std::path::Path) {
    shrink::watch(path)
}

/// An object address as users type it: `0x7f3a...` (hex) or decimal digits.
pub fn parse_address(s: &str) -> Option<u64> {
    let s = s.trim();
    match s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        Some(h) => u64::from_str_radix(h, 16).ok(),
        None => s.parse().ok(),
    }
}
