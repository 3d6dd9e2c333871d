//! Where a snapshot's index lives, and what ties it to the snapshot.
//!
//! Beside the snapshot (`heap.jsonl` → `heap.jsonl.pmi`) when that folder is writable, else
//! in the user's cache folder (`$XDG_CACHE_HOME/pymem/`, by default `~/.cache/pymem/`)
//! under a name made of a hash of the snapshot's absolute path and its file name, so two
//! snapshots never share one. An index is written to a temporary file in its folder and
//! renamed into place, so a reader sees a whole index or none.

use super::file::{open_regular, Identity, Writer};
use std::io::{Read, Seek, SeekFrom};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use xxhash_rust::xxh3::Xxh3;

/// The extension an index adds to its snapshot's name.
pub const EXTENSION: &str = "pmi";
/// Bytes at each end of a snapshot that its identity hashes (its header and end records).
const ENDS: u64 = 64 << 10;

/// Beside the snapshot.
pub fn beside(snapshot: &Path) -> PathBuf {
    let mut name = snapshot.as_os_str().to_owned();
    name.push(".");
    name.push(EXTENSION);
    PathBuf::from(name)
}

/// The user's cache folder for indexes.
pub fn cache_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME") {
        Some(d) if Path::new(&d).is_absolute() => PathBuf::from(d),
        _ => PathBuf::from(std::env::var_os("HOME")?).join(".cache"),
    };
    Some(base.join("pymem"))
}

/// In the cache folder, named for the snapshot's absolute path.
pub fn in_cache(snapshot: &Path) -> Option<PathBuf> {
    let abs = std::fs::canonicalize(snapshot).ok()?;
    let key = xxhash_rust::xxh3::xxh3_64(abs.as_os_str().as_encoded_bytes());
    Some(cache_dir()?.join(cache_name(key, snapshot)))
}

/// `HASH-NAME.pmi`, the name cut short and stripped of all but plain characters.
pub fn cache_name(key: u64, snapshot: &Path) -> String {
    let name: String = snapshot
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
        .chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .take(64)
        .collect();
    format!("{key:016x}-{name}.{EXTENSION}")
}

/// The snapshot file's identity now: size, modification time, and a hash of its ends.
pub fn identity(snapshot: &Path) -> std::io::Result<Identity> {
    let mut file = open_regular(snapshot).map_err(std::io::Error::other)?;
    let meta = file.metadata()?;
    let size = meta.len();
    let mut hash = Xxh3::new();
    let mut buf = vec![0u8; size.min(ENDS) as usize];
    file.read_exact(&mut buf)?;
    hash.update(&buf);
    if size > ENDS {
        let tail = size.min(ENDS);
        file.seek(SeekFrom::Start(size - tail))?;
        buf.resize(tail as usize, 0);
        file.read_exact(&mut buf)?;
        hash.update(&buf);
    }
    Ok(Identity {
        size,
        mtime_s: meta.mtime(),
        mtime_ns: meta.mtime_nsec() as u32,
        ends_hash: hash.digest(),
    })
}

/// Write an index atomically at `target`, creating a missing cache folder (private to
/// the user). Fails when the folder is not writable.
pub fn write(target: &Path, writer: &Writer, identity: &Identity) -> std::io::Result<()> {
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    if Some(&dir) == cache_dir().as_ref() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&dir)?;
    }
    let mut tmp = tempfile::Builder::new()
        .prefix(".pymem-index-")
        .tempfile_in(&dir)?;
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 20, tmp.as_file_mut());
        writer.write_to(identity, &mut out)?;
        std::io::Write::flush(&mut out)?;
    }
    tmp.persist(target).map_err(|e| e.error)?;
    Ok(())
}
