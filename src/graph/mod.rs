//! The object graph: forward CSR over dense ids, one virtual root, and a depth-first
//! spanning forest of it.
//!
//! Node `n` (one past the last object) is the virtual root. Its successors are the snapshot's
//! roots and, after them, one entry per island of objects that no root reaches (garbage
//! cycles awaiting collection), so every object has a dominator. One iterative depth-first
//! search numbers every node in preorder and finds those islands; the dominator computation
//! reuses it. Nothing here recurses: heap graphs hold chains of millions of objects.

pub mod dominators;
pub mod paths;

const NONE: u32 = u32::MAX;

/// Forward adjacency of the heap plus the virtual root, with its DFS spanning forest.
pub struct Graph<'a> {
    n: usize,
    fwd_start: &'a [u32],
    fwd: &'a [u32],
    /// Successors of the virtual root: roots first, then garbage-island entries.
    root_succ: Vec<u32>,
    /// How many of `root_succ` are real roots.
    real_roots: usize,
    /// Nodes in DFS preorder; `order[0]` is the virtual root.
    order: Vec<u32>,
    /// Preorder number of each node.
    num: Vec<u32>,
    /// Preorder number of each number's DFS-tree parent.
    parent: Vec<u32>,
    /// Numbers below this were reached from a real root.
    reachable_below: u32,
    /// Preorder number of each forward edge's target (parallel to `fwd`).
    edge_num: Vec<u32>,
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
            num: vec![NONE; n + 1],
            order: Vec::with_capacity(n + 1),
            parent: Vec::with_capacity(n + 1),
            stack: Vec::new(),
            edge_num: vec![NONE; fwd.len()],
        };
        dfs.num[n] = 0;
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
        for v in 0..n as u32 {
            if dfs.num[v as usize] == NONE {
                root_succ.push(v);
                dfs.run_from(v);
            }
        }
        Graph {
            n,
            fwd_start,
            fwd,
            root_succ,
            real_roots,
            order: dfs.order,
            num: dfs.num,
            parent: dfs.parent,
            reachable_below,
            edge_num: dfs.edge_num,
        }
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

    /// Preorder numbers of the targets of `v`'s forward edges (an object's, not the root's).
    pub fn succ_numbers(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.edge_num[self.fwd_start[v] as usize..self.fwd_start[v + 1] as usize]
    }

    /// Preorder number of the DFS-tree parent of number `i`.
    pub fn tree_parent(&self, i: u32) -> u32 {
        self.parent[i as usize]
    }
}

/// Iterative depth-first search state: an explicit stack of (node, next edge).
struct Dfs<'a> {
    fwd_start: &'a [u32],
    fwd: &'a [u32],
    num: Vec<u32>,
    order: Vec<u32>,
    parent: Vec<u32>,
    stack: Vec<(u32, u32)>,
    edge_num: Vec<u32>,
}

impl Dfs<'_> {
    fn visit(&mut self, w: u32, from: u32) {
        self.num[w as usize] = self.order.len() as u32;
        self.parent.push(from);
        self.order.push(w);
        self.stack.push((w, self.fwd_start[w as usize]));
    }

    /// Number everything unnumbered reachable from `r` (a child of the virtual root).
    fn run_from(&mut self, r: u32) {
        if self.num[r as usize] != NONE {
            return;
        }
        self.visit(r, 0);
        while let Some(&(v, e)) = self.stack.last() {
            if e < self.fwd_start[v as usize + 1] {
                self.stack.last_mut().expect("non-empty").1 += 1;
                let w = self.fwd[e as usize];
                if self.num[w as usize] == NONE {
                    let from = self.num[v as usize];
                    self.visit(w, from);
                }
                self.edge_num[e as usize] = self.num[w as usize];
            } else {
                self.stack.pop();
            }
        }
    }
}
