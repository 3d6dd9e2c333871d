//! Text that came from a snapshot or the command line, made safe to print: the one place
//! where names (types, modules, attributes, functions, roots, files) are written visibly
//! before they reach a terminal, a CI log, CSV, DOT, SVG, JUnit or an error line.
//!
//! `visible` writes every control character, every invisible or direction-changing format
//! character and every private-use character as an escape (`\n`, `\x1b`, `\u{202e}`), and a
//! backslash as `\\`, so that the visible form is unambiguous: two different names never
//! look the same. `net` is the safety net over a whole rendered text: any control character
//! left in it other than the line breaks pymem itself wrote is escaped too. JSON output does
//! not go through here; serde escapes it and keeps every name exact.

use std::borrow::Cow;

/// Marks the start and the end of a table header for `for_terminal` (private-use
/// characters, which `visible` escapes wherever a name contains them).
pub(crate) const HEADER_ON: char = '\u{E000}';
pub(crate) const HEADER_OFF: char = '\u{E001}';

/// Whether `c` is written as an escape.
fn hidden(c: char) -> bool {
    c.is_control()
        || matches!(c as u32,
            0xAD                    // soft hyphen
            | 0x600..=0x605 | 0x61C | 0x6DD | 0x70F | 0x180E
            | 0x200B..=0x200F       // zero-width characters, direction marks
            | 0x2028..=0x202E       // line and paragraph separators, embeddings, overrides
            | 0x2060..=0x206F       // word joiner, invisible operators, isolates
            | 0xE000..=0xF8FF       // private use
            | 0xFEFF                // zero-width no-break space (BOM)
            | 0xFFF9..=0xFFFB       // interlinear annotations
            | 0xE0000..=0xE007F     // tags
            | 0xF0000..=0x10FFFF    // supplementary private use
        )
}

fn escape_into(c: char, out: &mut String) {
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        c if (c as u32) < 0x100 => out.push_str(&format!("\\x{:02x}", c as u32)),
        c => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
    }
}

/// `s` with every hidden character (and the backslash) written as an escape; borrowed when
/// there is nothing to escape.
pub fn visible(s: &str) -> Cow<'_, str> {
    if !s.chars().any(|c| c == '\\' || hidden(c)) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if c == '\\' || hidden(c) {
            escape_into(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `visible`, owned: for table cells.
pub fn cell(s: &str) -> String {
    visible(s).into_owned()
}

/// A whole rendered text with every control character other than `\n` escaped (backslashes
/// are left as they are: names have been through `visible` already).
pub fn net(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && hidden(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if c != '\n' && hidden(c) {
            escape_into(c, &mut out);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// A table report ready for output: the net, then the header marks turned into bold (when
/// styling is allowed) or removed.
pub fn for_terminal(text: &str, color: bool) -> String {
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == HEADER_ON || c == HEADER_OFF {
            out.push_str(&net(&text[start..i]));
            if color {
                out.push_str(if c == HEADER_ON { "\x1b[1m" } else { "\x1b[0m" });
            }
            start = i + c.len_utf8();
        }
    }
    out.push_str(&net(&text[start..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The inverse of `visible`, to prove that it loses nothing.
    fn unescape(s: &str) -> String {
        let mut out = String::new();
        let mut it = s.chars().peekable();
        while let Some(c) = it.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            match it.next().unwrap() {
                '\\' => out.push('\\'),
                'n' => out.push('\n'),
                'r' => out.push('\r'),
                't' => out.push('\t'),
                'x' => {
                    let h: String = it.by_ref().take(2).collect();
                    out.push(char::from_u32(u32::from_str_radix(&h, 16).unwrap()).unwrap());
                }
                'u' => {
                    assert_eq!(it.next(), Some('{'));
                    let h: String = it.by_ref().take_while(|&c| c != '}').collect();
                    out.push(char::from_u32(u32::from_str_radix(&h, 16).unwrap()).unwrap());
                }
                other => panic!("unknown escape \\{other}"),
            }
        }
        out
    }

    #[test]
    fn the_attack_from_the_issue_is_written_visibly() {
        let name = "Evil\x1b]0;pwned\x07Q\nRSS        0 B (forged)";
        assert_eq!(
            visible(name),
            "Evil\\x1b]0;pwned\\x07Q\\nRSS        0 B (forged)"
        );
        assert_eq!(visible("evilmod\x1b[2J"), "evilmod\\x1b[2J");
        assert_eq!(visible("a\u{202e}b\u{9b}"), "a\\u{202e}b\\x9b");
        assert!(matches!(visible("shop.Cart['u1']"), Cow::Borrowed(_)));
        assert_eq!(visible("ünïcödé 名前"), "ünïcödé 名前");
    }

    #[test]
    fn the_net_keeps_line_breaks_and_escapes_the_rest() {
        assert_eq!(net("a\nb\x1b[2J\r\n"), "a\nb\\x1b[2J\\r\n");
        assert_eq!(
            for_terminal("\u{E000}type\u{E001}\nx\x07\n", true),
            "\x1b[1mtype\x1b[0m\nx\\x07\n"
        );
        assert_eq!(
            for_terminal("\u{E000}type\u{E001}\nx\n", false),
            "type\nx\n"
        );
    }

    fn any_name() -> impl Strategy<Value = String> {
        prop::collection::vec(
            prop_oneof![
                any::<char>(),
                (0u32..0x20).prop_map(|c| char::from_u32(c).unwrap()),
                (0x7fu32..0xa0).prop_map(|c| char::from_u32(c).unwrap()),
                Just('\\'),
                Just('\u{202e}'),
                Just('\u{E000}'),
            ],
            0..40,
        )
        .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #[test]
        fn the_visible_form_is_printable_and_unambiguous(a in any_name(), b in any_name()) {
            let (va, vb) = (visible(&a), visible(&b));
            prop_assert!(!va.chars().any(hidden), "{:?}", va);
            prop_assert_eq!(unescape(&va), a.clone());
            prop_assert_eq!(a == b, va == vb);
            prop_assert_eq!(net(&va), va.clone());
        }
    }
}
