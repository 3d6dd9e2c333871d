//! Retention: the graph, dominator tree, retained sizes and shortest root paths of one
//! snapshot, computed once and shared by `top`, `path` and `show`.

use crate::graph::dominators::Dominators;
use crate::graph::shortest_paths::ShortestPaths;
use crate::graph::{Graph, Searched, RANKED_KEPT};
use crate::snapshot::{ObjId, RootKind, Snapshot};
use std::borrow::Cow;

pub struct Retention<'s> {
    pub snap: &'s Snapshot,
    pub graph: Graph<'s>,
    pub doms: Dominators<'s>,
    /// Per object, plus the virtual root's total at the end.
    pub retained: Cow<'s, [u64]>,
    /// Own bytes plus owned buffers, per object.
    pub own: Cow<'s, [u64]>,
    pub paths: ShortestPaths<'s>,
}

impl<'s> Retention<'s> {
    /// The snapshot's retention: read from what an earlier search left in the snapshot (its
    /// index), or computed.
    pub fn compute(snap: &'s Snapshot) -> Self {
        if let Some(s) = snap.searched.get() {
            return Self::from_searched(snap, s);
        }
        let (named, external) = root_tiers(snap);
        let mut graph = graph_of(snap, &named, &external);
        let islands: Vec<u32> = graph.succ(graph.root())[graph.roots().len()..].to_vec();
        // The dominator tree and the shortest paths are independent searches of one graph,
        // both bound by memory latency: one per core.
        let (doms, paths) = rayon::join(
            || Dominators::compute(&graph),
            || ShortestPaths::compute(&graph, &[&named, &external, &islands]),
        );
        graph.release_dominator_inputs();
        let own = snap.owned_bytes();
        let retained = doms.retained(&graph, &own);
        Retention {
            snap,
            graph,
            doms,
            retained: retained.into(),
            own: own.into(),
            paths,
        }
    }

    /// From an earlier search (checked when its index was opened): nothing is computed.
    fn from_searched(snap: &'s Snapshot, s: &'s Searched) -> Self {
        let objs = &snap.objects;
        let graph = Graph::searched(objs.count(), &objs.ref_start, objs.ref_targets_u32(), s);
        Retention {
            snap,
            graph,
            doms: Dominators::from_idom(&s.idom),
            retained: Cow::Borrowed(&s.retained),
            own: Cow::Borrowed(&s.own),
            paths: ShortestPaths::from_tree(&s.path_parent, &s.path_via, &s.path_depth),
        }
    }

    /// What the snapshot keeps of its searches (read from its index, or kept to write one):
    /// the same answers this retention computes, so they may stand in for them.
    pub fn kept(&self) -> Option<&'s Searched> {
        self.snap.searched.get()
    }

    /// What the searches found, for an index to keep.
    pub fn searched(&self) -> Searched {
        let (parent, via, depth) = self.paths.tree();
        let g = &self.graph;
        let (ranked, ranked_of) = super::top::rank_retainers(self, RANKED_KEPT);
        let [by_type, by_module] = super::top::retained_by_groups(self);
        Searched {
            root_succ: g.succ(g.root()).to_vec().into(),
            real_roots: g.real_roots() as u32,
            reachable_below: g.reachable_below(),
            order: g.preorder().to_vec().into(),
            num: g.numbers().to_vec().into(),
            idom: self.doms.idoms().to_vec().into(),
            path_parent: parent.to_vec().into(),
            path_via: via.to_vec().into(),
            path_depth: depth.to_vec().into(),
            shared: super::joint::shared_blocks(self, super::joint::KEPT_BLOCKS),
            own: self.own.to_vec().into(),
            retained: self.retained.to_vec().into(),
            ranked: ranked.into(),
            ranked_of,
            unreachable: self.unreachable(),
            by_type,
            by_module,
        }
    }

    pub fn retained(&self, id: ObjId) -> u64 {
        self.retained[id.index()]
    }

    /// Bytes of all objects (the virtual root's retained size).
    pub fn total(&self) -> u64 {
        *self.retained.last().unwrap_or(&0)
    }

    /// Immediate dominator, or `None` when it is the virtual root.
    pub fn idom(&self, id: ObjId) -> Option<ObjId> {
        let d = self.doms.idom(id.0);
        (d != self.graph.root()).then_some(ObjId(d))
    }

    /// Objects no real root reaches (garbage awaiting collection): (count, bytes).
    pub fn unreachable(&self) -> (u64, u64) {
        if let Some(s) = self.kept() {
            return s.unreachable;
        }
        let mut count = 0;
        let mut bytes = 0;
        for v in 0..self.graph.objects() as u32 {
            if !self.graph.is_reachable(v) {
                count += 1;
                bytes += self.own[v as usize];
            }
        }
        (count, bytes)
    }
}

/// Root object ids in path-preference tiers: named roots (modules, frames, the interpreter),
/// then objects held from outside.
fn root_tiers(snap: &Snapshot) -> (Vec<u32>, Vec<u32>) {
    let pick = |external: bool| -> Vec<u32> {
        snap.roots
            .iter()
            .filter(|r| (r.kind == RootKind::External) == external)
            .map(|r| r.obj.0)
            .collect()
    };
    (pick(false), pick(true))
}

fn graph_of<'s>(snap: &'s Snapshot, named: &[u32], external: &[u32]) -> Graph<'s> {
    let objs = &snap.objects;
    Graph::new(
        objs.count(),
        &objs.ref_start,
        objs.ref_targets_u32(),
        named.iter().chain(external).copied(),
    )
}

/// Retained size of every object (and the total last), without paths: for snapshots that
/// are only compared against.
pub fn retained_sizes(snap: &Snapshot) -> Vec<u64> {
    if snap.searched.get().is_some() {
        return Retention::compute(snap).retained.into_owned();
    }
    let (named, external) = root_tiers(snap);
    let graph = graph_of(snap, &named, &external);
    Dominators::compute(&graph).retained(&graph, &snap.owned_bytes())
}
