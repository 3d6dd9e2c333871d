//! The capture agent, a stdlib-only Python module embedded in the binary.

use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// Source of `pymem_agent.py`.
pub const SOURCE: &str = include_str!("agent/pymem_agent.py");

/// File name the agent is written under.
pub const FILE_NAME: &str = "pymem_agent.py";

/// Write the agent into `dir` (created if needed); returns the file's path.
pub fn write_to(dir: &Path) -> Result<PathBuf> {
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Io { path, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir))?;
    let path = dir.join(FILE_NAME);
    std::fs::write(&path, SOURCE).map_err(io(&path))?;
    Ok(path)
}
