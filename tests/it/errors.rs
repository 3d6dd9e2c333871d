//! Bad input: one clear line on stderr naming the file (and line), exit 2, never a panic.

use crate::common::*;
use predicates::prelude::*;

fn fails_with(content: &[u8], expected: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(dir.path(), "bad.jsonl", content);
    let out = pymem()
        .args(["summary", p.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "exit code for {expected:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    assert!(err.contains("bad.jsonl"), "names the file: {err}");
    assert!(
        err.contains(expected),
        "{err:?} should contain {expected:?}"
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn tiny_snapshot_loads() {
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(dir.path(), "ok.jsonl", TINY.as_bytes());
    let s = json(&["summary", p.to_str().unwrap()]);
    assert_eq!(s["snapshot"]["objects"], 4);
    assert_eq!(row_count(&s, "shop.Item"), 2);
    assert_eq!(row_count(&s, "dict"), 2);
    assert_eq!(s["total_bytes"], 232 + 48 + 48 + 64);
    // 4224 has rc 2 but one reference inside: held from outside.
    assert_eq!(s["snapshot"]["roots"]["external"], 1);
}

#[test]
fn empty_file() {
    fails_with(b"", "empty file");
}

#[test]
fn binary_file() {
    fails_with(
        &[0x7f, b'E', b'L', b'F', 0, 0, 1, 2],
        "line 1: not a pymem snapshot",
    );
}

#[test]
fn corrupt_line_is_named() {
    let text = TINY.replace(r#""s":48,"rc":1"#, r#""s":48,"rc":"#);
    fails_with(text.as_bytes(), "line 5:");
}

#[test]
fn truncated_file_needs_partial() {
    let text: String = TINY.lines().take(6).map(|l| format!("{l}\n")).collect();
    fails_with(text.as_bytes(), "truncated: no end record");
    let dir = tempfile::tempdir().unwrap();
    let p = write_tmp(dir.path(), "cut.jsonl", text.as_bytes());
    let s = json(&["summary", p.to_str().unwrap(), "--partial"]);
    assert_eq!(s["snapshot"]["complete"], false);
    assert_eq!(s["snapshot"]["objects"], 3);
}

#[test]
fn future_version_is_named() {
    let text = TINY.replace(r#""version":1,"#, r#""version":7,"#);
    fails_with(text.as_bytes(), "format version 7 is not supported");
}

#[test]
fn other_json_is_not_a_snapshot() {
    fails_with(b"{\"hello\": 1}\n", "line 1:");
}

#[test]
fn duplicated_object_line_is_named() {
    let mut lines: Vec<&str> = TINY.lines().collect();
    lines.insert(5, lines[4]);
    let text = lines.join("\n").replace(r#""objects":4"#, r#""objects":5"#);
    fails_with(text.as_bytes(), "appears twice (first at line 5)");
}

#[test]
fn dropped_object_line_is_caught_by_the_end_count() {
    let text: Vec<&str> = TINY
        .lines()
        .enumerate()
        .filter(|(i, _)| *i != 4)
        .map(|(_, l)| l)
        .collect();
    fails_with(
        text.join("\n").as_bytes(),
        "end record counts 4 objects but the file holds 3",
    );
}

#[test]
fn unknown_type_id() {
    let text = TINY.replace(r#""a":4288,"t":0"#, r#""a":4288,"t":9"#);
    fails_with(text.as_bytes(), "type id 9");
}

#[test]
fn missing_file() {
    pymem()
        .args(["summary", "/nonexistent/heap.jsonl"])
        .assert()
        .code(2)
        .stderr(
            predicate::str::contains("/nonexistent/heap.jsonl")
                .and(predicate::str::contains("No such file")),
        );
}

#[test]
fn gzip_is_accepted_and_corrupt_gzip_is_named() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(TINY.as_bytes()).unwrap();
    let bytes = gz.finish().unwrap();
    let p = write_tmp(dir.path(), "ok.jsonl.gz", &bytes);
    let s = json(&["summary", p.to_str().unwrap()]);
    assert_eq!(s["snapshot"]["objects"], 4);
    fails_with(&bytes[..bytes.len() / 2], "gzip");
}

#[test]
fn bad_arguments_exit_2() {
    pymem().args(["summary"]).assert().code(2);
    pymem()
        .args(["summary", "x", "--format", "xml"])
        .assert()
        .code(2);
    pymem().args(["frobnicate"]).assert().code(2);
}

#[test]
fn run_refuses_what_cannot_start_in_one_line_and_takes_no_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    let (_, python) = &crate::common::pythons()[0];
    let py = python.to_str().unwrap();
    let out_dir = dir.path().join("snaps");
    let o = out_dir.to_str().unwrap();
    for (args, needle) in [
        (
            vec!["run", "-o", o, "--python", py, "--", "nosuch.py"],
            "cannot run nosuch.py: no such file",
        ),
        (
            vec![
                "run",
                "-o",
                o,
                "--python",
                py,
                "--",
                "-m",
                "nosuch_module_x",
            ],
            "no module named nosuch_module_x",
        ),
        (
            vec!["run", "-o", o, "--signal", "KILL", "--", "x.py"],
            "SIGKILL cannot be caught",
        ),
        (
            vec!["run", "-o", o, "--signal", "19", "--", "x.py"],
            "SIGSTOP cannot be caught",
        ),
        (
            vec![
                "run",
                "-o",
                o,
                "--every",
                "0s",
                "--python",
                py,
                "--",
                file!(),
            ],
            "--every must be more than 0 s",
        ),
    ] {
        let out = pymem().args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            err.lines()
                .filter(|l| !l.is_empty() && !l.starts_with("For more"))
                .count()
                == 1,
            "{err}"
        );
    }
    let taken = std::fs::read_dir(&out_dir).map(|d| d.count()).unwrap_or(0);
    assert_eq!(taken, 0, "no snapshot of a program that never ran");
}
