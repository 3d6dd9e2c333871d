//! The read from outside equals the agent, on every CPython 3.8–3.15: the same quiet process
//! is read by `pymem attach` (nothing runs in it), then captured by the agent inside it on the
//! very same line (tests/py/workload_outside.py), and the two snapshots are compared object by
//! object: the same objects by address, with the same types, sizes and reference counts; for
//! every decoded type the same referents and labels; for types whose memory is scanned, every
//! referent the agent saw; the same roots; and the analyses give the same answers. On a
//! leaking program read at each of its three snapshots, `leaks` names the same roots.
//!
//! What may differ is the agent's own doing and is checked to be only that: objects its
//! capture adds to its own module (a struct-format cache, its globals), the reference counts
//! of its functions and of the builtins its running frames hold, the counts of shared atoms
//! (small ints, interned names, None) that its running code moves up to 3.11, and the extra
//! edges a scan finds in C objects (fields their traversal does not report).

#![allow(clippy::disallowed_macros)] // the measured ratios are printed for the record

use crate::common::{agent_dir, json, pythons, repo, Reaper};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

mod analyses;

use analyses::compare_analyses;

/// One snapshot, parsed: objects by address, type names by id, roots, scanned type names.
struct Snap {
    objects: HashMap<u64, Value>,
    types: HashMap<u64, String>,
    /// Type address -> whether a `class` statement made it (`py`).
    python_class: HashMap<u64, bool>,
    /// The same by type id.
    python_class_by_id: HashMap<u64, bool>,
    /// Type id -> type address.
    type_addr: HashMap<u64, u64>,
    roots: Vec<(String, String, Option<String>, Option<u64>)>,
    scanned: HashSet<String>,
}

fn parse(path: &Path) -> Snap {
    let text = std::fs::read_to_string(path).unwrap();
    let mut s = Snap {
        objects: HashMap::new(),
        types: HashMap::new(),
        python_class: HashMap::new(),
        python_class_by_id: HashMap::new(),
        type_addr: HashMap::new(),
        roots: Vec::new(),
        scanned: HashSet::new(),
    };
    for line in text.lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        match v["k"].as_str().unwrap() {
            "type" => {
                s.types.insert(
                    v["id"].as_u64().unwrap(),
                    v["name"].as_str().unwrap().into(),
                );
                s.python_class
                    .insert(v["a"].as_u64().unwrap(), v["py"].as_bool().unwrap());
                s.python_class_by_id
                    .insert(v["id"].as_u64().unwrap(), v["py"].as_bool().unwrap());
                s.type_addr
                    .insert(v["id"].as_u64().unwrap(), v["a"].as_u64().unwrap());
            }
            "o" => {
                s.objects.insert(v["a"].as_u64().unwrap(), v);
            }
            "root" => {
                let kind = v["kind"].as_str().unwrap().to_string();
                let addr = (kind != "frame").then(|| v["a"].as_u64().unwrap());
                s.roots.push((
                    kind,
                    v["name"].as_str().unwrap().into(),
                    v["frame"].as_str().map(str::to_string),
                    addr,
                ));
            }
            "end" => {
                for e in v["scanned"].as_array().into_iter().flatten() {
                    s.scanned.insert(e[0].as_str().unwrap().into());
                }
            }
            _ => {}
        }
    }
    s
}

impl Snap {
    fn type_name(&self, addr: u64) -> &str {
        &self.types[&self.objects[&addr]["t"].as_u64().unwrap()]
    }

    /// (referent, label) pairs of an object.
    fn edges(&self, addr: u64) -> Vec<(u64, Option<String>)> {
        let o = &self.objects[&addr];
        let refs: Vec<u64> = o["r"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r.as_u64().unwrap())
            .collect();
        let labels: Vec<Option<String>> = match o["l"].as_array() {
            Some(l) => l.iter().map(|x| x.as_str().map(str::to_string)).collect(),
            None => vec![None; refs.len()],
        };
        refs.into_iter().zip(labels).collect()
    }

    /// The agent's own state in its snapshot: the namespaces of its package's modules, the
    /// dicts and lists that are values there (its caches) and its own instances there.
    fn agent_dicts(&self) -> HashSet<u64> {
        let modules: Vec<u64> = self
            .objects
            .iter()
            .filter(|(_, o)| {
                o["name"]
                    .as_str()
                    .is_some_and(|n| n == "pymem_agent" || n.starts_with("pymem_agent."))
                    && self.types[&o["t"].as_u64().unwrap()] == "module"
            })
            .map(|(a, _)| *a)
            .collect();
        let mut out = HashSet::new();
        for m in modules {
            for (r, l) in self.edges(m) {
                if l.as_deref() == Some(".__dict__") {
                    out.insert(r);
                    for (v, _) in self.edges(r) {
                        // Its caches, and its own instances (the capture in progress).
                        if self.objects.contains_key(&v)
                            && (matches!(self.type_name(v), "dict" | "list")
                                || self.type_name(v).starts_with("pymem_agent."))
                        {
                            out.insert(v);
                        }
                    }
                }
            }
        }
        out
    }
}

fn multiset<T: std::hash::Hash + Eq + Clone>(items: &[T]) -> HashMap<T, usize> {
    let mut m = HashMap::new();
    for i in items {
        *m.entry(i.clone()).or_insert(0) += 1;
    }
    m
}

/// How many of `b`'s items (as a multiset) `a` lacks: 0 when `a` ⊇ `b`.
fn lacking<T: std::hash::Hash + Eq + Clone>(a: &[T], b: &[T]) -> usize {
    let (ma, mb) = (multiset(a), multiset(b));
    mb.iter()
        .map(|(k, n)| n.saturating_sub(ma.get(k).copied().unwrap_or(0)))
        .sum()
}

/// Types decoded by layout, whose referents and labels must equal the agent's exactly.
const DECODED: &[&str] = &[
    "dict",
    "list",
    "tuple",
    "set",
    "frozenset",
    "function",
    "cell",
    "method",
    "builtin_function_or_method",
    "str",
    "bytes",
    "int",
    "float",
    "code",
    "frame",
    "generator",
    "coroutine",
    "weakref.ReferenceType",
    "collections.deque",
    "collections.OrderedDict",
    "functools._lru_cache_wrapper",
    "method_descriptor",
    "wrapper_descriptor",
    "getset_descriptor",
    "member_descriptor",
];

/// `announced` is "PID FD" of a workload waiting in os.read(FD): read it from outside into
/// `out`, then write "d" to that pipe to let it go on.
fn read_then_release(announced: &str, out: &Path) {
    let mut it = announced.split_whitespace();
    let (pid, fd) = (it.next().unwrap(), it.next().unwrap());
    crate::common::wait_until_blocked_in_read(pid);
    crate::common::pymem_ok(&[
        std::ffi::OsStr::new("attach"),
        std::ffi::OsStr::new(pid),
        std::ffi::OsStr::new("-o"),
        out.as_os_str(),
    ]);
    crate::common::release_pause(pid, fd);
}

/// Start the workload, read it from outside, let the agent capture it, return both files.
fn capture_both(
    python: &Path,
    dir: &Path,
    env: &[(&str, &str)],
) -> (std::path::PathBuf, std::path::PathBuf) {
    let agent = dir.join("agent.jsonl");
    let read = dir.join("read.jsonl");
    let mut child = Reaper::spawn(
        Command::new(python)
            .arg(repo().join("tests/py/workload_outside.py"))
            .arg(agent_dir())
            .arg(&agent)
            .envs(env.iter().copied())
            .stdout(Stdio::piped()),
    );
    let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    read_then_release(&first, &read);
    assert_eq!(lines.next().unwrap().unwrap(), "dumped");
    (agent, read)
}

#[test]
fn a_read_from_outside_equals_the_agent_on_every_cpython() {
    for (version, python) in pythons() {
        read_equals_agent(version, python, &[], STDLIB);
    }
}

/// Issue 26: compiled third-party code from PyPI, pinned — mypy (compiled by mypyc: its
/// classes keep int attributes as tagged words), lxml (Cython: its shared types' modules
/// are not strings), pydantic-core (PyO3), contourpy (pybind11) and gemmi (nanobind) — read
/// from outside as the agent sees it, where PyPI has their wheels. mypy also type-checks a
/// real package there, so the whole heap of a mypyc program is compared.
#[test]
fn compiled_third_party_code_reads_as_the_agent_sees_it() {
    let mut tried = 0;
    for (version, python) in pythons() {
        let Some(deps) = crate::common::pydeps(
            "compiled",
            version,
            python,
            &["mypy", "lxml", "pydantic_core", "contourpy", "gemmi"],
            COMPILED_PACKAGES,
        ) else {
            eprintln!("note: {version}: no wheels of {COMPILED_PACKAGES:?}: skipped");
            continue;
        };
        tried += 1;
        let path = deps.display().to_string();
        read_equals_agent(
            version,
            python,
            &[("PYTHONPATH", &path), ("PYMEM_COMPILED", "1")],
            // Compiled classes' fields that their traversal leaves out (mypyc's, Cython's
            // cached constants) are found by the scan too; mypy's many interned names are
            // shared atoms whose counts the agent's running code moves (up to 3.11).
            Tolerance {
                extra_edges: 0.005,
                atoms: 4000,
                extension_sizes: true,
                held_in_blocks: NANOBIND_FUNCTIONS,
            },
        );
    }
    assert!(
        tried >= 6,
        "compiled packages installed on {tried} CPythons"
    );
}

/// nanobind's functions keep their default arguments in a C++ array of their own: only
/// their traversal (the agent) sees those objects.
const NANOBIND_FUNCTIONS: &[&str] = &["nanobind.nb_func", "nanobind.nb_method"];

/// What `.ci/run` installs too: pinned per version range (mypy 1.14.1 is the last with wheels
/// for 3.8; 3.14 needs newer releases; 3.15 has no lxml wheel yet, so it is skipped).
pub const COMPILED_PACKAGES: &[&str] = &[
    "mypy==1.14.1; python_version<'3.14'",
    "mypy==1.18.2; python_version>='3.14'",
    "lxml==5.3.0; python_version<'3.14'",
    "lxml==6.0.2; python_version>='3.14'",
    "pydantic==2.10.6; python_version<'3.14'",
    "pydantic==2.12.3; python_version>='3.14'",
    "contourpy==1.1.1; python_version<'3.13'",
    "contourpy==1.3.3; python_version>='3.13'",
    "gemmi==0.7.0; python_version<'3.14'",
    "gemmi==0.7.5; python_version>='3.14'",
    // What mypy checks here and in tests/it/mypy_build.rs (pydantic depends on it too).
    "annotated-types==0.7.0",
];

/// Capture one process both ways and hold the two snapshots equal.
/// What a workload may differ in between the two captures.
struct Tolerance {
    /// The share of the read's edges that scans of C objects may add.
    extra_edges: f64,
    /// How many counts of shared atoms may move.
    atoms: usize,
    /// Objects of extension types may differ in size by what their C `__sizeof__` adds.
    extension_sizes: bool,
    /// Types whose traversal visits objects they hold through C blocks of their own, which
    /// no scan of the object reaches: what only they hold is the agent's alone (a bounded
    /// number, said in the note).
    held_in_blocks: &'static [&'static str],
}

const STDLIB: Tolerance = Tolerance {
    extra_edges: 0.005,
    atoms: 400,
    extension_sizes: false,
    held_in_blocks: &[],
};

fn read_equals_agent(version: &str, python: &Path, env: &[(&str, &str)], tol: Tolerance) {
    {
        let dir = tempfile::tempdir().unwrap();
        let (agent_path, read_path) = capture_both(python, dir.path(), env);
        let a = parse(&agent_path);
        let r = parse(&read_path);
        let own = a.agent_dicts();
        let ctx = |what: &str| format!("{version}: {what}");

        // The same objects: the agent's extra ones are its own cache entries.
        let only_agent: Vec<u64> = a
            .objects
            .keys()
            .filter(|k| !r.objects.contains_key(k))
            .copied()
            .collect();
        let referrers = {
            let mut m: HashMap<u64, Vec<u64>> = HashMap::new();
            for &x in a.objects.keys() {
                for (t, _) in a.edges(x) {
                    m.entry(t).or_default().push(x);
                }
            }
            m
        };
        let only_set: HashSet<u64> = only_agent.iter().copied().collect();
        let mut in_blocks = 0;
        for o in &only_agent {
            let by = referrers.get(o).cloned().unwrap_or_default();
            if !by.is_empty()
                && by
                    .iter()
                    .all(|b| only_set.contains(b) || tol.held_in_blocks.contains(&a.type_name(*b)))
            {
                in_blocks += 1;
                continue;
            }
            assert!(
                !by.is_empty()
                    && by.iter().all(|b| own.contains(b)
                        || only_set.contains(b)
                        || !r.objects.contains_key(b)),
                "{}",
                ctx(&format!(
                    "object 0x{o:x} ({}) is only in the agent's snapshot",
                    a.type_name(*o)
                ))
            );
        }
        assert!(
            in_blocks <= 100,
            "{}",
            ctx(&format!(
                "{in_blocks} objects held only in extensions' own blocks"
            ))
        );
        if in_blocks > 0 {
            eprintln!("note: {version}: {in_blocks} objects held only through extensions' own blocks (nanobind's default arguments) are the agent's alone");
        }
        let only_read_set: HashSet<u64> = r
            .objects
            .keys()
            .filter(|k| !a.objects.contains_key(k))
            .copied()
            .collect();
        let only_read = only_read_set.len();
        if tol.extension_sizes {
            // Extensions hold objects their traversal does not report (a PyO3 validator's
            // untracked dicts of names): the read finds them by scanning, the agent cannot.
            // Every such object must be reached only from scanned memory or from others like
            // it.
            let mut reached = HashSet::new();
            for (&x, o) in &r.objects {
                // Scanned: a C type's memory, the C part of an instance (socket.socket's
                // _socket.socket), an extension module's state; never a type decoded by
                // layout, whose referents must equal the agent's exactly.
                let tn = r.type_name(x);
                let from_scan = only_read_set.contains(&x)
                    || r.scanned.contains(tn)
                    || !(DECODED.contains(&tn) || tn.starts_with("__main__."));
                for t in o["r"].as_array().into_iter().flatten() {
                    let t = t.as_u64().unwrap_or(0);
                    if only_read_set.contains(&t) {
                        assert!(
                            from_scan,
                            "{}",
                            ctx(&format!(
                                "0x{t:x} only in the read, referenced by a decoded {}",
                                r.type_name(x)
                            ))
                        );
                        reached.insert(t);
                    }
                }
            }
            assert!(
                only_read - reached.len() <= r.objects.len() / 1000,
                "{}",
                ctx(&format!("{only_read} objects only in the read"))
            );
        } else {
            assert!(
                only_read * 1000 <= r.objects.len(),
                "{}",
                ctx(&format!("{only_read} objects only in the read"))
            );
        }

        let mut rc_diffs = 0;
        let mut size_gaps = 0;
        let mut lacking_edges = 0usize;
        let mut atom_diffs = 0;
        let mut extra_edges = 0usize;
        let mut edges = 0usize;
        let mut type_edges = 0usize;
        let mut block_edges = 0usize;
        for (&addr, x) in &a.objects {
            let Some(y) = r.objects.get(&addr) else {
                continue;
            };
            let tn = a.type_name(addr).to_string();
            assert_eq!(tn, r.type_name(addr), "{}", ctx("type"));
            let main_type = tn.starts_with("__main__.");
            // The agent's own classes grow their shared keys during its capture.
            let agent_class = x["name"]
                .as_str()
                .is_some_and(|n| n.starts_with("pymem_agent."));
            // What an extension's C `__sizeof__` reports beyond its object's block (numpy's
            // scalars and arrays) is the agent's alone, as the read's header says.
            let extension_sizeof = tol.extension_sizes
                && tn.contains('.')
                && !main_type
                && a.python_class_by_id
                    .get(&x["t"].as_u64().unwrap_or(u64::MAX))
                    != Some(&true);
            if x["s"] != y["s"] && extension_sizeof {
                size_gaps += 1;
            }
            assert!(
                x["s"] == y["s"] || agent_class || extension_sizeof,
                "{}",
                ctx(&format!(
                    "size of 0x{addr:x} ({tn}): {} vs {}",
                    x["s"], y["s"]
                ))
            );
            let (rca, rcr) = (x["rc"].as_u64().unwrap(), y["rc"].as_u64().unwrap());
            // Shared atoms (small ints, interned names, None, True, False) are referenced
            // by everything, the agent's running code included: up to 3.11, where they are
            // not immortal, their counts move while it runs (its constants and tables, and
            // the names the type attribute cache takes and releases as its lookups replace
            // entries). Every other count may only be higher, and only for the agent's own
            // machinery: its functions, code, the builtins its frames hold.
            let atom = matches!(tn.as_str(), "str" | "int" | "bool" | "NoneType");
            if rca != rcr && atom {
                atom_diffs += 1;
                assert!(
                    rca.abs_diff(rcr) <= 4096,
                    "{}",
                    ctx(&format!(
                        "refcount of 0x{addr:x} ({tn}): agent {rca} read {rcr}"
                    ))
                );
            } else if rca > rcr {
                rc_diffs += 1;
                assert!(
                    !main_type,
                    "{}",
                    ctx(&format!(
                        "refcount of 0x{addr:x} ({tn}): agent {rca} read {rcr}"
                    ))
                );
            } else if rca < rcr {
                // Only the os.read the read found in progress, released since.
                assert!(
                    tn == "builtin_function_or_method" && rcr - rca == 1 && x["name"] == "read",
                    "{}",
                    ctx(&format!(
                        "refcount of 0x{addr:x} ({tn}): agent {rca} read {rcr}"
                    ))
                );
            }
            if own.contains(&addr) {
                continue;
            }
            let (ea, er) = (a.edges(addr), r.edges(addr));
            edges += er.len();
            if DECODED.contains(&tn.as_str()) || main_type {
                let strict = |e: &[(u64, Option<String>)]| multiset(e);
                assert!(
                    strict(&ea) == strict(&er),
                    "{}",
                    ctx(&format!(
                        "referents of 0x{addr:x} ({tn}): agent {ea:?} read {er:?}"
                    ))
                );
                // The interpreter's table of interned strings (a dict recorded without
                // edges) loses the mortal names freed between the two captures.
                let interned = tn == "dict" && ea.is_empty() && x["n"].as_u64() > Some(0);
                for f in ["n", "bound", "hits", "misses", "name", "at", "b"] {
                    if interned && (f == "n" || f == "b") {
                        let (na, nr) = (x["n"].as_u64().unwrap(), y["n"].as_u64().unwrap());
                        assert!(
                            na.abs_diff(nr) <= 16,
                            "{}",
                            ctx(&format!("interned: {na} vs {nr}"))
                        );
                        continue;
                    }
                    if f == "b" {
                        // Memory a C type's __sizeof__ reports beyond its block (address 0),
                        // and ctypes buffers, are the agent's alone: the read says so in its
                        // header. (The workload's ctypes types: c_double * 16 and Point.)
                        let ctypes = tn.contains("_Array_") || tn == "__main__.Point";
                        let known = |v: &Value| -> Option<Vec<Value>> {
                            if ctypes {
                                return None;
                            }
                            let b: Vec<Value> = v
                                .get("b")?
                                .as_array()?
                                .iter()
                                .filter(|b| b[0] != 0)
                                .cloned()
                                .collect();
                            (!b.is_empty()).then_some(b)
                        };
                        assert_eq!(
                            known(x),
                            known(y),
                            "{}",
                            ctx(&format!("buffers of 0x{addr:x} ({tn})"))
                        );
                        continue;
                    }
                    assert_eq!(
                        x.get(f),
                        y.get(f),
                        "{}",
                        ctx(&format!("{f} of 0x{addr:x} ({tn})"))
                    );
                }
            } else {
                let ta: Vec<u64> = ea.iter().map(|e| e.0).collect();
                let tr: Vec<u64> = er.iter().map(|e| e.0).collect();
                let lacking = lacking(&tr, &ta);
                // An extension's traversal may visit objects held through a block of its own
                // (a Cython function's defaults): the scan of the object cannot see those.
                assert!(
                    lacking == 0 || tol.extension_sizes,
                    "{}",
                    ctx(&format!(
                        "referents of 0x{addr:x} ({tn}): the read lacks some of {ta:?}: {tr:?}"
                    ))
                );
                if tol.held_in_blocks.contains(&tn.as_str()) {
                    block_edges += lacking;
                } else {
                    lacking_edges += lacking;
                }
                // An instance of a heap type holds a reference to its type (counted in the
                // type's reference count), which the read records whether or not the
                // type's traversal visits it (mypyc's does not): counted apart.
                let own_type = r.type_addr[&y["t"].as_u64().unwrap()];
                let count = |e: &[u64]| e.iter().filter(|&&t| t == own_type).count();
                let type_extra = count(&tr).saturating_sub(count(&ta));
                type_edges += type_extra;
                extra_edges += (tr.len() + lacking)
                    .saturating_sub(ta.len())
                    .saturating_sub(type_extra);
            }
        }
        // The agent's own functions, the builtins its running frames hold and its module
        // namespace are referenced from its capture: a few dozen counts, no more.
        assert!(
            rc_diffs <= 40,
            "{}",
            ctx(&format!("{rc_diffs} reference counts are higher"))
        );
        assert!(
            atom_diffs <= tol.atoms,
            "{}",
            ctx(&format!("{atom_diffs} counts of shared atoms moved"))
        );
        let ratio = extra_edges as f64 / edges.max(1) as f64;
        assert!(
            size_gaps <= 100,
            "{}",
            ctx(&format!("{size_gaps} extension sizes differ"))
        );
        assert!(
            block_edges <= 2000,
            "{}",
            ctx(&format!(
                "{block_edges} referents held in extensions' own blocks"
            ))
        );
        assert!(
            lacking_edges <= 100,
            "{}",
            ctx(&format!(
                "{lacking_edges} referents of scanned objects missing"
            ))
        );
        eprintln!(
            "note: {version}: {size_gaps} extension sizes differ, {lacking_edges} referents held through extensions' own blocks missing from scans, {type_edges} references to their heap types their traversal leaves out, {block_edges} referents of nanobind functions (default arguments) missing"
        );
        eprintln!(
            "note: {version}: {} objects in both, {only_read} only in the read, {} only in the agent's (its own, or in extensions' blocks), {rc_diffs} counts of the agent's machinery higher, {atom_diffs} of shared atoms moved, {extra_edges} extra edges from scans ({:.3} % of {edges})",
            a.objects.len() - only_agent.len(),
            only_agent.len(),
            ratio * 100.0
        );
        assert!(
            ratio <= tol.extra_edges,
            "{}",
            ctx(&format!("extra edges {:.3} %", ratio * 100.0))
        );

        // Python classes and C types told apart the same way.
        let mut classes = 0;
        for (t, py) in &a.python_class {
            if let Some(py_read) = r.python_class.get(t) {
                assert_eq!(py, py_read, "{}", ctx(&format!("py of type 0x{t:x}")));
                classes += usize::from(*py);
            }
        }
        assert!(classes > 10, "{}", ctx("python classes"));

        // The same roots, frames by name and line, locals by name and value.
        let (ra, rr) = (multiset(&a.roots), multiset(&r.roots));
        assert_eq!(ra, rr, "{}", ctx("roots"));

        // The analyses agree on what the workload planted (with extensions' objects that only
        // the read finds, the retained sizes legitimately differ).
        if !tol.extension_sizes {
            compare_analyses(version, &agent_path, &read_path);
        }
    }
}
