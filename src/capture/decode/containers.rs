//! Containers: tuples' and lists' items, sets' keys, deques' blocks, dicts' entries with
//! their key labels, and what a dict subclass adds.

use super::{
    key_edge_label, weaklist_offset, Decoded, Decoder, KEY_LABEL_MAX, MAX_SCAN, SHARED_ARRAY_MIN,
};
use crate::capture::facts::source::DEQUE_BLOCKLEN;
use crate::capture::types::TypeInfo;
use crate::capture::{dicts, ints, strings};
use crate::le::u64_at;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::rc::Rc;

impl Decoder<'_, '_> {
    /// A list's items: its length, as the object says. The walk is cut (and counted) where
    /// the length passes what the list allocated or what a pool block of the array holds,
    /// or where another list already owns the array.
    pub(super) fn list_items(&mut self, addr: u64, tid: u32, refs: &mut Vec<u64>) -> u64 {
        let o = self.heap.off;
        let n = self.heap.ob_size(addr).unwrap_or(0).clamp(0, 1 << 30) as u64;
        let Some(items) = self.heap.word(addr.wrapping_add(o.list_items)) else {
            return n;
        };
        if items == 0 || n == 0 {
            return n;
        }
        let allocated = self
            .heap
            .i64(addr.wrapping_add(o.list_allocated))
            .unwrap_or(0)
            .max(0) as u64;
        let mut take = n.min(allocated);
        if let Some(block) = self.pools.block_size(items) {
            take = take.min(block / 8);
        }
        if take >= SHARED_ARRAY_MIN && !self.list_arrays.insert(items) {
            take = 0;
        }
        if take < n {
            self.cut_short(tid);
        }
        self.pointers(items, take, refs);
        n
    }

    pub(super) fn set_keys(&self, addr: u64, refs: &mut Vec<u64>) {
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
                let k = u64_at(e, at);
                if k != 0 && k != dummy {
                    refs.push(k);
                }
            }
        }
    }

    /// `collections.deque`: items block by block, left to right; cut (and counted) at a
    /// block met twice (a loop).
    pub(super) fn deque(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let h = self.heap;
        use crate::capture::facts::source as src;
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
        let mut blocks = rustc_hash::FxHashSet::default();
        while left_to_take > 0 && block != 0 {
            if !blocks.insert(block) {
                self.cut_short(info.id);
                break;
            }
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
    pub(super) fn key_label(&mut self, k: u64) -> Rc<str> {
        if let Some(l) = self.key_labels.get(&k) {
            return Rc::clone(l);
        }
        let l: Rc<str> = Rc::from(self.key_label_text(k));
        self.key_labels.insert(k, Rc::clone(&l));
        l
    }

    pub(super) fn key_label_text(&mut self, k: u64) -> String {
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
            if let Some(v) = ints::int_decimal(h, k) {
                return format!("[{v}]");
            }
            if let Some(bits) = ints::int_bits(h, k) {
                return format!("[<int bits={bits}>]");
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

    pub(super) fn dict(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
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
    pub(super) fn dict_subclass_tail(&mut self, addr: u64, info: &TypeInfo, refs: &mut Vec<u64>) {
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
}
