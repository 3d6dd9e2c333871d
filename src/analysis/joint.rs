//! Memory held jointly: objects that no single object keeps alive because two or more
//! retainers each reach them (mypy's module symbol tables, held both by the build result and
//! by a module-level state). In the dominator tree they hang directly under the virtual
//! root without being roots themselves, so no row of `top` covers them. Each is charged to
//! the set of top-level retainers (children of the virtual root) whose subtrees reference it,
//! and objects with the same set of holders form one block, with the bytes they retain in
//! all — Eclipse MAT's "retained set of a group", for the groups the heap itself forms.

use super::pypath::{path_to, PyPath};
use super::retention::Retention;
use crate::snapshot::ObjId;
use fixedbitset::FixedBitSet;
use serde::Serialize;
use std::collections::BTreeMap;

/// An object referenced from more distinct top-level retainers than this is common property
/// (an interned name, a shared constant) rather than a block a few holders share.
const MAX_HOLDERS: usize = 4;

/// References of a candidate scanned for one back to its would-be holder.
const OWN_PART_SCAN: usize = 64;

/// One block held jointly by the same few retainers.
#[derive(Debug, Clone, Serialize)]
pub struct JointBlock {
    /// Bytes the block's objects retain, each byte once (their dominator subtrees are
    /// disjoint).
    pub retained: u64,
    /// Share of all bytes, 0..=1.
    pub share: f64,
    /// Objects directly under the virtual root in the block.
    pub objects: u64,
    /// The retainers that share it: paths to them, in address order.
    pub holders: Vec<Option<PyPath>>,
    /// Addresses of the holders, as the paths' last steps.
    pub holder_addrs: Vec<String>,
    /// The block's largest object: its type and path.
    pub sample_type: String,
    pub sample: Option<PyPath>,
}

/// The `limit` largest joint blocks, largest first; ties by the holders' ids.
pub fn joint_blocks(r: &Retention, limit: usize) -> Vec<JointBlock> {
    let snap = r.snap;
    let n = r.graph.objects();
    let root = r.graph.root();
    // Top-level retainer of every reachable object: the child of the virtual root whose
    // dominator subtree holds it (preorder: a dominator comes before what it dominates).
    let mut top = vec![root; n + 1];
    for &v in r.graph.preorder().iter().skip(1) {
        let d = r.doms.idom(v);
        top[v as usize] = if d == root { v } else { top[d as usize] };
    }
    // Candidates: children of the virtual root that are neither roots nor garbage islands.
    let mut is_root = FixedBitSet::with_capacity(n + 1);
    for &v in r.graph.succ(root) {
        is_root.insert(v as usize);
    }
    let mut joint = FixedBitSet::with_capacity(n);
    for v in 0..n as u32 {
        if r.graph.is_reachable(v) && r.doms.idom(v) == root && !is_root.contains(v as usize) {
            joint.insert(v as usize);
        }
    }
    if joint.is_clear() {
        return Vec::new();
    }
    // Distinct holders of each candidate, at most MAX_HOLDERS + 1 (one more means "many").
    let mut holders: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    for u in 0..n as u32 {
        if !r.graph.is_reachable(u) {
            continue;
        }
        for &v in snap.objects.refs(ObjId(u)) {
            if (v.0 as usize) >= n || !joint.contains(v.index()) {
                continue;
            }
            let h = top[u as usize];
            // A top-level object that the candidate itself references back (a class's own
            // `__mro__` tuple, held from outside) is part of it, not a holder. Checked on
            // small objects only, so the pass stays linear in the references.
            let own_part = h == u && {
                let back = snap.objects.refs(v);
                back.len() <= OWN_PART_SCAN && back.contains(&ObjId(u))
            };
            if h == v.0 || own_part {
                continue;
            }
            let hs = holders.entry(v.0).or_default();
            if hs.len() <= MAX_HOLDERS && !hs.contains(&h) {
                hs.push(h);
            }
        }
    }
    // Group by holder set.
    struct Block {
        retained: u64,
        objects: u64,
        /// (retained, id) of the largest object, ties by the lower id.
        best: (u64, std::cmp::Reverse<u32>),
    }
    let mut blocks: BTreeMap<Vec<u32>, Block> = BTreeMap::new();
    for (v, mut hs) in holders {
        if !(2..=MAX_HOLDERS).contains(&hs.len()) {
            continue;
        }
        hs.sort_unstable();
        let ret = r.retained[v as usize];
        let b = blocks.entry(hs).or_insert(Block {
            retained: 0,
            objects: 0,
            best: (0, std::cmp::Reverse(u32::MAX)),
        });
        b.retained += ret;
        b.objects += 1;
        b.best = b.best.max((ret, std::cmp::Reverse(v)));
    }
    let mut ranked: Vec<(Vec<u32>, Block)> = blocks.into_iter().collect();
    ranked.sort_by(|a, b| b.1.retained.cmp(&a.1.retained).then(a.0.cmp(&b.0)));
    ranked.truncate(limit);
    let total = r.total();
    ranked
        .into_iter()
        .map(|(hs, b)| {
            let sample = ObjId(b.best.1 .0);
            JointBlock {
                retained: b.retained,
                share: if total > 0 {
                    b.retained as f64 / total as f64
                } else {
                    0.0
                },
                objects: b.objects,
                holders: hs.iter().map(|&h| path_to(r, ObjId(h))).collect(),
                holder_addrs: hs
                    .iter()
                    .map(|&h| super::pypath::hex(snap.objects.addr[h as usize]))
                    .collect(),
                sample_type: snap.type_of(sample).name.clone(),
                sample: path_to(r, sample),
            }
        })
        .collect()
}
