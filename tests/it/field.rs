//! Capture in the field on every CPython 3.8–3.13: `pymem run` (exit code, argv, stdin and
//! stdout pass through; snapshots at exit and on a signal; SIGTERM passed on) and
//! `pymem attach` to a running process that keeps running, plus its one-line errors.
//!
//! Whatever attach does — snapshot, refusal, timeout, interruption — the target must come out
//! healthy: both its threads still beat, a snapshot armed on a signal still works, and it
//! exits with its own code. Every process a test starts is reaped when the test ends.

#![allow(clippy::disallowed_macros)] // notes on checks this machine cannot exercise

use crate::common::{json, pymem, pythons, repo, row_count, Reaper};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
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
        let mut child = Reaper::spawn(
            Command::new(env!("CARGO_BIN_EXE_pymem"))
                .args([
                    "run", "-o", &sd, "--signal", "USR1", "--python", &py, "--", &prog, "term",
                ])
                .stdout(Stdio::piped())
                .stderr(Stdio::null()),
        );
        let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready", "{version}");
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(child.pid() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        assert_eq!(lines.next().unwrap().unwrap(), "got TERM", "{version}");
        assert_eq!(child.0.wait().unwrap().code(), Some(5), "{version}");
    }
}

fn counter(file: &Path) -> u64 {
    std::fs::read_to_string(file)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(0)
}

/// The minor version of "3.14.10".
fn minor(version: &str) -> u32 {
    version.split('.').nth(1).unwrap().parse().unwrap()
}

/// The newest interpreter of the gdb route (3.8-3.13) and of remote execution (3.14+).
fn one_per_injector() -> Vec<&'static (String, PathBuf)> {
    let old = pythons().iter().rev().find(|(v, _)| minor(v) <= 13);
    let new = pythons().iter().rev().find(|(v, _)| minor(v) >= 14);
    old.into_iter().chain(new).collect()
}

/// `field_program.py serve`: a target with a main thread and a second thread that both beat,
/// optionally armed with the agent (a snapshot on SIGUSR2), exiting with code 3 on SIGTERM.
/// Its stderr goes to a file that must stay empty: nothing pymem does may print there.
struct Target {
    child: Reaper,
    beat: PathBuf,
    thread_beat: PathBuf,
    armed: Option<PathBuf>,
    stderr: PathBuf,
    block: f64,
}

impl Target {
    /// Started in `dir`; `block` seconds per main-thread sleep (0.02 unless the main thread
    /// is to sit in C); armed with the agent when `armed`; `env` added to its environment.
    fn start(python: &Path, dir: &Path, armed: bool, block: f64) -> Target {
        Target::start_with(python, dir, armed, block, &[])
    }

    fn start_with(
        python: &Path,
        dir: &Path,
        armed: bool,
        block: f64,
        env: &[(&str, &str)],
    ) -> Target {
        let beat = dir.join("beat");
        let snaps = dir.join("armed");
        let stderr = dir.join("target.stderr");
        if armed {
            std::fs::create_dir_all(&snaps).unwrap();
        }
        let mut cmd = Command::new(python);
        cmd.arg(program())
            .arg("serve")
            .arg(&beat)
            .arg(if armed {
                snaps.as_os_str()
            } else {
                "-".as_ref()
            })
            .arg(block.to_string())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&stderr).unwrap());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let t = Target {
            child: Reaper::spawn(&mut cmd),
            thread_beat: dir.join("beat.thread"),
            beat,
            armed: armed.then_some(snaps),
            stderr,
            block,
        };
        let want = if block < 1.0 { 3 } else { 1 };
        let start = Instant::now();
        while (counter(&t.thread_beat) < want || counter(&t.beat) < want)
            && start.elapsed() < Duration::from_secs(20)
        {
            std::thread::sleep(Duration::from_millis(20));
        }
        assert!(counter(&t.thread_beat) >= want, "the target did not start");
        t
    }

    fn pid(&self) -> String {
        self.child.pid().to_string()
    }

    /// Both threads go on beating.
    fn assert_beating(&mut self, what: &str) {
        let (main, thread) = (counter(&self.beat), counter(&self.thread_beat));
        std::thread::sleep(Duration::from_secs_f64((self.block * 1.3).max(0.4)));
        assert!(
            self.child.0.try_wait().unwrap().is_none(),
            "{what}: the target exited"
        );
        assert!(
            counter(&self.thread_beat) > thread,
            "{what}: the target's second thread stopped"
        );
        assert!(
            counter(&self.beat) > main,
            "{what}: the target's main thread stopped"
        );
    }

    /// A snapshot armed on SIGUSR2 still arrives, SIGTERM still ends it with its code, and it
    /// printed nothing on stderr.
    fn assert_signals_work_and_stop(mut self, what: &str) {
        if let Some(dir) = &self.armed {
            nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(self.child.pid() as i32),
                nix::sys::signal::Signal::SIGUSR2,
            )
            .unwrap();
            let start = Instant::now();
            while snapshots(dir).is_empty() && start.elapsed() < Duration::from_secs(30) {
                std::thread::sleep(Duration::from_millis(50));
            }
            assert_eq!(snapshots(dir).len(), 1, "{what}: the armed snapshot");
            let s = json(&["summary", &snapshots(dir)[0], "--limit", "10000"]);
            assert_eq!(row_count(&s, "__main__.Planted"), 321, "{what}");
        }
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(self.child.pid() as i32),
            nix::sys::signal::Signal::SIGTERM,
        )
        .unwrap();
        let start = Instant::now();
        let status = loop {
            if let Some(s) = self.child.0.try_wait().unwrap() {
                break s;
            }
            assert!(
                start.elapsed() < Duration::from_secs(10),
                "{what}: the target ignored SIGTERM"
            );
            std::thread::sleep(Duration::from_millis(20));
        };
        assert_eq!(status.code(), Some(3), "{what}: the target's exit code");
        let err = std::fs::read_to_string(&self.stderr).unwrap();
        let own = err
            .lines()
            .filter(|l| !l.starts_with("pymem: wrote "))
            .collect::<Vec<_>>();
        assert!(own.is_empty(), "{what}: the target printed: {err}");
    }
}

/// Whether gdb can call a function in a process on this machine, found independently of
/// pymem's own probe: a call into a sleeping child.
fn gdb_can_call() -> bool {
    let sleeper = Reaper::spawn(Command::new("sleep").arg("30"));
    std::thread::sleep(Duration::from_millis(100));
    let out = Command::new("gdb")
        .args(["-p", &sleeper.pid().to_string(), "--batch", "-nx", "-q"])
        .args(["-ex", "call (int)getpid()", "-ex", "detach"])
        .output()
        .expect("gdb");
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .any(|l| l.starts_with('$') && l.ends_with(&format!(" = {}", sleeper.pid())))
}

/// Whether pymem can inject into a process of this version here: 3.14+ through the
/// interpreter's remote execution, older ones only where gdb can call functions.
fn injects(version: &str, gdb_works: bool) -> bool {
    minor(version) >= 14 || gdb_works
}

/// `pymem attach` with a private cache (a verdict of another machine or gdb cannot leak in).
fn attach_cmd(cache: &Path) -> assert_cmd::Command {
    let mut cmd = pymem();
    cmd.arg("attach").env("PYMEM_CACHE_DIR", cache);
    cmd
}

#[test]
fn attach_snapshots_a_running_process_or_refuses_and_it_keeps_running() {
    let gdb_works = gdb_can_call();
    if !gdb_works {
        eprintln!("note: gdb cannot call functions in a process on this machine: attach to 3.8-3.13 must refuse");
    }
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let mut target = Target::start(python, dir.path(), true, 0.02);
        // Read from outside (the default): always possible, nothing runs in the target.
        let read_file = dir.path().join("read.jsonl");
        let out = attach_cmd(&dir.path().join("cache"))
            .arg(target.pid())
            .arg("-o")
            .arg(&read_file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{version} read: {err}");
        assert!(
            err.contains("pymem: wrote") && err.contains("stopped"),
            "{version}: {err}"
        );
        let s = json(&["summary", read_file.to_str().unwrap(), "--limit", "10000"]);
        assert_eq!(row_count(&s, "__main__.Planted"), 321, "{version} read");
        target.assert_beating(version);
        // Injected: the agent runs inside.
        let out_file = dir.path().join("attached.jsonl");
        let out = attach_cmd(&dir.path().join("cache"))
            .arg(target.pid())
            .args(["--method", "inject", "-o"])
            .arg(&out_file)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        if injects(version, gdb_works) {
            assert!(out.status.success(), "{version}: {err}");
            assert!(err.contains("pymem: wrote"), "{version}: {err}");
            let s = json(&["summary", out_file.to_str().unwrap(), "--limit", "10000"]);
            assert_eq!(row_count(&s, "__main__.Planted"), 321, "{version}");
        } else {
            assert_eq!(out.status.code(), Some(2), "{version}: {err}");
            assert!(
                err.contains("cannot call functions") && err.lines().count() == 1,
                "{version}: {err}"
            );
            assert!(!out_file.exists());
        }
        target.assert_beating(version);
        target.assert_signals_work_and_stop(version);
    }
}

/// Reading from outside runs nothing in the target: an unarmed program read three times in
/// a row has no pymem module in any of the snapshots (none was imported), both its threads
/// beat throughout, and it ends on SIGTERM with its own code, having printed nothing.
#[test]
fn a_read_from_outside_imports_nothing_and_the_target_beats_throughout() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let mut target = Target::start(python, dir.path(), false, 0.02);
        for i in 0..3 {
            let file = dir.path().join(format!("read-{i}.jsonl"));
            let out = attach_cmd(&dir.path().join("cache"))
                .arg(target.pid())
                .arg("-o")
                .arg(&file)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{version}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            let text = std::fs::read_to_string(&file).unwrap();
            let module_type = text
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .find(|v| v["k"] == "type" && v["name"] == "module")
                .map(|v| v["id"].clone())
                .expect("a module type");
            let modules: Vec<String> = text
                .lines()
                .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
                .filter(|v| v["k"] == "o" && v["t"] == module_type)
                .filter_map(|v| v["name"].as_str().map(str::to_string))
                .collect();
            assert!(
                modules.iter().any(|m| m == "__main__"),
                "{version}: {modules:?}"
            );
            assert!(
                !modules.iter().any(|m| m.starts_with("pymem")),
                "{version}: a pymem module in the target: {modules:?}"
            );
            target.assert_beating(version);
        }
        target.assert_signals_work_and_stop(version);
    }
}

/// A gdb that behaves as Debian's gdb 13 does on Intel AMX machines: every function call
/// fails with "Couldn't write extended state status". It logs how it was called.
fn broken_gdb(dir: &Path) -> (PathBuf, PathBuf) {
    let log = dir.join("gdb.log");
    let gdb = dir.join("gdb");
    std::fs::write(
        &gdb,
        format!(
            "#!/bin/sh\necho \"$*\" >> '{}'\n\
             if [ \"$1\" = --version ]; then echo 'GNU gdb (fake, no calls) 13.1'; exit 0; fi\n\
             echo 'Attaching to process'\n\
             echo \"Couldn't write extended state status: Bad address.\"\n\
             echo '[Inferior 1 (process 1) detached]'\n",
            log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gdb, std::fs::Permissions::from_mode(0o755)).unwrap();
    (gdb, log)
}

#[test]
fn attach_refuses_before_touching_the_target_where_gdb_cannot_call() {
    let Some((_, python)) = pythons().iter().rev().find(|(v, _)| minor(v) <= 13) else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (gdb, log) = broken_gdb(dir.path());
    let cache = dir.path().join("cache");
    let mut target = Target::start(python, dir.path(), true, 0.02);
    for round in 0..2 {
        let out = attach_cmd(&cache)
            .arg(target.pid())
            .args(["--method", "inject", "--gdb"])
            .arg(&gdb)
            .arg("-o")
            .arg(dir.path().join("never.jsonl"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.lines().count(), 1, "{err}");
        for part in [
            "gdb cannot call functions in a process on this machine",
            "Couldn't write extended state status: Bad address.",
            "was not touched",
            "pymem_agent.install(signal=",
            "pymem run --signal",
        ] {
            assert!(err.contains(part), "round {round}: {part:?} missing: {err}");
        }
    }
    // gdb was run on the throwaway process only, once: the verdict is remembered.
    let calls = std::fs::read_to_string(&log).unwrap();
    let attaches: Vec<&str> = calls.lines().filter(|l| l.starts_with("-p ")).collect();
    assert_eq!(attaches.len(), 1, "{calls}");
    assert!(
        !attaches[0].starts_with(&format!("-p {} ", target.pid())),
        "gdb was pointed at the target: {calls}"
    );
    assert!(!dir.path().join("never.jsonl").exists());
    target.assert_beating("after the refusals");
    target.assert_signals_work_and_stop("after the refusals");
}

#[test]
fn attach_refuses_where_remote_debugging_is_disabled() {
    for (version, python) in pythons().iter().filter(|(v, _)| minor(v) >= 14) {
        for env in [("PYTHON_DISABLE_REMOTE_DEBUG", "1"), ("PYTHONXOPT", "")] {
            let dir = tempfile::tempdir().unwrap();
            let mut target = if env.0 == "PYTHONXOPT" {
                // -X disable-remote-debug, given as the interpreter's option.
                let wrapper = dir.path().join("python");
                std::fs::write(
                    &wrapper,
                    format!(
                        "#!/bin/sh\nexec '{}' -X disable-remote-debug \"$@\"\n",
                        python.display()
                    ),
                )
                .unwrap();
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&wrapper, std::fs::Permissions::from_mode(0o755)).unwrap();
                Target::start(&wrapper, dir.path(), true, 0.02)
            } else {
                Target::start_with(python, dir.path(), true, 0.02, &[env])
            };
            let out = attach_cmd(&dir.path().join("cache"))
                .arg(target.pid())
                .args(["--method", "inject", "-o"])
                .arg(dir.path().join("never.jsonl"))
                .output()
                .unwrap();
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{version} {env:?}: {err}");
            assert!(
                err.contains("remote debugging is disabled") && err.lines().count() == 1,
                "{version} {env:?}: {err}"
            );
            assert!(!dir.path().join("never.jsonl").exists());
            target.assert_beating(version);
            target.assert_signals_work_and_stop(version);
        }
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

    let sleeper = Reaper::spawn(Command::new("sleep").arg("30"));
    let out = pymem()
        .args(["attach", &sleeper.pid().to_string()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("not a CPython process") && err.lines().count() == 1,
        "{err}"
    );
}

#[test]
fn attach_timeout_interruption_and_permission_errors_leave_the_target_running() {
    let gdb_works = gdb_can_call();
    for (version, python) in one_per_injector() {
        let dir = tempfile::tempdir().unwrap();
        let cache = dir.path().join("cache");

        // A timeout that expires at once.
        let mut target = Target::start(python, dir.path(), false, 0.02);
        let out = attach_cmd(&cache)
            .args([&target.pid(), "--method", "inject", "--timeout", "0", "-o"])
            .arg(dir.path().join("never.jsonl"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{version}");
        let err = String::from_utf8_lossy(&out.stderr);
        let refused = err.contains("cannot call functions");
        assert!(
            (err.contains("timed out") || refused) && err.lines().count() == 1,
            "{version}: {err}"
        );
        target.assert_beating("after a timed-out attach");

        // Without permission to trace (an unprivileged user against root's process).
        let root = nix::unistd::Uid::effective().is_root();
        if root && Path::new("/usr/bin/setpriv").exists() {
            for method in ["read", "inject"] {
                let out = Command::new("/usr/bin/setpriv")
                    .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                    .arg(env!("CARGO_BIN_EXE_pymem"))
                    .args(["attach", &target.pid(), "--method", method])
                    .env("PYMEM_CACHE_DIR", &cache)
                    .output()
                    .unwrap();
                assert_eq!(out.status.code(), Some(2), "{version} {method}");
                let err = String::from_utf8_lossy(&out.stderr);
                assert!(
                    err.contains("not permitted")
                        && err.contains("ptrace_scope")
                        && err.lines().count() == 1,
                    "{version} {method}: {err}"
                );
            }
        } else {
            eprintln!("note: not root or no setpriv: the ptrace-permission error is not exercised");
        }
        target.assert_beating("after a refused attach");
        target.assert_signals_work_and_stop("after the timeout");

        // Ctrl-C (SIGINT) of pymem while the target's threads sit in C, where the queued
        // capture cannot run yet: pymem stops waiting, the capture is cancelled, and when the
        // threads wake up nothing is written or printed.
        if !injects(version, gdb_works) {
            eprintln!("note: gdb cannot call functions here: the interruption is not exercised on {version}");
            continue;
        }
        let dir = tempfile::tempdir().unwrap();
        let mut target = Target::start(python, dir.path(), true, 2.0);
        let never = dir.path().join("never.jsonl");
        let mut pymem_run = Reaper::spawn(
            Command::new(env!("CARGO_BIN_EXE_pymem"))
                .args(["attach", &target.pid(), "--method", "inject", "-o"])
                .arg(&never)
                .env("PYMEM_CACHE_DIR", &cache)
                .stderr(Stdio::piped()),
        );
        std::thread::sleep(Duration::from_millis(1500));
        nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pymem_run.pid() as i32),
            nix::sys::signal::Signal::SIGINT,
        )
        .unwrap();
        let out = std::mem::replace(&mut pymem_run.0, Command::new("true").spawn().unwrap())
            .wait_with_output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{version}: {err}");
        assert!(
            err.contains("interrupted") && err.contains("cancelled") && err.lines().count() == 1,
            "{version}: {err}"
        );
        // The threads wake within 2 s and find the cancelled call: it must do nothing.
        std::thread::sleep(Duration::from_millis(2500));
        assert!(
            !never.exists(),
            "{version}: a cancelled capture was written"
        );
        target.assert_beating("after an interrupted attach");
        target.assert_signals_work_and_stop("after an interrupted attach");
    }
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
    let target = Reaper::spawn(
        Command::new(old.join("bin/python3")).args(["-c", "import time; time.sleep(30)"]),
    );
    std::thread::sleep(Duration::from_millis(300));
    for method in ["read", "inject"] {
        let out = pymem()
            .args(["attach", &target.pid().to_string(), "--method", method])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        // The version as far as it is known: never a made-up "3.7.0".
        let minor = old.file_name().unwrap().to_string_lossy()[..3].to_string();
        assert!(
            err.contains("3.8-3.15")
                && err.contains(&format!("runs CPython {minor}"))
                && !err.contains(&format!("{minor}.0"))
                && err.lines().count() == 1,
            "{method}: {err}"
        );
    }
    drop(target);
}
