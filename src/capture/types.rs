//! The type table: which addresses are type objects, and for each, what the snapshot says of
//! it (name, module, flags, sizes, pre-header) and how its instances are decoded.
//!
//! A word is a type when its own type chain ends at `type` (a metaclass derives from it) and
//! it is ready; names are read the way `type.__module__` and `type.__qualname__` read them
//! (a heap type's `__module__` from its dict, a static type's from its `tp_name`).

pub use super::builtins::Builtins;
use super::facts::{flags, Managed};
use super::heap::Heap;
use super::strings;
use rustc_hash::FxHashMap as HashMap;

/// How the instances of a type are decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Str,
    Bytes,
    Int,
    Float,
    /// No references (None, bools, complex, static singletons).
    Leaf,
    Tuple,
    List,
    Set,
    Dict,
    /// 3.15's frozendict: a dict's table, traversed as such, without the agent's dict labels.
    FrozenDict,
    Module,
    Function,
    Code,
    Type,
    Cell,
    Method,
    CFunction,
    Frame,
    Weakref,
    /// A generator, coroutine or async generator.
    Generator,
    /// `functools._lru_list_elem`: its key and result.
    LruElem,
    /// A descriptor (`PyDescr_COMMON`): its traversal visits only its owning type.
    Descriptor,
    ByteArray,
    Deque,
    LruCache,
    /// An instance of a Python class: slots, `__dict__` or managed values, and the builtin
    /// base part below.
    Instance,
    /// A C type nobody decodes: its memory is scanned for object pointers.
    Opaque,
}

/// The builtin part of an instance of a Python class (its first non-heap base).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Base {
    /// `object`, or a base with no references.
    Nothing,
    List,
    Tuple,
    Set,
    Dict,
    /// A weak reference (only its callback is a reference).
    Weakref,
    /// A C base nobody decodes: scan `[16, basicsize)` of it.
    Opaque {
        basicsize: u64,
    },
}

/// One slot of a Python class (`__slots__` entry, `T_OBJECT_EX` member).
#[derive(Clone, Debug)]
pub struct Slot {
    pub offset: u64,
    pub label: std::rc::Rc<str>,
}

/// What the table knows of one type.
#[derive(Clone, Debug)]
pub struct TypeInfo {
    pub id: u32,
    pub addr: u64,
    pub name: String,
    pub module: String,
    pub flags: u64,
    pub basicsize: u64,
    pub itemsize: u64,
    /// Bytes of pre-header before an instance (GC header, managed dict/weakref words).
    pub pre: u64,
    pub kind: Kind,
    pub base: Base,
    pub heap: bool,
    /// Instances' `__dict__` pointer offset (> 0), for classes without a managed dict.
    pub dictoffset: i64,
    /// `__slots__` of the Python classes in the chain (traversed by `subtype_traverse`).
    pub slots: Vec<Slot>,
    /// Every object member of the heap types in the MRO (slots and C members), in MRO
    /// order: what the agent labels referents with (first name wins).
    pub members: Vec<Slot>,
    /// 3.11+: attribute labels (`.name`) in values order (the class's shared keys).
    pub shared_names: Option<Vec<Option<std::rc::Rc<str>>>>,
    /// The separate buffer its instances own (by its MRO).
    pub owner: Owner,
    /// Its MRO (`tp_mro`).
    pub mro: Vec<u64>,
    /// A Python class in the MRO defines `__sizeof__` (user code the agent does not run).
    pub sizeof_overridden: bool,
    /// Made by a `class` statement (its traversal is `subtype_traverse`).
    pub python_class: bool,
    /// A struct sequence (`os.stat_result`, `time.struct_time`): its `n_fields`, the items
    /// its instances hold, hidden ones beyond their visible length included.
    pub struct_fields: Option<u64>,
    /// numpy's array type or a subclass of it: a view holds its base.
    pub ndarray: bool,
}

/// More fields than any struct sequence has (os.stat_result has 19 to 23): a type that says
/// more is misread.
const MAX_STRUCT_FIELDS: i128 = 256;

/// The table of validated types, by address.
pub struct Types {
    pub builtins: Builtins,
    /// `subtype_traverse`, the traversal of every class a `class` statement creates (learnt
    /// from one such class): a heap type that uses it is traversed like a Python class
    /// (slots, `__dict__`, type, then its base); one with its own is a C type.
    pub subtype_traverse: u64,
    by_addr: HashMap<u64, Option<u32>>,
    /// Recently asked types (direct-mapped): most objects share a handful of types.
    recent: [(u64, u32); 64],
    pub infos: Vec<std::rc::Rc<TypeInfo>>,
}

/// `T_OBJECT_EX`, the member type of `__slots__` entries; `T_OBJECT`, of C object fields.
const T_OBJECT_EX: u32 = 16;
const T_OBJECT: u32 = 6;
/// The deepest metaclass chain accepted.
const MAX_META: usize = 16;

impl Types {
    pub fn new(builtins: Builtins) -> Types {
        Types {
            builtins,
            subtype_traverse: 0,
            by_addr: HashMap::default(),
            recent: [(0, 0); 64],
            infos: Vec::new(),
        }
    }

    /// The type id of the type object at `addr`, validating and describing it the first
    /// time; None when `addr` is not a type.
    #[inline]
    pub fn get(&mut self, heap: &Heap, addr: u64) -> Option<u32> {
        let slot = ((addr >> 4) & 63) as usize;
        if self.recent[slot].0 == addr && addr != 0 {
            return Some(self.recent[slot].1);
        }
        let found = match self.by_addr.get(&addr) {
            Some(known) => *known,
            None => {
                let found = self.describe(heap, addr);
                self.by_addr.insert(addr, found);
                found
            }
        };
        if let Some(id) = found {
            self.recent[slot] = (addr, id);
        }
        found
    }

    pub fn info(&self, id: u32) -> &TypeInfo {
        &self.infos[id as usize]
    }

    /// A cheap handle on a type's facts (no copy of its names and slots).
    pub fn shared(&self, id: u32) -> std::rc::Rc<TypeInfo> {
        std::rc::Rc::clone(&self.infos[id as usize])
    }

    /// Whether `addr` is a type object: it is ready, and its type's chain of bases reaches
    /// `type` (every metaclass derives from it).
    fn is_type(&self, heap: &Heap, addr: u64) -> bool {
        let o = heap.off;
        let Some((_, meta)) = heap.header(addr) else {
            return false;
        };
        let Some(fl) = heap.word(addr.wrapping_add(o.tp_flags)) else {
            return false;
        };
        // Not ready: only a static type whose type is `type` itself (3.8's lru_list_elem
        // is never readied).
        if fl & flags::READY == 0 && meta != self.builtins.type_ {
            return false;
        }
        let mut m = meta;
        for _ in 0..MAX_META {
            if m == self.builtins.type_ {
                return true;
            }
            match heap.word(m.wrapping_add(o.tp_flags)) {
                Some(mf) if mf & flags::TYPE_SUBCLASS != 0 => {}
                _ => return false,
            }
            m = match heap.word(m.wrapping_add(o.tp_base)) {
                Some(b) if b != 0 => b,
                _ => return false,
            };
        }
        false
    }

    fn describe(&mut self, heap: &Heap, addr: u64) -> Option<u32> {
        if !self.is_type(heap, addr) {
            return None;
        }
        let o = heap.off;
        let tflags = heap.word(addr.wrapping_add(o.tp_flags))?;
        let basicsize = heap.word(addr.wrapping_add(o.tp_basicsize))?;
        let itemsize = heap.word(addr.wrapping_add(o.tp_itemsize))?;
        let heaptype = tflags & flags::HEAPTYPE != 0;
        let tp_name = heap
            .word(addr + o.tp_name)
            .and_then(|p| heap.cstr(p, 1024))
            .unwrap_or_else(|| "?".into());
        let (module, qualname) = if heaptype {
            // A heap type whose `__module__` is not a string (Cython's shared types) is named
            // by its tp_name's module, as the agent names it.
            let module = heap
                .word(addr + o.tp_dict)
                .and_then(|d| super::dicts::get_str_item(heap, &self.builtins, d, "__module__"))
                .and_then(|m| strings::exact_str(heap, &self.builtins, m))
                .or_else(|| tp_name.rfind('.').map(|i| tp_name[..i].to_string()))
                .unwrap_or_else(|| "?".into());
            let qualname = heap
                .word(addr + o.ht_qualname)
                .and_then(|q| strings::exact_str(heap, &self.builtins, q))
                .unwrap_or_else(|| "?".into());
            (module, qualname)
        } else {
            match tp_name.rfind('.') {
                Some(i) => (tp_name[..i].to_string(), tp_name[i + 1..].to_string()),
                None => ("builtins".to_string(), tp_name.clone()),
            }
        };
        let name = if module == "builtins" {
            qualname
        } else {
            format!("{module}.{qualname}")
        };
        let id = self.infos.len() as u32;
        let (kind, base) = self.kind_of(heap, addr, &tp_name);
        let dictoffset = heap.i64(addr.wrapping_add(o.tp_dictoffset)).unwrap_or(0);
        let slots = if kind == Kind::Instance {
            self.slots(heap, addr)
        } else {
            Vec::new()
        };
        let members = self.members(heap, addr);
        let shared_names = if kind == Kind::Instance
            && heap.facts.managed != Managed::None
            && tflags & flags::MANAGED_DICT != 0
        {
            shared_key_names(heap, &self.builtins, addr)
        } else {
            None
        };
        let mut info = TypeInfo {
            id,
            addr,
            name,
            module,
            flags: tflags,
            basicsize,
            itemsize,
            pre: heap.facts.preheader(tflags, o.gc_head),
            kind,
            base,
            heap: heaptype,
            dictoffset,
            slots,
            members,
            shared_names,
            owner: Owner::None,
            mro: mro(heap, addr),
            sizeof_overridden: false,
            python_class: heaptype && self.subtype_traverse != 0 && self.python_class(heap, addr),
            struct_fields: None,
            ndarray: false,
        };
        info.ndarray = info.mro.iter().any(|&t| {
            heap.word(t.wrapping_add(o.tp_name))
                .and_then(|p| heap.cstr(p, 64))
                .is_some_and(|n| n == "numpy.ndarray")
        });
        info.struct_fields = self.struct_fields(heap, &info);
        info.owner = buffer_owner(heap, &self.builtins, &info);
        info.sizeof_overridden = info.mro.iter().any(|&c| {
            heap.word(c.wrapping_add(o.tp_flags)).unwrap_or(0) & flags::HEAPTYPE != 0
                && heap
                    .word(c + o.tp_dict)
                    .and_then(|d| super::dicts::get_str_item(heap, &self.builtins, d, "__sizeof__"))
                    .is_some()
        });
        self.infos.push(std::rc::Rc::new(info));
        Some(id)
    }

    /// `n_fields` of a struct sequence type: a C subclass of tuple (not a class statement's)
    /// whose namespace holds the int `n_fields`, at most what a tuple's items can be.
    fn struct_fields(&self, heap: &Heap, info: &TypeInfo) -> Option<u64> {
        if info.python_class
            || info.addr == self.builtins.tuple
            || !info.mro.contains(&self.builtins.tuple)
            || info.itemsize != 8
        {
            return None;
        }
        let dict = heap.word(info.addr.wrapping_add(heap.off.tp_dict))?;
        let n = super::dicts::get_str_item(heap, &self.builtins, dict, "n_fields")?;
        let (_, t) = heap.header(n)?;
        if t != self.builtins.int {
            return None;
        }
        let n = super::ints::small_int(heap, n)?;
        (0..=MAX_STRUCT_FIELDS).contains(&n).then_some(n as u64)
    }

    /// The decoding kind of a type, by its own identity first, then by its bases.
    fn kind_of(&self, heap: &Heap, addr: u64, tp_name: &str) -> (Kind, Base) {
        let b = &self.builtins;
        let exact = [
            (b.str_, Kind::Str),
            (b.bytes, Kind::Bytes),
            (b.int, Kind::Int),
            (b.bool_, Kind::Leaf),
            (b.float, Kind::Float),
            (b.complex, Kind::Leaf),
            (b.tuple, Kind::Tuple),
            (b.list, Kind::List),
            (b.set, Kind::Set),
            (b.frozenset, Kind::Set),
            (b.dict, Kind::Dict),
            (b.module, Kind::Module),
            (b.function, Kind::Function),
            (b.code, Kind::Code),
            (b.type_, Kind::Type),
            (b.cell, Kind::Cell),
            (b.method, Kind::Method),
            (b.cfunction, Kind::CFunction),
            (b.cmethod, Kind::CFunction),
            (b.frame, Kind::Frame),
            (b.weakref, Kind::Weakref),
            (b.weakproxy, Kind::Weakref),
            (b.weakcallableproxy, Kind::Weakref),
            (b.bytearray, Kind::ByteArray),
        ];
        if let Some((_, k)) = exact.iter().find(|(a, _)| *a != 0 && *a == addr) {
            return (*k, Base::Nothing);
        }
        if b.descriptors.iter().any(|&d| d != 0 && d == addr) {
            return (Kind::Descriptor, Base::Nothing);
        }
        if b.generators.iter().any(|&g| g != 0 && g == addr) {
            return (Kind::Generator, Base::Nothing);
        }
        if addr == b.moduledef {
            return (Kind::Leaf, Base::Nothing);
        }
        if b.frozendict != 0 && addr == b.frozendict {
            return (Kind::FrozenDict, Base::Nothing);
        }
        match tp_name {
            "collections.deque" => return (Kind::Deque, Base::Nothing),
            "functools._lru_cache_wrapper" => return (Kind::LruCache, Base::Nothing),
            "functools._lru_list_elem" => return (Kind::LruElem, Base::Nothing),
            // Static singletons' types; a class of C code may share the name (mypy's own
            // `mypy.types.NoneType`, compiled by mypyc, has tp_name "NoneType").
            "NoneType" | "NotImplementedType" | "ellipsis"
                if heap.word(addr.wrapping_add(heap.off.tp_flags)).unwrap_or(0)
                    & flags::HEAPTYPE
                    == 0 =>
            {
                return (Kind::Leaf, Base::Nothing)
            }
            _ => {}
        }
        // Subclasses: a dict or a type anywhere among the bases decides, as it does for the
        // agent; otherwise a Python class is an instance over its first builtin base.
        let o = heap.off;
        let mut chain = Vec::new();
        let mut t = addr;
        for _ in 0..64 {
            chain.push(t);
            match heap.word(t.wrapping_add(o.tp_base)) {
                Some(n) if n != 0 => t = n,
                _ => break,
            }
        }
        if chain.contains(&b.dict) {
            return (Kind::Dict, Base::Dict);
        }
        if chain.contains(&b.type_) {
            return (Kind::Type, Base::Nothing);
        }
        if !self.python_class(heap, addr) {
            return (Kind::Opaque, Base::Nothing);
        }
        // The first base that is not a Python class gives the builtin part.
        let first_c = chain
            .iter()
            .copied()
            .find(|&t| !self.python_class(heap, t))
            .unwrap_or(b.object);
        let base = match first_c {
            t if t == b.object => Base::Nothing,
            t if t == b.list => Base::List,
            t if t == b.tuple => Base::Tuple,
            t if t == b.set || t == b.frozenset => Base::Set,
            t if t == b.int || t == b.str_ || t == b.bytes || t == b.float || t == b.complex => {
                Base::Nothing
            }
            t if t == b.weakref => Base::Weakref,
            t => Base::Opaque {
                basicsize: heap.word(t.wrapping_add(o.tp_basicsize)).unwrap_or(0),
            },
        };
        (Kind::Instance, base)
    }

    /// Whether a type is traversed like a class made by a `class` statement (a heap type
    /// whose traversal is `subtype_traverse`), as opposed to a static type or a C type with
    /// its own traversal.
    pub fn python_class(&self, heap: &Heap, t: u64) -> bool {
        let fl = heap.word(t.wrapping_add(heap.off.tp_flags)).unwrap_or(0);
        if fl & flags::HEAPTYPE == 0 {
            return false;
        }
        self.subtype_traverse == 0
            || heap.word(t.wrapping_add(heap.off.tp_traverse)) == Some(self.subtype_traverse)
    }

    /// `__slots__` members of the heap types in the chain (name, offset), most derived first.
    fn slots(&self, heap: &Heap, addr: u64) -> Vec<Slot> {
        let o = heap.off;
        let mut out = Vec::new();
        let mut t = addr;
        for _ in 0..64 {
            if !self.python_class(heap, t) {
                break;
            }
            // Members follow the heap type object; Py_SIZE(type) counts them.
            let n = heap.ob_size(t).unwrap_or(0).clamp(0, 4096) as u64;
            let meta = heap.type_of(t).unwrap_or(0);
            let meta_size = heap
                .word(meta.wrapping_add(o.tp_basicsize))
                .unwrap_or(o.heaptype_size);
            let members = t + meta_size;
            for i in 0..n {
                let m = members + i * o.member_size;
                let Some(kind) = heap.u32(m.wrapping_add(o.member_type)) else {
                    break;
                };
                if kind != T_OBJECT_EX {
                    continue;
                }
                let (Some(name), Some(offset)) = (
                    heap.word(m.wrapping_add(o.member_name))
                        .and_then(|p| heap.cstr(p, 256)),
                    heap.i64(m.wrapping_add(o.member_offset)),
                ) else {
                    continue;
                };
                if offset > 0 {
                    out.push(Slot {
                        offset: offset as u64,
                        label: format!(".{name}").into(),
                    });
                }
            }
            match heap.word(t.wrapping_add(o.tp_base)) {
                Some(b) if b != 0 => t = b,
                _ => break,
            }
        }
        out
    }
}

impl Types {
    /// Object members (`T_OBJECT`, `T_OBJECT_EX`) of every heap type in the MRO, in order.
    fn members(&self, heap: &Heap, addr: u64) -> Vec<Slot> {
        let o = heap.off;
        let mut out = Vec::new();
        for t in mro(heap, addr) {
            let fl = heap.word(t.wrapping_add(o.tp_flags)).unwrap_or(0);
            if fl & flags::HEAPTYPE == 0 {
                continue;
            }
            let n = heap.ob_size(t).unwrap_or(0).clamp(0, 4096) as u64;
            let meta = heap.type_of(t).unwrap_or(0);
            let meta_size = heap
                .word(meta.wrapping_add(o.tp_basicsize))
                .unwrap_or(o.heaptype_size);
            for i in 0..n {
                let m = t + meta_size + i * o.member_size;
                let Some(kind) = heap.u32(m.wrapping_add(o.member_type)) else {
                    break;
                };
                if kind != T_OBJECT_EX && kind != T_OBJECT {
                    continue;
                }
                if let (Some(name), Some(offset)) = (
                    heap.word(m.wrapping_add(o.member_name))
                        .and_then(|p| heap.cstr(p, 256)),
                    heap.i64(m.wrapping_add(o.member_offset)),
                ) {
                    if offset > 0 {
                        out.push(Slot {
                            offset: offset as u64,
                            label: format!(".{name}").into(),
                        });
                    }
                }
            }
        }
        out
    }
}

/// 3.11+: the attribute names of a class's shared keys, in values order.
fn shared_key_names(heap: &Heap, b: &Builtins, tp: u64) -> Option<Vec<Option<std::rc::Rc<str>>>> {
    let o = heap.off;
    let keys = heap.word(tp.wrapping_add(o.ht_cached_keys))?;
    if keys == 0 {
        return None;
    }
    let entries = super::dicts::keys_entries(heap, keys)?;
    Some(
        entries
            .iter()
            .map(|&(k, _)| strings::exact_str(heap, b, k).map(|n| format!(".{n}").into()))
            .collect(),
    )
}

/// The separate buffer an object owns, decided like the agent: by the first of list, set,
/// frozenset, bytearray or dict among its type's MRO; 3.11/3.12 managed-dict instances own
/// their values array.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Owner {
    None,
    List,
    Set,
    ByteArray,
    Dict,
    Values,
}

/// The items of a type's `tp_mro` tuple.
pub fn mro(heap: &Heap, tp: u64) -> Vec<u64> {
    let Some(t) = heap
        .word(tp.wrapping_add(heap.off.tp_mro))
        .filter(|&t| t != 0)
    else {
        return vec![tp];
    };
    let n = heap.ob_size(t).unwrap_or(0).clamp(0, 256) as u64;
    (0..n)
        .filter_map(|i| heap.word(t.wrapping_add(heap.off.tuple_items + i * 8)))
        .collect()
}

pub fn buffer_owner(heap: &Heap, b: &Builtins, info: &TypeInfo) -> Owner {
    for &c in &info.mro {
        if c == b.list {
            return Owner::List;
        }
        if c == b.set || c == b.frozenset {
            return Owner::Set;
        }
        if c == b.bytearray {
            return Owner::ByteArray;
        }
        if c == b.dict {
            return Owner::Dict;
        }
    }
    let managed_values = matches!(heap.facts.managed, Managed::Split311 | Managed::Tagged312)
        && info.flags & flags::MANAGED_DICT != 0;
    if managed_values {
        Owner::Values
    } else {
        Owner::None
    }
}
