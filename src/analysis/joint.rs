//! Memory held jointly: objects that no single object keeps alive because two or more
//! retainers each reach them (mypy's module symbol tables, held both by the build result and
//! by a module-level state). In the dominator tree they hang directly under the virtual
//! root without being roots themselves, so no row of `top` covers them. Each is charged to
//! the set of top-level retainers (children of the virtual root) whose subtrees reference it,
//! and objects with the same set of holders form one block, with the bytes they retain in
//! all — Eclipse MAT's "retained set of a group", for the groups the heap itself forms.

use super::python_path::{path_to, PyPath};
use super::retention::Retention;
use crate::graph::SharedBlock;
use crate::snapshot::ObjId;
use fixedbitset::FixedBitSet;
use serde::Serialize;

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

/// How many blocks the graph searches keep (an index stores them): `top` shows at most this.
pub const KEPT_BLOCKS: usize = 5;

/// The `limit` largest joint blocks, largest first; ties by the holders' ids.
pub fn joint_blocks(r: &Retention, limit: usize) -> Vec<JointBlock> {
    let computed;
    let blocks: &[SharedBlock] = match r.snap.searched.get() {
        Some(s) if limit <= KEPT_BLOCKS => &s.shared,
        _ => {
            computed = shared_blocks(r, limit);
            &computed
        }
    };
    blocks.iter().take(limit).map(|b| describe(r, b)).collect()
}

/// The block with its holders' and its largest object's paths.
fn describe(r: &Retention, b: &SharedBlock) -> JointBlock {
    let snap = r.snap;
    let total = r.total();
    let sample = ObjId(b.largest);
    JointBlock {
        retained: b.retained,
        share: if total > 0 {
            b.retained as f64 / total as f64
        } else {
            0.0
        },
        objects: b.objects,
        holders: b.holders.iter().map(|&h| path_to(r, ObjId(h))).collect(),
        holder_addrs: b
            .holders
            .iter()
            .map(|&h| super::python_path::hex(snap.objects.addr[h as usize]))
            .collect(),
        sample_type: snap.type_of(sample).name.clone(),
        sample: path_to(r, sample),
    }
}

/// The `limit` largest blocks held jointly, as ids, largest first; ties by the holders' ids.
pub fn shared_blocks(r: &Retention, limit: usize) -> Vec<SharedBlock> {
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
    // Distinct holders of each candidate, at most MAX_HOLDERS + 1 (one more means "many"),
    // in flat per-candidate slots: a heap can have millions of candidates.
    const NO_SLOT: u32 = u32::MAX;
    let mut slot = vec![NO_SLOT; n];
    let mut candidates: Vec<u32> = Vec::new();
    for v in joint.ones() {
        slot[v] = candidates.len() as u32;
        candidates.push(v as u32);
    }
    let mut held: Vec<[u32; MAX_HOLDERS + 1]> = vec![[0; MAX_HOLDERS + 1]; candidates.len()];
    let mut count: Vec<u8> = vec![0; candidates.len()];
    for u in 0..n as u32 {
        if !r.graph.is_reachable(u) {
            continue;
        }
        for &v in snap.objects.refs(ObjId(u)) {
            // The bit set is small enough to stay in cache; the slots are not.
            if !joint.contains(v.index()) {
                continue;
            }
            let k = slot[v.index()];
            let h = top[u as usize];
            let (k, c) = (k as usize, count[k as usize] as usize);
            if h == v.0 || c > MAX_HOLDERS || held[k][..c].contains(&h) {
                continue;
            }
            // A top-level object that the candidate itself references back (a class's own
            // `__mro__` tuple, held from outside) is part of it, not a holder. Checked on
            // small objects only, and at most once per holder a candidate gains, so the pass
            // stays linear in the references.
            let own_part = h == u && {
                let back = snap.objects.refs(v);
                back.len() <= OWN_PART_SCAN && back.contains(&ObjId(u))
            };
            if !own_part {
                held[k][c] = h;
                count[k] += 1;
            }
        }
    }
    drop(slot);
    // Group by holder set: candidates sorted by their (sorted) holders, then summed.
    struct Block {
        retained: u64,
        objects: u64,
        /// (retained, id) of the largest object, ties by the lower id.
        best: (u64, std::cmp::Reverse<u32>),
    }
    // A holder set as a fixed key: ascending ids, padded with NO_SLOT.
    let mut keyed: Vec<([u32; MAX_HOLDERS], u32)> = Vec::new();
    for (k, &v) in candidates.iter().enumerate() {
        let c = count[k] as usize;
        if (2..=MAX_HOLDERS).contains(&c) {
            let mut hs = [NO_SLOT; MAX_HOLDERS];
            hs[..c].copy_from_slice(&held[k][..c]);
            hs[..c].sort_unstable();
            keyed.push((hs, v));
        }
    }
    drop((held, count, candidates));
    keyed.sort_unstable();
    let mut blocks: Vec<([u32; MAX_HOLDERS], Block)> = Vec::new();
    for (hs, v) in keyed {
        let ret = r.retained[v as usize];
        if blocks.last().is_none_or(|(last, _)| *last != hs) {
            let empty = Block {
                retained: 0,
                objects: 0,
                best: (0, std::cmp::Reverse(u32::MAX)),
            };
            blocks.push((hs, empty));
        }
        let b = &mut blocks.last_mut().expect("pushed above").1;
        b.retained += ret;
        b.objects += 1;
        b.best = b.best.max((ret, std::cmp::Reverse(v)));
    }
    // Largest first, ties by the holders' ids (sets are distinct, so the order is total).
    let mut ranked = blocks;
    let order = |a: &([u32; MAX_HOLDERS], Block), b: &([u32; MAX_HOLDERS], Block)| {
        b.1.retained.cmp(&a.1.retained).then(a.0.cmp(&b.0))
    };
    if ranked.len() > limit && limit > 0 {
        ranked.select_nth_unstable_by(limit - 1, order);
    }
    ranked.truncate(limit);
    ranked.sort_unstable_by(order);
    ranked
        .into_iter()
        .map(|(hs, b)| SharedBlock {
            holders: hs.into_iter().filter(|&h| h != NO_SLOT).collect(),
            retained: b.retained,
            objects: b.objects,
            largest: b.best.1 .0,
        })
        .collect()
}
