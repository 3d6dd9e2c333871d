//! Captures under stress on every CPython 3.8–3.15 (tests/py/workload_robust.py): other
//! threads mutating the heap, a 1,000,000-long linked list and containers nested 100,000
//! deep, a missing directory and a full disk, `-X dev` and `PYTHONMALLOC=debug`.

use crate::common::{json, on_every_python_at_once, pythons, read_json, run_python};
use std::path::Path;

fn robust(python: &Path, mode: &str, dir: &Path, env: &[(&str, &str)]) -> serde_json::Value {
    run_python(python, "workload_robust.py", &[Path::new(mode), dir], env);
    read_json(&dir.join("result.json"))
}

#[test]
fn captures_survive_mutating_threads_and_write_errors() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let r = robust(python, "threads", dir.path(), &[]);
        assert_eq!(r["captures"], 3, "{version}");
        json(&["summary", dir.path().join("heap.jsonl").to_str().unwrap()]);

        let dir = tempfile::tempdir().unwrap();
        let r = robust(python, "errors", dir.path(), &[]);
        assert_eq!(r["missing_dir"], "FileNotFoundError", "{version}");
        assert_eq!(r["full_disk"], "OSError", "{version}");
        // Neither the target nor a partial file is left behind; the program goes on.
        assert_eq!(r["leftovers"], serde_json::json!([]), "{version}");
        assert_eq!(r["still_running"], 45, "{version}");
    }
}

#[test]
fn long_chains_and_deep_nesting_are_captured() {
    let captured = on_every_python_at_once(|python, dir| {
        robust(python, "shapes", dir, &[]);
    });
    for (version, dir) in &captured {
        let r = read_json(&dir.path().join("result.json"));
        let snap = dir.path().join("heap.jsonl");
        let snap = snap.to_str().unwrap();
        let head = format!("0x{:x}", r["head"].as_u64().unwrap());
        let p = json(&["path", snap, &head]);
        assert_eq!(p["paths"][0]["path"]["expr"], "__main__.head", "{version}");
        // The list head retains the whole chain: a million 48-byte nodes at least.
        assert!(
            p["paths"][0]["retained"].as_u64().unwrap() >= 1_000_000 * 32,
            "{version}"
        );
        let nested = format!("0x{:x}", r["nested"].as_u64().unwrap());
        let s = json(&["show", snap, &nested]);
        assert_eq!(s["path"]["expr"], "__main__.nested", "{version}");
    }
}

#[test]
fn dev_mode_and_debug_allocator_are_stated_in_the_header() {
    for (version, python) in pythons() {
        for env in [("PYTHONDEVMODE", "1"), ("PYTHONMALLOC", "debug")] {
            let dir = tempfile::tempdir().unwrap();
            let r = robust(python, "threads", dir.path(), &[env]);
            assert_eq!(r["captures"], 3, "{version} {env:?}");
            let s = json(&["summary", dir.path().join("heap.jsonl").to_str().unwrap()]);
            assert_eq!(s["snapshot"]["debug_hooks"], true, "{version} {env:?}");
        }
    }
}

#[test]
fn captures_at_once_from_two_threads_are_taken_one_after_the_other() {
    let captured = on_every_python_at_once(|python, dir| {
        robust(python, "overlap", dir, &[]);
    });
    for (version, dir) in &captured {
        let r = read_json(&dir.path().join("result.json"));
        assert_eq!(r["errors"], serde_json::json!([]), "{version}");
        assert_eq!(r["gc_enabled_after"], true, "{version}");
        // No temporary file is left, and no collection ran while a capture walked.
        assert_eq!(
            r["files"],
            serde_json::json!(["one.jsonl", "same.jsonl", "two.jsonl"]),
            "{version}"
        );
        assert_eq!(r["collections_during"], 0, "{version}");
        let objects = |name: &str| {
            json(&["summary", dir.path().join(name).to_str().unwrap()])["snapshot"]["objects"]
                .as_u64()
                .unwrap()
        };
        // Neither capture picked up the other's objects: the two agree closely.
        let (one, two, same) = (
            objects("one.jsonl"),
            objects("two.jsonl"),
            objects("same.jsonl"),
        );
        for n in [two, same] {
            assert!(
                n.abs_diff(one) < one / 100,
                "{version}: {one} / {two} / {same}"
            );
        }
    }
}
