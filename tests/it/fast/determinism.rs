//! One input, one answer (issue 26): every analysing command, in every output format, prints
//! the same bytes on every run and with one or two worker threads. Each invocation is a new
//! process, so anything that took its order from a `HashMap` (whose hasher is seeded per
//! process) or from the scheduling of rayon's threads shows up as a difference between runs.
//! The shipped fixtures are the input here; `leaks::control::lru_filling` repeats the verdict
//! on a live capture of the case that flipped (an `lru_cache` still filling up).

use crate::common::{pymem, repo};
use std::path::{Path, PathBuf};

/// Runs of each invocation: alternately with 1 and 2 rayon threads.
const RUNS: usize = 6;

fn fixture(name: &str) -> String {
    repo().join("fixtures").join(name).display().to_string()
}

/// stdout, stderr and exit code of one run with `threads` rayon threads.
fn run(args: &[String], threads: usize, svg: Option<&PathBuf>) -> (Vec<u8>, Vec<u8>, i32) {
    let out = pymem()
        .args(args)
        .env("RAYON_NUM_THREADS", threads.to_string())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let mut stdout = out.stdout;
    if let Some(p) = svg {
        stdout.extend_from_slice(&std::fs::read(p).unwrap_or_default());
    }
    (stdout, out.stderr, out.status.code().unwrap_or(-1))
}

fn assert_deterministic(args: &[String], svg: Option<&PathBuf>) {
    let first = run(args, 1, svg);
    assert!(
        first.2 == 0 || first.2 == 1,
        "pymem {}: exit {}: {}",
        args.join(" "),
        first.2,
        String::from_utf8_lossy(&first.1)
    );
    for i in 1..RUNS {
        let threads = 1 + i % 2;
        let again = run(args, threads, svg);
        assert_eq!(
            first.2,
            again.2,
            "pymem {}: exit code differs between runs",
            args.join(" ")
        );
        if first.0 != again.0 {
            let a = String::from_utf8_lossy(&first.0);
            let b = String::from_utf8_lossy(&again.0);
            let line = a
                .lines()
                .zip(b.lines())
                .position(|(x, y)| x != y)
                .unwrap_or(0);
            panic!(
                "pymem {}: output differs between runs (run {i}, {threads} threads), first at line {}:\n  {}\n  {}",
                args.join(" "),
                line + 1,
                a.lines().nth(line).unwrap_or(""),
                b.lines().nth(line).unwrap_or("")
            );
        }
        assert_eq!(
            first.1,
            again.1,
            "pymem {}: stderr differs between runs",
            args.join(" ")
        );
    }
}

fn invocations() -> Vec<Vec<String>> {
    invocations_in(&repo().join("fixtures"))
}

/// The suite of invocations, on the fixtures as found in `dir` (the index tests run it on
/// copies, with and without indexes).
pub fn invocations_in(dir: &Path) -> Vec<Vec<String>> {
    let fixture = |name: &str| dir.join(name).display().to_string();
    let shop = fixture("shop-3.12.jsonl.gz");
    let shop15 = fixture("shop-3.15.jsonl.gz");
    let traced = fixture("traced-3.12.jsonl.gz");
    let (a, b, c) = (
        fixture("leak-a.jsonl.gz"),
        fixture("leak-b.jsonl.gz"),
        fixture("leak-c.jsonl.gz"),
    );
    // An address to `show`: the first root `top` lists.
    let top = crate::common::json(&["top", &shop, "--limit", "1"]);
    let addr = top["objects"][0]["addr"]
        .as_str()
        .expect("top lists an object")
        .to_string();
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<String>>();
    let mut out = Vec::new();
    for snap in [&shop, &shop15] {
        for format in ["table", "json"] {
            out.push(s(&["summary", snap, "--format", format, "--limit", "1000"]));
            out.push(s(&["summary", snap, "--by", "module", "--format", format]));
            out.push(s(&["summary", snap, "--fold", "--format", format]));
        }
        for format in ["table", "json"] {
            out.push(s(&["top", snap, "--format", format, "--limit", "200"]));
            out.push(s(&[
                "top", snap, "--by", "type", "--format", format, "--limit", "500",
            ]));
            out.push(s(&["top", snap, "--by", "module", "--format", format]));
            out.push(s(&[
                "path", snap, "--type", "str", "--limit", "50", "--format", format,
            ]));
            out.push(s(&[
                "path", snap, "--type", "dict", "--limit", "20", "--format", format,
            ]));
            out.push(s(&[
                "caches",
                snap,
                "--min-entries",
                "5",
                "--format",
                format,
            ]));
            out.push(s(&["advise", snap, "--format", format]));
            out.push(s(&["frag", snap, "--threshold", "90", "--format", format]));
            out.push(s(&[
                "frag",
                snap,
                "--by",
                "owner",
                "--threshold",
                "90",
                "--format",
                format,
            ]));
        }
        out.push(s(&["path", snap, "--type", "list", "--format", "dot"]));
    }
    for format in ["table", "json"] {
        out.push(s(&[
            "show", &shop, &addr, "--format", format, "--limit", "100",
        ]));
        out.push(s(&[
            "summary",
            &traced,
            "--by",
            "traceback",
            "--format",
            format,
        ]));
        out.push(s(&[
            "frag",
            &traced,
            "--by",
            "traceback",
            "--format",
            format,
        ]));
    }
    for format in ["table", "json", "csv"] {
        out.push(s(&["diff", &a, &b, "--format", format, "--limit", "1000"]));
        out.push(s(&["diff", &a, &c, "--by", "module", "--format", format]));
    }
    for format in ["table", "json"] {
        out.push(s(&[
            "leaks", &a, &b, &c, "--format", format, "--limit", "100",
        ]));
        out.push(s(&[
            "leaks",
            &a,
            &b,
            &c,
            "--no-builtin-suppressions",
            "--format",
            format,
        ]));
        out.push(s(&["leaks", &a, &c, "--format", format]));
        out.push(s(&[
            "caches",
            &a,
            &b,
            &c,
            "--min-entries",
            "5",
            "--format",
            format,
        ]));
        out.push(s(&[
            "frag",
            &a,
            &c,
            "--threshold",
            "90",
            "--format",
            format,
        ]));
    }
    for format in ["table", "json", "junit"] {
        out.push(s(&["gate", &a, &b, &c, "--format", format]));
        out.push(s(&[
            "gate",
            &a,
            &b,
            &c,
            "--max-growth",
            "0",
            "--format",
            format,
        ]));
    }
    out
}

#[test]
fn every_command_answers_the_same_on_every_run() {
    for args in invocations() {
        assert_deterministic(&args, None);
    }
}

#[test]
fn frag_svg_is_the_same_on_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let svg = tmp.path().join("map.svg");
    let args: Vec<String> = [
        "frag",
        &fixture("shop-3.12.jsonl.gz"),
        "--svg",
        &svg.display().to_string(),
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    assert_deterministic(&args, Some(&svg));
}

#[test]
fn html_report_is_the_same_on_every_run() {
    let tmp = tempfile::tempdir().unwrap();
    let page = tmp.path().join("report.html");
    for name in ["shop-3.12.jsonl.gz", "leak-c.jsonl.gz"] {
        let args: Vec<String> = ["report", &fixture(name), "-o", &page.display().to_string()]
            .iter()
            .map(|x| x.to_string())
            .collect();
        assert_deterministic(&args, Some(&page));
    }
}
