//! Helpers shared by the integration tests: the binary, installed Pythons, workloads.

use assert_cmd::Command;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// The `pymem` under test. Its cache folder (indexes of snapshots in folders it cannot
/// write, stamps of indexes it checked) is under the build's own `target/tmp`, never the
/// user's; a test may set another.
pub fn pymem() -> Command {
    let mut c = Command::cargo_bin("pymem").expect("pymem binary");
    c.env(
        "XDG_CACHE_HOME",
        std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("cache"),
    );
    c
}

pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn agent_dir() -> PathBuf {
    repo().join("python")
}

/// Run `pymem ARGS` (strings or paths), which must succeed; its standard output.
pub fn pymem_ok<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Vec<u8> {
    let out = pymem().args(args).output().expect("run pymem");
    let shown: Vec<_> = args.iter().map(|a| a.as_ref().to_string_lossy()).collect();
    assert!(
        out.status.success(),
        "pymem {shown:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Run `pymem ARGS --format json` and parse the envelope.
pub fn json(args: &[&str]) -> serde_json::Value {
    let out = pymem()
        .args(args)
        .args(["--format", "json"])
        .output()
        .expect("run pymem");
    assert!(
        out.status.success(),
        "pymem {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("JSON envelope")
}

/// Every CPython 3.8–3.15 the tests must cover: `PYMEM_TEST_PYTHONS` (colon-separated
/// interpreters), else the newest pyenv install of each minor version. A missing minor
/// version is an error, not a skip: the suite promises all eight.
pub fn pythons() -> &'static [(String, PathBuf)] {
    static FOUND: OnceLock<Vec<(String, PathBuf)>> = OnceLock::new();
    FOUND.get_or_init(|| {
        if let Ok(list) = std::env::var("PYMEM_TEST_PYTHONS") {
            return list
                .split(':')
                .filter(|s| !s.is_empty())
                .map(|p| (version_of(Path::new(p)), PathBuf::from(p)))
                .collect();
        }
        let root = std::env::var("PYENV_ROOT")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                PathBuf::from(std::env::var("HOME").unwrap_or_default()).join(".pyenv")
            });
        let mut out = Vec::new();
        for minor in pymem::capture::facts::SUPPORTED_MINORS {
            let prefix = format!("3.{minor}.");
            let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir(root.join("versions"))
                .into_iter()
                .flatten()
                .flatten()
                .filter_map(|e| {
                    let name = e.file_name().to_string_lossy().to_string();
                    let patch = name.strip_prefix(&prefix)?.parse::<u32>().ok()?;
                    let exe = e.path().join("bin/python3");
                    exe.exists().then_some((patch, exe))
                })
                .collect();
            versions.sort();
            let (patch, exe) = versions.pop().unwrap_or_else(|| {
                panic!(
                    "CPython 3.{minor} is not installed under {}/versions",
                    root.display()
                )
            });
            out.push((format!("3.{minor}.{patch}"), exe));
        }
        out
    })
}

/// An interpreter's full version (`3.14.10`), asked of it.
fn version_of(python: &Path) -> String {
    let out = std::process::Command::new(python)
        .args(["-c", "import platform; print(platform.python_version())"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    let v = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        out.status.success() && v.starts_with("3."),
        "{} is not a CPython 3 interpreter",
        python.display()
    );
    v
}

/// Run `capture(python, dir)` for every interpreter side by side, each in a fresh directory
/// (for captures too slow to take one after another): (version, directory) in order.
pub fn on_every_python_at_once(
    capture: impl Fn(&Path, &Path) + Sync,
) -> Vec<(&'static str, tempfile::TempDir)> {
    let dirs: Vec<tempfile::TempDir> = pythons()
        .iter()
        .map(|_| tempfile::tempdir().unwrap())
        .collect();
    std::thread::scope(|s| {
        for ((_, python), dir) in pythons().iter().zip(&dirs) {
            let capture = &capture;
            s.spawn(move || capture(python, dir.path()));
        }
    });
    pythons()
        .iter()
        .map(|(v, _)| v.as_str())
        .zip(dirs)
        .collect()
}

/// Run a workload script with an interpreter; panics with its stderr on failure.
pub fn run_python(python: &Path, script: &str, args: &[&Path], env: &[(&str, &str)]) {
    let mut cmd = std::process::Command::new(python);
    cmd.arg(repo().join("tests/py").join(script))
        .arg(agent_dir());
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.env_remove("PYTHONMALLOC").env_remove("PYTHONDEVMODE");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run python");
    assert!(
        out.status.success(),
        "{} {script} failed:\n{}",
        python.display(),
        String::from_utf8_lossy(&out.stderr)
    );
}

pub fn read_json(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).expect("read json")).expect("parse json")
}

/// The count of a type in a summary's rows (0 when absent).
pub fn row_count(summary: &serde_json::Value, key: &str) -> u64 {
    summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["key"] == key)
        .map(|r| r["count"].as_u64().unwrap())
        .unwrap_or(0)
}

/// A small valid snapshot written by hand (known answers: 2 types, 4 objects).
pub const TINY: &str = r#"{"k":"header","format":"pymem-snapshot","version":1,"python":{"version":"3.11.7","implementation":"cpython"},"allocator":{"name":"malloc"},"pid":1,"argv":["x.py"],"time":0,"recorded":{"pools":false}}
{"k":"type","id":0,"a":100,"name":"dict","module":"builtins","flags":0,"basicsize":64}
{"k":"o","a":4096,"t":0,"s":232,"rc":1,"r":[4160,4224],"l":["['a']","['b']"],"n":2}
{"k":"type","id":1,"a":200,"name":"shop.Item","module":"shop","flags":0,"basicsize":16}
{"k":"o","a":4160,"t":1,"s":48,"rc":1,"r":[4288]}
{"k":"o","a":4224,"t":1,"s":48,"rc":2,"r":[4288]}
{"k":"o","a":4288,"t":0,"s":64,"rc":2,"r":[]}
{"k":"root","a":4096,"kind":"module","name":"shop"}
{"k":"end","objects":4,"refs":4,"types":2}
"#;

pub fn write_tmp(dir: &Path, name: &str, content: &[u8]) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

/// A child process killed and reaped when the test ends, pass or fail (also on a panic).
pub struct Reaper(pub std::process::Child);

impl Reaper {
    pub fn spawn(cmd: &mut std::process::Command) -> Reaper {
        Reaper(cmd.spawn().expect("start a process"))
    }

    pub fn pid(&self) -> u32 {
        self.0.id()
    }
}

impl Drop for Reaper {
    fn drop(&mut self) {
        if matches!(self.0.try_wait(), Ok(None)) {
            let _ = self.0.kill();
        }
        let _ = self.0.wait();
    }
}

/// Wait until the main thread of `pid` is blocked in read(2) (a workload that announced a
/// pause may not have reached its `os.read` yet, and the objects of its announcement would
/// still be alive): polls /proc/PID/syscall, whose first field is the syscall number.
pub fn wait_until_blocked_in_read(pid: &str) {
    let start = std::time::Instant::now();
    loop {
        let now = std::fs::read_to_string(format!("/proc/{pid}/syscall")).unwrap_or_default();
        // x86-64: read is syscall 0.
        if now.split_whitespace().next() == Some("0") {
            return;
        }
        assert!(
            start.elapsed() < std::time::Duration::from_secs(30),
            "process {pid} never blocked in read ({now:?})"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
}

/// Let a workload paused in os.read(FD) go on: write one byte to that pipe.
pub fn release_pause(pid: &str, fd: &str) {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .write(true)
        .open(format!("/proc/{pid}/fd/{fd}"))
        .unwrap()
        .write_all(b"d")
        .unwrap();
}

/// Packages from PyPI for one interpreter, in `target/pydeps/NAME-VERSION` (wheels only,
/// installed by `.ci/run` first, and tried again here until they are there): the directory
/// once every module in `modules` is in it, or `None` where PyPI has no wheel of one of
/// `packages` for this version.
pub fn pydeps(
    name: &str,
    version: &str,
    python: &Path,
    modules: &[&str],
    packages: &[&str],
) -> Option<PathBuf> {
    let dir = repo()
        .join("target/pydeps")
        .join(format!("{name}-{version}"));
    if modules.iter().all(|m| dir.join(m).exists()) {
        return Some(dir);
    }
    let out = std::process::Command::new(repo().join("tests/py/install-deps.sh"))
        .arg(python)
        .arg(&dir)
        .arg("--only-binary=:all:")
        .args(packages)
        .output()
        .expect("run tests/py/install-deps.sh");
    out.status.success().then_some(dir)
}

/// Run `tests/py/SCRIPT AGENT_DIR DIR wait` (a workload that writes into DIR, prints its pid
/// and waits for a line on stdin), read it from outside into `out` (`pymem attach`) while
/// it waits, then let it end.
pub fn attach_while_waiting(python: &Path, script: &str, dir: &Path, out: &Path) {
    use std::io::{BufRead, BufReader, Write};
    use std::process::{Command, Stdio};
    let mut cmd = Command::new(python);
    cmd.arg(repo().join("tests/py").join(script))
        .arg(agent_dir())
        .arg(dir)
        .arg("wait")
        .env_remove("PYTHONMALLOC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped());
    let mut child = Reaper::spawn(&mut cmd);
    let pid = BufReader::new(child.0.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    wait_until_blocked_in_read(&pid);
    pymem_ok(&["attach", &pid, "-o", out.to_str().unwrap()]);
    let _ = child.0.stdin.take().unwrap().write_all(b"\n");
    let _ = child.0.wait();
}
