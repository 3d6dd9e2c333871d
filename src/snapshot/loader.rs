//! Loading a snapshot file: memory-map (or gunzip), split at newlines, parse chunks in
//! parallel, then number objects densely in address order and resolve references.

use super::addr_index::AddrIndex;
use super::chunk::{own, parse_chunk, Chunk};
use super::model::*;
use super::{FORMAT_NAME, FORMAT_VERSION};
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Target size of one parallel parsing chunk.
const CHUNK_BYTES: usize = 4 << 20;
/// Objects per block when resolving references in parallel.
const RESOLVE_BLOCK: usize = 1 << 16;

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

/// References of a block of objects, resolved to dense ids.
struct ResolvedBlock {
    targets: Vec<ObjId>,
    /// End offset (within `targets`) of each object's references.
    ends: Vec<u64>,
    /// (edge offset within `targets`, label id)
    labels: Vec<(u64, u32)>,
    dangling: u64,
}

/// Merge chunks, number objects by address, resolve references, derive roots.
fn assemble(
    path: &Path,
    data: &[u8],
    header: Header,
    chunks: Vec<Chunk>,
    lines: u64,
    opts: &LoadOptions,
) -> Result<Snapshot> {
    let end = chunks
        .iter()
        .find_map(|c| c.end.as_ref().map(|(_, e)| e.clone()));
    let types = collect_types(path, &chunks)?;
    let n: usize = chunks.iter().map(|c| c.object_count()).sum();
    if n >= u32::MAX as usize {
        return Err(Error::file(path, "more than 4 billion objects"));
    }
    if let Some(e) = &end {
        if !opts.partial && e.objects != n as u64 {
            return Err(Error::file(
                path,
                format!("the end record counts {} objects but the file holds {n} (lines lost or duplicated?)", e.objects),
            ));
        }
    }
    // File-order index of each chunk's first object.
    let mut offsets = Vec::with_capacity(chunks.len());
    let mut acc = 0usize;
    for c in &chunks {
        offsets.push(acc);
        acc += c.object_count();
    }
    // Address order: perm[new] = file index.
    let file_addr: Vec<u64> = chunks
        .iter()
        .flat_map(|c| c.objs.addr.iter().copied())
        .collect();
    let mut perm: Vec<u32> = (0..n as u32).collect();
    perm.par_sort_unstable_by_key(|&i| file_addr[i as usize]);
    let addr: Vec<u64> = perm.par_iter().map(|&i| file_addr[i as usize]).collect();
    if let Some(w) = addr.windows(2).position(|w| w[0] == w[1]) {
        return Err(duplicate_error(path, data, addr[w]));
    }
    drop(file_addr);
    // Locate each file index: (chunk, local).
    let locate = |file_idx: usize| -> (usize, usize) {
        let c = offsets.partition_point(|&o| o <= file_idx) - 1;
        (c, file_idx - offsets[c])
    };
    let ntypes = types.len() as u32;
    let mut type_id = Vec::with_capacity(n);
    let mut size = Vec::with_capacity(n);
    let mut refcnt = Vec::with_capacity(n);
    let mut len = Vec::with_capacity(n);
    let mut hash = Vec::with_capacity(n);
    for &f in &perm {
        let (c, l) = locate(f as usize);
        let o = &chunks[c].objs;
        let t = o.type_id[l];
        if t >= ntypes {
            return Err(Error::file(
                path,
                format!(
                    "object 0x{:x} has type id {t}, but no type record declares it",
                    o.addr[l]
                ),
            ));
        }
        type_id.push(t);
        size.push(o.size[l]);
        refcnt.push(o.refcnt[l]);
        len.push(o.len[l]);
        hash.push(o.hash[l]);
    }
    if let Some(f) = opts.on_stage {
        f("resolving references");
    }
    let index = AddrIndex::new(&addr);
    let mut label_ids: HashMap<&str, u32> = HashMap::new();
    let mut labels: Vec<Box<str>> = Vec::new();
    let label_of: Vec<Vec<u32>> = chunks
        .iter()
        .map(|c| {
            c.objs
                .labels
                .iter()
                .map(|(_, _, s)| {
                    *label_ids.entry(s).or_insert_with(|| {
                        labels.push(own(s));
                        labels.len() as u32 - 1
                    })
                })
                .collect()
        })
        .collect();
    drop(label_ids);
    let blocks: Vec<ResolvedBlock> = perm
        .par_chunks(RESOLVE_BLOCK)
        .map(|block| {
            let mut targets = Vec::new();
            let mut ends = Vec::with_capacity(block.len());
            let mut elabels = Vec::new();
            let mut dangling = 0u64;
            for &f in block {
                let (c, l) = locate(f as usize);
                let o = &chunks[c].objs;
                let lo = if l == 0 { 0 } else { o.ref_end[l - 1] as usize };
                let hi = o.ref_end[l] as usize;
                let lab_lo = o.labels.partition_point(|x| (x.0 as usize) < l);
                let mut lab = lab_lo;
                for (pos, &a) in o.refs[lo..hi].iter().enumerate() {
                    match index.get(a) {
                        Some(id) => {
                            while lab < o.labels.len()
                                && o.labels[lab].0 as usize == l
                                && (o.labels[lab].1 as usize) < pos
                            {
                                lab += 1;
                            }
                            if lab < o.labels.len()
                                && o.labels[lab].0 as usize == l
                                && o.labels[lab].1 as usize == pos
                            {
                                elabels.push((targets.len() as u64, label_of[c][lab]));
                            }
                            targets.push(id);
                        }
                        None => dangling += 1,
                    }
                }
                ends.push(targets.len() as u64);
            }
            ResolvedBlock {
                targets,
                ends,
                labels: elabels,
                dangling,
            }
        })
        .collect();
    let mut ref_start = Vec::with_capacity(n + 1);
    ref_start.push(0u64);
    let total: usize = blocks.iter().map(|b| b.targets.len()).sum();
    let mut ref_targets = Vec::with_capacity(total);
    let mut edge_labels = Vec::new();
    let mut dangling_refs = 0;
    for b in blocks {
        let base = ref_targets.len() as u64;
        ref_start.extend(b.ends.iter().map(|e| base + e));
        edge_labels.extend(b.labels.into_iter().map(|(e, l)| (base + e, l)));
        ref_targets.extend_from_slice(&b.targets);
        dangling_refs += b.dangling;
    }
    // file index -> new id
    let mut new_of = vec![0u32; n];
    for (new, &f) in perm.iter().enumerate() {
        new_of[f as usize] = new as u32;
    }
    let mut names = Vec::new();
    let mut values = Vec::new();
    let mut buffers = Vec::new();
    let mut roots = Vec::new();
    let mut arenas = Vec::new();
    let mut pools = Vec::new();
    for (c, chunk) in chunks.iter().enumerate() {
        let off = offsets[c];
        for (l, s) in &chunk.objs.names {
            names.push((ObjId(new_of[off + *l as usize]), own(s)));
        }
        for (l, s) in &chunk.objs.values {
            values.push((ObjId(new_of[off + *l as usize]), Box::from(s.as_str())));
        }
        for &(l, a, s) in &chunk.objs.buffers {
            buffers.push(OwnedBuffer {
                owner: ObjId(new_of[off + l as usize]),
                addr: a,
                size: s,
            });
        }
        for (_, r) in &chunk.roots {
            if let Some(obj) = index.get(r.a) {
                roots.push(Root {
                    obj,
                    kind: match &*r.kind {
                        "module" => RootKind::Module,
                        "frame" => RootKind::Frame,
                        "interpreter" => RootKind::Interpreter,
                        _ => RootKind::Other,
                    },
                    name: r.name.as_deref().unwrap_or("").to_string(),
                });
            }
        }
        for (line, a) in &chunk.arenas {
            let first = pools.len() as u32;
            for p in &a.pools {
                if p[1] > 63 {
                    return Err(Error::line(
                        path,
                        *line,
                        format!("pool 0x{:x} has size class {}", p[0], p[1]),
                    ));
                }
                pools.push(Pool {
                    addr: p[0],
                    size_class: p[1] as u8,
                    used_blocks: p[2] as u32,
                    next_offset: p[3] as u32,
                });
            }
            arenas.push(Arena {
                addr: a.a,
                index: a.index,
                total_pools: a.ntotal,
                free_pools: a.nfree,
                pools: first..pools.len() as u32,
            });
        }
    }
    names.sort_unstable_by_key(|x| x.0);
    values.sort_unstable_by_key(|x| x.0);
    drop(chunks);
    let objects = Objects {
        addr,
        type_id,
        size,
        refcnt,
        len,
        hash,
        ref_start,
        ref_targets,
        edge_labels,
        names,
        values,
    };
    add_external_roots(&objects, &mut roots);
    Ok(Snapshot {
        path: path.to_path_buf(),
        header,
        end,
        types,
        objects,
        labels,
        arenas,
        pools,
        roots,
        buffers,
        dangling_refs,
        lines,
    })
}

fn collect_types(path: &Path, chunks: &[Chunk]) -> Result<Vec<TypeInfo>> {
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

/// An object whose count exceeds the references found in the snapshot is held from outside.
fn add_external_roots(objects: &Objects, roots: &mut Vec<Root>) {
    let mut indeg = vec![0u32; objects.count()];
    for t in &objects.ref_targets {
        indeg[t.index()] = indeg[t.index()].saturating_add(1);
    }
    let mut listed = vec![false; objects.count()];
    for r in roots.iter() {
        listed[r.obj.index()] = true;
    }
    for (i, (&rc, &d)) in objects.refcnt.iter().zip(&indeg).enumerate() {
        if rc > d as u64 && !listed[i] {
            roots.push(Root {
                obj: ObjId(i as u32),
                kind: RootKind::External,
                name: String::new(),
            });
        }
    }
}

/// Object lines are not numbered individually while parsing; on this rare error path the
/// duplicated lines are found again by content.
fn duplicate_error(path: &Path, data: &[u8], addr: u64) -> Error {
    let needle = format!("\"a\":{addr},");
    let lines: Vec<u64> = data
        .split(|&b| b == b'\n')
        .enumerate()
        .filter(|(_, l)| memchr::memmem::find(l, needle.as_bytes()).is_some())
        .map(|(i, _)| i as u64 + 1)
        .collect();
    match lines.as_slice() {
        [first, second, ..] => Error::line(
            path,
            *second,
            format!("object 0x{addr:x} appears twice (first at line {first})"),
        ),
        _ => Error::file(path, format!("object 0x{addr:x} appears twice")),
    }
}
