//! The RSS breakdown and the C-heap finding on every CPython 3.8–3.15: a process that keeps
//! a few C blocks among many it freed (glibc holds the rest, free), a large bytes object
//! outside pymalloc and a few threads; checked against the process's own mallinfo2() and
//! RSS around the capture.

use crate::common::*;

fn part(memory: &serde_json::Value, name: &str) -> u64 {
    memory["parts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["part"] == name)
        .unwrap_or_else(|| panic!("no part {name} in {memory}"))["bytes"]
        .as_u64()
        .unwrap()
}

#[test]
fn the_rss_breakdown_adds_up_and_shows_what_the_c_heap_holds_free_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl");
        let truth = dir.path().join("truth.json");
        run_python(python, "workload_cheap.py", &[&snap, &truth], &[]);
        let truth = read_json(&truth);
        let s = json(&["summary", snap.to_str().unwrap()]);
        let m = &s["memory"];
        let rss = m["rss"].as_u64().unwrap();
        let accounted = m["accounted"].as_u64().unwrap();
        // The parts add up to RSS (read a moment apart), and RSS is the process's own.
        assert!(
            accounted.abs_diff(rss) * 20 <= rss,
            "{version}: parts {accounted} vs RSS {rss}"
        );
        let own_rss = truth["rss"].as_u64().unwrap();
        assert!(
            rss.abs_diff(own_rss) * 10 <= own_rss,
            "{version}: RSS {rss} vs the process's {own_rss}"
        );
        let sum: u64 = m["parts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["bytes"].as_u64().unwrap())
            .sum();
        assert_eq!(sum, accounted, "{version}");
        // The free-but-held bytes are mallinfo2's, as the process saw them around the capture.
        let c = &m["c_heap"];
        let free = c["free"].as_u64().unwrap();
        let (before, after) = (
            truth["free_before"].as_u64().unwrap(),
            truth["free_after"].as_u64().unwrap(),
        );
        assert!(
            free * 100 >= before.min(after) * 95 && free * 100 <= before.max(after) * 105,
            "{version}: free {free} vs mallinfo2 {before}..{after}"
        );
        assert!(free > 40 << 20, "{version}: free {free}");
        // The 5 MiB bytes object is a Python object in the C heap.
        assert!(
            c["python"].as_u64().unwrap() >= truth["big"].as_u64().unwrap(),
            "{version}: {c}"
        );
        assert!(part(m, "c_heap") > 40 << 20, "{version}: {m}");
        assert!(part(m, "pymalloc_arenas") > 0, "{version}: {m}");
        assert!(part(m, "files") > 1 << 20, "{version}: {m}");
        assert_eq!(m["threads"], truth["threads"], "{version}");
        assert!(part(m, "thread_stacks") > 0, "{version}: {m}");
        // frag names the free C heap, with what gives it back.
        let f = json(&["frag", snap.to_str().unwrap()]);
        assert_eq!(
            f["c_heap"]["free_bytes"].as_u64().unwrap(),
            free,
            "{version}"
        );
        let table = String::from_utf8(pymem_ok(&["frag", snap.to_str().unwrap()])).unwrap();
        assert!(
            table.contains("malloc_trim(0)") && table.contains("MALLOC_ARENA_MAX"),
            "{version}: {table}"
        );
        let table = String::from_utf8(pymem_ok(&["summary", snap.to_str().unwrap()])).unwrap();
        assert!(
            table.contains("free in ")
                && table.contains("only its touched pages are resident")
                && table.contains("thread stacks"),
            "{version}: {table}"
        );
    }
}

#[test]
fn a_heap_without_free_c_memory_has_no_c_heap_finding() {
    let (_, python) = &pythons()[0];
    let dir = tempfile::tempdir().unwrap();
    let snap = dir.path().join("heap.jsonl");
    let truth = dir.path().join("truth.json");
    run_python(python, "workload_basic.py", &[&snap, &truth], &[]);
    let f = json(&["frag", snap.to_str().unwrap()]);
    assert!(f["c_heap"].is_null(), "{}", f["c_heap"]);
    let s = json(&["summary", snap.to_str().unwrap()]);
    assert!(s["memory"]["c_heap"]["free"].as_u64().unwrap() < 4 << 20);
}
