//! Issue 28, the loader's side: a forged header or an oversized line is refused with one
//! line naming the file (exit 2), never a panic, a divide by zero or an unbounded allocation.

use std::io::Read;
use std::path::{Path, PathBuf};

use crate::common::*;

fn fixture_text(name: &str) -> String {
    let gz = std::fs::read(repo().join("fixtures").join(name)).unwrap();
    let mut text = String::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_string(&mut text)
        .unwrap();
    text
}

/// Run pymem on `file`; expect exit 2 and one stderr line naming it and holding `expected`.
fn refused(args: &[&str], file: &Path, expected: &str) {
    let out = pymem().args(args).arg(file).output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{args:?}: exit; stderr {err}");
    assert_eq!(err.lines().count(), 1, "{args:?}: one line: {err}");
    assert!(
        err.contains(&file.file_name().unwrap().to_string_lossy().to_string()),
        "{args:?}: names the file: {err}"
    );
    assert!(
        err.contains(expected),
        "{args:?}: {err:?} lacks {expected:?}"
    );
}

fn with_header(dir: &Path, name: &str, from: &str, to: &str) -> PathBuf {
    let text = fixture_text("shop-3.12.jsonl.gz");
    let (head, rest) = text.split_once('\n').unwrap();
    assert!(head.contains(from), "the fixture's header holds {from}");
    write_tmp(
        dir,
        name,
        format!("{}\n{rest}", head.replace(from, to)).as_bytes(),
    )
}

/// Item 4: `pool_size: 0` made `frag` divide by zero; `arena_size: 2^40` made `frag --svg`
/// draw billions of pools. Every command refuses such a header, the index included.
#[test]
fn absurd_pool_geometry_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("\"pool_size\":16384", "\"pool_size\":0", "pool_size 0"),
        (
            "\"pool_size\":16384",
            "\"pool_size\":16000",
            "pool_size 16000",
        ),
        (
            "\"arena_size\":1048576",
            "\"arena_size\":1099511627776",
            "arena_size 1099511627776",
        ),
        (
            "\"arena_size\":1048576",
            "\"arena_size\":8192",
            "does not hold between 1 and",
        ),
        (
            "\"pool_overhead\":48",
            "\"pool_overhead\":16384",
            "pool_overhead",
        ),
        // Arenas of 64 KiB: the 63 pools the first arena lists cannot fit in one.
        (
            "\"arena_size\":1048576",
            "\"arena_size\":65536",
            "more than 4 fit",
        ),
    ];
    for (i, (from, to, expected)) in cases.iter().enumerate() {
        let p = with_header(dir.path(), &format!("geo{i}.jsonl"), from, to);
        for args in [
            &["--no-index", "frag"][..],
            &["--no-index", "frag", "--svg", "-"],
            &["--no-index", "summary"],
            &["index"],
        ] {
            refused(args, &p, expected);
        }
    }
}

/// A pool outside its arena, or not aligned to the pool size, is refused by name.
#[test]
fn pools_outside_their_arena_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let text = fixture_text("shop-3.12.jsonl.gz");
    let mut out = String::new();
    let mut forged = false;
    for line in text.lines() {
        if !forged && line.starts_with("{\"k\":\"arena\"") {
            // The first pool of the first arena moves 1 GiB away.
            let at = line.find("\"pools\":[[").unwrap() + "\"pools\":[[".len();
            let end = at + line[at..].find(',').unwrap();
            let addr: u64 = line[at..end].parse().unwrap();
            out.push_str(&format!(
                "{}{}{}\n",
                &line[..at],
                addr + (1 << 30),
                &line[end..]
            ));
            forged = true;
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    assert!(forged, "the fixture lists arenas");
    let p = write_tmp(dir.path(), "outside.jsonl", out.as_bytes());
    refused(&["--no-index", "frag"], &p, "inside arena");
}
