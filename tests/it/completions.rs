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
    let out = pymem().args(["agent", "--print"]).output().unwrap();
    assert!(out.status.success());
    let src = std::fs::read(agent_dir().join("pymem_agent.py")).unwrap();
    assert_eq!(out.stdout, src);
    let dir = tempfile::tempdir().unwrap();
    pymem()
        .args(["agent", "--write", dir.path().to_str().unwrap()])
        .assert()
        .success();
    assert_eq!(
        std::fs::read(dir.path().join("pymem_agent.py")).unwrap(),
        src
    );
}
