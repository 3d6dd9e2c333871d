//! Read-only capture: a pymem snapshot decoded from a copy of a CPython process's memory —
//! no code runs in the target, and nothing is written to it.
//!
//! The walk starts from every object the collector tracks (each generation's list and the
//! permanent one) and follows the references each object's decoder finds, so that untracked
//! strings, numbers, tuples and dicts are in, as with the agent. Every address is validated
//! before it is followed (readable, aligned, a known type; inside a pymalloc arena, at the
//! start of a block in use). Nothing is recursive: one explicit stack.
//!
//! The modules form layers, and a module uses only those of the layers below it (the test
//! `capture_modules_import_only_the_layers_below_them` holds this):
//!
//! 1. [`offsets`], [`facts`], [`builtins`]: what the version lays out where, how it behaves,
//!    which static types are where;
//! 2. [`heap`]: the target's memory;
//! 3. [`ints`], [`strings`], [`pools`], then [`dicts`] (whose keys are strings): reading
//!    values and pymalloc's arenas;
//! 4. [`types`]: the type table;
//! 5. [`decode`] (with [`decode::sizes`] and [`decode::frames`]): each object's snapshot line;
//! 6. [`write`] and the partial file: the lines; this file drives them all.

pub mod builtins;
pub mod decode;
pub mod dicts;
pub mod facts;
pub mod heap;
pub mod ints;
pub mod offsets;
mod partial;
pub mod pools;
pub mod strings;
pub mod traces;
pub mod types;
pub mod write;

use crate::remote::binary::PythonBinary;
use crate::remote::image::Image;
use crate::remote::runtime::Runtime;
use decode::{Decoded, Decoder};
use heap::Heap;
use partial::PartialFile;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::path::Path;
use types::{Builtins, Types};

/// What a capture was asked for.
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Record string and bytes contents (private data).
    pub values: bool,
    /// Give up the walk (an error, no file) once this instant has passed.
    pub deadline: Option<std::time::Instant>,
}

/// What is known of the process beyond its memory.
#[derive(Clone, Debug, Default)]
pub struct ProcessInfo {
    pub pid: u32,
    pub rss: Option<u64>,
    /// `PYTHONMALLOC` from the process's environment.
    pub pythonmalloc: Option<String>,
    pub method: Method,
    /// Milliseconds the process was stopped for the copy (live captures).
    pub stopped_ms: Option<f64>,
    /// What could not be recorded, and why (from the caller).
    pub missing: Vec<String>,
    /// The process's mappings by kind, read with the copy (live captures only).
    pub memory: Option<crate::snapshot::ProcessMemory>,
}

/// How a heap was captured from outside, as the header's `capture.method` says.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// Read from a live process, stopped for the copy.
    #[default]
    Read,
    /// Read from a core file.
    Core,
}

/// Why a capture failed.
#[derive(Debug)]
pub enum CaptureError {
    /// The collector was running when the process was stopped: try again.
    Collecting,
    /// Memory the walk needs is missing (a truncated core): what, in one line.
    Incomplete(String),
    /// Anything else, said in one line.
    Failed(String),
}

impl std::fmt::Display for CaptureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureError::Collecting => write!(f, "the garbage collector was running"),
            CaptureError::Incomplete(s) | CaptureError::Failed(s) => write!(f, "{s}"),
        }
    }
}

/// Counts of what a capture wrote.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    pub objects: u64,
    pub refs: u64,
    pub types: u64,
    pub arenas: u64,
    pub roots: u64,
    /// References that pointed at no valid object (left out).
    pub invalid: u64,
    /// Objects whose referents were found by scanning, by type name.
    pub scanned: Vec<(String, u64)>,
    /// The exact version (from `sys.version` where the runtime did not say).
    pub version: String,
}

fn fail(s: impl Into<String>) -> CaptureError {
    CaptureError::Failed(s.into())
}

fn builtins(bin: &PythonBinary, mem: &Image) -> Builtins {
    let s = |n: &str| bin.symbols.get(n).copied().unwrap_or(0);
    Builtins {
        type_: s("PyType_Type"),
        object: s("PyBaseObject_Type"),
        dict: s("PyDict_Type"),
        odict: s("PyODict_Type"),
        list: s("PyList_Type"),
        tuple: s("PyTuple_Type"),
        set: s("PySet_Type"),
        frozenset: s("PyFrozenSet_Type"),
        str_: s("PyUnicode_Type"),
        bytes: s("PyBytes_Type"),
        bytearray: s("PyByteArray_Type"),
        int: s("PyLong_Type"),
        bool_: s("PyBool_Type"),
        float: s("PyFloat_Type"),
        complex: s("PyComplex_Type"),
        module: s("PyModule_Type"),
        function: s("PyFunction_Type"),
        code: s("PyCode_Type"),
        cfunction: s("PyCFunction_Type"),
        cmethod: s("PyCMethod_Type"),
        method: s("PyMethod_Type"),
        cell: s("PyCell_Type"),
        frame: s("PyFrame_Type"),
        weakref: s("_PyWeakref_RefType"),
        weakproxy: s("_PyWeakref_ProxyType"),
        weakcallableproxy: s("_PyWeakref_CallableProxyType"),
        set_dummy: {
            use crate::remote::memory::Memory;
            mem.read_u64(s("_PySet_Dummy")).unwrap_or(0)
        },
        none: s("_Py_NoneStruct"),
        descriptors: [
            s("PyMethodDescr_Type"),
            s("PyWrapperDescr_Type"),
            s("PyGetSetDescr_Type"),
            s("PyMemberDescr_Type"),
            s("PyClassMethodDescr_Type"),
        ],
        generators: [s("PyGen_Type"), s("PyCoro_Type"), s("PyAsyncGen_Type")],
        moduledef: s("PyModuleDef_Type"),
        frozendict: s("PyFrozenDict_Type"),
        capsule: s("PyCapsule_Type"),
    }
}

/// The main interpreter (id 0).
fn main_interpreter(h: &Heap, runtime: u64) -> Option<u64> {
    let o = h.off;
    let mut interp = h.word(runtime + o.runtime_interpreters)?;
    for _ in 0..1024 {
        if interp == 0 {
            return None;
        }
        if h.i64(interp + o.interp_id)? == 0 {
            return Some(interp);
        }
        interp = h.word(interp + o.interp_next)?;
    }
    None
}

/// Where the allocator's arena table is: (pointer to `arenas`, `maxarenas`).
fn arena_table(h: &Heap, bin: &PythonBinary, interp: u64) -> Option<(u64, u64)> {
    let o = h.off;
    let state = match (o.interp_obmalloc, o.interp_obmalloc_pointer) {
        (Some(embedded), _) => Some(interp + embedded),
        (None, Some(ptr)) => h.word(interp + ptr),
        _ => None,
    };
    if let (Some(state), Some(arenas), Some(maxarenas)) =
        (state, o.obmalloc_arenas, o.obmalloc_maxarenas)
    {
        return Some((h.word(state + arenas)?, h.u32(state + maxarenas)? as u64));
    }
    let arenas = *bin.symbols.get("arenas")?;
    let maxarenas = *bin.symbols.get("maxarenas")?;
    Some((h.word(arenas)?, h.u32(maxarenas)? as u64))
}

/// Decode the heap in `mem` and write the snapshot to `path` (through a temporary file next
/// to it, renamed when complete).
pub fn capture(
    mem: &Image,
    bin: &PythonBinary,
    runtime: &Runtime,
    info: &ProcessInfo,
    opts: &Options,
    path: &Path,
) -> Result<Stats, CaptureError> {
    let layout = runtime
        .layout
        .ok_or_else(|| fail(format!("no layout for CPython {}", runtime.version)))?;
    let off = offsets::Offsets::resolve(layout).map_err(fail)?;
    let facts = facts::of(runtime.version.minor)
        .ok_or_else(|| fail(format!("CPython {} is not supported", runtime.version)))?;
    let heap = Heap {
        mem,
        off: &off,
        facts,
    };
    let h = &heap;
    let interp = main_interpreter(h, runtime.addr).ok_or_else(|| {
        fail("the main interpreter was not found (starting up or shutting down?)")
    })?;
    let gc = match (off.interp_gc, off.runtime_gc) {
        (Some(g), _) => interp + g,
        (None, Some(g)) => runtime.addr + g,
        _ => return Err(fail("the collector's state is not in the layout")),
    };
    if h.u32(gc + off.gc_collecting).unwrap_or(0) != 0 {
        return Err(CaptureError::Collecting);
    }
    let mut missing = info.missing.clone();
    let pools = match arena_table(h, bin, interp).and_then(|(a, m)| pools::Pools::read(h, a, m)) {
        Some(p) => p,
        None => {
            missing.push("pools: pymalloc's arena table was not found".into());
            pools::Pools::default()
        }
    };
    let mut types = Types::new(builtins(bin, mem));
    types.subtype_traverse = subtype_traverse(h, &types.builtins, interp);
    let mut dec = Decoder::new(h, types, &pools, opts.values);
    if let Some(x) = off.interp_interned {
        dec.interned = h.word(interp + x).unwrap_or(0);
    }

    let traced_builtins = builtins(bin, mem);
    let mut traces = match traces::read(h, &traced_builtins, &bin.symbols, runtime.addr) {
        traces::Found::Traced(t) => Some(t),
        traces::Found::NotTracing => {
            missing.push(
                "tracebacks: tracemalloc was not tracing (start it, or use pymem run --tracemalloc N)"
                    .into(),
            );
            None
        }
        traces::Found::Unreadable(why) => {
            missing.push(format!("tracebacks: {why}"));
            None
        }
    };

    let seeds = collector_lists(h, &off, gc, mem.len())?;
    dec.debug_shift = debug_shift(&mut dec, &seeds);

    let tmp = PartialFile::beside(path);
    let file = std::fs::File::create(&tmp)
        .map_err(|e| fail(format!("cannot write {}: {e}", tmp.display())))?;
    // Removed again unless the capture completes.
    let mut guard = PartialFile(Some(tmp.clone()));
    let mut lines = write::Lines::new(write::Background::new(file, gzip_named(path)));
    let io = |e: std::io::Error| fail(format!("writing {}: {e}", path.display()));
    let interpreter = read_interpreter(h, &off, interp, &dec, runtime);
    let mut header = write::header(
        &interpreter,
        &pools,
        dec.debug_shift,
        &bin.path,
        info,
        opts,
        &mut missing,
    );
    header["recorded"]["tracebacks"] = traces.is_some().into();
    lines.raw(&header.to_string()).map_err(io)?;
    for a in &pools.arenas {
        lines.arena(a).map_err(io)?;
    }

    let walked = walk(&mut dec, &seeds, traces.as_mut(), &mut lines, opts, path)?;
    let roots = write_roots(&mut dec, &off, interp, &mut lines).map_err(io)?;
    let objects = lines.objects;
    let refs = lines.refs;
    let ntypes = lines.types_written() as u64;
    let scanned = counts_by_type_name(&dec, &dec.scanned);
    let end = write::End {
        arenas: pools.arenas.len(),
        pools: pools.pool_count(),
        roots,
        scanned: scanned.clone(),
        invalid: walked.invalid,
        negative_refcounts: walked.negative_refcounts,
        cut: counts_by_type_name(&dec, &dec.cut),
    };
    lines.end(&end).map_err(io)?;
    lines.into_inner().finish().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(|e| fail(format!("writing {}: {e}", path.display())))?;
    guard.0 = None;
    Ok(Stats {
        objects,
        refs,
        types: ntypes,
        arenas: pools.arenas.len() as u64,
        roots,
        invalid: walked.invalid,
        scanned,
        version: interpreter.version.to_string(),
    })
}

/// Whether a snapshot's name asks for gzip (`heap.jsonl.gz`), as the loader reads it.
pub fn gzip_named(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// The objects the collector lists (three generations and the permanent one), where the
/// walk starts. A list that does not come back to its head is an incomplete capture.
fn collector_lists(
    h: &Heap,
    off: &offsets::Offsets,
    gc: u64,
    image_len: u64,
) -> Result<Vec<u64>, CaptureError> {
    let mut seeds: Vec<u64> = Vec::new();
    let heads: Vec<u64> = (0..3)
        .map(|i| gc + off.gc_generations + i * off.gen_struct_size + off.gen_head)
        .chain(std::iter::once(gc + off.gc_permanent + off.gen_head))
        .collect();
    let limit = image_len / 16;
    for (generation, head) in heads.into_iter().enumerate() {
        let mut g = h.word(head).unwrap_or(0) & !3;
        let mut n = 0u64;
        while g != head && g != 0 && n < limit {
            seeds.push(g.wrapping_add(off.gc_head));
            g = h.word(g).unwrap_or(0) & !3;
            n += 1;
        }
        // A list that does not come back to its head was cut by memory that is not there
        // (a truncated core): the objects after the cut are unknown, and every answer
        // about the heap would be silently short.
        if g != head {
            let which = if generation < 3 {
                format!("generation {generation}")
            } else {
                "the permanent generation".into()
            };
            return Err(CaptureError::Incomplete(format!(
                "the collector's list of {which} breaks off after {n} objects (its next link is in memory that is not there)"
            )));
        }
    }
    Ok(seeds)
}

/// What the walk met that it could not keep.
struct Walked {
    /// References to addresses that are not valid objects.
    invalid: u64,
    /// Objects whose reference count was negative (recorded as 0).
    negative_refcounts: u64,
}

/// The walk: every object reachable from `seeds` through the references its decoder finds,
/// each written as it is met. One explicit stack; every address validated before it is
/// followed.
fn walk<W: std::io::Write>(
    dec: &mut Decoder,
    seeds: &[u64],
    mut traces: Option<&mut traces::Traces>,
    lines: &mut write::Lines<W>,
    opts: &Options,
    path: &Path,
) -> Result<Walked, CaptureError> {
    let h = dec.heap;
    let mem = h.mem;
    let io = |e: std::io::Error| fail(format!("writing {}: {e}", path.display()));
    let mut visited = crate::remote::image::AddressSet::new(mem);
    let mut stack: Vec<u64> = Vec::new();
    let mut out = Decoded::default();
    let mut invalid = 0u64;
    let mut negative_refcounts = 0u64;
    let mut seed_iter = seeds.iter();
    // Tracebacks written so far: `Traces` numbers them densely in order of first use, so
    // the one past them is new.
    let mut tb_written = 0u32;
    let mut walked = 0u64;
    loop {
        walked += 1;
        if walked % 4096 == 0
            && opts
                .deadline
                .is_some_and(|d| std::time::Instant::now() >= d)
        {
            return Err(fail(
                "timed out (--timeout); the process runs on, unchanged",
            ));
        }
        let addr = match stack.pop() {
            Some(a) => a,
            None => match seed_iter.next() {
                Some(&a) => {
                    if !visited.insert(mem, a) {
                        continue;
                    }
                    a
                }
                None => break,
            },
        };
        let Some(tid) = dec.object_type(addr) else {
            invalid += 1;
            continue;
        };
        let rc = match h.refcnt(addr).unwrap_or(0) {
            // A negative count (an extension's reference-counting bug): recorded as 0.
            rc if (rc as i64) < 0 => {
                negative_refcounts += 1;
                0
            }
            rc if h.immortal(rc) => h.facts.immortal_reported.unwrap_or(rc),
            rc => rc,
        };
        let (size, in_pool) = dec.size(addr, tid);
        dec.decode(addr, tid, in_pool, &mut out);
        // Keep only references to valid objects; queue the ones not met yet.
        let mut keep = 0;
        for i in 0..out.refs.len() {
            let r = out.refs[i];
            if dec.object_type(r).is_none() {
                invalid += 1;
                continue;
            }
            out.refs[keep] = r;
            if !out.labels.is_empty() {
                out.labels.swap(keep, i);
            }
            keep += 1;
            if visited.insert(mem, r) {
                stack.push(r);
            }
        }
        out.refs.truncate(keep);
        out.labels
            .truncate(if out.labels.is_empty() { 0 } else { keep });
        let t = dec.types.info(tid);
        if let Some(tr) = traces.as_mut() {
            // tracemalloc keys a trace by its block, which starts at the object's pre-header.
            let block = addr.wrapping_sub(t.pre + dec.debug_shift);
            if let Some(id) = tr.of_block(block) {
                if id == tb_written {
                    lines
                        .traceback(id, &tr.tracebacks[id as usize])
                        .map_err(io)?;
                    tb_written += 1;
                }
                out.tb = Some(id);
            }
        }
        lines.object(addr, t, size, rc, &out).map_err(io)?;
    }

    Ok(Walked {
        invalid,
        negative_refcounts,
    })
}

/// The roots: every module in sys.modules, sys.modules itself, and every thread's frames and
/// their locals. Returns how many were written.
fn write_roots<W: std::io::Write>(
    dec: &mut Decoder,
    off: &offsets::Offsets,
    interp: u64,
    lines: &mut write::Lines<W>,
) -> std::io::Result<u64> {
    let h = dec.heap;
    let mut roots = 0u64;
    let modules = h.word(interp + off.interp_modules).unwrap_or(0);
    let b = dec.types.builtins;
    if let Some(t) = dicts::table(h, modules, None) {
        for (k, v) in t.entries {
            if let Some(name) = strings::exact_str(h, &b, k) {
                if v != b.none {
                    lines.root(v, "module", &name, None)?;
                    roots += 1;
                }
            }
        }
    }
    if modules != 0 {
        lines.root(modules, "interpreter", "sys.modules", None)?;
        roots += 1;
    }
    let names = thread_names(dec, modules);
    let mut t = h.word(interp + off.interp_threads).unwrap_or(0);
    let mut seen_threads = HashSet::default();
    while t != 0 && seen_threads.insert(t) {
        let ident = h.word(t + off.tstate_thread_id).unwrap_or(0);
        let tname = names
            .get(&ident)
            .cloned()
            .unwrap_or_else(|| ident.to_string());
        for f in decode::frames::thread_frames(dec, t) {
            let where_ = format!("thread {tname}: {} ({}:{})", f.function, f.file, f.line);
            lines.root(f.addr, "frame", &where_, None)?;
            roots += 1;
            for (name, value) in f.locals.iter().flatten() {
                lines.root(*value, "local", name, Some(&where_))?;
                roots += 1;
            }
        }
        t = h.word(t + off.tstate_next).unwrap_or(0);
    }
    Ok(roots)
}

/// Per type name, a count the decoder kept by type id: the largest first, then by name.
fn counts_by_type_name(dec: &Decoder, by_type: &HashMap<u32, u64>) -> Vec<(String, u64)> {
    let mut out: Vec<(String, u64)> = by_type
        .iter()
        .map(|(&t, &n)| (dec.types.info(t).name.clone(), n))
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

/// The exact version: the runtime's, or (3.8–3.10) the one `sys.version` spells.
fn exact_version(
    h: &Heap,
    off: &offsets::Offsets,
    interp: u64,
    dec: &Decoder,
    runtime: &Runtime,
) -> crate::remote::runtime::Version {
    if runtime.exact {
        return runtime.version;
    }
    sys_str(h, off, interp, &dec.types.builtins, "version")
        .and_then(|b| {
            b.split_whitespace()
                .next()
                .and_then(crate::remote::runtime::Version::parse)
        })
        .filter(|v| v.minor == runtime.version.minor)
        .unwrap_or(runtime.version)
}

/// A string attribute of the `sys` module.
fn sys_str(
    h: &Heap,
    off: &offsets::Offsets,
    interp: u64,
    b: &Builtins,
    name: &str,
) -> Option<String> {
    let sysdict = h.word(interp + off.interp_sysdict)?;
    dicts::get_str_item(h, b, sysdict, name).and_then(|s| strings::exact_str(h, b, s))
}

/// What the header says of the interpreter, read from its memory.
pub struct Interpreter {
    pub version: crate::remote::runtime::Version,
    pub argv: Vec<String>,
    /// `sys.version` and `sys.platform`.
    pub build: String,
    pub platform: String,
}

fn read_interpreter(
    h: &Heap,
    off: &offsets::Offsets,
    interp: u64,
    dec: &Decoder,
    runtime: &Runtime,
) -> Interpreter {
    let b = &dec.types.builtins;
    let sysdict = h.word(interp + off.interp_sysdict).unwrap_or(0);
    let argv: Vec<String> = dicts::get_str_item(h, b, sysdict, "argv")
        .map(|l| {
            let n = h.ob_size(l).unwrap_or(0).clamp(0, 4096) as u64;
            let base = h.word(l + off.list_items).unwrap_or(0);
            (0..n)
                .map(|i| {
                    let s = h.word(base + i * 8).unwrap_or(0);
                    strings::exact_str(h, b, s).unwrap_or_else(|| "?".into())
                })
                .collect()
        })
        .unwrap_or_default();
    Interpreter {
        version: exact_version(h, off, interp, dec, runtime),
        argv,
        build: sys_str(h, off, interp, b, "version").unwrap_or_default(),
        platform: sys_str(h, off, interp, b, "platform").unwrap_or_else(|| "linux".into()),
    }
}

/// `subtype_traverse`, from a class that is certainly made by a `class` statement: the
/// import system's `ModuleSpec` (frozen `importlib._bootstrap`, in every process).
fn subtype_traverse(h: &Heap, b: &Builtins, interp: u64) -> u64 {
    let modules = h.word(interp + h.off.interp_modules).unwrap_or(0);
    dicts::get_str_item(h, b, modules, "_frozen_importlib")
        .and_then(|m| h.word(m + h.off.module_dict))
        .and_then(|d| dicts::get_str_item(h, b, d, "ModuleSpec"))
        .and_then(|t| h.word(t + h.off.tp_traverse))
        .unwrap_or(0)
}

/// 16 when the debug allocator puts a 16-byte header before each block: found on the
/// collector's own objects (which sit in pools when pymalloc is in use).
fn debug_shift(dec: &mut Decoder, seeds: &[u64]) -> u64 {
    let mut hits = [0u32; 2];
    for &a in seeds.iter().take(2000) {
        let Some(tid) = dec.object_type(a) else {
            continue;
        };
        let pre = dec.types.info(tid).pre;
        for (i, shift) in [0u64, 16].iter().enumerate() {
            if dec.pools.block_size(a.wrapping_sub(pre + shift)).is_some() {
                hits[i] += 1;
            }
        }
    }
    if hits[1] > hits[0] * 2 {
        16
    } else {
        0
    }
}

/// `threading._active`: thread ident -> the Thread's name.
fn thread_names(dec: &mut Decoder, modules: u64) -> HashMap<u64, String> {
    let h = dec.heap;
    let b = dec.types.builtins;
    let mut out = HashMap::default();
    let Some(threading) = dicts::get_str_item(h, &b, modules, "threading") else {
        return out;
    };
    let Some(md) = h.word(threading + h.off.module_dict) else {
        return out;
    };
    let Some(active) = dicts::get_str_item(h, &b, md, "_active") else {
        return out;
    };
    let Some(table) = dicts::table(h, active, None) else {
        return out;
    };
    for (k, thread) in table.entries {
        let Some(ident) = ints::small_int(h, k) else {
            continue;
        };
        if let Some(name) = dec
            .attribute(thread, "_name")
            .and_then(|n| strings::exact_str(h, &b, n))
        {
            out.insert(ident as u64, name);
        }
    }
    out
}

#[cfg(test)]
mod layering;
