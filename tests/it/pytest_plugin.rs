//! The pytest plugin inside the agent (`pytest -p pymem_agent`) on every CPython 3.8–3.15:
//! a marked test that grows a module-level dict fails with the leak root in its message,
//! a marked test in steady state passes, an unmarked test runs once.
//!
//! pytest is installed per interpreter into `target/pydeps/VERSION` (`.ci/run` does it up
//! front; a missing install is made here, by `tests/py/install-deps.sh`, the first time).

use crate::common::{agent_dir, pythons, repo};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A directory holding pytest for this interpreter.
pub fn pytest_dir(version: &str, python: &Path) -> PathBuf {
    let dir = repo().join("target/pydeps").join(version);
    if !dir.join("pytest").exists() {
        let out = Command::new(repo().join("tests/py/install-deps.sh"))
            .arg(python)
            .arg(&dir)
            .arg("pytest")
            .output()
            .expect("run tests/py/install-deps.sh");
        assert!(
            out.status.success(),
            "installing pytest for {version} failed (run .ci/run's install step): {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    dir
}

#[test]
fn marked_tests_fail_on_leaks_and_pass_in_steady_state() {
    let pymem = PathBuf::from(env!("CARGO_BIN_EXE_pymem"));
    for (version, python) in pythons() {
        let deps = pytest_dir(version, python);
        let tmp = tempfile::tempdir().unwrap();
        let out = Command::new(python)
            .args([
                "-m",
                "pytest",
                "-p",
                "pymem_agent",
                "-q",
                "-p",
                "no:cacheprovider",
            ])
            .arg(repo().join("tests/py/plugin_cases.py"))
            .arg(format!("--basetemp={}", tmp.path().join("pt").display()))
            .arg("--pymem-report-dir")
            .arg(tmp.path().join("reports"))
            .current_dir(tmp.path())
            .env("PYMEM", &pymem)
            .env(
                "PYTHONPATH",
                format!("{}:{}", agent_dir().display(), deps.display()),
            )
            .output()
            .expect("run pytest");
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(1), "{version}: {text}");
        assert!(text.contains("1 failed, 2 passed"), "{version}: {text}");
        assert!(
            text.contains("FAILED") && text.contains("plugin_cases.py::test_registry_leaks"),
            "{version}: {text}"
        );
        assert!(
            text.contains("plugin_cases._seen (dict)"),
            "the failure names the leak root: {version}: {text}"
        );
        // The failed test's snapshots are kept, under pytest's temporary directory.
        let kept = text
            .lines()
            .find_map(|l| l.strip_prefix("snapshots: "))
            .and_then(|l| l.split_whitespace().next())
            .unwrap_or_default()
            .to_string();
        assert!(
            kept.starts_with(&tmp.path().display().to_string())
                && Path::new(&kept).join("final.jsonl").exists(),
            "{version}: {kept:?}"
        );
        // --pymem-report-dir: one HTML page, for the failing test only, with the verdict.
        let reports: Vec<String> = std::fs::read_dir(tmp.path().join("reports"))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            reports.len() == 1 && reports[0].ends_with("plugin_cases.py_test_registry_leaks.html"),
            "{version}: {reports:?}"
        );
        let page = std::fs::read_to_string(tmp.path().join("reports").join(&reports[0])).unwrap();
        assert!(
            page.contains("\"passed\":false") && page.contains("plugin_cases._seen"),
            "{version}: the page holds the verdict and the leak root"
        );
        assert!(text.contains("report: "), "{version}: {text}");
        // Limits in the units pymem prints them in; the snapshots were read from outside.
        assert!(
            text.contains("max_growth ") && text.contains(" KiB > 16.0 KiB"),
            "{version}: {text}"
        );
    }
}

/// `--pymem-off` runs marked tests once as plain tests; `--pymem-capture inside` takes the
/// snapshots from inside and finds the same leak; `pymem_rounds` in pytest.ini sets the rounds.
#[test]
fn plugin_options_and_ini_keys() {
    let pymem = PathBuf::from(env!("CARGO_BIN_EXE_pymem"));
    let (version, python) = pythons().last().unwrap();
    let deps = pytest_dir(version, python);
    let run = |args: &[&str], ini: Option<&str>| -> (Option<i32>, String) {
        let tmp = tempfile::tempdir().unwrap();
        let mut cases = repo().join("tests/py/plugin_cases.py");
        if let Some(ini) = ini {
            std::fs::write(tmp.path().join("pytest.ini"), ini).unwrap();
            // A marker that leaves the rounds to the ini.
            cases = tmp.path().join("test_ini.py");
            std::fs::write(
                &cases,
                "import pytest\n_kept = []\n\n\n@pytest.mark.pymem_leaks(max_growth='1KiB')\n\
                 def test_grows():\n    _kept.append(bytearray(4096))\n",
            )
            .unwrap();
        }
        let out = Command::new(python)
            .args([
                "-m",
                "pytest",
                "-p",
                "pymem_agent",
                "-q",
                "-p",
                "no:cacheprovider",
            ])
            .arg(&cases)
            .arg(format!("--basetemp={}", tmp.path().join("pt").display()))
            .args(args)
            .current_dir(tmp.path())
            .env("PYMEM", &pymem)
            .env(
                "PYTHONPATH",
                format!("{}:{}", agent_dir().display(), deps.display()),
            )
            .output()
            .expect("run pytest");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, text) = run(&["--pymem-off"], None);
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("3 passed"), "{text}");
    let (code, text) = run(&["--pymem-capture", "inside"], None);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("plugin_cases._seen (dict)"), "{text}");
    let (code, text) = run(
        &[],
        Some("[pytest]\npymem_rounds = 7\npymem_capture = inside\n"),
    );
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("test_ini._kept (list)") && text.contains("entries [5, 12, 19]"),
        "{text}"
    );
    let (code, text) = run(&["--pymem-capture", "sideways"], None);
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("is not auto, outside or inside"), "{text}");
}
