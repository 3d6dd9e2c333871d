//! `pymem core` equals the live read, on every CPython 3.8–3.15: a leaking program
//! (tests/py/workload_leaks.py) waits at each of its three snapshot points; there it is read
//! live by `pymem attach`, then dumped by gdb's `gcore`, and at the last point killed with
//! SIGABRT so that the kernel writes its core. The snapshots of each core must equal the
//! live read of the same state object by object (types, sizes, counts, referents, labels,
//! roots), and `leaks` over the three cores, `frag` and `summary` give the live answers.
//!
//! Then the ways a core can be unusable, each one line and exit 2: not a core file, a core
//! of a process that is not CPython, the wrong interpreter file (both build-ids named), a
//! core cut in half.

#![allow(clippy::disallowed_macros)] // a note when this machine hands kernel cores elsewhere

use crate::common::{agent_dir, json, pymem, pymem_ok, pythons, repo, Reaper};
use serde_json::Value;
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// One snapshot's objects (address -> the record without its address) and roots, with type
/// ids replaced by names.
fn contents(path: &Path) -> (BTreeMap<u64, Value>, Vec<String>) {
    let text = std::fs::read_to_string(path).unwrap();
    let mut types = BTreeMap::new();
    let mut objects = BTreeMap::new();
    let mut roots = Vec::new();
    for line in text.lines() {
        let mut v: Value = serde_json::from_str(line).unwrap();
        match v["k"].as_str().unwrap() {
            "type" => {
                types.insert(v["id"].as_u64().unwrap(), v["name"].clone());
            }
            "o" => {
                let a = v["a"].as_u64().unwrap();
                v["t"] = types[&v["t"].as_u64().unwrap()].clone();
                v.as_object_mut().unwrap().remove("a");
                objects.insert(a, v);
            }
            "root" => roots.push(v.to_string()),
            _ => {}
        }
    }
    roots.sort();
    (objects, roots)
}

fn assert_same_heap(what: &str, live: &Path, core: &Path) {
    let (lo, lr) = contents(live);
    let (co, cr) = contents(core);
    assert!(lo.len() > 1000, "{what}: {} objects", lo.len());
    let only_live: Vec<_> = lo.keys().filter(|a| !co.contains_key(a)).take(5).collect();
    let only_core: Vec<_> = co.keys().filter(|a| !lo.contains_key(a)).take(5).collect();
    assert!(
        only_live.is_empty() && only_core.is_empty(),
        "{what}: objects only in the live read {only_live:x?}, only in the core {only_core:x?}"
    );
    for (a, o) in &lo {
        assert_eq!(Some(o), co.get(a), "{what}: object 0x{a:x}");
    }
    assert_eq!(lr, cr, "{what}: roots");
}

/// Where the kernel writes a core for a process in `dir`, per `core_pattern`; None when it
/// hands cores to a program (systemd-coredump, apport) or writes them elsewhere.
fn kernel_core_path(dir: &Path, pid: u32) -> Option<PathBuf> {
    let pattern = std::fs::read_to_string("/proc/sys/kernel/core_pattern").ok()?;
    let pattern = pattern.trim();
    if pattern.starts_with('|') || pattern.contains('/') {
        return None;
    }
    let uses_pid =
        std::fs::read_to_string("/proc/sys/kernel/core_uses_pid").is_ok_and(|s| s.trim() == "1");
    let name = pattern.replace("%p", &pid.to_string());
    let name = if uses_pid && !pattern.contains("%p") {
        format!("{name}.{pid}")
    } else {
        name
    };
    (!name.contains('%')).then(|| dir.join(name))
}

pub(crate) fn gcore(pid: &str, prefix: &Path) -> PathBuf {
    let out = Command::new("gcore")
        .arg("-o")
        .arg(prefix)
        .arg(pid)
        .output()
        .expect("gcore (from gdb) is needed");
    assert!(
        out.status.success(),
        "gcore: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(format!("{}.{pid}", prefix.display()))
}

fn core_snapshot(core: &Path, out: &Path) {
    pymem_ok(&[
        OsStr::new("core"),
        core.as_os_str(),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
}

fn read_live(pid: &str, out: &Path) {
    pymem_ok(&[
        OsStr::new("attach"),
        OsStr::new(pid),
        OsStr::new("-o"),
        out.as_os_str(),
    ]);
}

#[test]
fn a_core_gives_the_live_answers_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // Cores are allowed for the program only (the shell raises its own soft limit).
        let mut child = Reaper::spawn(
            Command::new("sh")
                .arg("-c")
                .arg("ulimit -c unlimited && exec \"$@\"")
                .arg("sh")
                .arg(python)
                .arg(repo().join("tests/py/workload_leaks.py"))
                .arg(agent_dir())
                .arg("module_global")
                .arg(d)
                .arg("300")
                .env("PYMEM_PAUSE", "1")
                .current_dir(d)
                .stdout(Stdio::piped()),
        );
        let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
        let (mut live, mut cores) = (Vec::new(), Vec::new());
        let mut pid = String::new();
        for name in ["a", "b", "c"] {
            let line = lines.next().unwrap().unwrap();
            let mut it = line.split_whitespace().skip(1);
            pid = it.next().unwrap().into();
            let fd = it.next().unwrap();
            let l = d.join(format!("live-{name}.jsonl"));
            crate::common::wait_until_blocked_in_read(&pid);
            read_live(&pid, &l);
            let core = gcore(&pid, &d.join(format!("gcore-{name}")));
            let c = d.join(format!("gcore-{name}.jsonl"));
            core_snapshot(&core, &c);
            std::fs::remove_file(&core).unwrap();
            assert_same_heap(&format!("{version} gcore at {name}"), &l, &c);
            live.push(l.display().to_string());
            cores.push(c.display().to_string());
            if name != "c" {
                crate::common::release_pause(&pid, fd);
            }
        }
        // The kernel's core of the same state: SIGABRT while it waits at "c".
        let kernel = kernel_core_path(d, pid.parse().unwrap());
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid.parse().unwrap()),
            nix::sys::signal::Signal::SIGABRT,
        )
        .unwrap();
        let status = child.0.wait().unwrap();
        match kernel {
            Some(path) => {
                use std::os::unix::process::ExitStatusExt;
                assert_eq!(status.signal(), Some(6), "{version}: {status:?}");
                let start = Instant::now();
                while !path.exists() && start.elapsed() < Duration::from_secs(10) {
                    std::thread::sleep(Duration::from_millis(50));
                }
                let k = d.join("kernel-c.jsonl");
                core_snapshot(&path, &k);
                assert_same_heap(
                    &format!("{version} kernel core"),
                    &PathBuf::from(&live[2]),
                    &k,
                );
            }
            None => eprintln!(
                "note: {version}: core_pattern hands cores elsewhere; kernel cores not compared"
            ),
        }
        // The analyses: leaks over the cores name the live roots; frag and summary agree.
        let leaks = |files: &[String]| {
            let mut args = vec!["leaks"];
            args.extend(files.iter().map(String::as_str));
            json(&args)
        };
        let (ll, lc) = (leaks(&live), leaks(&cores));
        assert_eq!(ll["roots"], lc["roots"], "{version}: leaks");
        assert_eq!(
            lc["roots"][0]["path"]["expr"], "leakshop._carts",
            "{version}: the planted leak"
        );
        for cmd in ["frag", "summary"] {
            let (a, b) = (json(&[cmd, &live[2]]), json(&[cmd, &cores[2]]));
            // A core keeps no record of resident pages: no RSS breakdown, and it says so.
            if cmd == "summary" {
                assert!(a["memory"].is_object(), "{version}: live memory");
                assert!(b["memory"].is_null(), "{version}: core memory");
                assert!(
                    b["snapshot"]["missing"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .any(|m| m.as_str().unwrap().starts_with("memory: a core file")),
                    "{version}: {}",
                    b["snapshot"]["missing"]
                );
            }
            let strip = |mut v: Value| {
                v.as_object_mut().unwrap().remove("snapshot");
                v.as_object_mut().unwrap().remove("memory");
                v
            };
            assert_eq!(strip(a), strip(b), "{version}: {cmd}");
        }
    }
}

/// A core of `sleep` (not CPython), and a core of one CPython program for the other cases.
#[test]
fn unusable_cores_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fail = |args: &[&std::ffi::OsStr], want: &str| {
        let out = pymem().arg("core").args(args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(want), "wanted {want:?}: {err}");
    };
    // Not a core.
    let text = d.join("notes.txt");
    std::fs::write(&text, "hello").unwrap();
    fail(&[text.as_os_str()], "not a core file");
    // Not CPython.
    let sleeper = Reaper::spawn(Command::new("sleep").arg("60"));
    let core = gcore(&sleeper.pid().to_string(), &d.join("sleep"));
    fail(&[core.as_os_str()], "not CPython");
    drop(sleeper);
    // A CPython core: whole, it reads; cut in half, it is refused; with the wrong
    // interpreter file, both build-ids are named.
    let (version, python) = pythons()
        .iter()
        .find(|(v, _)| v.starts_with("3.12"))
        .unwrap_or(&pythons()[0]);
    let mut child = Reaper::spawn(
        Command::new(python)
            .arg("-c")
            .arg("import os, sys; x = [object() for _ in range(10000)]; print(os.getpid(), flush=True); sys.stdin.read()")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped()),
    );
    let pid = BufReader::new(child.0.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let core = gcore(&pid, &d.join("py"));
    drop(child);
    core_snapshot(&core, &d.join("whole.jsonl"));
    let len = std::fs::metadata(&core).unwrap().len();
    let cut = d.join("cut");
    std::fs::write(&cut, &std::fs::read(&core).unwrap()[..(len / 2) as usize]).unwrap();
    fail(&[cut.as_os_str()], "truncated");
    // The wrong interpreter: another version's file where this one's was.
    let maps = String::from_utf8_lossy(&std::fs::read(&core).unwrap()).to_string();
    let interp = ["libpython3.12.so.1.0"]
        .iter()
        .find(|n| maps.contains(*n))
        .copied();
    let other = pythons()
        .iter()
        .find(|(v, _)| v != version)
        .map(|(_, p)| p.clone())
        .unwrap();
    let root = d.join("root");
    match interp {
        Some(lib) => {
            // pyenv: the interpreter is libpython; put another version's under its name.
            let real = python
                .parent()
                .unwrap()
                .parent()
                .unwrap()
                .join("lib")
                .join(lib);
            let fake = root.join(real.strip_prefix("/").unwrap());
            std::fs::create_dir_all(fake.parent().unwrap()).unwrap();
            let other_lib =
                std::fs::read_dir(other.parent().unwrap().parent().unwrap().join("lib"))
                    .unwrap()
                    .flatten()
                    .map(|e| e.path())
                    .find(|p| {
                        p.file_name()
                            .unwrap()
                            .to_string_lossy()
                            .starts_with("libpython3.")
                    })
                    .unwrap();
            std::fs::copy(other_lib, &fake).unwrap();
            fail(
                &[core.as_os_str(), "--sysroot".as_ref(), root.as_os_str()],
                "build-id",
            );
        }
        None => fail(
            &[core.as_os_str(), "--exe".as_ref(), other.as_os_str()],
            "build-id",
        ),
    }
}
