//! Hostile names: a heap captured by the real agent (tests/py/workload_hostile.py) whose
//! class, module, attribute, dict key, function and thread names carry terminal escapes,
//! bells, direction overrides and newlines that would forge whole output lines. Every
//! command in every text format must write them visibly: no raw control character, no
//! forged line, well-formed JUnit XML and SVG; JSON keeps them exact. Error lines escape
//! file names the same way.

use crate::common::{json, pymem, pythons, run_python};
use std::path::Path;

const FORGED: [&str; 2] = ["RSS        0 B (forged)", "FAIL: forged"];

/// Text output of `pymem ARGS`, which must end with one of `codes`.
fn text(args: &[&str], codes: &[i32]) -> String {
    let out = pymem().args(args).output().unwrap();
    let code = out.status.code().unwrap();
    assert!(
        codes.contains(&code),
        "pymem {args:?}: exit {code}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

fn assert_safe(what: &str, out: &str) {
    assert_safe_maybe_shown(what, out);
    assert!(
        out.contains("\\x1b[2J"),
        "{what}: the name is not shown at all:\n{out}"
    );
}

/// `assert_safe` for reports that name the hostile objects only when they pin arenas.
fn assert_safe_maybe_shown(what: &str, out: &str) {
    if let Some(c) = out
        .chars()
        .find(|&c| c != '\n' && (c.is_control() || c == '\u{202e}'))
    {
        panic!("{what}: raw {c:?} in the output:\n{out}");
    }
    for line in out.lines() {
        let l = line.trim_start();
        assert!(
            !FORGED.iter().any(|f| l.starts_with(f)),
            "{what}: a forged line: {line:?}"
        );
    }
}

fn assert_well_formed_xml(what: &str, xml: &str) {
    let mut reader = quick_xml::Reader::from_str(xml);
    loop {
        match reader.read_event() {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => {}
            Err(e) => panic!("{what}: not well-formed XML: {e}\n{xml}"),
        }
    }
}

fn check(version: &str, dir: &Path) {
    let s: Vec<String> = (0..3)
        .map(|i| dir.join(format!("s{i}.jsonl")).display().to_string())
        .collect();
    let (a, b, c) = (s[0].as_str(), s[1].as_str(), s[2].as_str());
    // JSON keeps the names exact: find the hostile type and the hoard through it.
    let summary = json(&["summary", c, "--limit", "1000"]);
    let evil = summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["key"].as_str().unwrap())
        .find(|k| k.contains("Evil\x1b]0;pwned\x07Q"))
        .unwrap_or_else(|| panic!("{version}: the hostile type is not in the JSON"))
        .to_string();
    assert!(evil.contains("\nRSS        0 B (forged)\n"));
    let top = json(&["top", c, "--limit", "1"]);
    let hoard = top["objects"][0]["addr"].as_str().unwrap().to_string();
    assert!(top["objects"][0]["path"]["expr"]
        .as_str()
        .unwrap()
        .ends_with("\n.hoard"));
    let dot = dir.join("map.svg").display().to_string();
    let runs: Vec<(Vec<&str>, &[i32])> = vec![
        (vec!["summary", c], &[0]),
        (vec!["summary", c, "--by", "module"], &[0]),
        (vec!["summary", c, "--fold"], &[0]),
        (vec!["top", c], &[0]),
        (vec!["top", c, "--by", "type"], &[0]),
        (vec!["top", c, "--by", "module"], &[0]),
        (vec!["path", c, "--type", &evil], &[0]),
        (vec!["path", c, "--type", &evil, "--format", "dot"], &[0]),
        (vec!["show", c, &hoard], &[0]),
        (vec!["diff", a, c], &[0]),
        (vec!["diff", a, c, "--by", "module"], &[0]),
        (vec!["diff", a, c, "--format", "csv"], &[0]),
        (vec!["leaks", a, b, c], &[0]),
        (vec!["gate", a, b, c], &[1]),
        (vec!["caches", a, b, c], &[0]),
        (vec!["advise", c], &[0]),
    ];
    for (args, codes) in &runs {
        assert_safe(&format!("{version}: {args:?}"), &text(args, codes));
    }
    for args in [vec!["frag", c, "--by", "owner"], vec!["frag", a, c]] {
        assert_safe_maybe_shown(&format!("{version}: {args:?}"), &text(&args, &[0]));
    }
    let junit = text(&["gate", a, b, c, "--format", "junit"], &[1]);
    assert_safe(&format!("{version}: gate --format junit"), &junit);
    assert_well_formed_xml(&format!("{version}: junit"), &junit);
    text(&["frag", c, "--svg", &dot], &[0]);
    let svg = std::fs::read_to_string(&dot).unwrap();
    assert_well_formed_xml(&format!("{version}: svg"), &svg);
}

#[test]
fn hostile_names_are_written_visibly_by_every_command() {
    // The oldest and the newest interpreter: the names reach the snapshot the same way.
    let all = pythons();
    for (version, python) in [&all[0], &all[all.len() - 1]] {
        let dir = tempfile::tempdir().unwrap();
        run_python(python, "workload_hostile.py", &[dir.path()], &[]);
        check(version, dir.path());
    }
}

#[test]
fn file_names_in_errors_are_written_visibly() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("evil\x1b[2J\nFAIL: forged.jsonl");
    std::fs::write(&bad, "not a snapshot\n").unwrap();
    let gone = dir.path().join("gone\x07.jsonl");
    for (file, shown) in [(&bad, "evil\\x1b[2J\\nFAIL: forged"), (&gone, "gone\\x07")] {
        let out = pymem().arg("summary").arg(file).output().unwrap();
        let err = String::from_utf8(out.stderr).unwrap();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err:?}");
        assert!(!err.trim_end().chars().any(char::is_control), "{err:?}");
        assert!(err.contains(shown), "{err}");
    }
}
