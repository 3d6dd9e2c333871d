//! `path`: why objects are alive, as shortest labelled paths from a root.

use super::python_path::{hex, path_to, PyPath};
use super::retention::Retention;
use crate::snapshot::ObjId;
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct PathRow {
    pub addr: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub retained: u64,
    /// `None` when nothing reaches the object (cannot happen for captured objects: garbage
    /// islands get a path from their own entry).
    pub path: Option<PyPath>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Paths {
    /// What was asked for: an address or a type name.
    pub target: String,
    /// Objects that matched, before the limit.
    pub matched: u64,
    pub paths: Vec<PathRow>,
}

fn row(r: &Retention, id: ObjId) -> PathRow {
    PathRow {
        addr: hex(r.snap.objects.addr[id.index()]),
        type_name: r.snap.type_of(id).name.clone(),
        retained: r.retained(id),
        path: path_to(r, id),
    }
}

/// The path to one object.
pub fn path_of(r: &Retention, id: ObjId) -> Paths {
    Paths {
        target: hex(r.snap.objects.addr[id.index()]),
        matched: 1,
        paths: vec![row(r, id)],
    }
}

/// Paths to the instances of a type (full name `module.Qualname`, or just the qualname),
/// largest retained first.
pub fn paths_of_type(r: &Retention, type_name: &str, limit: usize) -> Paths {
    let snap = r.snap;
    let wanted: Vec<bool> = snap
        .types
        .iter()
        .map(|t| {
            t.name == type_name || t.name.rsplit_once('.').is_some_and(|(_, q)| q == type_name)
        })
        .collect();
    let mut ids: Vec<ObjId> = (0..snap.objects.count() as u32)
        .map(ObjId)
        .filter(|id| wanted[snap.objects.type_id[id.index()] as usize])
        .collect();
    let matched = ids.len() as u64;
    ids.sort_by_key(|&id| (std::cmp::Reverse(r.retained(id)), id));
    ids.truncate(limit);
    Paths {
        target: type_name.to_string(),
        matched,
        paths: ids.into_iter().map(|id| row(r, id)).collect(),
    }
}
