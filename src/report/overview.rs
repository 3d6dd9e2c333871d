//! The block of capture facts that opens human reports.

use super::fmt::{bytes, count, pct, utc};
use super::visible::visible;
use crate::analysis::overview::SnapshotFacts;
use std::fmt::Write;

pub fn render(f: &SnapshotFacts, out: &mut String) {
    let partial = match (f.complete, f.dropped_tail_bytes) {
        (true, _) => String::new(),
        (false, 0) => "  (partial: no end record)".into(),
        (false, n) => format!(
            "  (partial: no end record; an incomplete last line of {} left out)",
            bytes(n)
        ),
    };
    let _ = writeln!(out, "Snapshot   {}{partial}", visible(&f.path));
    let mut alloc = visible(&f.allocator).into_owned();
    if f.debug_hooks {
        alloc.push_str(" + debug hooks");
    }
    let _ = writeln!(out, "Python     {} ({alloc})", visible(&f.python));
    capture(f, out);
    let _ = writeln!(
        out,
        "Objects    {} objects of {} types, {} in objects + {} in owned buffers",
        count(f.objects),
        count(f.types),
        bytes(f.bytes_in_objects),
        bytes(f.bytes_in_buffers)
    );
    references(f, out);
    let roots: Vec<String> = f
        .roots
        .iter()
        .map(|(k, v)| format!("{} {}", count(*v), visible(k)))
        .collect();
    let _ = writeln!(out, "Roots      {}", roots.join(", "));
    match &f.arenas {
        Some(a) => {
            let used = if a.bytes_held > 0 {
                a.bytes_in_use as f64 / a.bytes_held as f64
            } else {
                0.0
            };
            let _ = writeln!(
                out,
                "Arenas     {} arenas of {} held = {}; {} in {} used blocks ({} of held)",
                count(a.arenas),
                bytes(a.arena_size),
                bytes(a.bytes_held),
                bytes(a.bytes_in_use),
                count(a.blocks_in_use),
                pct(used)
            );
        }
        None => {
            let _ = writeln!(
                out,
                "Arenas     not recorded ({})",
                if f.allocator == "pymalloc" {
                    "see missing"
                } else {
                    "pymalloc not in use"
                }
            );
        }
    }
    if let Some(rss) = f.rss {
        let _ = writeln!(out, "RSS        {} at capture", bytes(rss));
    }
    for m in &f.missing {
        let _ = writeln!(out, "Missing    {}", visible(m));
    }
}

/// When, from which process and how the snapshot was captured.
fn capture(f: &SnapshotFacts, out: &mut String) {
    let mut who = String::new();
    if let Some(t) = f.time {
        who.push_str(&utc(t));
    }
    if let Some(pid) = f.pid {
        let _ = write!(who, ", pid {pid}");
    }
    if !f.argv.is_empty() {
        let argv: Vec<_> = f.argv.iter().map(|a| visible(a)).collect();
        let _ = write!(who, ", {}", argv.join(" "));
    }
    if !who.is_empty() {
        let _ = writeln!(out, "Captured   {who}");
    }
    if f.method != "agent" {
        let how = match (f.method.as_str(), f.stopped_ms) {
            ("read", Some(ms)) => format!("read from outside (the process was stopped {ms:.0} ms)"),
            ("core", _) => "read from a core file".to_string(),
            (m, _) => visible(m).into_owned(),
        };
        let scanned = if f.scanned_objects > 0 {
            format!(
                "; references of {} objects of {} C types found by scanning their memory",
                count(f.scanned_objects),
                count(f.scanned_types)
            )
        } else {
            String::new()
        };
        let _ = writeln!(out, "Method     {how}{scanned}");
    }
}

/// The references, and what the capture found wrong with them or with reference counts.
fn references(f: &SnapshotFacts, out: &mut String) {
    let mut refs = format!("{} references", count(f.refs));
    if f.dangling_refs > 0 {
        let _ = write!(refs, ", {} to objects not captured", count(f.dangling_refs));
    }
    let _ = writeln!(out, "           {refs}");
    if f.rc_changed > 0 {
        let _ = writeln!(
            out,
            "           {} reference counts changed during the capture (other threads), recorded as 0",
            count(f.rc_changed)
        );
    }
    if !f.cut.is_empty() {
        let what: Vec<String> = f
            .cut
            .iter()
            .map(|(t, n)| format!("{} {}", count(*n), visible(t)))
            .collect();
        let _ = writeln!(
            out,
            "           referents cut short where memory contradicts itself (a corrupt heap): {}",
            what.join(", ")
        );
    }
    if f.negative_refcounts > 0 {
        let _ = writeln!(
            out,
            "           {} reference counts were negative in the process (a reference-counting bug), recorded as 0",
            count(f.negative_refcounts)
        );
    }
}
