//! `advise` on every CPython 3.8–3.15 against savings the program measured itself
//! (tests/py/workload_advise.py): `__slots__` for 5,000 instances (pymalloc block bytes
//! from `sys._debugmallocstats()` around creating them and their slotted twins), 3,000
//! duplicate strings and 2,000 empty dicts (`sys.getsizeof`, in 16-byte blocks), a list of
//! 100,000 floats against `array.array`, a list that shrank. And real framework models
//! (pydantic, SQLAlchemy, Django from PyPI, tests/py/workload_frameworks.py): what each
//! framework offers instead of `__slots__`, and no advice for library or C classes.

#![allow(clippy::disallowed_macros)] // a note for each version where the frameworks have no wheels

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

/// pydantic, SQLAlchemy and Django for this interpreter (wheels only, from PyPI, into
/// `target/pydeps/frameworks-VERSION`; `.ci/run` installs them first), or `None` where
/// PyPI has no wheel of one of them for it.
fn frameworks_dir(version: &str, python: &std::path::Path) -> Option<std::path::PathBuf> {
    crate::common::pydeps(
        "frameworks",
        version,
        python,
        &["pydantic", "sqlalchemy", "django"],
        FRAMEWORK_PACKAGES,
    )
}

/// What `.ci/run` installs too.
pub const FRAMEWORK_PACKAGES: &[&str] = &["pydantic>=2,<3", "SQLAlchemy>=2,<3", "Django>=4.2,<6"];

/// Framework models get what their framework offers, never `__slots__`; the frameworks' and
/// the standard library's own classes and C types get no advice; a plain class with the
/// same fields still does. The program goes on working after the capture.
#[test]
fn framework_models_are_advised_what_their_framework_offers_instead_of_slots() {
    let mut tried = 0;
    for (version, python) in pythons() {
        let Some(deps) = frameworks_dir(version, python) else {
            eprintln!("note: {version}: no wheels of pydantic, SQLAlchemy and Django: skipped");
            continue;
        };
        tried += 1;
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl");
        run_python(
            python,
            "workload_frameworks.py",
            &[&snap],
            &[("PYTHONPATH", deps.to_str().unwrap())],
        );
        let report = json(&["advise", snap.to_str().unwrap()]);
        let items = report["items"].as_array().unwrap();
        for (class, framework, offer) in [
            (
                "__main__.Point",
                "pydantic",
                "pydantic.dataclasses.dataclass(slots=True)",
            ),
            ("__main__.User", "SQLAlchemy", "select(User.id, User.name)"),
            ("__main__.Article", "Django", "values_list()"),
        ] {
            let found = items
                .iter()
                .find(|i| i["kind"] == "framework" && i["title"].as_str().unwrap().contains(class))
                .unwrap_or_else(|| {
                    panic!("{version}: no framework advice for {class}: {report:#}")
                });
            let title = found["title"].as_str().unwrap();
            assert!(
                title.contains(&format!("({framework})")) && title.contains(offer),
                "{version}: {title}"
            );
        }
        for i in items.iter().filter(|i| i["kind"] == "slots") {
            let what = i["examples"][0]["what"].as_str().unwrap();
            let module = what.split('.').next().unwrap();
            assert!(
                module == "__main__",
                "{version}: __slots__ advice for a class that is not the program's: {what}"
            );
        }
        assert!(
            items.iter().any(|i| i["kind"] == "slots"
                && i["examples"][0]["what"]
                    .as_str()
                    .unwrap()
                    .starts_with("__main__.Plain ")),
            "{version}: no __slots__ advice for the plain class: {report:#}"
        );
    }
    assert!(
        tried >= 4,
        "the frameworks installed on only {tried} versions"
    );
}
