//! Dominator tree by Semi-NCA (Georgiadis et al.; the variant LLVM uses) on flat u32 arrays,
//! every loop iterative, and retained sizes from it.
//!
//! Arrays are indexed by DFS preorder number; the virtual root is number 0. An object no
//! path reaches cannot occur: [`Graph`] hangs every unreachable island off the root.

use super::Graph;

const NONE: u32 = u32::MAX;

/// The dominator tree of a [`Graph`].
pub struct Dominators {
    /// Immediate dominator of each node (the virtual root's is itself).
    idom: Vec<u32>,
    /// Nodes in DFS preorder (`order[0]` is the virtual root); a dominator precedes the
    /// nodes it dominates.
    order: Vec<u32>,
}

impl Dominators {
    pub fn compute(g: &Graph) -> Self {
        let total = g.objects() + 1;
        let root = g.root();
        // 1. Iterative DFS from the virtual root: preorder numbers and DFS-tree parents.
        let mut num = vec![NONE; total];
        let mut order: Vec<u32> = Vec::with_capacity(total);
        let mut parent: Vec<u32> = Vec::with_capacity(total);
        let mut stack: Vec<(u32, u32)> = vec![(root, 0)];
        num[root as usize] = 0;
        order.push(root);
        parent.push(0);
        while let Some(top) = stack.last_mut() {
            let (v, i) = *top;
            let succ = g.succ(v);
            if (i as usize) < succ.len() {
                top.1 += 1;
                let w = succ[i as usize];
                if num[w as usize] == NONE {
                    num[w as usize] = order.len() as u32;
                    parent.push(num[v as usize]);
                    order.push(w);
                    stack.push((w, 0));
                }
            } else {
                stack.pop();
            }
        }
        drop(stack);
        let count = order.len();
        // 2. Semidominators in reverse preorder, with path-compressed eval.
        let mut semi: Vec<u32> = (0..count as u32).collect();
        let mut label: Vec<u32> = (0..count as u32).collect();
        let mut ancestor = parent.clone();
        let mut path: Vec<u32> = Vec::new();
        for w in (1..count).rev() {
            let mut s = parent[w];
            for &p in g.pred(order[w]) {
                let v = num[p as usize];
                if v == NONE {
                    continue;
                }
                let u = eval(v, w as u32 + 1, &mut ancestor, &mut label, &semi, &mut path);
                s = s.min(semi[u as usize]);
            }
            semi[w] = s;
        }
        drop(label);
        drop(ancestor);
        // 3. Immediate dominators: the nearest ancestor at or above the semidominator.
        let mut idom_num = parent;
        for w in 1..count {
            let mut d = idom_num[w];
            while d > semi[w] {
                d = idom_num[d as usize];
            }
            idom_num[w] = d;
        }
        let mut idom = vec![root; total];
        for (w, &d) in idom_num.iter().enumerate() {
            idom[order[w] as usize] = order[d as usize];
        }
        Dominators { idom, order }
    }

    /// Immediate dominator of `v` (the virtual root for roots and island entries).
    pub fn idom(&self, v: u32) -> u32 {
        self.idom[v as usize]
    }

    /// Nodes in DFS preorder, virtual root first.
    pub fn preorder(&self) -> &[u32] {
        &self.order
    }

    /// Retained size of every node: its own bytes plus the bytes of all it dominates.
    /// `sizes` has one entry per object; the result has one more, the virtual root's total.
    pub fn retained(&self, sizes: &[u64]) -> Vec<u64> {
        let mut out: Vec<u64> = sizes.to_vec();
        out.push(0);
        for &v in self.order.iter().skip(1).rev() {
            let d = self.idom[v as usize] as usize;
            out[d] += out[v as usize];
        }
        out
    }

    /// Children lists of the dominator tree as CSR: (start offsets, children).
    pub fn children(&self) -> (Vec<u32>, Vec<u32>) {
        let total = self.idom.len();
        let mut start = vec![0u32; total + 1];
        for &v in self.order.iter().skip(1) {
            start[self.idom[v as usize] as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut fill = start.clone();
        let mut kids = vec![0u32; self.order.len().saturating_sub(1)];
        for &v in self.order.iter().skip(1) {
            let d = self.idom[v as usize] as usize;
            kids[fill[d] as usize] = v;
            fill[d] += 1;
        }
        (start, kids)
    }
}

/// Semi-NCA's eval with iterative path compression (ancestors linked when number >= last).
fn eval(
    v: u32,
    last_linked: u32,
    ancestor: &mut [u32],
    label: &mut [u32],
    semi: &[u32],
    path: &mut Vec<u32>,
) -> u32 {
    if ancestor[v as usize] < last_linked {
        return label[v as usize];
    }
    path.clear();
    let mut x = v;
    while ancestor[x as usize] >= last_linked {
        path.push(x);
        x = ancestor[x as usize];
    }
    // x is the first unlinked ancestor; compress the path below it, top down.
    let mut p = x;
    let mut p_label = label[p as usize];
    while let Some(y) = path.pop() {
        ancestor[y as usize] = ancestor[p as usize];
        let y_label = label[y as usize];
        if semi[p_label as usize] < semi[y_label as usize] {
            label[y as usize] = p_label;
        } else {
            p_label = y_label;
        }
        p = y;
    }
    label[v as usize]
}
