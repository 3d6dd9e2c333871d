//! Per-object decoding: the referents and labels the agent would record for each object (its
//! type's traversal, as `gc.get_referents` reports it, with the agent's labels), and the
//! other fields of its snapshot line (length, content hash, name, value, bounds, buffers).
//!
//! Builtin types are decoded by layout; an object of a C type nobody decodes is scanned for
//! words that are addresses of valid objects (conservatively: every pointer-sized field).
//!
//! By family: [`containers`] (tuple, list, set, deque, dict), [`callables`] (module,
//! function, code, class, C function), [`instances`] (Python classes' instances) and
//! [`native`] (generators, lru_cache, C types nobody decodes, owned buffers); beside them
//! [`sizes`] (`sys.getsizeof` and owned buffers outside the pools) and [`frames`] (frame
//! objects, thread stacks and line numbers).

use super::dicts;
use super::facts::{flags, Managed};
use super::heap::Heap;
use super::ints;
use super::pools::Pools;
use super::strings;
use super::types::{Kind, Types};
use crate::le::u64_at;
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

mod callables;
mod containers;
pub mod frames;
mod instances;
mod native;
pub mod sizes;

/// An edge label, as the agent spells it (shared: the same names label many edges).
pub type Label = Option<Rc<str>>;

thread_local! {
    static DICT_LABEL: Rc<str> = Rc::from(".__dict__");
    static MRO_LABEL: Rc<str> = Rc::from(".__mro__");
    static KEY_LABEL: Rc<str> = Rc::from("<key>");
}

fn dict_label() -> Rc<str> {
    DICT_LABEL.with(Rc::clone)
}

fn key_edge_label() -> Rc<str> {
    KEY_LABEL.with(Rc::clone)
}

/// What one object's snapshot line carries beyond address, type, size and count.
#[derive(Default)]
pub struct Decoded {
    pub refs: Vec<u64>,
    /// Parallel to `refs` when the object has labels; empty otherwise.
    pub labels: Vec<Label>,
    pub len: Option<u64>,
    pub hash: Option<i64>,
    pub name: Option<String>,
    /// The `v` field, as JSON text.
    pub value: Option<String>,
    pub buffers: Vec<(u64, u64)>,
    pub bound: Option<i64>,
    pub hits: Option<u64>,
    pub misses: Option<u64>,
    /// A code object's `co_filename` and `co_firstlineno` (the `at` field).
    pub at: Option<(String, u32)>,
    /// The allocation traceback's id in the snapshot (the `tb` field), set by the walk.
    pub tb: Option<u32>,
    /// Whether the referents were found by scanning memory.
    pub scanned: bool,
}

impl Decoded {
    fn clear(&mut self) {
        self.refs.clear();
        self.labels.clear();
        self.len = None;
        self.hash = None;
        self.name = None;
        self.value = None;
        self.buffers.clear();
        self.bound = None;
        self.hits = None;
        self.misses = None;
        self.at = None;
        self.tb = None;
        self.scanned = false;
    }
}

/// The longest stretch of an opaque object that is scanned for pointers.
const MAX_SCAN: u64 = 1 << 16;
/// Longest key label for a string key (as the agent: longer keys are data, not names).
const KEY_LABEL_MAX: usize = 64;

/// The decoder: the heap, the type table, the pools, and what it has learned.
pub struct Decoder<'a, 'h> {
    pub heap: &'a Heap<'h>,
    pub types: Types,
    pub pools: &'a Pools,
    pub values: bool,
    pub debug_shift: u64,
    /// 3.8–3.10: the address of `lookdict`, learned from a table with a non-string key.
    lookdict: Option<u64>,
    /// 3.14+: the interned-strings dict (its references are not counted; no edges).
    pub interned: u64,
    /// Objects of each type whose referents were found by scanning.
    pub scanned: HashMap<u32, u64>,
    /// Objects of each type whose walk was cut short because their memory contradicts
    /// itself (a loop in linked blocks, more items than the object holds, an item array
    /// another list owns): a heap corrupted by an extension's bug or by hostile code.
    pub cut: HashMap<u32, u64>,
    /// Item arrays of lists of `SHARED_ARRAY_MIN` or more items met so far: no two lists
    /// share one.
    list_arrays: rustc_hash::FxHashSet<u64>,
    key_labels: HashMap<u64, Rc<str>>,
}

/// Lists at least this long have their item array remembered (shorter ones that share an
/// array can add no more than this many references each).
const SHARED_ARRAY_MIN: u64 = 64;

impl<'a, 'h> Decoder<'a, 'h> {
    pub fn new(heap: &'a Heap<'h>, types: Types, pools: &'a Pools, values: bool) -> Self {
        Decoder {
            heap,
            types,
            pools,
            values,
            debug_shift: 0,
            lookdict: None,
            interned: 0,
            scanned: HashMap::default(),
            cut: HashMap::default(),
            list_arrays: Default::default(),
            key_labels: HashMap::default(),
        }
    }

    /// The type id of a valid object at `addr`, or None. Objects inside pymalloc arenas must
    /// sit at the start of a carved block of a pool in use.
    pub fn object_type(&mut self, addr: u64) -> Option<u32> {
        let (_, tp) = self.heap.header(addr)?;
        let tid = self.types.get(self.heap, tp)?;
        Some(tid)
    }

    /// Like [`object_type`], plus the block check for pointers found by scanning.
    fn scanned_object(&mut self, addr: u64) -> Option<u32> {
        let tid = self.object_type(addr)?;
        if self.pools.in_arena(addr) {
            let pre = self.types.info(tid).pre + self.debug_shift;
            self.pools.block_size(addr.checked_sub(pre)?)?;
        }
        Some(tid)
    }

    /// The object's own size: its pymalloc block, else what `sys.getsizeof` reports.
    pub fn size(&mut self, addr: u64, tid: u32) -> (u64, bool) {
        let info = self.types.info(tid);
        let block = addr.wrapping_sub(info.pre + self.debug_shift);
        match self.pools.block_size(block) {
            Some(s) => (s, true),
            None => (sizes::getsizeof(self, addr, tid), false),
        }
    }

    /// Decode the object at `addr` of type `tid` into `out`.
    pub fn decode(&mut self, addr: u64, tid: u32, in_pool: bool, out: &mut Decoded) {
        out.clear();
        let info = self.types.shared(tid);
        // gc.get_referents() reports nothing for an object its type does not traverse (no
        // HAVE_GC): a C type nobody decodes has no referents then, as for the agent.
        let traversed = info.flags & flags::HAVE_GC != 0;
        match info.kind {
            Kind::Opaque if !traversed && info.ndarray => self.ndarray_base(addr, out),
            Kind::Opaque | Kind::LruElem if !traversed => {}
            Kind::Str => self.str_fields(addr, out),
            Kind::Bytes => {
                if let Some(b) = strings::bytes_of(self.heap, addr) {
                    out.len = Some(b.len() as u64);
                    out.hash = Some(strings::content_hash(0, b));
                    if self.values {
                        let text: String = b.iter().map(|&c| c as char).collect();
                        out.value = Some(json_str(&text));
                    }
                }
            }
            Kind::Int => {
                if self.values {
                    if let Some(v) = ints::small_int(self.heap, addr) {
                        if -(1i128 << 53) < v && v < (1i128 << 53) {
                            out.value = Some(v.to_string());
                        }
                    }
                }
            }
            Kind::Float => {
                if self.values {
                    if let Some(bits) = self.heap.word(addr.wrapping_add(self.heap.off.float_value))
                    {
                        let f = f64::from_bits(bits);
                        if f.is_finite() {
                            out.value = Some(py_float_repr(f));
                        }
                    }
                }
            }
            Kind::Leaf | Kind::ByteArray => {}
            Kind::Code => self.code(addr, out),
            Kind::Tuple => {
                let n = self.heap.ob_size(addr).unwrap_or(0).clamp(0, 1 << 28) as u64;
                out.len = Some(n);
                // The items are inside the object: no more than its block holds.
                let items = self.heap.off.tuple_items;
                let fits = match self
                    .pools
                    .block_size(addr.wrapping_sub(info.pre + self.debug_shift))
                {
                    Some(block) => block.saturating_sub(items + info.pre) / 8,
                    None => n,
                };
                if fits < n {
                    self.cut_short(tid);
                }
                self.pointers(addr + items, n.min(fits), &mut out.refs);
            }
            Kind::List => {
                let n = self.list_items(addr, tid, &mut out.refs);
                out.len = Some(n);
            }
            Kind::Set => {
                self.set_keys(addr, &mut out.refs);
                out.len = self
                    .heap
                    .i64(addr + self.heap.off.set_used)
                    .map(|n| n as u64);
            }
            Kind::Deque => self.deque(addr, &info, out),
            Kind::Dict => self.dict(addr, &info, out),
            Kind::FrozenDict => {
                if let Some(t) = dicts::table(self.heap, addr, self.lookdict) {
                    for &(k, v) in &t.entries {
                        out.refs.push(v);
                        if t.general {
                            out.refs.push(k);
                        }
                    }
                }
            }
            Kind::Module => self.module(addr, out),
            Kind::Function => self.function(addr, out),
            Kind::Type => self.type_object(addr, &info, out),
            Kind::Cell => self.fields(addr, &[self.heap.off.cell_ref], &mut out.refs),
            Kind::Method => {
                let o = self.heap.off;
                self.fields(addr, &[o.method_func, o.method_self], &mut out.refs)
            }
            Kind::CFunction => self.cfunction(addr, out),
            Kind::Weakref => self.fields(addr, &[self.heap.off.weakref_callback], &mut out.refs),
            Kind::Descriptor => self.fields(addr, &[self.heap.off.descr_type], &mut out.refs),
            Kind::Generator => self.generator(addr, &info, &mut out.refs),
            Kind::LruElem => {
                use crate::capture::facts::source as src;
                self.fields(
                    addr,
                    &[src::LRU_ELEM_KEY, src::LRU_ELEM_RESULT],
                    &mut out.refs,
                );
                if info.heap {
                    out.refs.push(info.addr);
                }
            }
            Kind::Frame => frames::frame_object_refs(self, addr, &mut out.refs),
            Kind::LruCache => self.lru_cache(addr, &info, out),
            Kind::Opaque => self.opaque(addr, &info, out),
            Kind::Instance => self.instance(addr, &info, out),
        }
        match info.kind {
            Kind::Code => {
                out.name = self.code_name(addr);
                out.at = self.code_place(addr);
            }
            Kind::Type => {
                // The name of the class itself (the object is a type).
                out.name = self
                    .types
                    .get(self.heap, addr)
                    .map(|t| self.types.info(t).name.clone())
            }
            _ => {}
        }
        if in_pool {
            self.buffers(addr, &info, out);
        }
    }

    fn str_fields(&mut self, addr: u64, out: &mut Decoded) {
        if let Some(t) = strings::text(self.heap, addr) {
            out.len = Some(t.len as u64);
            out.hash = Some(t.content_hash());
            if self.values {
                out.value = Some(json_str(&t.to_string_lossy()));
            }
        }
    }

    /// Push the non-null words of `n` consecutive pointers at `at`.
    fn pointers(&self, at: u64, n: u64, refs: &mut Vec<u64>) {
        if n == 0 {
            return;
        }
        if let Some(raw) = self.heap.bytes(at, (n * 8) as usize) {
            refs.extend(
                raw.chunks_exact(8)
                    .map(|c| u64_at(c, 0))
                    .filter(|&p| p != 0),
            );
        }
    }

    /// Count an object of type `tid` whose walk was cut short.
    fn cut_short(&mut self, tid: u32) {
        *self.cut.entry(tid).or_default() += 1;
    }

    /// Push the non-null pointers at the given offsets of the object.
    fn fields(&self, addr: u64, offsets: &[u64], refs: &mut Vec<u64>) {
        for &off in offsets {
            if let Some(p) = self.heap.word(addr.wrapping_add(off)) {
                if p != 0 {
                    refs.push(p);
                }
            }
        }
    }
}

impl Decoder<'_, '_> {
    /// An instance attribute, read from its managed values or its `__dict__` (never through
    /// a descriptor: no code would run for it in the process either).
    pub fn attribute(&mut self, obj: u64, name: &str) -> Option<u64> {
        let h = self.heap;
        let tid = self.object_type(obj)?;
        let info = self.types.shared(tid);
        let b = self.types.builtins;
        if info.flags & flags::MANAGED_DICT != 0 && h.facts.managed != Managed::None {
            let (dict, values) = self.managed(obj, &info);
            if let (Some((at, n)), Some(names)) = (values, info.shared_names.as_ref()) {
                let dotted = format!(".{name}");
                let i = names
                    .iter()
                    .position(|n| n.as_deref() == Some(dotted.as_str()))?
                    as u64;
                return (i < n)
                    .then(|| h.word(at + i * 8))
                    .flatten()
                    .filter(|&v| v != 0);
            }
            return dicts::get_str_item(h, &b, dict, name);
        }
        let d = self.dict_pointer(obj, &info).or_else(|| {
            (info.dictoffset > 0)
                .then(|| h.word(obj + info.dictoffset as u64))
                .flatten()
        })?;
        dicts::get_str_item(h, &b, d, name)
    }
}

/// `tp_weaklistoffset` of a type, when positive: the weakref list, which holds no reference.
fn weaklist_offset(h: &Heap, tp: u64) -> Option<u64> {
    h.i64(tp + h.off.tp_weaklistoffset)
        .filter(|&o| o > 0)
        .map(|o| o as u64)
}

/// A JSON string literal.
pub fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// Python's `repr` of a finite float: the shortest digits that round-trip, in exponent form
/// when the exponent is below -4 or at least 16.
pub fn py_float_repr(f: f64) -> String {
    if f == 0.0 {
        return if f.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let e = format!("{f:e}");
    let (mant, exp) = e.split_once('e').expect("exponent form");
    let exp: i32 = exp.parse().unwrap_or(0);
    let (neg, mant) = match mant.strip_prefix('-') {
        Some(m) => (true, m),
        None => (false, mant),
    };
    let digits: String = mant.chars().filter(|c| *c != '.').collect();
    let sign = if neg { "-" } else { "" };
    if !(-4..16).contains(&exp) {
        let (first, rest) = digits.split_at(1);
        let m = if rest.is_empty() {
            first.to_string()
        } else {
            format!("{first}.{rest}")
        };
        return format!(
            "{sign}{m}e{}{:02}",
            if exp < 0 { '-' } else { '+' },
            exp.abs()
        );
    }
    let point = exp + 1; // digits before the decimal point
    let s = if point <= 0 {
        format!("0.{}{}", "0".repeat((-point) as usize), digits)
    } else if point as usize >= digits.len() {
        format!("{}{}.0", digits, "0".repeat(point as usize - digits.len()))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{a}.{b}")
    };
    format!("{sign}{s}")
}

#[cfg(test)]
mod tests {
    use super::py_float_repr;

    #[test]
    fn float_repr_matches_python() {
        for (f, want) in [
            (0.5, "0.5"),
            (1.0, "1.0"),
            (100.0, "100.0"),
            (0.1, "0.1"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (123456789.125, "123456789.125"),
            (1e22, "1e+22"),
        ] {
            assert_eq!(py_float_repr(f), want, "{f}");
        }
    }
}
