//! Shortest paths from the roots: one breadth-first search records, for every object, the
//! edge it was first reached through. Roots are tried in tiers (named roots such as modules
//! and thread frames first, then objects held from outside, then garbage islands), so a path
//! starts from a root a programmer can name whenever one reaches the object.

use super::Graph;
use prefetch_index::prefetch_index;
use std::borrow::Cow;

/// `parent` of an object no tier reaches.
pub const UNSEEN: u32 = u32::MAX;
/// `parent` of a root a path starts at.
pub const IS_ROOT: u32 = u32::MAX - 1;

pub struct ShortestPaths<'a> {
    /// Node each object was reached from; `IS_ROOT` for tier roots, `UNSEEN` otherwise.
    parent: Cow<'a, [u32]>,
    /// Global forward-edge index of that step.
    via: Cow<'a, [u32]>,
    /// Steps from the root the path starts at (`UNSEEN` when none reaches the object).
    depth: Cow<'a, [u32]>,
}

/// One step of a path: the object, and the edge (global index) that led to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    pub node: u32,
    /// `None` for the root the path starts at.
    pub edge: Option<u32>,
}

impl<'a> ShortestPaths<'a> {
    /// The tree as an earlier search left it (read from an index and checked: every chain
    /// of parents ends at a root).
    pub fn from_tree(parent: &'a [u32], via: &'a [u32], depth: &'a [u32]) -> Self {
        ShortestPaths {
            parent: Cow::Borrowed(parent),
            via: Cow::Borrowed(via),
            depth: Cow::Borrowed(depth),
        }
    }

    /// Per object: the node it was reached from (or [`IS_ROOT`], [`UNSEEN`]), the edge, and
    /// the steps from its path's root.
    pub fn tree(&self) -> (&[u32], &[u32], &[u32]) {
        (&self.parent, &self.via, &self.depth)
    }

    /// BFS over `g`, tier by tier; nodes of later tiers already reached are skipped.
    pub fn compute(g: &Graph, tiers: &[&[u32]]) -> ShortestPaths<'static> {
        let n = g.objects();
        let edge_start = g.edge_start();
        let mut parent = vec![UNSEEN; n];
        let mut via = vec![UNSEEN; n];
        let mut depth = vec![UNSEEN; n];
        // Every object enters the queue at most once, so a vector and a head index do.
        let mut queue: Vec<u32> = Vec::new();
        let mut head = 0;
        for tier in tiers {
            for &r in *tier {
                if (r as usize) < n && parent[r as usize] == UNSEEN {
                    parent[r as usize] = IS_ROOT;
                    depth[r as usize] = 0;
                    queue.push(r);
                }
            }
            while head < queue.len() {
                fetch_ahead(g, &parent, &queue, head);
                let v = queue[head];
                head += 1;
                let first = edge_start[v as usize];
                for (i, &w) in g.succ(v).iter().enumerate() {
                    if parent[w as usize] == UNSEEN {
                        parent[w as usize] = v;
                        via[w as usize] = first + i as u32;
                        depth[w as usize] = depth[v as usize] + 1;
                        queue.push(w);
                    }
                }
            }
        }
        ShortestPaths {
            parent: parent.into(),
            via: via.into(),
            depth: depth.into(),
        }
    }

    pub fn reached(&self, v: u32) -> bool {
        self.parent[v as usize] != UNSEEN
    }

    /// Root first, `v` last; empty when no tier reaches `v`. Each step up must be one
    /// shallower than the last (a tree read from an index is checked here, as it is walked):
    /// a chain that is not is no path, so the walk ends after at most `depth` steps.
    pub fn path(&self, v: u32) -> Vec<Step> {
        if !self.reached(v) {
            return Vec::new();
        }
        let n = self.parent.len();
        let mut out = Vec::with_capacity((self.depth[v as usize] as usize).min(n) + 1);
        let mut x = v;
        loop {
            let p = self.parent[x as usize];
            let depth = self.depth[x as usize];
            if p == IS_ROOT {
                if depth != 0 {
                    return Vec::new();
                }
                out.push(Step {
                    node: x,
                    edge: None,
                });
                break;
            }
            if p as usize >= n || self.depth[p as usize].checked_add(1) != Some(depth) {
                return Vec::new();
            }
            out.push(Step {
                node: x,
                edge: Some(self.via[x as usize]),
            });
            x = p;
        }
        out.reverse();
        out
    }
}

/// The search is bound by memory latency on a large heap. The queue says which nodes come
/// next, so their records are fetched in stages a few nodes ahead: first where their edges
/// start, then the edges, then the targets' parent slots, each stage reading what the
/// previous one fetched.
fn fetch_ahead(g: &Graph, parent: &[u32], queue: &[u32], head: usize) {
    let edge_start = g.edge_start();
    if let Some(&v) = queue.get(head + 12) {
        prefetch_index(edge_start, v as usize);
    }
    if let Some(&v) = queue.get(head + 8) {
        prefetch_index(g.edge_targets(), edge_start[v as usize] as usize);
    }
    if let Some(&v) = queue.get(head + 4) {
        for &w in g.succ(v) {
            prefetch_index(parent, w as usize);
        }
    }
}
