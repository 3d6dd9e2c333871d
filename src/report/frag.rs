//! Table rendering of `frag` (one snapshot, or how two compare).

use super::fmt::{bytes, count, pct, plural, signed_bytes, signed_count};
use super::visible::{cell, visible};
use super::{align_right, finish, new_table, overview, Report, Style};
use crate::analysis::c_heap::CHeapFinding;
use crate::analysis::frag::{Frag, FragChange, PinGroup, PinKind, Reconciliation};
use std::fmt::Write;

fn held_by(g: &PinGroup) -> String {
    g.held_by
        .as_ref()
        .map_or_else(|| "-".into(), |p| cell(&p.expr))
}

/// The finding as a sentence: what holds how much, and what freeing it would return.
fn sentence(f: &Frag, g: &PinGroup) -> String {
    let what = match g.kind {
        PinKind::Unattributed | PinKind::FreeListed => {
            format!("{} {}", count(g.blocks), visible(&g.key))
        }
        _ => format!("{} blocks of {}", count(g.blocks), visible(&g.key)),
    };
    let mut s = format!(
        "{} ({} of {} held) are pinned by {what} ({} live)",
        plural(g.arenas, "arena"),
        bytes(g.attributed_bytes),
        bytes(g.arenas * f.arena_size),
        bytes(g.live_bytes)
    );
    if let Some(p) = &g.held_by {
        let _ = write!(s, ", reachable from {}", visible(&p.expr));
    }
    if g.sole_arenas > 0 {
        let _ = write!(
            s,
            "; freeing them would return {}, {}",
            plural(g.sole_arenas, "arena"),
            bytes(g.reclaimable_bytes)
        );
    }
    s
}

fn whole_heap(f: &Frag, out: &mut String) {
    let _ = writeln!(
        out,
        "Arenas     {} of {} held = {}; {} in live blocks; fragmentation {}",
        count(f.arenas),
        bytes(f.arena_size),
        bytes(f.held_bytes),
        bytes(f.live_bytes),
        pct(f.fragmentation)
    );
    let _ = writeln!(
        out,
        "Pinned     {} under {} used hold {} with {} live: {} held but unused",
        plural(f.pinned_arenas, "arena"),
        pct(f.threshold),
        bytes(f.pinned_held_bytes),
        bytes(f.pinned_live_bytes),
        bytes(f.pinned_unused_bytes)
    );
    if f.pinned_arenas > 0 {
        let _ = writeln!(
            out,
            "           {} of it is charged to objects, their buffers and free lists, the rest to unattributed blocks",
            pct(f.attributed_share)
        );
    }
}

impl Report for Frag {
    const COMMAND: &'static str = "frag";

    fn table(&self, style: &Style) -> String {
        let mut out = String::new();
        overview::render(&self.snapshot, &mut out);
        out.push('\n');
        whole_heap(self, &mut out);
        if let Some(c) = &self.c_heap {
            c_heap(c, &mut out);
        }
        if !self.findings.is_empty() {
            pinning(self, style, &mut out);
        }
        size_classes(self, style, &mut out);
        reconciliation(&self.reconciliation, &mut out);
        out
    }
}

impl Report for FragChange {
    const COMMAND: &'static str = "frag";

    fn table(&self, style: &Style) -> String {
        let (a, b) = (&self.a, &self.b);
        let mut out = String::new();
        let _ = writeln!(out, "A          {}", visible(&a.snapshot.path));
        let _ = writeln!(out, "B          {}\n", visible(&b.snapshot.path));
        let mut t = new_table(style, &["", "A", "B", "change"]);
        let row = |name: &str, x: u64, y: u64, size: bool| {
            if size {
                vec![
                    name.to_string(),
                    bytes(x),
                    bytes(y),
                    signed_bytes(y as i64 - x as i64),
                ]
            } else {
                vec![
                    name.to_string(),
                    count(x),
                    count(y),
                    signed_count(y as i64 - x as i64),
                ]
            }
        };
        t.add_row(row("arenas", a.arenas, b.arenas, false));
        t.add_row(row("held", a.held_bytes, b.held_bytes, true));
        t.add_row(row("live", a.live_bytes, b.live_bytes, true));
        t.add_row(vec![
            "fragmentation".into(),
            pct(a.fragmentation),
            pct(b.fragmentation),
            format!("{:+.1} points", (b.fragmentation - a.fragmentation) * 100.0),
        ]);
        t.add_row(row(
            "pinned arenas",
            a.pinned_arenas,
            b.pinned_arenas,
            false,
        ));
        t.add_row(row(
            "held but unused in pinned arenas",
            a.pinned_unused_bytes,
            b.pinned_unused_bytes,
            true,
        ));
        align_right(&mut t, &[1, 2, 3]);
        out.push_str(&finish(&t));
        if !self.groups.is_empty() {
            out.push_str("\nWhat pins arenas (charged held-but-unused bytes)\n");
            let mut t = new_table(
                style,
                &["A", "B", "change", "blocks A", "blocks B", "blocks of"],
            );
            for g in &self.groups {
                t.add_row(vec![
                    bytes(g.attributed_a),
                    bytes(g.attributed_b),
                    signed_bytes(g.attributed_b as i64 - g.attributed_a as i64),
                    count(g.blocks_a),
                    count(g.blocks_b),
                    cell(&g.key),
                ]);
            }
            align_right(&mut t, &[0, 1, 2, 3, 4]);
            out.push_str(&finish(&t));
        }
        out
    }
}

/// The C-heap finding as sentences: how much, where, and what gives it back.
fn c_heap(c: &CHeapFinding, out: &mut String) {
    let _ = writeln!(
        out,
        "\nC heap: {} holds {} free in {} against {} in use: up to {} the process keeps and does not use.",
        visible(&c.allocator),
        bytes(c.free_bytes),
        plural(c.heaps, "heap"),
        bytes(c.in_use_bytes),
        bytes(c.free_bytes)
    );
    let _ = writeln!(
        out,
        "- malloc_trim(0) gives free pages back now (ctypes.CDLL(\"libc.so.6\").malloc_trim(0)); {} of it at the top of the main heap goes first",
        bytes(c.top_releasable_bytes)
    );
    if c.heaps > 1 {
        let _ = writeln!(
            out,
            "- MALLOC_ARENA_MAX=2 in the environment caps glibc's per-thread arenas ({} heaps now), where threads allocate and free in turn",
            count(c.heaps)
        );
    }
    let _ = writeln!(
        out,
        "- an allocator that returns memory more readily: jemalloc or mimalloc through LD_PRELOAD"
    );
}

/// What pins the arenas: one row per group, then the three largest as sentences.
fn pinning(f: &Frag, style: &Style, out: &mut String) {
    out.push_str("\nWhat pins them (held-but-unused bytes charged by share of live bytes):\n");
    let mut t = new_table(
        style,
        &[
            "charged",
            "arenas",
            "sole",
            "reclaimable",
            "blocks",
            "live",
            "blocks of",
            "held by",
        ],
    );
    for g in &f.findings {
        t.add_row(vec![
            bytes(g.attributed_bytes),
            count(g.arenas),
            count(g.sole_arenas),
            bytes(g.reclaimable_bytes),
            count(g.blocks),
            bytes(g.live_bytes),
            cell(&g.key),
            held_by(g),
        ]);
    }
    align_right(&mut t, &[0, 1, 2, 3, 4, 5]);
    out.push_str(&finish(&t));
    if f.more_findings > 0 {
        let _ = writeln!(
            out,
            "... {} more groups (--limit to show more)",
            count(f.more_findings as u64)
        );
    }
    out.push('\n');
    for g in f.findings.iter().take(3) {
        let _ = writeln!(out, "- {}", sentence(f, g));
    }
}

/// pymalloc's size classes: pools, blocks in use and free, and what the capture printed.
fn size_classes(f: &Frag, style: &Style, out: &mut String) {
    out.push_str("\nSize classes\n");
    let mut t = new_table(
        style,
        &[
            "class",
            "block",
            "pools",
            "in use",
            "free",
            "at capture (pools/in use/avail)",
        ],
    );
    for c in &f.classes {
        t.add_row(vec![
            c.class.to_string(),
            format!("{} B", c.block_size),
            count(c.pools),
            count(c.blocks_in_use),
            count(c.free_blocks),
            c.mallocstats.map_or_else(
                || "-".into(),
                |[p, u, a]| format!("{} / {} / {}", count(p), count(u), count(a)),
            ),
        ]);
    }
    align_right(&mut t, &[0, 1, 2, 3, 4, 5]);
    out.push_str(&finish(&t));
}

/// How the heap read agrees with `sys._debugmallocstats()` printed at capture.
fn reconciliation(r: &Reconciliation, out: &mut String) {
    let mut line = format!(
        "Reconciliation with sys._debugmallocstats(): arenas {}",
        count(r.arenas)
    );
    match r.mallocstats_arenas {
        Some(m) if m == r.arenas => line.push_str(" (same)"),
        Some(m) => {
            let _ = write!(line, " vs {} printed (DIFFERENT)", count(m));
        }
        None => line.push_str(" (not printed)"),
    }
    let _ = write!(line, "; blocks in use {}", count(r.blocks_in_use));
    match r.mallocstats_blocks_in_use {
        Some(m) if m == r.blocks_in_use => line.push_str(" (same)"),
        Some(m) => {
            let _ = write!(
                line,
                " vs {} printed ({})",
                count(m),
                signed_count(m as i64 - r.blocks_in_use as i64)
            );
        }
        None => {}
    }
    if !r.mismatched_classes.is_empty() {
        let _ = write!(
            line,
            "; size classes that differ: {:?}",
            r.mismatched_classes
        );
    }
    if r.stale_pools > 0 {
        let _ = write!(
            line,
            "; {} counted fewer blocks than objects found (allocated after the allocator was read)",
            plural(r.stale_pools, "pool header")
        );
    }
    let _ = writeln!(out, "{line}");
    let fl: Vec<String> = r
        .free_lists
        .iter()
        .filter(|(_, v)| *v > 0)
        .map(|(k, v)| format!("{} {}", visible(k), count(*v)))
        .collect();
    if !fl.is_empty() {
        let _ = writeln!(
            out,
            "Free lists at capture (blocks in use holding no live object): {}",
            fl.join(", ")
        );
    }
}
