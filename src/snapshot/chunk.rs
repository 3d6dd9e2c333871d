//! Parsing one line-aligned chunk of a snapshot: the unit of parallel work.

use super::fastpath::{self, Scratch};
use super::model::{EndRecord, Header, TypeInfo};
use super::records::{ArenaLine, KindOnly, ObjColumns, ObjSeed, RootLine, TracebackLine, TypeLine};
use serde::de::DeserializeSeed;

/// What one chunk held, in file order.
#[derive(Default)]
pub struct Chunk<'a> {
    pub objs: ObjColumns<'a>,
    pub types: Vec<(u64, u32, TypeInfo)>,
    pub arenas: Vec<(u64, ArenaLine)>,
    pub roots: Vec<(u64, RootLine<'a>)>,
    pub tracebacks: Vec<(u64, TracebackLine)>,
    pub header: Option<(u64, Header)>,
    pub end: Option<(u64, EndRecord)>,
    /// Line number of the last non-empty line and its kind.
    pub last_kind: Option<(u64, String)>,
}

/// A parse failure: the line and what is wrong with it.
pub struct LineError {
    pub line: u64,
    pub message: String,
}

const OBJ_PREFIX: &[u8] = br#"{"k":"o","#;

/// Parse every line of `data` (which starts at line `first_line`).
pub fn parse_chunk(data: &[u8], first_line: u64) -> Result<Chunk<'_>, LineError> {
    let mut chunk = Chunk::default();
    let mut scratch = Scratch::default();
    for (line_no, raw) in (first_line..).zip(data.split(|&b| b == b'\n')) {
        let line = trim(raw);
        if line.is_empty() {
            continue;
        }
        if fastpath::parse_object(line, &mut chunk.objs, &mut scratch) {
            chunk.last_kind = Some((line_no, "o".into()));
            continue;
        }
        parse_line(&mut chunk, line, line_no).map_err(|message| LineError {
            line: line_no,
            message,
        })?;
    }
    chunk.objs.finish_parsing();
    Ok(chunk)
}

fn trim(raw: &[u8]) -> &[u8] {
    let mut s = raw;
    while let [rest @ .., b'\r' | b' ' | b'\t'] = s {
        s = rest;
    }
    s
}

fn parse_line<'a>(chunk: &mut Chunk<'a>, line: &'a [u8], line_no: u64) -> Result<(), String> {
    if line.starts_with(OBJ_PREFIX) {
        parse_object(chunk, line)?;
        chunk.last_kind = Some((line_no, "o".into()));
        return Ok(());
    }
    let text = std::str::from_utf8(line)
        .map_err(|_| "not UTF-8 text (is this a snapshot?)".to_string())?;
    let kind: KindOnly = serde_json::from_str(text).map_err(|e| describe(&e))?;
    let kind = kind.k.into_owned();
    match kind.as_str() {
        "o" => parse_object(chunk, line)?,
        "type" => {
            let t: TypeLine = serde_json::from_str(text).map_err(|e| describe(&e))?;
            let name = t.name.into_owned();
            let module = match t.module {
                Some(m) => m.into_owned(),
                None => name
                    .rsplit_once('.')
                    .map_or("builtins", |(m, _)| m)
                    .to_string(),
            };
            let info = TypeInfo {
                addr: t.a,
                name,
                module,
                flags: t.flags,
                basicsize: t.basicsize,
                pre: t.pre,
                python_class: t.py,
            };
            chunk.types.push((line_no, t.id, info));
        }
        "arena" => {
            let a: ArenaLine = serde_json::from_str(text).map_err(|e| describe(&e))?;
            chunk.arenas.push((line_no, a));
        }
        "root" => {
            let r: RootLine = serde_json::from_str(text).map_err(|e| describe(&e))?;
            chunk.roots.push((line_no, r));
        }
        "tb" => {
            let t: TracebackLine = serde_json::from_str(text).map_err(|e| describe(&e))?;
            chunk.tracebacks.push((line_no, t));
        }
        "header" => {
            let h: Header = serde_json::from_str(text).map_err(|e| describe(&e))?;
            chunk.header = Some((line_no, h));
        }
        "end" => {
            let e: EndRecord = serde_json::from_str(text).map_err(|e| describe(&e))?;
            chunk.end = Some((line_no, e));
        }
        // Record kinds from newer minor revisions are skipped, not fatal.
        _ => {}
    }
    chunk.last_kind = Some((line_no, kind));
    Ok(())
}

fn parse_object<'a>(chunk: &mut Chunk<'a>, line: &'a [u8]) -> Result<(), String> {
    let text = std::str::from_utf8(line).map_err(|_| "not UTF-8 text".to_string())?;
    let mut de = serde_json::Deserializer::from_str(text);
    ObjSeed {
        cols: &mut chunk.objs,
    }
    .deserialize(&mut de)
    .map_err(|e| format!("bad object record: {}", describe(&e)))?;
    de.end().map_err(|e| describe(&e))
}

/// serde_json's message without its own "at line 1 column N" (we name the file line).
fn describe(e: &serde_json::Error) -> String {
    let msg = e.to_string();
    let msg = match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_string(),
        None => msg,
    };
    if e.column() > 0 {
        format!("{msg} (column {})", e.column())
    } else {
        msg
    }
}

impl Chunk<'_> {
    pub fn object_count(&self) -> usize {
        self.objs.count()
    }
}
