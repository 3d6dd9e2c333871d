//! Line records as they appear in the file, parsed without copying where possible.
//!
//! Object lines are the bulk of a snapshot, so they are parsed by a visitor that appends
//! straight into a chunk's flat columns instead of allocating a `Vec` per line.

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
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

#[derive(Deserialize)]
pub struct RootLine<'a> {
    pub a: u64,
    #[serde(borrow)]
    pub kind: Cow<'a, str>,
    #[serde(borrow, default)]
    pub name: Option<Cow<'a, str>>,
}

/// Flat columns of the objects of one chunk, in file order.
#[derive(Default)]
pub struct ObjColumns<'a> {
    pub addr: Vec<u64>,
    pub type_id: Vec<u32>,
    pub size: Vec<u64>,
    pub refcnt: Vec<u64>,
    pub len: Vec<u32>,
    pub hash: Vec<i64>,
    /// Refs of local object i: `refs[ref_end[i-1]..ref_end[i]]`, raw addresses.
    pub refs: Vec<u64>,
    pub ref_end: Vec<u64>,
    /// (local object, ref position, label)
    pub labels: Vec<(u32, u32, Cow<'a, str>)>,
    pub names: Vec<(u32, Cow<'a, str>)>,
    pub values: Vec<(u32, String)>,
    /// (local object, address, bytes)
    pub buffers: Vec<(u32, u64, u64)>,
}

/// Parses one `o` line into the columns. On error the columns may hold a partial row;
/// the caller discards the whole chunk.
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
        let local = cols.addr.len() as u32;
        let (mut addr, mut tid, mut size, mut rc) = (None, None, None, None);
        let (mut len, mut hash) = (u32::MAX, 0i64);
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match &*key {
                "a" => addr = Some(map.next_value::<u64>()?),
                "t" => tid = Some(map.next_value::<u32>()?),
                "s" => size = Some(map.next_value::<u64>()?),
                "rc" => rc = Some(map.next_value::<i64>()?.max(0) as u64),
                "n" => len = map.next_value::<u64>()?.min(u32::MAX as u64 - 1) as u32,
                "h" => hash = map.next_value::<i64>()?,
                "r" => map.next_value_seed(RefSeq(&mut cols.refs))?,
                "l" => {
                    let labels: Vec<Option<Cow<'de, str>>> = map.next_value()?;
                    for (i, l) in labels.into_iter().enumerate() {
                        if let Some(l) = l {
                            cols.labels.push((local, i as u32, l));
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
                "b" => {
                    let bufs: Vec<[u64; 2]> = map.next_value()?;
                    for [a, s] in bufs {
                        cols.buffers.push((local, a, s));
                    }
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        let addr = addr.ok_or_else(|| de::Error::missing_field("a"))?;
        let tid = tid.ok_or_else(|| de::Error::missing_field("t"))?;
        cols.addr.push(addr);
        cols.type_id.push(tid);
        cols.size
            .push(size.ok_or_else(|| de::Error::missing_field("s"))?);
        cols.refcnt
            .push(rc.ok_or_else(|| de::Error::missing_field("rc"))?);
        cols.len.push(len);
        cols.hash.push(hash);
        cols.ref_end.push(cols.refs.len() as u64);
        Ok(())
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
            self.0.push(a);
        }
        Ok(())
    }
}
