//! Capture in the field on every CPython 3.8–3.13: `pymem run` (exit code, argv, stdin and
//! stdout pass through; snapshots at exit and on a signal; SIGTERM passed on) and
//! `pymem attach` to a running process that keeps running, plus its one-line errors.

#![allow(clippy::disallowed_macros)] // notes on checks this machine cannot exercise

use crate::common::{json, pymem, pythons, repo, row_count};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn program() -> String {
    repo()
        .join("tests/py/field_program.py")
        .display()
        .to_string()
}

fn snapshots(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.path().display().to_string())
        .filter(|p| p.ends_with(".jsonl"))
        .collect();
    v.sort();
    v
}

#[test]
fn run_passes_the_program_through_and_snapshots_it() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let py = python.display().to_string();
        let d = dir.path().display().to_string();
        let prog = program();
        // Exit code, argv, stdin and stdout are the program's; a snapshot at exit.
        let out = pymem()
            .args(["run", "-o", &d, "--python", &py, "--", &prog, "exit", "7"])
            .write_stdin("hello\n")
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(7), "{version}: {stdout}");
        assert!(
            stdout.contains("argv ['exit', '7'] __main__"),
            "{version}: {stdout}"
        );
        assert!(stdout.contains("stdin hello"), "{version}: {stdout}");
        let snaps = snapshots(dir.path());
        assert_eq!(snaps.len(), 1, "{version}: {snaps:?}");
        assert!(snaps[0].ends_with("-001-exit.jsonl"));
        let s = json(&["summary", &snaps[0], "--limit", "10000"]);
        assert_eq!(row_count(&s, "__main__.Planted"), 321, "{version}");

        // A snapshot on the armed signal.
        let sig = tempfile::tempdir().unwrap();
        let sd = sig.path().display().to_string();
        pymem()
            .args([
                "run", "-o", &sd, "--signal", "USR2", "--python", &py, "--", &prog, "signal",
            ])
            .assert()
            .success();
        let snaps = snapshots(sig.path());
        assert_eq!(snaps.len(), 1, "{version}: {snaps:?}");
        assert!(
            snaps[0].ends_with("-001-signal.jsonl"),
            "{version}: {snaps:?}"
        );

        // SIGTERM sent to pymem reaches the program, whose exit code comes back.
        let mut child = Command::new(env!("CARGO_BIN_EXE_pymem"))
            .args([
                "run", "-o", &sd, "--signal", "USR1", "--python", &py, "--", &prog, "term",
            ])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready", "{version}");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.id() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        assert_eq!(lines.next().unwrap().unwrap(), "got TERM", "{version}");
        assert_eq!(child.wait().unwrap().code(), Some(5), "{version}");
    }
}

fn heartbeat(file: &Path) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

#[test]
fn attach_snapshots_a_running_process_that_keeps_running() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let beat = dir.path().join("beat");
        let mut target = Command::new(python)
            .arg(program())
            .args(["serve", beat.to_str().unwrap()])
            .spawn()
            .unwrap();
        let start = Instant::now();
        while heartbeat(&beat) < 3 && start.elapsed() < Duration::from_secs(20) {
            std::thread::sleep(Duration::from_millis(20));
        }
        let out_file = dir.path().join("attached.jsonl");
        let out = pymem()
            .args([
                "attach",
                &target.id().to_string(),
                "-o",
                out_file.to_str().unwrap(),
            ])
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{version}: {err}");
        assert!(err.contains("pymem: wrote"), "{version}: {err}");
        // Still running and answering.
        let before = heartbeat(&beat);
        std::thread::sleep(Duration::from_millis(300));
        assert!(heartbeat(&beat) > before, "{version}: the target stopped");
        assert!(
            target.try_wait().unwrap().is_none(),
            "{version}: the target exited"
        );
        let s = json(&["summary", out_file.to_str().unwrap(), "--limit", "10000"]);
        assert_eq!(row_count(&s, "__main__.Planted"), 321, "{version}");
        let _ = target.kill();
        let _ = target.wait();
    }
}

#[test]
fn attach_errors_are_one_line() {
    let out = pymem().args(["attach", "999999"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no such process") && err.lines().count() == 1,
        "{err}"
    );

    let mut sleeper = Command::new("sleep").arg("30").spawn().unwrap();
    let out = pymem()
        .args(["attach", &sleeper.id().to_string()])
        .output()
        .unwrap();
    let _ = sleeper.kill();
    let _ = sleeper.wait();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a CPython process") && err.lines().count() == 1,
        "{err}"
    );
    let _ = std::io::stdout().flush();
}

/// Start `field_program.py serve` and wait for its first heartbeats.
fn serving(python: &Path, beat: &Path) -> std::process::Child {
    let child = Command::new(python)
        .arg(program())
        .args(["serve", beat.to_str().unwrap()])
        .spawn()
        .unwrap();
    let start = Instant::now();
    while heartbeat(beat) < 3 && start.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[test]
fn attach_timeout_and_permission_errors_leave_the_target_running() {
    let (_, python) = pythons().last().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let beat = dir.path().join("beat");
    let mut target = serving(python, &beat);
    let pid = target.id().to_string();

    let out = pymem()
        .args(["attach", &pid, "--timeout", "0", "-o"])
        .arg(dir.path().join("never.jsonl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("timed out") && err.lines().count() == 1,
        "{err}"
    );
    let before = heartbeat(&beat);
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        heartbeat(&beat) > before,
        "the target stopped after a timed-out attach"
    );

    // Without permission to trace (an unprivileged user against root's process).
    let root = nix::unistd::Uid::effective().is_root();
    if root && Path::new("/usr/bin/setpriv").exists() {
        let out = Command::new("/usr/bin/setpriv")
            .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
            .arg(env!("CARGO_BIN_EXE_pymem"))
            .args(["attach", &pid])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains("not permitted") && err.contains("ptrace_scope"),
            "{err}"
        );
    } else {
        eprintln!("note: not root or no setpriv: the ptrace-permission error is not exercised");
    }
    let _ = target.kill();
    let _ = target.wait();
}

#[test]
fn attach_refuses_an_unsupported_python() {
    // An older CPython from pyenv, when one is installed (3.7, 3.6).
    let root = std::env::var("PYENV_ROOT")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            std::path::PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".pyenv")
        });
    let old = std::fs::read_dir(root.join("versions"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().to_string();
            (n.starts_with("3.7.") || n.starts_with("3.6.")) && p.join("bin/python3").exists()
        });
    let Some(old) = old else {
        eprintln!(
            "note: no CPython 3.6/3.7 installed: the unsupported-version error is not exercised"
        );
        return;
    };
    let mut target = Command::new(old.join("bin/python3"))
        .args(["-c", "import time; time.sleep(30)"])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let out = pymem()
        .args(["attach", &target.id().to_string()])
        .output()
        .unwrap();
    let _ = target.kill();
    let _ = target.wait();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("supports 3.8-3.13") && err.lines().count() == 1,
        "{err}"
    );
}
