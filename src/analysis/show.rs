//! `show`: one object with its sizes, why it is alive, and its neighbours.

use super::defined::defined_at;
use super::python_path::{edge_text, hex, path_to, PyPath};
use super::retention::Retention;
use super::sites::Frames;
use crate::snapshot::ObjId;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Neighbour {
    pub addr: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// The edge between the two objects, as written in a path.
    pub edge: String,
    pub own: u64,
    pub retained: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Inspect {
    pub addr: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: Option<String>,
    pub len: Option<u64>,
    /// Bytes of the object's own block.
    pub size: u64,
    /// Bytes of separate buffers it owns.
    pub buffers: u64,
    pub retained: u64,
    pub share: f64,
    pub refcnt: u64,
    /// References to it found in the snapshot.
    pub referrers_found: u64,
    /// Whether no root reaches it (garbage awaiting collection).
    pub unreachable: bool,
    pub path: Option<PyPath>,
    pub dominator: Option<Neighbour>,
    pub referrers: Vec<Neighbour>,
    pub referents: Vec<Neighbour>,
    /// Totals before `limit` was applied.
    pub referrers_total: u64,
    pub referents_total: u64,
    /// `file:line` where its code is defined (a function, method, class, code object, or
    /// the function an `lru_cache` wraps).
    pub defined_at: Option<String>,
    /// Where tracemalloc saw it allocated (snapshots taken while tracing).
    pub allocated_at: Option<Allocation>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Allocation {
    /// The innermost frame in the program's own code (see `sites::Frames::User`).
    pub site: String,
    /// Every recorded frame as `file:line`, innermost first.
    pub stack: Vec<String>,
}

fn allocation(snap: &crate::snapshot::Snapshot, id: ObjId) -> Option<Allocation> {
    let t = snap.allocated_at(id)?;
    Some(Allocation {
        site: t.site_as(Frames::User),
        stack: t.frames.iter().map(|(f, l)| format!("{f}:{l}")).collect(),
    })
}

fn neighbour(r: &Retention, id: ObjId, edge: String) -> Neighbour {
    Neighbour {
        addr: hex(r.snap.objects.addr[id.index()]),
        type_name: r.snap.type_of(id).name.clone(),
        edge,
        own: r.own[id.index()],
        retained: r.retained(id),
    }
}

pub fn show(r: &Retention, id: ObjId, limit: usize) -> Inspect {
    let snap = r.snap;
    let objs = &snap.objects;
    // Referrers: one scan of all edges (the graph keeps no reverse adjacency; one object's
    // referrers are asked for rarely). Sources come out in id order, parallel edges adjacent.
    let preds: Vec<u32> = objs
        .ref_targets
        .iter()
        .enumerate()
        .filter(|(_, &t)| t == id)
        .map(|(e, _)| objs.ref_start.partition_point(|&s| s as usize <= e) as u32 - 1)
        .collect();
    let mut referrers: Vec<Neighbour> = Vec::new();
    let mut last = u32::MAX;
    for &p in &preds {
        if p == last {
            continue; // parallel edges: one row per referrer
        }
        last = p;
        if referrers.len() >= limit {
            continue;
        }
        let pid = ObjId(p);
        let range = objs.edge_range(pid);
        let e = range
            .clone()
            .find(|&e| objs.ref_targets[e] == id)
            .unwrap_or(range.start);
        referrers.push(neighbour(r, pid, edge_text(snap, pid, e as u32)));
    }
    let referents = objs
        .edge_range(id)
        .take(limit)
        .map(|e| neighbour(r, objs.ref_targets[e], edge_text(snap, id, e as u32)))
        .collect();
    let buffers: u64 = snap
        .buffers
        .iter()
        .filter(|b| b.owner == id)
        .map(|b| b.size)
        .sum();
    let total = r.total();
    Inspect {
        addr: hex(objs.addr[id.index()]),
        type_name: snap.type_of(id).name.clone(),
        name: objs.name(id).map(str::to_string),
        len: objs.len_of(id),
        size: objs.size(id),
        buffers,
        retained: r.retained(id),
        share: if total > 0 {
            r.retained(id) as f64 / total as f64
        } else {
            0.0
        },
        refcnt: objs.refcnt[id.index()] as u64,
        referrers_found: preds.len() as u64,
        unreachable: !r.graph.is_reachable(id.0),
        path: path_to(r, id),
        dominator: r.idom(id).map(|d| neighbour(r, d, String::new())),
        referrers,
        referents,
        referrers_total: {
            let mut v = preds.clone();
            v.dedup();
            v.len() as u64
        },
        referents_total: objs.refs(id).len() as u64,
        defined_at: defined_at(snap, id),
        allocated_at: allocation(snap, id),
    }
}
