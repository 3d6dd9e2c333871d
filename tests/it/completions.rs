//! Committed completions must match what the CLI generates (regenerate with
//! `completions/regenerate.sh`).

use crate::common::*;

#[test]
fn committed_completions_match_the_cli() {
    for (shell, file) in [
        ("bash", "pymem.bash"),
        ("zsh", "_pymem"),
        ("fish", "pymem.fish"),
    ] {
        let out = pymem().args(["completions", shell]).output().unwrap();
        assert!(out.status.success());
        let committed = std::fs::read(repo().join("completions").join(file))
            .unwrap_or_else(|_| panic!("completions/{file} is missing"));
        assert!(
            committed == out.stdout,
            "completions/{file} is stale: run completions/regenerate.sh ({shell})"
        );
    }
}

#[test]
fn agent_is_embedded_and_written() {
    // --write writes the package exactly as it is in the repository.
    let dir = tempfile::tempdir().unwrap();
    pymem()
        .args(["agent", "--write", dir.path().to_str().unwrap()])
        .assert()
        .success();
    let package = agent_dir().join("pymem_agent");
    let mut files = 0;
    for entry in std::fs::read_dir(&package).unwrap() {
        let name = entry.unwrap().file_name();
        if !name.to_string_lossy().ends_with(".py") {
            continue;
        }
        files += 1;
        assert_eq!(
            std::fs::read(dir.path().join("pymem_agent").join(&name)).unwrap(),
            std::fs::read(package.join(&name)).unwrap(),
            "{name:?}"
        );
    }
    assert!(files > 10, "the package has {files} files");
    // --print gives the one file, which imports as pymem_agent and takes a snapshot that
    // pymem reads.
    let out = pymem().args(["agent", "--print"]).output().unwrap();
    assert!(out.status.success());
    let one = tempfile::tempdir().unwrap();
    std::fs::write(one.path().join("pymem_agent.py"), &out.stdout).unwrap();
    let snap = one.path().join("heap.jsonl");
    let (_, python) = &pythons()[0];
    let ran = std::process::Command::new(python)
        .current_dir(one.path())
        .args(["-c", "import sys, pymem_agent; print(pymem_agent.__version__); pymem_agent.dump(sys.argv[1])"])
        .arg(&snap)
        .output()
        .unwrap();
    assert!(
        ran.status.success(),
        "{}",
        String::from_utf8_lossy(&ran.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&ran.stdout).trim(),
        env!("CARGO_PKG_VERSION")
    );
    pymem_ok(&[std::ffi::OsStr::new("summary"), snap.as_os_str()]);
}
