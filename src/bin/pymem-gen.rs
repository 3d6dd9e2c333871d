//! pymem-gen: writes synthetic snapshots in the real format, for benchmarks and stress tests.
//!
//! The heap it writes looks like a service's: a few hundred module roots, a spanning tree of
//! containers (so everything is reachable), extra references, dict-style labels, pymalloc
//! arenas and pools that account for the objects, objects written in a scrambled (gc) order
//! rather than address order. `--chain N` adds a linked list of N nodes (the shape that
//! breaks recursive tools).
//!
//! `--shape realistic` (default): an object's owner was allocated shortly before it (within
//! 64 objects, 90 % of the time) and 80 % of the extra references point within ±1000
//! objects, 20 % anywhere. `--shape random`: owners and references chosen uniformly (the
//! worst locality a heap can have).
//!
//! `--leak K` adds K entries (an `app.cache.Entry` holding a `str`) to one dict of the base
//! heap, allocated after everything else: the same seed with growing K gives the baseline,
//! target and final snapshots of one leaking process, for `diff`, `leaks` and `gate`.

// A binary: writing to the terminal is its job (see clippy.toml).
#![allow(clippy::disallowed_macros)]

use std::io::{BufWriter, Write};

struct Args {
    objects: u64,
    refs_per_object: f64,
    chain: u64,
    leak: u64,
    seed: u64,
    random: bool,
    out: String,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        objects: 1_000_000,
        refs_per_object: 3.0,
        chain: 0,
        leak: 0,
        seed: 42,
        random: false,
        out: String::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut val = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--objects" => {
                a.objects = val("--objects")?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--objects: {e}"))?
            }
            "--refs-per-object" => {
                a.refs_per_object = val("--refs-per-object")?
                    .parse()
                    .map_err(|e| format!("--refs-per-object: {e}"))?
            }
            "--chain" => {
                a.chain = val("--chain")?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--chain: {e}"))?
            }
            "--leak" => {
                a.leak = val("--leak")?
                    .replace('_', "")
                    .parse()
                    .map_err(|e| format!("--leak: {e}"))?
            }
            "--seed" => a.seed = val("--seed")?.parse().map_err(|e| format!("--seed: {e}"))?,
            "--shape" => {
                a.random = match val("--shape")?.as_str() {
                    "random" => true,
                    "realistic" => false,
                    other => return Err(format!("--shape: {other:?} is not realistic or random")),
                }
            }
            "-o" | "--output" => a.out = val("-o")?,
            "-h" | "--help" => {
                println!(
                    "usage: pymem-gen --objects N [--refs-per-object R] [--shape realistic|random] [--chain N] [--leak K] [--seed S] -o FILE\n\n\
                     Writes a synthetic pymem snapshot (format v1) with N objects and about N*R references."
                );
                std::process::exit(0);
            }
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if a.out.is_empty() {
        return Err("-o FILE is required".into());
    }
    Ok(a)
}

/// SplitMix64: small, fast, good enough for synthetic data.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

const TYPES: [(&str, &str, u64); 8] = [
    ("dict", "builtins", 64),
    ("list", "builtins", 48),
    ("str", "builtins", 64),
    ("int", "builtins", 32),
    ("tuple", "builtins", 48),
    ("app.models.Item", "app.models", 48),
    ("app.cache.Entry", "app.cache", 64),
    ("app.models.Node", "app.models", 48),
];
const ARENA: u64 = 1 << 20;
const POOL: u64 = 1 << 14;

fn main() {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("pymem-gen: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = generate(&args) {
        eprintln!("pymem-gen: {}: {e}", args.out);
        std::process::exit(2);
    }
}

/// The dict that `--leak` grows.
const LEAK_HOLDER: u64 = 7;

fn generate(a: &Args) -> std::io::Result<()> {
    let n = a.objects + a.chain;
    let leaked = |j: u64| n + 2 * j;
    let total = n + 2 * a.leak;
    let mut rng = Rng(a.seed);
    // Every object gets a 64-byte slot: addresses in address order = index order.
    let base = 0x7f00_0000_0000u64;
    let addr = |i: u64| base + i * 64;
    let file = std::fs::File::create(&a.out)?;
    let mut w = BufWriter::with_capacity(1 << 22, file);
    writeln!(
        w,
        r#"{{"k":"header","format":"pymem-snapshot","version":1,"python":{{"version":"3.12.1","implementation":"cpython","build":"synthetic"}},"allocator":{{"name":"pymalloc","debug_hooks":false,"arena_size":{ARENA},"pool_size":{POOL},"pool_overhead":48,"alignment":16,"small_threshold":512,"size_classes":32}},"pid":0,"argv":["pymem-gen"],"time":0,"values":false,"recorded":{{"objects":true,"refs":true,"labels":true,"pools":true,"values":false,"tracebacks":false}},"missing":["synthetic snapshot from pymem-gen"]}}"#
    )?;
    let arenas = write_arenas_and_types(&mut w, total, base)?;
    // Scrambled write order: blocks of 4096 objects in a permuted order.
    let block = 4096u64;
    let nblocks = total.div_ceil(block);
    let stride = {
        let mut s = (nblocks / 2) | 1;
        while gcd(s, nblocks) != 1 {
            s += 2;
        }
        s
    };
    let (child_start, children) = spanning_tree(a, &mut rng);
    let mut refs = Vec::new();
    let mut line = String::with_capacity(256);
    let extra_mean = (a.refs_per_object - 1.0).max(0.0);
    for b in 0..nblocks {
        let blk = (b * stride) % nblocks;
        for i in blk * block..((blk + 1) * block).min(total) {
            refs.clear();
            // Per-object randomness: an object is the same whatever else is generated.
            let mut rng = Rng(a.seed ^ i.wrapping_mul(0x9E37_79B9_7F4A_7C15));
            let chain_start = a.objects;
            let mut t;
            if i >= n {
                // Leaked entries: an Entry holding a str.
                t = if (i - n) % 2 == 0 { 6 } else { 2 };
                if t == 6 {
                    refs.push(i + 1);
                }
            } else if i >= chain_start {
                // Linked list node: refs the next node.
                t = 7;
                if i + 1 < n {
                    refs.push(i + 1);
                }
            } else {
                t = (rng.below(100) as usize * TYPES.len() / 100).min(TYPES.len() - 1);
                let kids = &children
                    [child_start[i as usize] as usize..child_start[i as usize + 1] as usize];
                refs.extend(kids.iter().map(|&c| c as u64));
                let extra = (extra_mean * 2.0 * (rng.below(1000) as f64 / 1000.0)).round() as u64;
                for _ in 0..extra {
                    let target = if !a.random && rng.below(10) < 8 {
                        (i + rng.below(2000))
                            .saturating_sub(1000)
                            .min(chain_start - 1)
                    } else {
                        rng.below(chain_start)
                    };
                    refs.push(target);
                }
                if i == 0 && a.chain > 0 {
                    refs.push(chain_start);
                }
                if i == LEAK_HOLDER {
                    t = 0;
                    refs.extend((0..a.leak).map(leaked));
                }
            }
            line.clear();
            use std::fmt::Write as _;
            let _ = write!(
                line,
                r#"{{"k":"o","a":{},"t":{t},"s":64,"rc":1,"r":["#,
                addr(i)
            );
            for (k, r) in refs.iter().enumerate() {
                if k > 0 {
                    line.push(',');
                }
                let _ = write!(line, "{}", addr(*r));
            }
            line.push(']');
            if t == 0 && !refs.is_empty() {
                line.push_str(r#","l":["#);
                for k in 0..refs.len() {
                    if k > 0 {
                        line.push(',');
                    }
                    let _ = write!(line, r#""['k{}']""#, k % 16);
                }
                line.push(']');
                let _ = write!(line, r#","n":{}"#, refs.len());
            }
            line.push_str("}\n");
            w.write_all(line.as_bytes())?;
        }
    }
    for m in 0..200u64.min(n) {
        writeln!(
            w,
            r#"{{"k":"root","a":{},"kind":"module","name":"app.mod{m}"}}"#,
            addr(m)
        )?;
    }
    writeln!(
        w,
        r#"{{"k":"end","objects":{total},"refs":0,"types":{},"arenas":{arenas},"elapsed":0}}"#,
        TYPES.len()
    )?;
    w.flush()
}

/// The arena records (64-byte blocks, size class 3, in 16 KiB pools, 64 pools per arena,
/// enough for `total` objects from `base`) and the type records; returns how many arenas.
fn write_arenas_and_types(w: &mut impl Write, total: u64, base: u64) -> std::io::Result<u64> {
    let per_pool = (POOL - 48) / 64;
    let pools = total.div_ceil(per_pool);
    let arenas = pools.div_ceil(64);
    let mut left = total;
    for ar in 0..arenas {
        write!(
            w,
            r#"{{"k":"arena","a":{},"index":{ar},"ntotal":64,"nfree":0,"pools":["#,
            base + ar * ARENA
        )?;
        for p in 0..64 {
            let used = left.min(per_pool);
            left -= used;
            if p > 0 {
                w.write_all(b",")?;
            }
            write!(
                w,
                "[{},3,{used},{}]",
                base + ar * ARENA + p * POOL,
                48 + used.max(1) * 64
            )?;
        }
        w.write_all(b"]}\n")?;
    }
    for (i, (name, module, size)) in TYPES.iter().enumerate() {
        writeln!(
            w,
            r#"{{"k":"type","id":{i},"a":{},"name":"{name}","module":"{module}","flags":0,"basicsize":{size},"itemsize":0,"pre":16}}"#,
            0x5500_0000_0000u64 + i as u64 * 1024
        )?;
    }
    Ok(arenas)
}

/// A spanning tree over the non-chain objects (parent[i] < i: mostly a nearby object, one
/// in ten anywhere before, or anywhere with `--shape random`), as CSR: where each object's
/// children start, and the children.
fn spanning_tree(a: &Args, rng: &mut Rng) -> (Vec<u32>, Vec<u32>) {
    let objects = a.objects;
    let mut child_start = vec![0u32; objects as usize + 1];
    let mut parent = vec![0u32; objects as usize];
    for i in 1..objects {
        let p = if a.random || rng.below(10) == 0 {
            rng.below(i)
        } else {
            i - 1 - rng.below(64.min(i))
        };
        parent[i as usize] = p as u32;
        child_start[p as usize + 1] += 1;
    }
    for i in 1..child_start.len() {
        child_start[i] += child_start[i - 1];
    }
    let mut fill = child_start.clone();
    let mut children = vec![0u32; objects.saturating_sub(1) as usize];
    for (i, &p) in parent.iter().enumerate().skip(1) {
        children[fill[p as usize] as usize] = i as u32;
        fill[p as usize] += 1;
    }
    (child_start, children)
}

fn gcd(a: u64, b: u64) -> u64 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}
