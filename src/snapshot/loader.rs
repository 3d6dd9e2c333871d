//! Loading a snapshot file: memory-map (or gunzip), split at newlines, parse chunks in
//! parallel, then number objects densely in address order and resolve references.

use super::assemble::assemble;
use super::chunk::{parse_chunk, Chunk};
use super::model::*;
use super::{FORMAT_NAME, FORMAT_VERSION};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::io::Read;
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

/// The file's bytes: mapped, or decompressed into memory.
enum Bytes {
    Mapped(memmap2::Mmap),
    Owned(Vec<u8>),
}

impl std::ops::Deref for Bytes {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        match self {
            Bytes::Mapped(m) => m,
            Bytes::Owned(v) => v,
        }
    }
}

fn read_bytes(path: &Path) -> Result<Bytes> {
    let io = |source| Error::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(Error::file(path, "is a directory, not a snapshot file"));
    }
    if meta.len() == 0 {
        return Err(Error::file(path, "empty file (not a pymem snapshot)"));
    }
    // SAFETY: the map is read-only and private to this process. If another process
    // truncates the file while we read it, the kernel raises SIGBUS; snapshots are written
    // to a temporary name and renamed when complete, so a finished snapshot is not rewritten.
    let map = unsafe { memmap2::Mmap::map(&file) }.map_err(io)?;
    if map.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::with_capacity(map.len() * 6);
        flate2::read::MultiGzDecoder::new(&map[..])
            .read_to_end(&mut out)
            .map_err(|e| Error::file(path, format!("gzip data is corrupt: {e}")))?;
        if out.is_empty() {
            return Err(Error::file(path, "empty file after decompression"));
        }
        return Ok(Bytes::Owned(out));
    }
    Ok(Bytes::Mapped(map))
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
    let bytes = read_bytes(path)?;
    let data: &[u8] = &bytes;
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
        .map(|&(s, e)| memchr::memchr_iter(b'\n', &data[s..e]).count() as u64)
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
        .map(|(&(s, e), &first)| parse_chunk(&data[s..e], first))
        .collect();
    let mut chunks = Vec::with_capacity(parsed.len());
    for c in parsed {
        match c {
            Ok(c) => chunks.push(c),
            Err(e) => return Err(Error::line(path, e.line, e.message)),
        }
    }
    let header = check_header_and_end(path, &chunks, opts.partial)?;
    stage("indexing");
    assemble(path, data, header, chunks, total_lines, opts)
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
