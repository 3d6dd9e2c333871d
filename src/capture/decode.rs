//! Per-object decoding: the referents and labels the agent would record for each object (its
//! type's traversal, as `gc.get_referents` reports it, with the agent's labels), and the
//! other fields of its snapshot line (length, content hash, name, value, bounds, buffers).
//!
//! Builtin types are decoded by layout; an object of a C type nobody decodes is scanned for
//! words that are addresses of valid objects (conservatively: every pointer-sized field).

use super::dicts;
use super::facts::{flags, Managed};
use super::heap::Heap;
use super::pools::Pools;
use super::sizes;
use super::strings;
use super::types::{Base, Kind, TypeInfo, Types};
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;

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
        self.scanned = false;
    }
}

/// The longest stretch of an opaque object that is scanned for pointers.
const MAX_SCAN: u64 = 1 << 16;
/// Longest key label for a string key (as the agent: longer keys are data, not names).
const KEY_LABEL_MAX: usize = 64;
use super::facts::source::DEQUE_BLOCKLEN;

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
    key_labels: HashMap<u64, Rc<str>>,
}

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
                    if let Some(v) = sizes::small_int(self.heap, addr) {
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
                self.pointers(addr + self.heap.off.tuple_items, n, &mut out.refs);
            }
            Kind::List => {
                let n = self.list_items(addr, &mut out.refs);
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
                use super::facts::source as src;
                self.fields(
                    addr,
                    &[src::LRU_ELEM_KEY, src::LRU_ELEM_RESULT],
                    &mut out.refs,
                );
                if info.heap {
                    out.refs.push(info.addr);
                }
            }
            Kind::Frame => super::frames::frame_object_refs(self, addr, &mut out.refs),
            Kind::LruCache => self.lru_cache(addr, &info, out),
            Kind::Opaque => self.opaque(addr, &info, out),
            Kind::Instance => self.instance(addr, &info, out),
        }
        match info.kind {
            Kind::Code => out.name = self.code_name(addr),
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
                    .map(|c| u64::from_le_bytes(c.try_into().expect("8")))
                    .filter(|&p| p != 0),
            );
        }
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

    fn list_items(&self, addr: u64, refs: &mut Vec<u64>) -> u64 {
        let o = self.heap.off;
        let n = self.heap.ob_size(addr).unwrap_or(0).clamp(0, 1 << 30) as u64;
        if let Some(items) = self.heap.word(addr.wrapping_add(o.list_items)) {
            if items != 0 {
                self.pointers(items, n, refs);
            }
        }
        n
    }

    fn set_keys(&self, addr: u64, refs: &mut Vec<u64>) {
        let o = self.heap.off;
        let (Some(mask), Some(table)) = (
            self.heap.i64(addr.wrapping_add(o.set_mask)),
            self.heap.word(addr.wrapping_add(o.set_table)),
        ) else {
            return;
        };
        if !(0..1 << 30).contains(&mask) {
            return;
        }
        let n = (mask + 1) as u64;
        let dummy = self.types.builtins.set_dummy;
        if let Some(raw) = self.heap.bytes(table, (n * o.setentry_size) as usize) {
            for e in raw.chunks_exact(o.setentry_size as usize) {
                let at = o.setentry_key as usize;
                let k = u64::from_le_bytes(e[at..at + 8].try_into().expect("8"));
                if k != 0 && k != dummy {
                    refs.push(k);
                }
            }
        }
    }

    /// `collections.deque`: items block by block, left to right.
    fn deque(&self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let h = self.heap;
        use super::facts::source as src;
        let (Some(n), Some(mut block), Some(left), Some(maxlen)) = (
            h.ob_size(addr),
            h.word(addr + src::DEQUE_LEFTBLOCK),
            h.i64(addr + src::DEQUE_LEFTINDEX),
            h.i64(addr + src::DEQUE_MAXLEN),
        ) else {
            return;
        };
        out.len = Some(n.max(0) as u64);
        if maxlen >= 0 {
            out.bound = Some(maxlen);
        }
        if info.heap {
            out.refs.push(info.addr);
        }
        let mut index = left.clamp(0, DEQUE_BLOCKLEN as i64 - 1) as u64;
        let mut left_to_take = n.clamp(0, 1 << 30) as u64;
        while left_to_take > 0 && block != 0 {
            // block: leftlink, data[64], rightlink
            let take = (DEQUE_BLOCKLEN - index).min(left_to_take);
            self.pointers(block + 8 + index * 8, take, &mut out.refs);
            left_to_take -= take;
            index = 0;
            block = h.word(block + 8 + DEQUE_BLOCKLEN * 8).unwrap_or(0);
        }
    }

    /// The label of a dict value stored under key `k`, as the agent writes it (cached per
    /// key object: the same attribute names key many dicts).
    fn key_label(&mut self, k: u64) -> Rc<str> {
        if let Some(l) = self.key_labels.get(&k) {
            return Rc::clone(l);
        }
        let l: Rc<str> = Rc::from(self.key_label_text(k));
        self.key_labels.insert(k, Rc::clone(&l));
        l
    }

    fn key_label_text(&mut self, k: u64) -> String {
        let b = &self.types.builtins;
        let h = self.heap;
        let tk = h.type_of(k).unwrap_or(0);
        if tk == b.str_ {
            if let Some(t) = strings::text(h, k) {
                if self.values {
                    return format!("[{}]", strings::py_repr(&t.to_string_lossy()));
                }
                if t.len <= KEY_LABEL_MAX && strings::is_identifier(&t) {
                    return format!("['{}']", t.to_string_lossy());
                }
                return format!("[<str len={}>]", t.len);
            }
        }
        if tk == b.int || tk == b.bool_ {
            if let Some(v) = sizes::int_decimal(h, k) {
                return format!("[{v}]");
            }
        }
        if k == b.none {
            return "[None]".into();
        }
        let name = self
            .types
            .get(h, tk)
            .map(|t| self.types.info(t).name.clone())
            .unwrap_or_else(|| "?".into());
        format!("[<{name}>]")
    }

    fn dict(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let h = self.heap;
        let exact = info.addr == self.types.builtins.dict;
        if addr == self.interned {
            out.len = h.i64(addr + h.off.dict_used).map(|n| n as u64);
            return;
        }
        // A subclass's own part comes first (subtype_traverse, then a C base's extra fields).
        if !exact {
            self.instance_part(addr, info, &mut out.refs, &mut Vec::new());
            self.dict_subclass_tail(addr, info, &mut out.refs);
        }
        let Some(table) = dicts::table(h, addr, self.lookdict) else {
            out.len = h.i64(addr + h.off.dict_used).map(|n| n as u64);
            return;
        };
        // 3.8-3.10: learn lookdict from a table with a key that is not exactly a str.
        if let (Some(lookup), None) = (h.off.keys_lookup, self.lookdict) {
            if !table.split
                && table
                    .entries
                    .iter()
                    .any(|&(k, _)| h.type_of(k) != Some(self.types.builtins.str_))
            {
                self.lookdict = h.word(table.keys + lookup);
            }
        }
        let general = table.general
            || (h.off.keys_lookup.is_some()
                && self.lookdict.is_some()
                && self.lookdict == h.word(table.keys + h.off.keys_lookup.unwrap_or(0)));
        // 3.13: values embedded in their instance are traversed by the instance, not here
        // (3.14+ traverses the dict instead of the instance's values).
        let embedded = table.split
            && h.facts.minor >= 13
            && !h.facts.managed_dict_first
            && h.word(addr + h.off.dict_values)
                .and_then(|v| h.u8(v + 2))
                .unwrap_or(0)
                != 0;
        for &(k, v) in &table.entries {
            if !embedded {
                out.refs.push(v);
            }
            if general && !table.split {
                out.refs.push(k);
            }
        }
        // The agent appends every key not already among the referents.
        let mut have: HashSet<u64> = out.refs.iter().copied().collect();
        for &(k, _) in &table.entries {
            if have.insert(k) {
                out.refs.push(k);
            }
        }
        let mut by_value: HashMap<u64, Rc<str>> = HashMap::default();
        for &(k, v) in &table.entries {
            if let std::collections::hash_map::Entry::Vacant(e) = by_value.entry(v) {
                e.insert(self.key_label(k));
            }
        }
        let keys: HashSet<u64> = table.entries.iter().map(|&(k, _)| k).collect();
        out.labels = out
            .refs
            .iter()
            .map(|r| match by_value.get(r) {
                Some(l) => Some(l.clone()),
                None if exact || keys.contains(r) => Some(key_edge_label()),
                None => None,
            })
            .collect();
        out.len = h.i64(addr + h.off.dict_used).map(|n| n as u64);
    }

    /// The fields a C subclass of dict adds (defaultdict's factory, OrderedDict's instance
    /// dict): scanned, without its weakref list.
    fn dict_subclass_tail(&mut self, addr: u64, info: &TypeInfo, refs: &mut Vec<u64>) {
        let h = self.heap;
        // The first C type in the chain that is not dict itself.
        let mut t = info.addr;
        let mut c_type = None;
        for _ in 0..64 {
            if t == self.types.builtins.dict {
                break;
            }
            if !self.types.python_class(h, t) {
                c_type = Some(t);
                break;
            }
            t = match h.word(t + h.off.tp_base) {
                Some(b) if b != 0 => b,
                _ => break,
            };
        }
        let Some(c) = c_type else { return };
        let end = h.word(c + h.off.tp_basicsize).unwrap_or(0).min(MAX_SCAN);
        let weaklist = weaklist_offset(h, c);
        let mut at = h.off.dict_size;
        while at + 8 <= end {
            if Some(at) != weaklist {
                if let Some(p) = h.word(addr + at) {
                    if p != 0 && self.scanned_object(p).is_some() {
                        refs.push(p);
                    }
                }
            }
            at += 8;
        }
    }

    fn module(&mut self, addr: u64, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        let d = h.word(addr + o.module_dict).unwrap_or(0);
        // Extension modules' state (m_traverse): scanned.
        let state = h.word(addr + o.module_state).unwrap_or(0);
        let state_size = match (o.module_def, o.module_state_size) {
            (_, Some(s)) => h.i64(addr + s).unwrap_or(0),
            (Some(def), None) => h
                .word(addr + def)
                .filter(|&d| d != 0)
                .and_then(|d| h.i64(d + o.moduledef_size_field))
                .unwrap_or(0),
            _ => 0,
        };
        if d != 0 {
            out.name = dicts::get_str_item(h, &self.types.builtins, d, "__name__")
                .and_then(|n| strings::exact_str(h, &self.types.builtins, n));
        }
        if state != 0 && h.facts.atexit_in_module_state && out.name.as_deref() == Some("atexit") {
            self.atexit_callbacks(state, &mut out.refs);
        } else if state != 0 && state_size > 0 {
            let n = (state_size as u64).min(MAX_SCAN) / 8;
            for i in 0..n {
                if let Some(p) = h.word(state + i * 8) {
                    if p != 0 && p != addr && self.scanned_object(p).is_some() {
                        out.refs.push(p);
                        out.scanned = true;
                    }
                }
            }
        }
        if d != 0 {
            out.refs.push(d);
        }
        out.labels = out
            .refs
            .iter()
            .map(|&r| (r == d).then(dict_label))
            .collect();
    }

    /// 3.8, 3.9: the callbacks `atexit.register` keeps in the module's state, each its
    /// function, arguments and keyword arguments, as the module's traversal visits them.
    fn atexit_callbacks(&mut self, state: u64, refs: &mut Vec<u64>) {
        use super::facts::source as src;
        let h = self.heap;
        let array = h.word(state + src::ATEXIT_CALLBACKS).unwrap_or(0);
        let n = h
            .u32(state + src::ATEXIT_NCALLBACKS)
            .unwrap_or(0)
            .min(1 << 20) as u64;
        for i in 0..n {
            let Some(cb) = h.word(array + i * 8).filter(|&c| c != 0) else {
                continue;
            };
            for f in src::ATEXIT_CALLBACK_FIELDS {
                if let Some(p) = h.word(cb + f).filter(|&p| p != 0) {
                    if self.scanned_object(p).is_some() {
                        refs.push(p);
                    }
                }
            }
        }
    }

    fn function(&mut self, addr: u64, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        let mut offs = vec![
            o.func_code,
            o.func_globals,
            o.func_module,
            o.func_defaults,
            o.func_kwdefaults,
            o.func_doc,
            o.func_name,
            o.func_dict,
            o.func_closure,
            o.func_annotations,
            o.func_qualname,
        ];
        offs.extend(o.func_builtins);
        offs.extend(o.func_typeparams);
        offs.extend(o.func_annotate);
        self.fields(addr, &offs, &mut out.refs);
        let at = |off: u64| h.word(addr + off).unwrap_or(0);
        thread_local! {
            static NAMES: [Rc<str>; 5] = [
                Rc::from(".__code__"),
                Rc::from(".__globals__"),
                Rc::from(".__defaults__"),
                Rc::from(".__kwdefaults__"),
                Rc::from(".__closure__"),
            ];
        }
        let fields = [
            at(o.func_code),
            at(o.func_globals),
            at(o.func_defaults),
            at(o.func_kwdefaults),
            at(o.func_closure),
        ];
        out.labels = NAMES.with(|names| {
            out.refs
                .iter()
                .map(|r| {
                    fields
                        .iter()
                        .position(|f| *f != 0 && f == r)
                        .map(|i| Rc::clone(&names[i]))
                })
                .collect()
        });
        out.name = if o.co_qualname.is_some() {
            self.code_name(at(o.func_code))
        } else {
            strings::exact_str(h, &self.types.builtins, at(o.func_qualname))
        };
    }

    /// A code object's fields, labelled: each one the version's layout has (the agent reads
    /// the same fields through the code type's members, and 3.11+'s localsplus pair from
    /// memory). Code objects are not traversed, so this is the only way to their contents.
    fn code(&mut self, addr: u64, out: &mut Decoded) {
        let o = self.heap.off;
        const NAMES: [&str; 14] = [
            ".co_consts",
            ".co_names",
            ".co_exceptiontable",
            ".co_filename",
            ".co_name",
            ".co_qualname",
            ".co_linetable",
            ".co_lnotab",
            ".co_code",
            ".co_varnames",
            ".co_freevars",
            ".co_cellvars",
            ".co_localsplusnames",
            ".co_localspluskinds",
        ];
        thread_local! {
            static LABELS: Vec<Rc<str>> = NAMES.iter().map(|n| Rc::from(*n)).collect();
        }
        let fields = [
            Some(o.co_consts),
            Some(o.co_names),
            o.co_exceptiontable,
            Some(o.co_filename),
            Some(o.co_name),
            o.co_qualname,
            o.co_linetable,
            o.co_lnotab,
            o.co_code,
            o.co_varnames,
            o.co_freevars,
            o.co_cellvars,
            o.co_localsplusnames,
            o.co_localspluskinds,
        ];
        LABELS.with(|labels| {
            for (field, label) in fields.iter().zip(labels) {
                let Some(off) = field else { continue };
                if let Some(p) = self.heap.word(addr.wrapping_add(*off)) {
                    if p != 0 {
                        out.refs.push(p);
                        out.labels.push(Some(Rc::clone(label)));
                    }
                }
            }
        });
    }

    fn code_name(&self, code: u64) -> Option<String> {
        let h = self.heap;
        let off = h.off.co_qualname.unwrap_or(h.off.co_name);
        strings::exact_str(h, &self.types.builtins, h.word(code + off)?)
    }

    fn type_object(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        let tflags = h.word(addr + o.tp_flags).unwrap_or(0);
        if tflags & flags::HEAPTYPE == 0 {
            return; // static types are not traversed
        }
        // A Python metaclass is traversed first (its slots), then its C base's traversal:
        // a C metaclass (ctypes') its per-class data, then every heap metaclass, itself.
        if info.heap {
            for s in info.slots.clone() {
                if let Some(p) = h.word(addr + s.offset).filter(|&p| p != 0) {
                    out.refs.push(p);
                }
            }
        }
        let c_meta = self.c_base(info.addr);
        if c_meta != self.types.builtins.type_ {
            let size = h.word(c_meta + o.tp_basicsize).unwrap_or(0);
            if size > o.heaptype_size {
                self.scan(addr, info, o.heaptype_size, size, &mut out.refs);
            }
            // Before 3.13 ctypes kept it in the class's tp_dict, a C subclass of dict whose
            // extra fields the metaclass traverses as the class's own.
            self.class_data_in_dict(addr, &mut out.refs);
        }
        if info.heap {
            out.refs.push(info.addr);
        }
        let mut offs = vec![o.tp_dict, o.tp_mro, o.tp_bases, o.tp_base];
        offs.extend(o.ht_module);
        self.fields(addr, &offs, &mut out.refs);
        let d = h.word(addr + o.tp_dict).unwrap_or(0);
        let mro = h.word(addr + o.tp_mro).unwrap_or(0);
        out.labels = out
            .refs
            .iter()
            .map(|&r| {
                if r == d {
                    Some(dict_label())
                } else if r == mro {
                    Some(MRO_LABEL.with(Rc::clone))
                } else {
                    None
                }
            })
            .collect();
    }

    /// The first type in `t`'s chain of bases that is not a Python class.
    fn c_base(&self, t: u64) -> u64 {
        let h = self.heap;
        let mut t = t;
        for _ in 0..64 {
            if !self.types.python_class(h, t) {
                return t;
            }
            match h.word(t + h.off.tp_base) {
                Some(b) if b != 0 => t = b,
                _ => break,
            }
        }
        t
    }

    /// The words after the dict part of a class's tp_dict when that is an instance of a C
    /// subclass of dict (ctypes' StgDict): data a C metaclass keeps per class.
    fn class_data_in_dict(&mut self, addr: u64, refs: &mut Vec<u64>) {
        let h = self.heap;
        let Some(d) = h.word(addr + h.off.tp_dict).filter(|&d| d != 0) else {
            return;
        };
        let Some(dict_type) = h.header(d).map(|(_, t)| t) else {
            return;
        };
        if dict_type == self.types.builtins.dict {
            return;
        }
        let (Some(id), Some(plain)) = (
            self.types.get(h, dict_type),
            self.types.get(h, self.types.builtins.dict),
        ) else {
            return;
        };
        let (info, dict_size) = (self.types.shared(id), self.types.info(plain).basicsize);
        if !info.heap && info.kind == Kind::Dict && info.basicsize > dict_size {
            self.scan(d, &info, dict_size, info.basicsize, refs);
        }
    }

    fn cfunction(&mut self, addr: u64, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        self.fields(addr, &[o.cfunc_self, o.cfunc_module], &mut out.refs);
        let ml = h.word(addr + o.cfunc_ml).unwrap_or(0);
        if let (Some(class_at), Some(meth_method)) = (o.cmethod_class, o.meth_method) {
            let fl = h.u32(ml + o.methoddef_flags).unwrap_or(0) as u64;
            if ml != 0 && fl & meth_method != 0 {
                self.fields(addr, &[class_at], &mut out.refs);
            }
        }
        out.name = h.word(ml + o.methoddef_name).and_then(|p| h.cstr(p, 1024));
    }

    /// An instance of a Python class: its own part, then its builtin base's.
    fn instance(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let mut origin: Vec<Origin> = Vec::new();
        self.instance_part(addr, info, &mut out.refs, &mut origin);
        let own = out.refs.len();
        match info.base {
            Base::Nothing | Base::Dict => {}
            Base::List => {
                self.list_items(addr, &mut out.refs);
            }
            Base::Tuple => {
                let n = self.heap.ob_size(addr).unwrap_or(0).clamp(0, 1 << 28) as u64;
                self.pointers(addr + self.heap.off.tuple_items, n, &mut out.refs);
            }
            Base::Set => self.set_keys(addr, &mut out.refs),
            Base::Weakref => self.fields(addr, &[self.heap.off.weakref_callback], &mut out.refs),
            Base::Opaque { basicsize } => {
                let before = out.refs.len();
                self.scan(addr, info, 16, basicsize, &mut out.refs);
                out.scanned = out.refs.len() > before;
            }
        }
        origin.resize(out.refs.len(), Origin::Other);
        let _ = own;
        out.labels = self.instance_labels(addr, info, &out.refs, &origin);
        if out.labels.iter().all(Option::is_none) {
            out.labels.clear();
        }
    }

    /// subtype_traverse: slots, the instance's dict or managed values, and the class.
    fn instance_part(
        &mut self,
        addr: u64,
        info: &TypeInfo,
        refs: &mut Vec<u64>,
        origin: &mut Vec<Origin>,
    ) {
        let h = self.heap;
        for s in &info.slots {
            if let Some(p) = h.word(addr + s.offset).filter(|&p| p != 0) {
                refs.push(p);
                origin.push(Origin::Slot);
            }
        }
        if info.flags & flags::MANAGED_DICT != 0 && h.facts.managed != Managed::None {
            let (dict, values) = self.managed(addr, info);
            if let Some((at, n)) = values {
                for i in 0..n {
                    if let Some(p) = h.word(at + i * 8).filter(|&p| p != 0) {
                        refs.push(p);
                        origin.push(Origin::Value);
                    }
                }
            } else if dict != 0 {
                refs.push(dict);
                origin.push(Origin::Dict);
            }
        } else if let Some(d) = self.dict_pointer(addr, info) {
            refs.push(d);
            origin.push(Origin::Dict);
        }
        if info.heap {
            refs.push(info.addr);
            origin.push(Origin::Type);
        }
    }

    /// The managed dict word and, when the attributes are in a values array, (address of
    /// the first value, count traversed).
    fn managed(&self, addr: u64, info: &TypeInfo) -> (u64, Option<(u64, u64)>) {
        let h = self.heap;
        let shared = || {
            h.word(info.addr + h.off.ht_cached_keys)
                .filter(|&k| k != 0)
                .and_then(|k| dicts::keys_nentries(h, k))
                .unwrap_or(0)
        };
        match h.facts.managed {
            Managed::None => (0, None),
            Managed::Split311 => {
                let values = h.word(addr.wrapping_sub(32)).unwrap_or(0);
                let dict = h.word(addr.wrapping_sub(24)).unwrap_or(0);
                if values != 0 {
                    (dict, Some((values, shared())))
                } else {
                    (dict, None)
                }
            }
            Managed::Tagged312 => {
                let word = h.word(addr.wrapping_sub(24)).unwrap_or(0);
                if word & 1 != 0 {
                    let values = word.wrapping_add(1);
                    (
                        0,
                        Some((values + h.off.values_items.unwrap_or(0), shared())),
                    )
                } else {
                    (word, None)
                }
            }
            Managed::Inline313 => {
                let dict = h.word(addr.wrapping_sub(24)).unwrap_or(0);
                if dict != 0 && h.facts.managed_dict_first {
                    return (dict, None);
                }
                if info.flags & flags::INLINE_VALUES != 0 {
                    let values = addr + info.basicsize;
                    let valid = h.u8(values + 3).unwrap_or(0);
                    let capacity = h.u8(values).unwrap_or(0) as u64;
                    if valid != 0 {
                        return (
                            dict,
                            Some((values + h.off.values_items.unwrap_or(8), capacity)),
                        );
                    }
                }
                (dict, None)
            }
        }
    }

    /// The `__dict__` of an instance whose class added one at `tp_dictoffset`.
    fn dict_pointer(&self, addr: u64, info: &TypeInfo) -> Option<u64> {
        let h = self.heap;
        let off = info.dictoffset;
        if off == 0 {
            return None;
        }
        // subtype_traverse visits it only when the class (not its builtin base) added it.
        let base_off = self.static_base_dictoffset(info);
        if off == base_off {
            return None;
        }
        let at = if off > 0 {
            addr + off as u64
        } else {
            let n = h.ob_size(addr)?.unsigned_abs();
            let size = (info.basicsize + n * info.itemsize + 7) & !7;
            (addr + size).checked_add_signed(off)?
        };
        h.word(at).filter(|&d| d != 0)
    }

    fn static_base_dictoffset(&self, info: &TypeInfo) -> i64 {
        let h = self.heap;
        let mut t = info.addr;
        for _ in 0..64 {
            let fl = h.word(t + h.off.tp_flags).unwrap_or(0);
            if fl & flags::HEAPTYPE == 0 {
                return h.i64(t + h.off.tp_dictoffset).unwrap_or(0);
            }
            t = match h.word(t + h.off.tp_base) {
                Some(b) if b != 0 => b,
                _ => return 0,
            };
        }
        0
    }

    /// The agent's labels for an instance (`_make_labeller`): the managed or `__dict__`
    /// pointer, the values by attribute name, the slots by name.
    fn instance_labels(
        &self,
        addr: u64,
        info: &TypeInfo,
        refs: &[u64],
        origin: &[Origin],
    ) -> Vec<Label> {
        let h = self.heap;
        let mut known: HashMap<u64, Rc<str>> = HashMap::default();
        let managed = info.flags & flags::MANAGED_DICT != 0 && h.facts.managed != Managed::None;
        if managed {
            let (dict, values) = self.managed(addr, info);
            let names = info.shared_names.as_deref();
            if dict != 0 && !matches!(h.facts.managed, Managed::Tagged312 if values.is_some()) {
                known.insert(dict, dict_label());
            }
            // Values traversed (3.13 does so even when a materialised __dict__ shares them).
            if let (Some((at, _)), Some(names)) = (values, names) {
                if !names.is_empty() {
                    // All values set, no slots: labels by position.
                    let all_named = names.iter().all(Option::is_some);
                    let positional = all_named
                        && info.slots.is_empty()
                        && refs.len() == names.len() + 1
                        && refs.last() == Some(&info.addr)
                        && origin
                            .iter()
                            .take(names.len())
                            .all(|o| matches!(o, Origin::Value));
                    if positional {
                        let mut out: Vec<Label> = names.to_vec();
                        out.push(None);
                        return out;
                    }
                    for (i, n) in names.iter().enumerate() {
                        let v = h.word(at + i as u64 * 8).unwrap_or(0);
                        match n {
                            Some(n) => known.insert(v, Rc::clone(n)),
                            None => known.remove(&v),
                        };
                    }
                }
            }
        } else if info.dictoffset > 0 {
            if let Some(d) = h.word(addr + info.dictoffset as u64).filter(|&d| d != 0) {
                known.insert(d, dict_label());
            }
        } else if info.members.is_empty() {
            return Vec::new();
        }
        for s in &info.members {
            if let Some(v) = h.word(addr + s.offset) {
                known.entry(v).or_insert_with(|| Rc::clone(&s.label));
            }
        }
        if known.is_empty() {
            return Vec::new();
        }
        refs.iter().map(|r| known.get(r).cloned()).collect()
    }

    /// gen_traverse (and async_gen_traverse's finalizer): the frame (3.8–3.10: the frame
    /// object; 3.11+: the embedded frame unless cleared), code (≤3.11), names, and the saved
    /// exception.
    fn generator(&mut self, addr: u64, info: &TypeInfo, refs: &mut Vec<u64>) {
        let h = self.heap;
        let o = h.off;
        if let Some(f) = o.gen_frame {
            self.fields(addr, &[f], refs);
        }
        if let Some(c) = o.gen_code {
            self.fields(addr, &[c], refs);
        }
        self.fields(addr, &[o.gen_name, o.gen_qualname], refs);
        if let (Some(iframe), Some(state_at), Some(cleared)) =
            (o.gen_iframe, o.gen_frame_state, o.frame_cleared)
        {
            let state = h.u8(addr + state_at).unwrap_or(cleared as u8) as i8 as i64;
            if state < cleared as i64 {
                super::frames::iframe_refs(h, addr + iframe, refs);
            }
        }
        let exc = addr + o.gen_exc_state;
        for off in [o.exc_type, Some(o.exc_value), o.exc_traceback]
            .into_iter()
            .flatten()
        {
            self.fields(exc, &[off], refs);
        }
        // Async generators also visit their finalizer (3.12+: the shared field holds either
        // the origin or the finalizer; only async generators traverse it).
        if info.addr == self.types.builtins.generators[2] {
            if let Some(f) = o.agen_finalizer.or(o.gen_origin_or_finalizer) {
                self.fields(addr, &[f], refs);
            }
        }
    }

    /// `functools._lru_cache_wrapper`: the keys and results of its list, then its other
    /// object fields (scanned past the root element), with its counters.
    fn lru_cache(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        use super::facts::source as src;
        let h = self.heap;
        if info.heap {
            out.refs.push(info.addr);
        }
        let mut link = h.word(addr + src::LRU_ELEM_NEXT).unwrap_or(0);
        let mut n = 0u64;
        while link != addr && link != 0 && n < 1 << 28 {
            self.fields(
                link,
                &[src::LRU_ELEM_KEY, src::LRU_ELEM_RESULT],
                &mut out.refs,
            );
            if let Some(lt) = h.type_of(link) {
                if h.word(lt + h.off.tp_flags).unwrap_or(0) & flags::HEAPTYPE != 0 {
                    out.refs.push(lt);
                }
            }
            link = h.word(link + src::LRU_ELEM_NEXT).unwrap_or(0);
            n += 1;
        }
        self.scan(
            addr,
            info,
            src::LRU_ROOT_SIZE,
            info.basicsize,
            &mut out.refs,
        );
        let cache = h.word(addr + src::LRU_CACHE).unwrap_or(0);
        out.len = h.i64(cache + h.off.dict_used).map(|n| n.max(0) as u64);
        out.hits = h.i64(addr + src::LRU_HITS).map(|v| v.max(0) as u64);
        out.misses = h.i64(addr + src::LRU_MISSES).map(|v| v.max(0) as u64);
        out.bound = h.i64(addr + src::LRU_MAXSIZE).filter(|&m| m >= 0);
        out.labels = self.c_labels(addr, info, &out.refs);
    }

    /// A C type nobody decodes: scan its memory for object pointers.
    fn opaque(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let h = self.heap;
        let n = if info.itemsize > 0 {
            h.ob_size(addr).unwrap_or(0).unsigned_abs()
        } else {
            0
        };
        let end = info.basicsize + n * info.itemsize;
        self.scan(addr, info, 16, end, &mut out.refs);
        if info.addr == self.types.builtins.capsule {
            self.capsule_data(addr, info, &mut out.refs);
        }
        if info.heap {
            out.refs.push(info.addr);
        }
        // A C type with a managed dict visits it (PyObject_VisitManagedDict).
        if info.flags & flags::MANAGED_DICT != 0 && h.facts.managed != Managed::None {
            let (dict, values) = self.managed(addr, info);
            match values {
                Some((at, n)) => self.pointers(at, n, &mut out.refs),
                None if dict != 0 => out.refs.push(dict),
                None => {}
            }
        }
        out.scanned = true;
        *self.scanned.entry(info.id).or_default() += 1;
        out.labels = self.c_labels(addr, info, &out.refs);
    }

    /// A capsule with a traversal (3.13+, `_PyCapsule_SetTraverse`: _socket's C API) visits
    /// objects that the data it points to holds: that block is scanned, as far as the
    /// allocator says it extends (a pymalloc block, or a malloc chunk's header).
    fn capsule_data(&mut self, addr: u64, info: &TypeInfo, refs: &mut Vec<u64>) {
        use super::facts::source as src;
        let h = self.heap;
        if info.basicsize < src::CAPSULE_TRAVERSE + 8
            || h.word(addr + src::CAPSULE_TRAVERSE).unwrap_or(0) == 0
        {
            return;
        }
        let Some(data) = h
            .word(addr + src::CAPSULE_POINTER)
            .filter(|&p| p != 0 && p % 8 == 0)
        else {
            return;
        };
        let size = self.pools.block_size(data).or_else(|| {
            // glibc: the chunk's size (low 3 bits are flags) is the word before the data.
            let chunk = h.word(data - 8)? & !7;
            (32..=1 << 20).contains(&chunk).then_some(chunk - 8)
        });
        let end = size.unwrap_or(0).min(src::CAPSULE_DATA_MAX);
        let mut at = 0;
        while at + 8 <= end {
            if let Some(p) = h.word(data + at).filter(|&p| p != 0 && p % 8 == 0) {
                if self.scanned_object(p).is_some() {
                    refs.push(p);
                }
            }
            at += 8;
        }
    }

    /// The agent's labels for a C type's instance: its `__dict__` (tp_dictoffset > 0) and the
    /// object members of the heap types in its MRO, by value (the first name wins).
    fn c_labels(&self, addr: u64, info: &TypeInfo, refs: &[u64]) -> Vec<Label> {
        let h = self.heap;
        let mut known: HashMap<u64, Rc<str>> = HashMap::default();
        if info.dictoffset > 0 {
            if let Some(d) = h.word(addr + info.dictoffset as u64).filter(|&d| d != 0) {
                known.insert(d, dict_label());
            }
        } else if info.members.is_empty() {
            return Vec::new();
        }
        for s in &info.members {
            if let Some(v) = h.word(addr + s.offset).filter(|&v| v != 0) {
                known.entry(v).or_insert_with(|| Rc::clone(&s.label));
            }
        }
        if !refs.iter().any(|r| known.contains_key(r)) {
            return Vec::new();
        }
        refs.iter().map(|r| known.get(r).cloned()).collect()
    }

    /// Scan `[from, to)` of the object for words that are valid objects, leaving out its
    /// weakref list (weak, not a reference).
    fn scan(&mut self, addr: u64, info: &TypeInfo, from: u64, to: u64, refs: &mut Vec<u64>) {
        let h = self.heap;
        let to = to.min(MAX_SCAN);
        let weaklist = weaklist_offset(h, info.addr);
        let mut at = from;
        while at + 8 <= to {
            if Some(at) != weaklist {
                if let Some(p) = h.word(addr + at) {
                    if p != 0 && p % 8 == 0 && self.scanned_object(p).is_some() {
                        refs.push(p);
                    }
                }
            }
            at += 8;
        }
    }

    /// Owned buffers, as the agent records them for an object in a pool.
    fn buffers(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        let owner = info.owner;
        let pool_or = |ptr: u64, nominal: u64| match self.pools.block_size(ptr) {
            Some(s) => (ptr, s),
            None => (ptr, nominal),
        };
        match owner {
            sizes::Owner::List => {
                let items = h.word(addr + o.list_items).unwrap_or(0);
                let allocated = h.i64(addr + o.list_allocated).unwrap_or(0).max(0) as u64;
                if items != 0 {
                    out.buffers.push(pool_or(items, allocated * 8));
                }
            }
            sizes::Owner::Set => {
                let mask = h.i64(addr + o.set_mask).unwrap_or(0).max(0) as u64;
                let table = h.word(addr + o.set_table).unwrap_or(0);
                if table != 0 && table != addr + o.set_smalltable {
                    out.buffers
                        .push(pool_or(table, (mask + 1) * o.setentry_size));
                }
            }
            sizes::Owner::ByteArray => {
                let alloc = h.i64(addr + o.bytearray_alloc).unwrap_or(0).max(0) as u64;
                let bytes = h.word(addr + o.bytearray_bytes).unwrap_or(0);
                if bytes != 0 {
                    out.buffers.push(pool_or(bytes, alloc));
                }
            }
            sizes::Owner::Dict => sizes::dict_buffers(self, addr, &mut out.buffers),
            sizes::Owner::Values => {
                if let Some(v) = sizes::values_block(h, addr) {
                    if let Some(s) = self.pools.block_size(v) {
                        out.buffers.push((v, s));
                    }
                }
            }
            sizes::Owner::None => {}
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

/// Where a referent of an instance came from (for its label).
#[derive(Clone, Copy, Debug)]
enum Origin {
    Slot,
    Value,
    Dict,
    Type,
    Other,
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
