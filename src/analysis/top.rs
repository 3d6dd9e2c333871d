//! `top`: the biggest retainers (dominator tree) and what types or modules retain.

use super::joint::{joint_blocks, JointBlock};
use super::overview::{facts, SnapshotFacts};
use super::python_path::{hex, path_to, PyPath};
use super::retention::Retention;
use crate::graph::GroupRetained;
use crate::snapshot::{ObjId, TypeInfo};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TopBy {
    Object,
    Type,
    Module,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopObject {
    pub addr: String,
    #[serde(rename = "type")]
    pub type_name: String,
    /// Own bytes plus owned buffers.
    pub own: u64,
    pub retained: u64,
    /// Share of all bytes, 0..=1.
    pub share: f64,
    pub path: Option<PyPath>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TopGroup {
    pub key: String,
    pub count: u64,
    /// Bytes retained by the group's instances, each counted once (an instance inside
    /// another instance of the same group is not counted again).
    pub retained: u64,
    pub share: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Top {
    pub snapshot: SnapshotFacts,
    pub by: TopBy,
    pub total_bytes: u64,
    pub unreachable_objects: u64,
    pub unreachable_bytes: u64,
    pub objects: Vec<TopObject>,
    pub groups: Vec<TopGroup>,
    /// With `--by object`: the largest blocks no single object retains, each held jointly
    /// by the same few retainers (at most five).
    pub joint: Vec<JointBlock>,
}

/// Joint blocks listed beside the biggest retainers.
const JOINT_BLOCKS: usize = 5;

/// A retainer is skipped when one object it dominates holds this much of it: the child
/// tells the same story more precisely (a module → its dict → the container that matters).
const TRANSPARENT: f64 = 0.9;

pub fn top(r: &Retention, by: TopBy, limit: usize) -> Top {
    let (unreachable_objects, unreachable_bytes) = r.unreachable();
    let total = r.total();
    let mut out = Top {
        snapshot: facts(r.snap),
        by,
        total_bytes: total,
        unreachable_objects,
        unreachable_bytes,
        objects: Vec::new(),
        groups: Vec::new(),
        joint: Vec::new(),
    };
    let share = |b: u64| {
        if total > 0 {
            b as f64 / total as f64
        } else {
            0.0
        }
    };
    match by {
        TopBy::Object => {
            out.objects = biggest_retainers(r, limit)
                .into_iter()
                .map(|id| TopObject {
                    addr: hex(r.snap.objects.addr[id.index()]),
                    type_name: r.snap.type_of(id).name.clone(),
                    own: r.own[id.index()],
                    retained: r.retained(id),
                    share: share(r.retained(id)),
                    path: path_to(r, id),
                })
                .collect();
            out.joint = joint_blocks(r, JOINT_BLOCKS.min(limit));
        }
        TopBy::Type | TopBy::Module => {
            let mut groups = retained_by_group(r, by);
            groups.sort_by(|a, b| b.retained.cmp(&a.retained).then(a.key.cmp(&b.key)));
            groups.truncate(limit);
            for g in &mut groups {
                g.share = share(g.retained);
            }
            out.groups = groups;
        }
    }
    out
}

/// Objects by retained size, largest first, skipping transparent ones: the ranking an index
/// kept when it holds `limit` of them, else ranked now.
pub fn biggest_retainers(r: &Retention, limit: usize) -> Vec<ObjId> {
    if let Some(kept) = r.kept() {
        if limit <= kept.ranked.len() || kept.ranked.len() as u64 == kept.ranked_of {
            return kept.ranked.iter().take(limit).map(|&v| ObjId(v)).collect();
        }
    }
    rank_retainers(r, limit).0.into_iter().map(ObjId).collect()
}

/// The first `limit` retainers in `top`'s order (retained bytes descending, then id), and
/// how many objects are not transparent in all.
pub fn rank_retainers(r: &Retention, limit: usize) -> (Vec<u32>, u64) {
    let n = r.graph.objects();
    let mut max_child = vec![0u64; n];
    for v in 0..n as u32 {
        let d = r.doms.idom(v);
        if (d as usize) < n {
            max_child[d as usize] = max_child[d as usize].max(r.retained[v as usize]);
        }
    }
    let mut cand: Vec<u32> = (0..n as u32)
        .filter(|&v| (max_child[v as usize] as f64) < TRANSPARENT * r.retained[v as usize] as f64)
        .collect();
    let all = cand.len() as u64;
    let key = |v: &u32| std::cmp::Reverse((r.retained[*v as usize], std::cmp::Reverse(*v)));
    if cand.len() > limit {
        cand.select_nth_unstable_by_key(limit, key);
        cand.truncate(limit);
    }
    cand.sort_unstable_by_key(key);
    (cand, all)
}

/// Retained bytes per type or module, each instance counted once: as an index kept them,
/// else computed.
pub(crate) fn retained_by_group(r: &Retention, by: TopBy) -> Vec<TopGroup> {
    let groups = match r.kept() {
        Some(kept) if by == TopBy::Module => kept.by_module.clone(),
        Some(kept) => kept.by_type.clone(),
        None => {
            let [types, modules] = retained_by_groups(r);
            if by == TopBy::Module {
                modules
            } else {
                types
            }
        }
    };
    groups
        .into_iter()
        .map(|g| TopGroup {
            key: g.key,
            count: g.count,
            retained: g.retained,
            share: 0.0,
        })
        .collect()
}

/// Retained bytes per type and per module, each instance counted once: one depth-first
/// walk of the dominator tree adds an object's retained size to its group only when no
/// dominator above it is in the same group. Groups in the order of the type table.
pub(crate) fn retained_by_groups(r: &Retention) -> [Vec<GroupRetained>; 2] {
    let snap = r.snap;
    let grouping = |key: fn(&TypeInfo) -> &str| {
        let mut keys: Vec<&str> = Vec::new();
        let mut index: HashMap<&str, u32> = HashMap::new();
        let of_type: Vec<u32> = snap
            .types
            .iter()
            .map(|t| {
                *index.entry(key(t)).or_insert_with(|| {
                    keys.push(key(t));
                    keys.len() as u32 - 1
                })
            })
            .collect();
        (keys, of_type)
    };
    let groupings = [
        grouping(|t: &TypeInfo| t.name.as_str()),
        grouping(|t: &TypeInfo| t.module.as_str()),
    ];
    let mut count: [Vec<u64>; 2] = [0, 1].map(|i| vec![0u64; groupings[i].0.len()]);
    let mut retained = count.clone();
    let mut active: [Vec<u32>; 2] = [0, 1].map(|i| vec![0u32; groupings[i].0.len()]);
    let (start, kids) = r.doms.children(&r.graph);
    let root = r.graph.root();
    let group =
        |i: usize, v: u32| groupings[i].1[snap.objects.type_id[v as usize] as usize] as usize;
    let mut stack: Vec<(u32, u32)> = vec![(root, start[root as usize])];
    while let Some(top) = stack.last_mut() {
        let (v, next) = *top;
        if next < start[v as usize + 1] {
            top.1 += 1;
            let w = kids[next as usize];
            for i in 0..2 {
                let g = group(i, w);
                if active[i][g] == 0 {
                    retained[i][g] = retained[i][g].saturating_add(r.retained[w as usize]);
                }
                active[i][g] += 1;
                count[i][g] += 1;
            }
            stack.push((w, start[w as usize]));
        } else {
            stack.pop();
            if v != root {
                for (i, a) in active.iter_mut().enumerate() {
                    a[group(i, v)] -= 1;
                }
            }
        }
    }
    [0, 1].map(|i| {
        groupings[i]
            .0
            .iter()
            .enumerate()
            .filter(|(g, _)| count[i][*g] > 0)
            .map(|(g, key)| GroupRetained {
                key: key.to_string(),
                count: count[i][g],
                retained: retained[i][g],
            })
            .collect()
    })
}
