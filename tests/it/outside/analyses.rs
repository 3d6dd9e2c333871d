//! The analyses (summary, top, diff, leaks) answer the same on the read from outside as on
//! the agent's capture of the same heap, and `leaks` of a leaking program read at each of its
//! three snapshots names the agent's roots.

use super::*;

fn rows_by(v: &Value, key: &str, what: &str) -> BTreeMap<String, Value> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r[what].as_str().unwrap_or_default().to_string(), r.clone()))
        .collect()
}

/// The agent's snapshot without what only the agent records (the read's header says so):
/// memory C types report in __sizeof__ beyond their block (buffers at address 0) and
/// ctypes buffers (the workload's ctypes types: c_double * 16 and Point).
fn without_agent_only_buffers(agent: &Path) -> std::path::PathBuf {
    let text = std::fs::read_to_string(agent).unwrap();
    let mut ctypes_ids = HashSet::new();
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        if v["k"] == "type" {
            let name = v["name"].as_str().unwrap_or_default();
            if name.contains("_Array_") || (name == "Point" && v["module"] == "__main__") {
                ctypes_ids.insert(v["id"].as_u64().unwrap());
            }
        }
        if v["k"] == "o" && v.get("b").is_some() {
            let ctypes = ctypes_ids.contains(&v["t"].as_u64().unwrap());
            let kept: Vec<Value> = v["b"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|b| !ctypes && b[0] != 0)
                .cloned()
                .collect();
            let o = v.as_object_mut().unwrap();
            if kept.is_empty() {
                o.remove("b");
            } else {
                o.insert("b".into(), Value::Array(kept));
            }
            out.push_str(&serde_json::to_string(&v).unwrap());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let path = agent.with_extension("known.jsonl");
    std::fs::write(&path, out).unwrap();
    path
}

pub(super) fn compare_analyses(version: &str, agent: &Path, read: &Path) {
    let agent = without_agent_only_buffers(agent);
    let (a, r) = (agent.to_str().unwrap(), read.to_str().unwrap());
    let sa = json(&["summary", a, "--limit", "100000"]);
    let sr = json(&["summary", r, "--limit", "100000"]);
    let (ra, rr) = (rows_by(&sa, "rows", "key"), rows_by(&sr, "rows", "key"));
    for (k, row) in &ra {
        if k.starts_with("__main__.") {
            // Counts and bytes; the share of the whole differs by the agent's own objects.
            let cells = |r: Option<&Value>| r.map(|r| (r["count"].clone(), r["bytes"].clone()));
            assert_eq!(
                cells(Some(row)),
                cells(rr.get(k)),
                "{version}: summary row {k}"
            );
        }
    }
    // The RSS breakdown: both measured the same mappings (the agent a moment later, with
    // its own allocations), the read without the C allocator's figures, and says so.
    let (ma, mr) = (&sa["memory"], &sr["memory"]);
    let part = |m: &Value, name: &str| -> u64 {
        m["parts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["part"] == name)
            .map_or(0, |p| p["bytes"].as_u64().unwrap())
    };
    // The agent's own allocations during its capture make more of the arenas resident.
    for name in ["files", "pymalloc_arenas"] {
        let (x, y) = (part(ma, name), part(mr, name));
        assert!(
            y > 0 && y * 10 <= x * 11 && y * 2 >= x,
            "{version}: memory part {name}: agent {x} read {y}"
        );
    }
    assert!(
        mr["c_heap_missing"]
            .as_str()
            .is_some_and(|w| w.contains("in-process agent")),
        "{version}: {mr}"
    );
    assert!(
        ma["c_heap"]["in_use"].as_u64().unwrap() > 0,
        "{version}: {ma}"
    );
    // The biggest retainers are the same objects.
    let ta = json(&["top", a, "--limit", "5"]);
    let tr = json(&["top", r, "--limit", "5"]);
    let addrs = |t: &Value| -> Vec<String> {
        t["objects"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["addr"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    assert_eq!(addrs(&ta), addrs(&tr), "{version}: top");
    // The caches the program holds, with their bounds and entries.
    let ca = json(&["caches", a, "--limit", "1000"]);
    let cr = json(&["caches", r, "--limit", "1000"]);
    let main_caches = |c: &Value| -> Vec<String> {
        let mut v: Vec<String> = c["caches"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|x| {
                x["path"]["expr"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("__main__.")
            })
            .map(|x| {
                format!(
                    "{} {} {} {}",
                    x["path"]["expr"], x["kind"], x["entries"], x["bound"]
                )
            })
            .collect();
        assert!(!v.is_empty(), "{version}: no caches of __main__ found");
        v.sort();
        v
    };
    assert_eq!(main_caches(&ca), main_caches(&cr), "{version}: caches");
    // Fragmentation: the arenas the read found are there for the agent too, which has
    // allocated a few more for itself before it reads the allocator.
    let fa = json(&["frag", a]);
    let fr = json(&["frag", r]);
    let n = |v: &Value, k: &str| v[k].as_u64().unwrap();
    assert!(
        n(&fr, "arenas") > 0,
        "{version}: frag found no arenas in the read"
    );
    for k in ["arenas", "live_bytes"] {
        assert!(
            n(&fr, k) <= n(&fa, k),
            "{version}: frag {k}: read {} agent {}",
            fr[k],
            fa[k]
        );
    }
    assert!(
        n(&fa, "arenas") - n(&fr, "arenas") <= 8,
        "{version}: frag arenas: read {} agent {}",
        fr["arenas"],
        fa["arenas"]
    );
}

#[test]
fn leaks_read_from_outside_name_the_agents_roots() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Reaper::spawn(
            Command::new(python)
                .arg(repo().join("tests/py/workload_leaks.py"))
                .arg(agent_dir())
                .arg("module_global")
                .arg(dir.path())
                .arg("300")
                .env("PYMEM_PAUSE", "1")
                .stdout(Stdio::piped()),
        );
        let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
        let mut read = Vec::new();
        for name in ["a", "b", "c"] {
            let line = lines.next().unwrap().unwrap();
            let out = dir.path().join(format!("read-{name}.jsonl"));
            read_then_release(line.trim_start_matches("pause "), &out);
            read.push(out.display().to_string());
        }
        assert!(child.0.wait().unwrap().success(), "{version}");
        let agent: Vec<String> = ["a", "b", "c"]
            .iter()
            .map(|n| dir.path().join(format!("{n}.jsonl")).display().to_string())
            .collect();
        let leaks = |files: &[String]| {
            let mut args = vec!["leaks"];
            args.extend(files.iter().map(String::as_str));
            json(&args)
        };
        let (la, lr) = (leaks(&agent), leaks(&read));
        let first = |l: &Value| {
            let c = &l["roots"][0];
            (
                c["path"]["expr"].as_str().unwrap_or_default().to_string(),
                c["entries"].clone(),
                c["leak"].clone(),
            )
        };
        assert_eq!(first(&la), first(&lr), "{version}: first leak root");
        assert_eq!(first(&lr).0, "leakshop._carts", "{version}");
        assert_eq!(
            la["counted"].as_array().unwrap().len(),
            lr["counted"].as_array().unwrap().len(),
            "{version}: counted roots"
        );
    }
}
