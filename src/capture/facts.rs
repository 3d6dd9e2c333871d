//! What each CPython version does that no header's layout says: where an instance keeps its
//! attributes, what a reference count of an immortal object looks like, how line numbers are
//! encoded, how `sys.getsizeof` adds pre-headers. One table, by minor version; everything
//! else the decoder needs is in the generated layout tables. The agent's twin is
//! `python/pymem_agent/_facts.py`, which also holds the list of supported versions that this
//! file reads when pymem is built; tests/it/agent_facts.rs holds the two tables equal.

use std::ops::RangeInclusive;

/// The agent's table of facts, which names the supported versions.
const AGENT_FACTS: &str = include_str!("../../python/pymem_agent/_facts.py");

/// The minor versions of CPython 3 that pymem supports, as `_facts.py` lists them: read by
/// `attach`, `core`, the agent's support check and the tests' list of interpreters.
pub const SUPPORTED_MINORS: RangeInclusive<u32> =
    number_after(AGENT_FACTS.as_bytes(), b"\nFIRST_MINOR = ")
        ..=number_after(AGENT_FACTS.as_bytes(), b"\nLAST_MINOR = ");

/// "3.8-3.15": the supported versions, for messages.
pub fn supported_range() -> String {
    format!(
        "3.{}-3.{}",
        SUPPORTED_MINORS.start(),
        SUPPORTED_MINORS.end()
    )
}

/// The decimal number after the first `key` in `text`; fails the build when there is none.
const fn number_after(text: &[u8], key: &[u8]) -> u32 {
    let mut i = 0;
    while i + key.len() <= text.len() {
        let mut j = 0;
        while j < key.len() && text[i + j] == key[j] {
            j += 1;
        }
        if j == key.len() {
            let start = i + key.len();
            let mut k = start;
            let mut n = 0u32;
            while k < text.len() && text[k].is_ascii_digit() {
                n = n * 10 + (text[k] - b'0') as u32;
                k += 1;
            }
            assert!(k > start, "_facts.py: no number after the key");
            return n;
        }
        i += 1;
    }
    panic!("_facts.py: a line of the supported versions is missing")
}

/// `tp_flags` bits the decoder reads (stable since 3.8, except where noted).
pub mod flags {
    /// 3.13+: the instance's values live inline after `tp_basicsize`.
    pub const INLINE_VALUES: u64 = 1 << 2;
    /// 3.12+: the weakref list is in the pre-header.
    pub const MANAGED_WEAKREF: u64 = 1 << 3;
    /// 3.11+: the dict (or values) is in the pre-header.
    pub const MANAGED_DICT: u64 = 1 << 4;
    pub const HEAPTYPE: u64 = 1 << 9;
    pub const READY: u64 = 1 << 12;
    pub const HAVE_GC: u64 = 1 << 14;
    pub const TYPE_SUBCLASS: u64 = 1 << 31;
}

/// Offsets of the managed-dict layouts, the same in every version that has them.
pub mod managed {
    /// The dict pointer (3.12: the tagged word) sits this far before the object.
    pub const DICT_BEFORE: u64 = 24;
    /// 3.11: the values array pointer sits this far before the object.
    pub const SPLIT_VALUES_BEFORE: u64 = 32;
    /// 3.13+ inline values (`_PyDictValues`): capacity, size, embedded, valid, then the
    /// values themselves.
    pub const INLINE_CAPACITY_AT: u64 = 0;
    pub const INLINE_EMBEDDED_AT: u64 = 2;
    pub const INLINE_VALID_AT: u64 = 3;
    pub const INLINE_ITEMS_AT: u64 = 8;
}

/// Where an instance of a class with a managed dict keeps its attributes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Managed {
    /// 3.8-3.10: no managed dicts (a `__dict__` pointer at `tp_dictoffset`).
    None,
    /// 3.11: values array pointer at -32, dict pointer at -24.
    Split311,
    /// 3.12: one word at -24: a dict, or values tagged with bit 0 (pointer = word + 1).
    Tagged312,
    /// 3.13+: dict pointer at -24; values inline after `tp_basicsize` when INLINE_VALUES.
    Inline313,
}

/// How a code object maps bytecode offsets to lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LineTable {
    /// 3.8, 3.9: `co_lnotab` (byte increments), offset = `f_lasti` (bytes).
    Lnotab,
    /// 3.10: `co_linetable` (signed line deltas per byte range), offset = 2 * `f_lasti`.
    Linetable310,
    /// 3.11+: the location table of PEP 657.
    Locations,
}

/// Behaviour facts of one CPython minor version.
#[derive(Clone, Copy, Debug)]
pub struct Facts {
    pub minor: u32,
    /// The first release of this minor version pymem reads soundly (3.14.0-3.14.4 shipped
    /// the incremental collector, which 3.14.5 reverted).
    pub first_micro: u32,
    pub managed: Managed,
    /// `tp_flags` bits that put two more words before an object (beyond the GC header).
    pub preheader_flags: u64,
    /// 3.12+: an object whose reference count (low 32 bits, signed) is negative is immortal.
    pub immortal_refcounts: bool,
    /// What `sys.getrefcount` reports for every immortal object (3.14+), when not the count
    /// itself.
    pub immortal_reported: Option<u64>,
    pub line_table: LineTable,
    /// How `sys.getsizeof` adds to `__sizeof__`: false = the GC header when the object is
    /// collected (≤3.10); true = the type's whole pre-header (3.11+).
    pub getsizeof_adds_preheader: bool,
    /// Whether `sys.getsizeof` of a static type object adds the pre-header too (3.11, 3.12).
    pub getsizeof_static_types_preheader: bool,
    /// `int.__sizeof__` counts at least one digit (3.11+; 0 has none).
    pub int_sizeof_min_one_digit: bool,
    /// 3.14+: an instance whose `__dict__` was materialised has its dict traversed, not its
    /// inline values (3.13 traverses the values while they are valid).
    pub managed_dict_first: bool,
    /// 3.8, 3.9: `atexit.register`ed callbacks live in the atexit module's state (which its
    /// m_traverse visits); from 3.10 in the interpreter, where nothing traverses them.
    pub atexit_in_module_state: bool,
}

/// The facts of CPython 3.`minor`, for the versions pymem supports.
pub fn of(minor: u32) -> Option<Facts> {
    if !SUPPORTED_MINORS.contains(&minor) {
        return None;
    }
    let managed = match minor {
        ..=10 => Managed::None,
        11 => Managed::Split311,
        12 => Managed::Tagged312,
        _ => Managed::Inline313,
    };
    Some(Facts {
        minor,
        first_micro: if minor == 14 { 5 } else { 0 },
        managed,
        preheader_flags: match minor {
            ..=10 => 0,
            11 => flags::MANAGED_DICT,
            _ => flags::MANAGED_DICT | flags::MANAGED_WEAKREF,
        },
        immortal_refcounts: minor >= 12,
        immortal_reported: (minor >= 14).then_some(3 << 30),
        line_table: match minor {
            ..=9 => LineTable::Lnotab,
            10 => LineTable::Linetable310,
            _ => LineTable::Locations,
        },
        getsizeof_adds_preheader: minor >= 11,
        getsizeof_static_types_preheader: matches!(minor, 11 | 12),
        int_sizeof_min_one_digit: minor >= 11,
        managed_dict_first: minor >= 14,
        atexit_in_module_state: minor <= 9,
    })
}

impl Facts {
    /// Bytes before an object of a type with these flags: the GC header and, where the
    /// version has them, the managed dict and weakref words.
    pub fn preheader(&self, tp_flags: u64, gc_head: u64) -> u64 {
        let mut pre = 0;
        if tp_flags & flags::HAVE_GC != 0 {
            pre += gc_head;
        }
        if tp_flags & self.preheader_flags != 0 {
            pre += 16;
        }
        pre
    }
}

/// Layouts of structures that no installed header declares, from CPython's own sources
/// (Modules/_collectionsmodule.c, Modules/_functoolsmodule.c, Modules/atexitmodule.c,
/// Objects/capsule.c), the same in
/// every version that has them.
pub mod source {
    /// `dequeobject`: after `PyObject_VAR_HEAD` (24 bytes): leftblock, rightblock,
    /// leftindex, rightindex, state, maxlen.
    pub const DEQUE_LEFTBLOCK: u64 = 24;
    pub const DEQUE_LEFTINDEX: u64 = 40;
    pub const DEQUE_MAXLEN: u64 = 64;
    /// A deque block: leftlink, 64 item pointers, rightlink.
    pub const DEQUE_BLOCKLEN: u64 = 64;
    pub const DEQUE_BLOCK_SIZE: u64 = 8 + DEQUE_BLOCKLEN * 8 + 8;
    /// `lru_list_elem`: PyObject_HEAD, prev, next, hash, key, result.
    pub const LRU_ELEM_NEXT: u64 = 24;
    pub const LRU_ELEM_KEY: u64 = 40;
    pub const LRU_ELEM_RESULT: u64 = 48;
    /// `lru_cache_object`: the root element (56 bytes), then wrapper, typed, cache, hits,
    /// func, maxsize, misses, and further object fields.
    pub const LRU_ROOT_SIZE: u64 = 56;
    pub const LRU_CACHE: u64 = 72;
    pub const LRU_HITS: u64 = 80;
    pub const LRU_MAXSIZE: u64 = 96;
    pub const LRU_MISSES: u64 = 104;
    /// 3.8, 3.9 `atexitmodule_state`: `atexit_callback **atexit_callbacks; int ncallbacks;`
    /// and `atexit_callback`: func, args, kwargs (Modules/atexitmodule.c).
    pub const ATEXIT_CALLBACKS: u64 = 0;
    pub const ATEXIT_NCALLBACKS: u64 = 8;
    pub const ATEXIT_CALLBACK_FIELDS: [u64; 3] = [0, 8, 16];
    /// `PyCapsule` (Objects/capsule.c): pointer, name, context, destructor, and from 3.13
    /// traverse_func, clear_func.
    pub const CAPSULE_POINTER: u64 = 16;
    pub const CAPSULE_TRAVERSE: u64 = 48;
    /// How much of the data a traversed capsule points to is scanned, at most.
    pub const CAPSULE_DATA_MAX: u64 = 256;
}
