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

/// A snapshot of one object whose line holds `n` references (3 bytes each: `16,`).
fn one_huge_line(dir: &Path, n: usize) -> PathBuf {
    let mut text = String::from(
        r#"{"k":"header","format":"pymem-snapshot","version":1,"python":{"version":"3.11.7","implementation":"cpython"},"allocator":{"name":"malloc"},"pid":1,"argv":["x.py"],"time":0,"recorded":{"pools":false}}
{"k":"type","id":0,"a":100,"name":"list","module":"builtins","flags":0,"basicsize":40}
{"k":"o","a":16,"t":0,"s":64,"rc":1,"r":["#,
    );
    text.reserve(n * 3 + 200);
    for i in 0..n {
        text.push_str(if i + 1 < n { "16," } else { "16" });
    }
    text.push_str(&format!(
        "]}}\n{{\"k\":\"root\",\"a\":16,\"kind\":\"module\",\"name\":\"m\"}}\n{{\"k\":\"end\",\"objects\":1,\"refs\":{n},\"types\":1}}\n"
    ));
    write_tmp(dir, "huge-line.jsonl", text.as_bytes())
}

/// Item 3: one line of 10M references (30 MB). Loading it stays within the README's budget
/// (at most 6× the bytes read, plus 64 MiB); where the memory is not there (an address-space
/// limit of 100 MiB), it is one line and exit 2, not an abort (it was exit 134).
#[test]
fn a_line_of_millions_of_references_keeps_to_the_memory_budget() {
    let dir = tempfile::tempdir().unwrap();
    let n = 10_000_000;
    let p = one_huge_line(dir.path(), n);
    let len = std::fs::metadata(&p).unwrap().len();
    let bin = assert_cmd::cargo::cargo_bin("pymem");
    if Path::new("/usr/bin/time").exists() {
        let out = std::process::Command::new("/usr/bin/time")
            .args(["-f", "peak %M"])
            .arg(&bin)
            .args(["--no-index", "summary", "--format", "json"])
            .arg(&p)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["snapshot"]["refs"], n as u64);
        let err = String::from_utf8_lossy(&out.stderr);
        let kib: u64 = err
            .lines()
            .find_map(|l| l.strip_prefix("peak "))
            .and_then(|k| k.trim().parse().ok())
            .expect("GNU time's peak");
        let budget = 6 * len + (64 << 20);
        assert!(
            kib * 1024 <= budget,
            "peak {kib} KiB for {len} bytes: over the budget of {budget} bytes"
        );
    }
    let out = std::process::Command::new("prlimit")
        .arg(format!("--as={}", 100 << 20))
        .arg(&bin)
        .args(["--no-index", "summary"])
        .arg(&p)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(err.contains("need more memory than there is"), "{err}");
}

/// An x86-64 ELF core of `segments` empty 1 GiB segments side by side (nothing dumped), and
/// a file list naming `file` over all of them: 424 bytes for four segments.
fn empty_core(segments: u64, file: &Path) -> Vec<u8> {
    const GIB: u64 = 1 << 30;
    let base = 0x1000_0000u64;
    let name = file.to_str().unwrap().as_bytes();
    let mut desc = Vec::new();
    for w in [1, 4096, base, base + segments * GIB, 0] {
        desc.extend_from_slice(&u64::to_le_bytes(w));
    }
    desc.extend_from_slice(name);
    desc.push(0);
    while desc.len() % 4 != 0 {
        desc.push(0);
    }
    let mut note = Vec::new();
    note.extend_from_slice(&5u32.to_le_bytes());
    note.extend_from_slice(&(desc.len() as u32).to_le_bytes());
    note.extend_from_slice(&0x4649_4c45u32.to_le_bytes()); // NT_FILE
    note.extend_from_slice(b"CORE\0\0\0\0");
    note.extend_from_slice(&desc);
    let phnum = 1 + segments;
    let note_at = 64 + 56 * phnum;
    let end = note_at + note.len() as u64;
    let mut out = Vec::new();
    out.extend_from_slice(b"\x7fELF\x02\x01\x01\0\0\0\0\0\0\0\0\0");
    out.extend_from_slice(&4u16.to_le_bytes()); // ET_CORE
    out.extend_from_slice(&62u16.to_le_bytes()); // x86-64
    out.extend_from_slice(&1u32.to_le_bytes());
    for w in [0u64, 64, 0] {
        out.extend_from_slice(&w.to_le_bytes()); // entry, phoff, shoff
    }
    out.extend_from_slice(&0u32.to_le_bytes());
    for h in [64u16, 56, phnum as u16, 64, 0, 0] {
        out.extend_from_slice(&h.to_le_bytes());
    }
    let phdr = |out: &mut Vec<u8>,
                kind: u32,
                flags: u32,
                off: u64,
                vaddr: u64,
                filesz: u64,
                memsz: u64| {
        out.extend_from_slice(&kind.to_le_bytes());
        out.extend_from_slice(&flags.to_le_bytes());
        for w in [off, vaddr, 0, filesz, memsz, 4096] {
            out.extend_from_slice(&w.to_le_bytes());
        }
    };
    phdr(&mut out, 4, 4, note_at, 0, note.len() as u64, 0);
    for i in 0..segments {
        phdr(&mut out, 1, 6, end, base + i * GIB, 0, GIB);
    }
    out.extend_from_slice(&note);
    out
}

/// Item 3: a few hundred bytes of core that claim gigabytes of memory (empty segments, a
/// short file over them) cost pages of page tables, not the gigabytes: the gaps read as
/// zeros without being held (it took 3.0 GiB for four such segments, 5.2 GiB for six).
#[test]
fn a_tiny_core_claiming_gigabytes_stays_small() {
    let dir = tempfile::tempdir().unwrap();
    let lib = write_tmp(dir.path(), "data.bin", &[7u8; 4096]);
    let core = write_tmp(dir.path(), "core", &empty_core(6, &lib));
    assert!(std::fs::metadata(&core).unwrap().len() < 1024);
    if !Path::new("/usr/bin/time").exists() {
        return;
    }
    let out = std::process::Command::new("/usr/bin/time")
        .args(["-f", "peak %M"])
        .arg(assert_cmd::cargo::cargo_bin("pymem"))
        .args(["--no-index", "core"])
        .arg(&core)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("not CPython"), "{err}");
    let kib: u64 = err
        .lines()
        .find_map(|l| l.strip_prefix("peak "))
        .and_then(|k| k.trim().parse().ok())
        .expect("GNU time's peak");
    assert!(
        kib < 256 << 10,
        "peak {kib} KiB for a core of six empty segments"
    );
}
