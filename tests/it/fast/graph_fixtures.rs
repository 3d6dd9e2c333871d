//! Known-answer fixtures (fixtures/graphs/, answers in its README) through the CLI, and the
//! graph commands on the real captures of every CPython.

use crate::common::*;

fn fixture(name: &str) -> String {
    repo()
        .join("fixtures/graphs")
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn show(file: &str, addr: &str) -> serde_json::Value {
    json(&["show", &fixture(file), addr])
}

#[test]
fn diamond() {
    assert_eq!(show("diamond.jsonl", "0x10")["retained"], 150);
    assert_eq!(show("diamond.jsonl", "32")["retained"], 20);
    assert_eq!(show("diamond.jsonl", "0x30")["retained"], 30);
    let c = show("diamond.jsonl", "0x40");
    assert_eq!(c["retained"], 90);
    assert_eq!(c["dominator"]["addr"], "0x10");
    assert_eq!(c["referrers_total"], 2);
    assert_eq!(c["path"]["expr"], "m.a.c");
}

#[test]
fn cycle() {
    assert_eq!(show("cycle.jsonl", "0x20")["retained"], 14);
    assert_eq!(show("cycle.jsonl", "0x30")["retained"], 12);
    assert_eq!(
        show("cycle.jsonl", "0x40")["path"]["expr"],
        "m.head.next.next"
    );
}

#[test]
fn self_reference_and_parallel_edges() {
    let a = show("selfref.jsonl", "0x20");
    assert_eq!(a["retained"], 6);
    assert_eq!(a["referrers_total"], 2, "m and A itself, each once");
    assert_eq!(show("selfref.jsonl", "0x30")["path"]["expr"], "m.x.p");
}

#[test]
fn unreachable_islands_are_reported() {
    let t = json(&["top", &fixture("island.jsonl")]);
    assert_eq!(t["unreachable_objects"], 3);
    assert_eq!(t["unreachable_bytes"], 307);
    assert_eq!(t["total_bytes"], 310);
    let b = show("island.jsonl", "0x30");
    assert_eq!(b["unreachable"], true);
    assert_eq!(b["retained"], 300);
    assert_eq!(b["path"]["root"]["kind"], "unreachable");
}

#[test]
fn top_by_type_counts_nested_instances_once() {
    // Every object in the diamond is a t.Node: retained by type = everything, once.
    let t = json(&["top", &fixture("diamond.jsonl"), "--by", "type"]);
    assert_eq!(t["groups"][0]["key"], "t.Node");
    assert_eq!(t["groups"][0]["retained"], 150);
    assert_eq!(t["groups"][0]["count"], 5);
}

#[test]
fn addresses_are_accepted_as_hex_or_decimal_and_bad_ones_are_named() {
    assert_eq!(show("diamond.jsonl", "64")["addr"], "0x40");
    let out = pymem()
        .args(["show", &fixture("diamond.jsonl"), "0x41"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no object at 0x41"));
    let out = pymem()
        .args(["show", &fixture("diamond.jsonl"), "zz"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn dot_output_draws_the_retainer_graph() {
    let out = pymem()
        .args(["path", &fixture("diamond.jsonl"), "0x50", "--format", "dot"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let dot = String::from_utf8(out.stdout).unwrap();
    assert!(dot.starts_with("digraph retainers {"));
    assert!(dot.contains("\"0x40\" -> \"0x50\" [label=\".d\"]"), "{dot}");
}

#[test]
fn paths_on_real_captures_of_every_cpython() {
    for v in ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"] {
        let f = repo().join(format!("fixtures/shop-{v}.jsonl.gz"));
        let f = f.to_str().unwrap();
        let p = json(&["path", f, "--type", "shop.Cart", "--limit", "40"]);
        assert_eq!(p["matched"], 40, "{v}");
        for row in p["paths"].as_array().unwrap() {
            let expr = row["path"]["expr"].as_str().unwrap();
            assert!(
                expr.starts_with("shop._carts['u") || expr.starts_with("shop.Cart.registry['u"),
                "{v}: {expr}"
            );
            assert_eq!(row["path"]["root"]["kind"], "module", "{v}");
        }
        let p = json(&["path", f, "--type", "Order", "--limit", "1"]);
        let expr = p["paths"][0]["path"]["expr"].as_str().unwrap();
        assert!(
            expr.starts_with("shop.customers[") && expr.contains("].orders["),
            "{v}: {expr}"
        );
        let p = json(&["path", f, "--type", "bytearray", "--limit", "200"]);
        assert!(
            p["paths"].as_array().unwrap().iter().any(|r| {
                let e = r["path"]["expr"].as_str().unwrap();
                e.contains("['u") && e.contains("].payload[")
            }),
            "{v}: payload paths"
        );
        let t = json(&["top", f, "--by", "type", "--limit", "1000"]);
        let cart = t["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["key"] == "shop.Cart")
            .unwrap();
        assert_eq!(cart["count"], 40, "{v}");
    }
}

#[test]
fn a_class_held_from_outside_is_named() {
    let d = show("heldtype.jsonl", "0x4000");
    assert_eq!(
        d["path"]["expr"],
        "<class ext.Model held from outside>._field_types"
    );
    // A class with no instances (not in the type table) is named by its own name field.
    let d = show("heldtype.jsonl", "0x6000");
    assert_eq!(
        d["path"]["expr"],
        "<class ext.Lonely held from outside>._registry"
    );
}

/// Issue 26: memory that no single object dominates (held by two retainers) is shown as one
/// block with its holders; an object five retainers share is common property, not a block.
#[test]
fn top_lists_blocks_held_jointly() {
    let top = json(&["top", &fixture("joint.jsonl")]);
    let joint = top["joint"].as_array().unwrap();
    assert_eq!(joint.len(), 1, "{joint:#?}");
    let b = &joint[0];
    assert_eq!(b["retained"], 1650);
    assert_eq!(b["objects"], 2);
    let holders: Vec<&str> = b["holders"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["expr"].as_str().unwrap())
        .collect();
    assert_eq!(holders, ["m", "n"]);
    assert_eq!(b["sample"]["expr"], "m.table");
    let text =
        String::from_utf8(crate::common::pymem_ok(&["top", &fixture("joint.jsonl")])).unwrap();
    assert!(text.contains("Held jointly"), "{text}");
    assert!(text.contains("m and n"), "{text}");
}

/// The report's shared path tree writes every embedded object's path as `pymem path` does,
/// and its tree is the dominator tree's top, largest first, bounded as asked.
#[test]
fn report_paths_and_tree_agree_with_path_and_top() {
    use pymem::analysis::explore::{explore, ExploreOptions};
    use pymem::analysis::python_path::path_to;
    use pymem::analysis::retention::Retention;
    for name in ["shop-3.8.jsonl.gz", "shop-3.13.jsonl.gz", "leak-c.jsonl.gz"] {
        let path = crate::common::repo().join("fixtures").join(name);
        let snap = pymem::snapshot::load(&path, &pymem::snapshot::LoadOptions::default()).unwrap();
        let r = Retention::compute(&snap);
        for max_nodes in [1, 37, 50_000] {
            let opts = ExploreOptions {
                max_nodes,
                ..ExploreOptions::default()
            };
            let e = explore(&r, &opts);
            let objects = e.tree.obj.iter().filter(|&&o| o >= 0).count();
            assert!(objects <= max_nodes, "{name}: {objects} nodes");
            let mut last = u64::MAX;
            for (i, &o) in e.tree.obj.iter().enumerate() {
                if o < 0 {
                    continue;
                }
                let addr = &e.objects.addr[o as usize];
                let id = snap
                    .objects
                    .find(u64::from_str_radix(&addr[2..], 16).unwrap())
                    .unwrap();
                assert!(e.tree.bytes[i] <= last, "{name}: not largest first");
                last = e.tree.bytes[i];
                assert_eq!(e.tree.bytes[i], r.retained(id));
                assert!(e.tree.bytes[i] >= e.min_retained);
                let p = e.tree.parent[i];
                if p >= 0 {
                    let parent = &e.objects.addr[e.tree.obj[p as usize] as usize];
                    let dom = r
                        .idom(id)
                        .map(|d| format!("0x{:x}", snap.objects.addr[d.index()]));
                    assert_eq!(
                        Some(parent),
                        dom.as_ref(),
                        "{name}: parent is not the dominator"
                    );
                }
                let want = path_to(&r, id).map(|p| p.expr);
                let got =
                    (e.tree.path[i] >= 0).then(|| e.paths.expr(e.tree.path[i] as usize, &e.texts));
                assert_eq!(got, want, "{name}: path of {addr}");
            }
            // Folded nodes and objects together account for every byte.
            let top: u64 = (0..e.tree.parent.len())
                .filter(|&i| e.tree.parent[i] < 0)
                .map(|i| e.tree.bytes[i])
                .sum();
            assert_eq!(top, r.total(), "{name}: the top level does not add up");
        }
    }
}

/// The page's object columns say where each object's code is defined and where it was
/// allocated, as `show` does (the traced fixture: tracemalloc was on).
#[test]
fn report_objects_carry_definitions_and_allocation_sites_as_show_does() {
    use pymem::analysis::explore::{explore, ExploreOptions};
    use pymem::analysis::retention::Retention;
    use pymem::analysis::show::show;
    let path = crate::common::repo().join("fixtures/traced-3.12.jsonl.gz");
    let snap = pymem::snapshot::load(&path, &pymem::snapshot::LoadOptions::default()).unwrap();
    let r = Retention::compute(&snap);
    let e = explore(&r, &ExploreOptions::default());
    let (mut defined, mut allocated) = (0, 0);
    for (o, addr) in e.objects.addr.iter().enumerate() {
        let id = snap
            .objects
            .find(u64::from_str_radix(&addr[2..], 16).unwrap())
            .unwrap();
        let s = show(&r, id, 0);
        let text = |i: u32| (i != 0).then(|| e.texts[i as usize].clone());
        assert_eq!(text(e.objects.defined[o]), s.defined_at, "{addr}");
        assert_eq!(
            text(e.objects.allocated[o]),
            s.allocated_at.map(|a| a.site),
            "{addr}"
        );
        defined += usize::from(e.objects.defined[o] != 0);
        allocated += usize::from(e.objects.allocated[o] != 0);
    }
    assert!(defined > 0 && allocated > 0, "{defined} {allocated}");
}
