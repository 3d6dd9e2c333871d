//! `frag` on real fragmented heaps, every CPython 3.8–3.15: long-lived Tokens allocated
//! among many short-lived objects of the same size class, the burst freed
//! (tests/py/workload_frag.py). The long-lived type must come first, held by the container
//! the program used, with at least 90 % of the pinned arenas' held-but-unused bytes
//! attributed; a compact heap (nothing survives the burst) must show little of it. The SVG
//! arena map is rendered by a real browser (Debian's chromium) and its pixels checked.

use crate::common::{json, pymem, pythons, read_json, run_python};
use pymem::analysis::frag::{frag, FragBy, FragOptions};
use pymem::report::svg::{fill, CELL, EMPTY, GAP, LABEL, PINNED, TOP};
use pymem::snapshot::{load, LoadOptions};
use std::path::{Path, PathBuf};

fn capture(python: &Path, dir: &Path, compact: bool) -> (PathBuf, serde_json::Value) {
    let snap = dir.join(if compact {
        "compact.jsonl"
    } else {
        "frag.jsonl"
    });
    let truth = dir.join("truth.json");
    let mode = Path::new(if compact { "compact" } else { "burst" });
    run_python(python, "workload_frag.py", &[&snap, &truth, mode], &[]);
    (snap, read_json(&truth))
}

#[test]
fn long_lived_blocks_in_emptied_arenas_are_named_on_every_cpython() {
    for (version, python) in pythons() {
        let dir = tempfile::tempdir().unwrap();
        let (snap, truth) = capture(python, dir.path(), false);
        let f = json(&["frag", snap.to_str().unwrap()]);
        let first = &f["findings"][0];
        let ctx = format!("{version}: {:#}", f["findings"]);
        assert_eq!(first["key"], "__main__.Token", "{ctx}");
        assert_eq!(first["kind"], "objects", "{ctx}");
        assert_eq!(first["held_by"]["expr"], "__main__.auth.tokens", "{ctx}");
        let tokens = truth["tokens"].as_u64().unwrap();
        let blocks = first["blocks"].as_u64().unwrap();
        assert!(
            blocks <= tokens && blocks * 10 >= tokens * 9,
            "{version}: {blocks} of {tokens} tokens found in pinned arenas"
        );
        let share = f["attributed_share"].as_f64().unwrap();
        assert!(share >= 0.9, "{version}: only {share} attributed: {ctx}");
        assert!(first["reclaimable_bytes"].as_u64().unwrap() > 0, "{ctx}");
        // The arena table agrees with what the allocator printed at capture.
        let r = &f["reconciliation"];
        assert_eq!(r["arenas"], r["mallocstats_arenas"], "{version}: {r:#}");

        // The control: nothing survives the burst, so little stays pinned.
        let (compact, _) = capture(python, dir.path(), true);
        let c = json(&["frag", compact.to_str().unwrap()]);
        let pinned = f["pinned_unused_bytes"].as_u64().unwrap();
        let compact_pinned = c["pinned_unused_bytes"].as_u64().unwrap();
        assert!(
            compact_pinned * 3 < pinned,
            "{version}: compact heap keeps {compact_pinned} of {pinned} bytes pinned"
        );
        assert!(
            c["findings"]
                .as_array()
                .unwrap()
                .iter()
                .all(|g| g["key"] != "__main__.Token"),
            "{version}"
        );
        // Two snapshots compare.
        let d = json(&["frag", compact.to_str().unwrap(), snap.to_str().unwrap()]);
        assert!(d["b"]["pinned_arenas"].as_u64() > d["a"]["pinned_arenas"].as_u64());
        assert_eq!(d["groups"][0]["key"], "__main__.Token", "{version}");
    }
}

fn rgb(hex: &str) -> [u8; 3] {
    let v = u32::from_str_radix(hex.trim_start_matches('#'), 16).unwrap();
    [(v >> 16) as u8, (v >> 8) as u8, v as u8]
}

fn close(a: [u8; 3], b: [u8; 3]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 6)
}

/// Render the SVG with headless chromium and decode the screenshot: (width, rgb rows).
fn screenshot(svg: &Path, width: usize, height: usize) -> (usize, Vec<u8>) {
    let png = svg.with_extension("png");
    let profile = tempfile::tempdir().unwrap();
    let out = std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", svg.display()))
        .output()
        .expect("chromium is needed for this test (.ci/run installs Debian's chromium)");
    assert!(
        png.exists(),
        "no screenshot: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(&png).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let rgb: Vec<u8> = buf[..info.buffer_size()]
        .chunks(channels)
        .flat_map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width as usize, rgb)
}

#[test]
fn the_arena_map_is_drawn_as_the_analysis_says() {
    let (version, python) = pythons().last().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let (snap, _) = capture(python, dir.path(), false);
    let svg = dir.path().join("arenas.svg");
    pymem()
        .args([
            "frag",
            snap.to_str().unwrap(),
            "--svg",
            svg.to_str().unwrap(),
        ])
        .assert()
        .success();
    let text = std::fs::read_to_string(&svg).unwrap();
    let size = |attr: &str| -> usize {
        let at = text.find(&format!("{attr}=\"")).unwrap() + attr.len() + 2;
        text[at..].split('"').next().unwrap().parse().unwrap()
    };
    let (width, height) = (size("width"), size("height"));
    let (w, pixels) = screenshot(&svg, width, height);
    let px = |x: usize, y: usize| -> [u8; 3] {
        let i = (y * w + x) * 3;
        [pixels[i], pixels[i + 1], pixels[i + 2]]
    };
    // The same analysis, in process: which arena is where, and how full each pool is.
    let s = load(
        &snap,
        &LoadOptions {
            partial: false,
            on_stage: None,
        },
    )
    .unwrap();
    let f = frag(
        &s,
        &FragOptions {
            by: FragBy::Type,
            frames: Default::default(),
            threshold: 0.25,
            limit: 10,
        },
    )
    .unwrap();
    assert!(f.pinned_arenas > 0);
    let mut checked = 0;
    for (r, a) in f.map.iter().enumerate() {
        let y = TOP + r * (CELL + GAP);
        for (c, &u) in a.pools.iter().enumerate() {
            let want = if u < 0.0 { rgb(EMPTY) } else { rgb(&fill(u)) };
            let got = px(LABEL + c * (CELL + GAP) + CELL / 2, y + CELL / 2);
            assert!(
                close(got, want),
                "{version}: arena row {r} pool {c}: drew {got:?}, expected {want:?} (used {u})"
            );
            checked += 1;
        }
        // Pinned rows carry the red outline on their left edge; the others do not.
        let edge = px(LABEL - 3, y + CELL / 2);
        assert_eq!(
            close(edge, rgb(PINNED)),
            a.pinned,
            "{version}: arena row {r} outline {edge:?}, pinned = {}",
            a.pinned
        );
    }
    assert!(checked >= 64, "{checked} cells checked");
    // The legend is there: the pinned-arena sample and a full-pool swatch.
    let legend: Vec<[u8; 3]> = (0..width).map(|x| px(x, 41)).collect();
    assert!(
        legend.iter().any(|p| close(*p, rgb(&fill(1.0)))),
        "legend swatch missing"
    );
    assert!(
        legend.iter().any(|p| close(*p, rgb(PINNED))),
        "legend outline missing"
    );
}
