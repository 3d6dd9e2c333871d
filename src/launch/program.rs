//! Which interpreter runs the program `pymem run` is given, and with what arguments: a
//! script, `-m module`, or a command found on PATH as a shell finds it (a console script
//! such as `flask`, `gunicorn` or `celery`), which runs under the interpreter its shebang
//! names. Without `--python`: that interpreter, else the active virtual environment's, else
//! `python3`.

use pymem::{Error, Result};
use std::path::{Path, PathBuf};

/// The interpreter and the program's arguments (a script path first, or `-m module`).
#[derive(Debug, PartialEq, Eq)]
pub struct Resolved {
    pub python: String,
    pub program: Vec<String>,
}

/// The interpreter when neither `--python` nor a shebang names one.
fn default_python() -> String {
    match std::env::var_os("VIRTUAL_ENV") {
        Some(venv) if Path::new(&venv).join("bin/python").is_file() => {
            Path::new(&venv).join("bin/python").display().to_string()
        }
        _ => "python3".into(),
    }
}

/// An executable regular file named `name` in a PATH folder, as a shell looks it up.
fn on_path(name: &str) -> Option<PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| {
            std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
}

/// The Python interpreter a script's first line names (`#!/srv/venv/bin/python3`,
/// `#!/usr/bin/env python3.12`), if it names one.
fn shebang_python(script: &Path) -> Option<String> {
    use std::io::Read;
    let mut head = [0u8; 256];
    let n = std::fs::File::open(script).ok()?.read(&mut head).ok()?;
    let line = std::str::from_utf8(&head[..n]).ok()?.lines().next()?;
    let mut words = line.strip_prefix("#!")?.split_whitespace();
    let mut interpreter = words.next()?;
    if Path::new(interpreter)
        .file_name()
        .is_some_and(|f| f == "env")
    {
        interpreter = words.find(|w| !w.starts_with('-'))?;
    }
    let name = Path::new(interpreter).file_name()?.to_str()?;
    if !name.starts_with("python") {
        return None;
    }
    Some(match interpreter.contains('/') {
        true => interpreter.to_string(),
        false => on_path(interpreter)?.display().to_string(),
    })
}

pub fn resolve(python: Option<&str>, program: &[String]) -> Result<Resolved> {
    let chosen = |shebang: Option<String>| -> String {
        python
            .map(str::to_string)
            .or(shebang)
            .unwrap_or_else(default_python)
    };
    let Some(first) = program.first() else {
        return Err(Error::Usage(
            "give the program: pymem run -- script.py [args] (or -m module [args])".into(),
        ));
    };
    if first == "-m" || first.contains('/') || Path::new(first).is_file() {
        let shebang = match first.as_str() {
            "-m" => None,
            script => shebang_python(Path::new(script)),
        };
        return Ok(Resolved {
            python: chosen(shebang),
            program: program.to_vec(),
        });
    }
    // A bare name that is no file here: a command on PATH, as a shell runs it.
    let Some(found) = on_path(first) else {
        return Err(Error::Usage(format!(
            "cannot run {first}: no such file, and no command of that name on PATH"
        )));
    };
    let Some(shebang) = shebang_python(&found) else {
        return Err(Error::Usage(format!(
            "cannot run {first} ({}): not a Python program (its first line names no python)",
            found.display()
        )));
    };
    let mut args = vec![found.display().to_string()];
    args.extend(program[1..].iter().cloned());
    Ok(Resolved {
        python: chosen(Some(shebang)),
        program: args,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shebangs_name_their_interpreter() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, text: &str| {
            let p = dir.path().join(name);
            std::fs::write(&p, text).unwrap();
            p
        };
        let direct = write("a", "#!/srv/venv/bin/python3.12 -u\nimport x\n");
        assert_eq!(
            shebang_python(&direct).as_deref(),
            Some("/srv/venv/bin/python3.12")
        );
        let shell = write("b", "#!/bin/sh\necho\n");
        assert_eq!(shebang_python(&shell), None);
        let none = write("c", "import x\n");
        assert_eq!(shebang_python(&none), None);
        let script = write("d.py", "#!/opt/py/bin/python3\n");
        let r = resolve(None, &[script.display().to_string(), "--x".into()]).unwrap();
        assert_eq!(r.python, "/opt/py/bin/python3");
        let r = resolve(Some("py9"), &[script.display().to_string()]).unwrap();
        assert_eq!(r.python, "py9");
        let r = resolve(Some("py9"), &["-m".into(), "http.server".into()]).unwrap();
        assert_eq!(r.program, vec!["-m".to_string(), "http.server".into()]);
    }
}
