//! Table rendering of `summary`.

use super::fmt::{bytes, count, pct, plural, signed_bytes};
use super::visible::{cell, visible};
use super::{align_right, finish, new_table, overview, Report, Style};
use crate::analysis::rss::RssBreakdown;
use crate::analysis::summary::{GroupBy, Summary};
use std::fmt::Write;

impl Report for Summary {
    const COMMAND: &'static str = "summary";

    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        overview::render(&self.snapshot, &mut out);
        if let Some(m) = &self.memory {
            render_memory(m, &mut out);
        }
        out.push('\n');
        let (key, groups) = match self.by {
            GroupBy::Type => ("type", "types"),
            GroupBy::Module => ("module", "modules"),
            GroupBy::Traceback => ("allocated at", "allocation sites"),
        };
        let mut t = new_table(style, &[key, "count", "bytes", "share"]);
        for r in &self.rows {
            t.add_row(vec![
                cell(&r.key),
                count(r.count),
                bytes(r.bytes),
                pct(r.share),
            ]);
        }
        align_right(&mut t, &[1, 2, 3]);
        out.push_str(&finish(&t));
        if self.groups > self.rows.len() {
            out.push_str(&format!(
                "... {} more {groups} (--limit to show more)\n",
                count((self.groups - self.rows.len()) as u64)
            ));
        }
        if let Some((n, b)) = self.folded_dicts {
            out.push_str(&format!(
                "folded: {} instance __dict__s ({}) are counted in their owners' rows, not as dict\n",
                count(n),
                bytes(b)
            ));
        }
        out.push_str(&format!(
            "total: {} objects, {} (objects and their owned buffers)\n",
            count(self.total_count),
            bytes(self.total_bytes)
        ));
        out
    }
}

/// The RSS breakdown, one part per line.
fn render_memory(m: &RssBreakdown, out: &mut String) {
    let _ = writeln!(out, "Memory     where the {} of RSS were:", bytes(m.rss));
    for p in &m.parts {
        let name = match p.part {
            "pymalloc_arenas" => "pymalloc arenas",
            "c_heap" => "C heap (malloc)",
            "thread_stacks" => "thread stacks",
            "files" => "files and libraries",
            _ => "other anonymous",
        };
        let detail = match p.part {
            "c_heap" => match (&m.c_heap, &m.c_heap_missing) {
                (Some(c), _) => format!(
                    "{}: {} in use ({} Python objects and buffers outside pymalloc, {} other), {} free in {} (address space: only its touched pages are resident)",
                    visible(&c.allocator),
                    bytes(c.in_use),
                    bytes(c.python),
                    bytes(c.other),
                    bytes(c.free),
                    plural(c.heaps, "heap")
                ),
                (None, Some(why)) => visible(why).into_owned(),
                (None, None) => String::new(),
            },
            "pymalloc_arenas" => m
                .arena_live
                .map_or_else(String::new, |l| format!("{} in live blocks", bytes(l))),
            "thread_stacks" => plural(m.threads, "thread"),
            "other_anonymous" => "mappings of extensions, large blocks not told apart".into(),
            _ => String::new(),
        };
        let line = format!(
            "             {:<20} {:>10}  {:<8}  {detail}",
            name,
            bytes(p.bytes),
            p.how
        );
        let _ = writeln!(out, "{}", line.trim_end());
    }
    let _ = writeln!(
        out,
        "             {:<20} {:>10}  (RSS and the mappings read a moment apart)",
        "unexplained",
        signed_bytes(m.unexplained)
    );
}
