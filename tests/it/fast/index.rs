//! The persistent index (issue 27): every command answers the same from a snapshot's index
//! as from its JSON — when the index is built by that command and when it is re-opened —
//! on the shipped captures of every CPython 3.8-3.15; an index stands in for a snapshot that
//! is gone; a replaced snapshot gets a new index; standard input is indexed only when asked.

use crate::common::{pymem, repo};
use std::path::{Path, PathBuf};

const FIXTURES: &[&str] = &[
    "shop-3.8.jsonl.gz",
    "shop-3.9.jsonl.gz",
    "shop-3.10.jsonl.gz",
    "shop-3.11.jsonl.gz",
    "shop-3.12.jsonl.gz",
    "shop-3.13.jsonl.gz",
    "shop-3.14.jsonl.gz",
    "shop-3.15.jsonl.gz",
    "traced-3.12.jsonl.gz",
    "leak-a.jsonl.gz",
    "leak-b.jsonl.gz",
    "leak-c.jsonl.gz",
];

/// Copies of the fixtures in a fresh folder (no index beside them yet), and a private cache.
struct Copies {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Copies {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        for f in FIXTURES {
            std::fs::copy(repo().join("fixtures").join(f), dir.path().join(f)).unwrap();
        }
        Copies {
            dir,
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn indexes(&self) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "pmi"))
            .collect();
        out.sort();
        out
    }

    fn remove_indexes(&self) {
        for p in self.indexes() {
            std::fs::remove_file(p).unwrap();
        }
    }

    /// stdout, stderr and exit code.
    fn run(&self, args: &[String]) -> (Vec<u8>, String, i32) {
        let out = pymem()
            .args(args)
            .env("NO_COLOR", "1")
            .env("XDG_CACHE_HOME", self.cache.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        (out.stdout, stderr, out.status.code().unwrap_or(-1))
    }
}

/// A JSON answer without the snapshot's file name (which names what was opened).
fn answer(stdout: &[u8]) -> serde_json::Value {
    let mut v: serde_json::Value = serde_json::from_slice(stdout).unwrap();
    if let Some(snap) = v.get_mut("snapshot").and_then(|s| s.as_object_mut()) {
        snap.remove("path");
    }
    v
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn assert_same(
    args: &[String],
    want: &(Vec<u8>, String, i32),
    got: &(Vec<u8>, String, i32),
    how: &str,
) {
    assert_eq!(
        want.2,
        got.2,
        "pymem {}: exit code {how}: {}",
        args.join(" "),
        got.1
    );
    if want.0 != got.0 {
        let (a, b) = (
            String::from_utf8_lossy(&want.0),
            String::from_utf8_lossy(&got.0),
        );
        let line = a
            .lines()
            .zip(b.lines())
            .position(|(x, y)| x != y)
            .unwrap_or(0);
        panic!(
            "pymem {}: output {how} differs at line {}:\n  {}\n  {}",
            args.join(" "),
            line + 1,
            a.lines().nth(line).unwrap_or(""),
            b.lines().nth(line).unwrap_or("")
        );
    }
    assert_eq!(want.1, got.1, "pymem {}: stderr {how}", args.join(" "));
}

/// Per shipped capture of each CPython: what each analysing command answers about it.
fn per_version_invocations(c: &Copies) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    for f in FIXTURES.iter().filter(|f| f.starts_with("shop-")) {
        let snap = c.path(f).display().to_string();
        let top = c.run(&strings(&[
            "--no-index",
            "top",
            &snap,
            "--format",
            "json",
            "--limit",
            "3",
        ]));
        let top: serde_json::Value = serde_json::from_slice(&top.0).unwrap();
        let addr = top["objects"][2]["addr"].as_str().unwrap().to_string();
        for args in [
            vec!["summary", &snap, "--format", "json"],
            vec!["top", &snap, "--format", "json"],
            vec!["top", &snap, "--by", "module", "--format", "json"],
            vec!["show", &snap, &addr, "--format", "json"],
            vec!["path", &snap, &addr, "--format", "json"],
            vec!["path", &snap, "--type", "dict", "--format", "json"],
            vec!["advise", &snap, "--format", "json"],
            vec!["caches", &snap, "--format", "json"],
            vec!["frag", &snap, "--format", "json"],
        ] {
            out.push(strings(&args));
        }
    }
    out
}

#[test]
fn every_command_answers_the_same_with_and_without_an_index() {
    let c = Copies::new();
    let mut all = per_version_invocations(&c);
    all.extend(super::determinism::invocations_in(c.dir.path()));
    for args in all {
        let mut plain = vec!["--no-index".to_string()];
        plain.extend(args.iter().cloned());
        c.remove_indexes();
        let want = c.run(&plain);
        assert!(c.indexes().is_empty(), "--no-index wrote an index");
        let building = c.run(&args);
        assert!(
            !c.indexes().is_empty(),
            "pymem {}: no index written",
            args.join(" ")
        );
        assert_same(&args, &want, &building, "while building the index");
        let reopened = c.run(&args);
        assert_same(&args, &want, &reopened, "from the index");
    }
}

#[test]
fn pymem_index_builds_ahead_and_the_index_stands_in_for_a_snapshot_gone() {
    let c = Copies::new();
    let snap = c.path("shop-3.13.jsonl.gz");
    let s = snap.display().to_string();
    let (out, err, code) = c.run(&strings(&["index", &s]));
    assert_eq!(code, 0, "{err}");
    let written = PathBuf::from(String::from_utf8(out).unwrap().trim());
    assert_eq!(written, c.path("shop-3.13.jsonl.gz.pmi"));
    let want = c.run(&strings(&["--no-index", "top", &s, "--format", "json"]));
    std::fs::remove_file(&snap).unwrap();
    let idx = written.display().to_string();
    let got = c.run(&strings(&["top", &idx, "--format", "json"]));
    assert_eq!(got.2, 0, "{}", got.1);
    assert!(
        answer(&want.0) == answer(&got.0),
        "the index answers otherwise"
    );
}

#[test]
fn a_replaced_snapshot_gets_a_new_index() {
    let c = Copies::new();
    let snap = c.path("leak-a.jsonl.gz");
    let s = snap.display().to_string();
    let first = c.run(&strings(&["summary", &s, "--format", "json"]));
    assert_eq!(first.2, 0);
    // Another capture under the same name (and the same modification time: only the size
    // and content tell them apart).
    let mtime = std::fs::metadata(&snap).unwrap().modified().unwrap();
    std::fs::copy(c.path("leak-c.jsonl.gz"), &snap).unwrap();
    std::fs::File::options()
        .write(true)
        .open(&snap)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    let want = c.run(&strings(&["--no-index", "summary", &s, "--format", "json"]));
    let got = c.run(&strings(&["summary", &s, "--format", "json"]));
    assert_ne!(first.0, want.0, "the two captures differ");
    assert_same(
        &strings(&["summary", &s]),
        &want,
        &got,
        "after the snapshot was replaced",
    );
}

#[test]
fn standard_input_is_indexed_only_when_asked() {
    let c = Copies::new();
    let snap = std::fs::read(c.path("shop-3.12.jsonl.gz")).unwrap();
    let stdin_run = |extra: &[&str]| {
        let out = pymem()
            .args(extra)
            .args(["top", "-", "--format", "json"])
            .env("XDG_CACHE_HOME", c.cache.path())
            .write_stdin(snap.clone())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        (
            out.stdout,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (plain, err) = stdin_run(&[]);
    assert!(err.is_empty(), "{err}");
    assert!(
        !c.cache.path().join("pymem").exists(),
        "indexed without --index"
    );
    let (indexed, err) = stdin_run(&["--index"]);
    assert!(plain == indexed, "--index changed the answer");
    let named = err
        .trim()
        .strip_prefix("pymem: indexed standard input as ")
        .and_then(|r| r.split(" (").next())
        .unwrap_or_else(|| panic!("{err}"));
    let named = Path::new(named);
    assert!(named.starts_with(c.cache.path().join("pymem")), "{err}");
    let again = c.run(&strings(&[
        "top",
        &named.display().to_string(),
        "--format",
        "json",
    ]));
    assert_eq!(again.2, 0, "{}", again.1);
    assert!(
        answer(&plain) == answer(&again.0),
        "the index answers otherwise"
    );
}
