//! Writing the snapshot's lines — the same JSON Lines the agent writes, so that the loader and
//! every analysis never know how a snapshot was taken. Type ids are numbered densely in the
//! order types are first written, each type's line just before its first instance.

use super::decode::Decoded;
use super::pools::{ArenaRec, Pools};
use super::types::TypeInfo;
use super::{Interpreter, Method, Options, ProcessInfo};
use rustc_hash::FxHashMap as HashMap;
use std::io::{self, Write};

/// A writer that hands full buffers to a thread of its own, which writes them to the file:
/// the kernel's copying into the page cache then overlaps the decoding.
pub struct Background {
    buf: Vec<u8>,
    tx: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
    thread: Option<std::thread::JoinHandle<io::Result<std::fs::File>>>,
}

const CHUNK: usize = 4 << 20;

impl Background {
    /// A writer to `file`, gzip-compressed when `gzip` (a snapshot named `.gz`), on a thread
    /// of its own so that compressing overlaps decoding.
    pub fn new(mut file: std::fs::File, gzip: bool) -> Background {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let thread = std::thread::spawn(move || {
            if gzip {
                let mut z = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
                for chunk in rx {
                    z.write_all(&chunk)?;
                }
                return z.finish();
            }
            for chunk in rx {
                file.write_all(&chunk)?;
            }
            Ok(file)
        });
        Background {
            buf: Vec::with_capacity(CHUNK),
            tx: Some(tx),
            thread: Some(thread),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        match &self.tx {
            Some(tx) => match tx.send(chunk) {
                Ok(()) => Ok(()),
                // The writer stopped at an error (a full disk): that error, not this one.
                Err(_) => {
                    self.tx = None;
                    match self.thread.take().map(|t| t.join()) {
                        Some(Ok(Err(e))) => Err(e),
                        _ => Err(io::Error::other("the writer thread stopped")),
                    }
                }
            },
            None => Err(io::Error::other("already finished")),
        }
    }

    /// Write out what is left and wait for the writer: the file, or its first error.
    pub fn finish(mut self) -> io::Result<std::fs::File> {
        self.send()?;
        self.tx = None;
        match self.thread.take().map(|t| t.join()) {
            Some(Ok(r)) => r,
            _ => Err(io::Error::other("the writer thread failed")),
        }
    }
}

impl Write for Background {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.tx = None;
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The object-line writer.
pub struct Lines<W: Write> {
    out: W,
    ids: HashMap<u32, u32>,
    buf: Vec<u8>,
    pub objects: u64,
    pub refs: u64,
}

fn json_str(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"?\"".into())
}

/// Append a JSON string literal: plain text as is, anything needing escapes through serde.
fn push_json_str(b: &mut Vec<u8>, s: &str) {
    if s.bytes().all(|c| c >= 0x20 && c != b'"' && c != b'\\') {
        b.push(b'"');
        b.extend_from_slice(s.as_bytes());
        b.push(b'"');
    } else {
        b.extend_from_slice(json_str(s).as_bytes());
    }
}

impl<W: Write> Lines<W> {
    /// A `tb` record: one allocation traceback, frames innermost first (before its first use).
    pub fn traceback(&mut self, id: u32, frames: &[(String, u32)]) -> io::Result<()> {
        let b = &mut self.buf;
        b.clear();
        let mut n = itoa::Buffer::new();
        b.extend_from_slice(b"{\"k\":\"tb\",\"id\":");
        b.extend_from_slice(n.format(id).as_bytes());
        b.extend_from_slice(b",\"f\":[");
        for (i, (file, line)) in frames.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            b.push(b'[');
            push_json_str(b, file);
            b.push(b',');
            b.extend_from_slice(n.format(*line).as_bytes());
            b.push(b']');
        }
        b.extend_from_slice(b"]}\n");
        self.out.write_all(b)
    }

    pub fn new(out: W) -> Self {
        Lines {
            out,
            ids: HashMap::default(),
            buf: Vec::with_capacity(1 << 16),
            objects: 0,
            refs: 0,
        }
    }

    pub fn types_written(&self) -> usize {
        self.ids.len()
    }

    /// One arena record: the arena and each of its pools as [address, size class, blocks in
    /// use, free blocks].
    pub fn arena(&mut self, a: &ArenaRec) -> io::Result<()> {
        let pools: Vec<String> = a
            .pools
            .iter()
            .map(|p| format!("[{},{},{},{}]", p.0, p.1, p.2, p.3))
            .collect();
        self.raw(&format!(
            "{{\"k\":\"arena\",\"a\":{},\"index\":{},\"ntotal\":{},\"nfree\":{},\"pools\":[{}]}}",
            a.address,
            a.index,
            a.ntotal,
            a.nfree,
            pools.join(",")
        ))
    }

    /// The end record, after every object and root: its counts say the snapshot is whole.
    pub fn end(&mut self, e: &End) -> io::Result<()> {
        let end = serde_json::json!({
            "k": "end",
            "objects": self.objects,
            "refs": self.refs,
            "types": self.types_written(),
            "arenas": e.arenas,
            "pools": e.pools,
            "roots": e.roots,
            "elapsed": 0,
            "scanned": e.scanned,
            "invalid_references": e.invalid,
            "negative_refcounts": e.negative_refcounts,
            "cut": e.cut,
        });
        self.raw(&end.to_string())
    }

    pub fn raw(&mut self, line: &str) -> io::Result<()> {
        self.out.write_all(line.as_bytes())?;
        self.out.write_all(b"\n")
    }

    /// The snapshot id of a type, writing its record the first time.
    fn type_id(&mut self, t: &TypeInfo) -> io::Result<u32> {
        if let Some(&id) = self.ids.get(&t.id) {
            return Ok(id);
        }
        let id = self.ids.len() as u32;
        self.ids.insert(t.id, id);
        let line = format!(
            "{{\"k\":\"type\",\"id\":{id},\"a\":{},\"name\":{},\"module\":{},\"flags\":{},\"basicsize\":{},\"itemsize\":{},\"pre\":{},\"py\":{}}}",
            t.addr,
            json_str(&t.name),
            json_str(&t.module),
            t.flags,
            t.basicsize,
            t.itemsize,
            t.pre,
            t.python_class
        );
        self.raw(&line)?;
        Ok(id)
    }

    /// One object line.
    pub fn object(
        &mut self,
        addr: u64,
        t: &TypeInfo,
        size: u64,
        rc: u64,
        d: &Decoded,
    ) -> io::Result<()> {
        let tid = self.type_id(t)?;
        let b = &mut self.buf;
        b.clear();
        let mut n = itoa::Buffer::new();
        b.extend_from_slice(b"{\"k\":\"o\",\"a\":");
        b.extend_from_slice(n.format(addr).as_bytes());
        b.extend_from_slice(b",\"t\":");
        b.extend_from_slice(n.format(tid).as_bytes());
        b.extend_from_slice(b",\"s\":");
        b.extend_from_slice(n.format(size).as_bytes());
        b.extend_from_slice(b",\"rc\":");
        b.extend_from_slice(n.format(rc).as_bytes());
        b.extend_from_slice(b",\"r\":[");
        for (i, r) in d.refs.iter().enumerate() {
            if i > 0 {
                b.push(b',');
            }
            b.extend_from_slice(n.format(*r).as_bytes());
        }
        b.push(b']');
        if let Some(len) = d.len {
            b.extend_from_slice(b",\"n\":");
            b.extend_from_slice(n.format(len).as_bytes());
        }
        if let Some(h) = d.hash {
            b.extend_from_slice(b",\"h\":");
            b.extend_from_slice(n.format(h).as_bytes());
        }
        if let Some(v) = &d.value {
            b.extend_from_slice(b",\"v\":");
            b.extend_from_slice(v.as_bytes());
        }
        if let Some(name) = &d.name {
            b.extend_from_slice(b",\"name\":");
            push_json_str(b, name);
        }
        if let Some(tb) = d.tb {
            b.extend_from_slice(b",\"tb\":");
            b.extend_from_slice(n.format(tb).as_bytes());
        }
        if let Some((file, line)) = &d.at {
            b.extend_from_slice(b",\"at\":[");
            push_json_str(b, file);
            b.push(b',');
            b.extend_from_slice(n.format(*line).as_bytes());
            b.push(b']');
        }
        if let Some(bound) = d.bound {
            b.extend_from_slice(b",\"bound\":");
            b.extend_from_slice(n.format(bound).as_bytes());
        }
        if let Some(hits) = d.hits {
            b.extend_from_slice(b",\"hits\":");
            b.extend_from_slice(n.format(hits).as_bytes());
        }
        if let Some(misses) = d.misses {
            b.extend_from_slice(b",\"misses\":");
            b.extend_from_slice(n.format(misses).as_bytes());
        }
        if !d.buffers.is_empty() {
            b.extend_from_slice(b",\"b\":[");
            for (i, (a, s)) in d.buffers.iter().enumerate() {
                if i > 0 {
                    b.push(b',');
                }
                b.push(b'[');
                b.extend_from_slice(n.format(*a).as_bytes());
                b.push(b',');
                b.extend_from_slice(n.format(*s).as_bytes());
                b.push(b']');
            }
            b.push(b']');
        }
        if !d.labels.is_empty() && !d.refs.is_empty() {
            b.extend_from_slice(b",\"l\":[");
            for (i, l) in d.labels.iter().enumerate() {
                if i > 0 {
                    b.push(b',');
                }
                match l {
                    Some(s) => push_json_str(b, s),
                    None => b.extend_from_slice(b"null"),
                }
            }
            b.push(b']');
        }
        b.extend_from_slice(b"}\n");
        self.out.write_all(b)?;
        self.objects += 1;
        self.refs += d.refs.len() as u64;
        Ok(())
    }

    /// A root line.
    pub fn root(
        &mut self,
        addr: u64,
        kind: &str,
        name: &str,
        frame: Option<&str>,
    ) -> io::Result<()> {
        let line = match frame {
            Some(f) => format!(
                "{{\"k\":\"root\",\"a\":{addr},\"kind\":\"{kind}\",\"name\":{},\"frame\":{}}}",
                json_str(name),
                json_str(f)
            ),
            None => format!(
                "{{\"k\":\"root\",\"a\":{addr},\"kind\":\"{kind}\",\"name\":{}}}",
                json_str(name)
            ),
        };
        self.raw(&line)
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The header record: everything known before the walk (what the walk finds goes in the end
/// record). Adds to `missing` what the header says was not recorded.
pub fn header(
    interpreter: &Interpreter,
    pools: &Pools,
    debug_shift: u64,
    interpreter_file: &str,
    info: &ProcessInfo,
    opts: &Options,
    missing: &mut Vec<String>,
) -> serde_json::Value {
    let have_pools = !pools.arenas.is_empty();
    let rows = pools.class_rows();
    let in_use: u64 = rows.iter().map(|r| r[3]).sum();
    let mut allocator = serde_json::json!({
        "name": if have_pools { "pymalloc" } else { "malloc" },
        "debug_hooks": debug_shift == 16 || info.pythonmalloc.as_deref().is_some_and(|m| m.contains("debug")),
        "pythonmalloc": info.pythonmalloc,
    });
    if have_pools {
        let a = allocator.as_object_mut().expect("object");
        a.insert("arena_size".into(), pools.arena_size.into());
        a.insert("pool_size".into(), pools.pool_size.into());
        a.insert("pool_overhead".into(), pools.overhead.into());
        a.insert("alignment".into(), 16.into());
        a.insert("small_threshold".into(), 512.into());
        a.insert("size_classes".into(), 32.into());
        a.insert("debug_shift".into(), debug_shift.into());
    } else {
        missing.push("pools: pymalloc is not the allocator in use".into());
    }
    missing.push("mallocstats: free lists are not read from outside the process".into());
    missing.push(
        "sizes: memory that C types own outside their object and report in __sizeof__ (numpy data, \
         array and deque storage, OrderedDict nodes, ctypes buffers) is not read from outside; \
         the in-process agent records it"
            .into(),
    );
    let mallocstats = have_pools.then(|| {
        serde_json::json!({
            "pymalloc": true,
            "classes": rows,
            "counters": {
                "arenas_allocated_current": pools.arenas.len(),
                "bytes_in_allocated_blocks": rows.iter().map(|r| r[1] * r[3]).sum::<u64>(),
                "bytes_in_available_blocks": rows.iter().map(|r| r[1] * r[4]).sum::<u64>(),
            },
            "free_lists": {},
            "free_list_bytes": {},
            "blocks_in_use": in_use,
        })
    });
    let memory = info.memory.clone().map(|mut m| {
        if have_pools && info.method == Method::Read {
            let ranges: Vec<(u64, u64)> = pools
                .arenas
                .iter()
                .map(|a| (a.address, pools.arena_size))
                .collect();
            m.pymalloc_arenas = crate::remote::procmem::resident(info.pid, &ranges);
        }
        m
    });
    if memory.is_none() {
        missing.push(if info.method == Method::Core {
            "memory: a core file keeps no record of which pages were resident: no RSS breakdown"
                .into()
        } else {
            "memory: the process's mappings could not be read: no RSS breakdown".into()
        });
    }
    let time = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64());
    serde_json::json!({
        "k": "header",
        "format": crate::snapshot::FORMAT_NAME,
        "version": crate::snapshot::FORMAT_VERSION,
        "python": {
            "version": interpreter.version.to_string(),
            "implementation": "cpython",
            "hexversion": interpreter.version.hex(),
            "build": interpreter.build,
            "platform": interpreter.platform,
        },
        "allocator": allocator,
        "pid": info.pid,
        "argv": interpreter.argv,
        "time": time,
        "rss": info.rss,
        "memory": memory,
        "values": opts.values,
        "mallocstats": mallocstats,
        "recorded": {
            "objects": true,
            "refs": true,
            "labels": true,
            "pools": have_pools,
            "values": opts.values,
            "tracebacks": false, // the caller says whether it read tracemalloc's table
        },
        "missing": missing.clone(),
        "capture": {
            "method": info.method,
            "stopped_ms": info.stopped_ms,
            "interpreter": interpreter_file,
        },
    })
}

/// The end record's figures: what the walk found.
pub struct End {
    pub arenas: usize,
    pub pools: usize,
    pub roots: u64,
    /// Objects of C types nobody decodes, scanned for pointers, by type name.
    pub scanned: Vec<(String, u64)>,
    pub invalid: u64,
    pub negative_refcounts: u64,
    /// Containers whose items were cut short, by type name.
    pub cut: Vec<(String, u64)>,
}
