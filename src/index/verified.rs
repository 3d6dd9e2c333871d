//! Which index files this user's pymem has already checked in full, so that re-opening an
//! unchanged one costs what reading the pages a question needs costs, not a pass over
//! every byte.
//!
//! Checking an index (every section's checksum, every id against the object count) reads
//! all of it: 0.2-0.3 s for 10M objects, most of a question about one object. Once a file
//! has passed, a stamp named for its state is left in `$XDG_CACHE_HOME/pymem/verified/`:
//! its device and inode, size, modification and status-change times to the nanosecond, and
//! the checksum of its head and table (which holds every section's checksum). Any write to
//! the file changes its status-change time, which no unprivileged user can set; a file
//! replaced by another gets a new inode. A stamp is only left for a file unchanged for a
//! second or more, so that a write in the same tick of a coarse file-system clock cannot
//! pass for the state that was checked. No stamp (no cache folder, a file changed since):
//! the index is checked in full, as always.

use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// How long a file must have stayed unchanged before its state is stamped.
const SETTLED: Duration = Duration::from_secs(1);

/// The state of an open index file, and whether it was stamped as checked.
#[derive(Debug, Clone, Copy)]
pub struct Stamp {
    key: u64,
    /// The file had not changed for [`SETTLED`] when opened.
    settled: bool,
}

impl Stamp {
    /// The stamp of the file behind `meta` (taken from the open descriptor) whose head and
    /// table have checksum `head_sum`.
    pub fn of(meta: &std::fs::Metadata, head_sum: u64) -> Stamp {
        let fields = [
            meta.dev(),
            meta.ino(),
            meta.size(),
            meta.mtime() as u64,
            meta.mtime_nsec() as u64,
            meta.ctime() as u64,
            meta.ctime_nsec() as u64,
            head_sum,
            super::file::build_key(),
        ];
        let changed = SystemTime::UNIX_EPOCH
            + Duration::new(meta.ctime().max(0) as u64, meta.ctime_nsec() as u32);
        let settled = SystemTime::now()
            .duration_since(changed)
            .is_ok_and(|age| age >= SETTLED);
        Stamp {
            key: xxhash_rust::xxh3::xxh3_64(bytemuck::cast_slice(&fields)),
            settled,
        }
    }

    fn path(&self) -> Option<PathBuf> {
        Some(
            super::place::cache_dir()?
                .join("verified")
                .join(format!("{:016x}", self.key)),
        )
    }

    /// Whether this state of the file was checked in full before.
    pub fn checked_before(&self) -> bool {
        self.settled
            && self
                .path()
                .and_then(|p| std::fs::symlink_metadata(p).ok())
                .is_some_and(|m| m.is_file())
    }

    /// Remember that this state of the file passed every check. Best effort: a cache that
    /// cannot be written only means the next open checks again.
    pub fn remember(&self) {
        if !self.settled {
            return;
        }
        let Some(path) = self.path() else { return };
        let Some(dir) = path.parent() else { return };
        use std::os::unix::fs::DirBuilderExt;
        let made = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir);
        if made.is_ok() {
            let _ = std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path);
        }
    }
}
