//! The object graph: forward and reverse CSR over dense ids, plus one virtual root.
//!
//! Node `n` (one past the last object) is the virtual root. Its successors are the snapshot's
//! roots and, after them, one entry per island of objects that no root reaches (garbage
//! cycles awaiting collection), so every object has a dominator. Nothing here recurses: heap
//! graphs hold chains of millions of objects.

pub mod dominators;
pub mod paths;

use fixedbitset::FixedBitSet;

/// Forward and reverse adjacency of the heap plus the virtual root.
pub struct Graph<'a> {
    n: usize,
    fwd_start: &'a [u32],
    fwd: &'a [u32],
    /// Successors of the virtual root: roots first, then garbage-island entries.
    root_succ: Vec<u32>,
    /// How many of `root_succ` are real roots.
    real_roots: usize,
    /// Objects reachable from a real root.
    reachable: FixedBitSet,
    rev_start: Vec<u32>,
    /// Predecessors; `n` stands for the virtual root.
    rev: Vec<u32>,
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
        let mut root_succ = Vec::new();
        let mut reachable = FixedBitSet::with_capacity(n);
        let mut stack = Vec::new();
        for r in roots {
            if (r as usize) < n && !reachable.put(r as usize) {
                root_succ.push(r);
                stack.push(r);
            }
        }
        let real_roots = root_succ.len();
        mark_from(&mut stack, &mut reachable, fwd_start, fwd);
        let mut seen = reachable.clone();
        for v in 0..n {
            if !seen.put(v) {
                root_succ.push(v as u32);
                stack.push(v as u32);
                mark_from(&mut stack, &mut seen, fwd_start, fwd);
            }
        }
        let (rev_start, rev) = reverse(n, fwd_start, fwd, &root_succ);
        Graph {
            n,
            fwd_start,
            fwd,
            root_succ,
            real_roots,
            reachable,
            rev_start,
            rev,
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

    /// Predecessors of an object (`self.root()` among them for roots and island entries).
    pub fn pred(&self, v: u32) -> &[u32] {
        let v = v as usize;
        &self.rev[self.rev_start[v] as usize..self.rev_start[v + 1] as usize]
    }

    /// Whether some real root reaches the object.
    pub fn is_reachable(&self, v: u32) -> bool {
        self.reachable.contains(v as usize)
    }

    /// The real roots, in the order given.
    pub fn roots(&self) -> &[u32] {
        &self.root_succ[..self.real_roots]
    }
}

fn mark_from(stack: &mut Vec<u32>, seen: &mut FixedBitSet, fwd_start: &[u32], fwd: &[u32]) {
    while let Some(v) = stack.pop() {
        for &w in &fwd[fwd_start[v as usize] as usize..fwd_start[v as usize + 1] as usize] {
            if !seen.put(w as usize) {
                stack.push(w);
            }
        }
    }
}

/// Reverse CSR by counting sort (objects' in-edges, then the virtual root's out-edges).
fn reverse(n: usize, fwd_start: &[u32], fwd: &[u32], root_succ: &[u32]) -> (Vec<u32>, Vec<u32>) {
    let mut start = vec![0u32; n + 2];
    for &w in fwd.iter().chain(root_succ) {
        start[w as usize + 1] += 1;
    }
    for i in 1..start.len() {
        start[i] += start[i - 1];
    }
    let mut fill = start.clone();
    let mut rev = vec![0u32; fwd.len() + root_succ.len()];
    for v in 0..n {
        for &w in &fwd[fwd_start[v] as usize..fwd_start[v + 1] as usize] {
            rev[fill[w as usize] as usize] = v as u32;
            fill[w as usize] += 1;
        }
    }
    for &w in root_succ {
        rev[fill[w as usize] as usize] = n as u32;
        fill[w as usize] += 1;
    }
    (start, rev)
}
