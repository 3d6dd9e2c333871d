//! The wheel, installed the way Python users install tools: with pip into a fresh venv of
//! every CPython 3.8–3.15 (the `pymem` command, `import pymem_agent`, the pytest plugin
//! loaded by its entry point with no `-p` and no `PYMEM`), and with pipx and uv as a tool.
//! The installed agent is byte for byte the one the installed binary writes and injects.
//!
//! The wheel is `PYMEM_WHEEL` (`.ci/run` builds it first), else built here by
//! `tests/py/build-wheel.sh`, which also installs maturin, pipx and uv into target/tools.

use crate::common::{agent_dir, pythons, repo};
use crate::pytest_plugin::pytest_dir;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn wheel() -> &'static Path {
    static WHEEL: OnceLock<PathBuf> = OnceLock::new();
    WHEEL.get_or_init(|| {
        if let Some(w) = std::env::var_os("PYMEM_WHEEL") {
            return PathBuf::from(w);
        }
        let out = Command::new(repo().join("tests/py/build-wheel.sh"))
            .output()
            .expect("run tests/py/build-wheel.sh");
        assert!(
            out.status.success(),
            "building the wheel failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        repo().join(String::from_utf8_lossy(&out.stdout).trim())
    })
}

fn tool(name: &str) -> PathBuf {
    wheel();
    repo().join("target/tools/bin").join(name)
}

/// A command that sees nothing of this repository: no PYTHONPATH, no PYMEM, and a PATH of
/// the system's directories only (so no `pymem` but the one installed is found). Its
/// temporary files (pip's and pipx's, which they leave behind) go to target/wheel-tmp.
fn clean(program: &Path) -> Command {
    static TMP: OnceLock<PathBuf> = OnceLock::new();
    let tmp = TMP.get_or_init(|| {
        let dir = repo().join("target/wheel-tmp");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    });
    let mut cmd = Command::new(program);
    cmd.env("TMPDIR", tmp);
    cmd.env_remove("PYTHONPATH")
        .env_remove("PYMEM")
        .env_remove("VIRTUAL_ENV")
        .env_remove("PYTHONMALLOC")
        .env_remove("PYTHONDEVMODE")
        .env("PATH", "/usr/local/bin:/usr/bin:/bin");
    cmd
}

fn ok(what: &str, out: Output) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}): {}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The files of a pymem_agent package directory, by name.
fn package_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "py"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&p).unwrap())
        })
        .collect();
    files.sort();
    files
}

/// Check one installed `pymem` (the binary and, beside it, the Python that has the agent).
fn check_installed(what: &str, bin: &Path, python: &Path, work: &Path) {
    let version = ok(
        &format!("{what}: pymem --version"),
        clean(&bin.join("pymem")).arg("--version").output().unwrap(),
    );
    assert_eq!(
        version.trim(),
        format!("pymem {}", env!("CARGO_PKG_VERSION")),
        "{what}"
    );
    // The agent that `import pymem_agent` finds is the repository's, and the one the
    // installed binary writes (and so injects): they cannot drift.
    let installed = ok(
        &format!("{what}: import pymem_agent"),
        clean(python)
            .current_dir(work)
            .args([
                "-c",
                "import os, pymem_agent; print(os.path.dirname(pymem_agent.__file__))",
            ])
            .output()
            .unwrap(),
    );
    let installed = package_files(Path::new(installed.trim()));
    let repository = package_files(&agent_dir().join("pymem_agent"));
    let names = |files: &[(String, Vec<u8>)]| -> Vec<String> {
        files.iter().map(|(n, _)| n.clone()).collect()
    };
    let differ: Vec<&String> = installed
        .iter()
        .filter(|f| !repository.contains(f))
        .map(|(n, _)| n)
        .collect();
    assert!(
        installed == repository,
        "{what}: the installed agent is not the repository's: files {:?} vs {:?}, differing {differ:?}",
        names(&installed),
        names(&repository)
    );
    let written = work.join("written");
    ok(
        &format!("{what}: pymem agent --write"),
        clean(&bin.join("pymem"))
            .arg("agent")
            .arg("--write")
            .arg(&written)
            .output()
            .unwrap(),
    );
    assert_eq!(
        installed,
        package_files(&written.join("pymem_agent")),
        "{what}: the installed agent is not the one the binary writes"
    );
    // A snapshot through the installed agent, read by the installed binary.
    let snap = work.join("heap.jsonl");
    let dumped = ok(
        &format!("{what}: pymem_agent.dump"),
        clean(python)
            .current_dir(work)
            .args([
                "-c",
                "import sys, pymem_agent\nkeep = [bytearray(100) for _ in range(5000)]\nprint(pymem_agent.dump(sys.argv[1])['objects'])",
            ])
            .arg(&snap)
            .output()
            .unwrap(),
    );
    let summary = ok(
        &format!("{what}: pymem summary"),
        clean(&bin.join("pymem"))
            .args(["summary", "--format", "json"])
            .arg(&snap)
            .output()
            .unwrap(),
    );
    let summary: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert_eq!(
        summary["total_count"].to_string(),
        dumped.trim(),
        "{what}: the summary counts the objects the agent wrote"
    );
    let arrays = summary["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["key"] == "bytearray")
        .map(|t| t["count"].as_u64().unwrap())
        .unwrap_or(0);
    assert!(arrays >= 5000, "{what}: {arrays} bytearrays");
}

/// Run `python -m pytest -q CASES` in the cases' directory: its exit code and output.
fn pytest(python: &Path, cases: &Path, basetemp: &Path, extra: &[&str]) -> (Option<i32>, String) {
    let out = clean(python)
        .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
        .args(extra)
        .arg(cases)
        .arg(format!("--basetemp={}", basetemp.display()))
        .current_dir(cases.parent().unwrap())
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[test]
fn the_wheel_installs_with_pip_on_every_cpython() {
    for (version, python) in pythons() {
        let tmp = tempfile::tempdir().unwrap();
        let venv = tmp.path().join("venv");
        ok(
            &format!("{version}: python -m venv"),
            clean(python)
                .arg("-m")
                .arg("venv")
                .arg(&venv)
                .output()
                .unwrap(),
        );
        let vpython = venv.join("bin/python");
        ok(
            &format!("{version}: pip install the wheel"),
            clean(&vpython)
                .args([
                    "-m",
                    "pip",
                    "install",
                    "--quiet",
                    "--no-index",
                    "--disable-pip-version-check",
                ])
                .arg(wheel())
                .output()
                .unwrap(),
        );
        check_installed(version, &venv.join("bin"), &vpython, tmp.path());

        let usage = ok(
            &format!("{version}: python -m pymem_agent"),
            clean(&vpython)
                .args(["-m", "pymem_agent"])
                .output()
                .unwrap(),
        );
        assert!(
            usage.starts_with(&format!("pymem_agent {} ", env!("CARGO_PKG_VERSION")))
                && usage.contains("pymem_agent.dump("),
            "{version}: {usage}"
        );

        // pytest (from target/pydeps, made visible to the venv by a .pth file) loads the
        // plugin from the wheel's entry point: no -p, no PYMEM, no pymem on PATH.
        let site = ok(
            &format!("{version}: site-packages"),
            clean(&vpython)
                .args([
                    "-c",
                    "import sysconfig; print(sysconfig.get_path('purelib'))",
                ])
                .output()
                .unwrap(),
        );
        let deps = pytest_dir(version, python);
        std::fs::write(
            Path::new(site.trim()).join("pymem-test-deps.pth"),
            format!("{}\n", deps.display()),
        )
        .unwrap();
        let cases = tmp.path().join("plugin_cases.py");
        std::fs::copy(repo().join("tests/py/plugin_cases.py"), &cases).unwrap();
        let (code, text) = pytest(&vpython, &cases, &tmp.path().join("pt"), &[]);
        assert_eq!(code, Some(1), "{version}: {text}");
        assert!(
            text.contains("1 failed, 2 passed")
                && text.contains("plugin_cases.py::test_registry_leaks")
                && text.contains("plugin_cases._seen (dict)"),
            "{version}: {text}"
        );
        // Asked for by name as well (-p pymem_agent, as without the wheel): loaded once.
        let (_, text) = pytest(
            &vpython,
            &cases,
            &tmp.path().join("pt2"),
            &["-p", "pymem_agent"],
        );
        assert!(text.contains("1 failed, 2 passed"), "{version}: {text}");
    }
}

#[test]
fn the_wheel_installs_as_a_tool_with_pipx_and_uv() {
    let (version, python) = pythons()
        .iter()
        .rev()
        .find(|(v, _)| v.starts_with("3.12") || v.starts_with("3.13"))
        .unwrap_or(&pythons()[0]);
    let tmp = tempfile::tempdir().unwrap();
    let home = tmp.path();
    ok(
        "pipx install",
        clean(&tool("pipx"))
            .env("PIPX_HOME", home.join("pipx"))
            .env("PIPX_BIN_DIR", home.join("pipx-bin"))
            .env("PIPX_MAN_DIR", home.join("pipx-man"))
            .arg("install")
            .arg("--python")
            .arg(python)
            .arg(wheel())
            .output()
            .unwrap(),
    );
    let pipx_python = home.join("pipx/venvs/pymem/bin/python");
    check_installed(
        &format!("pipx ({version})"),
        &home.join("pipx-bin"),
        &pipx_python,
        home,
    );
    let work = home.join("uv-work");
    std::fs::create_dir_all(&work).unwrap();
    ok(
        "uv tool install",
        clean(&tool("uv"))
            .env("UV_TOOL_DIR", home.join("uv-tools"))
            .env("UV_TOOL_BIN_DIR", home.join("uv-bin"))
            .env("UV_CACHE_DIR", home.join("uv-cache"))
            .env("UV_PYTHON_DOWNLOADS", "never")
            .args(["tool", "install", "--offline", "--python"])
            .arg(python)
            .arg(wheel())
            .output()
            .unwrap(),
    );
    check_installed(
        &format!("uv ({version})"),
        &home.join("uv-bin"),
        &home.join("uv-tools/pymem/bin/python"),
        &work,
    );
}
