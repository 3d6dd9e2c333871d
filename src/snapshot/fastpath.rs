//! A strict parser for object lines in the agent's canonical layout.
//!
//! `{"k":"o","a":N,"t":N,"s":N,"rc":N,"r":[N,...]` followed by any of `"n"`, `"h"`, `"l"`,
//! `"name"`, `"b"` and `}`. Strings must be free of escapes. Anything else (another key
//! order, whitespace, escapes, values, a malformed number) makes it return `false` having
//! changed nothing, and the caller parses the line with serde, which also produces the
//! error message for a bad line. It exists because object lines are the bulk of a snapshot.

use super::records::{ObjColumns, Row};
use std::borrow::Cow;

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn eat(&mut self, lit: &[u8]) -> Option<()> {
        if self.s[self.i..].starts_with(lit) {
            self.i += lit.len();
            Some(())
        } else {
            None
        }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn uint(&mut self) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&c) = self.s.get(self.i) {
            if !c.is_ascii_digit() {
                break;
            }
            v = v.checked_mul(10)?.checked_add((c - b'0') as u64)?;
            self.i += 1;
        }
        let n = self.i - start;
        // JSON forbids leading zeros.
        if n == 0 || (n > 1 && self.s[start] == b'0') {
            return None;
        }
        Some(v)
    }

    fn int(&mut self) -> Option<i64> {
        if self.peek() == Some(b'-') {
            self.i += 1;
            let v = self.uint()?;
            if v > i64::MAX as u64 + 1 {
                return None;
            }
            Some((v as i64).wrapping_neg())
        } else {
            i64::try_from(self.uint()?).ok()
        }
    }

    /// A string without escapes or control characters.
    fn string(&mut self) -> Option<&'a str> {
        self.eat(b"\"")?;
        let start = self.i;
        let end = start + memchr::memchr2(b'"', b'\\', &self.s[start..])?;
        if self.s[end] != b'"' || self.s[start..end].iter().any(|&c| c < 0x20) {
            return None;
        }
        self.i = end + 1;
        std::str::from_utf8(&self.s[start..end]).ok()
    }
}

/// Parse `line` into `cols`; `false` (and `cols` untouched) when it is not canonical.
pub fn parse_object<'a>(
    line: &'a [u8],
    cols: &mut ObjColumns<'a>,
    scratch: &mut Scratch<'a>,
) -> bool {
    scratch.clear();
    // The references go straight into the chunk's column (no copy of a huge line's), and
    // come out again if the line is not canonical. Memory that cannot be had is a refusal
    // by the full parser, never an abort.
    let mark = cols.refs.len();
    let ok = parse(line, scratch, &mut cols.refs).is_some();
    if !ok {
        cols.refs.truncate(mark);
    }
    if ok {
        let local = cols.next_local();
        for (pos, text) in scratch.labels.drain(..) {
            cols.push_label(local, pos, Cow::Borrowed(text));
        }
        if let Some(n) = scratch.name.take() {
            cols.names.push((local, Cow::Borrowed(n)));
        }
        for &(a, s) in &scratch.buffers {
            cols.buffers.push((local, a, s));
        }
        let row = scratch.row.take().expect("parsed row");
        cols.commit(row);
    }
    ok
}

/// Reusable buffers for one line.
#[derive(Default)]
pub struct Scratch<'a> {
    labels: Vec<(u32, &'a str)>,
    buffers: Vec<(u64, u64)>,
    name: Option<&'a str>,
    row: Option<Row>,
}

impl Scratch<'_> {
    fn clear(&mut self) {
        self.labels.clear();
        self.buffers.clear();
        self.name = None;
        self.row = None;
    }
}

fn parse<'a>(line: &'a [u8], out: &mut Scratch<'a>, refs: &mut Vec<u64>) -> Option<()> {
    let mut c = Cursor { s: line, i: 0 };
    c.eat(br#"{"k":"o","a":"#)?;
    let addr = c.uint()?;
    c.eat(br#","t":"#)?;
    let type_id = u32::try_from(c.uint()?).ok()?;
    c.eat(br#","s":"#)?;
    // Sizes out of bounds and negative counts take the full parser, which names the error.
    let size = c.uint().filter(|&s| s <= super::records::MAX_SIZE)?;
    c.eat(br#","rc":"#)?;
    let refcnt = u64::try_from(c.int()?).ok()?;
    c.eat(br#","r":["#)?;
    if c.peek() != Some(b']') {
        loop {
            let r = c.uint()?;
            if refs.len() == refs.capacity() {
                refs.try_reserve(refs.len().max(64)).ok()?;
            }
            refs.push(r);
            if c.eat(b",").is_none() {
                break;
            }
        }
    }
    c.eat(b"]")?;
    let (mut len, mut hash) = (None, None);
    while c.eat(b",").is_some() {
        let key = c.string()?;
        c.eat(b":")?;
        match key {
            "n" if len.is_none() => len = Some(c.uint()?),
            "h" if hash.is_none() => hash = Some(c.int()?),
            "name" if out.name.is_none() => out.name = Some(c.string()?),
            "l" => {
                c.eat(b"[")?;
                let mut pos = 0u32;
                if c.peek() != Some(b']') {
                    loop {
                        if c.eat(b"null").is_none() {
                            out.labels.push((pos, c.string()?));
                        }
                        pos += 1;
                        if c.eat(b",").is_none() {
                            break;
                        }
                    }
                }
                c.eat(b"]")?;
            }
            "b" => {
                c.eat(b"[")?;
                if c.peek() != Some(b']') {
                    loop {
                        c.eat(b"[")?;
                        let a = c.uint()?;
                        c.eat(b",")?;
                        let s = c.uint().filter(|&s| s <= super::records::MAX_SIZE)?;
                        c.eat(b"]")?;
                        out.buffers.push((a, s));
                        if c.eat(b",").is_none() {
                            break;
                        }
                    }
                }
                c.eat(b"]")?;
            }
            _ => return None,
        }
    }
    c.eat(b"}")?;
    if c.i != line.len() {
        return None;
    }
    out.row = Some(Row {
        addr,
        type_id,
        size,
        refcnt,
        len,
        hash,
    });
    Some(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(line: &str) -> Option<ObjColumns<'_>> {
        let mut cols = ObjColumns::default();
        let mut scratch = Scratch::default();
        parse_object(line.as_bytes(), &mut cols, &mut scratch).then_some(cols)
    }

    #[test]
    fn canonical_lines_parse() {
        let c = fast(r#"{"k":"o","a":10,"t":2,"s":48,"rc":0,"r":[1,2,3],"n":3,"h":-5,"l":["['a']",null,"[2]"],"name":"f","b":[[7,64]]}"#).unwrap();
        assert_eq!(c.addr, [10]);
        assert_eq!(c.refcnt, [0]);
        assert_eq!(c.refs, [1, 2, 3]);
        assert_eq!(c.len, [3]);
        assert_eq!(c.hash, [(0, -5)]);
        assert_eq!(c.labels, [(0, 0, 0), (0, 2, 1)]);
        assert_eq!(c.names[0].1, "f");
        assert_eq!(c.buffers, [(0, 7, 64)]);
        assert!(fast(r#"{"k":"o","a":1,"t":0,"s":16,"rc":1,"r":[]}"#).is_some());
    }

    #[test]
    fn a_line_that_falls_back_leaves_no_references_behind() {
        let mut cols = ObjColumns::default();
        let mut scratch = Scratch::default();
        let ok = r#"{"k":"o","a":1,"t":0,"s":16,"rc":1,"r":[5]}"#;
        let odd = r#"{"k":"o","a":2,"t":0,"s":16,"rc":1,"r":[6,7],"zz":1}"#;
        assert!(parse_object(ok.as_bytes(), &mut cols, &mut scratch));
        assert!(!parse_object(odd.as_bytes(), &mut cols, &mut scratch));
        assert_eq!(cols.refs, [5]);
    }

    #[test]
    fn anything_unusual_falls_back() {
        for line in [
            r#"{"k":"o","t":0,"a":1,"s":16,"rc":1,"r":[]}"#,
            r#"{"k":"o","a":01,"t":0,"s":16,"rc":1,"r":[]}"#,
            r#"{"k":"o","a":1,"t":0,"s":16,"rc":1,"r":[]} "#,
            r#"{"k":"o","a":1,"t":0,"s":16,"rc":1,"r":[],"name":"a\"b"}"#,
            r#"{"k":"o","a":1,"t":0,"s":16,"rc":1,"r":[],"v":"x"}"#,
            r#"{"k":"o","a":1,"t":0,"s":16,"rc":1,"r":[1,]}"#,
            r#"{"k":"o","a":99999999999999999999,"t":0,"s":16,"rc":1,"r":[]}"#,
            r#"{"k":"o","a":1,"t":0,"s":16,"rc":1,"r":[],"n":1,"n":2}"#,
        ] {
            assert!(fast(line).is_none(), "{line}");
        }
    }
}
