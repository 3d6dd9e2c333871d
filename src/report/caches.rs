//! Table rendering of `caches`.

use super::fmt::{bytes, count};
use super::visible::{cell, visible};
use super::{align_right, finish, new_table, Report, Style};
use crate::analysis::caches::{Cache, Caches, TypeShare, Verdict};
use std::fmt::Write;

fn types(t: &[TypeShare]) -> String {
    t.iter()
        .map(|x| visible(&x.type_name))
        .collect::<Vec<_>>()
        .join("|")
}

fn held(c: &Cache) -> String {
    match (c.key_types.is_empty(), c.value_types.is_empty()) {
        (true, true) => "-".into(),
        (true, false) => types(&c.value_types),
        (false, _) => format!("{} -> {}", types(&c.key_types), types(&c.value_types)),
    }
}

impl Report for Caches {
    const COMMAND: &'static str = "caches";

    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        for s in &self.snapshots {
            let _ = writeln!(
                out,
                "Snapshot   {} ({} objects)",
                visible(&s.path),
                count(s.objects)
            );
        }
        let _ = writeln!(
            out,
            "Containers with {}+ entries held by modules, classes, long-lived objects, defaults or closures\n",
            count(self.min_entries)
        );
        if self.caches.is_empty() {
            out.push_str("None.\n");
            return out;
        }
        let mut t = new_table(
            style,
            &[
                "verdict", "kind", "entries", "retained", "bound", "hit rate", "holds", "path",
            ],
        );
        for c in &self.caches {
            let verdict = match c.verdict {
                Verdict::Growing => "GROWING",
                Verdict::Large => "large",
                Verdict::Unbounded => "unbounded",
                Verdict::Steady => "steady",
                Verdict::Bounded => "bounded",
            };
            let entries = c
                .entries
                .iter()
                .map(|e| e.map_or_else(|| "-".into(), count))
                .collect::<Vec<_>>()
                .join(" -> ");
            let rate = match (c.hits, c.misses) {
                (Some(h), Some(m)) if h + m > 0 => {
                    format!("{:.0} %", 100.0 * h as f64 / (h + m) as f64)
                }
                _ => "-".into(),
            };
            t.add_row(vec![
                verdict.to_string(),
                cell(&c.kind),
                entries,
                bytes(c.retained),
                c.bound.map_or_else(|| "-".into(), count),
                rate,
                held(c),
                c.path
                    .as_ref()
                    .map_or_else(|| c.addr.clone(), |p| cell(&p.expr)),
            ]);
        }
        align_right(&mut t, &[2, 3, 4, 5]);
        out.push_str(&finish(&t));
        for c in &self.caches {
            let name = c.path.as_ref().map_or(c.addr.as_str(), |p| p.expr.as_str());
            if let Some(place) = &c.defined_at {
                let _ = writeln!(out, "{} is defined at {}", visible(name), visible(place));
            }
            if let Some(class) = &c.keeps_instances_of {
                let _ = writeln!(
                    out,
                    "  an lru_cache on a method of {}: {}",
                    visible(class),
                    crate::analysis::method_cache::ADVICE
                );
            }
        }
        if self.more > 0 {
            let _ = writeln!(
                out,
                "... {} more (--limit to show more)",
                count(self.more as u64)
            );
        }
        out.push_str(
            "(GROWING: no bound and more entries in every later snapshot; large: no bound and 10,000+\n\
             entries or 1 MiB+ retained; steady: no bound, same entries in every snapshot; bounded: an\n\
             lru_cache maxsize or a deque maxlen)\n",
        );
        out
    }
}
