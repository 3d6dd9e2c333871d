//! Line records as they appear in the file, parsed without copying where possible.
//!
//! Object lines are the bulk of a snapshot, so they are appended straight into a chunk's flat
//! columns: first by a strict fast path for the agent's canonical layout (see
//! [`super::fastpath`]), else by a serde visitor that accepts any valid JSON object.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

/// Just the kind of a line (other fields skipped).
#[derive(Deserialize)]
pub struct KindOnly<'a> {
    #[serde(borrow)]
    pub k: Cow<'a, str>,
}

#[derive(Deserialize)]
pub struct TypeLine<'a> {
    pub id: u32,
    #[serde(default)]
    pub a: u64,
    #[serde(borrow)]
    pub name: Cow<'a, str>,
    #[serde(borrow, default)]
    pub module: Option<Cow<'a, str>>,
    #[serde(default)]
    pub flags: u64,
    #[serde(default)]
    pub basicsize: u64,
    #[serde(default)]
    pub pre: u64,
    #[serde(default)]
    pub py: Option<bool>,
}

#[derive(Deserialize)]
pub struct ArenaLine {
    pub a: u64,
    #[serde(default)]
    pub index: u32,
    #[serde(default)]
    pub ntotal: u32,
    #[serde(default)]
    pub nfree: u32,
    #[serde(default)]
    pub pools: Vec<[u64; 4]>,
}

/// An allocation traceback (`tb` record): frames innermost first.
#[derive(Deserialize)]
pub struct TracebackLine {
    pub id: u32,
    pub f: Vec<(String, u32)>,
}

#[derive(Deserialize)]
pub struct RootLine<'a> {
    pub a: u64,
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
    /// For `local` roots: the frame holding the variable.
    #[serde(borrow, default)]
    pub frame: Option<Cow<'a, str>>,
}

/// Marks a size or count too large for its u32 column; the value sits in a side list.
pub const OVERFLOW: u32 = u32::MAX;

/// Flat columns of the objects of one chunk, in file order (indices are chunk-local).
#[derive(Default)]
pub struct ObjColumns<'a> {
    pub addr: Vec<u64>,
    pub type_id: Vec<u32>,
    pub size: Vec<u32>,
    pub big_size: Vec<(u32, u64)>,
    pub refcnt: Vec<u32>,
    pub len: Vec<u32>,
    pub hash: Vec<(u32, i64)>,
    /// Refs of local object i: `refs[ref_end[i-1]..ref_end[i]]`, raw addresses.
    pub refs: Vec<u64>,
    pub ref_end: Vec<u32>,
    /// (local object, ref position, local label id)
    pub labels: Vec<(u32, u32, u32)>,
    pub label_text: Vec<Cow<'a, str>>,
    label_ids: HashMap<Cow<'a, str>, u32>,
    pub names: Vec<(u32, Cow<'a, str>)>,
    pub values: Vec<(u32, String)>,
    /// (local object, address, bytes)
    pub buffers: Vec<(u32, u64, u64)>,
    pub caches: Vec<(u32, CacheInfo)>,
    /// (local object, traceback id)
    pub tracebacks: Vec<(u32, u32)>,
    /// (local object, `file:line`) where a code object's function or class body begins.
    pub defined: Vec<(u32, String)>,
}

/// What a bounded container or cache says of itself: a deque's `maxlen`, an `lru_cache`'s
/// `maxsize` and hit counts (read through their C-level accessors).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CacheInfo {
    pub bound: Option<u64>,
    pub hits: Option<u64>,
    pub misses: Option<u64>,
}

/// One object's scalar fields, before they are committed to the columns.
pub struct Row {
    pub addr: u64,
    pub type_id: u32,
    pub size: u64,
    pub refcnt: u64,
    pub len: Option<u64>,
    pub hash: Option<i64>,
}

impl<'a> ObjColumns<'a> {
    pub fn count(&self) -> usize {
        self.addr.len()
    }

    /// Index the next row will get.
    pub fn next_local(&self) -> u32 {
        self.addr.len() as u32
    }

    pub fn push_label(&mut self, local: u32, pos: u32, text: Cow<'a, str>) {
        let next = self.label_text.len() as u32;
        let id = *self.label_ids.entry(text.clone()).or_insert_with(|| next);
        if id == next {
            self.label_text.push(text);
        }
        self.labels.push((local, pos, id));
    }

    /// Commit a row whose refs (and extras) were already appended.
    pub fn commit(&mut self, row: Row) {
        let local = self.next_local();
        self.addr.push(row.addr);
        self.type_id.push(row.type_id);
        if row.size >= OVERFLOW as u64 {
            self.size.push(OVERFLOW);
            self.big_size.push((local, row.size));
        } else {
            self.size.push(row.size as u32);
        }
        self.refcnt.push(row.refcnt.min(u32::MAX as u64) as u32);
        self.len.push(
            row.len
                .map_or(OVERFLOW, |n| n.min(OVERFLOW as u64 - 1) as u32),
        );
        if let Some(h) = row.hash {
            self.hash.push((local, h));
        }
        self.ref_end.push(self.refs.len() as u32);
    }

    /// Forget the parser's interning table (not needed after parsing).
    pub fn finish_parsing(&mut self) {
        self.label_ids = HashMap::new();
    }
}

/// Parses one `o` line into the columns (the general path: any key order, escapes, values).
pub struct ObjSeed<'c, 'a> {
    pub cols: &'c mut ObjColumns<'a>,
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for ObjSeed<'_, 'a> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for ObjSeed<'_, 'a> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an object record")
    }

    fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<(), M::Error> {
        let cols = self.cols;
        let local = cols.next_local();
        let (mut addr, mut tid, mut size, mut rc) = (None, None, None, None);
        let (mut len, mut hash) = (None, None);
        let mut cache = CacheInfo::default();
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "a" => addr = Some(map.next_value::<u64>()?),
                "t" => tid = Some(map.next_value::<u32>()?),
                "s" => size = Some(bounded_size(map.next_value::<u64>()?)?),
                "rc" => {
                    let n = map.next_value::<i64>()?;
                    let n = u64::try_from(n).map_err(|_| {
                        de::Error::custom(format!("reference count {n} is negative"))
                    })?;
                    rc = Some(n);
                }
                "n" => len = Some(map.next_value::<u64>()?),
                "h" => hash = Some(map.next_value::<i64>()?),
                "r" => map.next_value_seed(RefSeq(&mut cols.refs))?,
                "l" => {
                    let labels: Vec<Option<Cow<'de, str>>> = map.next_value()?;
                    for (i, l) in labels.into_iter().enumerate() {
                        if let Some(l) = l {
                            cols.push_label(local, i as u32, l);
                        }
                    }
                }
                "name" => {
                    let n: Cow<'de, str> = map.next_value()?;
                    cols.names.push((local, n));
                }
                "v" => {
                    let v: serde_json::Value = map.next_value()?;
                    let text = match v {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    cols.values.push((local, text));
                }
                "tb" => {
                    let id: u32 = map.next_value()?;
                    cols.tracebacks.push((local, id));
                }
                "at" => {
                    let (file, line): (Cow<'de, str>, u32) = map.next_value()?;
                    cols.defined.push((local, format!("{file}:{line}")));
                }
                "bound" => cache.bound = map.next_value()?,
                "hits" => cache.hits = map.next_value()?,
                "misses" => cache.misses = map.next_value()?,
                "b" => {
                    let bufs: Vec<[u64; 2]> = map.next_value()?;
                    for [a, s] in bufs {
                        cols.buffers.push((local, a, bounded_size(s)?));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if cache != CacheInfo::default() {
            cols.caches.push((local, cache));
        }
        cols.commit(Row {
            addr: addr.ok_or_else(|| de::Error::missing_field("a"))?,
            type_id: tid.ok_or_else(|| de::Error::missing_field("t"))?,
            size: size.ok_or_else(|| de::Error::missing_field("s"))?,
            refcnt: rc.ok_or_else(|| de::Error::missing_field("rc"))?,
            len,
            hash,
        });
        Ok(())
    }
}

/// Sizes beyond this (256 TiB) are in no real heap: refused, so that sums cannot overflow.
pub const MAX_SIZE: u64 = 1 << 48;

fn bounded_size<E: de::Error>(n: u64) -> Result<u64, E> {
    if n > MAX_SIZE {
        Err(E::custom(format!(
            "size {n} bytes is larger than any heap (at most 2^48)"
        )))
    } else {
        Ok(n)
    }
}

/// Appends a JSON array of addresses to a flat vector.
struct RefSeq<'c>(&'c mut Vec<u64>);

impl<'de> DeserializeSeed<'de> for RefSeq<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for RefSeq<'_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of addresses")
    }
    fn visit_seq<S: SeqAccess<'de>>(self, mut seq: S) -> Result<(), S::Error> {
        while let Some(a) = seq.next_element::<u64>()? {
            if self.0.len() == self.0.capacity()
                && self.0.try_reserve(self.0.len().max(64)).is_err()
            {
                return Err(de::Error::custom(format!(
                    "the references of this object need more memory than there is ({} read so far)",
                    self.0.len()
                )));
            }
            self.0.push(a);
        }
        Ok(())
    }
}
