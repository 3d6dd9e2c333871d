//! Suppressions: leak roots that are the interpreter's own bookkeeping (import machinery,
//! linecache, typing and re caches, warning registries, test runners, pymem's agent), plus
//! the user's `--ignore` patterns and suppressions files.
//!
//! A pattern is a wildcard match (`*` any run of characters, `?` one character; nothing else
//! is special, so `['key']` in a path needs no escaping) against the leak root's path
//! expression, e.g. `shop.cache._entries`, or against its frame for frame-local roots.

use crate::error::{Error, Result};
use std::path::Path;
use wildmatch::WildMatch;

/// Path patterns of interpreter and tooling state that legitimately grows while a program
/// warms up, or that no user can act on.
pub const BUILTIN: &[&str] = &[
    "sys.*",
    "sys",
    "<*sys.modules*",
    "linecache.*",
    "re.*",
    "sre_compile.*",
    "sre_parse.*",
    "typing.*",
    "importlib.*",
    "importlib",
    "_frozen_importlib*",
    "zipimport.*",
    "encodings.*",
    "codecs.*",
    "abc.*",
    "_abc*",
    "inspect.*",
    "tokenize.*",
    "copyreg.*",
    "warnings.*",
    "*.__warningregistry__*",
    "functools.*",
    "_struct*",
    "struct.*",
    "tracemalloc.*",
    "dataclasses.*",
    "_pytest*",
    "pytest*",
    "pluggy*",
    "unittest.*",
    "*/_pytest/*",
    "*/pluggy/*",
    // The iterator of a loop that is running while the snapshot is taken (`for i, x in
    // enumerate(...)` around the capture) sits on its frame's value stack, which no capture
    // records: it is held from outside, and new in every snapshot.
    "<*iterator 0x* held from outside>*",
    "<enumerate 0x* held from outside>*",
    "<zip 0x* held from outside>*",
    "<map 0x* held from outside>*",
    "<filter 0x* held from outside>*",
    "<reversed 0x* held from outside>*",
    "<itertools.* 0x* held from outside>*",
];

/// What the capture itself holds (the in-app agent, the pytest plugin): never a leak root of
/// the program's, whatever the options.
const CAPTURE_OWN: &[&str] = &["pymem_agent*", "*pymem_agent.py*", "*/pymem_agent/*"];

/// The origin of the built-in patterns.
const BUILTIN_ORIGIN: &str = "builtin";

/// One suppression pattern and where it came from.
#[derive(Debug, Clone)]
pub struct Pattern {
    pub text: String,
    /// `builtin`, `--ignore` or `FILE:LINE`.
    pub origin: String,
    matcher: WildMatch,
}

impl Pattern {
    pub fn new(text: &str, origin: &str) -> Self {
        Pattern {
            text: text.to_string(),
            origin: origin.to_string(),
            matcher: WildMatch::new(text),
        }
    }

    /// One of pymem's own patterns (interpreter noise), not the user's.
    pub fn is_builtin(&self) -> bool {
        self.origin == BUILTIN_ORIGIN
    }

    pub fn matches(&self, subject: &str) -> bool {
        self.matcher.matches(subject)
    }
}

/// The patterns in force.
#[derive(Debug, Clone, Default)]
pub struct Suppressions {
    pub patterns: Vec<Pattern>,
    /// [`CAPTURE_OWN`], in force always.
    capture_own: Vec<Pattern>,
}

impl Suppressions {
    /// The built-in list (unless `builtin` is false) plus the user's patterns.
    pub fn new(builtin: bool, ignore: &[String]) -> Self {
        let mut patterns: Vec<Pattern> = Vec::new();
        if builtin {
            patterns.extend(BUILTIN.iter().map(|p| Pattern::new(p, BUILTIN_ORIGIN)));
        }
        patterns.extend(ignore.iter().map(|p| Pattern::new(p, "--ignore")));
        let capture_own = CAPTURE_OWN
            .iter()
            .map(|p| Pattern::new(p, BUILTIN_ORIGIN))
            .collect();
        Suppressions {
            patterns,
            capture_own,
        }
    }

    /// Whether a root with these subjects (its path, its frame) is the capture's own.
    pub fn is_capture_own(&self, subjects: &[&str]) -> bool {
        self.capture_own
            .iter()
            .any(|p| subjects.iter().any(|s| p.matches(s)))
    }

    /// Add a suppressions file: one pattern per line; blank lines and `#` comments skipped.
    pub fn add_file(&mut self, path: &Path) -> Result<()> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::file(path, e.to_string()))?;
        for (i, line) in text.lines().enumerate() {
            let p = line.trim();
            if p.is_empty() || p.starts_with('#') {
                continue;
            }
            self.patterns
                .push(Pattern::new(p, &format!("{}:{}", path.display(), i + 1)));
        }
        Ok(())
    }

    /// The first pattern matching any of the subjects.
    pub fn find(&self, subjects: &[&str]) -> Option<usize> {
        self.find_where(subjects, |_| true)
    }

    /// The first pattern that `applies` and matches any of the subjects.
    pub fn find_where(
        &self,
        subjects: &[&str],
        applies: impl Fn(&Pattern) -> bool,
    ) -> Option<usize> {
        self.patterns
            .iter()
            .position(|p| applies(p) && subjects.iter().any(|s| p.matches(s)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_are_literal_and_stars_span_dots() {
        let s = Suppressions::new(false, &["shop._carts['u*".into()]);
        assert_eq!(s.find(&["shop._carts['u42']"]), Some(0));
        assert_eq!(s.find(&["shop._carts"]), None);
        let b = Suppressions::new(true, &[]);
        assert!(b.find(&["linecache.cache"]).is_some());
        assert!(b.find(&["re._cache"]).is_some());
        assert!(b.find(&["shop.linecache_like"]).is_none());
        assert!(b
            .find(&["thread MainThread: f (/x/_pytest/runner.py:3)"])
            .is_some());
    }
}
