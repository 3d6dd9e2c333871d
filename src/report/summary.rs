//! Table rendering of `summary`.

use super::fmt::{bytes, count, pct};
use super::visible::cell;
use super::{align_right, facts, finish, new_table, Report, Style};
use crate::analysis::summary::{GroupBy, Summary};

impl Report for Summary {
    const COMMAND: &'static str = "summary";

    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        facts::render(&self.snapshot, &mut out);
        out.push('\n');
        let key = match self.by {
            GroupBy::Type => "type",
            GroupBy::Module => "module",
            GroupBy::Traceback => "allocated at",
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
                "... {} more {key}s (--limit to show more)\n",
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
