//! The C-heap finding: glibc holds much more free memory than it uses (its figures at
//! capture), how much, in how many heaps. `frag` reports it beside the arenas.

use crate::snapshot::Snapshot;
use serde::Serialize;

/// Free memory the C allocator holds beyond what it uses: bytes the process could give back.
#[derive(Debug, Clone, Serialize)]
pub struct CHeapFinding {
    pub allocator: String,
    /// Free but held in the heaps.
    pub free_bytes: u64,
    /// In use in the heaps (blocks mapped one by one excluded: they never fragment).
    pub in_use_bytes: u64,
    pub heaps: u64,
    /// Of the free bytes, at the top of the main heap (trimmed first).
    pub top_releasable_bytes: u64,
}

/// Free C-heap memory worth a finding: more than the heaps use, and at least this much.
const C_HEAP_FREE_MIN: u64 = 4 << 20;

/// The C-heap finding, when the snapshot has the allocator's figures and they call for one.
pub fn finding(snap: &Snapshot) -> Option<CHeapFinding> {
    let m = snap.header.memory.as_ref()?;
    let c = m.c_allocator.as_ref()?;
    let (free, in_use) = (c.free?, c.in_use?);
    (free >= C_HEAP_FREE_MIN && free > in_use).then(|| CHeapFinding {
        allocator: format!("{} {}", c.name, c.version.as_deref().unwrap_or(""))
            .trim()
            .to_string(),
        free_bytes: free,
        in_use_bytes: in_use,
        heaps: m.malloc_heap_count,
        top_releasable_bytes: c.top_releasable.unwrap_or(0),
    })
}
