//! Sizes the agent records for objects outside pymalloc's pools (`sys.getsizeof`, emulated
//! per builtin type's `__sizeof__`) and the separate buffers it records for objects inside them.

use super::Decoder;
use crate::capture::dicts;
use crate::capture::facts::flags;
use crate::capture::heap::Heap;
use crate::capture::ints;
use crate::capture::types::{Kind, TypeInfo};

use crate::capture::facts::source::{DEQUE_BLOCKLEN, DEQUE_BLOCK_SIZE, DEQUE_LEFTINDEX};

/// 3.11/3.12: the block of an instance's separately allocated values array.
pub fn values_block(heap: &Heap, addr: u64) -> Option<u64> {
    let values = match heap.facts.minor {
        11 => heap.word(addr.checked_sub(32)?)?,
        12 => {
            let w = heap.word(addr.checked_sub(24)?)?;
            if w & 1 == 0 {
                return None;
            }
            w.wrapping_add(1)
        }
        _ => return None,
    };
    if values == 0 {
        return None;
    }
    let prefix = heap.u8(values - 1)? as u64;
    Some(values - prefix)
}

/// A bytearray's storage: its address and size, or `None` when it has none. Up to 3.14 a
/// plain buffer of `ob_alloc` bytes; from 3.15 a bytes object of `ob_alloc` bytes, its header
/// and NUL counted as sys.getsizeof counts them (an empty one is the interpreter's static
/// empty bytes, not the bytearray's).
pub fn bytearray_storage(heap: &Heap, addr: u64) -> Option<(u64, u64)> {
    let o = heap.off;
    let alloc = heap.i64(addr + o.bytearray_alloc).unwrap_or(0).max(0) as u64;
    let (storage, size) = match o.bytearray_bytes_object {
        Some(off) if alloc > 0 => (heap.word(addr + off)?, o.bytes_sval + alloc + 1),
        Some(_) => return None,
        None => (heap.word(addr + o.bytearray_bytes)?, alloc),
    };
    (storage != 0).then_some((storage, size))
}

/// The agent's `_dict_buffers`: the keys table (when the dict owns it) and the values array
/// (split tables), each its pool block, or else the bytes `dict.__sizeof__` leaves over.
pub fn dict_buffers(dec: &Decoder, addr: u64, out: &mut Vec<(u64, u64)>) {
    let h = dec.heap;
    let o = h.off;
    let keys = h.word(addr + o.dict_keys).unwrap_or(0);
    let vals = h.word(addr + o.dict_values).unwrap_or(0);
    let mut rest = dict_sizeof(h, addr).saturating_sub(o.dict_size);
    for (ptr, owned, is_values) in [(keys, vals == 0, false), (vals, true, true)] {
        if ptr == 0 || !owned {
            continue;
        }
        let mut ptr = ptr;
        if is_values {
            match h.facts.minor {
                11 | 12 => ptr -= h.u8(ptr - 1).unwrap_or(0) as u64,
                // 3.13+: embedded in the owning instance
                m if m >= 13 && h.u8(ptr + 2).unwrap_or(0) != 0 => continue,
                _ => {}
            }
        }
        let b = match dec.pools.block_size(ptr) {
            Some(s) => (ptr, s),
            None => {
                if rest == 0 {
                    continue;
                }
                (ptr, rest)
            }
        };
        rest = rest.saturating_sub(b.1);
        out.push(b);
    }
}

/// `dict.__sizeof__` (`_PyDict_SizeOf`).
pub fn dict_sizeof(h: &Heap, addr: u64) -> u64 {
    let o = h.off;
    let tp = h.type_of(addr).unwrap_or(0);
    let mut res = h.word(tp + o.tp_basicsize).unwrap_or(o.dict_size);
    let keys = h.word(addr + o.dict_keys).unwrap_or(0);
    let values = h.word(addr + o.dict_values).unwrap_or(0);
    if keys == 0 {
        return res;
    }
    if o.keys_log2_size.is_some() {
        // 3.11+
        if values != 0 {
            let nent = o.keys_nentries.and_then(|n| h.word(keys + n)).unwrap_or(0);
            let usable = o.keys_usable.and_then(|u| h.word(keys + u)).unwrap_or(0);
            res = res.saturating_add(nent.saturating_add(usable).saturating_mul(8));
        }
        let refcnt = o.keys_refcnt.and_then(|r| h.word(keys + r)).unwrap_or(0);
        if refcnt == 1 {
            res += dicts::keys_size(h, keys).unwrap_or(0);
        }
        return res;
    }
    let size = o
        .keys_size_legacy
        .and_then(|s| h.word(keys + s))
        .unwrap_or(0);
    let usable = dicts::usable(size);
    if values != 0 {
        res = res.saturating_add(usable.saturating_mul(8));
    }
    if h.word(keys).unwrap_or(0) == 1 {
        res += dicts::keys_size(h, keys).unwrap_or(0);
    }
    res
}

/// The largest size believed (the loader refuses objects beyond 2^48 bytes).
const MAX_PLAUSIBLE_SIZE: u64 = 1 << 47;

/// `sys.getsizeof` of an object outside the pools.
pub fn getsizeof(dec: &mut Decoder, addr: u64, tid: u32) -> u64 {
    let h = dec.heap;
    let info = dec.types.shared(tid);
    // A Python class that overrides __sizeof__ runs user code: the agent takes the C base's
    // __sizeof__ and adds the GC header.
    // Counts read from memory are untrusted (an object being changed, a misread): a size no
    // heap has falls back to the type's basic size instead of overflowing.
    let base = match sizeof(dec, addr, &info, &info.mro) {
        n if n > MAX_PLAUSIBLE_SIZE => info.basicsize,
        n => n,
    };
    if info.sizeof_overridden {
        return base
            + if info.flags & flags::HAVE_GC != 0 {
                h.off.gc_head
            } else {
                0
            };
    }
    base + getsizeof_extra(h, addr, &info)
}

/// What `sys.getsizeof` adds to `__sizeof__`.
fn getsizeof_extra(h: &Heap, addr: u64, info: &TypeInfo) -> u64 {
    let is_static_type = info.kind == Kind::Type
        && h.word(addr + h.off.tp_flags).unwrap_or(0) & flags::HEAPTYPE == 0;
    if h.facts.getsizeof_adds_preheader {
        if is_static_type && !h.facts.getsizeof_static_types_preheader {
            0
        } else {
            info.pre
        }
    } else {
        // _PyObject_IS_GC: a GC type, and for type objects only heap types.
        let gc = info.flags & flags::HAVE_GC != 0 && !is_static_type;
        if gc {
            h.off.gc_head
        } else {
            0
        }
    }
}

/// `__sizeof__` of the first builtin in the MRO that defines one.
fn sizeof(dec: &mut Decoder, addr: u64, info: &TypeInfo, chain: &[u64]) -> u64 {
    let h = dec.heap;
    let o = h.off;
    let b = &dec.types.builtins;
    let basicsize = info.basicsize;
    let default = || {
        let n = if info.itemsize > 0 {
            h.ob_size(addr).unwrap_or(0).max(0) as u64
        } else {
            0
        };
        basicsize.saturating_add(n.saturating_mul(info.itemsize))
    };
    for &c in chain {
        if c == b.int || c == b.bool_ {
            let (n, _) = ints::int_digits(h, addr).unwrap_or((0, false));
            let n = if h.facts.int_sizeof_min_one_digit {
                n.max(1)
            } else {
                n
            };
            return o.long_digits.saturating_add(n.saturating_mul(o.digit_size));
        }
        if c == b.str_ {
            return str_sizeof(h, addr);
        }
        if c == b.list {
            let allocated = h.i64(addr + o.list_allocated).unwrap_or(0).max(0) as u64;
            return basicsize.saturating_add(allocated.saturating_mul(8));
        }
        if c == b.dict {
            return dict_sizeof(h, addr);
        }
        if c == b.set || c == b.frozenset {
            let table = h.word(addr + o.set_table).unwrap_or(0);
            let mask = h.i64(addr + o.set_mask).unwrap_or(0).max(0) as u64;
            let extra = if table != addr + o.set_smalltable {
                mask.saturating_add(1).saturating_mul(o.setentry_size)
            } else {
                0
            };
            return basicsize + extra;
        }
        if c == b.bytearray {
            return basicsize.saturating_add(bytearray_storage(h, addr).map_or(0, |(_, n)| n));
        }
        if c == b.type_ {
            let fl = h.word(addr + o.tp_flags).unwrap_or(0);
            if fl & flags::HEAPTYPE == 0 {
                return o.type_size;
            }
            let keys = h.word(addr + o.ht_cached_keys).unwrap_or(0);
            let k = if keys != 0 {
                dicts::keys_size(h, keys).unwrap_or(0)
            } else {
                0
            };
            return o.heaptype_size + k;
        }
        if c == b.code {
            return code_sizeof(h, addr, info);
        }
        if c == b.frame {
            return super::frames::frame_sizeof(h, addr).unwrap_or_else(default);
        }
        if info.kind == Kind::Deque && c == info.addr {
            let left = h.i64(addr + DEQUE_LEFTINDEX).unwrap_or(0).max(0) as u64;
            let n = h.ob_size(addr).unwrap_or(0).max(0) as u64;
            let blocks = (left + n).div_ceil(DEQUE_BLOCKLEN);
            return basicsize.saturating_add(blocks.saturating_mul(DEQUE_BLOCK_SIZE));
        }
    }
    default()
}

/// `str.__sizeof__`.
fn str_sizeof(h: &Heap, addr: u64) -> u64 {
    let o = h.off;
    let len = h.i64(addr + o.str_length).unwrap_or(0).max(0) as u64;
    let state = h.u32(addr + o.str_state).unwrap_or(0) as u64;
    let kind = (state & o.str_kind_bits) >> o.str_kind_bits.trailing_zeros();
    let compact = state & o.str_compact_bit != 0;
    let ascii = state & o.str_ascii_bit != 0;
    let mut size = if compact && ascii {
        o.ascii_size + len + 1
    } else if compact {
        o.compact_size
            .saturating_add(len.saturating_add(1).saturating_mul(kind))
    } else {
        o.unicode_size
            .saturating_add(len.saturating_add(1).saturating_mul(kind))
    };
    if !(compact && ascii) {
        let utf8 = h.word(addr + o.str_utf8).unwrap_or(0);
        let data = if compact {
            addr + o.compact_size
        } else {
            h.word(addr + o.str_data).unwrap_or(0)
        };
        if utf8 != 0 && utf8 != data {
            size += h.i64(addr + o.str_utf8_length).unwrap_or(0).max(0) as u64 + 1;
        }
    }
    size
}

/// `code.__sizeof__`: the object (3.11+ with its inline bytecode) and its cell-to-argument
/// map (3.8-3.10).
fn code_sizeof(h: &Heap, addr: u64, info: &TypeInfo) -> u64 {
    let o = h.off;
    if info.itemsize > 0 {
        let n = h.ob_size(addr).unwrap_or(0).max(0) as u64;
        return info
            .basicsize
            .saturating_add(n.saturating_mul(info.itemsize))
            .saturating_add(7)
            & !7;
    }
    let mut res = info.basicsize;
    if let (Some(c2a), Some(cells)) = (o.co_cell2arg, o.co_cellvars) {
        let cell2arg = h.word(addr + c2a).unwrap_or(0);
        let cellvars = h.word(addr + cells).unwrap_or(0);
        if cell2arg != 0 && cellvars != 0 {
            res = res
                .saturating_add((h.ob_size(cellvars).unwrap_or(0).max(0) as u64).saturating_mul(8));
        }
    }
    res
}
