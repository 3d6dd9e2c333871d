//! Dict tables read from memory, in both layouts: 3.8–3.10 (`dk_size`, `dk_lookup`, 24-byte
//! entries) and 3.11+ (`dk_log2_size`, `dk_kind`, 16-byte entries for all-string keys),
//! combined or split (values in `ma_values`, keys shared with the class).

use super::builtins::Builtins;
use super::heap::Heap;
use super::strings;
use crate::le::u64_at;

/// The largest table decoded (a corrupt size must not allocate the world).
const MAX_ENTRIES: u64 = 1 << 28;

/// A dict's live entries, in entry order.
pub struct Table {
    /// (key, value) for every entry with a value.
    pub entries: Vec<(u64, u64)>,
    /// The keys table is "general" (keys of any type: traversal visits keys too).
    pub general: bool,
    /// The values live apart from the keys (a split table).
    pub split: bool,
    /// The keys object.
    pub keys: u64,
}

/// Raw entries of a keys object: (key, value) per entry slot in order (value 0 in split
/// tables), and whether the kind is general.
pub fn keys_entries_kind(heap: &Heap, keys: u64) -> Option<(Vec<(u64, u64)>, bool)> {
    let o = heap.off;
    if let (Some(log2), Some(log2_index), Some(kind_at), Some(nent_at), Some(idx_at)) = (
        o.keys_log2_size,
        o.keys_log2_index_bytes,
        o.keys_kind,
        o.keys_nentries,
        o.keys_indices,
    ) {
        // 3.11+: kind 0 general, 1 unicode, 2 split.
        let log2_size = heap.u8(keys.wrapping_add(log2))? as u64;
        let log2_index = heap.u8(keys.wrapping_add(log2_index))? as u64;
        let kind = heap.u8(keys.wrapping_add(kind_at))?;
        let n = heap.word(keys.wrapping_add(nent_at))?;
        if log2_size > 30 || log2_index > 33 || n > MAX_ENTRIES || n > (1 << log2_size) {
            return None;
        }
        let general = kind == 0;
        let (esize, ekey, evalue) = if general {
            (o.entry_size, o.entry_key, o.entry_value)
        } else {
            o.unicode_entry()
        };
        let start = keys.wrapping_add(idx_at + (1u64 << log2_index));
        let raw = heap.bytes(start, (n * esize) as usize)?;
        let word = |e: usize, off: u64| {
            let at = e * esize as usize + off as usize;
            u64_at(raw, at)
        };
        let out = (0..n as usize)
            .map(|e| (word(e, ekey), word(e, evalue)))
            .collect();
        return Some((out, general));
    }
    // 3.8-3.10.
    let size = heap.word(keys.wrapping_add(o.keys_size_legacy?))?;
    let n = heap.word(keys.wrapping_add(o.keys_nentries_legacy?))?;
    if size == 0 || size > (1 << 30) || !size.is_power_of_two() || n > size {
        return None;
    }
    let width = match size {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 4,
        _ => 8,
    };
    let start = keys.wrapping_add(o.keys_indices_legacy? + size * width);
    let esize = o.entry_size;
    let raw = heap.bytes(start, (n * esize) as usize)?;
    let word = |e: usize, off: u64| {
        let at = e * esize as usize + off as usize;
        u64_at(raw, at)
    };
    let out = (0..n as usize)
        .map(|e| (word(e, o.entry_key), word(e, o.entry_value)))
        .collect();
    // General or not is decided by the caller from dk_lookup (3.8-3.10).
    Some((out, false))
}

/// The number of entry slots of a keys object (`dk_nentries`).
pub fn keys_nentries(heap: &Heap, keys: u64) -> Option<u64> {
    let o = heap.off;
    let at = o.keys_nentries.or(o.keys_nentries_legacy)?;
    heap.word(keys.wrapping_add(at))
        .filter(|&n| n <= MAX_ENTRIES)
}

/// Raw entries of a keys object (see [`keys_entries_kind`]).
pub fn keys_entries(heap: &Heap, keys: u64) -> Option<Vec<(u64, u64)>> {
    keys_entries_kind(heap, keys).map(|(e, _)| e)
}

/// The table of the dict at `dict`. `lookdict` is the address of 3.8–3.10's general lookup
/// function when known (a table using it is general).
pub fn table(heap: &Heap, dict: u64, lookdict: Option<u64>) -> Option<Table> {
    let o = heap.off;
    let keys = heap.word(dict.wrapping_add(o.dict_keys))?;
    let values = heap.word(dict.wrapping_add(o.dict_values))?;
    if keys == 0 {
        return None;
    }
    let (raw, mut general) = keys_entries_kind(heap, keys)?;
    if let Some(lookup) = o.keys_lookup {
        general = lookdict.is_some_and(|l| heap.word(keys.wrapping_add(lookup)) == Some(l));
    }
    let split = values != 0;
    let entries = if split {
        let base = values + o.values_items.unwrap_or(0);
        let vals = heap.bytes(base, raw.len() * 8)?;
        raw.iter()
            .enumerate()
            .map(|(i, &(k, _))| {
                let v = u64_at(vals, i * 8);
                (k, v)
            })
            .filter(|&(k, v)| k != 0 && v != 0)
            .collect()
    } else {
        raw.into_iter().filter(|&(k, v)| k != 0 && v != 0).collect()
    };
    Some(Table {
        entries,
        general,
        split,
        keys,
    })
}

/// The value stored under the string key `name` in a dict (linear: for small dicts).
pub fn get_str_item(heap: &Heap, b: &Builtins, dict: u64, name: &str) -> Option<u64> {
    if dict == 0 {
        return None;
    }
    let t = table(heap, dict, None)?;
    t.entries
        .iter()
        .find(|&&(k, _)| strings::str_equals(heap, b, k, name))
        .map(|&(_, v)| v)
}

/// Bytes of a keys object (`_PyDict_KeysSize`): header, indices and usable entries.
pub fn keys_size(heap: &Heap, keys: u64) -> Option<u64> {
    let o = heap.off;
    if let (Some(log2), Some(log2_index), Some(kind_at), Some(st)) = (
        o.keys_log2_size,
        o.keys_log2_index_bytes,
        o.keys_kind,
        o.keys_struct,
    ) {
        // A table of more than 2^30 slots is no dict's (and a shift past 63 is garbage).
        let pow2 = |at: u64| {
            let log = heap.u8(keys.wrapping_add(at))?;
            (log <= 33).then(|| 1u64 << log)
        };
        let size = pow2(log2)?;
        let index_bytes = pow2(log2_index)?;
        let esize = if heap.u8(keys.wrapping_add(kind_at))? == 0 {
            o.entry_size
        } else {
            o.unicode_entry().0
        };
        return Some(st + index_bytes + usable(size) * esize);
    }
    let size = heap.word(keys.wrapping_add(o.keys_size_legacy?))?;
    if size == 0 || size > (1 << 30) || !size.is_power_of_two() {
        return None;
    }
    let width = match size {
        0..=0xff => 1,
        0x100..=0xffff => 2,
        0x1_0000..=0xffff_ffff => 4,
        _ => 8,
    };
    Some(o.keys_struct_legacy? + width * size + usable(size) * o.entry_size)
}

/// `USABLE_FRACTION`: two thirds of a table's slots.
pub fn usable(size: u64) -> u64 {
    (size << 1) / 3
}
