//! The arena map of `frag --svg`: one row per pymalloc arena (address order), one cell per
//! pool slot coloured by how full the pool is, pinned arenas outlined in red, and a legend.

use super::fmt::{bytes, count, pct};
use crate::analysis::frag::Frag;
use std::fmt::Write;

pub const CELL: usize = 10;
pub const GAP: usize = 2;
pub const LABEL: usize = 170;
pub const TOP: usize = 96;
/// Rows drawn at most; the rest are summarised in a line (a browser copes, a person won't).
const MAX_ROWS: usize = 4000;

/// Empty (or not yet carved) pools.
pub const EMPTY: &str = "#e6e6e6";
/// Pinned-arena outline.
pub const PINNED: &str = "#d62728";

/// Colour of a pool used to fraction `u` (0..=1): light yellow through teal to deep blue.
pub fn fill(u: f32) -> String {
    const STOPS: [(f32, [u8; 3]); 3] = [
        (0.0, [0xfd, 0xe7, 0x25]),
        (0.5, [0x21, 0x91, 0x8c]),
        (1.0, [0x30, 0x12, 0x6e]),
    ];
    let u = u.clamp(0.0, 1.0);
    let (lo, hi) = if u <= 0.5 {
        (STOPS[0], STOPS[1])
    } else {
        (STOPS[1], STOPS[2])
    };
    let t = (u - lo.0) / (hi.0 - lo.0);
    let c: Vec<u8> = (0..3)
        .map(|i| (lo.1[i] as f32 + (hi.1[i] as f32 - lo.1[i] as f32) * t).round() as u8)
        .collect();
    format!("#{:02x}{:02x}{:02x}", c[0], c[1], c[2])
}

/// Text for an SVG element: made visible first (XML 1.0 cannot carry most control
/// characters, even escaped), then XML-escaped.
fn esc(s: &str) -> String {
    quick_xml::escape::escape(super::visible::visible(s).as_ref()).into_owned()
}

pub fn arena_map(f: &Frag) -> String {
    let slots = f.map.first().map_or(0, |a| a.pools.len()).max(1);
    let rows = f.map.len().min(MAX_ROWS);
    let width = LABEL + slots * (CELL + GAP) + 20;
    let height = TOP + rows * (CELL + GAP) + 40;
    let mut s = String::new();
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">"#
    );
    let _ = writeln!(
        s,
        r#"<rect width="{width}" height="{height}" fill="white"/>"#
    );
    let title = format!(
        "pymalloc arenas of {}: {} held, {} live, {} pinned (under {} used)",
        f.snapshot.path,
        bytes(f.held_bytes),
        bytes(f.live_bytes),
        count(f.pinned_arenas),
        pct(f.threshold)
    );
    let _ = writeln!(
        s,
        r#"<text x="10" y="20" font-size="14" font-weight="bold">{}</text>"#,
        esc(&title)
    );
    // Legend: pool fill levels, empty pools, the pinned outline.
    let mut x = 10;
    let _ = writeln!(s, r#"<text x="{x}" y="44">pool used:</text>"#);
    x += 70;
    for (label, u) in [
        ("1 %", 0.01f32),
        ("25 %", 0.25),
        ("50 %", 0.5),
        ("75 %", 0.75),
        ("100 %", 1.0),
    ] {
        let _ = writeln!(
            s,
            r#"<rect x="{x}" y="34" width="14" height="14" fill="{}"/><text x="{}" y="46">{label}</text>"#,
            fill(u),
            x + 18
        );
        x += 62;
    }
    let _ = writeln!(
        s,
        r#"<rect x="{x}" y="34" width="14" height="14" fill="{EMPTY}"/><text x="{}" y="46">empty pool</text>"#,
        x + 18
    );
    x += 100;
    let _ = writeln!(
        s,
        r#"<rect x="{x}" y="34" width="14" height="14" fill="none" stroke="{PINNED}" stroke-width="3"/><text x="{}" y="46">pinned arena</text>"#,
        x + 20
    );
    let _ = writeln!(
        s,
        r##"<text x="10" y="72" fill="#555">one row per arena ({} each, {} pools of {}), in address order; label: arena index and share used</text>"##,
        bytes(f.arena_size),
        slots,
        bytes(f.pool_size)
    );
    for (r, a) in f.map.iter().take(rows).enumerate() {
        let y = TOP + r * (CELL + GAP);
        let colour = if a.pinned { PINNED } else { "#333" };
        let weight = if a.pinned { "bold" } else { "normal" };
        let _ = writeln!(
            s,
            r#"<text x="10" y="{}" font-size="10" fill="{colour}" font-weight="{weight}">#{} {}</text>"#,
            y + CELL - 1,
            a.index,
            pct(a.utilisation)
        );
        for (c, &u) in a.pools.iter().enumerate() {
            let colour = if u < 0.0 { EMPTY.to_string() } else { fill(u) };
            let _ = writeln!(
                s,
                r#"<rect x="{}" y="{y}" width="{CELL}" height="{CELL}" fill="{colour}"/>"#,
                LABEL + c * (CELL + GAP)
            );
        }
        if a.pinned {
            let _ = writeln!(
                s,
                r#"<rect x="{}" y="{}" width="{}" height="{}" fill="none" stroke="{PINNED}" stroke-width="2"/>"#,
                LABEL - 3,
                y - 2,
                slots * (CELL + GAP) + 3,
                CELL + 3
            );
        }
    }
    if f.map.len() > rows {
        let _ = writeln!(
            s,
            r#"<text x="10" y="{}">... {} more arenas not drawn</text>"#,
            TOP + rows * (CELL + GAP) + 20,
            count((f.map.len() - rows) as u64)
        );
    }
    s.push_str("</svg>\n");
    s
}
