//! Judging a leak root's growth: net of the leak roots nested under it in the dominator
//! tree, by at least the minimum in every round, and whether built-in noise patterns still
//! apply to it.

use super::leaks::LeakRoot;
use super::retention::Retention;
use fixedbitset::FixedBitSet;

/// Entries a root must gain in every round, on average, for the built-in suppressions to
/// stop applying to it ("hundreds of entries in every round is never noise").
pub const NOISE_ENTRIES_PER_ROUND: f64 = 100.0;

/// Entries rose between every pair of snapshots, by `NOISE_ENTRIES_PER_ROUND` or more a round.
pub fn sustained_entries(row: &LeakRoot) -> bool {
    let known = row.entries.iter().all(Option::is_some) && row.entries.len() >= 2;
    known
        && row.entries.windows(2).all(|w| w[1] > w[0])
        && row
            .entries_per_round
            .is_some_and(|e| e >= NOISE_ENTRIES_PER_ROUND)
}

/// Per row: the bytes, in each snapshot, that the leak roots nested directly under it (their
/// measuring node strictly dominated by its own, with no other root between) retain. Each
/// node's nearest root at or above it is found once, walking up the dominator tree with
/// memoisation, so the whole costs O(objects) at worst, whatever the depth.
pub fn nested_retained(
    r: &Retention,
    measures: &[u32],
    retained: &[&[Option<u64>]],
) -> Vec<Vec<u64>> {
    const UNKNOWN: u32 = u32::MAX;
    const NONE: u32 = u32::MAX - 1;
    let root = r.graph.root();
    let snaps = retained.first().map_or(0, |r| r.len());
    let mut out = vec![vec![0u64; snaps]; retained.len()];
    let mut is_row = FixedBitSet::with_capacity(root as usize + 1);
    for &m in measures.iter().filter(|&&m| m != root) {
        is_row.insert(m as usize);
    }
    // nearest[v]: the nearest row node at or above v, NONE if there is none.
    let mut nearest = vec![UNKNOWN; root as usize + 1];
    nearest[root as usize] = NONE;
    let mut chain: Vec<u32> = Vec::new();
    let mut nearest_of = |start: u32| -> u32 {
        let mut v = start;
        chain.clear();
        // A climb longer than there are nodes goes round a cycle only a damaged dominator
        // tree has: it finds no row.
        let found = loop {
            if nearest[v as usize] != UNKNOWN {
                break nearest[v as usize];
            }
            if is_row.contains(v as usize) {
                break v;
            }
            if chain.len() > root as usize {
                break NONE;
            }
            chain.push(v);
            v = r.doms.idom(v);
        };
        for &c in &chain {
            nearest[c as usize] = found;
        }
        nearest[v as usize] = found;
        found
    };
    // Rows by their measuring node (several rows may share one).
    let mut by_node: Vec<(u32, usize)> =
        measures.iter().enumerate().map(|(i, &m)| (m, i)).collect();
    by_node.sort_unstable();
    for (i, &m) in measures.iter().enumerate() {
        if m == root || !r.graph.is_reachable(m) {
            continue;
        }
        let parent = nearest_of(r.doms.idom(m));
        if parent == NONE {
            continue;
        }
        let first = by_node.partition_point(|&(n, _)| n < parent);
        for &(_, j) in by_node[first..].iter().take_while(|&&(n, _)| n == parent) {
            for (k, x) in retained[i].iter().enumerate() {
                out[j][k] = out[j][k].saturating_add(x.unwrap_or(0));
            }
        }
    }
    out
}

/// Whether a root grew, by how much, and whether that counts as a leak, judged on what it
/// retains net of the leak roots nested under it (reported on their own).
pub fn judge(row: &mut LeakRoot, nested: &[u64], snapshots: usize, min_growth: u64) {
    let rounds = (snapshots - 1) as i64;
    let own: Vec<Option<u64>> = row
        .retained
        .iter()
        .zip(nested)
        .map(|(x, n)| x.map(|x| x.saturating_sub(*n)))
        .collect();
    let rising =
        |xs: &[Option<u64>]| xs.iter().all(Option::is_some) && xs.windows(2).all(|w| w[1] > w[0]);
    // A bounded container (a deque's maxlen, an lru_cache's maxsize) that stays at its bound
    // does not leak by its entries' replacements: its storage (a deque's blocks, now counted)
    // and the sizes of the items it cycles through move a little either way.
    let at_bound = row.bound.is_some_and(|b| {
        row.entries.len() >= 2
            && row.entries[row.entries.len() - 2..]
                .iter()
                .all(|e| *e == Some(b))
    });
    row.first_seen = row.retained.iter().position(Option::is_some).unwrap_or(0);
    row.grew_every_round = rising(&row.entries) || (rising(&own) && !at_bound);
    // Without the retained size at both ends, the bytes charged to it stand in.
    row.growth_bytes = match (own.first(), own.last()) {
        (Some(Some(a)), Some(Some(b))) => *b as i64 - *a as i64,
        _ => row.new_bytes as i64,
    };
    row.nested_growth_bytes = match (row.retained.first(), row.retained.last()) {
        (Some(Some(a)), Some(Some(b))) => (*b as i64 - *a as i64) - row.growth_bytes,
        _ => 0,
    };
    row.growth_per_round = row.growth_bytes / rounds;
    // By at least the minimum in every round, as documented (not only on average): a root
    // that grew by a few bytes in one round and by more in the next is not a leak.
    let min = min_growth as i64;
    let enough = if own.iter().all(Option::is_some) {
        own.windows(2)
            .all(|w| w[1].unwrap_or(0) as i64 - w[0].unwrap_or(0) as i64 >= min)
    } else {
        row.growth_per_round >= min
    };
    // A bounded container stops growing at its bound: reported with that bound and what it
    // will hold there, not counted.
    row.leak = row.grew_every_round && enough && row.bound.is_none();
}
