//! Objects of C types: generators, lru_cache wrappers, C types nobody decodes (scanned for
//! pointers, capsules followed), and the buffers objects own outside their block.

use super::{dict_label, frames, sizes, weaklist_offset, Decoded, Decoder, Label, MAX_SCAN};
use crate::capture::facts::{flags, Managed};
use crate::capture::types::{Owner, TypeInfo};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

impl Decoder<'_, '_> {
    /// gen_traverse (and async_gen_traverse's finalizer): the frame (3.8–3.10: the frame
    /// object; 3.11+: the embedded frame unless cleared), code (≤3.11), names, and the saved
    /// exception.
    pub(super) fn generator(&mut self, addr: u64, info: &TypeInfo, refs: &mut Vec<u64>) {
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
                frames::iframe_refs(h, addr + iframe, refs);
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
    pub(super) fn lru_cache(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        use crate::capture::facts::source as src;
        let h = self.heap;
        if info.heap {
            out.refs.push(info.addr);
        }
        // The list holds one link per entry of the cache's dict: no more are walked (a list
        // that loops, or runs on past its entries, is cut and counted). One link of slack: a
        // process stopped inside an update may have linked an entry its dict lacks yet.
        let cache = h.word(addr + src::LRU_CACHE).unwrap_or(0);
        let entries = h
            .i64(cache + h.off.dict_used)
            .map_or(1 << 20, |n| n.clamp(0, 1 << 28) as u64);
        let mut link = h.word(addr + src::LRU_ELEM_NEXT).unwrap_or(0);
        let mut n = 0u64;
        while link != addr && link != 0 {
            if n > entries {
                self.cut_short(info.id);
                break;
            }
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
        out.len = h.i64(cache + h.off.dict_used).map(|n| n.max(0) as u64);
        out.hits = h.i64(addr + src::LRU_HITS).map(|v| v.max(0) as u64);
        out.misses = h.i64(addr + src::LRU_MISSES).map(|v| v.max(0) as u64);
        out.bound = h.i64(addr + src::LRU_MAXSIZE).filter(|&m| m >= 0);
        out.labels = self.c_labels(addr, info, &out.refs);
    }

    /// A C type nobody decodes: scan its memory for object pointers.
    pub(super) fn opaque(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let h = self.heap;
        let n = if info.itemsize > 0 {
            h.ob_size(addr).unwrap_or(0).unsigned_abs()
        } else {
            0
        };
        let mut end = info.basicsize + n * info.itemsize;
        // A struct sequence holds `n_fields` items, hidden ones beyond its visible length
        // (os.stat_result's float times): its traversal visits them all.
        if let Some(fields) = info.struct_fields {
            end = end.max(h.off.tuple_items + fields * 8);
        }
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
    pub(super) fn capsule_data(&mut self, addr: u64, info: &TypeInfo, refs: &mut Vec<u64>) {
        use crate::capture::facts::source as src;
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
    pub(super) fn c_labels(&self, addr: u64, info: &TypeInfo, refs: &[u64]) -> Vec<Label> {
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
    pub(super) fn scan(
        &mut self,
        addr: u64,
        info: &TypeInfo,
        from: u64,
        to: u64,
        refs: &mut Vec<u64>,
    ) {
        let h = self.heap;
        let to = to.min(MAX_SCAN);
        let weaklist = weaklist_offset(h, info.addr);
        let mut at = from;
        while at + 8 <= to {
            if Some(at) != weaklist {
                if let Some(p) = h.word(addr + at) {
                    if p != 0 && p % 8 == 0 && self.scanned_object(p).is_some() {
                        refs.push(p);
                    } else if p % 8 == 1 && self.tagged_int(p - 1) {
                        // mypyc keeps an int attribute as a tagged word: a short value
                        // shifted left, or the address of an int object plus one.
                        refs.push(p - 1);
                    }
                }
            }
            at += 8;
        }
    }

    /// A numpy array that is a view holds its base (`.base`), as the agent records it with
    /// numpy's own descriptor. `PyArrayObject_fields` has kept its layout through numpy 1 and
    /// 2: head, data, nd, dimensions, strides, then base.
    pub(super) fn ndarray_base(&mut self, addr: u64, out: &mut Decoded) {
        const NDARRAY_BASE: u64 = 48;
        let Some(base) = self.heap.word(addr + NDARRAY_BASE) else {
            return;
        };
        if base != 0 && base % 8 == 0 && self.scanned_object(base).is_some() {
            out.refs.push(base);
            out.labels.push(Some(Rc::from(".base")));
        }
    }

    /// Whether `addr` holds an int object (exactly `int`: a tagged word is never a subclass).
    fn tagged_int(&mut self, addr: u64) -> bool {
        addr != 0
            && self
                .scanned_object(addr)
                .is_some_and(|t| self.types.info(t).addr == self.types.builtins.int)
    }

    /// Owned buffers, as the agent records them for an object in a pool.
    pub(super) fn buffers(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let h = self.heap;
        let o = h.off;
        let owner = info.owner;
        let pool_or = |ptr: u64, nominal: u64| match self.pools.block_size(ptr) {
            Some(s) => (ptr, s),
            None => (ptr, nominal),
        };
        match owner {
            Owner::List => {
                let items = h.word(addr + o.list_items).unwrap_or(0);
                let allocated = h.i64(addr + o.list_allocated).unwrap_or(0).max(0) as u64;
                if items != 0 {
                    out.buffers
                        .push(pool_or(items, allocated.saturating_mul(8)));
                }
            }
            Owner::Set => {
                let mask = h.i64(addr + o.set_mask).unwrap_or(0).max(0) as u64;
                let table = h.word(addr + o.set_table).unwrap_or(0);
                if table != 0 && table != addr + o.set_smalltable {
                    out.buffers
                        .push(pool_or(table, (mask + 1) * o.setentry_size));
                }
            }
            Owner::ByteArray => {
                if let Some((storage, size)) = sizes::bytearray_storage(h, addr) {
                    out.buffers.push(pool_or(storage, size));
                }
            }
            Owner::Dict => sizes::dict_buffers(self, addr, &mut out.buffers),
            Owner::Values => {
                if let Some(v) = sizes::values_block(h, addr) {
                    if let Some(s) = self.pools.block_size(v) {
                        out.buffers.push((v, s));
                    }
                }
            }
            Owner::None => {}
        }
    }
}
