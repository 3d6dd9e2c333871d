//! Instances of Python classes: slots, the managed dict or values, the class, and the
//! agent's labels for them (attribute names).

use super::{dict_label, Decoded, Decoder, Label};
use crate::capture::dicts;
use crate::capture::facts::managed::{
    DICT_BEFORE, INLINE_CAPACITY_AT, INLINE_ITEMS_AT, INLINE_VALID_AT, SPLIT_VALUES_BEFORE,
};
use crate::capture::facts::{flags, Managed};
use crate::capture::types::{Base, TypeInfo};
use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

impl Decoder<'_, '_> {
    /// An instance of a Python class: its own part, then its builtin base's.
    pub(super) fn instance(&mut self, addr: u64, info: &TypeInfo, out: &mut Decoded) {
        let mut origin: Vec<Origin> = Vec::new();
        self.instance_part(addr, info, &mut out.refs, &mut origin);
        let own = out.refs.len();
        match info.base {
            Base::Nothing | Base::Dict => {}
            Base::List => {
                self.list_items(addr, info.id, &mut out.refs);
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
    pub(super) fn instance_part(
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
    pub(super) fn managed(&self, addr: u64, info: &TypeInfo) -> (u64, Option<(u64, u64)>) {
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
                let values = h.word(addr.wrapping_sub(SPLIT_VALUES_BEFORE)).unwrap_or(0);
                let dict = h.word(addr.wrapping_sub(DICT_BEFORE)).unwrap_or(0);
                if values != 0 {
                    (dict, Some((values, shared())))
                } else {
                    (dict, None)
                }
            }
            Managed::Tagged312 => {
                let word = h.word(addr.wrapping_sub(DICT_BEFORE)).unwrap_or(0);
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
                let dict = h.word(addr.wrapping_sub(DICT_BEFORE)).unwrap_or(0);
                if dict != 0 && h.facts.managed_dict_first {
                    return (dict, None);
                }
                if info.flags & flags::INLINE_VALUES != 0 {
                    let values = addr + info.basicsize;
                    let valid = h.u8(values + INLINE_VALID_AT).unwrap_or(0);
                    let capacity = h.u8(values + INLINE_CAPACITY_AT).unwrap_or(0) as u64;
                    if valid != 0 {
                        return (
                            dict,
                            Some((
                                values + h.off.values_items.unwrap_or(INLINE_ITEMS_AT),
                                capacity,
                            )),
                        );
                    }
                }
                (dict, None)
            }
        }
    }

    /// The `__dict__` of an instance whose class added one at `tp_dictoffset`.
    pub(super) fn dict_pointer(&self, addr: u64, info: &TypeInfo) -> Option<u64> {
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

    pub(super) fn static_base_dictoffset(&self, info: &TypeInfo) -> i64 {
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
    pub(super) fn instance_labels(
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
}

/// Where a referent of an instance came from (for its label).
#[derive(Clone, Copy, Debug)]
pub(super) enum Origin {
    Slot,
    Value,
    Dict,
    Type,
    Other,
}
