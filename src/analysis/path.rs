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
/// Which types a name given by the user means: those of that exact `module.Qualname`; else
/// those whose qualified name (without the module) it is, when they are one type name.
pub enum TypeMatch {
    /// Type ids.
    Types(Vec<usize>),
    /// A bare name of several types: their full names, sorted.
    Ambiguous(Vec<String>),
    /// No type of that name: the closest names, most alike first (at most five).
    Unknown(Vec<String>),
}

pub fn match_type(snap: &crate::snapshot::Snapshot, name: &str) -> TypeMatch {
    let ids = |f: &dyn Fn(&crate::snapshot::TypeInfo) -> bool| -> Vec<usize> {
        (0..snap.types.len())
            .filter(|&i| f(&snap.types[i]))
            .collect()
    };
    let exact = ids(&|t| t.name == name);
    if !exact.is_empty() {
        return TypeMatch::Types(exact);
    }
    let qualname = |t: &crate::snapshot::TypeInfo| -> bool {
        t.name
            .strip_prefix(t.module.as_str())
            .and_then(|q| q.strip_prefix('.'))
            .unwrap_or(&t.name)
            == name
    };
    let bare = ids(&qualname);
    let mut full: Vec<String> = bare.iter().map(|&i| snap.types[i].name.clone()).collect();
    full.sort();
    full.dedup();
    match full.len() {
        0 => {
            let wanted = name.to_lowercase();
            let mut near: Vec<(u64, &str)> = snap
                .types
                .iter()
                .map(|t| {
                    let full = t.name.to_lowercase();
                    let short = full.rsplit('.').next().unwrap_or(&full);
                    let d = strsim::jaro_winkler(&wanted, &full)
                        .max(strsim::jaro_winkler(&wanted, short));
                    ((d * 1e6) as u64, t.name.as_str())
                })
                .filter(|(d, _)| *d >= 700_000)
                .collect();
            near.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
            near.dedup_by(|a, b| a.1 == b.1);
            TypeMatch::Unknown(
                near.into_iter()
                    .take(5)
                    .map(|(_, n)| n.to_string())
                    .collect(),
            )
        }
        1 => TypeMatch::Types(bare),
        _ => TypeMatch::Ambiguous(full),
    }
}

/// The types a `--type` name means (ids); for a name of several types or of none, the
/// usage error that says which, or the closest names (printed made visible, as every error).
pub fn types_named(snap: &crate::snapshot::Snapshot, name: &str) -> crate::Result<Vec<usize>> {
    use crate::error::Error;
    match match_type(snap, name) {
        TypeMatch::Types(t) => Ok(t),
        TypeMatch::Ambiguous(names) => Err(Error::Usage(format!(
            "--type {name} names {} types: {}; give one as module.Qualname",
            names.len(),
            names.join(", ")
        ))),
        TypeMatch::Unknown(near) if near.is_empty() => Err(Error::Usage(format!(
            "no type named {name} in {}",
            snap.path.display()
        ))),
        TypeMatch::Unknown(near) => Err(Error::Usage(format!(
            "no type named {name} in {}; the closest: {}",
            snap.path.display(),
            near.join(", ")
        ))),
    }
}

/// Paths to the instances of the types `types` (ids), biggest retainers first.
pub fn paths_of_type(r: &Retention, type_name: &str, types: &[usize], limit: usize) -> Paths {
    let snap = r.snap;
    let mut wanted = vec![false; snap.types.len()];
    for &t in types {
        wanted[t] = true;
    }
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
