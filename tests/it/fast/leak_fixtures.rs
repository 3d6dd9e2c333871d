//! The leak-root algorithm on tiny hand-written snapshots with known answers: address
//! reuse, elements of one container merged, shared objects behind an instance, garbage,
//! suppressions, bad input.

use crate::common::{json, pymem};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One object: address, type name, labelled references, length.
struct O(u64, &'static str, Vec<(u64, &'static str)>, Option<u64>);

const TYPES: &[&str] = &["module", "dict", "list", "app.Item", "app.Registry", "str"];

/// Write a snapshot of pid 7 at `time` with the objects and module roots given.
fn write(dir: &Path, name: &str, time: u64, objs: &[O], roots: &[(u64, &str)]) -> PathBuf {
    let mut s = format!(
        r#"{{"k":"header","format":"pymem-snapshot","version":1,"python":{{"version":"3.12.1","implementation":"cpython"}},"allocator":{{"name":"malloc"}},"pid":7,"argv":["t"],"time":{time},"recorded":{{"pools":false}}}}"#
    );
    s.push('\n');
    for (i, t) in TYPES.iter().enumerate() {
        let module = t.split_once('.').map_or("builtins", |(m, _)| m);
        let _ = writeln!(
            s,
            r#"{{"k":"type","id":{i},"a":{},"name":"{t}","module":"{module}","flags":0,"basicsize":16}}"#,
            9000 + i
        );
    }
    for O(a, t, refs, n) in objs {
        let tid = TYPES.iter().position(|x| x == t).unwrap();
        let r: Vec<String> = refs.iter().map(|(x, _)| x.to_string()).collect();
        let l: Vec<String> = refs
            .iter()
            .map(|(_, l)| {
                if l.is_empty() {
                    "null".into()
                } else {
                    format!("{l:?}")
                }
            })
            .collect();
        let mut line = format!(
            r#"{{"k":"o","a":{a},"t":{tid},"s":100,"rc":1,"r":[{}],"l":[{}]"#,
            r.join(","),
            l.join(",")
        );
        if let Some(n) = n {
            let _ = write!(line, r#","n":{n}"#);
        }
        line.push_str("}\n");
        s.push_str(&line);
    }
    for (a, name) in roots {
        let _ = writeln!(
            s,
            r#"{{"k":"root","a":{a},"kind":"module","name":"{name}"}}"#
        );
    }
    let _ = writeln!(
        s,
        r#"{{"k":"end","objects":{},"refs":0,"types":{}}}"#,
        objs.len(),
        TYPES.len()
    );
    let p = dir.join(name);
    std::fs::write(&p, s).unwrap();
    p
}

/// module `app` (1000) -> namespace dict (1100) -> `cache` dict (1200) holding items.
fn app(items: &[(u64, &'static str)], extra: Vec<O>) -> Vec<O> {
    let mut v = vec![
        O(1000, "module", vec![(1100, ".__dict__")], None),
        O(1100, "dict", vec![(1200, "['cache']")], Some(1)),
        O(1200, "dict", items.to_vec(), Some(items.len() as u64)),
    ];
    v.extend(extra);
    v
}

fn leaks(paths: &[&PathBuf], extra: &[&str]) -> serde_json::Value {
    let mut args: Vec<String> = vec!["leaks".into()];
    args.extend(paths.iter().map(|p| p.display().to_string()));
    args.extend(extra.iter().map(|s| s.to_string()));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    json(&refs)
}

#[test]
fn a_reused_address_under_a_new_object_is_new() {
    let dir = tempfile::tempdir().unwrap();
    // A: the cache holds item 2000 with list 2100; B: item 2000 is gone, and a new item
    // 3000 holds a new list that happens to sit at 2100 (the old list's freed address).
    let a = write(
        dir.path(),
        "a.jsonl",
        1,
        &app(
            &[(2000, "['x']")],
            vec![
                O(2000, "app.Item", vec![(2100, ".tags")], None),
                O(2100, "list", vec![], Some(0)),
            ],
        ),
        &[(1000, "app")],
    );
    let b = write(
        dir.path(),
        "b.jsonl",
        2,
        &app(
            &[(3000, "['y']")],
            vec![
                O(3000, "app.Item", vec![(2100, ".tags")], None),
                O(2100, "list", vec![], Some(0)),
            ],
        ),
        &[(1000, "app")],
    );
    let r = leaks(&[&a, &b], &["--min-growth", "0"]);
    assert_eq!(r["candidates"], 2, "{r:#}");
    let roots = r["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 1, "{r:#}");
    assert_eq!(roots[0]["path"]["expr"], "app.cache");
    assert_eq!(roots[0]["new_objects"], 2);
    assert_eq!(roots[0]["new_bytes"], 200);
}

#[test]
fn growing_elements_of_one_container_are_one_root() {
    let dir = tempfile::tempdir().unwrap();
    // A defaultdict(list)-like dict `by_user` whose per-user lists each grow.
    let users = |extra: &[u64]| -> Vec<O> {
        let mut v = vec![
            O(1000, "module", vec![(1100, ".__dict__")], None),
            O(1100, "dict", vec![(1200, "['by_user']")], Some(1)),
            O(
                1200,
                "dict",
                vec![(1300, "['u1']"), (1400, "['u2']")],
                Some(2),
            ),
        ];
        let (mut l1, mut l2) = (vec![], vec![]);
        for (k, &x) in extra.iter().enumerate() {
            if k % 2 == 0 {
                l1.push((x, ""));
            } else {
                l2.push((x, ""));
            }
            v.push(O(x, "app.Item", vec![], None));
        }
        let (n1, n2) = (l1.len() as u64, l2.len() as u64);
        v.push(O(1300, "list", l1, Some(n1)));
        v.push(O(1400, "list", l2, Some(n2)));
        v
    };
    let a = write(dir.path(), "a.jsonl", 1, &users(&[]), &[(1000, "app")]);
    let b = write(
        dir.path(),
        "b.jsonl",
        2,
        &users(&[5000, 5100]),
        &[(1000, "app")],
    );
    let c = write(
        dir.path(),
        "c.jsonl",
        3,
        &users(&[5000, 5100, 5200, 5300]),
        &[(1000, "app")],
    );
    let r = leaks(&[&a, &b, &c], &["--min-growth", "0"]);
    // Candidates: new in B and alive in C (5000, 5100); 5200/5300 are from the last round.
    assert_eq!(r["candidates"], 2, "{r:#}");
    let roots = r["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 1, "{r:#}");
    assert_eq!(roots[0]["path"]["expr"], "app.by_user");
    assert_eq!(roots[0]["grew_every_round"], true);
    assert_eq!(roots[0]["entries"], serde_json::json!([2, 2, 2]));
    assert_eq!(roots[0]["retained"], serde_json::json!([300, 500, 700]));
    assert_eq!(roots[0]["leak"], true);
}

#[test]
fn objects_shared_by_two_containers_name_the_container_not_the_instance() {
    let dir = tempfile::tempdir().unwrap();
    // registry (an instance) -> __dict__ -> by_id {…} and log [...]; new items are in both,
    // so their dominator is the registry's __dict__.
    let reg = |items: &[u64]| -> Vec<O> {
        let mut v = vec![
            O(1000, "module", vec![(1100, ".__dict__")], None),
            O(1100, "dict", vec![(1200, "['registry']")], Some(1)),
            O(1200, "app.Registry", vec![(1300, ".__dict__")], None),
            O(
                1300,
                "dict",
                vec![(1400, "['by_id']"), (1500, "['log']")],
                Some(2),
            ),
        ];
        v.push(O(
            1400,
            "dict",
            items.iter().map(|&x| (x, "['k']")).collect(),
            Some(items.len() as u64),
        ));
        v.push(O(
            1500,
            "list",
            items.iter().map(|&x| (x, "")).collect(),
            Some(items.len() as u64),
        ));
        v.extend(items.iter().map(|&x| O(x, "app.Item", vec![], None)));
        v
    };
    let a = write(dir.path(), "a.jsonl", 1, &reg(&[]), &[(1000, "app")]);
    let b = write(
        dir.path(),
        "b.jsonl",
        2,
        &reg(&[6000, 6100, 6200]),
        &[(1000, "app")],
    );
    let r = leaks(&[&a, &b], &["--min-growth", "0"]);
    let roots = r["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 1, "{r:#}");
    assert_eq!(roots[0]["path"]["expr"], "app.registry.by_id", "{r:#}");
    assert_eq!(roots[0]["new_objects"], 3);
    // Growth is measured on the registry's namespace, which retains the shared items.
    assert_eq!(roots[0]["retained"], serde_json::json!([300, 600]));
}

#[test]
fn garbage_is_not_a_leak_and_suppressions_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.jsonl",
        1,
        &app(&[], vec![]),
        &[(1000, "app")],
    );
    // B: one new item in the cache, and a new two-object cycle nothing reaches.
    let b = write(
        dir.path(),
        "b.jsonl",
        2,
        &app(
            &[(7000, "['n']")],
            vec![
                O(7000, "app.Item", vec![], None),
                O(8000, "list", vec![(8100, "")], Some(1)),
                O(8100, "list", vec![(8000, "")], Some(1)),
            ],
        ),
        &[(1000, "app")],
    );
    let r = leaks(&[&a, &b], &["--min-growth", "0"]);
    assert_eq!(r["candidates"], 3);
    assert_eq!(r["garbage_objects"], 2);
    assert_eq!(r["roots"][0]["path"]["expr"], "app.cache");
    assert_eq!(r["roots"].as_array().unwrap().len(), 1);

    let file = dir.path().join("suppress.txt");
    std::fs::write(&file, "# our own cache\n\napp.ca?he\n").unwrap();
    let s = leaks(
        &[&a, &b],
        &[
            "--min-growth",
            "0",
            "--suppressions",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(s["roots"].as_array().unwrap().len(), 0, "{s:#}");
    assert_eq!(s["suppressed"][0]["pattern"], "app.ca?he");
    assert!(s["suppressed"][0]["origin"]
        .as_str()
        .unwrap()
        .ends_with("suppress.txt:3"));
    assert_eq!(s["suppressed"][0]["new_objects"], 1);
}

#[test]
fn snapshots_out_of_order_and_bad_sizes_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let a = write(
        dir.path(),
        "a.jsonl",
        5,
        &app(&[], vec![]),
        &[(1000, "app")],
    );
    let b = write(
        dir.path(),
        "b.jsonl",
        2,
        &app(&[], vec![]),
        &[(1000, "app")],
    );
    let out = pymem().arg("leaks").args([&a, &b]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("oldest first") && err.lines().count() == 1,
        "{err}"
    );
    let out = pymem()
        .arg("gate")
        .args([&b, &a])
        .args(["--max-growth", "lots"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = pymem().arg("leaks").arg(&a).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "one snapshot is not enough");
    let out = pymem()
        .arg("diff")
        .args([&b, &a])
        .args(["--by", "traceback"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no allocation tracebacks"));
}

#[test]
fn gate_junit_names_each_leak_root() {
    let dir = tempfile::tempdir().unwrap();
    let items: Vec<(u64, &'static str)> = (0..20).map(|i| (10_000 + i * 100, "['k']")).collect();
    let objs: Vec<O> = items
        .iter()
        .map(|&(a, _)| O(a, "app.Item", vec![], None))
        .collect();
    let a = write(
        dir.path(),
        "a.jsonl",
        1,
        &app(&[], vec![]),
        &[(1000, "app")],
    );
    let b = write(
        dir.path(),
        "b.jsonl",
        2,
        &app(&items, objs),
        &[(1000, "app")],
    );
    let out = pymem()
        .arg("gate")
        .args([&a, &b])
        .args(["--max-growth", "1KiB", "--format", "junit"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    assert!(
        xml.contains(r#"<testsuite name="pymem gate" tests="1" failures="1">"#),
        "{xml}"
    );
    assert!(xml.contains(r#"name="app.cache""#), "{xml}");
    // Within the allowance it passes.
    let out = pymem()
        .arg("gate")
        .args([&a, &b])
        .args(["--max-growth", "4KiB"])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

fn table(args: &[&std::ffi::OsStr]) -> String {
    let out = pymem().args(args).output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

/// Items `first..first + n` (100 bytes each), labelled by index for a list.
fn items(first: u64, n: u64) -> (Vec<(u64, &'static str)>, Vec<O>) {
    let ids: Vec<u64> = (0..n).map(|k| first + 10 * k).collect();
    (
        ids.iter().map(|&x| (x, "")).collect(),
        ids.iter()
            .map(|&x| O(x, "app.Item", vec![], None))
            .collect(),
    )
}

#[test]
fn a_root_not_in_the_first_snapshot_has_no_rate_and_no_trend() {
    let dir = tempfile::tempdir().unwrap();
    // A dict held from outside (by C code: its reference count exceeds the references
    // found), made after A, gaining an item between B and C.
    let held = |n: u64| -> Vec<O> {
        let (refs, mut objs) = items(5000, n);
        let mut v = app(&[], vec![O(3000, "list", refs, Some(n))]);
        v.append(&mut objs);
        v
    };
    let a = write(
        dir.path(),
        "a.jsonl",
        1,
        &app(&[], vec![]),
        &[(1000, "app")],
    );
    let b = write(dir.path(), "b.jsonl", 2, &held(2), &[(1000, "app")]);
    let c = write(dir.path(), "c.jsonl", 3, &held(3), &[(1000, "app")]);
    let r = leaks(&[&a, &b, &c], &["--min-growth", "0"]);
    let root = &r["roots"][0];
    assert_eq!(root["first_seen"], 1, "{r:#}");
    assert_eq!(root["grew_every_round"], false, "{r:#}");
    assert_eq!(root["leak"], false, "{r:#}");
    let t = table(&[
        "leaks".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        c.as_os_str(),
        "--min-growth".as_ref(),
        "0".as_ref(),
    ]);
    let entries = t.lines().find(|l| l.contains("entries")).unwrap();
    assert_eq!(entries.trim(), "entries   2 -> 3 (new in B)", "{t}");
    assert!(t.contains("new in B: not in A, so no trend yet"), "{t}");
    assert!(!t.contains('?') && !t.contains("per round"), "{t}");
}

#[test]
fn one_round_of_growth_is_not_every_round() {
    let dir = tempfile::tempdir().unwrap();
    let (r1, o1) = items(5000, 1);
    let (r2, o2) = items(5000, 30);
    let a = write(dir.path(), "a.jsonl", 1, &app(&r1, o1), &[(1000, "app")]);
    let b = write(dir.path(), "b.jsonl", 2, &app(&r2, o2), &[(1000, "app")]);
    let r = leaks(&[&a, &b], &["--min-growth", "0"]);
    assert_eq!(r["roots"][0]["leak"], true, "{r:#}");
    let t = table(&[
        "leaks".as_ref(),
        a.as_os_str(),
        b.as_os_str(),
        "--min-growth".as_ref(),
        "0".as_ref(),
    ]);
    assert!(t.contains("LEAK: grew (one round"), "{t}");
    assert!(!t.contains("every round"), "{t}");
}

/// module `app` -> namespace -> `pools` (a Registry) -> three lists through unlabelled
/// edges, each gaining `n` items: three roots written `app.pools -> <list>`.
fn three_lists(n: u64) -> Vec<O> {
    let mut v = vec![
        O(1000, "module", vec![(1100, ".__dict__")], None),
        O(1100, "dict", vec![(1200, "['pools']")], Some(1)),
        O(
            1200,
            "app.Registry",
            vec![(1300, ""), (1400, ""), (1500, "")],
            None,
        ),
    ];
    for (k, list) in [1300u64, 1400, 1500].into_iter().enumerate() {
        let (refs, mut objs) = items(10_000 * (k as u64 + 1), n);
        v.push(O(list, "list", refs, Some(n)));
        v.append(&mut objs);
    }
    v
}

#[test]
fn roots_with_one_path_are_one_row_and_one_counted_leak() {
    let dir = tempfile::tempdir().unwrap();
    let snaps: Vec<PathBuf> = (0..3)
        .map(|i| {
            let name = format!("{i}.jsonl");
            write(
                dir.path(),
                &name,
                i + 1,
                &three_lists(1 + 20 * i),
                &[(1000, "app")],
            )
        })
        .collect();
    let r = leaks(&[&snaps[0], &snaps[1], &snaps[2]], &["--min-growth", "0"]);
    let roots = r["roots"].as_array().unwrap();
    assert_eq!(roots.len(), 1, "{r:#}");
    assert_eq!(roots[0]["path"]["expr"], "app.pools -> <list>", "{r:#}");
    assert_eq!(roots[0]["same_path"], 2, "{r:#}");
    let g = roots[0]["growth_bytes"].as_i64().unwrap();
    assert_eq!(
        roots[0]["same_path_growth_bytes"].as_i64(),
        Some(2 * g),
        "{r:#}"
    );
    assert_eq!(r["counted"].as_array().unwrap().len(), 1, "{r:#}");
    assert_eq!(
        r["counted"][0]["growth_bytes"].as_i64(),
        Some(3 * g),
        "{r:#}"
    );

    // JUnit: one failure, and in it one line per leak root (path and growth), not the table.
    let out = pymem()
        .arg("gate")
        .args(&snaps)
        .args([
            "--min-growth",
            "0",
            "--max-growth",
            "0",
            "--format",
            "junit",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let xml = String::from_utf8(out.stdout).unwrap();
    let body = xml
        .split_once("<failure ")
        .and_then(|(_, rest)| rest.split_once("\">"))
        .and_then(|(_, rest)| rest.split_once("</failure>"))
        .map(|(body, _)| body)
        .unwrap_or_else(|| panic!("{xml}"));
    assert_eq!(body.lines().count(), 1, "{xml}");
    assert!(body.starts_with("app.pools -&gt; &lt;list&gt;: +"), "{xml}");
}

#[test]
fn what_the_capture_holds_is_never_a_leak_root() {
    let dir = tempfile::tempdir().unwrap();
    // The agent's module (pymem_agent._walk) holds a growing list; so does the program.
    let snap = |n: u64| -> Vec<O> {
        let (refs, mut objs) = items(5000, n);
        let mut v = app(&refs, vec![]);
        v.push(O(8000, "module", vec![(8100, ".__dict__")], None));
        v.push(O(8100, "dict", vec![(8200, "['_seen']")], Some(1)));
        let (own, mut own_objs) = items(60_000, n);
        v.push(O(8200, "list", own, Some(n)));
        v.append(&mut objs);
        v.append(&mut own_objs);
        v
    };
    let roots = [(1000, "app"), (8000, "pymem_agent._walk")];
    let a = write(dir.path(), "a.jsonl", 1, &snap(1), &roots);
    let b = write(dir.path(), "b.jsonl", 2, &snap(20), &roots);
    let c = write(dir.path(), "c.jsonl", 3, &snap(40), &roots);
    for extra in [&[][..], &["--no-builtin-suppressions"][..]] {
        let mut args = vec!["--min-growth", "0"];
        args.extend_from_slice(extra);
        let r = leaks(&[&a, &b, &c], &args);
        let text = r.to_string();
        assert_eq!(r["roots"].as_array().unwrap().len(), 1, "{r:#}");
        assert_eq!(r["roots"][0]["path"]["expr"], "app.cache", "{r:#}");
        assert!(!text.contains("pymem_agent"), "{extra:?}: {r:#}");
    }
}
