//! `pymem run` starts a command found on PATH as a shell would (a console script such as
//! `flask` or `gunicorn`) under the interpreter its shebang names, on every CPython 3.8–3.15;
//! a command that is not Python, or is nowhere, is one line and exit 2.

use crate::common::{json, pymem, pythons};
use std::os::unix::fs::PermissionsExt;

#[test]
fn a_command_on_path_runs_under_its_shebang_interpreter() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        std::fs::create_dir(&bin).unwrap();
        let script = bin.join("myservice");
        std::fs::write(
            &script,
            format!(
                "#!{}\nimport sys\nheld = [object() for _ in range(int(sys.argv[1]))]\n",
                python.display()
            ),
        )
        .unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = format!(
            "{}:{}",
            bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let out_dir = dir.path().join("snaps");
        let out = pymem()
            .env("PATH", &path)
            .env_remove("VIRTUAL_ENV")
            .args([
                "run",
                "-o",
                out_dir.to_str().unwrap(),
                "--",
                "myservice",
                "2500",
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "{version}: {out:?}");
        let snap = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.extension().is_some_and(|e| e == "jsonl"))
            .unwrap_or_else(|| panic!("{version}: no snapshot"));
        let s = json(&["summary", snap.to_str().unwrap(), "--limit", "1000"]);
        assert!(
            s["snapshot"]["python"]
                .as_str()
                .unwrap()
                .contains(version.as_str()),
            "{version}: {}",
            s["snapshot"]["python"]
        );
        assert_eq!(
            s["snapshot"]["argv"][1], "2500",
            "{version}: {}",
            s["snapshot"]["argv"]
        );
    }
    for (command, says) in [
        ("ls", "not a Python program"),
        ("pymem-no-such-command", "no command of that name on PATH"),
    ] {
        let out = pymem().args(["run", "--", command]).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{command}");
        let err = String::from_utf8(out.stderr).unwrap();
        assert!(err.contains(says) && err.lines().count() == 1, "{err}");
    }
}
