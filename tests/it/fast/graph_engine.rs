//! The graph engine against brute force and petgraph's `simple_fast` (the oracle, not the
//! engine), plus the shapes that break recursive tools.

use proptest::prelude::*;
use pymem::graph::dominators::Dominators;
use pymem::graph::Graph;

struct Csr {
    start: Vec<u32>,
    targets: Vec<u32>,
}

fn csr(n: usize, edges: &[(u32, u32)]) -> Csr {
    let mut adj = vec![Vec::new(); n];
    for &(a, b) in edges {
        adj[a as usize].push(b);
    }
    let mut start = vec![0u32];
    let mut targets = Vec::new();
    for list in adj {
        targets.extend(list);
        start.push(targets.len() as u32);
    }
    Csr { start, targets }
}

/// Whether the edge v → w counts for dominance: garbage (what no root reaches) keeps nothing
/// alive, so its edges into live objects do not.
fn counts(g: &Graph, v: u32, w: u32) -> bool {
    v == g.root() || g.is_reachable(v) || !g.is_reachable(w)
}

/// Bytes no longer reachable from the virtual root once `removed` is gone.
fn brute_retained(g: &Graph, sizes: &[u64], removed: u32) -> u64 {
    let n = g.objects();
    let mut seen = vec![false; n + 1];
    let mut stack = vec![g.root()];
    seen[n] = true;
    while let Some(v) = stack.pop() {
        for &w in g.succ(v) {
            if w != removed && !seen[w as usize] && counts(g, v, w) {
                seen[w as usize] = true;
                stack.push(w);
            }
        }
    }
    (0..n).filter(|&v| !seen[v]).map(|v| sizes[v]).sum()
}

/// (nodes, edges, roots, sizes)
type Case = (usize, Vec<(u32, u32)>, Vec<u32>, Vec<u64>);

fn graph_case() -> impl Strategy<Value = Case> {
    (1usize..40).prop_flat_map(|n| {
        (
            Just(n),
            proptest::collection::vec((0..n as u32, 0..n as u32), 0..n * 3),
            proptest::collection::vec(0..n as u32, 0..4),
            proptest::collection::vec(1u64..1000, n),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, .. ProptestConfig::default() })]

    #[test]
    fn retained_sizes_equal_brute_force((n, edges, roots, sizes) in graph_case()) {
        let c = csr(n, &edges);
        let g = Graph::new(n, &c.start, &c.targets, roots.iter().copied());
        let d = Dominators::compute(&g);
        let retained = d.retained(&g, &sizes);
        for v in 0..n as u32 {
            prop_assert_eq!(retained[v as usize], brute_retained(&g, &sizes, v), "node {}", v);
        }
        prop_assert_eq!(retained[n], sizes.iter().sum::<u64>());
    }

    #[test]
    fn dominators_equal_petgraph_oracle((n, edges, roots, _sizes) in graph_case()) {
        let c = csr(n, &edges);
        let g = Graph::new(n, &c.start, &c.targets, roots.iter().copied());
        let d = Dominators::compute(&g);
        let mut pg = petgraph::graph::DiGraph::<(), ()>::new();
        let nodes: Vec<_> = (0..=n).map(|_| pg.add_node(())).collect();
        for v in 0..=n as u32 {
            for &w in g.succ(v).iter().filter(|&&w| counts(&g, v, w)) {
                pg.add_edge(nodes[v as usize], nodes[w as usize], ());
            }
        }
        let oracle = petgraph::algo::dominators::simple_fast(&pg, nodes[n]);
        for (v, &node) in nodes.iter().enumerate().take(n) {
            let expected = oracle.immediate_dominator(node).map(|x| x.index() as u32);
            prop_assert_eq!(Some(d.idom(v as u32)), expected, "idom of {}", v);
        }
    }
}

#[test]
fn a_five_million_long_linked_list_needs_no_recursion() {
    let n = 5_000_000usize;
    let start: Vec<u32> = (0..=n as u32).map(|i| i.min(n as u32 - 1)).collect();
    let targets: Vec<u32> = (1..n as u32).collect();
    let g = Graph::new(n, &start, &targets, [0]);
    let d = Dominators::compute(&g);
    assert_eq!(d.idom(n as u32 - 1), n as u32 - 2);
    assert_eq!(d.idom(0), g.root());
    let retained = d.retained(&g, &vec![16; n]);
    assert_eq!(retained[0], 16 * n as u64);
    assert_eq!(retained[n / 2], 16 * (n - n / 2) as u64);
    let paths = pymem::graph::shortest_paths::ShortestPaths::compute(&g, &[&[0]]);
    assert_eq!(paths.path(n as u32 - 1).len(), n);
}

#[test]
fn garbage_pointing_into_the_live_heap_takes_no_share_of_it() {
    // Root 0 holds 1, which holds 2; the garbage cycle 3 <-> 4 points at 2 too (mypy's
    // dropped checkers, still referencing the build, before a collection).
    let c = csr(5, &[(0, 1), (1, 2), (3, 4), (4, 3), (3, 2)]);
    let g = Graph::new(5, &c.start, &c.targets, [0]);
    let d = Dominators::compute(&g);
    assert_eq!(d.idom(2), 1);
    assert_eq!(d.retained(&g, &[1, 2, 4, 8, 16])[..5], [7, 6, 4, 24, 16]);
}

#[test]
fn every_object_of_an_unrooted_graph_hangs_off_the_root() {
    // No roots at all: a cycle and a chain; every island gets an entry.
    let c = csr(5, &[(0, 1), (1, 0), (2, 3), (3, 4)]);
    let g = Graph::new(5, &c.start, &c.targets, []);
    assert!(g.roots().is_empty());
    assert_eq!(g.succ(g.root()), &[0, 2]);
    let d = Dominators::compute(&g);
    assert_eq!(d.retained(&g, &[1, 2, 4, 8, 16])[..5], [3, 2, 28, 24, 16]);
    assert!((0..5).all(|v| !g.is_reachable(v)));
}
