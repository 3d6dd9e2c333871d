//! The agent's safety rules, each proven on every CPython: no user code, no materialised
//! instance dicts, no collections, no imports, no partial files; and a program goes on
//! working after a snapshot (no traverse that is unsafe on its version is called).

use crate::common::*;

#[test]
fn capture_runs_no_user_code_and_changes_nothing_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl");
        let result = dir.path().join("result.json");
        run_python(python, "workload_safety.py", &[&snap, &result], &[]);
        let r = read_json(&result);
        assert_eq!(
            r["calls"],
            serde_json::json!([]),
            "{version}: user code ran"
        );
        assert_eq!(
            r["collections"], 0,
            "{version}: a collection ran during capture"
        );
        assert_eq!(
            r["dict_before"], r["dict_after"],
            "{version}: an instance dict was materialised"
        );
        assert_eq!(
            r["modules_imported"],
            serde_json::json!([]),
            "{version}: the capture imported modules into the program"
        );
        assert_eq!(r["failed_raised"], true, "{version}");
        assert_eq!(
            r["leftovers"],
            serde_json::json!([]),
            "{version}: a failed capture left files"
        );
        // The snapshot itself loads.
        pymem()
            .args(["summary", snap.to_str().unwrap()])
            .assert()
            .success();
    }
}

/// Run the asyncio workload; (exit code, or None when it hung and was killed; stdout).
fn asyncio_after_snapshot(
    python: &std::path::Path,
    dir: &std::path::Path,
    unguarded: bool,
) -> (Option<i32>, String) {
    let mut cmd = std::process::Command::new(python);
    cmd.arg(repo().join("tests/py/workload_asyncio.py"))
        .arg(agent_dir())
        .arg(dir)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null());
    if unguarded {
        cmd.arg("unguarded");
    }
    let mut child = Reaper::spawn(&mut cmd);
    let start = std::time::Instant::now();
    let code = loop {
        if let Some(st) = child.0.try_wait().unwrap() {
            break st.code();
        }
        if start.elapsed() > std::time::Duration::from_secs(30) {
            break None; // hung: the Reaper kills it
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let mut out = String::new();
    if code.is_some() {
        use std::io::Read;
        child
            .0
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut out)
            .unwrap();
    }
    (code, out)
}

#[test]
fn an_asyncio_program_goes_on_after_a_snapshot_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let (code, out) = asyncio_after_snapshot(python, dir.path(), false);
        assert_eq!(
            code,
            Some(0),
            "{version}: the program did not survive its snapshot"
        );
        assert_eq!(out.trim(), "survived", "{version}");
        let s = json(&["summary", dir.path().join("heap.jsonl").to_str().unwrap()]);
        let missing = s["snapshot"]["missing"].to_string();
        let affected =
            ["3.12.0", "3.12.1", "3.12.2", "3.12.3", "3.12.4"].contains(&version.as_str());
        assert_eq!(
            missing.contains("gh-122695"),
            affected,
            "{version}: {missing}"
        );
        if affected {
            // Without the guard, the same program is broken by the same snapshot: the test
            // reproduces what the guard prevents (it aborts, or hangs in a corrupted free list).
            let dir = tempfile::tempdir().unwrap();
            let (code, out) = asyncio_after_snapshot(python, dir.path(), true);
            assert!(
                code != Some(0) || out.trim() != "survived",
                "{version}: the unguarded capture did no harm; is the guard still needed?"
            );
        }
    }
}
