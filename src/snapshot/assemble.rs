//! Turning parsed chunks into a [`Snapshot`]: objects numbered densely in address order,
//! references resolved to those numbers (chunk by chunk, in parallel, so the raw addresses
//! are freed early), labels interned once, roots resolved and derived.

use super::addr_index::AddrIndex;
use super::chunk::Chunk;
use super::loader::{collect_types, LoadOptions};
use super::model::*;
use super::records::TracebackLine;
use crate::error::{Error, Result};
use rayon::prelude::*;
use std::collections::HashMap;
use std::path::Path;

/// One chunk's references, resolved.
struct Resolved {
    /// Dense targets in file order.
    targets: Vec<ObjId>,
    /// End of each local object's targets.
    ends: Vec<u32>,
    /// (local object, position among its resolved refs, local label id)
    labels: Vec<(u32, u32, u32)>,
    dangling: u64,
}

pub(super) fn assemble(
    path: &Path,
    data: &[u8],
    header: Header,
    mut chunks: Vec<Chunk>,
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
                format!(
                    "the end record counts {} objects but the file holds {n} (lines lost or duplicated?)",
                    e.objects
                ),
            ));
        }
    }
    check_type_ids(path, &chunks, types.len() as u32)?;
    let offsets: Vec<usize> = chunks
        .iter()
        .scan(0usize, |acc, c| {
            let o = *acc;
            *acc += c.object_count();
            Some(o)
        })
        .collect();

    let (addr, new_of) = address_order(path, data, &mut chunks, &offsets, n)?;
    // Scalars first, so the chunks' copies are freed before references are resolved.
    let scalars = scatter_scalars(&mut chunks, &offsets, &new_of);
    if let Some(f) = opts.on_stage {
        f("resolving references");
    }

    let index = AddrIndex::new(&addr);
    let resolved: Vec<Resolved> = chunks.par_iter_mut().map(|c| resolve(c, &index)).collect();
    let (labels, label_map) = intern_labels(&chunks);

    let References {
        start: ref_start,
        targets: ref_targets,
        labels: edge_labels,
        dangling: dangling_refs,
    } = references_in_order(path, resolved, &offsets, &new_of, &label_map)?;

    let objects = sparse_columns(
        &chunks,
        &offsets,
        &new_of,
        scalars,
        addr,
        ref_start,
        ref_targets,
        edge_labels,
    );
    let mut rest = side_records(path, &chunks, &offsets, &new_of, &objects)?;
    let tracebacks = tracebacks(path, &chunks)?;
    drop(chunks);
    add_external_roots(&objects, &mut rest.roots);
    Ok(Snapshot {
        path: path.to_path_buf(),
        header,
        end,
        types,
        objects,
        labels,
        arenas: rest.arenas,
        pools: rest.pools,
        roots: rest.roots,
        buffers: rest.buffers,
        tracebacks,
        dangling_refs,
        lines,
        dropped_tail: 0,
        searched: Default::default(),
        totals: Default::default(),
        loaded: Default::default(),
    })
}

/// Objects in address order: the sorted addresses, and for each object in file order its
/// dense id (its rank). Two objects at one address are an error. Frees the chunks' own
/// address columns.
fn address_order(
    path: &Path,
    data: &[u8],
    chunks: &mut [Chunk],
    offsets: &[usize],
    n: usize,
) -> Result<(Vec<u64>, Vec<u32>)> {
    let mut pairs: Vec<(u64, u32)> = Vec::with_capacity(n);
    for (c, off) in chunks.iter_mut().zip(offsets) {
        pairs.extend(
            c.objs
                .addr
                .iter()
                .enumerate()
                .map(|(l, &a)| (a, (off + l) as u32)),
        );
        c.objs.addr = Vec::new(); // the sorted column replaces it
    }
    pairs.par_sort_unstable();
    if let Some(w) = pairs.windows(2).position(|w| w[0].0 == w[1].0) {
        return Err(duplicate_error(path, data, pairs[w].0));
    }
    let mut new_of = vec![0u32; n];
    for (j, &(_, f)) in pairs.iter().enumerate() {
        new_of[f as usize] = j as u32;
    }
    // In place (same allocation), then the unused half is returned.
    let mut addr: Vec<u64> = pairs.into_iter().map(|p| p.0).collect();
    addr.shrink_to_fit();
    Ok((addr, new_of))
}

/// The references of every object, in address order.
struct References {
    /// Where each object's references start (one more entry than objects).
    start: Vec<u32>,
    targets: Vec<ObjId>,
    /// Sorted by edge.
    labels: Vec<EdgeLabel>,
    /// References to addresses that are no object.
    dangling: u64,
}

/// The references as CSR in address order: where each object's references start, their
/// targets, their labels (sorted by edge), and how many pointed at no object.
fn references_in_order(
    path: &Path,
    resolved: Vec<Resolved>,
    offsets: &[usize],
    new_of: &[u32],
    label_map: &[Vec<u32>],
) -> Result<References> {
    let n = new_of.len();
    let mut counts = vec![0u32; n + 1];
    for (r, off) in resolved.iter().zip(offsets) {
        let mut prev = 0u32;
        for (l, &e) in r.ends.iter().enumerate() {
            counts[new_of[off + l] as usize + 1] = e - prev;
            prev = e;
        }
    }
    let mut total = 0u64;
    for c in counts.iter_mut() {
        total += *c as u64;
        if total >= u32::MAX as u64 {
            return Err(Error::file(path, "more than 4 billion references"));
        }
        *c = total as u32;
    }
    let ref_start = counts;
    let mut ref_targets = vec![ObjId(0); total as usize];
    let mut edge_labels = Vec::new();
    let mut dangling_refs = 0;
    for (ci, (r, off)) in resolved.into_iter().zip(offsets).enumerate() {
        let mut prev = 0usize;
        for (l, &e) in r.ends.iter().enumerate() {
            let start = ref_start[new_of[off + l] as usize] as usize;
            let e = e as usize;
            ref_targets[start..start + e - prev].copy_from_slice(&r.targets[prev..e]);
            prev = e;
        }
        for (l, pos, lid) in r.labels {
            let start = ref_start[new_of[off + l as usize] as usize];
            edge_labels.push(EdgeLabel {
                edge: start + pos,
                label: label_map[ci][lid as usize],
            });
        }
        dangling_refs += r.dangling;
    }
    edge_labels.par_sort_unstable();
    Ok(References {
        start: ref_start,
        targets: ref_targets,
        labels: edge_labels,
        dangling: dangling_refs,
    })
}

/// Allocation tracebacks by id (ids are dense, from 0, each defined once).
fn tracebacks(path: &Path, chunks: &[Chunk]) -> Result<Vec<Traceback>> {
    let mut all: Vec<(u64, &TracebackLine)> = chunks
        .iter()
        .flat_map(|c| c.tracebacks.iter().map(|(l, t)| (*l, t)))
        .collect();
    all.sort_by_key(|(_, t)| t.id);
    let mut out = Vec::with_capacity(all.len());
    for (line, t) in all {
        if t.id as usize != out.len() {
            return Err(Error::line(
                path,
                line,
                format!(
                    "traceback id {} out of sequence (expected {})",
                    t.id,
                    out.len()
                ),
            ));
        }
        out.push(Traceback {
            frames: t
                .f
                .iter()
                .map(|(f, l)| (Box::from(f.as_str()), *l))
                .collect(),
        });
    }
    Ok(out)
}

fn check_type_ids(path: &Path, chunks: &[Chunk], ntypes: u32) -> Result<()> {
    let bad = chunks.par_iter().find_map_first(|c| {
        c.objs
            .type_id
            .iter()
            .position(|&t| t >= ntypes)
            .map(|i| (c.objs.addr[i], c.objs.type_id[i]))
    });
    match bad {
        Some((a, t)) => Err(Error::file(
            path,
            format!("object 0x{a:x} has type id {t}, but no type record declares it"),
        )),
        None => Ok(()),
    }
}

/// Resolve one chunk's raw reference addresses, freeing them.
fn resolve(c: &mut Chunk, index: &AddrIndex) -> Resolved {
    let refs = std::mem::take(&mut c.objs.refs);
    let labels = std::mem::take(&mut c.objs.labels);
    let mut out = Resolved {
        targets: Vec::with_capacity(refs.len()),
        ends: Vec::with_capacity(c.objs.ref_end.len()),
        labels: Vec::with_capacity(labels.len()),
        dangling: 0,
    };
    let mut lab = labels.iter().peekable();
    let mut start = 0usize;
    for (l, &end) in c.objs.ref_end.iter().enumerate() {
        let first = out.targets.len();
        for (pos, &a) in refs[start..end as usize].iter().enumerate() {
            let found = index.get(a);
            while let Some(&&(ll, lp, lid)) = lab.peek() {
                if (ll as usize, lp as usize) > (l, pos) {
                    break;
                }
                if (ll as usize, lp as usize) == (l, pos) && found.is_some() {
                    out.labels
                        .push((ll, (out.targets.len() - first) as u32, lid));
                }
                lab.next();
            }
            match found {
                Some(id) => out.targets.push(id),
                None => out.dangling += 1,
            }
        }
        out.ends.push(out.targets.len() as u32);
        start = end as usize;
    }
    c.objs.ref_end = Vec::new();
    out
}

/// Global label table, and per chunk the map from its local label ids to global ones.
fn intern_labels(chunks: &[Chunk]) -> (Vec<Box<str>>, Vec<Vec<u32>>) {
    let mut ids: HashMap<&str, u32> = HashMap::new();
    let mut labels: Vec<Box<str>> = Vec::new();
    let maps = chunks
        .iter()
        .map(|c| {
            c.objs
                .label_text
                .iter()
                .map(|t| {
                    *ids.entry(t).or_insert_with(|| {
                        labels.push(Box::from(&**t));
                        labels.len() as u32 - 1
                    })
                })
                .collect()
        })
        .collect();
    (labels, maps)
}

/// Dense per-object columns in address order.
struct Scalars {
    type_id: Vec<u32>,
    size: Vec<u32>,
    refcnt: Vec<u32>,
    len: Vec<u32>,
}

/// Move the dense columns from file order (per chunk) into address order, freeing the
/// chunks' copies.
fn scatter_scalars(chunks: &mut [Chunk], offsets: &[usize], new_of: &[u32]) -> Scalars {
    let n = new_of.len();
    fn scatter<T: Copy + Default + Send>(
        n: usize,
        cols: Vec<Vec<T>>,
        offsets: &[usize],
        new_of: &[u32],
    ) -> Vec<T> {
        let mut out = vec![T::default(); n];
        for (col, off) in cols.into_iter().zip(offsets) {
            for (l, v) in col.into_iter().enumerate() {
                out[new_of[off + l] as usize] = v;
            }
        }
        out
    }
    let type_id: Vec<_> = chunks
        .iter_mut()
        .map(|c| std::mem::take(&mut c.objs.type_id))
        .collect();
    let size: Vec<_> = chunks
        .iter_mut()
        .map(|c| std::mem::take(&mut c.objs.size))
        .collect();
    let refcnt: Vec<_> = chunks
        .iter_mut()
        .map(|c| std::mem::take(&mut c.objs.refcnt))
        .collect();
    let len: Vec<_> = chunks
        .iter_mut()
        .map(|c| std::mem::take(&mut c.objs.len))
        .collect();
    let ((type_id, size), (refcnt, len)) = rayon::join(
        || {
            rayon::join(
                || scatter(n, type_id, offsets, new_of),
                || scatter(n, size, offsets, new_of),
            )
        },
        || {
            rayon::join(
                || scatter(n, refcnt, offsets, new_of),
                || scatter(n, len, offsets, new_of),
            )
        },
    );
    Scalars {
        type_id,
        size,
        refcnt,
        len,
    }
}

/// The sparse columns (overflowing sizes, hashes, names, values) and the final table.
#[allow(clippy::too_many_arguments)]
fn sparse_columns(
    chunks: &[Chunk],
    offsets: &[usize],
    new_of: &[u32],
    scalars: Scalars,
    addr: Vec<u64>,
    ref_start: Vec<u32>,
    ref_targets: Vec<ObjId>,
    edge_labels: Vec<EdgeLabel>,
) -> Objects {
    let remap = |off: usize, l: u32| ObjId(new_of[off + l as usize]);
    let mut big_sizes = Vec::new();
    let mut hashes = Vec::new();
    let mut names = Vec::new();
    let mut values = Vec::new();
    let mut caches = Vec::new();
    let mut traceback = Vec::new();
    let mut defined = Vec::new();
    for (c, &off) in chunks.iter().zip(offsets) {
        caches.extend(c.objs.caches.iter().map(|&(l, x)| (remap(off, l), x)));
        traceback.extend(c.objs.tracebacks.iter().map(|&(l, t)| (remap(off, l), t)));
        big_sizes.extend(c.objs.big_size.iter().map(|&(l, s)| (remap(off, l), s)));
        hashes.extend(c.objs.hash.iter().map(|&(l, h)| (remap(off, l), h)));
        names.extend(
            c.objs
                .names
                .iter()
                .map(|(l, s)| (remap(off, *l), Box::from(&**s))),
        );
        defined.extend(
            c.objs
                .defined
                .iter()
                .map(|(l, s)| (remap(off, *l), Box::from(s.as_str()))),
        );
        values.extend(
            c.objs
                .values
                .iter()
                .map(|(l, s)| (remap(off, *l), Box::from(s.as_str()))),
        );
    }
    big_sizes.sort_unstable();
    hashes.par_sort_unstable();
    names.sort_unstable_by_key(|x: &(ObjId, Box<str>)| x.0);
    values.sort_unstable_by_key(|x: &(ObjId, Box<str>)| x.0);
    caches.sort_unstable_by_key(|x| x.0);
    traceback.sort_unstable();
    defined.sort_unstable_by_key(|x: &(ObjId, Box<str>)| x.0);
    Objects {
        addr: addr.into(),
        type_id: scalars.type_id.into(),
        size: scalars.size.into(),
        big_sizes,
        refcnt: scalars.refcnt.into(),
        len: scalars.len.into(),
        hashes,
        ref_start: ref_start.into(),
        ref_targets: ref_targets.into(),
        edge_labels: edge_labels.into(),
        names,
        values,
        caches,
        traceback,
        defined,
    }
}

struct SideRecords {
    roots: Vec<Root>,
    arenas: Vec<Arena>,
    pools: Vec<Pool>,
    buffers: Vec<OwnedBuffer>,
}

/// Roots, arenas with their pools, and owned buffers.
fn side_records(
    path: &Path,
    chunks: &[Chunk],
    offsets: &[usize],
    new_of: &[u32],
    objects: &Objects,
) -> Result<SideRecords> {
    let mut out = SideRecords {
        roots: Vec::new(),
        arenas: Vec::new(),
        pools: Vec::new(),
        buffers: Vec::new(),
    };
    for (c, &off) in chunks.iter().zip(offsets) {
        for &(l, a, s) in &c.objs.buffers {
            out.buffers.push(OwnedBuffer {
                owner: ObjId(new_of[off + l as usize]),
                addr: a,
                size: s,
            });
        }
        for (_, r) in &c.roots {
            if let Some(obj) = objects.find(r.a) {
                out.roots.push(Root {
                    obj,
                    kind: match &*r.kind {
                        "module" => RootKind::Module,
                        "frame" => RootKind::Frame,
                        "local" => RootKind::Local,
                        "interpreter" => RootKind::Interpreter,
                        _ => RootKind::Other,
                    },
                    name: r.name.as_deref().unwrap_or("").to_string(),
                    frame: r.frame.as_deref().map(str::to_string),
                });
            }
        }
        for (line, a) in &c.arenas {
            let first = out.pools.len() as u32;
            for p in &a.pools {
                if p[1] > 63 {
                    return Err(Error::line(
                        path,
                        *line,
                        format!("pool 0x{:x} has size class {}", p[0], p[1]),
                    ));
                }
                out.pools.push(Pool {
                    addr: p[0],
                    size_class: p[1] as u8,
                    used_blocks: p[2].min(u32::MAX as u64) as u32,
                    next_offset: p[3].min(u32::MAX as u64) as u32,
                });
            }
            out.arenas.push(Arena {
                addr: a.a,
                index: a.index,
                total_pools: a.ntotal,
                free_pools: a.nfree,
                pools: first..out.pools.len() as u32,
            });
        }
    }
    Ok(out)
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
        if rc > d && !listed[i] {
            roots.push(Root {
                obj: ObjId(i as u32),
                kind: RootKind::External,
                name: String::new(),
                frame: None,
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
        .filter(|(_, l)| {
            l.starts_with(b"{\"k\":\"o\"") && memchr::memmem::find(l, needle.as_bytes()).is_some()
        })
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
