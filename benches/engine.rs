//! Engine benchmark: load, graph + dominators + retained sizes, and shortest paths, timed
//! separately on snapshot files (synthetic ones from `pymem-gen`, or real captures).
//!
//! cargo bench --bench engine -- FILE... [--runs N]
//! Prints, per file and step, the median wall time of N runs and the resident memory the
//! step added (VmHWM growth over the RSS before it, from /proc/self/status).

// A benchmark: a failed unwrap is a failed run; writing to the terminal is its job (see
// clippy.toml).
#![allow(clippy::unwrap_used)]
#![allow(clippy::disallowed_macros)]

use pymem::analysis::retention::Retention;
use pymem::graph::dominators::Dominators;
use pymem::graph::Graph;
use pymem::snapshot::{load, LoadOptions, RootKind};
use std::time::Instant;

fn status_kb(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Reset the peak-RSS counter (Linux: write 5 to clear_refs).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let mut files = Vec::new();
    let mut runs = 5;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).unwrap_or(5),
            "--bench" => {}
            f => files.push(f.to_string()),
        }
    }
    if files.is_empty() {
        eprintln!("usage: cargo bench --bench engine -- FILE... [--runs N]");
        return;
    }
    for f in files {
        let path = std::path::Path::new(&f);
        let mut load_t = Vec::new();
        let mut snap = None;
        for _ in 0..runs {
            drop(snap.take());
            let t = Instant::now();
            snap = Some(load(path, &LoadOptions::default()).expect("load"));
            load_t.push(t.elapsed().as_secs_f64());
        }
        let snap = snap.unwrap();
        let n = snap.objects.count();
        let m = snap.objects.ref_targets.len();
        println!("{f}: {n} objects, {m} references");
        println!(
            "  load                 median {:7.3} s  ({:.2} M objects/s)",
            median(load_t.clone()),
            n as f64 / median(load_t) / 1e6
        );
        let roots: Vec<u32> = snap
            .roots
            .iter()
            .filter(|r| r.kind != RootKind::External)
            .chain(snap.roots.iter().filter(|r| r.kind == RootKind::External))
            .map(|r| r.obj.0)
            .collect();
        let own = snap.owned_bytes();
        let mut dom_t = Vec::new();
        let mut dom_mem = 0;
        for run in 0..runs {
            let before = status_kb("VmRSS:");
            reset_peak();
            let t = Instant::now();
            let g = Graph::new(
                n,
                &snap.objects.ref_start,
                snap.objects.ref_targets_u32(),
                roots.iter().copied(),
            );
            let d = Dominators::compute(&g);
            let r = d.retained(&g, &own);
            dom_t.push(t.elapsed().as_secs_f64());
            if run == 0 {
                // Later runs reuse memory the allocator kept: only the first growth counts.
                dom_mem = status_kb("VmHWM:").saturating_sub(before);
            }
            std::hint::black_box((r.len(), g.objects()));
        }
        println!(
            "  graph+dominators+retained median {:7.3} s, +{} MiB resident ({:.1} B/object)",
            median(dom_t),
            dom_mem / 1024,
            dom_mem as f64 * 1024.0 / n as f64
        );
        let mut all_t = Vec::new();
        for _ in 0..runs {
            let t = Instant::now();
            let r = Retention::compute(&snap);
            all_t.push(t.elapsed().as_secs_f64());
            std::hint::black_box(r.total());
        }
        println!(
            "  retention (all, with paths) median {:7.3} s",
            median(all_t)
        );
    }
}
