//! The object graph: forward CSR over dense ids, one virtual root, and a depth-first
//! spanning forest of it.
//!
//! Node `n` (one past the last object) is the virtual root. Its successors are the snapshot's
//! roots and, after them, one entry per island of objects that no root reaches (garbage
//! cycles awaiting collection), so every object has a dominator. Edges from garbage into
//! live objects are left out of the dominator computation: what is about to be collected
//! keeps nothing alive. One iterative depth-first
//! search numbers every node in preorder, finds those islands and sorts the edges by
//! direction for the dominator computation. Nothing here recurses: heap graphs hold chains
//! of millions of objects.

pub mod dominators;
pub mod shortest_paths;

use crate::column::Column;
use prefetch_index::prefetch_index;
use std::borrow::Cow;

const NONE: u32 = u32::MAX;

/// Forward adjacency of the heap plus the virtual root, with its DFS spanning forest.
pub struct Graph<'a> {
    n: usize,
    fwd_start: &'a [u32],
    fwd: &'a [u32],
    /// Successors of the virtual root: roots first, then garbage-island entries.
    root_succ: Cow<'a, [u32]>,
    /// How many of `root_succ` are real roots.
    real_roots: usize,
    /// Nodes in DFS preorder; `order[0]` is the virtual root.
    order: Cow<'a, [u32]>,
    /// Preorder number of each node.
    num: Cow<'a, [u32]>,
    /// Preorder number of each number's DFS-tree parent.
    parent: Vec<u32>,
    /// Numbers below this were reached from a real root.
    reachable_below: u32,
    /// What the dominator computation needs of the edges, gathered during the search.
    edges: DfsEdges,
}

/// The edges seen by the depth-first search, split by direction in preorder: an edge from
/// a lower number (tree and forward edges) only matters through its lowest source, an edge
/// from a higher number (back and cross edges) is kept whole.
#[derive(Default)]
pub(crate) struct DfsEdges {
    /// Per number: the lowest number with an edge to it from below (the tree parent, an
    /// ancestor with a forward edge, or the virtual root).
    pub lowest_pred: Vec<u32>,
    /// (target number, source number) of every edge whose source is numbered above its
    /// target.
    pub back: Vec<(u32, u32)>,
}

impl<'a> Graph<'a> {
    /// `fwd_start` has `n + 1` entries; `roots` are object ids (duplicates ignored).
    pub fn new(
        n: usize,
        fwd_start: &'a [u32],
        fwd: &'a [u32],
        roots: impl IntoIterator<Item = u32>,
    ) -> Self {
        assert_eq!(fwd_start.len(), n + 1, "CSR offsets");
        let mut dfs = Dfs {
            fwd_start,
            fwd,
            seen: vec![Seen::NEW; n + 1],
            order: Vec::with_capacity(n + 1),
            parent: Vec::with_capacity(n + 1),
            back: Vec::new(),
            stack: Vec::new(),
            live_below: 0,
        };
        dfs.seen[n] = Seen { num: 0, lowest: 0 };
        dfs.order.push(n as u32);
        dfs.parent.push(0);
        let mut root_succ = Vec::new();
        let mut listed = fixedbitset::FixedBitSet::with_capacity(n);
        for r in roots {
            if (r as usize) < n && !listed.put(r as usize) {
                root_succ.push(r);
            }
        }
        drop(listed);
        let real_roots = root_succ.len();
        for &r in &root_succ {
            dfs.run_from(r);
        }
        let reachable_below = dfs.order.len() as u32;
        dfs.live_below = reachable_below;
        for v in 0..n as u32 {
            if dfs.seen[v as usize].num == NONE {
                root_succ.push(v);
                dfs.run_from(v);
            }
        }
        let lowest_pred = dfs
            .order
            .iter()
            .map(|&v| dfs.seen[v as usize].lowest)
            .collect();
        let num = dfs.seen.iter().map(|s| s.num).collect();
        Graph {
            n,
            fwd_start,
            fwd,
            root_succ: root_succ.into(),
            real_roots,
            order: dfs.order.into(),
            num: Cow::Owned(num),
            parent: dfs.parent,
            reachable_below,
            edges: DfsEdges {
                lowest_pred,
                back: dfs.back,
            },
        }
    }

    /// The graph as an earlier search left it (read from an index): no search runs, and the
    /// dominator inputs are absent. The caller checked `searched` against `fwd_start`.
    pub fn searched(
        n: usize,
        fwd_start: &'a [u32],
        fwd: &'a [u32],
        searched: &'a Searched,
    ) -> Self {
        Graph {
            n,
            fwd_start,
            fwd,
            root_succ: Cow::Borrowed(&searched.root_succ),
            real_roots: searched.real_roots as usize,
            order: Cow::Borrowed(&searched.order),
            num: Cow::Borrowed(&searched.num),
            parent: Vec::new(),
            reachable_below: searched.reachable_below,
            edges: DfsEdges::default(),
        }
    }

    /// How many of the virtual root's successors are real roots.
    pub fn real_roots(&self) -> usize {
        self.real_roots
    }

    /// Numbers below this were reached from a real root.
    pub fn reachable_below(&self) -> u32 {
        self.reachable_below
    }

    /// Preorder numbers of every node (the virtual root's is 0).
    pub fn numbers(&self) -> &[u32] {
        &self.num
    }

    /// Objects (the virtual root is `self.root()`).
    pub fn objects(&self) -> usize {
        self.n
    }

    pub fn root(&self) -> u32 {
        self.n as u32
    }

    /// Successors of any node, the virtual root included.
    pub fn succ(&self, v: u32) -> &[u32] {
        let v = v as usize;
        if v == self.n {
            &self.root_succ
        } else {
            &self.fwd[self.fwd_start[v] as usize..self.fwd_start[v + 1] as usize]
        }
    }

    /// Where each object's forward edges start in the global edge order (`n + 1` offsets).
    pub fn edge_start(&self) -> &[u32] {
        self.fwd_start
    }

    /// Every object's forward edge targets, in edge order.
    pub fn edge_targets(&self) -> &[u32] {
        self.fwd
    }

    /// Whether some real root reaches the object.
    pub fn is_reachable(&self, v: u32) -> bool {
        self.num[v as usize] < self.reachable_below
    }

    /// The real roots, in the order given.
    pub fn roots(&self) -> &[u32] {
        &self.root_succ[..self.real_roots]
    }

    /// Nodes in DFS preorder, the virtual root first.
    pub fn preorder(&self) -> &[u32] {
        &self.order
    }

    /// Preorder number of a node.
    pub fn number(&self, v: u32) -> u32 {
        self.num[v as usize]
    }

    /// Preorder numbers of every number's DFS-tree parent.
    pub(crate) fn tree_parents(&self) -> &[u32] {
        &self.parent
    }

    pub(crate) fn dfs_edges(&self) -> &DfsEdges {
        &self.edges
    }

    /// Frees what only the dominator computation needs (8 bytes per back or cross edge and
    /// 4 per node); `Dominators::compute` must not be called on this graph afterwards.
    pub fn release_dominator_inputs(&mut self) {
        self.edges = DfsEdges::default();
    }
}

/// What the searches of a graph found, kept so that a later command need not search again
/// (an index stores it): the depth-first numbering, the dominator tree, the shortest-path
/// tree, and what follows from them in a pass over every object (retained sizes, the
/// ranking of retainers `top` lists, the garbage totals), so that a question about a few
/// objects reads only their entries.
#[derive(Debug, Default)]
pub struct Searched {
    /// Successors of the virtual root: roots first, then garbage-island entries.
    pub root_succ: Column<u32>,
    pub real_roots: u32,
    pub reachable_below: u32,
    /// Nodes in preorder (`n + 1`, the virtual root first).
    pub order: Column<u32>,
    /// Preorder number of each node (`n + 1`).
    pub num: Column<u32>,
    /// Immediate dominator of each node (`n + 1`).
    pub idom: Column<u32>,
    /// Shortest-path tree: the node each object was reached from and the edge (`n` each).
    pub path_parent: Column<u32>,
    pub path_via: Column<u32>,
    /// Steps from the path's root (`n`): each is one more than its parent's, so following
    /// parents ends (a walk checks it step by step).
    pub path_depth: Column<u32>,
    /// The largest blocks no single object retains, largest first (`top` shows them).
    pub shared: Vec<SharedBlock>,
    /// Own bytes plus owned buffers, per object (`n`).
    pub own: Column<u64>,
    /// Retained bytes per node (`n + 1`, the virtual root's, all bytes, last).
    pub retained: Column<u64>,
    /// The first retainers `top` lists, in its order (at most [`RANKED_KEPT`]), out of
    /// `ranked_of` in all.
    pub ranked: Column<u32>,
    pub ranked_of: u64,
    /// Objects no real root reaches, and their own bytes.
    pub unreachable: (u64, u64),
    /// What each type's instances retain, each counted once (`top --by type`), and each
    /// module's (`top --by module`), in the order `top` computes them.
    pub by_type: Vec<GroupRetained>,
    pub by_module: Vec<GroupRetained>,
}

/// Instances of one type (or of the types of one module) and the bytes they retain.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupRetained {
    pub key: String,
    pub count: u64,
    pub retained: u64,
}

/// How many of `top`'s retainers an index keeps in order (a longer `--limit` ranks again).
pub const RANKED_KEPT: usize = 10_000;

/// Objects directly under the virtual root, held by the same few top-level retainers.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SharedBlock {
    /// The retainers that share it, ascending ids (two or more).
    pub holders: Vec<u32>,
    /// Bytes its objects retain in all.
    pub retained: u64,
    /// How many objects.
    pub objects: u64,
    /// Its largest object.
    pub largest: u32,
}

/// Per object during the search: its preorder number and its lowest predecessor from below.
/// One record, so the visit and the edge checks touch one cache line, not two.
#[derive(Clone, Copy)]
struct Seen {
    num: u32,
    lowest: u32,
}

impl Seen {
    const NEW: Seen = Seen {
        num: NONE,
        lowest: NONE,
    };
}

/// A node on the search stack: its next and end edge indices and its number.
#[derive(Clone, Copy)]
struct Frame {
    next: u32,
    end: u32,
    num: u32,
}

/// Iterative depth-first search state: an explicit stack of frames.
struct Dfs<'a> {
    fwd_start: &'a [u32],
    fwd: &'a [u32],
    seen: Vec<Seen>,
    order: Vec<u32>,
    parent: Vec<u32>,
    back: Vec<(u32, u32)>,
    stack: Vec<Frame>,
    /// While garbage islands are searched: numbers below this were reached from a real
    /// root, and an edge from garbage into them is left out of the dominator computation.
    /// Garbage awaiting collection keeps nothing alive, so it must not share the
    /// dominance of live objects (mypy's checkers, in cycles not yet collected, would
    /// otherwise make its whole build "held jointly"). Zero while roots are searched.
    live_below: u32,
}

impl Dfs<'_> {
    /// Number `w`, reached from number `from`, and push its frame.
    fn visit(&mut self, w: u32, from: u32) {
        let num = self.order.len() as u32;
        self.seen[w as usize] = Seen { num, lowest: from };
        self.parent.push(from);
        self.order.push(w);
        let w = w as usize;
        self.stack.push(Frame {
            next: self.fwd_start[w],
            end: self.fwd_start[w + 1],
            num,
        });
    }

    /// Number everything unnumbered reachable from `r` (a child of the virtual root).
    fn run_from(&mut self, r: u32) {
        if self.seen[r as usize].num != NONE {
            // Another root got there first: the virtual root's edge is a forward edge.
            self.seen[r as usize].lowest = 0;
            return;
        }
        self.visit(r, 0);
        while let Some(top) = self.stack.last_mut() {
            if top.next == top.end {
                self.stack.pop();
                continue;
            }
            let e = top.next as usize;
            top.next += 1;
            let from = top.num;
            // The search is bound by memory latency: while this edge's target is checked,
            // fetch what the next edge will read, so the two misses overlap.
            if top.next < top.end {
                let next = self.fwd[e + 1] as usize;
                prefetch_index(&self.seen, next);
                prefetch_index(self.fwd_start, next);
            }
            let w = self.fwd[e];
            let seen = &mut self.seen[w as usize];
            if seen.num == NONE {
                self.visit(w, from);
            } else if seen.num > from {
                seen.lowest = seen.lowest.min(from);
            } else if seen.num < from && seen.num >= self.live_below {
                self.back.push((seen.num, from));
            }
        }
    }
}
