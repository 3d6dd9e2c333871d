//! Table rendering of `advise`.

use super::fmt::{bytes, count};
use super::visible::visible;
use super::{overview, Report, Style};
use crate::analysis::advise::{Advice, AdviceKind};
use std::fmt::Write;

impl Report for Advice {
    const COMMAND: &'static str = "advise";

    fn table(&self, _style: &Style) -> String {
        let mut out = String::new();
        overview::render(&self.snapshot, &mut out);
        out.push('\n');
        if self.items.is_empty() {
            out.push_str("No advice: nothing stands out.\n");
            return out;
        }
        for (i, item) in self.items.iter().enumerate() {
            let what = if matches!(item.kind, AdviceKind::Cache | AdviceKind::MethodCache) {
                "retained"
            } else {
                "saves"
            };
            let _ = writeln!(
                out,
                "{:>2}. {what} {:>9}  {}",
                i + 1,
                bytes(item.saving),
                visible(&item.title)
            );
            for e in &item.examples {
                let _ = writeln!(
                    out,
                    "               {:>9}  {} (x{})",
                    bytes(e.saving),
                    visible(&e.what),
                    count(e.count)
                );
            }
        }
        out.push_str("\n(savings computed from the measured block sizes in this snapshot)\n");
        out
    }
}
