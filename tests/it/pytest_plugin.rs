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
    }
}
