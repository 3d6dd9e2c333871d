//! Where code is defined, and the `lru_cache` on a method that keeps every instance alive
//! (flake8-bugbear B019), on every CPython 3.8–3.15 (tests/py/workload_method_cache.py):
//! `leaks`, `caches`, `advise` and `show` name the cached function's file and first line as
//! the program's code objects say, and say B019 of the method's cache only, not of a cached
//! function called with instances nor of a cached staticmethod; the same from a read from
//! outside the process. Snapshots named `.gz` are written compressed by both.

use crate::common::{attach_while_waiting, json, pythons, read_json};

#[test]
fn an_lru_cache_on_a_method_is_named_with_its_definition_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        attach_while_waiting(
            python,
            "workload_method_cache.py",
            dir.path(),
            &dir.path().join("read.jsonl.gz"),
        );

        let truth = read_json(&dir.path().join("truth.json"));
        let snap = |n: &str| dir.path().join(n).display().to_string();
        let (a, b, c) = (snap("a.jsonl"), snap("b.jsonl"), snap("c.jsonl"));
        let quote = &truth["quote"];

        let l = json(&["leaks", &a, &b, &c, "--limit", "50"]);
        let root = l["roots"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["path"]["expr"] == "__main__.Pricing.quote")
            .unwrap_or_else(|| panic!("{version}: {l:#}"));
        assert_eq!(
            root["keeps_instances_of"], "__main__.Pricing",
            "{version}: {root:#}"
        );
        assert_eq!(
            root["defined_at"], quote["defined_at"],
            "{version}: {root:#}"
        );

        // Snapshots named .gz are gzip, from the agent and from outside alike.
        for gz in ["d.jsonl.gz", "read.jsonl.gz"] {
            let bytes = std::fs::read(dir.path().join(gz)).unwrap();
            assert_eq!(&bytes[..2], &[0x1f, 0x8b], "{version}: {gz} is not gzip");
        }
        for (how, s) in [("agent", &c), ("read", &snap("read.jsonl.gz"))] {
            let caches = json(&["caches", s, "--limit", "1000"]);
            let found = |name: &str| {
                let addr = format!("0x{:x}", truth[name]["addr"].as_u64().unwrap());
                caches["caches"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|c| c["addr"] == addr)
                    .unwrap_or_else(|| panic!("{version} {how}: no {name}: {caches:#}"))
                    .clone()
            };
            for name in ["quote", "tax", "square"] {
                let c = found(name);
                let ctx = format!("{version} {how}: {name}: {c:#}");
                assert_eq!(c["defined_at"], truth[name]["defined_at"], "{ctx}");
                let kept = if name == "quote" {
                    serde_json::json!("__main__.Pricing")
                } else {
                    serde_json::Value::Null
                };
                assert_eq!(c["keeps_instances_of"], kept, "{ctx}");
            }
            let advice = json(&["advise", s]);
            let items = advice["items"].as_array().unwrap();
            let b019: Vec<_> = items
                .iter()
                .filter(|i| i["kind"] == "method_cache")
                .collect();
            assert_eq!(b019.len(), 1, "{version} {how}: {advice:#}");
            let title = b019[0]["title"].as_str().unwrap();
            assert!(
                title.contains("__main__.Pricing.quote")
                    && title.contains(quote["defined_at"].as_str().unwrap())
                    && title.contains("B019"),
                "{version} {how}: {title}"
            );
            let addr = quote["addr"].as_u64().unwrap().to_string();
            let shown = json(&["show", s, &addr]);
            assert_eq!(shown["defined_at"], quote["defined_at"], "{version} {how}");
        }
    }
}
