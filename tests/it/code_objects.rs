//! Code objects' contents on every CPython 3.8–3.15: constants, names, line and exception
//! tables, nested code, each held by its code object under its field's name, for every code
//! object the process's own census finds; read from outside the same (see outside.rs).

use crate::common::*;
use std::collections::HashMap;

#[test]
fn code_objects_hold_their_constants_names_and_tables_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl");
        let truth = dir.path().join("truth.json");
        run_python(python, "workload_code.py", &[&snap, &truth], &[]);
        let truth = read_json(&truth);
        let mut edges: HashMap<u64, Vec<(u64, String)>> = HashMap::new();
        for line in std::fs::read_to_string(&snap).unwrap().lines() {
            let o: serde_json::Value = serde_json::from_str(line).unwrap();
            if o["k"] != "o" {
                continue;
            }
            let refs = o["r"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r.as_u64().unwrap());
            let labels = o["l"].as_array().cloned().unwrap_or_default();
            let labelled = refs
                .zip(labels.iter().map(|l| l.as_str().unwrap_or("").to_string()))
                .collect();
            edges.insert(o["a"].as_u64().unwrap(), labelled);
        }
        let codes = truth["codes"].as_object().unwrap();
        // Where each code object's function or class body begins: its `at` field.
        let at: HashMap<u64, serde_json::Value> = std::fs::read_to_string(&snap)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .filter(|o| o["k"] == "o" && !o["at"].is_null())
            .map(|o| (o["a"].as_u64().unwrap(), o["at"].clone()))
            .collect();
        for (addr, place) in truth["places"].as_object().unwrap() {
            assert_eq!(
                at.get(&addr.parse::<u64>().unwrap()),
                Some(place),
                "{version}: code object {addr}"
            );
        }
        let holder = truth["holder"].as_u64().unwrap().to_string();
        let s = json(&["show", snap.to_str().unwrap(), &holder]);
        assert_eq!(s["defined_at"], truth["holder_place"], "{version}");
        assert!(codes.len() > 500, "{version}: {} code objects", codes.len());
        for (addr, fields) in codes {
            let held = edges
                .get(&addr.parse::<u64>().unwrap())
                .unwrap_or_else(|| panic!("{version}: code object {addr} not in the snapshot"));
            for (field, id) in fields.as_object().unwrap() {
                let want = (id.as_u64().unwrap(), format!(".{field}"));
                assert!(
                    held.contains(&want),
                    "{version}: code object {addr} lacks {field}: {held:?}"
                );
                assert!(
                    edges.contains_key(&want.0),
                    "{version}: {field} of {addr} is not in the snapshot"
                );
            }
        }
        let planted = truth["planted"].as_u64().unwrap().to_string();
        let s = json(&["show", snap.to_str().unwrap(), &planted]);
        assert_eq!(
            s["path"]["expr"],
            format!(
                "__main__.holder.__code__.co_consts[{}]",
                truth["planted_index"]
            ),
            "{version}"
        );
    }
}
