//! Property test: mutated snapshots (truncations, byte flips, dropped and duplicated lines)
//! never panic the loader; they load or fail with an error.

use crate::common::*;
use proptest::prelude::*;
use pymem::snapshot::{load, LoadOptions};

#[derive(Debug, Clone)]
enum Mutation {
    Truncate(usize),
    Flip(usize, u8),
    DropLine(usize),
    DuplicateLine(usize),
    SwapLines(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        any::<usize>().prop_map(Mutation::Truncate),
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::DropLine),
        any::<usize>().prop_map(Mutation::DuplicateLine),
        (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::SwapLines(a, b)),
    ]
}

fn apply(base: &[u8], muts: &[Mutation]) -> Vec<u8> {
    let mut data = base.to_vec();
    for m in muts {
        match *m {
            Mutation::Truncate(i) => data.truncate(i % (data.len() + 1)),
            Mutation::Flip(i, b) if !data.is_empty() => {
                let n = data.len();
                data[i % n] ^= b | 1;
            }
            Mutation::Flip(..) => {}
            Mutation::DropLine(i) | Mutation::DuplicateLine(i) | Mutation::SwapLines(i, _) => {
                let mut lines: Vec<Vec<u8>> =
                    data.split(|&c| c == b'\n').map(|l| l.to_vec()).collect();
                let n = lines.len();
                match *m {
                    Mutation::DropLine(_) => {
                        lines.remove(i % n);
                    }
                    Mutation::DuplicateLine(_) => {
                        let l = lines[i % n].clone();
                        lines.insert(i % n, l);
                    }
                    Mutation::SwapLines(_, j) => lines.swap(i % n, j % n),
                    _ => unreachable!(),
                }
                data = lines.join(&b'\n');
            }
        }
    }
    data
}

fn fixture() -> Vec<u8> {
    // A real capture when shipped, else the hand-written one.
    let p = repo().join("fixtures/shop-3.11.jsonl.gz");
    match std::fs::read(&p) {
        Ok(gz) => {
            use std::io::Read;
            let mut out = Vec::new();
            flate2::read::GzDecoder::new(&gz[..])
                .read_to_end(&mut out)
                .unwrap();
            // Keep the test fast: the header, the first 400 lines and the end line.
            let lines: Vec<&[u8]> = out
                .split(|&c| c == b'\n')
                .filter(|l| !l.is_empty())
                .collect();
            let mut keep: Vec<&[u8]> = lines.iter().take(400).copied().collect();
            keep.push(lines[lines.len() - 1]);
            let mut v = keep.join(&b'\n');
            v.push(b'\n');
            v
        }
        Err(_) => TINY.as_bytes().to_vec(),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn mutated_snapshots_never_panic(muts in proptest::collection::vec(mutation(), 1..4), partial in any::<bool>()) {
        let base = fixture();
        let data = apply(&base, &muts);
        let dir = tempfile::tempdir().unwrap();
        let p = write_tmp(dir.path(), "m.jsonl", &data);
        let opts = LoadOptions { partial, on_stage: None };
        // Ok or Err are both fine; a panic fails the test.
        if let Err(e) = load(&p, &opts) {
            let msg = e.to_string();
            prop_assert!(msg.contains("m.jsonl"), "error names the file: {}", msg);
            prop_assert!(!msg.contains('\n'), "one line: {}", msg);
        }
    }
}
