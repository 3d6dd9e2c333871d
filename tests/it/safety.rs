//! The agent's safety rules, each proven on every CPython: no user code, no materialised
//! instance dicts, no collections, no imports, no partial files.

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
