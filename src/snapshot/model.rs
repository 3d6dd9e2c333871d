//! The loaded snapshot: flat columns indexed by dense object ids in address order.

use crate::column::Column;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// Dense id of an object: its rank in address order.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    bytemuck::Pod,
    bytemuck::Zeroable,
)]
#[repr(transparent)]
pub struct ObjId(pub u32);

impl ObjId {
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Dense id of a type, as numbered by the agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TypeId(pub u32);

/// The header line, owned.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    pub version: u64,
    #[serde(default)]
    pub python: PythonInfo,
    #[serde(default)]
    pub allocator: AllocatorInfo,
    #[serde(default)]
    pub pid: Option<u64>,
    #[serde(default)]
    pub argv: Vec<String>,
    #[serde(default)]
    pub time: Option<f64>,
    #[serde(default)]
    pub rss: Option<u64>,
    #[serde(default)]
    pub values: bool,
    #[serde(default)]
    pub mallocstats: Option<MallocStats>,
    /// What the resident memory was made of at capture (absent: not measured).
    #[serde(default)]
    pub memory: Option<ProcessMemory>,
    #[serde(default)]
    pub recorded: BTreeMap<String, bool>,
    #[serde(default)]
    pub missing: Vec<String>,
    /// How the snapshot was taken, for snapshots read from outside the process (absent: by
    /// the agent inside it).
    #[serde(default)]
    pub capture: Option<CaptureInfo>,
}

/// How a snapshot read from outside was taken (the `capture` field of the header).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CaptureInfo {
    /// `read` (a live process, stopped for the copy) or `core` (a core file).
    #[serde(default)]
    pub method: String,
    /// Milliseconds the process was stopped.
    #[serde(default)]
    pub stopped_ms: Option<f64>,
    /// The file that holds the interpreter.
    #[serde(default)]
    pub interpreter: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PythonInfo {
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub implementation: String,
    #[serde(default)]
    pub build: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct AllocatorInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub debug_hooks: bool,
    #[serde(default)]
    pub arena_size: Option<u64>,
    #[serde(default)]
    pub pool_size: Option<u64>,
    #[serde(default)]
    pub pool_overhead: Option<u64>,
    #[serde(default)]
    pub size_classes: Option<u32>,
    /// Bytes the debug hooks put before each block (0 without them).
    #[serde(default)]
    pub debug_shift: Option<u64>,
}

/// The process's resident memory by kind of mapping, measured at capture (`/proc/PID/smaps`,
/// resident pages of the arenas from `/proc/PID/pagemap`), and the C allocator's figures.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ProcessMemory {
    /// Resident bytes of all mappings.
    #[serde(default)]
    pub rss: u64,
    /// File-backed mappings: the executable, libraries, mapped files.
    #[serde(default)]
    pub files: u64,
    /// The main thread's stack and the other threads' (told by their guard pages).
    #[serde(default)]
    pub stacks: u64,
    #[serde(default)]
    pub threads: u64,
    #[serde(default)]
    pub thread_stacks_found: u64,
    /// glibc's heaps: the brk heap and the 64 MiB-aligned heaps of its other arenas.
    #[serde(default)]
    pub malloc_heaps: u64,
    #[serde(default)]
    pub malloc_heap_count: u64,
    /// Other anonymous mappings: pymalloc's arenas, large malloc blocks, other mmaps.
    #[serde(default)]
    pub anonymous: u64,
    /// `[vdso]` and other kernel-provided mappings.
    #[serde(default)]
    pub kernel: u64,
    /// Resident bytes of pymalloc's arenas.
    #[serde(default)]
    pub pymalloc_arenas: Option<u64>,
    #[serde(default)]
    pub c_allocator: Option<CAllocator>,
}

/// The C allocator's own figures (glibc: `mallinfo2()`).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct CAllocator {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: Option<String>,
    /// Why no figures were read.
    #[serde(default)]
    pub why: Option<String>,
    /// Bytes taken from the system for the heaps (mallinfo2 `arena`).
    #[serde(default)]
    pub arena: Option<u64>,
    /// Bytes in blocks mapped one by one (`hblkhd`), and how many.
    #[serde(default)]
    pub mmapped: Option<u64>,
    #[serde(default)]
    pub mmapped_blocks: Option<u64>,
    /// Bytes in use in the heaps (`uordblks`).
    #[serde(default)]
    pub in_use: Option<u64>,
    /// Bytes free but held in the heaps (`fordblks`).
    #[serde(default)]
    pub free: Option<u64>,
    /// Free bytes at the top of the main heap that trimming returns at once (`keepcost`).
    #[serde(default)]
    pub top_releasable: Option<u64>,
}

/// Figures printed by `sys._debugmallocstats()` at capture.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MallocStats {
    #[serde(default)]
    pub pymalloc: bool,
    /// `[class, size, pools, blocks in use, avail blocks]`
    #[serde(default)]
    pub classes: Vec<[u64; 5]>,
    #[serde(default)]
    pub counters: BTreeMap<String, u64>,
    /// Objects on each free list (`PyFloatObjects`, `PyTupleObjects[5]` for the free list of
    /// 5-tuples, ...).
    #[serde(default)]
    pub free_lists: BTreeMap<String, u64>,
    /// Bytes of each free list's objects as printed (without the GC header).
    #[serde(default)]
    pub free_list_bytes: BTreeMap<String, u64>,
    #[serde(default)]
    pub blocks_in_use: u64,
}

/// The end line.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct EndRecord {
    #[serde(default)]
    pub objects: u64,
    #[serde(default)]
    pub refs: u64,
    #[serde(default)]
    pub types: u64,
    #[serde(default)]
    pub arenas: u64,
    #[serde(default)]
    pub elapsed: f64,
    /// Objects whose reference count went below the capture's own references while it ran
    /// (other threads dropped theirs), recorded as 0.
    #[serde(default)]
    pub rc_changed: u64,
    /// Snapshots read from outside: objects whose reference count in the target's memory was
    /// negative (a reference-counting bug in the process), recorded as 0.
    #[serde(default)]
    pub negative_refcounts: u64,
    /// Snapshots read from outside: objects whose walk was cut short because their memory
    /// contradicts itself (linked blocks that loop, more items than the object holds, an
    /// item array another list owns), by type name.
    #[serde(default)]
    pub cut: Vec<(String, u64)>,
    /// Snapshots read from outside: objects whose references were found by scanning their
    /// memory (C types nobody decodes), by type name.
    #[serde(default)]
    pub scanned: Vec<(String, u64)>,
    /// Snapshots read from outside: references that pointed at no valid object (left out).
    #[serde(default)]
    pub invalid_references: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TypeInfo {
    pub addr: u64,
    pub name: String,
    pub module: String,
    pub flags: u64,
    pub basicsize: u64,
    /// Bytes before the object's address that belong to its block (GC header, managed
    /// dict/weakref pointers, debug-hook header): the block starts at `addr - pre`.
    pub pre: u64,
    /// Made by a `class` statement (traversed by `subtype_traverse`), not by C code; `None`
    /// when the snapshot does not say.
    pub python_class: Option<bool>,
}

/// A pymalloc pool as its header described it at capture.
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct Pool {
    pub addr: u64,
    pub size_class: u8,
    pub used_blocks: u32,
    pub next_offset: u32,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Arena {
    pub addr: u64,
    pub index: u32,
    pub total_pools: u32,
    pub free_pools: u32,
    /// Range into [`Snapshot::pools`].
    pub pools: std::ops::Range<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RootKind {
    Module,
    Frame,
    /// A local variable of a running frame.
    Local,
    Interpreter,
    /// Reference count exceeds the references found in the snapshot: held from C or
    /// from objects the capture did not see.
    External,
    Other,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Root {
    pub obj: ObjId,
    pub kind: RootKind,
    pub name: String,
    /// For locals: the frame (`thread T: function (file:line)`).
    pub frame: Option<String>,
}

/// A buffer owned by an object (list items, dict keys/values, set table, bytearray).
#[derive(Debug, Clone, Copy, Serialize, Deserialize)]
pub struct OwnedBuffer {
    pub owner: ObjId,
    pub addr: u64,
    pub size: u64,
}

/// Objects in address order, as columns.
#[derive(Debug, Default)]
pub struct Objects {
    pub addr: Column<u64>,
    pub type_id: Column<u32>,
    /// Own block size; [`OVERFLOW`] means the size is in `big_sizes`.
    pub(crate) size: Column<u32>,
    pub(crate) big_sizes: Vec<(ObjId, u64)>,
    /// Reference count, saturated at `u32::MAX` (immortal objects in 3.12+).
    pub refcnt: Column<u32>,
    /// Length of builtin containers/strings; [`OVERFLOW`] = not recorded.
    pub len: Column<u32>,
    /// Content hash of str/bytes, sparse, sorted by id.
    pub hashes: Vec<(ObjId, i64)>,
    /// CSR: referents of object i are `ref_targets[ref_start[i]..ref_start[i+1]]`.
    pub ref_start: Column<u32>,
    pub ref_targets: Column<ObjId>,
    /// Sparse edge labels sorted by edge index, pointing into [`Snapshot::labels`].
    pub edge_labels: Column<EdgeLabel>,
    /// Sparse names (modules, functions, classes, code) sorted by object id.
    pub names: Vec<(ObjId, Box<str>)>,
    /// Sparse values (only with `--values` captures) sorted by object id.
    pub values: Vec<(ObjId, Box<str>)>,
    /// Sparse bounds and hit counts of deques and `lru_cache` wrappers, sorted by id.
    pub caches: Vec<(ObjId, CacheInfo)>,
    /// Sparse allocation traceback ids (into [`Snapshot::tracebacks`]), sorted by id.
    pub traceback: Vec<(ObjId, u32)>,
    /// Sparse `file:line` of code objects (where their function or class body begins),
    /// sorted by id.
    pub defined: Vec<(ObjId, Box<str>)>,
}

/// A label on one reference: the edge's index (into `ref_targets`) and the label's (into
/// [`Snapshot::labels`]). Kept in an index as is.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, bytemuck::Pod, bytemuck::Zeroable)]
pub struct EdgeLabel {
    pub edge: u32,
    pub label: u32,
}

/// Where an object was allocated, as tracemalloc recorded it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Traceback {
    /// (file, line), innermost frame first.
    pub frames: Vec<(Box<str>, u32)>,
}

pub use super::records::CacheInfo;

pub use super::records::OVERFLOW;

impl Objects {
    pub fn count(&self) -> usize {
        self.addr.len()
    }

    /// Bytes of the object's own block.
    pub fn size(&self, id: ObjId) -> u64 {
        match self.size[id.index()] {
            OVERFLOW => self.big_sizes[self.big_sizes.partition_point(|(i, _)| *i < id)].1,
            s => s as u64,
        }
    }

    /// Every object's own size, in id order.
    pub fn sizes(&self) -> impl Iterator<Item = u64> + '_ {
        let mut big = self.big_sizes.iter();
        self.size.iter().map(move |&s| match s {
            OVERFLOW => big.next().map_or(0, |b| b.1),
            s => s as u64,
        })
    }

    /// Length of a builtin container, str or bytes, when recorded.
    pub fn len_of(&self, id: ObjId) -> Option<u64> {
        match self.len[id.index()] {
            OVERFLOW => None,
            n => Some(n as u64),
        }
    }

    /// All references as plain u32 targets (for the graph engine).
    pub fn ref_targets_u32(&self) -> &[u32] {
        bytemuck::cast_slice(&self.ref_targets)
    }

    pub fn refs(&self, id: ObjId) -> &[ObjId] {
        let i = id.index();
        &self.ref_targets[self.ref_start[i] as usize..self.ref_start[i + 1] as usize]
    }

    /// Range of edge indices of an object's references.
    pub fn edge_range(&self, id: ObjId) -> std::ops::Range<usize> {
        let i = id.index();
        self.ref_start[i] as usize..self.ref_start[i + 1] as usize
    }

    /// Label id of edge `e`, if the agent labelled it.
    pub fn edge_label(&self, e: usize) -> Option<u32> {
        self.edge_labels
            .binary_search_by_key(&(e as u32), |l| l.edge)
            .ok()
            .map(|i| self.edge_labels[i].label)
    }

    /// Dense id of the object at `addr`, if captured.
    pub fn find(&self, addr: u64) -> Option<ObjId> {
        self.addr.binary_search(&addr).ok().map(|i| ObjId(i as u32))
    }

    pub fn name(&self, id: ObjId) -> Option<&str> {
        self.names
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|i| &*self.names[i].1)
    }

    /// `file:line` where a code object's function or class body begins.
    pub fn defined_at(&self, id: ObjId) -> Option<&str> {
        self.defined
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|i| &*self.defined[i].1)
    }

    /// Allocation traceback id, for objects allocated while tracemalloc traced.
    pub fn traceback_of(&self, id: ObjId) -> Option<u32> {
        self.traceback
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|i| self.traceback[i].1)
    }

    pub fn cache_info(&self, id: ObjId) -> Option<CacheInfo> {
        self.caches
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|i| self.caches[i].1)
    }

    pub fn hash(&self, id: ObjId) -> Option<i64> {
        self.hashes
            .binary_search_by_key(&id, |(i, _)| *i)
            .ok()
            .map(|i| self.hashes[i].1)
    }
}

/// A whole snapshot in memory.
#[derive(Debug)]
pub struct Snapshot {
    pub path: PathBuf,
    pub header: Header,
    pub end: Option<EndRecord>,
    pub types: Vec<TypeInfo>,
    pub objects: Objects,
    pub labels: Vec<Box<str>>,
    pub arenas: Vec<Arena>,
    pub pools: Vec<Pool>,
    pub roots: Vec<Root>,
    pub buffers: Vec<OwnedBuffer>,
    /// Allocation tracebacks, by id (empty unless tracemalloc was tracing).
    pub tracebacks: Vec<Traceback>,
    /// References to addresses not captured (objects created or freed during capture).
    pub dangling_refs: u64,
    /// Lines read.
    pub lines: u64,
    /// Bytes of an incomplete last line that `--partial` left out.
    pub dropped_tail: u64,
    /// What the graph searches found, when an index kept them (or once computed for one).
    pub searched: std::sync::OnceLock<crate::graph::Searched>,
    /// Whole-snapshot figures: summed once when first asked, or as an index kept them.
    pub totals: std::sync::OnceLock<Totals>,
    /// Which object columns are here: all of them, except from an index opened for a
    /// question that reads fewer (see [`Loaded`]).
    pub loaded: Loaded,
}

/// Which of a snapshot's object columns were read. A snapshot loaded from JSON has them
/// all; one opened through its index for `summary` or `diff` leaves out what they never
/// read, so that neither is checked nor summed (those columns are then empty).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Loaded {
    #[default]
    Everything,
    /// No references (`ref_start`, `ref_targets`, `edge_labels`): `diff`, `summary --by traceback`.
    NoReferences,
    /// No per-object column at all, only [`Totals`]: `summary` by type or module.
    TotalsOnly,
}

/// What `summary` and every command's facts show of the whole snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    pub objects: u64,
    pub refs: u64,
    /// Own blocks of all objects.
    pub bytes_in_objects: u64,
    /// Owned buffers of all objects.
    pub bytes_in_buffers: u64,
    /// Per type (as [`Snapshot::types`]): instances, and their own bytes plus owned buffers.
    pub type_counts: Vec<u64>,
    pub type_bytes: Vec<u64>,
}

impl Snapshot {
    pub fn type_of(&self, id: ObjId) -> &TypeInfo {
        &self.types[self.objects.type_id[id.index()] as usize]
    }

    /// Whether allocation tracebacks were recorded.
    pub fn has_tracebacks(&self) -> bool {
        self.header
            .recorded
            .get("tracebacks")
            .copied()
            .unwrap_or(false)
    }

    /// The allocation traceback of an object, if traced.
    pub fn allocated_at(&self, id: ObjId) -> Option<&Traceback> {
        let t = self.objects.traceback_of(id)?;
        self.tracebacks.get(t as usize)
    }

    /// Whether the capture had pymalloc's arena table.
    pub fn has_pools(&self) -> bool {
        self.header.recorded.get("pools").copied().unwrap_or(false)
    }

    /// Dicts that are some object's `__dict__` (module, class and instance namespaces):
    /// the targets of edges the agent labelled `.__dict__`.
    pub fn namespace_dicts(&self) -> fixedbitset::FixedBitSet {
        let objs = &self.objects;
        let mut out = fixedbitset::FixedBitSet::with_capacity(objs.count());
        if let Some(label) = self.labels.iter().position(|l| &**l == ".__dict__") {
            for &EdgeLabel { edge: e, label: l } in objs.edge_labels.iter() {
                if l as usize == label {
                    out.insert(objs.ref_targets[e as usize].index());
                }
            }
        }
        out
    }

    /// Whole-snapshot figures (summed from the columns the first time).
    pub fn totals(&self) -> &Totals {
        self.totals.get_or_init(|| {
            let o = &self.objects;
            let mut type_counts = vec![0u64; self.types.len()];
            let mut type_bytes = vec![0u64; self.types.len()];
            let mut bytes_in_objects = 0u64;
            for (&t, s) in o.type_id.iter().zip(o.sizes()) {
                type_counts[t as usize] += 1;
                type_bytes[t as usize] += s;
                bytes_in_objects += s;
            }
            let mut bytes_in_buffers = 0u64;
            for b in &self.buffers {
                type_bytes[o.type_id[b.owner.index()] as usize] += b.size;
                bytes_in_buffers += b.size;
            }
            Totals {
                objects: o.count() as u64,
                refs: o.ref_targets.len() as u64,
                bytes_in_objects,
                bytes_in_buffers,
                type_counts,
                type_bytes,
            }
        })
    }

    /// Bytes held by the object itself plus its owned buffers, per object.
    pub fn owned_bytes(&self) -> Vec<u64> {
        let mut out: Vec<u64> = self.objects.sizes().collect();
        for b in &self.buffers {
            out[b.owner.index()] += b.size;
        }
        out
    }
}
