//! Issue 28: the capture's inputs fuzzed as the loader's are. Mutated cores (flipped bytes
//! in the ELF header, program headers and notes, cuts at every kind of place) and targets
//! that corrupted their own heap at random through ctypes: every `pymem core` and `pymem
//! attach` ends within its time, with a snapshot that every command loads, or with one line
//! and exit 2; never a panic, an abort or a hang.

use crate::common::{pythons, Reaper};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A small deterministic generator (xorshift64*): the same cases on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

fn pymem_bin() -> std::path::PathBuf {
    assert_cmd::cargo::cargo_bin("pymem")
}

/// Run pymem with `args`; it must end within `limit` with 0, or 2 and one line on stderr.
/// Returns whether it succeeded.
fn ends_cleanly(args: &[&std::ffi::OsStr], limit: Duration, what: &str) -> bool {
    let mut child = Reaper::spawn(
        Command::new(pymem_bin())
            .args(args)
            .stdout(Stdio::null())
            .stderr(Stdio::piped()),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.0.try_wait().unwrap() {
            break s;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: pymem {args:?} still running after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    let mut err = String::new();
    std::io::Read::read_to_string(child.0.stderr.as_mut().unwrap(), &mut err).unwrap();
    match status.code() {
        Some(0) => true,
        Some(2) => {
            assert_eq!(err.lines().count(), 1, "{what}: {args:?}: {err}");
            false
        }
        other => panic!("{what}: pymem {args:?} ended with {other:?}: {err}"),
    }
}

/// Every command that reads one snapshot, on `snap`: each loads it or refuses it cleanly.
fn every_command_loads(snap: &Path, what: &str) {
    for cmd in [
        &["summary"][..],
        &["top"],
        &["caches"],
        &["advise"],
        &["frag"],
    ] {
        let mut args: Vec<&std::ffi::OsStr> = vec!["--no-index".as_ref()];
        args.extend(cmd.iter().map(std::ffi::OsStr::new));
        args.push(snap.as_os_str());
        let ok = ends_cleanly(&args, Duration::from_secs(120), what);
        if cmd[0] == "summary" {
            assert!(ok, "{what}: a snapshot pymem wrote does not load");
        }
    }
}

/// Where the ELF program headers and the notes of `core` lie: byte ranges worth mutating.
fn header_ranges(core: &[u8]) -> Vec<(usize, usize)> {
    let u16_at = |i: usize| u16::from_le_bytes(core[i..i + 2].try_into().unwrap()) as usize;
    let u64_at = |i: usize| u64::from_le_bytes(core[i..i + 8].try_into().unwrap()) as usize;
    let (phoff, phnum) = (u64_at(32), u16_at(56));
    let mut out = vec![(0, 64), (phoff, phoff + 56 * phnum)];
    for i in 0..phnum {
        let ph = phoff + 56 * i;
        if u32::from_le_bytes(core[ph..ph + 4].try_into().unwrap()) == 4 {
            let (off, size) = (u64_at(ph + 8), u64_at(ph + 32));
            out.push((off, (off + size).min(core.len())));
        }
    }
    out
}

#[test]
fn mutated_cores_end_cleanly() {
    let (_, python) = pythons()
        .iter()
        .find(|(v, _)| v.starts_with("3.12"))
        .unwrap_or(&pythons()[0]);
    let dir = tempfile::tempdir().unwrap();
    let mut child = Reaper::spawn(
        Command::new(python)
            .arg("-c")
            .arg("import os, sys; x = [{'k': [i]} for i in range(20000)]; print(os.getpid(), flush=True); sys.stdin.read()")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped()),
    );
    let pid = BufReader::new(child.0.stdout.take().unwrap())
        .lines()
        .next()
        .unwrap()
        .unwrap();
    let core_path = crate::postmortem::gcore(&pid, &dir.path().join("py"));
    drop(child);
    let base = std::fs::read(&core_path).unwrap();
    let ranges = header_ranges(&base);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let case = dir.path().join("case");
    let snap = dir.path().join("case.jsonl");
    let mut loaded = 0;
    for i in 0..48 {
        let mut data = base.clone();
        let what = match i % 4 {
            // A cut anywhere, or just past a header, a program header or the notes.
            0 => {
                let (lo, hi) = ranges[rng.below(ranges.len() as u64) as usize];
                let at = if rng.below(2) == 0 {
                    rng.below(data.len() as u64) as usize
                } else {
                    lo + rng.below((hi - lo) as u64 + 1) as usize
                };
                data.truncate(at);
                format!("case {i}: cut at {at}")
            }
            // Words of the headers and notes set to extreme values.
            1 | 2 => {
                let mut flips = Vec::new();
                for _ in 0..1 + rng.below(4) {
                    let (lo, hi) = ranges[rng.below(ranges.len() as u64) as usize];
                    let at = (lo + rng.below((hi - lo) as u64) as usize) & !7;
                    let v: u64 = match rng.below(4) {
                        0 => u64::MAX,
                        1 => 0,
                        2 => 1 << rng.below(64),
                        _ => rng.next(),
                    };
                    let end = (at + 8).min(data.len());
                    data[at..end].copy_from_slice(&v.to_le_bytes()[..end - at]);
                    flips.push(at);
                }
                format!("case {i}: words at {flips:?}")
            }
            // Bytes flipped anywhere in the memory.
            _ => {
                let mut at = Vec::new();
                for _ in 0..64 {
                    let j = rng.below(data.len() as u64) as usize;
                    data[j] ^= (rng.next() as u8) | 1;
                    at.push(j);
                }
                format!("case {i}: 64 bytes flipped")
            }
        };
        std::fs::write(&case, &data).unwrap();
        let _ = std::fs::remove_file(&snap);
        if ends_cleanly(
            &[
                "--no-index".as_ref(),
                "core".as_ref(),
                case.as_os_str(),
                "-o".as_ref(),
                snap.as_os_str(),
            ],
            Duration::from_secs(120),
            &what,
        ) {
            loaded += 1;
            every_command_loads(&snap, &what);
        }
    }
    // The cases are not all refusals: some of the flipped memory still reads.
    assert!(loaded > 0, "no mutated core was read at all");
}

/// Python that corrupts `n` random words inside random objects of its own (instances, their
/// dicts, lists and strings: their headers left alone half of the time), with the collector
/// off, then waits. The interpreter's own objects are spared, so that it still reaches the
/// wait.
const SELF_CORRUPTING: &str = "\
import ctypes, gc, os, random, sys
gc.disable()
rng = random.Random(int(sys.argv[1]))
class Node:
    def __init__(self, i): self.i, self.items, self.d = i, [i, str(i)], {'k': i}
keep = [Node(i) for i in range(5000)] + [list(range(50)) for _ in range(200)]
objs = [x for n in keep[:5000:7] for x in (n, n.__dict__, n.items, n.d, n.items[1])]
objs += keep[5000::3]
for _ in range(int(sys.argv[2])):
    o = rng.choice(objs)
    size = sys.getsizeof(o)
    lo = 16 if rng.random() < 0.5 else 0
    off = rng.randrange(lo, max(lo + 8, size - 8), 8)
    value = rng.choice([0, -1, 1, 1 << 62, rng.getrandbits(64), id(rng.choice(objs)), id(o)])
    ctypes.c_uint64.from_address(id(o) + off).value = value & (2**64 - 1)
print(os.getpid(), flush=True)
sys.stdin.read()
";

#[test]
fn self_corrupted_targets_are_read_or_refused_cleanly() {
    for (version, python) in pythons() {
        for seed in 0..6u32 {
            let dir = tempfile::tempdir().unwrap();
            let mut child = Reaper::spawn(
                Command::new(python)
                    .arg("-c")
                    .arg(SELF_CORRUPTING)
                    .arg(seed.to_string())
                    .arg("40")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped())
                    .stderr(Stdio::null()),
            );
            let Some(Ok(pid)) = BufReader::new(child.0.stdout.take().unwrap())
                .lines()
                .next()
            else {
                // The corruption killed the interpreter itself before it could wait.
                continue;
            };
            let snap = dir.path().join("heap.jsonl");
            let what = format!("{version} seed {seed}");
            let ok = ends_cleanly(
                &[
                    "--no-index".as_ref(),
                    "attach".as_ref(),
                    pid.as_ref(),
                    "-o".as_ref(),
                    snap.as_os_str(),
                ],
                Duration::from_secs(120),
                &what,
            );
            drop(child);
            if ok {
                every_command_loads(&snap, &what);
            }
        }
    }
}
