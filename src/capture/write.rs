//! Writing the snapshot's lines — the same JSON Lines the agent writes, so that the loader and
//! every analysis never know how a snapshot was taken. Type ids are numbered densely in the
//! order types are first written, each type's line just before its first instance.

use super::decode::Decoded;
use super::types::TypeInfo;
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
    pub fn new(mut file: std::fs::File) -> Background {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(4);
        let thread = std::thread::spawn(move || {
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
