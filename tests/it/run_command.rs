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

/// SIGTERM (`docker stop`, systemd) to `pymem run`: the at-exit snapshot is taken and the
/// program ends of SIGTERM as it would have (exit 143); a program with its own SIGTERM
/// handler keeps it, and its snapshot is the one taken as it exits.
#[test]
fn sigterm_takes_the_at_exit_snapshot() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let python = &pythons().last().unwrap().1;
    for (program, status) in [
        (
            "import time\nprint('ready', flush=True)\ntime.sleep(60)\n",
            143,
        ),
        (
            "import signal, sys, time\nsignal.signal(signal.SIGTERM, lambda *a: sys.exit(3))\n\
             print('ready', flush=True)\ntime.sleep(60)\n",
            3,
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("service.py");
        std::fs::write(&script, program).unwrap();
        let out_dir = dir.path().join("snaps");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_pymem"));
        cmd.args(["run", "--python", python.to_str().unwrap(), "-o"])
            .arg(&out_dir)
            .arg("--")
            .arg(&script)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = crate::common::Reaper::spawn(&mut cmd);
        let mut lines = BufReader::new(child.0.stdout.take().unwrap()).lines();
        assert_eq!(lines.next().unwrap().unwrap(), "ready");
        let pid = nix::unistd::Pid::from_raw(child.0.id() as i32);
        nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM).unwrap();
        let code = child.0.wait().unwrap().code();
        assert_eq!(code, Some(status), "{program}");
        let snaps: Vec<_> = std::fs::read_dir(&out_dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with("-exit.jsonl"))
            .collect();
        assert_eq!(snaps.len(), 1, "{program}: {snaps:?}");
    }
}
