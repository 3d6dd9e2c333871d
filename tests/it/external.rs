//! Memory that objects own outside their block, on every CPython 3.8–3.15: what a C type's
//! own __sizeof__ reports (array and deque storage, OrderedDict nodes, numpy data) and
//! ctypes buffers are counted as the object's buffers, equal to the ground truth computed in
//! the process (sys.getsizeof; ctypes.sizeof for a ctypes buffer), and the biggest of them tops `pymem top` with its path.
//!
//! numpy is installed per interpreter into `target/pydeps/numpy-VERSION` (wheels only); a
//! version with no numpy wheel is checked without it, and says so.

use crate::common::{agent_dir, json, pythons, repo};
use std::path::{Path, PathBuf};
use std::process::Command;

/// numpy for this interpreter, when PyPI has a wheel for it (tried again at every run
/// until one is installed).
fn numpy_dir(version: &str, python: &Path) -> Option<PathBuf> {
    let dir = repo()
        .join("target/pydeps")
        .join(format!("numpy-{version}"));
    if dir.join("numpy").exists() {
        return Some(dir);
    }
    let out = Command::new(repo().join("tests/py/install-deps.sh"))
        .arg(python)
        .arg(&dir)
        .args(["--only-binary=:all:", "numpy"])
        .output()
        .expect("run tests/py/install-deps.sh");
    out.status.success().then_some(dir)
}

#[test]
fn memory_owned_outside_the_object_is_counted_on_every_cpython() {
    let mut with_numpy = 0;
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl");
        let truth_path = dir.path().join("truth.json");
        let numpy = numpy_dir(version, python);
        let mut cmd = Command::new(python);
        cmd.arg(repo().join("tests/py/workload_external.py"))
            .arg(agent_dir())
            .arg(&snap)
            .arg(&truth_path);
        if let Some(n) = &numpy {
            cmd.arg(n);
            with_numpy += 1;
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let truth: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&truth_path).unwrap()).unwrap();
        let s = snap.to_str().unwrap();
        for (name, t) in truth.as_object().unwrap() {
            let shown = json(&["show", s, t["addr"].as_str().unwrap()]);
            if let Some(buffers) = t.get("buffers") {
                assert_eq!(&shown["buffers"], buffers, "{version}: {name}: {shown}");
                continue;
            }
            let counted = shown["size"].as_u64().unwrap() + shown["buffers"].as_u64().unwrap();
            let expected = t["bytes"].as_u64().unwrap();
            // Equal up to the rounding of the object's own pool block (and the pre-header
            // some versions give it): the outside memory itself is counted exactly.
            assert!(
                counted.abs_diff(expected) < 32,
                "{version}: {name}: counted {counted}, sys.getsizeof says {expected}: {shown}"
            );
        }
        // The biggest owner is among the biggest retainers, with its path.
        let top = json(&["top", s, "--limit", "5"]);
        let (biggest, path) = if numpy.is_some() {
            ("numpy", "__main__.big")
        } else {
            ("ordered", "__main__.planted['ordered']")
        };
        let listed = top["objects"]
            .as_array()
            .unwrap()
            .iter()
            .find(|o| o["addr"] == truth[biggest]["addr"]);
        assert_eq!(
            listed.map(|o| &o["path"]["expr"]),
            Some(&serde_json::json!(path)),
            "{version}: {top}"
        );
        if numpy.is_some() {
            // A view owns none of the data (only its shape and strides) and holds its base.
            let view = json(&["show", s, truth["numpy_view"]["addr"].as_str().unwrap()]);
            assert!(
                view["buffers"].as_u64().unwrap() < 1024,
                "{version}: {view}"
            );
            let base = view["referents"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["edge"] == ".base");
            assert_eq!(
                base.map(|b| &b["addr"]),
                Some(&truth["numpy"]["addr"]),
                "{version}: {view}"
            );
        }
    }
    assert!(
        with_numpy >= 5,
        "numpy wheels were found for only {with_numpy} of the CPythons"
    );
}

#[test]
fn a_leak_of_arrays_fails_the_gate_with_its_bytes_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let mut cmd = Command::new(python);
        cmd.arg(repo().join("tests/py/workload_array_leak.py"))
            .arg(agent_dir())
            .arg(dir.path());
        if let Some(n) = numpy_dir(version, python) {
            cmd.arg(n);
        }
        let out = cmd.output().unwrap();
        assert!(
            out.status.success(),
            "{version}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let per_round: u64 = String::from_utf8_lossy(&out.stdout).trim().parse().unwrap();
        let snaps: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|n| dir.path().join(format!("{n}.jsonl")).display().to_string())
            .collect();
        let leaks = json(&["leaks", &snaps[0], &snaps[1], &snaps[2]]);
        let first = &leaks["roots"][0];
        assert_eq!(first["path"]["expr"], "__main__.kept", "{version}: {leaks}");
        assert_eq!(first["leak"], true, "{version}");
        let growth = first["growth_bytes"].as_u64().unwrap();
        assert!(
            growth.abs_diff(2 * per_round) * 100 < 2 * per_round,
            "{version}: growth {growth} B, the arrays added {} B",
            2 * per_round
        );
        let gate = crate::common::pymem()
            .args([
                "gate",
                &snaps[0],
                &snaps[1],
                &snaps[2],
                "--max-growth",
                "1MiB",
            ])
            .output()
            .unwrap();
        assert_eq!(
            gate.status.code(),
            Some(1),
            "{version}: the gate passed a leak"
        );
    }
}
