//! Table and JUnit rendering of `leaks` and `gate`.

use super::fmt::{bytes, count, plural, signed_bytes, signed_count};
use super::visible::{for_terminal, visible};
use super::{Report, Style};
use crate::analysis::gate::{Breach, Gate};
use crate::analysis::leaks::{LeakRoot, Leaks};
use crate::analysis::native::NativeGrowth;
use std::fmt::Write;

const LETTERS: [&str; 3] = ["A", "B", "C"];

fn series(xs: &[Option<u64>], f: fn(u64) -> String) -> String {
    xs.iter()
        .map(|x| x.map_or_else(|| "?".into(), f))
        .collect::<Vec<_>>()
        .join(" -> ")
}

fn render_root(i: usize, r: &LeakRoot, out: &mut String) {
    let name = r
        .path
        .as_ref()
        .map_or_else(|| r.addr.clone(), |p| visible(&p.expr).into_owned());
    let what = if r.kind == r.type_name {
        visible(&r.kind).into_owned()
    } else {
        format!("{} {}", visible(&r.kind), visible(&r.type_name))
    };
    let _ = writeln!(out, "#{} {name}  ({what}, {})", i + 1, r.addr);
    // Growth is measured from the first snapshot the root is in: a root new since B has
    // one round of growth at most, no rate per round, and no "every round".
    let rounds = r.retained.len().saturating_sub(1);
    let since = r.first_seen;
    let every = if rounds >= 2 { " in every round" } else { "" };
    let verdict = if since > 0 {
        format!(
            "   new in {}: not in A, so no trend yet",
            LETTERS.get(since).unwrap_or(&"a later snapshot")
        )
    } else if r.leak && rounds >= 2 {
        "   LEAK: grew in every round".to_string()
    } else if r.leak {
        "   LEAK: grew (one round: a third snapshot tells a trend from a step)".to_string()
    } else if r.grew_every_round && r.bound.is_some() {
        format!("   grew{every}, bounded")
    } else if r.grew_every_round {
        format!("   grew{every}, below the minimum growth")
    } else if rounds >= 2 {
        "   did not grow in every round".to_string()
    } else {
        "   did not grow".to_string()
    };
    let _ = writeln!(
        out,
        "   new       {} objects, {}{verdict}",
        count(r.new_objects),
        bytes(r.new_bytes),
    );
    let seen = |xs: &[Option<u64>], f: fn(u64) -> String| match since {
        0 => series(xs, f),
        s => format!(
            "{} (new in {})",
            series(&xs[s.min(xs.len())..], f),
            LETTERS.get(s).unwrap_or(&"?")
        ),
    };
    if r.entries.iter().any(Option::is_some) {
        let mut line = format!("   entries   {}", seen(&r.entries, count));
        if let (Some(per), 0) = (r.entries_per_round, since) {
            let _ = write!(line, "   ({} per round)", signed_count(per.round() as i64));
        }
        let _ = writeln!(out, "{line}");
    }
    if since > 0 {
        let _ = writeln!(out, "   retained  {}", seen(&r.retained, bytes));
    } else if r.nested_growth_bytes != 0 {
        let _ = writeln!(
            out,
            "   retained  {}   ({} per round of its own; {} in leak roots it holds, listed on their own)",
            series(&r.retained, bytes),
            signed_bytes(r.growth_per_round),
            signed_bytes(r.nested_growth_bytes)
        );
    } else {
        let _ = writeln!(
            out,
            "   retained  {}   ({} per round)",
            series(&r.retained, bytes),
            signed_bytes(r.growth_per_round)
        );
    }
    if r.same_path > 0 {
        let _ = writeln!(
            out,
            "   alike     {} more root{} at this same path, {} more growth (folded into this one)",
            count(r.same_path),
            if r.same_path == 1 { "" } else { "s" },
            signed_bytes(r.same_path_growth_bytes)
        );
    }
    if let Some(b) = r.bound {
        let _ = writeln!(out, "   bounded   {}", bounded_text(b, r.at_bound_bytes));
    }
    let types: Vec<String> = r
        .types
        .iter()
        .map(|t| {
            format!(
                "{} x{} ({})",
                visible(&t.type_name),
                count(t.count),
                bytes(t.bytes)
            )
        })
        .collect();
    let _ = writeln!(out, "   types     {}", types.join(", "));
    if let Some(s) = &r.sample {
        let _ = writeln!(out, "   sample    {}", visible(&s.expr));
    }
    if !r.allocated_at.is_empty() {
        let sites: Vec<String> = r
            .allocated_at
            .iter()
            .map(|s| format!("{} x{}", visible(&s.site), count(s.count)))
            .collect();
        let _ = writeln!(out, "   allocated {}", sites.join(", "));
    }
    if let Some(site) = &r.root_allocated_at {
        let _ = writeln!(out, "   root made {}", visible(site));
    }
    if let Some(place) = &r.defined_at {
        let _ = writeln!(out, "   defined   {}", visible(place));
    }
    if let Some(class) = &r.keeps_instances_of {
        let _ = writeln!(
            out,
            "   advice    an lru_cache on a method of {}: {}",
            visible(class),
            crate::analysis::method_cache::ADVICE
        );
    }
    if let Some(p) = &r.path {
        let mut held = format!(
            "   held by   {} {}",
            visible(&p.root.kind),
            visible(&p.root.name)
        );
        if let Some(f) = &p.root.frame {
            let _ = write!(held, " in {}", visible(f));
        }
        let _ = writeln!(out, "{held}");
    }
}

/// Memory outside Python objects: the series, the verdict, what moved alongside, and what
/// to run next when it leaks.
fn render_native(n: &NativeGrowth, out: &mut String) {
    let verdict = if n.leak {
        format!(
            "NATIVE LEAK: grew in every round, {} in all (--max-native-growth {})",
            signed_bytes(n.growth_bytes),
            bytes(n.max_growth)
        )
    } else if n.grew_every_round {
        format!(
            "grew in every round, {} in all, within --max-native-growth {}",
            signed_bytes(n.growth_bytes),
            bytes(n.max_growth)
        )
    } else {
        "did not grow in every round".to_string()
    };
    let _ = writeln!(
        out,
        "Outside Python objects (C heap that no object accounts for, and other anonymous memory):"
    );
    let _ = writeln!(
        out,
        "   total     {}   ({} per round)   {verdict}",
        series(&n.total, bytes),
        signed_bytes(n.growth_per_round)
    );
    for p in &n.parts {
        let label = match p.part {
            "c_heap_unaccounted" if n.c_allocator_measured => "c heap",
            "c_heap_unaccounted" => "c heap*",
            _ => "other",
        };
        let _ = writeln!(
            out,
            "   {label:<9} {}   ({})",
            series(&p.bytes, bytes),
            p.growth_bytes.map_or_else(|| "?".into(), signed_bytes)
        );
    }
    let python: Vec<Option<u64>> = n.python_bytes.iter().map(|&b| Some(b)).collect();
    let _ = writeln!(
        out,
        "   python    {}   (objects and their buffers)",
        series(&python, bytes)
    );
    let _ = writeln!(out, "   rss       {}", series(&n.rss, bytes));
    if !n.c_allocator_measured {
        let _ = writeln!(
            out,
            "   * the C allocator's figures were not read: its resident heap pages, free ones included"
        );
    }
    if n.leak || n.grew_every_round {
        if n.extension_types.is_empty() {
            let _ = writeln!(
                out,
                "   no extension type's instance count changed: the bytes are held by C code, not by Python objects"
            );
        } else {
            let moved: Vec<String> = n
                .extension_types
                .iter()
                .map(|e| {
                    format!(
                        "{} {} -> {}",
                        visible(&e.type_name),
                        count(e.count_first),
                        count(e.count_last)
                    )
                })
                .collect();
            let _ = writeln!(out, "   alongside {}", moved.join(", "));
        }
    }
    if n.leak {
        let _ = writeln!(
            out,
            "   next      pymem cannot name the C code that allocated these bytes: run the program under a native\n             profiler (memray run --native, or heaptrack) for the C call stacks"
        );
    }
    out.push('\n');
}

/// "at most N entries, about X there: it stops growing at its bound".
fn bounded_text(bound: u64, at_bound: Option<u64>) -> String {
    match at_bound {
        Some(b) => format!(
            "at most {} entries, about {} there: it stops growing at its bound (not counted as a leak)",
            count(bound),
            bytes(b)
        ),
        None => format!(
            "at most {} entries: it stops growing at its bound (not counted as a leak)",
            count(bound)
        ),
    }
}

impl Report for Leaks {
    const COMMAND: &'static str = "leaks";

    fn table(&self, _style: &Style) -> String {
        let mut out = String::new();
        for (i, s) in self.snapshots.iter().enumerate() {
            let _ = writeln!(
                out,
                "{}          {} ({} objects)",
                LETTERS[i.min(2)],
                visible(&s.path),
                count(s.objects)
            );
        }
        let _ = writeln!(
            out,
            "Candidates {}: {} objects, {}",
            self.rule,
            count(self.candidates),
            bytes(self.candidate_bytes)
        );
        if self.garbage_objects > 0 {
            let _ = writeln!(
                out,
                "           of which unreachable (garbage awaiting collection, not leaks): {} objects, {}",
                count(self.garbage_objects),
                bytes(self.garbage_bytes)
            );
        }
        out.push('\n');
        if self.roots.is_empty() {
            out.push_str("No leak roots: nothing new is held by a pre-existing object.\n");
        }
        for (i, r) in self.roots.iter().enumerate() {
            render_root(i, r, &mut out);
            out.push('\n');
        }
        if self.more_roots > 0 {
            let _ = writeln!(
                out,
                "... {} more leak root{} (--limit to show more)",
                count(self.more_roots),
                if self.more_roots == 1 { "" } else { "s" }
            );
        }
        if let Some(n) = &self.native {
            render_native(n, &mut out);
        }
        if !self.suppressed.is_empty() {
            out.push_str("Suppressed (interpreter noise and --ignore patterns):\n");
            for s in &self.suppressed {
                let _ = writeln!(
                    out,
                    "  {:<28} {}, {} objects, {}  [{}]",
                    visible(&s.pattern),
                    plural(s.roots, "root"),
                    count(s.new_objects),
                    bytes(s.new_bytes),
                    visible(&s.origin)
                );
            }
        }
        out
    }
}

impl Report for Gate {
    const COMMAND: &'static str = "gate";

    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        if self.passed {
            let _ = writeln!(
                out,
                "PASS: {}, {} of growth in all (allowed {}{})",
                plural(self.leak_roots, "leak root"),
                bytes(self.growth),
                bytes(self.max_growth),
                self.max_leaks
                    .map_or_else(String::new, |m| format!(", at most {}", plural(m, "root")))
            );
        } else {
            out.push_str("FAIL:\n");
            for b in &self.breaches {
                let _ = writeln!(out, "  {}", breach(b, self.leak_roots));
            }
        }
        for c in &self.leaks.counted {
            let _ = writeln!(
                out,
                "  {:>10}  {}",
                signed_bytes(c.growth_bytes),
                visible(&c.root)
            );
        }
        for b in &self.leaks.bounded {
            let _ = writeln!(
                out,
                "  {:>10}  {} grew, {}",
                signed_bytes(b.growth_bytes),
                visible(&b.root),
                bounded_text(b.bound, b.at_bound_bytes)
            );
        }
        out.push('\n');
        out.push_str(&self.leaks.table(style));
        out
    }
}

/// One broken limit as a sentence.
fn breach(b: &Breach, roots: u64) -> String {
    match b.limit {
        "max_growth" => format!(
            "{} grew by {} in all (--max-growth {})",
            plural(roots, "leak root"),
            bytes(b.value),
            bytes(b.allowed)
        ),
        "max_native_growth" => format!(
            "memory outside Python objects grew in every round, by {} in all (--max-native-growth {})",
            bytes(b.value),
            bytes(b.allowed)
        ),
        _ => format!("{} (--max-leaks {})", plural(b.value, "leak root"), b.allowed),
    }
}

/// Names made visible first: XML 1.0 cannot carry most control characters even escaped.
fn xml_escape(s: &str) -> String {
    quick_xml::escape::escape(visible(s).as_ref()).into_owned()
}

impl Gate {
    /// JUnit XML: one test case per growing root, failed when the gate failed.
    pub fn junit(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
        let native = self.leaks.native.as_ref();
        let native_failed = native.is_some_and(|n| n.leak);
        let root_cases = self.leaks.counted.len().max(1);
        let cases = root_cases + usize::from(native.is_some());
        // The roots' cases fail when a limit on the roots broke (not only the native one).
        let root_failed = self.breaches.iter().any(|b| b.limit != "max_native_growth");
        let failures = usize::from(native_failed) + if root_failed { root_cases } else { 0 };
        let _ = writeln!(
            out,
            "<testsuite name=\"pymem gate\" tests=\"{cases}\" failures=\"{failures}\">"
        );
        // One line per leak root: its path and how fast it grows (`pymem leaks` has the rest).
        let detail: String = self
            .leaks
            .counted
            .iter()
            .map(|c| {
                format!(
                    "{}: {} per round, {} in all\n",
                    visible(&c.root),
                    signed_bytes(c.growth_per_round),
                    signed_bytes(c.growth_bytes)
                )
            })
            .collect();
        let detail = quick_xml::escape::escape(for_terminal(&detail, false)).into_owned();
        if self.leaks.counted.is_empty() {
            let _ = writeln!(
                out,
                "  <testcase classname=\"pymem.gate\" name=\"no leak roots\"/>"
            );
        }
        for c in &self.leaks.counted {
            let (name, g) = (&c.root, &c.growth_bytes);
            let _ = write!(
                out,
                "  <testcase classname=\"pymem.gate\" name=\"{}\"",
                xml_escape(name)
            );
            if !root_failed {
                out.push_str("/>\n");
            } else {
                let msg = format!(
                    "{} grew by {} ({})",
                    visible(name),
                    bytes(g.max(&0).unsigned_abs()),
                    self.breaches
                        .iter()
                        .map(|b| breach(b, self.leak_roots))
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                let _ = writeln!(
                    out,
                    ">\n    <failure message=\"{}\">{detail}</failure>\n  </testcase>",
                    quick_xml::escape::escape(&msg)
                );
            }
        }
        if let Some(n) = native {
            out.push_str(
                "  <testcase classname=\"pymem.gate\" name=\"memory outside Python objects\"",
            );
            if n.leak {
                let msg = format!(
                    "memory outside Python objects grew in every round, by {} in all (--max-native-growth {})",
                    bytes(n.growth_bytes.max(0).unsigned_abs()),
                    bytes(n.max_growth)
                );
                let msg = quick_xml::escape::escape(&msg);
                let _ = writeln!(
                    out,
                    ">\n    <failure message=\"{msg}\">{msg}</failure>\n  </testcase>",
                );
            } else {
                out.push_str("/>\n");
            }
        }
        out.push_str("</testsuite>\n");
        out
    }
}
