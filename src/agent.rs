//! The capture agent: the stdlib-only Python package `pymem_agent` (python/pymem_agent/),
//! embedded in the binary. It is written out as the package (`pymem agent --write`, and for
//! `pymem run`, which imports it), or joined into one file (`pymem agent --print`, and for
//! `pymem attach --method inject`, which runs it as a module object of its own that never
//! enters the target's `sys.modules`: a package's relative imports would need it there).

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Name of the package (and of the one-file form, with `.py`).
pub const PACKAGE: &str = "pymem_agent";

macro_rules! module {
    ($file:literal) => {
        (
            $file,
            include_str!(concat!("../python/pymem_agent/", $file)),
        )
    };
}

/// The package's files, in the order each builds on the ones before: the order the one-file
/// form joins them in. `__main__.py` is the package's alone (it runs only under `-m`).
pub const MODULES: &[(&str, &str)] = &[
    module!("__init__.py"),
    module!("_facts.py"),
    module!("_base.py"),
    module!("_memory.py"),
    module!("_allocator.py"),
    module!("_process.py"),
    module!("_support.py"),
    module!("_buffers.py"),
    module!("_kinds.py"),
    module!("_names.py"),
    module!("_labels.py"),
    module!("_types.py"),
    module!("_numpy.py"),
    module!("_roots.py"),
    module!("_walk.py"),
    module!("_traced.py"),
    module!("_capture.py"),
    module!("_arming.py"),
    module!("pytest_plugin.py"),
    module!("__main__.py"),
];

/// Files of the package that the one-file form leaves out.
const PACKAGE_ONLY: &[&str] = &["__main__.py"];

/// The agent as one module: the package's modules joined in order, each without its
/// imports of sibling modules (`from .x import ...`), whose names the joined file defines
/// itself. Deterministic: the same binary always gives the same bytes.
pub fn single_file() -> String {
    let mut out = format!(
        "# {PACKAGE} {}, joined into one file by `pymem agent --print` from the package's \
         modules\n# (python/{PACKAGE}/ in pymem's sources): edit those, not this.\n",
        env!("CARGO_PKG_VERSION")
    );
    for (file, source) in MODULES {
        if PACKAGE_ONLY.contains(file) {
            continue;
        }
        out.push_str(&format!("\n# ---- {file} ----\n"));
        out.push_str(&without_sibling_imports(source));
    }
    out
}

/// `source` without its `from .module import ...` statements (one line, or parenthesised
/// over several).
fn without_sibling_imports(source: &str) -> String {
    let mut out = String::with_capacity(source.len());
    let mut in_import = false;
    for line in source.split_inclusive('\n') {
        if in_import {
            in_import = !line.trim_end().ends_with(')');
            continue;
        }
        if line.starts_with("from .") {
            in_import = line.trim_end().ends_with('(');
            continue;
        }
        out.push_str(line);
    }
    out
}

/// Write the package into `dir` (created if needed) as `dir/pymem_agent/`, which
/// `import pymem_agent` then finds with `dir` on `sys.path`; returns the package's path.
pub fn write_package(dir: &Path) -> Result<PathBuf> {
    let package = dir.join(PACKAGE);
    create_dir(&package)?;
    for (file, source) in MODULES {
        write(&package.join(file), source)?;
    }
    Ok(package)
}

/// Write the one-file form into `dir` (created if needed) as `dir/pymem_agent.py`; returns
/// its path.
pub fn write_single_file(dir: &Path) -> Result<PathBuf> {
    create_dir(dir)?;
    let path = dir.join(format!("{PACKAGE}.py"));
    write(&path, &single_file())?;
    Ok(path)
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Io {
        path: dir.to_path_buf(),
        source,
    })
}

fn write(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every file of the package is embedded (a module added to python/pymem_agent/ but not
    /// to MODULES would be missing from what pymem writes and injects), and nothing else.
    #[test]
    fn every_file_of_the_package_is_embedded() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("python")
            .join(PACKAGE);
        let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".py"))
            .collect();
        on_disk.sort();
        let mut embedded: Vec<String> = MODULES.iter().map(|(f, _)| f.to_string()).collect();
        embedded.sort();
        assert_eq!(on_disk, embedded);
        for (file, source) in MODULES {
            assert_eq!(
                std::fs::read_to_string(dir.join(file)).unwrap(),
                *source,
                "{file}"
            );
        }
    }

    #[test]
    fn the_agents_version_is_the_crates() {
        let init = MODULES[0].1;
        let line = format!("__version__ = \"{}\"\n", env!("CARGO_PKG_VERSION"));
        assert!(
            init.contains(&line),
            "python/pymem_agent/__init__.py must say {line:?} (the version in Cargo.toml)"
        );
    }

    #[test]
    fn the_single_file_keeps_no_sibling_import() {
        let text = single_file();
        assert!(!text.lines().any(|l| l.starts_with("from .")));
        assert!(text.contains("def dump(") && text.contains("def _attach("));
        assert!(
            !text.contains("def main(argv)"),
            "__main__.py is the package's alone"
        );
        let source = "import os\nfrom ._a import x\nfrom ._b import (\n    y,\n    z,\n)\nq = 1\n";
        assert_eq!(without_sibling_imports(source), "import os\nq = 1\n");
    }
}
