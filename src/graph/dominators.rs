//! Dominator tree by Semi-NCA (Georgiadis et al.; the variant LLVM uses) on flat u32 arrays,
//! every loop iterative, and retained sizes from it.
//!
//! It works in the preorder numbering of [`Graph`]'s depth-first search (the virtual root is
//! number 0): predecessors are first regrouped by number, so the semidominator loop reads
//! them contiguously, and a predecessor numbered below the node needs no lookup at all.

use super::Graph;

/// The dominator tree of a [`Graph`].
pub struct Dominators {
    /// Immediate dominator of each node (the virtual root's is itself). In the graph's
    /// preorder a dominator precedes the nodes it dominates, which `retained` relies on.
    idom: Vec<u32>,
}

impl Dominators {
    pub fn compute(g: &Graph) -> Self {
        let order = g.preorder();
        let count = order.len();
        // 1. Predecessors by number (counting sort over every edge, the root's included).
        // Edges are scanned in id order with their targets' numbers recorded by the DFS, so
        // both passes read sequentially.
        let n = g.objects();
        let root_succ = g.succ(g.root());
        let mut pstart = vec![0u32; count + 1];
        for &w in root_succ {
            pstart[g.number(w) as usize + 1] += 1;
        }
        for v in 0..n as u32 {
            for &j in g.succ_numbers(v) {
                pstart[j as usize + 1] += 1;
            }
        }
        for i in 1..pstart.len() {
            pstart[i] += pstart[i - 1];
        }
        let mut fill = pstart.clone();
        let mut preds = vec![0u32; pstart[count] as usize];
        for &w in root_succ {
            let j = g.number(w) as usize;
            preds[fill[j] as usize] = 0;
            fill[j] += 1;
        }
        for v in 0..n as u32 {
            let i = g.number(v);
            for &j in g.succ_numbers(v) {
                preds[fill[j as usize] as usize] = i;
                fill[j as usize] += 1;
            }
        }
        drop(fill);
        // 2. Semidominators in reverse preorder, with path-compressed eval. The forest's
        // state per number lives in one 8-byte record (ancestor, semidominator of its label)
        // so a step of eval costs one cache miss, not three. The label itself is never needed:
        // only its semidominator is compared or returned.
        let parent: Vec<u32> = (0..count as u32).map(|i| g.tree_parent(i)).collect();
        let mut semi: Vec<u32> = (0..count as u32).collect();
        let mut forest: Vec<Link> = (0..count as u32)
            .map(|i| Link {
                ancestor: parent[i as usize],
                label_semi: i,
            })
            .collect();
        let mut path: Vec<u32> = Vec::new();
        for w in (1..count).rev() {
            let mut s = parent[w];
            for &v in &preds[pstart[w] as usize..pstart[w + 1] as usize] {
                // Not yet processed (numbered below w): its own number is the candidate.
                let cand = if (v as usize) <= w {
                    v
                } else {
                    eval(v, w as u32 + 1, &mut forest, &mut path)
                };
                s = s.min(cand);
            }
            semi[w] = s;
            forest[w].label_semi = s;
        }
        drop((forest, preds, pstart));
        // 3. Immediate dominators: the nearest ancestor at or above the semidominator.
        let mut idom_num = parent;
        for w in 1..count {
            let mut d = idom_num[w];
            while d > semi[w] {
                d = idom_num[d as usize];
            }
            idom_num[w] = d;
        }
        let mut idom = vec![g.root(); count];
        for (w, &d) in idom_num.iter().enumerate() {
            idom[order[w] as usize] = order[d as usize];
        }
        Dominators { idom }
    }

    /// Immediate dominator of `v` (the virtual root for roots and island entries).
    pub fn idom(&self, v: u32) -> u32 {
        self.idom[v as usize]
    }

    /// Retained size of every node: its own bytes plus the bytes of all it dominates.
    /// `sizes` has one entry per object; the result has one more, the virtual root's total.
    pub fn retained(&self, g: &Graph, sizes: &[u64]) -> Vec<u64> {
        let mut out: Vec<u64> = sizes.to_vec();
        out.push(0);
        for &v in g.preorder().iter().skip(1).rev() {
            let d = self.idom[v as usize] as usize;
            out[d] += out[v as usize];
        }
        out
    }

    /// Children lists of the dominator tree as CSR: (start offsets, children).
    pub fn children(&self, g: &Graph) -> (Vec<u32>, Vec<u32>) {
        let order = g.preorder();
        let total = self.idom.len();
        let mut start = vec![0u32; total + 1];
        for &v in order.iter().skip(1) {
            start[self.idom[v as usize] as usize + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut fill = start.clone();
        let mut kids = vec![0u32; order.len().saturating_sub(1)];
        for &v in order.iter().skip(1) {
            let d = self.idom[v as usize] as usize;
            kids[fill[d] as usize] = v;
            fill[d] += 1;
        }
        (start, kids)
    }
}

/// Per preorder number: the node's link in the forest being built, and the smallest
/// semidominator on its compressed path (the semidominator of its "label").
#[derive(Clone, Copy)]
struct Link {
    ancestor: u32,
    label_semi: u32,
}

/// Semi-NCA's eval with iterative path compression (numbers >= `last_linked` are linked):
/// the smallest semidominator on the path from `v` up to its linked tree's top.
fn eval(v: u32, last_linked: u32, forest: &mut [Link], path: &mut Vec<u32>) -> u32 {
    let lv = forest[v as usize];
    if lv.ancestor < last_linked {
        return lv.label_semi;
    }
    path.clear();
    let mut x = v;
    while forest[x as usize].ancestor >= last_linked {
        path.push(x);
        x = forest[x as usize].ancestor;
    }
    // x is the top of v's linked tree; compress the path below it, top down.
    let mut top = forest[x as usize];
    while let Some(y) = path.pop() {
        let ly = &mut forest[y as usize];
        ly.ancestor = top.ancestor;
        if top.label_semi < ly.label_semi {
            ly.label_semi = top.label_semi;
        }
        top = *ly;
    }
    forest[v as usize].label_semi
}
