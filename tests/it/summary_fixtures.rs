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
        ["3.10", "3.11", "3.12", "3.13", "3.8", "3.9"]
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
