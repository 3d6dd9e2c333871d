//! Captures of real processes on every installed CPython 3.8–3.15, checked against ground
//! truth computed independently inside the same process.

use crate::common::*;
use tempfile::tempdir;

fn capture(
    python: &std::path::Path,
    env: &[(&str, &str)],
) -> (tempfile::TempDir, std::path::PathBuf, serde_json::Value) {
    let dir = tempdir().unwrap();
    let snap = dir.path().join("heap.jsonl");
    let truth = dir.path().join("truth.json");
    run_python(python, "workload_basic.py", &[&snap, &truth], env);
    let truth = read_json(&truth);
    (dir, snap, truth)
}

#[test]
fn summary_counts_match_an_independent_walk_on_every_cpython() {
    for (version, python) in pythons() {
        let (_dir, snap, truth) = capture(python, &[]);
        let s = json(&["summary", snap.to_str().unwrap(), "--limit", "100000"]);
        assert_eq!(s["command"], "summary");
        assert_eq!(s["schema"], 1);
        assert_eq!(
            s["snapshot"]["python"],
            format!("cpython {}", truth["python"].as_str().unwrap()),
            "{version}"
        );
        for key in ["Planted", "Slotted"] {
            assert_eq!(
                row_count(&s, &format!("__main__.{key}")),
                truth[key].as_u64().unwrap(),
                "{version}: {key} instances"
            );
        }
        assert_eq!(
            s["snapshot"]["objects"], truth["dump"]["objects"],
            "{version}: object count"
        );
        assert!(
            row_count(&s, "bytes") >= truth["blobs_1000_plus"].as_u64().unwrap(),
            "{version}: untracked bytes reached"
        );
        assert!(
            s["snapshot"]["dangling_refs"].as_u64().unwrap() < 100,
            "{version}: dangling refs"
        );
    }
}

#[test]
fn retained_size_and_path_match_ground_truth_on_every_cpython() {
    for (version, python) in pythons() {
        let (_dir, snap, truth) = capture(python, &[]);
        let addr = truth["blobs_addr"].as_u64().unwrap().to_string();
        let s = json(&["show", snap.to_str().unwrap(), &addr]);
        assert_eq!(
            s["retained"], truth["blobs_retained"],
            "{version}: retained size of blobs"
        );
        assert_eq!(s["path"]["expr"], "__main__.blobs", "{version}");
        assert_eq!(s["referents_total"], 77, "{version}");
        // Through an instance whose __dict__ was materialised: attribute names kept.
        let addr = truth["touched_item_addr"].as_u64().unwrap().to_string();
        let s = json(&["show", snap.to_str().unwrap(), &addr]);
        assert_eq!(
            s["path"]["expr"], "__main__.TOUCHED.items['alpha']",
            "{version}"
        );
        // A shared untracked int: one object (the loader refuses duplicates), all referrers.
        let addr = truth["shared_addr"].as_u64().unwrap().to_string();
        let s = json(&["show", snap.to_str().unwrap(), &addr, "--limit", "100"]);
        assert_eq!(s["type"], "int", "{version}");
        assert!(
            s["referrers_total"].as_u64().unwrap() >= 5,
            "{version}: {}",
            s["referrers_total"]
        );
    }
}

#[test]
fn arenas_and_blocks_reconcile_with_debugmallocstats_on_every_cpython() {
    for (version, python) in pythons() {
        let (_dir, snap, _truth) = capture(python, &[]);
        let s = json(&["summary", snap.to_str().unwrap()]);
        let a = &s["snapshot"]["arenas"];
        assert!(
            a.is_object(),
            "{version}: arenas recorded; missing = {}",
            s["snapshot"]["missing"]
        );
        assert_eq!(
            a["arenas"], a["mallocstats_arenas"],
            "{version}: arena count"
        );
        let blocks = a["blocks_in_use"].as_f64().unwrap();
        let stats = a["mallocstats_blocks"].as_f64().unwrap();
        assert!(
            (blocks - stats).abs() <= stats * 0.01,
            "{version}: pool blocks {blocks} vs debugmallocstats {stats}"
        );
        let expected_arena = if version.starts_with("3.8.") || version.starts_with("3.9.") {
            256 << 10
        } else {
            1 << 20
        };
        assert_eq!(a["arena_size"], expected_arena, "{version}: arena geometry");
    }
}

#[test]
fn pythonmalloc_malloc_says_no_pymalloc_and_still_summarises() {
    for (version, python) in pythons() {
        let (_dir, snap, truth) = capture(python, &[("PYTHONMALLOC", "malloc")]);
        let s = json(&["summary", snap.to_str().unwrap(), "--limit", "100000"]);
        assert_eq!(s["snapshot"]["allocator"], "malloc", "{version}");
        assert!(
            s["snapshot"]["arenas"].is_null(),
            "{version}: no arenas under malloc"
        );
        assert!(
            s["snapshot"]["missing"]
                .as_array()
                .unwrap()
                .iter()
                .any(|m| m.as_str().unwrap().contains("pymalloc is not")),
            "{version}: says why pools are missing"
        );
        assert_eq!(
            row_count(&s, "__main__.Planted"),
            truth["Planted"].as_u64().unwrap(),
            "{version}"
        );
    }
}

#[test]
fn strings_are_private_unless_values_are_asked_for() {
    let (_, python) = pythons().last().unwrap();
    let (_dir, snap, _) = capture(python, &[]);
    let text = std::fs::read_to_string(&snap).unwrap();
    // The workload's registry values include the string "p" as an attribute value; with
    // values off no line may carry a "v" field.
    assert!(
        !text.lines().any(|l| l.contains(",\"v\":")),
        "no values recorded by default"
    );
    let dir = tempfile::tempdir().unwrap();
    let snap2 = dir.path().join("v.jsonl");
    let truth = dir.path().join("t.json");
    run_python(
        python,
        "workload_basic.py",
        &[&snap2, &truth, std::path::Path::new("values")],
        &[],
    );
    let text = std::fs::read_to_string(&snap2).unwrap();
    assert!(
        text.lines().any(|l| l.contains(",\"v\":")),
        "values recorded when asked"
    );
}

#[test]
fn locals_of_running_frames_are_roots_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl");
        let truth = dir.path().join("truth.json");
        run_python(python, "workload_locals.py", &[&snap, &truth], &[]);
        let addr = read_json(&truth)["addr"].as_u64().unwrap().to_string();
        let p = json(&["path", snap.to_str().unwrap(), &addr]);
        let path = &p["paths"][0]["path"];
        assert_eq!(path["expr"], "pending[7]", "{version}");
        assert_eq!(path["root"]["kind"], "local", "{version}");
        assert!(
            path["root"]["frame"]
                .as_str()
                .unwrap()
                .contains(": serve ("),
            "{version}: {}",
            path["root"]["frame"]
        );
    }
}
