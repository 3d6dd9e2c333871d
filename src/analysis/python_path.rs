//! Paths written the way a Python programmer reads them: `shop._carts['u42'].payload[3]`.

use super::retention::Retention;
use crate::graph::shortest_paths::Step;
use crate::snapshot::{ObjId, Root, RootKind, Snapshot, TypeInfo};
use serde::Serialize;

/// How the path's first object is held.
#[derive(Debug, Clone, Serialize)]
pub struct RootInfo {
    /// module, local (a running frame's variable), frame, interpreter, external (held from C
    /// or by objects not captured), unreachable
    pub kind: String,
    pub name: String,
    /// For locals: the frame, `thread T: function (file:line)`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub frame: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PathStep {
    pub addr: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// The edge from the previous step as written in the expression (`None` for the root).
    pub edge: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PyPath {
    pub root: RootInfo,
    /// The whole path as one Python-like expression.
    pub expr: String,
    pub steps: Vec<PathStep>,
}

pub fn hex(addr: u64) -> String {
    format!("0x{addr:x}")
}

/// `Py_TPFLAGS_TYPE_SUBCLASS`: the object is a class.
const TYPE_SUBCLASS: u64 = 1 << 31;

fn root_info(snap: &Snapshot, r: &Retention, id: ObjId) -> RootInfo {
    let named = snap
        .roots
        .iter()
        .find(|x| x.obj == id && x.kind != RootKind::External);
    let addr = snap.objects.addr[id.index()];
    let class = snap.types.iter().find(|ti| ti.addr == addr);
    root_info_of(snap, r, id, named, class)
}

/// How `id` is held, given the first root record naming it that is not `External` and the
/// type-table entry of the class at its address (looked up by the caller, who may have
/// them indexed).
pub(crate) fn root_info_of(
    snap: &Snapshot,
    r: &Retention,
    id: ObjId,
    named: Option<&Root>,
    class: Option<&TypeInfo>,
) -> RootInfo {
    let t = &snap.type_of(id).name;
    if let Some(root) = named {
        let kind = match root.kind {
            RootKind::Module => "module",
            RootKind::Frame => "frame",
            RootKind::Local => "local",
            RootKind::Interpreter => "interpreter",
            _ => "other",
        };
        return RootInfo {
            kind: kind.into(),
            name: root.name.clone(),
            frame: root.frame.clone(),
        };
    }
    if !r.graph.is_reachable(id.0) {
        return RootInfo {
            kind: "unreachable".into(),
            name: format!("<unreachable {t} {}>", hex(snap.objects.addr[id.index()])),
            frame: None,
        };
    }
    let addr = snap.objects.addr[id.index()];
    // A class held from C (a heap type of an extension, a type the interpreter keeps): its
    // name says more than its address.
    // A class with no instances is not in the type table: its own name field says it.
    let is_class = snap.type_of(id).flags & TYPE_SUBCLASS != 0;
    let name = match class {
        Some(class) => format!("<class {} held from outside>", class.name),
        None => match snap.objects.name(id).filter(|_| is_class) {
            Some(n) => format!("<class {n} held from outside>"),
            None => format!("<{t} {} held from outside>", hex(addr)),
        },
    };
    RootInfo {
        kind: "external".into(),
        name,
        frame: None,
    }
}

/// The edge from `parent` through global edge `e`, as text.
pub fn edge_text(snap: &Snapshot, parent: ObjId, e: u32) -> String {
    let objs = &snap.objects;
    if let Some(l) = objs.edge_label(e as usize) {
        return snap.labels[l as usize].to_string();
    }
    let pos = e - objs.ref_start[parent.index()];
    let child = objs.ref_targets[e as usize];
    if snap.type_of(parent).addr == objs.addr[child.index()] {
        return ".__class__".into();
    }
    match snap.type_of(parent).name.as_str() {
        "list" | "tuple" | "collections.deque" => format!("[{pos}]"),
        "cell" => ".cell_contents".into(),
        _ => format!(" -> <{}>", snap.type_of(child).name),
    }
}

/// `['name']` → `name` when `name` is a plain identifier.
pub(crate) fn key_name(label: &str) -> Option<&str> {
    let inner = label.strip_prefix("['")?.strip_suffix("']")?;
    let mut chars = inner.chars();
    let first = chars.next()?;
    ((first.is_alphabetic() || first == '_') && chars.all(|c| c.is_alphanumeric() || c == '_'))
        .then_some(inner)
}

pub fn render(snap: &Snapshot, r: &Retention, steps: &[Step]) -> Option<PyPath> {
    let first = steps.first()?;
    let root_id = ObjId(first.node);
    let root = root_info(snap, r, root_id);
    let mut expr = root.name.clone();
    let mut out = Vec::with_capacity(steps.len());
    let mut pending_dict = false;
    for (i, s) in steps.iter().enumerate() {
        let id = ObjId(s.node);
        let edge = s.edge.map(|e| edge_text(snap, ObjId(steps[i - 1].node), e));
        if let Some(text) = &edge {
            // `.__dict__['name']` reads as `.name` (module globals, class and instance attributes).
            if pending_dict {
                pending_dict = false;
                match key_name(text) {
                    Some(name) => {
                        expr.push('.');
                        expr.push_str(name);
                    }
                    None => {
                        expr.push_str(".__dict__");
                        expr.push_str(text);
                    }
                }
            } else if text == ".__dict__" {
                pending_dict = true;
            } else {
                expr.push_str(text);
            }
        }
        out.push(PathStep {
            addr: hex(snap.objects.addr[id.index()]),
            type_name: snap.type_of(id).name.clone(),
            edge,
        });
    }
    if pending_dict {
        expr.push_str(".__dict__");
    }
    Some(PyPath {
        root,
        expr,
        steps: out,
    })
}

/// The shortest path from a root to `id`, rendered.
pub fn path_to(r: &Retention, id: ObjId) -> Option<PyPath> {
    render(r.snap, r, &r.paths.path(id.0))
}
