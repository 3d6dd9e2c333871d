//! `advise` on every CPython 3.8–3.15 against savings the program measured itself
//! (tests/py/workload_advise.py): `__slots__` for 5,000 instances (pymalloc block bytes
//! from `sys._debugmallocstats()` around creating them and their slotted twins), 3,000
//! duplicate strings and 2,000 empty dicts (`sys.getsizeof`, in 16-byte blocks), a list of
//! 100,000 floats against `array.array`, a list that shrank.

use crate::common::{json, pythons, read_json, run_python};
use serde_json::Value;

fn item<'a>(report: &'a Value, kind: &str, example: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| {
            i["kind"] == kind
                && i["examples"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|e| e["what"].as_str().unwrap().contains(example))
        })
        .unwrap_or_else(|| panic!("no {kind} advice about {example}: {report:#}"))
}

fn example<'a>(item: &'a Value, what: &str) -> &'a Value {
    item["examples"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["what"].as_str().unwrap().contains(what))
        .unwrap()
}

fn near(got: u64, want: u64, tolerance: f64) -> bool {
    (got as f64 - want as f64).abs() <= tolerance * want as f64
}

#[test]
fn advice_savings_match_in_process_measurements_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl");
        let truth_path = dir.path().join("truth.json");
        run_python(python, "workload_advise.py", &[&snap, &truth_path], &[]);
        let t = read_json(&truth_path);
        let want = |k: &str| t[k].as_u64().unwrap();
        let r = json(&["advise", snap.to_str().unwrap()]);

        let slots = item(&r, "slots", "__main__.Point ");
        let got = slots["saving"].as_u64().unwrap();
        assert!(
            near(got, want("slots_saving"), 0.03),
            "{version}: __slots__ saves {got}, measured {}",
            want("slots_saving")
        );

        let dups = item(&r, "duplicate_strings", "__main__.dups");
        let e = example(dups, "__main__.dups");
        assert_eq!(e["count"].as_u64(), Some(want("dup_count")), "{version}");
        assert_eq!(e["saving"].as_u64(), Some(want("dup_saving")), "{version}");

        let empty = item(&r, "empty_containers", "empty dict");
        let e = example(empty, "empty dict");
        assert!(
            e["count"].as_u64().unwrap() >= want("empty_dicts"),
            "{version}"
        );
        assert!(
            e["saving"].as_u64().unwrap() >= want("empty_dict_bytes"),
            "{version}: {e}"
        );

        let floats = item(&r, "number_lists", "__main__.floats");
        let got = floats["saving"].as_u64().unwrap();
        assert!(
            near(got, want("floats_saving"), 0.02),
            "{version}: array.array saves {got}, measured {}",
            want("floats_saving")
        );

        let shrunk = item(&r, "overallocated_lists", "__main__.shrunk");
        assert_eq!(
            example(shrunk, "__main__.shrunk")["saving"].as_u64(),
            Some(want("shrunk_spare")),
            "{version}"
        );
    }
}
