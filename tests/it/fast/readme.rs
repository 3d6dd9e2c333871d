//! The README's tour is run: every `$ pymem ...` line in a ```text block is executed from
//! the repository's root (by `sh`, with this build's `pymem` first on PATH) and its output
//! must be the lines that follow it in the README. A line that is only `...` stands for any
//! number of lines; a line ending in `...` matches any line that starts with the rest.
//! ```console blocks are sample runs of the test workloads (their figures vary by run; the
//! tests named beside them check the answers) and are not run here.

use crate::common::repo;
use std::process::Command;

/// (command, expected lines) for every command in the README's text blocks.
fn examples(readme: &str) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    let mut in_text = false;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_text = line == "```text";
            continue;
        }
        if !in_text {
            continue;
        }
        if let Some(cmd) = line.strip_prefix("$ ") {
            out.push((cmd.to_string(), Vec::new()));
        } else if let Some((_, expected)) = out.last_mut() {
            expected.push(line.to_string());
        }
    }
    for (_, expected) in &mut out {
        while expected.last().is_some_and(|l| l.is_empty()) {
            expected.pop();
        }
    }
    out
}

/// Whether `got` matches `want` (with `...` wildcards), by dynamic programming over the
/// two line lists (no recursion).
fn matches(want: &[String], got: &[&str]) -> bool {
    // ok[j] = want[..i] matches got[..j]
    let mut ok = vec![false; got.len() + 1];
    ok[0] = true;
    for w in want {
        let mut next = vec![false; got.len() + 1];
        if w == "..." {
            let mut any = false;
            for j in 0..=got.len() {
                any |= ok[j];
                next[j] = any;
            }
        } else {
            for j in 1..=got.len() {
                let line = got[j - 1].trim_end();
                let hit = match w.strip_suffix("...") {
                    Some(prefix) => line.starts_with(prefix.trim_end()),
                    None => line == w.trim_end(),
                };
                next[j] = ok[j - 1] && hit;
            }
        }
        ok = next;
    }
    ok[got.len()]
}

#[test]
fn the_readme_tour_prints_what_it_says() {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let examples = examples(&readme);
    assert!(examples.len() >= 6, "the tour's commands were not found");
    let bin = assert_cmd::cargo::cargo_bin("pymem");
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    for (cmd, want) in &examples {
        assert!(cmd.starts_with("pymem "), "not a pymem command: {cmd}");
        let out = Command::new("sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(repo())
            .env("PATH", &path)
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let mut got: Vec<&str> = text.lines().collect();
        while got.last().is_some_and(|l| l.trim().is_empty()) {
            got.pop();
        }
        assert!(
            matches(want, &got),
            "README: `{cmd}` prints\n{text}\nbut the README says\n{}",
            want.join("\n")
        );
    }
}

#[test]
fn wildcards_match_as_documented() {
    let w = |s: &[&str]| s.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert!(matches(&w(&["a", "...", "d"]), &["a", "b", "c", "d"]));
    assert!(matches(&w(&["a", "...", "d"]), &["a", "d"]));
    assert!(!matches(&w(&["a", "...", "d"]), &["a", "b"]));
    assert!(matches(
        &w(&["Captured   x, ..."]),
        &["Captured   x, pid 3"]
    ));
    assert!(!matches(&w(&["a"]), &["a", "b"]));
}
