//! Allocation tracebacks on every CPython 3.8–3.15 (tests/py/workload_traced.py, tracemalloc
//! on): `summary`, `diff` and `leaks` group by allocation site, and agree with what
//! tracemalloc itself says in the process.

use crate::common::{json, on_every_python_at_once, pymem, read_json, run_python, TINY};

#[test]
fn allocation_sites_match_tracemalloc_on_every_cpython() {
    // Captures under tracemalloc are slow (it traces the agent's own allocations too):
    // the six interpreters run side by side.
    let captured = on_every_python_at_once(|python, dir| {
        run_python(python, "workload_traced.py", &[dir], &[]);
    });
    for (version, dir) in &captured {
        let truth = read_json(&dir.path().join("truth.json"));
        let site = truth["site"].as_str().unwrap();
        let count = |i: usize| truth["counts"][i].as_u64().unwrap();
        let snap = |n: &str| dir.path().join(format!("{n}.jsonl")).display().to_string();
        let (a, b, c) = (snap("a"), snap("b"), snap("c"));

        let s = json(&["summary", &b, "--by", "traceback", "--limit", "100000"]);
        let row = s["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == site)
            .unwrap_or_else(|| panic!("{version}: no row for {site}"));
        assert_eq!(row["count"].as_u64(), Some(count(1)), "{version}: {row}");

        let d = json(&["diff", &a, &b, "--by", "traceback", "--limit", "100000"]);
        let row = d["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == site)
            .unwrap();
        assert_eq!(
            row["count_delta"].as_i64(),
            Some(count(1) as i64 - count(0) as i64),
            "{version}: {row}"
        );

        // Records copied by copy.deepcopy: allocated in the standard library, charged to
        // the line in this program that called it; `show` prints the whole stack.
        for r in truth["copied"].as_array().unwrap() {
            let addr = r["addr"].as_u64().unwrap().to_string();
            let s = json(&["show", &a, &addr]);
            let allocated = &s["allocated_at"];
            assert_eq!(allocated["stack"], r["stack"], "{version}: {r}");
            assert_eq!(allocated["site"], r["site"], "{version}: {r}");
            let stack = r["stack"].as_array().unwrap();
            assert!(
                !stack[0].as_str().unwrap().contains("workload_traced.py"),
                "{version}: the innermost frame is the standard library's: {r}"
            );
        }
        let site_of_copies = truth["copied"][0]["site"].as_str().unwrap();
        let rows = |args: &[&str]| {
            json(
                &[
                    &["summary", &a, "--by", "traceback", "--limit", "100000"],
                    args,
                ]
                .concat(),
            )["rows"]
                .as_array()
                .unwrap()
                .clone()
        };
        let copies = rows(&[])
            .into_iter()
            .find(|r| r["key"] == site_of_copies)
            .unwrap_or_else(|| panic!("{version}: no row for {site_of_copies}"));
        assert!(copies["count"].as_u64() >= Some(50), "{version}: {copies}");
        let whole = truth["copied"][0]["stack"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(" <- ");
        assert!(
            rows(&["--frames", "all"])
                .iter()
                .any(|r| r["key"] == whole.as_str()),
            "{version}: no row for the whole stack {whole}"
        );

        let l = json(&["leaks", &a, &b, &c]);
        let root = &l["roots"][0];
        assert_eq!(
            root["path"]["expr"], "__main__.orders",
            "{version}: {root:#}"
        );
        assert!(
            root["allocated_at"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["site"] == site),
            "{version}: {root:#}"
        );
    }
}

/// tracemalloc's table read from outside (`pymem attach`, nothing run in the process) gives
/// the allocation sites the process itself reports, on 3.9–3.15; 3.8's is said not to be read.
#[test]
fn allocation_sites_read_from_outside_match_tracemalloc() {
    use crate::common::{attach_while_waiting, pythons};
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let read = dir.path().join("read.jsonl");
        attach_while_waiting(python, "workload_traced.py", dir.path(), &read);
        let read = read.display().to_string();

        if version.starts_with("3.8") {
            let s = json(&["summary", &read, "--limit", "1"]);
            let missing = s["snapshot"]["missing"].to_string();
            assert!(missing.contains("3.8"), "{version}: {missing}");
            let out = pymem()
                .args(["summary", &read, "--by", "traceback"])
                .output()
                .unwrap();
            assert_eq!(out.status.code(), Some(2), "{version}");
            continue;
        }
        let truth = read_json(&dir.path().join("truth.json"));
        let site = truth["site"].as_str().unwrap();
        let s = json(&["summary", &read, "--by", "traceback", "--limit", "100000"]);
        let row = s["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == site)
            .unwrap_or_else(|| panic!("{version}: no row for {site}"));
        assert_eq!(row["count"], truth["final"], "{version}: {row}");
        for r in truth["copied"].as_array().unwrap() {
            let addr = r["addr"].as_u64().unwrap().to_string();
            let shown = json(&["show", &read, &addr]);
            assert_eq!(shown["allocated_at"]["stack"], r["stack"], "{version}: {r}");
            assert_eq!(shown["allocated_at"]["site"], r["site"], "{version}: {r}");
        }
    }
}

#[test]
fn grouping_by_traceback_without_tracebacks_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let p = crate::common::write_tmp(dir.path(), "t.jsonl", TINY.as_bytes());
    let out = pymem()
        .args(["summary", p.to_str().unwrap(), "--by", "traceback"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no allocation tracebacks") && err.lines().count() == 1,
        "{err}"
    );
}

/// The shipped traced fixture: `tb` records load and group (format fixture).
#[test]
fn traced_fixture_groups_by_allocation_site() {
    let f = crate::common::repo().join("fixtures/traced-3.12.jsonl.gz");
    let s = json(&[
        "summary",
        f.to_str().unwrap(),
        "--by",
        "traceback",
        "--limit",
        "100000",
    ]);
    let rows = s["rows"].as_array().unwrap();
    let row = rows
        .iter()
        .find(|r| r["key"] == "/work/main/tests/py/workload_traced.py:37")
        .expect("the Orders' allocation site");
    assert_eq!(row["count"], 10);
    assert!(rows.iter().any(|r| r["key"] == "<not traced>"));
}
