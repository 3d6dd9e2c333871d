//! What the sections of an index hold, both ways: a loaded [`Snapshot`] (and what the graph
//! searches found) into sections, and sections back into a snapshot whose big columns stay
//! in the mapped file. Everything read back is checked (`check`) before it is used.

use super::check;
use super::file::{IndexFile, Section, Writer};
use crate::column::Column;
use crate::graph::{GroupRetained, Searched, SharedBlock};
use crate::snapshot::{
    Arena, CacheInfo, EndRecord, Header, Loaded, ObjId, Objects, OwnedBuffer, Pool, Root, Snapshot,
    Totals, Traceback, TypeInfo,
};
use serde::{Deserialize, Serialize};
use std::path::Path;

// Section kinds. The snapshot's (stage 1)...
const META: u32 = 1;
const ADDR: u32 = 2;
const TYPE_ID: u32 = 3;
const SIZE: u32 = 4;
const REFCNT: u32 = 5;
const LEN: u32 = 6;
const REF_START: u32 = 7;
const REF_TARGETS: u32 = 8;
const EDGE_LABELS: u32 = 9;
const HASH_IDS: u32 = 10;
const HASH_VALUES: u32 = 11;
const BUF_OWNER: u32 = 12;
const BUF_ADDR: u32 = 13;
const BUF_SIZE: u32 = 14;
const TOTALS: u32 = 15;
const POOL_ADDR: u32 = 16;
const POOL_CLASS: u32 = 17;
const POOL_USED: u32 = 18;
const POOL_NEXT: u32 = 19;
// ...and what the graph searches found (stage 2, present once a command needed them).
const SEARCH_META: u32 = 20;
const ROOT_SUCC: u32 = 21;
const ORDER: u32 = 22;
const NUM: u32 = 23;
const IDOM: u32 = 24;
const PATH_PARENT: u32 = 25;
const PATH_VIA: u32 = 26;
const PATH_DEPTH: u32 = 27;
const OWN: u32 = 28;
const RETAINED: u32 = 29;
const RANKED: u32 = 30;

/// The small and sparse parts of a snapshot, as JSON.
#[derive(Serialize)]
struct MetaOut<'a> {
    header: &'a Header,
    end: &'a Option<EndRecord>,
    types: &'a [TypeInfo],
    labels: &'a [Box<str>],
    arenas: &'a [Arena],
    roots: &'a [Root],
    tracebacks: &'a [Traceback],
    dangling_refs: u64,
    lines: u64,
    big_sizes: &'a [(ObjId, u64)],
    names: &'a [(ObjId, Box<str>)],
    values: &'a [(ObjId, Box<str>)],
    caches: &'a [(ObjId, CacheInfo)],
    traceback: &'a [(ObjId, u32)],
    defined: &'a [(ObjId, Box<str>)],
}

#[derive(Deserialize)]
struct MetaIn {
    header: Header,
    end: Option<EndRecord>,
    types: Vec<TypeInfo>,
    labels: Vec<Box<str>>,
    arenas: Vec<Arena>,
    roots: Vec<Root>,
    tracebacks: Vec<Traceback>,
    dangling_refs: u64,
    lines: u64,
    big_sizes: Vec<(ObjId, u64)>,
    names: Vec<(ObjId, Box<str>)>,
    values: Vec<(ObjId, Box<str>)>,
    caches: Vec<(ObjId, CacheInfo)>,
    traceback: Vec<(ObjId, u32)>,
    defined: Vec<(ObjId, Box<str>)>,
}

#[derive(Serialize, Deserialize)]
struct SearchMeta {
    real_roots: u32,
    reachable_below: u32,
    shared: Vec<SharedBlock>,
    ranked_of: u64,
    unreachable: (u64, u64),
    by_type: Vec<GroupRetained>,
    by_module: Vec<GroupRetained>,
}

/// Sections of a complete snapshot (not one `--partial` cut short: those are not indexed).
pub fn snapshot_sections<'a>(snap: &'a Snapshot, w: &mut Writer<'a>) {
    let o = &snap.objects;
    let meta = MetaOut {
        header: &snap.header,
        end: &snap.end,
        types: &snap.types,
        labels: &snap.labels,
        arenas: &snap.arenas,
        roots: &snap.roots,
        tracebacks: &snap.tracebacks,
        dangling_refs: snap.dangling_refs,
        lines: snap.lines,
        big_sizes: &o.big_sizes,
        names: &o.names,
        values: &o.values,
        caches: &o.caches,
        traceback: &o.traceback,
        defined: &o.defined,
    };
    w.bytes(
        META,
        serde_json::to_vec(&meta).expect("plain data serialises"),
    );
    w.bytes(
        TOTALS,
        serde_json::to_vec(snap.totals()).expect("plain data serialises"),
    );
    w.column(ADDR, &o.addr);
    w.column(TYPE_ID, &o.type_id);
    w.column(SIZE, &o.size);
    w.column(REFCNT, &o.refcnt);
    w.column(LEN, &o.len);
    w.column(REF_START, &o.ref_start);
    w.column(REF_TARGETS, &o.ref_targets);
    w.column(EDGE_LABELS, &o.edge_labels);
    let ids: Vec<ObjId> = o.hashes.iter().map(|h| h.0).collect();
    let hashes: Vec<i64> = o.hashes.iter().map(|h| h.1).collect();
    w.owned_column(HASH_IDS, ids);
    w.owned_column(HASH_VALUES, hashes);
    let owners: Vec<ObjId> = snap.buffers.iter().map(|b| b.owner).collect();
    let addrs: Vec<u64> = snap.buffers.iter().map(|b| b.addr).collect();
    let sizes: Vec<u64> = snap.buffers.iter().map(|b| b.size).collect();
    w.owned_column(BUF_OWNER, owners);
    w.owned_column(BUF_ADDR, addrs);
    w.owned_column(BUF_SIZE, sizes);
    // Pools as columns: a big heap has tens of thousands, slow to read back as JSON.
    let p = &snap.pools;
    w.owned_column(POOL_ADDR, p.iter().map(|p| p.addr).collect::<Vec<u64>>());
    w.owned_column(
        POOL_CLASS,
        p.iter().map(|p| p.size_class as u32).collect::<Vec<u32>>(),
    );
    w.owned_column(
        POOL_USED,
        p.iter().map(|p| p.used_blocks).collect::<Vec<u32>>(),
    );
    w.owned_column(
        POOL_NEXT,
        p.iter().map(|p| p.next_offset).collect::<Vec<u32>>(),
    );
}

/// Sections of what the graph searches found.
pub fn searched_sections<'a>(s: &'a Searched, w: &mut Writer<'a>) {
    let meta = SearchMeta {
        real_roots: s.real_roots,
        reachable_below: s.reachable_below,
        shared: s.shared.clone(),
        ranked_of: s.ranked_of,
        unreachable: s.unreachable,
        by_type: s.by_type.clone(),
        by_module: s.by_module.clone(),
    };
    w.bytes(
        SEARCH_META,
        serde_json::to_vec(&meta).expect("plain data serialises"),
    );
    w.column(ROOT_SUCC, &s.root_succ);
    w.column(ORDER, &s.order);
    w.column(NUM, &s.num);
    w.column(IDOM, &s.idom);
    w.column(PATH_PARENT, &s.path_parent);
    w.column(PATH_VIA, &s.path_via);
    w.column(PATH_DEPTH, &s.path_depth);
    w.column(OWN, &s.own);
    w.column(RETAINED, &s.retained);
    w.column(RANKED, &s.ranked);
}

/// Reads sections of one index, each checked against its checksum first.
struct Reader<'f> {
    file: &'f IndexFile,
}

impl Reader<'_> {
    fn find(&self, kind: u32) -> Result<Section, String> {
        self.file
            .section(kind)
            .ok_or_else(|| format!("section {kind} is missing"))
    }

    fn json<T: for<'de> Deserialize<'de>>(&self, kind: u32) -> Result<T, String> {
        let bytes = self.file.checked_bytes(&self.find(kind)?)?;
        serde_json::from_slice(bytes).map_err(|e| format!("section {kind}: {e}"))
    }

    /// A column of `T`, left in the mapped file.
    fn column<T: bytemuck::Pod>(&self, kind: u32) -> Result<Column<T>, String> {
        let s = self.find(kind)?;
        if s.width as usize != std::mem::size_of::<T>() {
            return Err(format!("section {kind} has values of {} bytes", s.width));
        }
        self.file.checked_bytes(&s)?;
        let len = (s.len / s.width as u64) as usize;
        Column::mapped(self.file.map.clone(), s.offset as usize, len)
            .ok_or_else(|| format!("section {kind} lies outside the file"))
    }

    /// A column copied out (sparse columns the snapshot keeps as vectors).
    fn vec<T: bytemuck::Pod>(&self, kind: u32) -> Result<Vec<T>, String> {
        Ok(self.column::<T>(kind)?.to_vec())
    }
}

/// The snapshot an index holds, its columns mapped (those `loaded` names; the others are
/// left empty, neither checksummed nor checked); `path` is the snapshot's name.
pub fn snapshot_of(file: &IndexFile, path: &Path, loaded: Loaded) -> Result<Snapshot, String> {
    let r = Reader { file };
    let meta: MetaIn = r.json(META)?;
    let totals: Totals = r.json(TOTALS)?;
    let columns = loaded != Loaded::TotalsOnly;
    let references = loaded == Loaded::Everything;
    let edge_labels = when(references, || r.column(EDGE_LABELS))?;
    let ids: Vec<ObjId> = r.vec(HASH_IDS)?;
    let values: Vec<i64> = r.vec(HASH_VALUES)?;
    if ids.len() != values.len() {
        return Err("content hashes and their objects differ in number".into());
    }
    let pool_addr: Vec<u64> = r.vec(POOL_ADDR)?;
    let pool_class: Vec<u32> = r.vec(POOL_CLASS)?;
    let pool_used: Vec<u32> = r.vec(POOL_USED)?;
    let pool_next: Vec<u32> = r.vec(POOL_NEXT)?;
    let pools = pool_addr.len();
    if [pool_class.len(), pool_used.len(), pool_next.len()] != [pools; 3] {
        return Err("pools' columns differ in length".into());
    }
    let owners: Vec<ObjId> = r.vec(BUF_OWNER)?;
    let addrs: Vec<u64> = r.vec(BUF_ADDR)?;
    let sizes: Vec<u64> = r.vec(BUF_SIZE)?;
    if owners.len() != addrs.len() || owners.len() != sizes.len() {
        return Err("owned buffers' columns differ in length".into());
    }
    fn when<T: bytemuck::Pod>(
        wanted: bool,
        read: impl FnOnce() -> Result<Column<T>, String>,
    ) -> Result<Column<T>, String> {
        match wanted {
            true => read(),
            false => Ok(Column::default()),
        }
    }
    let objects = Objects {
        addr: when(columns, || r.column(ADDR))?,
        type_id: when(columns, || r.column(TYPE_ID))?,
        size: when(columns, || r.column(SIZE))?,
        big_sizes: meta.big_sizes,
        refcnt: when(columns, || r.column(REFCNT))?,
        len: when(columns, || r.column(LEN))?,
        hashes: ids.into_iter().zip(values).collect(),
        ref_start: when(references, || r.column(REF_START))?,
        ref_targets: when(references, || r.column(REF_TARGETS))?,
        edge_labels,
        names: meta.names,
        values: meta.values,
        caches: meta.caches,
        traceback: meta.traceback,
        defined: meta.defined,
    };
    let snap = Snapshot {
        path: path.to_path_buf(),
        header: meta.header,
        end: meta.end,
        types: meta.types,
        objects,
        labels: meta.labels,
        arenas: meta.arenas,
        pools: (0..pools)
            .map(|i| Pool {
                addr: pool_addr[i],
                size_class: pool_class[i].min(u8::MAX as u32) as u8,
                used_blocks: pool_used[i],
                next_offset: pool_next[i],
            })
            .collect(),
        roots: meta.roots,
        buffers: (owners.into_iter().zip(addrs).zip(sizes))
            .map(|((owner, addr), size)| OwnedBuffer { owner, addr, size })
            .collect(),
        tracebacks: meta.tracebacks,
        dangling_refs: meta.dangling_refs,
        lines: meta.lines,
        dropped_tail: 0,
        searched: Default::default(),
        totals: totals.into(),
        loaded,
    };
    check::snapshot(&snap, file.trusted)?;
    Ok(snap)
}

/// Whether the index holds what the graph searches found.
pub fn has_searched(file: &IndexFile) -> bool {
    file.section(SEARCH_META).is_some()
}

/// What the graph searches found, as the index holds it, checked against `snap`.
pub fn searched_of(file: &IndexFile, snap: &Snapshot) -> Result<Searched, String> {
    let r = Reader { file };
    let meta: SearchMeta = r.json(SEARCH_META)?;
    let s = Searched {
        root_succ: r.column(ROOT_SUCC)?,
        real_roots: meta.real_roots,
        reachable_below: meta.reachable_below,
        order: r.column(ORDER)?,
        num: r.column(NUM)?,
        idom: r.column(IDOM)?,
        path_parent: r.column(PATH_PARENT)?,
        path_via: r.column(PATH_VIA)?,
        path_depth: r.column(PATH_DEPTH)?,
        shared: meta.shared,
        own: r.column(OWN)?,
        retained: r.column(RETAINED)?,
        ranked: r.column(RANKED)?,
        ranked_of: meta.ranked_of,
        unreachable: meta.unreachable,
        by_type: meta.by_type,
        by_module: meta.by_module,
    };
    check::searched(&s, snap, file.trusted)?;
    Ok(s)
}
