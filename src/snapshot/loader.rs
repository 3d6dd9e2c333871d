//! Loading a snapshot file: memory-map (or gunzip), split at newlines, parse chunks in
//! parallel, then number objects densely in address order and resolve references.

use super::assemble::assemble;
use super::chunk::{parse_chunk, Chunk};
use super::model::*;
use super::{FORMAT_NAME, FORMAT_VERSION};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::path::Path;

/// Target size of one parallel parsing chunk.
const CHUNK_BYTES: usize = 4 << 20;

/// How to load.
#[derive(Clone, Default)]
pub struct LoadOptions {
    /// Accept a file without its `end` line (a capture that was cut short).
    pub partial: bool,
    /// Called with a stage name as loading proceeds (for progress display).
    pub on_stage: Option<fn(&str)>,
}

/// Line-aligned chunk boundaries over `data`.
fn split_chunks(data: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    while start < data.len() {
        let mut end = (start + CHUNK_BYTES).min(data.len());
        if end < data.len() {
            end = match memchr::memchr(b'\n', &data[end..]) {
                Some(i) => end + i + 1,
                None => data.len(),
            };
        }
        out.push((start, end));
        start = end;
    }
    out
}

/// Load and validate a snapshot.
pub fn load(path: &Path, opts: &LoadOptions) -> Result<Snapshot> {
    let stage = |s: &str| {
        if let Some(f) = opts.on_stage {
            f(s)
        }
    };
    let bytes = super::input::read(path)?;
    let data: &[u8] = &bytes;
    // A UTF-8 byte-order mark (some editors and tools write one) is not part of line 1.
    let data = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    // Offsets into `data` are this much past offsets into `bytes`.
    let base = bytes.len() - data.len();
    // With --partial, a last line cut in the middle (a capture killed mid-write, a file still
    // being appended to) is dropped, and the snapshot says so.
    let (data, dropped_tail) = match (opts.partial, data.ends_with(b"\n")) {
        (true, false) => {
            let keep = memchr::memrchr(b'\n', data).map_or(0, |i| i + 1);
            (&data[..keep], (data.len() - keep) as u64)
        }
        _ => (data, 0),
    };
    if data.is_empty() {
        return Err(Error::file(path, "no whole line (not a pymem snapshot)"));
    }
    if !data.starts_with(b"{") {
        let what = if data.iter().take(512).any(|&b| b == 0) {
            "binary data"
        } else {
            "text that is not JSON"
        };
        return Err(Error::line(
            path,
            1,
            format!("not a pymem snapshot: starts with {what}"),
        ));
    }
    stage("parsing");
    let bounds = split_chunks(data);
    let newlines: Vec<u64> = bounds
        .par_iter()
        .map(|&(s, e)| {
            let n = memchr::memchr_iter(b'\n', &data[s..e]).count() as u64;
            bytes.release(base + s..base + e);
            n
        })
        .collect();
    let mut first_lines = Vec::with_capacity(bounds.len());
    let mut line = 1u64;
    for n in &newlines {
        first_lines.push(line);
        line += n;
    }
    let total_lines = line - u64::from(data.ends_with(b"\n"));
    let parsed: Vec<std::result::Result<Chunk, _>> = bounds
        .par_iter()
        .zip(first_lines.par_iter())
        .map(|(&(s, e), &first)| {
            let chunk = parse_chunk(&data[s..e], first);
            bytes.release(base + s..base + e);
            chunk
        })
        .collect();
    let mut chunks = Vec::with_capacity(parsed.len());
    for c in parsed {
        match c {
            Ok(c) => chunks.push(c),
            Err(e) if e.line == 1 && !e.message.starts_with("not a pymem snapshot") => {
                return Err(Error::line(
                    path,
                    1,
                    format!("not a pymem snapshot: {}", e.message),
                ))
            }
            Err(e) if e.line == total_lines && !data.ends_with(b"\n") => {
                return Err(Error::line(
                    path,
                    e.line,
                    "the last line is cut short (a capture killed mid-write, or a file still being written); --partial loads the lines before it",
                ))
            }
            Err(e) => return Err(Error::line(path, e.line, e.message)),
        }
    }
    let header = check_header_and_end(path, &chunks, opts.partial)?;
    stage("indexing");
    let mut snap = assemble(path, data, header, chunks, total_lines, opts)?;
    check_totals(path, &snap)?;
    super::geometry::check_geometry(path, &snap)?;
    snap.dropped_tail = dropped_tail;
    Ok(snap)
}

/// The most bytes a snapshot's objects and buffers may add up to (64 PiB): every sum the
/// analyses make is a part of this total, so none can overflow (signed deltas included).
pub(crate) const MAX_TOTAL: u64 = 1 << 56;

/// Refuse sizes that add up to more than any heap, once, before any analysis sums them.
pub(crate) fn check_totals(path: &Path, snap: &Snapshot) -> Result<()> {
    let mut total: u64 = 0;
    for s in snap
        .objects
        .sizes()
        .chain(snap.buffers.iter().map(|b| b.size))
    {
        total = total.saturating_add(s);
    }
    if total > MAX_TOTAL {
        return Err(Error::file(
            path,
            format!("object and buffer sizes add up to {total} bytes, more than any heap (at most 2^56)"),
        ));
    }
    if let Some(m) = &snap.header.memory {
        let c = m.c_allocator.as_ref();
        let figures = [
            m.rss,
            m.files,
            m.stacks,
            m.malloc_heaps,
            m.anonymous,
            m.kernel,
        ]
        .into_iter()
        .chain(m.pymalloc_arenas)
        .chain(c.and_then(|c| c.arena))
        .chain(c.and_then(|c| c.mmapped))
        .chain(c.and_then(|c| c.in_use))
        .chain(c.and_then(|c| c.free));
        if let Some(f) = figures.into_iter().find(|&f| f > MAX_TOTAL) {
            return Err(Error::line(
                path,
                1,
                format!("memory figure {f} bytes is more than any process has (at most 2^56)"),
            ));
        }
    }
    if let Some(rss) = snap.header.rss.filter(|&r| r > MAX_TOTAL) {
        return Err(Error::line(
            path,
            1,
            format!("rss {rss} bytes is more than any process has (at most 2^56)"),
        ));
    }
    Ok(())
}

fn check_header_and_end(path: &Path, chunks: &[Chunk], partial: bool) -> Result<Header> {
    let header = match chunks.first().and_then(|c| c.header.as_ref()) {
        Some((1, h)) => h.clone(),
        _ => {
            return Err(Error::line(
                path,
                1,
                "not a pymem snapshot: the first line is not a header record",
            ))
        }
    };
    if header.format != FORMAT_NAME {
        return Err(Error::line(
            path,
            1,
            format!(
                "not a pymem snapshot: format is {:?}, expected {FORMAT_NAME:?}",
                header.format
            ),
        ));
    }
    if header.version > FORMAT_VERSION || header.version == 0 {
        return Err(Error::line(
            path,
            1,
            format!(
                "snapshot format version {} is not supported (this pymem reads version {FORMAT_VERSION}); upgrade pymem",
                header.version
            ),
        ));
    }
    for c in chunks {
        if let Some((line, _)) = &c.header {
            if *line != 1 {
                return Err(Error::line(path, *line, "a second header record"));
            }
        }
    }
    let ends: Vec<u64> = chunks
        .iter()
        .filter_map(|c| c.end.as_ref().map(|(l, _)| *l))
        .collect();
    let last = chunks.iter().rev().find_map(|c| c.last_kind.as_ref());
    match last {
        Some((_, k)) if k == "end" && ends.len() == 1 => {}
        Some((line, _)) if ends.len() > 1 || (ends.len() == 1 && ends[0] != *line) => {
            return Err(Error::line(path, ends[0], "records after the end record"));
        }
        _ if !partial => return Err(Error::file(
            path,
            "truncated: no end record (the capture was cut short; --partial loads what is there)",
        )),
        _ => {}
    }
    Ok(header)
}

pub(super) fn collect_types(path: &Path, chunks: &[Chunk]) -> Result<Vec<TypeInfo>> {
    let mut slots: Vec<Option<TypeInfo>> = Vec::new();
    for c in chunks {
        for (line, id, info) in &c.types {
            let i = *id as usize;
            if i >= 1 << 24 {
                return Err(Error::line(
                    path,
                    *line,
                    format!("type id {id} is out of range"),
                ));
            }
            if slots.len() <= i {
                slots.resize(i + 1, None);
            }
            if slots[i].is_some() {
                return Err(Error::line(
                    path,
                    *line,
                    format!("type id {id} declared twice"),
                ));
            }
            slots[i] = Some(info.clone());
        }
    }
    slots
        .into_iter()
        .enumerate()
        .map(|(i, t)| t.ok_or_else(|| Error::file(path, format!("type id {i} is never declared"))))
        .collect()
}
