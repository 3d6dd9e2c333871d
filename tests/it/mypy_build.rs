//! A real mypy heap (issue 26, item 5): mypy, compiled by mypyc and pinned, type-checks a
//! real package from PyPI in a process that keeps the build result (`tests/py/mypy_build.py`),
//! on every CPython with wheels. `pymem attach` reads it; then the process itself measures,
//! with the allocators' own counts, what a collection gives back and what dropping the build
//! result gives back. pymem's unreachable bytes and the result's retained bytes must be those
//! figures. mypy leaves cycles of checkers awaiting collection that reference the live build;
//! before garbage was kept out of the dominators, they made the whole build "held jointly"
//! and the result retained a fraction of what freeing it gave back.

#![allow(clippy::disallowed_macros)] // a note for each version with no wheels

use crate::common::{json, pydeps, pythons, repo, Reaper};
use crate::outside::COMPILED_PACKAGES;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};

/// The package mypy checks (pinned in `COMPILED_PACKAGES`: pydantic depends on it).
const CHECKED: &str = "annotated_types";

/// What one run measured, and what pymem said of its snapshot.
struct Run {
    version: String,
    freed_by_collect: u64,
    freed_by_dropping_result: u64,
    unreachable: u64,
    result_retained: u64,
    top: serde_json::Value,
}

fn run(version: &str, python: &Path, deps: &Path, dir: &Path) -> Run {
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("tests/py/mypy_build.py"))
        .arg(CHECKED)
        .env("PYTHONPATH", deps)
        .env_remove("PYTHONMALLOC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = Reaper::spawn(&mut cmd);
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let (pid, result_addr) = first.split_once(' ').expect("pid and address");
    crate::common::wait_until_blocked_in_read(pid);
    let snap = dir.join("mypy.jsonl");
    let snap = snap.to_str().unwrap();
    crate::common::pymem_ok(&["attach", pid, "-o", snap]);
    child.0.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let freed = lines.next().unwrap().unwrap();
    let freed: Vec<u64> = freed.split(' ').map(|n| n.parse().unwrap()).collect();
    assert!(child.0.wait().unwrap().success());
    let top = json(&["top", snap]);
    let shown = json(&["show", snap, result_addr]);
    Run {
        version: version.to_string(),
        freed_by_collect: freed[0],
        freed_by_dropping_result: freed[1],
        unreachable: top["unreachable_bytes"].as_u64().unwrap(),
        result_retained: shown["retained"].as_u64().unwrap(),
        top,
    }
}

fn within(a: u64, b: u64, share: f64) -> bool {
    (a.abs_diff(b) as f64) <= share * a.max(b) as f64
}

#[test]
fn a_mypy_build_retains_what_freeing_it_gives_back_and_garbage_keeps_nothing_alive() {
    let deps: Vec<_> = pythons()
        .iter()
        .map(|(version, python)| {
            pydeps(
                "compiled",
                version,
                python,
                &["mypy", CHECKED],
                COMPILED_PACKAGES,
            )
        })
        .collect();
    let dirs: Vec<_> = pythons()
        .iter()
        .map(|_| tempfile::tempdir().unwrap())
        .collect();
    let runs: Vec<Run> = std::thread::scope(|s| {
        let handles: Vec<_> = pythons()
            .iter()
            .zip(&deps)
            .zip(&dirs)
            .filter_map(|(((version, python), deps), dir)| {
                let Some(deps) = deps else {
                    eprintln!("note: {version}: no wheels of mypy: skipped");
                    return None;
                };
                Some(s.spawn(move || run(version, python, deps, dir.path())))
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(runs.len() >= 6, "mypy installed on {} CPythons", runs.len());
    for r in &runs {
        let v = &r.version;
        eprintln!(
            "note: {v}: garbage {} by pymem, {} given back by a collection; result retains {}, dropping it gave back {}",
            r.unreachable, r.freed_by_collect, r.result_retained, r.freed_by_dropping_result
        );
        // mypy's raised threshold leaves its dropped checkers for a collection: megabytes.
        assert!(
            r.unreachable > 1 << 20,
            "{v}: {} garbage bytes",
            r.unreachable
        );
        assert!(
            within(r.unreachable, r.freed_by_collect, 0.15),
            "{v}: pymem counts {} bytes of garbage; a collection gave back {}",
            r.unreachable,
            r.freed_by_collect
        );
        assert!(
            within(r.result_retained, r.freed_by_dropping_result, 0.03),
            "{v}: pymem says the build result retains {} bytes; dropping it gave back {}",
            r.result_retained,
            r.freed_by_dropping_result
        );
        // The build is what this heap holds: named first.
        let first = &r.top["objects"][0];
        assert_eq!(first["path"]["expr"], "__main__.result", "{v}: {first}");
        // No block is held jointly with garbage: every holder is reached from a root.
        for block in r.top["joint"].as_array().unwrap() {
            for holder in block["holders"].as_array().unwrap() {
                assert_ne!(holder["root"]["kind"], "unreachable", "{v}: {block}");
            }
        }
    }
}
