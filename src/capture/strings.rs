//! `str` and `bytes` objects read from memory: their text, length, a content hash for finding
//! duplicates, and the few Python spellings the agent writes (`str.isidentifier`, `repr`).

use super::builtins::Builtins;
use super::heap::Heap;
use std::hash::{Hash, Hasher};

/// A decoded `str`: code points, with the storage kind (1, 2 or 4 bytes per code point).
pub struct Text<'a> {
    pub kind: u8,
    pub len: usize,
    pub data: &'a [u8],
}

impl Text<'_> {
    pub fn chars(&self) -> impl Iterator<Item = char> + '_ {
        let k = self.kind as usize;
        (0..self.len).map(move |i| {
            let at = i * k;
            let cp = match k {
                1 => self.data[at] as u32,
                2 => u16::from_le_bytes([self.data[at], self.data[at + 1]]) as u32,
                _ => u32::from_le_bytes([
                    self.data[at],
                    self.data[at + 1],
                    self.data[at + 2],
                    self.data[at + 3],
                ]),
            };
            char::from_u32(cp).unwrap_or('\u{fffd}')
        })
    }

    pub fn to_string_lossy(&self) -> String {
        if self.kind == 1 && self.data.is_ascii() {
            return String::from_utf8_lossy(self.data).into_owned();
        }
        self.chars().collect()
    }

    /// A hash of the content, equal for equal strings within one snapshot (CPython keeps every
    /// string in its narrowest kind, so equal strings have equal kinds and bytes).
    pub fn content_hash(&self) -> i64 {
        content_hash(self.kind, self.data)
    }
}

/// The 64-bit content hash written as `h` (the standard hasher with its fixed keys: equal
/// for equal content within one run of pymem, which is all duplicate detection needs).
pub fn content_hash(kind: u8, data: &[u8]) -> i64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    kind.hash(&mut h);
    data.hash(&mut h);
    h.finish() as i64
}

/// Longest string decoded for a name or a label (longer ones are not names).
const MAX_TEXT: usize = 1 << 24;

/// Decode the `str` object at `addr` (its type is known to be str or a subclass).
pub fn text<'a>(heap: &Heap<'a>, addr: u64) -> Option<Text<'a>> {
    let o = heap.off;
    let len = heap.i64(addr.wrapping_add(o.str_length))?;
    if !(0..=MAX_TEXT as i64).contains(&len) {
        return None;
    }
    let state = heap.u32(addr.wrapping_add(o.str_state))? as u64;
    let kind_shift = o.str_kind_bits.trailing_zeros();
    let kind = ((state & o.str_kind_bits) >> kind_shift) as u8;
    if !matches!(kind, 1 | 2 | 4) {
        return None;
    }
    let compact = state & o.str_compact_bit != 0;
    let ascii = state & o.str_ascii_bit != 0;
    let data = if compact && ascii {
        addr + o.ascii_size
    } else if compact {
        addr + o.compact_size
    } else {
        heap.word(addr.wrapping_add(o.str_data))?
    };
    let bytes = heap.bytes(data, len as usize * kind as usize)?;
    Some(Text {
        kind,
        len: len as usize,
        data: bytes,
    })
}

/// The text of an object that is exactly a `str`; None for anything else.
pub fn exact_str(heap: &Heap, b: &Builtins, addr: u64) -> Option<String> {
    if addr == 0 || heap.type_of(addr)? != b.str_ {
        return None;
    }
    text(heap, addr).map(|t| t.to_string_lossy())
}

/// Whether `addr` is exactly a `str` equal to `want`.
pub fn str_equals(heap: &Heap, b: &Builtins, addr: u64, want: &str) -> bool {
    if addr == 0 || heap.type_of(addr) != Some(b.str_) {
        return false;
    }
    match text(heap, addr) {
        Some(t) if t.kind == 1 && t.len == want.len() => t.data == want.as_bytes(),
        Some(t) => t.len == want.chars().count() && t.chars().eq(want.chars()),
        None => false,
    }
}

/// The bytes of a `bytes` object.
pub fn bytes_of<'a>(heap: &Heap<'a>, addr: u64) -> Option<&'a [u8]> {
    let n = heap.ob_size(addr)?;
    if !(0..=1 << 40).contains(&n) {
        return None;
    }
    heap.bytes(addr.wrapping_add(heap.off.bytes_sval), n as usize)
}

/// Python's `str.isidentifier`.
pub fn is_identifier(t: &Text) -> bool {
    let mut chars = t.chars();
    match chars.next() {
        Some(c) if c == '_' || unicode_ident::is_xid_start(c) => {}
        _ => return false,
    }
    chars.all(unicode_ident::is_xid_continue)
}

/// Python's `repr` of a string: single quotes unless the text has single quotes and no
/// double ones; backslash escapes for the quote, backslash and non-printable characters.
/// (Non-ASCII printability follows Rust's notion of control and whitespace characters, which
/// can differ from Python's tables for rare characters.)
pub fn py_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if (c as u32) < 0x80 => out.push(c),
            c if c.is_control() || (c.is_whitespace() && c != ' ') => {
                let cp = c as u32;
                if cp <= 0xff {
                    out.push_str(&format!("\\x{cp:02x}"));
                } else if cp <= 0xffff {
                    out.push_str(&format!("\\u{cp:04x}"));
                } else {
                    out.push_str(&format!("\\U{cp:08x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python_for_common_text() {
        assert_eq!(py_repr("abc"), "'abc'");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(py_repr("tab\there\n\x01"), "'tab\\there\\n\\x01'");
        assert_eq!(py_repr("é€"), "'é€'");
    }

    #[test]
    fn identifiers_follow_xid() {
        let t = |s: &'static str| Text {
            kind: 1,
            len: s.len(),
            data: s.as_bytes(),
        };
        assert!(is_identifier(&t("_x1")));
        assert!(!is_identifier(&t("1x")));
        assert!(!is_identifier(&t("a-b")));
        assert!(!is_identifier(&t("")));
    }
}
