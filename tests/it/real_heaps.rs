//! Real third-party heaps on every CPython 3.8–3.15 (issue 19): a program with lxml,
//! requests/urllib3 talking to a local server, SQLAlchemy, Django, pydantic, numpy and
//! pandas (each where PyPI has a wheel for the version; the rest are named as skipped),
//! thousands of asyncio tasks and futures, generators, coroutines, weakrefs, finalizers,
//! slotted dataclasses, enums, typing generics, ctypes, and two threads working throughout
//! (`tests/py/workload_realheap.py`). It takes two snapshots with `dump` and two on a signal
//! and goes on working after each, checking its own results: a crash, a hang or a wrong
//! result fails the test. Every snapshot loads; the first one's counts of tracked types
//! equal the program's own gc.get_objects() census, and the sizes of C-implemented objects
//! equal sys.getsizeof.

#![allow(clippy::disallowed_macros)] // a note for each package with no wheel for a version

use crate::common::{agent_dir, json, on_every_python_at_once, pydeps, repo, row_count, Reaper};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Everything the workload can import for this interpreter (pandas' own directory first:
/// it holds the numpy it was installed with).
fn packages(version: &str, python: &Path) -> Vec<PathBuf> {
    let realheap = pydeps(
        "realheap",
        version,
        python,
        &["lxml", "requests"],
        REALHEAP_PACKAGES,
    );
    let pandas = pydeps("pandas", version, python, &["pandas"], &["pandas"]);
    let numpy = pydeps("numpy", version, python, &["numpy"], &["numpy"]);
    let frameworks = pydeps(
        "frameworks",
        version,
        python,
        &["pydantic", "sqlalchemy", "django"],
        crate::advise::FRAMEWORK_PACKAGES,
    );
    [realheap, pandas, numpy, frameworks]
        .into_iter()
        .flatten()
        .collect()
}

/// What `.ci/run` installs too.
const REALHEAP_PACKAGES: &[&str] = &["lxml", "requests"];

/// Run the workload in `dir`; a panic names how it failed (it is killed
/// when it runs past 400 s: a hang after a snapshot is a failure like a crash).
fn run_workload(version: &str, python: &Path, dir: &Path) {
    let mut cmd = std::process::Command::new(python);
    cmd.arg(repo().join("tests/py/workload_realheap.py"))
        .arg(agent_dir())
        .arg(dir)
        .args(packages(version, python))
        .env_remove("PYTHONMALLOC")
        .env_remove("PYTHONDEVMODE")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = Reaper::spawn(&mut cmd);
    // Drain both pipes while it runs (the agent writes a line per signal snapshot).
    let mut stdout = child.0.stdout.take().unwrap();
    let mut stderr = child.0.stderr.take().unwrap();
    let out = std::thread::spawn(move || std::io::read_to_string(&mut stdout).unwrap_or_default());
    let err = std::thread::spawn(move || std::io::read_to_string(&mut stderr).unwrap_or_default());
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.0.try_wait().unwrap() {
            break Some(status);
        }
        if start.elapsed() > Duration::from_secs(400) {
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    drop(child); // kills it if it hung
    let (out, err) = (out.join().unwrap(), err.join().unwrap());
    match status {
        None => panic!("{version}: the program hung after a snapshot:\n{err}"),
        Some(s) if !s.success() || out.trim() != "survived" => {
            panic!("{version}: the program did not survive its snapshots ({s}):\n{out}\n{err}")
        }
        Some(_) => {}
    }
}

#[test]
fn real_third_party_heaps_are_captured_and_the_programs_go_on_on_every_cpython() {
    let runs = on_every_python_at_once(|python, dir| {
        let version = crate::common::pythons()
            .iter()
            .find(|(_, p)| p == python)
            .map(|(v, _)| v.clone())
            .unwrap();
        run_workload(&version, python, dir);
    });
    for (version, dir) in &runs {
        let truth = crate::common::read_json(&dir.path().join("truth.json"));
        let skipped = truth["skipped"].as_array().unwrap();
        if !skipped.is_empty() {
            eprintln!("note: CPython {version}: no wheel on PyPI for {skipped:?}; left out");
        }
        // Two snapshots taken by a signal while the program worked, and all four load.
        let signals = truth["signal_snapshots"].as_array().unwrap();
        assert_eq!(signals.len(), 2, "{version}: {signals:?}");
        let mut snapshots = vec![
            dir.path().join("first.jsonl"),
            dir.path().join("second.jsonl"),
        ];
        snapshots.extend(
            signals
                .iter()
                .map(|name| dir.path().join("signals").join(name.as_str().unwrap())),
        );
        for snap in &snapshots[1..] {
            json(&["summary", snap.to_str().unwrap(), "--limit", "1"]);
        }
        // The first snapshot holds what the program's own census counted at that instant.
        let first = snapshots[0].to_str().unwrap();
        let summary = json(&["summary", first, "--limit", "1000000"]);
        for (key, count) in truth["census"].as_object().unwrap() {
            assert_eq!(
                row_count(&summary, key),
                count.as_u64().unwrap(),
                "{version}: objects of {key} (the program's gc.get_objects() census)"
            );
        }
        // C-implemented objects: the block and the buffers the type reports, as getsizeof.
        for (name, t) in truth["sizes"].as_object().unwrap() {
            let shown = json(&["show", first, t["addr"].as_str().unwrap()]);
            let counted = shown["size"].as_u64().unwrap() + shown["buffers"].as_u64().unwrap();
            let expected = t["bytes"].as_u64().unwrap();
            // Equal up to the rounding of the object's own pool block (and the pre-header
            // some versions give it).
            assert!(
                counted.abs_diff(expected) < 32,
                "{version}: {name}: counted {counted}, sys.getsizeof says {expected}: {shown}"
            );
        }
    }
}
