//! An index is untrusted input (issue 27): flipped bytes, truncation at every section
//! boundary, and indexes forged with valid checksums (counts of 2^32-1, ids past the
//! objects, sections cut short, offsets past the end, JSON replaced) never panic pymem,
//! hang it or make it answer from a bad index. Beside a snapshot, a bad index is rebuilt
//! with at most one line on stderr and the answer is the snapshot's; named in place of a
//! snapshot, it is an error of one line naming the file (exit 2), or a clean answer.

use crate::common::{pymem, repo};
use pymem::index::file::{IndexFile, Section, Writer};
use std::path::{Path, PathBuf};

use std::time::Duration;

struct Case {
    dir: tempfile::TempDir,
    snap: PathBuf,
    index: PathBuf,
    /// A whole index, as pymem wrote it.
    good: Vec<u8>,
    /// `top` and `show` of the snapshot, from its JSON.
    want: Vec<Vec<u8>>,
    addr: String,
}

/// `pymem ARGS` with the cache folder inside the test's own folder `dir` (an index that
/// cannot go beside its snapshot goes there).
fn run_in(dir: &Path, args: &[&str]) -> (Vec<u8>, String, i32) {
    let out = pymem()
        .args(args)
        .env("NO_COLOR", "1")
        .env("XDG_CACHE_HOME", dir.join("cache"))
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(!err.contains("panicked"), "pymem {args:?} panicked: {err}");
    (out.stdout, err, out.status.code().unwrap_or(-1))
}

impl Case {
    fn run(&self, args: &[&str]) -> (Vec<u8>, String, i32) {
        run_in(self.dir.path(), args)
    }

    fn new() -> Case {
        let dir = tempfile::tempdir().unwrap();
        let snap = dir.path().join("heap.jsonl.gz");
        std::fs::copy(repo().join("fixtures/shop-3.12.jsonl.gz"), &snap).unwrap();
        let s = snap.display().to_string();
        let run = |args: &[&str]| run_in(dir.path(), args);
        let (out, err, code) = run(&["index", &s]);
        assert_eq!(code, 0, "{err}");
        let index = PathBuf::from(String::from_utf8(out).unwrap().trim());
        let top = run(&["--no-index", "top", &s, "--format", "json", "--limit", "1"]);
        let top: serde_json::Value = serde_json::from_slice(&top.0).unwrap();
        let addr = top["objects"][0]["addr"].as_str().unwrap().to_string();
        let mut case = Case {
            good: std::fs::read(&index).unwrap(),
            dir,
            snap,
            index,
            want: Vec::new(),
            addr,
        };
        case.want = case
            .questions(&s)
            .iter()
            .map(|q| {
                let mut a = vec!["--no-index"];
                a.extend(q.iter().map(String::as_str));
                case.run(&a).0
            })
            .collect();
        case
    }

    fn questions(&self, target: &str) -> Vec<Vec<String>> {
        [
            vec!["top", target, "--format", "json"],
            vec!["show", target, &self.addr, "--format", "json"],
            vec!["path", target, "--type", "dict", "--format", "json"],
            vec!["top", target, "--by", "type", "--format", "json"],
        ]
        .iter()
        .map(|q| q.iter().map(|s| s.to_string()).collect())
        .collect()
    }

    /// Put `bytes` in place of the index; ask beside the snapshot, then the index itself.
    /// An index damaged by accident must give the snapshot's own answers (`exact`); a forged
    /// one whose checksums were made valid again says what it says, like a hand-edited
    /// snapshot, but must never panic, hang, or read out of bounds.
    fn check(&self, bytes: &[u8], what: &str, exact: bool) {
        std::fs::write(&self.index, bytes).unwrap();
        let s = self.snap.display().to_string();
        for (q, want) in self.questions(&s).iter().zip(&self.want) {
            let args: Vec<&str> = q.iter().map(String::as_str).collect();
            let (out, err, code) = self.run(&args);
            assert_eq!(code, 0, "{what}: pymem {args:?}: {err}");
            assert!(
                err.lines().count() <= 1,
                "{what}: more than one line: {err}"
            );
            if exact {
                assert_eq!(
                    &out, want,
                    "{what}: pymem {args:?} answered differently ({err})"
                );
            }
        }
        std::fs::write(&self.index, bytes).unwrap();
        let i = self.index.display().to_string();
        for q in self.questions(&i) {
            let args: Vec<&str> = q.iter().map(String::as_str).collect();
            let (_, err, code) = self.run(&args);
            match code {
                0 => {}
                2 => {
                    assert_eq!(err.lines().count(), 1, "{what}: {err}");
                    assert!(err.contains(&i), "{what}: the error names the index: {err}");
                }
                _ => panic!("{what}: pymem {args:?}: exit {code}: {err}"),
            }
        }
    }

    fn opened(&self) -> IndexFile {
        std::fs::write(&self.index, &self.good).unwrap();
        IndexFile::open(&self.index).unwrap().ok().unwrap()
    }

    /// The index with its sections rewritten by `edit` (kind, width, bytes), checksums made
    /// valid again: what a forger would write.
    fn forged(&self, edit: impl Fn(&Section, &mut Vec<u8>) -> Option<u32>) -> Vec<u8> {
        let f = self.opened();
        let mut w = Writer::new();
        for s in &f.sections {
            let mut bytes = f.map[s.offset as usize..(s.offset + s.len) as usize].to_vec();
            let width = edit(s, &mut bytes).unwrap_or(s.width);
            w.raw(s.kind, width, bytes);
        }
        let mut out = Vec::new();
        w.write_to(&f.identity, &mut out).unwrap();
        out
    }
}

fn dir_is_clean(dir: &Path) {
    let stray: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".pymem-index-"))
        .collect();
    assert!(stray.is_empty(), "temporary files left: {stray:?}");
}

#[test]
fn flipped_bytes_are_caught_and_the_index_rebuilt() {
    let c = Case::new();
    let len = c.good.len();
    let f = c.opened();
    // The head, every section's first and last byte, and 64 places spread over the file.
    let mut places: Vec<usize> = (0..64).collect();
    for s in &f.sections {
        places.push(s.offset as usize);
        places.push((s.offset + s.len).saturating_sub(1) as usize);
    }
    places.extend((0..64).map(|i| i * len / 64));
    places.sort_unstable();
    places.dedup();
    for at in places.into_iter().filter(|&a| a < len) {
        let mut bad = c.good.clone();
        bad[at] ^= 0x5a;
        c.check(&bad, &format!("byte {at} flipped"), true);
    }
    dir_is_clean(c.dir.path());
}

#[test]
fn truncation_at_every_section_boundary_is_caught() {
    let c = Case::new();
    let f = c.opened();
    let mut cuts = vec![0, 1, 8, 63, 64, 65];
    for s in &f.sections {
        cuts.extend([
            s.offset,
            s.offset + 1,
            s.offset + s.len - 1,
            s.offset + s.len,
        ]);
    }
    cuts.sort_unstable();
    cuts.dedup();
    for cut in cuts.into_iter().filter(|&x| (x as usize) < c.good.len()) {
        c.check(&c.good[..cut as usize], &format!("cut at {cut}"), true);
    }
}

#[test]
fn forged_indexes_with_valid_checksums_are_refused() {
    let c = Case::new();
    let kinds: Vec<(u32, u32)> = c
        .opened()
        .sections
        .iter()
        .map(|s| (s.kind, s.width))
        .collect();
    for (kind, width) in kinds {
        let only = |k: u32| move |s: &Section| s.kind == k;
        // Every value of the section at its largest (2^32-1 for u32 columns).
        let bytes = c.forged(|s, b| {
            if only(kind)(s) && s.width > 1 {
                b.iter_mut().for_each(|x| *x = 0xff);
            }
            None
        });
        c.check(
            &bytes,
            &format!("section {kind}: all values at their largest"),
            false,
        );
        // One value past the objects, in the middle.
        let bytes = c.forged(|s, b| {
            if only(kind)(s) && s.width > 1 && !b.is_empty() {
                let at = (b.len() / s.width as usize / 2) * s.width as usize;
                b[at..at + 4].copy_from_slice(&(u32::MAX - 3).to_le_bytes());
            }
            None
        });
        c.check(
            &bytes,
            &format!("section {kind}: one value past the objects"),
            false,
        );
        // Cut short by one value (or, for JSON, replaced by other JSON).
        let bytes = c.forged(|s, b| {
            if only(kind)(s) {
                match s.width {
                    1 => *b = b"{\"header\":{}}".to_vec(),
                    w => b.truncate(b.len().saturating_sub(w as usize)),
                }
            }
            None
        });
        c.check(&bytes, &format!("section {kind}: one value short"), true);
        // Declared wider than it is.
        let bytes = c.forged(|s, _| only(kind)(s).then_some(width * 2 + 1));
        c.check(&bytes, &format!("section {kind}: wrong width"), true);
    }
    // Counts of 2^32-1 and offsets past the end, in the table (its checksum made valid).
    let f = c.opened();
    for (field, value) in [
        (12usize, u32::MAX as u64),
        (64 + 16, u32::MAX as u64),
        (64 + 8, 1 << 40),
    ] {
        let mut bad = c.good.clone();
        match field {
            12 => bad[12..16].copy_from_slice(&(value as u32).to_le_bytes()),
            _ => bad[field..field + 8].copy_from_slice(&value.to_le_bytes()),
        }
        let table_end = (64 + 32 * f.sections.len()).min(bad.len());
        let sum = xxhash_rust::xxh3::xxh3_64(&[&bad[..56], &bad[64..table_end]].concat());
        bad[56..64].copy_from_slice(&sum.to_le_bytes());
        c.check(
            &bad,
            &format!("table field at {field} set to {value}"),
            true,
        );
    }
}

#[test]
fn a_fifo_or_directory_in_place_of_an_index_is_passed_over() {
    let c = Case::new();
    std::fs::remove_file(&c.index).unwrap();
    let fifo = || {
        let _ = std::fs::remove_file(&c.index);
        let made = std::process::Command::new("mkfifo")
            .arg(&c.index)
            .status()
            .unwrap();
        assert!(made.success());
    };
    fifo();
    let s = c.snap.display().to_string();
    let (out, err, code) = c.run(&["top", &s, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, c.want[0]);
    assert!(
        c.index.is_file(),
        "the FIFO was replaced by a rebuilt index"
    );
    // A directory where the index would go: passed over, the answer from the JSON.
    std::fs::remove_file(&c.index).unwrap();
    std::fs::create_dir(&c.index).unwrap();
    let (out, err, code) = c.run(&["top", &s, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, c.want[0]);
    std::fs::remove_dir(&c.index).unwrap();
    fifo();
    std::fs::remove_file(&c.index).unwrap();
}

/// Trees that only a forger writes, their checksums valid: dominators and shortest-path
/// parents that go round in cycles, never reaching a root, with depths that agree with
/// them. Opening checks ids only; the walks check each step, so nothing hangs.
#[test]
fn forged_cycles_in_the_trees_end_every_walk() {
    const IDOM: u32 = 24;
    const PATH_PARENT: u32 = 25;
    const PATH_DEPTH: u32 = 27;
    let c = Case::new();
    let u32s = |b: &mut Vec<u8>, f: &dyn Fn(usize, u32) -> u32| {
        let n = b.len() / 4;
        for (i, chunk) in b.chunks_exact_mut(4).enumerate() {
            let v = u32::from_le_bytes(chunk.try_into().unwrap());
            chunk.copy_from_slice(&f(i, v).to_le_bytes());
        }
        n
    };
    let bytes = c.forged(|s, b| {
        match s.kind {
            // Each object dominated by the next, the last by the first (the virtual root,
            // last, keeps itself).
            IDOM => {
                let n = b.len() / 4 - 1;
                u32s(b, &|i, v| if i < n { ((i + 1) % n) as u32 } else { v });
            }
            // Each object reached from the next, all at one depth.
            PATH_PARENT => {
                let n = b.len() / 4;
                u32s(b, &|i, _| ((i + 1) % n) as u32);
            }
            PATH_DEPTH => {
                u32s(b, &|i, _| 1 + (i % 2) as u32);
            }
            _ => {}
        }
        None
    });
    c.check(&bytes, "cycles in both trees", false);
}

/// An index checked in full leaves a stamp of the file's state (once the file has stayed
/// unchanged for a second), and is then opened without hashing every section again. Any
/// later write to it is a new state: a byte flipped afterwards, whether asked about at once
/// or a while later, is caught as before.
#[test]
fn a_checked_index_is_trusted_only_as_it_was_checked() {
    let c = Case::new();
    let stamps = c.dir.path().join("cache/pymem/verified");
    let count = || std::fs::read_dir(&stamps).map_or(0, |d| d.count());
    std::fs::write(&c.index, &c.good).unwrap();
    let s = c.snap.display().to_string();
    let top = ["top", s.as_str(), "--format", "json"];
    let (out, err, code) = c.run(&top);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(out, c.want[0]);
    assert_eq!(
        count(),
        0,
        "a file changed less than a second ago is not stamped"
    );
    std::thread::sleep(Duration::from_millis(1100));
    let (out, err, code) = c.run(&top);
    assert_eq!((code, err.as_str(), &out), (0, "", &c.want[0]));
    assert_eq!(count(), 1, "checked in full, its state is stamped");
    let (out, err, code) = c.run(&top);
    assert_eq!((code, err.as_str(), &out), (0, "", &c.want[0]));
    assert_eq!(count(), 1);
    let f = c.opened();
    let column = f.sections.iter().find(|s| s.kind == 2).unwrap();
    let mut bad = c.good.clone();
    bad[(column.offset + column.len / 2) as usize] ^= 0x5a;
    for wait in [0, 1100] {
        std::fs::write(&c.index, &bad).unwrap();
        std::thread::sleep(Duration::from_millis(wait));
        let (out, err, code) = c.run(&top);
        assert_eq!(code, 0, "{err}");
        assert_eq!(out, c.want[0], "after {wait} ms");
        assert_eq!(err.lines().count(), 1, "after {wait} ms: {err}");
        assert!(err.contains("checksum"), "{err}");
    }
}

/// The retained bytes per type and module an index keeps (`top --by type`, the report's
/// types table): a group the snapshot has no type for, a type twice, or counts beyond the
/// objects are refused and the index rebuilt, so the answers are the snapshot's own.
#[test]
fn forged_type_and_module_totals_are_refused() {
    const SEARCH_META: u32 = 20;
    let c = Case::new();
    assert!(c.opened().sections.iter().any(|s| s.kind == SEARCH_META));
    let forge = |edit: &dyn Fn(&mut serde_json::Value)| {
        c.forged(|s, b| {
            if s.kind == SEARCH_META {
                let mut meta: serde_json::Value = serde_json::from_slice(b).unwrap();
                edit(&mut meta);
                *b = serde_json::to_vec(&meta).unwrap();
            }
            None
        })
    };
    type Edit<'a> = &'a dyn Fn(&mut serde_json::Value);
    let cases: [(&str, Edit); 3] = [
        ("a type not in the snapshot", &|m| {
            m["by_type"][0]["key"] = "forged.Type".into()
        }),
        ("a type twice", &|m| {
            // With no instances, so that only the duplicate gives it away.
            let mut first = m["by_type"][0].clone();
            first["count"] = 0.into();
            m["by_type"].as_array_mut().unwrap().push(first);
        }),
        ("more instances than objects", &|m| {
            m["by_type"][0]["count"] = u32::MAX.into()
        }),
    ];
    for (what, edit) in cases {
        c.check(&forge(edit), what, true);
    }
}
