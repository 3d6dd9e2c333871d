//! `summary` on the shipped fixtures (real captures of fixtures/workloads/shop.py on every
//! CPython), reviewed as insta snapshots.

use crate::common::*;

fn fixture_versions() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(repo().join("fixtures"))
        .unwrap()
        .flatten()
        .filter_map(|e| {
            let n = e.file_name().to_string_lossy().to_string();
            n.strip_prefix("shop-")?
                .strip_suffix(".jsonl.gz")
                .map(str::to_string)
        })
        .collect();
    v.sort();
    v
}

#[test]
fn fixtures_cover_every_cpython() {
    assert_eq!(
        fixture_versions(),
        ["3.10", "3.11", "3.12", "3.13", "3.14", "3.15", "3.8", "3.9"]
    );
}

#[test]
fn summary_tables_of_fixtures() {
    for v in fixture_versions() {
        let path = format!("fixtures/shop-{v}.jsonl.gz");
        let out = pymem()
            .current_dir(repo())
            .args(["summary", &path, "--limit", "12"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        insta::assert_snapshot!(format!("summary-{v}"), String::from_utf8_lossy(&out.stdout));
    }
}

#[test]
fn fixtures_hold_the_planted_objects() {
    for v in fixture_versions() {
        let path = repo().join(format!("fixtures/shop-{v}.jsonl.gz"));
        let s = json(&["summary", path.to_str().unwrap(), "--limit", "100000"]);
        assert_eq!(row_count(&s, "shop.Order"), 300, "{v}");
        assert_eq!(row_count(&s, "shop.Customer"), 40, "{v}");
    }
}

#[test]
fn fold_moves_instance_dicts_into_their_classes_and_says_so() {
    // 3.8 keeps instance attributes in a __dict__ per instance; 3.12 does not create one.
    let f = repo().join("fixtures/shop-3.8.jsonl.gz");
    let plain = json(&["summary", f.to_str().unwrap(), "--limit", "100000"]);
    let folded = json(&[
        "summary",
        f.to_str().unwrap(),
        "--limit",
        "100000",
        "--fold",
    ]);
    let bytes = |s: &serde_json::Value, k: &str| {
        s["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["key"] == k)
            .unwrap()["bytes"]
            .as_u64()
            .unwrap()
    };
    let (n, b) = (
        folded["folded_dicts"][0].as_u64().unwrap(),
        folded["folded_dicts"][1].as_u64().unwrap(),
    );
    assert!(n >= 80, "customers and carts have dicts: {n}");
    assert_eq!(row_count(&plain, "dict") - row_count(&folded, "dict"), n);
    assert_eq!(bytes(&plain, "dict") - bytes(&folded, "dict"), b);
    assert!(bytes(&folded, "shop.Customer") > bytes(&plain, "shop.Customer"));
    assert_eq!(plain["total_bytes"], folded["total_bytes"]);
    assert!(plain["folded_dicts"].is_null());
}
