//! Native leaks (issue 26): memory outside Python objects that grows while the Python heap
//! stays flat. The real case is pydantic#8397 (pydantic 2.5.2 with pydantic-core 2.14.5,
//! pinned, from PyPI: a reference cycle of Rust `Arc`s per `TypeAdapter` of a recursive
//! model, about 7.5 kB of C heap per call). Ground truth is the program's own reading of
//! glibc's `mallinfo2()` at each snapshot. Before this, `leaks` said "no leak roots" and the
//! gate passed.
#![allow(clippy::disallowed_macros)] // a note for each version pydantic-core 2.14.5 has no wheel for

use crate::common::{json, pydeps, pymem, pythons, read_json, run_python};
use std::path::Path;

/// pydantic-core 2.14.5 has wheels for CPython 3.8-3.12 only.
const PACKAGES: &[&str] = &["pydantic==2.5.2", "pydantic-core==2.14.5"];
const CALLS_PER_ROUND: &str = "600";

fn capture(python: &Path, deps: &Path, mode: &str, dir: &Path) {
    run_python(
        python,
        "workload_native.py",
        &[dir, Path::new(mode), Path::new(CALLS_PER_ROUND)],
        &[("PYTHONPATH", &deps.display().to_string())],
    );
}

fn snaps(dir: &Path) -> Vec<String> {
    ["a", "b", "c"]
        .iter()
        .map(|n| dir.join(format!("{n}.jsonl")).display().to_string())
        .collect()
}

fn gate(snaps: &[String], extra: &[&str]) -> std::process::Output {
    pymem()
        .arg("gate")
        .args(snaps)
        .args(extra)
        .output()
        .unwrap()
}

#[test]
fn a_leak_in_native_code_fails_the_gate_and_its_control_passes() {
    let mut tried = 0;
    for (version, python) in pythons() {
        let Some(deps) = pydeps("native", version, python, &["pydantic_core"], PACKAGES) else {
            eprintln!("note: {version}: no wheel of pydantic-core 2.14.5: skipped");
            continue;
        };
        tried += 1;
        let tmp = tempfile::tempdir().unwrap();
        for mode in ["leak", "control"] {
            let dir = tmp.path().join(mode);
            std::fs::create_dir_all(&dir).unwrap();
            capture(python, &deps, mode, &dir);
            let s = snaps(&dir);
            let mut args = vec!["leaks"];
            args.extend(s.iter().map(String::as_str));
            let report = json(&args);
            let native = &report["native"];
            let ctx = format!("{mode} on {version}: {native:#}");
            // No Python object accumulates in either.
            assert_eq!(report["counted"].as_array().unwrap().len(), 0, "{ctx}");
            let truth = read_json(&dir.join("truth.json"));
            let heap: Vec<i64> = truth["c_heap_in_use"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().expect("mallinfo2 read"))
                .collect();
            let truth_growth = heap[2] - heap[0];
            let growth = native["growth_bytes"].as_i64().unwrap();
            let out = gate(&s, &[]);
            let text = String::from_utf8_lossy(&out.stdout);
            if mode == "leak" {
                assert_eq!(native["leak"], true, "{ctx}");
                assert_eq!(native["grew_every_round"], true, "{ctx}");
                // The C heap grew by what the program measured itself, less nothing that a
                // Python object accounts for (the Python heap is flat): within a fifth.
                assert!(
                    (growth - truth_growth).abs() <= truth_growth / 5,
                    "{ctx}: pymem {growth}, the program's mallinfo2 {truth_growth}"
                );
                assert_eq!(out.status.code(), Some(1), "{version}: {text}");
                assert!(
                    text.contains("memory outside Python objects grew in every round"),
                    "{version}: {text}"
                );
                assert!(text.contains("NATIVE LEAK"), "{version}: {text}");
                assert!(text.contains("memray run --native"), "{version}: {text}");
                // A higher allowance passes it, as --max-growth does for Python roots.
                let out = gate(&s, &["--max-native-growth", "1GiB"]);
                assert_eq!(out.status.code(), Some(0), "{version}");
                // JUnit names the failing case.
                let out = gate(&s, &["--format", "junit"]);
                let xml = String::from_utf8_lossy(&out.stdout);
                assert!(
                    xml.contains("name=\"memory outside Python objects\">")
                        && xml.contains("failures=\"1\""),
                    "{version}: {xml}"
                );
            } else {
                assert_eq!(native["leak"], false, "{ctx}");
                assert!(growth < 1 << 20, "{ctx}");
                assert_eq!(out.status.code(), Some(0), "{version}: {text}");
            }
        }
    }
    assert!(
        tried >= 3,
        "pydantic-core 2.14.5 installed on {tried} CPythons"
    );
}
