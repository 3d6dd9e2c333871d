//! Table and CSV rendering of `diff`.

use super::fmt::{bytes, count, signed_bytes, signed_count};
use super::visible::{cell, visible};
use super::{align_right, finish, new_table, Report, Style};
use crate::analysis::diff::{Diff, DiffBy, DiffRow};
use std::fmt::Write;

fn opt_count(n: Option<u64>) -> String {
    n.map_or_else(|| "-".into(), count)
}

fn row_cells(r: &DiffRow) -> Vec<String> {
    vec![
        signed_bytes(r.bytes_delta),
        signed_count(r.count_delta),
        format!("{} / {}", count(r.count_a), bytes(r.bytes_a)),
        format!("{} / {}", count(r.count_b), bytes(r.bytes_b)),
        opt_count(r.new),
        opt_count(r.gone),
        cell(&r.key),
    ]
}

impl Report for Diff {
    const COMMAND: &'static str = "diff";

    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        let who = |f: &crate::analysis::overview::SnapshotFacts| {
            let mut s = format!("{} ({} objects", visible(&f.path), count(f.objects));
            if let Some(t) = f.time {
                let _ = write!(s, ", {}", super::fmt::utc(t));
            }
            s.push(')');
            s
        };
        let _ = writeln!(out, "A          {}", who(&self.a));
        let _ = writeln!(out, "B          {}", who(&self.b));
        if let (Some(x), Some(y)) = (self.rss_a, self.rss_b) {
            let _ = writeln!(
                out,
                "RSS        {} -> {} ({})",
                bytes(x),
                bytes(y),
                signed_bytes(y as i64 - x as i64)
            );
        }
        if let Some(al) = &self.allocator {
            let _ = writeln!(
                out,
                "Arenas     {} -> {} ({}); held {} -> {}, in use {} -> {}",
                count(al.arenas_a),
                count(al.arenas_b),
                signed_count(al.arenas_b as i64 - al.arenas_a as i64),
                bytes(al.bytes_held_a),
                bytes(al.bytes_held_b),
                bytes(al.bytes_in_use_a),
                bytes(al.bytes_in_use_b)
            );
        }
        out.push('\n');
        let key = match self.by {
            DiffBy::Type => "type",
            DiffBy::Module => "module",
            DiffBy::Traceback => "allocated at",
        };
        let mut t = new_table(
            style,
            &[
                "Δ bytes",
                "Δ count",
                "A count / bytes",
                "B count / bytes",
                "new",
                "gone",
                key,
            ],
        );
        for r in &self.rows {
            t.add_row(row_cells(r));
        }
        t.add_row(row_cells(&self.totals));
        align_right(&mut t, &[0, 1, 2, 3, 4, 5]);
        out.push_str(&finish(&t));
        if self.changed_groups > self.rows.len() {
            let _ = writeln!(
                out,
                "... {} more {key}s changed (--limit to show more)",
                count((self.changed_groups - self.rows.len()) as u64)
            );
        }
        match &self.identity_note {
            Some(why) => {
                let _ = writeln!(out, "\nnew/gone not reported: {}", visible(why));
            }
            None => {
                for (title, list) in [
                    ("Largest new objects", &self.new_objects),
                    ("Largest gone objects", &self.gone_objects),
                ] {
                    if list.is_empty() {
                        continue;
                    }
                    let _ = writeln!(out, "\n{title}");
                    let mut t = new_table(style, &["bytes", "address", "type"]);
                    for o in list {
                        t.add_row(vec![bytes(o.bytes), o.addr.clone(), cell(&o.type_name)]);
                    }
                    align_right(&mut t, &[0]);
                    out.push_str(&finish(&t));
                }
                out.push_str(
                    "\n(identity = same address and type; an object freed and replaced by another of its\n\
                      type at the same address between the captures counts as unchanged)\n",
                );
            }
        }
        out
    }
}

impl Diff {
    /// Every changed row (up to the limit) and the total as CSV, with raw numbers.
    pub fn csv(&self) -> String {
        let mut w = csv::Writer::from_writer(Vec::new());
        let key = match self.by {
            DiffBy::Type => "type",
            DiffBy::Module => "module",
            DiffBy::Traceback => "allocated_at",
        };
        let _ = w.write_record([
            key,
            "count_a",
            "bytes_a",
            "count_b",
            "bytes_b",
            "count_delta",
            "bytes_delta",
            "new",
            "new_bytes",
            "gone",
            "gone_bytes",
        ]);
        let opt = |v: Option<u64>| v.map(|v| v.to_string()).unwrap_or_default();
        for r in self.rows.iter().chain(std::iter::once(&self.totals)) {
            let _ = w.write_record([
                cell(&r.key),
                r.count_a.to_string(),
                r.bytes_a.to_string(),
                r.count_b.to_string(),
                r.bytes_b.to_string(),
                r.count_delta.to_string(),
                r.bytes_delta.to_string(),
                opt(r.new),
                opt(r.new_bytes),
                opt(r.gone),
                opt(r.gone_bytes),
            ]);
        }
        String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default()
    }
}
