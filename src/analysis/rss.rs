//! The RSS breakdown: what the process's resident memory was made of at capture, from what
//! the capture measured (mappings by kind, resident pages of pymalloc's arenas, the C
//! allocator's own figures) and the objects of the snapshot. Each part says whether it was
//! measured or inferred, and the parts add up to the resident memory of the mappings.

use crate::snapshot::{ProcessMemory, Snapshot};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct RssPart {
    /// `pymalloc_arenas`, `c_heap`, `thread_stacks`, `files`, `other_anonymous`.
    pub part: &'static str,
    pub bytes: u64,
    /// `measured` or `inferred`.
    pub how: &'static str,
}

/// The C heap as its allocator reports it (bytes of address space, not resident pages).
#[derive(Debug, Clone, Serialize)]
pub struct CHeap {
    pub allocator: String,
    /// Bytes in use: the heaps' allocated chunks plus the blocks mapped one by one.
    pub in_use: u64,
    /// Of `in_use`: Python objects and buffers the snapshot places outside pymalloc
    /// (inferred from their sizes: larger than pymalloc's largest block, or owned outside
    /// any object), and everything else C code holds.
    pub python: u64,
    pub other: u64,
    /// Free but held by the allocator in its heaps: memory the process keeps and does not
    /// use.
    pub free: u64,
    /// Of `free`: at the top of the main heap, returned by the next trim.
    pub top_releasable: u64,
    /// glibc's heaps (the main one and one per extra arena).
    pub heaps: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RssBreakdown {
    /// RSS of the process at capture.
    pub rss: u64,
    pub parts: Vec<RssPart>,
    /// The parts in all (the resident bytes of all mappings).
    pub accounted: u64,
    /// `rss` minus `accounted` (the two were read a moment apart).
    pub unexplained: i64,
    pub threads: u64,
    /// Bytes in the arenas' live blocks (from their pools), when pools were recorded.
    pub arena_live: Option<u64>,
    pub c_heap: Option<CHeap>,
    /// Why the C allocator's figures are missing, when they are.
    pub c_heap_missing: Option<String>,
}

/// Bytes of the snapshot's objects and buffers that live outside pymalloc's arenas.
pub(crate) fn python_outside_pymalloc(snap: &Snapshot) -> u64 {
    let alloc = &snap.header.allocator;
    // pymalloc serves requests up to 16 bytes times its number of size classes (512).
    let threshold = if alloc.name == "pymalloc" {
        alloc.size_classes.unwrap_or(32) as u64 * 16
    } else {
        0
    };
    let objects = snap
        .objects
        .sizes()
        .filter(|&s| s > threshold)
        .fold(0u64, u64::saturating_add);
    let buffers = snap
        .buffers
        .iter()
        .filter(|b| b.addr == 0 || b.size > threshold)
        .fold(0u64, |a, b| a.saturating_add(b.size));
    objects.saturating_add(buffers)
}

pub fn rss_breakdown(snap: &Snapshot) -> Option<RssBreakdown> {
    let m: &ProcessMemory = snap.header.memory.as_ref()?;
    let arenas = m.pymalloc_arenas.unwrap_or(0);
    let c = m.c_allocator.as_ref();
    // Blocks that glibc maps one by one are anonymous mappings of their own.
    let mmapped = c.and_then(|c| c.mmapped).unwrap_or(0);
    let other_anon = m.anonymous.saturating_add(m.kernel).saturating_sub(arenas);
    let large = mmapped.min(other_anon);
    let mut parts = Vec::new();
    if m.pymalloc_arenas.is_some() {
        parts.push(RssPart {
            part: "pymalloc_arenas",
            bytes: arenas,
            how: "measured",
        });
    }
    parts.push(RssPart {
        part: "c_heap",
        bytes: m.malloc_heaps.saturating_add(large),
        how: if c.and_then(|c| c.mmapped).is_some() {
            "measured"
        } else {
            "inferred"
        },
    });
    parts.push(RssPart {
        part: "thread_stacks",
        bytes: m.stacks,
        how: "measured",
    });
    parts.push(RssPart {
        part: "files",
        bytes: m.files,
        how: "measured",
    });
    parts.push(RssPart {
        part: "other_anonymous",
        bytes: other_anon - large,
        how: "inferred",
    });
    let accounted = parts.iter().fold(0u64, |a, p| a.saturating_add(p.bytes));
    let rss = snap.header.rss.unwrap_or(m.rss);
    let c_heap = c.and_then(|c| {
        let in_use = c.in_use?.saturating_add(c.mmapped.unwrap_or(0));
        let python = python_outside_pymalloc(snap).min(in_use);
        Some(CHeap {
            allocator: format!("{} {}", c.name, c.version.as_deref().unwrap_or(""))
                .trim()
                .to_string(),
            in_use,
            python,
            other: in_use - python,
            free: c.free.unwrap_or(0),
            top_releasable: c.top_releasable.unwrap_or(0),
            heaps: m.malloc_heap_count,
        })
    });
    let c_heap_missing = match (c, &c_heap) {
        (_, Some(_)) => None,
        (Some(c), None) => Some(
            c.why
                .clone()
                .unwrap_or_else(|| format!("no figures from the C allocator ({})", c.name)),
        ),
        (None, None) => Some("the C allocator's figures were not read".to_string()),
    };
    Some(RssBreakdown {
        rss,
        parts,
        accounted,
        unexplained: rss as i64 - accounted as i64,
        threads: m.threads,
        arena_live: snap.has_pools().then(|| {
            snap.pools
                .iter()
                .map(|p| p.used_blocks as u64 * (p.size_class as u64 + 1) * 16)
                .sum()
        }),
        c_heap,
        c_heap_missing,
    })
}
