//! `caches` on every CPython 3.8–3.15: a dict, an OrderedDict, a defaultdict, a set, an
//! unbounded `lru_cache` and a logging registry growing in a module global, a class
//! attribute, an instance attribute, a function default and a closure; a constant table;
//! a bounded `lru_cache` and a `deque(maxlen=...)` (tests/py/workload_caches.py). The
//! verdicts, entries, bounds and hit counts must be what the program saw itself.

use crate::common::{json, pythons, read_json, run_python};

#[test]
fn caches_are_found_with_their_bounds_and_growth_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        run_python(python, "workload_caches.py", &[dir.path()], &[]);
        let truth = read_json(&dir.path().join("truth.json"));
        let snaps: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|n| dir.path().join(format!("{n}.jsonl")).display().to_string())
            .collect();
        let mut args = vec!["caches", "--limit", "1000"];
        args.extend(snaps.iter().map(String::as_str));
        let report = json(&args);
        let found = report["caches"].as_array().unwrap();
        // Growing ones first.
        let first_other = found
            .iter()
            .position(|c| c["verdict"] != "growing")
            .unwrap_or(found.len());
        assert!(found[first_other..]
            .iter()
            .all(|c| c["verdict"] != "growing"));
        for (name, t) in truth.as_object().unwrap() {
            let addr = format!("0x{:x}", t["addr"].as_u64().unwrap());
            let c = found
                .iter()
                .find(|c| c["addr"] == addr)
                .unwrap_or_else(|| panic!("{version}: {name} ({addr}) not reported"));
            let ctx = format!("{version}: {name}: {c:#}");
            assert_eq!(c["verdict"], t["verdict"], "{ctx}");
            assert_eq!(c["entries"], t["entries"], "{ctx}");
            assert_eq!(c["bound"], t["bound"], "{ctx}");
            if t.get("hits").is_some() {
                assert_eq!(c["hits"], t["hits"], "{ctx}");
                assert_eq!(c["misses"], t["misses"], "{ctx}");
                assert_eq!(c["kind"], "lru_cache", "{ctx}");
            }
            let expr = c["path"]["expr"].as_str().unwrap();
            let want = match name.as_str() {
                "remember._memo" => "__main__.remember.__defaults__[0]".to_string(),
                "count.counts" => "__main__.count.__closure__[0].cell_contents".to_string(),
                "loggerDict" => "logging.Logger.manager.loggerDict".to_string(),
                other => format!("__main__.{other}"),
            };
            if name == "loggerDict" {
                assert!(expr.ends_with(".loggerDict"), "{ctx}");
            } else {
                assert_eq!(expr, want, "{ctx}");
            }
        }
    }
}
