//! The persistent index: what loading a snapshot and searching its graph produced, kept in
//! one file so that every later command on the snapshot opens it in place (memory-mapped,
//! nothing parsed but a small JSON section) instead of parsing the JSON Lines again.
//!
//! Stage 1 (written by the first command that loads the snapshot): the objects' columns
//! (address, type, size, reference count, length, references and their offsets), edge
//! labels, content hashes, owned buffers, and as JSON the header, end record, types, labels,
//! roots, arenas and pools, names, values, caches and tracebacks. Stage 2 (added by the
//! first command that needs the graph: `top`, `path`, `show`, `caches`, `leaks`, `gate`,
//! `advise`): the depth-first numbering, the dominator tree, the shortest-path tree, and
//! what follows from them in passes over every object (own and retained sizes, `top`'s
//! ranking of retainers, the garbage totals), so a re-opened index computes nothing per
//! object that a question about a few objects does not need.
//!
//! Only complete snapshots are indexed (a `--partial` one is not), and standard input only
//! when asked (`--index`). An index that does not match its snapshot (size, modification
//! time, or its first and last 64 KiB) or was written by another pymem is rebuilt; one that
//! is damaged is rebuilt with one line on stderr saying why. An index given by name in
//! place of a snapshot is opened as the snapshot; a bad one is then an error (exit 2).

mod check;
pub mod file;
pub mod place;
mod sections;
mod verified;

use crate::analysis::retention::Retention;
use crate::error::{Error, Result};
use crate::snapshot::{input::STDIN, load, LoadOptions, Loaded, Snapshot};
use file::{Identity, IndexFile, Unusable, Writer};
use std::io::Read;
use std::path::{Path, PathBuf};

/// Whether commands use indexes.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Open and write indexes (off: `--no-index`).
    pub enabled: bool,
    /// Index a snapshot read from standard input, in the cache (`--index`).
    pub index_stdin: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            enabled: true,
            index_stdin: false,
        }
    }
}

/// A snapshot opened through its index (or loaded, and indexed where it may be).
pub struct Indexed {
    pub snap: Snapshot,
    /// The index it was opened from.
    file: Option<IndexFile>,
    /// Where its index goes, and the identity it records; `None`: not indexed.
    target: Option<(Vec<PathBuf>, Identity)>,
}

impl std::ops::Deref for Indexed {
    type Target = Snapshot;
    fn deref(&self) -> &Snapshot {
        &self.snap
    }
}

/// What a command needs of a snapshot it opens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Need {
    /// These columns: from an index, only they are read and checked (a snapshot loaded from
    /// JSON has them all).
    Columns(Loaded),
    /// Every column and the graph searches (`Retention::compute` then reads them): from the
    /// index, or searched now and added to it, so it is written once.
    Searched,
}

/// Open `path` for what `need` names: through its index when one matches, else by loading
/// it, then writing its index.
pub fn open(
    path: &Path,
    load_opts: &LoadOptions,
    opts: &Options,
    need: Need,
    note: &dyn Fn(&str),
) -> Result<Indexed> {
    let opened = open_reading(path, load_opts, opts, need, note)?;
    if need == Need::Searched {
        opened.ensure_searched(note);
    }
    Ok(opened)
}

fn open_reading(
    path: &Path,
    load_opts: &LoadOptions,
    opts: &Options,
    need: Need,
    note: &dyn Fn(&str),
) -> Result<Indexed> {
    let (reads, searched) = match need {
        Need::Columns(reads) => (reads, false),
        Need::Searched => (Loaded::Everything, true),
    };
    if path.as_os_str() == STDIN {
        return open_stdin(path, load_opts, opts, searched, note);
    }
    if starts_like_index(path) {
        return open_index_itself(path, reads);
    }
    let identity = match opts.enabled {
        true => place::identity(path).ok(),
        false => None,
    };
    let Some(identity) = identity else {
        return Ok(plain(load(path, load_opts)?));
    };
    let places: Vec<PathBuf> = [Some(place::beside(path)), place::in_cache(path)]
        .into_iter()
        .flatten()
        .collect();
    for candidate in &places {
        if std::fs::symlink_metadata(candidate).is_err() {
            continue;
        }
        match try_index(candidate, path, &identity, reads) {
            Ok(Some((snap, file))) => {
                return Ok(Indexed {
                    snap,
                    file: Some(file),
                    target: Some((places.clone(), identity)),
                })
            }
            Ok(None) => {}
            Err(why) => note(&format!(
                "{}: {why}; rebuilding it from {}",
                candidate.display(),
                path.display()
            )),
        }
    }
    let snap = load(path, load_opts)?;
    let complete = snap.end.is_some() && snap.dropped_tail == 0;
    let out = Indexed {
        snap,
        file: None,
        target: complete.then_some((places, identity)),
    };
    if searched && out.target.is_some() {
        out.compute_searched();
    }
    out.store();
    Ok(out)
}

/// Build the whole index of `path` (both stages) ahead of time; returns where it went.
/// Standard input is indexed too (into the cache): asking for an index is asking.
pub fn build(path: &Path, load_opts: &LoadOptions, note: &dyn Fn(&str)) -> Result<PathBuf> {
    let asked = Options {
        enabled: true,
        index_stdin: true,
    };
    let opened = open(path, load_opts, &asked, Need::Searched, note)?;
    let Some((places, _)) = &opened.target else {
        return Err(Error::file(
            path,
            "not indexed: a snapshot without its end record, or not a regular file",
        ));
    };
    places.iter().find(|p| p.is_file()).cloned().ok_or_else(|| {
        Error::file(
            path,
            "no folder to write its index in (beside it, or the cache)",
        )
    })
}

impl Indexed {
    /// Make sure the graph searches are at hand (`Retention::compute` then reads them):
    /// from the index, or computed once and added to it. Only for a snapshot opened with
    /// every column (`Need::Searched`).
    fn ensure_searched(&self, note: &dyn Fn(&str)) {
        if self.snap.searched.get().is_some() {
            return;
        }
        debug_assert_eq!(self.snap.loaded, Loaded::Everything);
        if let Some(f) = self.file.as_ref().filter(|f| sections::has_searched(f)) {
            match sections::searched_of(f, &self.snap) {
                Ok(s) => {
                    let _ = self.snap.searched.set(s);
                    f.passed_every_check();
                    return;
                }
                Err(why) => note(&format!(
                    "the index of {}: {why}; rebuilding it",
                    self.snap.path.display()
                )),
            }
        }
        self.compute_searched();
        self.store();
    }

    fn compute_searched(&self) {
        let s = Retention::compute(&self.snap).searched();
        let _ = self.snap.searched.set(s);
    }

    /// Write the index to the first place that takes it; an index nowhere writable is
    /// simply not kept.
    fn store(&self) {
        let Some((places, identity)) = &self.target else {
            return;
        };
        if self.snap.loaded != Loaded::Everything {
            return; // opened from its index for fewer columns: nothing new to keep
        }
        let mut w = Writer::new();
        sections::snapshot_sections(&self.snap, &mut w);
        if let Some(s) = self.snap.searched.get() {
            sections::searched_sections(s, &mut w);
        }
        for p in places {
            if place::write(p, &w, identity).is_ok() {
                return;
            }
        }
    }
}

fn plain(snap: Snapshot) -> Indexed {
    Indexed {
        snap,
        file: None,
        target: None,
    }
}

/// `Ok(None)`: stale or by another version, rebuilt without a word; `Err`: damaged.
fn try_index(
    candidate: &Path,
    snapshot: &Path,
    identity: &Identity,
    reads: Loaded,
) -> std::result::Result<Option<(Snapshot, IndexFile)>, String> {
    let file = match IndexFile::open(candidate) {
        Err(e) => return Err(e.to_string()),
        Ok(Err(Unusable::OtherVersion)) => return Ok(None),
        Ok(Err(Unusable::Bad(why))) => return Err(why),
        Ok(Ok(f)) => f,
    };
    if file.identity != *identity {
        return Ok(None);
    }
    let snap = sections::snapshot_of(&file, snapshot, reads)?;
    Ok(Some((snap, file)))
}

/// Whether `path` is a regular file that begins like an index.
fn starts_like_index(path: &Path) -> bool {
    let Ok(mut f) = file::open_regular(path) else {
        return false;
    };
    let mut head = [0u8; 8];
    f.read_exact(&mut head).is_ok() && file::looks_like_index(&head)
}

/// An index named in place of its snapshot (the snapshot may be gone): no fallback.
fn open_index_itself(path: &Path, reads: Loaded) -> Result<Indexed> {
    let file = match IndexFile::open(path)? {
        Ok(f) => f,
        Err(Unusable::OtherVersion) => {
            return Err(Error::file(
                path,
                "an index written by another version of pymem; index the snapshot again",
            ))
        }
        Err(Unusable::Bad(why)) => return Err(Error::file(path, why)),
    };
    let snap = sections::snapshot_of(&file, path, reads).map_err(|why| Error::file(path, why))?;
    if reads == Loaded::Everything && sections::has_searched(&file) {
        let s = sections::searched_of(&file, &snap).map_err(|why| Error::file(path, why))?;
        let _ = snap.searched.set(s);
        file.passed_every_check();
    }
    Ok(Indexed {
        snap,
        file: Some(file),
        target: None,
    })
}

/// Standard input: indexed only when asked, in the cache, named for the capture (its
/// header and end records), and the index's name said on stderr so it can be reopened.
fn open_stdin(
    path: &Path,
    load_opts: &LoadOptions,
    opts: &Options,
    searched: bool,
    note: &dyn Fn(&str),
) -> Result<Indexed> {
    let snap = load(path, load_opts)?;
    if !(opts.enabled && opts.index_stdin) || snap.end.is_none() {
        return Ok(plain(snap));
    }
    let key = serde_json::to_vec(&(&snap.header, &snap.end)).unwrap_or_default();
    let key = xxhash_rust::xxh3::xxh3_64(&key);
    let Some(dir) = place::cache_dir() else {
        return Ok(plain(snap));
    };
    let target = dir.join(place::cache_name(key, Path::new("stdin")));
    let out = Indexed {
        snap,
        file: None,
        target: Some((vec![target.clone()], Identity::default())),
    };
    if searched {
        out.compute_searched();
    }
    out.store();
    if target.is_file() {
        note(&format!(
            "indexed standard input as {} (open it in place of the snapshot)",
            target.display()
        ));
    }
    Ok(out)
}
