//! The agent's per-version facts (`python/pymem_agent/_facts.py`) against the Rust side's
//! (`capture::facts`): equal for every supported version, each interpreter picks its own,
//! and no other agent file compares versions itself.

use crate::common::{agent_dir, pythons, repo};
use pymem::capture::facts::{self, managed, Facts, SUPPORTED_MINORS};
use serde_json::{json, Value};
use std::process::Command;

/// Ask `python` for the agent's facts: the table for every minor from one below the
/// supported range to one above, the running interpreter's own, and the layout offsets.
fn agent_facts(python: &std::path::Path) -> Value {
    let script = r#"
import json, sys
sys.path.insert(0, sys.argv[1])
from pymem_agent import _facts as f
table = {}
for minor in range(f.FIRST_MINOR - 1, f.LAST_MINOR + 2):
    facts = f._facts_of(minor)
    table[str(minor)] = None if facts is None else facts.names()
print(json.dumps({
    "first": f.FIRST_MINOR, "last": f.LAST_MINOR, "table": table,
    "running": f.FACTS.names(), "minor": sys.version_info[1],
    "offsets": [f.MANAGED_DICT_BEFORE, f.SPLIT_VALUES_BEFORE, f.INLINE_CAPACITY_AT,
                f.INLINE_EMBEDDED_AT, f.INLINE_VALID_AT, f.INLINE_ITEMS_AT],
}))
"#;
    let out = Command::new(python)
        .args(["-I", "-c", script])
        .arg(agent_dir())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}: {}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The facts both sides know, named as the agent names them.
fn shared(f: &Facts) -> Value {
    json!({
        "minor": f.minor,
        "first_micro": f.first_micro,
        "managed": format!("{:?}", f.managed),
        "preheader_flags": f.preheader_flags,
        "immortal_refcounts": f.immortal_refcounts,
        "immortal_reported": f.immortal_reported,
        "managed_dict_first": f.managed_dict_first,
    })
}

fn only_shared(agent: &Value) -> Value {
    let keys = shared(&facts::of(*SUPPORTED_MINORS.start()).unwrap());
    let keys = keys.as_object().unwrap();
    let agent = agent.as_object().expect("facts of a supported version");
    Value::Object(
        agent
            .iter()
            .filter(|(k, _)| keys.contains_key(*k))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect(),
    )
}

#[test]
fn the_agents_facts_are_the_rust_facts_on_every_version() {
    let mut first = true;
    for (version, python) in pythons() {
        let agent = agent_facts(python);
        let minor = agent["minor"].as_u64().unwrap() as u32;
        assert_eq!(
            only_shared(&agent["running"]),
            shared(&facts::of(minor).unwrap()),
            "CPython {version}: the agent's facts for itself"
        );
        if !first {
            continue;
        }
        first = false;
        // The whole table, asked of one interpreter (the table does not depend on it).
        assert_eq!(
            (agent["first"].as_u64(), agent["last"].as_u64()),
            (
                Some(*SUPPORTED_MINORS.start() as u64),
                Some(*SUPPORTED_MINORS.end() as u64)
            )
        );
        for minor in SUPPORTED_MINORS.start() - 1..=SUPPORTED_MINORS.end() + 1 {
            let theirs = &agent["table"][minor.to_string()];
            match facts::of(minor) {
                None => assert!(theirs.is_null(), "3.{minor}: the agent has facts"),
                Some(ours) => assert_eq!(only_shared(theirs), shared(&ours), "3.{minor}"),
            }
        }
        assert_eq!(
            agent["offsets"],
            json!([
                managed::DICT_BEFORE,
                managed::SPLIT_VALUES_BEFORE,
                managed::INLINE_CAPACITY_AT,
                managed::INLINE_EMBEDDED_AT,
                managed::INLINE_VALID_AT,
                managed::INLINE_ITEMS_AT
            ])
        );
    }
}

/// `_facts.py` is the only file of the agent that compares versions: elsewhere
/// `sys.version_info` is only printed or recorded.
#[test]
fn no_agent_file_but_the_facts_compares_versions() {
    let dir = repo().join("python").join("pymem_agent");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "py"))
        .collect();
    files.sort();
    assert!(files.len() > 10);
    for path in files {
        if path.file_name().unwrap() == "_facts.py" {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for (n, line) in text.lines().enumerate() {
            let compares = ["<", ">", "==", "!=", " in ("]
                .iter()
                .any(|op| line.contains(op));
            let versioned = ["version_info", "hexversion", "_V "]
                .iter()
                .any(|v| line.contains(v));
            assert!(
                !(compares && versioned),
                "{}:{}: a version comparison outside _facts.py: {line}",
                path.display(),
                n + 1
            );
        }
    }
}
