//! `pymem watch`: a process that grows (tests/py/workload_grows.py) is snapshotted when its
//! RSS reaches the threshold, the snapshot's first entry in `pymem top` is the container it
//! planted, and the process runs on; with `--step`, one snapshot per step reached, and the
//! watch ends when the process does. Bad arguments are one line and exit 2.

use crate::common::{json, pymem, pythons, repo, Reaper};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{ChildStdin, Command, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

const MIB: u64 = 1 << 20;

/// Lines of a child's output, as they come (a thread reads them).
fn lines_of(r: impl std::io::Read + Send + 'static) -> Receiver<String> {
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(r).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn next(rx: &Receiver<String>, what: &str) -> String {
    rx.recv_timeout(Duration::from_secs(120))
        .unwrap_or_else(|e| panic!("no line from {what}: {e}"))
}

/// Wait for a line containing `needle`; the lines before it.
fn until(rx: &Receiver<String>, needle: &str, what: &str) -> Vec<String> {
    let mut seen = Vec::new();
    loop {
        let line = next(rx, what);
        let done = line.contains(needle);
        seen.push(line);
        if done {
            return seen;
        }
    }
}

struct Grower {
    child: Reaper,
    stdin: Option<ChildStdin>,
    out: Receiver<String>,
    pid: u32,
    rss: u64,
}

impl Grower {
    fn start() -> Grower {
        let (_, python) = pythons().last().unwrap();
        let mut child = Reaper::spawn(
            Command::new(python)
                .arg(repo().join("tests/py/workload_grows.py"))
                .stdin(Stdio::piped())
                .stdout(Stdio::piped()),
        );
        let stdin = child.0.stdin.take();
        let out = lines_of(child.0.stdout.take().unwrap());
        let first = next(&out, "the workload");
        let mut it = first.split_whitespace();
        let pid = it.next().unwrap().parse().unwrap();
        let rss = it.next().unwrap().parse().unwrap();
        Grower {
            child,
            stdin,
            out,
            pid,
            rss,
        }
    }

    fn say(&mut self, cmd: &str) -> String {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "{cmd}").unwrap();
        stdin.flush().unwrap();
        next(&self.out, cmd)
    }
}

fn watch(args: &[String]) -> (Reaper, Receiver<String>) {
    let mut w = Reaper::spawn(
        Command::new(assert_cmd::cargo::cargo_bin("pymem"))
            .arg("watch")
            .args(args)
            .stderr(Stdio::piped()),
    );
    let err = lines_of(w.0.stderr.take().unwrap());
    (w, err)
}

fn wait_exit(w: &mut Reaper) -> i32 {
    for _ in 0..1200 {
        if let Some(st) = w.0.try_wait().unwrap() {
            return st.code().expect("pymem watch exited by a signal");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("pymem watch did not end within 120 s");
}

/// The top entry of a snapshot and what it retains; the RSS in its header is at least the
/// threshold it was taken at.
fn first_in_top(snapshot: &Path, threshold: u64) -> (String, u64) {
    let t = json(&["top", snapshot.to_str().unwrap(), "--limit", "1"]);
    assert!(t["snapshot"]["rss"].as_u64().unwrap() >= threshold);
    let first = &t["objects"][0];
    (
        first["path"]["expr"].as_str().unwrap().to_string(),
        first["retained"].as_u64().unwrap(),
    )
}

/// The watch's snapshot name for a threshold: in MiB where it is a whole number of them,
/// else in bytes.
fn snapshot_name(pid: u32, threshold: u64) -> String {
    if threshold % MIB == 0 {
        format!("pymem-{pid}-rss-{}MiB.jsonl", threshold / MIB)
    } else {
        format!("pymem-{pid}-rss-{threshold}B.jsonl")
    }
}

#[test]
fn watch_snapshots_a_growing_process_and_it_runs_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = Grower::start();
    let threshold = g.rss + 40 * MIB;
    let (mut w, err) = watch(&[
        g.pid.to_string(),
        "--rss".into(),
        threshold.to_string(),
        "--every".into(),
        "50ms".into(),
        "-o".into(),
        dir.path().display().to_string(),
    ]);
    assert!(next(&err, "pymem watch").contains("watching process"));
    // It grows by itself from now on, 1 MiB every 20 ms, as a leaking service would.
    assert_eq!(g.say("run 150"), "running");
    let code = wait_exit(&mut w);
    let said: Vec<String> = err.try_iter().collect();
    assert_eq!(code, 0, "{said:?}");
    assert!(said.iter().any(|l| l.contains("reached")), "{said:?}");
    let snapshot = dir.path().join(snapshot_name(g.pid, threshold));
    assert!(snapshot.exists(), "{said:?}");
    let (expr, retained) = first_in_top(&snapshot, threshold);
    assert_eq!(expr, "__main__.hoard");
    assert!(
        retained >= 30 * MIB,
        "the hoard held {retained} B at the threshold"
    );
    // The target ran on: it answers, and its hoard grew past what the snapshot saw.
    let pong = g.say("ping");
    let mib: u64 = pong.strip_prefix("pong ").unwrap().parse().unwrap();
    assert!(mib * MIB > retained / 2, "{pong}");
    drop(g.stdin.take());
    assert!(g.child.0.wait().unwrap().success());
}

#[test]
fn watch_takes_one_snapshot_per_step_and_ends_with_the_process() {
    let dir = tempfile::tempdir().unwrap();
    let mut g = Grower::start();
    let first = g.rss + 30 * MIB;
    let (mut w, err) = watch(&[
        g.pid.to_string(),
        "--rss".into(),
        first.to_string(),
        "--step".into(),
        "30MiB".into(),
        "--every".into(),
        "50ms".into(),
        "-o".into(),
        dir.path().display().to_string(),
    ]);
    assert!(next(&err, "pymem watch").contains("then every 30.0 MiB more"));
    let mut retained = Vec::new();
    for (grow, reached) in [(35, first), (30, first + 30 * MIB)] {
        assert!(g.say(&format!("grow {grow}")).starts_with("rss "));
        let seen = until(&err, "reached", "pymem watch");
        let snapshot = dir.path().join(snapshot_name(g.pid, reached));
        assert!(snapshot.exists(), "{seen:?}");
        let (expr, r) = first_in_top(&snapshot, reached);
        assert_eq!(expr, "__main__.hoard");
        retained.push(r);
    }
    assert!(retained[1] >= retained[0] + 25 * MIB, "{retained:?}");
    // The process ends: so does the watch, with status 0 since it took snapshots.
    drop(g.stdin.take());
    assert!(g.child.0.wait().unwrap().success());
    assert_eq!(wait_exit(&mut w), 0);
    let rest: Vec<String> = err.try_iter().collect();
    assert!(
        rest.iter()
            .any(|l| l.contains("exited") && l.contains("2 snapshot(s) taken")),
        "{rest:?}"
    );
    // Two snapshots, each with its index (written by the watch, issue 27).
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names.len(), 4, "{names:?}");
    assert!(
        names[0].ends_with(".jsonl") && names[1] == format!("{}.pmi", names[0]),
        "{names:?}"
    );
}

#[test]
fn watch_refuses_bad_targets_in_one_line() {
    for (args, needle) in [
        (
            vec!["999999999", "--rss", "1MiB"],
            "no such process: 999999999",
        ),
        (vec!["1", "--rss", "0"], "more than 0 B"),
    ] {
        let out = pymem().arg("watch").args(&args).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}
