//! Allocation sites: where tracemalloc saw each object allocated, numbered densely so analyses
//! can group by it like by type. By default the site is the innermost frame in the program's
//! own code (not the standard library, not an installed package, not frozen importlib), so an
//! `lru_cache` entry is charged to the line that called the cached function, not to
//! `functools.py`; `Frames::All` keeps the whole recorded stack.

use crate::snapshot::{Snapshot, Traceback};
use std::collections::HashMap;

/// Label of objects allocated while tracemalloc was not tracing (or from a free list).
pub const NOT_TRACED: &str = "<not traced>";

/// Marks a site whose recorded frames are all library code (record more frames to reach
/// the program's own: `--tracemalloc N`, `PYTHONTRACEMALLOC=N`).
pub const LIBRARY_ONLY: &str = "(no frame of your code recorded)";

/// Which frames of a traceback name an allocation site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Frames {
    /// The innermost frame in the program's own code (the innermost frame when every frame
    /// is library code).
    #[default]
    User,
    /// The whole recorded stack, innermost first, joined by ` <- `.
    All,
}

/// Whether a frame's file is library code rather than the program's own: frozen modules
/// (`<frozen importlib._bootstrap>`), installed packages (`site-packages`, `dist-packages`),
/// the standard library (`.../lib/python3.12/...`, Debian's `/usr/lib/python3/`) and
/// pymem's own agent wherever it was put.
pub fn is_library_file(file: &str) -> bool {
    if file.starts_with("<frozen ") {
        return true;
    }
    let mut previous = "";
    for part in file.split('/') {
        if part == "site-packages" || part == "dist-packages" || part == "pymem_agent" {
            return true;
        }
        let lib = previous == "lib" || previous == "lib64";
        if lib && is_python_dir(part) {
            return true;
        }
        previous = part;
    }
    false
}

/// `python3`, `python3.12`, `python3.13t`...: a folder holding a standard library.
fn is_python_dir(part: &str) -> bool {
    let Some(rest) = part.strip_prefix("python") else {
        return false;
    };
    !rest.is_empty()
        && rest
            .chars()
            .all(|c| c.is_ascii_digit() || c == '.' || c == 't' || c == 'd')
        && rest.starts_with(|c: char| c.is_ascii_digit())
}

impl Traceback {
    /// The index in `frames` of the innermost frame in the program's own code; the innermost
    /// frame when all are library code (None only for an empty traceback).
    pub fn user_frame(&self) -> Option<usize> {
        if self.frames.is_empty() {
            return None;
        }
        Some(
            self.frames
                .iter()
                .position(|(f, _)| !is_library_file(f))
                .unwrap_or(0),
        )
    }

    /// The allocation site this traceback names, as `file:line` (or the whole stack).
    pub fn site_as(&self, frames: Frames) -> String {
        match frames {
            Frames::User => match self.user_frame() {
                Some(i) if !is_library_file(&self.frames[i].0) => {
                    let (f, l) = &self.frames[i];
                    format!("{f}:{l}")
                }
                Some(_) => {
                    let (f, l) = &self.frames[0];
                    format!("{f}:{l} {LIBRARY_ONLY}")
                }
                None => "<unknown>".into(),
            },
            Frames::All if self.frames.is_empty() => "<unknown>".into(),
            Frames::All => self
                .frames
                .iter()
                .map(|(f, l)| format!("{f}:{l}"))
                .collect::<Vec<_>>()
                .join(" <- "),
        }
    }
}

pub struct Sites {
    /// Site names; index 0 is [`NOT_TRACED`].
    pub names: Vec<String>,
    /// Site index of every object.
    pub of: Vec<u32>,
}

impl Sites {
    pub fn new(snap: &Snapshot, frames: Frames) -> Self {
        let mut names = vec![NOT_TRACED.to_string()];
        let mut index: HashMap<String, u32> = HashMap::new();
        let per_traceback: Vec<u32> = snap
            .tracebacks
            .iter()
            .map(|t| {
                let site = t.site_as(frames);
                *index.entry(site.clone()).or_insert_with(|| {
                    names.push(site);
                    names.len() as u32 - 1
                })
            })
            .collect();
        let mut of = vec![0u32; snap.objects.count()];
        for &(id, t) in &snap.objects.traceback {
            if let Some(&s) = per_traceback.get(t as usize) {
                of[id.index()] = s;
            }
        }
        Sites { names, of }
    }

    pub fn name(&self, object: usize) -> &str {
        &self.names[self.of[object] as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tb(frames: &[(&str, u32)]) -> Traceback {
        Traceback {
            frames: frames.iter().map(|(f, l)| ((*f).into(), *l)).collect(),
        }
    }

    #[test]
    fn library_files() {
        for lib in [
            "<frozen importlib._bootstrap_external>",
            "/usr/lib/python3.12/functools.py",
            "/home/u/.pyenv/versions/3.13.0/lib/python3.13/json/decoder.py",
            "/srv/venv/lib/python3.11/site-packages/flask/app.py",
            "/usr/lib/python3/dist-packages/yaml/__init__.py",
            "/opt/py/lib64/python3.9/collections/__init__.py",
            "/srv/app/pymem_agent/_walk.py",
        ] {
            assert!(is_library_file(lib), "{lib}");
        }
        for own in [
            "app.py",
            "/srv/app/service/pricing.py",
            "<string>",
            "/home/u/lib/pythonic/x.py",
            "/home/u/python3.12/x.py",
            "/srv/pymem_agentx/a.py",
        ] {
            assert!(!is_library_file(own), "{own}");
        }
    }

    #[test]
    fn the_first_user_frame_names_the_site() {
        let t = tb(&[
            ("/usr/lib/python3.12/functools.py", 519),
            ("/srv/app.py", 22),
            ("/srv/venv/lib/python3.12/site-packages/flask/app.py", 880),
        ]);
        assert_eq!(t.site_as(Frames::User), "/srv/app.py:22");
        assert_eq!(
            t.site_as(Frames::All),
            "/usr/lib/python3.12/functools.py:519 <- /srv/app.py:22 <- \
             /srv/venv/lib/python3.12/site-packages/flask/app.py:880"
        );
        let only_library = tb(&[("<frozen importlib._bootstrap>", 241), ("<frozen x>", 1)]);
        assert_eq!(
            only_library.site_as(Frames::User),
            "<frozen importlib._bootstrap>:241 (no frame of your code recorded)"
        );
        assert_eq!(tb(&[]).site_as(Frames::User), "<unknown>");
    }
}
