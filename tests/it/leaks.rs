//! `leaks`, `gate` and `diff` on real programs: one planted unbounded container per
//! scenario (tests/py/leakshop.py), held in each place leaks hide — a module global, a class
//! attribute, an attribute of a long-lived instance, a function default, a closure, an
//! `lru_cache` wrapper, a standard-library registry, a `defaultdict` of lists — and
//! steady-state controls, captured on every CPython 3.8–3.15. The program records what it
//! sees itself (instances counted with gc, the container's address and length) as ground
//! truth.

use crate::common::{json, pymem, pythons, read_json, run_python};
use serde_json::Value;
use std::path::{Path, PathBuf};

const PER_ROUND: &str = "1000";

/// Run one scenario: returns the directory with a/b/c.jsonl and truth.json.
fn capture(python: &Path, scenario: &str, tmp: &Path) -> PathBuf {
    let dir = tmp.join(scenario);
    std::fs::create_dir_all(&dir).unwrap();
    run_python(
        python,
        "workload_leaks.py",
        &[Path::new(scenario), &dir, Path::new(PER_ROUND)],
        &[],
    );
    dir
}

fn snaps(dir: &Path) -> Vec<String> {
    ["a", "b", "c"]
        .iter()
        .map(|n| dir.join(format!("{n}.jsonl")).display().to_string())
        .collect()
}

/// `pymem leaks` on a scenario's a/b/c snapshots, as JSON.
fn leaks_report(dir: &Path) -> Value {
    let s = snaps(dir);
    let mut args = vec!["leaks"];
    args.extend(s.iter().map(String::as_str));
    json(&args)
}

fn gate_exit(dir: &Path, extra: &[&str]) -> i32 {
    let out = pymem()
        .arg("gate")
        .args(snaps(dir))
        .args(extra)
        .output()
        .unwrap();
    out.status.code().unwrap_or(-1)
}

fn check_leak(scenario: &str, expected_path: &str) {
    let tmp = tempfile::tempdir().unwrap();
    for (version, python) in pythons() {
        let dir = capture(python, scenario, tmp.path());
        let truth = read_json(&dir.join("truth.json"));
        let s = snaps(&dir);
        let mut args = vec!["leaks"];
        args.extend(s.iter().map(String::as_str));
        let report = json(&args);
        let first = &report["roots"][0];
        let ctx = format!("{scenario} on {version}: {first:#}");
        let expr = first["path"]["expr"].as_str().unwrap_or_default();
        if expected_path == "loggerDict" {
            assert!(expr.ends_with(".loggerDict"), "{ctx}");
        } else {
            assert_eq!(expr, expected_path, "{ctx}");
        }
        assert_eq!(
            first["addr"].as_str().unwrap(),
            format!("0x{:x}", truth["container"].as_u64().unwrap()),
            "{ctx}"
        );
        assert_eq!(first["leak"], true, "{ctx}");
        assert_eq!(first["grew_every_round"], true, "{ctx}");
        let entries: Vec<u64> = first["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_u64().expect("entries known"))
            .collect();
        let want: Vec<u64> = truth["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e.as_u64().unwrap())
            .collect();
        assert_eq!(entries, want, "{ctx}");
        // Nothing else counts as a leak.
        let counted = report["counted"].as_array().unwrap();
        assert_eq!(counted.len(), 1, "{scenario} on {version}: {counted:?}");
        assert!(first["sample"]["expr"].as_str().unwrap().starts_with(expr));
        assert_eq!(
            gate_exit(&dir, &[]),
            1,
            "gate must fail: {scenario} on {version}"
        );
        // Suppressing the root passes the gate.
        let pattern = format!("*{}*", expr.rsplit('.').next().unwrap());
        assert_eq!(
            gate_exit(&dir, &["--ignore", &pattern]),
            0,
            "--ignore {pattern}: {scenario} on {version}"
        );
    }
}

fn check_control(scenario: &str) {
    let tmp = tempfile::tempdir().unwrap();
    for (version, python) in pythons() {
        let dir = capture(python, scenario, tmp.path());
        let s = snaps(&dir);
        let mut args = vec!["leaks"];
        args.extend(s.iter().map(String::as_str));
        let report = json(&args);
        assert_eq!(
            report["counted"].as_array().unwrap().len(),
            0,
            "{scenario} on {version}: {:#}",
            report["roots"]
        );
        // Strictest settings still pass: no root at all counts as a leak.
        assert_eq!(
            gate_exit(&dir, &["--max-leaks", "0", "--max-growth", "0"]),
            0,
            "gate must pass: {scenario} on {version}"
        );
    }
}

macro_rules! leak_tests {
    ($($name:ident => $path:expr),* $(,)?) => {$(
        #[test]
        fn $name() {
            check_leak(stringify!($name), $path);
        }
    )*};
}

mod leak {
    use super::check_leak;
    leak_tests! {
        module_global => "leakshop._carts",
        class_attr => "leakshop.Registry.instances",
        instance_attr => "leakshop.app.history",
        func_default => "leakshop.remember.__defaults__[0]",
        closure => "leakshop.track.__closure__[0].cell_contents",
        lru_unbounded => "leakshop.lookup",
        stdlib_registry => "loggerDict",
        defaultdict_lists => "leakshop._by_user",
        // Issue 26, CPython gh-97557: it used to be suppressed as interpreter noise while
        // `__main__.__dict__`, which holds it, was reported first as the leak.
        warning_registry => "__main__.__warningregistry__",
    }
}

mod control {
    use super::check_control;

    #[test]
    fn bounded_lru() {
        check_control("bounded_lru");
    }

    /// Issue 26: an `lru_cache(maxsize=4096)` still filling up. The gate used to exit 1 in
    /// about half the runs on the same files (the bound was read from whichever merged group
    /// a HashMap yielded first); now every run, with 1 or 2 threads, reports it bounded.
    #[test]
    fn lru_filling() {
        check_control("lru_filling");
        let tmp = tempfile::tempdir().unwrap();
        for (version, python) in super::pythons() {
            let dir = super::capture(python, "lru_filling", tmp.path());
            let report = super::leaks_report(&dir);
            let b = &report["bounded"][0];
            assert_eq!(b["root"], "leakshop.filling", "{version}: {report:#}");
            assert_eq!(b["bound"], 4096, "{version}");
            assert_eq!(b["entries"], 2050, "{version}");
            for run in 0..10 {
                let threads = 1 + run % 2;
                let out = super::pymem()
                    .arg("gate")
                    .args(super::snaps(&dir))
                    .env("RAYON_NUM_THREADS", threads.to_string())
                    .output()
                    .unwrap();
                assert_eq!(
                    out.status.code(),
                    Some(0),
                    "{version}, run {run}: {}",
                    String::from_utf8_lossy(&out.stdout)
                );
            }
        }
    }

    #[test]
    fn deque_ring() {
        check_control("deque_ring");
    }

    /// A bounded deque that is still filling up grows in every round, is not counted, and
    /// is reported with its bound and what it will hold there.
    #[test]
    fn deque_filling() {
        check_control("deque_filling");
        let tmp = tempfile::tempdir().unwrap();
        for (version, python) in super::pythons() {
            let dir = super::capture(python, "deque_filling", tmp.path());
            let report = super::leaks_report(&dir);
            let b = &report["bounded"][0];
            assert_eq!(b["root"], "leakshop._query_log", "{version}: {report:#}");
            assert_eq!(b["bound"], 9000, "{version}");
            assert_eq!(b["entries"], 2050, "{version}");
            let per_entry = b["at_bound_bytes"].as_u64().unwrap() / 9000;
            assert!((50..1000).contains(&per_entry), "{version}: {b}");
            let out = super::pymem()
                .arg("gate")
                .args(super::snaps(&dir))
                .output()
                .unwrap();
            let text = String::from_utf8_lossy(&out.stdout);
            assert!(
                text.contains("leakshop._query_log grew, at most 9,000 entries"),
                "{version}: {text}"
            );
        }
    }

    #[test]
    fn overwrite() {
        check_control("overwrite");
    }

    #[test]
    fn temporary() {
        check_control("temporary");
    }
}

/// `diff` counts agree with what the program counted itself, and new objects by identity
/// are exactly the Carts it added.
#[test]
fn diff_matches_the_programs_own_counts() {
    let tmp = tempfile::tempdir().unwrap();
    for (version, python) in pythons() {
        let dir = capture(python, "module_global", tmp.path());
        let truth = read_json(&dir.join("truth.json"));
        let s = snaps(&dir);
        let d = json(&["diff", &s[0], &s[1], "--limit", "1000"]);
        let row = d["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == "leakshop.Cart")
            .unwrap_or_else(|| panic!("no Cart row on {version}: {d:#}"));
        let count = |i: usize| truth["counts"][i]["leakshop.Cart"].as_u64().unwrap();
        assert_eq!(row["count_a"].as_u64(), Some(count(0)), "{version}");
        assert_eq!(row["count_b"].as_u64(), Some(count(1)), "{version}");
        assert_eq!(row["new"].as_u64(), Some(count(1) - count(0)), "{version}");
        assert_eq!(row["gone"].as_u64(), Some(0), "{version}");
        // CSV carries the same numbers.
        let out = pymem()
            .args(["diff", &s[0], &s[1], "--format", "csv", "--limit", "1000"])
            .output()
            .unwrap();
        let csv = String::from_utf8(out.stdout).unwrap();
        let line = csv
            .lines()
            .find(|l| l.starts_with("leakshop.Cart,"))
            .unwrap();
        assert!(
            line.starts_with(&format!("leakshop.Cart,{},", count(0))),
            "{line}"
        );
    }
}

/// Two snapshots of different processes: identity is not compared, and leaks refuses.
#[test]
fn snapshots_of_different_processes() {
    let a = crate::common::repo().join("fixtures/shop-3.11.jsonl.gz");
    let b = crate::common::repo().join("fixtures/shop-3.12.jsonl.gz");
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let d = json(&["diff", a, b]);
    assert!(d["identity_note"]
        .as_str()
        .unwrap()
        .contains("different processes"));
    assert_eq!(d["totals"]["new"], Value::Null);
    let out = pymem().args(["leaks", a, b]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("different processes") && err.lines().count() == 1,
        "{err}"
    );
}

/// The iterator of a loop running while the snapshot is taken is not a leak root: it is
/// suppressed as interpreter noise, by name.
#[test]
fn a_running_loops_iterator_is_not_a_leak_root() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        run_python(python, "workload_loop.py", &[dir.path()], &[]);
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        let report = json(&["leaks", a.to_str().unwrap(), b.to_str().unwrap()]);
        for r in report["roots"].as_array().unwrap() {
            let expr = r["path"]["expr"].as_str().unwrap_or_default();
            assert!(!expr.starts_with("<enumerate"), "{version}: {r:#}");
        }
        assert!(
            report["suppressed"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["pattern"] == "<enumerate 0x* held from outside>*"),
            "{version}: {:#}",
            report["suppressed"]
        );
    }
}
