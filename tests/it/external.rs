//! Memory that objects own outside their block, on every CPython 3.8–3.15: what a C type's
//! own __sizeof__ reports (array and deque storage, OrderedDict nodes, numpy data) and
//! ctypes buffers are counted as the object's buffers, equal to the ground truth computed in
//! the process (sys.getsizeof; ctypes.sizeof for a ctypes buffer), and the biggest is among
//! the top retainers with its path. Leaks of arrays, and through an object array, fail the
//! gate with their holder named first. Types whose __module__ is not a string (Cython's)
//! are named by their tp_name.
//!
//! numpy is installed per interpreter into `target/pydeps/numpy-VERSION` (wheels only); the
//! tests need it on five or more of the eight versions. pandas the same way, for a
//! DataFrame's retained size against pandas' own `memory_usage(deep=True)`.

#![allow(clippy::disallowed_macros)] // a note for each version pandas has no wheel for

use crate::common::{agent_dir, json, pydeps, pythons, read_json, repo, run_python};
use std::path::{Path, PathBuf};
use std::process::Command;

/// `package` for this interpreter in `target/pydeps/PACKAGE-VERSION`, where PyPI has a wheel.
fn deps_dir(package: &str, version: &str, python: &Path) -> Option<PathBuf> {
    pydeps(package, version, python, &[package], &[package])
}

fn numpy_dir(version: &str, python: &Path) -> Option<PathBuf> {
    deps_dir("numpy", version, python)
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
        // Types named by their tp_name's module when __module__ is not a string.
        let rows = json(&["summary", s, "--limit", "100000"]);
        for (name, count) in truth["cython_rows"].as_object().unwrap() {
            let row = rows["rows"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["key"] == *name);
            assert_eq!(
                row.map(|r| &r["count"]),
                Some(count),
                "{version}: no row {name} of {count} objects"
            );
        }
        for (name, t) in truth.as_object().unwrap() {
            if name == "cython_rows" {
                continue;
            }
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

/// Run workload_array_leak.py with `extra` arguments: its output, and the first leak root of
/// its three snapshots, which must leak and fail the gate at `max_growth`.
fn leaking(
    version: &str,
    python: &Path,
    extra: &[&std::ffi::OsStr],
    max_growth: &str,
) -> (String, serde_json::Value) {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(python)
        .arg(repo().join("tests/py/workload_array_leak.py"))
        .arg(agent_dir())
        .arg(dir.path())
        .args(extra)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{version}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let snaps: Vec<String> = ["a", "b", "c"]
        .iter()
        .map(|n| dir.path().join(format!("{n}.jsonl")).display().to_string())
        .collect();
    let leaks = json(&["leaks", &snaps[0], &snaps[1], &snaps[2]]);
    let first = leaks["roots"][0].clone();
    assert_eq!(first["leak"], true, "{version}: {leaks}");
    let gate = crate::common::pymem()
        .args([
            "gate",
            &snaps[0],
            &snaps[1],
            &snaps[2],
            "--max-growth",
            max_growth,
        ])
        .output()
        .unwrap();
    assert_eq!(
        gate.status.code(),
        Some(1),
        "{version}: the gate passed a leak"
    );
    (String::from_utf8_lossy(&out.stdout).into_owned(), first)
}

#[test]
fn a_leak_of_arrays_fails_the_gate_with_its_bytes_on_every_cpython() {
    for (version, python) in pythons() {
        let numpy = numpy_dir(version, python);
        let extra: Vec<&std::ffi::OsStr> = numpy.iter().map(|n| n.as_os_str()).collect();
        let (out, first) = leaking(version, python, &extra, "1MiB");
        let per_round: u64 = out.trim().parse().unwrap();
        assert_eq!(first["path"]["expr"], "__main__.kept", "{version}: {first}");
        let growth = first["growth_bytes"].as_u64().unwrap();
        assert!(
            growth.abs_diff(2 * per_round) * 100 < 2 * per_round,
            "{version}: growth {growth} B, the arrays added {} B",
            2 * per_round
        );
    }
}

#[test]
fn a_leak_through_an_object_array_names_its_holder_on_every_cpython() {
    let mut checked = 0;
    for (version, python) in pythons() {
        let Some(numpy) = numpy_dir(version, python) else {
            continue;
        };
        checked += 1;
        let extra = [numpy.as_os_str(), std::ffi::OsStr::new("object")];
        let (_, first) = leaking(version, python, &extra, "64KiB");
        assert_eq!(
            first["path"]["expr"], "__main__.slots",
            "{version}: {first}"
        );
    }
    assert!(checked >= 5, "numpy was found for only {checked} CPythons");
}

/// A DataFrame retains what pandas says it uses (`memory_usage(deep=True)`: its columns'
/// arrays, the strings of its object column, its categories; each string in the 16-byte
/// rounded block pymalloc gives it) plus its own objects (block manager, index), within
/// 5 %; and the program goes on using it.
#[test]
fn a_dataframe_retains_what_pandas_says_it_uses() {
    let mut with_pandas = 0;
    for (version, python) in pythons() {
        let Some(pandas) = deps_dir("pandas", version, python) else {
            eprintln!("note: {version}: no pandas wheel on PyPI: skipped");
            continue;
        };
        with_pandas += 1;
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl");
        let truth_path = dir.path().join("truth.json");
        run_python(
            python,
            "workload_pandas.py",
            &[&snap, &truth_path],
            &[("PYTHONPATH", pandas.to_str().unwrap())],
        );
        let truth = read_json(&truth_path);
        let frame = truth["frame"].as_u64().unwrap().to_string();
        let s = json(&["show", snap.to_str().unwrap(), &frame]);
        let retained = s["retained"].as_u64().unwrap();
        let pandas_says = truth["memory_usage"].as_u64().unwrap();
        let blocks = pandas_says + truth["rounding"].as_u64().unwrap();
        assert!(
            retained >= blocks && retained * 100 <= blocks * 105,
            "{version} (pandas {}): the frame retains {retained}, memory_usage(deep=True) {pandas_says} ({blocks} in pymalloc's blocks)",
            truth["pandas"]
        );
        assert_eq!(s["path"]["expr"], "__main__.frame", "{version}");
    }
    assert!(
        with_pandas >= 5,
        "pandas installed on only {with_pandas} versions"
    );
}
